"""python -m heavyops record ...: the same as the `heavyops` command."""
import sys

from heavyops.cli import main

sys.exit(main())

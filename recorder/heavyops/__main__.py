"""python -m heavyops record ...: the same as the `heavyops` command."""
import os
import sys

# python -m put the current directory first on sys.path, where a program's own
# opcode.py or re.py would stand in for the standard modules the launcher
# imports: this package's own directory, which holds none, takes its place
# until runtarget gives the entry to the target (in safe-path mode there is
# none).  The finder cached for it while python found heavyops goes too, as
# the plain run never made one.
if not sys.flags.safe_path and sys.path:
    sys.path_importer_cache.pop(sys.path[0], None)
    sys.path[0] = os.path.dirname(os.path.abspath(__file__))

from heavyops.cli import main  # noqa: E402 (after the sys.path fix)

sys.exit(main())

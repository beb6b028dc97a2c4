"""heavyops: counts executions of bytecode instructions per source location and thread.

`heavyops record` (or `python -m heavyops record`) runs a program under the C
recorder (heavyops._recorder) and writes a .hops file; `heavyops-analyze`
(pure C) reports on it.
"""

__version__ = "0.1.0"

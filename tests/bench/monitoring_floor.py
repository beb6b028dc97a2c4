# The monitoring floor (3.12+): `python monitoring_floor.py script.py args` runs the script as
# `python script.py args` does, under the least any sys.monitoring tool pays that must see
# each code object as it first runs, as the recorder must to place its counters: PY_START and
# PY_RESUME on, and a Python callback that returns DISABLE, so that CPython instruments each
# code object that runs and calls the tool once for each (and each resume point).  It counts
# nothing.  A file of its own, and a small one: a script is compiled at every run (bench.py's
# 966 lines take 87 M CPU instructions), and this start-up is part of the ratio.
import os
import sys

script = sys.argv[1]
del sys.argv[0]
sys.path[0] = os.path.dirname(os.path.realpath(script))
# run as `python script.py` does, without runpy's imports, which the import-heavy workload's
# count of modules (and the time to import them) would show
with open(script, "rb") as f:
    code = compile(f.read(), script, "exec")
main = type(sys)("__main__")
main.__file__ = script
main.__builtins__ = __builtins__
sys.modules["__main__"] = main
mon = sys.monitoring
disable = mon.DISABLE


def first_run(code, offset):
    return disable


mon.use_tool_id(mon.PROFILER_ID, "monitoring-floor")
mon.register_callback(mon.PROFILER_ID, mon.events.PY_START, first_run)
mon.register_callback(mon.PROFILER_ID, mon.events.PY_RESUME, first_run)
mon.set_events(mon.PROFILER_ID, mon.events.PY_START | mon.events.PY_RESUME)
exec(code, main.__dict__)

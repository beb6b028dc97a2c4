"""Programs that trace or profile themselves while recorded: exact counts, or a clear warning.

    e2e_interference.py --python PY --heavyops H --analyze A --scratch DIR CASE

CASE is one of:
  none           no tracer: no warning, and work()'s BUILD_TUPLE counts are exact
  settrace       a sys.settrace tracer for a moment (less than a flush apart): warned
  setprofile     a sys.setprofile profiler for a moment: warned
  c-setprofile   a profiler set for a moment through the C API (PyEval_SetProfile, called
                 with ctypes), as C extensions do, past any Python-level wrapper: warned
  settrace-none  sys.settrace(None): on 3.11 that removes heavyops' own tracer (one slot per
                 thread), so it is warned; on 3.12+ it touches nothing of ours, so no warning
                 and exact counts
  settrace-restore  sys.settrace(None), then sys.settrace(sys.gettrace()'s earlier value), as
                 doctest and test.support.no_tracing do: on 3.11 our tracer comes back, but
                 events were lost meanwhile, so it is warned; on 3.12+ as settrace-none
  monitoring     3.12+: another sys.monitoring tool turns events on and off again within a
                 moment: warned (skipped on 3.11, which has no sys.monitoring)
  cpython-test-tool  3.12+: CPython's own test_monitoring.MonitoringBasicTest.test_tool, which
                 sets and clears another tool's global events: CPython then drops events of
                 ours (on 3.12 and 3.13 some counts come out negative). Warned as
                 interference, never as running out of memory (skipped where CPython's test
                 package is not installed)
Each time the program's output and exit status are those of the plain run, heavyops says why
on stderr, `heavyops-analyze` warns and `info` marks the file.
"""

import os
import sys

import e2e_lib as lib

HEAD = """import sys
def work(n):
    return [(i,) for i in range(n)]
work(10)
"""
TAIL = "work(100)\nprint('done', flush=True)\n"
SCRIPTS = {
    "none": HEAD + TAIL,
    "settrace": HEAD + "sys.settrace(lambda *a: None)\nwork(1)\nsys.settrace(None)\n" + TAIL,
    "setprofile": HEAD + "sys.setprofile(lambda *a: None)\nwork(1)\nsys.setprofile(None)\n" + TAIL,
    "c-setprofile": HEAD + """import ctypes
FUNC = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p, ctypes.c_int,
                         ctypes.py_object)
setprofile = ctypes.pythonapi.PyEval_SetProfile
setprofile.argtypes = [FUNC, ctypes.py_object]
setprofile.restype = None
profiler = FUNC(lambda obj, frame, what, arg: 0)
setprofile(profiler, None)
work(1)
setprofile(FUNC(), None)
""" + TAIL,
    "settrace-none": HEAD + "sys.settrace(None)\n" + TAIL,
    "settrace-restore": HEAD + "saved = sys.gettrace()\nsys.settrace(None)\nwork(1)\n"
                        "sys.settrace(saved)\n" + TAIL,
    "monitoring": HEAD + """mon = sys.monitoring
mon.use_tool_id(5, "other")
mon.register_callback(5, mon.events.PY_START, lambda *a: None)
mon.set_events(5, mon.events.PY_START)
work(1)
mon.set_events(5, 0)
mon.free_tool_id(5)
""" + TAIL,
}


def cpython_test_tool(args):
    probe = lib.run([args.python, "-c", "import sys; sys.monitoring; import test.test_monitoring"])
    if probe.returncode != 0:
        lib.skip("no sys.monitoring or no test.test_monitoring here")
    d = lib.scratch_dir(args, "interference-" + args.case)
    argv = ["-m", "test", "test_monitoring", "-m", "test_tool"]
    plain = lib.run([args.python] + argv, cwd=d)
    out = os.path.join(d, "run.hops")
    cmd, rec = lib.record(args, argv, out, cwd=d)
    if rec.returncode != plain.returncode or b"tracer or profiler" not in rec.stderr:
        raise lib.Failure("expected the plain run's exit status and an interference warning:\n"
                          + lib.explain(rec, cmd))
    if b"ran out of memory" in rec.stderr:
        raise lib.Failure("events CPython dropped reported as memory:\n" + lib.explain(rec, cmd))
    info = lib.analyze_json(args, out, "info")["files"][0]
    if not info["interference"] or info["incomplete"]:
        raise lib.Failure("expected the file marked as interfered with, not incomplete: %r"
                          % {k: info[k] for k in ("interference", "incomplete", "lost_events")})


def main(args):
    version = tuple(int(x) for x in lib.interpreter_tag(args.python).split("."))
    if args.case == "cpython-test-tool":
        return cpython_test_tool(args)
    if args.case == "monitoring" and version < (3, 12):
        lib.skip("no sys.monitoring before 3.12")
    warned = args.case != "none" and not (args.case in ("settrace-none", "settrace-restore")
                                          and version >= (3, 12))
    d = lib.scratch_dir(args, "interference-" + args.case)
    script = lib.write_prog(d, SCRIPTS[args.case])
    plain = lib.run([args.python, script], cwd=d)
    out = os.path.join(d, "run.hops")
    cmd, rec = lib.record(args, [script], out, cwd=d)
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout):
        raise lib.Failure("the recorded run differs from the plain one:\n" + lib.explain(rec, cmd))
    said = b"tracer or profiler" in rec.stderr
    acmd = [args.analyze, "-f", "prog.py", "-i", "BUILD_TUPLE", "--by", "instruction",
            "--format", "csv", out]
    cp = lib.run(acmd)
    if cp.returncode != 0:
        raise lib.Failure("the analyzer failed:\n" + lib.explain(cp, acmd))
    analyzer_said = b"another tracer or profiler" in cp.stderr
    info = lib.analyze_json(args, out, "info")["files"][0]
    if (said, analyzer_said, info["interference"]) != (warned, warned, warned):
        raise lib.Failure("expected %s warning; heavyops: %s, analyzer: %s, info: %s\n%s\n%s"
                          % ("a" if warned else "no", said, analyzer_said, info["interference"],
                             lib.explain(rec, cmd), lib.explain(cp, acmd)))
    if not warned:
        rows = cp.stdout.decode().splitlines()[1:]
        n = sum(int(r.split(",")[0]) for r in rows)
        want = 110 + SCRIPTS[args.case].count("work(1)\n")  # work(10), work(100), work(1)s
        if n != want:
            raise lib.Failure("expected exactly %d BUILD_TUPLE in work(), got %d" % (want, n))


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("case", choices=sorted(SCRIPTS) + ["cpython-test-tool"])
    lib.main(main, p.parse_args())

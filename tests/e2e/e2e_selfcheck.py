"""Exactness on code we did not write: CPython's own test suite under HEAVYOPS_CHECK.

    e2e_selfcheck.py --python PY --heavyops H --analyze A --scratch DIR [--select]

With HEAVYOPS_CHECK=1 the recorder keeps an INSTRUCTION event at every instruction besides
its block counters (re-planned for every code object, at its first flush after it fired; see
rec_replan.c) and, at every flush, compares each instruction's derived count with its
direct count (and, at first sight, its C line-table decoder with co_positions()); each
difference is a "heavyops: check:" line on stderr. The oracle is too slow for whole test
modules; this check is not, so it covers the generators, coroutines, exception groups,
with-blocks and comprehensions of the standard library's tests and the code they call.
With --select it records with -i of the default set, whose blocks derive later tracked
instructions from the first one's counter less the exits between them.
Skipped where the interpreter has no test suite (Debian's python3 without
libpython3.X-testsuite). Modules that use sys.settrace are left out: CPython drops events
when two tools instrument one code object, which the recorder reports as interference.
On 3.11, where the recorder is a tracer, so are test_generators and test_exceptions, whose
doctests and test.support.no_tracing switch it off for a while (e2e-interference-
settrace-restore): the events lost then put derived counts of the frames running across
that time (the test runner's) off, and the recorder warns.
"""

import os
import subprocess

import e2e_lib as lib

SELECT = ["MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "LOAD_DEREF"]
MODULES = ["test_generators", "test_coroutines", "test_exceptions", "test_contextlib",
           "test_with", "test_asyncgen", "test_yield_from", "test_raise", "test_exception_group",
           "test_itertools", "test_dataclasses", "test_grammar"]
TRACING_311 = ["test_generators", "test_exceptions"]


def check(args):
    probe = subprocess.run([args.python, "-c", "import test.support, test.test_with"],
                           capture_output=True)
    if probe.returncode != 0:
        lib.skip("this interpreter has no test suite (import test.support failed)")
    v = subprocess.run([args.python, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                       capture_output=True).stdout.strip()
    modules = MODULES if v == b"True" else [m for m in MODULES if m not in TRACING_311]
    scratch = lib.scratch_dir(args, "selfcheck-select" if args.select else "selfcheck")
    hops = os.path.join(scratch, "stdlib.hops")
    # Re-plans (rec_replan.c) at every code object's first flush after it fired, flushes 20 ms
    # apart: each switch of counters mid-run is checked at the flushes after it.
    env = dict(os.environ, HEAVYOPS_CHECK="1", HEAVYOPS_FLUSH_MS="20", HEAVYOPS_REPLAN_AFTER="1",
               HEAVYOPS_REPLAN_ALWAYS="1", HEAVYOPS_STATS="1")
    cmd = [args.heavyops, "record", "-o", hops]
    for name in SELECT if args.select else ():
        cmd += ["-i", name]
    cmd += ["-m", "test", "-q"] + modules
    cp = subprocess.run(cmd, capture_output=True, env=env, cwd=scratch, timeout=1500)
    err = cp.stderr.decode(errors="replace")
    bad = [line for line in err.splitlines() if line.startswith("heavyops: check")]
    if bad:
        raise lib.Failure("%d derived counts differ from direct ones; the first:\n%s\n(command: %s)"
                          % (len(bad), "\n".join(bad[:30]), " ".join(cmd)))
    # The modules chosen never trace (nor, on 3.11, switch tracing off): a warning means
    # one does.
    if "interference" in err or "own tracer" in err:
        raise lib.Failure("the recorder saw another tracer; pick modules that do not trace:\n" + err)
    rep = subprocess.run([args.analyze, "info", hops], capture_output=True)
    if rep.returncode != 0:
        raise lib.Failure("the recording is not readable:\n" + rep.stderr.decode(errors="replace"))
    stats = [line for line in err.splitlines() if line.startswith("heavyops: stats:")]
    print("%d test modules, no difference; regrtest exit status %d" % (len(modules), cp.returncode))
    print("\n".join(stats) if stats else "(no statistics)")


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("--select", action="store_true", help="record with -i of the default set")
    lib.main(check, p.parse_args())

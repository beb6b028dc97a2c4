"""3.12+: offsets without a counter are disabled when a code object's INSTRUCTION events
are set, not at their first event, and counts stay exact.

    e2e_disable_ahead.py --python PY --heavyops H --analyze A --scratch DIR MODE

The program runs g(1), which returns before a long block. Then it looks at g's live
bytecode: the offsets still instrumented (INSTRUMENTED_INSTRUCTION) are its counters only,
a few, not the long block that never ran (whose offsets, disabled at their first event,
would all still be instrumented). Then g(0) runs that block, and the analyzer must find
its instructions counted exactly. The recorder must say (HEAVYOPS_STATS) that it disabled
ahead: its start-up check (rec_monitor.c's probe) found CPython's DISABLE to be what it
does; and that it set the counters directly (the events at the counters alone, not at every
offset first: probe_direct found that to leave the state CPython's own way leaves), unless
MODE ends in "-long", which turns that off (HEAVYOPS_NO_DIRECT) so that the long way, which
the recorder takes wherever another tool has events on the code, is checked too.
MODE "default" records every instruction, "select" -i BUILD_LIST,BUILD_TUPLE.
Skipped on 3.11 (tracing: no INSTRUCTION events).
"""

import os

import e2e_lib as lib

PROG = """import opcode, sys
def g(x):
    t = (x, 1)
    if x:
        return t
    a = [x]; b = [x, x]; c = (x, a); d = [b, c]; e = (d, x); f = [e, a]
    h = [x + 1]; i = (h, x * 2); j = [i, h, x - 1]; k = (j, i, h)
    return a, b, c, d, e, f, h, i, j, k
""" + lib.INSTRUMENTED + """print(g(1))
with open("instrumented.txt", "w") as out:
    out.write(str(instrumented(g)))
print(len(g(0)))
"""
# BUILD_LIST in g's long block
LISTS = 6


def check(args):
    d, prog, plain = lib.monitoring_prog(args, "disable-ahead-" + args.mode, PROG)
    out = os.path.join(d, "run.hops")
    select = ["BUILD_LIST,BUILD_TUPLE"] if args.mode.startswith("select") else None
    long_way = args.mode.endswith("-long")
    extra = {"HEAVYOPS_NO_DIRECT": "1"} if long_way else {}
    cmd, rec = lib.record(args, [prog], out, select=select, cwd=d,
                          env=lib.test_env(HEAVYOPS_STATS="1", **extra))
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout):
        raise lib.Failure("the recorded run differs from the plain one:\n  plain: %s\n"
                          "  recorded: %s" % (plain.stdout, lib.explain(rec, cmd)))
    if b"offsets disabled ahead: yes" not in rec.stderr:
        raise lib.Failure("the recorder did not disable offsets ahead:\n" + lib.explain(rec, cmd))
    want = b"counters set directly: " + (b"no" if long_way else b"yes")
    if want not in rec.stderr:
        raise lib.Failure("expected %r in the recorder's stats:\n%s"
                          % (want.decode(), lib.explain(rec, cmd)))
    with open(os.path.join(d, "instrumented.txt")) as f:
        left = int(f.read())
    # g has four blocks: at most one counter each
    if left > 4:
        raise lib.Failure("%d offsets of g still instrumented after g(1) (its counters are at "
                          "most 4): offsets that never ran were not disabled ahead" % left)
    lib.expect_count(args, out, "g", "BUILD_LIST", LISTS)


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("mode", choices=["default", "select", "default-long", "select-long"])
    lib.main(check, p.parse_args())

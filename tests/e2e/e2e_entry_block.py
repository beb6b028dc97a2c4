"""3.12+, -i mode: code whose chosen instructions all lie in its entry block is counted by
PY_START alone, set up without its block table, and its counts stay exact.

    e2e_entry_block.py --python PY --heavyops H --analyze A --scratch DIR MODE

The program's functions hold their BUILD_LIST and BUILD_TUPLE in the block a call starts
in, with exceptions raised before them (exits the counts must take off), after them (past
the counters the recorder keeps), in a generator, and while flushes come (HEAVYOPS_FLUSH_MS)
with frames past their entry block. loop_first's entry block is also a loop's head, so
PY_START cannot count it. MODE "select": these functions must have no instrumented
offset left, and every count must be exact. MODE "check": HEAVYOPS_CHECK=1 keeps every
event and compares the recorder's short way to the entry block with its block table;
no check may fail. Skipped on 3.11 (tracing).
"""

import os

import e2e_lib as lib

PROG = """import opcode, time
def g(x):
    a = [x]
    b = (x, a)
    if x < 0:
        raise ValueError(x)
    return b
def check(x):
    if x % 3 == 0:
        raise KeyError(x)
def h(x):
    a = [x]
    check(x)
    b = (x, a)
    return b
def gen(n):
    c = [n]
    t = (n, c)
    yield t
    yield n
def loop_first(n):
    while True:
        t = (n, n)
        n -= 1
        if n <= 0:
            return t
def slow(n):
    a = [n]
    try:
        for i in range(n):
            time.sleep(0.03)
            if i % 2:
                raise OSError(i)
    except OSError:
        pass
    return a
""" + lib.INSTRUMENTED + """for x in (1, 2, -1, 3, -2, 4, 5):
    try:
        g(x)
    except ValueError:
        pass
for x in range(10):
    try:
        h(x)
    except KeyError:
        pass
for k in range(4):
    list(gen(k))
loop_first(5)
loop_first(5)
slow(6)
with open("instrumented.txt", "w") as out:
    out.write(" ".join(str(instrumented(f)) for f in (g, h, gen, slow, loop_first)))
print("done")
"""
# (function, opname, count)
EXPECT = [("g", "BUILD_LIST", 7), ("g", "BUILD_TUPLE", 7),
          ("h", "BUILD_LIST", 10), ("h", "BUILD_TUPLE", 6),
          ("gen", "BUILD_LIST", 4), ("gen", "BUILD_TUPLE", 4),
          ("loop_first", "BUILD_TUPLE", 10), ("slow", "BUILD_LIST", 1)]


def check(args):
    d, prog, plain = lib.monitoring_prog(args, "entry-block-" + args.mode, PROG)
    out = os.path.join(d, "run.hops")
    env = {"HEAVYOPS_FLUSH_MS": "20"}
    if args.mode == "check":
        env["HEAVYOPS_CHECK"] = "1"
    cmd, rec = lib.record(args, [prog], out, select=["BUILD_LIST,BUILD_TUPLE"], cwd=d,
                          env=lib.test_env(**env))
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout) or rec.stderr:
        raise lib.Failure("the recorded run differs from the plain one, or said something:\n"
                          "  plain: %s\n  recorded: %s" % (plain.stdout, lib.explain(rec, cmd)))
    with open(os.path.join(d, "instrumented.txt")) as f:
        left = [int(v) for v in f.read().split()]
    # g, h, gen, slow: PY_START counts them, no INSTRUCTION event; loop_first needs one
    if args.mode == "select" and (left[:4] != [0, 0, 0, 0] or left[4] == 0):
        raise lib.Failure("instrumented offsets of g, h, gen, slow, loop_first: %s; expected "
                          "0 0 0 0 and at least one" % left)
    for function, opname, want in EXPECT:
        lib.expect_count(args, out, function, opname, want)


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("mode", choices=["select", "check"])
    lib.main(check, p.parse_args())

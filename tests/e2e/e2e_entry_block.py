"""3.12+, -i mode: code whose chosen instructions all lie in its entry block, or in blocks
every frame passes once on its way out (branches that join before them, no loop through
them, no return or handler before them), is counted by PY_START alone, and its counts
stay exact.

    e2e_entry_block.py --python PY --heavyops H --analyze A --scratch DIR MODE

The program's functions hold their BUILD_LIST and BUILD_TUPLE in the block a call starts
in, with exceptions raised before them (exits the counts must take off), after them (past
the counters the recorder keeps), in a generator, and while flushes come (HEAVYOPS_FLUSH_MS)
with frames past their entry block. joined, looped, slow_join and two_blocks hold them
after branches join, with exceptions raised (and raised in a callee) before them, a loop
before them, and frames waiting before them while flushes come. loop_first's entry block
is also a loop's head, early returns before its BUILD_LIST, and guarded catches an
exception before its own, so PY_START cannot count them. MODE "select": the others must
have no instrumented offset left, and every count must be exact. MODE "check":
HEAVYOPS_CHECK=1 keeps every event, compares the recorder's short way to the entry block
and its site blocks with its block table, and its counts with direct ones;
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
def joined(x):
    if x % 2:
        y = x + 1
    else:
        y = x - 1
    if x == 5:
        raise ValueError(x)
    check(x)
    a = [y]
    b = (a, y)
    return b
def looped(n):
    t = 0
    for i in range(n):
        t += i
    a = [t]
    return (a, n)
def slow_join(n):
    if n:
        time.sleep(0.05)
    else:
        time.sleep(0.01)
    time.sleep(0.05)
    return [n]
def two_blocks(x):
    if x:
        x += 1
    a = [x]
    if x > 2:
        x -= 1
    return (a, x)
def early(x):
    if x < 0:
        return None
    return [x]
def guarded(x):
    try:
        check(x)
    except KeyError:
        pass
    return [x]
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
for x in range(10):
    try:
        joined(x)
    except (ValueError, KeyError):
        pass
looped(3)
looped(0)
slow_join(1)
slow_join(0)
for x in (0, 1, 5):
    two_blocks(x)
for x in (-1, 2, 3):
    early(x)
for x in range(4):
    guarded(x)
with open("instrumented.txt", "w") as out:
    out.write(" ".join(str(instrumented(f)) for f in
                       (g, h, gen, slow, joined, looped, slow_join, two_blocks, loop_first, early,
                        guarded)))
print("done")
"""
# (function, opname, count)
EXPECT = [("g", "BUILD_LIST", 7), ("g", "BUILD_TUPLE", 7),
          ("h", "BUILD_LIST", 10), ("h", "BUILD_TUPLE", 6),
          ("gen", "BUILD_LIST", 4), ("gen", "BUILD_TUPLE", 4),
          ("loop_first", "BUILD_TUPLE", 10), ("slow", "BUILD_LIST", 1),
          ("joined", "BUILD_LIST", 5), ("joined", "BUILD_TUPLE", 5),
          ("looped", "BUILD_LIST", 2), ("looped", "BUILD_TUPLE", 2),
          ("slow_join", "BUILD_LIST", 2),
          ("two_blocks", "BUILD_LIST", 3), ("two_blocks", "BUILD_TUPLE", 3),
          ("early", "BUILD_LIST", 2), ("guarded", "BUILD_LIST", 4)]


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
    # PY_START counts all but the last three, which need INSTRUCTION events
    if args.mode == "select" and (left[:8] != [0] * 8 or 0 in left[8:]):
        raise lib.Failure("instrumented offsets of g, h, gen, slow, joined, looped, slow_join, "
                          "two_blocks, loop_first, early, guarded: %s; expected eight 0s, then "
                          "at least one each" % left)
    for function, opname, want in EXPECT:
        lib.expect_count(args, out, function, opname, want)


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("mode", choices=["select", "check"])
    lib.main(check, p.parse_args())

"""3.11: line mode.  In code whose lines mostly reach no counter, LINE events switch opcode
events on for the lines that do and off for the rest; counts stay as they are with opcode
events all through (HEAVYOPS_NO_LINE_MODE=1).

    e2e_line_mode.py --python PY --heavyops H --analyze A --scratch DIR

The program reads its own frame's f_trace_opcodes on a line without a BUILD_TUPLE and inside
a tuple display, also in a generator resumed mid-line. Recorded with -i BUILD_TUPLE, the
first is off and the others on; with HEAVYOPS_NO_LINE_MODE=1 all are on. In the default mode
(counters at the block leaders the flow plan measures) the loop body's lines hold none, so
both of probe()'s are off; with HEAVYOPS_NO_LINE_MODE=1 and HEAVYOPS_NO_DERIVE=1 (a counter
at every instruction, as before either) all are on. The recorder's statistics
(HEAVYOPS_STATS=1) must name code objects in line mode exactly when it is on, and every
site's count must be the same with and without it, in both modes. Exactness against the
oracle: the lines workload's tests (tests/workloads/lines.py). Skipped where sys.monitoring
exists (3.12+).
"""

import os
import re

import e2e_lib as lib

PROG = """import sys
def probe(n):
    flags = []
    for i in range(n):
        a = i + 1
        quiet = sys._getframe().f_trace_opcodes
        t = (a, sys._getframe().f_trace_opcodes)
        b = a * 2
        c = b - a
        flags.append((quiet, t[1], c))
    return flags
def gen(n):
    for i in range(n):
        x = i * 3
        got = ((yield x), sys._getframe().f_trace_opcodes)
        y = x + 1
        z = y - x
        w = z + y
    return got
def drive(n):
    g = gen(n)
    next(g)
    try:
        while True:
            g.send(0)
    except StopIteration as e:
        return e.value[1]
f = probe(3)
print(sorted(set((q, t) for q, t, _ in f)), drive(3))
"""

# (case, -i names or None for the default mode, environment, what it prints)
CASES = [("select", ["BUILD_TUPLE"], {}, "[(False, True)] True"),
         ("select-off", ["BUILD_TUPLE"], {"HEAVYOPS_NO_LINE_MODE": "1"}, "[(True, True)] True"),
         ("default", None, {}, "[(False, False)]"),
         ("default-off", None, {"HEAVYOPS_NO_LINE_MODE": "1", "HEAVYOPS_NO_DERIVE": "1"},
          "[(True, True)] True")]


def check(args):
    if lib.run([args.python, "-c", "import sys; sys.monitoring"]).returncode == 0:
        lib.skip("sys.monitoring here: line mode is 3.11's")
    d = lib.scratch_dir(args, "line-mode")
    prog = lib.write_prog(d, PROG)
    rows = {}
    for name, select, env, want in CASES:
        out = os.path.join(d, name + ".hops")
        cmd, rec = lib.record(args, [prog], out, select=select, cwd=d,
                              env=lib.test_env(HEAVYOPS_STATS="1", **env))
        if rec.returncode != 0:
            raise lib.Failure("the recorded run failed:\n" + lib.explain(rec, cmd))
        m = re.search(rb"line mode: (\d+) code objects", rec.stderr)
        if m is None:
            raise lib.Failure("no line mode statistics:\n" + lib.explain(rec, cmd))
        printed, n_line = rec.stdout.decode().strip(), int(m.group(1))
        # the default mode's generator value depends on where the flow plan puts counters
        if not printed.startswith(want) or (n_line == 0) != name.endswith("-off"):
            raise lib.Failure("%s: printed %r (want %r), %d code objects in line mode:\n%s"
                              % (name, printed, want, n_line, lib.explain(rec, cmd)))
        doc = lib.site_rows(args, out)
        rows[name] = sorted(((r["function"], r["offset"], r["instruction"], str(r["line"])),
                             r["count"]) for r in doc["rows"] if lib.same_file(r["file"], prog, d))
    for mode in ("select", "default"):
        if not rows[mode] or rows[mode] != rows[mode + "-off"]:
            raise lib.Failure("%s mode: counts differ with and without line mode:\n  %s\n  %s"
                              % (mode, rows[mode], rows[mode + "-off"]))


if __name__ == "__main__":
    lib.main(check, lib.parser(__doc__).parse_args())

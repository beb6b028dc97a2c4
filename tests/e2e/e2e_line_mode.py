"""3.11, -i mode: line mode.  In code whose lines mostly reach no chosen instruction, LINE
events switch opcode events on for the lines that do and off for the rest; counts stay as
they are with opcode events all through (HEAVYOPS_NO_LINE_MODE=1).

    e2e_line_mode.py --python PY --heavyops H --analyze A --scratch DIR

The program reads its own frame's f_trace_opcodes on a line without a BUILD_TUPLE (off in
line mode) and inside a tuple display (on), also in a generator resumed mid-line; recorded
with -i BUILD_TUPLE it must print what line mode promises, with HEAVYOPS_NO_LINE_MODE=1
opcode events on everywhere, and in the default mode (every instruction counted) the same.
The recorder's statistics (HEAVYOPS_STATS=1) must name code objects in line mode only for
the first run, and every site's count must be the same in the first two.  Exactness
against the oracle: e2e-lines-select and e2e-lines-glob (tests/workloads/lines.py).
Skipped where sys.monitoring exists (3.12+).
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

EXPECT = {"line": "[(False, True)] True", "all": "[(True, True)] True"}


def run_case(args, d, prog, name, select, env):
    out = os.path.join(d, name + ".hops")
    cmd, rec = lib.record(args, [prog], out, select=select, cwd=d,
                          env=lib.test_env(HEAVYOPS_STATS="1", **env))
    if rec.returncode != 0:
        raise lib.Failure("the recorded run failed:\n" + lib.explain(rec, cmd))
    m = re.search(rb"line mode: (\d+) code objects", rec.stderr)
    if m is None:
        raise lib.Failure("no line mode statistics:\n" + lib.explain(rec, cmd))
    return out, rec.stdout.decode().strip(), int(m.group(1)), cmd, rec


def check(args):
    if lib.run([args.python, "-c", "import sys; sys.monitoring"]).returncode == 0:
        lib.skip("sys.monitoring here: line mode is 3.11's")
    d = lib.scratch_dir(args, "line-mode")
    prog = lib.write_prog(d, PROG)
    line, line_out, line_n, cmd, rec = run_case(args, d, prog, "line", ["BUILD_TUPLE"], {})
    if line_out != EXPECT["line"] or line_n == 0:
        raise lib.Failure("line mode: printed %r (want %r), %d code objects in line mode:\n%s"
                          % (line_out, EXPECT["line"], line_n, lib.explain(rec, cmd)))
    off, off_out, off_n, cmd, rec = run_case(args, d, prog, "off", ["BUILD_TUPLE"],
                                             {"HEAVYOPS_NO_LINE_MODE": "1"})
    if off_out != EXPECT["all"] or off_n != 0:
        raise lib.Failure("HEAVYOPS_NO_LINE_MODE=1: printed %r (want %r), %d code objects in "
                          "line mode:\n%s" % (off_out, EXPECT["all"], off_n,
                                              lib.explain(rec, cmd)))
    _, all_out, all_n, cmd, rec = run_case(args, d, prog, "default", None, {})
    if all_out != EXPECT["all"] or all_n != 0:
        raise lib.Failure("default mode: printed %r (want %r), %d code objects in line mode:\n%s"
                          % (all_out, EXPECT["all"], all_n, lib.explain(rec, cmd)))
    key = lambda r: (r["function"], r["line"], r["offset"], r["instruction"])  # noqa: E731
    rows = {}
    for name, path in (("line", line), ("off", off)):
        doc = lib.site_rows(args, path)
        rows[name] = sorted((key(r), r["count"]) for r in doc["rows"]
                            if lib.same_file(r["file"], prog, d))
    if not rows["line"] or rows["line"] != rows["off"]:
        raise lib.Failure("counts differ with and without line mode:\n  line mode: %s\n"
                          "  opcode events throughout: %s" % (rows["line"], rows["off"]))


if __name__ == "__main__":
    lib.main(check, lib.parser(__doc__).parse_args())

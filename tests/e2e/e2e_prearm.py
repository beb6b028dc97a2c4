"""3.12+: code made while recording is instrumented for the recorder's PY_START as it is
made (pre-armed), not by CPython's walk over the whole bytecode at its first run, and
counts stay exact.

    e2e_prearm.py --python PY --heavyops H --analyze A --scratch DIR MODE

The program compiles functions at run time and looks at their live bytecode before they
first run: pre-armed, its first RESUME is already INSTRUMENTED_RESUME (CPython
alone would leave a plain RESUME there until the first call). A generator function, whose
later RESUMEs report PY_RESUME, is left to CPython: plain RESUME. Then both run, and the
analyzer must find their BUILD_TUPLEs counted exactly. The recorder must say
(HEAVYOPS_STATS) how many code objects it pre-armed: some, or none with MODE "off"
(HEAVYOPS_NO_PREARM), where both functions keep a plain RESUME. Code of a file not recorded
(with -f) is left quiet as it is made: brought up to date for the recorder's events without
any instrumentation, as CPython leaves it once the recorder has turned down its PY_START;
the stats count it. The program's other output and its exit status are those of the plain
run.
MODE "default" records every instruction, "select" -i BUILD_LIST,BUILD_TUPLE, "files"
-f prog.py (the program's own code, whose imports then are quiet), "off" is "default"
without pre-arming. Skipped on 3.11 (tracing: no sys.monitoring).
"""

import os
import re

import e2e_lib as lib

PROG = """import opcode
SRC = '''
def made(n):
    return [(i, n) for i in range(n)]
def gen(n):
    for i in range(n):
        yield (i,)
'''
ns = {}
exec(compile(SRC, __file__, "exec"), ns)
exec(compile("def other(n):\\n    return (n, n)\\n", "other.py", "exec"), ns)
def first_resume(fn):
    code = fn.__code__
    caches = opcode._inline_cache_entries
    u = 0
    while code.co_code[u] != opcode.opmap["RESUME"]:
        op = code.co_code[u]
        u += 2 + 2 * (caches[op] if isinstance(caches, list) else caches.get(opcode.opname[op], 0))
    return opcode.opname[code._co_code_adaptive[u]]
with open("resume.txt", "w") as out:
    out.write(" ".join(first_resume(ns[f]) for f in ("made", "gen", "other")))
print(len(ns["made"](5)) + len(ns["made"](7)), sum(len(t) for t in ns["gen"](9)), ns["other"](3))
"""
MADE_TUPLES = 5 + 7
GEN_TUPLES = 9


def check(args):
    d, prog, plain = lib.monitoring_prog(args, "prearm-" + args.mode, PROG)
    out = os.path.join(d, "run.hops")
    select = ["BUILD_LIST,BUILD_TUPLE"] if args.mode == "select" else None
    extra = {"HEAVYOPS_NO_PREARM": "1"} if args.mode == "off" else {}
    files = ["-f", "prog.py"] if args.mode == "files" else []
    cmd, rec = lib.record(args, [prog], out, select=select, cwd=d, extra=files,
                          env=lib.test_env(HEAVYOPS_STATS="1", **extra))
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout):
        raise lib.Failure("the recorded run differs from the plain one:\n  plain: %s\n"
                          "  recorded: %s" % (plain.stdout, lib.explain(rec, cmd)))
    m = re.search(rb"code pre-armed: (\d+) \((\d+) of files not recorded\)", rec.stderr)
    if m is None:
        raise lib.Failure("no pre-armed count in the recorder's stats:\n" + lib.explain(rec, cmd))
    prearmed, quiet = int(m.group(1)), int(m.group(2))
    if (prearmed - quiet > 0) != (args.mode != "off") or (quiet > 0) != (args.mode == "files"):
        raise lib.Failure("%d code objects pre-armed, %d of them quiet, in mode %s:\n%s"
                          % (prearmed, quiet, args.mode, lib.explain(rec, cmd)))
    with open(os.path.join(d, "resume.txt")) as f:
        seen = f.read()
    armed = "RESUME" if args.mode == "off" else "INSTRUMENTED_RESUME"
    want = " ".join([armed, "RESUME", "RESUME" if args.mode == "files" else armed])
    if seen != want:
        raise lib.Failure("first RESUME of made, gen and other before they ran: %r, expected %r"
                          % (seen, want))
    lib.expect_count(args, out, "made", "BUILD_TUPLE", MADE_TUPLES)
    lib.expect_count(args, out, "gen", "BUILD_TUPLE", GEN_TUPLES)


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("mode", choices=["default", "select", "files", "off"])
    lib.main(check, p.parse_args())

"""3.12: counted code gets its superinstructions back, and its counts stay exact.

    e2e_supers.py --python PY --heavyops H --analyze A --scratch DIR MODE

3.12 forms superinstructions (LOAD_FAST__LOAD_FAST...) once, when it quickens a code
object; INSTRUCTION events take them away, and the recorder gives them back once the
offsets have disabled themselves (rec_backend_restore_supers). The program runs a hot
function, then waits (up to 3 s) until dis shows a superinstruction in it again, as in the
plain run (running it on meanwhile), and runs it once more. A function the recorder gives
no INSTRUCTION events has them back from its first run on. MODE "default" records every instruction, "select" -i
BUILD_TUPLE; a MODE ending in "-noprearm" turns pre-arming off (HEAVYOPS_NO_PREARM): code
made while recording is then instrumented by CPython's own walk at its first run, which
takes all its superinstructions away, so the giving back is what brings them back (with
pre-arming, code made while recording never loses them but at its counters). Skipped where
there are no such superinstructions (3.11 traces instead; 3.13 has them in co_code).
"""

import os

import e2e_lib as lib

PROG = """import dis, sys, time
def f(n):
    a = 1; b = 2; t = 0
    for i in range(n):
        t += a + b + i
        if i & 1:
            x = (a, b)
    return t
def g(a, b):  # one block, no BUILD_TUPLE: counted by PY_START, or not counted at all
    x = a; y = b
    return x + y
SUPERS = {n for n in dis._all_opmap if "__" in n}
def supers(fn=f):
    # dis cannot read code that INSTRUCTION events instrument (right after a re-plan): walk
    # co_code, which CPython gives without them, and look at those offsets in the live code
    code, live, found, u = fn.__code__.co_code, fn.__code__._co_code_adaptive, [], 0
    while u < len(code):
        if dis._all_opname[live[u]] in SUPERS:
            found.append(dis._all_opname[live[u]])
        u += 2 + 2 * dis._inline_cache_entries[code[u]]
    return found
print(f(3000), g(1, 2), g(3, 4))
print("superinstructions in g:", "yes" if supers(g) else "no")
calls, deadline = 0, time.monotonic() + 3
while not supers() and time.monotonic() < deadline:
    f(300)  # a re-plan (default mode) instruments f again: it has to run on
    calls += 1
    time.sleep(0.005)
print("superinstructions:", "yes" if supers() else "no")
print(f(3000))
with open("calls.txt", "w") as out:
    out.write(str(calls))
"""
PROBE = ("import sys, opcode; print(int(hasattr(sys, 'monitoring') and "
         "any('__' in n for n in getattr(opcode, '_specialized_instructions', []))))")


def check(args):
    if lib.run([args.python, "-c", PROBE]).stdout.strip() != b"1":
        lib.skip("no superinstructions that INSTRUCTION events take away here")
    d = lib.scratch_dir(args, "supers-" + args.mode)
    prog = lib.write_prog(d, PROG)
    plain = lib.run([args.python, prog], cwd=d)
    if b"superinstructions: yes" not in plain.stdout:
        raise lib.Failure("the plain run shows no superinstructions:\n%r" % plain.stdout)
    out = os.path.join(d, "run.hops")
    select = ["BUILD_TUPLE"] if args.mode.startswith("select") else None
    env = lib.test_env(**({"HEAVYOPS_NO_PREARM": "1"} if args.mode.endswith("-noprearm") else {}))
    cmd, rec = lib.record(args, [prog], out, select=select, cwd=d, env=env)
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout):
        raise lib.Failure("the recorded run differs from the plain one (superinstructions "
                          "not given back?):\n" + lib.explain(rec, cmd))
    with open(os.path.join(d, "calls.txt")) as f:
        lib.expect_count(args, out, "f", "BUILD_TUPLE", 3000 + 150 * int(f.read()))


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("mode", choices=["default", "select", "default-noprearm", "select-noprearm"])
    lib.main(check, p.parse_args())

"""The recorder starts a target the way python starts it.

    e2e_launch.py --python PY --heavyops H --analyze A CASE

Each case runs its targets once as `PY TARGET` and once as `heavyops record -o X TARGET`,
from the same directory with the same environment, and requires the same exit status,
byte-identical stdout, and stderr that differs at most in the name before an error line
("PY: ..." against "heavyops: ..."). The programs print what python sets up for them.

CASE is one of:
  dir-main       a directory and a zip file (a zipapp, .pyz) with a __main__.py, as
                 `PY dir`, `PY ./dir/`, `PY app.pyz`: run as python runs them (their
                 __main__ module, sys.path[0] the directory or archive), and counted; a
                 directory without one gets python's error
  shadow         a script beside an opcode.py and a threading.py of its own that exit when
                 imported: the launcher must not import them in the program's place (also
                 run from that directory as `PY -m heavyops`, with --python-m DIR)
  relative-path  `PY ./prog.py` and `PY sub/../prog.py`: __file__, co_filename and the
                 traceback keep the path as given, joined to the current directory
  stack          traceback.print_stack, inspect.stack, sys._getframe().f_back, warnings'
                 stacklevel and logging's stack_info: no launcher frame above <module>, nor
                 above an atexit handler after a KeyboardInterrupt
  safe-path      PYTHONSAFEPATH=1: no script directory on sys.path, and `-m` does not find
                 a module in the current directory
"""

import os
import zipfile

import e2e_lib as lib

# Prints what python set up for __main__ (the importer cache only for our scratch paths).
SHOW = """import sys
def where():
    return __file__, where.__code__.co_filename
print(__name__, repr(__package__), __spec__ and __spec__.name, type(__loader__).__name__)
print(where(), __cached__, sys.argv, sys.path[0])
print(sorted((k, type(v).__name__) for k, v in sys.path_importer_cache.items()
             if k.startswith(%r)))
pairs = [(i, i) for i in range(%d)]
"""
PAIRS_LINE = 8


def same_line(p, r):
    """Whether stderr line R of the recorded run says what line P of python's says: python
    names itself before an error of its own, the recorder says "heavyops"."""
    return p == r or (r.startswith(b"heavyops: ") and p.endswith(r[len(b"heavyops"):]))


def compare(args, target, cwd, env=None, hops="out.hops", python_m=False):
    """Runs TARGET (a list) plain and recorded into CWD/HOPS (with PYTHON_M: by
    `PY -m heavyops`, both runs with its package on PYTHONPATH); returns the problems found."""
    env = env or lib.test_env()
    launcher = [args.heavyops]
    if python_m:
        env = dict(env, PYTHONPATH=args.python_m)
        launcher = [args.python, "-m", "heavyops"]
    plain_cmd = [args.python] + target
    rec_cmd = launcher + ["record", "--force", "-o", hops] + target
    plain = lib.run(plain_cmd, cwd=cwd, env=env)
    rec = lib.run(rec_cmd, cwd=cwd, env=env)
    problems = []
    if (plain.returncode, plain.stdout) != (rec.returncode, rec.stdout):
        problems.append("exit status or stdout differ")
    pe, re_ = plain.stderr.splitlines(), rec.stderr.splitlines()
    if len(pe) != len(re_) or not all(map(same_line, pe, re_)):
        problems.append("stderr differs")
    if problems:
        return ["%s (from %s):\n  python: %s\n  recorder: %s" % (
            ", ".join(problems), cwd, lib.explain(plain, plain_cmd), lib.explain(rec, rec_cmd))]
    return []


def expect_pairs(args, hops, suffix, want):
    """The problem if SHOW's pairs line in the file ending in SUFFIX did not build WANT tuples
    in HOPS."""
    rows = lib.site_rows(args, hops)["rows"]
    got = sum(r["count"] for r in rows if r["instruction"] == "BUILD_TUPLE"
              and r["file"].endswith(suffix) and r["line"] == PAIRS_LINE)
    return [] if got == want else ["%s: %d BUILD_TUPLE in %s, expected %d"
                                   % (hops, got, suffix, want)]


def expect_count(args, scratch, function, want):
    """The problem if prog.py's FUNCTION did not build WANT tuples in out.hops."""
    try:
        lib.expect_count(args, os.path.join(scratch, "out.hops"), function, "BUILD_TUPLE", want)
    except lib.Failure as e:
        return [str(e)]
    return []


def dir_main(args, scratch):
    app = os.path.join(scratch, "app")
    os.makedirs(app)
    lib.write_prog(app, SHOW % (scratch, 37), "__main__.py")
    with zipfile.ZipFile(os.path.join(scratch, "app.pyz"), "w") as z:
        z.writestr("__main__.py", SHOW % (scratch, 41))
    os.makedirs(os.path.join(scratch, "empty"))
    problems = []
    for target, suffix, want in ((["app", "x"], "app/__main__.py", 37),
                                 (["./app/"], "app/__main__.py", 37),
                                 (["app.pyz", "y"], "app.pyz/__main__.py", 41),
                                 (["empty"], None, None)):
        found = compare(args, target, scratch)
        if not found and suffix is not None:
            found = expect_pairs(args, os.path.join(scratch, "out.hops"), suffix, want)
        problems += found
    return problems


def shadow(args, scratch):
    for name in ("opcode", "threading"):
        lib.write_prog(scratch, "raise SystemExit('the program\\'s own %s.py')\n" % name,
                       name + ".py")
    lib.write_prog(scratch, SHOW % (scratch, 5))
    problems = []
    for python_m in (False, True) if args.python_m else (False,):
        found = compare(args, ["prog.py"], scratch, python_m=python_m)
        problems += found or expect_pairs(args, os.path.join(scratch, "out.hops"), "/prog.py", 5)
    return problems


def relative_path(args, scratch):
    os.makedirs(os.path.join(scratch, "sub"))
    lib.write_prog(scratch, SHOW % (scratch, 3) + "raise ValueError(where())\n")
    problems = []
    for target in ("./prog.py", "sub/../prog.py", "prog.py"):
        problems += compare(args, [target], scratch)
    return problems


def safe_path(args, scratch):
    env = lib.test_env(PYTHONSAFEPATH="1")
    lib.write_prog(scratch, SHOW % (scratch, 2))
    lib.write_prog(scratch, "print('found in the current directory')\n", "here.py")
    return (compare(args, ["prog.py"], scratch, env=env)
            + compare(args, ["-m", "here"], scratch, env=env))


# What a program sees of its own stack: nothing above its <module> frame in the plain run.
STACK = """import inspect, logging, sys, traceback, warnings
warnings.warn("at module level", stacklevel=2)
traceback.print_stack()
print(sys._getframe().f_back, len(inspect.stack()), [f.function for f in inspect.stack()])
def f():
    warnings.warn("two frames up", stacklevel=3)
    logging.getLogger().warning("with its stack", stack_info=True)
    return [(len(sys.argv), 2)]
f()
"""


# The same seen from an atexit handler that runs after a KeyboardInterrupt (the launcher
# runs those itself before it dies of SIGINT, as python does).
INTERRUPTED = """import atexit, inspect, sys, traceback
def bye():
    traceback.print_stack()
    print(sys._getframe().f_back, [f.function for f in inspect.stack()])
atexit.register(bye)
raise KeyboardInterrupt
"""


def stack(args, scratch):
    lib.write_prog(scratch, STACK)
    problems = compare(args, ["prog.py"], scratch) or expect_count(args, scratch, "f", 1)
    lib.write_prog(scratch, INTERRUPTED, "interrupted.py")
    return problems + compare(args, ["interrupted.py"], scratch)


CASES = {"dir-main": dir_main, "stack": stack, "shadow": shadow, "relative-path": relative_path,
         "safe-path": safe_path}


if __name__ == "__main__":
    lib.case_main(__doc__, CASES, "launch-", options=[
        ("--python-m", dict(metavar="DIR", help="the heavyops package's parent directory"))])

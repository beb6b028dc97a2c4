"""Shared helpers of the end-to-end tests (tests/e2e/*.py).

Every test is a small program run by `meson test` with the build's own interpreter, so it
sees the same `dis` as the recorder; exit status 0 = pass, 1 = fail, 77 = skip (meson's
convention). Each test works in its own scratch directory under the build directory.
"""

import argparse
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = os.path.join(REPO, "tests", "workloads")
ORACLE = os.path.join(REPO, "tests", "oracle", "oracle.py")
# Workloads shared by the project's authors: only present next to the repository, never in
# a user's clone, so every test that uses them skips where they are absent.
SHARED = os.path.join(os.path.dirname(REPO), "shared", "workloads")

# The analyzer's default instruction set, recorded with -i in the "select" mode.
DEFAULT_SET = ["MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP",
               "LOAD_DEREF"]

# Arguments some workloads are run with (same for the oracle, the recorder and plain runs).
WORKLOAD_ARGS = {
    "argv.py": ["alpha", "beta gamma"],
}


class Failure(Exception):
    """A check failed: the message says what was expected and what happened."""


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--python", default=sys.executable, help="interpreter the build is for")
    p.add_argument("--heavyops", help="the build's heavyops launcher")
    p.add_argument("--analyze", help="the build's heavyops-analyze")
    p.add_argument("--scratch", help="directory for this test's files (wiped first)")
    return p


def main(run, args):
    """Run one test body: exit 0 on success, 1 with the message on Failure, 77 on skip."""
    # meson passes programs relative to the build directory; the tests change directories.
    for name in ("python", "heavyops", "analyze"):
        value = getattr(args, name, None)
        if value and os.sep in value:
            setattr(args, name, os.path.abspath(value))
    try:
        code = run(args)
    except Failure as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    sys.exit(0 if code is None else code)


def case_main(doc, cases, prefix, options=()):
    """The main program of a driver that runs one CASE: CASES[CASE](args, scratch) returns a
    list of problems, in scratch directory PREFIX + CASE.  OPTIONS: (flag, keywords) pairs
    for its argument parser beyond parser()'s."""
    def check(args):
        scratch = scratch_dir(args, prefix + args.case)
        problems = cases[args.case](args, scratch)
        if problems:
            raise Failure("\n".join(problems))
        print("%s: ok" % args.case)

    p = parser(doc.split("\n")[0])
    for flag, keywords in options:
        p.add_argument(flag, **keywords)
    p.add_argument("case", choices=sorted(cases))
    main(check, p.parse_args())


def skip(reason):
    print("SKIP: %s" % reason, flush=True)
    sys.exit(SKIP)


def scratch_dir(args, name):
    d = args.scratch or os.path.join(os.getcwd(), "e2e-scratch", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return os.path.abspath(d)


# Source of instrumented(fn), for test programs (3.12+; they import opcode): how many of fn's
# instructions are instrumented for INSTRUCTION events right now.  co_code, fn's code
# without instrumentation, gives each instruction's length.
INSTRUMENTED = """def instrumented(fn):
    ii = opcode.opmap["INSTRUMENTED_INSTRUCTION"]
    caches = opcode._inline_cache_entries
    code, live, n, u = fn.__code__.co_code, fn.__code__._co_code_adaptive, 0, 0
    while u < len(code):
        n += live[u] == ii
        op = code[u]
        u += 2 + 2 * (caches[op] if isinstance(caches, list) else caches.get(opcode.opname[op], 0))
    return n
"""


def monitoring_prog(args, name, text):
    """For a 3.12+ test (skipped where there is no sys.monitoring): scratch directory NAME with
    TEXT as prog.py, run plain there.  Returns (directory, prog.py's path, the plain run)."""
    if run([args.python, "-c", "import sys; sys.monitoring"]).returncode != 0:
        skip("no sys.monitoring here (3.11 traces)")
    d = scratch_dir(args, name)
    prog = write_prog(d, text)
    return d, prog, run([args.python, prog], cwd=d)


def write_prog(d, text, name="prog.py"):
    """Writes the test program TEXT into directory D; returns its path."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_env(**extra):
    """Environment for every child: fixed hash seed, so that no run's counts depend on string
    hashing (set iteration order), and no inherited Python settings that change behaviour."""
    env = dict(os.environ)
    for k in ("PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONBREAKPOINT", "PYTHONWARNINGS",
              "PYTHONDEVMODE", "PYTHONPROFILEIMPORTTIME", "PYTHONTRACEMALLOC"):
        env.pop(k, None)
    env["PYTHONHASHSEED"] = "0"
    env.update(extra)
    return env


def run(cmd, cwd=None, env=None, timeout=900, stdin=subprocess.DEVNULL):
    try:
        return subprocess.run(cmd, cwd=cwd, env=env or test_env(), stdin=stdin,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure("timed out after %d s: %s" % (timeout, " ".join(cmd))) from e


def show(cmd):
    return " ".join(a if a and all(c.isalnum() or c in "-_./=*:" for c in a) else repr(a)
                    for a in cmd)


def tail(data, lines=15):
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    rows = text.rstrip("\n").split("\n")
    if len(rows) > lines:
        rows = ["[... %d lines]" % (len(rows) - lines)] + rows[-lines:]
    return "\n".join("    | " + r for r in rows) if text else "    (empty)"


def explain(cp, cmd):
    return "%s\n  exit status %s\n  stdout:\n%s\n  stderr:\n%s" % (
        show(cmd), cp.returncode, tail(cp.stdout), tail(cp.stderr))


def expect_count(args, out, function, opname, want):
    """Fails unless prog.py's FUNCTION ran OPNAME exactly WANT times in recording OUT."""
    cmd = [args.analyze, "-f", "prog.py", "--function", function, "-i", opname, "--by",
           "instruction", "--format", "csv", out]
    cp = run(cmd)
    rows = cp.stdout.decode().splitlines()[1:]
    if cp.returncode != 0 or [r.split(",")[0] for r in rows] != [str(want)]:
        raise Failure("expected %d %s in %s:\n%s" % (want, opname, function, explain(cp, cmd)))


def record(args, target, out, select=None, cwd=None, extra=(), env=None):
    """heavyops record -o OUT [-i NAME]... TARGET...; returns the CompletedProcess."""
    cmd = [args.heavyops, "record", "-o", out]
    for name in select or ():
        cmd += ["-i", name]
    cmd += list(extra) + list(target)
    return cmd, run(cmd, cwd=cwd, env=env)


def analyze_json(args, hops, *options):
    """heavyops-analyze OPTIONS --format json HOPS, parsed; fails the test on any error."""
    cmd = [args.analyze] + list(options) + ["--format", "json", hops]
    cp = run(cmd)
    if cp.returncode != 0:
        raise Failure("the analyzer failed:\n" + explain(cp, cmd))
    try:
        return json.loads(cp.stdout)
    except ValueError as e:
        raise Failure("the analyzer's JSON does not parse (%s):\n%s" % (e, explain(cp, cmd)))


def site_rows(args, hops, *options):
    """Every recorded site (one row per code object and offset), with the report's totals."""
    doc = analyze_json(args, hops, "--by", "site", "-i", "*", "--top", "0", *options)
    for key in ("tracked", "total", "rows"):
        if key not in doc:
            raise Failure("the analyzer's JSON has no %r key: %s" % (key, sorted(doc)))
    return doc


def expect_body_tuples(args, hops, want):
    """Fails unless the module bodies exec'd from files named "<module N>" built WANT tuples
    in recording HOPS."""
    built = sum(r["count"] for r in site_rows(args, hops)["rows"]
                if r["instruction"] == "BUILD_TUPLE" and r["file"].startswith("<module "))
    if built != want:
        raise Failure("the bodies built %d tuples, the recording says %d" % (want, built))


@functools.lru_cache(maxsize=None)
def resolve(name, cwd):
    """A recorded or traced file name as a real path; relative names are taken relative to
    the directory the program ran in, and pseudo-files like "<frozen os>" stay as they are."""
    if not name or name.startswith("<"):
        return name
    return os.path.realpath(os.path.join(cwd, name))


def same_file(name, path, cwd):
    """Does a recorded or traced file name denote PATH?"""
    return bool(name) and resolve(name, cwd) == resolve(path, "/")


def interpreter_tag(python):
    cp = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    return cp.stdout.decode().strip()


# ---- the oracle, run once per (interpreter, workload, arguments) and cached -----------------

def oracle_sites(args, workload, wargs, cache_dir):
    """The oracle's JSON for WORKLOAD on args.python, with its exit status under "returncode".

    The oracle is slow, and the default and the -i test of a workload both need it, possibly
    at the same moment (meson runs tests in parallel): the first test to take the lock runs
    it and renames its result into place; the other waits for the lock and reads that."""
    h = hashlib.sha256()
    # The path too: the oracle's sites name the file, so a moved workload needs a new run.
    for part in (open(ORACLE, "rb").read(), open(workload, "rb").read(),
                 os.path.realpath(workload).encode(), os.path.realpath(args.python).encode(), json.dumps(wargs).encode(),
                 test_env()["PYTHONHASHSEED"].encode()):
        h.update(hashlib.sha256(part).digest())
    os.makedirs(cache_dir, exist_ok=True)
    stem = os.path.join(cache_dir, "%s-%s" % (os.path.basename(workload), h.hexdigest()[:16]))
    with open(stem + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stem + ".json"):
            with open(stem + ".json") as f:
                return json.load(f)
        tmp = stem + ".oracle.tmp"
        workdir = stem + ".cwd"
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        cmd = [args.python, ORACLE, tmp, workload] + wargs
        cp = run(cmd, cwd=workdir, timeout=1800)
        try:
            with open(tmp) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise Failure("the oracle wrote no usable JSON (%s):\n%s" % (e, explain(cp, cmd)))
        doc["returncode"] = cp.returncode
        doc["cwd"] = workdir
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, stem + ".json")
        return doc

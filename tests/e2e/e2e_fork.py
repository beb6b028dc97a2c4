"""Child processes: os.fork and multiprocessing's fork, spawn and forkserver start methods.

    e2e_fork.py --python PY --heavyops H --analyze A --scratch DIR CASE

CASE is one of:
  os-fork             os.fork without --follow-fork: the child runs and prints as in the plain
                      run, writes no file and leaves the parent's file intact and exact
  os-fork-follow      with --follow-fork: the child's counts go to OUT.<pid> (its own pid),
                      the parent's to OUT; `heavyops-analyze OUT*` merges them and
                      `--by process` splits them again
  mp-METHOD           multiprocessing with start method METHOD (fork, spawn, forkserver)
                      under --follow-fork: every child that ran the work function has its own
                      file holding exactly the work it did; all files end cleanly
  pool-METHOD         a multiprocessing Pool (fork, spawn), whose workers are killed by
                      SIGTERM when the pool closes: the children's files hold all the work
  mp-spawn-nofollow   spawn without --follow-fork: no child file, the parent's file is intact
  wrapped-monitoring  a program that wraps sys.monitoring's functions in Python, then forks: the
                      recorder, in the parent and in the followed child (whose recording starts
                      after the wrapping), never calls the wrappers (Python code run inside its
                      callbacks runs uninstrumented, and may run a signal handler there)
  pid-reuse           a child whose OUT.<pid> already exists writes OUT.<pid>.1 instead
  term-at-fork        a child that gets SIGTERM before CPython's after-fork work (as a Pool
                      worker that terminate() signals just after its fork): it dies of it as
                      in the plain run, with and without --follow-fork, and when followed
                      its file is written (CPython drops such a signal for the Python
                      handler; the recorder must deliver it again, not let the child run on)
"""

import glob
import json
import os
import sys

import e2e_lib as lib

# work(n) builds n one-element lists on one line: BUILD_LIST there counts the work done.
WORK = """import os, sys
def work(n):
    out = []
    for i in range(n):
        out.append([i])
    return len(out)
"""

SCRIPTS = {
    "os-fork": WORK + """
work(300)
pid = os.fork()
if pid == 0:
    print("child", work(700), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent", work(200), os.waitstatus_to_exitcode(status), flush=True)
""",
    "mp": WORK + """
import multiprocessing as mp
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    procs = [ctx.Process(target=work, args=(n,)) for n in (1000, 2000)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print("exit codes", [p.exitcode for p in procs], flush=True)
    work(50)
""",
    # Pool.__exit__ terminates the workers (SIGTERM) as soon as the results are in: their
    # counts must be written all the same.
    "pool": WORK + """
import multiprocessing as mp
if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(2) as pool:
        print(sum(pool.map(work, [300, 400, 500, 600])), flush=True)
    work(50)
""",
    "wrapped-monitoring": WORK + """
calls = []
mon = getattr(sys, "monitoring", None)
def wrap(name, real):
    def wrapper(*args):
        calls.append(name)
        return real(*args)
    return wrapper
for name in dir(mon) if mon else ():
    real = getattr(mon, name)
    if callable(real) and not name.startswith("_"):
        setattr(mon, name, wrap(name, real))
pid = os.fork()
if pid == 0:
    print("child", work(700), calls, flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("parent", work(200), os.waitstatus_to_exitcode(status), calls, flush=True)
""",
    "term-at-fork": WORK + """
import ctypes
ctypes.CDLL(sys.argv[1]).term_child_at_fork()
pid = os.fork()
if pid == 0:
    print("child ran on", work(10), flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status), flush=True)
work(20)
""",
}
# The line of `out.append([i])` (1-based) in WORK.
WORK_LINE = WORK.splitlines().index("        out.append([i])") + 1


def record(args, d, script, wargs, follow):
    path = lib.write_prog(d, script)
    # the program's own opcode.py, in the directory spawned children start in: the recorder
    # must not import it in place of the standard one
    lib.write_prog(d, "raise SystemExit('the program\'s own opcode.py')\n", "opcode.py")
    plain_cmd = [args.python, path] + wargs
    plain = lib.run(plain_cmd, cwd=d)
    out = os.path.join(d, "run.hops")
    extra = ["--follow-fork"] if follow else []
    cmd, rec = lib.record(args, [path] + wargs, out, cwd=d, extra=extra)
    if rec.returncode != plain.returncode or sorted(rec.stdout.splitlines()) != sorted(
            plain.stdout.splitlines()):
        raise lib.Failure("the recorded run differs from the plain run:\n  plain: %s\n  recorded: %s"
                          % (lib.explain(plain, plain_cmd), lib.explain(rec, cmd)))
    if rec.stderr:
        raise lib.Failure("heavyops wrote to stderr:\n" + lib.explain(rec, cmd))
    return out


def work_lists(args, *files):
    """BUILD_LIST executions on work's append line in FILES (merged); no warning allowed but
    the one that says work never ran in them (a forkserver's own file)."""
    cmd = [args.analyze, "--by", "line", "-i", "BUILD_LIST", "--function", "work",
           "--format", "json", "--top", "0"] + list(files)
    cp = lib.run(cmd)
    never_ran = b"heavyops-analyze: warning: --function 'work' matches no function in the recording"
    if cp.returncode != 0 or cp.stderr not in (b"", never_ran + b"\n", never_ran + b"s\n"):
        raise lib.Failure("the analyzer failed or warned:\n" + lib.explain(cp, cmd))
    return sum(r["count"] for r in json.loads(cp.stdout)["rows"] if r["line"] == WORK_LINE)


def children_of(out):
    return sorted(p for p in glob.glob(out + ".*"))


def by_process(args, files):
    cmd = [args.analyze, "--by", "process", "-i", "*", "--format", "json", "--top", "0"] + files
    cp = lib.run(cmd)
    if cp.returncode != 0 or cp.stderr:
        raise lib.Failure("the analyzer failed or warned:\n" + lib.explain(cp, cmd))
    return json.loads(cp.stdout)["rows"]


def expect(what, got, want):
    if got != want:
        raise lib.Failure("%s: expected %r, got %r" % (what, want, got))


def case_os_fork(args, d, follow):
    out = record(args, d, SCRIPTS["os-fork"], [], follow)
    kids = children_of(out)
    expect("parent's work", work_lists(args, out), 500)
    if not follow:
        expect("child files", kids, [])
        return
    expect("number of child files", len(kids), 1)
    expect("child's work", work_lists(args, kids[0]), 700)
    # Following forks adds no counts of its own to the parent: every site as without it.
    plain_dir = os.path.join(d, "nofollow")
    os.makedirs(plain_dir)
    alone = record(args, plain_dir, SCRIPTS["os-fork"], [], False)
    key = lambda r: (r["function"], r["firstlineno"], r["offset"], r["count"])
    a = sorted(map(key, lib.site_rows(args, alone)["rows"]))
    b = sorted(map(key, lib.site_rows(args, out)["rows"]))
    if a != b:
        raise lib.Failure("the parent's counts differ with --follow-fork:\n  without: %d sites\n"
                          "  with: %d sites\n  only without: %s\n  only with: %s"
                          % (len(a), len(b), sorted(set(a) - set(b))[:5],
                             sorted(set(b) - set(a))[:5]))
    pid = int(kids[0].rsplit(".", 1)[1])
    rows = by_process(args, [out] + kids)
    pids = {r["pid"]: r["recording"] for r in rows}
    expect("the child's row", pids.get(pid), kids[0])
    expect("number of processes", len(rows), 2)
    merged = work_lists(args, out, *kids)
    expect("merged work", merged, 1200)


def case_mp(args, d, method, follow):
    out = record(args, d, SCRIPTS["mp"], [method], follow)
    kids = children_of(out)
    expect("parent's work", work_lists(args, out), 50)
    if not follow:
        expect("child files", kids, [])
        return
    done = sorted(n for n in (work_lists(args, k) for k in kids) if n)
    # forkserver: the server process itself is a child too (it runs no work)
    expect("work done by the children, per child", done, [1000, 2000])
    rows = by_process(args, [out] + kids)
    expect("number of processes", len(rows), 1 + len(kids))
    expect("merged work", work_lists(args, out, *kids), 3050)


def case_pool(args, d, method):
    out = record(args, d, SCRIPTS["pool"], [method], True)
    kids = children_of(out)
    expect("parent's work", work_lists(args, out), 50)
    # killed workers' files did not end cleanly: the analyzer warns, so sum without -stderr check
    total = 0
    for k in kids:
        cmd = [args.analyze, "--by", "line", "-i", "BUILD_LIST", "--function", "work",
               "--format", "json", "--top", "0", k]
        cp = lib.run(cmd)
        if cp.returncode != 0:
            raise lib.Failure("the analyzer failed:\n" + lib.explain(cp, cmd))
        total += sum(r["count"] for r in json.loads(cp.stdout)["rows"] if r["line"] == WORK_LINE)
    expect("work done by the pool's workers", total, 1800)


def case_wrapped_monitoring(args, d):
    # record() compares the wrappers' calls (none) with the plain run's
    out = record(args, d, SCRIPTS["wrapped-monitoring"], [], True)
    kids = children_of(out)
    expect("number of child files", len(kids), 1)
    expect("parent's work", work_lists(args, out), 200)
    expect("child's work", work_lists(args, kids[0]), 700)


def case_pid_reuse(args, d):
    # In a new pid namespace the recorded program is pid 1 and its child pid 2, run after
    # run: the second run's child finds OUT.2 taken and must not overwrite it.
    probe = lib.run(["unshare", "--pid", "--fork", "--mount-proc", "true"])
    if probe.returncode != 0:
        lib.skip("cannot make a pid namespace here (unshare: %s)"
                 % probe.stderr.decode(errors="replace").strip())
    path = lib.write_prog(d, WORK + """
pid = os.fork()
if pid == 0:
    work(int(sys.argv[1]))
    os._exit(0)
os.waitpid(pid, 0)
""")
    out = os.path.join(d, "run.hops")
    for n in (40, 60):
        cmd = ["unshare", "--pid", "--fork", "--mount-proc", args.heavyops, "record",
               "--follow-fork", "--force", "-o", out, path, str(n)]
        cp = lib.run(cmd, cwd=d)
        if cp.returncode != 0 or cp.stderr:
            raise lib.Failure("the recorded run failed or warned:\n" + lib.explain(cp, cmd))
    kids = children_of(out)
    names = [os.path.basename(k) for k in kids]
    if len(names) != 2 or names[1] != names[0] + ".1":
        raise lib.Failure("expected run.hops.PID and run.hops.PID.1, got %r" % names)
    expect("first child's work", work_lists(args, kids[0]), 40)
    expect("second child's work", work_lists(args, kids[1]), 60)


def case_term_at_fork(args, d):
    for follow in (False, True):
        sub = os.path.join(d, "follow" if follow else "nofollow")
        os.makedirs(sub)
        # record() checks the output against the plain run's: "child -15"
        out = record(args, sub, SCRIPTS["term-at-fork"], [os.path.abspath(args.term_at_fork)],
                     follow)
        expect("parent's work", work_lists(args, out), 20)
        kids = children_of(out)
        expect("child files", len(kids), 1 if follow else 0)
        for k in kids:  # written by the SIGTERM handler: not ended cleanly, but readable
            cmd = [args.analyze, "info", k]
            cp = lib.run(cmd)
            if cp.returncode != 0:
                raise lib.Failure("the child's file is not readable:\n" + lib.explain(cp, cmd))


def main(args):
    d = lib.scratch_dir(args, "fork-" + args.case)
    if args.case == "term-at-fork":
        return case_term_at_fork(args, d)
    if args.case == "os-fork":
        return case_os_fork(args, d, False)
    if args.case == "os-fork-follow":
        return case_os_fork(args, d, True)
    if args.case == "pid-reuse":
        return case_pid_reuse(args, d)
    if args.case == "wrapped-monitoring":
        return case_wrapped_monitoring(args, d)
    if args.case.startswith("pool-"):
        return case_pool(args, d, args.case[5:])
    if args.case == "mp-spawn-nofollow":
        return case_mp(args, d, "spawn", False)
    if args.case.startswith("mp-"):
        return case_mp(args, d, args.case[3:], True)
    raise lib.Failure("unknown case %r" % args.case)


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("--term-at-fork", help="term_at_fork.so (the term-at-fork case)")
    p.add_argument("case")
    lib.main(main, p.parse_args())

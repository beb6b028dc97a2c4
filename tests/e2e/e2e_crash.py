"""Programs that end badly, and outputs that cannot be written.

    e2e_crash.py --python PY --heavyops H --analyze A --scratch DIR CASE

CASE is one of:
  sigkill    killed with SIGKILL after running > 2 s: the file holds what was flushed (frames
             go out at least once a second), the analyzer reads it and warns it is unclean
  os-exit    os._exit(5): same status as the plain run, and the last counts are written
  sigterm    killed by SIGTERM (no handler of its own): same signal, and heavyops writes the
             exact counts up to the signal, marked as not ended cleanly
  segfault   a crash in C code (ctypes.string_at(0)): same signal, readable file
  sigterm-handler  the program installs its own SIGTERM handler (signal.signal returns
             SIG_DFL, as in the plain run): it runs, the program goes on, exact counts
  sigterm-stuck  SIGTERM while the main thread is in C code for minutes (pbkdf2): the Python
             handler cannot run, so the recorder's timer kills the process within seconds,
             by SIGTERM, leaving what was flushed
  sigint     SIGINT (KeyboardInterrupt, uncaught): same traceback and death by SIGINT, and the
             file holds the exact counts up to the interrupt
  sigterm-at-exit  the program wraps threading.settrace to send itself SIGTERM when called
             with None, then leaves by os._exit: heavyops' stop there must not call it (3.11's
             stop once did, and a SIGTERM in it, as a pool's terminate() sent, lost the file):
             same status 0 and output as the plain run, exact counts in a clean file
  sigterm-in-stop  SIGTERM arrives while heavyops' stop writes the file at a normal exit
             (HEAVYOPS_FAULT_SIGNAL_IN_STOP): its handler runs once the file is whole and the
             report is out (-v's "wrote" line), then the program dies of it; the same stdout as
             the plain run, exact counts in a clean file
  atexit-fails  an atexit handler raises: same output, stderr and status; the handler's own
             work is counted and the file ends cleanly
  nomem      the recorder runs out of memory (HEAVYOPS_FAULT_NOMEM_AFTER: every code object
             after the first 2 cannot be set up): the program runs as unrecorded, heavyops
             says the recording is incomplete, the file is marked so and the analyzer warns
  no-dir     output in a directory that does not exist: the program still runs, with its own
             output and status, and heavyops says on stderr that nothing was recorded
  full-disk  output on a 16 KiB tmpfs that fills while the program runs (root only; skipped
             where mount is not allowed): the program runs to the end with its own output
             and status, and heavyops says the recording is incomplete
"""

import os
import re
import signal
import subprocess
import sys
import time

import e2e_lib as lib

LOOP = """import os, signal, sys
def work(n):
    s = 0
    for i in range(n):
        s += (i, i + 1)[0]
    return s
print("start", flush=True)
"""

SCRIPTS = {
    "sigkill": LOOP + "while True:\n    work(20000)\n",
    "os-exit": LOOP + "work(30000)\nprint('bye', flush=True)\nos._exit(5)\n",
    "sigterm": LOOP + "print(signal.getsignal(signal.SIGTERM))\nwork(30000)\n"
                      "os.kill(os.getpid(), signal.SIGTERM)\nwork(10)\n",
    "sigterm-handler": LOOP + "def h(signum, frame):\n    work(7)\n    print('handled', signum)\n"
                              "print(signal.signal(signal.SIGTERM, h), signal.getsignal(signal.SIGTERM) is h)\n"
                              "work(30000)\nos.kill(os.getpid(), signal.SIGTERM)\nwork(10)\nsys.exit(3)\n",
    "sigterm-stuck": LOOP + "import hashlib\nwork(30000)\nprint('stuck', flush=True)\n"
                            "hashlib.pbkdf2_hmac('sha256', b'x', b'y', 10 ** 9)\n",
    "segfault": LOOP + "work(30000)\nimport ctypes\nctypes.string_at(0)\n",
    "sigint": LOOP + "work(30000)\nos.kill(os.getpid(), signal.SIGINT)\nwork(10)\n",
    "sigterm-at-exit": LOOP + "import threading\n_real_settrace = threading.settrace\n"
                              "def settrace(hook):\n    if hook is None:\n"
                              "        os.kill(os.getpid(), signal.SIGTERM)\n"
                              "    _real_settrace(hook)\n"
                              "threading.settrace = settrace\nwork(30000)\nos._exit(0)\n",
    "sigterm-in-stop": LOOP + "work(30000)\nprint('bye', flush=True)\n",
    "atexit-fails": LOOP + "import atexit\n"
                           "def bye():\n    work(100)\n    raise RuntimeError('atexit handler fails')\n"
                           "atexit.register(bye)\nwork(30000)\nprint('main done', flush=True)\n",
    "nomem": LOOP + "import json, difflib\nwork(3000)\nprint(json.dumps([1, 2]), 'done')\n"
                    "sys.exit(4)\n",
    "no-dir": LOOP + "work(3000)\nprint('done')\nsys.exit(7)\n",
    "full-disk": LOOP + "import json, difflib, email.parser, html.parser, xml.dom.minidom\n"
                        "work(3000)\nprint('done')\nsys.exit(7)\n",
}


def tuples_counted(args, hops, expect_clean, only=None):
    """BUILD_TUPLE executions in HOPS (in file ONLY if given), checking the analyzer's warning
    about a clean end."""
    cmd = [args.analyze, "--by", "instruction", "-i", "BUILD_TUPLE", "--format", "csv", hops]
    if only:
        cmd[1:1] = ["-f", only]
    cp = lib.run(cmd)
    if cp.returncode != 0:
        raise lib.Failure("the analyzer cannot read the recording:\n" + lib.explain(cp, cmd))
    unclean = b"did not end cleanly" in cp.stderr
    if unclean == expect_clean:
        raise lib.Failure("expected the recording to %s cleanly:\n%s"
                          % ("end" if expect_clean else "not end", lib.explain(cp, cmd)))
    rows = cp.stdout.decode().splitlines()[1:]
    return sum(int(r.split(",")[0]) for r in rows)


def same_run(plain, rec, cmd):
    if (rec.returncode, rec.stdout) != (plain.returncode, plain.stdout):
        raise lib.Failure("the program did not run as it does unrecorded (status %r, plain %r):\n%s"
                          % (rec.returncode, plain.returncode, lib.explain(rec, cmd)))


def check(args):
    case = args.case
    scratch = lib.scratch_dir(args, "crash-" + case)
    script = os.path.join(scratch, "target.py")
    with open(script, "w") as f:
        f.write(SCRIPTS[case])
    hops = os.path.join(scratch, "run.hops")

    if case == "sigkill":
        cmd = [args.heavyops, "record", "-o", hops, script]
        p = subprocess.Popen(cmd, cwd=scratch, env=lib.test_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.readline()  # the target is running
        time.sleep(2.5)
        # the launcher execs nothing: the recorded program is this very process
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=60)
        if p.returncode != -signal.SIGKILL:
            raise lib.Failure("expected death by SIGKILL, got %r" % p.returncode)
        n = tuples_counted(args, hops, expect_clean=False)
        if n < 20000:
            raise lib.Failure("only %d BUILD_TUPLE counted after 2.5 s; frames were not flushed"
                              % n)
        print("killed after 2.5 s: %d BUILD_TUPLE in the file" % n)
        return

    if case == "sigterm-stuck":
        cmd = [args.heavyops, "record", "-o", hops, script]
        p = subprocess.Popen(cmd, cwd=scratch, env=lib.test_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.readline()  # start
        if p.stdout.readline() != b"stuck\n":
            p.kill()
            raise lib.Failure("the program did not start:\n" + p.communicate()[1].decode())
        time.sleep(1.5)  # a flush or two, and into pbkdf2
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            raise lib.Failure("still running 20 s after SIGTERM (the plain run dies at once)")
        took = time.monotonic() - t0
        if p.returncode != -signal.SIGTERM:
            raise lib.Failure("expected death by SIGTERM, got %r" % p.returncode)
        n = tuples_counted(args, hops, expect_clean=False, only="target.py")
        if n != 30000:
            raise lib.Failure("expected the 30000 BUILD_TUPLE flushed before, got %d" % n)
        print("died of SIGTERM %.1f s after it; %d BUILD_TUPLE in the file" % (took, n))
        return
    plain = lib.run([args.python, script], cwd=scratch)
    if case == "no-dir":
        out = os.path.join(scratch, "no", "such", "dir", "run.hops")
        cmd = [args.heavyops, "record", "-o", out, script]
        rec = lib.run(cmd, cwd=scratch)
        same_run(plain, rec, cmd)
        if b"running the program without recording" not in rec.stderr:
            raise lib.Failure("heavyops did not say the recording failed:\n"
                              + lib.explain(rec, cmd))
        print("status %d, stdout as plain; heavyops: %s"
              % (rec.returncode, rec.stderr.decode().strip()))
        return
    if case == "nomem":
        cmd = [args.heavyops, "record", "-o", hops, script]
        rec = lib.run(cmd, cwd=scratch, env=lib.test_env(HEAVYOPS_FAULT_NOMEM_AFTER="2"))
        same_run(plain, rec, cmd)
        if b"ran out of memory" not in rec.stderr or b"marked incomplete" not in rec.stderr:
            raise lib.Failure("heavyops did not say the recording is incomplete:\n"
                              + lib.explain(rec, cmd))
        acmd = [args.analyze, "-i", "*", hops]
        cp = lib.run(acmd)
        if cp.returncode != 0 or b"the recorder ran out of memory; counts may be low" \
                not in cp.stderr or b"lost events" in cp.stderr:
            raise lib.Failure("the analyzer did not say the recorder ran out of memory:\n"
                              + lib.explain(cp, acmd))
        info = lib.analyze_json(args, hops, "info")
        f = info["files"][0]
        if not f["incomplete"] or not f["clean"] or f["incomplete_causes"] != ["out of memory"]:
            raise lib.Failure("info should say clean, and incomplete for want of memory: %r" % f)
        # work() was never set up: the file has no count of it at all
        n = tuples_counted(args, hops, expect_clean=True, only="target.py")
        if n != 0:
            raise lib.Failure("expected no counts of work(), got %d BUILD_TUPLE" % n)
        print("status %d, stdout as plain; heavyops: %s"
              % (rec.returncode, rec.stderr.decode().strip()))
        return
    if case == "full-disk":
        mnt = os.path.join(scratch, "tiny")
        os.makedirs(mnt)
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs",
                                                mnt], capture_output=True).returncode != 0:
            lib.skip("cannot mount a small tmpfs here (needs root)")
        try:
            cmd = [args.heavyops, "record", "-o", os.path.join(mnt, "run.hops"), script]
            rec = lib.run(cmd, cwd=scratch)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)
        same_run(plain, rec, cmd)
        if b"the recording is incomplete" not in rec.stderr:
            raise lib.Failure("heavyops did not say the recording is incomplete:\n"
                              + lib.explain(rec, cmd))
        print("status %d, stdout as plain; heavyops: %s"
              % (rec.returncode, rec.stderr.decode().strip()))
        return

    if case == "sigterm-in-stop":
        cmd = [args.heavyops, "record", "-v", "-o", hops, script]
        rec = lib.run(cmd, cwd=scratch,
                      env=lib.test_env(HEAVYOPS_FAULT_SIGNAL_IN_STOP=str(int(signal.SIGTERM))))
        if (plain.returncode, rec.returncode, rec.stdout) != (0, -signal.SIGTERM, plain.stdout):
            raise lib.Failure("expected status 0 plain and death by SIGTERM recorded, with the "
                              "plain run's stdout (plain %r %r):\n%s"
                              % (plain.returncode, plain.stdout, lib.explain(rec, cmd)))
        if b"heavyops: wrote " not in rec.stderr:
            raise lib.Failure("the SIGTERM's handler did not wait for the stop's report:\n"
                              + lib.explain(rec, cmd))
        n = tuples_counted(args, hops, expect_clean=True, only="target.py")
        if n != 30000:
            raise lib.Failure("%s: expected 30000 BUILD_TUPLE, the file has %d" % (case, n))
        print("died of SIGTERM after the stop; %d BUILD_TUPLE in a clean file" % n)
        return

    cmd = [args.heavyops, "record", "-o", hops, script]
    rec = lib.run(cmd, cwd=scratch)
    if rec.returncode != plain.returncode or rec.stdout != plain.stdout:
        raise lib.Failure("status/stdout differ: plain %r %r, recorded %r %r\n%s"
                          % (plain.returncode, plain.stdout, rec.returncode, rec.stdout,
                             lib.explain(rec, cmd)))
    if case in ("os-exit", "sigterm-at-exit"):
        n = tuples_counted(args, hops, expect_clean=True, only="target.py")
        if n != 30000:
            raise lib.Failure("%s: expected 30000 BUILD_TUPLE, the file has %d" % (case, n))
    elif case in ("sigterm", "sigterm-handler"):
        n = tuples_counted(args, hops, expect_clean=case != "sigterm", only="target.py")
        want = 30000 if case == "sigterm" else 30017
        if n != want:
            raise lib.Failure("%s: expected %d BUILD_TUPLE, the file has %d" % (case, want, n))
    elif case in ("sigint", "atexit-fails"):
        # object addresses ("<function bye at 0x7f...>") differ from run to run
        if re.sub(rb"0x[0-9a-f]+", b"0x?", rec.stderr) != re.sub(rb"0x[0-9a-f]+", b"0x?",
                                                                plain.stderr):
            raise lib.Failure("stderr differs from the plain run's:\n  plain:\n%s\n%s"
                              % (lib.tail(plain.stderr), lib.explain(rec, cmd)))
        want = 30000 if case == "sigint" else 30100
        n = tuples_counted(args, hops, expect_clean=True, only="target.py")
        if n != want:
            raise lib.Failure("%s: expected %d BUILD_TUPLE, the file has %d" % (case, want, n))
    else:
        tuples_counted(args, hops, expect_clean=False)
    print("status %r as plain; the recording is readable" % rec.returncode)


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("case", choices=sorted(SCRIPTS))
    lib.main(check, p.parse_args())

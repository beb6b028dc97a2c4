"""A real multi-frame, multi-thread recording cut at every byte offset.

    e2e_truncate.py --python PY --heavyops H --analyze A --scratch DIR

Each cut file must give either exactly one error line and exit status 1 with nothing on
stdout, or a report with exit status 0 whose counts are those of the complete frames before
the cut: never a crash, a hang or a wrong table. Cuts that land on a chunk boundary are the
reports; the counts they show must never go down as the cut moves on, and the whole file must
give the full recording's counts.
"""

import json
import os
import subprocess

import e2e_lib as lib

TARGET = """import threading
def work(k):
    return sum([(i, k)[0] for i in range(300)])
ts = [threading.Thread(target=work, args=(k,), name="w%d" % k) for k in range(6)]
for t in ts: t.start()
for t in ts: t.join()
print(work(99))
"""


def report(args, path):
    cmd = [args.analyze, "--by", "thread", "-i", "*", "--top", "0", "--format", "json", path]
    return cmd, subprocess.run(cmd, capture_output=True, timeout=60)


def check(args):
    scratch = lib.scratch_dir(args, "truncate")
    script = os.path.join(scratch, "threads.py")
    with open(script, "w") as f:
        f.write(TARGET)
    full = os.path.join(scratch, "full.hops")
    # only the script's own code: a file of a few KB, so that every cut can be tried
    cmd, cp = lib.record(args, [script], full, cwd=scratch, extra=["-f", "*threads.py"])
    if cp.returncode != 0:
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))
    data = open(full, "rb").read()
    cmd, whole = report(args, full)
    if whole.returncode != 0:
        raise lib.Failure("the whole file does not report:\n" + lib.explain(whole, cmd))
    want = json.loads(whole.stdout)["tracked"]
    if len(json.loads(whole.stdout)["rows"]) < 7:
        raise lib.Failure("expected 7 threads in the recording:\n" + whole.stdout.decode())

    cut_path = os.path.join(scratch, "cut.hops")
    errors = reports = 0
    last = 0
    for n in range(len(data)):
        with open(cut_path, "wb") as f:
            f.write(data[:n])
        cmd, cp = report(args, cut_path)
        err = cp.stderr.decode(errors="replace").splitlines()
        if cp.returncode == 1:
            if cp.stdout or len(err) != 1 or not err[0].startswith("heavyops-analyze: "):
                raise lib.Failure("cut at %d: an error must be one line and no output:\n%s"
                                  % (n, lib.explain(cp, cmd)))
            errors += 1
            continue
        if cp.returncode != 0:
            raise lib.Failure("cut at %d: exit status %r:\n%s" % (n, cp.returncode,
                                                                  lib.explain(cp, cmd)))
        tracked = json.loads(cp.stdout)["tracked"]
        if tracked < last or tracked > want:
            raise lib.Failure("cut at %d: %d tracked, after %d at an earlier cut (whole file %d)"
                              % (n, tracked, last, want))
        if not any("did not end cleanly" in line for line in err):
            raise lib.Failure("cut at %d: a cut file reported without the unclean warning:\n%s"
                              % (n, lib.explain(cp, cmd)))
        last = tracked
        reports += 1
    if reports == 0:
        raise lib.Failure("no cut on a chunk boundary gave a report")
    print("%d bytes: %d cuts errors, %d cuts reports (chunk boundaries); whole file %d"
          % (len(data), errors, reports, want))


if __name__ == "__main__":
    lib.main(check, lib.parser(__doc__.split("\n")[0]).parse_args())

"""The analyzer's memory follows distinct sites, not the size of the recording.

    e2e_memory.py --analyze A --gen AN_BENCH_GEN --scratch DIR

A synthetic recording with 40,000 sites and ~300 MB of decompressed frame data (an-bench-gen,
400 frames) is reported under `ulimit -v` (RLIMIT_AS) of 32 MiB: less than its decompressed
frame data and less than the file itself. The report must equal the unlimited one. Under
limits too small to work at all the analyzer must fail with one line and exit 1, never crash.
"""

import json
import os
import resource
import sys

import e2e_lib as lib

LIMIT = 32 << 20


def limited(nbytes):
    def set_limit():
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))
    return set_limit


def run_limited(cmd, nbytes):
    import subprocess

    return subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=300,
                          preexec_fn=limited(nbytes), env=lib.test_env())


def main(args):
    if os.environ.get("HEAVYOPS_SANITIZED"):
        lib.skip("sanitizer builds reserve terabytes of address space: RLIMIT_AS cannot apply")
    d = lib.scratch_dir(args, "memory")
    big = os.path.join(d, "big.hops")
    cp = lib.run([args.gen, big, "400"])
    if cp.returncode != 0:
        raise lib.Failure("an-bench-gen failed:\n" + lib.explain(cp, [args.gen, big, "400"]))
    info_cmd = [args.analyze, "info", "--format", "json", big]
    info = lib.run(info_cmd)
    if info.returncode != 0:
        raise lib.Failure("info failed:\n" + lib.explain(info, info_cmd))
    doc = json.loads(info.stdout)
    f = doc["files"][0] if "files" in doc else doc[0]
    frame_bytes = f["frame_bytes"]
    if not (LIMIT < frame_bytes and LIMIT < os.path.getsize(big)):
        raise lib.Failure("the test recording is too small for the limit: %d bytes of frame data, "
                          "%d bytes of file, limit %d" % (frame_bytes, os.path.getsize(big), LIMIT))
    for view in (["--top", "5"], ["--by", "site", "-i", "*", "--top", "0", "--format", "csv"]):
        cmd = [args.analyze] + view + [big]
        free = lib.run(cmd)
        if free.returncode != 0:
            raise lib.Failure("the unlimited run failed:\n" + lib.explain(free, cmd))
        cp = run_limited(cmd, LIMIT)
        if cp.returncode != 0 or cp.stdout != free.stdout:
            raise lib.Failure("under a %d MiB address-space limit the report differs or fails:\n%s"
                              % (LIMIT >> 20, lib.explain(cp, cmd)))
    # Far too little memory: a clean error, never a crash or a partial table.
    cmd = [args.analyze, "--top", "5", big]
    for nbytes in (8 << 20, 12 << 20, 16 << 20):
        cp = run_limited(cmd, nbytes)
        if cp.returncode < 0:
            raise lib.Failure("killed by signal %d under a %d MiB limit:\n%s"
                              % (-cp.returncode, nbytes >> 20, lib.explain(cp, cmd)))
        if cp.returncode == 127:
            continue  # the dynamic loader itself could not map libc: not ours to handle
        if cp.returncode != 0:
            lines = cp.stderr.decode(errors="replace").splitlines()
            if cp.returncode != 1 or cp.stdout or len(lines) != 1:
                raise lib.Failure("expected one error line and exit 1 under a %d MiB limit:\n%s"
                                  % (nbytes >> 20, lib.explain(cp, cmd)))


if __name__ == "__main__":
    p = lib.parser(__doc__)
    p.add_argument("--gen", required=True)
    a = p.parse_args()
    a.gen = os.path.abspath(a.gen)
    lib.main(main, a)

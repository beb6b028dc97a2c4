"""heavyops-analyze on input that is not a good recording.

    e2e_bad_input.py --analyze A [--heavyops H] KIND

KIND: empty, truncated (a real recording cut in half), corrupt (bytes flipped in the middle
of a real recording), text, png, elf (the analyzer's own binary), directory, missing.
Every command (the report, --by site --format json, info, and diff against a good or the same
file) must exit 1 with exactly one line on stderr, starting with "heavyops-analyze: " and
naming the file, and nothing on stdout: never a crash, a hang or a garbage table.
The kinds that need a real recording skip without --heavyops (builds without the recorder).
"""

import os
import struct
import zlib

import e2e_lib as lib

NEEDS_RECORDING = ("truncated", "corrupt")


def png_bytes():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\0" + bytes([x * 8, 255 - x * 8, 128]) * 32 for x in range(32))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_input(args, kind, scratch):
    """The bad file and, where there is one, a good recording for diff."""
    good = None
    if kind in NEEDS_RECORDING:
        good = os.path.join(scratch, "good.hops")
        cmd, cp = lib.record(args, [os.path.join(lib.REPO, "examples", "closure.py")], good,
                             cwd=scratch)
        if cp.returncode != 0 or not os.path.exists(good):
            raise lib.Failure("cannot make a recording to damage:\n" + lib.explain(cp, cmd))
        data = open(good, "rb").read()
        lib.analyze_json(args, good)  # the undamaged file must be fine
    path = os.path.join(scratch, "bad-%s.hops" % kind)
    if kind == "empty":
        content = b""
    elif kind == "truncated":
        content = data[: len(data) // 2]
    elif kind == "corrupt":
        mid = len(data) // 2
        content = data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 16]) + data[mid + 16:]
    elif kind == "text":
        content = b"".join(b"line %d of a plain text file, not a recording\n" % i
                           for i in range(200))
    elif kind == "png":
        content = png_bytes()
    elif kind == "elf":
        content = open(args.analyze, "rb").read()
    elif kind == "directory":
        os.makedirs(path)
        content = None
    elif kind == "missing":
        content = None
    if content is not None:
        with open(path, "wb") as f:
            f.write(content)
    return path, good


def check(args):
    if args.kind in NEEDS_RECORDING and not args.heavyops:
        lib.skip("%s input needs a recording, and this build has no recorder" % args.kind)
    scratch = lib.scratch_dir(args, "bad-input-" + args.kind)
    bad, good = make_input(args, args.kind, scratch)
    commands = [
        [args.analyze, bad],
        [args.analyze, "--by", "site", "-i", "*", "--top", "0", "--format", "json", bad],
        [args.analyze, "info", bad],
        [args.analyze, "diff", good or bad, bad],
    ]
    if good:
        commands.append([args.analyze, "--format", "csv", good, bad])
    problems = []
    for cmd in commands:
        cp = lib.run(cmd, cwd=scratch, timeout=60)
        lines = cp.stderr.decode(errors="replace").splitlines()
        ok = (cp.returncode == 1 and not cp.stdout and len(lines) == 1
              and lines[0].startswith("heavyops-analyze: ") and bad in lines[0])
        if not ok:
            problems.append("expected exit status 1, nothing on stdout and one line "
                            "'heavyops-analyze: %s: reason' on stderr:\n%s"
                            % (bad, lib.explain(cp, cmd)))
        else:
            print("%s -> %s" % (lib.show(cmd[1:-1] + ["FILE"]), lines[0]))
    if problems:
        raise lib.Failure("\n".join(problems))


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("kind", choices=["empty", "truncated", "corrupt", "text", "png", "elf",
                                    "directory", "missing"])
    lib.main(check, p.parse_args())

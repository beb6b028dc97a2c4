"""Golden test of the closure example's default report.

    e2e_golden.py --python PY --heavyops H --analyze A [--regen]

Records examples/closure.py from the repository root (relative path, so no pid or clone
location gets in), prints `heavyops-analyze FILE`, and compares the text exactly with
tests/e2e/golden/closure-<X.Y>.report, or closure-<X.Y.Z>.report where one exists (the
bytecode, hence the counts, differ between versions; the test skips for a version without a
golden file). The exactness tests record the same file (meson.build adds it to the
workloads). With --regen it rewrites that file instead: review the diff
before committing it. From meson: meson test -C BUILD e2e-golden-closure --test-args=--regen

Should the recorder store the script's absolute path (as `python script.py` does for
__file__), the repository root is cut from the report, and the standard library's directory
becomes "<stdlib>", with the table's rule line fitted to the new widths, so that the golden
text is the same in every clone and for every build of one CPython version.
"""

import difflib
import os
import re

import e2e_lib as lib

GOLDEN_DIR = os.path.join(lib.HERE, "golden")
RULE = re.compile(r"^-+(\+-+)*$")


LOCATION = re.compile(r"^(.*):(\d+|\?):(\d+|\?) (\S+) (\S+)$")


def _tie_key(row):
    """The analyzer's tie order (file, line, column, function, instruction; numbers as
    numbers) for a row whose paths were cut: it sorted them before the cut, with the
    clone's and the interpreter's real paths, whose order differs from one clone to another."""
    cell = row.split(" | ", 1)[1] if " | " in row else row
    m = LOCATION.match(cell)
    if not m:
        return (cell,)
    num = lambda v: -1 if v == "?" else int(v)
    return (m.group(1), num(m.group(2)), num(m.group(3)), m.group(4), m.group(5))


def _resort_ties(lines):
    """Rows of equal count, in the tie order of their cut text."""
    out, i = [], 0
    while i < len(lines):
        count = lines[i].split(" | ", 1)[0] if " | " in lines[i] else None
        j = i + 1
        if count is not None and not RULE.match(lines[i]):
            while (j < len(lines) and " | " in lines[j] and not RULE.match(lines[j])
                   and lines[j].split(" | ", 1)[0] == count):
                j += 1
            out.extend(sorted(lines[i:j], key=_tie_key))
        else:
            out.extend(lines[i:j])
        i = j
    return out


def normalize(text, replacements):
    """TEXT with each (prefix, replacement) applied and the rule lines fitted again."""
    replacements = [(p.rstrip("/") + "/", r) for p, r in replacements if p]
    if not any(p in text for p, _ in replacements):
        return text
    lines = text.split("\n")
    for p, r in replacements:
        lines = [line.replace(p, r) for line in lines]
    lines = _resort_ties(lines)
    # Column widths follow the longest cell: recompute the last column's rule after the cut.
    for i, line in enumerate(lines):
        if RULE.match(line) and i > 0:
            head = lines[i - 1]
            cut = head.rfind(" | ")
            if cut < 0:
                continue
            width = len(head) - cut - 3
            for row in lines[i + 1:]:
                if not row:
                    break
                j = row.rfind(" | ") if " | " in row else -1
                if j >= 0:
                    width = max(width, len(row) - j - 3)
            segs = line.split("+")
            lines[i] = "+".join(segs[:-1] + ["-" * (width + 1)])
    return "\n".join(lines)


def check(args):
    # closure-X.Y.Z.report if there is one (a patch release whose report differs), else
    # closure-X.Y.report: the bytecode, hence the counts, differ between minor versions.
    full = lib.run([args.python, "-c", "import platform; print(platform.python_version())"])
    full = full.stdout.decode().strip()
    golden = os.path.join(GOLDEN_DIR, "closure-%s.report" % full)
    if not os.path.exists(golden):
        golden = os.path.join(GOLDEN_DIR, "closure-%s.report" % lib.interpreter_tag(args.python))
    scratch = lib.scratch_dir(args, "golden-closure")
    hops = os.path.join(scratch, "closure.hops")
    cmd, cp = lib.record(args, ["examples/closure.py"], hops, cwd=lib.REPO)
    if cp.returncode != 0 or cp.stdout != b"49\n":
        raise lib.Failure("recording the example failed:\n" + lib.explain(cp, cmd))
    cmd = [args.analyze, hops]
    cp = lib.run(cmd, cwd=lib.REPO)
    if cp.returncode != 0 or cp.stderr:
        raise lib.Failure("the report failed:\n" + lib.explain(cp, cmd))
    stdlib = lib.run([args.python, "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"])
    text = normalize(cp.stdout.decode(),
                     [(lib.REPO, ""), (os.path.realpath(stdlib.stdout.decode().strip()), "<stdlib>/")])
    if args.regen:
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        with open(golden, "w") as f:
            f.write(text)
        print("wrote %s; review it:\n%s" % (os.path.relpath(golden, lib.REPO), text))
        return
    if not os.path.exists(golden):
        lib.skip("no %s for this interpreter: create it with --regen and review it\n%s"
                 % (os.path.relpath(golden, lib.REPO), text))
    want = open(golden).read()
    if text != want:
        diff = difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                    os.path.relpath(golden, lib.REPO), "report")
        raise lib.Failure("the report differs from the golden text:\n" + "".join(diff))
    print(text)


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("--regen", action="store_true", help="rewrite the golden file")
    lib.main(check, p.parse_args())

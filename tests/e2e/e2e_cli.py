"""`heavyops record` command-line behaviour.

    e2e_cli.py --heavyops H --analyze A CASE

CASE is one of:
  missing-script  a script that does not exist: non-zero exit, exactly one line on stderr,
                  nothing on stdout, no recording left behind
  unknown-op      -i with a name the interpreter does not have: exit 2, the closest valid
                  names suggested on stderr, the target not run, no recording
  no-overwrite    an existing -o file is kept (non-zero exit, target not run) unless --force
  default-name    without -o: heavyops-<script stem>.<pid>.hops / heavyops-<module>.<pid>.hops
                  in the current directory, a new one per run (a directory "app/": heavyops-app),
                  named on stderr at exit
  odd-names       code whose file name, qualname or thread name Python cannot encode as UTF-8
                  (lone surrogates, as from undecodable path bytes): counted, written as \\xNN,
                  and no warning (it used to be left uncounted, as if memory had run out)
  comma-list      -i A,B in record and in heavyops-analyze is -i A -i B; an empty name in
                  the list is a usage error (exit 2) in both; a name that matches nothing in
                  the recording gets the analyzer's warning, with the name meant
  main-thread     a program that never imports threading: the recorder does not import it
                  either (3.11's neither, whose hook for threads started later goes in as the
                  first one starts), sys.modules has it as in the plain run; its thread is
                  "MainThread" in --by thread, and --thread MainThread selects it, without a
                  warning
  pipe-script     a script read from a pipe (/dev/stdin, /dev/fd/N as a shell's <(...) gives):
                  the same sys.path[0] (/proc/self/fd, /dev/fd), argv and output as python's,
                  and a recording
"""

import glob
import os
import re

import e2e_lib as lib

TARGET = os.path.join(lib.WORKLOADS, "argv.py")


def hops_files(d):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.hops")))


def missing_script(args, scratch):
    problems = []
    for extra in ([], ["-o", "out.hops"]):
        cmd = [args.heavyops, "record"] + extra + ["no-such-script.py"]
        cp = lib.run(cmd, cwd=scratch)
        lines = cp.stderr.decode(errors="replace").splitlines()
        if cp.returncode == 0 or len(lines) != 1 or not lines[0].strip() or cp.stdout:
            problems.append("expected a non-zero exit, one line on stderr, empty stdout:\n"
                            + lib.explain(cp, cmd))
        elif "no-such-script.py" not in lines[0]:
            problems.append("the message does not name the script: %r" % lines[0])
        if hops_files(scratch):
            problems.append("a recording was left behind: %s" % hops_files(scratch))
    return problems


# Scripts python cannot compile: the recorder must say exactly what python says (no frame of
# its own in a traceback), with python's exit status, and leave no recording.  (3.11.0 to
# 3.11.3 read a line's text only up to a NUL byte, and run nul.py and nul-first.py: so must
# the recorder.)
BAD_SOURCES = {"unclosed.py": b"x = (\n", "indent.py": b"def f():\nreturn 1\n",
               "latin1.py": b"# -*- coding: latin-1 -*-\ns = '\xe9'\nprint(s + (\n",
               # what python's file reader says, not its string compiler
               "nul.py": b"x = 1\nprint(1)\0 + 2\n", "nul-first.py": b"\0\n",
               "not-utf8.py": b"# a comment\nx = 1\ns = 'a\xe9b'\n",
               "cut-utf8.py": b"s = '\xc3'\n", "bad-then-nul.py": b"s = '\xff\0'\n",
               "nul-then-bad.py": b"s = '\0\xff'\n",
               "cookie-line-2.py": b"#!/usr/bin/env python\n# coding: latin-1\nprint('\xe9' + (\n"}


def syntax_error(args, scratch):
    problems = []
    for name, source in sorted(BAD_SOURCES.items()):
        with open(os.path.join(scratch, name), "wb") as f:
            f.write(source)
        plain = lib.run([args.python, name], cwd=scratch)
        cmd = [args.heavyops, "record", "-o", "out.hops", name]
        rec = lib.run(cmd, cwd=scratch)
        if (rec.returncode, rec.stdout, rec.stderr) != (plain.returncode, plain.stdout,
                                                        plain.stderr):
            problems.append("%s: the recorder's output differs from python's:\n  python: %d %r\n"
                            "  recorder: %s" % (name, plain.returncode, plain.stderr,
                                                lib.explain(rec, cmd)))
        if plain.returncode == 0:  # 3.11.0-3.11.3 run a NUL byte's line up to it
            if not hops_files(scratch):
                problems.append("%s: python ran it, but no recording was made" % name)
            for f in hops_files(scratch):
                os.unlink(os.path.join(scratch, f))
        elif hops_files(scratch):
            problems.append("%s: a recording was left behind: %s" % (name, hops_files(scratch)))
    return problems


def unknown_op(args, scratch):
    problems = []
    for bad, hint in (("LOAD_DEREFF", "LOAD_DEREF"), ("BUILD_TUPEL", "BUILD_TUPLE"),
                      ("NOSUCHOP", None)):
        cmd = [args.heavyops, "record", "-o", "out.hops", "-i", "MAKE_FUNCTION", "-i", bad,
               TARGET]
        cp = lib.run(cmd, cwd=scratch)
        err = cp.stderr.decode(errors="replace")
        if cp.returncode != 2:
            problems.append("-i %s: expected exit status 2:\n%s" % (bad, lib.explain(cp, cmd)))
        elif bad not in err or (hint and hint not in err):
            problems.append("-i %s: stderr should name it%s:\n%s"
                            % (bad, " and suggest " + hint if hint else "", lib.explain(cp, cmd)))
        if cp.stdout:
            problems.append("-i %s: the target ran anyway:\n%s" % (bad, lib.explain(cp, cmd)))
        if hops_files(scratch):
            problems.append("-i %s: a recording was left behind: %s" % (bad, hops_files(scratch)))
    return problems


def no_overwrite(args, scratch):
    problems = []
    out = os.path.join(scratch, "precious.hops")
    with open(out, "wb") as f:
        f.write(b"not a recording, and not to be overwritten\n")
    before = open(out, "rb").read()
    cmd = [args.heavyops, "record", "-o", out, TARGET]
    cp = lib.run(cmd, cwd=scratch)
    if cp.returncode == 0 or open(out, "rb").read() != before:
        problems.append("an existing -o file was overwritten without --force:\n"
                        + lib.explain(cp, cmd))
    elif cp.stdout:
        problems.append("refused to overwrite, but only after running the target:\n"
                        + lib.explain(cp, cmd))
    elif not cp.stderr.strip() or "precious.hops" not in cp.stderr.decode(errors="replace"):
        problems.append("the refusal should name the file:\n" + lib.explain(cp, cmd))
    cmd = [args.heavyops, "record", "--force", "-o", out, TARGET]
    cp = lib.run(cmd, cwd=scratch)
    if cp.returncode != 0:
        problems.append("--force did not record:\n" + lib.explain(cp, cmd))
    elif open(out, "rb").read() == before:
        problems.append("--force left the old file in place")
    else:
        lib.analyze_json(args, out)
    return problems


def default_name(args, scratch):
    problems = []
    seen = set()
    os.makedirs(os.path.join(scratch, "app"))
    lib.write_prog(os.path.join(scratch, "app"), "x = (1, [2])\n", "__main__.py")
    for target, stem in (([TARGET], "argv"), ([TARGET], "argv"), (["-m", "argv"], "argv"),
                         (["app/"], "app")):
        before = set(hops_files(scratch))
        cmd = [args.heavyops, "record"] + target
        cp = lib.run(cmd, cwd=scratch, env=lib.test_env(PYTHONPATH=lib.WORKLOADS))
        new = sorted(set(hops_files(scratch)) - before)
        if cp.returncode != 0 or len(new) != 1:
            problems.append("expected one new recording in the current directory, got %s:\n%s"
                            % (new, lib.explain(cp, cmd)))
            continue
        if not re.fullmatch(r"heavyops-%s\.[0-9]+\.hops" % stem, new[0]):
            problems.append("%s: the default file name is %s, not heavyops-%s.<pid>.hops"
                            % (lib.show(cmd), new[0], stem))
        # after the program's own stderr, one line names the file
        said = "heavyops: wrote %s (%s bytes)\n" % (
            new[0], format(os.path.getsize(os.path.join(scratch, new[0])), ","))
        err = cp.stderr.decode()
        if not err.endswith(said) or err.count("heavyops:") != 1:
            problems.append("%s: expected stderr to end with %r, got %r" % (lib.show(cmd), said,
                                                                          err))
        lib.analyze_json(args, os.path.join(scratch, new[0]))
        seen.add(new[0])
    print("default names:", ", ".join(sorted(seen)))
    return problems


def odd_argv(args, scratch):
    """Arguments that are not UTF-8 (any bytes are allowed in argv) reach the program as
    python gives them, and info shows them escaped."""
    problems = []
    script = os.path.join(scratch, "show.py")
    with open(script, "w") as f:
        f.write("import sys\nprint(ascii(sys.argv[1:]))\n")
    odd = [os.fsdecode(b"\xff\xfe"), "caf\u00e9", ""]
    plain = lib.run([args.python, script] + odd, cwd=scratch)
    out = os.path.join(scratch, "odd.hops")
    cmd, cp = lib.record(args, [script] + odd, out, cwd=scratch)
    if (cp.returncode, cp.stdout, cp.stderr) != (plain.returncode, plain.stdout, plain.stderr):
        problems.append("the recorded run differs from the plain one:\n" + lib.explain(cp, cmd))
        return problems
    argv = lib.analyze_json(args, out, "info")["files"][0]["argv"]
    want = [script, "\\xff\\xfe", "caf\u00e9", ""]
    if argv != want:
        problems.append("info's argv is %r, expected %r" % (argv, want))
    return problems


COMMA_PROG = "def f(i):\n    return [(i, i)]\nfor i in range(5):\n    f(i)\n"


def comma_list(args, scratch):
    problems = []
    prog = lib.write_prog(scratch, COMMA_PROG)
    out = os.path.join(scratch, "comma.hops")
    cmd = [args.heavyops, "record", "--force", "-o", out, "-i", "BUILD_TUPLE,BUILD_LIST", prog]
    cp = lib.run(cmd, cwd=scratch)
    if cp.returncode != 0:
        return ["record -i BUILD_TUPLE,BUILD_LIST failed:\n" + lib.explain(cp, cmd)]
    tracked = lib.analyze_json(args, out, "info")["files"][0]["tracked"]
    if sorted(tracked) != ["BUILD_LIST", "BUILD_TUPLE"]:
        problems.append("record -i BUILD_TUPLE,BUILD_LIST recorded %r" % (tracked,))
    acmd = [args.analyze, "-f", "prog.py", "-i", "build_tuple,BUILD_LIST,MAKE_*", "--by",
            "instruction", "--format", "csv", out]
    cp = lib.run(acmd)
    rows = sorted(line.split(",")[-1] + "=" + line.split(",")[0]
                  for line in cp.stdout.decode().splitlines()[1:])
    if cp.returncode != 0 or rows != ["BUILD_LIST=5", "BUILD_TUPLE=5"]:
        problems.append("analyzer -i build_tuple,BUILD_LIST,MAKE_*: expected BUILD_LIST and "
                        "BUILD_TUPLE 5 times each, got %r:\n%s" % (rows, lib.explain(cp, acmd)))
    for bad in ("BUILD_TUPLE,", ",BUILD_LIST", "BUILD_TUPLE,,BUILD_LIST", "MAKE_FUNCTION,BUILD_TUPEL"):
        for cmd in ([args.heavyops, "record", "--force", "-o", out, "-i", bad, prog],
                    [args.analyze, "-i", bad, out]):
            cp = lib.run(cmd, cwd=scratch)
            if "BUILD_TUPEL" in bad and cmd[0] == args.analyze:
                # a name that matches nothing is not an error in a report: a warning
                want = ("heavyops-analyze: warning: -i 'MAKE_FUNCTION' matches no instruction "
                        "in the recording; %s counted only BUILD_TUPLE, BUILD_LIST (record -i)\n"
                        "heavyops-analyze: warning: -i 'BUILD_TUPEL' matches no instruction in "
                        "the recording; did you mean BUILD_TUPLE?\n" % out)
                if cp.returncode != 0 or cp.stderr.decode(errors="replace") != want:
                    problems.append("-i %s: expected status 0 and the warnings %r:\n%s"
                                    % (bad, want, lib.explain(cp, cmd)))
                continue
            lines = cp.stderr.decode(errors="replace").splitlines()
            named = "BUILD_TUPEL" if "BUILD_TUPEL" in bad else bad  # the unknown one
            if cp.returncode != 2 or not lines or named not in lines[0] or cp.stdout:
                problems.append("-i %s: expected exit status 2, an error naming it (then the "
                                "usage), no output:\n%s"
                                % (bad, lib.explain(cp, cmd)))
    return problems


ODD_PROG = r'''import threading
code = compile("def f():\n    return (1, [2])\nf()\n", "bad\udcffname.py", "exec")
exec(code)
def g():
    return [3]
g.__code__ = g.__code__.replace(co_qualname="q\udcffx", co_name="q\udcffx")
g()
t = threading.Thread(target=g, name="th\udcffread")
t.start()
t.join()
print("ran")
'''


def odd_names(args, scratch):
    prog = os.path.join(scratch, "odd.py")
    with open(prog, "w") as f:
        f.write(ODD_PROG)
    out = os.path.join(scratch, "odd.hops")
    cmd, cp = lib.record(args, [prog], out, cwd=scratch)
    if cp.returncode != 0 or cp.stdout != b"ran\n" or cp.stderr:
        return ["expected 'ran', status 0 and nothing on stderr:\n" + lib.explain(cp, cmd)]
    rows = lib.analyze_json(args, out, "-i", "BUILD_*", "--by", "function", "--top", "0")["rows"]
    got = sorted((r["file"], r["function"], r["count"]) for r in rows
                 if r["function"] in ("f", "q\\xffx"))
    want = sorted([("bad\\xffname.py", "f", 2), (prog, "q\\xffx", 2)])
    problems = []
    if got != want:
        problems.append("expected %r, got %r" % (want, got))
    names = [t.get("name") for t in lib.analyze_json(args, out, "info")["files"][0]["threads"]]
    if "th\\xffread" not in names:
        problems.append("thread names: %r" % (names,))
    return problems


MAIN_PROG = """import sys
def f(n):
    return [(i,) for i in range(n)]
f(7)
print("threading" in sys.modules)
"""


def main_thread(args, scratch):
    prog = lib.write_prog(scratch, MAIN_PROG)
    out = os.path.join(scratch, "main.hops")
    cmd, cp = lib.record(args, [prog], out, cwd=scratch)
    plain = lib.run([args.python, prog], cwd=scratch)  # True where site imports threading
    if cp.returncode != 0 or cp.stdout != plain.stdout:
        return ["expected threading in sys.modules as in the plain run (%r):\n%s"
                % (plain.stdout, lib.explain(cp, cmd))]
    rows = lib.analyze_json(args, out, "--by", "thread", "-i", "*", "--top", "0")["rows"]
    if [r["thread_name"] for r in rows] != ["MainThread"]:
        return ["expected one thread named MainThread, got %r" % (rows,)]
    acmd = [args.analyze, "--thread", "MainThread", "-i", "BUILD_TUPLE", "-f", "prog.py",
            "--by", "instruction", "--format", "csv", out]
    cp = lib.run(acmd)
    if cp.returncode != 0 or cp.stderr or cp.stdout.decode().splitlines()[1:] != ["7,BUILD_TUPLE"]:
        return ["--thread MainThread: expected 7 BUILD_TUPLE and no warning:\n"
                + lib.explain(cp, acmd)]
    return []


def pipe_script(args, scratch):
    """A script python reads from a pipe: python takes sys.path[0] from the path as given
    (a readlink, then the real path only if every part resolves), which a pipe's does not."""
    import subprocess

    with open(TARGET, "rb") as f:
        source = f.read()
    problems = []
    for how in ("stdin", "fd"):
        runs = []
        for kind in ("plain", "recorded"):
            out = os.path.join(scratch, "pipe-%s.hops" % how)
            r, w = os.pipe()
            path = "/dev/stdin" if how == "stdin" else "/dev/fd/%d" % r
            cmd = ([args.python] if kind == "plain"
                   else [args.heavyops, "record", "-o", out, "--force"]) + [path, "a b", "c"]
            os.write(w, source)
            os.close(w)
            try:
                cp = subprocess.run(cmd, cwd=scratch, env=lib.test_env(), capture_output=True,
                                    timeout=300, stdin=r if how == "stdin" else subprocess.DEVNULL,
                                    pass_fds=() if how == "stdin" else (r,))
            finally:
                os.close(r)
            runs.append((cmd, cp))
        (pcmd, plain), (rcmd, rec) = runs
        if b"path0 /" not in plain.stdout:
            problems.append("the plain run printed no sys.path[0]:\n" + lib.explain(plain, pcmd))
        elif (rec.returncode, rec.stdout, rec.stderr) != (plain.returncode, plain.stdout,
                                                          plain.stderr):
            problems.append("from %s, the recorded run differs from the plain one:\n  plain:\n%s"
                            "\n  recorded:\n%s" % (path, lib.explain(plain, pcmd),
                                                    lib.explain(rec, rcmd)))
        elif not lib.analyze_json(args, out, "-i", "*").get("tracked"):
            problems.append("the recording from %s counted nothing" % path)
    return problems


CASES = {"pipe-script": pipe_script, "main-thread": main_thread, "odd-names": odd_names, "comma-list": comma_list, "missing-script": missing_script,
         "syntax-error": syntax_error, "unknown-op": unknown_op,
         "no-overwrite": no_overwrite, "default-name": default_name, "odd-argv": odd_argv}


if __name__ == "__main__":
    lib.case_main(__doc__, CASES, "cli-")

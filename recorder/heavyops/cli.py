"""The `heavyops` command line: `heavyops record [options] (script.py | dir | app.pyz | -m module) [args...]`.

One option table drives both parsing and --help.  Parsing stops at the
target: everything after the script (or -m module) belongs to it.
"""
import os
import sys

import heavyops

USAGE = ("usage: heavyops record [-o FILE] [--force] [-i OPNAME]... [-f GLOB]... [--follow-fork]\n"
         "                       (script.py | dir | app.pyz | -m module) [args...]")

# (short, long, metavar or None, dest, repeatable, help)
RECORD_OPTIONS = [
    ("-o", "--output", "FILE", "output", False,
     "write the recording to FILE (default: heavyops-<script or module>.<pid>.hops, "
     "named on stderr at exit)"),
    (None, "--force", None, "force", False, "overwrite FILE if it exists"),
    ("-i", "--instruction", "OPNAME", "instructions", True,
     "record only this instruction (repeatable, or a comma list; globs such as "
     "'BUILD_*' allowed); "
     "default: every instruction, exactly"),
    ("-f", "--file", "GLOB", "files", True,
     "record only code in files matching GLOB (full path, or basename for a "
     "pattern without '/'; repeatable)"),
    (None, "--follow-fork", None, "follow_fork", False,
     "also record child processes (os.fork; multiprocessing's fork, spawn and "
     "forkserver start methods), each into FILE.<pid>"),
    ("-m", None, "MODULE", "module", False, "run library module MODULE as a script (ends options)"),
    ("-v", "--verbose", None, "verbose", False,
     "say where the recording went (always said without -o)"),
    ("-h", "--help", None, "help", False, "show this help and exit"),
]

DEFAULT_REPORT = "MAKE_FUNCTION BUILD_TUPLE BUILD_LIST BUILD_SET BUILD_MAP LOAD_DEREF"


class UsageError(Exception):
    pass


def help_text():
    lines = [USAGE, "",
             "Run a Python program under the heavyops recorder and write a .hops file that",
             "heavyops-analyze reports on. The program runs as `python script.py args` would",
             "(a directory or zip file with a __main__.py too).",
             "", "options:"]
    for short, long, metavar, _dest, _rep, text in RECORD_OPTIONS:
        names = ", ".join(n for n in (short, long) if n)
        if metavar:
            names += " " + metavar
        lines.append(f"  {names:<22} {text}")
    lines += ["", "Then: heavyops-analyze FILE  (see heavyops-analyze --help)"]
    return "\n".join(lines) + "\n"


def top_help():
    return ("usage: heavyops <command> [options]\n\n"
            "commands:\n"
            "  record     run a Python program and count its bytecode instructions\n\n"
            "  heavyops record --help    options of record\n"
            "  heavyops --version        print the version\n\n"
            "Reports: heavyops-analyze FILE.hops\n")


def parse_record(argv):
    """Parses record's arguments; returns a dict of options plus target/args."""
    opts = {"output": None, "force": False, "instructions": [], "files": [], "module": None,
            "follow_fork": False,
            "verbose": False, "help": False, "script": None, "args": []}
    by_name = {}
    for short, long, metavar, dest, rep, _ in RECORD_OPTIONS:
        for n in (short, long):
            if n:
                by_name[n] = (metavar, dest, rep)
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("-") or a == "-":
            break
        name, eq, inline = a.partition("=") if a.startswith("--") else (a[:2], "", a[2:])
        if name not in by_name:
            raise UsageError(f"unknown option '{a}'")
        metavar, dest, rep = by_name[name]
        if metavar is None:
            if eq or (inline and not a.startswith("--")):
                raise UsageError(f"option '{name}' takes no value")
            opts[dest] = True
            i += 1
            if dest == "help":
                return opts
            continue
        if eq or inline:
            value = inline
        else:
            if i + 1 >= len(argv):
                raise UsageError(f"option '{name}' needs a value ({metavar})")
            value = argv[i + 1]
            i += 1
        i += 1
        if dest == "instructions":  # no opname has a comma: -i A,B as perf's -e a,b
            names = value.split(",")
            if "" in names:
                raise UsageError(f"empty instruction name in '-i {value}'")
            opts[dest].extend(names)
        elif rep:
            opts[dest].append(value)
        else:
            opts[dest] = value
        if dest == "module":
            opts["args"] = argv[i:]
            return opts
    if i >= len(argv):
        raise UsageError("no script or -m module to run")
    opts["script"] = argv[i]
    opts["args"] = argv[i + 1:]
    return opts


def valid_opnames():
    """Instruction names the running interpreter's compiler emits."""
    import opcode  # not dis, nor fnmatch or difflib below: the launcher's start-up is overhead

    return sorted(name for name, op in opcode.opmap.items()
                  if op < 256 and not name.startswith(("INSTRUMENTED_", "<")) and name != "CACHE")


def resolve_instructions(patterns):
    """Opcode numbers for names or globs; UsageError naming the closest names."""
    import opcode

    names = valid_opnames()
    chosen = set()
    for p in patterns:
        if any(c in p for c in "*?["):
            import fnmatch

            hits = [n for n in names if fnmatch.fnmatchcase(n, p.upper())]
        else:
            hits = [p.upper()] if p.upper() in names else []
        if not hits:
            import difflib

            close = difflib.get_close_matches(p.upper(), names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"unknown instruction '{p}' for Python "
                             f"{sys.version_info.major}.{sys.version_info.minor}{hint}")
        chosen.update(opcode.opmap[n] for n in hits)
    return sorted(chosen)


def default_output(opts):
    # a directory given as "app/" is named app
    script = os.path.basename(opts["script"].rstrip(os.sep)) if opts["script"] else None
    stem = opts["module"] or os.path.splitext(script)[0] or "script"
    return f"heavyops-{stem}.{os.getpid()}.hops"


def record(argv):
    from heavyops import runtarget

    try:
        opts = parse_record(argv)
        if opts["help"]:
            sys.stdout.write(help_text())
            return 0
        tracked = resolve_instructions(opts["instructions"]) if opts["instructions"] else None
    except UsageError as e:
        sys.stderr.write(f"heavyops: {e}\n{USAGE}\n")
        return 2
    out = opts["output"] or default_output(opts)
    if not opts["force"] and os.path.exists(out):
        sys.stderr.write(f"heavyops: {out}: file exists (use --force to overwrite)\n")
        return 1
    try:
        if opts["module"] is not None:
            prepared = runtarget.prepare_module(opts["module"])
        else:
            prepared = runtarget.prepare_script(opts["script"])
    except runtarget.TargetError as e:
        sys.stderr.write(f"heavyops: {e}\n")
        return e.code
    except (SyntaxError, ValueError) as e:
        # as python reports it: without frames (the exception has this one's by now)
        sys.excepthook(type(e), e.with_traceback(None), None)
        return 1
    try:
        return runtarget.run(prepared, opts["args"], out, tracked=tracked,
                             patterns=[p.upper() for p in opts["instructions"]],
                             file_globs=opts["files"], force=opts["force"],
                             # a name the user did not choose is said, as perf and memray do
                             verbose=opts["verbose"] or opts["output"] is None,
                             follow_fork=opts["follow_fork"],
                             target=(["-m", opts["module"]] if opts["module"] is not None
                                     else [opts["script"]]))
    except OSError as e:  # from starting the recorder: the target's own are handled in run()
        sys.stderr.write(f"heavyops: {e}\n")
        return 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        (sys.stdout if argv else sys.stderr).write(top_help())
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"heavyops {heavyops.__version__}")
        return 0
    if argv[0] != "record":
        sys.stderr.write(f"heavyops: unknown command '{argv[0]}'\n{top_help()}")
        return 2
    return record(argv[1:])

"""heavyops' ground truth: count every executed instruction with a plain Python callback.

Usage:
    python3 oracle.py OUT.json script.py [args...]
    python3 oracle.py OUT.json -m module [args...]

Runs the target as `python script.py args` would (sys.argv, sys.path[0], __name__ ==
"__main__", exit status) and, whatever the target does (returns, raises, calls sys.exit;
only os._exit() and fatal signals escape), writes OUT.json:

    {"python": "3.12.1", "mechanism": "...", "total": N,
     "sites": [[file, qualname, firstlineno, offset, opname, line, count], ...]}

one row per (code object, offset) that executed, with opname from the running interpreter's
`dis` (the unspecialized name) and line from `co_positions()`; total is the sum of counts.

The events are CPython's own, with nothing derived:
  - 3.12+: sys.monitoring INSTRUCTION events under a free tool id, in every thread.  RESUME,
    END_FOR and the prologue (MAKE_CELL, COPY_FREE_VARS, RETURN_GENERATOR) never fire them;
    EXTENDED_ARG fires its own event.
  - 3.11: sys.settrace/threading.settrace with f_trace_opcodes.  Instructions before RESUME
    are not traced, and an EXTENDED_ARG's event stands for the instruction it prefixes (the
    prefixed instruction fires none): consumers map it, this file reports it as it came.

Counting happens from the target's first instruction until its non-daemon threads are joined
and its atexit handlers have run, so the target's files are counted completely; the totals
also include library code (importlib, threading, ...) the target runs.  It is hundreds of
times slower than a plain run: run it in its own process, never beside another tool.
"""

import atexit
import builtins
import json
import opcode
import os
import runpy
import sys
import threading
import types
from importlib.machinery import SourceFileLoader

USAGE = "usage: oracle.py OUT.json (script.py | -m module) [args...]"


class Counter:
    """Per-thread, per-code count arrays: each thread only writes its own table, so counting
    needs no lock even though the callbacks run Python code that a thread switch can split."""

    def __init__(self):
        self.tables = {}  # thread ident -> {id(code): [count per code unit]}
        self.codes = {}  # id(code) -> code; keeps every code alive so its id stays unique

    def table(self):
        ident = threading.get_ident()
        t = self.tables.get(ident)
        if t is None:
            # An ident is reused only after its previous owner exited, so sharing that
            # thread's table is safe: the counts are merged over threads in the end anyway.
            t = self.tables[ident] = {}
        return t

    def counts_for(self, table, code):
        c = table.get(id(code))
        if c is None:
            self.codes[id(code)] = code
            c = table[id(code)] = [0] * (len(code.co_code) // 2)
        return c

    def sites(self):
        merged = {}
        for t in list(self.tables.values()):
            for key, c in list(t.items()):
                m = merged.get(key)
                if m is None:
                    merged[key] = list(c)
                else:
                    for i, n in enumerate(c):
                        m[i] += n
        rows, total = [], 0
        for key, c in merged.items():
            code = self.codes[key]
            positions = list(code.co_positions())
            raw = code.co_code  # unspecialized, uninstrumented opcodes
            for unit, n in enumerate(c):
                if n:
                    off = unit * 2
                    rows.append([code.co_filename, code.co_qualname, code.co_firstlineno, off,
                                 opcode.opname[raw[off]], positions[unit][0], n])
                    total += n
        rows.sort(key=lambda r: (r[0], r[2], r[1], r[3]))
        return rows, total


def start_monitoring(counter):
    """3.12+: INSTRUCTION events in every thread under the first free tool id."""
    mon = sys.monitoring
    tool = next((i for i in (3, 4, 1, 2, 0) if mon.get_tool(i) is None), None)
    if tool is None:
        sys.exit("oracle.py: no free sys.monitoring tool id")
    mon.use_tool_id(tool, "heavyops-oracle")
    tables = counter.tables
    get_ident = threading.get_ident
    table = counter.table
    counts_for = counter.counts_for

    def on_instruction(code, offset):
        t = tables.get(get_ident())
        if t is None:
            t = table()
        c = t.get(id(code))
        if c is None:
            c = counts_for(t, code)
        c[offset >> 1] += 1

    mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
    mon.set_events(tool, mon.events.INSTRUCTION)

    def stop():
        mon.set_events(tool, 0)
        mon.register_callback(tool, mon.events.INSTRUCTION, None)
        mon.free_tool_id(tool)

    return "sys.monitoring INSTRUCTION events (tool %d)" % tool, stop


def start_settrace(counter):
    """3.11: opcode events from sys.settrace in this thread and threading.settrace in new ones."""
    table = counter.table
    counts_for = counter.counts_for

    def on_call(frame, event, arg):
        # Called for every new frame and every generator/coroutine resumption, in the thread
        # that runs it, so the counts array is the current thread's.
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        c = counts_for(table(), frame.f_code)

        def local(frame, event, arg):
            if event == "opcode":
                c[frame.f_lasti >> 1] += 1
            return local

        return local

    threading.settrace(on_call)
    sys.settrace(on_call)

    def stop():
        sys.settrace(None)
        threading.settrace(None)

    return "sys.settrace opcode events", stop


def join_threads():
    """What interpreter shutdown does before atexit: wait for the target's non-daemon threads."""
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon and t is not threading.main_thread():
            t.join()


def prepare_script(script):
    path = os.path.abspath(script)
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None,
                         __loader__=SourceFileLoader("__main__", path), __spec__=None,
                         __package__=None)
    sys.modules["__main__"] = main
    sys.path[0] = os.path.dirname(path)

    def run():
        exec(code, main.__dict__)

    return run


def prepare_module(name):
    # Like `python -m`: the current directory first on sys.path, argv[0] the module's path.
    sys.path[0] = os.getcwd()

    def run():
        runpy._run_module_as_main(name, alter_argv=True)

    return run


def main():
    if sys.version_info < (3, 11):
        sys.exit("oracle.py: needs CPython 3.11 or newer")
    argv = sys.argv[1:]
    if len(argv) < 2 or (argv[1] == "-m" and len(argv) < 3):
        sys.exit(USAGE)
    out = argv[0]
    if argv[1] == "-m":
        sys.argv = [argv[2]] + argv[3:]
        run = prepare_module(argv[2])
    else:
        sys.argv = argv[1:]
        try:
            run = prepare_script(argv[1])
        except OSError as e:
            sys.exit("oracle.py: can't open file %r: %s" % (argv[1], e.strerror))

    counter = Counter()
    start = start_monitoring if hasattr(sys, "monitoring") else start_settrace
    mechanism, stop = start(counter)
    try:
        try:
            run()
        finally:
            try:
                join_threads()
                atexit._run_exitfuncs()
            finally:
                stop()
    finally:
        sites, total = counter.sites()
        tmp = out + ".tmp.%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump({"python": sys.version.split()[0], "mechanism": mechanism,
                       "total": total, "sites": sites}, f)
            f.write("\n")
        os.replace(tmp, out)


if __name__ == "__main__":
    main()

"""Runs a target program the way `python script.py` / `python -m module` would,
with the recorder on only while the target's own code runs.

The target is compiled (or its module found) before recording starts and
executed straight from here, as the thread's first frame (exec_main), so
neither runpy's machinery nor the launcher is recorded, and the program sees
no frame of ours above its own; heavyops' frames are cut from tracebacks.
"""
import _signal
import atexit
import builtins
import os
import sys

from heavyops import _recorder

# Not types, importlib.machinery nor (without --follow-fork) heavyops.children:
# the launcher's imports are start-up time every recording pays.

# exactly as our code objects name their files (co_filename is __file__)
PACKAGE_DIR = os.path.dirname(__file__) + os.sep


class TargetError(Exception):
    """The target cannot be started; message is for the user, code the exit status."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _utf8_bad_byte(line):
    """The first byte of line (up to a NUL) that starts no UTF-8 sequence by the
    tokenizer's own loose test (valid_utf8 in Parser/tokenizer.c), or None."""
    i, n = 0, len(line)
    while i < n and line[i]:
        b = line[i]
        size = 1 if b < 0x80 else 0 if b < 0xC0 else 2 if b < 0xE0 else 3 if b < 0xF0 \
            else 4 if b < 0xF8 else 0
        if size == 0 or any(not 0x80 <= c < 0xC0 for c in line[i + 1:i + size]) \
                or i + size > n:
            return b
        i += size
    return None


def file_reading(source, filename):
    """What python's file reader makes of a script that the string compiler
    rejects or words otherwise: (SyntaxError, None) for a NUL byte, or bytes
    that are not UTF-8 with no encoding declared; (None, source as read) where
    3.11.0-3.11.3 read a NUL byte as the end of its line's text, newline and
    all (gh-96670); (None, None) if neither.  Python reads the file a line at
    a time and checks each line's UTF-8 up to a NUL before the NUL itself.
    (Where the parser would have failed on an earlier line first, this still
    names the bad byte.)"""
    import re

    lines = source.splitlines(keepends=True)
    first = lines[0] if lines else b""
    cookie = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")
    # a BOM, or a coding cookie on line 1, or on line 2 under a comment or blank line
    declared = (source.startswith(b"\xef\xbb\xbf") or cookie.match(first) is not None
                or (len(lines) > 1 and re.match(rb"^[ \t\f]*(?:[#\r\n]|$)", first) is not None
                    and cookie.match(lines[1]) is not None))
    cut = sys.version_info < (3, 11, 4)
    for lineno, line in enumerate(lines, 1):
        bad = None if declared else _utf8_bad_byte(line)
        if bad is not None:
            return SyntaxError(f"Non-UTF-8 code starting with '\\x{bad:02x}' in file {filename} "
                               f"on line {lineno}, but no encoding declared; see "
                               "https://peps.python.org/pep-0263/ for details"), None
        if b"\0" in line and not cut:
            text = line[:line.index(b"\0")].decode("utf-8", "replace")
            return SyntaxError("source code cannot contain null bytes",
                               (filename, lineno, 0, text, lineno, 0)), None
    if cut and b"\0" in source:
        return None, b"".join(line.split(b"\0", 1)[0] for line in lines)
    return None, None


def _script_dir(path):
    """The script's directory as python finds it for sys.path[0]
    (_PyPathConfig_ComputeSysPath0): one readlink of the path (an absolute
    target replaces it, one with a directory is joined to its directory, a
    bare name such as "pipe:[123]" is left), then its real path if every part
    of that resolves (realpath(3), else the path as it stands), then up to
    the last "/".  os.path.realpath alone would resolve a pipe's /dev/fd/N
    into /proc/PID/fd, where python keeps /dev/fd."""
    try:
        link = os.readlink(path)
    except (OSError, ValueError):
        link = ""
    if link.startswith("/"):
        path = link
    elif "/" in link:
        path = os.path.join(os.path.dirname(path), link)
    try:
        path = os.path.realpath(path, strict=True)
    except (OSError, ValueError):
        pass
    cut = path.rfind("/")
    return "" if cut < 0 else path[:max(cut, 1)]


def _abspath(path):
    """The script's path as python makes it absolute (_Py_abspath): joined to
    the current directory as given, "./" and ".." kept, as its __file__,
    co_filename and tracebacks show it."""
    if path in ("", "."):
        return os.getcwd()
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


def prepare_script(path):
    """Sets sys.path[0] and returns (code, globals-to-set, argv0) for a script,
    or for a directory or zip file with a __main__.py, as python runs both."""
    abspath = _abspath(path)
    # python asks sys.path_hooks first (and caches the answer, None for a
    # plain file): a directory or zip file runs as its __main__ module
    from _frozen_importlib_external import PathFinder

    if PathFinder._path_importer_cache(abspath) is not None:
        return _prepare_main_of(path, abspath)
    try:
        with open(path, "rb") as f:  # io.open_code is what python uses; same for files
            source = f.read()
    except OSError as e:
        raise TargetError(f"can't open file {abspath!r}: [Errno {e.errno}] {e.strerror}", 2)
    try:
        code = _recorder.compile_source(source, abspath)
        if code is None:  # a NUL byte in it: file_reading below finds it
            raise SyntaxError("source code cannot contain null bytes")
    except (SyntaxError, ValueError) as e:
        # python reads the script as a file, which sees some things otherwise
        err, as_read = file_reading(source, abspath)
        try:
            if as_read is None:
                raise err or e
            code = _recorder.compile_source(as_read, abspath)
        except (SyntaxError, ValueError) as e2:
            # python reports these like any uncaught exception, without frames
            e2.__traceback__ = None
            raise e2 from None
    # importlib.machinery's SourceFileLoader is this class; importing
    # importlib.machinery would cost a module import for a name
    from _frozen_importlib_external import SourceFileLoader

    env = {
        "__name__": "__main__",
        "__file__": abspath,
        "__cached__": None,
        "__doc__": None,
        "__loader__": SourceFileLoader("__main__", abspath),
        "__package__": None,
        "__spec__": None,
    }
    if not sys.flags.safe_path:  # -P, -I, PYTHONSAFEPATH: no script directory
        _set_path0(_script_dir(path))
    return code, env, path


def _prepare_main_of(path, abspath):
    """A directory or zip file: its __main__ module, found on sys.path[0] as
    runpy._run_module_as_main finds it for python; argv[0] stays as given."""
    import runpy

    _set_path0(abspath)  # python adds it even in safe-path mode: __main__ is found there
    try:
        mod_name, spec, code = runpy._get_main_module_details(runpy._Error)
    except runpy._Error as e:
        raise TargetError(str(e), 1)
    return code, _module_env(spec), path


def prepare_module(name):
    """Sets sys.path[0] and returns (code, globals-to-set, argv0) for `-m name`."""
    import runpy

    # python -m looks the module up with the current directory first on
    # sys.path, unless in safe-path mode (-P, -I, PYTHONSAFEPATH)
    if not sys.flags.safe_path:
        _set_path0(os.getcwd())
    try:
        mod_name, spec, code = runpy._get_module_details(name, runpy._Error)  # as python -m does
    except runpy._Error as e:
        raise TargetError(str(e), 1)
    return code, _module_env(spec), spec.origin


def _module_env(spec):
    """__main__'s globals for a module run as the main one (runpy._run_code)."""
    return {
        "__name__": "__main__",
        "__file__": spec.origin if spec.has_location else None,
        "__cached__": spec.cached,
        "__doc__": None,
        "__loader__": spec.loader,
        "__package__": spec.parent,
        "__spec__": spec,
    }


def _set_path0(path0):
    """Gives sys.path[0] to the target.  Python put the launcher's own entry
    there (its directory, or the current one under -m), except in safe-path
    mode, where it put none: the target's then goes in front."""
    if sys.path and not sys.flags.safe_path:
        sys.path[0] = path0
    else:
        sys.path.insert(0, path0)


def _strip_own_frames(tb):
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(PACKAGE_DIR):
        tb = tb.tb_next
    return tb


def _status_of(exit_exc):
    code = exit_exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


class _Stopper:
    """Stops the recorder once, from atexit (after the target's own atexit
    handlers, which were registered later and so run earlier)."""

    def __init__(self, verbose, out):
        self.exit_status = -1
        self.clean = True  # False: killed by a signal
        self.verbose = verbose
        self.out = out
        self.done = False
        self.stopping = False
        # A SIGTERM that arrives while stop() writes the file has its handler
        # run as stop() returns (stop() runs no Python code; 3.11's once called
        # threading.settrace, and the handler ran inside it): the program dies
        # of it once the file is written and the warnings are out (die_of), as
        # the plain run would have.
        self.pending_signal = 0
        self.die_of = None

    def __call__(self):
        if self.done:
            return
        self.done = True
        self.stopping = True
        try:
            res = _recorder.stop(self.exit_status, clean=self.clean)
        finally:
            self.stopping = False
        self._report(res)
        if self.pending_signal and self.die_of is not None:
            self.die_of(self.pending_signal)

    def _report(self, res):
        if res is None:
            return
        if res.get("error"):
            print(f"heavyops: warning: writing {self.out} failed: {res['error']}; "
                  "the recording is incomplete", file=sys.stderr)
        if res.get("lost_events") or res.get("nomem"):
            lost = f" ({res['lost_events']:,} events known lost)" if res.get("lost_events") else ""
            print(f"heavyops: warning: the recorder ran out of memory and could not count "
                  f"everything{lost}; {self.out} is marked incomplete", file=sys.stderr)
        # a count that comes out negative: CPython dropped events of ours
        negative = ""
        if res.get("negative_counts"):
            negative = f"; {res['negative_counts']:,} counts came out negative and were left out"
        if res.get("interference"):
            print("heavyops: warning: the program ran its own tracer or profiler (sys.settrace, "
                  "sys.setprofile, sys.monitoring, a debugger, coverage) or removed heavyops' "
                  "tracer while recording; CPython drops events when two tools instrument the "
                  f"same code, so some counts may be low{negative}", file=sys.stderr)
        elif res.get("other_tool"):
            print("heavyops: warning: another sys.monitoring tool also used INSTRUCTION events; "
                  f"CPython may have lost events for both{negative}", file=sys.stderr)
        elif negative:
            print(f"heavyops: warning: CPython dropped events of heavyops'{negative}; "
                  f"{self.out} is marked incomplete", file=sys.stderr)
        if res.get("check_failures"):
            print(f"heavyops: check: {res['check_failures']} derived counts differ from direct counts",
                  file=sys.stderr)
        if self.verbose:
            print(f"heavyops: wrote {self.out} ({res['bytes']:,} bytes)", file=sys.stderr)


def _file_argv():
    """sys.argv as the file stores it (UTF-8): bytes that are not UTF-8 (kept by
    Python as surrogate escapes) are written as \\xNN."""
    return [os.fsencode(a).decode("utf-8", "backslashreplace") for a in sys.argv]


def child_output(out, pid):
    """OUT.PID, or OUT.PID.N if a file of a reused pid is already there."""
    path = f"{out}.{pid}"
    n = 0
    while os.path.exists(path):
        n += 1
        path = f"{out}.{pid}.{n}"
    return path


def _dress_as(wrapper, real):
    """What functools.wraps does, here because this runs while recording and
    functools' code would be counted: WRAPPER takes REAL's names and doc."""
    for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(wrapper, attr, getattr(real, attr))
    wrapper.__wrapped__ = real
    return wrapper


def _carry_on(stopper, out, options, follower):
    """Runs while recording (so it calls nothing that runs Python code outside
    this package) after a successful start: write the file at exit (atexit, os._exit),
    keep forks off it, and with a follower (children.Follower) record children
    into OUT.<pid>."""
    real_exit = os._exit

    # os._exit skips atexit: write the last counts first (multiprocessing's
    # children always leave this way).
    def exit_after_stop(status):
        if not stopper.done:
            stopper.exit_status = status
            stopper()
        real_exit(status)

    _dress_as(exit_after_stop, real_exit)

    def after_fork_in_child():
        # The parent's file is the parent's: never written from here.
        os._exit = real_exit
        if not _recorder.forget_in_child() or follower is None:
            stopper.done = True
        else:
            path = _start_child_recording(out, options)
            if path is None:
                stopper.done = True
            else:
                stopper.out, stopper.done, stopper.exit_status = path, False, -1
                os._exit = exit_after_stop
        # a SIGTERM sent right after the fork: CPython dropped it, deliver it now
        _recorder.sigterm_after_fork()

    os._exit = exit_after_stop
    _watch_monitoring()
    _write_on_sigterm(stopper)
    os.register_at_fork(before=_recorder.pause_flusher,
                        after_in_parent=_recorder.resume_flusher,
                        after_in_child=after_fork_in_child)
    atexit.register(stopper)
    if follower is not None:
        follower.install()


def _write_on_sigterm(stopper):
    """SIGTERM with its default action kills the program before the last
    counts are written.  Where the program has no handler of its own, ours
    writes the file (marked as not ended cleanly) and then dies of SIGTERM,
    as the plain run would; signal.getsignal() and signal.signal() still
    report SIG_DFL, and a handler the program installs replaces ours.  (The
    signal module calls _signal's functions, which we wrap: importing it would
    cost the launcher enum's import.)"""
    real_getsignal, real_signal = _signal.getsignal, _signal.signal
    if real_getsignal(_signal.SIGTERM) != _signal.SIG_DFL:
        return

    def die_of(signum):
        real_signal(signum, _signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def on_sigterm(signum, frame):
        if stopper.stopping:  # inside stop(), from os._exit or atexit: after it
            stopper.pending_signal = signum
            return
        if not stopper.done:
            stopper.exit_status = 128 + signum
            stopper.clean = False
            stopper()
        die_of(signum)

    try:
        real_signal(_signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (a fork from another thread): keep the default
        return
    stopper.die_of = die_of
    try:
        _recorder.arm_sigterm()
    except OSError:
        pass  # no timer: a SIGTERM waits for the main thread to run Python code

    def getsignal(signalnum):
        handler = real_getsignal(signalnum)
        return _signal.SIG_DFL if handler is on_sigterm else handler

    def signal_(signalnum, handler):
        old = real_signal(signalnum, handler)
        return _signal.SIG_DFL if old is on_sigterm else old

    _signal.getsignal = _dress_as(getsignal, real_getsignal)
    _signal.signal = _dress_as(signal_, real_signal)


def _watch_monitoring():
    """Another sys.monitoring tool that turns events on makes CPython drop
    events of ours: set_events and set_local_events tell the recorder, even
    when the tool is gone again before the next flush could see it."""
    mon = getattr(sys, "monitoring", None)
    if mon is None or getattr(mon.set_events, "_heavyops", False):
        return

    def watch(real):
        def wrapper(tool_id, *args):
            result = real(tool_id, *args)
            if args and args[-1]:  # a non-empty event set
                _recorder.note_monitoring(tool_id)
            return result

        wrapper._heavyops = True
        return _dress_as(wrapper, real)

    mon.set_events = watch(mon.set_events)
    mon.set_local_events = watch(mon.set_local_events)


def _start_child_recording(out, options):
    """Starts recording a child process into OUT.<pid>; returns the path, or
    None (with a warning) if it cannot."""
    for _ in range(100):  # another process may take the same name first
        path = child_output(out, os.getpid())
        try:
            _recorder.start(path, argv=_file_argv(), force=False, **options)
        except FileExistsError:
            continue
        except OSError as e:
            print(f"heavyops: warning: cannot record child {os.getpid()}: {e}", file=sys.stderr)
            return None
        return path
    print(f"heavyops: warning: cannot record child {os.getpid()}: no free file name",
          file=sys.stderr)
    return None


def record_spawned_child(out, options, verbose):
    """Entry point of an interpreter that multiprocessing started (spawn,
    forkserver) under record --follow-fork: record this whole process."""
    from heavyops import children

    options = dict(options, exclude_prefix=PACKAGE_DIR)
    follower = children.Follower(out, options, verbose)
    path = _start_child_recording(out, options)
    if path is None:
        return
    _carry_on(_Stopper(verbose, path), out, options, follower)


def _orig_argv(target):
    """sys.orig_argv as python would have it, had it run the target itself:
    the interpreter and its options, then target (the script as given, or -m
    and the module's name) and its arguments.  None where the command line
    python was given does not end with the launcher's arguments (sys.argv[1:])."""
    orig, rest = list(sys.orig_argv), sys.argv[1:]
    n = len(orig) - len(rest)  # past the launcher: its path, or -m heavyops
    if n < 2 or orig[n:] != rest:
        return None
    n -= 2 if n >= 3 and orig[n - 2] == "-m" else 1
    return orig[:n] + list(target)


def run(prepared, args, out, *, tracked, patterns, file_globs, force, verbose, follow_fork=False,
        target=None):
    """Runs the prepared target; returns its exit status or raises SystemExit
    exactly as the plain run would.  target: how the command line named it
    ([script] or ["-m", module]), for sys.orig_argv."""
    code, env, argv0 = prepared
    main = type(sys)("__main__")  # types.ModuleType
    main.__dict__.update(env)
    main.__dict__["__builtins__"] = builtins  # python gives __main__ the module, not its dict
    sys.modules["__main__"] = main
    orig = _orig_argv(list(target) + list(args)) if target is not None else None
    if orig is not None:
        sys.orig_argv = orig
    sys.argv[:] = [argv0] + list(args)

    stopper = _Stopper(verbose, out)
    options = dict(tracked=tracked, patterns=patterns, file_globs=file_globs,
                   exclude_prefix=PACKAGE_DIR)
    follower = None
    if follow_fork:
        from heavyops import children

        follower = children.Follower(out, options, verbose)
    # Everything before exec_main() runs before recording starts, so none of it is counted.
    try:
        _recorder.start(out, argv=_file_argv(), force=force, **options)
    except FileExistsError:
        raise
    except OSError as e:
        # A profiler must not stop the program it profiles: run it unrecorded.
        print(f"heavyops: cannot record to {out}: {e.strerror or e}; "
              "running the program without recording", file=sys.stderr)
    else:
        _carry_on(stopper, out, options, follower)

    def pause_until_atexit():
        # Between the end of the main module and the target's atexit handlers the
        # interpreter waits for threads (threading._shutdown): not the target's code.
        # Registered last, the resume runs first of all exit functions.
        _recorder.pause_thread(True)
        atexit.register(_recorder.pause_thread, False)

    try:
        _recorder.exec_main(code, main.__dict__)  # exec(), with no launcher frame above
    except SystemExit as e:
        stopper.exit_status = _status_of(e)
        e.__traceback__ = _strip_own_frames(e.__traceback__)
        pause_until_atexit()
        raise
    except KeyboardInterrupt as e:
        stopper.exit_status = 128 + _signal.SIGINT
        _report(e)
        # python ends an interrupted program by dying of SIGINT after cleanup
        _recorder.call_alone(atexit._run_exitfuncs)  # as at exit: no frame of ours above
        sys.stdout.flush()
        sys.stderr.flush()
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)
        return 128 + _signal.SIGINT
    except BaseException as e:
        stopper.exit_status = 1
        _report(e)
        pause_until_atexit()
        return 1
    stopper.exit_status = 0
    pause_until_atexit()
    return 0


def _report(e):
    tb = _strip_own_frames(e.__traceback__)
    e.__traceback__ = tb
    sys.excepthook(type(e), e, tb)

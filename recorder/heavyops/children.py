"""record --follow-fork for processes that multiprocessing starts with a new
interpreter (the spawn and forkserver start methods).

Forked children (os.fork, the fork start method, the forkserver's own forks)
carry on in runtarget's at-fork hook.  A spawned child is a fresh
`python -c 'from multiprocessing.spawn import spawn_main; ...'` (the
forkserver: `... import main; main(...)`), started through
multiprocessing.util.spawnv_passfds: we wrap that function and put a few
statements in front of the -c program, so that the new interpreter records
itself into OUT.<pid> before it runs anything else.

multiprocessing is not imported for this: a finder on sys.meta_path wraps the
function when (if ever) the program imports multiprocessing.util.
"""
import os
import sys

# The -c programs of the processes we follow.  The resource tracker (also
# started this way) runs no code of the program and is left alone.
_FOLLOWED = ("from multiprocessing.spawn import spawn_main",
             "from multiprocessing.forkserver import main")
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _prelude(out, options, verbose):
    # exclude_prefix is the child's own package directory, set there
    options = {k: v for k, v in options.items() if k != "exclude_prefix"}
    # the package and the standard modules it imports are found without -c's
    # current directory (""), where a program's own opcode.py would be first
    return ("import sys; _heavyops_path = sys.path[:]; "
            "sys.path[:] = [%r] + [p for p in _heavyops_path if p]; "
            "from heavyops import runtarget as _heavyops_rt; "
            "sys.path[:] = _heavyops_path; del _heavyops_path; "
            "_heavyops_rt.record_spawned_child(%r, %r, %r); "
            "del _heavyops_rt; " % (_PKG_PARENT, os.path.abspath(out), options, verbose))


def _rewrite(args, prelude):
    """args with the -c program prefixed, if it is one we follow."""
    args = list(args)
    for i in range(len(args) - 1):
        if args[i] == "-c":
            if isinstance(args[i + 1], str) and args[i + 1].startswith(_FOLLOWED):
                args[i + 1] = prelude + args[i + 1]
            break
    return args


def _patch(util, prelude):
    real = util.spawnv_passfds
    if getattr(real, "_heavyops", False):
        return

    def spawnv_passfds(path, args, passfds):
        return real(path, _rewrite(args, prelude), passfds)

    spawnv_passfds._heavyops = True
    spawnv_passfds.__wrapped__ = real
    util.spawnv_passfds = spawnv_passfds


class _PatchOnImport:
    """A meta path finder that only ever answers for multiprocessing.util: it
    lets the other finders find it, then wraps spawnv_passfds once the module
    has run."""

    def __init__(self, prelude):
        self.prelude = prelude

    def find_spec(self, name, path=None, target=None):
        if name != "multiprocessing.util":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec
        prelude = self.prelude

        def exec_and_patch(module):
            exec_module(module)
            _patch(module, prelude)

        loader.exec_module = exec_and_patch  # one loader object per module spec
        return spec


class Follower:
    """Made before recording starts (it runs library code), installed after."""

    def __init__(self, out, options, verbose):
        self.prelude = _prelude(out, options, verbose)

    def install(self):
        """Makes spawned and forkserver children of this process record into
        OUT.<pid> (runtarget.record_spawned_child)."""
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            _patch(util, self.prelude)
        else:
            sys.meta_path.insert(0, _PatchOnImport(self.prelude))

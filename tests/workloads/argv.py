"""Prints what a script sees of how it was started (argv, sys.orig_argv past the interpreter,
__name__, __file__, sys.path[0], its module in sys.modules) on stdout, and a line on stderr;
with -m it runs as a module."""
import os
import sys

print("argv", sys.argv)
print("orig_argv past the interpreter", sys.orig_argv[1:])
print("name", __name__)
print("file", __file__)
print("path0", sys.path[0])
print("main module is this module", sys.modules["__main__"].__dict__ is globals())
print("cwd-relative path0", os.path.relpath(sys.path[0]))
sys.stderr.write("stderr line for %s\n" % os.path.basename(sys.argv[0]))
if __name__ == "__main__":
    print("args joined", "+".join(sys.argv[1:]))

"""The writer's full buffers are written by the flusher thread, not by the program's.

    e2e_writes.py --python P --analyze A --heavyops H --scratch DIR

A recorded program declares far more than one 64 KB buffer of symbols (16 module bodies of
1,500 lines, each building a tuple on every line, run once with `-i BUILD_TUPLE`), with a pause
after each body. The thread that fills a buffer queues it, and the flusher thread writes it:
HEAVYOPS_STATS=1's line must count buffers written by the flusher from the queue. The file
must still hold every tuple, in a file that reads without a warning: the buffers went out
whole and in order.
"""

import os
import re

import e2e_lib as lib

BODIES = 16
LINES = 1500

PROGRAM = """\
import time
SRC = "".join("x%%d = (time, %%d)\\n" %% (i, i) for i in range(%(lines)d))
for i in range(%(bodies)d):
    exec(compile(SRC, "<module %%d>" %% i, "exec"), {"time": time})
    time.sleep(0.01)
"""


def main(args):
    d = lib.scratch_dir(args, "writes")
    prog = lib.write_prog(d, PROGRAM % {"bodies": BODIES, "lines": LINES})
    hops = os.path.join(d, "run.hops")
    cmd, cp = lib.record(args, [prog], hops, select=["BUILD_TUPLE"], cwd=d, extra=["--force"],
                         env=lib.test_env(HEAVYOPS_STATS="1"))
    if cp.returncode != 0 or not os.path.exists(hops):
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))
    m = re.search(rb"buffers written: (\d+) by the flusher thread, (\d+) at once", cp.stderr)
    if m is None:
        raise lib.Failure("no buffer counts from HEAVYOPS_STATS=1:\n" + lib.explain(cp, cmd))
    queued, direct = int(m.group(1)), int(m.group(2))
    print("buffers written: %d by the flusher thread, %d at once" % (queued, direct))
    if queued < 4:
        raise lib.Failure("the program's thread wrote the full buffers itself: %d written by "
                          "the flusher thread, %d at once" % (queued, direct))
    cmd = [args.analyze, "--by", "instruction", hops]
    cp = lib.run(cmd)
    if cp.returncode != 0 or cp.stderr:
        raise lib.Failure("the recording does not read cleanly:\n" + lib.explain(cp, cmd))
    lib.expect_body_tuples(args, hops, BODIES * LINES)


if __name__ == "__main__":
    lib.main(main, lib.parser(__doc__.split("\n")[0]).parse_args())

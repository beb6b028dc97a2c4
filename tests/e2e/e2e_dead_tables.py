"""The tables of code objects that died are freed at the next flush, early ones included.

    e2e_dead_tables.py --python P --analyze A --heavyops H --scratch DIR

A recorded program runs 24 module bodies of 2,000 lines each, one after the other, as an
import-heavy start does: each builds a tuple on every line after a try statement, so that
with `-i BUILD_TUPLE` every one keeps per-instruction tables until it dies and the next
flush has written its counts. The program ends before the recorder's first regular flush
(1.75 s in), so only the early flushes (50, 150, 350 and 750 ms in) can free the tables of
the bodies that ran before. With HEAVYOPS_STATS=1 the recorder's memory line gives its
tables at their most: they must stay well under those of the same run with no flush until
the end (HEAVYOPS_FLUSH_MS=100000), where every body's tables wait for the last one. Every
tuple each body built must be in the recording.
"""

import os
import re

import e2e_lib as lib

BODIES = 24
LINES = 2000
MAX_SHARE = 0.75  # of the tables at their most with no flush; 0.33-0.58 on this project's
                  # builds when early flushes free them, 1.0 when they are skipped

PROGRAM = """\
import time
SRC = ("try:\\n    import sys\\nexcept ImportError:\\n    sys = None\\n"
       + "".join("x%%d = (sys, %%d)\\n" %% (i, i) for i in range(%(lines)d)))
for i in range(%(bodies)d):
    exec(compile(SRC, "<module %%d>" %% i, "exec"), {})
    time.sleep(0.02)
"""


def tables_at_most(args, prog, hops, d, **env):
    cmd, cp = lib.record(args, [prog], hops, select=["BUILD_TUPLE"], cwd=d, extra=["--force"],
                         env=lib.test_env(HEAVYOPS_STATS="1", **env))
    if cp.returncode != 0 or not os.path.exists(hops):
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))
    m = re.search(rb"memory: code tables (\d+) bytes at most", cp.stderr)
    if m is None:
        raise lib.Failure("no memory line from HEAVYOPS_STATS=1:\n" + lib.explain(cp, cmd))
    return int(m.group(1))


def main(args):
    d = lib.scratch_dir(args, "dead-tables")
    prog = lib.write_prog(d, PROGRAM % {"bodies": BODIES, "lines": LINES})
    hops = os.path.join(d, "run.hops")
    late = tables_at_most(args, prog, os.path.join(d, "late.hops"), d, HEAVYOPS_FLUSH_MS="100000")
    early = tables_at_most(args, prog, hops, d)
    print("code tables at their most: %d bytes with the early flushes, %d with none"
          % (early, late))
    if not early <= MAX_SHARE * late:
        raise lib.Failure("the tables of dead code objects waited for the last flush: %d bytes "
                          "at most, against %d with no flush until the end (at most %.2f of it "
                          "expected)" % (early, late, MAX_SHARE))
    lib.expect_body_tuples(args, hops, BODIES * LINES)


if __name__ == "__main__":
    lib.main(main, lib.parser(__doc__.split("\n")[0]).parse_args())

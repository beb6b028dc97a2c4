"""The recorder's memory does not grow with the number of dead threads.

    e2e_thread_memory.py --python P --analyze A --heavyops H --scratch DIR

A recorded program runs 3,000 short-lived threads in 6 batches of 500. After each batch it
waits past a flush and asks the recorder (`_recorder.stats()`) how many per-thread states it
still holds: at most a few (the main thread's, and a thread that ended after the flush),
never one per thread that ever ran. The recording must also hold every thread's work:
each of the 3,000 threads built one list in `work`. The recorder's own account of its memory
(HEAVYOPS_STATS=1, the line the benchmark reads) must agree: as many sites as the file
declares, code tables at their most no smaller than at the end, counters for at most a
few threads at the end, and at their most (as the flushes find them) for no more threads than
one batch and a few: never one per thread that ever ran.
"""

import json
import os
import re

import e2e_lib as lib

BATCHES = 6
PER_BATCH = 500
MAX_HELD = 8  # the main thread, plus threads that ended after the last flush

PROGRAM = """\
import json, sys, threading, time
from heavyops import _recorder

def work(i):
    return [i, i]

held = []
for batch in range(%(batches)d):
    threads = [threading.Thread(target=work, args=(i,)) for i in range(%(per_batch)d)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(1.5)  # a flush (at least once a second) frees the states of ended threads
    held.append(_recorder.stats()["threads"])
print(json.dumps(held))
"""


def main(args):
    d = lib.scratch_dir(args, "thread-memory")
    prog = lib.write_prog(d, PROGRAM % {"batches": BATCHES, "per_batch": PER_BATCH})
    hops = os.path.join(d, "run.hops")
    cmd, cp = lib.record(args, [prog], hops, cwd=d, env=lib.test_env(HEAVYOPS_STATS="1"))
    if cp.returncode != 0 or not os.path.exists(hops):
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))
    try:
        held = json.loads(cp.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise lib.Failure("the program printed no list of counts:\n" + lib.explain(cp, cmd))
    print("per-thread states held after each batch of %d threads: %s" % (PER_BATCH, held))
    if len(held) != BATCHES or max(held) > MAX_HELD:
        raise lib.Failure("the recorder held %s per-thread states after batches of %d threads "
                          "(at most %d expected): it keeps the state of dead threads"
                          % (held, PER_BATCH, MAX_HELD))
    m = re.search(rb"memory: code tables (\d+) bytes at most \((\d+) at the end\) for (\d+) "
                  rb"sites .*counters (\d+) bytes in (\d+) threads at the end, (\d+) bytes in "
                  rb"(\d+) threads at most", cp.stderr)
    if m is None:
        raise lib.Failure("no memory line from HEAVYOPS_STATS=1:\n" + lib.explain(cp, cmd))
    peak, end, sites, counters, threads, counters_peak, threads_peak = map(int, m.groups())
    declared = lib.analyze_json(args, hops, "info")["files"][0]["sites"]
    if sites != declared or not peak >= end > 0 or threads > MAX_HELD:
        raise lib.Failure("memory line %r: expected %d sites (the file's), tables at most >= at "
                          "the end > 0, at most %d threads" % (m.group(0), declared, MAX_HELD))
    if not counters_peak >= counters > 0 or not 1 < threads_peak <= PER_BATCH + MAX_HELD:
        raise lib.Failure("memory line %r: counters at their most should be >= at the end > 0, "
                          "in more than one thread and at most %d (a batch and a few), not one "
                          "per thread that ran" % (m.group(0), PER_BATCH + MAX_HELD))
    print(m.group(0).decode())
    built = sum(r["count"] for r in lib.site_rows(args, hops, "--function", "work")["rows"]
                if r["instruction"] == "BUILD_LIST" and lib.same_file(r["file"], prog, d))
    if built != BATCHES * PER_BATCH:
        raise lib.Failure("work() built %d lists in %d threads, the recording says %d"
                          % (BATCHES * PER_BATCH, BATCHES * PER_BATCH, built))


if __name__ == "__main__":
    lib.main(main, lib.parser(__doc__.split("\n")[0]).parse_args())

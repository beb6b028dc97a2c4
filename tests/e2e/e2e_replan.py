"""Re-plans move counters to the blocks that turned out cold, and leave the counts as they were.

    e2e_replan.py --python P --analyze A --heavyops H --scratch DIR

Records tests/workloads/branchy.py twice with flushes 10 ms apart (HEAVYOPS_FLUSH_MS), at
N=120000, so that its loops run some 200 ms and a first flush that comes late under load costs
little of the saving (at the default N it fell under 10% about 1 run in 100): once
as users do, once with re-plans off (HEAVYOPS_REPLAN_AFTER=0), both with HEAVYOPS_STATS=1,
which makes the recorder print how many counter events it took. With re-plans the recorder
must adopt at least one and take at least 10% fewer events on `chain`, whose if/elif chain
has its hot branch first; and the two recordings must hold the same count at every site.
(That those counts are the oracle's is e2e-branchy-*'s business, in compare.py.) 3.11 has no
re-plans: skipped there.
"""

import os
import re

import e2e_lib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "branchy.py")
STATS = re.compile(r"heavyops: stats: (\d+) instructions, (\d+) counter events .*?"
                   r"(\d+) re-plans, (\d+) adopted")
CODE = re.compile(r"heavyops: stats: (\d+) events (\d+) instrs .* (\S+):(\d+)$")


def record(args, d, name, **env):
    hops = os.path.join(d, name + ".hops")
    cmd, cp = lib.record(args, [WORKLOAD, "120000"], hops, cwd=d,
                         env=lib.test_env(HEAVYOPS_FLUSH_MS="10", HEAVYOPS_STATS="2", **env))
    if cp.returncode != 0 or not os.path.exists(hops):
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))
    err = cp.stderr.decode(errors="replace").splitlines()
    total = [STATS.match(line) for line in err if STATS.match(line)]
    if not total:
        raise lib.Failure("no statistics on stderr:\n" + lib.explain(cp, cmd))
    per_code = {m.group(3): int(m.group(1)) for m in map(CODE.match, err) if m}
    sites = {(r["function"], r["firstlineno"], r["offset"]): r["count"]
             for r in lib.site_rows(args, hops)["rows"] if lib.same_file(r["file"], WORKLOAD, d)}
    instrs, events, replans, adopted = (int(g) for g in total[-1].groups())
    return {"events": events, "replans": replans, "adopted": adopted, "code": per_code,
            "sites": sites}


def main(args):
    if lib.interpreter_tag(args.python) == "3.11":
        lib.skip("3.11 records through C tracing, without re-plans")
    d = lib.scratch_dir(args, "replan")
    on = record(args, d, "replan")
    off = record(args, d, "static", HEAVYOPS_REPLAN_AFTER="0")
    print("events: %d with re-plans (%d tried, %d adopted), %d without; chain: %s vs %s"
          % (on["events"], on["replans"], on["adopted"], off["events"], on["code"].get("chain"),
             off["code"].get("chain")))
    if off["replans"] != 0:
        raise lib.Failure("HEAVYOPS_REPLAN_AFTER=0 still re-planned %d code objects"
                          % off["replans"])
    if on["adopted"] < 1:
        raise lib.Failure("no re-plan was adopted (%d tried)" % on["replans"])
    if "chain" not in on["code"] or "chain" not in off["code"]:
        raise lib.Failure("no per-code statistics for chain(): %s" % sorted(on["code"]))
    if on["code"]["chain"] > 0.9 * off["code"]["chain"]:
        raise lib.Failure("chain() took %d events with re-plans and %d without: the re-plan "
                          "did not move its counters off the hot branch"
                          % (on["code"]["chain"], off["code"]["chain"]))
    if on["sites"] != off["sites"]:
        diff = sorted(k for k in set(on["sites"]) | set(off["sites"])
                      if on["sites"].get(k) != off["sites"].get(k))
        raise lib.Failure("%d sites differ between the recordings with and without re-plans, "
                          "e.g. %s" % (len(diff), ["%s:%s@%s: %s vs %s" % (k[0], k[1], k[2],
                                                   on["sites"].get(k), off["sites"].get(k))
                                                   for k in diff[:5]]))


if __name__ == "__main__":
    lib.main(main, lib.parser(__doc__.split("\n")[0]).parse_args())

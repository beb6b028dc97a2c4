"""Per-thread attribution: record tests/workloads/threads.py, whose five threads are named
"worker-<function>" and each run one function, then check with `--by thread` and
`--by site --thread ID` that every worker function's sites (nested code included) are in
exactly one thread, the one named after it; that the main thread has the module code; and
that the per-thread site counts add up to the unfiltered ones."""

import os

import e2e_lib as lib

WORKERS = ["squares", "tuples", "histogram", "closures", "strings"]


def owner(qualname):
    return qualname.split(".")[0]


def check(args):
    workload = os.path.join(lib.WORKLOADS, "threads.py")
    scratch = lib.scratch_dir(args, "threads")
    hops = os.path.join(scratch, "threads.hops")
    cmd, cp = lib.record(args, [workload], hops, cwd=scratch)
    if cp.returncode != 0 or not os.path.exists(hops):
        raise lib.Failure("recording failed:\n" + lib.explain(cp, cmd))

    threads = lib.analyze_json(args, hops, "--by", "thread", "-i", "*", "--top", "0")["rows"]
    problems = []
    if len(threads) < len(WORKERS) + 1:
        problems.append("expected at least %d threads, the recording has %d: %s"
                        % (len(WORKERS) + 1, len(threads), threads))

    everything = {}
    for r in lib.site_rows(args, hops)["rows"]:
        if lib.same_file(r["file"], workload, scratch):
            k = (r["function"], r["firstlineno"], r["offset"])
            everything[k] = everything.get(k, 0) + r["count"]

    where = {}  # top-level function -> {thread name: executions}
    summed = {}
    for t in threads:
        ident, name = t["thread_id"], t["thread_name"]
        rows = lib.site_rows(args, hops, "--thread", str(ident))["rows"]
        for r in rows:
            if not lib.same_file(r["file"], workload, scratch):
                continue
            k = (r["function"], r["firstlineno"], r["offset"])
            summed[k] = summed.get(k, 0) + r["count"]
            label = "%s (%s)" % (name or "unnamed", ident)
            per = where.setdefault(owner(r["function"]), {})
            per[label] = per.get(label, 0) + r["count"]

    for f in WORKERS:
        homes = where.get(f, {})
        if len(homes) != 1:
            problems.append("%s ran in one thread, but the recording puts its sites in %d: %s"
                            % (f, len(homes), homes))
        elif not next(iter(homes)).startswith("worker-%s " % f):
            problems.append("%s ran in the thread named worker-%s, but the recording says %s"
                            % (f, f, next(iter(homes))))
    for f in ("<module>", "main"):
        homes = where.get(f, {})
        if len(homes) != 1 or not next(iter(homes), "").startswith("MainThread "):
            problems.append("%s ran in MainThread only, but the recording says %s" % (f, homes))
    if summed != everything:
        bad = sorted(k for k in set(summed) | set(everything) if summed.get(k) != everything.get(k))
        problems.append("per-thread site counts do not add up to the unfiltered ones at %d "
                        "sites, e.g. %s: %s by thread, %s in all"
                        % (len(bad), bad[0], summed.get(bad[0]), everything.get(bad[0])))
    for f in sorted(where):
        print("%-12s %s" % (f, ", ".join("%s: %s" % (k, format(v, ","))
                                          for k, v in sorted(where[f].items()))))
    if problems:
        raise lib.Failure("\n".join(problems))


if __name__ == "__main__":
    lib.main(check, lib.parser(__doc__.split("\n")[0]).parse_args())

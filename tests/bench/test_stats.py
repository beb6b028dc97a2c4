#!/usr/bin/env python3
"""The benchmark's paired ratios and their verdicts (bench.py's paired, fci and
targets), and its reading of callgrind's files (parse_callgrind, cest), on runs
made up here: run by `meson test` as bench-stats, since the
benchmark itself is not (it takes minutes)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

problems = []


def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")


# Rounds whose speed drifts 2x (a slow patch of the machine) while the recorded
# run takes 1.1x its round's plain run: the paired ratio is 1.1 exactly, with
# no spread; the ratio of the medians is not.
plain = [1.0, 2.0, 1.0, 2.0, 2.0, 2.0, 1.0]
rec = [1.1, 2.2, 1.1, 2.2, 2.2, 2.2, 1.1]
rec[1] = 1.2  # one round whose recorded run fell in a fast patch
m, ci = bench.paired(rec, plain)
expect("paired median", round(m, 9), 1.1)
expect("paired interval", tuple(round(x, 9) for x in ci), (1.1, 1.1))
if abs(bench.median(rec) / bench.median(plain) - 1.1) < 1e-9:
    problems.append("the made-up runs do not tell pairing from a ratio of medians")

# Spread ratios: the interval holds the median, is reproducible, and narrows
# with more pairs of the same spread.
ys = [1.0] * 9
xs = [1.00, 1.02, 1.04, 1.06, 1.08, 1.10, 1.12, 1.14, 1.16]
m, ci = bench.paired(xs, ys)
expect("median of 9", round(m, 9), 1.08)
if not (ci[0] <= m <= ci[1] and ci[0] < ci[1]):
    problems.append(f"interval {ci} does not hold the median {m} with a width")
expect("same runs, same interval", bench.paired(xs, ys)[1], ci)
m4, ci4 = bench.paired(xs * 4, ys * 4)
if not (ci4[1] - ci4[0] < ci[1] - ci[0]):
    problems.append(f"36 pairs give {ci4}, no narrower than 9 pairs' {ci}")

# Too few pairs for an interval; a zero plain time is left out.
expect("4 pairs", bench.paired([1.1] * 4, [1.0] * 4), (1.1, None))
expect("no pairs", bench.paired([1.0], [0.0]), (None, None))

# The table cell and its mark against a target.
expect("cell met", bench.fci({"ratio": 1.02, "ci": (1.0, 1.04)}, 1.05),
       "1.020× (1.000–1.040) ✓")
expect("cell missed", bench.fci({"ratio": 1.08, "ci": (1.06, 1.1)}, 1.05),
       "1.080× (1.060–1.100) ✗")
expect("cell unresolved", bench.fci({"ratio": 1.05, "ci": (1.03, 1.07)}, 1.05),
       "1.050× (1.030–1.070) ?")
expect("cell, no target", bench.fci({"ratio": 1.05, "ci": (1.03, 1.07)}), "1.050× (1.030–1.070)")
expect("cell, no interval", bench.fci({"ratio": 1.05, "ci": None}, 1.05), "1.050×")


# The targets table's rows on paired ratios: one verdict per workload.
def workload(target, default_ci, selected_ci):
    med = {k: {"wall": 1.0, "cpu": 1.0} for k in ("plain", "default", "selected")}
    return {"target": target, "median": med,
            "paired": {"default": {"wall": {"ratio": sum(default_ci) / 2, "ci": default_ci}},
                       "selected": {"wall": {"ratio": sum(selected_ci) / 2, "ci": selected_ci}}}}


results = {"3.12.1": {"workloads": {
    "numeric": workload(bench.TARGET_DEFAULT, (1.10, 1.20), (1.00, 1.04)),
    "imports": workload(bench.TARGET_IMPORT, (1.20, 1.35), (1.06, 1.08)),
}}, "3.11.2": {"workloads": {
    "numeric": workload(bench.TARGET_DEFAULT, (3.0, 3.2), (2.0, 2.2)),
}}}
text = bench.targets(results, None)
rows = {}
for line in text.splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if "paired" in cells[0]:
        rows[(cells[0].split(",")[0], cells[1])] = cells[-1]
expect("default mode, 3.12", rows.get(("default mode", "3.12.1")),
       "imports unresolved (1.200×–1.350× holds 1.30×)")
expect("-i, 3.12", rows.get(("-i", "3.12.1")), "imports missed by 0.010× to 0.030×")
expect("3.11 has no paired verdict", [k for k in rows if k[1] == "3.11.2"], [])

# callgrind's event totals and the cycle estimate: a run with the cache and branch
# simulation, and one without (Ir alone), in callgrind's file format.
import tempfile  # noqa: E402

SIM = """version: 1
creator: callgrind-3.19.0
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
ob=/x/_recorder.so
fn=on_start
0 5 0 0 0 0 0 0 0 0 0 0 0 0
summary: 1000 400 200 3 4 5 1 2 3 90 6 10 7
totals: 1000 400 200 3 4 5 1 2 3 90 6 10 7
"""
PLAIN = """version: 1
events: Ir
fn=main
0 700
totals: 700
"""
with tempfile.TemporaryDirectory() as d:
    got = []
    for name, text in (("sim", SIM), ("plain", PLAIN)):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        got.append(bench.parse_callgrind(path, "_recorder."))
(ir, _, ev), (ir0, _, ev0) = got
expect("Ir with the simulation", ir, 1000)
expect("Ir alone", ir0, 700)
# 1000 + 10 * (6 + 7) + 10 * (3 + 4 + 5) + 100 * (1 + 2 + 3)
expect("cycle estimate", bench.cest(ev), 1850)
expect("no estimate without the simulation", bench.cest(ev0), None)
# its terms: Ir, 10 I1 misses, 10 D1 misses, 100 last-level misses, 10 mispredictions
expect("cycle estimate's terms", bench.cest_parts(ev), [1000, 30, 90, 600, 130])
expect("no terms without the simulation", bench.cest_parts(ev0), None)

# The terms' growth over plain, in percent of plain's whole CEst: they add up to
# the CEst ratio's excess.
cgp = {"empty": {"plain": {"cest_parts": [10, 0, 0, 0, 0]}},
       "imports": {"label": "imports.py",
                   "plain": {"cest_parts": [800, 100, 50, 0, 50]},
                   "selected": {"cest_parts": [820, 130, 50, 10, 60]},
                   "default": {"cest_parts": None}}}
lines = bench.render_cest_parts(cgp).splitlines()
expect("term table rows", len(lines), 3)
expect("-i's terms", [c.strip() for c in lines[2].strip("|").split("|")],
       ["imports (imports.py)", "-i", "+7.00%", "+2.00%", "+3.00%", "+0.00%", "+1.00%", "+1.00%"])
expect("no term table without the simulation",
       bench.render_cest_parts({"imports": {"plain": {"cest_parts": None}}}), None)

# The targets table's rows on the cycle estimate: the whole run's ratio, judged
# as the other noise-free rows are; none where callgrind ran without the events.
cg = {"empty": {"plain": {"ir": 10, "cest": 20}, "selected": {"ir": 12, "cest": 24},
                "default": {"ir": 12, "cest": 24}},
      "imports": {"plain": {"ir": 110, "cest": 200}, "selected": {"ir": 114, "cest": 214},
                  "default": {"ir": 130, "cest": 250}}}
expect("CEst ratio, start-up included", bench.cg_cest_ratio(cg, "imports", "selected"), 1.07)
results = {"3.12.1": {"workloads": {"imports": workload(bench.TARGET_IMPORT, (1.2, 1.25),
                                                        (1.0, 1.04))}, "callgrind": cg}}
rows = {}
for line in bench.targets(results, None).splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if "callgrind" in cells[0]:
        rows[cells[0]] = (cells[2], cells[-1])
# Ir, start-up taken off both sides: (114 - 12) / (110 - 10) = 1.02
expect("-i, callgrind Ir", rows.get("-i, callgrind Ir"), ("1.020 ✓", "met"))
expect("-i, callgrind CEst", rows.get("-i, callgrind CEst"),
       ("1.070 ✗", "missed: imports by 0.020"))
expect("default, callgrind CEst", rows.get("default mode, callgrind CEst"), ("1.250 ✓", "met"))
for k in ("plain", "selected", "default"):
    for r in cg.values():
        r[k].pop("cest")
rows = [line for line in bench.targets(results, None).splitlines() if "CEst" in line]
expect("no CEst rows without the simulation", rows, [])

for p in problems:
    print("FAIL:", p)
print(f"bench-stats: {'failed' if problems else 'ok'}")
sys.exit(1 if problems else 0)

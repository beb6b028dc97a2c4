#!/usr/bin/env python3
"""heavyops overhead benchmark (issue 4).  Not part of `meson test`.

    python3 tests/bench/bench.py            # full run, writes tests/bench/RESULTS.md
    python3 tests/bench/bench.py --quick    # a few minutes, smaller inputs, no RESULTS.md

For every CPython >= 3.11 that scripts/find-pythons lists, builds the recorder
in build-bench-<version> (release) and times four workloads plain, recorded in
the default mode, recorded with -i of the default report set, under cProfile
and under a naive pure-Python instruction counter (a reduced input), in
interleaved rounds; then counts the recorder's callbacks under callgrind, and
times heavyops-analyze on large synthetic recordings.  See tests/bench/README.md.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "workloads")
WORKLOADS = os.path.join(HERE, "workloads")
SELECTED = ["MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "LOAD_DEREF"]

# Issue 4 targets (3.12 and 3.13; 3.11 is reported against its own tracing floor).
TARGET_DEFAULT = 1.25
TARGET_IMPORT = 1.30
TARGET_SELECTED = 1.05
TARGET_ANALYZER_BPS = 1e9
TARGET_DIFF_S = 3.0


# ---------------------------------------------------------------------------
# The naive counter: runs inside the interpreter under test, as
# `python bench.py --naive-count script.py args`.  One Python callback per
# executed instruction, counting into a dict, as the original heavyops did.

def naive_count(argv):
    import runpy

    script = argv[0]
    sys.argv[:] = argv
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    counts = {}
    get = counts.get
    if hasattr(sys, "monitoring"):
        mon = sys.monitoring
        tool = mon.PROFILER_ID

        def on_instruction(code, offset):
            key = (code, offset)
            counts[key] = get(key, 0) + 1

        mon.use_tool_id(tool, "naive-counter")
        mon.register_callback(tool, mon.events.INSTRUCTION, on_instruction)
        mon.set_events(tool, mon.events.INSTRUCTION)
        try:
            runpy.run_path(script, run_name="__main__")
        finally:
            mon.set_events(tool, 0)
    else:
        import threading

        def local(frame, event, arg):
            if event == "opcode":
                key = (frame.f_code, frame.f_lasti)
                counts[key] = get(key, 0) + 1
            return local

        def call(frame, event, arg):
            frame.f_trace_lines = False
            frame.f_trace_opcodes = True
            return local

        threading.settrace(call)
        sys.settrace(call)
        try:
            runpy.run_path(script, run_name="__main__")
        finally:
            sys.settrace(None)
            threading.settrace(None)
    sys.stdout.flush()
    print(f"naive counter: {sum(counts.values())} instructions at {len(counts)} sites",
          file=sys.stderr)


# Before the driver's imports, so that the counter's start-up stays small.
if len(sys.argv) > 2 and sys.argv[1] == "--naive-count":
    naive_count(sys.argv[2:])
    sys.exit(0)

import argparse  # noqa: E402 (the driver's imports)
import datetime  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


# ---------------------------------------------------------------------------
# Workloads

class Workload:
    def __init__(self, name, script, args, quick_args, naive_args, naive_quick_args,
                 cg_args, cg_quick_args, target, same_output=True, per_round=1):
        self.name, self.script = name, script
        self.args, self.quick_args = args, quick_args
        self.naive_args, self.naive_quick_args = naive_args, naive_quick_args
        self.cg_args, self.cg_quick_args = cg_args, cg_quick_args
        self.target = target
        self.same_output = same_output
        # runs of each variant per round: a short workload's medians need more runs to
        # settle, and cost little
        self.per_round = per_round

    def label(self, args):
        return " ".join([os.path.basename(self.script)] + list(args))


def all_workloads():
    if os.path.isdir(SHARED) and os.path.exists(os.path.join(SHARED, "numeric.py")):
        numeric = Workload("numeric", os.path.join(SHARED, "numeric.py"), ["150000"], ["40000"],
                           ["200"], ["100"], ["600"], ["300"], TARGET_DEFAULT)
    else:
        numeric = Workload("nbody", os.path.join(WORKLOADS, "nbody.py"), ["120000"], ["30000"],
                           ["200"], ["100"], ["600"], ["300"], TARGET_DEFAULT)
    return [
        numeric,
        Workload("stdlib", os.path.join(WORKLOADS, "stdlib_mix.py"), ["20"], ["6"],
                 ["1", "0.03"], ["1", "0.03"], ["1", "0.2"], ["1", "0.1"], TARGET_DEFAULT),
        Workload("threaded", os.path.join(WORKLOADS, "threaded.py"), ["250000"], ["60000"],
                 ["5000"], ["2000"], ["2500"], ["1000"], TARGET_DEFAULT),
        # prints how many modules it loaded, which the launcher's own imports change
        Workload("imports", os.path.join(WORKLOADS, "imports.py"), [], [],
                 ["20"], ["6"], ["30"], ["20"], TARGET_IMPORT, same_output=False, per_round=3),
    ]


# ---------------------------------------------------------------------------
# Running things

def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Run:
    __slots__ = ("wall", "user", "sys", "cpu", "rss_kb", "status", "stdout", "stderr")


def run(argv, cwd, env=None):
    """Runs argv to completion; wall time, rusage of the child, its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            actions = [(os.POSIX_SPAWN_DUP2, devnull, 0),
                       (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                       (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
            old = os.getcwd()
            os.chdir(cwd)  # posix_spawn has no cwd before 3.13's file action
            try:
                t0 = time.perf_counter()
                pid = os.posix_spawn(argv[0], argv, env or os.environ, file_actions=actions)
                _, status, ru = os.wait4(pid, 0)
                t1 = time.perf_counter()
            finally:
                os.chdir(old)
        finally:
            os.close(devnull)
        out.seek(0)
        err.seek(0)
        r = Run()
        r.wall = t1 - t0
        r.user = ru.ru_utime
        r.sys = ru.ru_stime
        r.cpu = ru.ru_utime + ru.ru_stime
        r.rss_kb = ru.ru_maxrss
        r.status = os.waitstatus_to_exitcode(status)
        r.stdout = out.read().decode(errors="replace")
        r.stderr = err.read().decode(errors="replace")
        return r


def check(r, what):
    if r.status != 0:
        raise SystemExit(f"bench: {what} exited with {r.status}:\n{r.stderr[-2000:]}")
    return r


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# Resamples for a bootstrap interval: 2,000 give its 2.5% and 97.5% points to
# about a hundredth of the interval's width, in well under a second.
BOOTSTRAP = 2000
# The variants whose runs are paired with the plain run of their round.
PAIRED = ("default", "selected", "floor", "plain2", "cprofile")


def paired(xs, ys, seed=0):
    """The ratio of runs x to runs y of the same round (xs[i] / ys[i]): its
    median, and a 95% bootstrap interval of that median (lo, hi), or None where
    there are fewer than 5 pairs.  A slow patch of the machine that spans a
    round slows both sides of its pair, so the paired ratio is steadier than
    the ratio of the two medians; the interval says how far this run's noise
    leaves it from the true one."""
    rs = [x / y for x, y in zip(xs, ys) if y > 0]
    if not rs:
        return None, None
    m = statistics.median(rs)
    if len(rs) < 5:
        return m, None
    rng = random.Random(seed)  # the same runs give the same interval
    meds = sorted(statistics.median(rng.choices(rs, k=len(rs))) for _ in range(BOOTSTRAP))
    return m, (meds[int(0.025 * BOOTSTRAP)], meds[int(0.975 * BOOTSTRAP) - 1])


# ---------------------------------------------------------------------------
# Interpreters and builds

def find_pythons(wanted):
    out = subprocess.run([os.path.join(REPO, "scripts", "find-pythons")], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        version, path = line.split(None, 1)
        if wanted and not any(version.startswith(w) or path == w for w in wanted):
            continue
        found.append((version, path))
    found.sort(key=lambda vp: tuple(int(x) for x in vp[0].split(".")))
    return found


def build(version, python, skip):
    d = os.path.join(REPO, f"build-bench-{version}")
    logf = os.path.join(tempfile.gettempdir(), f"heavyops-bench-build-{version}.log")
    if not skip:
        with open(logf, "w") as lf:
            if not os.path.exists(os.path.join(d, "build.ninja")):
                cmd = ["meson", "setup", d, f"-Dpython={python}", "-Dbuildtype=release",
                       "-Dtests=false"]
            else:
                cmd = None
            for c in filter(None, [cmd, ["meson", "compile", "-C", d]]):
                if subprocess.run(c, cwd=REPO, stdout=lf, stderr=subprocess.STDOUT).returncode:
                    log(f"bench: building for {version} failed (see {logf}); skipping it")
                    return None
    launcher = os.path.join(d, "heavyops")
    if not os.path.exists(launcher):
        log(f"bench: {launcher} missing; skipping {version}")
        return None
    return d


def build_bigrec(builddir, tmp):
    exe = os.path.join(tmp, "bench-bigrec")
    lib = os.path.join(builddir, "format", "libhopsformat.a")
    lz4 = subprocess.run(["pkg-config", "--libs", "liblz4"], capture_output=True,
                         text=True).stdout.split() or ["-llz4"]
    cmd = [os.environ.get("CC", "cc"), "-O2", "-std=c11", "-D_GNU_SOURCE",
           "-I", os.path.join(REPO, "format", "include"),
           os.path.join(HERE, "bench_bigrec.c"), lib, *lz4, "-o", exe]
    subprocess.run(cmd, check=True)
    return exe


# ---------------------------------------------------------------------------
# Overhead table

def variants(py, builddir, wl, args, tmp):
    launcher = os.path.join(builddir, "heavyops")
    sel = [a for op in SELECTED for a in ("-i", op)]
    return {
        "plain": [py, wl.script, *args],
        # the same command again: how far apart two medians of one command land (A/A)
        "plain2": [py, wl.script, *args],
        "default": [launcher, "record", "-o", os.path.join(tmp, "default.hops"), "--force",
                    wl.script, *args],
        "selected": [launcher, "record", "-o", os.path.join(tmp, "selected.hops"), "--force",
                     *sel, wl.script, *args],
        "cprofile": [py, "-m", "cProfile", "-o", os.path.join(tmp, "cprofile.out"),
                     wl.script, *args],
    }


def naive_variants(py, wl, nargs, empty):
    me = os.path.abspath(__file__)
    return {
        "naive_plain": [py, wl.script, *nargs],
        "naive": [py, me, "--naive-count", wl.script, *nargs],
        "empty_plain": [py, empty],
        "empty_naive": [py, me, "--naive-count", empty],
    }


def measure(py, version, builddir, wls, opts, tmp, env):
    """Interleaved rounds: in every round each workload runs each variant once,
    in an order rotated from round to round."""
    empty = os.path.join(tmp, "empty.py")
    with open(empty, "w") as f:
        f.write("pass\n")
    res = {wl.name: {} for wl in wls}
    sizes = {wl.name: {} for wl in wls}
    expect = {}
    loaded = {wl.name: {} for wl in wls}
    # warm-up: page cache, .pyc files, and the reference output
    for wl in wls:
        args = wl.quick_args if opts.quick else wl.args
        r = check(run([py, wl.script, *args], tmp, env), f"{version} {wl.name} plain")
        expect[wl.name] = r.stdout
    for rep in range(opts.reps):
        t_rep = time.perf_counter()
        for wl, sub in ((wl, sub) for wl in wls for sub in range(wl.per_round)):
            args = wl.quick_args if opts.quick else wl.args
            nargs = wl.naive_quick_args if opts.quick else wl.naive_args
            vs = variants(py, builddir, wl, args, tmp)
            if has_targets(version):  # sys.monitoring's floor, beside the recorder's ratios
                vs["floor"] = [py, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "monitoring_floor.py"), wl.script, *args]
            if not opts.no_naive and sub == 0:
                # the counter itself in the first rounds only; its cheap baselines in every one
                nv = naive_variants(py, wl, nargs, empty)
                if rep >= opts.naive_reps:
                    del nv["naive"]
                vs.update(nv)
            names = list(vs)
            k = (rep * wl.per_round + sub) % len(names)
            for name in names[k:] + names[:k]:
                r = check(run(vs[name], tmp, env), f"{version} {wl.name} {name}")
                res[wl.name].setdefault(name, []).append(r)
                if name in ("naive_plain", "naive") and wl.same_output \
                        and r.stdout != expect.setdefault(wl.name + "/naive", r.stdout):
                    raise SystemExit(f"bench: {version} {wl.name}: the naive counter's output "
                                     f"differs from the plain run's:\n{r.stdout[:500]}")
                if name in ("default", "selected", "cprofile", "floor") and wl.same_output \
                        and r.stdout != expect[wl.name]:
                    raise SystemExit(f"bench: {version} {wl.name} {name}: output differs from "
                                     f"the plain run's:\n{r.stdout[:500]}\nvs\n"
                                     f"{expect[wl.name][:500]}")
                m = re.search(r"(\d+) modules loaded", r.stdout)
                if m and name in ("plain", "default", "selected"):
                    loaded[wl.name][name] = int(m.group(1))
                if name in ("default", "selected"):
                    sizes[wl.name][name] = os.path.getsize(os.path.join(tmp, name + ".hops"))
        log(f"  [{version}] round {rep + 1}/{opts.reps} done in "
            f"{time.perf_counter() - t_rep:.0f} s")
    # the recorder's own memory, as it counts it (HEAVYOPS_STATS), in one more run of each mode
    memory = {wl.name: {} for wl in wls}
    for wl in wls:
        vs = variants(py, builddir, wl, wl.quick_args if opts.quick else wl.args, tmp)
        for mode in ("default", "selected"):
            r = check(run(vs[mode], tmp, dict(env or os.environ, HEAVYOPS_STATS="1")),
                      f"{version} {wl.name} {mode} (stats)")
            m = re.search(r"memory: code tables (\d+) bytes at most \((\d+) at the end\) for "
                          r"(\d+) sites .*counters (\d+) bytes in (\d+) threads at the end, "
                          r"(\d+) bytes in (\d+) threads at most \(at a flush\), "
                          r"scratch (\d+) bytes", r.stderr)
            if m:
                memory[wl.name][mode] = dict(zip(("tables_peak", "tables_end", "sites",
                                                  "counters", "threads", "counters_peak",
                                                  "threads_peak", "scratch"),
                                                 map(int, m.groups())))
    out = {}
    for wl in wls:
        rs = res[wl.name]
        med = {name: {"wall": median([r.wall for r in runs]), "cpu": median([r.cpu for r in runs]),
                      "user": median([r.user for r in runs]), "sys": median([r.sys for r in runs]),
                      "rss_kb": median([r.rss_kb for r in runs]), "n": len(runs),
                      "walls": [round(r.wall, 4) for r in runs]}
               for name, runs in rs.items()}
        out[wl.name] = {
            "label": wl.label(wl.quick_args if opts.quick else wl.args),
            "naive_label": wl.label(wl.naive_quick_args if opts.quick else wl.naive_args),
            "target": wl.target, "median": med, "sizes": sizes[wl.name],
            "loaded": loaded[wl.name], "memory": memory[wl.name],
            # each variant's runs against the plain run of their round (the naive
            # counter's baselines have their own input, not plain's)
            "paired": {name: {key: dict(zip(("ratio", "ci"),
                                            paired([getattr(r, key) for r in rs[name]],
                                                   [getattr(r, key) for r in rs["plain"]])))
                              for key in ("wall", "cpu")}
                       for name in PAIRED if len(rs.get(name, ())) == len(rs["plain"])},
        }
    return out


def ratio(m, a, b, key):
    return m[a][key] / m[b][key]


def naive_ratio(m, key):
    """Naive counter vs plain at the reduced input, with each tool's start-up
    (the same command on an empty script) taken off both sides."""
    if "naive" not in m:
        return None
    num = m["naive"][key] - m["empty_naive"][key]
    den = m["naive_plain"][key] - m["empty_plain"][key]
    return num / den if den > 0 else None


# ---------------------------------------------------------------------------
# callgrind

# The terms of the cycle estimate: a name, a weight, and the events it weighs.
CEST_PARTS = (("instructions", 1, ("Ir",)),
              ("L1 instruction misses", 10, ("I1mr",)),
              ("L1 data misses", 10, ("D1mr", "D1mw")),
              ("last-level misses", 100, ("ILmr", "DLmr", "DLmw")),
              ("mispredicted branches", 10, ("Bcm", "Bim")))


def cest_parts(ev):
    """The terms of cest(ev), in CEST_PARTS' order; None without the simulation's events."""
    if ev is None or any(k not in ev for _, _, ks in CEST_PARTS for k in ks):
        return None
    return [w * sum(ev[k] for k in ks) for _, w, ks in CEST_PARTS]


def cest(ev):
    """KCachegrind's cycle estimate, CEst = Ir + 10 Bm + 10 L1m + 100 LLm, from a run's event
    totals (--cache-sim=yes --branch-sim=yes; Bm: branch mispredictions, L1m and LLm: misses of
    the first and last cache levels): a noise-free figure that, unlike Ir, also charges the
    cache misses and mispredicted branches the clock pays for.  None without those events."""
    parts = cest_parts(ev)
    return None if parts is None else sum(parts)


def parse_callgrind(path, marker):
    """Total Ir; per function of the object whose path contains marker that is
    called from outside it (the callbacks and module functions): calls and
    inclusive Ir; and the totals of every event, by name.  Needs
    --compress-strings=no --compress-pos=no."""
    ob = cob = cfn = None
    entries = {}
    total = None
    names, totals = [], None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                ob = line[3:].strip()
            elif line.startswith("cob="):
                cob = line[4:].strip()
            elif line.startswith("cfn="):
                cfn = line[4:].strip()
            elif line.startswith("calls="):
                n = int(line[6:].split()[0])
                incl = int(next(f).split()[1])
                callee = cob if cob is not None else ob
                if marker in callee and marker not in (ob or ""):
                    e = entries.setdefault(cfn, [0, 0])
                    e[0] += n
                    e[1] += incl
                cob = None
            elif line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith(("totals:", "summary:")):
                totals = [int(x) for x in line.split()[1:]]
    # Ir comes first whatever else was collected; events a run lacks count 0
    ev = dict(zip(names, totals + [0] * (len(names) - len(totals)))) if totals else None
    return (totals[0] if totals else None), entries, ev


def hops_info(analyze, path):
    r = subprocess.run([analyze, "info", "--format", "json", path], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout)["files"][0]


def callgrind(py, version, builddir, wls, opts, tmp, env):
    vg = shutil.which("valgrind")
    if vg is None:
        log("bench: valgrind not found; no callgrind figures")
        return None
    empty = os.path.join(tmp, "empty.py")
    with open(empty, "w") as f:
        f.write("pass\n")
    analyze = os.path.join(builddir, "heavyops-analyze")
    out = {}
    # --callgrind-long: every workload at the inputs of a --quick timed run, where the run
    # itself outweighs start-up (about 17 minutes per interpreter)
    todo = [wl for wl in wls if opts.callgrind_long or wl.name in ("numeric", "nbody", "imports")]
    for wl in [None] + todo:
        name = "empty" if wl is None else wl.name
        script = empty if wl is None else wl.script
        args = [] if wl is None else (wl.quick_args if opts.callgrind_long else
                                      wl.cg_quick_args if opts.quick else wl.cg_args)
        row = {"label": "empty.py" if wl is None else wl.label(args)}
        vars_ = variants(py, builddir, Workload(name, script, args, args, [], [], [], [], 0), args,
                         tmp)
        # The recorder flushes (and re-plans) at wall-clock times.  Under callgrind the program
        # runs some 50x slower, so it would flush some 50x as often for as much program as
        # natively: the flusher's waits are scaled by the slowdown of the plain run
        # (HEAVYOPS_TIME_SCALE), and flushes come after as much program as in a native run.
        native = median([check(run(vars_["plain"], tmp, env), f"{version} {name} plain").wall
                         for _ in range(3)])
        scale = 1.0
        for mode, vs in vars_.items():
            if mode in ("cprofile", "plain2"):
                continue
            cg = os.path.join(tmp, f"callgrind.{mode}.out")
            t0 = time.perf_counter()
            menv = dict(env or os.environ, HEAVYOPS_TIME_SCALE=f"{scale:.1f}")
            # --fair-sched=yes: valgrind runs one thread at a time, and by default a thread
            # that wakes from a timed wait (the flusher) may wait behind the running one for
            # the rest of the run; without it the default mode re-planned nothing in some
            # runs of the stdlib mix (83 re-plans natively, 0 or 69 under callgrind).
            # --cache-sim and --branch-sim: the events of the cycle estimate (cest); they
            # leave Ir as it is, and take about twice the time
            r = check(run([vg, "--tool=callgrind", "--fair-sched=yes", f"--callgrind-out-file={cg}",
                           "--compress-strings=no", "--compress-pos=no", "--cache-sim=yes",
                           "--branch-sim=yes", *vs], tmp, menv),
                      f"{version} callgrind {name} {mode}")
            if mode == "plain":
                scale = max(1.0, r.wall / native)
                row["time_scale"] = scale
            total, entries, ev = parse_callgrind(cg, "_recorder.")
            row[mode] = {"ir": total, "entries": entries, "cest": cest(ev),
                         "cest_parts": cest_parts(ev)}
            if mode == "default":
                info = hops_info(analyze, os.path.join(tmp, "default.hops"))
                row["instructions"] = sum(t["instructions"] for t in info["threads"])
            os.unlink(cg)
            log(f"  [{version}] callgrind {name} {mode}: {total:,} Ir "
                f"({time.perf_counter() - t0:.0f} s; flusher's waits x{scale:.1f})")
        out[name] = row
    return out


# ---------------------------------------------------------------------------
# Analyzer

def analyzer_bench(builddir, opts, tmp, env):
    analyze = os.path.join(builddir, "heavyops-analyze")
    gen = build_bigrec(builddir, tmp)
    mib = 256 if opts.quick else 1024
    sites = 1_000_000
    threads = 16
    files = {"A": (mib, 1), "B": (mib, 2), "S": (mib // 8, 3)}
    paths = {}
    for k, (size, seed) in files.items():
        p = os.path.join(tmp, f"big-{k}.hops")
        t0 = time.perf_counter()
        subprocess.run([gen, p, str(size), str(sites), str(threads), str(seed)], check=True)
        log(f"  analyzer: generated {p} ({os.path.getsize(p) / 1e6:.0f} MB on disk) in "
            f"{time.perf_counter() - t0:.1f} s")
        paths[k] = p
    info = {k: hops_info(analyze, p) for k, p in paths.items()}
    cmds = {
        "report": [analyze, paths["A"]],
        "report_all": [analyze, "-i", "*", paths["A"]],
        "report_small": [analyze, paths["S"]],
        "diff": [analyze, "diff", paths["A"], paths["B"]],
    }
    runs = {k: [] for k in cmds}
    reps = 2 if opts.quick else 3
    for rep in range(reps):
        for k, c in cmds.items():
            runs[k].append(check(run(c, tmp, env), "heavyops-analyze " + k))
    for p in paths.values():
        os.unlink(p)
    out = {"info": {k: {x: v[x] for x in ("frame_bytes", "compressed_frame_bytes", "sites",
                                             "file_size")} | {"threads": len(v["threads"])}
                    for k, v in info.items()}}
    for k, rs in runs.items():
        out[k] = {"wall": median([r.wall for r in rs]), "user": median([r.user for r in rs]),
                  "sys": median([r.sys for r in rs]), "rss_kb": max(r.rss_kb for r in rs),
                  "n": len(rs)}
    return out


# ---------------------------------------------------------------------------
# Rendering

def table(headers, rows, right=None):
    right = right or [i > 0 for i in range(len(headers))]
    cells = [[str(c) for c in r] for r in rows]
    w = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(len(headers))]

    def line(cs):
        return "| " + " | ".join(c.rjust(w[i]) if right[i] else c.ljust(w[i])
                                 for i, c in enumerate(cs)) + " |"

    sep = "|" + "|".join("-" * (w[i] + 1) + (":" if right[i] else "-") for i in range(len(w))) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def fs(t):
    return f"{t:.3f}" if t < 10 else f"{t:.2f}" if t < 100 else f"{t:.1f}"


def fx(x, target=None):
    if x is None:
        return "n/a"
    s = f"{x:.2f}×" if x < 10 else f"{x:.1f}×" if x < 100 else f"{x:.0f}×"
    if target is not None:
        s += " ✓" if x <= target else " ✗"
    return s


def judge_interval(ci, target):
    """"met" if the whole interval ci is at or under target, "missed" if all of
    it is over, "unresolved" if it holds the target (the run cannot tell)."""
    return "met" if ci[1] <= target else "missed" if ci[0] > target else "unresolved"


def fci(p, target=None):
    """A paired ratio with its 95% interval: 1.07× (1.02–1.11), marked against
    target as judge_interval says: ✓ met, ✗ missed, ? unresolved."""
    if p is None or p.get("ratio") is None:
        return "n/a"
    s = f"{p['ratio']:.3f}×"
    ci = p.get("ci")
    if ci:
        s += f" ({ci[0]:.3f}–{ci[1]:.3f})"
        if target is not None:
            s += {"met": " ✓", "missed": " ✗", "unresolved": " ?"}[judge_interval(ci, target)]
    return s


def fsize(n):
    if n is None:
        return "n/a"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n} B"


def fmb(kb):
    return f"{kb / 1024:.0f}"


def has_targets(version):
    return tuple(int(x) for x in version.split(".")[:2]) >= (3, 12)


def render_interp(version, path, res, opts):
    tg = has_targets(version)
    heads = ["workload", "plain s", "default s", "×wall", "×cpu", "-i s", "×wall", "×cpu",
             "floor ×wall", "×cpu", ".hops default", ".hops -i", "cProfile ×wall", "×cpu",
             "naive input", "plain s", "naive s", "naive ×wall", "×cpu"]
    rows = []
    for name, r in res.items():
        m = r["median"]
        nv = "naive" in m
        rows.append([
            f"{name} ({r['label']})", fs(m["plain"]["wall"]), fs(m["default"]["wall"]),
            fx(ratio(m, "default", "plain", "wall"), r["target"] if tg else None),
            fx(ratio(m, "default", "plain", "cpu")),
            fs(m["selected"]["wall"]),
            fx(ratio(m, "selected", "plain", "wall"), TARGET_SELECTED if tg else None),
            fx(ratio(m, "selected", "plain", "cpu")),
            fx(ratio(m, "floor", "plain", "wall")) if "floor" in m else "-",
            fx(ratio(m, "floor", "plain", "cpu")) if "floor" in m else "-",
            fsize(r["sizes"].get("default")), fsize(r["sizes"].get("selected")),
            fx(ratio(m, "cprofile", "plain", "wall")), fx(ratio(m, "cprofile", "plain", "cpu")),
            r["naive_label"] if nv else "-",
            fs(m["naive_plain"]["wall"]) if nv else "-", fs(m["naive"]["wall"]) if nv else "-",
            fx(naive_ratio(m, "wall")) if nv else "-", fx(naive_ratio(m, "cpu")) if nv else "-",
        ])
    right = [False] + [True] * 13 + [False] + [True] * 4
    t1 = table(heads, rows, right)
    aa = [f"{name} {fx(ratio(r['median'], 'plain2', 'plain', 'wall'))}"
          for name, r in res.items() if "plain2" in r["median"]]
    if aa:
        t1 += ("\n\nA/A: the plain command run a second time in every round, its median ÷ the "
               "first's, shows how far apart two medians of one and the same command land on "
               "this machine in this run: " + ", ".join(aa) + ".")
    pheads = ["workload", "pairs", "default ×wall", "-i ×wall", "floor ×wall", "A/A ×wall",
              "default ×cpu", "-i ×cpu"]
    prows = []
    for name, r in res.items():
        pr = r.get("paired", {})
        prows.append([name, str(r["median"]["plain"]["n"]),
                      fci(pr.get("default", {}).get("wall"), r["target"] if tg else None),
                      fci(pr.get("selected", {}).get("wall"), TARGET_SELECTED if tg else None),
                      fci(pr.get("floor", {}).get("wall")), fci(pr.get("plain2", {}).get("wall")),
                      fci(pr.get("default", {}).get("cpu")),
                      fci(pr.get("selected", {}).get("cpu"))])
    t1 += ("\n\nPaired ratios: each recorded run ÷ the plain run of its round, their median and "
           "a 95% bootstrap interval of that median. A slow patch of the machine that spans a "
           "round slows both runs of a pair, so these are steadier than ratios of medians; "
           "✓ marks an interval wholly at or under the target, ✗ one wholly over it, ? one "
           "that holds it (this run's noise cannot tell).\n\n"
           + table(pheads, prows, [False] + [True] * 7))
    if any("floor" in r["median"] for r in res.values()):
        t1 += ("\n\nfloor: the least any sys.monitoring tool pays that must see each code "
               "object as it first runs, as the recorder must to place its counters: PY_START "
               "and PY_RESUME on, a Python callback returning DISABLE, nothing counted "
               "(`tests/bench/monitoring_floor.py`). It is part of both recorded ratios.")
    mheads = ["workload", "RSS plain MB", "RSS default MB", "Δ", "RSS -i MB", "Δ",
              "RSS cProfile MB"]
    mrows = []
    for name, r in res.items():
        m = r["median"]
        p = m["plain"]["rss_kb"]
        mrows.append([name, fmb(p), fmb(m["default"]["rss_kb"]),
                      f"{(m['default']['rss_kb'] - p) / 1024:+.1f}", fmb(m["selected"]["rss_kb"]),
                      f"{(m['selected']['rss_kb'] - p) / 1024:+.1f}", fmb(m["cprofile"]["rss_kb"])])
    t2 = table(mheads, mrows)
    rheads = ["workload", "mode", "sites", "code tables at most", "bytes a site",
              "counters at the end", "threads", "counters at most", "threads", "scratch"]
    rrows = []
    for name, r in res.items():
        for mode, label in (("default", "default"), ("selected", "-i")):
            m = r.get("memory", {}).get(mode)
            if m:
                rrows.append([name, label, f"{m['sites']:,}", fsize(m["tables_peak"]),
                              f"{m['tables_peak'] / max(m['sites'], 1):.1f}",
                              fsize(m["counters"]), str(m["threads"]),
                              fsize(m["counters_peak"]), str(m["threads_peak"]),
                              fsize(m["scratch"])])
    if rrows:
        t2 += ("\n\nThe recorder's own memory, as it counts it (`HEAVYOPS_STATS=1`, one more run "
               "of each mode): the tables of the code objects it counts, at their most, per "
               "site declared; the threads' counters at the end of the run, and at their most "
               "as the flushes found them (threads that had ended but whose last counts were "
               "not yet written included); and first sight's scratch space (allocated, touched "
               "only as deep as the largest code object needs).\n\n"
               + table(rheads, rrows, [False, False] + [True] * 8))
    return t1, t2


def cg_ratio(cg, name, mode):
    """The callgrind table's Ir ratio: (Ir − empty) of the mode ÷ (Ir − empty) of plain."""
    base, row = cg["empty"], cg[name]
    return (row[mode]["ir"] - base[mode]["ir"]) / (row["plain"]["ir"] - base["plain"]["ir"])


def cg_cest_ratio(cg, name, mode):
    """The cycle estimate's ratio over the whole run, start-up included, as the clock sees it;
    None where callgrind ran without the cache and branch simulation."""
    row = cg[name]
    a, b = row[mode].get("cest"), row["plain"].get("cest")
    return a / b if a and b else None


def render_callgrind(cg):
    heads = ["workload", "mode", "Ir", "Ir − empty", "Ir ratio", "CEst ratio", "flusher's waits",
             "instructions run",
             "extra Ir / instruction", "calls into recorder", "extra Ir / call",
             "callbacks: calls × Ir per call (inclusive)"]
    rows = []
    base = cg["empty"]
    for name, row in cg.items():
        if name == "empty":
            continue
        dplain = row["plain"]["ir"] - base["plain"]["ir"]
        for mode in ("plain", "default", "selected"):
            d = row[mode]["ir"] - base[mode]["ir"]
            ents = sorted(row[mode]["entries"].items(), key=lambda kv: -kv[1][0])
            cbs = "; ".join(f"{fn} {c:,} × {incl / c:,.0f}" for fn, (c, incl) in ents
                            if c >= 100) or "-"
            n = row.get("instructions")
            extra = (d - dplain) / n if n and mode != "plain" else None
            calls = sum(c for c, _ in row[mode]["entries"].values())
            per_call = (d - dplain) / calls if calls and mode != "plain" else None
            rows.append([f"{name} ({row['label']})", {"selected": "-i"}.get(mode, mode),
                         f"{row[mode]['ir']:,}", f"{d:,}",
                         "1" if mode == "plain" else f"{cg_ratio(cg, name, mode):.3f}",
                         "1" if mode == "plain" else fx3(cg_cest_ratio(cg, name, mode)),
                         "-" if mode == "plain" else f"×{row.get('time_scale', 1.0):.0f}",
                         f"{n:,}" if n else "-", f"{extra:.1f}" if extra is not None else "-",
                         f"{calls:,}" if mode != "plain" else "-",
                         f"{per_call:,.0f}" if per_call is not None else "-", cbs])
    return table(heads, rows, [False, False] + [True] * 9 + [False])


def render_cest_parts(cg):
    """Where each mode's cycle estimate over plain goes: the growth of each term of CEst, in
    percent of plain's whole CEst (they add up to the CEst ratio's excess).  None where
    callgrind ran without the cache and branch simulation."""
    heads = ["workload", "mode", "CEst over plain"] + [f"{n} (×{w})" for n, w, _ in CEST_PARTS]
    rows = []
    for name, row in cg.items():
        base = row["plain"].get("cest_parts")
        if name == "empty" or base is None:
            continue
        total = sum(base)
        for mode in ("default", "selected"):
            parts = row[mode].get("cest_parts")
            if parts is None:
                continue
            rows.append([f"{name} ({row['label']})", {"selected": "-i"}.get(mode, mode),
                         f"{100 * (sum(parts) - total) / total:+.2f}%"]
                        + [f"{100 * (p - b) / total:+.2f}%" for p, b in zip(parts, base)])
    return table(heads, rows, [False, False] + [True] * (len(heads) - 2)) if rows else None


def fx3(x):
    return "-" if x is None else f"{x:.3f}"


def render_analyzer(an):
    a, s = an["info"]["A"], an["info"]["S"]
    heads = ["command", "frame data", "sites", "threads", "wall s", "cpu s", "MB/s (wall)",
             "MB/s (cpu)", "peak RSS MB", "target"]
    rows = []
    for k, label, info, nbytes in (
            ("report", "heavyops-analyze A", a, a["frame_bytes"]),
            ("report_all", "heavyops-analyze -i '*' A", a, a["frame_bytes"]),
            ("report_small", "heavyops-analyze S (1/8 of A's frames)", s, s["frame_bytes"]),
            ("diff", "heavyops-analyze diff A B", a, 2 * a["frame_bytes"])):
        m = an[k]
        cpu = m["user"] + m["sys"]
        if k == "report":
            tgt = "≥ 1000 MB/s " + ("✓" if nbytes / m["wall"] >= TARGET_ANALYZER_BPS else "✗")
        elif k == "diff":
            tgt = "< 3 s " + ("✓" if m["wall"] < TARGET_DIFF_S else "✗")
        else:
            tgt = ""
        rows.append([label, fsize(nbytes), f"{info['sites']:,}", str(info["threads"]),
                     fs(m["wall"]), fs(cpu), f"{nbytes / 1e6 / m['wall']:,.0f}",
                     f"{nbytes / 1e6 / cpu:,.0f}", fmb(m["rss_kb"]), tgt])
    right = [False] + [True] * 8 + [False]
    return table(heads, rows, right)


def targets(results, an):
    """One row per (target, interpreter): every workload's ×wall (×cpu), and
    the verdict on the wall-time medians."""
    names = []
    for r in results.values():
        names += [n for n in r["workloads"] if n not in names]
    ncols = max(len(names), 1)  # --analyzer-only has no workload columns
    heads = (["target", "interpreter"] + ([f"{n} ×wall (×cpu)" for n in names] or ["measured"])
             + ["verdict"])
    rows = []

    def judge(label, version, r, mode, measure, fmt, gap):
        """A row: each workload's cell fmt(x, w) for measure(n, w) (None: no cell), marked
        against the target, and the verdict, which gives each miss as gap(x - target)."""
        tg = has_targets(version)
        cells, missed = [], []
        for n in names:
            w = r["workloads"].get(n)
            x = measure(n, w) if w is not None else None
            if x is None:
                cells.append("-")
                continue
            tgt = w["target"] if mode == "default" else TARGET_SELECTED
            cells.append(fmt(x, w) + ((" ✓" if x <= tgt else " ✗") if tg else ""))
            if tg and x > tgt:
                missed.append(f"{n} by {gap(x - tgt)}")
        if not tg:
            verdict = ("report only (3.11's tracing API costs ~2.5× before any event)"
                       if mode == "default" else "report only")
        else:
            verdict = "met" if not missed else "missed: " + ", ".join(missed)
        rows.append([label, version] + cells + [verdict])

    for mode, label in (("default", "default mode ≤ 1.25× (imports ≤ 1.3×)"),
                        ("selected", "-i of the default set ≤ 1.05×")):
        for version, r in results.items():
            judge(label, version, r, mode,
                  lambda n, w: ratio(w["median"], mode, "plain", "wall"),
                  lambda x, w: f"{x:.2f}× ({ratio(w['median'], mode, 'plain', 'cpu'):.2f}×)",
                  lambda d: f"{d:.2f}×")
    # the same targets on the paired ratios: met if the 95% interval is at or under
    # the target, missed if it is all over, unresolved if it holds the target
    for mode, label in (("default", "default mode, paired ×wall (95% interval)"),
                        ("selected", "-i, paired ×wall (95% interval)")):
        for version, r in results.items():
            if not has_targets(version):
                continue
            cells, verdicts = [], []
            for n in names:
                w = r["workloads"].get(n)
                p = w.get("paired", {}).get(mode, {}).get("wall") if w else None
                if p is None or p.get("ci") is None:
                    cells.append("-")
                    continue
                tgt = w["target"] if mode == "default" else TARGET_SELECTED
                cells.append(fci(p, tgt))
                lo, hi = p["ci"]
                v = judge_interval(p["ci"], tgt)
                if v == "missed":
                    verdicts.append(f"{n} missed by {lo - tgt:.3f}× to {hi - tgt:.3f}×")
                elif v == "unresolved":
                    verdicts.append(f"{n} unresolved ({lo:.3f}×–{hi:.3f}× holds {tgt:.2f}×)")
            if any(c != "-" for c in cells):
                rows.append([label, version] + cells + ["; ".join(verdicts) or "met"])
    # the same targets in callgrind's noise-free figures, where callgrind ran: the
    # instruction counts with start-up taken off both sides (the callgrind table's Ir
    # ratio), and the cycle estimate over the whole run (start-up included, as on the
    # clock), where callgrind simulated the caches and branches
    for measure, ratio_of in (("Ir", cg_ratio), ("CEst", cg_cest_ratio)):
        for mode, label in (("default", "default mode"), ("selected", "-i")):
            for version, r in results.items():
                cg = r.get("callgrind")
                if cg and has_targets(version) and any(
                        ratio_of(cg, n, mode) is not None for n in cg if n != "empty"):
                    judge(f"{label}, callgrind {measure}", version, r, mode,
                          lambda n, w: ratio_of(cg, n, mode) if n in cg else None,
                          lambda x, w: f"{x:.3f}", lambda d: f"{d:.3f}")
    if an:
        a = an["info"]["A"]
        bps = a["frame_bytes"] / an["report"]["wall"]
        rows.append(["analyzer ≥ 1000 MB/s (report on A)", "-",
                     f"{bps / 1e6:,.0f} MB/s on {fsize(a['frame_bytes'])}"]
                    + ["" for _ in range(ncols - 1)]
                    + ["met" if bps >= TARGET_ANALYZER_BPS else
                       f"missed by {(TARGET_ANALYZER_BPS - bps) / 1e6:,.0f} MB/s"])
        d = an["diff"]["wall"]
        rows.append(["diff A B < 3 s", "-", f"{d:.2f} s on 2 × {fsize(a['frame_bytes'])}"]
                    + ["" for _ in range(ncols - 1)]
                    + ["met" if d < TARGET_DIFF_S else f"missed by {d - TARGET_DIFF_S:.2f} s"])
    return table(heads, rows, [False, False] + [True] * ncols + [False])


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": os.uname().release}


def git_state():
    def g(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()

    head = g("rev-parse", "--short", "HEAD")
    diff = g("diff", "HEAD", "--", "recorder", "format", "analyzer")
    if not diff:
        return head
    import hashlib

    return (f"{head} plus uncommitted changes to recorder/, format/ or analyzer/ (diff sha1 "
            f"{hashlib.sha1(diff.encode()).hexdigest()[:10]})")


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smaller inputs, 3 rounds, 1 naive round, 256 MiB analyzer files; "
                         "writes no RESULTS.md unless --results is given")
    ap.add_argument("--python", action="append", default=[], metavar="VERSION|PATH",
                    help="only interpreters whose version starts with VERSION or at PATH "
                         "(repeatable; default: all that scripts/find-pythons lists)")
    ap.add_argument("--workload", action="append", default=[], metavar="NAME",
                    help="only this workload (numeric, stdlib, threaded, imports; repeatable)")
    ap.add_argument("--reps", type=int, help="rounds per workload (default 5, quick 3)")
    ap.add_argument("--naive-reps", type=int, help="rounds with the naive counter (default 3, "
                    "quick 1)")
    ap.add_argument("--no-naive", action="store_true", help="skip the naive counter")
    ap.add_argument("--no-callgrind", action="store_true", help="skip callgrind")
    ap.add_argument("--callgrind-long", action="store_true",
                    help="callgrind every workload at the --quick timed inputs, not at the "
                         "short callgrind inputs (about 17 minutes per interpreter)")
    ap.add_argument("--callgrind-all", action="store_true",
                    help="callgrind on every interpreter (default: the newest of each 3.x; "
                         "quick: the newest one)")
    ap.add_argument("--no-analyzer", action="store_true", help="skip the analyzer benchmark")
    ap.add_argument("--analyzer-only", action="store_true",
                    help="only the analyzer benchmark (one build, no workloads); writes no "
                         "RESULTS.md unless --results is given")
    ap.add_argument("--no-build", action="store_true", help="use the build-bench-* dirs as they are")
    ap.add_argument("--results", metavar="FILE",
                    help="write the Markdown here (default: tests/bench/RESULTS.md on full runs)")
    ap.add_argument("--json", metavar="FILE", help="also write every median as JSON")
    ap.add_argument("--tmpdir", metavar="DIR", help="where recordings and big files go "
                    "(default: the system temp dir; removed afterwards)")
    opts = ap.parse_args()
    opts.reps = opts.reps or (3 if opts.quick else 5)
    opts.naive_reps = min(opts.naive_reps or (1 if opts.quick else 3), opts.reps)
    results_path = opts.results or (None if opts.quick or opts.analyzer_only
                                    else os.path.join(HERE, "RESULTS.md"))

    t_start = time.perf_counter()
    started = datetime.datetime.now()
    load0 = os.getloadavg()
    built_from = git_state()  # what the builds below compile: the working tree, now
    pythons = find_pythons(opts.python)
    if not pythons:
        raise SystemExit("bench: no CPython >= 3.11 found (scripts/find-pythons)")
    wls = [w for w in all_workloads() if not opts.workload or w.name in opts.workload
           or (w.name == "nbody" and "numeric" in opts.workload)]
    if opts.analyzer_only:
        pythons, wls = pythons[:1], []  # the analyzer does not depend on the interpreter
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    tmp = tempfile.mkdtemp(prefix="heavyops-bench-", dir=opts.tmpdir)
    results = {}
    md = []
    an = None
    try:
        builds = {}
        for version, py in pythons:
            log(f"bench: building the recorder for Python {version} ({py})")
            d = build(version, py, opts.no_build)
            if d:
                builds[version] = (py, d)
        newest = {}
        for version in builds:
            newest[version.rsplit(".", 1)[0]] = version  # builds are sorted by version
        if opts.quick and newest:
            newest = {"": max(newest.values(), key=lambda v: tuple(map(int, v.split("."))))}
        for version, (py, d) in builds.items():
            if opts.analyzer_only:
                break
            log(f"bench: Python {version}: {len(wls)} workloads × {opts.reps} rounds")
            r = {"python": py, "workloads": measure(py, version, d, wls, opts, tmp, env)}
            t1, t2 = render_interp(version, py, r["workloads"], opts)
            sections = [f"## Python {version} ({py})", "",
                        f"Medians of {opts.reps} interleaved rounds (naive counter: "
                        f"{0 if opts.no_naive else opts.naive_reps})"
                        + "".join(f"; {wl.name}: {wl.per_round} runs of each variant a round, "
                                  f"{wl.per_round * opts.reps} in all" for wl in wls
                                  if wl.per_round > 1) + ".", "", t1, "",
                        "Peak RSS (ru_maxrss, median):", "", t2, ""]
            loaded = r["workloads"].get("imports", {}).get("loaded")
            if loaded:
                sections += [f"imports: modules loaded by the workload: plain "
                             f"{loaded.get('plain')}, recorded {loaded.get('default')} (the "
                             "launcher has imported the others before the recording starts).",
                             ""]
            if not opts.no_callgrind and (opts.callgrind_all or version in newest.values()):
                cg = callgrind(py, version, d, wls, opts, tmp, env)
                r["callgrind"] = cg
                if cg:
                    sections += ["callgrind (instructions executed by the CPU, noise-free; "
                                 "`Ir − empty` subtracts the same command on an empty script; "
                                 "`CEst ratio` is KCachegrind's cycle estimate, Ir + 10 × "
                                 "mispredicted branches + 10 × first-level cache misses + 100 × "
                                 "last-level misses, of the whole run ÷ plain's, start-up "
                                 "included as on the clock):",
                                 "", render_callgrind(cg), ""]
                    parts = render_cest_parts(cg)
                    if parts:
                        sections += ["The cycle estimate over plain, term by term (the growth of "
                                     "each term of CEst in percent of plain's whole CEst; the "
                                     "terms add up to the CEst ratio's excess):", "", parts, ""]
            results[version] = r
            print("\n".join(sections), flush=True)
            md += sections
        if not opts.no_analyzer and builds:
            log("bench: analyzer")
            an = analyzer_bench(next(iter(builds.values()))[1], opts, tmp, env)
            sec = ["## Analyzer", "",
                   f"Synthetic recordings from tests/bench/bench_bigrec.c: A and B with "
                   f"{an['info']['A']['sites']:,} sites in {an['info']['A']['threads']} "
                   f"threads, S with the same sites and 1/8 of the frames (its RSS against A's "
                   f"shows what memory follows file size). Medians of "
                   f"{an['report']['n']} runs; MB = 10^6 bytes of decompressed frame data.", "",
                   render_analyzer(an), ""]
            a, s_ = an["info"]["A"], an["info"]["S"]
            dt = an["report"]["wall"] - an["report_small"]["wall"]
            if dt > 0:
                sec += [f"Frame data alone (A − S: {fsize(a['frame_bytes'] - s_['frame_bytes'])} in "
                        f"{dt:.2f} s): {(a['frame_bytes'] - s_['frame_bytes']) / 1e6 / dt:,.0f} "
                        "MB/s; the rest of A's time is per-site work that S also does.", ""]
            print("\n".join(sec), flush=True)
            md += sec
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    tsec = ["## Targets (issue 4)", "", targets(results, an), ""]
    print("\n".join(tsec), flush=True)
    md += tsec
    mach = machine()
    elapsed = time.perf_counter() - t_start
    head = ["# heavyops overhead benchmark: results", "",
            f"Measured {started.strftime('%Y-%m-%d %H:%M')}–"
            f"{datetime.datetime.now().strftime('%H:%M')} with "
            f"`python3 tests/bench/bench.py{' --quick' if opts.quick else ''}"
            f"{' --analyzer-only' if opts.analyzer_only else ''}`, built from "
            f"commit {built_from}, in {elapsed / 60:.0f} min.", "",
            f"Machine: {mach['nproc']} CPUs (nproc), {mach['cpu']}, Linux {mach['kernel']}; "
            f"load average {load0[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
            "Interpreters: " + ", ".join(f"{v} ({p})" for v, p in pythons) + ".",
            "Workloads: " + ", ".join(f"{w.name} = {os.path.relpath(w.script, REPO)}" for w in wls)
            + ".", "",
            "Ratios are recorded ÷ plain medians of the same run: ×wall of wall-clock time, "
            "×cpu of CPU time (user + sys, all threads).  ✓/✗ mark the issue's targets "
            "(3.12 and 3.13 only).  Under each interpreter's table, paired ratios (each run "
            "÷ the plain run of its round) give a 95% interval of their median, and the "
            "Targets table judges the targets on those intervals too.  The naive counter (a "
            "Python callback per instruction: "
            "sys.monitoring INSTRUCTION on 3.12+, sys.settrace opcode events on 3.11) runs on a "
            "reduced input with its own plain baseline; its ratio takes the start-up of each "
            "side (the same command on an empty script) off both.  See tests/bench/README.md.",
            ""]
    log(f"bench: done in {elapsed / 60:.1f} min")
    if results_path:
        with open(results_path, "w") as f:
            f.write("\n".join(head + md))
        log(f"bench: wrote {results_path}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"results": results, "analyzer": an, "machine": mach}, f, indent=1,
                      default=str)


if __name__ == "__main__":
    main()

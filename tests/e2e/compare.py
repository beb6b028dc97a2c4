"""Exactness: a recording's sites in the workload's own file equal the oracle's.

    compare.py --python PY --heavyops H --analyze A --cache DIR
               [--mode default|select|glob|files|replan] WORKLOAD

Runs tests/oracle/oracle.py on WORKLOAD with PY (cached per interpreter and workload, in its
own process), records WORKLOAD with `heavyops record` (mode "default": every instruction;
"select": -i of each name in the analyzer's default set; "glob": -i 'BUILD_*' -i 'LOAD_DE*',
with a flush every 2 ms (so that on 3.12 the superinstructions the recorder gives back to
counted code run mid-way, see rec_backend_restore_supers);
"files": every instruction, with -f WORKLOAD's base name; "replan": every instruction, with
a flush every 2 ms and every code object's counters re-planned at its first flush after it
fired an event, wherever its frames are then), reads every site back with
`heavyops-analyze --by site -i '*' --top 0 --format json`, and compares, site by site, every
(function, firstlineno, offset) in WORKLOAD's file: instruction name, line and count must be
equal, and no site may be missing or extra. Code in other files (runpy, importlib, the
standard library, heavyops itself, the oracle) is left out of the comparison.

Ground-truth details:
  - 3.11 has no INSTRUCTION events: the oracle sees sys.settrace opcode events, and there an
    EXTENDED_ARG's event stands for the instruction it prefixes (which fires none). The
    recorder reports it at the offset and name of that instruction (the first one after the
    EXTENDED_ARG chain), so the oracle's EXTENDED_ARG sites are moved there before comparing.
  - Totals: over the workload's file they are equal whenever the sites are. The recording's
    total (all files) is not compared with the oracle's, which also counts its own start-up
    and shutdown code and runs the target differently from the recorder's launcher; instead,
    in the default mode the JSON "total" must equal the sum of every site's count (each
    executed instruction belongs to exactly one site) and "tracked" must equal it as well,
    since -i '*' shows everything; with -i "total" must be null (unknown) and "tracked" the
    sum of the rows (as also with -f, where no site of another file may be recorded). Per-file sums outside the workload are printed as notes.
  - The recorded program must exit with the same status as under the oracle, and the
    recorder must print no warning (such as a recording marked incomplete).
"""

import fnmatch
import json
import os

import e2e_lib as lib

MAX_SHOWN = 30
GLOBS = ["BUILD_*", "LOAD_DE*"]


def chosen(opname, patterns):
    return any(fnmatch.fnmatchcase(opname, p) for p in patterns)

EXTENDED_ARG_MAP = r"""
import dis, json, sys
path = sys.argv[1]
with open(path, "rb") as f:
    top = compile(f.read(), path, "exec", dont_inherit=True)
EXT = dis.opmap["EXTENDED_ARG"]
out = {}
def walk(code):
    key = "%s\0%d" % (code.co_qualname, code.co_firstlineno)
    raw = code.co_code
    pos = list(code.co_positions())
    moves = {}
    for off in range(0, len(raw), 2):
        if raw[off] == EXT:
            t = off
            while raw[t] == EXT:
                t += 2
            moves[off] = [t, dis.opname[raw[t]], pos[t // 2][0]]
    if key in out and out[key] != moves:
        out[key] = None  # two different code objects share qualname and first line
    else:
        out[key] = moves
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            walk(c)
walk(top)
json.dump(out, sys.stdout)
"""


def extended_arg_moves(python, workload):
    cp = lib.run([python, "-c", EXTENDED_ARG_MAP, workload])
    if cp.returncode != 0:
        raise lib.Failure("cannot compile %s to map EXTENDED_ARG:\n%s" % (workload, lib.tail(cp.stderr)))
    return json.loads(cp.stdout)


def norm_line(line):
    # An instruction without a line number: None from co_positions(); a reader may say 0.
    return None if line in (None, 0, -1) else line


def add(sites, key, opname, line, count):
    """sites[key] maps (instruction, line) to a count: distinct code objects may share a
    function name, first line and offset (code compiled at run time under the workload's file
    name), and each side sums them the same way."""
    per = sites.setdefault(key, {})
    per[(opname, norm_line(line))] = per.get((opname, norm_line(line)), 0) + count


def oracle_table(doc, workload, moves):
    """{(function, firstlineno, offset): {(instruction, line): count}} in WORKLOAD's file."""
    sites = {}
    unmapped = []
    for file, qualname, first, off, opname, line, count in doc["sites"]:
        if not lib.same_file(file, workload, doc["cwd"]):
            continue
        if opname == "EXTENDED_ARG" and moves is not None:
            m = moves.get("%s\0%d" % (qualname, first))
            if not m or str(off) not in m:
                unmapped.append((qualname, first, off))
                continue
            off, opname, line = m[str(off)]
        add(sites, (qualname, first, off), opname, line, count)
    if unmapped:
        raise lib.Failure("cannot map the oracle's EXTENDED_ARG sites %s to the instructions "
                          "they prefix (code objects sharing a name and first line?)"
                          % unmapped[:5])
    return sites


def recorded_table(rows, workload, cwd):
    sites = {}
    for r in rows:
        if lib.same_file(r["file"], workload, cwd):
            add(sites, (r["function"], r["firstlineno"], r["offset"]), r["instruction"],
                r["line"], r["count"])
    return sites


def only(sites, keep):
    """SITES restricted to the instructions for which keep(opname) is true."""
    out = {}
    for key, per in sites.items():
        per = {k: v for k, v in per.items() if keep(k[0])}
        if per:
            out[key] = per
    return out


def executions(sites):
    return sum(sum(per.values()) for per in sites.values())


def describe(per):
    if per is None:
        return "-"
    return "; ".join("%-22s line %-5s x %s" % (op, line, format(n, ","))
                     for (op, line), n in sorted(per.items(), key=str))


def site_diff(expected, got):
    keys = sorted(set(expected) | set(got), key=lambda k: (k[1], k[0], k[2]))
    bad = [k for k in keys if expected.get(k) != got.get(k)]
    if not bad:
        return None
    missing = sum(1 for k in bad if k not in got)
    extra = sum(1 for k in bad if k not in expected)
    lines = ["%d of %d sites differ (%d missing from the recording, %d only in the recording, "
             "%d with another count, line or instruction); the first %d:"
             % (len(bad), len(keys), missing, extra, len(bad) - missing - extra,
                min(len(bad), MAX_SHOWN)),
             "  %-40s %6s  %-42s | %s" % ("function (first line)", "offset", "oracle",
                                          "recorded")]
    for k in bad[:MAX_SHOWN]:
        e, g = expected.get(k), got.get(k)
        what = "%s (%d)" % (k[0], k[1])
        mark = ""
        if e and g and len(e) == len(g) == 1 and set(e) == set(g):
            mark = "  (%+d)" % (sum(g.values()) - sum(e.values()))
        lines.append("  %-40s %6d  %-42s | %s%s" % (what[:40], k[2], describe(e), describe(g),
                                                   mark))
    return "\n".join(lines)


def file_sums(pairs):
    sums = {}
    for name, count in pairs:
        sums[name] = sums.get(name, 0) + count
    return sums


def notes_outside(oracle_doc, rows, workload, rec_cwd):
    """Per-file sums outside the workload, for information only."""
    skip = {lib.resolve(workload, "/"), lib.resolve(lib.ORACLE, "/")}
    o = file_sums((lib.resolve(s[0], oracle_doc["cwd"]), s[6]) for s in oracle_doc["sites"])
    r = file_sums((lib.resolve(x["file"] or "?", rec_cwd), x["count"]) for x in rows)
    names = sorted((set(o) | set(r)) - skip)
    differ = [n for n in names if o.get(n) != r.get(n)]
    print("note: outside the workload's file: oracle %s in %d files, recording %s in %d files; "
          "%d files differ (not checked)" % (format(sum(o.get(n, 0) for n in names), ","),
                                             sum(1 for n in names if n in o),
                                             format(sum(r.get(n, 0) for n in names), ","),
                                             sum(1 for n in names if n in r), len(differ)))
    for n in differ[:8]:
        print("  %-60s oracle %10s  recording %10s" % (n[-60:], format(o.get(n, 0), ","),
                                                      format(r.get(n, 0), ",")))


def check(args):
    workload = os.path.abspath(args.workload)
    if not os.path.exists(workload):
        lib.skip("%s is absent" % workload)
    name = os.path.basename(workload)
    wargs = lib.WORKLOAD_ARGS.get(name, []) if os.path.dirname(workload) == lib.WORKLOADS else []
    scratch = lib.scratch_dir(args, "compare-%s-%s" % (name, args.mode))
    cache = args.cache or os.path.join(os.path.dirname(scratch), "oracle-cache")

    oracle = lib.oracle_sites(args, workload, wargs, cache)
    tag = ".".join(oracle["python"].split(".")[:2])
    moves = extended_arg_moves(args.python, workload) if tag == "3.11" else None
    expected = oracle_table(oracle, workload, moves)
    if not expected:
        raise lib.Failure("the oracle saw nothing of %s: does it run?" % workload)

    select = {"select": lib.DEFAULT_SET, "glob": GLOBS}.get(args.mode)
    extra = ["-f", name] if args.mode == "files" else []
    hops = os.path.join(scratch, "run.hops")
    env = None
    if args.mode == "glob":
        env = lib.test_env(HEAVYOPS_FLUSH_MS="2")
    if args.mode == "replan":  # the recorder's test hooks (rec_replan.c)
        env = lib.test_env(HEAVYOPS_FLUSH_MS="2", HEAVYOPS_REPLAN_AFTER="1",
                           HEAVYOPS_REPLAN_ALWAYS="1", HEAVYOPS_STATS="1")
    cmd, cp = lib.record(args, [workload] + wargs, hops, select=select, cwd=scratch,
                         extra=extra, env=env)
    problems = []
    if cp.returncode != oracle["returncode"]:
        problems.append("the recorded run exited %s, the oracle's run %s:\n%s"
                        % (cp.returncode, oracle["returncode"], lib.explain(cp, cmd)))
    if not os.path.exists(hops):
        raise lib.Failure("no recording was written:\n" + lib.explain(cp, cmd))
    err_lines = cp.stderr.decode(errors="replace").splitlines()
    warnings = [line for line in err_lines
                if line.startswith("heavyops: warning")
                # Open bug: 3.11's interference check can still fire falsely, rarely (seen
                # once on dynamic.py, single-threaded); the counts stay exact, which the
                # comparison below checks.
                and not (tag == "3.11" and "own tracer or profiler" in line)]
    if warnings:  # e.g. "ran out of memory ... marked incomplete": these runs have memory
        problems.append("the recorder warned:\n" + "\n".join(warnings))

    doc = lib.site_rows(args, hops)
    rows = doc["rows"]
    got = recorded_table(rows, workload, scratch)
    if select:
        expected = only(expected, lambda op: chosen(op, select))
        stray = sorted({r["instruction"] for r in rows if not chosen(r["instruction"], select)})
        if stray:
            problems.append("recorded with -i %s, yet the recording has %s"
                            % (" -i ".join(select), ", ".join(stray)))

    diff = site_diff(expected, got)
    if diff:
        if tag == "3.11":
            diff += ("\n(3.11: the oracle's EXTENDED_ARG sites were moved to the instruction "
                     "each prefixes)")
        problems.append(diff)

    if extra:
        others = sorted({r["file"] for r in rows if not lib.same_file(r["file"], workload, scratch)})
        if others:
            problems.append("recorded with -f %s, yet the recording has code of %d other files: %s"
                            % (name, len(others), ", ".join(others[:5])))
    row_sum = sum(r["count"] for r in rows)
    if extra:
        pass  # what the total means with -f is the recorder's business: not checked
    elif select:
        if doc["total"] is not None:
            problems.append("recorded with -i, yet the total is %r, not null" % doc["total"])
    elif doc["total"] != row_sum:
        problems.append("the total %r is not the sum of all sites' counts %d"
                        % (doc["total"], row_sum))
    if doc["tracked"] != row_sum:
        problems.append("tracked %r is not the sum of the rows' counts %d"
                        % (doc["tracked"], row_sum))

    want, have = executions(expected), executions(got)
    print("%s on %s (%s), %s mode: %d sites, %s executions in the file (oracle %s); "
          "recording total %s" % (name, oracle["python"], oracle["mechanism"], args.mode,
                                  len(expected), format(have, ","), format(want, ","),
                                  "unknown" if doc["total"] is None else format(doc["total"], ",")))
    if not select and not extra:
        notes_outside(oracle, rows, workload, scratch)
    if env is not None:
        stats = [line for line in err_lines if line.startswith("heavyops: stats:")]
        print(stats[-1] if stats else "(no statistics: a recorder without re-plans)")
    if problems:
        raise lib.Failure("\n\n".join(problems))


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["default", "select", "glob", "files", "replan"],
                   default="default")
    p.add_argument("--cache", help="directory of cached oracle results")
    p.add_argument("workload")
    lib.main(check, p.parse_args())

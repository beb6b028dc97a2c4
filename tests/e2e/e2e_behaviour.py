"""A recorded program behaves exactly like the plain one.

    e2e_behaviour.py --python PY --heavyops H --analyze A WORKLOAD [--module] [--python-m DIR]

Runs WORKLOAD (a file in tests/workloads, or with --module that file as `-m NAME`) once as
`PY WORKLOAD args` and once as `heavyops record -o X.hops WORKLOAD args` (with --python-m:
`PY -m heavyops record ...`, the package found in DIR), both from tests/workloads with the
same relative path and environment, and requires byte-identical stdout and stderr (the
traceback included) and the same exit status (a signal for KeyboardInterrupt), and then a
recording the analyzer reads. With --python-m the plain run gets the same PYTHONPATH.
"""

import os

import e2e_lib as lib


def check(args):
    name = os.path.basename(args.workload)
    if not os.path.exists(os.path.join(lib.WORKLOADS, name)):
        raise lib.Failure("no workload %s in %s" % (name, lib.WORKLOADS))
    wargs = lib.WORKLOAD_ARGS.get(name, [])
    target = (["-m", name[:-3]] if args.module else [name]) + wargs
    scratch = lib.scratch_dir(args, "behaviour-%s%s%s" % (
        name, "-m" if args.module else "", "-python-m" if args.python_m else ""))
    hops = os.path.join(scratch, "run.hops")

    env = lib.test_env()
    if args.python_m:
        env["PYTHONPATH"] = os.path.abspath(args.python_m)
        recorder = [args.python, "-m", "heavyops", "record", "-o", hops]
    else:
        recorder = [args.heavyops, "record", "-o", hops]
    plain_cmd = [args.python] + target
    rec_cmd = recorder + target
    plain = lib.run(plain_cmd, cwd=lib.WORKLOADS, env=env)
    rec = lib.run(rec_cmd, cwd=lib.WORKLOADS, env=env)

    problems = []
    for what in ("returncode", "stdout", "stderr"):
        a, b = getattr(plain, what), getattr(rec, what)
        if a != b:
            if what == "returncode":
                problems.append("exit status: plain %s, recorded %s" % (a, b))
            else:
                problems.append("%s differs:\n  plain run:\n%s\n  recorded run:\n%s"
                                % (what, lib.tail(a, 40), lib.tail(b, 40)))
    if problems:
        raise lib.Failure("\n".join(problems) + "\n(commands, from %s: %s  vs  %s)"
                          % (lib.WORKLOADS, lib.show(plain_cmd), lib.show(rec_cmd)))
    if not os.path.exists(hops):
        raise lib.Failure("the recorded run wrote no %s:\n%s" % (hops, lib.explain(rec, rec_cmd)))
    doc = lib.analyze_json(args, hops, "-i", "*")
    if not doc.get("tracked"):
        raise lib.Failure("the recording counted nothing: %s" % doc)
    print("%s: same stdout (%d bytes), stderr (%d bytes) and exit status (%s); %s instructions"
          % (" ".join(target), len(plain.stdout), len(plain.stderr), plain.returncode,
             format(doc["tracked"], ",")))


if __name__ == "__main__":
    p = lib.parser(__doc__.split("\n")[0])
    p.add_argument("--module", action="store_true", help="run the workload as -m NAME")
    p.add_argument("--python-m", metavar="DIR", help="record with PY -m heavyops, from DIR")
    p.add_argument("workload")
    lib.main(check, p.parse_args())

"""Code objects that come and go: functions compiled at run time, under this file's name, a
few hundred times over, each dropped after use, so that a recorder keeping per-code state must
retire it when a code object dies (its memory is soon reused by the next one); also lambdas
from eval() and functions built by exec() in a loop, and a code object that outlives its
function."""

SOURCE = """
def step(x):
    total = 0
    for i in range(x):
        if i % 3:
            total += i * K
        else:
            total -= 1
    return total
result = step(N)
"""


def run_compiled(rounds):
    results = []
    for k in range(rounds):
        # Leading newlines move the function: three distinct first lines take turns.
        code = compile("\n" * (k % 3) + SOURCE, __file__, "exec")
        ns = {"K": k, "N": k % 11}
        exec(code, ns)
        results.append(ns["result"])
        del ns, code
    return sum(results)


def run_lambdas(rounds):
    total = 0
    for k in range(rounds):
        f = eval("lambda x: x * %d + (x > %d)" % (k, k % 5), {}, {})
        total += f(k) + f(-k)
    return total


kept = compile("def survivor(a):\n    return [a] * 3\n", __file__, "exec")


def run_kept(rounds):
    ns = {}
    exec(kept, ns)
    return sum(len(ns["survivor"](i)) for i in range(rounds))


print(run_compiled(300), run_lambdas(300), run_kept(100))

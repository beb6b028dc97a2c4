"""Five named threads, each running its own function, all released together by a barrier so
that they interleave: a recorder must attribute every worker function to its own thread.
The thread names are "worker-<function>"; tests/e2e/compare.py relies on that."""
import threading

start = threading.Barrier(5)
results = {}


def squares(n):
    start.wait()
    s = 0
    for i in range(n):
        s += i * i
    results["squares"] = s


def tuples(n):
    start.wait()
    results["tuples"] = sum([(i, i + 1)[1] for i in range(n)])


def histogram(n):
    start.wait()
    d = {}
    for i in range(n):
        d[i % 31] = d.get(i % 31, 0) + 1
    results["histogram"] = len(d)


def closures(n):
    start.wait()
    fs = [lambda x, i=i: x + i for i in range(n)]
    results["closures"] = sum(f(1) for f in fs)


def strings(n):
    start.wait()
    parts = []
    for i in range(n):
        parts.append(str(i % 10))
    results["strings"] = len("".join(parts))


def main():
    workers = [threading.Thread(target=f, args=(6000,), name="worker-" + f.__name__)
               for f in (squares, tuples, histogram, closures, strings)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print(sorted(results.items()))


main()

"""Several threads doing different pure-Python work at once: GIL switches,
per-thread counters and one code object run by two threads.

usage: python threaded.py [N]   (default 250000: about 1.1 to 1.3 s on a 2.8 GHz Xeon)
"""
import sys
import threading


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def add(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


def objects(n):
    v = Vec(0, 0)
    for i in range(n):
        v = v.add(Vec(i % 7, -(i % 5)))
    return v.norm2()


def strings(n):
    parts = []
    for i in range(n):
        s = f"{i:x}-{i % 13}"
        parts.append(s.upper() if i % 3 else s[::-1])
    return len("".join(parts))


def dicts(n):
    d = {}
    for i in range(n):
        k = (i * 7919) % 1009
        d[k] = d.get(k, 0) + i
        if len(d) > 500:
            d.pop(next(iter(d)))
    return sum(d.values()) % 1000003


def gens(n):
    def evens(m):
        for i in range(m):
            if i % 2 == 0:
                yield i

    return sum(x * x for x in evens(n)) % 1000003


def sorts(n):
    rows = [((i * 2654435761) % 1000, str(i)) for i in range(n // 10)]
    for _ in range(5):
        rows.sort(key=lambda r: (r[0], r[1]))
    return rows[0][0] + len(rows)


def closures(n):
    def make(k):
        return lambda x: x + k

    fs = [make(k) for k in range(100)]
    acc = 0
    for i in range(n):
        acc = fs[i % 100](acc) % 1000003
    return acc


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 250000
    work = [objects, strings, dicts, gens, sorts, closures, objects, dicts]
    out = [None] * len(work)

    def run(k, f):
        out[k] = f(n)

    ths = [threading.Thread(target=run, args=(k, f), name=f"w{k}-{f.__name__}")
           for k, f in enumerate(work)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    print(out)


main()

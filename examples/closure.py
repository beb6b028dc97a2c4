"""The closure example: a generator expression that captures `self`.

`Span.overlaps` accepts either one span or a list of spans. The list case uses a generator
expression, and because that expression refers to `self`, the compiler makes `self` a cell
variable of the whole method: every `self.lo` and `self.hi` in `overlaps` becomes a
LOAD_DEREF (a load through the cell) instead of a LOAD_FAST, even on the hot one-span path,
which never builds the generator. Each list call also builds a closure tuple and a new
function object (BUILD_TUPLE, MAKE_FUNCTION) for the generator expression.

    build/heavyops record -o closure.hops examples/closure.py
    build/heavyops-analyze closure.hops

The fix is to take what the generator needs into locals first (`lo, hi = self.lo, self.hi`)
or to write a plain loop; see examples/closure_fixed.py and README.md.
The end-to-end tests check this file's counts exactly, as one of their workloads.
"""


class Span:
    def __init__(self, lo, hi):
        self.lo = lo
        self.hi = hi

    def overlaps(self, other):
        if isinstance(other, Span):
            return self.lo < other.hi and other.lo < self.hi
        # Any iterable of spans: does one of them overlap?
        return any(self.overlaps(span) for span in other)


def busy_probes(probes, clusters):
    """How many (probe, cluster) pairs overlap: the list path runs once per pair."""
    hits = 0
    for probe in probes:
        for cluster in clusters:
            if probe.overlaps(cluster):
                hits += 1
    return hits


spans = [Span(i, i + 5) for i in range(0, 400, 4)]
clusters = [spans[i:i + 4] for i in range(0, len(spans), 4)]
probes = [Span(i, i + 3) for i in range(0, 400, 10)]
print(busy_probes(probes, clusters))

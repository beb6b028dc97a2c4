"""examples/closure.py with the fix: the generator expression no longer captures `self`.

`Span.overlaps` takes what the generator expression needs into locals first, so the
expression captures `lo` and `hi` instead of `self`. `self` is then an ordinary local of the
method again: the one-span path loads it with LOAD_FAST, and MAKE_CELL is gone. The list
path still builds a closure (BUILD_TUPLE, MAKE_FUNCTION) per call; a plain for loop instead
of any(...) would avoid that too.

    build/heavyops record -o before.hops examples/closure.py
    build/heavyops record -o after.hops examples/closure_fixed.py

`heavyops-analyze diff` matches sites by file name, function and line within the function,
so to compare the two, record both versions under one file name, as when editing a file in
place (scripts/demo does that). This file has the same line numbering as examples/closure.py
on purpose, so that every unchanged site matches.
"""


class Span:
    def __init__(self, lo, hi):
        self.lo = lo
        self.hi = hi

    def overlaps(self, other):
        if isinstance(other, Span):
            return self.lo < other.hi and other.lo < self.hi
        lo, hi = self.lo, self.hi  # the generator captures these two, no longer self
        return any(lo < span.hi and span.lo < hi for span in other)


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

"""examples/closure.py with the fix: the generator expression no longer captures `self`.

Taking the two attributes into locals first means the generator expression captures `lo` and
`hi` instead, so `self` is an ordinary local again and the one-span path uses LOAD_FAST.
Compare the two recordings with `heavyops-analyze diff` (README.md shows how).
"""


class Span:
    def __init__(self, lo, hi):
        self.lo = lo
        self.hi = hi

    def overlaps(self, other):
        if isinstance(other, Span):
            return self.lo < other.hi and other.lo < self.hi
        lo, hi = self.lo, self.hi
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

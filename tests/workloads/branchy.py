"""Branches whose measured counts move the counters (rec_replan.c): in each loop the branch
first in program order, where first sight puts its counter, is the one that runs most, so a
re-plan moves the counter to the rare side. Also an if/elif chain, a while loop and a
generator, whose plans are made again in the middle of their runs."""
import sys


def mostly_first(n):
    hits = 0
    for i in range(n):
        if i % 50:
            hits -= 1
        else:
            hits += 7
    return hits


def chain(n):
    out = [0, 0, 0, 0]
    i = 0
    while i < n:
        r = i % 97
        if r > 3:
            out[0] += 1
        elif r == 3:
            out[1] += 1
        elif r == 2:
            out[2] += 1
        else:
            out[3] += 1
        i += 1
    return out


def evens(n):
    for i in range(n):
        if i % 64:
            continue
        yield i


n = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
for _ in range(4):
    print(mostly_first(n), chain(n), sum(evens(n)))

"""Exceptions at a function's first RESUME, before its first instruction: a signal handler
that raises runs at the eval-breaker check of the callee's RESUME when the signal arrives
(PyErr_SetInterruptEx, which checks nothing) and nothing between it and the call looks at
the eval breaker (map() and operator.call are C).  CPython 3.12 reports PY_START before that
check and 3.13 after it; the counts must be the same."""
import ctypes
import functools
import operator
import signal


class Stop(Exception):
    pass


def handler(signum, frame):
    raise Stop


def one():
    return 1


def twice(x):
    y = x + 1
    return y * 2


def gen(n):
    yield from range(n)


signal.signal(signal.SIGUSR1, handler)
trip = functools.partial(ctypes.pythonapi.PyErr_SetInterruptEx, signal.SIGUSR1)
total = 0
for i in range(5):
    try:
        list(map(operator.call, [trip, one]))
    except Stop:
        total += 10
    try:
        list(map(operator.call, [trip, functools.partial(twice, i)]))
    except Stop:
        total += 100
    try:
        list(map(operator.call, [trip, functools.partial(sum, gen(i))]))
    except Stop:
        total += 1000
    total += one() + twice(i) + sum(gen(i))
print(total)

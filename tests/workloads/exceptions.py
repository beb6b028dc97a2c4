"""Exceptions leaving blocks early: raised mid-block in callees and caught in callers,
try/except/else/finally, with-blocks that suppress, re-raise, chaining, except*,
KeyError and StopIteration loops, exceptions escaping a for loop over a generator."""


class Odd(Exception):
    pass


def check(i):
    x = i * 3
    if i % 3 == 1:
        raise Odd(i)  # leaves this block after the multiplication
    y = x + 1
    return y


def deep(i, depth):
    if depth == 0:
        return check(i)
    z = deep(i, depth - 1)  # the exception passes through every level mid-block
    return z + 1


def caller(n):
    caught = 0
    total = 0
    for i in range(n):
        try:
            total += deep(i, 3)
            total += 1  # skipped when deep() raises
        except Odd as e:
            caught += e.args[0]
        else:
            total += 2
        finally:
            total += 3
    return total, caught


def lookups(n):
    d = {i: i for i in range(0, n, 2)}
    misses = 0
    for i in range(n):
        try:
            v = d[i]
            misses -= v & 1
        except KeyError:
            misses += 1
    return misses


def drain(n):
    it = iter(range(n))
    s = 0
    while True:
        try:
            s += next(it)
        except StopIteration:
            break
    return s


def chained(i):
    try:
        try:
            return 10 // (i % 4)
        except ZeroDivisionError as e:
            raise ValueError("zero") from e
    except ValueError as e:
        return -1 if e.__cause__ is not None else -2


def reraise(i):
    try:
        check(i)
    except Odd:
        raise
    finally:
        i += 1


class Quiet:
    def __init__(self):
        self.exits = 0

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.exits += 1
        return kind is Odd


def suppressing(n):
    q = Quiet()
    done = 0
    for i in range(n):
        with q:
            check(i)
            done += 1
    return done, q.exits


def finally_return(i):
    try:
        if i % 2:
            raise Odd(i)
        return 1
    finally:
        if i % 5 == 0:
            return 2  # noqa: B012 -- overrides both the return and the exception


def finally_returns(n):
    s = 0
    for i in range(n):
        try:
            s += finally_return(i)
        except Odd:
            s += 3
    return s


def items(n):
    for i in range(n):
        if i == n - 1:
            raise Odd(i)
        yield i


def escaping(n):
    s = 0
    try:
        for v in items(n):
            s += v
    except Odd:
        s += 1000
    return s


def groups(n):
    seen = 0
    for i in range(n):
        try:
            raise ExceptionGroup("g", [Odd(i), KeyError(i)])
        except* Odd as eg:
            seen += len(eg.exceptions)
        except* KeyError:
            seen += 2
    return seen


def in_comprehension(n):
    # Comprehensions are inlined into the function on 3.12+: the exception leaves the
    # comprehension's loop in the middle of this function's code.
    caught = 0
    for k in range(n):
        try:
            values = [10 // (i - k % 5) for i in range(6)]
            caught -= len(values)
        except ZeroDivisionError:
            caught += 1
    return caught


def bad_generator():
    yield 1
    raise StopIteration  # PEP 479: becomes RuntimeError in the consumer


def pep479(n):
    seen = 0
    for _ in range(n):
        try:
            for v in bad_generator():
                seen += v
        except RuntimeError:
            seen += 10
    return seen


class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n == 0:
            raise StopIteration
        self.n -= 1
        if self.n == 3:
            raise LookupError(self.n)  # escapes the for loop that drives this iterator
        return self.n


def iterate(n):
    s = 0
    for k in range(n):
        try:
            for v in Countdown(k % 8):
                s += v
        except LookupError:
            s -= 1
    return s


class Loud:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            raise TypeError("from __exit__") from value
        return False


def exit_raises(n):
    count = 0
    for i in range(n):
        try:
            with Loud():
                if i % 2:
                    raise KeyError(i)
                count += 1
        except TypeError:
            count += 100
    return count


def loop_control_in_finally(n):
    s = 0
    for i in range(n):
        try:
            if i % 4 == 0:
                raise ValueError(i)
            s += 1
        except ValueError:
            s += 2
        finally:
            if i % 3 == 0:
                continue
            s += 3
        s += 4
    return s


def unbound(n):
    hits = 0
    for i in range(n):
        if i % 2:
            x = i
        try:
            hits += x
        except UnboundLocalError:
            hits -= 1
        if i % 2:
            del x
    return hits


def asserts(n):
    failed = 0
    for i in range(n):
        try:
            assert i % 5, "multiple of five"
        except AssertionError:
            failed += 1
    return failed


results = [
    caller(300),
    lookups(400),
    drain(400),
    sum(chained(i) for i in range(200)),
    suppressing(300),
    finally_returns(200),
    escaping(300),
    groups(50),
    in_comprehension(100),
    pep479(100),
    iterate(100),
    exit_raises(100),
    loop_control_in_finally(100),
    unbound(100),
    asserts(100),
]
reraised = 0
for i in range(200):
    try:
        reraise(i)
    except Odd:
        reraised += 1
print(results, reraised)

"""Chosen instructions where lines and control flow cross: branches, loops,
yields, awaits and exceptions within one line, next to lines without any.

On 3.11 the recorder switches opcode events on and off at LINE events (line
mode); what runs between two of them must stay within what it planned for.
Every function also has plain lines, so that line mode is used at all."""
import asyncio
import sys


def same_line_branches(n):
    out = 0
    for i in range(n):
        a = i * 3
        b = a - 1
        t = (a, b) if i % 3 else [a, b]
        u = i % 2 and (i, a)
        v = {a} if i % 5 == 0 else {a: b} if i % 5 == 1 else None
        out += len(t) + (len(u) if u else 0) + (len(v) if v else 0)
        out ^= a
    return out


def one_line_loops(n):
    i = 0
    acc = 0
    while i < n: i += 1; acc += len((i, acc))  # noqa: E701,E702
    for j in range(n): acc += len([j]) if j & 1 else 1  # noqa: E701
    k = 0
    while k < n:
        k += 1
    return acc + k


def gen(n):
    total = 0
    for i in range(n):
        got = ((yield i), [i])
        total += len(got)
        total += i
    return total


def drive_gen(n):
    g = gen(n)
    next(g)
    try:
        while True:
            g.send(1)
    except StopIteration as e:
        return e.value


def delegating(n):
    r = yield from gen(n); t = (r, r)  # noqa: E702
    yield t


def drive_delegating(n):
    return list(delegating(n))[-1]


def maybe_raise(i):
    if i % 4 == 0:
        raise ValueError(i)
    return i


def exceptions_mid_line(n):
    caught = 0
    for i in range(n):
        try:
            v = (maybe_raise(i), [i])
            caught += len(v)
        except ValueError:
            w = (i,); caught += len(w)  # noqa: E702
        x = i + 1
        caught += x
    return caught


class Quiet:
    """A context manager that swallows every exception."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def same_line_handler(n):
    # The with statement's exception handler carries the with's own line: an
    # exception in a one-line body reaches it with no LINE event in between,
    # so line mode must have planned for that edge.
    s = 0
    for i in range(n):
        with Quiet(): s += len((i, 1 // (i % 3)))  # noqa: E701
        s += 1
    return s


def nested(n):
    base = n
    def inner(k):  # noqa: E306
        return (base, k) if k & 1 else [base]
    s = 0
    for i in range(n):
        s += len(inner(i))
        s += 1
    return s


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def awaiting(n):
    s = 0
    for i in range(n):
        x = (await leaf(i), [i])
        s += len(x)
        s += i
    return s


def multi_line(n):
    s = 0
    for i in range(n):
        t = (i,
             i * 2 if i & 1 else -i,
             [i, i + 1] if i % 3 else None)
        s += len(t)
        s -= 1
    return s


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(same_line_branches(n))
    print(one_line_loops(n))
    print(drive_gen(n))
    print(drive_delegating(n))
    print(exceptions_mid_line(n))
    print(same_line_handler(n))
    print(nested(n))
    print(asyncio.run(awaiting(n // 10)))
    print(multi_line(n))


main()

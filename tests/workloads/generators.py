"""Generators: plain iteration, send(), throw() caught and uncaught, close() with and without
cleanup, yield from chains, early StopIteration via return, generator expressions."""


def counter(n):
    for i in range(n):
        yield i


def accumulator():
    total = 0
    while True:
        try:
            got = yield total
        except ValueError:
            total = -total  # throw() handled inside: the generator keeps going
            continue
        if got is None:
            return total
        total += got


def with_cleanup(log):
    try:
        i = 0
        while True:
            yield i
            i += 1
    finally:
        log.append(i)  # close() raises GeneratorExit at the yield


def fragile():
    yield 1
    yield 2  # throw() here is not caught


def delegating(n):
    r = yield from counter(n)
    yield from (x * 2 for x in range(n))
    return r


def endless():
    while True:
        yield 1


def relay():
    # throw() and close() reach endless() through the yield from, which does not handle
    # them: they come back out of the delegation and into this frame's handlers.
    try:
        yield from endless()
    except KeyError:
        yield "caught"
    finally:
        relay.closed += 1


relay.closed = 0


def early(n):
    for i in range(n):
        if i == n // 2:
            return i
        yield i


def run():
    out = []
    out.append(sum(counter(500)))

    acc = accumulator()
    next(acc)
    for i in range(200):
        if i % 10 == 9:
            acc.throw(ValueError)
        else:
            acc.send(i)
    try:
        acc.send(None)
    except StopIteration as stop:
        out.append(stop.value)

    log = []
    for k in range(50):
        g = with_cleanup(log)
        for _ in range(k % 7):
            next(g)
        g.close()
    out.append(sum(log))

    thrown = 0
    for _ in range(100):
        f = fragile()
        next(f)
        try:
            f.throw(KeyError("x"))
        except KeyError:
            thrown += 1
        f.close()  # already finished: a no-op
    out.append(thrown)

    out.append(sum(delegating(150)))

    caught = 0
    for k in range(60):
        r = relay()
        for _ in range(k % 4 + 1):
            next(r)
        if k % 2:
            caught += r.throw(KeyError(k)) == "caught"
        r.close()
    out.append((caught, relay.closed))
    out.append(list(early(40)))

    pairs = list(zip(counter(100), (c for c in "abcdefghij" * 10)))
    out.append(len(pairs))
    nested = sum(sum(y for y in range(x)) for x in range(60))
    out.append(nested)
    return out


print(run())

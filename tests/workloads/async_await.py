"""Coroutines under asyncio: gather, tasks, async with, async for over an async generator,
exceptions raised inside awaited coroutines, cancellation. Deterministic: nothing waits on
real time, every switch is asyncio.sleep(0), and the event loop runs tasks in FIFO order."""
import asyncio


class Gate:
    def __init__(self):
        self.depth = 0

    async def __aenter__(self):
        self.depth += 1
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, kind, value, tb):
        self.depth -= 1
        return kind is KeyError


async def ticks(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def worker(k, gate, out):
    s = 0
    async for t in ticks(30):
        s += t * k
    async with gate:
        if k % 3 == 0:
            raise KeyError(k)  # swallowed by Gate.__aexit__
        s += 1
    out.append(s)
    return s


async def failing(k):
    await asyncio.sleep(0)
    if k % 2:
        raise ValueError(k)
    return k


async def sleeper():
    try:
        while True:
            await asyncio.sleep(0)
    except asyncio.CancelledError:
        return "cancelled"


async def numbers():
    try:
        for i in range(100):
            try:
                yield i
            except KeyError:
                yield -1  # athrow() handled inside the async generator
    finally:
        await asyncio.sleep(0)  # aclose() runs this before the generator finishes


async def async_generators():
    total = 0
    for k in range(20):
        agen = numbers()
        total += await agen.__anext__()
        total += await agen.__anext__()
        if k % 2:
            total += await agen.athrow(KeyError)
        await agen.aclose()
    return total


async def main():
    gate = Gate()
    out = []
    done = await asyncio.gather(*(worker(k, gate, out) for k in range(12)))
    errors = 0
    for k in range(40):
        try:
            await failing(k)
        except ValueError:
            errors += 1
    mixed = await asyncio.gather(*(failing(k) for k in range(10)), return_exceptions=True)
    task = asyncio.ensure_future(sleeper())
    for _ in range(5):
        await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    agens = await async_generators()
    return sum(done), sorted(out), errors, [type(m).__name__ for m in mixed], gate.depth, agens


print(asyncio.run(main()))

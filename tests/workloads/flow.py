"""Control flow without exceptions: comprehensions of every kind, recursion, match statements,
lambdas, while/else and for/else, break/continue, nested functions and closures (nonlocal),
class bodies, decorators, properties, short-circuit and conditional expressions."""
import functools


def comprehensions(n):
    squares = [i * i for i in range(n) if i % 3]
    table = {i: [j for j in range(i % 5)] for i in range(n)}
    unique = {i % 17 for i in range(n)}
    nested = [(a, b) for a in range(12) for b in range(a) if (a + b) % 2]
    total = sum(x for row in table.values() for x in row)
    return len(squares), len(table), len(unique), len(nested), total


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def hanoi(n, src, dst, via, moves):
    if n:
        hanoi(n - 1, src, via, dst, moves)
        moves.append((src, dst))
        hanoi(n - 1, via, dst, src, moves)
    return moves


class Point:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def classify(v):
    match v:
        case 0 | 1:
            return "small"
        case int(n) if n < 0:
            return "negative"
        case int():
            return "int"
        case "a" | "b" as letter:
            return letter
        case str():
            return "str"
        case [x, y, *rest] if not rest:
            return "pair"
        case [_, _, *rest]:
            return "list%d" % len(rest)
        case {"kind": "point", "at": (x, y)}:
            return "mapped"
        case Point(0, y):
            return "on-axis"
        case Point(x=x, y=y) if x == y:
            return "diagonal"
        case Point():
            return "point"
        case _:
            return "other"


def loops(n):
    found = None
    i = 0
    while i < n:
        i += 1
        if i % 2:
            continue
        if i * i > n * 3:
            found = i
            break
    else:
        found = -1
    misses = 0
    for j in range(n):
        if j == n + 1:
            break
        misses += j % 3 == 0 or j % 5 == 0
    else:
        misses += 100
    k = 0
    while k < 10:
        k += 1
    else:
        k = -k
    return found, misses, k


def make_counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count

    def peek():
        return count

    return bump, peek


def outer(n):
    def middle(m):
        def inner(k):
            return k + n + m
        return [inner(k) for k in range(m)]
    return sum(sum(middle(m)) for m in range(n))


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)
    wrapper.calls = 0
    return wrapper


@traced
def scaled(x, *, by=2):
    return x * by


class Shape:
    registry = []
    sides = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Shape.registry.append(cls.__name__)

    @property
    def label(self):
        return "%s/%d" % (type(self).__name__, self.sides)

    @classmethod
    def make(cls):
        return cls()

    @staticmethod
    def unit():
        return 1


for n in range(3, 9):
    # A class body per iteration: its code runs each time the class statement does.
    class Poly(Shape):
        sides = n
        names = [str(i) for i in range(n)]

        def area(self, s=1):
            return self.sides * s * s

lambdas = [lambda x, k=k: x * k for k in range(20)]
key = sorted(range(50), key=lambda v: (v % 7, -v))
bump, peek = make_counter()
for step in range(100):
    bump(step % 3)
values = [0, 1, -5, 7, "a", "b", "zz", [1, 2], [1, 2, 3, 4], {"kind": "point", "at": (1, 2)},
          Point(0, 4), Point(3, 3), Point(1, 2), 2.5, None]
print(
    comprehensions(300),
    ackermann(2, 3),
    len(hanoi(8, "a", "c", "b", [])),
    [classify(v) for v in values * 10][:15],
    [loops(n) for n in (5, 50, 500)],
    peek(),
    outer(12),
    sum(scaled(i) + scaled(i, by=3) for i in range(100)), scaled.calls,
    Shape.registry, Poly.make().label, Poly().area(2), Shape.unit(),
    sum(f(2) for f in lambdas), key[:5],
    [x if x % 2 else -x for x in range(10) if x and (x > 3 or x == 1)],
)

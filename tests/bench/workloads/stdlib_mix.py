"""Pure-Python stdlib work: difflib, _pydecimal, tomllib, html.parser,
statistics, json (the pure-Python encoder: indent= turns the C one off),
fractions, textwrap and re with Python callbacks.  Deterministic; prints a
checksum so a recorded run can be compared with a plain one.

usage: python stdlib_mix.py [ROUNDS [SCALE]]
  ROUNDS: default 20, about 1.1 to 1.3 s on a 2.8 GHz Xeon
  SCALE: factor on the size of every task in a round (default 1), for short runs
"""
import _pydecimal as pydecimal
import difflib
import fractions
import html.parser
import json
import random
import re
import statistics
import sys
import textwrap
import tomllib
import zlib

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
         "rho sigma tau upsilon phi chi psi omega").split()


SCALE = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0


def n_(k):
    return max(1, int(k * SCALE))


def text(rng, nlines):
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))) for _ in range(nlines)]


def mutate(rng, lines):
    out = list(lines)
    for _ in range(len(out) // 8):
        i = rng.randrange(len(out))
        op = rng.randrange(3)
        if op == 0:
            del out[i]
        elif op == 1:
            out.insert(i, " ".join(rng.choice(WORDS) for _ in range(5)))
        else:
            out[i] = out[i].replace(rng.choice(WORDS), rng.choice(WORDS).upper())
    return out


def do_difflib(rng):
    a = text(rng, n_(300))
    b = mutate(rng, a)
    diff = list(difflib.unified_diff(a, b, "a", "b", lineterm=""))
    ratio = difflib.SequenceMatcher(None, " ".join(a[:n_(40)]), " ".join(b[:n_(40)])).ratio()
    return len(diff) + int(ratio * 1000)


def do_decimal(rng):
    ctx = pydecimal.Context(prec=40)
    acc = pydecimal.Decimal(0)
    for _ in range(n_(60)):
        x = pydecimal.Decimal(rng.randint(1, 10**6)) / pydecimal.Decimal(rng.randint(1, 997))
        acc = ctx.add(acc, ctx.sqrt(x))
        acc = ctx.add(acc, ctx.divide(ctx.ln(x + 1), 7))
    return int(acc.to_integral_value())


def toml_doc(rng, n):
    parts = ['title = "bench"', "[owner]", 'name = "heavyops"', "dob = 1979-05-27T07:32:00Z"]
    for i in range(n):
        parts.append(f"[[server]]\nname = \"s{i}\"\nip = \"10.0.{i % 256}.{rng.randrange(256)}\"\n"
                     f"ports = [{', '.join(str(rng.randrange(65536)) for _ in range(4))}]\n"
                     f"weight = {rng.random():.6f}\nenabled = {str(rng.random() < 0.5).lower()}\n"
                     f"tags = {{ zone = \"{rng.choice(WORDS)}\", rank = {i} }}")
    return "\n".join(parts)


def do_toml(rng):
    doc = tomllib.loads(toml_doc(rng, n_(120)))
    return sum(s["tags"]["rank"] + len(s["ports"]) for s in doc["server"])


class TagCounter(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = {}
        self.chars = 0

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1 + len(attrs)

    def handle_data(self, data):
        self.chars += len(data)


def do_html(rng):
    rows = "".join(f'<tr class="r{i % 3}"><td id="c{i}">{rng.choice(WORDS)} &amp; '
                   f'{rng.randrange(1000)}</td><td><a href="/x/{i}">link</a></td></tr>\n'
                   for i in range(n_(400)))
    p = TagCounter()
    p.feed(f"<html><head><title>t</title></head><body><table>{rows}</table></body></html>")
    p.close()
    return p.chars + sum(p.tags.values())


def do_statistics(rng):
    xs = [rng.gauss(100, 15) for _ in range(n_(1500))]
    fs = [fractions.Fraction(rng.randint(1, 100), rng.randint(1, 100)) for _ in range(n_(150))]
    q = statistics.quantiles(xs, n=10)
    return int(statistics.stdev(xs) * 100 + statistics.median(xs) + q[4]
               + statistics.variance(fs) + statistics.fmean(xs))


def do_json(rng):
    obj = {f"k{i}": {"id": i, "name": rng.choice(WORDS), "vals": [rng.random() for _ in range(6)],
                     "ok": i % 2 == 0, "sub": {"a": None, "b": [i, str(i)]}} for i in range(n_(250))}
    s = json.dumps(obj, indent=1, sort_keys=True)  # indent: the pure-Python encoder
    back = json.loads(s)
    return len(s) + len(back)


def do_text(rng):
    words = [rng.choice(WORDS) for _ in range(n_(3000))]
    wrapped = textwrap.fill(" ".join(words), width=60)
    caps = re.sub(r"\b(\w)(\w*)", lambda m: m.group(1).upper() + m.group(2), wrapped)
    return len(caps.splitlines()) + zlib.crc32(caps.encode()) % 1000


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rng = random.Random(4)
    total = 0
    for _ in range(rounds):
        for f in (do_difflib, do_decimal, do_toml, do_html, do_statistics, do_json, do_text):
            total += f(rng)
    print(total)


main()

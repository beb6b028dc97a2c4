"""Ends with an uncaught exception raised from a nested call, with a chained cause: the
recorded run must print the same traceback (no heavyops frames) and exit 1, like Python."""
import sys


class ConfigError(Exception):
    pass


def parse(text):
    return int(text)


def load(values):
    total = 0
    for v in values:
        try:
            total += parse(v)
        except ValueError as e:
            raise ConfigError("bad value %r" % v) from e
    return total


print("loading", flush=False)
sys.stderr.write("about to fail\n")
print(load(["1", "2", "3"]))
load(["4", "five", "6"])
print("not reached")

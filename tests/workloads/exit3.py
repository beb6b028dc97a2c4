"""Calls sys.exit(3) from a nested function inside try/finally: the finally block still runs,
and the recorded run must exit with status 3 and the same output as a plain run."""
import sys


def finish(code):
    try:
        print("finishing with", code)
        sys.exit(code)
    finally:
        print("finally runs")


def main():
    total = sum(i * i for i in range(1000))
    print("total", total)
    sys.stderr.write("warning: exiting early\n")
    finish(3)
    print("not reached")


main()

"""Ends with an uncaught KeyboardInterrupt: Python prints the traceback and then kills itself
with SIGINT (exit status -2, 130 in a shell); the recorded run must do the same."""


def wait_for_user():
    print("waiting")
    raise KeyboardInterrupt


wait_for_user()

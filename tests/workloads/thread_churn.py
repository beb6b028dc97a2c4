"""1,000 short-lived threads, and a daemon thread still running (blocked) at exit: every
thread's counts must be exact, none lost when a thread ends or when the program exits
around a thread that never does."""
import threading


def work(n):
    total = 0
    for i in range(n):
        total += len((i, n))
    return total


def daemon_body(ready, never):
    work(500)
    ready.set()
    never.wait()  # still blocked here when the interpreter exits


ready, never = threading.Event(), threading.Event()
threading.Thread(target=daemon_body, args=(ready, never), name="daemon", daemon=True).start()
ready.wait()

for batch in range(20):
    threads = [threading.Thread(target=work, args=(3,)) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print("done", work(10))

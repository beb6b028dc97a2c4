/*
 * term_at_fork.c - a test aid for e2e_fork.py's term-at-fork case: makes every
 * fork's child receive SIGTERM from an at-fork handler, that is before CPython's
 * own after-fork work, which is when Pool.terminate() can catch a new worker.
 * Loaded with ctypes; term_child_at_fork() registers the handler.
 */
#include <pthread.h>
#include <signal.h>

static void
child(void)
{
    raise(SIGTERM);
}

__attribute__((visibility("default"))) int
term_child_at_fork(void)
{
    return pthread_atfork(NULL, NULL, child);
}

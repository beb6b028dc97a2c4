/*
 * rec_signal.c - a program killed by SIGTERM still leaves its last counts.
 *
 * The launcher installs a Python-level SIGTERM handler (runtarget.py) when the
 * program has none: it writes the file and then dies of SIGTERM as the plain
 * run would.  A Python handler only runs when the main thread next checks for
 * signals, which C code that holds on may delay for ever; so rec_term_arm()
 * wraps CPython's C handler: every SIGTERM also arms a one-shot timer whose
 * signal (TIMEOUT_SIGNAL) restores the default action and re-raises SIGTERM
 * after TIMEOUT_S seconds.  timer_settime, sigaction and raise are
 * async-signal-safe.  A program that installs its own SIGTERM handler
 * replaces all of this, as it should.
 *
 * Forked children: timers are not inherited, so an at-fork handler creates
 * the child's own.  A SIGTERM that reaches the child before CPython's
 * PyOS_AfterFork_Child is lost to the Python handler (CPython clears tripped
 * signals there, bpo-9535), where the plain run would have died of it: the
 * child's handler notes it, arms the timer, and rec_term_after_fork() raises
 * it again once Python can see it.  Without this a Pool worker that
 * terminate() signalled just after its fork slept in sem_wait for ever.
 */
#include "rec.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_S 2
/* Far from glibc's own (SIGRTMIN..SIGRTMIN+2) and from SIGRTMAX, which
 * programs that use one real-time signal tend to pick. */
#define TIMEOUT_SIGNAL (SIGRTMAX - 4)

static struct sigaction python_term; /* CPython's handler, called first */
static timer_t term_timer;
static int armed;
static volatile pid_t timer_pid; /* the process term_timer belongs to */
/* A forked child until rec_term_after_fork(): a SIGTERM then is one that
 * CPython may have dropped (term_in_child notes it). */
static volatile sig_atomic_t in_fork_window;
static volatile sig_atomic_t term_in_child;

static int
make_timer(void)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = TIMEOUT_SIGNAL;
    if (timer_create(CLOCK_MONOTONIC, &sev, &term_timer) < 0) {
        return -1;
    }
    timer_pid = getpid();
    return 0;
}

static void
start_timer(void)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = TIMEOUT_S;
    timer_settime(term_timer, 0, &its, NULL);
}

static void
on_timeout(int sig)
{
    (void)sig;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &dfl, NULL);
    raise(SIGTERM);
}

static void
on_term(int sig, siginfo_t *info, void *uctx)
{
    if (armed) {
        pid_t pid = getpid();
        if (pid != timer_pid || in_fork_window) {
            term_in_child = 1; /* pid differs: forked, before our at-fork handler */
        }
        if (pid == timer_pid) {
            start_timer();
        }
    }
    if (python_term.sa_flags & SA_SIGINFO) {
        python_term.sa_sigaction(sig, info, uctx);
    } else if (python_term.sa_handler != SIG_DFL && python_term.sa_handler != SIG_IGN) {
        python_term.sa_handler(sig);
    }
}

/* In the child, right after fork (so before CPython's own after-fork work). */
static void
child_after_fork(void)
{
    if (!armed) {
        return;
    }
    in_fork_window = 1;
    if (make_timer() < 0) {
        return; /* a SIGTERM waits for the Python handler, as without the timer */
    }
    if (term_in_child) {
        start_timer();
    }
}

int
rec_term_after_fork(void)
{
    in_fork_window = 0;
    if (!term_in_child) {
        return 0;
    }
    term_in_child = 0;
    return raise(SIGTERM);
}

int
rec_term_arm(void)
{
    if (armed) {
        return 0;
    }
    struct sigaction cur, sa;
    if (sigaction(SIGTERM, NULL, &cur) < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timeout;
    sigemptyset(&sa.sa_mask);
    if (sigaction(TIMEOUT_SIGNAL, &sa, NULL) < 0) {
        return -1;
    }
    if (make_timer() < 0) {
        return -1;
    }
    static int atfork_done; /* pthread_atfork handlers cannot be removed */
    if (!atfork_done && pthread_atfork(NULL, NULL, child_after_fork) != 0) {
        timer_delete(term_timer);
        errno = ENOMEM;
        return -1;
    }
    atfork_done = 1;
    python_term = cur;
    sa = cur;
    sa.sa_sigaction = on_term;
    sa.sa_flags = (cur.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    if (sigaction(SIGTERM, &sa, NULL) < 0) {
        timer_delete(term_timer);
        return -1;
    }
    armed = 1;
    return 0;
}

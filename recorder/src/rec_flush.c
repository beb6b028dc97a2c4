/*
 * rec_flush.c - per-thread counters -> frames.  Runs with the GIL held, from
 * the periodic flusher thread (at least once a second) and at stop.  The
 * flusher thread also writes the full buffers the program's threads fill.
 *
 * With block counters, a block some frame is executing right now has been
 * counted on entry although its later instructions have not run yet.  The
 * flush counts such a frame as if it left the block at its current
 * instruction and carries the difference into the next window, so every frame
 * written holds exact executions so far: a killed program's file never claims
 * instructions that did not run, and no delta is ever negative.
 */
#include "rec.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#    include <sys/stat.h>
#    include <sys/syscall.h>
#endif

#if PY_VERSION_HEX >= 0x030D0000
#    define REC_IS_FINALIZING() Py_IsFinalizing()
#else
#    define REC_IS_FINALIZING() _Py_IsFinalizing()
#endif

typedef struct inflight {
    int64_t *exits; /* Borrowed: the thread's exit counters of the code */
    uint32_t instr;
    uint32_t slot;
    rec_thread *t; /* Borrowed */
} inflight;

static rec_thread *
find_thread(rec_state *st, uint64_t tid)
{
    for (rec_thread *t = st->threads; t; t = t->next) {
        if (t->tid == tid && !t->dead) {
            return t;
        }
    }
    return NULL;
}

/* Marks every block that a running frame is in the middle of.  Returns the
 * number of entries written to *out (grown as needed), or -1 on no memory. */
static Py_ssize_t
mark_inflight(rec_state *st, inflight **out, size_t *cap)
{
    Py_ssize_t n = 0;
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        rec_thread *t = find_thread(st, (uint64_t)ts->thread_id);
        if (t == NULL || t->paused) { /* a paused thread counted none of its blocks */
            continue;
        }
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        while (f != NULL) {
            PyCodeObject *code = PyFrame_GetCode(f);
            rec_code *c = rec_code_lookup(st, (PyObject *)code);
            Py_DECREF(code);
            if (c && c->counted && c->derive && c->slot < t->cap && t->counters[c->slot]) {
                uint32_t k = rec_code_instr_at(c, PyFrame_GetLasti(f));
                if (k < c->row) {
                    if ((size_t)n == *cap) {
                        size_t ncap = *cap ? *cap * 2 : 64;
                        inflight *p = PyMem_RawRealloc(*out, ncap * sizeof(*p));
                        if (p == NULL) {
                            Py_DECREF(f);
                            return -1;
                        }
                        *out = p;
                        *cap = ncap;
                    }
                    int64_t *exits = rec_thread_exits(st, t, c);
                    if (exits == NULL) {
                        Py_DECREF(f);
                        return -1;
                    }
                    exits[k] += 1;
                    (*out)[n].exits = exits;
                    (*out)[n].instr = k;
                    (*out)[n].slot = c->slot;
                    (*out)[n].t = t;
                    n++;
                }
            }
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
    }
    return n;
}

static int
scratch_reserve(rec_state *st, size_t need)
{
    if (need <= st->scratch_cap) {
        return 0;
    }
    size_t cap = st->scratch_cap ? st->scratch_cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    hops_count *p = PyMem_RawRealloc(st->scratch, cap * sizeof(*p));
    if (p == NULL) {
        return -1;
    }
    st->scratch = p;
    st->scratch_cap = cap;
    return 0;
}

static int64_t *
grow(int64_t **buf, size_t *cap, size_t need)
{
    if (need > *cap) {
        int64_t *p = PyMem_RawRealloc(*buf, need * sizeof(int64_t));
        if (p == NULL) {
            return NULL;
        }
        *buf = p;
        *cap = need;
    }
    return *buf;
}

static void
check_failed(rec_state *st, const rec_code *c, uint32_t k, int64_t derived, int64_t counted)
{
    st->check_failures++;
    const char *qn = c->code ? rec_diag_name(((PyCodeObject *)c->code)->co_qualname) : NULL;
    fprintf(stderr, "heavyops: check: %s:%d offset %u: derived %lld, counted %lld\n",
            qn ? qn : "<freed code>", c->code ? ((PyCodeObject *)c->code)->co_firstlineno : 0,
            c->instr_unit[k] * 2, (long long)derived, (long long)counted);
}

/* Appends site s's count v to the scratch frame (reserved). */
static inline void
emit_site(rec_state *st, const rec_code *c, uint32_t s, int64_t v, size_t *n)
{
    if (v < 0) { /* only if CPython dropped events of ours; never write it */
        st->negative_counts++;
        return;
    }
    st->scratch[*n].site = c->first_site + s;
    st->scratch[*n].count = (uint64_t)v;
    (*n)++;
}

/* Appends instruction k's count v to the scratch frame (reserved). */
static inline void
emit(rec_state *st, const rec_code *c, uint32_t k, int64_t v, size_t *n)
{
    emit_site(st, c, (uint32_t)c->instr_site[k], v, n);
}

/* -i mode: only counted blocks hold sites (uncounted ones derive nothing and
 * on_raise leaves their exits alone), so only they are read, and zeroed:
 * their counter and the exits rec_flow_solve and the loop below read, from
 * the counter (PY_START's, before the block) or the block's first
 * instruction to its last.  Code run once, most of an import, has long
 * instruction tables and a counter or two.  An exit outside every block
 * and that range (a signal handler's exception at a later RESUME) is never
 * read: left as it is. */
static void
collect_counted_blocks(rec_state *st, rec_code *c, int64_t *a, int64_t *exits, const int64_t *vals,
                       size_t *n)
{
    if (exits == NULL && c->start_counted && c->n_blocks == 1) { /* its sites ran as often */
        for (uint32_t s = 0; s < c->n_sites && vals[0] != 0; s++) {
            emit_site(st, c, s, vals[0], n);
        }
        st->stat_instrs += vals[0] * c->n_sites;
        c->stat_instrs += vals[0] * c->n_sites;
        a[c->block_ctr[0]] = 0;
        return;
    }
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        if (!c->block_counted[b]) {
            continue;
        }
        uint32_t ctr = c->block_ctr[b], k = c->block_first[b];
        int64_t run = vals[b];
        for (uint32_t x = ctr; x < k && exits; x++) {
            exits[x] = 0;
        }
        for (; k < c->n_instr && c->instr_blk[k] == (int32_t)b; k++) {
            int64_t v = run;
            if (exits) {
                run -= exits[k];
                exits[k] = 0;
            }
            if (c->instr_site[k] >= 0 && v != 0) {
                emit(st, c, k, v, n);
                st->stat_instrs += v;
                c->stat_instrs += v;
            }
        }
        a[ctr] = 0;
    }
}

/* Appends code c's counts from a and exits (NULL: none) to the scratch frame
 * and zeroes them. */
static int
collect(rec_state *st, rec_code *c, int64_t *a, int64_t *exits, size_t *n)
{
    if (scratch_reserve(st, *n + c->n_sites) < 0) {
        return -1;
    }
    if (c->derive) {
        int64_t *vals = grow(&st->vals, &st->vals_cap, (size_t)c->n_vals + 1);
        int64_t *r = grow(&st->rblk, &st->rblk_cap, (size_t)c->n_blocks + 1);
        if (vals == NULL || r == NULL) {
            return -1;
        }
        rec_flow_solve(c, a, exits, vals, r);
        if (st->stats) {
            int64_t ev = rec_code_window_events(c, a);
            st->stat_events += ev;
            st->stat_start_events += c->start_counted ? ev : 0;
            c->stat_events += ev;
        }
#if REC_HAVE_MONITORING
        if (rec_replan_wanted(st, c)) {
            rec_replan_observe(st, c, vals);
        }
#endif
        if (st->mode == REC_MODE_SELECTED && !st->check) {
            collect_counted_blocks(st, c, a, exits, vals, n);
            return 0;
        }
        /* block by block: its count less the exits before each instruction */
        for (uint32_t b = 0; b < c->n_blocks; b++) {
            int64_t run = vals[b];
            for (uint32_t k = c->block_first[b]; k < c->n_instr && c->instr_blk[k] == (int32_t)b;
                 k++) {
                int64_t v = run;
                run -= exits ? exits[k] : 0;
                /* -i mode derives only the blocks with a tracked instruction */
                if (st->check && (st->mode == REC_MODE_ALL || c->block_counted[b]) &&
                    v != a[c->n_ctr + k]) {
                    check_failed(st, c, k, v, a[c->n_ctr + k]);
                }
                if (c->instr_site[k] >= 0 && v != 0) {
                    emit(st, c, k, v, n);
                    st->stat_instrs += v;
                    c->stat_instrs += v;
                }
            }
        }
    } else {
        for (uint32_t k = 0; k < c->n_instr; k++) {
            if (c->instr_site[k] >= 0 && a[k] != 0) {
                emit(st, c, k, a[k], n);
                st->stat_instrs += a[k];
                st->stat_events += a[k];
            }
        }
    }
    memset(a, 0, REC_COUNTERS(st, c) * sizeof(int64_t));
    if (exits != NULL) {
        memset(exits, 0, (size_t)c->row * sizeof(int64_t));
    }
    return 0;
}

static void
note_error(rec_state *st, int err)
{
    if (err < 0 && st->write_err == 0) {
        st->write_err = err;
    }
}

static void
write_thread_name(rec_state *st, rec_thread *t)
{
    if (!t->dead) {
        rec_thread_lookup_name(t);
    }
    const char *name = t->name ? t->name : "";
    if (t->written_name && strcmp(t->written_name, name) == 0) {
        return;
    }
    hops_thread ht = {.tid = t->tid, .native_id = t->native_id, .name = name};
    note_error(st, hops_writer_add_thread(st->writer, &ht));
    rec_thread_keep_name(&t->written_name, name);
}

/* A code object's counter events in its first window that make it worth
 * giving its superinstructions back then (rec_backend_restore_supers). */
#define SUPERS_MIN_EVENTS 16

int
rec_flush(rec_state *st)
{
    if (st->writer == NULL) {
        return 0;
    }
    inflight *fl = NULL;
    size_t fl_cap = 0;
    if (!st->interference) {
        rec_backend_check_interference(st);
    }
    pthread_mutex_lock(&rec_threads_lock);
    if (st->stats) { /* before the threads that ended go, with their counters */
        rec_threads_note_peak(st);
    }
    rec_threads_forget_cached(st, NULL); /* counters of retired codes go below */
    Py_ssize_t n_fl = mark_inflight(st, &fl, &fl_cap);
    if (n_fl < 0) {
        n_fl = 0;
        st->nomem = 1;
    }
    rec_thread **link = &st->threads;
    while (*link) {
        rec_thread *t = *link;
        size_t n = 0;
        uint32_t i = 0;
        for (; i < t->n_dirty; i++) {
            uint32_t slot = t->dirty_slots[i];
            int64_t *a = t->counters[slot];
            rec_code *c = slot < st->n_slots ? st->codes[slot] : NULL;
            /* Code that runs again, or ran hot: its superinstructions back
             * (3.12).  Code run once, the bulk of an import, is not worth a
             * scan. */
            int supers = a != NULL && c != NULL && rec_backend_supers_pending(st, c) &&
                         (c->windows > 0 || rec_code_window_events(c, a) >= SUPERS_MIN_EVENTS);
            if (a != NULL && c != NULL && collect(st, c, a, t->exits[slot], &n) < 0) {
                st->nomem = 1;
                break;
            }
            if (supers) {
                rec_backend_restore_supers(st, c);
            }
            if (c != NULL && c->windows < 2) {
                c->windows++;
            }
            t->dirty[slot] = 0;
        }
        if (i < t->n_dirty) { /* what could not be collected waits for the next flush */
            memmove(t->dirty_slots, t->dirty_slots + i, (t->n_dirty - i) * sizeof(uint32_t));
        }
        t->n_dirty -= i;
        if (n > 0) {
            write_thread_name(st, t);
            note_error(st, hops_writer_add_frame(st->writer, t->tid, st->scratch, n));
        }
        if (t->dead) { /* its last counts are written: forget it */
            *link = t->next;
            rec_thread_free(t);
            continue;
        }
        link = &t->next;
    }
    /* Carry the blocks in flight into the next window (see top of file). */
    for (Py_ssize_t i = 0; i < n_fl; i++) {
        fl[i].exits[fl[i].instr] -= 1;
        rec_thread_mark_dirty(fl[i].t, fl[i].slot); /* to be collected once it moves on */
    }
    PyMem_RawFree(fl);
    /* Retired code objects: their counts are written, release their slots. */
    for (rec_code *c = st->dead_codes; c; c = c->next_dead) {
        for (rec_thread *t = st->threads; t; t = t->next) {
            if (c->slot < t->cap) {
                rec_thread_free_rows(t, c->slot);
            }
        }
    }
    rec_code_retire_dead(st);
    pthread_mutex_unlock(&rec_threads_lock);
    note_error(st, hops_writer_flush(st->writer));
    return st->write_err;
}

/* ---- the periodic flusher thread ---------------------------------------- */

static void
deadline_after(struct timespec *ts, const struct timespec *from, long ms)
{
    *ts = *from;
    ts->tv_nsec += ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

static int
before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

#ifndef REC_FLUSH_INTERVAL_MS
#    define REC_FLUSH_INTERVAL_MS 1000
#endif
#ifndef REC_DEAD_FLUSH_BYTES
#    define REC_DEAD_FLUSH_BYTES ((size_t)256 << 10)
#endif

/* ---- the writer's buffers, written by the flusher ----------------------
 * A full buffer (64 KB of code objects' symbols, at their first sight) was
 * write(2)n by the thread that filled it: 50 to 170 us each, the kernel's
 * copy evicting that thread's caches as it goes: 66 of them, 3 to 11 ms, in
 * the default mode's import-heavy start.  The writer hands it to queue_out()
 * instead, which queues it for the flusher thread, on the other core where
 * there is one.  What the flusher thread itself flushes, and everything once
 * it has stopped, is written at once, after what is queued, so that the file
 * gets the buffers in the order they were filled. */
typedef struct rec_out {
    struct rec_out *next;
    uint8_t *data; /* Owned (hops_writer_free_out) */
    size_t len;
} rec_out;

static __thread int in_flusher; /* this thread is the flusher */

/* One buffer to the file, write_lock held: after an error, none. */
static int
write_one(rec_state *st, uint8_t *data, size_t len)
{
    int err = st->out_err ? st->out_err : hops_writer_write_out(st->writer, data, len);
    hops_writer_free_out(data);
    if (err < 0 && st->out_err == 0) {
        pthread_mutex_lock(&st->flush_lock); /* out_err is read under either lock */
        st->out_err = err;
        pthread_mutex_unlock(&st->flush_lock);
    }
    return err;
}

/* Writes what is queued, in order, then data (len bytes; NULL: none), all
 * under one hold of write_lock; data's error, or 0.  Not with flush_lock held. */
static int
write_queued(rec_state *st, uint8_t *data, size_t len)
{
    pthread_mutex_lock(&st->write_lock);
    pthread_mutex_lock(&st->flush_lock);
    rec_out *o = st->out_head;
    st->out_head = st->out_tail = NULL;
    pthread_mutex_unlock(&st->flush_lock);
    while (o != NULL) {
        rec_out *next = o->next;
        write_one(st, o->data, o->len);
        PyMem_RawFree(o);
        o = next;
    }
    const int err = data != NULL ? write_one(st, data, len) : 0;
    pthread_mutex_unlock(&st->write_lock);
    return err;
}

/* The writer's sink (hops_writer_set_sink): GIL held. */
static int
queue_out(void *ctx, uint8_t *data, size_t len)
{
    rec_state *st = ctx;
    rec_out *o = st->flusher_running && !in_flusher ? PyMem_RawMalloc(sizeof *o) : NULL;
    st->stat_out[o == NULL]++;
    if (o == NULL) { /* the flusher's own flush, or no flusher: now, after the queue */
        return write_queued(st, data, len);
    }
    o->next = NULL;
    o->data = data;
    o->len = len;
    pthread_mutex_lock(&st->flush_lock);
    if (st->out_tail != NULL) {
        st->out_tail->next = o;
    } else {
        st->out_head = o;
    }
    st->out_tail = o;
    pthread_cond_signal(&st->flush_cond);
    const int err = st->out_err; /* an earlier write's: the writer's error from now on */
    pthread_mutex_unlock(&st->flush_lock);
    return err;
}

/* Flushes once a second (more often in the first second), and soon (10 ms at most apart, so a
 * thousand dying threads cost a hundred flushes a second, not a thousand) after a thread exits, so
 * its last frame is written while the program runs on. */
static void *
flusher_main(void *arg)
{
    rec_state *st = arg;
    struct timespec last, deadline, now;
    unsigned n_flushes = 0;
#if defined(__linux__)
    st->flusher_tid = (long)syscall(SYS_gettid);
#endif
    in_flusher = 1;
    if (st->replaced_fd >= 0) { /* the kernel frees the replaced file here, off the program's way */
        close(st->replaced_fd);
        st->replaced_fd = -1;
    }
    clock_gettime(CLOCK_REALTIME, &last);
    pthread_mutex_lock(&st->flush_lock);
    while (!st->flusher_stop) {
        if (st->out_head != NULL) { /* full buffers to write first */
            pthread_mutex_unlock(&st->flush_lock);
            write_queued(st, NULL, 0);
            pthread_mutex_lock(&st->flush_lock);
            continue;
        }
        /* The first flushes come early, 50, 150, 350, 750 ms in: the
         * re-plans (rec_replan.c) run at flushes, and pay off sooner.  An
         * early one with no re-plan due is skipped, in a run of code that
         * mostly runs once (an import-heavy start), unless code objects that
         * died hold 256 KB of tables or more (REC_DEAD_FLUSH_BYTES), which
         * it frees. */
        int early = st->flush_ms <= 0 && n_flushes < 4;
        long ms = st->flush_ms > 0 ? st->flush_ms
                  : early          ? 50L << n_flushes
                                   : REC_FLUSH_INTERVAL_MS;
        deadline_after(&deadline, &last, (long)(ms * st->time_scale));
        while (!st->flusher_stop && !st->flush_soon && st->out_head == NULL) {
            clock_gettime(CLOCK_REALTIME, &now);
            if (!before(&now, &deadline)) {
                break;
            }
            pthread_cond_timedwait(&st->flush_cond, &st->flush_lock, &deadline);
        }
        if (st->out_head != NULL && !st->flusher_stop) {
            clock_gettime(CLOCK_REALTIME, &now);
            if (before(&now, &deadline) && !st->flush_soon) {
                continue; /* woken to write, not yet to flush */
            }
        }
        int soon = st->flush_soon; /* a thread exited: never skipped */
        if (soon) {
            st->flush_soon = 0;
            deadline_after(&deadline, &last, (long)(10 * st->time_scale));
            clock_gettime(CLOCK_REALTIME, &now);
            while (!st->flusher_stop && before(&now, &deadline)) {
                pthread_cond_timedwait(&st->flush_cond, &st->flush_lock, &deadline);
                clock_gettime(CLOCK_REALTIME, &now);
            }
        }
        if (st->flusher_stop) {
            break;
        }
        pthread_mutex_unlock(&st->flush_lock);
        /* Never take the GIL of an interpreter that is shutting down. */
        if (!REC_IS_FINALIZING()) {
            PyGILState_STATE g = PyGILState_Ensure();
            /* an early flush runs only for a re-plan due or for the tables of
             * code objects that died (module bodies run and gone) to free, for
             * what runs next to reuse */
            int skip = early && !soon && st->mem_dead < REC_DEAD_FLUSH_BYTES;
#if REC_HAVE_MONITORING
            skip = skip && !rec_replan_due(st);
#endif
            if (st->active && !skip) {
                rec_flush(st);
#if REC_HAVE_MONITORING
                rec_replan_run(st);
#endif
            }
            n_flushes++;
            PyGILState_Release(g);
        }
        clock_gettime(CLOCK_REALTIME, &last);
        pthread_mutex_lock(&st->flush_lock);
    }
    pthread_mutex_unlock(&st->flush_lock);
    return NULL;
}

int
rec_flusher_start(rec_state *st)
{
    if (!st->flush_sync_init) {
        pthread_mutex_init(&st->flush_lock, NULL);
        pthread_cond_init(&st->flush_cond, NULL);
        pthread_mutex_init(&st->write_lock, NULL);
        st->flush_sync_init = 1;
        hops_writer_set_sink(st->writer, queue_out, st);
    }
    st->flusher_stop = 0;
    /* The flusher blocks every signal, as it inherits the mask in force at its
     * creation: a signal sent to the process then goes to one of the
     * program's threads, as in a plain run.  Else a SIGTERM could land in the
     * flusher while the only program thread sleeps in sem_wait(), which only
     * the thread that takes the signal leaves with EINTR (a Pool worker
     * blocked on its task queue then never ran its handler). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&st->flusher, NULL, flusher_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        return -1;
    }
    st->flusher_running = 1;
    return 0;
}

/* Called with the GIL held: released while joining, since the flusher may be
 * waiting for it. */
void
rec_flusher_stop(rec_state *st)
{
    if (!st->flusher_running) {
        return;
    }
    pthread_mutex_lock(&st->flush_lock);
    st->flusher_stop = 1;
    pthread_cond_signal(&st->flush_cond);
    pthread_mutex_unlock(&st->flush_lock);
    Py_BEGIN_ALLOW_THREADS pthread_join(st->flusher, NULL);
    Py_END_ALLOW_THREADS st->flusher_running = 0;
    write_queued(st, NULL, 0); /* what it had no time for: before a fork, or the last flush */
    /* flush_lock and flush_cond live on until state_free: exiting threads
     * may still signal them (rec_threads.c). */
}

void
rec_flusher_stop_for_fork(rec_state *st)
{
    long tid = st->flusher_tid;
    rec_flusher_stop(st);
    st->flusher_tid = 0;
#if defined(__linux__)
    if (tid <= 0) {
        return;
    }
    /* pthread_join returns when the thread clears its tid, before the kernel
     * drops it from the thread group: poll its /proc entry, every 50 us for
     * the first 20 ms (it is gone within microseconds on an idle machine),
     * then every millisecond, 500 ms at most (a loaded machine was seen to
     * take longer than 20 ms, and 3.13 warned of threads at the fork). */
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld", tid);
    struct stat sb;
    for (int i = 0; i < 400 + 480 && stat(path, &sb) == 0; i++) {
        struct timespec ts = {0, i < 400 ? 50000 : 1000000};
        nanosleep(&ts, NULL);
    }
#endif
}

void
rec_flusher_request(rec_state *st)
{
    pthread_mutex_lock(&st->flush_lock);
    st->flush_soon = 1;
    pthread_cond_signal(&st->flush_cond);
    pthread_mutex_unlock(&st->flush_lock);
}

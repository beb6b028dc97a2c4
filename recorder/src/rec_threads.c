/*
 * rec_threads.c - per-thread counters.  The hot path finds its thread's state
 * through a C thread-local pointer; the state lives until the OS thread exits
 * (seen by a pthread key destructor) and its last counts have been flushed.
 */
#include "rec.h"

#include <string.h>
#include <unistd.h>

pthread_mutex_t rec_threads_lock = PTHREAD_MUTEX_INITIALIZER;

/* A cache of this OS thread's rec_thread: thread-local by nature, and the
 * pthread key below exists only for its destructor.  Static TLS (initial-exec,
 * declared in rec.h) avoids a __tls_get_addr call per event. */
_Thread_local rec_thread *rec_tls_thread;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* Small counter rows come from slabs of the thread's own: code that PY_START
 * counts alone needs a counter or two, thousands of code objects an import
 * runs once each take a row, and malloc's bookkeeping cost more than the rest
 * of their counting.  A freed row goes on the thread's free list, for the
 * next; the slabs go with the thread (or the recorder's stop). */
struct rec_slab {
    struct rec_slab *next;
    int64_t rows[REC_SLAB_ROWS][REC_SMALL_ROW];
};

static int64_t *
small_row(rec_thread *t)
{
    int64_t *a = t->small_free;
    if (a != NULL) {
        memcpy(&t->small_free, a, sizeof(int64_t *)); /* the list's link is the row's first word */
    } else {
        if (t->slabs == NULL || t->slab_used == REC_SLAB_ROWS) {
            rec_slab *sl = PyMem_RawMalloc(sizeof(*sl));
            if (sl == NULL) {
                return NULL;
            }
            sl->next = t->slabs;
            t->slabs = sl;
            t->slab_used = 0;
        }
        a = t->slabs->rows[t->slab_used++];
    }
    memset(a, 0, REC_SMALL_ROW * sizeof(int64_t));
    return a;
}

void
rec_thread_free_rows(rec_thread *t, uint32_t slot)
{
    int64_t *a = t->counters[slot];
    if (a != NULL && t->small[slot]) {
        memcpy(a, &t->small_free, sizeof(int64_t *));
        t->small_free = a;
    } else {
        PyMem_RawFree(a);
    }
    PyMem_RawFree(t->exits[slot]);
    t->counters[slot] = NULL;
    t->exits[slot] = NULL;
    t->small[slot] = 0;
}

/* Every row is off the tables: the slabs go. */
static void
free_slabs(rec_thread *t)
{
    while (t->slabs) {
        rec_slab *next = t->slabs->next;
        PyMem_RawFree(t->slabs);
        t->slabs = next;
    }
    t->small_free = NULL;
    t->slab_used = 0;
}

void
rec_thread_free(rec_thread *t)
{
    for (uint32_t i = 0; i < t->cap; i++) {
        rec_thread_free_rows(t, i);
    }
    free_slabs(t);
    PyMem_RawFree(t->counters);
    PyMem_RawFree(t->exits);
    PyMem_RawFree(t->dirty);
    PyMem_RawFree(t->small);
    PyMem_RawFree(t->dirty_slots);
    PyMem_RawFree(t->written_name);
    PyMem_RawFree(t->name);
    PyMem_RawFree(t);
}

/* Runs without the GIL when an OS thread that counted something exits. */
static void
on_thread_exit(void *p)
{
    rec_thread *t = p;
    pthread_mutex_lock(&rec_threads_lock);
    int orphan = t->st == NULL;
    t->dead = 1;
    if (!orphan && t->st->flush_sync_init) {
        rec_flusher_request(t->st); /* its last frame, now rather than within a second */
    }
    pthread_mutex_unlock(&rec_threads_lock);
    if (orphan) { /* the recorder stopped before this thread ended */
        rec_thread_free(t);
    }
}

static void
make_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
}

void
rec_threads_init_key(void)
{
    pthread_once(&exit_key_once, make_key);
}

void
rec_thread_keep_name(char **slot, const char *s)
{
    if (*slot != NULL && strcmp(s, *slot) == 0) {
        return;
    }
    size_t n = strlen(s) + 1;
    char *copy = PyMem_RawMalloc(n);
    if (copy) {
        memcpy(copy, s, n);
        PyMem_RawFree(*slot);
        *slot = copy;
    }
}

rec_thread *
rec_thread_current(rec_state *st)
{
    rec_thread *t = rec_tls_thread;
    if (t != NULL && t->st == st) {
        return t;
    }
    t = PyMem_RawCalloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->st = st;
    t->tid = (uint64_t)PyThread_get_thread_ident();
#ifdef PY_HAVE_THREAD_NATIVE_ID
    t->native_id = (uint64_t)PyThread_get_thread_native_id();
#endif
    if (t->native_id == (uint64_t)getpid()) {
        /* The process's first thread (Linux: its tid is the pid): the name
         * threading gives the main thread, until threading (which the
         * program may never import) gives it one. */
        rec_thread_keep_name(&t->name, "MainThread");
    }
    pthread_mutex_lock(&rec_threads_lock);
    t->next = st->threads;
    st->threads = t;
    pthread_mutex_unlock(&rec_threads_lock);
    rec_tls_thread = t;
    pthread_setspecific(exit_key, t);
    rec_thread_lookup_name(t);
    return t;
}

size_t
rec_thread_bytes(const rec_state *st, const rec_thread *t)
{
    /* counters, exits, dirty, small, dirty_slots: cap entries each */
    size_t n = sizeof(*t) + (size_t)t->cap * (2 * sizeof(int64_t *) + 2 + sizeof(uint32_t));
    for (const rec_slab *sl = t->slabs; sl != NULL; sl = sl->next) {
        n += sizeof(*sl);
    }
    for (uint32_t s = 0; s < t->cap && s < st->n_slots; s++) {
        const rec_code *c = st->codes[s];
        if (c == NULL) {
            continue;
        }
        n += t->counters[s] != NULL && !t->small[s] ? (REC_COUNTERS(st, c) + 1) * sizeof(int64_t)
                                                    : 0;
        n += t->exits[s] != NULL ? ((size_t)c->row + 1) * sizeof(int64_t) : 0;
    }
    return n;
}

size_t
rec_threads_bytes(const rec_state *st, uint32_t *threads)
{
    size_t n = 0;
    *threads = 0;
    for (const rec_thread *t = st->threads; t != NULL; t = t->next) {
        n += rec_thread_bytes(st, t);
        (*threads)++;
    }
    return n;
}

void
rec_threads_note_peak(rec_state *st)
{
    uint32_t threads;
    const size_t n = rec_threads_bytes(st, &threads);
    if (n > st->mem_counters_peak) {
        st->mem_counters_peak = n;
        st->mem_counters_peak_threads = threads;
    }
}

int64_t *
rec_thread_counters(rec_state *st, rec_thread *t, rec_code *c)
{
    if (c->slot >= t->cap) {
        uint32_t cap = t->cap ? t->cap : 64;
        while (cap <= c->slot) {
            cap *= 2;
        }
        int64_t **tab = PyMem_RawRealloc(t->counters, cap * sizeof(*tab));
        if (tab != NULL) {
            t->counters = tab;
        }
        int64_t **ex = tab ? PyMem_RawRealloc(t->exits, cap * sizeof(*ex)) : NULL;
        if (ex != NULL) {
            t->exits = ex;
        }
        uint8_t *dirty = ex ? PyMem_RawRealloc(t->dirty, cap) : NULL;
        if (dirty != NULL) {
            t->dirty = dirty;
        }
        uint8_t *small = dirty ? PyMem_RawRealloc(t->small, cap) : NULL;
        if (small != NULL) {
            t->small = small;
        }
        uint32_t *ds = small ? PyMem_RawRealloc(t->dirty_slots, cap * sizeof(*ds)) : NULL;
        if (ds == NULL) {
            st->nomem = 1;
            return NULL;
        }
        t->dirty_slots = ds;
        memset(tab + t->cap, 0, (cap - t->cap) * sizeof(*tab));
        memset(ex + t->cap, 0, (cap - t->cap) * sizeof(*ex));
        memset(dirty + t->cap, 0, cap - t->cap);
        memset(small + t->cap, 0, cap - t->cap);
        t->cap = cap;
    }
    int64_t *a = t->counters[c->slot];
    if (a == NULL) {
        /* First count of this code in this thread: a thread's first events
         * come before threading registers it, so learn its name here. */
        if (t->name == NULL) {
            rec_thread_lookup_name(t);
        }
        const size_t n = REC_COUNTERS(st, c) + 1;
        a = n <= REC_SMALL_ROW ? small_row(t) : PyMem_RawCalloc(n, sizeof(int64_t));
        if (a == NULL) {
            st->nomem = 1;
            return NULL;
        }
        t->counters[c->slot] = a;
        t->small[c->slot] = n <= REC_SMALL_ROW;
    }
    rec_thread_mark_dirty(t, c->slot);
    return a;
}

int64_t *
rec_thread_exits(rec_state *st, rec_thread *t, rec_code *c)
{
    if (rec_thread_counters(st, t, c) == NULL) {
        return NULL;
    }
    int64_t *x = t->exits[c->slot];
    if (x == NULL) {
        x = t->exits[c->slot] = PyMem_RawCalloc((size_t)c->row + 1, sizeof(int64_t));
        if (x == NULL) {
            st->nomem = 1;
        }
    }
    return x;
}

void
rec_thread_note_exit(rec_state *st, rec_code *c, uint32_t k, PyObject *exc)
{
    /* FOR_ITER and SEND report the StopIteration they absorb: not an exit. */
    if ((c->instr_op[k] == st->op.for_iter || c->instr_op[k] == st->op.send) &&
        PyErr_GivenExceptionMatches(exc, PyExc_StopIteration)) {
        return;
    }
    if (st->mode == REC_MODE_SELECTED && !st->check && !rec_code_exit_read(c, k)) {
        return;
    }
    rec_thread *t = rec_thread_current(st);
    if (t != NULL && t->paused) {
        return;
    }
    int64_t *exits = t ? rec_thread_exits(st, t, c) : NULL;
    if (exits != NULL) {
        exits[k]++;
    } else {
        st->nomem = 1;
    }
}

void
rec_thread_mark_dirty(rec_thread *t, uint32_t slot)
{
    if (slot < t->cap && !t->dirty[slot]) {
        t->dirty[slot] = 1;
        t->dirty_slots[t->n_dirty++] = slot;
    }
}

/* At stop, after the final flush.  Threads still running keep their struct
 * (their exit destructor frees it); the others are freed now. */
void
rec_threads_free_all(rec_state *st)
{
    pthread_mutex_lock(&rec_threads_lock);
    rec_thread *t = st->threads;
    st->threads = NULL;
    while (t) {
        rec_thread *next = t->next;
        for (uint32_t i = 0; i < t->cap; i++) {
            rec_thread_free_rows(t, i);
        }
        free_slabs(t);
        if (t->dead) {
            rec_thread_free(t);
        } else {
            t->st = NULL;
            t->next = NULL;
        }
        t = next;
    }
    pthread_mutex_unlock(&rec_threads_lock);
}

/* (PyImport_GetModule runs importlib's _lock_unlock_module while threading
 * is being imported.) */
PyObject *
rec_threading_dict(void)
{
    PyObject *modules = PyImport_GetModuleDict(); /* Borrowed, like the rest */
    PyObject *threading =
        modules && PyDict_Check(modules) ? PyDict_GetItemString(modules, "threading") : NULL;
    return threading && PyModule_Check(threading) ? PyModule_GetDict(threading) : NULL;
}

/* threading._active[tid]._name, from sys.modules and the __dict__s without
 * any call that could run Python code: that code would be counted, in
 * whatever thread flushes, and the flusher holds rec_threads_lock, which its
 * own first event would wait for. */
void
rec_thread_lookup_name(rec_thread *t)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyObject *mdict = rec_threading_dict(); /* Borrowed, like all but two below */
    PyObject *active = mdict ? PyDict_GetItemString(mdict, "_active") : NULL;
    PyObject *key = PyLong_FromUnsignedLongLong(t->tid); /* Owned */
    PyObject *th = (active && key && PyDict_Check(active)) ? PyDict_GetItem(active, key) : NULL;
    PyObject *tdict = th ? PyObject_GenericGetDict(th, NULL) : NULL; /* Owned */
    PyObject *name = tdict && PyDict_Check(tdict) ? PyDict_GetItemString(tdict, "_name") : NULL;
    PyObject *hold = NULL;
    const char *s = (name && PyUnicode_Check(name)) ? rec_utf8(name, &hold) : NULL;
    if (s) {
        rec_thread_keep_name(&t->name, s);
    }
    Py_XDECREF(hold);
    Py_XDECREF(tdict);
    Py_XDECREF(key);
    PyErr_Restore(exc_type, exc_value, exc_tb);
}

void
rec_threads_forget_cached(rec_state *st, const rec_code *c)
{
    for (rec_thread *t = st->threads; t; t = t->next) {
        if (c == NULL || t->last_c == c) {
            t->last_code = NULL;
            t->last_c = NULL;
            t->last_a = NULL;
        }
        if (c == NULL) {
            memset(t->cache, 0, sizeof(t->cache));
        } else if (c->code != NULL) { /* only its own index can hold it */
            rec_cache_entry *e = &t->cache[rec_cache_index(c->code)];
            if (e->code == c->code) {
                memset(e, 0, sizeof(*e));
            }
        }
    }
}

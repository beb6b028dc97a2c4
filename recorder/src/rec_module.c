/*
 * rec_module.c - heavyops._recorder: start() and stop() of the one recorder
 * a process can have (sys.monitoring tool ids and tracing are per process).
 */
#include "rec.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- rec_cb: the C callable handed to sys.monitoring / threading ---- */

static void
cb_dealloc(PyObject *self)
{
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject rec_cb_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "heavyops._recorder.Callback",
    .tp_basicsize = sizeof(rec_cb),
    .tp_dealloc = cb_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(rec_cb, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_doc = "A heavyops recorder callback (implemented in C).",
};

PyObject *
rec_cb_new(rec_state *st, vectorcallfunc fn)
{
    rec_cb *cb = PyObject_New(rec_cb, &rec_cb_type);
    if (cb == NULL) {
        return NULL;
    }
    cb->vectorcall = fn;
    cb->st = st;
    return (PyObject *)cb;
}

/* ---- process-wide recorder ---- */

/* The co_extra index cannot be given back, so it is requested once. */
static Py_ssize_t extra_index = -1;
/* The active recorder, if any: one per process by nature. */
static rec_state *active;
static pid_t active_pid;

#if !REC_HAVE_MONITORING
/* 3.11: sys.settrace and sys.setprofile (and their C forms) raise audit
 * events: the one way to see a tracer that comes and goes between flushes.
 * The event comes before the new function is in place and does not say what
 * it is (sys.settrace(None) is common: test.support.no_tracing), so the hook
 * only schedules a look at every thread's trace and profile functions for the
 * next moment the interpreter checks for pending calls, while the new tracer
 * (if any) already runs.  Audit hooks cannot be removed, hence `active`.
 * 3.12+ needs no hook (CPython's instrumentation version tells, see
 * rec_monitor.c), and is spared its cost: with any hook in place, CPython
 * builds the arguments of every audit event, and an import copies each .pyc
 * into one (marshal.loads). */
static int
check_tracers(void *unused)
{
    if (active != NULL && getpid() == active_pid) {
        rec_backend_check_interference(active);
    }
    return 0;
}

static int
audit_hook(const char *event, PyObject *args, void *userdata)
{
    if (active == NULL || strncmp(event, "sys.set", 7) != 0) {
        return 0;
    }
    if (strcmp(event, "sys.settrace") == 0 || strcmp(event, "sys.setprofile") == 0) {
        Py_AddPendingCall(check_tracers, NULL); /* if the queue is full, the next flush looks */
    }
    return 0;
}
#endif

static char *
dup_utf8(PyObject *o)
{
    const char *s = PyUnicode_AsUTF8(o);
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = PyMem_RawMalloc(n);
    if (d == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

/* A NULL-terminated copy of a list of str; *n gets its length. */
static char **
dup_str_list(PyObject *list, size_t *n)
{
    PyObject *seq = PySequence_Fast(list, "expected a list of str");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    char **v = PyMem_RawCalloc((size_t)len + 1, sizeof(char *));
    if (v == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        v[i] = dup_utf8(PySequence_Fast_GET_ITEM(seq, i));
        if (v[i] == NULL) {
            for (Py_ssize_t j = 0; j < i; j++) {
                PyMem_RawFree(v[j]);
            }
            PyMem_RawFree(v);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    *n = (size_t)len;
    return v;
}

static void
free_str_list(char **v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        PyMem_RawFree(v[i]);
    }
    PyMem_RawFree(v);
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
state_free(rec_state *st)
{
    if (st == NULL) {
        return;
    }
    rec_code_release_all(st);
    rec_threads_free_all(st); /* after this no exiting thread can reach st */
    if (st->replaced_fd >= 0) {
        close(st->replaced_fd); /* the flusher never ran */
    }
    if (st->flush_sync_init) {
        pthread_mutex_destroy(&st->flush_lock);
        pthread_cond_destroy(&st->flush_cond);
        pthread_mutex_destroy(&st->write_lock);
    }
    free_str_list(st->file_globs, st->n_file_globs);
    PyMem_RawFree(st->exclude_prefix);
    PyMem_RawFree(st->codes);
    PyMem_RawFree(st->free_slots);
    PyMem_RawFree(st->scratch);
    PyMem_RawFree(st->vals);
    PyMem_RawFree(st->rblk);
    Py_XDECREF(st->opname_list);
    Py_XDECREF(st->last_file);
    Py_XDECREF(st->prearm_file);
    Py_XDECREF(st->set_local_events);
    Py_XDECREF(st->disable);
    PyObject *cbs[] = {st->cb_instruction, st->cb_start, st->cb_raise, st->trace_obj,
                       st->thread_hook};
    for (size_t i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
        if (cbs[i]) {
            ((rec_cb *)cbs[i])->st = NULL;
            Py_DECREF(cbs[i]);
        }
    }
    PyMem_RawFree(st);
}

PyDoc_STRVAR(start_doc,
             "start(path, *, tracked=None, patterns=(), file_globs=(), exclude_prefix=None,\n"
             "      argv=(), force=False)\n--\n\n"
             "Start recording into path.  tracked: None to count every instruction, else a\n"
             "list of opcode numbers to count.  Raises FileExistsError unless force.");

static PyObject *
rec_start(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path",           "tracked", "patterns", "file_globs",
                             "exclude_prefix", "argv",    "force",    NULL};
    PyObject *path_obj, *tracked = Py_None, *patterns = NULL, *globs = NULL, *exclude = Py_None,
                        *argv = NULL;
    int force = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|$OOOOOp:start", kwlist,
                                     PyUnicode_FSConverter, &path_obj, &tracked, &patterns, &globs,
                                     &exclude, &argv, &force)) {
        return NULL;
    }
    PyObject *ret = NULL;
    char **argv_c = NULL, **pat_c = NULL;
    size_t argc = 0, npat = 0;
    rec_state *st = NULL;

    if (active != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "heavyops: already recording");
        goto done;
    }
#if !REC_HAVE_MONITORING
    static int audit_added;
    if (!audit_added) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0) {
            goto done;
        }
        audit_added = 1;
    }
#endif
    if (extra_index < 0) {
#if PY_VERSION_HEX >= 0x030C0000
        extra_index = PyUnstable_Eval_RequestCodeExtraIndex(rec_code_free_extra);
#else
        extra_index = _PyEval_RequestCodeExtraIndex(rec_code_free_extra);
#endif
        if (extra_index < 0) {
            PyErr_SetString(PyExc_RuntimeError, "heavyops: no co_extra slot left");
            goto done;
        }
    }
    rec_threads_init_key();
    st = PyMem_RawCalloc(1, sizeof(*st));
    if (st == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    st->extra_index = extra_index;
    st->tool_id = -1;
    st->code_watcher = -1; /* none: a failed start must not clear another's watcher 0 */
    st->replaced_fd = -1;
    {
        const char *chk = getenv("HEAVYOPS_CHECK"); /* developers' self-check of derived counts */
        st->check = chk != NULL && chk[0] != '\0' && chk[0] != '0';
        /* Tests' fault injection: the first-sight setup of every code object
         * after the first N fails as if out of memory. */
        const char *fault = getenv("HEAVYOPS_FAULT_NOMEM_AFTER");
        st->fault_codes_left = fault != NULL && fault[0] ? strtol(fault, NULL, 10) : -1;
        /* Tests: stop() raises this signal while it writes the file, as a
         * pool's terminate() may send SIGTERM to a worker that is exiting. */
        const char *fsig = getenv("HEAVYOPS_FAULT_SIGNAL_IN_STOP");
        st->fault_signal = fsig != NULL && fsig[0] ? atoi(fsig) : 0;
        /* Developers: counter statistics on stderr at stop; tests: flushes
         * (and so re-plans) this many ms apart. */
        const char *stats = getenv("HEAVYOPS_STATS");
        st->stats = stats != NULL && stats[0] ? atoi(stats) : 0;
        const char *fms = getenv("HEAVYOPS_FLUSH_MS");
        st->flush_ms = fms != NULL && fms[0] ? strtol(fms, NULL, 10) : 0;
        /* The benchmark under callgrind, which runs the program some 50x
         * slower: the flusher's waits this many times longer, so that the
         * run flushes (and re-plans) as often, for as much program, as it
         * would natively. */
        const char *scale = getenv("HEAVYOPS_TIME_SCALE");
        st->time_scale = scale != NULL && scale[0] ? strtod(scale, NULL) : 1.0;
        if (!(st->time_scale >= 1.0 && st->time_scale <= 10000.0)) {
            st->time_scale = 1.0;
        }
#if REC_HAVE_MONITORING
        rec_replan_init(st);
#endif
    }
    if (rec_opinfo_init(&st->op, &st->opname_list) < 0) {
        goto done;
    }
    st->mode = tracked == Py_None ? REC_MODE_ALL : REC_MODE_SELECTED;
    if (tracked != Py_None) {
        PyObject *seq = PySequence_Fast(tracked, "tracked must be a list of opcodes");
        if (seq == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            long o = PyLong_AsLong(PySequence_Fast_GET_ITEM(seq, i));
            if (o < 0 || o > 255) {
                Py_DECREF(seq);
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_ValueError, "opcode out of range");
                }
                goto done;
            }
            st->op.tracked[o] = 1;
        }
        Py_DECREF(seq);
    }
    rec_opinfo_scan_init(&st->op);
    if (globs && (st->file_globs = dup_str_list(globs, &st->n_file_globs)) == NULL) {
        goto done;
    }
    if (exclude != Py_None && (st->exclude_prefix = dup_utf8(exclude)) == NULL) {
        goto done;
    }
    if (argv && (argv_c = dup_str_list(argv, &argc)) == NULL) {
        goto done;
    }
    if (patterns && (pat_c = dup_str_list(patterns, &npat)) == NULL) {
        goto done;
    }

    char version[32];
    snprintf(version, sizeof(version), "%d.%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION,
             PY_MICRO_VERSION);
    hops_meta meta = {
        .python_version = version,
        .mechanism = REC_HAVE_MONITORING
                         ? (st->mode == REC_MODE_ALL
                                ? "sys.monitoring block counters (C callbacks)"
                                : "sys.monitoring per-instruction counters (C callbacks)")
                         : "C-level tracing, opcode events",
        .argc = (uint32_t)argc,
        .argv = (const char *const *)argv_c,
        .pid = (uint64_t)getpid(),
        .start_ns = now_ns(),
        .flags = st->mode == REC_MODE_ALL ? HOPS_META_ALL_INSTRUCTIONS : 0,
        .n_tracked = (uint32_t)npat,
        .tracked = (const char *const *)pat_c,
        .n_file_globs = (uint32_t)st->n_file_globs,
        .file_globs = (const char *const *)st->file_globs,
    };
    errno = 0;
    int err = hops_writer_open_path(&st->writer, PyBytes_AS_STRING(path_obj),
                                    force ? 0 : HOPS_WRITE_EXCLUSIVE, &meta);
    if (err == HOPS_E_EXISTS) {
        PyErr_Format(PyExc_FileExistsError, "%s: file exists (use --force to overwrite)",
                     PyBytes_AS_STRING(path_obj));
        goto done;
    }
    if (err == HOPS_E_IO && errno != 0) { /* the system's reason says more */
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, PyBytes_AS_STRING(path_obj));
        goto done;
    }
    if (err < 0) {
        PyErr_Format(PyExc_OSError, "%s: %s", PyBytes_AS_STRING(path_obj), hops_strerror(err));
        goto done;
    }
    /* The file it replaces is freed by the flusher thread: freeing a few MB
     * of page cache in rename() was a millisecond or more of the run. */
    st->replaced_fd = hops_writer_take_replaced(st->writer);
    st->active = 1;
    active = st;
    active_pid = getpid();
    if (rec_backend_start(st) < 0) {
        active = NULL;
        rec_backend_stop(st, 0);
        goto done;
    }
    if (rec_flusher_start(st) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "heavyops: cannot start the flusher thread");
        active = NULL;
        rec_backend_stop(st, 0);
        goto done;
    }
    st = NULL;
    ret = Py_NewRef(Py_None);
done:
    if (st) {
        hops_writer_close(st->writer);
        st->writer = NULL;
        if (!force) { /* only a file this call created: never a user's file or a device */
            unlink(PyBytes_AS_STRING(path_obj));
        }
        state_free(st);
    }
    free_str_list(argv_c, argc);
    free_str_list(pat_c, npat);
    Py_DECREF(path_obj);
    return ret;
}

/* HEAVYOPS_STATS (developers): counter events against instructions, and what
 * the re-plans did; at 2 (3) also each code object with over 10,000 (1,000)
 * events: its events, instructions and counted blocks. */
static void
print_stats(const rec_state *st)
{
    fprintf(stderr,
            "heavyops: stats: %lld instructions, %lld counter events (%.2f%%, %lld PY_START); "
            "%llu re-plans, %llu adopted, %lld events fewer in the windows measured; "
            "offsets disabled ahead: %s, counters set directly: %s, code pre-armed: %llu "
            "(%llu of files not recorded)",
            (long long)st->stat_instrs, (long long)st->stat_events,
            st->stat_instrs ? 100.0 * (double)st->stat_events / (double)st->stat_instrs : 0.0,
            (long long)st->stat_start_events, (unsigned long long)st->stat_replans,
            (unsigned long long)st->stat_adopted, (long long)st->stat_events_saved,
            st->disable_ahead ? "yes" : "no", st->direct ? "yes" : "no",
            (unsigned long long)st->stat_prearmed, (unsigned long long)st->stat_quiet);
    if (!REC_HAVE_MONITORING) {
        fprintf(stderr, "; line mode: %llu code objects%s", (unsigned long long)st->stat_line_mode,
                st->no_line_mode ? " (off: HEAVYOPS_NO_LINE_MODE)" : "");
    }
    fprintf(stderr, "; buffers written: %llu by the flusher thread, %llu at once\n",
            (unsigned long long)st->stat_out[0], (unsigned long long)st->stat_out[1]);
    /* the recorder's own memory: per code object, per thread, and scratch */
    uint32_t threads;
    const uint32_t sites = hops_writer_next_site(st->writer); /* every site declared */
    pthread_mutex_lock(&rec_threads_lock);
    const size_t counters = rec_threads_bytes(st, &threads);
    pthread_mutex_unlock(&rec_threads_lock);
    fprintf(stderr,
            "heavyops: stats: memory: code tables %zu bytes at most (%zu at the end) for %u "
            "sites (%.1f bytes a site), counters %zu bytes in %u threads at the end, "
            "%zu bytes in %u threads at most (at a flush), scratch %zu bytes\n",
            st->mem_tables_peak, st->mem_tables, sites,
            sites ? (double)st->mem_tables_peak / (double)sites : 0.0, counters, threads,
            st->mem_counters_peak, st->mem_counters_peak_threads,
            st->arena.cap + st->scratch_cap * sizeof(hops_count) +
                (st->vals_cap + st->rblk_cap) * sizeof(int64_t));
    for (uint32_t s = 0; st->stats > 1 && s < st->n_slots; s++) {
        const rec_code *c = st->codes[s];
        if (c == NULL || c->code == NULL || c->dead ||
            c->stat_events <= (st->stats > 2 ? 1000 : 10000)) {
            continue;
        }
        uint32_t nc = 0;
        for (uint32_t b = 0; b < c->n_blocks; b++) {
            nc += c->block_counted[b];
        }
        const PyCodeObject *co = (const PyCodeObject *)c->code;
        const char *qn = rec_diag_name(co->co_qualname);
        fprintf(stderr, "heavyops: stats: %lld events %lld instrs %u/%u blocks %s %s:%d\n",
                (long long)c->stat_events, (long long)c->stat_instrs, nc, c->n_blocks,
                c->start_counted    ? "start"
                : c->replanned == 2 ? "re-planned"
                                    : "",
                qn, co->co_firstlineno);
    }
}

PyDoc_STRVAR(stop_doc,
             "stop(exit_status=-1, clean=True)\n--\n\n"
             "Stop recording, write the last frames and close the file; clean=False marks\n"
             "a run that did not end normally (killed by a signal).  Returns a dict:\n"
             "bytes, lost_events, negative_counts (left out: CPython dropped events),\n"
             "error (str or None), other_tool, nomem, interference (bools),\n"
             "check_failures.  A no-op\n"
             "returning None when not recording, and in a forked child (the file is the\n"
             "parent's).  For the process's end only: the sys.monitoring tool id stays\n"
             "taken, and code objects keep their (inert) local events.");

static PyObject *
rec_stop(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"exit_status", "clean", NULL};
    int exit_status = -1, clean = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|ip:stop", kwlist, &exit_status, &clean)) {
        return NULL;
    }
    rec_state *st = active;
    if (st == NULL) {
        Py_RETURN_NONE;
    }
    active = NULL;
    if (getpid() != active_pid) { /* forked child: the file belongs to the parent */
        rec_backend_stop(st, 0);
        st->writer = NULL; /* leaked on purpose: closing would flush into the parent's file */
        st->active = 0;
        Py_RETURN_NONE;
    }
    rec_flush(st); /* still recording: sees tracers the program left installed */
    rec_backend_stop(st, 1);
    rec_flusher_stop(st);
    rec_flush(st);
    st->active = 0;
    if (st->stats) {
        print_stats(st);
    }
    /* negative counts with another tool in sight are its doing: interference */
    const int nomem = st->nomem || st->lost_events,
              dropped = st->negative_counts && !st->interference && !st->other_tool_warning;
    if (st->fault_signal > 0) {
        raise(st->fault_signal); /* its Python handler runs after we return */
    }
    hops_end end = {
        .end_ns = now_ns(),
        .exit_status = exit_status,
        .flags = (clean ? HOPS_END_CLEAN : 0) | (st->interference ? HOPS_END_INTERFERENCE : 0) |
                 (nomem || dropped ? HOPS_END_INCOMPLETE : 0) | (nomem ? HOPS_END_NOMEM : 0) |
                 (dropped ? HOPS_END_DROPPED : 0),
        .lost_events = st->lost_events,
    };
    int err = hops_writer_finish(st->writer, &end);
    if (err < 0 && st->write_err == 0) {
        st->write_err = err;
    }
    uint64_t bytes = hops_writer_bytes_written(st->writer);
    err = hops_writer_close(st->writer);
    st->writer = NULL;
    if (err < 0 && st->write_err == 0) {
        st->write_err = err;
    }
    if (st->out_err < 0 && st->write_err == 0) { /* a write the flusher made (rec_flush.c) */
        st->write_err = st->out_err;
    }
    PyObject *res = Py_BuildValue(
        "{s:K,s:K,s:K,s:s,s:O,s:O,s:K,s:O}", "bytes", (unsigned long long)bytes, "lost_events",
        (unsigned long long)st->lost_events, "negative_counts",
        (unsigned long long)st->negative_counts, "error",
        st->write_err ? hops_strerror(st->write_err) : NULL, "other_tool",
        st->other_tool_warning ? Py_True : Py_False, "nomem", st->nomem ? Py_True : Py_False,
        "check_failures", (unsigned long long)st->check_failures, "interference",
        st->interference ? Py_True : Py_False);
    state_free(st);
    return res;
}

PyDoc_STRVAR(forget_doc,
             "forget_in_child()\n--\n\n"
             "In a forked child: stop counting and drop the parent's recording without\n"
             "writing to its file (which the parent still owns).  Returns True if there\n"
             "was one.");

static PyObject *
rec_forget_in_child(PyObject *module, PyObject *unused)
{
    rec_state *st = active;
    if (st == NULL || getpid() == active_pid) {
        Py_RETURN_FALSE;
    }
    active = NULL;
    rec_backend_stop(st, 0);
    rec_code_release_all(st); /* detach from every code object */
    /* The writer (with the parent's unwritten chunks), the flusher thread that
     * does not exist here and the parent's threads are left behind on
     * purpose: freeing or flushing them would touch the parent's file. */
    st->writer = NULL;
    st->active = 0;
    Py_RETURN_TRUE;
}

/* Around fork: CPython 3.12+ warns about forking a multi-threaded process
 * (counting OS threads), and our flusher is one; so it is joined before the
 * fork and started again in the parent after it. */
static PyObject *
rec_pause_flusher(PyObject *module, PyObject *unused)
{
    if (active != NULL && getpid() == active_pid && active->flusher_running) {
        rec_flusher_stop_for_fork(active);
    }
    Py_RETURN_NONE;
}

static int
resume_pending(void *unused)
{
    (void)unused;
    if (active != NULL && getpid() == active_pid && !active->flusher_running &&
        rec_flusher_start(active) < 0) {
        /* the recording goes on; its counts are written at exit */
        fprintf(stderr, "heavyops: warning: cannot restart the flusher thread after fork\n");
    }
    return 0;
}

/* After fork, in the parent.  CPython 3.13 checks for threads after the
 * at-fork hooks have run, so the flusher is started from a pending call,
 * once os.fork() has returned. */
static PyObject *
rec_resume_flusher(PyObject *module, PyObject *unused)
{
    if (Py_AddPendingCall(resume_pending, NULL) < 0) {
        resume_pending(NULL);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(note_monitoring_doc,
             "note_monitoring(tool_id)\n--\n\n"
             "The program turned on sys.monitoring events for tool_id (the launcher's\n"
             "wrappers of set_events and set_local_events say so): unless that tool is\n"
             "ours, the recording is marked as interfered with.");

static PyObject *
rec_arm_sigterm(PyObject *module, PyObject *unused)
{
    if (rec_term_arm() < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
rec_sigterm_after_fork(PyObject *module, PyObject *unused)
{
    if (rec_term_after_fork() < 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
rec_note_monitoring(PyObject *module, PyObject *arg)
{
    long tool = PyLong_AsLong(arg);
    if (tool == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (active != NULL && getpid() == active_pid && tool != active->tool_id) {
        active->interference = 1;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(pause_doc,
             "pause_thread(paused)\n--\n\n"
             "Stop (True) or resume (False) counting in the calling thread.  The launcher\n"
             "pauses the main thread from the end of the target's main module until\n"
             "atexit, so the interpreter's shutdown (threading._shutdown) is not counted.");

static PyObject *
rec_pause_thread(PyObject *module, PyObject *arg)
{
    int paused = PyObject_IsTrue(arg);
    if (paused < 0) {
        return NULL;
    }
    if (active != NULL && getpid() == active_pid) {
        rec_thread *t = rec_thread_current(active);
        if (t != NULL) {
            t->paused = paused;
            t->last_code = NULL; /* the fast paths do not look at paused */
            t->last_c = NULL;
            t->last_a = NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
rec_is_recording(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(active != NULL);
}

PyDoc_STRVAR(stats_doc, "stats()\n--\n\n"
                        "The recorder's bookkeeping, for tests: a dict of threads (per-thread\n"
                        "states held, whose OS thread may have ended since the last flush) and\n"
                        "codes (code objects with counters); None when not recording.");

static PyObject *
rec_stats(PyObject *module, PyObject *unused)
{
    rec_state *st = active;
    if (st == NULL) {
        Py_RETURN_NONE;
    }
    unsigned long long threads = 0;
    pthread_mutex_lock(&rec_threads_lock);
    for (rec_thread *t = st->threads; t != NULL; t = t->next) {
        threads++;
    }
    pthread_mutex_unlock(&rec_threads_lock);
    return Py_BuildValue("{s:K,s:K}", "threads", threads, "codes",
                         (unsigned long long)(st->n_slots - st->n_free));
}

PyDoc_STRVAR(compile_doc,
             "compile_source(source, filename)\n--\n\n"
             "compile(source, filename, 'exec', dont_inherit=True) for source bytes, without\n"
             "what compile() does first: set up the ast module's types to check whether\n"
             "source is an AST (some 3 ms, paid by no plain `python script.py`).  None if\n"
             "source holds a NUL byte: compile() says what CPython says of it.");

static PyObject *
rec_compile_source(PyObject *module, PyObject *args)
{
    const char *src;
    Py_ssize_t len;
    PyObject *filename;
    if (!PyArg_ParseTuple(args, "y#U:compile_source", &src, &len, &filename)) {
        return NULL;
    }
    if (memchr(src, '\0', (size_t)len) != NULL) {
        Py_RETURN_NONE;
    }
    /* compile()'s flags for bytes: UTF-8 unless a coding cookie says otherwise */
    PyCompilerFlags cf = {.cf_flags = PyCF_SOURCE_IS_UTF8, .cf_feature_version = PY_MINOR_VERSION};
    return Py_CompileStringObject(src, filename, Py_file_input, &cf, -1);
}

PyDoc_STRVAR(exec_main_doc,
             "exec_main(code, globals)\n--\n\n"
             "exec(code, globals) as the thread's first frame, as python runs a main module:\n"
             "no launcher frame is above the program's <module>, so its stack\n"
             "(traceback.print_stack, inspect.stack, sys._getframe().f_back, warnings'\n"
             "stacklevel) ends there as in the plain run.");

PyDoc_STRVAR(call_alone_doc,
             "call_alone(fn)\n--\n\n"
             "fn() with no frame of the caller's above it (see exec_main): for the atexit\n"
             "handlers the launcher runs itself after a KeyboardInterrupt.");

/* The frame a new frame links back to (its f_back), in a field of the
 * thread state's public struct (cpython/pystate.h) that has moved. */
static struct _PyInterpreterFrame **
thread_top_frame(void)
{
    PyThreadState *ts = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    return &ts->current_frame;
#else
    return &ts->cframe->current_frame;
#endif
}

/* An evaluation links its frames to what is on top when it begins and puts
 * that back as it ends: with nothing on top, the frames it runs end at their
 * own, and the caller's are there again when it returns or raises. */
static struct _PyInterpreterFrame *
set_caller_aside(void)
{
    struct _PyInterpreterFrame **top = thread_top_frame(), *caller = *top;
    *top = NULL;
    return caller;
}

static PyObject *
put_caller_back(struct _PyInterpreterFrame *caller, PyObject *result)
{
    *thread_top_frame() = caller;
    return result;
}

static PyObject *
rec_exec_main(PyObject *module, PyObject *args)
{
    PyObject *code, *globals;
    if (!PyArg_ParseTuple(args, "O!O!:exec_main", &PyCode_Type, &code, &PyDict_Type, &globals)) {
        return NULL;
    }
    struct _PyInterpreterFrame *caller = set_caller_aside();
    return put_caller_back(caller, PyEval_EvalCode(code, globals, globals));
}

static PyObject *
rec_call_alone(PyObject *module, PyObject *fn)
{
    struct _PyInterpreterFrame *caller = set_caller_aside();
    return put_caller_back(caller, PyObject_CallNoArgs(fn));
}

static PyMethodDef rec_methods[] = {
    {"stats", rec_stats, METH_NOARGS, stats_doc},
    {"compile_source", rec_compile_source, METH_VARARGS, compile_doc},
    {"exec_main", rec_exec_main, METH_VARARGS, exec_main_doc},
    {"call_alone", rec_call_alone, METH_O, call_alone_doc},
    {"start", (PyCFunction)(void (*)(void))rec_start, METH_VARARGS | METH_KEYWORDS, start_doc},
    {"stop", (PyCFunction)(void (*)(void))rec_stop, METH_VARARGS | METH_KEYWORDS, stop_doc},
    {"is_recording", rec_is_recording, METH_NOARGS, "True while a recording is running."},
    {"pause_thread", rec_pause_thread, METH_O, pause_doc},
    {"forget_in_child", rec_forget_in_child, METH_NOARGS, forget_doc},
    {"note_monitoring", rec_note_monitoring, METH_O, note_monitoring_doc},
    {"arm_sigterm", rec_arm_sigterm, METH_NOARGS,
     "After the launcher's SIGTERM handler is installed: make SIGTERM kill the process\n"
     "a few seconds later even if that handler cannot run (rec_signal.c)."},
    {"sigterm_after_fork", rec_sigterm_after_fork, METH_NOARGS,
     "In a forked child, after the at-fork work: raise SIGTERM again if one came\n"
     "before CPython could see it (it drops such signals at fork)."},
    {"pause_flusher", rec_pause_flusher, METH_NOARGS, "Join the flusher thread (before a fork)."},
    {"resume_flusher", rec_resume_flusher, METH_NOARGS, "Start the flusher thread again."},
    {NULL, NULL, 0, NULL},
};

static int
rec_exec(PyObject *m)
{
    if (PyType_Ready(&rec_cb_type) < 0 || rec_backend_init() < 0) {
        return -1;
    }
    /* What start() imports (opcode), imported now, while sys.path is still
     * the launcher's: the launcher puts the target's directory first before
     * start(), and an opcode.py there is the program's own, not the standard
     * module start() needs. */
    PyObject *mod = PyImport_ImportModule("opcode");
    if (mod == NULL) {
        return -1;
    }
    Py_DECREF(mod);
    if (PyModule_AddStringConstant(m, "MECHANISM",
                                   REC_HAVE_MONITORING ? "sys.monitoring" : "tracing") < 0) {
        return -1;
    }
    return PyModule_AddIntConstant(m, "FORMAT_MAJOR", HOPS_FORMAT_MAJOR);
}

static PyModuleDef_Slot rec_slots[] = {
    {Py_mod_exec, rec_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* One recorder per process: not safe to load into subinterpreters. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef rec_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "heavyops._recorder",
    .m_doc = "heavyops recorder: counts executed bytecode instructions into a .hops file.",
    .m_size = 0,
    .m_methods = rec_methods,
    .m_slots = rec_slots,
};

PyMODINIT_FUNC
PyInit__recorder(void)
{
    return PyModuleDef_Init(&rec_module);
}

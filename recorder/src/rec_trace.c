/*
 * rec_trace.c - the 3.11 backend: C-level tracing (PyEval_SetTrace) with
 * opcode events on the frames of recorded code only, in every thread.
 *
 * Threads started later install our tracer through threading.settrace(hook)
 * (put in at start, or as Thread.start first runs if the program had not
 * imported threading then): the hook's first call replaces the Python-level
 * trampoline with the C tracer.  At stop each thread removes its own tracer
 * at its next event (the shared object's state pointer is cleared), as
 * coverage.py's CTracer does.
 */
#include "rec.h"

#if !REC_HAVE_MONITORING

#    include <frameobject.h>
#    include <string.h>

/* The head of 3.11's struct _frame (Include/internal/pycore_frame.h), used
 * only after rec_backend_start checked it against the attribute setters. */
typedef struct {
    PyObject_HEAD PyFrameObject *f_back;
    void *f_frame;
    PyObject *f_trace;
    int f_lineno;
    char f_trace_lines;
    char f_trace_opcodes;
} rec_frame311;

/* The head of 3.11's _PyInterpreterFrame (Include/internal/pycore_frame.h),
 * likewise checked before use: reading the code and the instruction pointer
 * directly saves two calls and a reference count per event. */
typedef struct {
    PyObject *f_func;
    PyObject *f_globals;
    PyObject *f_builtins;
    PyObject *f_locals;
    PyCodeObject *f_code;
    PyObject *frame_obj;
    void *previous;
    uint16_t *prev_instr;
} rec_iframe311;

static inline int
frame_code_lasti(const rec_state *st, PyFrameObject *frame, PyCodeObject **code)
{
    if (st->frame_mirror_ok) {
        const rec_iframe311 *f = ((rec_frame311 *)frame)->f_frame;
        *code = f->f_code;
        return (int)((f->prev_instr - (const uint16_t *)(*code)->co_code_adaptive) * 2);
    }
    *code = PyFrame_GetCode(frame);
    Py_DECREF(*code); /* the frame keeps it alive */
    return PyFrame_GetLasti(frame);
}

static void
set_frame_flags(rec_state *st, PyFrameObject *f, int lines, int opcodes)
{
    if (st->frame_mirror_ok) {
        ((rec_frame311 *)f)->f_trace_lines = (char)lines;
        ((rec_frame311 *)f)->f_trace_opcodes = (char)opcodes;
        return;
    }
    PyObject_SetAttrString((PyObject *)f, "f_trace_lines", lines ? Py_True : Py_False);
    PyObject_SetAttrString((PyObject *)f, "f_trace_opcodes", opcodes ? Py_True : Py_False);
    PyErr_Clear();
}

/* Line mode (rec_code.c, plan_line_mode): opcode events on until the next
 * LINE event if a counter can come before it, from the instruction at off
 * (which: UNIT_OPS_HERE) or after it (UNIT_OPS_AFTER). */
static inline void
set_opcodes_at(rec_state *st, PyFrameObject *f, const rec_code *c, int off, int which)
{
    int on = off < 0 || (unsigned)off / 2 >= c->n_units || (c->unit_ops[off / 2] & which);
    if (st->frame_mirror_ok) {
        ((rec_frame311 *)f)->f_trace_opcodes = (char)on;
        return;
    }
    PyObject_SetAttrString((PyObject *)f, "f_trace_opcodes", on ? Py_True : Py_False);
    PyErr_Clear();
}

/* The counter at offset off of counted code c, if there is one there. */
static void
count_at(rec_state *st, PyObject *code, rec_code *c, int off)
{
    int32_t k = rec_code_counter_at(c, off);
    if (k < 0) {
        return;
    }
    rec_thread *t = rec_thread_current(st);
    if (t != NULL && t->paused) {
        return;
    }
    int64_t *a = t ? rec_thread_counters(st, t, c) : NULL;
    if (a == NULL) {
        st->lost_events++;
        return;
    }
    a[k]++;
    t->last_code = code;
    t->last_c = c;
    t->last_a = a;
}

/* Self-check (HEAVYOPS_CHECK): every opcode event counted directly too; an
 * EXTENDED_ARG's stands for the instructions it prefixes, which report none. */
static int
check_event(rec_state *st, PyObject *code, int off)
{
    rec_code *c = rec_code_lookup(st, code);
    rec_thread *t = c != NULL && c->counted ? rec_thread_current(st) : NULL;
    int64_t *a = t != NULL && !t->paused ? rec_thread_counters(st, t, c) : NULL;
    if (a == NULL) {
        return 0;
    }
    for (uint32_t k = rec_code_instr_at(c, off); k < c->n_instr; k++) {
        a[c->n_ctr + k]++;
        if (c->instr_op[k] != st->op.extended_arg) {
            break;
        }
    }
    int32_t k = rec_code_counter_at(c, off);
    if (k >= 0) {
        a[k]++;
    }
    return 0;
}

/* An exception in a frame (3.11 reports it where it is raised and in every
 * frame it passes on the way out, at the instruction that failed): the frame
 * leaves its block there, as a RAISE event says on 3.12+ (rec_monitor.c). */
static int
on_exception(rec_state *st, PyFrameObject *frame, PyObject *arg)
{
    PyCodeObject *code;
    int off = frame_code_lasti(st, frame, &code);
    rec_code *c = rec_code_lookup(st, (PyObject *)code);
    if (c == NULL || !c->counted || !c->derive) {
        return 0;
    }
    uint32_t k = rec_code_instr_at(c, off);
    if (k >= c->n_instr) {
        return 0;
    }
    /* 3.11's RESUME checks the eval breaker before it reports the call: an
     * exception there (from a signal handler) comes before the frame's
     * start was counted, so it leaves nothing counted. */
    if (c->instr_op[k] == st->op.resume) {
        return 0;
    }
    /* throw() into a frame suspended in a `yield from` or `await` moves it to
     * the loop's JUMP_BACKWARD_NO_INTERRUPT (Objects/genobject.c, _gen_throw)
     * and raises there: that instruction never ran (it cannot raise itself). */
    if (c->instr_op[k] == st->op.jump_backward_no_interrupt) {
        return 0;
    }
    /* arg: (type, value, traceback) */
    int typed = PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) > 0;
    rec_thread_note_exit(st, c, k, typed ? PyTuple_GET_ITEM(arg, 0) : Py_None);
    return 0;
}

static void thread_start_check(rec_state *st, PyCodeObject *code);

static int
trace_func(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    rec_state *st = ((rec_cb *)obj)->st;
    if (st == NULL) { /* recorder stopped: this thread unhooks itself */
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    if (what == PyTrace_OPCODE) {
        PyCodeObject *code;
        int off = frame_code_lasti(st, frame, &code);
        if (st->check) {
            return check_event(st, (PyObject *)code, off);
        }
        rec_thread *ct = rec_thread_cached(); /* same last-code cache as rec_monitor.c */
        const rec_code *c;
        if (ct != NULL && (PyObject *)code == ct->last_code && ct->st == st && off >= 0 &&
            (unsigned)off / 2 < ct->last_c->ctr_units) {
            c = ct->last_c;
            int32_t k = c->unit_ctr[off / 2];
            if (k >= 0) {
                ct->last_a[k]++;
            }
        } else {
            rec_code *lc = rec_code_lookup(st, (PyObject *)code);
            if (lc == NULL || !lc->counted) {
                return 0;
            }
            count_at(st, (PyObject *)code, lc, off);
            c = lc;
        }
        if (c->unit_ops != NULL) { /* off again once no counter can come before a LINE event */
            set_opcodes_at(st, frame, c, off, UNIT_OPS_AFTER);
        }
        return 0;
    }
    if (what == PyTrace_LINE) { /* only frames of line-mode code ask for these */
        PyCodeObject *code;
        int off = frame_code_lasti(st, frame, &code);
        rec_thread *ct = rec_thread_cached();
        const rec_code *c = ct != NULL && (PyObject *)code == ct->last_code && ct->st == st
                                ? ct->last_c
                                : rec_code_lookup(st, (PyObject *)code);
        if (c != NULL && c->unit_ops != NULL) {
            set_opcodes_at(st, frame, c, off, UNIT_OPS_HERE);
        }
        return 0;
    }
    if (what == PyTrace_EXCEPTION) {
        return on_exception(st, frame, arg);
    }
    if (what == PyTrace_CALL) { /* a frame starts, or a generator resumes, at a RESUME */
        PyCodeObject *code;
        int off = frame_code_lasti(st, frame, &code); /* code: the frame keeps it alive */
        rec_code *c = rec_code_lookup(st, (PyObject *)code);
        if (c == NULL && st->thread_hook_due) {
            thread_start_check(st, code);
        }
        c = c != NULL ? c : rec_code_get(st, (PyObject *)code);
        if (c == NULL) {
            PyErr_Clear();
            st->nomem = 1;
            return 0;
        }
        if (c->unit_ops != NULL) {
            set_frame_flags(st, frame, 1, 0);
            set_opcodes_at(st, frame, c, off, UNIT_OPS_HERE);
        } else {
            set_frame_flags(st, frame, 0, c->counted);
        }
    }
    return 0;
}

/* threading.settrace hook: (frame, event, arg), called in a new thread as a
 * Python-level trace function; it puts the C tracer in its place. */
static PyObject *
thread_hook(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    rec_state *st = ((rec_cb *)self)->st;
    if (st == NULL) {
        PyEval_SetTrace(NULL, NULL);
        Py_RETURN_NONE;
    }
    /* Called as sys.gettrace()'s object: the program replaced our tracer
     * (with None, say) and put it back, and events were lost in between. */
    if (self == st->trace_obj) {
        st->interference = 1;
    }
    PyEval_SetTrace(trace_func, st->trace_obj);
    if (PyVectorcall_NARGS(nargsf) >= 1 && PyFrame_Check(args[0])) {
        trace_func(st->trace_obj, (PyFrameObject *)args[0], PyTrace_CALL, Py_None);
    }
    Py_RETURN_NONE;
}

/* Checks our mirror of the frame flags against the real setters. */
static int
frame_mirror_works(void)
{
    PyFrameObject *f = PyEval_GetFrame();
    if (f == NULL || Py_TYPE(f)->tp_basicsize < (Py_ssize_t)sizeof(rec_frame311)) {
        return 0;
    }
    rec_frame311 *m = (rec_frame311 *)f;
    PyObject *o = (PyObject *)f;
    PyObject *old_lines = PyObject_GetAttrString(o, "f_trace_lines");
    PyObject *old_ops = PyObject_GetAttrString(o, "f_trace_opcodes");
    if (old_lines == NULL || old_ops == NULL) {
        Py_XDECREF(old_lines);
        Py_XDECREF(old_ops);
        PyErr_Clear();
        return 0;
    }
    int ok = 1;
    for (int v = 0; v < 2 && ok; v++) {
        PyObject *b = v ? Py_True : Py_False;
        ok = PyObject_SetAttrString(o, "f_trace_opcodes", b) == 0 && m->f_trace_opcodes == v &&
             PyObject_SetAttrString(o, "f_trace_lines", b) == 0 && m->f_trace_lines == v;
    }
    PyObject_SetAttrString(o, "f_trace_lines", old_lines);
    PyObject_SetAttrString(o, "f_trace_opcodes", old_ops);
    if (ok) { /* and the interpreter frame's code and instruction pointer */
        const rec_iframe311 *fi = m->f_frame;
        PyCodeObject *code = PyFrame_GetCode(f);
        ok = fi != NULL && fi->f_code == code &&
             (int)((fi->prev_instr - (const uint16_t *)code->co_code_adaptive) * 2) ==
                 PyFrame_GetLasti(f);
        Py_DECREF(code);
    }
    Py_DECREF(old_lines);
    Py_DECREF(old_ops);
    PyErr_Clear();
    return ok;
}

/* threading.settrace(hook), done as 3.11's threading.py does it: a store to
 * the module's _trace_hook, which each new thread reads.  Not by calling
 * threading.settrace, which the program may have replaced (its wrapper would
 * then run inside the stop, at exit), and which is Python code anyway: a
 * signal handler could run in it.  threading is not imported for it, so that
 * sys.modules stays as in a plain run: a program that has not imported it
 * yet gets the hook as it starts its first thread
 * (thread_start_check).  0, or -1 with an exception set. */
static int
install_thread_hook(rec_state *st)
{
    PyObject *d = rec_threading_dict(); /* Borrowed */
    st->thread_hook_due = d == NULL;
    if (d == NULL) {
        return 0;
    }
    if (PyDict_GetItemString(d, "_trace_hook") != NULL) {
        return PyDict_SetItemString(d, "_trace_hook", st->thread_hook);
    }
    /* not 3.11's threading.py: its own settrace, then */
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyObject *r =
        threading ? PyObject_CallMethod(threading, "settrace", "O", st->thread_hook) : NULL;
    Py_XDECREF(threading);
    Py_XDECREF(r);
    return r != NULL || !PyErr_Occurred() ? 0 : -1;
}

/* First sight of code, while the thread hook is due: threading.Thread.start
 * about to run (3.11 raises no audit event as a thread starts) puts it in,
 * before the thread it starts reads it; threads that _thread starts directly
 * read no hook at all.  Never raises. */
static void
thread_start_check(rec_state *st, PyCodeObject *code)
{
    if (PyUnicode_CompareWithASCIIString(code->co_qualname, "Thread.start") != 0) {
        return;
    }
    PyObject *d = rec_threading_dict(); /* Borrowed */
    if (d == NULL) {
        return; /* another module's Thread */
    }
    /* the hook goes in unless the program set one of its own (a thread
     * with another tracer is interference, which the sys.settrace audit
     * event reports) */
    st->thread_hook_due = 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyDict_GetItemString(d, "_trace_hook") == Py_None &&
        PyDict_SetItemString(d, "_trace_hook", st->thread_hook) < 0) {
        PyErr_Clear();
    }
    PyErr_Restore(type, value, tb);
}

/* threading.settrace(None) at stop, the same way, without importing or
 * calling anything; only while the hook is still ours: one the program set
 * since is its own to keep. */
static void
remove_thread_hook(PyObject *ours)
{
    PyObject *d = rec_threading_dict(); /* Borrowed */
    if (d != NULL && PyDict_GetItemString(d, "_trace_hook") == ours &&
        PyDict_SetItemString(d, "_trace_hook", Py_None) < 0) {
        PyErr_Clear();
    }
}

int
rec_backend_init(void)
{
    return 0;
}

int
rec_backend_start(rec_state *st)
{
    st->tool_id = -1;
    st->frame_mirror_ok = frame_mirror_works();
    st->no_line_mode = getenv("HEAVYOPS_NO_LINE_MODE") != NULL;
    st->no_derive = getenv("HEAVYOPS_NO_DERIVE") != NULL;
    /* Callable too: a program that saves sys.gettrace() (this object) and
     * restores it with sys.settrace() reinstalls the C tracer through it. */
    st->trace_obj = rec_cb_new(st, thread_hook);
    st->thread_hook = rec_cb_new(st, thread_hook);
    if (st->trace_obj == NULL || st->thread_hook == NULL) {
        return -1;
    }
    if (install_thread_hook(st) < 0) {
        return -1;
    }
    PyEval_SetTrace(trace_func, st->trace_obj);
    return 0;
}

/* 1 if a live thread with this ident has counted something: it ran under
 * our tracer. */
static int
thread_was_traced(rec_state *st, unsigned long ident)
{
    int found = 0;
    pthread_mutex_lock(&rec_threads_lock);
    for (rec_thread *t = st->threads; t && !found; t = t->next) {
        found = !t->dead && t->tid == (uint64_t)ident;
    }
    pthread_mutex_unlock(&rec_threads_lock);
    return found;
}

/* 3.11: tracing leaves co_code_adaptive as it is. */
void
rec_backend_restore_supers(rec_state *st, rec_code *c)
{
    (void)st;
    (void)c;
}

int
rec_backend_supers_pending(const rec_state *st, const rec_code *c)
{
    (void)st;
    (void)c;
    return 0;
}

/* A thread whose tracer is not ours (sys.settrace, a debugger) or that also
 * has a profiler no longer reports opcode events to us; nor does a thread
 * that ran under our tracer and has none now (sys.settrace(None): one slot
 * per thread on 3.11, so the program's "stop tracing" stops us too). */
void
rec_backend_check_interference(rec_state *st)
{
    PyThreadState *self = PyThreadState_Get();
    /* after rec_backend_stop, no thread has our tracer, rightly */
    int ours_installed = st->trace_obj != NULL && ((rec_cb *)st->trace_obj)->st != NULL;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(self->interp); ts;
         ts = PyThreadState_Next(ts)) {
        /* A thread without a frame runs no Python code, so it misses no
         * event: an ending thread's state has lost its tracer before the
         * thread is gone, and some other thread may flush in between. */
        int running = ts->cframe != NULL && ts->cframe->current_frame != NULL;
        /* A new thread runs our hook through sys.settrace's trampoline until
         * its first event puts the C tracer in place; so does a thread that
         * restored the saved sys.gettrace(): neither is another tracer. */
        int ours = ts->c_tracefunc == trace_func || ts->c_traceobj == st->thread_hook ||
                   ts->c_traceobj == st->trace_obj;
        if ((ts->c_tracefunc != NULL && !ours) || ts->c_profilefunc != NULL ||
            (ours_installed && running && ts->c_tracefunc == NULL &&
             thread_was_traced(st, ts->thread_id))) {
            st->interference = 1;
        }
    }
}

int
rec_backend_stop(rec_state *st, int final)
{
    (void) final;
    PyEval_SetTrace(NULL, NULL);
    remove_thread_hook(st->thread_hook);
    ((rec_cb *)st->trace_obj)->st = NULL;
    ((rec_cb *)st->thread_hook)->st = NULL;
    return 0;
}

#endif /* !REC_HAVE_MONITORING */

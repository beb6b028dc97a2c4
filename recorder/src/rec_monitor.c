/*
 * rec_monitor.c - the 3.12+ backend: sys.monitoring under our own tool id.
 *
 * Global events: PY_START and PY_RESUME (first sight of a code object, after
 * which they return DISABLE for it) and RAISE (early block exits).  Local
 * INSTRUCTION events per recorded code object, at its counters only: set there
 * directly where nothing else instruments the code (direct_instrument), else
 * set by CPython everywhere and disabled ahead where no counter is (or, if
 * this CPython's DISABLE is not what we expect, at each offset's first event).
 */
#include "rec.h"

#if REC_HAVE_MONITORING

#    include <frameobject.h>

/* sys.monitoring.events bits (stable since 3.12, checked at start). */
#    define EV_PY_START  (1 << 0)
#    define EV_PY_RESUME (1 << 1)
#    define EV_RAISE     (1 << 10)

/* sys.monitoring's own functions, as they were when this module loaded.  The
 * launcher wraps set_events and set_local_events in Python (a program may
 * too), and a forked child starts its recording after that: Python code must
 * never run inside our callbacks, where CPython leaves the code it runs
 * uninstrumented and may run a signal handler in it. */
static PyObject *monitoring_dict;

int
rec_backend_init(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *mon = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL;
    PyObject *d = mon ? PyObject_GetAttrString(mon, "__dict__") : NULL;
    Py_XDECREF(sys);
    Py_XDECREF(mon);
    if (d == NULL) {
        return -1;
    }
    Py_XSETREF(monitoring_dict, PyDict_Copy(d));
    Py_DECREF(d);
    return monitoring_dict ? 0 : -1;
}

static PyObject *
monitoring_attr(const char *name)
{
    PyObject *v = monitoring_dict ? PyDict_GetItemString(monitoring_dict, name) : NULL;
    if (v == NULL) {
        return PyErr_Format(PyExc_AttributeError, "sys.monitoring has no %s", name);
    }
    return Py_NewRef(v);
}

static PyObject *
call_monitoring(const char *fn, const char *fmt, ...)
{
    PyObject *f = monitoring_attr(fn);
    if (f == NULL) {
        return NULL;
    }
    va_list va;
    va_start(va, fmt);
    PyObject *args = Py_VaBuildValue(fmt, va);
    va_end(va);
    PyObject *r = args ? PyObject_Call(f, args, NULL) : NULL;
    Py_XDECREF(args);
    Py_DECREF(f);
    return r;
}

/* sys.monitoring.set_local_events(our tool, code, events) */
static int
set_local(rec_state *st, PyObject *code, long events)
{
    PyObject *tool = PyLong_FromLong(st->tool_id), *ev = PyLong_FromLong(events);
    PyObject *args[3] = {tool, code, ev};
    PyObject *r = tool && ev ? PyObject_Vectorcall(st->set_local_events, args, 3, NULL) : NULL;
    Py_XDECREF(tool);
    Py_XDECREF(ev);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Disabling ahead.  An offset without a counter returns DISABLE the first
 * time it runs, and CPython puts its own opcode back.  That first event (an
 * int made, our callback, CPython's bookkeeping) is most of what counting
 * costs in code that runs once, as at import.  So once a code object's
 * INSTRUCTION events are set, such offsets get what DISABLE would give them,
 * in CPython's instrumentation data (_PyCoMonitoringData, cpython/code.h):
 * the INSTRUMENTED_INSTRUCTION opcode is replaced by the one CPython saved,
 * and an adaptive opcode's counter starts warming up again.  Only where that
 * is all DISABLE does: no other tool has INSTRUCTION events on the code (no
 * per-offset tool table), the opcode is not under another tool's LINE, and
 * the saved opcode is a plain one.  Whether this CPython's DISABLE does just
 * that is checked once per process (probe_disable_ahead); if not, every
 * offset fires once as before. */
#    define WARMUP_COUNTER 17 /* adaptive_counter_warmup(): value 1, backoff 1 */

/* 3.12 also clears the saved opcode (for its own sanity checks), 3.13 keeps
 * it: the probe tells. */
static int clears_saved;

static inline void
disable_unit(const rec_opinfo *op, PyCodeObject *co, uint32_t u)
{
    uint8_t *code = (uint8_t *)co->co_code_adaptive;
    if (code[2 * u] != op->instrumented_instruction) {
        return;
    }
    uint8_t saved = co->_co_monitoring->per_instruction_opcodes[u];
    if (!op->deopt_ok[saved] || op->deopt[saved] != saved) {
        return; /* instrumented for another event: CPython's to handle */
    }
    code[2 * u] = saved;
    if (clears_saved) {
        co->_co_monitoring->per_instruction_opcodes[u] = 0;
    }
    if (op->caches[saved]) {
        uint16_t w = WARMUP_COUNTER;
        memcpy(code + 2 * (size_t)u + 2, &w, sizeof w);
    }
}

/* co has INSTRUCTION events of one tool alone (ours) */
static inline int
instructions_ours_alone(const PyCodeObject *co)
{
    const _PyCoMonitoringData *m = co->_co_monitoring;
    return m != NULL && m->per_instruction_opcodes != NULL && m->per_instruction_tools == NULL;
}

static void restore_pairs(const rec_opinfo *op, const rec_code *c, int first);

/* m (not NULL) holds none of CPython's per-offset tables. */
static inline int
no_tables(const _PyCoMonitoringData *m)
{
    return !m->tools && !m->lines && !m->line_tools && !m->per_instruction_opcodes &&
           !m->per_instruction_tools;
}

/* Only our global events touch the code m monitors (m may be NULL): no
 * per-offset table, no local events, no other tool's.  The state CPython's
 * instrumenting for our PY_START leaves, and the one direct_instrument() and
 * pre-arming start from. */
static int
global_ours_alone(const rec_state *st, const _PyCoMonitoringData *m)
{
    if (m == NULL || !no_tables(m)) {
        return 0;
    }
    const uint8_t ours = (uint8_t)(1u << st->tool_id);
    for (size_t e = 0; e < sizeof m->local_monitors.tools; e++) {
        if (m->local_monitors.tools[e] != 0 || (m->active_monitors.tools[e] & ~ours) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Direct instrumentation.  set_local_events(INSTRUCTION) makes CPython
 * instrument every instruction of a code object, about 60 CPU instructions a
 * code unit (25,000 for a module body of 400), and disabling ahead then puts
 * nearly all of them back.  Where our global events alone touch the code, and
 * it is instrumented for them (first sight), the state both leave is simple:
 * our tool's INSTRUCTION bit in its local and active monitors, a table of
 * saved opcodes (zero but at the counters: 3.12 clears the others, 3.13
 * never reads them), and INSTRUMENTED_INSTRUCTION at each counter, its base
 * opcode saved.  direct_instrument() writes just that.  The other
 * instructions keep what they hold, where disabling would give them their
 * base opcode to specialize again; 3.12's superinstruction ending at a
 * counter loses its pair, as CPython's instrumenting takes it away.
 * probe_direct() checks once per process that both ways end in the same
 * state and that the counters fire; set_local_events does it otherwise, and
 * for code another tool has events on or that is not up to date.  1 if
 * done. */
static int
direct_instrument(const rec_state *st, PyCodeObject *co, const rec_code *c)
{
    const rec_opinfo *op = &st->op;
    _PyCoMonitoringData *m = co->_co_monitoring;
    if (!global_ours_alone(st, m)) {
        return 0;
    }
#    if PY_VERSION_HEX >= 0x030D0000
    if (co->co_executors != NULL) {
        return 0;
    }
#    endif
    uint8_t *code = (uint8_t *)co->co_code_adaptive;
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        if (!c->block_counted[b]) {
            continue; /* its block_ctr means nothing */
        }
        const uint8_t o = code[2 * c->instr_unit[c->block_ctr[b]]];
        if (!op->deopt_ok[o] || op->instrumented[o] || op->no_event[op->deopt[o]]) {
            return 0;
        }
    }
    const size_t n = (size_t)Py_SIZE(co);
    uint8_t *saved = PyMem_Malloc(n * sizeof(_PyCoLineInstrumentationData)); /* as CPython's */
    if (saved == NULL) {
        return 0;
    }
    memset(saved, 0, n);
    m->per_instruction_opcodes = saved;
    const uint8_t ours = (uint8_t)(1u << st->tool_id);
    const int ev = __builtin_ctzl((unsigned long)st->ev_instruction);
    m->local_monitors.tools[ev] |= ours;
    m->active_monitors.tools[ev] |= ours;
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        if (!c->block_counted[b]) {
            continue;
        }
        const uint32_t k = c->block_ctr[b], u = c->instr_unit[k];
        if (code[2 * u] == op->instrumented_instruction) {
            continue; /* a counter two blocks share, as PY_START's */
        }
        if (op->n_supers > 0 && k > 0 && c->instr_unit[k - 1] + 1 == u) {
            const uint8_t p = code[2 * u - 2];
            for (int i = 0; i < op->n_supers; i++) {
                if (op->supers[i].super == p) {
                    code[2 * u - 2] = op->supers[i].first;
                }
            }
        }
        saved[u] = op->deopt[code[2 * u]];
        code[2 * u] = (uint8_t)op->instrumented_instruction;
    }
    return 1;
}

static int
enable_code(rec_state *st, rec_code *c)
{
    PyCodeObject *co = (PyCodeObject *)c->code;
    /* direct: first sight of code instrumented for our events as they are */
    const int direct = st->direct && c->instr_unit != NULL && st->mon_version != 0 &&
                       (uint64_t)co->_co_instrumentation_version == st->mon_version &&
                       direct_instrument(st, co, c);
    if (!direct && set_local(st, c->code, st->ev_instruction) < 0) {
        return -1;
    }
    if (st->disable_ahead && instructions_ours_alone(co) && c->instr_unit != NULL) {
        /* direct: only the counters were ever instrumented, nothing to undo */
        for (uint32_t k = 0; !direct && k < c->n_instr; k++) {
            uint32_t u = c->instr_unit[k];
            if (c->unit_ctr[u] < 0) {
                disable_unit(&st->op, co, u);
            }
        }
        /* 3.12: its pairs of plain halves are superinstructions again now,
         * not at a flush that may come late for code with few events; the
         * flushes still look (another tool's LINE may go away, a module body
         * may loop: it runs once, and is not worth a scan here) */
        if ((co->co_flags & CO_OPTIMIZED) && rec_backend_supers_pending(st, c)) {
            restore_pairs(&st->op, c, 1);
        }
    }
    return 0;
}

int
rec_backend_rearm(rec_state *st, rec_code *c)
{
    if (set_local(st, c->code, 0) < 0) {
        return -1;
    }
    c->super_scans = 0; /* CPython instruments every offset again */
    return enable_code(st, c);
}

/* Whether c gets INSTRUCTION events: a counted code object, unless PY_START
 * alone counts it (the self-check counts every instruction directly). */
static inline int
wants_instructions(const rec_state *st, const rec_code *c)
{
    return c->counted && (!c->start_counted || st->check);
}

/* How many times a code object's superinstructions are restored after its
 * INSTRUCTION events were set: offsets disable themselves as they first run,
 * most of them in the first window, a few later. */
#    define SUPER_SCANS 2

/* 3.12 forms superinstructions (LOAD_FAST__LOAD_FAST: one dispatch for two
 * instructions) once, when it quickens a code object, and takes them all away
 * whenever it instruments it: with any global event set (our PY_START), every
 * code object that runs, and again for INSTRUCTION events, where an offset
 * that disables itself gets its base opcode back.  Without them the eval loop
 * runs a few percent slower, for good.  Where both halves of a pair are plain
 * again, the pair becomes its superinstruction, as quickening made it: the
 * state CPython itself starts from, and re-instruments from (it takes them
 * away again, and saves the base opcode of whatever it finds).  A half that is
 * still instrumented (a counter, an offset not yet run, another tool's LINE)
 * is left alone, so no event of anyone's is skipped.  3.13 has its
 * superinstructions in co_code, and keeps them. */
int
rec_backend_supers_pending(const rec_state *st, const rec_code *c)
{
    return st->op.n_supers > 0 && !c->dead && wants_instructions(st, c) && !st->check &&
           c->super_scans < SUPER_SCANS && c->instr_unit != NULL;
}

/* The superinstruction for the plain opcodes a, b at adjacent code units;
 * 0 if none. */
static inline uint8_t
super_of(const rec_opinfo *op, uint8_t a, uint8_t b)
{
    if (!op->super_first[a]) { /* most opcodes: one look */
        return 0;
    }
    for (int i = 0; i < op->n_supers; i++) {
        if (op->supers[i].first == a && op->supers[i].second == b) {
            return op->supers[i].super;
        }
    }
    return 0;
}

/* The scan itself: each pair of plain halves becomes its superinstruction.
 * first: the scan as a code object's events are set, which stops at a
 * superinstruction: 3.12 takes every one away whenever it instruments code,
 * so one left means CPython never did (pre-armed code, counters set directly)
 * and there is nothing to give back.  The flushes' later scans go on: by then
 * pairs this one made stand beside halves still to come back. */
static void
restore_pairs(const rec_opinfo *op, const rec_code *c, int first)
{
    uint8_t *code = (uint8_t *)((PyCodeObject *)c->code)->co_code_adaptive;
    for (uint32_t k = 0; k + 1 < c->n_instr; k++) {
        uint32_t u = c->instr_unit[k];
        if (first && op->is_super[code[2 * u]]) {
            return;
        }
        if (c->instr_unit[k + 1] != u + 1 || (k > 0 && c->instr_op[k - 1] == op->extended_arg)) {
            continue; /* caches between them, or an extended first half */
        }
        uint8_t s = super_of(op, code[2 * u], code[2 * u + 2]);
        if (s != 0) {
            code[2 * u] = s; /* the second half may start a pair too, as quickening does */
        }
    }
}

void
rec_backend_restore_supers(rec_state *st, rec_code *c)
{
    if (rec_backend_supers_pending(st, c)) {
        c->super_scans++;
        restore_pairs(&st->op, c, 0);
    }
}

/* The same for code that gets no INSTRUCTION events, at its first sight:
 * CPython took its superinstructions when it instrumented the code for
 * PY_START, as it does every code object once any global event is set, and
 * nothing instruments its instructions one by one afterwards.  Walks
 * co_code_adaptive itself (such code keeps no instruction table), and stops at
 * an opcode whose length only CPython knows (another tool's LINE or
 * INSTRUCTION events). */
static void
restore_supers_uncounted(rec_state *st, PyObject *code_obj)
{
    const rec_opinfo *op = &st->op;
    PyCodeObject *co = (PyCodeObject *)code_obj;
    /* A module or class body runs once: not worth the walk. */
    if (op->n_supers == 0 || st->check || !(co->co_flags & CO_OPTIMIZED)) {
        return;
    }
    uint8_t *code = (uint8_t *)co->co_code_adaptive;
    uint32_t n = (uint32_t)Py_SIZE(co);
    int extended = 0;
    for (uint32_t u = 0; u < n;) {
        uint8_t o = code[2 * u];
        if (!op->deopt_ok[o] || op->is_super[o]) {
            return; /* a superinstruction left: CPython never took them (pre-armed code) */
        }
        uint8_t s = u + 1 < n && !extended ? super_of(op, o, code[2 * u + 2]) : 0;
        if (s != 0) {
            code[2 * u] = s; /* no caches: the second half is next, and may start a pair too */
        }
        extended = op->deopt[o] == op->extended_arg;
        u += 1 + op->caches[op->deopt[o]];
    }
}

/* INSTRUCTION (code, offset), the slow way: a code object that is not in
 * this thread's cache, and the self-check. */
#    if defined(__GNUC__)
__attribute__((noinline)) /* keeps the hot path's prologue small */
#    endif
static PyObject *
instruction_slow(rec_state *st, PyObject *code, PyObject *offset)
{
    long off = PyLong_AsLong(offset);
    if (off == -1 && PyErr_Occurred()) {
        PyErr_Clear();
    }
    rec_code *c = rec_code_lookup(st, code);
    if (c == NULL || !c->counted) {
        return Py_NewRef(st->disable);
    }
    if (off < 0 || (unsigned long)off / 2 >= c->n_units) {
        Py_RETURN_NONE;
    }
    int32_t k = rec_code_counter_at(c, off);
    rec_thread *t = rec_thread_current(st);
    if (t != NULL && t->paused) {
        if (k < 0 && !st->check) {
            return Py_NewRef(st->disable);
        }
        Py_RETURN_NONE; /* keep the event: the pause ends */
    }
    int64_t *a = t ? rec_thread_counters(st, t, c) : NULL;
    if (st->check) { /* self-check: keep every event and count it directly */
        if (a != NULL) {
            a[c->n_ctr + rec_code_instr_at(c, (int)off)]++;
            if (k >= 0) {
                a[k]++;
            }
        }
        Py_RETURN_NONE;
    }
    if (a == NULL) {
        if (k < 0) {
            return Py_NewRef(st->disable);
        }
        st->lost_events++;
        st->nomem = 1;
        Py_RETURN_NONE;
    }
    /* Most first events of a code object are offsets to disable: cache it
     * for them too. */
    rec_cache_entry *e = &t->cache[rec_cache_index(code)];
    e->code = code;
    e->unit_ctr = c->unit_ctr;
    e->a = a;
    e->n_units = c->ctr_units;
    if (k < 0) {
        return Py_NewRef(st->disable);
    }
    a[k]++;
    Py_RETURN_NONE;
}

/* An event's offset in code units, read straight from the int's tag (the
 * inline body of PyUnstable_Long_CompactValue): CPython passes a
 * non-negative int of at most one digit.  UINT32_MAX for anything else. */
static inline uint32_t
offset_units(PyObject *offset)
{
    if (!PyLong_CheckExact(offset)) {
        return UINT32_MAX;
    }
    const PyLongObject *v = (const PyLongObject *)offset;
    uintptr_t tag = v->long_value.lv_tag;
    if (tag == ((uintptr_t)1 << _PyLong_NON_SIZE_BITS)) { /* one digit, positive */
        return (uint32_t)v->long_value.ob_digit[0] / 2;
    }
    return tag == 1 ? 0 : UINT32_MAX; /* 1: the tag of zero */
}

/* The hot path of INSTRUCTION and PY_START events: each thread caches the
 * code objects it counted lately (see rec_cache_entry).  NULL if not cached.
 * None is immortal (PEP 683, 3.12+): returned without a reference. */
static inline PyObject *
count_cached(rec_state *st, PyObject *code, PyObject *offset)
{
    rec_thread *t = rec_thread_cached();
    if (st == NULL || t == NULL || t->st != st || t->paused) {
        return NULL;
    }
    uint32_t u = offset_units(offset);
    const rec_cache_entry *e = &t->cache[t->cache_last];
    if (e->code != code) { /* mostly the same code object as the last event's */
        uint32_t i = rec_cache_index(code);
        e = &t->cache[i];
        t->cache_last = i;
    }
    if (e->code != code || u >= e->n_units) {
        return NULL;
    }
    int32_t k = e->unit_ctr[u];
    if (k < 0) {
        return Py_NewRef(st->disable);
    }
    e->a[k]++;
    return Py_None;
}

/* INSTRUCTION (code, offset).  Everything but the cache is a tail call, so the
 * fast path saves no registers. */
static PyObject *
on_instruction(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    rec_state *st = ((rec_cb *)self)->st;
    PyObject *r = count_cached(st, args[0], args[1]);
    if (r != NULL) {
        return r;
    }
    if (st == NULL) {
        Py_RETURN_NONE;
    }
    return instruction_slow(st, args[0], args[1]);
}

/* First sight of a code object (PY_START, PY_RESUME, RAISE, or a frame
 * already running at start): its analysis, and its INSTRUCTION events unless
 * PY_START alone counts it. */
#    if defined(__GNUC__)
__attribute__((noinline))
#    endif
static rec_code *
first_sight(rec_state *st, PyObject *code)
{
    rec_code *c = rec_code_get(st, code);
    if (c == NULL) { /* out of memory: never break the program */
        PyErr_Clear();
        st->nomem = 1;
        return NULL;
    }
    if (!wants_instructions(st, c)) {
        restore_supers_uncounted(st, code);
    } else if (enable_code(st, c) < 0) {
        PyErr_Clear();
        st->nomem = 1;
    }
    return c;
}

/* Whether another tool changed CPython's global events since ours were set:
 * code runs only at the current instrumentation version (RESUME re-instruments
 * stale code first; a version change re-instruments every running frame). */
static void
check_version(rec_state *st, PyCodeObject *code)
{
    uint64_t v = (uint64_t)code->_co_instrumentation_version;
    if (st->tool_id < 0) {
        return; /* stopped: our own set_events(tool, 0) moved it */
    }
    if (st->mon_version == 0) {
        st->mon_version = v;
    } else if (v != st->mon_version) {
        st->interference = 1;
    }
}

#    if defined(__GNUC__)
__attribute__((noinline))
#    endif
static PyObject *
start_slow(rec_state *st, PyObject *code, PyObject *offset)
{
    check_version(st, (PyCodeObject *)code);
    if (rec_code_lookup(st, code) == NULL && first_sight(st, code) == NULL) {
        Py_RETURN_NONE;
    }
    return instruction_slow(st, code, offset);
}

/* PY_START / PY_RESUME (code, offset): a first sight, and afterwards the
 * entry count of a code object whose entry block PY_START counts (block_ctr at
 * the first RESUME); every other offset is disabled as INSTRUCTION events are,
 * through the same counter table. */
static PyObject *
on_start(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    rec_state *st = ((rec_cb *)self)->st;
    if (PyVectorcall_NARGS(nargsf) < 2) {
        Py_RETURN_NONE;
    }
    PyObject *r = count_cached(st, args[0], args[1]);
    if (r != NULL) {
        return r;
    }
    if (st == NULL) {
        Py_RETURN_NONE;
    }
    return start_slow(st, args[0], args[1]);
}

/* RAISE (code, offset, exception): the frame leaves its block here unless a
 * handler in the same block... which cannot be: handlers are leaders. */
static PyObject *
on_raise(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    rec_state *st = ((rec_cb *)self)->st;
    if (st == NULL || PyVectorcall_NARGS(nargsf) < 3) {
        Py_RETURN_NONE;
    }
    rec_code *c = rec_code_lookup(st, args[0]);
    if (c == NULL) {
        /* 3.13's RESUME checks the eval breaker before it reports PY_START:
         * an exception from a signal handler there comes before the code
         * object's first sight, and the code's own handler may run next.
         * Either way the frame began before we saw its code (or in a frame
         * running when recording started): nothing was counted in it, so
         * there is no exit to record. */
        first_sight(st, args[0]);
        Py_RETURN_NONE;
    }
    if (!c->counted || !c->derive) {
        Py_RETURN_NONE;
    }
    long off = PyLong_AsLong(args[1]);
    /* The event's offset may point into an inline cache (3.12) or before the
     * CALL (3.13) when the exception comes out of a callee; the traceback
     * entry this frame just added has the right one. */
    PyObject *tb = PyException_GetTraceback(args[2]);
    if (tb != NULL && PyTraceBack_Check(tb)) {
        PyTracebackObject *t = (PyTracebackObject *)tb;
        if ((PyObject *)t->tb_frame == (PyObject *)PyEval_GetFrame()) {
            off = t->tb_lasti;
        }
    }
    Py_XDECREF(tb);
    uint32_t k = rec_code_instr_at(c, (int)off);
    if (k < c->n_instr) {
        rec_thread_note_exit(st, c, k, args[2]);
    }
    Py_RETURN_NONE;
}

/* The global events every other sys.monitoring tool has set, or-ed. */
static long
other_tools_events(const rec_state *st)
{
    long all = 0;
    for (int tool = 0; tool < 6; tool++) {
        if (tool == st->tool_id) {
            continue;
        }
        PyObject *ev = call_monitoring("get_events", "(i)", tool);
        if (ev != NULL) {
            all |= PyLong_AsLong(ev);
            Py_DECREF(ev);
        }
        PyErr_Clear();
    }
    return all;
}

static int
register_cb(rec_state *st, long event, PyObject *cb)
{
    PyObject *r = call_monitoring("register_callback", "ilO", st->tool_id, event, cb);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Disables every offset of probe code object co ahead; -1 at an opcode it
 * cannot read. */
static int
disable_all_ahead(const rec_state *st, PyCodeObject *co)
{
    const rec_opinfo *op = &st->op;
    const uint8_t *code = (const uint8_t *)co->co_code_adaptive;
    uint32_t n = (uint32_t)Py_SIZE(co);
    for (uint32_t u = 0; u < n;) {
        uint8_t o = code[2 * u];
        if (o == op->instrumented_instruction) {
            o = co->_co_monitoring->per_instruction_opcodes[u];
        }
        if (!op->deopt_ok[o]) {
            return -1;
        }
        disable_unit(op, co, u);
        u += 1 + op->caches[op->deopt[o]];
    }
    return 0;
}

/* The probes' functions: f, straight-line, for the probes that need no
 * branch; g, with one. */
static const char PROBE_SOURCE[] = "def f(a, b):\n"
                                   "    c = a.real\n"
                                   "    d = [a, b, c]\n"
                                   "    return len(d) + b * 2, c\n"
                                   "def g(a, b):\n"
                                   "    c = a.real\n"
                                   "    d = [a, b, c]\n"
                                   "    e = a\n"
                                   "    if a:\n"
                                   "        e = (a, b, e)\n"
                                   "    return len(d) + b * 2, c, e\n";

/* The probes' code: the code object of PROBE_SOURCE's function name, never
 * run (Borrowed: the probes run copies of it, code.replace()), and (globals,
 * a new reference) a namespace to make it a function in.  The source is
 * compiled once per process, for all the probes: a compile is most of what a
 * probe costs.  0, or -1. */
static int
probe_code(const char *name, PyObject **code, PyObject **globals)
{
    static PyObject *consts; /* the module's constants; kept for the process */
    *code = *globals = NULL;
    if (consts == NULL) {
        PyObject *mod = Py_CompileString(PROBE_SOURCE, REC_PROBE_FILE, Py_file_input);
        if (mod == NULL) {
            return -1;
        }
        consts = Py_NewRef(((PyCodeObject *)mod)->co_consts);
        Py_DECREF(mod);
    }
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(consts) && *code == NULL; j++) {
        PyObject *c = PyTuple_GET_ITEM(consts, j);
        if (PyCode_Check(c) &&
            PyUnicode_CompareWithASCIIString(((PyCodeObject *)c)->co_name, name) == 0) {
            *code = c;
        }
    }
    *globals = PyDict_New();
    if (*code == NULL || *globals == NULL ||
        PyDict_SetItemString(*globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
        return -1;
    }
    return 0;
}

/* Whether this CPython's DISABLE does what disable_unit() does: two copies
 * of a straight-line function with INSTRUCTION events, one run once with our
 * callback returning DISABLE everywhere, the other disabled ahead, must end
 * with the same saved opcodes and instructions.  (Running specializes an
 * instruction or moves its inline counter: their base opcodes are compared,
 * not the caches.)  Once per process: a forked child has the same CPython. */
static int
probe_disable_ahead(rec_state *st)
{
    static int result = -1;
    const rec_opinfo *op = &st->op;
    if (result >= 0 || op->instrumented_instruction < 0) {
        return result > 0;
    }
    PyObject *code[2] = {NULL, NULL}, *proto, *globals = NULL, *fn = NULL, *r = NULL;
    int same = 0;
    if (probe_code("f", &proto, &globals) < 0) {
        goto done;
    }
    for (int i = 0; i < 2; i++) { /* two copies, quickened afresh */
        code[i] = PyObject_CallMethod(proto, "replace", NULL);
        if (code[i] == NULL || set_local(st, code[i], st->ev_instruction) < 0) {
            goto done;
        }
    }
    PyCodeObject *run = (PyCodeObject *)code[0], *ahead = (PyCodeObject *)code[1];
    uint32_t n = (uint32_t)Py_SIZE(run);
    const uint8_t *a = (const uint8_t *)ahead->co_code_adaptive;
    const uint8_t *b = (const uint8_t *)run->co_code_adaptive;
    fn = PyFunction_New(code[0], globals);
    r = fn ? PyObject_CallFunction(fn, "ii", 3, 4) : NULL;
    if (r == NULL || !instructions_ours_alone(run) || !instructions_ours_alone(ahead) ||
        Py_SIZE(ahead) != (Py_ssize_t)n) {
        goto done;
    }
    for (uint32_t u = 0; u < n; u++) { /* the first instrumented offset */
        if (a[2 * u] == op->instrumented_instruction) {
            clears_saved = run->_co_monitoring->per_instruction_opcodes[u] == 0;
            break;
        }
    }
    if (disable_all_ahead(st, ahead) < 0) {
        goto done;
    }
    same = memcmp(ahead->_co_monitoring->per_instruction_opcodes,
                  run->_co_monitoring->per_instruction_opcodes, n) == 0;
    for (uint32_t u = 0; u < n && same;) {
        same = op->deopt_ok[a[2 * u]] && op->deopt_ok[b[2 * u]] &&
               op->deopt[a[2 * u]] == op->deopt[b[2 * u]] && a[2 * u + 1] == b[2 * u + 1];
        u += 1 + op->caches[op->deopt[a[2 * u]]];
    }
done:
    PyErr_Clear();
    for (int i = 0; i < 2; i++) {
        if (code[i] != NULL && set_local(st, code[i], 0) < 0) {
            PyErr_Clear();
        }
        Py_XDECREF(code[i]);
    }
    Py_XDECREF(r);
    Py_XDECREF(fn);
    Py_XDECREF(globals);
    result = same;
    return same;
}

/* The probes' copies a and b have the same instrumentation data: version,
 * local and active monitors, and which per-offset tables exist. */
static int
same_monitors(const PyCodeObject *a, const PyCodeObject *b)
{
    const _PyCoMonitoringData *ma = a->_co_monitoring, *mb = b->_co_monitoring;
    return ma != NULL && mb != NULL &&
           a->_co_instrumentation_version == b->_co_instrumentation_version &&
           memcmp(&ma->local_monitors, &mb->local_monitors, sizeof ma->local_monitors) == 0 &&
           memcmp(&ma->active_monitors, &mb->active_monitors, sizeof ma->active_monitors) == 0 &&
           !ma->tools == !mb->tools && !ma->lines == !mb->lines &&
           !ma->line_tools == !mb->line_tools &&
           !ma->per_instruction_opcodes == !mb->per_instruction_opcodes &&
           !ma->per_instruction_tools == !mb->per_instruction_tools;
}

/* Whether two copies of the probe code object, a set up by set_local_events
 * and disabling ahead, b by direct_instrument, are in the same state: their
 * monitors, version and tables, and at each instruction the same base opcode,
 * or INSTRUMENTED_INSTRUCTION in both with the same opcode saved.  units: the
 * n instructions' first code units. */
static int
same_instrumentation(const rec_opinfo *op, const PyCodeObject *a, const PyCodeObject *b,
                     const uint32_t *units, uint32_t n)
{
    if (!same_monitors(a, b) || a->_co_monitoring->per_instruction_opcodes == NULL) {
        return 0;
    }
    const _PyCoMonitoringData *ma = a->_co_monitoring, *mb = b->_co_monitoring;
    const uint8_t *ca = (const uint8_t *)a->co_code_adaptive,
                  *cb = (const uint8_t *)b->co_code_adaptive;
    for (uint32_t k = 0; k < n; k++) {
        const uint32_t u = units[k];
        const uint8_t x = ca[2 * u], y = cb[2 * u];
        if (x == op->instrumented_instruction || y == op->instrumented_instruction) {
            if (x != y || ma->per_instruction_opcodes[u] != mb->per_instruction_opcodes[u]) {
                return 0;
            }
        } else if (!op->deopt_ok[x] || !op->deopt_ok[y] || op->deopt[x] != op->deopt[y] ||
                   ca[2 * u + 1] != cb[2 * u + 1]) {
            return 0;
        }
    }
    return 1;
}

/* Whether direct_instrument() does what set_local_events and disabling ahead
 * do, on this CPython: two copies of a function, each run once as first sight
 * finds code, get counters at every third instruction, one copy the long
 * way, the other directly; both must be in the same state (a few of the
 * counters sit after a 3.12 superinstruction's first half), then run once
 * more, each counter firing and disabling itself (our callback disables
 * offsets of code it does not know), in the same state again, with no
 * counter left.  Once per process, after probe_disable_ahead. */
static int
probe_direct(rec_state *st)
{
    static int result = -1;
    const rec_opinfo *op = &st->op;
    if (result >= 0 || !st->disable_ahead) {
        return result > 0;
    }
    PyObject *code[2] = {NULL, NULL}, *fn[2] = {NULL, NULL}, *globals = NULL, *r = NULL;
    PyObject *proto = NULL;
    uint32_t units[64], ctr[64];
    uint8_t counted[64];
    int same = 0;
    if (probe_code("g", &proto, &globals) < 0) {
        goto done;
    }
    for (int i = 0; i < 2; i++) { /* fresh copies, quickened and run once */
        code[i] = PyObject_CallMethod(proto, "replace", NULL);
        fn[i] = code[i] ? PyFunction_New(code[i], globals) : NULL;
        r = fn[i] ? PyObject_CallFunction(fn[i], "ii", 3, 4) : NULL;
        if (r == NULL) {
            goto done;
        }
        Py_CLEAR(r);
        if (((PyCodeObject *)code[i])->_co_monitoring == NULL && set_local(st, code[i], 0) < 0) {
            goto done; /* (allocates it, as instrumenting for our PY_START does) */
        }
    }
    PyCodeObject *a = (PyCodeObject *)code[0], *b = (PyCodeObject *)code[1];
    const uint8_t *bytes = (const uint8_t *)b->co_code_adaptive;
    uint32_t n = 0, nc = 0;
    for (uint32_t u = 0; u < (uint32_t)Py_SIZE(b); n++) {
        const uint8_t o = bytes[2 * u];
        if (n == 64 || !op->deopt_ok[o]) {
            goto done;
        }
        units[n] = u;
        if (n % 3 == 1 && !op->no_event[op->deopt[o]]) {
            counted[nc] = 1;
            ctr[nc++] = n;
        }
        u += 1 + op->caches[op->deopt[o]];
    }
    rec_code c = {.n_blocks = nc, .block_ctr = ctr, .block_counted = counted, .instr_unit = units};
    if (set_local(st, code[0], st->ev_instruction) < 0 || !instructions_ours_alone(a)) {
        goto done;
    }
    for (uint32_t k = 0, i = 0; k < n; k++) {
        if (i < nc && ctr[i] == k) {
            i++;
        } else {
            disable_unit(op, a, units[k]);
        }
    }
    if (!direct_instrument(st, b, &c) || !same_instrumentation(op, a, b, units, n)) {
        goto done;
    }
    for (int i = 0; i < 2; i++) {
        r = PyObject_CallFunction(fn[i], "ii", 3, 4);
        if (r == NULL) {
            goto done;
        }
        Py_CLEAR(r);
    }
    same = same_instrumentation(op, a, b, units, n);
    for (uint32_t i = 0; i < nc && same; i++) {
        same = bytes[2 * units[ctr[i]]] != op->instrumented_instruction;
    }
done:
    PyErr_Clear();
    for (int i = 0; i < 2; i++) {
        if (code[i] != NULL && set_local(st, code[i], 0) < 0) {
            PyErr_Clear();
        }
        Py_XDECREF(fn[i]);
        Py_XDECREF(code[i]);
    }
    Py_XDECREF(globals);
    result = same;
    return same;
}

/* Pre-arming.  With any global event set, CPython instruments every code
 * object as it first runs: its RESUME sees a stale instrumentation version
 * and _Py_Instrument walks the whole bytecode (about 3,000 CPU instructions
 * a code object at import, 1% of an import-heavy start), only to find the one
 * instruction our events need: the RESUME that reports PY_START.  Code made
 * while recording (a module's functions as it is imported) can be brought to
 * that state as it is made, from a code watcher: our tool's events in its
 * active monitors (copied from code CPython instrumented for them), the
 * current version, and INSTRUMENTED_RESUME at its first RESUME; RESUME then
 * reports PY_START without the walk.  Only code that CPython would
 * instrument at that RESUME alone: not a generator or coroutine (their later
 * RESUMEs report PY_RESUME), nothing of another tool's.  Code of a file not
 * recorded (-f) is left quiet: up to date, RESUME plain, as CPython leaves it
 * once our PY_START (and PY_RESUME) turned it down, so it never calls back.
 * 3.12's walk also takes the code's superinstructions apart, which no event
 * of ours needs: pre-armed code keeps them, and first sight, finding one,
 * knows there is nothing to give back.  A version moved on since
 * (another tool) makes RESUME instrument the code as CPython does, from the
 * state pre-arming left.  probe_prearm() checks once per process that code
 * pre-armed, code left quiet and code CPython instrumented end in the same
 * state once each has run. */
static rec_state *prearm_st; /* Borrowed: the recording the watcher serves */
static void prearm_stop(rec_state *st);
static unsigned char prearm_active[sizeof(((_PyCoMonitoringData *)0)->active_monitors)];

/* probe_prearm's say over what prearm() does: -1 none, else whether the code
 * is of a recorded file */
static int prearm_force = -1;

static int
prearm(PyCodeEvent event, PyCodeObject *co)
{
    rec_state *st = prearm_st;
    if (event != PY_CODE_EVENT_CREATE || st == NULL || !st->prearm || st->interference ||
        co->_co_monitoring != NULL || co->_co_instrumentation_version != 0) {
        return 0;
    }
    int recorded;
    if (prearm_force >= 0) {
        recorded = prearm_force;
    } else if (st->n_file_globs == 0) {
        recorded = 1; /* without -f, all but heavyops' own files: no name to look at */
    } else if (PyErr_Occurred()) {
        return 0; /* the file's name is looked at with C-API calls: never touch another's error */
    } else {
        recorded =
            rec_file_recorded(st, co->co_filename, &st->prearm_file, &st->prearm_file_recorded);
    }
    const uint32_t u = (uint32_t)co->_co_firsttraceable;
    uint8_t *code = (uint8_t *)co->co_code_adaptive;
    if (recorded &&
        ((co->co_flags &
          (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)) ||
         u >= (uint32_t)Py_SIZE(co) || code[2 * u] != st->op.resume || code[2 * u + 1] != 0)) {
        return 0;
    }
    _PyCoMonitoringData *m = PyMem_Malloc(sizeof *m);
    if (m == NULL) {
        return 0; /* CPython instruments it at its first run */
    }
    memset(m, 0, sizeof *m);
    memcpy(&m->active_monitors, prearm_active, sizeof m->active_monitors);
    co->_co_monitoring = m;
    if (recorded) {
        code[2 * u] = (uint8_t)st->op.instrumented_resume;
    } else {
        st->stat_quiet++;
    }
    co->_co_instrumentation_version = st->mon_version;
    st->stat_prearmed++;
    return 0;
}

/* The state of a and b, two copies of a function, is the same: version,
 * monitors, no per-offset tables, and at each instruction the same base
 * opcode and argument, none instrumented. */
static int
same_prearmed(const rec_opinfo *op, const PyCodeObject *a, const PyCodeObject *b)
{
    if (Py_SIZE(a) != Py_SIZE(b) || !same_monitors(a, b) || !no_tables(a->_co_monitoring)) {
        return 0;
    }
    const uint8_t *ca = (const uint8_t *)a->co_code_adaptive,
                  *cb = (const uint8_t *)b->co_code_adaptive;
    for (uint32_t u = 0, n = (uint32_t)Py_SIZE(a); u < n;) {
        const uint8_t x = ca[2 * u], y = cb[2 * u];
        if (!op->deopt_ok[x] || !op->deopt_ok[y] || op->deopt[x] != op->deopt[y] ||
            op->instrumented[x] || op->instrumented[y] || ca[2 * u + 1] != cb[2 * u + 1]) {
            return 0;
        }
        u += 1 + op->caches[op->deopt[x]];
    }
    return 1;
}

/* Whether pre-arming leaves code as CPython's own instrumenting does, on
 * this CPython: three fresh copies of a function, each run once: a made
 * while the watcher looks away, b pre-armed as it is made, c left quiet as
 * code of a file not recorded is.  The first RESUME of a and b must report
 * PY_START (first sight finds them: the probe's file is never recorded, so it
 * answers DISABLE, and CPython takes the event away), c's must not, and all
 * three must end in the same state (same_prearmed).  Once per process: a
 * forked child has the same CPython. */
static int
probe_prearm(rec_state *st)
{
    static int result = -1;
    if (result >= 0) {
        return result > 0;
    }
    PyObject *proto = NULL, *globals = NULL, *code[3] = {NULL, NULL, NULL};
    int same = 0;
    st->prearm = 0; /* proto and a: the way CPython finds them */
    if (probe_code("f", &proto, &globals) < 0 ||
        (code[0] = PyObject_CallMethod(proto, "replace", NULL)) == NULL) {
        goto done;
    }
    st->prearm = 1;
    for (int i = 1; i < 3; i++) {
        prearm_force = i == 1;
        code[i] = PyObject_CallMethod(proto, "replace", NULL);
        if (code[i] == NULL || ((PyCodeObject *)code[i])->_co_monitoring == NULL) {
            goto done; /* not pre-armed */
        }
    }
    if (((PyCodeObject *)code[0])->_co_monitoring != NULL) {
        goto done; /* pre-armed while the watcher looked away */
    }
    for (int i = 0; i < 3; i++) {
        PyObject *fn = PyFunction_New(code[i], globals), *r = NULL;
        if (fn != NULL) {
            r = PyObject_CallFunction(fn, "ii", 3, 4);
            Py_DECREF(fn);
        }
        if (r == NULL || (rec_code_lookup(st, code[i]) != NULL) != (i < 2)) {
            Py_XDECREF(r);
            goto done; /* PY_START where there should be one and only there */
        }
        Py_DECREF(r);
    }
    same = same_prearmed(&st->op, (PyCodeObject *)code[0], (PyCodeObject *)code[1]) &&
           same_prearmed(&st->op, (PyCodeObject *)code[0], (PyCodeObject *)code[2]);
done:
    PyErr_Clear();
    prearm_force = -1;
    st->prearm = 0;
    for (int i = 0; i < 3; i++) {
        Py_XDECREF(code[i]);
    }
    Py_XDECREF(globals);
    result = same;
    return same;
}

/* Sets up pre-arming once our global events are set: the template from
 * code (the launcher's frame's, which set_events instrumented), unless
 * another tool's events or local ones are on it, or the probe disagrees. */
static void
prearm_start(rec_state *st, PyCodeObject *code)
{
    st->prearm = 0;
    const _PyCoMonitoringData *m = code->_co_monitoring;
    if (getenv("HEAVYOPS_NO_PREARM") != NULL || prearm_st != NULL ||
        st->op.instrumented_resume < 0 || st->mon_version == 0 || !global_ours_alone(st, m) ||
        (uint64_t)code->_co_instrumentation_version != st->mon_version) {
        return;
    }
    memcpy(prearm_active, &m->active_monitors, sizeof prearm_active);
    int id = PyCode_AddWatcher(prearm);
    if (id < 0) {
        PyErr_Clear();
        return;
    }
    st->code_watcher = id;
    prearm_st = st;
    if (probe_prearm(st)) {
        st->prearm = 1;
        st->stat_prearmed = st->stat_quiet = 0; /* the probe's */
    } else {
        prearm_stop(st);
    }
}

static void
prearm_stop(rec_state *st)
{
    if (st->code_watcher >= 0) {
        if (PyCode_ClearWatcher(st->code_watcher) < 0) {
            PyErr_Clear();
        }
        st->code_watcher = -1;
    }
    if (prearm_st == st) {
        prearm_st = NULL;
    }
    st->prearm = 0;
}

/* Frames already running in other threads get their code set up now; the
 * starting thread's own frames are the launcher's. */
static void
walk_running_frames(rec_state *st)
{
    PyThreadState *self = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(self->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts == self) {
            continue;
        }
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        while (f) {
            PyCodeObject *code = PyFrame_GetCode(f);
            if (rec_code_lookup(st, (PyObject *)code) == NULL) {
                first_sight(st, (PyObject *)code);
            }
            Py_DECREF(code);
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
    }
}

int
rec_backend_start(rec_state *st)
{
    PyObject *events = monitoring_attr("events");
    if (events == NULL) {
        return -1;
    }
    PyObject *v = PyObject_GetAttrString(events, "INSTRUCTION");
    Py_DECREF(events);
    if (v == NULL) {
        return -1;
    }
    st->ev_instruction = PyLong_AsLong(v);
    Py_DECREF(v);

    /* Our own tool id: one of the unnamed ones first, since the program may
     * want the named ones itself (3.12's cProfile takes PROFILER_ID, coverage
     * COVERAGE_ID, debuggers DEBUGGER_ID); PROFILER_ID as a last resort. */
    static const int candidates[] = {4, 3, 2};
    st->tool_id = -1;
    for (size_t i = 0; i < 3 && st->tool_id < 0; i++) {
        PyObject *owner = call_monitoring("get_tool", "(i)", candidates[i]);
        if (owner == NULL) {
            return -1;
        }
        if (owner == Py_None) {
            PyObject *r = call_monitoring("use_tool_id", "is", candidates[i], "heavyops");
            if (r == NULL) {
                Py_DECREF(owner);
                return -1;
            }
            Py_DECREF(r);
            st->tool_id = candidates[i];
        }
        Py_DECREF(owner);
    }
    if (st->tool_id < 0) {
        PyErr_SetString(PyExc_RuntimeError, "heavyops: no free sys.monitoring tool id");
        return -1;
    }
    /* CPython loses events when two tools instrument one code object. */
    if (other_tools_events(st) & st->ev_instruction) {
        st->other_tool_warning = 1;
    }
    st->set_local_events = monitoring_attr("set_local_events");
    st->disable = monitoring_attr("DISABLE");
    if (st->set_local_events == NULL || st->disable == NULL) {
        return -1;
    }
    st->cb_start = rec_cb_new(st, on_start);
    st->cb_instruction = rec_cb_new(st, on_instruction);
    st->cb_raise = rec_cb_new(st, on_raise);
    if (!st->cb_start || !st->cb_instruction || !st->cb_raise) {
        return -1;
    }
    long global = EV_PY_START | EV_PY_RESUME;
    if (register_cb(st, EV_PY_START, st->cb_start) < 0 ||
        register_cb(st, EV_PY_RESUME, st->cb_start) < 0 ||
        register_cb(st, st->ev_instruction, st->cb_instruction) < 0) {
        return -1;
    }
    /* RAISE: early block exits, and first sights PY_START missed (both modes) */
    if (register_cb(st, EV_RAISE, st->cb_raise) < 0) {
        return -1;
    }
    global |= EV_RAISE;
    st->disable_ahead = !st->check && probe_disable_ahead(st);
#    ifndef Py_GIL_DISABLED /* there CPython stops the world to instrument */
    st->direct = st->disable_ahead && getenv("HEAVYOPS_NO_DIRECT") == NULL && probe_direct(st);
#    endif
    walk_running_frames(st);
    PyObject *r = call_monitoring("set_events", "il", st->tool_id, global);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    /* set_events re-instrumented the running frames: the launcher's frame
     * holds the version our events made */
    st->mon_version = 0;
    PyFrameObject *f = PyEval_GetFrame();
    if (f != NULL) {
        PyCodeObject *code = PyFrame_GetCode(f);
        check_version(st, code);
        prearm_start(st, code);
        Py_DECREF(code);
    }
    return 0;
}

void
rec_backend_check_interference(rec_state *st)
{
    PyThreadState *self = PyThreadState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(self->interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc != NULL || ts->c_profilefunc != NULL) {
            st->interference = 1; /* sys.settrace/setprofile: legacy tracing, itself a tool */
        }
        /* A tracer or tool that came and went since: the running frame's
         * code tells, unless the frame waits at a RESUME, which on 3.13 lets
         * other threads run before it brings its code up to date.  (Hidden
         * opcodes, INSTRUMENTED_LINE or _INSTRUCTION, may be a RESUME too.) */
        /* Python code that runs inside a tool's callback (ts->tracing: a
         * signal handler, a finalizer) runs as its code stands: CPython
         * instruments nothing there. */
        PyFrameObject *f = ts->tracing ? NULL : PyThreadState_GetFrame(ts);
        if (f != NULL) {
            PyCodeObject *code = PyFrame_GetCode(f);
            int lasti = PyFrame_GetLasti(f);
            if (lasti >= 0 && lasti / 2 < Py_SIZE(code)) {
                uint8_t o = ((const uint8_t *)code->co_code_adaptive)[lasti & ~1];
                if (st->op.deopt_ok[o] && st->op.deopt[o] != st->op.resume) {
                    check_version(st, code);
                }
            }
            Py_DECREF(code);
            Py_DECREF(f);
        }
    }
    if (!st->interference && other_tools_events(st) != 0) {
        st->interference = 1;
    }
}

/* final: the process is ending (the launcher's last atexit handler, os._exit,
 * SIGTERM).  Clearing each code object's local events then costs what setting
 * them did (CPython re-instruments the code) for code that will not run
 * again, so they stay, and so does our tool id: freed, it would hand them to
 * whichever tool took it next (3.12 and 3.13 clear nothing on free_tool_id).
 * Without callbacks they call nothing. */
int
rec_backend_stop(rec_state *st, int final)
{
    if (st->tool_id < 0) {
        return 0;
    }
    prearm_stop(st);
    PyObject *r = call_monitoring("set_events", "ii", st->tool_id, 0);
    Py_XDECREF(r);
    PyErr_Clear();
    /* set_events(tool, 0) leaves local events in place: clear them per code. */
    for (uint32_t s = 0; s < st->n_slots && !final; s++) {
        rec_code *c = st->codes[s];
        if (c && !c->dead && c->code && wants_instructions(st, c) &&
            set_local(st, c->code, 0) < 0) {
            PyErr_Clear();
        }
    }
    const long evs[] = {EV_PY_START, EV_PY_RESUME, EV_RAISE, st->ev_instruction};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        r = call_monitoring("register_callback", "ilO", st->tool_id, evs[i], Py_None);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    if (!final) {
        r = call_monitoring("free_tool_id", "(i)", st->tool_id);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    st->tool_id = -1;
    return 0;
}

#endif /* REC_HAVE_MONITORING */

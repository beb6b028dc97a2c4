/*
 * rec_code.c - first sight of a code object: decode its instructions, decide
 * which ones are sites, place counters, declare its symbols to the writer.
 *
 * Counter placement (3.12+, every-instruction mode): an INSTRUCTION event is
 * kept only at basic-block leaders; every other offset returns DISABLE the
 * first time it fires.  An instruction's count is its block's count minus the
 * early exits (RAISE events) at instructions before it in the block.
 */
#include "rec.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030C0000
#    define rec_get_extra PyUnstable_Code_GetExtra
#    define rec_set_extra PyUnstable_Code_SetExtra
#else
#    define rec_get_extra _PyCode_GetExtra
#    define rec_set_extra _PyCode_SetExtra
#endif

static int
op_named(PyObject *opmap, const char *name)
{
    PyObject *v = PyDict_GetItemString(opmap, name); /* Borrowed */
    if (v == NULL) {
        return -1;
    }
    return (int)PyLong_AsLong(v);
}

static void
flag_named(uint8_t *table, PyObject *opmap, const char *name)
{
    int op = op_named(opmap, name);
    if (op >= 0 && op < 256) {
        table[op] = 1;
    }
}

static int
long_in(PyObject *v, long lo, long hi)
{
    long o = v && PyLong_Check(v) ? PyLong_AsLong(v) : -1;
    if (o < lo || o > hi) {
        PyErr_Clear();
        return -1;
    }
    return (int)o;
}

/* The base opcode of every opcode co_code_adaptive can hold, as dis builds
 * its deoptmap: each opcode of opmap is its own base, INSTRUMENTED_X is X,
 * and a specialized form is its family's base (numbered by 3.13's
 * _specialized_opmap; 3.11 and 3.12 give _specialized_instructions the
 * unnamed slots of opname in order).  Whatever is missing stays unknown, and
 * first sight then asks CPython (PyCode_GetCode). */
static void
deopt_init(rec_opinfo *op, PyObject *opcode, PyObject *opmap)
{
    PyObject *name, *num, *fams = NULL, *spec = NULL, *list = NULL;
    Py_ssize_t pos = 0;
    while (PyDict_Next(opmap, &pos, &name, &num)) {
        int o = long_in(num, 0, 255);
        if (o >= 0) {
            op->deopt[o] = (uint8_t)o;
            op->deopt_ok[o] = 1;
        }
    }
    pos = 0;
    while (PyDict_Next(opmap, &pos, &name, &num)) {
        int o = long_in(num, 0, 255);
        const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        if (o >= 0 && s != NULL && strncmp(s, "INSTRUMENTED_", 13) == 0) {
            int base = long_in(PyDict_GetItemString(opmap, s + 13), 0, 255);
            op->deopt[o] = (uint8_t)(base >= 0 ? base : 0);
            op->deopt_ok[o] = base >= 0; /* LINE and INSTRUCTION keep theirs aside */
            op->instrumented[o] = 1;
        }
    }
    int ee = long_in(PyDict_GetItemString(opmap, "ENTER_EXECUTOR"), 0, 255);
    if (ee >= 0) {
        op->deopt_ok[ee] = 0;
    }
    fams = PyObject_GetAttrString(opcode, "_specializations");
    spec = PyObject_GetAttrString(opcode, "_specialized_opmap");
    if (spec == NULL) {
        PyErr_Clear();
        list = PyObject_GetAttrString(opcode, "_specialized_instructions");
        spec = list && PyList_Check(list) ? PyDict_New() : NULL;
        Py_ssize_t j = 0;
        for (int i = 0; spec && i < 256 && j < PyList_GET_SIZE(list); i++) {
            if (op->name[i][0] == '<') {
                PyObject *v = PyLong_FromLong(i);
                if (v == NULL || PyDict_SetItem(spec, PyList_GET_ITEM(list, j++), v) < 0) {
                    Py_CLEAR(spec);
                }
                Py_XDECREF(v);
            }
        }
    }
    /* 3.11/3.12's superinstructions, "A__B": one opcode for the pair A, B */
    pos = 0;
    while (spec && PyDict_Check(spec) && PyDict_Next(spec, &pos, &name, &num)) {
        const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        const char *sep = s ? strstr(s, "__") : NULL;
        int o = long_in(num, 0, 255);
        if (sep == NULL || o < 0 || op->n_supers == (int)(sizeof op->supers / sizeof *op->supers)) {
            continue;
        }
        PyObject *first = PyUnicode_FromStringAndSize(s, sep - s);
        int a = first ? long_in(PyDict_GetItem(opmap, first), 0, 255) : -1;
        int b = long_in(PyDict_GetItemString(opmap, sep + 2), 0, 255);
        Py_XDECREF(first);
        if (a >= 0 && b >= 0) {
            op->supers[op->n_supers].first = (uint8_t)a;
            op->supers[op->n_supers].second = (uint8_t)b;
            op->supers[op->n_supers].super = (uint8_t)o;
            op->n_supers++;
            op->super_first[a] = 1;
            op->is_super[o] = 1;
        }
    }
    if (fams && spec && PyDict_Check(fams) && PyDict_Check(spec)) {
        PyObject *members;
        pos = 0;
        while (PyDict_Next(fams, &pos, &name, &members)) {
            int base = long_in(PyDict_GetItem(opmap, name), 0, 255);
            Py_ssize_t nm = base >= 0 && PyList_Check(members) ? PyList_GET_SIZE(members) : 0;
            for (Py_ssize_t i = 0; i < nm; i++) {
                int o = long_in(PyDict_GetItem(spec, PyList_GET_ITEM(members, i)), 0, 255);
                if (o >= 0) {
                    op->deopt[o] = (uint8_t)base;
                    op->deopt_ok[o] = 1;
                }
            }
        }
    }
    Py_XDECREF(fams);
    Py_XDECREF(spec);
    Py_XDECREF(list);
    PyErr_Clear();
}

int
rec_opinfo_init(rec_opinfo *op, PyObject **opname_list_out)
{
    int ret = -1;
    PyObject *opcode = NULL, *opname = NULL, *opmap = NULL, *caches = NULL, *hasjrel = NULL;

    memset(op, 0, sizeof(*op));
    opcode = PyImport_ImportModule("opcode");
    if (opcode == NULL) {
        goto error;
    }
    opname = PyObject_GetAttrString(opcode, "opname");
    opmap = PyObject_GetAttrString(opcode, "opmap");
    caches = PyObject_GetAttrString(opcode, "_inline_cache_entries");
    hasjrel = PyObject_GetAttrString(opcode, "hasjrel");
    if (opname == NULL || opmap == NULL || caches == NULL || hasjrel == NULL) {
        goto error;
    }
    if (!PyList_Check(opname) || PyList_GET_SIZE(opname) < 256 || !PyDict_Check(opmap)) {
        PyErr_SetString(PyExc_RuntimeError, "heavyops: unexpected opcode module layout");
        goto error;
    }
    for (int i = 0; i < 256; i++) {
        PyObject *n = PyList_GET_ITEM(opname, i);
        op->name[i] = PyUnicode_Check(n) ? PyUnicode_AsUTF8(n) : "<?>";
        if (op->name[i] == NULL) {
            goto error;
        }
        /* 3.11/3.12 keep a list indexed by opcode, 3.13 a dict by name. */
        PyObject *c = PyList_Check(caches)
                          ? (i < PyList_GET_SIZE(caches) ? PyList_GET_ITEM(caches, i) : NULL)
                          : PyDict_GetItem(caches, n);
        long nc = c ? PyLong_AsLong(c) : 0;
        if (nc < 0 || nc > 255) {
            PyErr_Clear();
            nc = 0;
        }
        op->caches[i] = (uint8_t)nc;
        op->backward[i] = strstr(op->name[i], "JUMP_BACKWARD") != NULL;
    }
    Py_ssize_t nj = PySequence_Size(hasjrel);
    for (Py_ssize_t i = 0; i < nj; i++) {
        PyObject *v = PySequence_GetItem(hasjrel, i);
        long o = v ? PyLong_AsLong(v) : -1;
        Py_XDECREF(v);
        if (o >= 0 && o < 256) {
            op->jrel[o] = 1;
        }
    }
    PyErr_Clear();
    static const char *const enders[] = {
        "RETURN_VALUE",
        "RETURN_CONST",
        "RAISE_VARARGS",
        "RERAISE",
        "JUMP_FORWARD",
        "JUMP_BACKWARD",
        "JUMP_BACKWARD_NO_INTERRUPT",
        "JUMP",
        "JUMP_NO_INTERRUPT",
        "INTERPRETER_EXIT",
        /* These re-raise straight to the exception handler without a RAISE
         * event when the exception is not the one they absorb. */
        "CLEANUP_THROW",
        "END_ASYNC_FOR",
    };
    for (size_t i = 0; i < sizeof(enders) / sizeof(enders[0]); i++) {
        flag_named(op->ends_block, opmap, enders[i]);
    }
    flag_named(op->yields, opmap, "YIELD_VALUE");
    /* Never reported by INSTRUCTION events (3.12+) nor opcode tracing (3.11);
     * the prologue before the first RESUME is handled in analyse(). */
    flag_named(op->no_event, opmap, "RESUME");
    flag_named(op->no_event, opmap, "CACHE");
    if (PY_VERSION_HEX >= 0x030C0000) {
        flag_named(op->no_event, opmap, "END_FOR");
    }
    op->extended_arg = op_named(opmap, "EXTENDED_ARG");
    op->for_iter = op_named(opmap, "FOR_ITER");
    op->send = op_named(opmap, "SEND");
    op->cleanup_throw = op_named(opmap, "CLEANUP_THROW");
    op->end_async_for = op_named(opmap, "END_ASYNC_FOR");
    op->resume = op_named(opmap, "RESUME");
    op->instrumented_instruction = op_named(opmap, "INSTRUMENTED_INSTRUCTION");
    op->instrumented_resume = op_named(opmap, "INSTRUMENTED_RESUME");
    op->end_for = op_named(opmap, "END_FOR");
    op->pop_top = op_named(opmap, "POP_TOP");
    op->raise_varargs = op_named(opmap, "RAISE_VARARGS");
    op->jump_backward_no_interrupt = op_named(opmap, "JUMP_BACKWARD_NO_INTERRUPT");
    PyErr_Clear();
    for (int o = 0; o < 256; o++) {
        op->leaves_block[o] = op->jrel[o] || op->ends_block[o] || op->yields[o] || o == op->end_for;
    }
    deopt_init(op, opcode, opmap);
    *opname_list_out = opname;
    opname = NULL;
    ret = 0;
error:
    Py_XDECREF(opcode);
    Py_XDECREF(opname);
    Py_XDECREF(opmap);
    Py_XDECREF(caches);
    Py_XDECREF(hasjrel);
    return ret;
}

const char *
rec_utf8(PyObject *s, PyObject **hold)
{
    *hold = NULL;
    const char *u = PyUnicode_AsUTF8(s);
    if (u != NULL || !PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        return u;
    }
    PyErr_Clear();
    /* undecodable bytes back as bytes (surrogateescape), then each byte that
     * is not UTF-8 as \xNN; other lone surrogates as \uNNNN */
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (b == NULL) {
        PyErr_Clear();
        b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    }
    if (b == NULL) {
        return NULL;
    }
    *hold = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), "backslashreplace");
    Py_DECREF(b);
    return *hold ? PyUnicode_AsUTF8(*hold) : NULL;
}

static int
file_is_recorded(const rec_state *st, const char *filename)
{
    if ((st->exclude_prefix &&
         strncmp(filename, st->exclude_prefix, strlen(st->exclude_prefix)) == 0) ||
        strcmp(filename, REC_PROBE_FILE) == 0) {
        return 0;
    }
    if (st->n_file_globs == 0) {
        return 1;
    }
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    for (size_t i = 0; i < st->n_file_globs; i++) {
        if (fnmatch(st->file_globs[i], filename, 0) == 0 ||
            fnmatch(st->file_globs[i], base, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

int
rec_file_recorded(const rec_state *st, PyObject *file, PyObject **last, int *last_answer)
{
    if (file != NULL && file == *last) {
        return *last_answer;
    }
    PyObject *hold = NULL;
    const char *fn = rec_utf8(file, &hold);
    if (fn == NULL) {
        PyErr_Clear();
        fn = "";
    }
    int recorded = file_is_recorded(st, fn);
    Py_XDECREF(hold);
    Py_XSETREF(*last, Py_XNewRef(file));
    *last_answer = recorded;
    return recorded;
}

static void
code_free(rec_code *c)
{
    c->st->mem_tables -= rec_code_bytes(c);
    PyMem_RawFree(c->seen);
    PyMem_RawFree(c->plan_owned);
    PyMem_RawFree(c); /* its other arrays are in the same allocation */
}

/* The arena keeps at most this much between two code objects. */
#define ARENA_MAX_KEEP ((size_t)8 << 20)
/* Its first buffer: big enough for all but the largest module bodies, so that
 * it seldom grows.  Growing touched every smaller buffer before it (16 KB to
 * 512 KB on the import-heavy start), while the pages of this one are touched
 * only as deep as the largest code object yet seen needs. */
#define ARENA_FIRST ((size_t)1 << 20)

void *
rec_arena_alloc(rec_arena *ar, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (ar->buf == NULL && ar->spill == NULL && n <= ARENA_FIRST) {
        ar->buf = PyMem_RawMalloc(ARENA_FIRST);
        ar->cap = ar->buf ? ARENA_FIRST : 0;
    }
    if (n <= ar->cap - ar->used) {
        void *p = ar->buf + ar->used;
        ar->used += n;
        return p;
    }
    char *b = PyMem_RawMalloc(16 + n); /* 16: the list link, and alignment */
    if (b == NULL) {
        return NULL;
    }
    *(void **)b = ar->spill;
    ar->spill = b;
    ar->spilled += n;
    return b + 16;
}

void *
rec_arena_calloc(rec_arena *ar, size_t n)
{
    void *p = rec_arena_alloc(ar, n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

void
rec_arena_reset(rec_arena *ar)
{
    size_t need = ar->used + ar->spilled;
    while (ar->spill) {
        void *next = *(void **)ar->spill;
        PyMem_RawFree(ar->spill);
        ar->spill = next;
    }
    if (ar->spilled > 0 && need <= ARENA_MAX_KEEP) { /* next time in one piece */
        size_t cap = ar->cap ? ar->cap : 16384;
        while (cap < need) {
            cap *= 2;
        }
        char *b = PyMem_RawMalloc(cap);
        if (b != NULL) {
            PyMem_RawFree(ar->buf);
            ar->buf = b;
            ar->cap = cap;
        }
    }
    ar->used = 0;
    ar->spilled = 0;
}

void
rec_arena_free(rec_arena *ar)
{
    while (ar->spill) {
        void *next = *(void **)ar->spill;
        PyMem_RawFree(ar->spill);
        ar->spill = next;
    }
    PyMem_RawFree(ar->buf);
    memset(ar, 0, sizeof(*ar));
}

/* Varint of the exception table (Objects/exception_handling_notes.txt): 6 bits
 * per byte, bit 6 continues, bit 7 marks an entry start. */
static int
read_varint(const unsigned char *p, Py_ssize_t n, Py_ssize_t *pos, uint32_t *out)
{
    if (*pos >= n) {
        return -1;
    }
    unsigned b = p[(*pos)++];
    uint32_t v = b & 63;
    while (b & 64) {
        if (*pos >= n || v > (UINT32_MAX >> 6)) {
            return -1;
        }
        b = p[(*pos)++];
        v = (v << 6) | (b & 63);
    }
    *out = v;
    return 0;
}

/* The handler targets of a code object's exception table, one entry at a
 * time; a malformed entry ends it (as if the table ended there). */
typedef struct handler_iter {
    const unsigned char *p;
    Py_ssize_t len, pos;
    uint32_t start; /* the entry last read: the first code unit it covers */
    uint32_t size;  /* and how many */
    int bad;        /* the table ended inside an entry */
} handler_iter;

static handler_iter
handlers_of(PyObject *code)
{
    PyObject *et = ((PyCodeObject *)code)->co_exceptiontable;
    handler_iter it = {NULL, 0, 0, 0, 0, 0};
    if (et && PyBytes_Check(et)) {
        it.p = (const unsigned char *)PyBytes_AS_STRING(et);
        it.len = PyBytes_GET_SIZE(et);
    }
    return it;
}

static int
next_handler(handler_iter *it, uint32_t *target)
{
    uint32_t dl;
    if (it->pos >= it->len) {
        return 0;
    }
    it->bad = read_varint(it->p, it->len, &it->pos, &it->start) ||
              read_varint(it->p, it->len, &it->pos, &it->size) ||
              read_varint(it->p, it->len, &it->pos, target) ||
              read_varint(it->p, it->len, &it->pos, &dl);
    return !it->bad;
}

/* The positions of each code unit, from co_positions(). */
static int
site_positions(PyObject *code, hops_site *sites, uint32_t ns)
{
    PyObject *it = PyObject_CallMethod(code, "co_positions", NULL);
    if (it == NULL) {
        return -1;
    }
    PyObject *iter = PyObject_GetIter(it);
    Py_DECREF(it);
    if (iter == NULL) {
        return -1;
    }
    uint32_t s = 0, unit = 0;
    PyObject *t;
    while (s < ns && (t = PyIter_Next(iter)) != NULL) {
        while (s < ns && sites[s].offset / 2 == unit) {
            long line = -1, col = -1;
            if (PyTuple_Check(t) && PyTuple_GET_SIZE(t) >= 3) {
                PyObject *l = PyTuple_GET_ITEM(t, 0), *cc = PyTuple_GET_ITEM(t, 2);
                line = l == Py_None ? -1 : PyLong_AsLong(l);
                col = cc == Py_None ? -1 : PyLong_AsLong(cc);
            }
            sites[s].line = (int32_t)line;
            sites[s].col = (int32_t)col;
            s++;
        }
        Py_DECREF(t);
        unit++;
    }
    Py_DECREF(iter);
    if (PyErr_Occurred()) {
        return -1;
    }
    for (; s < ns; s++) { /* positions shorter than the code: no line */
        sites[s].line = -1;
        sites[s].col = -1;
    }
    return 0;
}

static uint32_t
take_slot(rec_state *st)
{
    if (st->n_free > 0) {
        return st->free_slots[--st->n_free];
    }
    if (st->n_slots == st->cap_slots) {
        uint32_t cap = st->cap_slots ? st->cap_slots * 2 : 256;
        rec_code **t = PyMem_RawRealloc(st->codes, cap * sizeof(*t));
        uint32_t *f = t ? PyMem_RawRealloc(st->free_slots, cap * sizeof(*f)) : NULL;
        if (t) {
            st->codes = t;
        }
        if (f == NULL) {
            return UINT32_MAX;
        }
        st->free_slots = f;
        st->cap_slots = cap;
    }
    return st->n_slots++;
}

/* Decodes n_units code units at b into c's instruction tables; opcodes go
 * through op->deopt if adaptive (co_code_adaptive).  Returns the index of the
 * first RESUME (n_instr if none), or -1 at an opcode only CPython can map. */
static int64_t
decode(const rec_opinfo *op, const uint8_t *b, uint32_t n_units, int adaptive, rec_code *c,
       uint8_t *ops, uint32_t *args)
{
    uint32_t n = 0, ext = 0, first = UINT32_MAX;
    for (uint32_t u = 0; u < n_units; n++) {
        uint8_t o = b[2 * u];
        if (adaptive) {
            if (!op->deopt_ok[o]) {
                return -1;
            }
            o = op->deopt[o];
        }
        uint32_t arg = b[2 * u + 1] | ext;
        ext = (o == op->extended_arg) ? (arg << 8) : 0;
        if (o == op->resume && first == UINT32_MAX) {
            first = n;
        }
        c->instr_unit[n] = u;
        ops[n] = o;
        args[n] = arg;
        u = n_units - u > op->caches[o] ? u + 1 + op->caches[o] : n_units; /* past its caches */
    }
    c->n_instr = n;
    c->instr_unit[n] = n_units;
    return first == UINT32_MAX ? n : first;
}

/* rec_opinfo.scan's flags */
enum {
    SCAN_BAD = 1,     /* deopt_ok 0: only CPython can map it */
    SCAN_EXT = 2,     /* EXTENDED_ARG */
    SCAN_RESUME = 4,  /* RESUME */
    SCAN_SILENT = 8,  /* no_event */
    SCAN_LEAVES = 16, /* leaves_block */
    SCAN_JREL = 32,   /* relative jump */
    SCAN_BACK = 64,   /* backwards */
    SCAN_SITE = 128,  /* tracked */
};

void
rec_opinfo_scan_init(rec_opinfo *op)
{
    for (int raw = 0; raw < 256; raw++) {
        uint8_t o = op->deopt[raw];
        op->scan[raw].base = o;
        op->scan[raw].caches = op->caches[o];
        op->scan[raw].flags =
            (uint8_t)((op->deopt_ok[raw] ? 0 : SCAN_BAD) | (o == op->extended_arg ? SCAN_EXT : 0) |
                      (o == op->resume ? SCAN_RESUME : 0) | (op->no_event[o] ? SCAN_SILENT : 0) |
                      (op->leaves_block[o] ? SCAN_LEAVES : 0) | (op->jrel[o] ? SCAN_JREL : 0) |
                      (op->backward[o] ? SCAN_BACK : 0) | (op->tracked[o] ? SCAN_SITE : 0));
    }
}

/* What scan_selected finds besides decode()'s tables. */
typedef struct sel_scan {
    uint32_t *jumps; /* in: room for n_units + 1; out: the relative jumps */
    uint32_t n_jumps;
    uint32_t first;     /* the first RESUME, n_instr if none */
    uint32_t lead;      /* the first instruction after it that fires */
    uint32_t n_sites;   /* into the caller's site_instr */
    uint32_t entry_end; /* entry_block_end()'s answer */
} sel_scan;

/* -i mode, 3.12+: decode() of co_code_adaptive, the sites and
 * entry_block_end() in one pass, for the thousands of code objects an import
 * runs once (the long way takes a pass for each, and they cost more than the
 * rest of first sight).  One table lookup per instruction; only jumps, and
 * what can end the entry block or be a site, take a branch.  args is set for
 * jumps only: nothing else reads it.  0, or -1 at an opcode only CPython can
 * map (decode_co_code's turn).  The self-check compares it with the long
 * way. */
static int
scan_selected(const rec_opinfo *op, PyObject *code, rec_code *c, uint8_t *ops, uint32_t *args,
              uint32_t *site_instr, sel_scan *out)
{
    const uint8_t *b = (const uint8_t *)((PyCodeObject *)code)->co_code_adaptive;
    const uint32_t n_units = c->n_units, none = UINT32_MAX;
    uint32_t *const instr_unit = c->instr_unit; /* held here: the stores below may alias c */
    uint32_t n = 0, ext = 0, first = none, ns = 0, nj = 0;
    uint32_t silent = none, leaves = none; /* the first of each after the RESUME */
    int64_t low = INT64_MAX;               /* the lowest jump target, in code units */
    for (uint32_t u = 0, at; u < n_units; n++) {
        const uint8_t raw = b[2 * u], f = op->scan[raw].flags;
        const uint32_t next = u + 1 + op->scan[raw].caches; /* past its caches */
        instr_unit[n] = at = u;
        ops[n] = op->scan[raw].base;
        u = next; /* past n_units only if the last caches are cut: the loop ends */
        if (f == 0) {
            ext = 0; /* a plain instruction's argument is never read */
        } else {
            const uint32_t arg = b[2 * at + 1] | ext;
            if (f & SCAN_BAD) {
                return -1;
            }
            ext = (f & SCAN_EXT) ? arg << 8 : 0;
            if (f & SCAN_JREL) {
                int64_t t = (f & SCAN_BACK) ? (int64_t)next - arg : (int64_t)next + arg;
                low = t >= 0 && t < low ? t : low;
                args[n] = arg; /* only jumps' are read */
                out->jumps[nj++] = n;
            }
            if (first == none) {
                first = (f & SCAN_RESUME) ? n : none;
            } else if (f & SCAN_SILENT) {
                silent = silent == none ? n : silent;
            } else {
                leaves = leaves == none && (f & SCAN_LEAVES) ? n : leaves;
                if (f & SCAN_SITE) {
                    site_instr[ns++] = n;
                }
            }
        }
    }
    c->n_instr = n;
    c->instr_unit[n] = n_units;
    first = first == none ? n : first;
    uint32_t lead = first;
    while (lead < n && op->no_event[ops[lead]]) {
        lead++;
    }
    out->first = first;
    out->lead = lead;
    out->n_sites = ns;
    out->n_jumps = nj;
    out->entry_end = 0;
    if (ns == 0) {
        return 0;
    }
    /* the entry block: from lead to the first silent instruction, or past
     * the first that leaves a block (lead fires: leaves >= lead) */
    uint32_t end = n;
    if (silent != none && silent < lead) { /* a silent one between RESUME and lead */
        for (end = lead; end < n && !op->no_event[ops[end]];) {
            if (op->leaves_block[ops[end++]]) {
                break;
            }
        }
    } else {
        end = silent != none ? silent : n;
        end = leaves != none && leaves + 1 < end ? leaves + 1 : end;
    }
    /* whatever else enters it, a jump or a handler, ends it there */
    handler_iter hi = handlers_of(code);
    uint32_t target;
    while (next_handler(&hi, &target)) {
        low = target < low ? target : low;
    }
    if (low < (int64_t)c->instr_unit[end]) {
        end = low <= (int64_t)c->instr_unit[lead] ? 0 : rec_code_instr_of_unit(c, (uint32_t)low);
    }
    out->entry_end = end;
    return 0;
}

#if !REC_HAVE_MONITORING
/* 3.11: most lines of most code hold no counter (with -i, no chosen
 * instruction; in the default mode, no block leader the flow plan measures),
 * yet opcode events (one tracer call per instruction) would be on in every
 * frame of counted code.  LINE events can switch them on only where needed.
 *
 * When 3.11 traces an instruction X (Python/ceval.c: DO_TRACING,
 * maybe_call_line_trace), it reports a LINE event at X, before X's opcode
 * event, if X has a line (not -1) and the instruction P run before it in the
 * frame (its prev_instr) is the frame's first RESUME or before it, or has
 * another line, or lies after X (a backward jump; CPython leaves out SEND's
 * here, and so, to be safe either way, does this for a SEND at either end).
 * It traces no instruction before the first RESUME, and none an
 * EXTENDED_ARG prefixes (EXTENDED_ARG dispatches it untraced): their
 * arrivals report nothing.
 *
 * From a LINE event at X until the next one, the frame runs only what X
 * reaches over edges that report none (fall-through, jumps and exception
 * handlers; every instruction in a try range is taken to raise, which only
 * widens the set).  UNIT_OPS_HERE in unit_ops[X] says that set holds a
 * counter: the tracer sets f_trace_opcodes from it at every LINE event, and
 * at every RESUME's call event (a generator resuming mid-line).
 * UNIT_OPS_AFTER says the same of what X's successors reach: at every opcode
 * event, once X is counted, the tracer sets f_trace_opcodes from it, so that
 * a line's instructions after its last counter run without.  So every
 * counter runs with opcode events on, and little else does. */

/* plan_line_mode's graph: the instructions, their lines, and which are traced
 * (head) and can reach a counter (need). */
typedef struct line_walk {
    const rec_opinfo *op;
    const rec_code *c;
    const uint8_t *ops;
    const hops_site *pos; /* .line: each instruction's line */
    const uint8_t *head, *need;
    const uint32_t *jump, *handler; /* per instruction: its jump's target, its handler; n: none */
    uint32_t n, first;
} line_walk;

/* Whether running x right after p reports no LINE event (see above). */
static int
silent_edge(const line_walk *w, uint32_t p, uint32_t x)
{
    const uint32_t up = w->c->instr_unit[p], ux = w->c->instr_unit[x];
    const int send = w->ops[x] == w->op->send || w->ops[p] == w->op->send;
    return !(w->head[x] && w->pos[x].line != -1 &&
             (up <= w->first || w->pos[x].line != w->pos[p].line || (ux < up && !send)));
}

/* Whether an instruction k can go on to, without a LINE event on the way, is
 * one that needs opcode events: its fall-through (unless it returns, raises
 * or jumps for sure), its jump target, its try ranges' handlers. */
static int
next_needs(const line_walk *w, uint32_t k)
{
    const rec_opinfo *op = w->op;
    const uint8_t o = w->ops[k];
    const int falls = !op->ends_block[o] || o == op->cleanup_throw || o == op->end_async_for;
    const uint32_t next[3] = {falls ? k + 1 : w->n, w->jump[k], w->handler[k]};
    for (int i = 0; i < 3; i++) {
        if (next[i] < w->n && w->need[next[i]] && silent_edge(w, k, next[i])) {
            return 1;
        }
    }
    return 0;
}

/* Sets c->unit_ops (above).  Returns 1 if worth it (a quarter of the traced
 * instructions or more run without opcode events), 0 if not (unit_ops left
 * NULL: opcode events all through), -1 if out of memory. */
static int
plan_line_mode(const rec_opinfo *op, rec_arena *ar, PyObject *code, rec_code *c, const uint8_t *ops,
               const uint32_t *args)
{
    PyCodeObject *co = (PyCodeObject *)code;
    const uint32_t n = c->n_instr, first = (uint32_t)co->_co_firsttraceable;
    PyObject *lt = co->co_linetable;
    if (n == 0 || !PyBytes_Check(lt)) {
        return 0;
    }
    hops_site *pos = rec_arena_alloc(ar, n * sizeof(*pos));
    uint8_t *need = rec_arena_calloc(ar, n);
    uint8_t *head = rec_arena_alloc(ar, n);
    if (pos == NULL || need == NULL || head == NULL) {
        return -1;
    }
    for (uint32_t k = 0; k < n; k++) {
        pos[k].offset = c->instr_unit[k] * 2;
        head[k] = c->instr_unit[k] >= first && (k == 0 || ops[k - 1] != op->extended_arg);
        need[k] = head[k] && c->unit_ctr[c->instr_unit[k]] >= 0;
    }
    if (hops_linetable_positions((const uint8_t *)PyBytes_AS_STRING(lt),
                                 (size_t)PyBytes_GET_SIZE(lt), co->co_firstlineno, pos,
                                 n) != HOPS_OK) {
        return 0; /* a table this reader does not know: opcode events throughout */
    }
    /* each instruction's jump target and handler, once: 3.11's exception
     * table maps every instruction to one handler at most (its ranges do
     * not overlap; if they do, no line mode) */
    uint32_t *jump = rec_arena_alloc(ar, n * sizeof(uint32_t));
    uint32_t *handler = rec_arena_alloc(ar, n * sizeof(uint32_t));
    if (jump == NULL || handler == NULL) {
        return -1;
    }
    for (uint32_t k = 0; k < n; k++) {
        int64_t t = op->jrel[ops[k]] ? rec_jump_target_unit(c, op, ops, args, k) : -1;
        jump[k] = t >= 0 && t < (int64_t)c->n_units ? rec_code_instr_of_unit(c, (uint32_t)t) : n;
        handler[k] = n;
    }
    uint32_t target;
    handler_iter hi = handlers_of(code);
    while (next_handler(&hi, &target)) {
        uint32_t to = target < c->n_units ? rec_code_instr_of_unit(c, target) : n;
        uint32_t k = hi.start < c->n_units ? rec_code_instr_of_unit(c, hi.start) : n;
        for (; k < n && c->instr_unit[k] < hi.start + hi.size; k++) {
            if (handler[k] != n) {
                return 0;
            }
            handler[k] = to;
        }
    }
    if (hi.bad) {
        return 0;
    }
    /* need[p] |= need[x] for every silent edge p -> x, to a fixed point */
    line_walk w = {op, c, ops, pos, head, need, jump, handler, n, first};
    /* Silent edges nearly all go forward (a backward jump reports a line),
     * so one pass from the end settles them; another only if one goes back. */
    int back = 0;
    for (uint32_t k = 0; k < n && !back; k++) {
        back = (jump[k] <= k && silent_edge(&w, k, jump[k])) ||
               (handler[k] <= k && silent_edge(&w, k, handler[k]));
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t k = n; k-- > 0;) {
            if (!need[k] && next_needs(&w, k)) {
                need[k] = 1;
                changed = back;
            }
        }
    }
    uint32_t traced = 0, quiet = 0;
    for (uint32_t k = 0; k < n; k++) {
        traced += head[k];
        quiet += head[k] && !need[k];
    }
    if (quiet == 0 || 4 * quiet < traced) {
        return 0;
    }
    c->unit_ops = rec_arena_alloc(ar, (size_t)c->n_units + 1);
    if (c->unit_ops == NULL) {
        return -1;
    }
    /* anything unforeseen: on, and on after it */
    memset(c->unit_ops, UNIT_OPS_HERE | UNIT_OPS_AFTER, (size_t)c->n_units + 1);
    for (uint32_t k = 0; k < n; k++) {
        if (head[k]) {
            c->unit_ops[c->instr_unit[k]] =
                (uint8_t)((need[k] ? UNIT_OPS_HERE : 0) | (next_needs(&w, k) ? UNIT_OPS_AFTER : 0));
        }
    }
    return 1;
}

/* plan_line_mode unless switched off or self-checking (which keeps every
 * event).  0, or -1 with an exception set. */
static int
line_mode(rec_state *st, const rec_opinfo *op, rec_arena *ar, PyObject *code, rec_code *c,
          const uint8_t *ops, const uint32_t *args)
{
    if (st->no_line_mode || st->check) {
        return 0;
    }
    int lm = plan_line_mode(op, ar, code, c, ops, args);
    if (lm < 0) {
        PyErr_NoMemory();
        return -1;
    }
    st->stat_line_mode += (uint64_t)lm;
    return 0;
}
#endif

size_t
rec_code_bytes(const rec_code *c)
{
    size_t n = c->n_instr + 1, nu = (size_t)c->ctr_units + 1, nb = c->n_blocks + 1,
           size = sizeof(*c) + nu * 4 + n * 9 + (c->unit_ops ? (size_t)c->n_units + 1 : 0);
    if (c->derive) {
        size += n * 8 + nb * 9 + (c->n_steps + 1) * sizeof(rec_step) + c->n_terms * 4;
    }
    return size + 16;
}

/* The final rec_code of a counted code object: c and its arrays copied into
 * one allocation. */
static rec_code *
pack(const rec_code *c)
{
    size_t n = c->n_instr + 1, nb = c->n_blocks + 1, nu = (size_t)c->ctr_units + 1;
    rec_code *p = PyMem_RawMalloc(rec_code_bytes(c));
    if (p == NULL) {
        return NULL;
    }
    *p = *c;
    char *q = (char *)(p + 1);
#define CARVE(field, count)                                                                        \
    do {                                                                                           \
        size_t bytes_ = (count) * sizeof(*c->field);                                               \
        p->field = c->field ? (void *)q : NULL;                                                    \
        if (bytes_ > 0 && c->field) {                                                              \
            memcpy(q, c->field, bytes_);                                                           \
            q += bytes_;                                                                           \
        }                                                                                          \
    } while (0)
    /* 4-byte elements first, bytes last: every array stays aligned */
    CARVE(unit_ctr, nu);
    CARVE(instr_unit, n);
    CARVE(instr_site, n);
    if (c->derive) {
        CARVE(instr_block, n);
        CARVE(instr_blk, n);
        CARVE(block_first, nb);
        CARVE(block_ctr, nb);
        CARVE(steps, (size_t)c->n_steps);
        CARVE(terms, (size_t)c->n_terms);
        CARVE(block_counted, nb);
    } else {
        p->instr_block = p->block_first = p->block_ctr = NULL;
        p->instr_blk = p->terms = NULL;
        p->steps = NULL;
        p->block_counted = NULL;
    }
    CARVE(instr_op, n);
    CARVE(unit_ops, (size_t)c->n_units + 1);
#undef CARVE
    return p;
}

/* Whether instruction k (opcode o) reports events: none before the first
 * RESUME (the prologue: MAKE_CELL, COPY_FREE_VARS, RETURN_GENERATOR...), and
 * none at all in code without a RESUME (first == n_instr). */
static inline int
fires_event(const rec_opinfo *op, uint8_t o, uint32_t k, int64_t first)
{
    return k >= first && !op->no_event[o];
}

/* fires[k] for each of c's n_instr instructions (ops). */
static void
fill_fires(const rec_opinfo *op, const rec_code *c, const uint8_t *ops, int64_t first,
           uint8_t *fires)
{
    for (uint32_t k = 0; k < c->n_instr; k++) {
        fires[k] = fires_event(op, ops[k], k, first);
    }
}

/* Decodes the code's co_code (CPython's copy, without specialization or
 * instrumentation) into c's instruction tables; *bytes holds it (the caller
 * releases it).  The first RESUME, or -1 with an exception set. */
static int64_t
decode_co_code(const rec_opinfo *op, PyCodeObject *co, rec_code *c, uint8_t *ops, uint32_t *args,
               PyObject **bytes)
{
    *bytes = PyCode_GetCode(co);
    if (*bytes == NULL) {
        return -1;
    }
    if ((uint32_t)(PyBytes_GET_SIZE(*bytes) / 2) != c->n_units) {
        PyErr_SetString(PyExc_SystemError, "heavyops: co_code size");
        return -1;
    }
    return decode(op, (const uint8_t *)PyBytes_AS_STRING(*bytes), c->n_units, 0, c, ops, args);
}

void
rec_code_block_counters(rec_code *c, int on)
{
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        if (c->block_counted[b]) {
            c->unit_ctr[c->instr_unit[c->block_ctr[b]]] = on ? (int32_t)c->block_ctr[b] : -1;
        }
    }
}

/* c's blocks (instr_block, instr_blk, block_first, n_blocks; block_ctr and
 * block_counted allocated) from its decoded instructions; the arrays in ar.
 * Returns the external-entry table (1: a frame's start or resumption, 2: an
 * exception handler), or NULL if out of memory (no exception set). */
static uint8_t *
find_blocks(const rec_opinfo *op, rec_arena *ar, PyObject *code, rec_code *c, const uint8_t *ops,
            const uint32_t *args, const uint8_t *fires, uint32_t first)
{
    const uint32_t n = c->n_instr, n_units = c->n_units;
    const size_t n1 = (size_t)n_units + 1;
    uint8_t *leader = rec_arena_calloc(ar, n1);
    uint8_t *external = rec_arena_calloc(ar, n1);
    c->instr_block = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    c->instr_blk = rec_arena_alloc(ar, n1 * sizeof(int32_t));
    c->block_first = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    c->block_ctr = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    c->block_counted = rec_arena_alloc(ar, n1);
    if (!leader || !external || !c->instr_block || !c->instr_blk || !c->block_first ||
        !c->block_ctr || !c->block_counted) {
        return NULL;
    }
    for (uint32_t k = 0; k < n; k++) {
        uint8_t o = ops[k];
        if (op->jrel[o]) {
            int64_t target = rec_jump_target_unit(c, op, ops, args, k);
            /* FOR_ITER's exit skips END_FOR (3.12) or END_FOR + POP_TOP
             * (3.13): REC_FOR_ITER_SKIP. */
            if (target >= 0 && target < (int64_t)n_units) {
                uint32_t ti = rec_code_instr_of_unit(c, (uint32_t)target);
                leader[ti] = 1;
                for (uint32_t x = 1; o == op->for_iter && x <= REC_FOR_ITER_SKIP; x++) {
                    leader[ti + x <= n ? ti + x : n] = 1;
                }
                /* 3.11: when throw() into a `yield from` or `await` ends the
                 * delegation, Objects/genobject.c (_gen_throw) resumes the
                 * frame at SEND's target itself, without running SEND. */
                if (!REC_HAVE_MONITORING && o == op->send) {
                    external[ti] |= 1;
                }
            }
            leader[k + 1] = 1;
        } else if (op->leaves_block[o] || !fires[k]) {
            leader[k + 1] = 1;
        }
        /* Entered from outside: the first instruction, and where a
         * generator resumes after a yield (past the RESUME). */
        if (op->yields[o] || k == first) {
            uint32_t r = rec_next_firing(fires, n, op->yields[o] ? k + 1 : k);
            external[r] = 1;
            leader[r] = 1;
        }
    }
    /* Exception handlers: leaders, and entered from outside the flow. */
    handler_iter hi = handlers_of(code);
    uint32_t target;
    while (next_handler(&hi, &target)) {
        if (target < n_units) {
            uint32_t ti = rec_code_instr_of_unit(c, target);
            leader[ti] = 1;
            external[ti] |= 2; /* 1: a frame's start or resumption, 2: a handler */
        }
    }
    uint32_t cur = UINT32_MAX;
    c->n_blocks = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (!fires[k]) {
            c->instr_block[k] = k;
            c->instr_blk[k] = -1;
            cur = UINT32_MAX;
            continue;
        }
        if (leader[k] || cur == UINT32_MAX) {
            cur = k;
            c->block_first[c->n_blocks++] = k;
        }
        c->instr_block[k] = cur;
        c->instr_blk[k] = (int32_t)c->n_blocks - 1;
    }
    return external;
}

/* -i mode: where the entry block ends (one past its last instruction, as
 * find_blocks would make it), which starts at lead, the first instruction
 * that fires; 0 if anything but a frame's start enters it (a jump or a
 * handler).  Only jumps and handlers into it need a closer look, so it costs
 * a fraction of find_blocks and rec_flow_plan, for what they would conclude
 * of code whose every site lies in it: PY_START counts them all. */
static uint32_t
entry_block_end(const rec_opinfo *op, PyObject *code, const rec_code *c, const uint8_t *ops,
                const uint32_t *args, const uint8_t *fires, uint32_t lead)
{
    const uint32_t n = c->n_instr, n_units = c->n_units, lead_unit = c->instr_unit[lead];
    uint32_t end = lead;
    while (end < n && fires[end]) { /* a silent instruction is in no block */
        uint8_t o = ops[end++];
        if (op->leaves_block[o]) {
            break;
        }
    }
    uint32_t end_unit = c->instr_unit[end]; /* instr_unit[n] is n_units */
    /* every jump, as find_blocks looks at */
    for (uint32_t k = 0; k < n; k++) {
        if (!op->jrel[ops[k]]) {
            continue;
        }
        int64_t t = rec_jump_target_unit(c, op, ops, args, k);
        if (t < 0 || t >= (int64_t)end_unit) {
            continue; /* FOR_ITER's other leaders come after its target */
        }
        if (t <= (int64_t)lead_unit) {
            return 0;
        }
        end = rec_code_instr_of_unit(c, (uint32_t)t);
        end_unit = c->instr_unit[end];
    }
    handler_iter hi = handlers_of(code);
    uint32_t target;
    while (next_handler(&hi, &target)) {
        if (target >= n_units || target >= end_unit) {
            continue;
        }
        if (target <= lead_unit) {
            return 0;
        }
        end = rec_code_instr_of_unit(c, target);
        end_unit = c->instr_unit[end];
    }
    return end;
}

/* entry_block_only's tables being filled */
typedef struct compact_tab {
    const rec_code *c;
    uint32_t *unit;
    int32_t *site, *blk;
    uint8_t *ops;
    uint32_t n;
} compact_tab;

/* One entry for instructions [from, to) of t->c, if any. */
static inline void
compact_entry(compact_tab *t, uint32_t from, uint32_t to, int32_t site, int32_t blk)
{
    if (to > from) {
        t->unit[t->n] = t->c->instr_unit[from];
        t->ops[t->n] = t->c->instr_op[to - 1];
        t->site[t->n] = site;
        t->blk[t->n] = blk;
        t->n++;
    }
}

/* -i mode: c's tables for code whose sites all lie in its entry block [lead,
 * n_instr): that block alone, counted by PY_START at the first RESUME
 * (resume).  After first sight the tables only say where an exit (RAISE at
 * an offset) stands among the sites, and an exit anywhere from one site to
 * the next has the same effect.  So they hold one entry per run of such
 * instructions, not one per instruction: the prologue before the RESUME,
 * the RESUME (PY_START's counter), the silent ones up to lead (in no block,
 * as the prologue), then in the block a gap before each site, the site
 * itself, and the rest after the last.  Exits, rec_flow_solve and the flush
 * read these entries as they read instructions.  An import runs thousands of
 * such code objects, whose tables held about 18 bytes per instruction
 * (module bodies run to thousands of instructions) and now hold 26 per site
 * and a few more.  An entry's opcode is its last instruction's:
 * rec_thread_note_exit asks whether it is FOR_ITER or SEND, which can only
 * end the block.  Replaces instr_unit, instr_site, instr_blk, instr_op and
 * n_instr (the caller keeps the instruction tables it still reads); 0, or
 * -1 if out of memory. */
static int
entry_block_only(rec_arena *ar, rec_code *c, const uint32_t *site_instr, uint32_t resume,
                 uint32_t lead)
{
    const uint32_t n = c->n_instr, ns = c->n_sites;
    const size_t cap = 2 * (size_t)ns + 5; /* 3 before lead, 2 per site, 1 after */
    compact_tab t = {
        .c = c,
        .unit = rec_arena_alloc(ar, (cap + 1) * sizeof(uint32_t)),
        .site = rec_arena_alloc(ar, (cap + 1) * sizeof(int32_t)),
        .blk = rec_arena_alloc(ar, (cap + 1) * sizeof(int32_t)),
        .ops = rec_arena_alloc(ar, cap + 1),
    };
    c->block_first = rec_arena_alloc(ar, 2 * sizeof(uint32_t));
    c->block_ctr = rec_arena_alloc(ar, 2 * sizeof(uint32_t));
    c->block_counted = rec_arena_alloc(ar, 2);
    if (!t.unit || !t.site || !t.blk || !t.ops || !c->block_first || !c->block_ctr ||
        !c->block_counted) {
        return -1;
    }
    compact_entry(&t, 0, resume, -1, -1);
    const uint32_t ctr = t.n;
    compact_entry(&t, resume, resume + 1, -1, -1);
    compact_entry(&t, resume + 1, lead, -1, -1);
    const uint32_t block = t.n;
    uint32_t from = lead;
    for (uint32_t i = 0; i < ns; i++) { /* every site lies in [lead, n) */
        const uint32_t k = site_instr[i];
        compact_entry(&t, from, k, -1, 0);
        compact_entry(&t, k, k + 1, (int32_t)i, 0);
        from = k + 1;
    }
    compact_entry(&t, from, n, -1, 0);
    t.unit[t.n] = c->instr_unit[n]; /* where the tables end, as before */
    t.site[t.n] = t.blk[t.n] = -1;
    t.ops[t.n] = 0;
    c->instr_unit = t.unit;
    c->instr_site = t.site;
    c->instr_blk = t.blk;
    c->instr_op = t.ops;
    c->instr_block = NULL; /* only planning reads it */
    c->n_instr = c->row = t.n;
    c->n_ctr = ctr + 1;
    c->n_blocks = 1;
    c->block_first[0] = block;
    rec_flow_start_only(c, 0, ctr);
    return 0;
}

/* -i mode, code with a site past its entry block: the blocks that hold a
 * site and nothing else, each from its first site (where its counter is) to
 * its end.  An exit before a block's first site would cancel out (what
 * rec_flow_solve adds back, the flush takes off again), so those
 * instructions are in no block, like the blocks without a site.  Leaders are
 * find_blocks' (jump and handler targets, FOR_ITER's exits, what follows a
 * jump, a block's end or a silent instruction), marked by code unit, and
 * only the instructions from each site to its block's end are visited: most
 * of a module body is not.  jumps: the relative jumps (n_jumps).  The
 * self-check compares it with find_blocks and plan_blocks
 * (check_site_blocks).  0, or -1 if out of memory. */
static int
site_blocks(const rec_opinfo *op, rec_arena *ar, PyObject *code, rec_code *c, const uint8_t *ops,
            const uint32_t *args, const uint32_t *site_instr, const uint32_t *jumps,
            uint32_t n_jumps)
{
    const uint32_t n = c->n_instr, n_units = c->n_units, ns = c->n_sites;
    uint8_t *mark = rec_arena_calloc(ar, (size_t)n_units + 1); /* a leader starts there */
    c->instr_block = NULL;                                     /* only planning reads it */
    c->instr_blk = rec_arena_alloc(ar, ((size_t)n + 1) * sizeof(int32_t));
    c->block_first = rec_arena_alloc(ar, ((size_t)ns + 1) * sizeof(uint32_t));
    c->block_ctr = rec_arena_alloc(ar, ((size_t)ns + 1) * sizeof(uint32_t));
    c->block_counted = rec_arena_alloc(ar, (size_t)ns + 1);
    if (!mark || !c->instr_blk || !c->block_first || !c->block_ctr || !c->block_counted) {
        return -1;
    }
    for (uint32_t j = 0; j < n_jumps; j++) {
        const uint32_t k = jumps[j];
        int64_t t = rec_jump_target_unit(c, op, ops, args, k);
        if (t < 0 || t >= (int64_t)n_units) {
            continue;
        }
        mark[t] = 1;
        if (ops[k] == op->for_iter) { /* its exit skips END_FOR (and POP_TOP) */
            uint32_t ti = rec_code_instr_of_unit(c, (uint32_t)t);
            for (uint32_t x = 1; x <= REC_FOR_ITER_SKIP && ti + x < n; x++) {
                mark[c->instr_unit[ti + x]] = 1;
            }
        }
    }
    handler_iter hi = handlers_of(code);
    uint32_t target;
    while (next_handler(&hi, &target)) {
        if (target < n_units) {
            mark[target] = 1;
        }
    }
    memset(c->instr_blk, 0xff, ((size_t)n + 1) * sizeof(int32_t)); /* -1: in no block */
    uint32_t nb = 0, past = 0; /* past: the end of the last site block */
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t k = site_instr[i];
        if (k < past) {
            continue; /* in the block of a site before it */
        }
        c->block_first[nb] = c->block_ctr[nb] = k;
        c->block_counted[nb] = 1;
        for (;;) {
            c->instr_blk[k] = (int32_t)nb;
            const uint8_t o = ops[k++];
            if (op->jrel[o] || op->leaves_block[o] || k >= n || mark[c->instr_unit[k]] ||
                op->no_event[ops[k]]) {
                break;
            }
        }
        past = k;
        nb++;
    }
    c->n_blocks = nb;
    rec_flow_unplanned(c);
    return 0;
}

/* -i mode, code with a site past its entry block, its site blocks made
 * (site_blocks): whether PY_START can count them all, as it does an entry
 * block.  It can where every frame that starts reaches each site block's
 * first site at most once, unless it leaves with an exception before (its
 * RAISE event, an exit, marks where) or is still on its way: then a block's
 * count is the starts less the exits before its first site (rec_flow_solve
 * subtracts them).  So, for each block's first site f, in the layout:
 * - no jump from before f lands past f, and none from f on lands at or
 *   before f (control crosses f only by reaching it, once: no loop through
 *   it);
 * - nothing before f leaves the frame without a RAISE event (a return, a
 *   yield, RERAISE...);
 * - no exception handler covers or starts at or before f (an exception
 *   caught there would be an exit the frame comes back from).
 * Most module bodies and many functions only branch and join before the
 * code that builds their functions and tuples: they need no INSTRUCTION
 * events at all.  The self-check compares the counts with direct ones. */
static int
start_counts_blocks(const rec_opinfo *op, PyObject *code, const rec_code *c, const uint8_t *ops,
                    const uint32_t *args, const uint32_t *jumps, uint32_t n_jumps)
{
    const PyCodeObject *co = (const PyCodeObject *)code;
    if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR | CO_ITERABLE_COROUTINE)) {
        return 0;
    }
    /* the cheap tests first: most code fails one of them */
    const uint32_t nb = c->n_blocks, last = c->block_first[nb - 1];
    const uint32_t last_unit = c->instr_unit[last];
    handler_iter hi = handlers_of(code);
    uint32_t target;
    while (next_handler(&hi, &target)) {
        if (hi.start < last_unit || target <= last_unit) {
            return 0;
        }
    }
    if (hi.bad) {
        return 0;
    }
    for (uint32_t j = 0; j < n_jumps; j++) {
        const uint32_t k = jumps[j];
        int64_t t = rec_jump_target_unit(c, op, ops, args, k);
        if (t < 0 || t >= (int64_t)c->n_units) {
            return 0;
        }
        /* where it lands, as code units of instruction starts */
        uint32_t lo = (uint32_t)t, hi_t = lo;
        if (ops[k] == op->for_iter) { /* its exit lands past END_FOR (and POP_TOP) */
            uint32_t ti = rec_code_instr_of_unit(c, lo) + REC_FOR_ITER_SKIP;
            hi_t = ti < c->n_instr ? c->instr_unit[ti] : c->n_units;
        }
        for (uint32_t b = 0; b < nb; b++) {
            const uint32_t f = c->block_first[b], uf = c->instr_unit[f];
            if (k < f ? hi_t > uf : lo <= uf) {
                return 0;
            }
        }
    }
    for (uint32_t k = 0; k < last; k++) {
        const uint8_t o = ops[k];
        if (op->yields[o] || (op->ends_block[o] && !op->jrel[o] && o != op->raise_varargs)) {
            return 0;
        }
    }
    return 1;
}

/* The plan start_counts_blocks allows: PY_START's counter (at the first
 * RESUME) counts every site block. */
static void
start_count_blocks(rec_code *c, uint32_t resume)
{
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        c->block_counted[b] = 1;
        c->block_ctr[b] = resume;
    }
    c->start_counted = 1;
}

/* The relative jumps among c's instructions, into jumps: their number. */
static uint32_t
list_jumps(const rec_opinfo *op, const rec_code *c, const uint8_t *ops, uint32_t *jumps)
{
    uint32_t nj = 0;
    for (uint32_t k = 0; k < c->n_instr; k++) {
        if (op->jrel[ops[k]]) {
            jumps[nj++] = k;
        }
    }
    return nj;
}

/* Self-check: site_blocks against find_blocks and plan_blocks' counters,
 * which c holds (-i mode, code with a site past its entry block).  0, or -1
 * if out of memory. */
static int
check_site_blocks(rec_state *st, PyObject *code, rec_code *c, const uint8_t *ops,
                  const uint32_t *args, const uint32_t *site_instr, uint32_t first)
{
    rec_code light = *c;
    uint32_t *jumps = rec_arena_alloc(&st->arena, ((size_t)c->n_instr + 1) * sizeof(uint32_t));
    if (jumps == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    uint32_t nj = list_jumps(&st->op, c, ops, jumps);
    if (site_blocks(&st->op, &st->arena, code, &light, ops, args, site_instr, jumps, nj) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    uint32_t rank = 0, bad = 0;
    int32_t last = -1;
    for (uint32_t k = 0; k < c->n_instr && !bad; k++) {
        int32_t b = c->instr_blk[k], want = -1;
        if (b >= 0 && c->block_counted[b] && k >= c->block_ctr[b]) {
            if (b != last) {
                bad |= light.block_ctr[rank] != c->block_ctr[b];
                last = b;
                rank++;
            }
            want = (int32_t)rank - 1;
        }
        bad |= light.instr_blk[k] != want;
    }
    if (bad || light.n_blocks != rank) {
        st->check_failures++;
        fprintf(stderr, "heavyops: check: %s: the site blocks differ from find_blocks'\n",
                rec_diag_name(((PyCodeObject *)code)->co_qualname));
        return 0;
    }
    /* PY_START counts them where it can, as without the self-check: the
     * direct counts check that too */
    if (start_counts_blocks(&st->op, code, &light, ops, args, jumps, nj)) {
        c->instr_blk = light.instr_blk;
        c->block_first = light.block_first;
        c->block_ctr = light.block_ctr;
        c->block_counted = light.block_counted;
        c->n_blocks = light.n_blocks;
        c->instr_block = NULL;
        rec_flow_unplanned(c);
        start_count_blocks(c, first);
    }
    return 0;
}

/* c's blocks and flow plan (find_blocks, rec_flow_plan); in -i mode, a
 * counter at each block with a site unless PY_START counts them all.
 * first: the first RESUME; lead and entry_end: entry_block_end's verdict,
 * which the self-check compares.  0, or -1 with an exception set. */
static int
plan_blocks(rec_state *st, PyObject *code, rec_code *c, const uint8_t *ops, const uint32_t *args,
            const uint8_t *fires, const uint32_t *site_instr, uint32_t first, uint32_t lead,
            uint32_t entry_end)
{
    const rec_opinfo *op = &st->op;
    rec_arena *ar = &st->arena;
    const uint32_t n = c->n_instr, ns = c->n_sites;
    uint8_t *external = find_blocks(op, ar, code, c, ops, args, fires, first);
    if (external == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (rec_flow_plan(c, ar, op, ops, args, fires, external, first, NULL,
                      st->mode == REC_MODE_ALL) < 0) {
        return -1;
    }
    if (st->mode == REC_MODE_SELECTED && st->check) {
        /* self-check: the short way to the entry block against the long */
        int fast = site_instr[ns - 1] < entry_end;
        uint32_t long_end = lead;
        while (long_end < n && c->instr_blk[long_end] == 0) {
            long_end++;
        }
        if (fast != c->start_counted || (fast && long_end != entry_end)) {
            st->check_failures++;
            fprintf(stderr,
                    "heavyops: check: %s: entry block ends at %u (start-counted %d), "
                    "blocks say %u (%d)\n",
                    rec_diag_name(((PyCodeObject *)code)->co_qualname), entry_end, fast, long_end,
                    c->start_counted);
        }
    }
    if (st->mode == REC_MODE_SELECTED && !c->start_counted) {
        /* A counter at the first tracked instruction of each block that
         * has one, and no flow program: the block's later tracked
         * instructions ran as often, less the exits (RAISE) between.
         * Never more events than a counter at each of them. */
        memset(c->block_counted, 0, c->n_blocks);
        for (uint32_t i = ns; i-- > 0;) {
            uint32_t b = (uint32_t)c->instr_blk[site_instr[i]];
            c->block_counted[b] = 1;
            c->block_ctr[b] = site_instr[i];
        }
    }
    return 0;
}

/* Self-check: the in-place decoder (co_code_adaptive) against CPython's
 * co_code, which c's tables hold.  0, or -1 if out of memory. */
static int
check_decode(rec_state *st, PyObject *code, const rec_code *c, const uint8_t *ops,
             const uint32_t *args)
{
    rec_arena *ar = &st->arena;
    const size_t n1 = (size_t)c->n_units + 1;
    rec_code fast = *c;
    uint8_t *fops = rec_arena_alloc(ar, n1);
    uint32_t *fargs = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    fast.instr_unit = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    if (!fops || !fargs || !fast.instr_unit) {
        PyErr_NoMemory();
        return -1;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    if (decode(&st->op, (const uint8_t *)co->co_code_adaptive, c->n_units, 1, &fast, fops, fargs) <
        0) {
        return 0; /* hidden opcodes: only CPython's copy tells */
    }
    if (fast.n_instr != c->n_instr || memcmp(fops, ops, c->n_instr) != 0 ||
        memcmp(fargs, args, c->n_instr * sizeof(uint32_t)) != 0 ||
        memcmp(fast.instr_unit, c->instr_unit, c->n_instr * 4) != 0) {
        st->check_failures++;
        fprintf(stderr, "heavyops: check: %s: co_code_adaptive decodes differently\n",
                rec_diag_name(co->co_qualname));
    }
    return 0;
}

/* Self-check (-i mode): scan_selected against the long way's tables (from
 * co_code), sites and entry block.  0, or -1 if out of memory. */
static int
check_scan(rec_state *st, PyObject *code, const rec_code *c, const uint8_t *ops,
           const uint32_t *args, const uint32_t *site_instr, uint32_t first, uint32_t lead,
           uint32_t entry_end)
{
    rec_arena *ar = &st->arena;
    const size_t n1 = (size_t)c->n_units + 1;
    rec_code fast = *c;
    uint8_t *fops = rec_arena_alloc(ar, n1);
    uint32_t *fargs = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    uint32_t *fsites = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    fast.instr_unit = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    sel_scan sc = {.jumps = rec_arena_alloc(ar, n1 * sizeof(uint32_t))};
    if (!fops || !fargs || !fsites || !fast.instr_unit || !sc.jumps) {
        PyErr_NoMemory();
        return -1;
    }
    if (scan_selected(&st->op, code, &fast, fops, fargs, fsites, &sc) < 0) {
        return 0; /* hidden opcodes: the long way alone */
    }
    const uint32_t n = c->n_instr;
    int same_args = 1;
    uint32_t nj = 0;
    for (uint32_t k = 0; k < n && fast.n_instr == n; k++) {
        same_args &= !st->op.jrel[ops[k]] || fargs[k] == args[k];
        if (st->op.jrel[ops[k]]) {
            same_args &= nj < sc.n_jumps && sc.jumps[nj++] == k;
        }
    }
    same_args &= nj == sc.n_jumps;
    if (fast.n_instr != n || memcmp(fops, ops, n) != 0 || !same_args ||
        memcmp(fast.instr_unit, c->instr_unit, (n + 1) * sizeof(uint32_t)) != 0 ||
        sc.first != first || sc.lead != lead || sc.n_sites != c->n_sites ||
        memcmp(fsites, site_instr, c->n_sites * sizeof(uint32_t)) != 0 ||
        sc.entry_end != entry_end) {
        st->check_failures++;
        fprintf(stderr,
                "heavyops: check: %s: the one-pass scan differs (entry block ends at %u, "
                "the long way says %u; sites %u, %u)\n",
                rec_diag_name(((PyCodeObject *)code)->co_qualname), sc.entry_end, entry_end,
                sc.n_sites, c->n_sites);
    }
    return 0;
}

/* Which instructions report events (fires) and the sites, the instructions
 * whose counts the file will hold (site_instr, c->instr_site): their number. */
static uint32_t
find_sites(const rec_state *st, rec_code *c, const uint8_t *ops, uint8_t *fires,
           uint32_t *site_instr, uint32_t first)
{
    const rec_opinfo *op = &st->op;
    const int tracing311 = !REC_HAVE_MONITORING;
    uint32_t ns = 0;
    for (uint32_t k = 0; k < c->n_instr; k++) {
        uint8_t o = ops[k];
        fires[k] = fires_event(op, o, k, first);
        c->instr_site[k] = -1;
        if (!fires[k] || (tracing311 && o == op->extended_arg)) {
            continue; /* 3.11: an EXTENDED_ARG's event stands for the instruction it prefixes */
        }
        if (st->mode == REC_MODE_SELECTED && !op->tracked[o]) {
            continue;
        }
        c->instr_site[k] = (int32_t)ns;
        site_instr[ns++] = k;
    }
    return ns;
}

/* Decodes code into c (arrays in st->arena) and declares its sites to the
 * writer. */
static int
analyse(rec_state *st, PyObject *code, rec_code *c)
{
    const rec_opinfo *op = &st->op;
    rec_arena *ar = &st->arena;
    PyCodeObject *co = (PyCodeObject *)code;
    PyObject *bytes = NULL, *fn_hold = NULL, *qn_hold = NULL;
    int ret = -1;
    uint32_t n_units = (uint32_t)Py_SIZE(co);
    size_t n1 = (size_t)n_units + 1;
    c->n_units = n_units;
    c->unit_ctr = rec_arena_alloc(ar, n1 * sizeof(int32_t));
    c->instr_unit = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    c->instr_site = rec_arena_alloc(ar, n1 * sizeof(int32_t));
    uint8_t *ops = c->instr_op = rec_arena_alloc(ar, n1);
    uint32_t *args = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    uint8_t *fires = rec_arena_alloc(ar, n1);
    uint32_t *site_instr = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    if (!c->unit_ctr || !c->instr_unit || !c->instr_site || !ops || !args || !fires ||
        !site_instr) {
        PyErr_NoMemory();
        goto done;
    }

    /* -i mode: the one-pass scan, if CPython's own instrumentation hides
     * nothing (another tool's LINE or INSTRUCTION events) */
    const int selected = st->mode == REC_MODE_SELECTED && REC_HAVE_MONITORING;
    sel_scan sc = {.jumps = selected ? rec_arena_alloc(ar, n1 * sizeof(uint32_t)) : NULL};
    if (selected && sc.jumps == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int scanned =
        selected && !st->check && scan_selected(op, code, c, ops, args, site_instr, &sc) == 0;
    int64_t first = scanned ? (int64_t)sc.first : -1;
    uint32_t ns = sc.n_sites;
    if (!scanned) {
        /* The instructions, read in place unless CPython's own
         * instrumentation hides some. */
        first = st->check
                    ? -1
                    : decode(op, (const uint8_t *)co->co_code_adaptive, n_units, 1, c, ops, args);
        if (first < 0) {
            first = decode_co_code(op, co, c, ops, args, &bytes);
            if (first < 0) {
                goto done;
            }
            if (st->check && check_decode(st, code, c, ops, args) < 0) {
                goto done;
            }
        }
        ns = find_sites(st, c, ops, fires, site_instr, (uint32_t)first);
    }
    const uint32_t n = c->n_instr;
    const uint32_t *units = c->instr_unit; /* entry_block_only replaces c's */
    c->row = c->n_ctr = n;
    c->ctr_units = n_units;
    c->n_sites = ns;
    c->derive = 0;
    c->counted = ns > 0;
    if (!c->counted) {
        ret = 0;
        goto done;
    }

    /* Counter placement.  3.11 with -i: at each site (LINE events switch
     * opcode events on where one can come, plan_line_mode); in the default
     * mode, blocks and the flow plan as below. */
    if (!REC_HAVE_MONITORING && (st->mode == REC_MODE_SELECTED || st->no_derive)) {
        memset(c->unit_ctr, 0xff, n1 * sizeof(int32_t)); /* -1: no counter */
        for (uint32_t k = 0; k < n; k++) {
            if (!fires[k]) {
                continue;
            }
            uint32_t real = k;
            while (real + 1 < n && ops[real] == op->extended_arg) {
                real++;
            }
            if (c->instr_site[real] >= 0) {
                c->unit_ctr[c->instr_unit[k]] = (int32_t)real;
            }
        }
    } else {
        /* Blocks and the flow plan, in -i mode too: there a code object
         * that PY_START alone counts needs no INSTRUCTION event either. */
        c->derive = 1;
        uint32_t lead = sc.lead, entry_end = sc.entry_end;
        if (!scanned) {
            lead = rec_next_firing(fires, n, (uint32_t)first);
            entry_end = selected ? entry_block_end(op, code, c, ops, args, fires, lead) : 0;
            if (selected && st->check &&
                check_scan(st, code, c, ops, args, site_instr, (uint32_t)first, lead, entry_end) <
                    0) {
                goto done;
            }
        }
        const int entry_only = site_instr[ns - 1] < entry_end && !st->check;
        if (entry_only) {
            /* Code PY_START counts alone keeps tables of its entry block
             * only: the exits read are all before its end, its counter (at
             * the first RESUME) is its only one, and every offset past that
             * is disabled (ctr_units).  Most code an import runs is such. */
            c->n_instr = entry_end;
            c->ctr_units = c->instr_unit[first] + 1;
        }
        memset(c->unit_ctr, 0xff, ((size_t)c->ctr_units + 1) * sizeof(int32_t)); /* no counter */
        if (scanned && !entry_only) {
            memset(c->instr_site, 0xff, ((size_t)c->n_instr + 1) * sizeof(int32_t));
            for (uint32_t i = 0; i < ns; i++) {
                c->instr_site[site_instr[i]] = (int32_t)i;
            }
        }
        if (entry_only) {
            if (entry_block_only(ar, c, site_instr, (uint32_t)first, lead) < 0) {
                PyErr_NoMemory();
                goto done;
            }
        } else if (selected && !st->check) {
            if (!scanned) { /* decoded the long way */
                sc.n_jumps = list_jumps(op, c, ops, sc.jumps);
            }
            if (site_blocks(op, ar, code, c, ops, args, site_instr, sc.jumps, sc.n_jumps) < 0) {
                PyErr_NoMemory();
                goto done;
            }
            if (start_counts_blocks(op, code, c, ops, args, sc.jumps, sc.n_jumps)) {
                start_count_blocks(c, (uint32_t)first);
                c->n_ctr = (uint32_t)first + 1; /* PY_START's counter, its only one */
            }
        } else {
            if (plan_blocks(st, code, c, ops, args, fires, site_instr, (uint32_t)first, lead,
                            entry_end) < 0) {
                goto done;
            }
            if (selected && !c->start_counted &&
                check_site_blocks(st, code, c, ops, args, site_instr, (uint32_t)first) < 0) {
                goto done;
            }
        }
#if !REC_HAVE_MONITORING
        /* 3.11 has no PY_START: the entry block is counted at its first
         * instruction.  (The call event comes between two eval-breaker
         * checks of the RESUME, so a flush that finds a frame there could not
         * tell whether it was counted.) */
        for (uint32_t b = 0; c->start_counted && b < c->n_blocks; b++) {
            if (c->block_counted[b] && c->block_ctr[b] == (uint32_t)first) {
                c->block_ctr[b] = c->block_first[b];
            }
        }
        c->start_counted = 0;
#endif
        rec_code_block_counters(c, 1);
    }
#if !REC_HAVE_MONITORING
    if (line_mode(st, op, ar, code, c, ops, args) < 0) { /* with the counters placed */
        goto done;
    }
#endif

    hops_site *sites = rec_arena_alloc(ar, ns * sizeof(hops_site));
    if (sites == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* on 3.11 a site is the instruction an EXTENDED_ARG chain prefixes: its own name */
    for (uint32_t i = 0; i < ns; i++) {
        sites[i].offset = units[site_instr[i]] * 2;
        sites[i].opname = op->name[ops[site_instr[i]]];
    }
    /* Positions: the file carries co_linetable and the reader decodes it
     * (hops_linetable_positions), a cost thousands of code objects run once
     * need not pay here.  The self-check writes co_positions()'s, and
     * compares the decoder with them. */
    PyObject *lt = co->co_linetable;
    const int raw = !st->check && PyBytes_Check(lt) && (uint64_t)PyBytes_GET_SIZE(lt) <= UINT32_MAX;
    if (!raw) {
        hops_site *fast = NULL;
        if (st->check && PyBytes_Check(lt) && (fast = rec_arena_alloc(ar, ns * sizeof(*fast)))) {
            memcpy(fast, sites, ns * sizeof(*fast));
            if (hops_linetable_positions((const uint8_t *)PyBytes_AS_STRING(lt),
                                         (size_t)PyBytes_GET_SIZE(lt), co->co_firstlineno, fast,
                                         ns) != HOPS_OK) {
                st->check_failures++;
                fprintf(stderr, "heavyops: check: %s: the line table does not decode\n",
                        rec_diag_name(co->co_qualname));
                fast = NULL;
            }
        }
        if (site_positions(code, sites, ns) < 0) {
            goto done;
        }
        for (uint32_t i = 0; fast && i < ns; i++) {
            if (fast[i].line != sites[i].line || fast[i].col != sites[i].col) {
                st->check_failures++;
                fprintf(stderr,
                        "heavyops: check: %s offset %u: linetable %d:%d, co_positions %d:%d\n",
                        rec_diag_name(co->co_qualname), sites[i].offset, fast[i].line, fast[i].col,
                        sites[i].line, sites[i].col);
            }
        }
    }
    const char *fn = rec_utf8(co->co_filename, &fn_hold);
    const char *qn = fn ? rec_utf8(co->co_qualname, &qn_hold) : NULL;
    if (fn == NULL || qn == NULL) {
        goto done;
    }
    hops_code hc = {
        .first_site = hops_writer_next_site(st->writer),
        .n_sites = ns,
        .firstlineno = co->co_firstlineno,
        .filename = fn,
        .qualname = qn,
        .sites = sites,
        .linetable = raw ? (const uint8_t *)PyBytes_AS_STRING(lt) : NULL,
        .linetable_len = raw ? (uint32_t)PyBytes_GET_SIZE(lt) : 0,
    };
    c->first_site = hc.first_site;
    int err = hops_writer_add_code(st->writer, &hc);
    if (err < 0) {
        if (st->write_err == 0) {
            st->write_err = err;
        }
        c->counted = 0;
    }
    ret = 0;
done:
    Py_XDECREF(bytes);
    Py_XDECREF(fn_hold);
    Py_XDECREF(qn_hold);
    return ret;
}

int
rec_code_plan_measured(rec_state *st, const rec_code *c, const int64_t *weight, rec_code *out)
{
    const rec_opinfo *op = &st->op;
    rec_arena *ar = &st->arena;
    PyObject *bytes = NULL;
    const size_t n1 = (size_t)c->n_units + 1;
    rec_code tmp = *c;
    tmp.instr_unit = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    uint8_t *ops = rec_arena_alloc(ar, n1);
    uint32_t *args = rec_arena_alloc(ar, n1 * sizeof(uint32_t));
    uint8_t *fires = rec_arena_alloc(ar, n1);
    int ret = -1;
    if (!tmp.instr_unit || !ops || !args || !fires) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t first = decode_co_code(op, (PyCodeObject *)c->code, &tmp, ops, args, &bytes);
    if (first < 0) {
        goto done;
    }
    if (tmp.n_instr != c->n_instr) {
        PyErr_SetString(PyExc_SystemError, "heavyops: code decodes differently");
        goto done;
    }
    fill_fires(op, &tmp, ops, first, fires);
    uint8_t *external = find_blocks(op, ar, c->code, &tmp, ops, args, fires, (uint32_t)first);
    if (external == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* the same blocks, or the measured counts mean nothing */
    if (tmp.n_blocks != c->n_blocks ||
        memcmp(tmp.block_first, c->block_first, c->n_blocks * sizeof(uint32_t)) != 0 ||
        memcmp(tmp.instr_blk, c->instr_blk, c->n_instr * sizeof(int32_t)) != 0) {
        PyErr_SetString(PyExc_SystemError, "heavyops: blocks differ from first sight");
        goto done;
    }
    if (rec_flow_plan(&tmp, ar, op, ops, args, fires, external, (uint32_t)first, weight, 1) < 0) {
        goto done;
    }
    *out = tmp;
    ret = 0;
done:
    Py_XDECREF(bytes);
    return ret;
}

rec_code *
rec_code_lookup(rec_state *st, PyObject *code)
{
    void *p = NULL;
    if (rec_get_extra(code, st->extra_index, &p) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return (rec_code *)p;
}

/* What every code object that is not recorded (no site, or a file left out)
 * keeps in its co_extra slot: read only (counted 0), never freed.  A third of
 * an import's code objects are such. */
static rec_code uncounted;

rec_code *
rec_code_get(rec_state *st, PyObject *code)
{
    rec_code *c = rec_code_lookup(st, code);
    if (c != NULL) {
        return c;
    }
    if (st->fault_codes_left >= 0 && st->fault_codes_left-- == 0) {
        st->fault_codes_left = 0; /* from now on, every first sight fails */
        PyErr_NoMemory();
        return NULL;
    }
    rec_code tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.st = st;
    tmp.code = code;
    tmp.slot = UINT32_MAX;
    int recorded = rec_file_recorded(st, ((PyCodeObject *)code)->co_filename, &st->last_file,
                                     &st->last_file_recorded);
    if (recorded && analyse(st, code, &tmp) < 0) {
        rec_arena_reset(&st->arena);
        return NULL;
    }
    if (!tmp.counted) {
        rec_arena_reset(&st->arena);
        return rec_set_extra(code, st->extra_index, &uncounted) < 0 ? NULL : &uncounted;
    }
    c = pack(&tmp);
    rec_arena_reset(&st->arena);
    if (c == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    st->mem_tables += rec_code_bytes(c);
    st->mem_tables_peak =
        st->mem_tables > st->mem_tables_peak ? st->mem_tables : st->mem_tables_peak;
    c->slot = take_slot(st);
    if (c->slot == UINT32_MAX) {
        code_free(c);
        PyErr_NoMemory();
        return NULL;
    }
    st->codes[c->slot] = c;
    if (rec_set_extra(code, st->extra_index, c) < 0) {
        st->codes[c->slot] = NULL;
        st->free_slots[st->n_free++] = c->slot;
        code_free(c);
        return NULL;
    }
    return c;
}

uint32_t
rec_code_instr_at(const rec_code *c, int offset)
{
    /* instr_unit[n_instr]: n_units, or where an entry block's tables end */
    if (offset < 0 || (uint32_t)(offset / 2) >= c->instr_unit[c->n_instr]) {
        return UINT32_MAX;
    }
    return rec_code_instr_of_unit(c, (uint32_t)offset / 2);
}

/* co_extra free function: the code object is being deallocated.  Counters
 * still hold its counts, so keep it until the next flush has written them. */
void
rec_code_free_extra(void *p)
{
    rec_code *c = p;
    if (c == NULL || c == &uncounted) {
        return;
    }
    rec_threads_forget_cached(c->st, c); /* its address may come back as another code object */
    c->dead = 1;
    c->code = NULL;
    c->next_dead = c->st->dead_codes;
    c->st->dead_codes = c;
    c->st->mem_dead += rec_code_bytes(c);
}

/* After a final flush: detach from every live code object and free all. */
void
rec_code_release_all(rec_state *st)
{
    for (uint32_t s = 0; s < st->n_slots; s++) {
        rec_code *c = st->codes[s];
        if (c == NULL) {
            continue;
        }
        if (!c->dead && c->code) {
            rec_set_extra(c->code, st->extra_index, NULL);
        }
        if (!c->dead) {
            code_free(c);
        }
        st->codes[s] = NULL;
    }
    while (st->dead_codes) {
        rec_code *c = st->dead_codes;
        st->dead_codes = c->next_dead;
        code_free(c);
    }
    st->mem_dead = 0;
    rec_arena_free(&st->arena);
}

void
rec_code_retire_dead(rec_state *st)
{
    while (st->dead_codes) {
        rec_code *c = st->dead_codes;
        st->dead_codes = c->next_dead;
        if (c->slot != UINT32_MAX && c->slot < st->n_slots && st->codes[c->slot] == c) {
            st->codes[c->slot] = NULL;
            st->free_slots[st->n_free++] = c->slot;
        }
        code_free(c);
    }
    st->mem_dead = 0;
}

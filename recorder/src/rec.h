/*
 * rec.h - the recorder's internal interface (private to recorder/src).
 *
 * Data flow inside the recorder, one file per stage:
 *   rec_monitor.c (3.12+ sys.monitoring) / rec_trace.c (3.11 C tracing)
 *       -> per-code analysis (rec_code.c: instructions, leaders, sites)
 *       -> per-thread counters (rec_threads.c)
 *       -> frames and symbols through the format library (rec_flush.c)
 *   rec_module.c ties them into the heavyops._recorder module.
 *
 * Locking: every counter update and every flush runs with the GIL held (we
 * support GIL builds only), so the hot path takes no lock.  The thread list is
 * also guarded by a pthread mutex because a thread's exit is noticed by a
 * pthread key destructor that runs without the GIL.
 */
#ifndef HEAVYOPS_REC_H
#define HEAVYOPS_REC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>

#include <hops/hops.h>

#if PY_VERSION_HEX >= 0x030C0000
#    define REC_HAVE_MONITORING 1
#else
#    define REC_HAVE_MONITORING 0
#endif

/* Counting modes. */
typedef enum rec_mode {
    REC_MODE_ALL = 0,     /* every instruction, exact total */
    REC_MODE_SELECTED = 1 /* only opcodes in rec_state.tracked */
} rec_mode;

/* Opcode facts of the running interpreter, read from its opcode/dis modules
 * at start so that the C code needs no per-version tables. */
typedef struct rec_opinfo {
    const char *name[256];     /* Borrowed from the opname list we keep alive */
    uint8_t caches[256];       /* inline cache code units after the opcode */
    uint8_t jrel[256];         /* relative jump */
    uint8_t backward[256];     /* relative jump backwards */
    uint8_t ends_block[256];   /* no fall-through: return, raise, unconditional jump */
    uint8_t yields[256];       /* suspends the frame; execution resumes after it */
    uint8_t no_event[256];     /* never fires an INSTRUCTION/opcode event */
    uint8_t leaves_block[256]; /* the next instruction starts a block: jrel, ends_block, yields,
                                  END_FOR */
    uint8_t tracked[256];      /* REC_MODE_SELECTED: counted opcodes */
    /* co_code_adaptive -> co_code without a copy: the base opcode of every
     * specialized or INSTRUMENTED_ form; deopt_ok 0 where only CPython knows
     * (INSTRUMENTED_LINE, INSTRUMENTED_INSTRUCTION, ENTER_EXECUTOR) */
    uint8_t deopt[256];
    uint8_t deopt_ok[256];
    uint8_t instrumented[256]; /* an INSTRUMENTED_ opcode */
    int extended_arg;
    int for_iter;
    int send;
    int cleanup_throw;
    int end_async_for;
    int resume;
    int instrumented_instruction; /* -1 on 3.11 */
    int instrumented_resume;      /* -1 on 3.11 */
    int end_for;
    int pop_top;
    int raise_varargs;
    int jump_backward_no_interrupt;
    /* 3.12's superinstructions (LOAD_FAST__LOAD_FAST...): the pair of base
     * opcodes each one stands for (rec_backend_restore_supers) */
    int n_supers;
    struct {
        uint8_t first, second, super;
    } supers[8];
    uint8_t super_first[256]; /* opcode is the first half of some pair */
    uint8_t is_super[256];    /* opcode is a superinstruction */
    /* -i mode's first-sight scan (rec_code.c): per opcode as it stands in
     * co_code_adaptive, its base opcode, inline caches and REC_SCAN_ flags */
    struct {
        uint8_t base, caches, flags, pad; /* pad: 4 bytes an entry, indexed by a shift */
    } scan[256];
} rec_opinfo;

/* Per code object state, kept in a co_extra slot.  Its lifetime: created at
 * first sight, marked dead by the co_extra free function (the code object is
 * being deallocated and its address may be reused), freed by the next flush
 * once every thread's counters for it have been written. */
typedef struct rec_state rec_state;

/* One step of a code's derivation program (rec_flow.c): solve one flow
 * equation  sum(coef * var) = R(r_block) or 0  for its one unknown var. */
typedef struct rec_step {
    uint32_t target;     /* var: block b < n_blocks, else edge n_blocks + e */
    uint32_t first_term; /* into rec_code.terms: var * 2 + (coef < 0) */
    uint32_t n_terms;
    int32_t r_block; /* constant term R(block), -1 for none */
    int8_t target_coef;
} rec_step;

enum { UNIT_OPS_HERE = 1, UNIT_OPS_AFTER = 2 };

typedef struct rec_code {
    rec_state *st;       /* Borrowed */
    PyObject *code;      /* Borrowed: valid while !dead */
    uint32_t slot;       /* index into each thread's table */
    uint32_t first_site; /* global site id of this code's site 0 */
    uint32_t n_units;    /* code units in co_code */
    uint32_t ctr_units;  /* unit_ctr's entries: n_units, or in code PY_START counts alone
                            up to its first RESUME (every later offset is disabled) */
    uint32_t n_instr;    /* instructions in the tables: all, or in code PY_START counts
                            alone those up to its entry block's end */
    uint32_t row;        /* instructions whose exits are kept: n_instr, or less in -i mode */
    uint32_t n_ctr;      /* counter row length: row, or just past PY_START's counter in -i
                            mode for code it counts alone */
    uint32_t n_sites;
    int dead;
    int counted; /* 0: code is not recorded (filtered out) */
    int derive;  /* counts derive from block leaders and exits */
    /* derive, and the entry block's count is all it takes, which PY_START
     * gives (at the first RESUME, block_ctr of the entry block): no
     * INSTRUCTION events at all */
    int start_counted;
    /* Arrays (in the rec_code's own allocation): */
    int32_t *unit_ctr;     /* code unit -> counter index, -1: disable event */
    uint32_t *instr_unit;  /* instruction index -> first code unit; [n_instr]: past the last */
    uint8_t *instr_op;     /* instruction index -> opcode */
    uint32_t *instr_block; /* instruction index -> leader instruction index */
    int32_t *instr_site;   /* instruction index -> site index, -1 if not a site */
    /* 3.11 line mode (rec_code.c, plan_line_mode): code unit -> whether a
     * counter can come before the next LINE event, from a LINE event there
     * (UNIT_OPS_HERE) and after its instruction ran (UNIT_OPS_AFTER); NULL:
     * opcode events all through every frame of the code */
    uint8_t *unit_ops;
    /* derive == 1: blocks and the flow program that fills uncounted ones */
    uint32_t n_blocks;
    uint32_t *block_first;  /* block -> leader instruction */
    uint8_t *block_counted; /* block has an INSTRUCTION counter */
    uint32_t *block_ctr;    /* block -> the instruction that counts it, if counted */
    int32_t *instr_blk;     /* instruction -> block, -1 if it fires no events */
    uint32_t n_vals;        /* blocks + edges */
    uint32_t n_steps;
    uint32_t n_terms;
    rec_step *steps;
    int32_t *terms;
    /* rec_replan.c: block counts seen so far (Owned, n_blocks), NULL once
     * re-planned; the re-plan's steps and terms (Owned, one allocation) */
    int64_t *seen;
    void *plan_owned;
    int replanned;                    /* re-planned, or tried to */
    int super_scans;                  /* 3.12: superinstructions restored since armed */
    int windows;                      /* flushes that collected it, up to 2 */
    int64_t stat_events, stat_instrs; /* HEAVYOPS_STATS=2: per code object */
    struct rec_code *next_dead;
    /* the arrays above follow the struct in its one allocation */
} rec_code;

/* s as the file stores strings, UTF-8: what is not (a path's undecodable
 * bytes, kept by Python as surrogate escapes, or any lone surrogate) is written
 * as \xNN or \uNNNN, as the launcher writes argv.  *hold gets a new reference
 * to keep the result alive (NULL if s itself serves); NULL with an exception
 * set if even that fails. */
const char *rec_utf8(PyObject *s, PyObject **hold);
/* A name for a diagnostic: s's UTF-8, or "?" (no exception left set). */
static inline const char *
rec_diag_name(PyObject *s)
{
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    if (u == NULL) {
        PyErr_Clear();
    }
    return u ? u : "?";
}

/* Scratch memory for first sight, reused from one code object to the next
 * (rec_code.c); what does not fit comes from the heap until the reset. */
typedef struct rec_arena {
    char *buf; /* Owned */
    size_t cap, used;
    size_t spilled; /* bytes served from the heap since the last reset */
    void *spill;    /* Owned list of those blocks */
} rec_arena;

/* One entry of a thread's code cache: what rec_monitor.c's hot path needs to
 * count an event of the code object, without a co_extra lookup. */
typedef struct rec_cache_entry {
    PyObject *code;          /* Borrowed, compared only */
    const int32_t *unit_ctr; /* Borrowed: the code's rec_code.unit_ctr */
    int64_t *a;              /* Borrowed: its counters in this thread */
    uint64_t n_units;        /* unit_ctr's entries (rec_code.ctr_units) */
} rec_cache_entry;

/* Direct-mapped by code object address; a power of two. */
#define REC_CACHE_SIZE 128

static inline uint32_t
rec_cache_index(const PyObject *code)
{
    uintptr_t p = (uintptr_t)code;
    return (uint32_t)((p >> 4) ^ (p >> 12)) & (REC_CACHE_SIZE - 1);
}

/* rec_threads.c's slabs of small counter rows: REC_SMALL_ROW int64 each */
#define REC_SMALL_ROW 4
#define REC_SLAB_ROWS 256
typedef struct rec_slab rec_slab;

/* Per thread counters.  counters[slot] is an array of REC_COUNTERS(st, c)
 * int64: [0, n_ctr) executions counted at an instruction (block leaders, or
 * every counted instruction when !derive), and in check mode [n_ctr, n_ctr +
 * row) every instruction's own events.  exits[slot], row int64 (row: n_instr,
 * or in -i mode the end of the entry block that PY_START counts: nothing past
 * it is read), the early block exits at each instruction, is allocated at the
 * code's first exit in the thread: most code that runs once has none, and a
 * code object PY_START counts alone then costs its thread one counter. */
typedef struct rec_thread {
    uint64_t tid;
    uint64_t native_id;
    rec_state *st; /* Borrowed; NULL once the recorder stopped */
    int dead;      /* OS thread has exited (set under rec_threads_lock) */
    uint32_t cap;
    int64_t **counters;  /* Owned; each Owned, or a row of slabs (small[slot]) */
    int64_t **exits;     /* Owned, each Owned or NULL, cap entries */
    uint8_t *small;      /* Owned, cap entries: counters[slot] is a slab's row */
    rec_slab *slabs;     /* Owned list; the first is being filled */
    uint32_t slab_used;  /* rows of the first slab handed out */
    int64_t *small_free; /* freed small rows, linked through their first word */
    /* the slots whose counters changed since the last flush, which collects
     * only those: dirty[slot] says whether slot is in dirty_slots */
    uint8_t *dirty;        /* Owned, cap entries */
    uint32_t *dirty_slots; /* Owned, cap entries */
    uint32_t n_dirty;
    char *name;         /* Owned: threading name once known, else NULL */
    char *written_name; /* Owned: name in the last THRD chunk, NULL if none */
    /* the last code object counted in this thread (rec_monitor.c's fast path) */
    PyObject *last_code;    /* Borrowed, compared only */
    const rec_code *last_c; /* Borrowed */
    int64_t *last_a;        /* Borrowed: its counters in this thread */
    int paused;             /* not counting: the main thread during interpreter shutdown */
    struct rec_thread *next;
    /* rec_monitor.c's cache of recently counted code objects: filled only
     * while counting (never in check mode or while paused), emptied at every
     * flush and when a code object dies */
    rec_cache_entry cache[REC_CACHE_SIZE];
    uint32_t cache_last; /* index of the entry that counted last: tried first */
} rec_thread;

struct rec_state {
    rec_mode mode;
    rec_opinfo op;
    int active;
    int tool_id;            /* sys.monitoring tool id, -1 on 3.11 */
    Py_ssize_t extra_index; /* co_extra slot */
    char **file_globs;      /* Owned, n_file_globs entries */
    size_t n_file_globs;
    char *exclude_prefix; /* Owned: files never recorded (heavyops itself) */
    /* the last co_filename asked about and the answer: a module's code
     * objects come one after another (rec_code_get) */
    PyObject *last_file; /* Owned, or NULL */
    int last_file_recorded;

    /* codes */
    rec_code **codes; /* Owned table indexed by slot; NULL: free slot */
    uint32_t n_slots;
    uint32_t cap_slots;
    uint32_t *free_slots; /* Owned stack of reusable slots */
    uint32_t n_free;
    rec_code *dead_codes; /* retired, freed at next flush */
    size_t mem_dead;      /* the tables of dead_codes, in bytes */

    /* threads, guarded by rec_threads_lock */
    rec_thread *threads; /* Owned list */

    /* output */
    hops_writer *writer; /* Owned */
    int write_err;       /* first writer error, 0 if none */
    uint64_t lost_events;
    /* counts that came out negative, left out: CPython dropped events of
     * ours, as it does when another tool instruments the same code */
    uint64_t negative_counts;
    int nomem;
    int check;             /* HEAVYOPS_CHECK: also count every instruction and compare */
    long fault_codes_left; /* HEAVYOPS_FAULT_NOMEM_AFTER (tests); -1 = off */
    int fault_signal;      /* HEAVYOPS_FAULT_SIGNAL_IN_STOP (tests); 0 = off */
    uint64_t check_failures;
    int64_t *vals, *rblk; /* Owned scratch for rec_flow_solve */
    size_t vals_cap, rblk_cap;
    rec_arena arena;        /* first-sight scratch, freed by rec_code_release_all */
    long long replan_after; /* rec_replan.c: events before a re-plan, 0: never */
    int replan_always;      /* tests: adopt every re-plan that differs */
    int stats;              /* HEAVYOPS_STATS: print counter statistics at stop */
    uint64_t stat_replans, stat_adopted;
    int64_t stat_events_saved;          /* in the windows the re-plans looked at */
    int64_t stat_events, stat_instrs;   /* counter events and instructions written */
    int64_t stat_start_events;          /* those of stat_events that PY_START counted */
    uint64_t stat_line_mode;            /* 3.11: code objects set up in line mode */
    uint64_t stat_prearmed;             /* 3.12+: code objects pre-armed (rec_monitor.c) */
    uint64_t stat_quiet;                /* 3.12+: those of files not recorded, left quiet */
    size_t mem_tables, mem_tables_peak; /* bytes of code objects' tables, now and at most */
    long flush_ms;                      /* flush interval (HEAVYOPS_FLUSH_MS for tests) */
    double time_scale;                  /* the flusher's waits times this (HEAVYOPS_TIME_SCALE) */
    /* HEAVYOPS_STATS: the threads' counters at their most, as each flush finds them */
    size_t mem_counters_peak;
    uint32_t mem_counters_peak_threads;

    /* periodic flusher */
    pthread_t flusher;
    int flusher_running;
    volatile long flusher_tid; /* kernel tid, 0 until the thread runs (Linux) */
    pthread_mutex_t flush_lock;
    pthread_cond_t flush_cond;
    int flusher_stop;
    int flush_soon;      /* a thread exited: flush its last counts soon */
    int flush_sync_init; /* flush_lock and flush_cond exist */
    int replaced_fd;     /* Owned: the file --force replaced, which the flusher closes, or -1 */
    /* The writer's full buffers, which the flusher writes (rec_flush.c):
     * queued under flush_lock, written in order under write_lock. */
    struct rec_out *out_head, *out_tail; /* Owned */
    pthread_mutex_t write_lock;
    int out_err;          /* the first error of those writes (set holding both locks) */
    uint64_t stat_out[2]; /* HEAVYOPS_STATS: buffers queued for the flusher, written at once */

    /* scratch for building frames */
    hops_count *scratch; /* Owned */
    size_t scratch_cap;

    PyObject *opname_list;                          /* Owned: keeps rec_opinfo.name alive */
    PyObject *set_local_events;                     /* Owned: sys.monitoring.set_local_events */
    PyObject *disable;                              /* Owned: sys.monitoring.DISABLE */
    PyObject *cb_instruction, *cb_start, *cb_raise; /* Owned rec_cb objects */
    PyObject *trace_obj;                            /* Owned: 3.11 tracer's object (a rec_cb) */
    PyObject *thread_hook;  /* Owned: 3.11 threading.settrace hook (a rec_cb) */
    int thread_hook_due;    /* 3.11: threading not imported at start: hook at Thread.start */
    long ev_instruction;    /* sys.monitoring.events.INSTRUCTION */
    int frame_mirror_ok;    /* 3.11: PyFrameObject flag layout verified */
    int no_line_mode;       /* 3.11: HEAVYOPS_NO_LINE_MODE, opcode events all through */
    int no_derive;          /* 3.11: HEAVYOPS_NO_DERIVE, a counter at every instruction */
    int other_tool_warning; /* another tool already used INSTRUCTION events */
    int interference;       /* another tracer was seen while recording */
    /* 3.12+: CPython's global instrumentation version once our events were
     * set (0: not known yet).  Any tool that sets global events later, the
     * legacy sys.settrace/setprofile tools included, moves it on, and every
     * code object that runs afterwards carries the new one. */
    uint64_t mon_version;
    /* 3.12+: offsets without a counter are disabled as their INSTRUCTION
     * events are set, not at their first event (rec_monitor.c) */
    int disable_ahead;
    /* 3.12+: where our global events alone touch a code object, its
     * INSTRUCTION events go straight to its counters (rec_monitor.c) */
    int direct;
    /* 3.12+: code created while recording is instrumented for our global
     * events as it is made (rec_monitor.c, prearm) */
    int prearm;
    int code_watcher;         /* its code watcher id, -1 if none */
    PyObject *prearm_file;    /* Owned: the last co_filename it asked about, or NULL */
    int prearm_file_recorded; /* and the answer */
};

/* The file name of the recorder's own probe code (rec_monitor.c), which is
 * never recorded. */
#define REC_PROBE_FILE "<heavyops probe>"

/* rec_code.c */
int rec_opinfo_init(rec_opinfo *op, PyObject **opname_list_out);
/* Fills op->scan once op->tracked is set. */
void rec_opinfo_scan_init(rec_opinfo *op);
/* Returns the state for code, creating it at first sight; NULL with an
 * exception set on error.  The returned state has counted == 0 when the code
 * is not to be recorded. */
rec_code *rec_code_get(rec_state *st, PyObject *code);
/* Whether code of file (a co_filename) is recorded.  *last (Owned) and
 * *last_answer remember the last file asked about, by identity: a module's
 * code objects share theirs. */
int rec_file_recorded(const rec_state *st, PyObject *file, PyObject **last, int *last_answer);
rec_code *rec_code_lookup(rec_state *st, PyObject *code);
/* A new counter plan for c (derive, code alive), placed by the block counts
 * it measured (weight, n_blocks entries) instead of loop depth: fills *out
 * with c's fields but block_counted, block_ctr, steps and terms in st->arena
 * (the caller resets it).  0, or -1 with an exception set. */
int rec_code_plan_measured(rec_state *st, const rec_code *c, const int64_t *weight, rec_code *out);
/* Points unit_ctr at the counter of each block that has one (on), or takes
 * those counters away (!on). */
void rec_code_block_counters(rec_code *c, int on);
void rec_code_free_extra(void *p);
/* The bytes c's tables take: the one allocation first sight packs them in. */
size_t rec_code_bytes(const rec_code *c);
void rec_code_release_all(rec_state *st);
/* Frees codes retired since the last flush (call right after a flush). */
void rec_code_retire_dead(rec_state *st);
/* The instruction at a byte offset (an inline cache belongs to the
 * instruction before it); UINT32_MAX if out of range. */
uint32_t rec_code_instr_at(const rec_code *c, int offset);
/* The counter at a byte offset, -1 if none. */
static inline int32_t
rec_code_counter_at(const rec_code *c, long offset)
{
    return offset >= 0 && (unsigned long)offset / 2 < c->ctr_units ? c->unit_ctr[offset / 2] : -1;
}

/* The code unit relative jump k (op->jrel[ops[k]]) goes to; may lie outside
 * the code (the callers check). */
static inline int64_t
rec_jump_target_unit(const rec_code *c, const rec_opinfo *op, const uint8_t *ops,
                     const uint32_t *args, uint32_t k)
{
    uint8_t o = ops[k];
    int64_t after = (int64_t)c->instr_unit[k] + 1 + op->caches[o];
    return op->backward[o] ? after - (int64_t)args[k] : after + (int64_t)args[k];
}

/* The instruction code unit u (< instr_unit[n_instr]) belongs to: a binary search, since
 * only first sight, RAISE events and flushes ask. */
static inline uint32_t
rec_code_instr_of_unit(const rec_code *c, uint32_t u)
{
    uint32_t lo = 0, hi = c->n_instr; /* instr_unit[lo] <= u < instr_unit[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->instr_unit[mid] <= u) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}
/* Counter events code c took in a thread's counters a since its last flush. */
static inline int64_t
rec_code_window_events(const rec_code *c, const int64_t *a)
{
    if (c->start_counted) { /* PY_START's counter, however many blocks it counts */
        return a[c->block_ctr[0]];
    }
    int64_t ev = 0;
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        ev += c->block_counted[b] ? a[c->block_ctr[b]] : 0;
    }
    return ev;
}
/* -i mode: whether an exit at instruction k is ever read (rec_flush.c): in a
 * counted block, or between PY_START's counter and the last block it counts
 * (no instruction before the first fires). */
static inline int
rec_code_exit_read(const rec_code *c, uint32_t k)
{
    int32_t b = c->instr_blk[k];
    return b >= 0 ? c->block_counted[b] : c->start_counted && k < c->block_first[c->n_blocks - 1];
}
/* The first instruction at or after k that fires events; n if none does. */
static inline uint32_t
rec_next_firing(const uint8_t *fires, uint32_t n, uint32_t k)
{
    while (k < n && !fires[k]) {
        k++;
    }
    return k;
}

/* 16-byte aligned scratch until the next rec_arena_reset; NULL if no memory. */
void *rec_arena_alloc(rec_arena *ar, size_t n);
void *rec_arena_calloc(rec_arena *ar, size_t n);
void rec_arena_reset(rec_arena *ar);
void rec_arena_free(rec_arena *ar);

/* rec_flow.c */
/* Fills c->block_counted and block_ctr (allocated by the caller), steps and
 * terms (these two in ar), and start_counted.  resume: the first RESUME.
 * weight: NULL at first sight (blocks are picked by loop depth), else the
 * block counts measured so far (a re-plan, which never sets start_counted).
 * equations 0 (-i mode): no steps; PY_START counts c (start_counted) if its
 * entry block, entered only at a frame's start, holds every site (instr_site);
 * if not, block_counted and block_ctr are left to the caller. */
int rec_flow_plan(rec_code *c, rec_arena *ar, const rec_opinfo *op, const uint8_t *ops,
                  const uint32_t *args, const uint8_t *fires, const uint8_t *external,
                  uint32_t resume, const int64_t *weight, int equations);
/* exits: NULL if the window had none */
void rec_flow_solve(const rec_code *c, const int64_t *a, const int64_t *exits, int64_t *vals,
                    int64_t *r);
/* The plan of code whose sites all lie in its entry block, which only a
 * frame's start enters: PY_START at the first RESUME counts it, nothing else
 * (block_counted and block_ctr allocated, n_blocks set). */
void rec_flow_start_only(rec_code *c, uint32_t entry, uint32_t resume);
/* -i mode's plan of code with a site past its entry block: none (no steps,
 * not start_counted); block_counted and block_ctr are the caller's. */
void rec_flow_unplanned(rec_code *c);

/* 3.12's RESUME reports PY_START before it looks at the eval breaker, 3.13's
 * after: an exception there (from a signal handler, say) leaves a frame that
 * PY_START counted without entering its first block only on 3.12. */
#if PY_VERSION_HEX < 0x030D0000
#    define REC_START_BEFORE_BREAKER 1
#else
#    define REC_START_BEFORE_BREAKER 0
#endif

/* Where a loop that FOR_ITER ends goes on, past its jump target t: t + 1
 * after 3.12's END_FOR (t itself is reached only when an inlined generator
 * returns, and END_FOR reports no event), t + 1 or t + 2 in 3.13 (END_FOR,
 * POP_TOP: a generator's return runs both, the other exits skip both).  Each
 * is an edge; one too many would make the flow need a counter for nothing. */
#if PY_VERSION_HEX < 0x030C0000
#    define REC_FOR_ITER_SKIP 0 /* 3.11: the jump target is where the loop goes on */
#elif PY_VERSION_HEX < 0x030D0000
#    define REC_FOR_ITER_SKIP 1
#else
#    define REC_FOR_ITER_SKIP 2
#endif

/* Counters per instruction per thread: executions, exits, and in check mode
 * direct counts of every instruction. */
#define REC_COUNTERS(st, c) ((size_t)(c)->n_ctr + ((st)->check ? (size_t)(c)->row : 0))

/* rec_replan.c (3.12+): counters moved to the coldest blocks measured */
void rec_replan_init(rec_state *st);
/* Whether the flush is to pass c's block counts to rec_replan_observe. */
int rec_replan_wanted(const rec_state *st, const rec_code *c);
void rec_replan_observe(rec_state *st, rec_code *c, const int64_t *vals);
/* Whether some code object has fired enough events for its re-plan, or to
 * have its superinstructions back (GIL held): the early flushes, there for
 * these, are skipped until then. */
int rec_replan_due(rec_state *st);
/* Right after a flush (all counters collected), GIL held. */
void rec_replan_run(rec_state *st);

/* rec_threads.c */
/* This OS thread's counters, possibly of a stopped recorder: check t->st. */
extern _Thread_local rec_thread *rec_tls_thread
#if defined(__GNUC__)
    __attribute__((tls_model("initial-exec")))
#endif
    ;
static inline rec_thread *
rec_thread_cached(void)
{
    return rec_tls_thread;
}
rec_thread *rec_thread_current(rec_state *st);
/* Forgets every thread's last-code cache (GIL held), or only c's if c != NULL. */
void rec_threads_forget_cached(rec_state *st, const rec_code *c);
/* c's counters in thread t, which the next flush is to collect; NULL if no
 * memory.  Every change to counters goes through here or
 * rec_thread_mark_dirty, except rec_monitor.c's and rec_trace.c's caches,
 * which flushes empty. */
int64_t *rec_thread_counters(rec_state *st, rec_thread *t, rec_code *c);
/* c's exits in thread t (rec_thread_counters' too, made if need be); NULL if
 * no memory. */
int64_t *rec_thread_exits(rec_state *st, rec_thread *t, rec_code *c);
/* The current thread's frame of derived code c left its block at instruction
 * k (< n_instr) by exception exc (an instance or a type): RAISE on 3.12+, an
 * exception event on 3.11.  Counts the exit unless it is none or is never
 * read. */
void rec_thread_note_exit(rec_state *st, rec_code *c, uint32_t k, PyObject *exc);
void rec_thread_mark_dirty(rec_thread *t, uint32_t slot);
/* Frees (or returns to the thread's slabs) the counters and exits of slot. */
void rec_thread_free_rows(rec_thread *t, uint32_t slot);
void rec_threads_init_key(void);
void rec_threads_free_all(rec_state *st);
/* Frees a thread that has ended and is off every list. */
void rec_thread_free(rec_thread *t);
/* The bytes thread t's counters take now: its slot tables, rows and slabs
 * (HEAVYOPS_STATS; GIL and rec_threads_lock held). */
size_t rec_thread_bytes(const rec_state *st, const rec_thread *t);
/* rec_thread_bytes summed over st's threads, live and ended but not yet
 * flushed; *threads gets their number (same locks). */
size_t rec_threads_bytes(const rec_state *st, uint32_t *threads);
/* Raises st->mem_counters_peak to rec_threads_bytes if more (same locks). */
void rec_threads_note_peak(rec_state *st);
/* Learns t's threading.Thread name if it is known by now (GIL held). */
void rec_thread_lookup_name(rec_thread *t);
/* *slot (t->name, t->written_name) = a heap copy of s, unless it holds s
 * already; out of memory, the old one is kept. */
void rec_thread_keep_name(char **slot, const char *s);
/* threading's module __dict__ as sys.modules holds it, found without a call
 * that could run Python code (PyImport_GetModule can); NULL if there is none.
 * Borrowed. */
PyObject *rec_threading_dict(void);

/* rec_flush.c: write every thread's counters since the last flush.  GIL held. */
int rec_flush(rec_state *st);
int rec_flusher_start(rec_state *st);
void rec_flusher_stop(rec_state *st);
/* rec_flusher_stop, then wait (microseconds, 500 ms at most) until the kernel has let go
 * of the thread: a fork right after pthread_join may still count it, and
 * CPython 3.12+ then warns that the process is multi-threaded. */
void rec_flusher_stop_for_fork(rec_state *st);

/* rec_signal.c: wrap the SIGTERM handler the launcher has just installed
 * (CPython's C handler) so that a SIGTERM also arms a timer that kills the
 * process a few seconds later if the Python handler cannot run.  Once per
 * process; returns 0 or -1 (errno set). */
int rec_term_arm(void);
/* In a forked child, once CPython's after-fork work is done: raises SIGTERM
 * again if one arrived before it (CPython dropped it).  0, or -1. */
int rec_term_after_fork(void);
/* Asks the flusher to flush soon; callable without the GIL. */
void rec_flusher_request(rec_state *st);

/* rec_module.c: a C callable for the interpreter to call back: the cheapest
 * callable CPython has (vectorcall, no Python frame). */
typedef struct rec_cb {
    PyObject_HEAD vectorcallfunc vectorcall;
    rec_state *st; /* Borrowed; NULL once the recorder stopped */
} rec_cb;
PyObject *rec_cb_new(rec_state *st, vectorcallfunc fn);

/* rec_monitor.c / rec_trace.c */
int rec_backend_init(void); /* at module load, before any Python wrapper exists */
int rec_backend_start(rec_state *st);
/* final: the process is ending, nothing is to run recorded again (see
 * rec_monitor.c) */
int rec_backend_stop(rec_state *st, int final);
/* 3.12+: c's INSTRUCTION events off and on, so that every offset fires (and
 * finds its counter or disables itself) once more. */
int rec_backend_rearm(rec_state *st, rec_code *c);
/* Sets st->interference if another trace/profile function or monitoring tool
 * is active: CPython then drops events of one of the tools.  GIL held. */
void rec_backend_check_interference(rec_state *st);
/* 3.12: gives c's code back the superinstructions its INSTRUCTION events
 * took, where both halves are plain again (see rec_monitor.c).  GIL held. */
void rec_backend_restore_supers(rec_state *st, rec_code *c);
/* Whether c may have superinstructions to get back. */
int rec_backend_supers_pending(const rec_state *st, const rec_code *c);

/* Guards every rec_state.threads list and rec_thread.dead/st: a thread's exit
 * is seen by a pthread key destructor, without the GIL, possibly after the
 * recorder that counted it has stopped. */
extern pthread_mutex_t rec_threads_lock;

#endif /* HEAVYOPS_REC_H */

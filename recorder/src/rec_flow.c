/*
 * rec_flow.c - where to put block counters, and how to derive the rest.
 *
 * A block's count equals the flow on its incoming edges (unless it is also
 * entered from outside: function entry, resumption after a yield, exception
 * handler) and equals the flow on its outgoing edges plus the exceptions that
 * left it early (RAISE events, counted anyway).  Knuth's observation: with
 * these equations most counts follow from a few measured ones.  We can only
 * measure blocks (an INSTRUCTION event at a leader), so we pick blocks
 * greedily, coldest first (by loop depth), propagate every equation that has
 * a single unknown left, and repeat until every block count is determined.
 * The propagation order is recorded as a small program (rec_step) that
 * rec_flush.c runs over each window's counts.
 *
 * Soundness needs every way in and out of a block to be either an edge or an
 * observed exit.  Blocks whose exits can be silent (RERAISE, CLEANUP_THROW,
 * returns, yields...) simply contribute no out-equation.
 */
#include "rec.h"

#include <stdlib.h>
#include <string.h>

typedef struct flow_eq {
    uint32_t first_term, n_terms; /* in terms[] */
    int32_t r_block;              /* constant R(block), -1 for 0 */
    uint32_t unknown;             /* unknown terms left */
    int used;
} flow_eq;

/* Edges (capacity cap_e: at most 4 per block, a jump, FOR_ITER's two exits and
 * a fall-through) and equations over block and edge variables. */
typedef struct flow {
    uint32_t nb, ne;
    uint32_t *esrc, *edst;
    uint32_t cap_e;
    flow_eq *eqs;
    uint32_t n_eqs;
    int32_t *terms; /* var * 2 + (coef < 0) */
    uint32_t n_terms;
} flow;

static int
add_edge(flow *f, uint32_t src, uint32_t dst)
{
    /* a block's edges are added together: dedupe among them only */
    for (uint32_t e = f->ne; e > 0 && f->esrc[e - 1] == src; e--) {
        if (f->edst[e - 1] == dst) {
            return 0;
        }
    }
    if (f->ne == f->cap_e) {
        return -1; /* cannot happen; the caller falls back to counting every block */
    }
    f->esrc[f->ne] = src;
    f->edst[f->ne] = dst;
    f->ne++;
    return 0;
}

/* The block an edge to instruction t lands in: control passes through
 * instructions that never report events (END_FOR, RESUME...). */
static int32_t
target_block(const rec_code *c, const uint8_t *fires, uint32_t n, int64_t t)
{
    if (t < 0 || t >= (int64_t)n) {
        return -1;
    }
    while (t < (int64_t)n && !fires[t]) {
        t++;
    }
    if (t >= (int64_t)n || c->instr_block[t] != (uint32_t)t) {
        return -1; /* not a block start: the model is wrong here */
    }
    return c->instr_blk[t];
}

static int64_t
jump_target_instr(const rec_code *c, const rec_opinfo *op, const uint8_t *ops, const uint32_t *args,
                  uint32_t k)
{
    int64_t unit = rec_jump_target_unit(c, op, ops, args, k);
    if (unit < 0 || unit >= (int64_t)c->n_units) {
        return -1;
    }
    return rec_code_instr_of_unit(c, (uint32_t)unit);
}

/* Variable v became known: each equation of v with one unknown left joins the
 * queue (equations are counted down in f->eqs). */
static void
learn(flow *f, uint32_t v, const uint32_t *var_first, const uint32_t *var_eqs, uint32_t *queue,
      uint32_t *qt)
{
    for (uint32_t i = var_first[v]; i < var_first[v + 1]; i++) {
        flow_eq *r = &f->eqs[var_eqs[i]];
        if (--r->unknown == 1 && !r->used) {
            queue[(*qt)++] = var_eqs[i];
        }
    }
}

/* How many of a re-plan's counters, hottest first, it tries to prune. */
#define PRUNE_TRIES 16

/* Whether the blocks marked in counted determine every block count by the
 * same propagation as the plan's (an equation with one unknown left); or, if
 * target < nb, whether they determine block target (known as soon as it is).
 * Scratch: known (nvars), unk and queue (n_eqs each). */
static int
determined_by(const flow *f, uint32_t nvars, const uint8_t *counted, uint32_t target,
              const uint32_t *var_first, const uint32_t *var_eqs, uint8_t *known, uint32_t *unk,
              uint32_t *queue)
{
    uint32_t left = f->nb, qh = 0, qt = 0;
    memset(known, 0, nvars);
    for (uint32_t q = 0; q < f->n_eqs; q++) {
        unk[q] = f->eqs[q].n_terms;
    }
    for (uint32_t b = 0; b < f->nb; b++) {
        if (!counted[b]) {
            continue;
        }
        known[b] = 1;
        left--;
        for (uint32_t i = var_first[b]; i < var_first[b + 1]; i++) {
            if (--unk[var_eqs[i]] == 1) {
                queue[qt++] = var_eqs[i];
            }
        }
    }
    while (qh < qt && left > 0) {
        uint32_t q = queue[qh++], v = UINT32_MAX;
        for (uint32_t t = 0; unk[q] == 1 && t < f->eqs[q].n_terms; t++) {
            uint32_t w = (uint32_t)(f->terms[f->eqs[q].first_term + t] >> 1);
            if (!known[w]) {
                v = w;
            }
        }
        if (v == UINT32_MAX) {
            continue;
        }
        known[v] = 1;
        left -= v < f->nb;
        if (v == target) {
            return 1;
        }
        for (uint32_t i = var_first[v]; i < var_first[v + 1]; i++) {
            if (--unk[var_eqs[i]] == 1) {
                queue[qt++] = var_eqs[i];
            }
        }
    }
    return left == 0;
}

/* Orders blocks by (weight, static key, block): the measured counts of a
 * re-plan first, loop depth after them. */
typedef struct pick_key {
    int64_t w;
    int32_t key;
    uint32_t b;
} pick_key;

static int
pick_cmp(const void *x, const void *y)
{
    const pick_key *a = x, *b = y;
    if (a->w != b->w) {
        return a->w < b->w ? -1 : 1;
    }
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return a->b < b->b ? -1 : a->b > b->b;
}

void
rec_flow_unplanned(rec_code *c)
{
    c->start_counted = 0;
    c->n_steps = c->n_terms = 0;
    c->steps = NULL;
    c->terms = NULL;
    c->n_vals = c->n_blocks;
}

void
rec_flow_start_only(rec_code *c, uint32_t entry, uint32_t resume)
{
    rec_flow_unplanned(c); /* no steps either */
    memset(c->block_counted, 0, c->n_blocks);
    c->block_counted[entry] = 1;
    c->block_ctr[entry] = resume;
    c->start_counted = 1;
}

/* On any inconsistency every block gets a counter, which is always right. */
int
rec_flow_plan(rec_code *c, rec_arena *ar, const rec_opinfo *op, const uint8_t *ops,
              const uint32_t *args, const uint8_t *fires, const uint8_t *external, uint32_t resume,
              const int64_t *weight, int equations)
{
    const uint32_t n = c->n_instr, nb = c->n_blocks;
    flow f = {0};
    f.nb = nb;
    f.cap_e = 4 * nb;
    uint8_t *out_ok = rec_arena_alloc(ar, nb + 1), *ext = rec_arena_alloc(ar, nb + 1);
    int32_t *depth = rec_arena_calloc(ar, (nb + 2) * sizeof(int32_t));
    f.esrc = rec_arena_alloc(ar, (f.cap_e + 1) * sizeof(uint32_t));
    f.edst = rec_arena_alloc(ar, (f.cap_e + 1) * sizeof(uint32_t));
    if (!out_ok || !ext || !depth || !f.esrc || !f.edst) {
        goto nomem;
    }
    /* where a frame starts, past its RESUME */
    const uint32_t first_fires = rec_next_firing(fires, n, resume);
    /* most code objects: one block, entered only at the start, which PY_START counts */
    if (nb == 1 && weight == NULL) {
        uint32_t last = n - 1, lead = c->block_first[0];
        while (!fires[last]) {
            last--;
        }
        if (first_fires == lead && !(external[lead] & 2) && !op->jrel[ops[last]]) {
            rec_flow_start_only(c, 0, resume);
            return 0;
        }
    }

    /* Edges, from each block's last instruction. */
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t first = c->block_first[b];
        uint32_t last = b + 1 < nb ? c->block_first[b + 1] - 1 : n - 1;
        while (!fires[last] || c->instr_block[last] != first) { /* blocks end at a silent one */
            last--;
        }
        uint8_t o = ops[last];
        int falls = 1, ok = 1;
        if (op->yields[o]) {
            falls = 0;
            ok = 0;
        } else if (op->ends_block[o]) {
            falls = 0;
            /* only plain jumps have all their way out as an edge */
            ok = op->jrel[o] != 0;
            if (o == op->cleanup_throw || o == op->end_async_for) {
                falls = 1; /* they do fall through, but may also leave silently */
                ok = 0;
            }
        }
        if (op->jrel[o]) {
            int64_t t = jump_target_instr(c, op, ops, args, last);
            int32_t tb = target_block(c, fires, n, t);
            if (tb < 0 || add_edge(&f, b, (uint32_t)tb) < 0) {
                goto plan_all;
            }
            if (o == op->for_iter) { /* exit skips END_FOR (3.12) or END_FOR, POP_TOP (3.13) */
                for (int extra = 1; extra <= REC_FOR_ITER_SKIP; extra++) {
                    int32_t xb = target_block(c, fires, n, t + extra);
                    if (xb >= 0 && add_edge(&f, b, (uint32_t)xb) < 0) {
                        goto plan_all;
                    }
                }
            }
            if (op->backward[o] && (uint32_t)tb <= b) { /* loop body [tb, b]: deeper */
                depth[tb]++;                            /* difference array, summed below */
                depth[b + 1]--;
            }
        }
        if (falls) {
            int32_t nbk = target_block(c, fires, n, (int64_t)last + 1);
            if (nbk < 0) {
                ok = 0; /* falls off the end: cannot happen in compiled code */
            } else if (add_edge(&f, b, (uint32_t)nbk) < 0) {
                goto plan_all;
            }
        }
        out_ok[b] = (uint8_t)ok;
        ext[b] = external[first] != 0;
        /* Where to count the block, if at all: any of its instructions will
         * do (rec_flow_solve adds the exits before it), and one without
         * inline caches, which CPython never specializes, loses nothing by
         * keeping its INSTRUMENTED_INSTRUCTION: a counted LOAD_GLOBAL,
         * FOR_ITER or SEND stays unspecialized for good. */
        c->block_ctr[b] = first;
        for (uint32_t k = first; k <= last; k++) {
            if (op->caches[ops[k]] == 0) {
                c->block_ctr[b] = k;
                break;
            }
        }
    }
    for (uint32_t b = 1; b < nb; b++) {
        depth[b] += depth[b - 1];
    }

    /* Equations: in(b): N[b] - sum E[in] = 0;  out(b): N[b] - sum E[out] = R(b). */
    uint32_t nvars = nb + f.ne;
    f.eqs = rec_arena_alloc(ar, (2 * (size_t)nb + 1) * sizeof(flow_eq));
    f.terms = rec_arena_alloc(ar, (2 * (size_t)nb + 2 * (size_t)f.ne + 1) * sizeof(int32_t));
    /* incoming edges of each block (outgoing ones are contiguous already) */
    uint32_t *in_first = rec_arena_calloc(ar, (nb + 2) * sizeof(uint32_t));
    uint32_t *in_edges = rec_arena_alloc(ar, (f.ne + 1) * sizeof(uint32_t));
    uint32_t *out_first = rec_arena_calloc(ar, (nb + 2) * sizeof(uint32_t));
    uint32_t *fill = rec_arena_alloc(ar, ((nvars > nb ? nvars : nb) + 1) * sizeof(uint32_t));
    if (!f.eqs || !f.terms || !in_first || !in_edges || !out_first || !fill) {
        goto nomem;
    }
    for (uint32_t e = 0; e < f.ne; e++) {
        in_first[f.edst[e] + 1]++;
        out_first[f.esrc[e] + 1]++;
    }
    for (uint32_t b = 0; b < nb; b++) {
        in_first[b + 1] += in_first[b];
        out_first[b + 1] += out_first[b];
    }
    memcpy(fill, in_first, (nb + 1) * sizeof(uint32_t));
    for (uint32_t e = 0; e < f.ne; e++) {
        in_edges[fill[f.edst[e]]++] = e;
    }
    /* The block a frame starts in, if nothing else enters it. */
    int32_t entry = first_fires < n ? c->instr_blk[first_fires] : -1;
    if (entry >= 0 && (c->block_first[entry] != first_fires || (external[first_fires] & 2) ||
                       in_first[entry + 1] != in_first[entry])) {
        entry = -1;
    }
    if (!equations) { /* -i: PY_START counts the entry block if it holds every site */
        int all_in_entry = entry >= 0;
        for (uint32_t k = 0; all_in_entry && k < n; k++) {
            all_in_entry = c->instr_site[k] < 0 || c->instr_blk[k] == entry;
        }
        if (all_in_entry) {
            rec_flow_start_only(c, (uint32_t)entry, resume);
            return 0;
        }
        rec_flow_unplanned(c);
        return 0;
    }
    for (uint32_t b = 0; b < nb; b++) {
        for (int side = 0; side < 2; side++) {
            if ((side == 0 && ext[b]) || (side == 1 && !out_ok[b])) {
                continue;
            }
            flow_eq *q = &f.eqs[f.n_eqs++];
            q->first_term = f.n_terms;
            q->r_block = side ? (int32_t)b : -1;
            q->used = 0;
            f.terms[f.n_terms++] = (int32_t)(b * 2);
            uint32_t lo = side ? out_first[b] : in_first[b],
                     hi = side ? out_first[b + 1] : in_first[b + 1];
            for (uint32_t i = lo; i < hi; i++) { /* edges are sorted by source */
                f.terms[f.n_terms++] = (int32_t)((nb + (side ? i : in_edges[i])) * 2 + 1);
            }
            q->n_terms = f.n_terms - q->first_term;
            q->unknown = q->n_terms;
        }
    }
    /* var -> equations incidence */
    uint32_t *var_first = rec_arena_calloc(ar, (nvars + 2) * sizeof(uint32_t));
    uint32_t *var_eqs = rec_arena_alloc(ar, (f.n_terms + 1) * sizeof(uint32_t));
    uint8_t *known = rec_arena_calloc(ar, nvars + 1);
    uint32_t *queue = rec_arena_alloc(ar, (f.n_eqs + 1) * sizeof(uint32_t));
    uint32_t *order = rec_arena_alloc(ar, (nb + 1) * sizeof(uint32_t));
    c->steps = rec_arena_alloc(ar, (f.n_eqs + 1) * sizeof(rec_step));
    if (!var_first || !var_eqs || !known || !queue || !order || !c->steps) {
        goto nomem;
    }
    for (uint32_t t = 0; t < f.n_terms; t++) {
        var_first[(f.terms[t] >> 1) + 1]++;
    }
    for (uint32_t v = 0; v < nvars; v++) {
        var_first[v + 1] += var_first[v];
    }
    memcpy(fill, var_first, (nvars + 1) * sizeof(uint32_t));
    for (uint32_t q = 0; q < f.n_eqs; q++) {
        for (uint32_t t = 0; t < f.eqs[q].n_terms; t++) {
            uint32_t v = (uint32_t)(f.terms[f.eqs[q].first_term + t] >> 1);
            var_eqs[fill[v]++] = q;
        }
    }
    /* coldest blocks first: by loop depth, a cheap counter before one that
     * keeps its instruction unspecialized, then program order; a re-plan
     * puts the counts it measured before all that */
    for (uint32_t b = 0; b < nb; b++) {
        depth[b] = 2 * (depth[b] < 0 ? 0 : depth[b]) + (op->caches[ops[c->block_ctr[b]]] > 0);
    }
    if (weight != NULL) {
        pick_key *keys = rec_arena_alloc(ar, (nb + 1) * sizeof(pick_key));
        if (keys == NULL) {
            goto nomem;
        }
        for (uint32_t b = 0; b < nb; b++) {
            keys[b] = (pick_key){.w = weight[b], .key = depth[b], .b = b};
        }
        qsort(keys, nb, sizeof(pick_key), pick_cmp);
        for (uint32_t b = 0; b < nb; b++) {
            order[b] = keys[b].b;
        }
    } else { /* first sight, for every code object: a stable counting sort */
        int32_t maxd = 0;
        for (uint32_t b = 0; b < nb; b++) {
            maxd = depth[b] > maxd ? depth[b] : maxd;
        }
        uint32_t *start = rec_arena_calloc(ar, ((size_t)maxd + 2) * sizeof(uint32_t));
        if (start == NULL) {
            goto nomem;
        }
        for (uint32_t b = 0; b < nb; b++) {
            start[depth[b] + 1]++;
        }
        for (int32_t d = 0; d < maxd; d++) {
            start[d + 1] += start[d];
        }
        for (uint32_t b = 0; b < nb; b++) {
            order[start[depth[b]]++] = b;
        }
    }
    /* An entry block that only the start of a frame enters can be counted by
     * PY_START at the first RESUME; if its count determines all others, the
     * code object needs no INSTRUCTION events at all. */
    uint32_t *unk = rec_arena_alloc(ar, (f.n_eqs + 1) * sizeof(uint32_t));
    if (unk == NULL) {
        goto nomem;
    }
    uint8_t *only_entry = entry >= 0 && weight == NULL ? rec_arena_calloc(ar, nb + 1) : NULL;
    if (only_entry) {
        only_entry[entry] = 1;
    }
    if (only_entry &&
        determined_by(&f, nvars, only_entry, UINT32_MAX, var_first, var_eqs, known, unk, queue)) {
        uint32_t i = 0;
        while (order[i] != (uint32_t)entry) {
            i++;
        }
        memmove(order + 1, order, i * sizeof(uint32_t));
        order[0] = (uint32_t)entry;
        c->start_counted = 1;
        c->block_ctr[entry] = resume;
    }
    memset(c->block_counted, 0, nb);
    /* A re-plan prunes its picks afterwards, hottest first: a counter that
     * the others make redundant goes (greedy picking leaves some: a loop's
     * exit block picked for its depth, say, that the loop's own counters
     * would have determined), and the steps are made again for the rest. */
    uint8_t *fixed = NULL;
again:
    memset(known, 0, nvars);
    c->n_steps = 0;
    for (uint32_t q = 0; q < f.n_eqs; q++) {
        f.eqs[q].used = 0;
        f.eqs[q].unknown = f.eqs[q].n_terms;
    }
    uint32_t qh = 0, qt = 0, next_pick = 0, undetermined = nb;
    if (fixed) {
        memcpy(c->block_counted, fixed, nb);
    }
    for (uint32_t b = 0; fixed && b < nb; b++) {
        if (!fixed[b]) {
            continue;
        }
        known[b] = 1;
        undetermined--;
        learn(&f, b, var_first, var_eqs, queue, &qt);
    }
    for (;;) {
        /* propagate */
        while (qh < qt) {
            flow_eq *q = &f.eqs[queue[qh++]];
            if (q->used || q->unknown != 1) {
                continue;
            }
            q->used = 1;
            uint32_t target = UINT32_MAX;
            int8_t coef = 1;
            for (uint32_t t = 0; t < q->n_terms; t++) {
                int32_t term = f.terms[q->first_term + t];
                if (!known[term >> 1]) {
                    target = (uint32_t)(term >> 1);
                    coef = (term & 1) ? -1 : 1;
                }
            }
            if (target == UINT32_MAX) {
                continue;
            }
            rec_step *s = &c->steps[c->n_steps++];
            s->target = target;
            s->target_coef = coef;
            s->first_term = q->first_term;
            s->n_terms = q->n_terms;
            s->r_block = q->r_block;
            known[target] = 1;
            if (target < nb) {
                undetermined--;
            }
            learn(&f, target, var_first, var_eqs, queue, &qt);
        }
        if (undetermined == 0) {
            break;
        }
        while (next_pick < nb && known[order[next_pick]]) {
            next_pick++;
        }
        if (next_pick == nb || fixed) {
            break;
        }
        uint32_t b = order[next_pick];
        c->block_counted[b] = 1;
        known[b] = 1;
        undetermined--;
        learn(&f, b, var_first, var_eqs, queue, &qt);
    }
    if (fixed && undetermined) {
        goto plan_all; /* cannot happen: determined_by said otherwise */
    }
    if (weight != NULL && fixed == NULL) {
        fixed = rec_arena_alloc(ar, nb + 1);
        if (fixed == NULL) {
            goto nomem;
        }
        memcpy(fixed, c->block_counted, nb);
        int pruned = 0, tries = 0;
        /* each try is a propagation over the whole code object: the hottest
         * counters are worth one, and the coldest would save little */
        for (uint32_t i = nb; i-- > 0 && tries < PRUNE_TRIES;) {
            uint32_t b = order[i];
            if (!fixed[b]) {
                continue;
            }
            tries++;
            /* the others determine every block if they determine b: then
             * they know all the counters, which determine the rest */
            fixed[b] = 0;
            if (determined_by(&f, nvars, fixed, b, var_first, var_eqs, known, unk, queue)) {
                pruned = 1;
            } else {
                fixed[b] = 1;
            }
        }
        if (pruned) {
            goto again;
        }
    }
    c->terms = f.terms; /* the steps point into them */
    c->n_terms = f.n_terms;
    c->n_vals = nvars;
    return 0;

plan_all:
    memset(c->block_counted, 1, nb);
    memcpy(c->block_ctr, c->block_first, nb * sizeof(uint32_t));
    c->n_steps = 0;
    c->n_terms = 0;
    c->steps = NULL;
    c->terms = NULL;
    c->n_vals = nb;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Block counts of one window: measured ones from a, the rest derived.
 * vals has n_vals entries, r has n_blocks. */
void
rec_flow_solve(const rec_code *c, const int64_t *a, const int64_t *exits, int64_t *vals, int64_t *r)
{
    if (c->n_steps > 0) { /* R(b): only the steps read them */
        memset(r, 0, c->n_blocks * sizeof(int64_t));
        for (uint32_t k = 0; exits && k < c->n_instr; k++) {
            if (c->instr_blk[k] >= 0) {
                r[c->instr_blk[k]] += exits[k];
            }
        }
    }
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        int64_t v = 0;
        uint32_t ctr = c->block_ctr[b];
        if (c->block_counted[b] && ctr >= c->block_first[b]) {
            v = a[ctr]; /* entries: those counted, and those that left before */
            for (uint32_t k = c->block_first[b]; exits && k < ctr; k++) {
                v += exits[k];
            }
        } else if (c->block_counted[b]) { /* PY_START, less those that left before */
            v = a[ctr];
            for (uint32_t k = ctr + !REC_START_BEFORE_BREAKER; exits && k < c->block_first[b];
                 k++) {
                v -= exits[k];
            }
        }
        vals[b] = v;
    }
    for (uint32_t s = 0; s < c->n_steps; s++) {
        const rec_step *st = &c->steps[s];
        int64_t sum = st->r_block >= 0 ? r[st->r_block] : 0;
        for (uint32_t t = 0; t < st->n_terms; t++) {
            int32_t term = c->terms[st->first_term + t];
            uint32_t v = (uint32_t)(term >> 1);
            if (v != st->target) {
                sum -= (term & 1) ? -vals[v] : vals[v];
            }
        }
        vals[st->target] = st->target_coef > 0 ? sum : -sum;
    }
}

/*
 * rec_replan.c - move block counters to the blocks that turned out coldest.
 *
 * First sight places counters by loop depth alone: it cannot know which side
 * of an if in a loop runs more often.  Every flush adds each code object's
 * block counts to what it has seen; once a code object has fired enough
 * events, its plan is made again with those counts as weights, and adopted if
 * it would have fired markedly fewer events.  One try per code object.
 *
 * Why this keeps counts exact: a re-plan runs right after a flush, when every
 * thread's counters of the code are zero except the blocks in flight, which
 * the flush carried as a -1 exit at their current instruction.  Such a carry
 * means the same under any plan (rec_flow_solve adds the exits before a
 * block's counter), so the next window is solved with the new plan alone.
 * The new counters are armed by switching the code object's INSTRUCTION
 * events off and on: every offset fires once more, and those that carry no
 * counter disable themselves again.
 */
#include "rec.h"

#include <stdlib.h>
#include <string.h>

#if REC_HAVE_MONITORING

/* Events a code object fires before its re-plan (HEAVYOPS_REPLAN_AFTER for
 * tests): re-planning costs about as much as a few hundred events. */
#    define REPLAN_AFTER_DEFAULT 1024

void
rec_replan_init(rec_state *st)
{
    const char *after = getenv("HEAVYOPS_REPLAN_AFTER");
    st->replan_after = after && after[0] ? strtoll(after, NULL, 10) : REPLAN_AFTER_DEFAULT;
    const char *always = getenv("HEAVYOPS_REPLAN_ALWAYS");
    st->replan_always = always && always[0] && always[0] != '0';
}

int
rec_replan_wanted(const rec_state *st, const rec_code *c)
{
    return st->mode == REC_MODE_ALL && st->replan_after > 0 && c->derive && !c->start_counted &&
           !c->replanned && c->n_blocks > 1;
}

void
rec_replan_observe(rec_state *st, rec_code *c, const int64_t *vals)
{
    if (c->seen == NULL) {
        c->seen = PyMem_RawCalloc(c->n_blocks, sizeof(int64_t));
        if (c->seen == NULL) {
            c->replanned = 1; /* no memory: keep the first plan */
            return;
        }
    }
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        c->seen[b] += vals[b];
    }
}

/* Events the plan block_counted would have fired for the counts seen. */
static int64_t
events_of(const rec_code *c, const uint8_t *block_counted)
{
    int64_t ev = 0;
    for (uint32_t b = 0; b < c->n_blocks; b++) {
        ev += block_counted[b] ? c->seen[b] : 0;
    }
    return ev;
}

/* Takes plan's counters, steps and terms into c. */
static int
adopt(rec_code *c, const rec_code *plan)
{
    size_t steps_b = (size_t)plan->n_steps * sizeof(rec_step);
    size_t terms_b = (size_t)plan->n_terms * sizeof(int32_t);
    char *mem = PyMem_RawMalloc(steps_b + terms_b + 1);
    if (mem == NULL) {
        return -1;
    }
    if (steps_b) {
        memcpy(mem, plan->steps, steps_b);
    }
    if (terms_b) {
        memcpy(mem + steps_b, plan->terms, terms_b);
    }
    rec_code_block_counters(c, 0);
    memcpy(c->block_counted, plan->block_counted, c->n_blocks);
    memcpy(c->block_ctr, plan->block_ctr, c->n_blocks * sizeof(uint32_t));
    rec_code_block_counters(c, 1);
    c->steps = (rec_step *)mem;
    c->terms = (int32_t *)(mem + steps_b);
    c->n_steps = plan->n_steps;
    c->n_terms = plan->n_terms;
    c->n_vals = plan->n_vals;
    PyMem_RawFree(c->plan_owned);
    c->plan_owned = mem;
    return 0;
}

/* One code object's re-plan; now: the events its plan took in the windows
 * seen.  1 if adopted. */
static int
replan_one(rec_state *st, rec_code *c, int64_t now)
{
    c->replanned = 1;
    rec_code plan;
    int adopted = 0;
    if (rec_code_plan_measured(st, c, c->seen, &plan) < 0) {
        PyErr_Clear(); /* keep the first plan, which is right */
        goto done;
    }
    int64_t then = events_of(c, plan.block_counted);
    int differs = memcmp(plan.block_counted, c->block_counted, c->n_blocks) != 0 ||
                  memcmp(plan.block_ctr, c->block_ctr, c->n_blocks * sizeof(uint32_t)) != 0;
    /* worth the switch: an eighth fewer events at least */
    if (differs && (st->replan_always || then <= now - now / 8) && adopt(c, &plan) == 0) {
        adopted = 1;
        c->replanned = 2;
        st->stat_events_saved += now - then;
        if (rec_backend_rearm(st, c) < 0) {
            PyErr_Clear();
            st->nomem = 1;
        }
    }
done:
    rec_arena_reset(&st->arena);
    PyMem_RawFree(c->seen);
    c->seen = NULL;
    return adopted;
}

int
rec_replan_due(rec_state *st)
{
    if (st->replan_after <= 0 || st->tool_id < 0 || st->nomem) {
        return 0;
    }
    int due = 0;
    pthread_mutex_lock(&rec_threads_lock);
    for (rec_thread *t = st->threads; t && !due; t = t->next) {
        for (uint32_t i = 0; i < t->n_dirty && !due; i++) {
            uint32_t slot = t->dirty_slots[i];
            rec_code *c = slot < st->n_slots ? st->codes[slot] : NULL;
            if (c == NULL || c->dead || slot >= t->cap || t->counters[slot] == NULL) {
                continue;
            }
            int replan = rec_replan_wanted(st, c);
            if (!replan && !rec_backend_supers_pending(st, c)) {
                continue;
            }
            /* this window's events in this thread, and for a re-plan those
             * seen before */
            int64_t ev = rec_code_window_events(c, t->counters[slot]);
            ev += replan && c->seen ? events_of(c, c->block_counted) : 0;
            due = ev >= st->replan_after;
        }
    }
    pthread_mutex_unlock(&rec_threads_lock);
    return due;
}

void
rec_replan_run(rec_state *st)
{
    /* Not once the backend has stopped (the flusher may run between that
     * and its own stop), nor when some counters may not have been collected. */
    if (st->tool_id < 0 || st->nomem) {
        return;
    }
    for (uint32_t s = 0; s < st->n_slots; s++) {
        rec_code *c = st->codes[s];
        if (c == NULL || c->dead || c->code == NULL || c->seen == NULL || c->replanned) {
            continue;
        }
        int64_t now = events_of(c, c->block_counted);
        if (now < st->replan_after) {
            continue;
        }
        st->stat_replans++;
        st->stat_adopted += replan_one(st, c, now);
    }
}

#endif /* REC_HAVE_MONITORING */

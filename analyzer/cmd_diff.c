/*
 * cmd_diff.c - diff BEFORE AFTER: the rows of one view in two recordings,
 * matched, with the change of each.
 *
 * Both files are loaded into one dataset, so string ids agree and rows of the
 * two sides compare as integers; each side is aggregated over its own threads.
 *
 * Rows are matched by a key that survives edits elsewhere in the source:
 *   location  (file, qualname, instruction, line - firstlineno, n), where n
 *             numbers the locations sharing the first four in order of
 *             (firstlineno, column, line): moving a function down the file
 *             changes neither its relative lines nor that order.  Sites a
 *             recording declared but never ran are numbered too (count 0),
 *             so one site falling idle does not renumber its neighbours;
 *   site      the same, n ordered by (firstlineno, line, column, offset);
 *   function  (file, qualname, n), n ordered by firstlineno;
 *   thread    the thread name (thread ids differ from run to run);
 *   others    the key fields themselves.
 * The key shown is the AFTER side's, or BEFORE's for rows that are gone.
 */
#include "aggregate.h"
#include "an_sort.h"
#include "an_xalloc.h"
#include "cmd.h"
#include "exitcodes.h"
#include "render.h"
#include "unmatched.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_FIELDS 5
#define REL_UNKNOWN  INT64_MIN

struct side_key {
    int64_t k[MATCH_FIELDS];
    size_t row;
};

#define NO_ROW UINT32_MAX

struct joined {
    uint64_t before, after;
    struct an_row shown; /* fields of the row whose key is displayed */
    uint32_t brow, arow; /* its row in before and after, or NO_ROW */
};

struct join {
    struct joined *rows;
    size_t n, cap;
    int64_t (*keys)[MATCH_FIELDS]; /* match key of rows[i] */
    size_t keys_cap;
    struct an_idmap index;
};

/* The internal grouping that carries what matching needs. */
static enum an_by
grouping_for(enum an_by by)
{
    if (by == AN_BY_LOCATION)
        return AN_BY_LOCATION_FN;
    if (by == AN_BY_THREAD)
        return AN_BY_THREAD_NAME;
    return by;
}

/* What is shown: LOCATION_FN rows start with the location fields. */
static enum an_by
display_for(enum an_by by)
{
    return by == AN_BY_THREAD ? AN_BY_THREAD_NAME : by;
}

static int64_t
rel_line(int64_t line, int64_t firstlineno)
{
    return line < 0 ? REL_UNKNOWN : line - firstlineno;
}

/* Fills sk[i].k[0..3] (the group) and tiebreak[i] fields, sorts, numbers. */
struct nth_item {
    int64_t group[4];
    int64_t order[4];
    size_t row;
};

static int
cmp_nth(const void *pa, const void *pb, void *ctx)
{
    (void)ctx;
    const struct nth_item *a = pa, *b = pb;
    for (int i = 0; i < 4; i++)
        if (a->group[i] != b->group[i])
            return a->group[i] < b->group[i] ? -1 : 1;
    for (int i = 0; i < 4; i++)
        if (a->order[i] != b->order[i])
            return a->order[i] < b->order[i] ? -1 : 1;
    return 0;
}

struct hent {
    uint32_t hash;
    uint32_t row;
};

/* Sorts *h by hash: four stable passes of 8 bits. */
static void
radix_sort_hents(struct hent **h, size_t n)
{
    struct hent *src = *h, *dst = an_xreallocarray(NULL, n ? n : 1, sizeof *dst);
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i].hash >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].hash >> shift) & 0xff]++] = src[i];
        struct hent *t = src;
        src = dst;
        dst = t;
    }
    free(dst);
    *h = src; /* an even number of passes: the original buffer */
}

/* Match keys for every row of one side, in row order. */
static void
side_keys(const struct an_rows *rows, struct side_key *sk)
{
    size_t n = rows->n;
    enum an_by by = rows->by;
    if (by != AN_BY_LOCATION_FN && by != AN_BY_SITE && by != AN_BY_FUNCTION) {
        for (size_t i = 0; i < n; i++) {
            memset(sk[i].k, 0, sizeof sk[i].k);
            for (unsigned f = 0; f < an_view_get(by)->nfields && f < MATCH_FIELDS; f++)
                sk[i].k[f] = rows->rows[i].f[f];
            sk[i].row = i;
        }
        return;
    }
    struct nth_item *items = an_xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        const int64_t *f = rows->rows[i].f;
        struct nth_item *it = &items[i];
        it->row = i;
        if (by == AN_BY_LOCATION_FN) {
            /* file line column function instruction firstlineno */
            int64_t g[4] = {f[0], f[3], f[4], rel_line(f[1], f[5])};
            int64_t o[4] = {f[5], f[2], f[1], 0};
            memcpy(it->group, g, sizeof g);
            memcpy(it->order, o, sizeof o);
        } else if (by == AN_BY_SITE) {
            /* file function firstlineno offset line column instruction */
            int64_t g[4] = {f[0], f[1], f[6], rel_line(f[4], f[2])};
            int64_t o[4] = {f[2], f[4], f[5], f[3]};
            memcpy(it->group, g, sizeof g);
            memcpy(it->order, o, sizeof o);
        } else { /* function: file function firstlineno */
            int64_t g[4] = {f[0], f[1], 0, 0};
            int64_t o[4] = {f[2], 0, 0, 0};
            memcpy(it->group, g, sizeof g);
            memcpy(it->order, o, sizeof o);
        }
    }
    /* Numbering needs the rows of each group in order, not the groups in
     * order: sort by a hash of the group (a radix sort of 8-byte entries),
     * then sort each run of equal hashes, almost always one row, by group
     * and order. */
    struct hent *h = an_xreallocarray(NULL, n ? n : 1, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        for (int f = 0; f < 4; f++)
            x = an_hash_mix(x, (uint64_t)items[i].group[f]);
        h[i] = (struct hent){(uint32_t)x, (uint32_t)i};
    }
    radix_sort_hents(&h, n);
    struct nth_item *run = NULL;
    size_t run_cap = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        while (e < n && h[e].hash == h[i].hash)
            e++;
        AN_GROW(run, e - i, run_cap);
        for (size_t r = i; r < e; r++)
            run[r - i] = items[h[r].row];
        if (e - i > 1)
            an_sort(run, e - i, sizeof *run, cmp_nth, NULL);
        int64_t nth = 0;
        for (size_t r = 0; r < e - i; r++) {
            if (r && memcmp(run[r].group, run[r - 1].group, sizeof run[r].group) == 0)
                nth++;
            else
                nth = 0;
            struct side_key *sp = &sk[run[r].row];
            memcpy(sp->k, run[r].group, sizeof run[r].group);
            sp->k[4] = nth;
            sp->row = run[r].row;
        }
        i = e;
    }
    free(run);
    free(h);
    free(items);
}

static int
join_eq(const void *ctx, uint32_t id, const void *key)
{
    const struct join *j = ctx;
    return memcmp(j->keys[id], key, sizeof j->keys[id]) == 0;
}

static uint64_t
match_hash(const int64_t *k)
{
    uint64_t h = 0;
    for (int i = 0; i < MATCH_FIELDS; i++)
        h = an_hash_mix(h, (uint64_t)k[i]);
    return h;
}

#define JOIN_BATCH 32

/* Within one side, match keys are distinct (a view's few fields, or a group
 * and a number), so BEFORE's rows each start a joined row and AFTER's are
 * looked up once each: in batches, with their index slots prefetched, since
 * on a large index nearly every lookup misses the cache.  j has room for
 * both sides. */
static void
join_side(struct join *j, const struct an_rows *rows, int after)
{
    if (rows->n >= NO_ROW)
        an_die_nomem();
    struct side_key *sk = an_xcalloc(rows->n, sizeof *sk);
    side_keys(rows, sk);
    uint64_t hs[JOIN_BATCH];
    for (size_t b = 0; b < rows->n; b += JOIN_BATCH) {
        size_t nb = rows->n - b < JOIN_BATCH ? rows->n - b : JOIN_BATCH;
        for (size_t i = 0; i < nb; i++) {
            hs[i] = match_hash(sk[b + i].k);
            if (after)
                an_idmap_prefetch(&j->index, hs[i]);
        }
        for (size_t i = 0; i < nb; i++) {
            const struct side_key *s = &sk[b + i];
            const struct an_row *r = &rows->rows[s->row];
            uint32_t id = after ? an_idmap_find(&j->index, hs[i], join_eq, j, s->k) : AN_ID_NONE;
            if (id == AN_ID_NONE) {
                id = (uint32_t)j->n++;
                memset(&j->rows[id], 0, sizeof j->rows[id]);
                j->rows[id].brow = j->rows[id].arow = NO_ROW;
                memcpy(j->keys[id], s->k, sizeof s->k);
                an_idmap_insert(&j->index, hs[i], id);
            }
            struct joined *jr = &j->rows[id];
            if (after) {
                jr->after = r->count;
                jr->shown = *r;
                jr->arow = (uint32_t)s->row;
            } else {
                jr->before = r->count;
                jr->shown = *r;
                jr->brow = (uint32_t)s->row;
            }
        }
    }
    free(sk);
}

static uint64_t
magnitude(const struct joined *r)
{
    return r->after >= r->before ? r->after - r->before : r->before - r->after;
}

static int64_t
delta(const struct joined *r)
{
    uint64_t m = magnitude(r);
    if (r->after >= r->before)
        return m > INT64_MAX ? INT64_MAX : (int64_t)m;
    return m > INT64_MAX ? INT64_MIN : -(int64_t)m;
}

struct sort_ctx {
    const struct an_view *view;
    const struct an_strtab *strs;
    const struct joined *rows;
    const struct an_rows *before, *after;
};

/* Rows of one side by count descending, then by key (unique within a side). */
static int
cmp_side_rows(const struct an_rows *side, const struct an_strtab *strs, uint32_t a, uint32_t b)
{
    const struct an_row *ra = &side->rows[a], *rb = &side->rows[b];
    if (ra->count != rb->count)
        return ra->count > rb->count ? -1 : 1;
    return an_row_cmp_keys(an_view_get(side->by), strs, ra, rb);
}

/* Largest change first, then the shown key, then the larger before count.
 * Rows equal so far (their shown keys differ only in fields the view does
 * not show) come in the order in which the join met them: rows of BEFORE in
 * its sorted order, then rows new in AFTER in its sorted order. */
static int
cmp_joined(const void *pa, const void *pb, void *ctx)
{
    const struct sort_ctx *s = ctx;
    const struct joined *a = &s->rows[*(const uint32_t *)pa], *b = &s->rows[*(const uint32_t *)pb];
    uint64_t ma = magnitude(a), mb = magnitude(b);
    if (ma != mb)
        return ma > mb ? -1 : 1;
    int c = an_row_cmp_keys(s->view, s->strs, &a->shown, &b->shown);
    if (c)
        return c;
    if (a->before != b->before)
        return a->before > b->before ? -1 : 1;
    if ((a->brow == NO_ROW) != (b->brow == NO_ROW))
        return a->brow == NO_ROW ? 1 : -1;
    if (a->brow != NO_ROW)
        return cmp_side_rows(s->before, s->strs, a->brow, b->brow);
    return cmp_side_rows(s->after, s->strs, a->arow, b->arow);
}

/* "+12.5%", "-100.0%" is "gone", "new" when there was nothing before. */
static void
change_text(struct an_strbuf *sb, const struct joined *r)
{
    if (!r->before) {
        an_strbuf_addstr(sb, "new");
    } else if (!r->after) {
        an_strbuf_addstr(sb, "gone");
    } else if (r->after == r->before) {
        an_strbuf_addstr(sb, "0.0%");
    } else {
        double pct = ((double)r->after - (double)r->before) / (double)r->before * 100.0;
        an_strbuf_addf(sb, "%+.1f%%", pct);
    }
}

static void
side_summary(struct an_strbuf *out, const char *label, const struct an_rows *rows)
{
    an_strbuf_addf(out, "%s: ", label);
    if (rows->total_known) {
        an_strbuf_add_thousands(out, rows->total);
        an_strbuf_addstr(out, " total, ");
    }
    an_strbuf_add_thousands(out, rows->tracked);
    an_strbuf_addstr(out, " tracked");
}

static void
json_side(struct an_strbuf *out, const char *label, const struct an_rows *rows)
{
    an_strbuf_addf(out, "  \"%s\": {\"tracked\": %" PRIu64 ", \"total\": ", label, rows->tracked);
    if (rows->total_known)
        an_strbuf_addf(out, "%" PRIu64 "}", rows->total);
    else
        an_strbuf_addstr(out, "null}");
}

void
an_diff_dataset(const struct analyze_opts *o, const struct an_dataset *ds, struct an_strbuf *out)
{
    enum an_by by = o->by_given ? o->by : AN_BY_LOCATION;
    enum an_by group = grouping_for(by), shown = display_for(by);
    /* min-count applies to the larger side of a joined row, not per side. */
    struct an_filter f = o->filter;
    f.min_count = 0;
    f.keep_zero = 1;
    struct an_rows before, after;
    an_rows_init(&before);
    an_rows_init(&after);
    an_aggregate_files(ds, &f, group, 0, 1, &before);
    an_aggregate_files(ds, &f, group, 1, 1, &after);

    struct join j;
    memset(&j, 0, sizeof j);
    an_idmap_init(&j.index);
    j.cap = j.keys_cap = before.n + after.n;
    j.rows = an_xreallocarray(NULL, j.cap ? j.cap : 1, sizeof *j.rows);
    j.keys = an_xreallocarray(NULL, j.cap ? j.cap : 1, sizeof *j.keys);
    an_idmap_reserve(&j.index, j.cap);
    join_side(&j, &before, 0);
    join_side(&j, &after, 1);
    size_t kept = 0;
    for (size_t i = 0; i < j.n; i++) {
        uint64_t big = j.rows[i].before > j.rows[i].after ? j.rows[i].before : j.rows[i].after;
        if (big && big >= o->filter.min_count)
            j.rows[kept++] = j.rows[i];
    }
    j.n = kept;
    /* Only the rows shown need sorting. */
    size_t n = o->top && o->top < j.n ? (size_t)o->top : j.n;
    uint32_t *order = an_xreallocarray(NULL, j.n ? j.n : 1, sizeof *order);
    for (size_t i = 0; i < j.n; i++)
        order[i] = (uint32_t)i;
    struct sort_ctx sc = {an_view_get(shown), &ds->strs, j.rows, &before, &after};
    an_sort_top_idx(order, j.n, n, cmp_joined, &sc);
    const struct an_view *v = an_view_get(shown);
    const char *names[AN_MAX_FIELDS + 4] = {"before", "after", "delta", "percent"};
    for (unsigned i = 0; i < v->nfields; i++)
        names[i + 4] = an_field_get(v->fields[i])->name;
    struct an_value vals[AN_MAX_FIELDS + 4];
    struct an_strbuf cell = AN_STRBUF_INIT;
    char pct[64];

    if (o->format == AN_FORMAT_TABLE) {
        side_summary(out, "before", &before);
        an_strbuf_addstr(out, "; ");
        side_summary(out, "after", &after);
        an_strbuf_addstr(out, "\n\n");
        const char *headers[5] = {"BEFORE", "AFTER", "DELTA", "CHANGE", v->title};
        const int right[5] = {1, 1, 1, 1, 0};
        struct an_table t;
        an_table_init(&t, 5, headers, right);
        for (size_t i = 0; i < n; i++) {
            const struct joined *r = &j.rows[order[i]];
            an_strbuf_reset(&cell);
            an_strbuf_add_thousands(&cell, r->before);
            an_table_add_cell(&t, an_strbuf_str(&cell));
            an_strbuf_reset(&cell);
            an_strbuf_add_thousands(&cell, r->after);
            an_table_add_cell(&t, an_strbuf_str(&cell));
            an_strbuf_reset(&cell);
            an_render_delta(&cell, delta(r));
            an_table_add_cell(&t, an_strbuf_str(&cell));
            an_strbuf_reset(&cell);
            change_text(&cell, r);
            an_table_add_cell(&t, an_strbuf_str(&cell));
            an_strbuf_reset(&cell);
            an_render_key_text(&cell, shown, &ds->strs, &r->shown);
            an_table_add_cell(&t, an_strbuf_str(&cell));
        }
        t.more = j.n - n;
        an_table_render(&t, out);
        an_table_release(&t);
    } else {
        if (o->format == AN_FORMAT_CSV) {
            an_csv_names(out, names, v->nfields + 4);
        } else {
            an_strbuf_addstr(out, "{\n");
            json_side(out, "before", &before);
            an_strbuf_addstr(out, ",\n");
            json_side(out, "after", &after);
            an_strbuf_addstr(out, ",\n  \"rows\": [");
        }
        for (size_t i = 0; i < n; i++) {
            const struct joined *r = &j.rows[order[i]];
            vals[0] = (struct an_value){.kind = AN_V_U64, .u = r->before};
            vals[1] = (struct an_value){.kind = AN_V_U64, .u = r->after};
            vals[2] = (struct an_value){.kind = AN_V_I64, .i = delta(r)};
            if (r->before) {
                snprintf(pct, sizeof pct, "%.2f",
                         ((double)r->after - (double)r->before) / (double)r->before * 100.0);
                vals[3] = (struct an_value){.kind = AN_V_NUM, .s = pct};
            } else {
                vals[3] = (struct an_value){.kind = AN_V_NULL};
            }
            unsigned nv = an_row_values(shown, &ds->strs, &r->shown, vals + 4);
            if (o->format == AN_FORMAT_CSV) {
                an_csv_record(out, vals, nv + 4);
            } else {
                an_strbuf_addstr(out, i ? ",\n    " : "\n    ");
                an_json_object(out, names, vals, nv + 4);
            }
        }
        if (o->format == AN_FORMAT_JSON)
            an_strbuf_addstr(out, n ? "\n  ]\n}\n" : "]\n}\n");
    }
    an_strbuf_release(&cell);
    free(order);
    free(j.rows);
    free(j.keys);
    an_idmap_release(&j.index);
    an_rows_release(&before);
    an_rows_release(&after);
}

int
an_cmd_diff(const struct analyze_opts *o, struct an_cmd_io *io)
{
    struct an_dataset ds;
    an_dataset_init(&ds);
    ds.per_thread =
        an_needs_thread_counts(&o->filter, grouping_for(o->by_given ? o->by : AN_BY_LOCATION));
    int rc = an_dataset_load_paths(&ds, o->files, 2, &io->warn, &io->err);
    if (rc == AN_EXIT_OK) {
        an_warn_unmatched(&o->filter, &ds, &io->warn);
        an_diff_dataset(o, &ds, &io->out);
    }
    an_dataset_release(&ds);
    return rc;
}

/*
 * aggregate.c - group keys or threads into view rows; see aggregate.h.
 */
#include "aggregate.h"
#include "an_sort.h"
#include "an_xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct an_field_desc fields[] = {
    [AN_F_FILE] = {"file", AN_FK_STR, 0},
    [AN_F_LINE] = {"line", AN_FK_INT, 1},
    [AN_F_COLUMN] = {"column", AN_FK_INT, 1},
    [AN_F_FUNCTION] = {"function", AN_FK_STR, 0},
    [AN_F_FIRSTLINENO] = {"firstlineno", AN_FK_INT, 0},
    [AN_F_OFFSET] = {"offset", AN_FK_INT, 0},
    [AN_F_INSTRUCTION] = {"instruction", AN_FK_STR, 0},
    [AN_F_THREAD_ID] = {"thread_id", AN_FK_U64, 0},
    [AN_F_THREAD_NAME] = {"thread_name", AN_FK_STR, 0},
    [AN_F_PID] = {"pid", AN_FK_U64, 0},
    [AN_F_RECORDING] = {"recording", AN_FK_STR, 0},
};

static const struct an_view views[AN_BY_COUNT] = {
    [AN_BY_INSTRUCTION] = {"instruction", "INSTRUCTION", 1, {AN_F_INSTRUCTION}},
    [AN_BY_LOCATION] = {"location",
                        "LOCATION",
                        5,
                        {AN_F_FILE, AN_F_LINE, AN_F_COLUMN, AN_F_FUNCTION, AN_F_INSTRUCTION}},
    [AN_BY_LINE] = {"line", "LINE", 2, {AN_F_FILE, AN_F_LINE}},
    [AN_BY_FUNCTION] = {"function", "FUNCTION", 3, {AN_F_FILE, AN_F_FUNCTION, AN_F_FIRSTLINENO}},
    [AN_BY_FILE] = {"file", "FILE", 1, {AN_F_FILE}},
    [AN_BY_THREAD] = {"thread", "THREAD", 2, {AN_F_THREAD_ID, AN_F_THREAD_NAME}},
    [AN_BY_SITE] = {"site",
                    "SITE",
                    7,
                    {AN_F_FILE, AN_F_FUNCTION, AN_F_FIRSTLINENO, AN_F_OFFSET, AN_F_LINE,
                     AN_F_COLUMN, AN_F_INSTRUCTION}},
    [AN_BY_PROCESS] = {"process", "PROCESS", 2, {AN_F_PID, AN_F_RECORDING}},
    /* The location fields first, so a row projects onto AN_BY_LOCATION by
     * dropping the last field. */
    [AN_BY_LOCATION_FN] = {"location",
                           "LOCATION",
                           6,
                           {AN_F_FILE, AN_F_LINE, AN_F_COLUMN, AN_F_FUNCTION, AN_F_INSTRUCTION,
                            AN_F_FIRSTLINENO}},
    [AN_BY_THREAD_NAME] = {"thread", "THREAD", 1, {AN_F_THREAD_NAME}},
};

const struct an_field_desc *
an_field_get(enum an_field f)
{
    return &fields[f];
}

const struct an_view *
an_view_get(enum an_by by)
{
    return &views[by];
}

int
an_by_parse(const char *s, enum an_by *out)
{
    for (int i = 0; i < AN_BY_PUBLIC_COUNT; i++) {
        if (strcmp(s, views[i].name) == 0) {
            *out = (enum an_by)i;
            return 0;
        }
    }
    return -1;
}

const char *
an_by_names(void)
{
    return "instruction|location|line|function|file|thread|process|site";
}

void
an_rows_init(struct an_rows *r)
{
    memset(r, 0, sizeof *r);
}

void
an_rows_release(struct an_rows *r)
{
    free(r->rows);
    an_rows_init(r);
}

static int
view_uses_threads(const struct an_view *v)
{
    for (unsigned i = 0; i < v->nfields; i++)
        if (v->fields[i] == AN_F_THREAD_ID || v->fields[i] == AN_F_THREAD_NAME ||
            v->fields[i] == AN_F_PID || v->fields[i] == AN_F_RECORDING)
            return 1;
    return 0;
}

int
an_needs_thread_counts(const struct an_filter *filter, enum an_by by)
{
    return filter->n_threads > 0 || view_uses_threads(&views[by]);
}

/* Fills a row's fields from a key (key views) or a thread and its file
 * (thread and process views). */
static void
fill_row(const struct an_view *v, struct an_row *row, const struct an_key *k,
         const struct an_thread *t, const struct an_file *f)
{
    memset(row->f, 0, sizeof row->f);
    for (unsigned i = 0; i < v->nfields; i++) {
        switch (v->fields[i]) {
        case AN_F_FILE:
            row->f[i] = k->file;
            break;
        case AN_F_LINE:
            row->f[i] = k->line;
            break;
        case AN_F_COLUMN:
            row->f[i] = k->col;
            break;
        case AN_F_FUNCTION:
            row->f[i] = k->qualname;
            break;
        case AN_F_FIRSTLINENO:
            row->f[i] = k->firstlineno;
            break;
        case AN_F_OFFSET:
            row->f[i] = k->offset;
            break;
        case AN_F_INSTRUCTION:
            row->f[i] = k->opname;
            break;
        case AN_F_THREAD_ID:
            row->f[i] = (int64_t)t->tid;
            break;
        case AN_F_THREAD_NAME:
            row->f[i] = t->name;
            break;
        case AN_F_PID:
            row->f[i] = (int64_t)f->pid;
            break;
        case AN_F_RECORDING:
            row->f[i] = f->path_id;
            break;
        }
    }
}

struct group_ctx {
    const struct an_rows *rows;
    unsigned nfields;
};

static uint64_t
row_hash(const struct an_row *row, unsigned nfields)
{
    uint64_t h = nfields;
    for (unsigned i = 0; i < nfields; i++)
        h = an_hash_mix(h, (uint64_t)row->f[i]);
    return h;
}

static int
row_eq(const void *ctx, uint32_t id, const void *key)
{
    const struct group_ctx *g = ctx;
    return memcmp(g->rows->rows[id].f, ((const struct an_row *)key)->f,
                  g->nfields * sizeof(int64_t)) == 0;
}

/* Adds count to the row with the key of `probe`, creating it if needed. */
static void
group_add_hashed(struct an_rows *out, struct an_idmap *index, unsigned nfields,
                 const struct an_row *probe, uint64_t h, uint64_t count)
{
    struct group_ctx g = {out, nfields};
    uint32_t id = an_idmap_find(index, h, row_eq, &g, probe);
    if (id == AN_ID_NONE) {
        AN_GROW(out->rows, out->n + 1, out->cap);
        id = (uint32_t)out->n++;
        out->rows[id] = *probe;
        out->rows[id].count = 0;
        an_idmap_insert(index, h, id);
    }
    out->rows[id].count = an_add_sat(out->rows[id].count, count);
}

static void
group_add(struct an_rows *out, struct an_idmap *index, unsigned nfields, const struct an_row *probe,
          uint64_t count)
{
    group_add_hashed(out, index, nfields, probe, row_hash(probe, nfields), count);
}

#define ROW_BATCH 32

/* Memoised per-string filter result: -1 unknown, 0 no, 1 yes.  Many keys share
 * a file, qualname or opname; fnmatch runs once per distinct string. */
static int
memo_match(signed char *memo, uint32_t id, const struct an_strtab *strs,
           int (*match)(const struct an_filter *, const char *), const struct an_filter *f)
{
    if (memo[id] < 0)
        memo[id] = (signed char)(match(f, an_strtab_get(strs, id)) != 0);
    return memo[id];
}

void
an_aggregate(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
             struct an_rows *out)
{
    an_aggregate_top(ds, filter, by, 0, out);
}

void
an_aggregate_top(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
                 size_t top, struct an_rows *out)
{
    an_aggregate_files(ds, filter, by, 0, SIZE_MAX, out);
    an_rows_sort_top(out, &ds->strs, top);
}

void
an_aggregate_files(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
                   size_t first_file, size_t nfiles, struct an_rows *out)
{
    const struct an_view *v = &views[by];
    out->n = 0;
    out->by = by;
    out->tracked = 0;
    out->total = 0;
    out->total_known = 1;
    for (size_t i = first_file; i < ds->nfiles && i - first_file < nfiles; i++) {
        if (!(ds->files[i].meta_flags & HOPS_META_ALL_INSTRUCTIONS))
            out->total_known = 0;
        /* A file loaded without per-thread counts cannot answer this: the
         * command should have set an_dataset.per_thread. */
        if (!ds->files[i].per_thread && (filter->n_threads || view_uses_threads(v)))
            abort();
    }

    /* Which threads and keys pass the filters. */
    unsigned char *thread_ok = an_xcalloc(ds->nthreads, 1);
    for (size_t t = 0; t < ds->nthreads; t++) {
        const struct an_thread *th = &ds->threads[t];
        if (th->file < first_file || th->file - first_file >= nfiles)
            continue;
        thread_ok[t] = (unsigned char)(an_filter_thread(filter, th->tid, th->native_id,
                                                        an_strtab_get(&ds->strs, th->name)) != 0);
        if (thread_ok[t])
            out->total = an_add_sat(out->total, th->total);
    }
    size_t nstr = ds->strs.n;
    signed char *memo_op = an_xmalloc(nstr ? nstr : 1);
    signed char *memo_file = an_xmalloc(nstr ? nstr : 1);
    signed char *memo_fn = an_xmalloc(nstr ? nstr : 1);
    memset(memo_op, -1, nstr);
    memset(memo_file, -1, nstr);
    memset(memo_fn, -1, nstr);
    unsigned char *key_ok = an_xcalloc(ds->nkeys, 1);
    for (uint32_t k = 0; k < ds->nkeys; k++) {
        const struct an_key *key = &ds->keys[k];
        key_ok[k] =
            (unsigned char)(memo_match(memo_op, key->opname, &ds->strs, an_filter_instruction,
                                       filter) &&
                            memo_match(memo_file, key->file, &ds->strs, an_filter_file, filter) &&
                            memo_match(memo_fn, key->qualname, &ds->strs, an_filter_function,
                                       filter));
    }
    free(memo_op);
    free(memo_file);
    free(memo_fn);

    struct an_idmap index;
    an_idmap_init(&index);
    struct an_row probe;
    if (view_uses_threads(v)) {
        for (size_t t = 0; t < ds->nthreads; t++) {
            if (!thread_ok[t])
                continue;
            const struct an_thread *th = &ds->threads[t];
            uint64_t sum = 0;
            for (size_t k = 0; k < th->ncounts; k++)
                if (key_ok[k])
                    sum = an_add_sat(sum, th->counts[k]);
            out->tracked = an_add_sat(out->tracked, sum);
            if (!sum)
                continue;
            fill_row(v, &probe, NULL, th, &ds->files[th->file]);
            group_add(out, &index, v->nfields, &probe, sum);
        }
    } else {
        /* Per key: the sum over the selected threads of per_thread files and
         * over the per-file counts of the others (never filtered by thread).
         * One file's counts are used as they are. */
        const struct an_file *only = NULL;
        size_t nsources = 0;
        for (size_t t = 0; t < ds->nthreads; t++)
            nsources += thread_ok[t] && ds->files[ds->threads[t].file].per_thread;
        for (size_t i = first_file; i < ds->nfiles && i - first_file < nfiles; i++) {
            if (!ds->files[i].per_thread) {
                only = &ds->files[i];
                nsources++;
            }
        }
        const uint64_t *per_key;
        size_t nper;
        uint64_t *own = NULL;
        if (nsources == 1 && only) {
            per_key = only->counts;
            nper = only->ncounts;
        } else {
            own = an_xcalloc(ds->nkeys, sizeof *own);
            for (size_t t = 0; t < ds->nthreads; t++) {
                if (!thread_ok[t] || !ds->files[ds->threads[t].file].per_thread)
                    continue;
                const struct an_thread *th = &ds->threads[t];
                for (size_t k = 0; k < th->ncounts; k++)
                    if (key_ok[k])
                        own[k] = an_add_sat(own[k], th->counts[k]);
            }
            for (size_t i = first_file; i < ds->nfiles && i - first_file < nfiles; i++) {
                const struct an_file *f = &ds->files[i];
                if (f->per_thread)
                    continue;
                for (size_t k = 0; k < f->ncounts; k++)
                    if (key_ok[k])
                        own[k] = an_add_sat(own[k], f->counts[k]);
            }
            per_key = own;
            nper = ds->nkeys;
        }
        uint32_t declared = 0; /* file_bits of the selected files */
        for (size_t i = first_file; i < ds->nfiles && i - first_file < nfiles; i++)
            declared |= 1u << (i < 31 ? i : 31);
        /* The keys that make or join a row, with their counts (0 for keys the
         * filters drop): key_ok becomes 2 for them. */
        size_t ncand = 0;
        for (uint32_t k = 0; k < ds->nkeys; k++) {
            uint64_t c = k < nper && key_ok[k] ? per_key[k] : 0;
            if (c || (filter->keep_zero && key_ok[k] && (ds->keys[k].file_bits & declared))) {
                key_ok[k] = 2;
                ncand++;
                out->tracked = an_add_sat(out->tracked, c);
            }
        }
        enum an_field f0 = v->fields[0];
        if (v->nfields == 1 && fields[f0].kind == AN_FK_STR) {
            /* One string field (instruction, file): rows indexed by its id. */
            uint64_t *sum = an_xcalloc(nstr ? nstr : 1, sizeof *sum);
            unsigned char *seen = an_xcalloc(nstr ? nstr : 1, 1);
            for (uint32_t k = 0; k < ds->nkeys; k++) {
                if (key_ok[k] != 2)
                    continue;
                uint32_t id = f0 == AN_F_FILE ? ds->keys[k].file : ds->keys[k].opname;
                sum[id] = an_add_sat(sum[id], k < nper ? per_key[k] : 0);
                seen[id] = 1;
            }
            for (size_t id = 0; id < nstr; id++) {
                if (!seen[id])
                    continue;
                AN_GROW(out->rows, out->n + 1, out->cap);
                struct an_row *row = &out->rows[out->n++];
                memset(row, 0, sizeof *row);
                row->count = sum[id];
                row->f[0] = (int64_t)id;
            }
            free(sum);
            free(seen);
        } else {
            /* Probes are built and hashed a batch at a time, their index
             * slots prefetched, then added: with one group per key
             * (location) the index is large and the lookups' cache misses
             * overlap. */
            an_idmap_reserve(&index, ncand);
            struct an_row batch[ROW_BATCH];
            uint64_t hs[ROW_BATCH];
            unsigned nb = 0;
            for (uint32_t k = 0; k < ds->nkeys; k++) {
                if (key_ok[k] != 2)
                    continue;
                fill_row(v, &batch[nb], &ds->keys[k], NULL, NULL);
                batch[nb].count = k < nper ? per_key[k] : 0;
                hs[nb] = row_hash(&batch[nb], v->nfields);
                an_idmap_prefetch(&index, hs[nb]);
                if (++nb == ROW_BATCH) {
                    for (unsigned i = 0; i < nb; i++)
                        group_add_hashed(out, &index, v->nfields, &batch[i], hs[i], batch[i].count);
                    nb = 0;
                }
            }
            for (unsigned i = 0; i < nb; i++)
                group_add_hashed(out, &index, v->nfields, &batch[i], hs[i], batch[i].count);
        }
        free(own);
    }
    an_idmap_release(&index);
    free(key_ok);
    free(thread_ok);

    /* min_count hides rows; it does not change tracked, which is the same for
     * every table of one report. */
    size_t kept = 0;
    for (size_t i = 0; i < out->n; i++)
        if ((out->rows[i].count || filter->keep_zero) && out->rows[i].count >= filter->min_count)
            out->rows[kept++] = out->rows[i];
    out->n = kept;
}

static int
cmp_field(const struct an_field_desc *d, const struct an_strtab *strs, int64_t a, int64_t b)
{
    switch (d->kind) {
    case AN_FK_STR:
        return an_strtab_cmp(strs, (uint32_t)a, (uint32_t)b);
    case AN_FK_U64:
        return (uint64_t)a < (uint64_t)b ? -1 : (uint64_t)a > (uint64_t)b;
    case AN_FK_INT:
    default:
        return a < b ? -1 : a > b;
    }
}

int
an_row_cmp_keys(const struct an_view *v, const struct an_strtab *strs, const struct an_row *a,
                const struct an_row *b)
{
    for (unsigned i = 0; i < v->nfields; i++) {
        int c = cmp_field(&fields[v->fields[i]], strs, a->f[i], b->f[i]);
        if (c)
            return c;
    }
    return 0;
}

/* Sorting moves 16-byte (count, index) entries instead of whole rows: most
 * comparisons end at the count, and the rows are permuted once at the end.
 * Ties on count and key fall back to the index, which makes the order the
 * same as a stable sort of the rows. */
struct sort_ent {
    uint64_t count;
    uint32_t idx;
};

static int
ent_before(const struct an_view *v, const struct an_strtab *strs, const struct an_row *rows,
           struct sort_ent a, struct sort_ent b)
{
    if (a.count != b.count)
        return a.count > b.count;
    int c = an_row_cmp_keys(v, strs, &rows[a.idx], &rows[b.idx]);
    return c ? c < 0 : a.idx < b.idx;
}

/* Merge-sorts ents[0..n) by ent_before. */
static void
sort_ents(const struct an_view *v, const struct an_strtab *strs, const struct an_row *rows,
          struct sort_ent **ents, size_t n)
{
    struct sort_ent *src = *ents;
    struct sort_ent *dst = an_xreallocarray(NULL, n ? n : 1, sizeof *dst);
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            if (mid < hi && !ent_before(v, strs, rows, src[mid], src[mid - 1])) {
                /* already in order: copy the run */
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof *src);
                continue;
            }
            while (i < mid && j < hi)
                dst[k++] = ent_before(v, strs, rows, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct sort_ent *t = src;
        src = dst;
        dst = t;
    }
    free(dst);
    *ents = src;
}

void
an_rows_sort(struct an_rows *r, const struct an_strtab *strs)
{
    an_rows_sort_top(r, strs, 0);
}

/* Max-heap on the order of ent_before: the root is the selected entry that
 * sorts last, the one a better candidate replaces. */
static void
heap_sift_down(const struct an_view *v, const struct an_strtab *strs, const struct an_row *rows,
               struct sort_ent *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, worst = i;
        if (l < n && ent_before(v, strs, rows, h[worst], h[l]))
            worst = l;
        if (l + 1 < n && ent_before(v, strs, rows, h[worst], h[l + 1]))
            worst = l + 1;
        if (worst == i)
            return;
        struct sort_ent t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

void
an_rows_sort_top(struct an_rows *r, const struct an_strtab *strs, size_t top)
{
    size_t n = r->n;
    if (n < 2)
        return;
    if (n > UINT32_MAX)
        an_die_nomem();
    if (top == 0 || top > n)
        top = n;
    const struct an_view *v = &views[r->by];
    struct sort_ent *ents = an_xreallocarray(NULL, top, sizeof *ents);
    if (top == n) {
        for (size_t i = 0; i < n; i++)
            ents[i] = (struct sort_ent){r->rows[i].count, (uint32_t)i};
    } else {
        /* Most rows lose to the heap's root on the count alone. */
        for (size_t i = 0; i < top; i++)
            ents[i] = (struct sort_ent){r->rows[i].count, (uint32_t)i};
        for (size_t i = top / 2; i-- > 0;)
            heap_sift_down(v, strs, r->rows, ents, top, i);
        for (size_t i = top; i < n; i++) {
            struct sort_ent e = {r->rows[i].count, (uint32_t)i};
            if (e.count < ents[0].count || !ent_before(v, strs, r->rows, e, ents[0]))
                continue;
            ents[0] = e;
            heap_sift_down(v, strs, r->rows, ents, top, 0);
        }
    }
    sort_ents(v, strs, r->rows, &ents, top);
    if (top == n) {
        struct an_row *sorted = an_xreallocarray(NULL, n, sizeof *sorted);
        for (size_t i = 0; i < n; i++)
            sorted[i] = r->rows[ents[i].idx];
        free(r->rows);
        r->rows = sorted;
        r->cap = n;
    } else {
        /* In place: the rows at the front that were not selected move to
         * the places of selected rows further back, then the selected rows,
         * kept aside, fill the front in order. */
        struct an_row *keep = an_xreallocarray(NULL, top, sizeof *keep);
        unsigned char *taken = an_xcalloc(n, 1);
        for (size_t i = 0; i < top; i++) {
            keep[i] = r->rows[ents[i].idx];
            taken[ents[i].idx] = 1;
        }
        size_t hole = top;
        for (size_t i = 0; i < top; i++) {
            if (taken[i])
                continue;
            while (!taken[hole])
                hole++;
            r->rows[hole++] = r->rows[i];
        }
        memcpy(r->rows, keep, top * sizeof *keep);
        free(taken);
        free(keep);
    }
    free(ents);
}

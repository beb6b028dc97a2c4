/*
 * load.c - stream .hops files into an an_dataset; see load.h.
 */
#include "load.h"
#include "an_xalloc.h"
#include "exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
an_dataset_init(struct an_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    an_strtab_init(&ds->strs);
    an_idmap_init(&ds->key_index);
    ds->per_thread = 1;
}

static void
file_release(struct an_file *f)
{
    free(f->path);
    free(f->argv);
    free(f->tracked);
    free(f->file_globs);
    free(f->counts);
}

void
an_dataset_release(struct an_dataset *ds)
{
    for (size_t i = 0; i < ds->nthreads; i++)
        free(ds->threads[i].counts);
    for (size_t i = 0; i < ds->nfiles; i++)
        file_release(&ds->files[i]);
    free(ds->threads);
    free(ds->files);
    free(ds->keys);
    an_idmap_release(&ds->key_index);
    an_strtab_release(&ds->strs);
    an_dataset_init(ds);
}

static uint64_t
key_hash(const struct an_key *k)
{
    uint64_t h = an_hash_mix(k->file, k->qualname);
    h = an_hash_mix(h, ((uint64_t)(uint32_t)k->firstlineno << 32) | k->offset);
    h = an_hash_mix(h, ((uint64_t)(uint32_t)k->line << 32) | (uint32_t)k->col);
    return an_hash_mix(h, k->opname);
}

static int
key_eq(const void *ctx, uint32_t id, const void *key)
{
    const struct an_key *a = &((const struct an_dataset *)ctx)->keys[id];
    const struct an_key *b = key;
    return a->file == b->file && a->qualname == b->qualname && a->opname == b->opname &&
           a->firstlineno == b->firstlineno && a->line == b->line && a->col == b->col &&
           a->offset == b->offset;
}

static uint32_t
dataset_key_hashed(struct an_dataset *ds, const struct an_key *key, uint64_t h)
{
    uint32_t id = an_idmap_find(&ds->key_index, h, key_eq, ds, key);
    if (id != AN_ID_NONE)
        return id;
    AN_GROW(ds->keys, (size_t)ds->nkeys + 1, ds->keys_cap);
    id = ds->nkeys++;
    ds->keys[id] = *key;
    an_idmap_insert(&ds->key_index, h, id);
    return id;
}

uint32_t
an_dataset_key(struct an_dataset *ds, const struct an_key *key)
{
    return dataset_key_hashed(ds, key, key_hash(key));
}

uint32_t
an_dataset_add_file(struct an_dataset *ds, const char *path)
{
    AN_GROW(ds->files, ds->nfiles + 1, ds->files_cap);
    struct an_file *f = &ds->files[ds->nfiles];
    memset(f, 0, sizeof *f);
    f->path = an_xstrdup(path);
    f->path_id = an_strtab_intern(&ds->strs, path);
    f->major = HOPS_FORMAT_MAJOR;
    f->minor = HOPS_FORMAT_MINOR;
    f->meta_flags = HOPS_META_ALL_INSTRUCTIONS;
    f->has_end = 1;
    f->end.flags = HOPS_END_CLEAN;
    f->end.exit_status = -1;
    f->python_version = f->mechanism = an_strtab_intern(&ds->strs, "");
    f->first_thread = ds->nthreads;
    f->per_thread = 1;
    return (uint32_t)ds->nfiles++;
}

size_t
an_dataset_add_thread(struct an_dataset *ds, uint32_t file, uint64_t tid, const char *name)
{
    AN_GROW(ds->threads, ds->nthreads + 1, ds->threads_cap);
    struct an_thread *t = &ds->threads[ds->nthreads];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->file = file;
    t->name = an_strtab_intern(&ds->strs, name);
    if (file < ds->nfiles)
        ds->files[file].n_threads++;
    return ds->nthreads++;
}

/* Makes a count array (a thread's or a file's) cover every key declared so
 * far, and returns it. */
static uint64_t *
cover_keys(const struct an_dataset *ds, uint64_t **counts, size_t *ncounts, size_t *cap)
{
    if (*ncounts < ds->nkeys) {
        AN_GROW(*counts, ds->nkeys, *cap);
        memset(*counts + *ncounts, 0, (ds->nkeys - *ncounts) * sizeof **counts);
        *ncounts = ds->nkeys;
    }
    return *counts;
}

int
an_thread_add(struct an_dataset *ds, size_t ti, uint32_t key, uint64_t count)
{
    struct an_thread *t = &ds->threads[ti];
    cover_keys(ds, &t->counts, &t->ncounts, &t->cap);
    t->counted |= ds->nkeys > 0;
    return __builtin_add_overflow(t->counts[key], count, &t->counts[key]) ? -1 : 0;
}

void
an_dataset_finish(struct an_dataset *ds)
{
    for (size_t i = 0; i < ds->nthreads; i++) {
        struct an_thread *t = &ds->threads[i];
        if (t->file < ds->nfiles && !ds->files[t->file].per_thread)
            continue; /* no counts per key to sum: its total was kept */
        uint64_t sum = 0;
        for (size_t k = 0; k < t->ncounts; k++)
            if (__builtin_add_overflow(sum, t->counts[k], &sum))
                sum = UINT64_MAX; /* a display total; saturating beats wrapping */
        t->total = sum;
    }
}

int
an_dataset_total_known(const struct an_dataset *ds)
{
    for (size_t i = 0; i < ds->nfiles; i++)
        if (!(ds->files[i].meta_flags & HOPS_META_ALL_INSTRUCTIONS))
            return 0;
    return 1;
}

int
an_file_unclean(const struct an_file *f)
{
    return !f->has_end || !(f->end.flags & HOPS_END_CLEAN);
}

const char *
an_file_incomplete_cause(const struct an_file *f)
{
    if (!f->has_end || !(f->end.flags & HOPS_END_INCOMPLETE))
        return NULL;
    switch (f->end.flags & (HOPS_END_NOMEM | HOPS_END_DROPPED)) {
    case HOPS_END_NOMEM:
        return "the recorder ran out of memory";
    case HOPS_END_DROPPED:
        return "CPython dropped some of the recorder's events (counts that came out negative "
               "were left out)";
    case HOPS_END_NOMEM | HOPS_END_DROPPED:
        return "the recorder ran out of memory, and CPython dropped some of its events";
    default: /* a recorder from before the causes were recorded */
        return "the recorder could not count everything (it ran out of memory or lost events)";
    }
}

/* ---- reading one file ------------------------------------------------------ */

#define OPNAME_CACHE 256 /* a power of two */

/* Counts per key while a file loads.  The frame loop's working set is a
 * count per key it touches; 32 bits instead of 64 halve it, so more of it
 * stays in cache.  The rare count that does not fit carries into hi, a
 * 64-bit array allocated on first need: the count of key k is
 * hi[k] + lo[k], hi a multiple of 2^32.  Finished into a uint64_t array
 * when the file is done. */
struct acc {
    uint32_t *lo; /* Owned */
    size_t n, cap;
    uint64_t *hi; /* Owned; NULL until a count needs it, else n entries */
    size_t hi_cap;
    int over; /* a count passed 2^64 - 1 */
};

/* Per-file state: the file's site ids map densely onto dataset key ids, and
 * its tids onto dataset threads. */
struct file_state {
    struct an_dataset *ds;
    uint32_t file;
    uint32_t *site_key; /* Owned; site_key[file site id] = key id */
    int site_is_key;    /* site_key[s] == s for every site so far (the usual case) */
    size_t nsites, sites_cap;
    struct an_idmap tids; /* tid -> index in ds->threads */
    uint64_t last_tid;
    size_t last_thread;                  /* cache: frames of one thread tend to come in runs */
    uint32_t opname_cache[OPNAME_CACHE]; /* an_strtab ids, AN_ID_NONE when empty */
    int per_thread;                      /* counts per thread (accs) or per file (acc) */
    struct acc acc;                      /* the file's counts when !per_thread */
    struct acc *accs;                    /* Owned; per_thread: [thread - first_thread] */
    size_t naccs, accs_cap;
};

/* Makes a covering every key declared so far. */
static void
acc_cover(struct acc *a, size_t nkeys)
{
    if (a->n >= nkeys)
        return;
    AN_GROW(a->lo, nkeys, a->cap);
    memset(a->lo + a->n, 0, (nkeys - a->n) * sizeof *a->lo);
    if (a->hi) {
        AN_GROW(a->hi, nkeys, a->hi_cap);
        memset(a->hi + a->n, 0, (nkeys - a->n) * sizeof *a->hi);
    }
    a->n = nkeys;
}

/* The slow path of adding count to key k, whose low word has been added:
 * the high word of count, and the carry out of the low word. */
static void __attribute__((noinline))
acc_carry(struct acc *a, uint32_t k, uint64_t count, int carry)
{
    if (!a->hi) {
        a->hi = an_xcalloc(a->cap, sizeof *a->hi);
        a->hi_cap = a->cap;
    }
    uint64_t *h = &a->hi[k];
    a->over |= __builtin_add_overflow(*h, count & ~(uint64_t)UINT32_MAX, h);
    a->over |= __builtin_add_overflow(*h, (uint64_t)carry << 32, h);
}

/* Moves the counts of a into a uint64_t array (*out, *nout, *cap). */
static void
acc_finish(struct acc *a, uint64_t **out, size_t *nout, size_t *cap)
{
    if (a->n) {
        AN_GROW(*out, a->n, *cap);
        for (size_t k = 0; k < a->n; k++)
            (*out)[k] = (a->hi ? a->hi[k] : 0) + a->lo[k];
        *nout = a->n;
    }
    free(a->lo);
    free(a->hi);
    memset(a, 0, sizeof *a);
}

static int
tid_eq(const void *ctx, uint32_t id, const void *key)
{
    const struct an_dataset *ds = ctx;
    return !ds->threads[id].superseded && ds->threads[id].tid == *(const uint64_t *)key;
}

/* A thread chunk (name != NULL) or a frame for tid.  Thread idents are reused
 * once a thread has ended: a thread chunk with another native id for a tid
 * that already has counts starts a new thread. */
static size_t
file_thread(struct file_state *fs, uint64_t tid, const char *name, uint64_t native_id)
{
    struct an_dataset *ds = fs->ds;
    if (fs->last_thread != SIZE_MAX && fs->last_tid == tid && !name)
        return fs->last_thread;
    uint64_t h = an_hash_mix(0, tid);
    uint32_t id = an_idmap_find(&fs->tids, h, tid_eq, ds, &tid);
    if (id != AN_ID_NONE && name && native_id && ds->threads[id].native_id &&
        ds->threads[id].native_id != native_id && ds->threads[id].counted) {
        ds->threads[id].superseded = 1;
        id = AN_ID_NONE;
    }
    if (id == AN_ID_NONE) {
        /* A frame may name a tid with no thread chunk before it (a writer that
         * never learnt the name); such a thread has an empty name. */
        size_t ti = an_dataset_add_thread(ds, fs->file, tid, name ? name : "");
        if (ti >= AN_ID_NONE)
            an_die_nomem();
        id = (uint32_t)ti;
        an_idmap_insert(&fs->tids, h, id);
    } else if (name) {
        ds->threads[id].name = an_strtab_intern(&ds->strs, name);
    }
    fs->last_tid = tid;
    fs->last_thread = id;
    return id;
}

static uint32_t *
intern_list(struct an_strtab *t, uint32_t n, const char *const *v)
{
    uint32_t *ids = an_xcalloc(n, sizeof *ids);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = an_strtab_intern(t, v ? v[i] : "");
    return ids;
}

static void
copy_meta(struct an_dataset *ds, struct an_file *f, const hops_file_meta *fm)
{
    const hops_meta *m = &fm->meta;
    f->major = fm->major;
    f->minor = fm->minor;
    f->python_version = an_strtab_intern(&ds->strs, m->python_version);
    f->mechanism = an_strtab_intern(&ds->strs, m->mechanism);
    f->argc = m->argc;
    f->argv = intern_list(&ds->strs, m->argc, m->argv);
    f->pid = m->pid;
    f->start_ns = m->start_ns;
    f->meta_flags = m->flags;
    f->n_tracked = m->n_tracked;
    f->tracked = intern_list(&ds->strs, m->n_tracked, m->tracked);
    f->n_file_globs = m->n_file_globs;
    f->file_globs = intern_list(&ds->strs, m->n_file_globs, m->file_globs);
}

#define KEY_BATCH 32

/* Opnames are few and repeat on every site: a small direct-mapped cache on
 * (length, first and last byte) saves hashing and probing the string table.
 * A hit is confirmed with a full compare. */
static uint32_t
intern_opname(struct file_state *fs, const char *name)
{
    struct an_strtab *t = &fs->ds->strs;
    size_t len = strlen(name);
    unsigned char first = (unsigned char)name[0];
    unsigned char last = len ? (unsigned char)name[len - 1] : 0;
    size_t slot = (len * 31u + first * 7u + last) & (OPNAME_CACHE - 1);
    uint32_t id = fs->opname_cache[slot];
    if (id != AN_ID_NONE && t->lens[id] == len && memcmp(an_strtab_get(t, id), name, len) == 0)
        return id;
    id = an_strtab_intern_len(t, name, len);
    fs->opname_cache[slot] = id;
    return id;
}

static int
add_code(struct file_state *fs, const hops_code *c)
{
    struct an_dataset *ds = fs->ds;
    /* Site ids are dense and declared in order (hops.h); insisting on it keeps
     * the map proportional to what the file really declares, so a corrupt
     * first_site cannot make us allocate gigabytes. */
    if (c->first_site != fs->nsites || c->n_sites > UINT32_MAX - c->first_site)
        return HOPS_E_CORRUPT;
    if (c->n_sites && !c->sites)
        return HOPS_E_CORRUPT;
    AN_GROW(fs->site_key, fs->nsites + c->n_sites, fs->sites_cap);
    /* Sites of one code object share file, qualname and firstlineno.  Keys
     * are hashed and their index slots prefetched a batch at a time: on a
     * large table nearly every lookup is a cache miss, and these overlap. */
    struct an_key k[KEY_BATCH];
    uint64_t h[KEY_BATCH];
    uint32_t file = an_strtab_intern(&ds->strs, c->filename);
    uint32_t qualname = an_strtab_intern(&ds->strs, c->qualname);
    uint32_t bit = 1u << (fs->file < 31 ? fs->file : 31);
    an_idmap_reserve(&ds->key_index, (size_t)ds->nkeys + c->n_sites);
    for (uint32_t b = 0; b < c->n_sites; b += KEY_BATCH) {
        uint32_t nb = c->n_sites - b < KEY_BATCH ? c->n_sites - b : KEY_BATCH;
        for (uint32_t i = 0; i < nb; i++) {
            const hops_site *s = &c->sites[b + i];
            k[i].file = file;
            k[i].qualname = qualname;
            k[i].firstlineno = c->firstlineno;
            k[i].file_bits = 0;
            k[i].offset = s->offset;
            k[i].line = s->line < 0 ? -1 : s->line;
            k[i].col = s->col < 0 ? -1 : s->col;
            k[i].opname = intern_opname(fs, s->opname);
            h[i] = key_hash(&k[i]);
            an_idmap_prefetch(&ds->key_index, h[i]);
        }
        for (uint32_t i = 0; i < nb; i++) {
            uint32_t id = dataset_key_hashed(ds, &k[i], h[i]);
            ds->keys[id].file_bits |= bit;
            fs->site_key[fs->nsites + b + i] = id;
            fs->site_is_key &= id == fs->nsites + b + i;
        }
    }
    fs->nsites += c->n_sites;
    ds->files[fs->file].codes++;
    ds->files[fs->file].sites += c->n_sites;
    return 0;
}

/* Returned by add_frame when a file's summed count of a key overflowed 64
 * bits: without per-thread counts it cannot tell whether one thread's count
 * did, which makes the file corrupt, or only the sum over threads did, which
 * is shown saturated.  The file is then loaded again with per-thread counts. */
#define LOAD_AMBIGUOUS_OVERFLOW 2 /* not 1, which hops_reader_next() returns */

/* Adds n raw records into a, mapping sites to keys through map (NULL: the
 * site is the key), and sums their counts into *total.  Returns -1 for a site
 * the file has not declared: with HOPS_READ_RAW_RECORDS that check is ours
 * (hops.h).  Inlined into both calls, so each gets a loop of its own. */
static inline __attribute__((always_inline)) int
fold_records(struct acc *a, const uint32_t *restrict map, size_t nsites,
             const uint8_t *restrict rec, size_t n, uint64_t *total, int *total_over)
{
    uint32_t *restrict lo = a->lo;
#ifdef __SIZEOF_INT128__
    /* 128 bits cannot overflow on fewer than 2^64 records: one add with
     * carry per record, and the check once per frame. */
    unsigned __int128 sum_all = *total;
#else
    uint64_t sum_all = *total;
    int over = 0;
#endif
    for (size_t i = 0; i < n; i++, rec += HOPS_RECORD_SIZE) {
        uint32_t site = hops_record_site(rec);
        uint64_t count = hops_record_count(rec);
        if (site >= nsites)
            return -1;
        uint32_t k = map ? map[site] : site;
        uint32_t old = lo[k], sum = old + (uint32_t)count;
        lo[k] = sum;
        if (__builtin_expect(((count >> 32) | (sum < old)) != 0, 0))
            acc_carry(a, k, count, sum < old);
#ifdef __SIZEOF_INT128__
        sum_all += count;
#else
        over |= __builtin_add_overflow(sum_all, count, &sum_all);
#endif
    }
#ifdef __SIZEOF_INT128__
    *total_over |= (sum_all >> 64) != 0;
#else
    *total_over |= over;
#endif
    *total = (uint64_t)sum_all;
    return 0;
}

/* The hot loop: one map lookup and one add per record, straight from the
 * reader's raw records (HOPS_READ_RAW_RECORDS: no decoded copy), into the
 * thread's or the file's counts; the thread's total is summed alongside.
 * Overflow of the total is tracked with an OR rather than a branch so the
 * loop stays tight. */
static int
add_frame(struct file_state *fs, const hops_frame *fr)
{
    struct an_dataset *ds = fs->ds;
    size_t ti = file_thread(fs, fr->tid, NULL, 0); /* may grow ds->threads */
    struct an_thread *t = &ds->threads[ti];
    struct an_file *f = &ds->files[fs->file];
    struct acc *a = &fs->acc;
    if (fs->per_thread) {
        size_t local = ti - f->first_thread;
        if (local >= fs->naccs) {
            AN_GROW(fs->accs, local + 1, fs->accs_cap);
            memset(fs->accs + fs->naccs, 0, (local + 1 - fs->naccs) * sizeof *fs->accs);
            fs->naccs = local + 1;
        }
        a = &fs->accs[local];
    }
    acc_cover(a, ds->nkeys);
    t->counted |= ds->nkeys > 0;
    /* Where every site is its own key (a file whose keys are all new, or
     * come in the order an earlier file declared them), the map lookup is
     * skipped. */
    uint64_t total = t->total;
    int total_over = 0;
    int rc =
        fs->site_is_key
            ? fold_records(a, NULL, fs->nsites, fr->records, fr->n, &total, &total_over)
            : fold_records(a, fs->site_key, fs->nsites, fr->records, fr->n, &total, &total_over);
    if (rc < 0)
        return HOPS_E_CORRUPT;
    if (a->over)
        return fs->per_thread ? HOPS_E_CORRUPT : LOAD_AMBIGUOUS_OVERFLOW;
    /* A display total; saturating beats wrapping. */
    t->total = total_over ? UINT64_MAX : total;
    f->frames++;
    f->raw_bytes += fr->raw_size;
    f->compressed_bytes += fr->compressed_size;
    return 0;
}

static void
set_err(char *err, size_t errlen, const char *msg)
{
    if (errlen) {
        snprintf(err, errlen, "%s", msg);
        /* strerror() capitalises ("No such file"); git style is lowercase. */
        if (err[0] >= 'A' && err[0] <= 'Z' && !(err[1] >= 'A' && err[1] <= 'Z'))
            err[0] = (char)(err[0] - 'A' + 'a');
    }
}

static int
load_reader(struct an_dataset *ds, const char *name, hops_reader *r, int per_thread, char *err,
            size_t errlen)
{
    struct file_state fs;
    memset(&fs, 0, sizeof fs);
    fs.ds = ds;
    fs.last_thread = SIZE_MAX;
    fs.site_is_key = 1;
    memset(fs.opname_cache, 0xff, sizeof fs.opname_cache);
    an_idmap_init(&fs.tids);
    fs.file = an_dataset_add_file(ds, name);
    fs.per_thread = per_thread;
    struct an_file *f = &ds->files[fs.file];
    f->per_thread = per_thread;
    f->has_end = 0;
    f->end.flags = 0;
    copy_meta(ds, f, hops_reader_meta(r));
    f->file_size = hops_reader_file_size(r);

    int rc = hops_reader_set_flags(r, HOPS_READ_RAW_RECORDS);
    hops_event ev;
    while (rc >= 0 && (rc = hops_reader_next(r, &ev)) == 1) {
        switch (ev.kind) {
        case HOPS_EV_CODE:
            rc = add_code(&fs, &ev.u.code);
            break;
        case HOPS_EV_THREAD: {
            /* file_thread() may grow ds->threads: index only after it returns. */
            size_t ti = file_thread(&fs, ev.u.thread.tid, ev.u.thread.name ? ev.u.thread.name : "",
                                    ev.u.thread.native_id);
            ds->threads[ti].native_id = ev.u.thread.native_id;
            break;
        }
        case HOPS_EV_FRAME:
            rc = add_frame(&fs, &ev.u.frame);
            break;
        case HOPS_EV_END:
            f = &ds->files[fs.file];
            f->has_end = 1;
            f->end = ev.u.end;
            break;
        default:
            break; /* an event kind from a newer library: nothing to fold */
        }
        if (rc < 0 || rc == LOAD_AMBIGUOUS_OVERFLOW)
            break;
    }
    free(fs.site_key);
    an_idmap_release(&fs.tids);
    f = &ds->files[fs.file];
    acc_finish(&fs.acc, &f->counts, &f->ncounts, &f->cap);
    for (size_t i = 0; i < fs.naccs; i++) {
        struct an_thread *t = &ds->threads[f->first_thread + i];
        acc_finish(&fs.accs[i], &t->counts, &t->ncounts, &t->cap);
    }
    free(fs.accs);
    if (rc == LOAD_AMBIGUOUS_OVERFLOW)
        return LOAD_AMBIGUOUS_OVERFLOW;
    if (rc < 0) {
        set_err(err, errlen, hops_strerror(rc));
        return -1;
    }
    return 0;
}

/* Drops the last file and its threads, to load it again.  Its keys stay:
 * the second pass declares the same ones. */
static void
drop_last_file(struct an_dataset *ds)
{
    struct an_file *f = &ds->files[ds->nfiles - 1];
    for (size_t i = f->first_thread; i < ds->nthreads; i++)
        free(ds->threads[i].counts);
    ds->nthreads = f->first_thread;
    file_release(f);
    ds->nfiles--;
}

/* Where a file's bytes come from: a path or the caller's memory. */
struct source {
    const char *path; /* NULL: data/size */
    const void *data;
    size_t size;
    int rereadable; /* a second pass sees the same bytes (not a pipe) */
};

static int
load_pass(struct an_dataset *ds, const char *name, const struct source *src, int per_thread,
          char *err, size_t errlen)
{
    hops_reader *r = NULL;
    errno = 0;
    int rc = src->path ? hops_reader_open_path(&r, src->path)
                       : hops_reader_open_mem(&r, src->data, src->size);
    if (rc < 0) {
        set_err(err, errlen,
                src->path && rc == HOPS_E_IO && errno ? strerror(errno) : hops_strerror(rc));
        hops_reader_close(r);
        return -1;
    }
    rc = load_reader(ds, name, r, per_thread, err, errlen);
    hops_reader_close(r);
    return rc;
}

/* Counts per file are enough unless ds wants them per thread, or the input
 * cannot be read twice should a count overflow (LOAD_AMBIGUOUS_OVERFLOW). */
static int
load_source(struct an_dataset *ds, const char *name, const struct source *src, char *err,
            size_t errlen)
{
    int per_thread = ds->per_thread || !src->rereadable;
    int rc = load_pass(ds, name, src, per_thread, err, errlen);
    if (rc == LOAD_AMBIGUOUS_OVERFLOW) {
        drop_last_file(ds);
        rc = load_pass(ds, name, src, 1, err, errlen);
    }
    return rc;
}

/* The library reports a missing file as a generic I/O error; open it first so
 * that the message says what is wrong, as other tools do.  *regular tells
 * whether it is a regular file (which can be read twice). */
static int
check_openable(const char *path, int *regular, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        set_err(err, errlen, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = 0;
    *regular = 0;
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            set_err(err, errlen, strerror(EISDIR));
            rc = -1;
        }
        *regular = S_ISREG(st.st_mode);
    }
    close(fd);
    return rc;
}

int
an_dataset_load(struct an_dataset *ds, const char *path, char *err, size_t errlen)
{
    struct source src = {path, NULL, 0, 0};
    if (check_openable(path, &src.rereadable, err, errlen) < 0)
        return -1;
    return load_source(ds, path, &src, err, errlen);
}

int
an_dataset_load_mem(struct an_dataset *ds, const char *name, const void *data, size_t size,
                    char *err, size_t errlen)
{
    struct source src = {NULL, data, size, 1};
    return load_source(ds, name, &src, err, errlen);
}

int
an_dataset_load_paths(struct an_dataset *ds, const char *const *paths, size_t n,
                      struct an_strbuf *warn, struct an_strbuf *err)
{
    char reason[256];
    for (size_t i = 0; i < n; i++) {
        if (an_dataset_load(ds, paths[i], reason, sizeof reason) < 0) {
            an_strbuf_addstr(err, "heavyops-analyze: ");
            an_strbuf_add_printable(err, paths[i]);
            an_strbuf_addf(err, ": %s\n", reason);
            return AN_EXIT_RUNTIME;
        }
        if (an_file_unclean(&ds->files[ds->nfiles - 1])) {
            an_strbuf_addstr(warn, "heavyops-analyze: warning: ");
            an_strbuf_add_printable(warn, paths[i]);
            an_strbuf_addstr(warn, ": recording did not end cleanly (program killed or "
                                   "crashed?); counts are what was flushed\n");
        }
        const struct an_file *f = &ds->files[ds->nfiles - 1];
        if (f->has_end && (f->end.flags & HOPS_END_INTERFERENCE)) {
            an_strbuf_addstr(warn, "heavyops-analyze: warning: ");
            an_strbuf_add_printable(warn, paths[i]);
            an_strbuf_addstr(warn, ": another tracer or profiler was active while recording; "
                                   "CPython drops events when two tools instrument the same "
                                   "code, so counts may be low\n");
        }
        const char *why = an_file_incomplete_cause(f);
        if (why != NULL) {
            an_strbuf_addstr(warn, "heavyops-analyze: warning: ");
            an_strbuf_add_printable(warn, paths[i]);
            an_strbuf_addf(warn, ": %s; counts may be low\n", why);
        }
    }
    return AN_EXIT_OK;
}

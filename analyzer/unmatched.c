/*
 * unmatched.c - warnings for filter patterns that match nothing; see
 * unmatched.h.
 */
#include "unmatched.h"

#include "an_xalloc.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUGGESTIONS 3

unsigned
an_edit_distance(const char *a, const char *b, unsigned limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    /* three rows of the table: i - 2, i - 1, i */
    unsigned *rows = an_xmalloc(3 * (lb + 1) * sizeof *rows);
    unsigned *pp = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned best = cur[0] = (unsigned)i;
        int ca = tolower((unsigned char)a[i - 1]);
        for (size_t j = 1; j <= lb; j++) {
            int cb = tolower((unsigned char)b[j - 1]);
            unsigned d = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
            if (d < best)
                best = d;
        }
        if (best > limit) { /* every later row is at least this far */
            free(rows);
            return limit + 1;
        }
        unsigned *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    unsigned d = prev[lb];
    free(rows);
    return d <= limit ? d : limit + 1;
}

/* seen[id] = 1 for each string id that some key uses in the given field */
static unsigned char *
distinct(const struct an_dataset *ds, size_t field_offset)
{
    unsigned char *seen = an_xcalloc(ds->strs.n ? ds->strs.n : 1, 1);
    for (uint32_t k = 0; k < ds->nkeys; k++) {
        uint32_t id;
        memcpy(&id, (const char *)&ds->keys[k] + field_offset, sizeof id);
        seen[id] = 1;
    }
    return seen;
}

static int
any_string(const struct an_dataset *ds, const unsigned char *seen, const struct an_filter *one,
           int (*match)(const struct an_filter *, const char *))
{
    for (size_t id = 0; id < ds->strs.n; id++)
        if (seen[id] && match(one, an_strtab_get(&ds->strs, (uint32_t)id)))
            return 1;
    return 0;
}

static void
warn_start(struct an_strbuf *warn, const char *option, const char *pattern)
{
    an_strbuf_addf(warn, "heavyops-analyze: warning: %s '", option);
    an_strbuf_add_printable(warn, pattern);
    an_strbuf_addstr(warn, "' matches no ");
}

static void
warn_end(struct an_strbuf *warn, const char *what, const struct an_dataset *ds)
{
    an_strbuf_addf(warn, "%s in the recording%s", what, ds->nfiles > 1 ? "s" : "");
}

struct suggestion {
    unsigned dist;
    const char *name;
};

static int
suggestion_cmp(const void *pa, const void *pb)
{
    const struct suggestion *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist < b->dist ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* "; did you mean A, B?" from the opnames in seen, or, where a file counted
 * only chosen instructions, what it counted. */
static void
instruction_hint(struct an_strbuf *warn, const struct an_dataset *ds, const unsigned char *seen,
                 const char *pattern)
{
    const unsigned limit = strlen(pattern) < 6 ? 1 : 2;
    struct suggestion best[MAX_SUGGESTIONS + 1];
    size_t n = 0;
    if (!strpbrk(pattern, "*?[")) {
        for (size_t id = 0; id < ds->strs.n; id++) {
            if (!seen[id])
                continue;
            const char *name = an_strtab_get(&ds->strs, (uint32_t)id);
            unsigned d = an_edit_distance(pattern, name, limit);
            if (d > limit)
                continue;
            best[n++] = (struct suggestion){d, name};
            qsort(best, n, sizeof *best, suggestion_cmp);
            if (n > MAX_SUGGESTIONS)
                n = MAX_SUGGESTIONS;
        }
    }
    if (n) {
        an_strbuf_addstr(warn, "; did you mean ");
        for (size_t i = 0; i < n; i++)
            an_strbuf_addf(warn, "%s%s", i ? ", " : "", best[i].name);
        an_strbuf_addch(warn, '?');
        return;
    }
    for (size_t i = 0; i < ds->nfiles; i++) {
        const struct an_file *f = &ds->files[i];
        if ((f->meta_flags & HOPS_META_ALL_INSTRUCTIONS) || f->n_tracked == 0)
            continue;
        an_strbuf_addstr(warn, "; ");
        an_strbuf_add_printable(warn, f->path);
        an_strbuf_addstr(warn, " counted only ");
        for (uint32_t t = 0; t < f->n_tracked; t++) {
            an_strbuf_addstr(warn, t ? ", " : "");
            an_strbuf_add_printable(warn, an_strtab_get(&ds->strs, f->tracked[t]));
        }
        an_strbuf_addstr(warn, " (record -i)");
        return;
    }
}

/* The filter options, in the order their warnings come. */
enum kind { K_INSTRUCTION, K_FILE, K_FUNCTION, K_THREAD };

static const struct {
    const char *option, *what;
    size_t key_field; /* where in an_key the strings to try are (not for threads) */
    int (*match)(const struct an_filter *, const char *);
} kinds[] = {
    [K_INSTRUCTION] = {"-i", "instruction", offsetof(struct an_key, opname), an_filter_instruction},
    [K_FILE] = {"-f", "file", offsetof(struct an_key, file), an_filter_file},
    [K_FUNCTION] = {"--function", "function", offsetof(struct an_key, qualname),
                    an_filter_function},
    [K_THREAD] = {"--thread", "thread", 0, NULL},
};

static int
any_thread(const struct an_dataset *ds, const struct an_filter *one)
{
    for (size_t t = 0; t < ds->nthreads; t++)
        if (an_filter_thread(one, ds->threads[t].tid, ds->threads[t].native_id,
                             an_strtab_get(&ds->strs, ds->threads[t].name)))
            return 1;
    return 0;
}

/* A warning for each of the n patterns of one option that matches nothing. */
static void
warn_each(struct an_strbuf *warn, const struct an_dataset *ds, enum kind k, const char **patterns,
          size_t n)
{
    if (n == 0)
        return;
    unsigned char *seen = k == K_THREAD ? NULL : distinct(ds, kinds[k].key_field);
    for (size_t i = 0; i < n; i++) {
        struct an_filter one; /* of this one pattern */
        memset(&one, 0, sizeof one);
        const char **list = &patterns[i];
        switch (k) {
        case K_INSTRUCTION:
            one.instructions = list;
            one.n_instructions = 1;
            break;
        case K_FILE:
            one.files = list;
            one.n_files = 1;
            break;
        case K_FUNCTION:
            one.functions = list;
            one.n_functions = 1;
            break;
        case K_THREAD:
            one.threads = list;
            one.n_threads = 1;
            break;
        }
        if (k == K_THREAD ? any_thread(ds, &one) : any_string(ds, seen, &one, kinds[k].match))
            continue;
        warn_start(warn, kinds[k].option, patterns[i]);
        warn_end(warn, kinds[k].what, ds);
        if (k == K_INSTRUCTION)
            instruction_hint(warn, ds, seen, patterns[i]);
        an_strbuf_addch(warn, '\n');
    }
    free(seen);
}

void
an_warn_unmatched(const struct an_filter *f, const struct an_dataset *ds, struct an_strbuf *warn)
{
    if (ds->nkeys == 0)
        return; /* nothing ran: an empty table says so already */
    warn_each(warn, ds, K_INSTRUCTION, f->instructions, f->n_instructions);
    warn_each(warn, ds, K_FILE, f->files, f->n_files);
    warn_each(warn, ds, K_FUNCTION, f->functions, f->n_functions);
    warn_each(warn, ds, K_THREAD, f->threads, f->n_threads);
}

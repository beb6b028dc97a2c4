/*
 * filter.c - row filters; see filter.h.
 */
#include "filter.h"
#include "an_xalloc.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#ifndef FNM_CASEFOLD
#    define FNM_CASEFOLD 0 /* not POSIX; without it -i is case-sensitive */
#endif

static const char *const default_instructions[] = {AN_DEFAULT_INSTRUCTIONS};

void
an_filter_init(struct an_filter *f)
{
    memset(f, 0, sizeof *f);
}

void
an_filter_release(struct an_filter *f)
{
    free(f->instructions);
    free(f->files);
    free(f->functions);
    free(f->threads);
    for (size_t i = 0; i < f->n_owned; i++)
        free(f->owned[i]);
    free(f->owned);
    an_filter_init(f);
}

int
an_filter_add_instructions(struct an_filter *f, const char *arg)
{
    char *copy = an_xstrdup(arg);
    f->owned = an_xreallocarray(f->owned, f->n_owned + 1, sizeof *f->owned);
    f->owned[f->n_owned++] = copy;
    for (char *piece = copy;;) {
        char *comma = strchr(piece, ',');
        if (comma)
            *comma = '\0';
        if (!*piece)
            return -1;
        an_filter_add(&f->instructions, &f->n_instructions, piece);
        if (!comma)
            return 0;
        piece = comma + 1;
    }
}

void
an_filter_add(const char ***list, size_t *n, const char *pattern)
{
    *list = an_xreallocarray(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = pattern;
}

int
an_filter_instruction(const struct an_filter *f, const char *opname)
{
    if (!f->n_instructions) {
        for (size_t i = 0; i < sizeof default_instructions / sizeof *default_instructions; i++)
            if (strcmp(default_instructions[i], opname) == 0)
                return 1;
        return 0;
    }
    for (size_t i = 0; i < f->n_instructions; i++)
        if (fnmatch(f->instructions[i], opname, FNM_CASEFOLD) == 0)
            return 1;
    return 0;
}

int
an_filter_file(const struct an_filter *f, const char *path)
{
    if (!f->n_files)
        return 1;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    for (size_t i = 0; i < f->n_files; i++) {
        const char *pat = f->files[i];
        if (fnmatch(pat, path, 0) == 0)
            return 1;
        if (!strchr(pat, '/') && fnmatch(pat, base, 0) == 0)
            return 1;
    }
    return 0;
}

int
an_filter_function(const struct an_filter *f, const char *qualname)
{
    if (!f->n_functions)
        return 1;
    for (size_t i = 0; i < f->n_functions; i++)
        if (fnmatch(f->functions[i], qualname, 0) == 0)
            return 1;
    return 0;
}

/* Parses a whole decimal string; 0 if s is not one. */
static int
parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s < '0' || *s > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = v;
    return 1;
}

int
an_filter_thread(const struct an_filter *f, uint64_t tid, uint64_t native_id, const char *name)
{
    if (!f->n_threads)
        return 1;
    for (size_t i = 0; i < f->n_threads; i++) {
        uint64_t v;
        if (parse_u64(f->threads[i], &v) && (v == tid || (native_id && v == native_id)))
            return 1;
        if (fnmatch(f->threads[i], name, 0) == 0)
            return 1;
    }
    return 0;
}

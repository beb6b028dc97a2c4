/*
 * filter.h - the row filters every view shares (-i, -f, --function, --thread,
 * --min-count).  Values of one option are alternatives (OR); different options
 * must all match (AND).
 */
#ifndef AN_FILTER_H
#define AN_FILTER_H

#include <stddef.h>
#include <stdint.h>

/* Shown when no -i is given: the instructions that allocate (closures, tuples,
 * lists, sets, dicts) and cell loads, the usual suspects of a hot loop. */
#define AN_DEFAULT_INSTRUCTIONS                                                                    \
    "MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "LOAD_DEREF"

struct an_filter {
    /* Each list is Borrowed (argv strings, or pieces of `owned`); an empty
     * list matches everything, except instructions, where it means the
     * default set. */
    const char **instructions;
    size_t n_instructions;
    const char **files;
    size_t n_files;
    const char **functions;
    size_t n_functions;
    const char **threads;
    size_t n_threads;
    uint64_t min_count; /* rows below this are hidden; 0 and 1 show every nonzero row */
    /* Internal (diff): also keep rows of sites the selected files declared but
     * never ran, with count 0, so that sites can be numbered in order. */
    int keep_zero;
    char **owned; /* Owned: copies of comma lists, cut into pieces */
    size_t n_owned;
};

void an_filter_init(struct an_filter *f);
void an_filter_release(struct an_filter *f);
/* Appends a pattern to one of the lists (the lists are Owned arrays of
 * Borrowed strings). */
void an_filter_add(const char ***list, size_t *n, const char *pattern);

/* Appends each piece of a comma-separated list of instruction patterns (no
 * opname has a comma: "-i BUILD_TUPLE,BUILD_LIST" as perf's -e a,b).  -1 if a
 * piece is empty. */
int an_filter_add_instructions(struct an_filter *f, const char *arg);

/* -i: fnmatch, case-insensitive (opnames are upper case, people type lower). */
int an_filter_instruction(const struct an_filter *f, const char *opname);
/* -f: fnmatch against the whole path ('*' also matches '/'); a pattern without
 * '/' may match the base name instead. */
int an_filter_file(const struct an_filter *f, const char *path);
/* --function: fnmatch against the qualname. */
int an_filter_function(const struct an_filter *f, const char *qualname);
/* --thread: a decimal value equal to the tid or native id, or a glob matching
 * the thread name. */
int an_filter_thread(const struct an_filter *f, uint64_t tid, uint64_t native_id, const char *name);

#endif /* AN_FILTER_H */

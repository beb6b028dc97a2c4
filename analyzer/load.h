/*
 * load.h - first stage of the analyzer: stream .hops files through the format
 * library's pull reader and fold every counter into a dataset whose size is
 * proportional to the number of distinct sites and threads, never to the size
 * of the file.
 *
 *   hops_reader (format/) -> load -> aggregate -> cmd_report/cmd_diff/cmd_info -> render
 *
 * A "key" is one instruction of the program: sites with the same file,
 * qualname, firstlineno and offset (and, to be safe against mixing recordings
 * of different program versions, the same line, column and opname) are one
 * key, whichever file or code object declared them.  Folding a frame record
 * is one array lookup (file site id -> key id) and one add into a dense
 * count array indexed by key id: by default one array per file, the sum of
 * its threads, since most views never look at threads; with
 * an_dataset.per_thread set, one per thread of each file, which thread views
 * and --thread filters need.  Either way each thread's total is kept.
 */
#ifndef AN_LOAD_H
#define AN_LOAD_H

#include "an_idmap.h"
#include "an_strbuf.h"
#include "an_strtab.h"

#include <hops/hops.h>

#include <stddef.h>
#include <stdint.h>

struct an_key {
    uint32_t file, qualname, opname; /* an_strtab ids */
    int32_t firstlineno;
    int32_t line; /* -1 when unknown */
    int32_t col;  /* 0-based as recorded, -1 when unknown */
    uint32_t offset;
    /* Bit min(i, 31) is set when file i declared this site (not part of the
     * key): diff numbers the sites each recording declared, run or not. */
    uint32_t file_bits;
};

struct an_thread {
    uint64_t tid, native_id;
    uint32_t name; /* an_strtab id; the last name the file gave this tid */
    uint32_t file; /* index in an_dataset.files */
    /* Owned; counts[key id], keys >= ncounts count 0.  Only when its file
     * has per_thread set; otherwise NULL and the file holds the counts. */
    uint64_t *counts;
    size_t ncounts, cap;
    uint64_t total; /* sum of its counts, stuck at UINT64_MAX if larger */
    int counted;    /* a frame of it was folded while keys existed */
    int superseded; /* a later thread of its file reused its tid */
};

/* What info shows about one input file; strings are an_strtab ids. */
struct an_file {
    char *path;       /* Owned */
    uint32_t path_id; /* the same path as an an_strtab id */
    uint16_t major, minor;
    uint32_t python_version, mechanism;
    uint32_t argc;
    uint32_t *argv; /* Owned */
    uint64_t pid;
    int64_t start_ns;
    uint32_t meta_flags; /* HOPS_META_* */
    uint32_t n_tracked;
    uint32_t *tracked; /* Owned */
    uint32_t n_file_globs;
    uint32_t *file_globs; /* Owned */
    int has_end;
    hops_end end;
    uint64_t frames, codes, sites;
    uint64_t file_size, raw_bytes, compressed_bytes;
    size_t first_thread, n_threads; /* its range in an_dataset.threads */
    int per_thread;                 /* 1: counts per key are in its threads; 0: in counts */
    uint64_t *counts; /* Owned; per_thread 0: counts[key id], the sum of its threads */
    size_t ncounts, cap;
};

struct an_dataset {
    struct an_strtab strs;
    struct an_key *keys; /* Owned */
    uint32_t nkeys;
    size_t keys_cap;
    struct an_idmap key_index;
    struct an_thread *threads; /* Owned */
    size_t nthreads, threads_cap;
    struct an_file *files; /* Owned */
    size_t nfiles, files_cap;
    /* Set before loading: files loaded from then on keep counts per thread
     * and key (an_thread.counts), not only per file.  1 after init. */
    int per_thread;
};

void an_dataset_init(struct an_dataset *ds);
void an_dataset_release(struct an_dataset *ds);

/* Reads one file into ds.  Returns 0, or -1 with a one-line reason (lowercase,
 * no trailing period: "no such file or directory", "truncated file") in err.
 * On error ds keeps whatever was folded before the error; callers stop. */
int an_dataset_load(struct an_dataset *ds, const char *path, char *err, size_t errlen);
/* Same over a caller-owned buffer (tests); name is what err messages and info
 * call the file. */
int an_dataset_load_mem(struct an_dataset *ds, const char *name, const void *data, size_t size,
                        char *err, size_t errlen);

/* Loads every path in order, as the commands do.  A recording that did not end
 * cleanly adds the warning line "heavyops-analyze: warning: FILE: recording did
 * not end cleanly ..." to warn; the first file that fails adds
 * "heavyops-analyze: FILE: reason" to err and stops.  Returns AN_EXIT_OK or
 * AN_EXIT_RUNTIME. */
int an_dataset_load_paths(struct an_dataset *ds, const char *const *paths, size_t n,
                          struct an_strbuf *warn, struct an_strbuf *err);

/* The key id of a site, adding the key if new (used by load and by tests that
 * build datasets in memory). */
uint32_t an_dataset_key(struct an_dataset *ds, const struct an_key *key);
/* Appends a thread of file `file` and returns its index. */
size_t an_dataset_add_thread(struct an_dataset *ds, uint32_t file, uint64_t tid, const char *name);
/* Adds count to counts[key] of thread t, whose file must have per_thread set
 * (tests and slow paths; load's frame loop is inlined).  Returns -1 if the sum
 * overflows 64 bits. */
int an_thread_add(struct an_dataset *ds, size_t t, uint32_t key, uint64_t count);
/* Appends an an_file with defaults (all instructions, clean end, counts per
 * thread) for in-memory datasets; returns its index. */
uint32_t an_dataset_add_file(struct an_dataset *ds, const char *path);
/* Recomputes the total of every thread of a per_thread file (after building
 * a dataset by hand). */
void an_dataset_finish(struct an_dataset *ds);

static inline uint64_t
an_thread_count(const struct an_thread *t, uint32_t key)
{
    return key < t->ncounts ? t->counts[key] : 0;
}

/* 1 if every file counted all instructions (HOPS_META_ALL_INSTRUCTIONS), so that
 * totals are exact; 0 if any file counted only a tracked set. */
int an_dataset_total_known(const struct an_dataset *ds);

/* 1 if the recording of file i did not end cleanly. */
int an_file_unclean(const struct an_file *f);
/* Why f is marked incomplete, as a phrase ("the recorder ran out of memory"),
 * or NULL if it is not. */
const char *an_file_incomplete_cause(const struct an_file *f);

#endif /* AN_LOAD_H */

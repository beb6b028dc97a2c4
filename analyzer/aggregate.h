/*
 * aggregate.h - second stage: group the dataset's keys (or threads) into the
 * rows of one view, applying the filters, and sort them.
 *
 *   load -> aggregate -> cmd_report / cmd_diff -> render
 *
 * A row is a count plus up to AN_MAX_FIELDS key fields.  String fields hold
 * an_strtab ids (so rows compare as integers); line and column hold -1 when
 * unknown; column is stored 0-based as recorded and shown 1-based.
 */
#ifndef AN_AGGREGATE_H
#define AN_AGGREGATE_H

#include "filter.h"
#include "load.h"

#include <stddef.h>
#include <stdint.h>

enum an_by {
    AN_BY_INSTRUCTION,
    AN_BY_LOCATION,
    AN_BY_LINE,
    AN_BY_FUNCTION,
    AN_BY_FILE,
    AN_BY_THREAD,
    AN_BY_SITE,
    AN_BY_PROCESS,
    AN_BY_PUBLIC_COUNT,                     /* values below are internal groupings used by diff */
    AN_BY_LOCATION_FN = AN_BY_PUBLIC_COUNT, /* location fields, then firstlineno */
    AN_BY_THREAD_NAME,
    AN_BY_COUNT
};

enum an_field {
    AN_F_FILE,
    AN_F_LINE,
    AN_F_COLUMN,
    AN_F_FUNCTION,
    AN_F_FIRSTLINENO,
    AN_F_OFFSET,
    AN_F_INSTRUCTION,
    AN_F_THREAD_ID,
    AN_F_THREAD_NAME,
    AN_F_PID,       /* the recorded process (its file's pid) */
    AN_F_RECORDING, /* the path of the .hops file, as given */
};

enum an_field_kind {
    AN_FK_STR, /* an_strtab id */
    AN_FK_INT, /* signed; for line and column, < 0 means unknown (null) */
    AN_FK_U64, /* thread ids: unsigned 64-bit stored in the int64 slot */
};

struct an_field_desc {
    const char *name; /* CSV header and JSON member name */
    enum an_field_kind kind;
    int nullable; /* negative values are rendered as null / empty */
};

#define AN_MAX_FIELDS 7

struct an_view {
    const char *name;  /* --by value */
    const char *title; /* table column header */
    unsigned nfields;
    enum an_field fields[AN_MAX_FIELDS];
};

const struct an_field_desc *an_field_get(enum an_field f);
const struct an_view *an_view_get(enum an_by by);
/* Parses a public --by value; returns 0 or -1 if unknown. */
int an_by_parse(const char *s, enum an_by *out);
/* "instruction|location|..." for help and error messages. */
const char *an_by_names(void);

struct an_row {
    uint64_t count;
    int64_t f[AN_MAX_FIELDS]; /* in an_view.fields order; unused slots 0 */
};

struct an_rows {
    enum an_by by;
    struct an_row *rows; /* Owned */
    size_t n, cap;
    uint64_t tracked; /* sum of counts that pass -i/-f/--function/--thread */
    uint64_t total;   /* sum of all counts of the selected threads */
    int total_known;  /* 0 if any file counted only a tracked instruction set */
};

void an_rows_init(struct an_rows *r);
void an_rows_release(struct an_rows *r);

/* Fills out (which must be initialised and is reset) with the rows of view
 * `by`: rows with a zero count or below filter->min_count are dropped, the rest
 * sorted by count descending, then by key (an_row_cmp_keys).  Thread views and
 * --thread filters need files loaded with per-thread counts
 * (an_dataset.per_thread, an_needs_thread_counts()). */
void an_aggregate(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
                  struct an_rows *out);
/* Same, but only the first min(top, n) rows are sorted (top 0: all of them);
 * the others follow in no particular order.  For tables that show top rows. */
void an_aggregate_top(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
                      size_t top, struct an_rows *out);
/* The rows of files [first_file, first_file + nfiles) only (diff loads both
 * recordings into one dataset so that string ids agree), in no particular
 * order. */
void an_aggregate_files(const struct an_dataset *ds, const struct an_filter *filter, enum an_by by,
                        size_t first_file, size_t nfiles, struct an_rows *out);

/* 1 if view `by` or the filter needs counts per thread and key. */
int an_needs_thread_counts(const struct an_filter *filter, enum an_by by);

/* Key order used to break ties: the view's fields in order, strings
 * byte-wise, numbers numerically (unknown line/column first). */
int an_row_cmp_keys(const struct an_view *v, const struct an_strtab *strs, const struct an_row *a,
                    const struct an_row *b);
/* Sorts rows by count descending, then by key, then by their current
 * position (a stable sort). */
void an_rows_sort(struct an_rows *r, const struct an_strtab *strs);
/* Puts the rows that an_rows_sort() would put first, min(top, n) of them, at
 * the start in that order (top 0: sorts all); the rest follow in no
 * particular order.  A pass with a bounded heap, then a sort of top rows. */
void an_rows_sort_top(struct an_rows *r, const struct an_strtab *strs, size_t top);

/* a + b, stuck at UINT64_MAX instead of wrapping (sums across threads and
 * files can exceed what one counter held). */
static inline uint64_t
an_add_sat(uint64_t a, uint64_t b)
{
    uint64_t s;
    return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

#endif /* AN_AGGREGATE_H */

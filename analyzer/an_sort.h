/*
 * an_sort.h - a stable merge sort that passes a context to the comparator.
 * qsort() has no context argument and qsort_r() differs between glibc and the
 * BSDs; row comparisons need the string table, and stability keeps equal rows
 * in a reproducible order.
 */
#ifndef AN_SORT_H
#define AN_SORT_H

#include <stddef.h>
#include <stdint.h>

typedef int (*an_cmp_fn)(const void *a, const void *b, void *ctx);

void an_sort(void *base, size_t n, size_t size, an_cmp_fn cmp, void *ctx);

/* Reorders idx[0..n), indices into the caller's records compared by cmp
 * (which gets pointers to two uint32_t), so that its first min(top, n)
 * entries are the ones that sort first, in order (top 0: sorts all); the
 * rest follow in no particular order.  cmp must be a total order (never 0 for
 * different records), so the result does not depend on the input order.  A
 * pass with a bounded heap, then a sort of top entries. */
void an_sort_top_idx(uint32_t *idx, size_t n, size_t top, an_cmp_fn cmp, void *ctx);

#endif /* AN_SORT_H */

/*
 * an_sort.h - a stable merge sort that passes a context to the comparator.
 * qsort() has no context argument and qsort_r() differs between glibc and the
 * BSDs; row comparisons need the string table, and stability keeps equal rows
 * in a reproducible order.
 */
#ifndef AN_SORT_H
#define AN_SORT_H

#include <stddef.h>

typedef int (*an_cmp_fn)(const void *a, const void *b, void *ctx);

void an_sort(void *base, size_t n, size_t size, an_cmp_fn cmp, void *ctx);

#endif /* AN_SORT_H */

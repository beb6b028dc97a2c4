/*
 * hops_alloc.c - the single allocation wrapper of format/ (STYLE.md rule 5).
 * The only file allowed to call the C allocator directly.
 */
#define HOPS_ALLOC_IMPLEMENTATION
#include "hops_private.h"

void *
hops_malloc(size_t size)
{
    /* malloc(0) may return NULL, which callers would mistake for failure. */
    return malloc(size ? size : 1);
}

void *
hops_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *
hops_realloc(void *p, size_t size)
{
    return realloc(p, size ? size : 1);
}

void
hops_free(void *p)
{
    free(p);
}

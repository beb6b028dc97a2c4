/*
 * an_xalloc.c - allocation wrappers that stop the program cleanly on failure.
 */
#include "an_xalloc.h"
#include "exitcodes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

_Noreturn void
an_die_nomem(void)
{
    fputs("heavyops-analyze: out of memory\n", stderr);
    exit(AN_EXIT_RUNTIME);
}

void *
an_xmalloc(size_t size)
{
    /* malloc(0) may return NULL; never let that look like a failure. */
    void *p = malloc(size ? size : 1);
    if (!p)
        an_die_nomem();
    return p;
}

void *
an_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        an_die_nomem();
    return p;
}

void *
an_xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        an_die_nomem();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        an_die_nomem();
    return q;
}

char *
an_xstrdup(const char *s)
{
    size_t len = strlen(s);
    char *d = an_xmalloc(len + 1);
    memcpy(d, s, len + 1);
    return d;
}

/* Below this, malloc's own arenas do better than a mapping of its own. */
#define BIG_BYTES  ((size_t)4 << 20)
#define HUGE_BYTES ((size_t)2 << 20)

static size_t
huge_round(size_t bytes)
{
    if (bytes > SIZE_MAX - HUGE_BYTES)
        an_die_nomem();
    return (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
}

void *
an_xcalloc_big(size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes >= BIG_BYTES) {
        /* Map one huge page more and trim, so the array starts on a huge
         * page boundary (new kernels align large mappings themselves). */
        size_t len = huge_round(bytes);
        char *p = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
            an_die_nomem();
        char *a = (char *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
        if (a > p)
            munmap(p, (size_t)(a - p));
        munmap(a + len, (size_t)(p + HUGE_BYTES - a)); /* a < p + HUGE_BYTES */
        (void)madvise(a, len, MADV_HUGEPAGE);
        return a;
    }
#endif
    return an_xcalloc(bytes, 1);
}

void
an_free_big(void *p, size_t bytes)
{
    if (!p)
        return;
#ifdef MADV_HUGEPAGE
    if (bytes >= BIG_BYTES) {
        munmap(p, huge_round(bytes));
        return;
    }
#endif
    free(p);
}

void
an_hint_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes < BIG_BYTES)
        return;
    uintptr_t start = ((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_BYTES - 1);
    if (start < end)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

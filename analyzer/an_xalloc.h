/*
 * an_xalloc.h - allocation for the analyzer.  A command-line tool has nothing
 * sensible to do when memory runs out but to say so and stop, so these never
 * return NULL: they print "heavyops-analyze: out of memory" and exit with
 * AN_EXIT_RUNTIME (git's xmalloc).  Sizes are checked for overflow first.
 */
#ifndef AN_XALLOC_H
#define AN_XALLOC_H

#include <stddef.h>

void *an_xmalloc(size_t size);
void *an_xcalloc(size_t n, size_t size);
/* realloc(p, n * size) with the product checked. */
void *an_xreallocarray(void *p, size_t n, size_t size);
char *an_xstrdup(const char *s);

/* Large arrays read at random (hash indexes, the key table) miss the TLB on
 * nearly every access with 4 KiB pages; these ask for 2 MiB pages (Linux
 * transparent huge pages, in "madvise" mode on many systems).  A hint only:
 * elsewhere they are ordinary allocations.
 *
 * an_xcalloc_big() returns bytes zeroed bytes, to be freed only with
 * an_free_big(p, bytes) (same bytes; p may be NULL). */
void *an_xcalloc_big(size_t bytes);
void an_free_big(void *p, size_t bytes);
/* Hints huge pages for the 2 MiB-aligned part of [p, p + bytes), memory from
 * malloc or realloc. */
void an_hint_huge(void *p, size_t bytes);
_Noreturn void an_die_nomem(void);

/* Grows *arr (of *cap elements of size elem) to hold at least need elements,
 * doubling so that repeated pushes are amortised O(1).  Large arrays get the
 * huge-page hint: fresh memory costs a page fault every 4 KiB otherwise. */
#define AN_GROW(arr, need, cap)                                                                    \
    do {                                                                                           \
        if ((size_t)(need) > (size_t)(cap)) {                                                      \
            size_t an_nc_ = (cap) ? (size_t)(cap)*2 : 16;                                          \
            if (an_nc_ < (size_t)(need))                                                           \
                an_nc_ = (size_t)(need);                                                           \
            (arr) = an_xreallocarray((arr), an_nc_, sizeof(*(arr)));                               \
            (cap) = an_nc_;                                                                        \
            an_hint_huge((arr), an_nc_ * sizeof(*(arr)));                                          \
        }                                                                                          \
    } while (0)

#endif /* AN_XALLOC_H */

/*
 * an_sort.c - stable bottom-up merge sort with a context pointer.
 */
#include "an_sort.h"
#include "an_xalloc.h"

#include <stdlib.h>
#include <string.h>

void
an_sort(void *base, size_t n, size_t size, an_cmp_fn cmp, void *ctx)
{
    if (n < 2)
        return;
    char *a = base;
    char *tmp = an_xreallocarray(NULL, n, size);
    char *src = a, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                /* <= keeps equal elements in their original order */
                if (cmp(src + i * size, src + j * size, ctx) <= 0)
                    memcpy(dst + k++ * size, src + i++ * size, size);
                else
                    memcpy(dst + k++ * size, src + j++ * size, size);
            }
            memcpy(dst + k * size, src + i * size, (mid - i) * size);
            k += mid - i;
            memcpy(dst + k * size, src + j * size, (hi - j) * size);
        }
        char *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * size);
    free(tmp);
}

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

/* Max-heap of indices on cmp's order: the root is the selected index that
 * sorts last, the one a better candidate replaces. */
static void
idx_sift_down(uint32_t *h, size_t n, size_t i, an_cmp_fn cmp, void *ctx)
{
    for (;;) {
        size_t l = 2 * i + 1, worst = i;
        if (l < n && cmp(&h[worst], &h[l], ctx) < 0)
            worst = l;
        if (l + 1 < n && cmp(&h[worst], &h[l + 1], ctx) < 0)
            worst = l + 1;
        if (worst == i)
            return;
        uint32_t t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

void
an_sort_top_idx(uint32_t *idx, size_t n, size_t top, an_cmp_fn cmp, void *ctx)
{
    if (top == 0 || top >= n) {
        an_sort(idx, n, sizeof *idx, cmp, ctx);
        return;
    }
    for (size_t i = top / 2; i-- > 0;)
        idx_sift_down(idx, top, i, cmp, ctx);
    for (size_t i = top; i < n; i++) {
        if (cmp(&idx[i], &idx[0], ctx) >= 0)
            continue;
        uint32_t t = idx[0];
        idx[0] = idx[i];
        idx[i] = t;
        idx_sift_down(idx, top, 0, cmp, ctx);
    }
    an_sort(idx, top, sizeof *idx, cmp, ctx);
}

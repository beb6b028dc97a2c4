/*
 * an_xalloc.c - allocation wrappers that stop the program cleanly on failure.
 */
#include "an_xalloc.h"
#include "exitcodes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

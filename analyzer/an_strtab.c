/*
 * an_strtab.c - string interning over an_idmap; see an_strtab.h.
 */
#include "an_strtab.h"
#include "an_xalloc.h"

#include <stdlib.h>
#include <string.h>

struct lookup {
    const char *s;
    size_t len;
};

static int
str_eq(const void *ctx, uint32_t id, const void *key)
{
    const struct an_strtab *t = ctx;
    const struct lookup *k = key;
    return t->lens[id] == k->len && memcmp(t->bytes + t->offs[id], k->s, k->len) == 0;
}

void
an_strtab_init(struct an_strtab *t)
{
    memset(t, 0, sizeof *t);
    an_idmap_init(&t->index);
}

void
an_strtab_release(struct an_strtab *t)
{
    free(t->bytes);
    free(t->offs);
    free(t->lens);
    an_idmap_release(&t->index);
    an_strtab_init(t);
}

uint32_t
an_strtab_intern_len(struct an_strtab *t, const char *s, size_t len)
{
    struct lookup k = {s, len};
    uint64_t h = an_hash_bytes(s, len);
    uint32_t id = an_idmap_find(&t->index, h, str_eq, t, &k);
    if (id != AN_ID_NONE)
        return id;
    if (len > UINT32_MAX - 1 || t->len > SIZE_MAX - len - 1)
        an_die_nomem();
    AN_GROW(t->bytes, t->len + len + 1, t->cap);
    AN_GROW(t->offs, (size_t)t->n + 1, t->offs_cap);
    AN_GROW(t->lens, (size_t)t->n + 1, t->lens_cap);
    memcpy(t->bytes + t->len, s, len);
    t->bytes[t->len + len] = '\0';
    id = t->n++;
    t->offs[id] = t->len;
    t->lens[id] = (uint32_t)len;
    t->len += len + 1;
    an_idmap_insert(&t->index, h, id);
    return id;
}

uint32_t
an_strtab_intern(struct an_strtab *t, const char *s)
{
    return an_strtab_intern_len(t, s ? s : "", s ? strlen(s) : 0);
}

uint32_t
an_strtab_find(const struct an_strtab *t, const char *s)
{
    struct lookup k = {s, strlen(s)};
    return an_idmap_find(&t->index, an_hash_bytes(s, k.len), str_eq, t, &k);
}

int
an_strtab_cmp(const struct an_strtab *t, uint32_t a, uint32_t b)
{
    if (a == b)
        return 0;
    uint32_t la = t->lens[a], lb = t->lens[b];
    int c = memcmp(an_strtab_get(t, a), an_strtab_get(t, b), la < lb ? la : lb);
    if (c)
        return c;
    return la < lb ? -1 : la > lb;
}

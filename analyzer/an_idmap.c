/*
 * an_idmap.c - open-addressing (hash, id) index; see an_idmap.h.
 */
#include "an_idmap.h"
#include "an_xalloc.h"

#include <stdint.h>
#include <stdlib.h>

void
an_idmap_init(struct an_idmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->n = 0;
}

void
an_idmap_release(struct an_idmap *m)
{
    an_free_big(m->slots, m->cap * sizeof *m->slots);
    an_idmap_init(m);
}

uint32_t
an_idmap_find(const struct an_idmap *m, uint64_t hash, an_idmap_eq_fn eq, const void *ctx,
              const void *key)
{
    if (!m->cap)
        return AN_ID_NONE;
    size_t mask = m->cap - 1;
    uint32_t h32 = (uint32_t)hash;
    for (size_t i = (size_t)h32 & mask;; i = (i + 1) & mask) {
        const struct an_idmap_slot *s = &m->slots[i];
        if (!s->id1)
            return AN_ID_NONE;
        if (s->hash == h32 && eq(ctx, s->id1 - 1, key))
            return s->id1 - 1;
    }
}

static void
place(struct an_idmap_slot *slots, size_t mask, uint32_t h32, uint32_t id1)
{
    size_t i = (size_t)h32 & mask;
    while (slots[i].id1)
        i = (i + 1) & mask;
    slots[i].hash = h32;
    slots[i].id1 = id1;
}

static void
rehash(struct an_idmap *m, size_t ncap)
{
    if (ncap > SIZE_MAX / sizeof(struct an_idmap_slot))
        an_die_nomem();
    /* Lookups land anywhere in the slots: huge pages when large. */
    struct an_idmap_slot *ns = an_xcalloc_big(ncap * sizeof *ns);
    /* Probing starts from the stored 32 hash bits, so growing needs no
     * access to the records. */
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].id1)
            place(ns, ncap - 1, m->slots[i].hash, m->slots[i].id1);
    an_free_big(m->slots, m->cap * sizeof *m->slots);
    m->slots = ns;
    m->cap = ncap;
}

void
an_idmap_reserve(struct an_idmap *m, size_t n)
{
    if (n > SIZE_MAX / 4)
        an_die_nomem();
    size_t ncap = m->cap ? m->cap : 64;
    while (n * 2 > ncap)
        ncap *= 2;
    if (ncap != m->cap)
        rehash(m, ncap);
}

void
an_idmap_insert(struct an_idmap *m, uint64_t hash, uint32_t id)
{
    if (id == AN_ID_NONE)
        an_die_nomem(); /* 2^32 - 1 records: the ids are exhausted */
    if ((m->n + 1) * 2 > m->cap)
        rehash(m, m->cap ? m->cap * 2 : 64);
    place(m->slots, m->cap - 1, (uint32_t)hash, id + 1);
    m->n++;
}

uint64_t
an_hash_bytes(const void *data, size_t len)
{
    /* FNV-1a, then a final mix so that both halves of the result are usable. */
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return an_hash_mix(h, len);
}

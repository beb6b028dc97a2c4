/*
 * an_idmap.h - one small open-addressing hash index, used for every lookup in
 * the analyzer: string interning, the site key table, aggregation groups and
 * the diff join.
 *
 * The map stores only (hash, id) pairs; the caller keeps the records in its own
 * dense array and supplies the equality test.  That keeps records contiguous
 * (cheap to sort and iterate) and lets one implementation serve every key type.
 * Linear probing, power-of-two capacity, load factor at most 1/2.
 */
#ifndef AN_IDMAP_H
#define AN_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define AN_ID_NONE UINT32_MAX

struct an_idmap_slot {
    uint32_t hash; /* low 32 bits of the key's hash, to skip most compares */
    uint32_t id1;  /* id + 1; 0 marks an empty slot */
};

struct an_idmap {
    struct an_idmap_slot *slots; /* Owned */
    size_t cap;                  /* power of two, or 0 before the first insert */
    size_t n;
};

/* Returns nonzero when record id equals the key the caller is looking for. */
typedef int (*an_idmap_eq_fn)(const void *ctx, uint32_t id, const void *key);

void an_idmap_init(struct an_idmap *m);
void an_idmap_release(struct an_idmap *m);

/* Id of the record equal to key, or AN_ID_NONE. */
uint32_t an_idmap_find(const struct an_idmap *m, uint64_t hash, an_idmap_eq_fn eq, const void *ctx,
                       const void *key);
/* Adds id under hash; the caller has checked that no equal record is present. */
void an_idmap_insert(struct an_idmap *m, uint64_t hash, uint32_t id);

/* Grows m so that n records in all fit without another rehash. */
void an_idmap_reserve(struct an_idmap *m, size_t n);
/* Starts loading the first slot a lookup of hash probes; batch callers hash
 * several keys, prefetch them all, then look them up, so that the cache
 * misses of a large map overlap. */
static inline void
an_idmap_prefetch(const struct an_idmap *m, uint64_t hash)
{
    if (m->cap)
        __builtin_prefetch(&m->slots[(size_t)(uint32_t)hash & (m->cap - 1)]);
}

/* Hash helpers: a byte string, and a mixer to fold integers into a hash. */
uint64_t an_hash_bytes(const void *data, size_t len);
static inline uint64_t
an_hash_mix(uint64_t h, uint64_t v)
{
    /* splitmix64 finaliser over the running state: cheap and well spread. */
    uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif /* AN_IDMAP_H */

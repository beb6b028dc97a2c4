/*
 * an_strtab.h - string interning.  Every file name, qualname, opname and thread
 * name the analyzer keeps is stored once and named by a dense uint32 id, so that
 * keys compare and hash as small integers and memory grows with the number of
 * distinct strings, not with the number of code objects that repeat them.
 */
#ifndef AN_STRTAB_H
#define AN_STRTAB_H

#include "an_idmap.h"

#include <stddef.h>
#include <stdint.h>

struct an_strtab {
    char *bytes; /* Owned; every string NUL-terminated, back to back */
    size_t len, cap;
    size_t *offs; /* Owned; offs[id] = start of string id in bytes */
    uint32_t *lens;
    uint32_t n;
    size_t offs_cap, lens_cap;
    struct an_idmap index;
};

void an_strtab_init(struct an_strtab *t);
void an_strtab_release(struct an_strtab *t);

/* Id of s, adding it if new.  s need not outlive the call. */
uint32_t an_strtab_intern(struct an_strtab *t, const char *s);
uint32_t an_strtab_intern_len(struct an_strtab *t, const char *s, size_t len);
/* Id of s, or AN_ID_NONE if it was never interned. */
uint32_t an_strtab_find(const struct an_strtab *t, const char *s);

/* The string with this id; Borrowed, valid until the next intern. */
static inline const char *
an_strtab_get(const struct an_strtab *t, uint32_t id)
{
    return t->bytes + t->offs[id];
}
static inline uint32_t
an_strtab_len(const struct an_strtab *t, uint32_t id)
{
    return t->lens[id];
}

/* Byte-wise order of two interned strings (memcmp, shorter first on a tie):
 * <0, 0, >0. */
int an_strtab_cmp(const struct an_strtab *t, uint32_t a, uint32_t b);

#endif /* AN_STRTAB_H */

/*
 * hops_le.c - exported little-endian helpers.  The library itself uses the
 * inline versions in hops_private.h; these exist for recorder/ and analyzer/,
 * which must not include private headers.
 */
#include "hops_private.h"

uint16_t
hops_read_le16(const void *p)
{
    return hops_get16(p);
}

uint32_t
hops_read_le32(const void *p)
{
    return hops_get32(p);
}

uint64_t
hops_read_le64(const void *p)
{
    return hops_get64(p);
}

void
hops_write_le16(void *p, uint16_t v)
{
    hops_put16(p, v);
}

void
hops_write_le32(void *p, uint32_t v)
{
    hops_put32(p, v);
}

void
hops_write_le64(void *p, uint64_t v)
{
    hops_put64(p, v);
}

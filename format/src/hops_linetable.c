/*
 * hops_linetable.c - site positions from a CPython location table.
 *
 * The recorder writes each code object's co_linetable as it is (a CODE
 * chunk's trailing field, docs/format.md) rather than decoding it for every
 * code object an import runs once; the reader decodes it here.  The table's
 * format is CPython's (Objects/locations.md), unchanged from 3.11 to 3.13:
 * entries of 1 to 8 code units each, in order, each a first byte
 * (1, kind:4, units-1:3) and then kind's fields.
 */
#include "hops_private.h"

typedef struct lt_reader {
    const uint8_t *p, *end;
} lt_reader;

static int
lt_byte(lt_reader *r)
{
    return r->p < r->end ? *r->p++ : -1;
}

/* An unsigned varint: 6 bits per byte, low first, bit 6 set while more
 * follow.  -1 if the table ends inside it or it is longer than 32 bits. */
static int64_t
lt_varint(lt_reader *r)
{
    int b = lt_byte(r);
    if (b < 0) {
        return -1;
    }
    uint64_t v = (unsigned)b & 63;
    unsigned shift = 0;
    while (b & 64) {
        if ((b = lt_byte(r)) < 0 || (shift += 6) > 30) {
            return -1;
        }
        v |= (uint64_t)((unsigned)b & 63) << shift;
    }
    return (int64_t)v;
}

/* A signed varint: the unsigned one's low bit is the sign. */
static int64_t
lt_svarint(lt_reader *r, int *ok)
{
    int64_t d = lt_varint(r);
    *ok = d >= 0;
    return (d & 1) ? -(d >> 1) : (d >> 1);
}

int
hops_linetable_positions(const uint8_t *table, size_t len, int32_t firstlineno, hops_site *sites,
                         uint32_t n_sites)
{
    lt_reader r = {table, table + len};
    int64_t line = firstlineno;
    uint64_t unit = 0; /* code units covered so far */
    uint32_t s = 0;
    int ok = 1;

    for (uint32_t i = 1; i < n_sites; i++) {
        if (sites[i].offset < sites[i - 1].offset) {
            return HOPS_E_CORRUPT;
        }
    }
    while (s < n_sites && r.p < r.end) {
        int first = *r.p++;
        int kind = (first >> 3) & 15;
        int64_t eline, col;

        if (!(first & 128)) {
            return HOPS_E_CORRUPT;
        }
        unit += (uint32_t)(first & 7) + 1;
        switch (kind) {
        case 15: /* no location */
            eline = -1;
            col = -1;
            break;
        case 14: /* long form: line delta, end line delta, column + 1, end column + 1 */
            line += lt_svarint(&r, &ok);
            eline = line;
            ok = ok && lt_varint(&r) >= 0;
            col = lt_varint(&r) - 1;
            ok = ok && col >= -1 && lt_varint(&r) >= 0;
            break;
        case 13: /* no columns */
            line += lt_svarint(&r, &ok);
            eline = line;
            col = -1;
            break;
        case 10:
        case 11:
        case 12: /* one line, line delta kind - 10: column, end column */
            line += kind - 10;
            eline = line;
            col = lt_byte(&r);
            ok = col >= 0 && lt_byte(&r) >= 0;
            break;
        default: { /* short form: same line, column from kind and the next byte */
            int second = lt_byte(&r);
            ok = second >= 0;
            eline = line;
            col = (kind << 3) | (second >> 4);
            break;
        }
        }
        if (!ok || eline < INT32_MIN || eline > INT32_MAX || col > INT32_MAX) {
            return HOPS_E_CORRUPT;
        }
        while (s < n_sites && sites[s].offset / 2 < unit) {
            sites[s].line = (int32_t)eline;
            sites[s].col = (int32_t)col;
            s++;
        }
    }
    for (; s < n_sites; s++) { /* past the table: no location */
        sites[s].line = -1;
        sites[s].col = -1;
    }
    return HOPS_OK;
}

/*
 * hops_crc32c.c - CRC-32C (Castagnoli).
 *
 * The reader checksums every chunk before decoding it, so this is on the
 * analyzer's hot path.  On x86-64 with SSE4.2 the crc32 instruction computes
 * exactly this polynomial, about five times faster than tables (measured with
 * tests/bench/format_bench.c), and three times faster again on three blocks
 * at once, joined with shift tables (the method of Mark Adler's crc32c.c and
 * Intel's crc_pcl); elsewhere slice-by-8 processes 8 bytes per step with
 * eight table lookups instead of one lookup per byte (Intel's
 * "slicing-by-8", as in zlib's crc32 and leveldb's crc32c).
 */
/* System headers first: hops_private.h bans malloc/free, which the
 * intrinsics headers use. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#    define HOPS_CRC32C_X86 1
#    include <nmmintrin.h>
#endif

#include "hops_private.h"
#include "hops_crc32c_table.h"

/* Slice-by-8 on the pre-inverted crc. */
static uint32_t
crc32c_table(uint32_t crc, const uint8_t *p, size_t len)
{
    const uint32_t(*t)[256] = hops_crc32c_table;

    /* Align to 8 so the main loop's loads are aligned (a free win on most
     * cores; required on some). */
    while (len && ((uintptr_t)p & 7)) {
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint32_t lo = hops_get32(p) ^ crc;
        uint32_t hi = hops_get32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
              t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#ifdef HOPS_CRC32C_X86
/* crc after n zero bytes (n fixed by the table), by linearity. */
static uint32_t
crc32c_shift(const uint32_t (*t)[256], uint32_t crc)
{
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

/* Three blocks of n bytes at once: the crc32 instruction takes 3 cycles but
 * can start every cycle, so one stream runs at a third of its speed.  The
 * second and third blocks start from 0; crc(a, B1 B2) = shift(crc(a, B1),
 * |B2|) ^ crc(0, B2) joins them. */
__attribute__((target("sse4.2"))) static uint64_t
crc32c_sse42_3way(uint64_t c0, const uint8_t **pp, size_t *len, size_t n,
                  const uint32_t (*shift)[256])
{
    const uint8_t *p = *pp;

    while (*len >= 3 * n) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + n;
        do {
            c0 = _mm_crc32_u64(c0, hops_get64(p));
            c1 = _mm_crc32_u64(c1, hops_get64(p + n));
            c2 = _mm_crc32_u64(c2, hops_get64(p + 2 * n));
            p += 8;
        } while (p < end);
        c0 = crc32c_shift(shift, (uint32_t)c0) ^ (uint32_t)c1;
        c0 = crc32c_shift(shift, (uint32_t)c0) ^ (uint32_t)c2;
        p += 2 * n;
        *len -= 3 * n;
    }
    *pp = p;
    return c0;
}

/* The crc32 instruction, on the pre-inverted crc.  Compiled for SSE4.2 only
 * here, so the rest of the library still runs on any x86-64. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;

    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    c = crc32c_sse42_3way(c, &p, &len, HOPS_CRC32C_LONG, hops_crc32c_shift_long);
    c = crc32c_sse42_3way(c, &p, &len, HOPS_CRC32C_SHORT, hops_crc32c_shift_short);
    while (len >= 8) {
        c = _mm_crc32_u64(c, hops_get64(p));
        p += 8;
        len -= 8;
    }
    while (len--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return (uint32_t)c;
}
#endif

/* Portable version, kept callable so tests can compare both on any host.
 * Not part of the public API. */
uint32_t
hops_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    return ~crc32c_table(~crc, buf, len);
}

uint32_t
hops_crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef HOPS_CRC32C_X86
    /* Reads a flag libgcc/compiler-rt sets up before main; no state of ours. */
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc32c_sse42(~crc, buf, len);
#endif
    return ~crc32c_table(~crc, buf, len);
}

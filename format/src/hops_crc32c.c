/*
 * hops_crc32c.c - CRC-32C (Castagnoli).
 *
 * The reader checksums every chunk before decoding it, so this is on the
 * analyzer's hot path.  On x86-64 with SSE4.2 the crc32 instruction computes
 * exactly this polynomial, about five times faster than tables (measured with
 * tests/bench/format_bench.c); elsewhere slice-by-8 processes 8 bytes per
 * step with eight table lookups instead of one lookup per byte (Intel's
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

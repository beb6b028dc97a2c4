/*
 * hops_crc32c.c - CRC-32C (Castagnoli), slice-by-8.
 *
 * The reader checksums every chunk before decoding it, so this is on the
 * analyzer's hot path; slice-by-8 processes 8 bytes per step with eight table
 * lookups instead of one lookup per byte (Intel's "slicing-by-8", as in
 * zlib's crc32 and leveldb's crc32c).
 */
#include "hops_private.h"
#include "hops_crc32c_table.h"

uint32_t
hops_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    const uint32_t(*t)[256] = hops_crc32c_table;

    crc = ~crc;
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
    return ~crc;
}

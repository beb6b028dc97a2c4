/*
 * hops_private.h - internals shared by the format/src modules: error macros,
 * the allocation wrapper, inline little-endian access and on-disk constants.
 * Never included outside format/src (STYLE.md rule 1).
 */
#ifndef HOPS_PRIVATE_H
#define HOPS_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hops/hops.h"

/* ---- errors (after zstd's error_private.h) --------------------------------
 * In HOPS_DEBUG builds every error is traced where it is first raised, which
 * tells a fuzzing or golden-errors session which check fired without a
 * debugger.  Release builds stay silent: a library must not write to stderr. */
#ifdef HOPS_DEBUG
#    define HOPS_TRACE_ERROR(cond, code)                                                           \
        fprintf(stderr, "hops: %s:%d: %s -> %s\n", __FILE__, __LINE__, cond, #code)
#else
#    define HOPS_TRACE_ERROR(cond, code) ((void)0)
#endif

#define RETURN_ERROR_IF(cond, code)                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            HOPS_TRACE_ERROR(#cond, code);                                                         \
            return (code);                                                                         \
        }                                                                                          \
    } while (0)

#define RETURN_ERROR(code) RETURN_ERROR_IF(1, code)

/* Propagates a negative result unchanged (it was traced where it arose). */
#define FORWARD_IF_ERROR(expr)                                                                     \
    do {                                                                                           \
        int hops_fwd_err_ = (expr);                                                                \
        if (hops_fwd_err_ < 0)                                                                     \
            return hops_fwd_err_;                                                                  \
    } while (0)

/* ---- allocation -------------------------------------------------------------
 * Every allocation in format/ goes through these, so a later custom allocator
 * or failure injection touches one file.  Sizes are checked by the callers. */
void *hops_malloc(size_t size);
void *hops_calloc(size_t n, size_t size);
void *hops_realloc(void *p, size_t size);
void hops_free(void *p);

/* Raw allocator calls are banned outside hops_alloc.c (reftable's
 * REFTABLE_BANNED): a stray malloc turns into a compile error naming it. */
#ifndef HOPS_ALLOC_IMPLEMENTATION
#    define HOPS_BANNED(func) sorry_##func##_is_banned_use_hops_alloc
#    undef malloc
#    undef calloc
#    undef realloc
#    undef free
#    undef strdup
#    define malloc(s)     HOPS_BANNED(malloc)
#    define calloc(n, s)  HOPS_BANNED(calloc)
#    define realloc(p, s) HOPS_BANNED(realloc)
#    define free(p)       HOPS_BANNED(free)
#    define strdup(s)     HOPS_BANNED(strdup)
#endif

/* ---- little-endian access ---------------------------------------------------
 * Byte-wise so they are correct on any host and never unaligned; gcc and
 * clang fold each into a single load/store on little-endian machines, which
 * the frame decoding loop depends on.  The exported hops_read_le* wrap these. */
static inline uint16_t
hops_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t
hops_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
hops_get64(const uint8_t *p)
{
    return (uint64_t)hops_get32(p) | (uint64_t)hops_get32(p + 4) << 32;
}

static inline void
hops_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void
hops_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void
hops_put64(uint8_t *p, uint64_t v)
{
    hops_put32(p, (uint32_t)v);
    hops_put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- on-disk constants (docs/format.md) ----------------------------------- */
#define HOPS_MAGIC          "\x89HOPS\r\n\x1a"
#define HOPS_MAGIC_SIZE     8
#define HOPS_HEADER_SIZE    16
#define HOPS_CHUNK_HDR_SIZE 16

/* Chunk ids are four ASCII bytes in file order, read as a little-endian u32. */
#define HOPS_CHUNK_ID(a, b, c, d)                                                                  \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define HOPS_CHUNK_META HOPS_CHUNK_ID('M', 'E', 'T', 'A')
#define HOPS_CHUNK_CODE HOPS_CHUNK_ID('C', 'O', 'D', 'E')
#define HOPS_CHUNK_THRD HOPS_CHUNK_ID('T', 'H', 'R', 'D')
#define HOPS_CHUNK_FRAM HOPS_CHUNK_ID('F', 'R', 'A', 'M')
#define HOPS_CHUNK_END  HOPS_CHUNK_ID('E', 'N', 'D', ' ')

enum hops_meta_tag {
    HOPS_TAG_PYTHON_VERSION = 1,
    HOPS_TAG_MECHANISM = 2,
    HOPS_TAG_ARGV = 3,
    HOPS_TAG_PID = 4,
    HOPS_TAG_START_NS = 5,
    HOPS_TAG_FLAGS = 6,
    HOPS_TAG_TRACKED = 7,
    HOPS_TAG_FILE_GLOBS = 8,
};

#define HOPS_META_TLV_HDR_SIZE 8
#define HOPS_CODE_FIXED_SIZE   12 /* first_site, n_sites, firstlineno */
#define HOPS_SITE_MIN_SIZE     14 /* offset, line, col, opname length, >= 1 opname byte */
#define HOPS_THRD_FIXED_SIZE   16
#define HOPS_FRAM_FIXED_SIZE   16 /* tid, n_counts, raw_size */
#define HOPS_END_SIZE          24
/* HOPS_RECORD_SIZE (site u32 + count u64) is public: hops.h. */

/* Writers keep a frame's raw records at most this big; readers accept up to
 * HOPS_FRAME_RAW_MAX_READ so a later writer may raise the split size without a
 * major version, while a forged raw_size still cannot make a reader allocate
 * more than that. */
#define HOPS_FRAME_RAW_MAX_WRITE ((uint32_t)4 << 20)
#define HOPS_FRAME_RAW_MAX_READ  ((uint32_t)64 << 20)
#define HOPS_FRAME_MAX_RECORDS   (HOPS_FRAME_RAW_MAX_WRITE / HOPS_RECORD_SIZE)
#define HOPS_LZ4_MAX_RATIO       255

/* hops_crc32c() without hardware acceleration; tests compare the two. */
uint32_t hops_crc32c_portable(uint32_t crc, const void *buf, size_t len);

/* CRC of a chunk: id bytes, then length bytes, then the payload. */
static inline uint32_t
hops_chunk_crc(const uint8_t *chunk_hdr, const void *payload, size_t len)
{
    uint32_t crc = hops_crc32c(0, chunk_hdr, 4);
    crc = hops_crc32c(crc, chunk_hdr + 8, 8);
    return hops_crc32c(crc, payload, len);
}

/* Checked arithmetic for untrusted sizes: returns nonzero on overflow. */
static inline int
hops_add_overflow(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

static inline int
hops_mul_overflow(uint64_t a, uint64_t b, uint64_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

#endif /* HOPS_PRIVATE_H */

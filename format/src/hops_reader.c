/*
 * hops_reader.c - pull parser over the chunks of a .hops file
 * (docs/format.md).
 *
 * The file is either a memory image (mmap'ed by open_path, or the caller's
 * buffer) or, when mmap is impossible (pipes, some special files), an fd read
 * chunk by chunk.  Either way the reader holds at most one chunk's worth of
 * decoded data: every event's pointers borrow buffers that the next call
 * reuses.  All sizes from the file are untrusted: each is checked against the
 * bytes that are really there before it is used, and sums go through the
 * overflow-checked helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>

#include "hops_private.h"

enum reader_state {
    READING,   /* more chunks may follow */
    AFTER_END, /* END seen: only end of file may follow */
    AT_EOF,    /* next() returns 0 from now on */
};

struct hops_reader {
    /* Memory mode: the whole file. */
    const uint8_t *data; /* Borrowed from the caller or from map */
    uint64_t size;
    void *map; /* Owned mapping, NULL when the caller owns data */
    size_t map_len;
    uint64_t released; /* map bytes [0, released) handed back to the kernel */

    /* Stream mode (fd >= 0): chunks are read into chunk. */
    int fd;            /* Owned */
    uint64_t consumed; /* bytes read so far */
    uint8_t *chunk;    /* Owned */
    size_t chunk_cap;

    uint64_t pos;      /* offset of the next chunk */
    uint64_t last_off; /* offset of the chunk of the last event or error */
    int err;           /* sticky */
    unsigned flags;    /* HOPS_READ_* */
    enum reader_state state;
    uint32_t n_sites; /* sites declared so far */

    hops_file_meta meta;
    void *meta_mem; /* Owned: meta's arrays and strings */

    /* Owned scratch for the current event, reused by each call. */
    char *strs;
    size_t strs_cap;
    hops_site *sites;
    size_t sites_cap;
    uint8_t *raw;
    size_t raw_cap;
    hops_count *counts;
    size_t counts_cap;
};

/* Grows *buf to hold at least need bytes (contents not preserved). */
static int
ensure_cap(void **buf, size_t *cap, uint64_t need)
{
    void *nb;

    if (need <= *cap && *buf != NULL)
        return HOPS_OK;
    RETURN_ERROR_IF(need > SIZE_MAX, HOPS_E_NOMEM);
    nb = hops_malloc((size_t)need);
    RETURN_ERROR_IF(nb == NULL, HOPS_E_NOMEM);
    hops_free(*buf);
    *buf = nb;
    *cap = (size_t)need;
    return HOPS_OK;
}

/* Reads up to n bytes, stopping early only at end of file. */
static int
read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = read(fd, p + *got, n - *got);
        if (k < 0 && errno == EINTR)
            continue;
        RETURN_ERROR_IF(k < 0, HOPS_E_IO);
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return HOPS_OK;
}

/* ---- raw chunk access ---------------------------------------------------------- */

/* Copies the next 16 bytes (header or chunk header) into hdr.  *avail gets how
 * many were there: 0 means a clean end of file, < 16 a cut. */
static int
fetch_hdr(hops_reader *r, uint8_t hdr[16], size_t *avail)
{
    if (r->fd < 0) {
        uint64_t rem = r->size - r->pos;
        *avail = rem < 16 ? (size_t)rem : 16;
        /* data may be NULL for an empty caller buffer. */
        if (*avail > 0)
            memcpy(hdr, r->data + r->pos, *avail);
        return HOPS_OK;
    }
    FORWARD_IF_ERROR(read_full(r->fd, hdr, 16, avail));
    r->consumed += *avail;
    return HOPS_OK;
}

/* Makes the len payload bytes following the current chunk header available.
 * In stream mode the buffer grows as data actually arrives, so a forged
 * length on a pipe costs no more memory than the bytes really sent. */
static int
fetch_payload(hops_reader *r, uint64_t len, const uint8_t **payload)
{
    size_t have = 0;

    if (r->fd < 0) {
        uint64_t rem = r->size - r->pos - HOPS_CHUNK_HDR_SIZE;
        RETURN_ERROR_IF(len > rem, HOPS_E_TRUNCATED);
        *payload = r->data + r->pos + HOPS_CHUNK_HDR_SIZE;
        return HOPS_OK;
    }
    RETURN_ERROR_IF(len > SIZE_MAX, HOPS_E_NOMEM);
    while (have < len) {
        size_t got, want;
        if (have == r->chunk_cap) {
            size_t cap = r->chunk_cap ? r->chunk_cap * 2 : (size_t)1 << 16;
            uint8_t *nb;
            if (cap > len)
                cap = (size_t)len;
            nb = hops_realloc(r->chunk, cap);
            RETURN_ERROR_IF(nb == NULL, HOPS_E_NOMEM);
            r->chunk = nb;
            r->chunk_cap = cap;
        }
        want = (size_t)(len - have);
        if (want > r->chunk_cap - have)
            want = r->chunk_cap - have;
        FORWARD_IF_ERROR(read_full(r->fd, r->chunk + have, want, &got));
        r->consumed += got;
        RETURN_ERROR_IF(got < want, HOPS_E_TRUNCATED);
        have += got;
    }
    /* An empty payload before the first allocation still needs a valid
     * pointer: parsers compute payload + len. */
    *payload = r->chunk ? r->chunk : (const uint8_t *)"";
    return HOPS_OK;
}

/* Mapped pages stay resident once touched, so a sequential pass over a large
 * file would keep all of it in RSS.  Every event borrows only the reader's own
 * buffers (strings, sites and counts are copied or decoded out of the
 * payload), so the bytes before the next chunk are never read again: drop
 * them every HOPS_RELEASE_STEP bytes.  The mapping is private and read-only,
 * so MADV_DONTNEED only discards clean page-cache references. */
#define HOPS_RELEASE_STEP ((uint64_t)8 << 20)

static void
release_consumed(hops_reader *r)
{
    uint64_t end;

    if (r->map == NULL || r->pos - r->released < HOPS_RELEASE_STEP)
        return;
    end = r->pos & ~(HOPS_RELEASE_STEP - 1); /* the step is a multiple of any page size */
    if (end <= r->released)
        return;
    (void)madvise((uint8_t *)r->map + r->released, (size_t)(end - r->released), MADV_DONTNEED);
    r->released = end;
}

/* Reads and checksums the next chunk.  Returns 1 with id/payload/len set, 0
 * at a clean end of file, or an error.  r->last_off names the chunk. */
static int
next_chunk(hops_reader *r, uint32_t *id, const uint8_t **payload, uint64_t *len)
{
    uint8_t hdr[HOPS_CHUNK_HDR_SIZE];
    size_t avail;
    uint64_t end;

    r->last_off = r->pos;
    release_consumed(r);
    FORWARD_IF_ERROR(fetch_hdr(r, hdr, &avail));
    if (avail == 0)
        return 0;
    RETURN_ERROR_IF(avail < HOPS_CHUNK_HDR_SIZE, HOPS_E_TRUNCATED);
    *id = hops_get32(hdr);
    *len = hops_get64(hdr + 8);
    FORWARD_IF_ERROR(fetch_payload(r, *len, payload));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzzing builds skip this (as zstd does): random mutations would almost
     * never get past it to the parsers. */
    RETURN_ERROR_IF(hops_chunk_crc(hdr, *payload, (size_t)*len) != hops_get32(hdr + 4),
                    HOPS_E_CHECKSUM);
#endif
    /* Cannot overflow: the payload is really there, in memory or consumed. */
    end = r->pos + HOPS_CHUNK_HDR_SIZE + *len;
    r->pos = end;
    return 1;
}

/* ---- field decoding ------------------------------------------------------------- */

/* A cursor over one chunk's payload; every take checks the bytes left. */
typedef struct cursor {
    const uint8_t *p;
    const uint8_t *end;
} cursor;

static size_t
cur_left(const cursor *c)
{
    return (size_t)(c->end - c->p);
}

static int
take_str32(cursor *c, const uint8_t **s, size_t *n)
{
    uint32_t len;

    RETURN_ERROR_IF(cur_left(c) < 4, HOPS_E_CORRUPT);
    len = hops_get32(c->p);
    RETURN_ERROR_IF(len > cur_left(c) - 4, HOPS_E_CORRUPT);
    RETURN_ERROR_IF(memchr(c->p + 4, 0, len) != NULL, HOPS_E_CORRUPT);
    *s = c->p + 4;
    *n = len;
    c->p += 4 + (size_t)len;
    return HOPS_OK;
}

/* Appends s[0..n) and a NUL to a string arena sized by the caller. */
static const char *
arena_put(char **arena, const uint8_t *s, size_t n)
{
    char *out = *arena;

    memcpy(out, s, n);
    out[n] = '\0';
    *arena += n + 1;
    return out;
}

/* ---- META ---------------------------------------------------------------------- */

static int
is_list_tag(uint16_t tag)
{
    return tag == HOPS_TAG_ARGV || tag == HOPS_TAG_TRACKED || tag == HOPS_TAG_FILE_GLOBS;
}

static int
is_string_tag(uint16_t tag)
{
    return is_list_tag(tag) || tag == HOPS_TAG_PYTHON_VERSION || tag == HOPS_TAG_MECHANISM;
}

/* Walks the TLVs once to validate and size them, then again to fill meta. */
static int
parse_meta(hops_reader *r, const uint8_t *payload, uint64_t len)
{
    const uint8_t *end = payload + len;
    uint64_t n_argv = 0, n_tracked = 0, n_globs = 0, str_bytes = 0, total;
    uint32_t seen = 0;
    hops_meta *m = &r->meta.meta;
    const char **argv, **tracked, **globs;
    char *arena;

    for (const uint8_t *p = payload; p < end;) {
        uint16_t tag;
        uint32_t vlen;

        RETURN_ERROR_IF((size_t)(end - p) < HOPS_META_TLV_HDR_SIZE, HOPS_E_CORRUPT);
        tag = hops_get16(p);
        vlen = hops_get32(p + 4);
        RETURN_ERROR_IF(hops_get16(p + 2) != 0, HOPS_E_CORRUPT);
        RETURN_ERROR_IF(vlen > (size_t)(end - p) - HOPS_META_TLV_HDR_SIZE, HOPS_E_CORRUPT);
        if (tag >= HOPS_TAG_PYTHON_VERSION && tag <= HOPS_TAG_FILE_GLOBS && !is_list_tag(tag)) {
            RETURN_ERROR_IF(seen & (1u << tag), HOPS_E_CORRUPT);
            seen |= 1u << tag;
        }
        if (is_string_tag(tag)) {
            RETURN_ERROR_IF(memchr(p + HOPS_META_TLV_HDR_SIZE, 0, vlen) != NULL, HOPS_E_CORRUPT);
            str_bytes += (uint64_t)vlen + 1;
        }
        n_argv += tag == HOPS_TAG_ARGV;
        n_tracked += tag == HOPS_TAG_TRACKED;
        n_globs += tag == HOPS_TAG_FILE_GLOBS;
        RETURN_ERROR_IF((tag == HOPS_TAG_PID || tag == HOPS_TAG_START_NS) && vlen != 8,
                        HOPS_E_CORRUPT);
        RETURN_ERROR_IF(tag == HOPS_TAG_FLAGS && vlen != 4, HOPS_E_CORRUPT);
        p += HOPS_META_TLV_HDR_SIZE + vlen;
    }
    RETURN_ERROR_IF(n_argv > UINT32_MAX || n_tracked > UINT32_MAX || n_globs > UINT32_MAX,
                    HOPS_E_CORRUPT);

    /* Each TLV is at least 8 bytes, so these sums are bounded by the payload
     * size and cannot overflow. */
    total = (n_argv + n_tracked + n_globs) * sizeof(char *) + str_bytes;
    RETURN_ERROR_IF(total > SIZE_MAX, HOPS_E_NOMEM);
    r->meta_mem = hops_malloc((size_t)total);
    RETURN_ERROR_IF(r->meta_mem == NULL, HOPS_E_NOMEM);
    argv = r->meta_mem;
    tracked = argv + n_argv;
    globs = tracked + n_tracked;
    arena = (char *)(globs + n_globs);

    m->python_version = "";
    m->mechanism = "";
    m->argc = 0;
    m->n_tracked = 0;
    m->n_file_globs = 0;
    for (const uint8_t *p = payload; p < end;) {
        uint16_t tag = hops_get16(p);
        uint32_t vlen = hops_get32(p + 4);
        const uint8_t *v = p + HOPS_META_TLV_HDR_SIZE;

        switch (tag) {
        case HOPS_TAG_PYTHON_VERSION:
            m->python_version = arena_put(&arena, v, vlen);
            break;
        case HOPS_TAG_MECHANISM:
            m->mechanism = arena_put(&arena, v, vlen);
            break;
        case HOPS_TAG_ARGV:
            argv[m->argc++] = arena_put(&arena, v, vlen);
            break;
        case HOPS_TAG_TRACKED:
            tracked[m->n_tracked++] = arena_put(&arena, v, vlen);
            break;
        case HOPS_TAG_FILE_GLOBS:
            globs[m->n_file_globs++] = arena_put(&arena, v, vlen);
            break;
        case HOPS_TAG_PID:
            m->pid = hops_get64(v);
            break;
        case HOPS_TAG_START_NS:
            m->start_ns = (int64_t)hops_get64(v);
            break;
        case HOPS_TAG_FLAGS:
            m->flags = hops_get32(v);
            break;
        default:
            /* Unknown tags come from newer minor versions: skip them. */
            break;
        }
        p += HOPS_META_TLV_HDR_SIZE + vlen;
    }
    m->argv = argv;
    m->tracked = tracked;
    m->file_globs = globs;
    return HOPS_OK;
}

/* ---- CODE / THRD / FRAM / END ----------------------------------------------------- */

static int
parse_code(hops_reader *r, const uint8_t *payload, uint64_t len, hops_code *code)
{
    cursor c = {payload, payload + len};
    const uint8_t *fname, *qname;
    size_t flen, qlen;
    char *arena;

    RETURN_ERROR_IF(len < HOPS_CODE_FIXED_SIZE, HOPS_E_CORRUPT);
    code->first_site = hops_get32(c.p);
    code->n_sites = hops_get32(c.p + 4);
    code->firstlineno = (int32_t)hops_get32(c.p + 8);
    c.p += HOPS_CODE_FIXED_SIZE;
    RETURN_ERROR_IF(code->first_site != r->n_sites, HOPS_E_CORRUPT);
    RETURN_ERROR_IF(code->n_sites > UINT32_MAX - r->n_sites, HOPS_E_CORRUPT);
    FORWARD_IF_ERROR(take_str32(&c, &fname, &flen));
    FORWARD_IF_ERROR(take_str32(&c, &qname, &qlen));
    /* Bound n_sites by the bytes present before allocating for it. */
    RETURN_ERROR_IF((uint64_t)code->n_sites * HOPS_SITE_MIN_SIZE > cur_left(&c), HOPS_E_CORRUPT);

    /* All strings come from the payload, plus one NUL each. */
    FORWARD_IF_ERROR(ensure_cap((void **)&r->strs, &r->strs_cap, len + 2 + code->n_sites));
    FORWARD_IF_ERROR(
        ensure_cap((void **)&r->sites, &r->sites_cap, (uint64_t)code->n_sites * sizeof(hops_site)));
    arena = r->strs;
    code->filename = arena_put(&arena, fname, flen);
    code->qualname = arena_put(&arena, qname, qlen);
    for (uint32_t i = 0; i < code->n_sites; i++) {
        hops_site *s = &r->sites[i];
        size_t olen;

        RETURN_ERROR_IF(cur_left(&c) < 13, HOPS_E_CORRUPT);
        olen = c.p[12];
        RETURN_ERROR_IF(olen == 0 || olen > cur_left(&c) - 13, HOPS_E_CORRUPT);
        RETURN_ERROR_IF(memchr(c.p + 13, 0, olen) != NULL, HOPS_E_CORRUPT);
        s->offset = hops_get32(c.p);
        s->line = (int32_t)hops_get32(c.p + 4);
        s->col = (int32_t)hops_get32(c.p + 8);
        s->opname = arena_put(&arena, c.p + 13, olen);
        c.p += 13 + olen;
    }
    /* 1.1: the location table the sites' positions come from.  One the
     * decoder cannot read (a CPython we do not know) leaves them unknown. */
    if (cur_left(&c) >= 4) {
        uint32_t tlen = hops_get32(c.p);
        RETURN_ERROR_IF(tlen > cur_left(&c) - 4, HOPS_E_CORRUPT);
        if (hops_linetable_positions(c.p + 4, tlen, code->firstlineno, r->sites, code->n_sites) !=
            HOPS_OK) {
            for (uint32_t i = 0; i < code->n_sites; i++) {
                r->sites[i].line = r->sites[i].col = -1;
            }
        }
        c.p += 4 + (size_t)tlen;
    }
    /* Trailing bytes are fields of a newer minor version: ignored. */
    code->sites = r->sites;
    code->linetable = NULL;
    code->linetable_len = 0;
    r->n_sites += code->n_sites;
    return HOPS_OK;
}

static int
parse_thread(hops_reader *r, const uint8_t *payload, uint64_t len, hops_thread *t)
{
    cursor c = {payload + HOPS_THRD_FIXED_SIZE, payload + len};
    const uint8_t *name;
    size_t nlen;
    char *arena;

    RETURN_ERROR_IF(len < HOPS_THRD_FIXED_SIZE, HOPS_E_CORRUPT);
    t->tid = hops_get64(payload);
    t->native_id = hops_get64(payload + 8);
    FORWARD_IF_ERROR(take_str32(&c, &name, &nlen));
    FORWARD_IF_ERROR(ensure_cap((void **)&r->strs, &r->strs_cap, (uint64_t)nlen + 1));
    arena = r->strs;
    t->name = arena_put(&arena, name, nlen);
    return HOPS_OK;
}

/* The reader's hot loop: raw little-endian records to hops_count, checking
 * every site id against the symbol table without a branch per record. */
static uint32_t
decode_records(const uint8_t *restrict src, hops_count *restrict dst, size_t n, uint32_t n_sites)
{
    uint32_t bad = 0;

    for (size_t i = 0; i < n; i++) {
        uint32_t site = hops_get32(src);
        dst[i].site = site;
        dst[i].count = hops_get64(src + 4);
        bad |= site >= n_sites;
        src += HOPS_RECORD_SIZE;
    }
    return bad;
}

static int
parse_frame(hops_reader *r, const uint8_t *payload, uint64_t len, hops_frame *f)
{
    uint32_t n, raw_size;
    uint64_t csize;
    int got;

    RETURN_ERROR_IF(len < HOPS_FRAM_FIXED_SIZE, HOPS_E_CORRUPT);
    f->tid = hops_get64(payload);
    n = hops_get32(payload + 8);
    raw_size = hops_get32(payload + 12);
    csize = len - HOPS_FRAM_FIXED_SIZE;
    RETURN_ERROR_IF((uint64_t)n * HOPS_RECORD_SIZE != raw_size, HOPS_E_CORRUPT);
    RETURN_ERROR_IF(raw_size > HOPS_FRAME_RAW_MAX_READ, HOPS_E_CORRUPT);
    RETURN_ERROR_IF(csize > (uint64_t)LZ4_COMPRESSBOUND(raw_size), HOPS_E_CORRUPT);
    /* No LZ4 block expands more than 255-fold (each extra match-length byte
     * adds at most 255 output bytes), so a larger claim is forged: refuse it
     * before allocating, which ties the reader's memory to the bytes present
     * in the file rather than to a number written in it. */
    RETURN_ERROR_IF(raw_size > csize * HOPS_LZ4_MAX_RATIO, HOPS_E_CORRUPT);

    FORWARD_IF_ERROR(ensure_cap((void **)&r->raw, &r->raw_cap, raw_size));
    got = LZ4_decompress_safe((const char *)payload + HOPS_FRAM_FIXED_SIZE, (char *)r->raw,
                              (int)csize, (int)raw_size);
    RETURN_ERROR_IF(got < 0, HOPS_E_LZ4);
    RETURN_ERROR_IF((uint32_t)got != raw_size, HOPS_E_CORRUPT);
    if (r->flags & HOPS_READ_RAW_RECORDS) {
        /* The caller checks the sites as it reads them (hops.h): a pass here
         * would cost as much as its own loop. */
        f->counts = NULL;
    } else {
        FORWARD_IF_ERROR(
            ensure_cap((void **)&r->counts, &r->counts_cap, (uint64_t)n * sizeof(hops_count)));
        RETURN_ERROR_IF(decode_records(r->raw, r->counts, n, r->n_sites) != 0, HOPS_E_CORRUPT);
        f->counts = r->counts;
    }
    /* An empty frame before any allocation still gets a valid pointer. */
    f->records = r->raw ? r->raw : (const uint8_t *)"";
    f->n_sites = r->n_sites;
    f->n = n;
    f->compressed_size = len;
    f->raw_size = raw_size;
    return HOPS_OK;
}

static int
parse_end(const uint8_t *payload, uint64_t len, hops_end *e)
{
    RETURN_ERROR_IF(len < HOPS_END_SIZE, HOPS_E_CORRUPT);
    e->end_ns = (int64_t)hops_get64(payload);
    e->exit_status = (int32_t)hops_get32(payload + 8);
    e->flags = hops_get32(payload + 12);
    e->lost_events = hops_get64(payload + 16);
    return HOPS_OK;
}

/* ---- public: iteration ----------------------------------------------------------- */

static int
reader_next(hops_reader *r, hops_event *ev)
{
    for (;;) {
        uint32_t id;
        const uint8_t *payload;
        uint64_t len;
        int got = next_chunk(r, &id, &payload, &len);

        if (got <= 0) {
            if (got == 0)
                r->state = AT_EOF;
            return got;
        }
        RETURN_ERROR_IF(r->state == AFTER_END, HOPS_E_CORRUPT);
        switch (id) {
        case HOPS_CHUNK_CODE:
            ev->kind = HOPS_EV_CODE;
            FORWARD_IF_ERROR(parse_code(r, payload, len, &ev->u.code));
            return 1;
        case HOPS_CHUNK_THRD:
            ev->kind = HOPS_EV_THREAD;
            FORWARD_IF_ERROR(parse_thread(r, payload, len, &ev->u.thread));
            return 1;
        case HOPS_CHUNK_FRAM:
            ev->kind = HOPS_EV_FRAME;
            FORWARD_IF_ERROR(parse_frame(r, payload, len, &ev->u.frame));
            return 1;
        case HOPS_CHUNK_END:
            ev->kind = HOPS_EV_END;
            FORWARD_IF_ERROR(parse_end(payload, len, &ev->u.end));
            r->state = AFTER_END;
            return 1;
        case HOPS_CHUNK_META:
            RETURN_ERROR(HOPS_E_CORRUPT);
        default:
            /* Unknown ids come from newer minor versions; their length and
             * checksum were verified, so skipping is safe. */
            continue;
        }
    }
}

int
hops_reader_next(hops_reader *r, hops_event *ev)
{
    int got;

    RETURN_ERROR_IF(r == NULL || ev == NULL, HOPS_E_API);
    if (r->err != HOPS_OK)
        return r->err;
    if (r->state == AT_EOF)
        return 0;
    got = reader_next(r, ev);
    if (got < 0)
        r->err = got;
    return got;
}

int
hops_reader_set_flags(hops_reader *r, unsigned flags)
{
    RETURN_ERROR_IF(r == NULL || (flags & ~HOPS_READ_RAW_RECORDS) != 0, HOPS_E_API);
    r->flags = flags;
    return HOPS_OK;
}

/* ---- public: open / close ---------------------------------------------------------- */

static int
check_header(const uint8_t *hdr, size_t avail)
{
    size_t cmp = avail < HOPS_MAGIC_SIZE ? avail : HOPS_MAGIC_SIZE;

    RETURN_ERROR_IF(avail == 0, HOPS_E_EMPTY);
    RETURN_ERROR_IF(memcmp(hdr, HOPS_MAGIC, cmp) != 0, HOPS_E_BAD_MAGIC);
    /* A prefix of a valid header is a recording cut during start-up. */
    RETURN_ERROR_IF(avail < HOPS_HEADER_SIZE, HOPS_E_TRUNCATED);
    RETURN_ERROR_IF(hops_get16(hdr + 8) != HOPS_FORMAT_MAJOR, HOPS_E_VERSION);
    RETURN_ERROR_IF(hops_get32(hdr + 12) != 0, HOPS_E_CORRUPT);
    return HOPS_OK;
}

/* Reads the header and the META chunk of a freshly set up reader. */
static int
reader_start(hops_reader *r)
{
    uint8_t hdr[HOPS_HEADER_SIZE];
    size_t avail;
    uint32_t id;
    const uint8_t *payload;
    uint64_t len;
    int got;

    FORWARD_IF_ERROR(fetch_hdr(r, hdr, &avail));
    FORWARD_IF_ERROR(check_header(hdr, avail));
    r->meta.major = hops_get16(hdr + 8);
    r->meta.minor = hops_get16(hdr + 10);
    r->pos = HOPS_HEADER_SIZE;

    got = next_chunk(r, &id, &payload, &len);
    FORWARD_IF_ERROR(got);
    RETURN_ERROR_IF(got == 0, HOPS_E_TRUNCATED);
    RETURN_ERROR_IF(id != HOPS_CHUNK_META, HOPS_E_CORRUPT);
    return parse_meta(r, payload, len);
}

static int
reader_new(hops_reader **out)
{
    hops_reader *r = hops_calloc(1, sizeof(*r));

    RETURN_ERROR_IF(r == NULL, HOPS_E_NOMEM);
    r->fd = -1;
    *out = r;
    return HOPS_OK;
}

static int
reader_finish_open(hops_reader **out, hops_reader *r)
{
    int err = reader_start(r);

    if (err != HOPS_OK) {
        hops_reader_close(r);
        return err;
    }
    *out = r;
    return HOPS_OK;
}

int
hops_reader_open_mem(hops_reader **out, const void *data, size_t size)
{
    hops_reader *r;

    RETURN_ERROR_IF(out == NULL || (data == NULL && size > 0), HOPS_E_API);
    *out = NULL;
    FORWARD_IF_ERROR(reader_new(&r));
    r->data = data;
    r->size = size;
    return reader_finish_open(out, r);
}

int
hops_reader_open_path(hops_reader **out, const char *path)
{
    hops_reader *r;
    struct stat st;
    int fd;

    RETURN_ERROR_IF(out == NULL || path == NULL, HOPS_E_API);
    *out = NULL;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    RETURN_ERROR_IF(fd < 0, HOPS_E_IO);
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        RETURN_ERROR(HOPS_E_IO);
    }
    if (reader_new(&r) != HOPS_OK) {
        close(fd);
        RETURN_ERROR(HOPS_E_NOMEM);
    }
    /* Regular files are mapped: no copy, and the page cache does the
     * buffering.  A size of 0 may be a special file (procfs) with content, so
     * it goes through read() like pipes and anything mmap refuses. */
    if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX) {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            (void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
            r->map = map;
            r->map_len = (size_t)st.st_size;
            r->data = map;
            r->size = (uint64_t)st.st_size;
        }
    }
    if (r->map != NULL)
        close(fd);
    else
        r->fd = fd;
    return reader_finish_open(out, r);
}

void
hops_reader_close(hops_reader *r)
{
    if (r == NULL)
        return;
    if (r->map != NULL)
        munmap(r->map, r->map_len);
    if (r->fd >= 0)
        close(r->fd);
    hops_free(r->chunk);
    hops_free(r->meta_mem);
    hops_free(r->strs);
    hops_free(r->sites);
    hops_free(r->raw);
    hops_free(r->counts);
    hops_free(r);
}

const hops_file_meta *
hops_reader_meta(const hops_reader *r)
{
    return r ? &r->meta : NULL;
}

uint64_t
hops_reader_offset(const hops_reader *r)
{
    return r ? r->last_off : 0;
}

uint64_t
hops_reader_file_size(const hops_reader *r)
{
    if (r == NULL)
        return 0;
    /* A pipe's size is unknown until it is drained: report what was read. */
    return r->fd < 0 ? r->size : r->consumed;
}

/*
 * hops.h - the .hops file format library: writer (used by the recorder) and
 * streaming reader (used by the analyzer).  The on-disk format is specified in
 * docs/format.md; this header is the only one recorder/ and analyzer/ include.
 *
 * Conventions (docs/format.md, ../shared/STYLE.md):
 *   - every function returns 0 (HOPS_OK) or a negative hops_err code;
 *   - contexts are opaque and come in _open/_close pairs; close accepts NULL;
 *   - pointers handed out by the reader are Borrowed: valid until the next call
 *     on the same reader (or until close), never to be freed by the caller.
 */
#ifndef HOPS_HOPS_H
#define HOPS_HOPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#    define HOPS_API __attribute__((visibility("default")))
#else
#    define HOPS_API
#endif

/* Format version written by this library.  A reader accepts any minor version
 * of a major it knows and refuses other majors with HOPS_E_VERSION. */
#define HOPS_FORMAT_MAJOR 1
#define HOPS_FORMAT_MINOR 1

/* ---- errors ---------------------------------------------------------------
 * One list generates the enum and hops_strerror().  Values are pinned. */
#define HOPS_ERROR_LIST(X)                                                                         \
    X(HOPS_OK, 0, "success")                                                                       \
    X(HOPS_E_IO, -1, "input/output error")                                                         \
    X(HOPS_E_BAD_MAGIC, -2, "not a heavyops recording (bad magic number)")                         \
    X(HOPS_E_VERSION, -3, "unsupported format version (written by a newer heavyops?)")             \
    X(HOPS_E_TRUNCATED, -4, "truncated file")                                                      \
    X(HOPS_E_CORRUPT, -5, "corrupt data")                                                          \
    X(HOPS_E_LZ4, -6, "lz4 decompression failed")                                                  \
    X(HOPS_E_NOMEM, -7, "out of memory")                                                           \
    X(HOPS_E_API, -8, "invalid use of the hops library")                                           \
    X(HOPS_E_CHECKSUM, -9, "checksum mismatch")                                                    \
    X(HOPS_E_EMPTY, -10, "empty file")                                                             \
    X(HOPS_E_EXISTS, -11, "file exists")                                                           \
    X(HOPS_E_FORKED, -12, "writer used in a forked child (the file is the parent's)")

typedef enum hops_err {
#define HOPS_X_ENUM(name, value, text) name = value,
    HOPS_ERROR_LIST(HOPS_X_ENUM)
#undef HOPS_X_ENUM
} hops_err;

/* Always a static string, also for unknown codes. */
HOPS_API const char *hops_strerror(int err);

/* ---- little-endian helpers (shared by every encoder/decoder) ------------- */
HOPS_API uint16_t hops_read_le16(const void *p);
HOPS_API uint32_t hops_read_le32(const void *p);
HOPS_API uint64_t hops_read_le64(const void *p);
HOPS_API void hops_write_le16(void *p, uint16_t v);
HOPS_API void hops_write_le32(void *p, uint32_t v);
HOPS_API void hops_write_le64(void *p, uint64_t v);

/* CRC-32C (Castagnoli) of buf; pass 0 as crc to start. */
HOPS_API uint32_t hops_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- shared value types ---------------------------------------------------- */

/* hops_meta.flags */
#define HOPS_META_ALL_INSTRUCTIONS 0x1u /* every instruction counted: total is exact */

/* Run description, written once at the start of a file.  The writer omits a
 * NULL python_version or mechanism; the reader yields "" for absent strings
 * and never NULL.  A list with n > 0 needs n non-NULL strings. */
typedef struct hops_meta {
    const char *python_version; /* e.g. "3.12.1" */
    const char *mechanism;      /* e.g. "sys.monitoring block counters" */
    uint32_t argc;
    const char *const *argv; /* target argv as the program sees it */
    uint64_t pid;
    int64_t start_ns;   /* wall clock, ns since the Unix epoch */
    uint32_t flags;     /* HOPS_META_* */
    uint32_t n_tracked; /* opname patterns given to record -i (0 if ALL) */
    const char *const *tracked;
    uint32_t n_file_globs; /* record -f patterns (0: every file) */
    const char *const *file_globs;
} hops_meta;

/* One instrumented instruction of a code object. */
typedef struct hops_site {
    uint32_t offset;    /* byte offset in co_code */
    int32_t line;       /* -1 when unknown */
    int32_t col;        /* 0-based column, -1 when unknown */
    const char *opname; /* as the recording interpreter's dis names it */
} hops_site;

/* A code object: symbol-table entry.  Its sites get the consecutive global site
 * ids first_site .. first_site + n_sites - 1. */
typedef struct hops_code {
    uint32_t first_site;
    uint32_t n_sites;
    int32_t firstlineno;
    const char *filename;
    const char *qualname;
    const hops_site *sites;
    /* Writing: the code object's co_linetable (CPython's location table),
     * written instead of decoded, or NULL; the sites' line and col are then
     * written as -1 and the reader takes them from the table.  Reading:
     * always NULL (the sites hold the positions). */
    const uint8_t *linetable;
    uint32_t linetable_len;
} hops_code;

/* Line and column of each site (in increasing offset order) from a CPython
 * location table (co_linetable: Objects/locations.md, 3.11 to 3.13) of a code
 * object whose co_firstlineno is firstlineno; a site past the table gets -1,
 * -1.  HOPS_OK, or HOPS_E_CORRUPT if the table or the order is not right
 * (the sites are then partly written). */
HOPS_API int hops_linetable_positions(const uint8_t *table, size_t len, int32_t firstlineno,
                                      hops_site *sites, uint32_t n_sites);

/* A thread's identity; may be written again when its name changes. */
typedef struct hops_thread {
    uint64_t tid;       /* threading.get_ident() */
    uint64_t native_id; /* threading.get_native_id(), 0 if unknown */
    const char *name;
} hops_thread;

/* One counter in a frame: executions of site since the thread's previous frame. */
typedef struct hops_count {
    uint32_t site;
    uint64_t count;
} hops_count;

/* hops_end.flags */
#define HOPS_END_CLEAN 0x1u /* the recorder stopped normally (not killed or crashed) */
/* Another tracer, profiler or sys.monitoring tool was active while recording:
 * CPython drops events when two tools instrument one code object, so counts
 * may be low. */
#define HOPS_END_INTERFERENCE 0x2u
/* The recorder could not count everything (out of memory): some code objects
 * or events are missing, so counts may be low.  lost_events counts the events
 * it knows it dropped; code it could not set up is not in that number. */
#define HOPS_END_INCOMPLETE 0x4u
/* Why a recording is HOPS_END_INCOMPLETE (a writer that sets either sets that
 * too; files from recorders before 2026-11-23 have neither): */
#define HOPS_END_NOMEM 0x8u /* the recorder ran out of memory */
/* CPython dropped events of the recorder's with no other tool in sight: some
 * counts came out negative and were left out. */
#define HOPS_END_DROPPED 0x10u

typedef struct hops_end {
    int64_t end_ns;       /* wall clock, ns since the Unix epoch */
    int32_t exit_status;  /* target's exit status as far as known, -1 if unknown */
    uint32_t flags;       /* HOPS_END_* */
    uint64_t lost_events; /* counts the recorder knows it lost (e.g. out of memory) */
} hops_end;

/* ---- writer ---------------------------------------------------------------
 * Not thread-safe: the caller serialises calls.  Chunks are buffered in memory
 * and reach the file on hops_writer_flush(), when the buffer fills, and on
 * finish/close; a frame is always written with every code/thread chunk it
 * refers to before it, so a file cut after any flush is readable. */
typedef struct hops_writer hops_writer;

#define HOPS_WRITE_EXCLUSIVE 0x1u /* fail with HOPS_E_EXISTS if the path exists */

/* Creates path (mode 0644; a regular file it replaces keeps its mode and
 * owner) and writes the file header and meta chunk.  On
 * Linux the file gets its name only once those are written, so that a process
 * killed at start-up leaves no empty file: with HOPS_WRITE_EXCLUSIVE the name
 * itself, else (replacing a regular file, or none) by rename() onto path. */
HOPS_API int hops_writer_open_path(hops_writer **out, const char *path, unsigned flags,
                                   const hops_meta *meta);
/* A replacing open keeps the file it renamed over open (Linux), so that the
 * kernel frees the old file's pages, which takes a millisecond or more for a
 * few MB, not in rename() but when that descriptor closes.  Returns it, now
 * the caller's to close from a thread that can wait (the recorder's flusher),
 * or -1 if there is none; hops_writer_close() closes one not taken. */
HOPS_API int hops_writer_take_replaced(hops_writer *w);

/* Writing from another thread.  By default the thread that fills a buffer
 * (or flushes) write(2)s it.  With a sink, the writer hands each buffer to
 * sink(ctx, data, len) instead, and starts a new one: data is the sink's, to
 * release with hops_writer_free_out(), and it must reach the file, in the
 * order the buffers came, through hops_writer_write_out(), which reads
 * nothing of the writer but its descriptor and so may run in any thread
 * while other calls run in another.  A sink's error becomes the writer's
 * (sticky); errors of the writes it has made since are its to report.  NULL:
 * back to write(2). */
typedef int (*hops_writer_sink)(void *ctx, uint8_t *data, size_t len);
HOPS_API void hops_writer_set_sink(hops_writer *w, hops_writer_sink sink, void *ctx);
HOPS_API int hops_writer_write_out(const hops_writer *w, const uint8_t *data, size_t len);
HOPS_API void hops_writer_free_out(uint8_t *data);
/* Same on an open fd; the writer does not close a fd it did not open. */
HOPS_API int hops_writer_open_fd(hops_writer **out, int fd, const hops_meta *meta);

/* Declares a code object.  code->first_site must equal the number of sites
 * declared so far (ids are dense); returns HOPS_E_API otherwise, and also for
 * a NULL filename or qualname and an opname that is NULL, empty or longer than
 * 255 bytes. */
HOPS_API int hops_writer_add_code(hops_writer *w, const hops_code *code);
/* Number of sites declared so far: the next code's first_site. */
HOPS_API uint32_t hops_writer_next_site(const hops_writer *w);

HOPS_API int hops_writer_add_thread(hops_writer *w, const hops_thread *t);

/* One LZ4-compressed, checksummed frame of n counts for thread tid.  Every
 * site must be declared.  Large inputs are split into several frames. */
HOPS_API int hops_writer_add_frame(hops_writer *w, uint64_t tid, const hops_count *counts,
                                   size_t n);

/* Writes buffered chunks to the file (one write(2) per buffer, retried on EINTR).
 * A writer belongs to the process that opened it: in a child of fork(2),
 * which shares the parent's fd and file offset, it writes nothing, drops what
 * is buffered and fails with HOPS_E_FORKED (sticky), so that the two
 * processes' chunks never interleave in one file. */
HOPS_API int hops_writer_flush(hops_writer *w);

/* Writes the end chunk and flushes.  Call at most once. */
HOPS_API int hops_writer_finish(hops_writer *w, const hops_end *end);

/* Flushes what is buffered (without an end chunk unless finish was called),
 * closes the fd if the writer opened it, and frees w.  Accepts NULL.  Returns
 * the first error seen by the writer, if any. */
HOPS_API int hops_writer_close(hops_writer *w);

/* Bytes handed to the file so far (compressed size on disk). */
HOPS_API uint64_t hops_writer_bytes_written(const hops_writer *w);

/* ---- reader ----------------------------------------------------------------
 * A pull parser over the chunks of one file: hops_reader_next() yields codes,
 * threads, frames and the end record in file order.  Memory use is bounded by
 * the largest chunk, not by the file size.  Every length is checked against the
 * file before it is used. */
typedef struct hops_reader hops_reader;

/* Meta as read back; all pointers Borrowed from the reader. */
typedef struct hops_file_meta {
    uint16_t major, minor;
    hops_meta meta;
} hops_file_meta;

typedef enum hops_event_kind {
    HOPS_EV_CODE = 1,
    HOPS_EV_THREAD = 2,
    HOPS_EV_FRAME = 3,
    HOPS_EV_END = 4,
} hops_event_kind;

/* A frame's records as stored, once decompressed: n records of
 * HOPS_RECORD_SIZE bytes each, a little-endian u32 site id followed by a
 * little-endian u64 count (docs/format.md, FRAM).  hops_record_site() and
 * hops_record_count() decode one; they compile to single loads on
 * little-endian hosts.  Since 0.2. */
#define HOPS_RECORD_SIZE 12

static inline uint32_t
hops_record_site(const uint8_t *rec)
{
    return (uint32_t)rec[0] | (uint32_t)rec[1] << 8 | (uint32_t)rec[2] << 16 |
           (uint32_t)rec[3] << 24;
}

static inline uint64_t
hops_record_count(const uint8_t *rec)
{
    return (uint64_t)hops_record_site(rec + 4) | (uint64_t)hops_record_site(rec + 8) << 32;
}

typedef struct hops_frame {
    uint64_t tid;
    size_t n;
    /* Borrowed; NULL when the reader has HOPS_READ_RAW_RECORDS set. */
    const hops_count *counts;
    uint64_t compressed_size; /* bytes of this frame's chunk payload on disk */
    uint64_t raw_size;        /* bytes after decompression */
    /* Borrowed: the same n records undecoded, n * HOPS_RECORD_SIZE bytes.
     * Since 0.2. */
    const uint8_t *records;
    /* Sites declared before this frame: every record's site must be below
     * it.  The reader checks that itself only when it decodes the frame
     * (not with HOPS_READ_RAW_RECORDS).  Since 0.2. */
    uint32_t n_sites;
} hops_frame;

typedef struct hops_event {
    hops_event_kind kind;
    union {
        hops_code code; /* strings and sites Borrowed */
        hops_thread thread;
        hops_frame frame;
        hops_end end;
    } u;
} hops_event;

/* Opens and validates the header and meta chunk.  A regular file is mapped
 * read-only as it is at open time (a recording still being written shows the
 * chunks complete then); pipes and files mmap refuses are read with read(2),
 * chunk by chunk.  A directory is HOPS_E_IO.  As with any mapping, a file that
 * another process truncates while it is open may raise SIGBUS.  On error *out
 * is NULL. */
HOPS_API int hops_reader_open_path(hops_reader **out, const char *path);
/* Same over a caller-owned buffer, which must outlive the reader. */
HOPS_API int hops_reader_open_mem(hops_reader **out, const void *data, size_t size);
HOPS_API void hops_reader_close(hops_reader *r);

HOPS_API const hops_file_meta *hops_reader_meta(const hops_reader *r);

/* Returns 1 and fills ev, 0 at the end of the file, or a negative error.
 * Chunks of unknown id are skipped.  A frame naming an undeclared site is
 * HOPS_E_CORRUPT (with HOPS_READ_RAW_RECORDS, the caller's check to make).
 * After an error, further calls return the same error. */
HOPS_API int hops_reader_next(hops_reader *r, hops_event *ev);

/* hops_reader_set_flags() flags. */
/* Frames are not decoded into hops_count arrays: hops_frame.counts is NULL
 * and callers read hops_frame.records.  For callers that fold records
 * straight into their own counters: the reader makes no pass over the records
 * at all, so the caller MUST check each site against hops_frame.n_sites and
 * treat a frame with a site not below it as corrupt (HOPS_E_CORRUPT), as
 * docs/format.md requires of a reader. */
#define HOPS_READ_RAW_RECORDS 0x1u

/* Sets the HOPS_READ_* flags for the events that follow (0 by default).
 * Returns HOPS_E_API, changing nothing, for a NULL reader or an unknown flag.
 * Since 0.2. */
HOPS_API int hops_reader_set_flags(hops_reader *r, unsigned flags);

/* Byte offset of the chunk the last event (or error) came from. */
HOPS_API uint64_t hops_reader_offset(const hops_reader *r);
/* Total file size in bytes (for a pipe: the bytes read so far). */
HOPS_API uint64_t hops_reader_file_size(const hops_reader *r);

#ifdef __cplusplus
}
#endif
#endif /* HOPS_HOPS_H */

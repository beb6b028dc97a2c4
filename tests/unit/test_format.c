/*
 * test_format.c - unit tests of format/: writer/reader round trips and the
 * reader's handling of damaged and foreign files (docs/format.md).
 *
 * Damaged files are made by editing a good file's bytes; where a test needs
 * a structurally valid but semantically bad chunk it rewrites the chunk's
 * checksum itself, using only the layout documented in docs/format.md, so
 * these tests also check the spec against the code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <hops/hops.h>

/* ---- helpers --------------------------------------------------------------- */

typedef struct buf {
    uint8_t *data;
    size_t size;
} buf;

static const char *const test_argv[] = {"prog.py", "--flag", "", "ünïcode ✓"};
static const char *const test_tracked[] = {"LOAD_*", "BINARY_OP"};
static const char *const test_globs[] = {"*/site-packages/*", "src/**/*.py", "x"};

static hops_meta
test_meta(void)
{
    hops_meta m = {
        .python_version = "3.12.1",
        .mechanism = "sys.monitoring block counters",
        .argc = 4,
        .argv = test_argv,
        .pid = 0x1122334455667788ull,
        .start_ns = -1234567890123456789ll,
        .flags = HOPS_META_ALL_INSTRUCTIONS | 0x80000000u,
        .n_tracked = 2,
        .tracked = test_tracked,
        .n_file_globs = 3,
        .file_globs = test_globs,
    };
    return m;
}

/* A temporary file path, removed by the caller. */
static char *
tmp_path(void)
{
    static const char tmpl[] = "/tmp/test_format_XXXXXX";
    char *p = malloc(sizeof(tmpl));
    int fd;

    cr_assert_not_null(p);
    memcpy(p, tmpl, sizeof(tmpl));
    fd = mkstemp(p);
    cr_assert(fd >= 0);
    close(fd);
    return p;
}

static buf
read_whole(const char *path)
{
    buf b = {0};
    FILE *f = fopen(path, "rb");

    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    b.size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.size ? b.size : 1);
    cr_assert_not_null(b.data);
    cr_assert_eq(fread(b.data, 1, b.size, f), b.size);
    fclose(f);
    return b;
}

static void
write_whole(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static hops_writer *
writer_to_fd(int *fd_out, char **path_out)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    char *path = tmp_path();
    int fd = open(path, O_WRONLY | O_TRUNC);

    cr_assert(fd >= 0);
    cr_assert_eq(hops_writer_open_fd(&w, fd, &m), HOPS_OK);
    *fd_out = fd;
    *path_out = path;
    return w;
}

/* Closes w and its fd, returns the file's bytes and deletes it. */
static buf
finish_to_buf(hops_writer *w, int fd, char *path)
{
    buf b;

    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    close(fd);
    b = read_whole(path);
    unlink(path);
    free(path);
    return b;
}

static void
add_simple_code(hops_writer *w, uint32_t n_sites, const char *name)
{
    hops_site *sites = calloc(n_sites ? n_sites : 1, sizeof(*sites));
    hops_code c = {
        .first_site = hops_writer_next_site(w),
        .n_sites = n_sites,
        .firstlineno = 10,
        .filename = "mod.py",
        .qualname = name,
        .sites = sites,
    };

    for (uint32_t i = 0; i < n_sites; i++) {
        sites[i].offset = 2 * i;
        sites[i].line = (int32_t)(10 + i);
        sites[i].col = (int32_t)i;
        sites[i].opname = "LOAD_FAST";
    }
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_OK);
    free(sites);
}

/* A small file with every chunk kind: META, 2 x CODE, THRD, 2 x FRAM, END. */
static buf
small_file(int with_end)
{
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_thread t = {.tid = 7, .native_id = 77, .name = "MainThread"};
    hops_count c1[] = {{0, 5}, {1, 6}, {2, 7}};
    hops_count c2[] = {{3, 1}, {0, 2}};
    hops_end e = {.end_ns = 99, .exit_status = 3, .flags = HOPS_END_CLEAN, .lost_events = 4};

    add_simple_code(w, 3, "f");
    add_simple_code(w, 2, "g");
    cr_assert_eq(hops_writer_add_thread(w, &t), HOPS_OK);
    cr_assert_eq(hops_writer_add_frame(w, 7, c1, 3), HOPS_OK);
    cr_assert_eq(hops_writer_add_frame(w, 7, c2, 2), HOPS_OK);
    if (with_end)
        cr_assert_eq(hops_writer_finish(w, &e), HOPS_OK);
    return finish_to_buf(w, fd, path);
}

/* Offsets of the chunks of a well-formed file, in order. */
static size_t
chunk_offsets(const buf *b, size_t *offs, size_t max)
{
    size_t n = 0;

    for (size_t off = 16; off + 16 <= b->size && n < max;) {
        offs[n++] = off;
        off += 16 + (size_t)hops_read_le64(b->data + off + 8);
    }
    return n;
}

/* Recomputes a chunk's checksum as docs/format.md defines it. */
static void
fix_crc(buf *b, size_t off)
{
    uint64_t len = hops_read_le64(b->data + off + 8);
    uint32_t crc = hops_crc32c(0, b->data + off, 4);

    crc = hops_crc32c(crc, b->data + off + 8, 8);
    crc = hops_crc32c(crc, b->data + off + 16, (size_t)len);
    hops_write_le32(b->data + off + 4, crc);
}

/* Reads events until the end or an error; returns 0 or the error. */
static int
drain(hops_reader *r, size_t *n_events, int *saw_end)
{
    hops_event ev;
    int got;

    *n_events = 0;
    *saw_end = 0;
    while ((got = hops_reader_next(r, &ev)) == 1) {
        (*n_events)++;
        if (ev.kind == HOPS_EV_END)
            *saw_end = 1;
    }
    return got;
}

/* The three ways a reader gets its bytes: the caller's memory, an mmap'ed
 * regular file, and read() from something that cannot be mapped (a pipe). */
enum via { VIA_MEM, VIA_PATH, VIA_PIPE, VIA_COUNT };
static const char *const via_names[] = {"memory", "path", "pipe"};

static int
open_and_drain_via(enum via via, const buf *b, size_t *n_events, int *saw_end)
{
    hops_reader *r = NULL;
    char *path = NULL;
    int pfd[2] = {-1, -1};
    int err;

    switch (via) {
    case VIA_MEM:
        err = hops_reader_open_mem(&r, b->data, b->size);
        break;
    case VIA_PATH:
        path = tmp_path();
        write_whole(path, b->data, b->size);
        err = hops_reader_open_path(&r, path);
        break;
    default: {
        char dev[64];
        /* Small files fit the pipe buffer, so no writer process is needed. */
        cr_assert_leq(b->size, 65536);
        cr_assert_eq(pipe(pfd), 0);
        cr_assert_eq(write(pfd[1], b->data, b->size), (ssize_t)b->size);
        close(pfd[1]);
        snprintf(dev, sizeof(dev), "/dev/fd/%d", pfd[0]);
        err = hops_reader_open_path(&r, dev);
        break;
    }
    }
    *n_events = 0;
    *saw_end = 0;
    if (err == HOPS_OK)
        err = drain(r, n_events, saw_end);
    else
        cr_assert_null(r);
    hops_reader_close(r);
    if (path) {
        unlink(path);
        free(path);
    }
    if (pfd[0] >= 0)
        close(pfd[0]);
    return err;
}

static int
open_and_drain(const buf *b, size_t *n_events, int *saw_end)
{
    hops_reader *r = NULL;
    int err = hops_reader_open_mem(&r, b->data, b->size);

    *n_events = 0;
    *saw_end = 0;
    if (err != HOPS_OK) {
        cr_assert_null(r);
        return err;
    }
    err = drain(r, n_events, saw_end);
    hops_reader_close(r);
    return err;
}

/* Appends a raw chunk (valid checksum) to b. */
static void
append_chunk(buf *b, const char id[4], const void *payload, size_t len)
{
    size_t off = b->size;

    b->data = realloc(b->data, b->size + 16 + len);
    cr_assert_not_null(b->data);
    memcpy(b->data + off, id, 4);
    hops_write_le64(b->data + off + 8, len);
    memcpy(b->data + off + 16, payload, len);
    b->size += 16 + len;
    fix_crc(b, off);
}

/* ---- basic building blocks ------------------------------------------------- */

Test(hops_crc32c, matches_the_standard_check_value)
{
    cr_assert_eq(hops_crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(hops_crc32c(0, "", 0), 0u);
}

Test(hops_crc32c, chains_across_calls_and_alignments)
{
    uint8_t data[1000];
    uint32_t whole;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 7);
    whole = hops_crc32c(0, data, sizeof(data));
    for (size_t split = 0; split <= 40; split++) {
        uint32_t c = hops_crc32c(0, data, split);
        cr_assert_eq(hops_crc32c(c, data + split, sizeof(data) - split), whole);
    }
    /* Known value for 32 zero bytes (RFC 3720 B.4). */
    memset(data, 0, 32);
    cr_assert_eq(hops_crc32c(0, data, 32), 0x8A9136AAu);
    memset(data, 0xff, 32);
    cr_assert_eq(hops_crc32c(0, data, 32), 0x62A8AB43u);
}

/* Internal (format/src/hops_private.h): the table-driven fallback, which
 * hops_crc32c() bypasses on x86-64 with SSE4.2. */
uint32_t hops_crc32c_portable(uint32_t crc, const void *buf, size_t len);

Test(hops_crc32c, agrees_with_the_portable_fallback)
{
    uint8_t data[4096];
    uint64_t s = 1;

    cr_assert_eq(hops_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    for (size_t i = 0; i < sizeof(data); i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        data[i] = (uint8_t)(s >> 56);
    }
    for (size_t start = 0; start < 16; start++)
        for (size_t len = 0; len + start <= sizeof(data); len += 1 + len / 3)
            cr_assert_eq(hops_crc32c(0x12345678u, data + start, len),
                         hops_crc32c_portable(0x12345678u, data + start, len), "start %zu len %zu",
                         start, len);
}

Test(hops_crc32c, agrees_with_the_portable_fallback_on_long_buffers)
{
    /* Long enough for the three-block paths (3 x 8192 and 3 x 256 bytes). */
    size_t size = 3 * 8192 * 2 + 3 * 256 * 3 + 100;
    uint8_t *data = malloc(size);
    uint64_t s = 7;

    cr_assert_not_null(data);
    for (size_t i = 0; i < size; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        data[i] = (uint8_t)(s >> 56);
    }
    for (size_t start = 0; start < 9; start++)
        for (size_t len = 0; len + start <= size; len += 1 + len / 5 + (len > 20000 ? 997 : 0))
            cr_assert_eq(hops_crc32c(0xCAFEF00Du, data + start, len),
                         hops_crc32c_portable(0xCAFEF00Du, data + start, len), "start %zu len %zu",
                         start, len);
    cr_assert_eq(hops_crc32c(0, data, size), hops_crc32c_portable(0, data, size));
    free(data);
}

Test(hops_le, reads_and_writes_little_endian)
{
    uint8_t b[8];

    hops_write_le16(b, 0x1234);
    cr_assert(b[0] == 0x34 && b[1] == 0x12);
    cr_assert_eq(hops_read_le16(b), 0x1234);
    hops_write_le32(b, 0xA1B2C3D4u);
    cr_assert(b[0] == 0xD4 && b[3] == 0xA1);
    cr_assert_eq(hops_read_le32(b), 0xA1B2C3D4u);
    hops_write_le64(b, 0x0102030405060708ull);
    cr_assert(b[0] == 0x08 && b[7] == 0x01);
    cr_assert_eq(hops_read_le64(b), 0x0102030405060708ull);
}

Test(hops_strerror, names_every_code_and_survives_unknown_ones)
{
    static const int codes[] = {
#define X(name, value, text) name,
        HOPS_ERROR_LIST(X)
#undef X
    };
    static const char *const texts[] = {
#define X(name, value, text) text,
        HOPS_ERROR_LIST(X)
#undef X
    };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cr_assert_str_eq(hops_strerror(codes[i]), texts[i]);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(hops_strerror(codes[i]), hops_strerror(codes[j]));
    }
    cr_assert_str_eq(hops_strerror(HOPS_E_VERSION),
                     "unsupported format version (written by a newer heavyops?)");
    cr_assert_str_eq(hops_strerror(HOPS_OK), "success");
    /* Pinned values: released files and tools depend on them. */
    cr_assert_eq(HOPS_E_IO, -1);
    cr_assert_eq(HOPS_E_EXISTS, -11);
    cr_assert_eq(HOPS_E_FORKED, -12);
    cr_assert_str_eq(hops_strerror(-13), "unknown hops error code");
    cr_assert_str_eq(hops_strerror(1), "unknown hops error code");
    cr_assert_str_eq(hops_strerror(-2147483647 - 1), "unknown hops error code");
    cr_assert_eq(hops_strerror(12345), hops_strerror(-999));
}

/* ---- round trip -------------------------------------------------------------- */

Test(hops_roundtrip, preserves_every_meta_field)
{
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    buf b = finish_to_buf(w, fd, path);
    hops_reader *r = NULL;
    const hops_file_meta *fm;
    hops_meta want = test_meta();
    hops_event ev;

    cr_assert_eq(memcmp(b.data, "\x89HOPS\r\n\x1a", 8), 0);
    cr_assert_eq(hops_read_le16(b.data + 8), HOPS_FORMAT_MAJOR);
    cr_assert_eq(hops_read_le32(b.data + 12), 0u);
    cr_assert_eq(memcmp(b.data + 16, "META", 4), 0);

    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    fm = hops_reader_meta(r);
    cr_assert_eq(fm->major, HOPS_FORMAT_MAJOR);
    cr_assert_eq(fm->minor, HOPS_FORMAT_MINOR);
    cr_assert_str_eq(fm->meta.python_version, want.python_version);
    cr_assert_str_eq(fm->meta.mechanism, want.mechanism);
    cr_assert_eq(fm->meta.pid, want.pid);
    cr_assert_eq(fm->meta.start_ns, want.start_ns);
    cr_assert_eq(fm->meta.flags, want.flags);
    cr_assert_eq(fm->meta.argc, want.argc);
    for (uint32_t i = 0; i < want.argc; i++)
        cr_assert_str_eq(fm->meta.argv[i], want.argv[i]);
    cr_assert_eq(fm->meta.n_tracked, want.n_tracked);
    for (uint32_t i = 0; i < want.n_tracked; i++)
        cr_assert_str_eq(fm->meta.tracked[i], want.tracked[i]);
    cr_assert_eq(fm->meta.n_file_globs, want.n_file_globs);
    for (uint32_t i = 0; i < want.n_file_globs; i++)
        cr_assert_str_eq(fm->meta.file_globs[i], want.file_globs[i]);
    /* A file without END is a killed run: no events, clean end of file. */
    cr_assert_eq(hops_reader_next(r, &ev), 0);
    cr_assert_eq(hops_reader_next(r, &ev), 0);
    cr_assert_eq(hops_reader_file_size(r), b.size);
    hops_reader_close(r);
    free(b.data);
}

Test(hops_roundtrip, reads_absent_meta_strings_as_empty)
{
    hops_meta m = {0};
    hops_writer *w = NULL;
    hops_reader *r = NULL;
    char *path = tmp_path();
    const hops_file_meta *fm;

    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK);
    fm = hops_reader_meta(r);
    cr_assert_str_eq(fm->meta.python_version, "");
    cr_assert_str_eq(fm->meta.mechanism, "");
    cr_assert_eq(fm->meta.argc, 0);
    cr_assert_eq(fm->meta.n_tracked, 0);
    cr_assert_eq(fm->meta.n_file_globs, 0);
    cr_assert_eq(fm->meta.pid, 0);
    hops_reader_close(r);
    unlink(path);
    free(path);
}

Test(hops_roundtrip, preserves_codes_threads_frames_and_end)
{
    enum { NSITES = 1000 };
    static char opnames[NSITES][16];
    hops_site sites[NSITES];
    hops_code code = {
        .first_site = 0,
        .n_sites = NSITES,
        .firstlineno = -5,
        .filename = "/path/to/ünïcode.py",
        .qualname = "Outer.<locals>.inner",
        .sites = sites,
    };
    hops_code empty = {.first_site = NSITES, .n_sites = 0, .filename = "", .qualname = ""};
    hops_thread t1 = {.tid = UINT64_MAX, .native_id = 12345, .name = "MainThread"};
    hops_thread t2 = {.tid = 2, .native_id = 0, .name = ""};
    hops_count counts[NSITES];
    hops_end e = {
        .end_ns = INT64_MIN, .exit_status = -1, .flags = HOPS_END_CLEAN, .lost_events = UINT64_MAX};
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_reader *r = NULL;
    hops_event ev;
    buf b;

    for (int i = 0; i < NSITES; i++) {
        snprintf(opnames[i], sizeof(opnames[i]), "OP_%d", i);
        sites[i].offset = (uint32_t)i * 2 + 0x80000000u;
        sites[i].line = i % 3 == 0 ? -1 : i - 500;
        sites[i].col = i % 5 == 0 ? -1 : INT32_MAX - i;
        sites[i].opname = opnames[i];
        counts[i].site = (uint32_t)(NSITES - 1 - i);
        counts[i].count =
            (uint64_t)i * 0x100000001ull + (i == 7 ? UINT64_MAX - 7 * 0x100000001ull : 0);
    }
    cr_assert_eq(hops_writer_add_code(w, &code), HOPS_OK);
    cr_assert_eq(hops_writer_next_site(w), NSITES);
    cr_assert_eq(hops_writer_add_code(w, &empty), HOPS_OK);
    cr_assert_eq(hops_writer_add_thread(w, &t1), HOPS_OK);
    cr_assert_eq(hops_writer_add_frame(w, t1.tid, counts, NSITES), HOPS_OK);
    cr_assert_eq(hops_writer_add_thread(w, &t2), HOPS_OK);
    cr_assert_eq(hops_writer_add_frame(w, t2.tid, counts + 10, 1), HOPS_OK);
    cr_assert_eq(hops_writer_finish(w, &e), HOPS_OK);
    cr_assert_eq(hops_writer_flush(w), HOPS_OK);
    cr_assert_gt(hops_writer_bytes_written(w), 0);
    b = finish_to_buf(w, fd, path);

    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    cr_assert_eq(ev.u.code.first_site, 0);
    cr_assert_eq(ev.u.code.n_sites, NSITES);
    cr_assert_eq(ev.u.code.firstlineno, -5);
    cr_assert_str_eq(ev.u.code.filename, code.filename);
    cr_assert_str_eq(ev.u.code.qualname, code.qualname);
    for (int i = 0; i < NSITES; i++) {
        cr_assert_eq(ev.u.code.sites[i].offset, sites[i].offset);
        cr_assert_eq(ev.u.code.sites[i].line, sites[i].line);
        cr_assert_eq(ev.u.code.sites[i].col, sites[i].col);
        cr_assert_str_eq(ev.u.code.sites[i].opname, sites[i].opname);
    }

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    cr_assert_eq(ev.u.code.first_site, NSITES);
    cr_assert_eq(ev.u.code.n_sites, 0);
    cr_assert_str_eq(ev.u.code.filename, "");

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_THREAD);
    cr_assert_eq(ev.u.thread.tid, UINT64_MAX);
    cr_assert_eq(ev.u.thread.native_id, 12345);
    cr_assert_str_eq(ev.u.thread.name, "MainThread");

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_FRAME);
    cr_assert_eq(ev.u.frame.tid, UINT64_MAX);
    cr_assert_eq(ev.u.frame.n, NSITES);
    cr_assert_eq(ev.u.frame.raw_size, 12 * NSITES);
    cr_assert_gt(ev.u.frame.compressed_size, 16);
    for (int i = 0; i < NSITES; i++) {
        cr_assert_eq(ev.u.frame.counts[i].site, counts[i].site);
        cr_assert_eq(ev.u.frame.counts[i].count, counts[i].count);
    }

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_THREAD);
    cr_assert_eq(ev.u.thread.tid, 2);
    cr_assert_str_eq(ev.u.thread.name, "");

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_FRAME);
    cr_assert_eq(ev.u.frame.n, 1);
    cr_assert_eq(ev.u.frame.counts[0].site, counts[10].site);
    cr_assert_eq(ev.u.frame.counts[0].count, counts[10].count);

    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_END);
    cr_assert_eq(ev.u.end.end_ns, INT64_MIN);
    cr_assert_eq(ev.u.end.exit_status, -1);
    cr_assert_eq(ev.u.end.flags, HOPS_END_CLEAN);
    cr_assert_eq(ev.u.end.lost_events, UINT64_MAX);

    cr_assert_eq(hops_reader_next(r, &ev), 0);
    cr_assert_eq(hops_reader_next(r, &ev), 0);
    hops_reader_close(r);
    free(b.data);
}

Test(hops_roundtrip, splits_frames_larger_than_4_mib)
{
    /* 1,000,000 records = 12 MB raw: three frames of at most 4 MiB. */
    const size_t n = 1000000;
    hops_count *counts = malloc(n * sizeof(*counts));
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_reader *r = NULL;
    hops_event ev;
    size_t seen = 0, frames = 0;
    buf b;

    cr_assert_not_null(counts);
    add_simple_code(w, 5000, "big");
    for (size_t i = 0; i < n; i++) {
        counts[i].site = (uint32_t)((i * 7919) % 5000);
        counts[i].count = i ^ 0xABCDEFull;
    }
    cr_assert_eq(hops_writer_add_frame(w, 1, counts, n), HOPS_OK);
    b = finish_to_buf(w, fd, path);

    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    while (hops_reader_next(r, &ev) == 1) {
        cr_assert_eq(ev.kind, HOPS_EV_FRAME);
        cr_assert_eq(ev.u.frame.tid, 1);
        cr_assert_leq(ev.u.frame.raw_size, 4u << 20);
        cr_assert_eq(ev.u.frame.raw_size, 12 * ev.u.frame.n);
        for (size_t i = 0; i < ev.u.frame.n; i++) {
            cr_assert_eq(ev.u.frame.counts[i].site, counts[seen + i].site);
            cr_assert_eq(ev.u.frame.counts[i].count, counts[seen + i].count);
        }
        seen += ev.u.frame.n;
        frames++;
    }
    cr_assert_eq(seen, n);
    cr_assert_eq(frames, 3);
    hops_reader_close(r);
    free(b.data);
    free(counts);
}

Test(hops_roundtrip, raw_records_are_the_counts_undecoded)
{
    const size_t n = 500000; /* two frames */
    hops_count *counts = malloc(n * sizeof(*counts));
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_reader *r = NULL;
    hops_event ev;
    size_t seen = 0, frames = 0;
    buf b;

    cr_assert_not_null(counts);
    add_simple_code(w, 5000, "big");
    for (size_t i = 0; i < n; i++) {
        counts[i].site = (uint32_t)((i * 7919) % 5000);
        counts[i].count = (i * 0x9E3779B97F4A7C15ull) ^ (i << 40);
    }
    cr_assert_eq(hops_writer_add_frame(w, 1, counts, n), HOPS_OK);
    b = finish_to_buf(w, fd, path);

    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_set_flags(r, HOPS_READ_RAW_RECORDS), HOPS_OK);
    while (hops_reader_next(r, &ev) == 1) {
        if (ev.kind != HOPS_EV_FRAME)
            continue;
        cr_assert_null(ev.u.frame.counts);
        cr_assert_eq(ev.u.frame.n_sites, 5000);
        cr_assert_eq(ev.u.frame.raw_size, HOPS_RECORD_SIZE * ev.u.frame.n);
        for (size_t i = 0; i < ev.u.frame.n; i++) {
            const uint8_t *rec = ev.u.frame.records + i * HOPS_RECORD_SIZE;
            cr_assert_eq(hops_record_site(rec), counts[seen + i].site);
            cr_assert_eq(hops_record_count(rec), counts[seen + i].count);
        }
        seen += ev.u.frame.n;
        frames++;
    }
    cr_assert_eq(seen, n);
    cr_assert_eq(frames, 2);
    hops_reader_close(r);

    /* Decoded frames carry the raw records too. */
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    while (hops_reader_next(r, &ev) == 1) {
        if (ev.kind != HOPS_EV_FRAME)
            continue;
        cr_assert_not_null(ev.u.frame.counts);
        cr_assert_eq(hops_record_site(ev.u.frame.records), ev.u.frame.counts[0].site);
        cr_assert_eq(hops_record_count(ev.u.frame.records), ev.u.frame.counts[0].count);
    }
    hops_reader_close(r);
    free(b.data);
    free(counts);
}

Test(hops_roundtrip, accepts_maximally_compressible_frames)
{
    /* Identical records compress close to LZ4's 255-fold limit, which the
     * reader uses to refuse forged raw sizes: it must still accept them. */
    const size_t n = 2 * 349525 + 1;
    hops_count *counts = calloc(n, sizeof(*counts));
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_reader *r = NULL;
    hops_event ev;
    size_t seen = 0;
    buf b;

    cr_assert_not_null(counts);
    add_simple_code(w, 1, "f");
    cr_assert_eq(hops_writer_add_frame(w, 1, counts, n), HOPS_OK);
    b = finish_to_buf(w, fd, path);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    while (hops_reader_next(r, &ev) == 1) {
        if (ev.kind != HOPS_EV_FRAME)
            continue;
        if (ev.u.frame.n == 349525)
            cr_assert_gt(ev.u.frame.raw_size, 250 * (ev.u.frame.compressed_size - 16),
                         "the test must come close to the limit");
        for (size_t i = 0; i < ev.u.frame.n; i++)
            cr_assert(ev.u.frame.counts[i].site == 0 && ev.u.frame.counts[i].count == 0);
        seen += ev.u.frame.n;
    }
    cr_assert_eq(seen, n);
    hops_reader_close(r);
    free(b.data);
    free(counts);
}

Test(hops_roundtrip, reads_the_same_through_a_path_a_pipe_and_memory)
{
    buf b = small_file(1);
    char *path = tmp_path();
    hops_reader *r = NULL;
    size_t n_events;
    int saw_end, pfd[2];
    pid_t pid;

    write_whole(path, b.data, b.size);
    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK);
    cr_assert_eq(hops_reader_file_size(r), b.size);
    cr_assert_eq(drain(r, &n_events, &saw_end), 0);
    cr_assert_eq(n_events, 6);
    cr_assert(saw_end);
    hops_reader_close(r);

    /* A pipe cannot be mapped: the reader streams it chunk by chunk. */
    cr_assert_eq(pipe(pfd), 0);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        _exit(write(pfd[1], b.data, b.size) == (ssize_t)b.size ? 0 : 1);
    }
    close(pfd[1]);
    {
        char dev[64];
        snprintf(dev, sizeof(dev), "/dev/fd/%d", pfd[0]);
        cr_assert_eq(hops_reader_open_path(&r, dev), HOPS_OK);
    }
    cr_assert_str_eq(hops_reader_meta(r)->meta.python_version, "3.12.1");
    cr_assert_eq(drain(r, &n_events, &saw_end), 0);
    cr_assert_eq(n_events, 6);
    cr_assert(saw_end);
    cr_assert_eq(hops_reader_file_size(r), b.size);
    hops_reader_close(r);
    close(pfd[0]);

    unlink(path);
    free(path);
    free(b.data);
}

Test(hops_roundtrip, counts_bytes_written_like_the_file_size)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    char *path = tmp_path();
    hops_count c = {0, 1};
    buf b;
    uint64_t written;

    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    add_simple_code(w, 1, "f");
    cr_assert_eq(hops_writer_add_frame(w, 1, &c, 1), HOPS_OK);
    cr_assert_eq(hops_writer_flush(w), HOPS_OK);
    written = hops_writer_bytes_written(w);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    b = read_whole(path);
    cr_assert_eq(written, b.size);
    unlink(path);
    free(path);
    free(b.data);
}

/* ---- writer API ---------------------------------------------------------------- */

Test(hops_writer, exclusive_open_refuses_an_existing_file)
{
    hops_meta m = test_meta();
    hops_writer *w = (hops_writer *)&m;
    char *path = tmp_path(); /* exists, empty */
    buf b;

    cr_assert_eq(hops_writer_open_path(&w, path, HOPS_WRITE_EXCLUSIVE, &m), HOPS_E_EXISTS);
    cr_assert_null(w);
    b = read_whole(path);
    cr_assert_eq(b.size, 0, "the existing file must be left alone");
    free(b.data);
    /* Without the flag the file is replaced. */
    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    unlink(path);
    /* With the flag and no file, it is created. */
    cr_assert_eq(hops_writer_open_path(&w, path, HOPS_WRITE_EXCLUSIVE, &m), HOPS_OK);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    b = read_whole(path);
    cr_assert_gt(b.size, 16);
    free(b.data);
    unlink(path);
    free(path);
}

/* Replaces (or creates) path with a recording of one code object, qualname. */
static void
replace_with_code(const char *path, const char *qualname)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;

    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    add_simple_code(w, 1, qualname);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
}

/* path's first chunk after META is a code object named qualname. */
static void
expect_first_code(const char *path, const char *qualname)
{
    hops_reader *r = NULL;
    hops_event ev;

    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    cr_assert_str_eq(ev.u.code.qualname, qualname);
    hops_reader_close(r);
}

/* Replacing a file moves the new one, header and META written, onto the name
 * in one step (Linux): the name never holds an empty file, and a reader of
 * the old file keeps a whole one.  A symbolic link is written through, not
 * replaced. */
Test(hops_writer, replacing_a_file_swaps_in_a_readable_one)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    hops_reader *r = NULL;
    hops_event ev;
    char *path = tmp_path();
    char tmp[4096], link_path[4096];
    char old[4] = {0};
    struct stat sb;
    int fd;

    fd = open(path, O_WRONLY | O_TRUNC);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "old", 3), 3);
    close(fd);
    fd = open(path, O_RDONLY); /* a reader of the old file */
    cr_assert(fd >= 0);

    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    /* before anything is flushed but the header and META: readable at once */
    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK,
                 "a run killed now leaves a readable file");
    cr_assert_eq(hops_reader_next(r, &ev), 0);
    hops_reader_close(r);
#if defined(__linux__) && defined(O_TMPFILE)
    cr_assert_eq(pread(fd, old, 3, 0), 3, "the old file must stay whole for its readers");
    cr_assert_str_eq(old, "old");
#endif
    close(fd);
    add_simple_code(w, 1, "f");
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    cr_assert_neq(access(tmp, F_OK), 0, "no temporary name may be left");

    /* through a symbolic link: the link stays, its target gets the file */
    snprintf(link_path, sizeof link_path, "%s.link", path);
    cr_assert_eq(symlink(path, link_path), 0);
    replace_with_code(link_path, "g");
    cr_assert_eq(lstat(link_path, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link itself must not be replaced");
    expect_first_code(path, "g");
    unlink(link_path);
    unlink(path);
    free(path);
}

/* Replacing keeps what an O_TRUNC open keeps: the old file's mode (a
 * recording its owner made private stays private), and a file with other
 * hard links is written through, so every name sees the new recording. */
Test(hops_writer, replacing_keeps_the_mode_and_writes_through_hard_links)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    char *path = tmp_path();
    char other[4096];
    struct stat sb;
    const mode_t modes[] = {0600, 0640};
    mode_t old_umask = umask(022);

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        cr_assert_eq(chmod(path, modes[i]), 0);
        cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
        cr_assert_eq(hops_writer_close(w), HOPS_OK);
        cr_assert_eq(stat(path, &sb), 0);
        cr_assert_eq(sb.st_mode & 07777, modes[i], "mode %o, not the old file's %o",
                     (unsigned)(sb.st_mode & 07777), (unsigned)modes[i]);
    }

    snprintf(other, sizeof other, "%s.other", path);
    cr_assert_eq(link(path, other), 0);
    replace_with_code(path, "h");
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_nlink, 2, "the hard link must not be parted from the file");
    expect_first_code(other, "h");
    umask(old_umask);
    unlink(other);
    unlink(path);
    free(path);
}

/* Descriptors this process has open. */
static int
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    cr_assert_not_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* A replacing open keeps the file it renamed over open, and hands it to
 * the caller once, so that the kernel frees its pages where the caller
 * chooses (the recorder: its flusher thread), not in the open; one not taken
 * is closed with the writer. */
Test(hops_writer, replacing_hands_over_the_replaced_file)
{
#if defined(__linux__) && defined(O_TMPFILE)
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    char *path = tmp_path();
    struct stat old, sb;
    int fd, before;

    cr_assert_eq(stat(path, &old), 0);
    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    fd = hops_writer_take_replaced(w);
    cr_assert_geq(fd, 0, "the replaced file must be handed over");
    cr_assert_eq(fstat(fd, &sb), 0);
    cr_assert_eq(sb.st_ino, old.st_ino, "not the replaced file");
    cr_assert_eq(sb.st_nlink, 0, "the replaced file must have no name left");
    cr_assert_eq(hops_writer_take_replaced(w), -1, "handed over once only");
    cr_assert_eq(close(fd), 0);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);

    /* not taken: closed with the writer */
    before = open_fds();
    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    cr_assert_eq(open_fds(), before + 2, "the new file and the replaced one");
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    cr_assert_eq(open_fds(), before, "a descriptor was left open");

    /* nothing replaced: none */
    unlink(path);
    cr_assert_eq(hops_writer_open_path(&w, path, HOPS_WRITE_EXCLUSIVE, &m), HOPS_OK);
    cr_assert_eq(hops_writer_take_replaced(w), -1);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    unlink(path);
    free(path);
#endif
}

/* A sink's buffers, as given. */
typedef struct sink_log {
    uint8_t *data[64];
    size_t len[64];
    int n;
    int fail_at; /* the call that fails with HOPS_E_IO; -1: none */
} sink_log;

static int
log_sink(void *ctx, uint8_t *data, size_t len)
{
    sink_log *l = ctx;

    cr_assert_lt(l->n, 64);
    if (l->n++ == l->fail_at) {
        hops_writer_free_out(data);
        return HOPS_E_IO;
    }
    l->data[l->n - 1] = data;
    l->len[l->n - 1] = len;
    return HOPS_OK;
}

/* With a sink, the writer writes nothing itself: every full buffer, and what
 * a flush finds, goes to the sink, and written out in that order with
 * hops_writer_write_out() (as the recorder's flusher thread does) they make
 * the whole file.  A sink's error is the writer's, and sticky. */
Test(hops_writer, a_sink_gets_every_buffer_in_order)
{
    int fd, codes = 0, got;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    sink_log l = {.fail_at = -1};
    struct stat sb;
    hops_reader *r = NULL;
    hops_event ev;
    off_t header;

    cr_assert_eq(fstat(fd, &sb), 0);
    header = sb.st_size; /* the header and META, written at the open */
    cr_assert_gt(header, 0);
    hops_writer_set_sink(w, log_sink, &l);
    for (int i = 0; i < 300; i++)
        add_simple_code(w, 100, "f"); /* some 700 KB */
    cr_assert_eq(hops_writer_flush(w), HOPS_OK);
    cr_assert_gt(l.n, 4, "%d buffers only", l.n);
    cr_assert_eq(fstat(fd, &sb), 0);
    cr_assert_eq(sb.st_size, header, "the writer wrote a buffer itself");
    for (int i = 0; i < l.n; i++) {
        cr_assert_eq(hops_writer_write_out(w, l.data[i], l.len[i]), HOPS_OK);
        hops_writer_free_out(l.data[i]);
    }
    cr_assert_eq(fstat(fd, &sb), 0);
    cr_assert_eq(hops_writer_bytes_written(w), (uint64_t)sb.st_size);
    hops_writer_set_sink(w, NULL, NULL);
    cr_assert_eq(hops_writer_close(w), HOPS_OK);
    close(fd);
    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK);
    while ((got = hops_reader_next(r, &ev)) == 1)
        codes += ev.kind == HOPS_EV_CODE;
    cr_assert_eq(got, 0);
    cr_assert_eq(codes, 300);
    hops_reader_close(r);
    unlink(path);
    free(path);

    /* A chunk that does not fit sends the buffer on first: none outgrows the
     * 64 KiB it starts with (growing would copy it, and it was written
     * right after). */
    for (int i = 0; i < l.n; i++)
        cr_assert_leq(l.len[i], 65536, "buffer %d: %zu bytes", i, l.len[i]);

    w = writer_to_fd(&fd, &path);
    l = (sink_log){.fail_at = 0};
    hops_writer_set_sink(w, log_sink, &l);
    add_simple_code(w, 1, "f");
    cr_assert_eq(hops_writer_flush(w), HOPS_E_IO);
    cr_assert_eq(hops_writer_close(w), HOPS_E_IO, "the sink's error must stick");
    cr_assert_eq(l.n, 1);
    close(fd);
    unlink(path);
    free(path);
}

/* A forked child shares the parent's fd and file offset: its copy of the
 * writer must write nothing (the recorder's child runs Python code, and so
 * declares code objects, before its at-fork hook forgets the parent's file). */
Test(hops_writer, a_forked_child_never_writes_to_the_parents_file)
{
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    int status;
    pid_t pid;
    buf b;
    hops_reader *r;
    hops_event ev;
    int codes = 0, err = 0;

    add_simple_code(w, 2, "before");
    cr_assert_eq(hops_writer_flush(w), HOPS_OK);
    add_simple_code(w, 3, "buffered");
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* enough to pass the buffer, so that add_code itself tries to write */
        int bad = 0;
        for (int i = 0; i < 20000 && !bad; i++) {
            hops_site s = {.offset = 0, .line = 1, .col = 0, .opname = "BUILD_TUPLE"};
            hops_code c = {.first_site = hops_writer_next_site(w),
                           .n_sites = 1,
                           .firstlineno = 1,
                           .filename = "child.py",
                           .qualname = "child",
                           .sites = &s};
            err = hops_writer_add_code(w, &c);
            bad = err != HOPS_OK;
        }
        int f = hops_writer_flush(w);
        int c = hops_writer_close(w);
        _exit(bad && err == HOPS_E_FORKED && f == HOPS_E_FORKED && c == HOPS_E_FORKED ? 0 : 1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child's writer must fail with HOPS_E_FORKED");
    /* The parent's writer goes on as if there had been no fork. */
    add_simple_code(w, 1, "after");
    b = finish_to_buf(w, fd, path);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    while ((err = hops_reader_next(r, &ev)) == 1) {
        if (ev.kind == HOPS_EV_CODE) {
            cr_assert_str_neq(ev.u.code.qualname, "child");
            codes++;
        }
    }
    cr_assert_eq(err, 0, "the parent's file reads to its end: %s", hops_strerror(err));
    cr_assert_eq(codes, 3, "before, buffered and after; nothing of the child's");
    hops_reader_close(r);
    free(b.data);
}

Test(hops_writer, reports_io_errors_on_open)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;

    cr_assert_eq(hops_writer_open_path(&w, "/nonexistent-dir/x.hops", 0, &m), HOPS_E_IO);
    cr_assert_null(w);
}

Test(hops_writer, rejects_misuse_without_changing_state)
{
    hops_meta m = test_meta();
    hops_meta bad = test_meta();
    const char *const null_argv[] = {"a", NULL};
    hops_writer *w = NULL;
    char *path = tmp_path();
    hops_site s = {.offset = 0, .line = 1, .col = 0, .opname = "NOP"};
    hops_site empty_op = {.opname = ""};
    char longop[300];
    hops_site long_site = {.opname = longop};
    hops_code c = {.first_site = 0, .n_sites = 1, .filename = "f", .qualname = "q", .sites = &s};
    hops_count undeclared = {1, 1};
    hops_end e = {0};
    uint64_t before;

    memset(longop, 'A', sizeof(longop) - 1);
    longop[sizeof(longop) - 1] = '\0';
    cr_assert_eq(hops_writer_open_path(NULL, path, 0, &m), HOPS_E_API);
    cr_assert_eq(hops_writer_open_path(&w, path, 0, NULL), HOPS_E_API);
    cr_assert_eq(hops_writer_open_path(&w, path, 0x100, &m), HOPS_E_API);
    cr_assert_eq(hops_writer_open_fd(&w, -1, &m), HOPS_E_API);
    bad.argv = null_argv;
    bad.argc = 2;
    cr_assert_eq(hops_writer_open_path(&w, path, 0, &bad), HOPS_E_API);
    bad.argv = NULL;
    cr_assert_eq(hops_writer_open_path(&w, path, 0, &bad), HOPS_E_API);
    cr_assert_null(w);

    cr_assert_eq(hops_writer_open_path(&w, path, 0, &m), HOPS_OK);
    before = hops_writer_bytes_written(w);
    c.first_site = 1;
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API, "first_site must be dense");
    c.first_site = 0;
    c.sites = &empty_op;
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API, "opname must be non-empty");
    c.sites = &long_site;
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API, "opname must fit a u8 length");
    c.sites = NULL;
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API);
    c.sites = &s;
    c.filename = NULL;
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API);
    c.filename = "f";
    cr_assert_eq(hops_writer_add_code(w, NULL), HOPS_E_API);
    cr_assert_eq(hops_writer_add_thread(w, NULL), HOPS_E_API);
    cr_assert_eq(hops_writer_add_frame(w, 1, &undeclared, 1), HOPS_E_API);
    cr_assert_eq(hops_writer_add_frame(w, 1, NULL, 1), HOPS_E_API);
    cr_assert_eq(hops_writer_finish(w, NULL), HOPS_E_API);
    cr_assert_eq(hops_writer_next_site(w), 0);

    /* None of that was sticky or reached the file. */
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_OK);
    cr_assert_eq(hops_writer_next_site(w), 1);
    undeclared.site = 0;
    cr_assert_eq(hops_writer_add_frame(w, 1, &undeclared, 1), HOPS_OK);
    cr_assert_eq(hops_writer_add_frame(w, 1, NULL, 0), HOPS_OK);
    cr_assert_eq(hops_writer_finish(w, &e), HOPS_OK);
    cr_assert_gt(hops_writer_bytes_written(w), before);
    cr_assert_eq(hops_writer_finish(w, &e), HOPS_E_API, "finish twice");
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_E_API, "add after finish");
    cr_assert_eq(hops_writer_close(w), HOPS_OK);

    cr_assert_eq(hops_writer_close(NULL), HOPS_OK);
    cr_assert_eq(hops_writer_flush(NULL), HOPS_E_API);
    cr_assert_eq(hops_writer_bytes_written(NULL), 0);
    unlink(path);
    free(path);
}

Test(hops_writer, makes_write_errors_sticky)
{
    hops_meta m = test_meta();
    hops_writer *w = NULL;
    hops_thread t = {.tid = 1, .name = "t"};
    int pfd[2];

    /* A pipe whose read end is closed fails every write with EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    cr_assert_eq(pipe(pfd), 0);
    cr_assert_eq(hops_writer_open_fd(&w, pfd[1], &m), HOPS_OK);
    close(pfd[0]);
    cr_assert_eq(hops_writer_add_thread(w, &t), HOPS_OK, "buffered, not yet written");
    cr_assert_eq(hops_writer_flush(w), HOPS_E_IO);
    cr_assert_eq(hops_writer_add_thread(w, &t), HOPS_E_IO);
    cr_assert_eq(hops_writer_flush(w), HOPS_E_IO);
    cr_assert_eq(hops_writer_close(w), HOPS_E_IO);
    close(pfd[1]);
}

Test(hops_writer, leaves_a_readable_file_when_killed)
{
    char *path = tmp_path();
    hops_reader *r = NULL;
    hops_event ev;
    int status;
    pid_t pid = fork();

    cr_assert(pid >= 0);
    if (pid == 0) {
        hops_meta m = test_meta();
        hops_writer *w = NULL;
        hops_count c = {0, 42};
        hops_thread t = {.tid = 9, .name = "lost"};

        if (hops_writer_open_path(&w, path, 0, &m) != HOPS_OK)
            _exit(1);
        add_simple_code(w, 1, "f");
        hops_writer_add_frame(w, 1, &c, 1);
        if (hops_writer_flush(w) != HOPS_OK)
            _exit(1);
        hops_writer_add_thread(w, &t); /* buffered: dies with the process */
        raise(SIGKILL);
        _exit(1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_OK);
    cr_assert_str_eq(hops_reader_meta(r)->meta.python_version, "3.12.1");
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_FRAME);
    cr_assert_eq(ev.u.frame.counts[0].count, 42);
    cr_assert_eq(hops_reader_next(r, &ev), 0, "no END: a killed run, but not an error");
    hops_reader_close(r);
    unlink(path);
    free(path);
}

/* ---- reader: foreign, empty, damaged ------------------------------------------------ */

Test(hops_reader, rejects_an_empty_file)
{
    char *path = tmp_path();
    hops_reader *r = (hops_reader *)path;

    cr_assert_eq(hops_reader_open_path(&r, path), HOPS_E_EMPTY);
    cr_assert_null(r);
    cr_assert_eq(hops_reader_open_mem(&r, NULL, 0), HOPS_E_EMPTY);
    cr_assert_eq(hops_reader_open_mem(&r, "", 0), HOPS_E_EMPTY);
    unlink(path);
    free(path);
}

Test(hops_reader, rejects_foreign_files_as_bad_magic)
{
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                  'I',  'H', 'D', 'R', 0,    0,    0,    1,    0, 0, 0, 1};
    static const char text[] = "#!/usr/bin/env python3\nprint('hello')\n";
    buf good = small_file(1);
    hops_reader *r = NULL;
    size_t out = 0;
    uint8_t *crlf;

    cr_assert_eq(hops_reader_open_mem(&r, png, sizeof(png)), HOPS_E_BAD_MAGIC);
    cr_assert_eq(hops_reader_open_mem(&r, text, sizeof(text) - 1), HOPS_E_BAD_MAGIC);
    cr_assert_eq(hops_reader_open_mem(&r, "x", 1), HOPS_E_BAD_MAGIC);
    cr_assert_null(r);

    /* The file after a text-mode transfer turned "\r\n" into "\n". */
    crlf = malloc(good.size);
    for (size_t i = 0; i < good.size; i++) {
        if (good.data[i] == '\r' && i + 1 < good.size && good.data[i + 1] == '\n')
            continue;
        crlf[out++] = good.data[i];
    }
    cr_assert_eq(hops_reader_open_mem(&r, crlf, out), HOPS_E_BAD_MAGIC);
    /* A 7-bit transfer cleared the high bit of the first byte. */
    good.data[0] &= 0x7f;
    cr_assert_eq(hops_reader_open_mem(&r, good.data, good.size), HOPS_E_BAD_MAGIC);
    free(crlf);
    free(good.data);
}

Test(hops_reader, rejects_a_directory_and_a_missing_file)
{
    hops_reader *r = NULL;

    cr_assert_eq(hops_reader_open_path(&r, "/tmp"), HOPS_E_IO);
    cr_assert_eq(hops_reader_open_path(&r, "/nonexistent/file.hops"), HOPS_E_IO);
    cr_assert_null(r);
}

Test(hops_reader, rejects_unknown_major)
{
    buf b = small_file(1);
    hops_reader *r = NULL;

    hops_write_le16(b.data + 8, HOPS_FORMAT_MAJOR + 1);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_VERSION);
    hops_write_le16(b.data + 8, 0);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_VERSION);
    /* The major is checked before the reserved field, which it may redefine. */
    hops_write_le16(b.data + 8, 0xffff);
    hops_write_le32(b.data + 12, 1);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_VERSION);
    cr_assert_null(r);
    free(b.data);
}

Test(hops_reader, accepts_a_newer_minor)
{
    buf b = small_file(1);
    hops_reader *r = NULL;

    hops_write_le16(b.data + 10, 0xffff);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_meta(r)->minor, 0xffff);
    hops_reader_close(r);
    free(b.data);
}

Test(hops_reader, rejects_nonzero_reserved_header_field)
{
    buf b = small_file(1);
    hops_reader *r = NULL;

    b.data[15] = 0x80;
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    cr_assert_null(r);
    free(b.data);
}

Test(hops_reader, rejects_nonzero_reserved_meta_tlv_field)
{
    buf b = small_file(1);
    hops_reader *r = NULL;

    /* The first TLV's reserved u16 sits at payload offset 2. */
    b.data[16 + 16 + 2] = 1;
    fix_crc(&b, 16);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);
}

Test(hops_reader, reports_a_flipped_byte_as_a_checksum_error)
{
    buf b = small_file(1);
    size_t offs[16], n = chunk_offsets(&b, offs, 16), n_events;
    int saw_end;

    cr_assert_eq(n, 7);
    /* Every byte of every chunk except the length field, whose damage is
     * caught as truncation or checksum, depending on the new value. */
    for (int via = 0; via < VIA_COUNT; via++)
        for (size_t c = 0; c < n; c++) {
            size_t end = c + 1 < n ? offs[c + 1] : b.size;
            for (size_t i = offs[c]; i < end; i++) {
                if (i >= offs[c] + 8 && i < offs[c] + 16)
                    continue;
                b.data[i] ^= 0x20;
                int err = open_and_drain_via(via, &b, &n_events, &saw_end);
                cr_assert_eq(err, HOPS_E_CHECKSUM, "%s, byte %zu of chunk %zu: %s", via_names[via],
                             i, c, hops_strerror(err));
                cr_assert_eq(n_events, c == 0 ? 0 : c - 1, "events before the damaged chunk");
                b.data[i] ^= 0x20;
            }
        }
    free(b.data);
}

Test(hops_reader, reports_the_offset_of_a_bad_chunk)
{
    buf b = small_file(1);
    size_t offs[16];
    hops_reader *r = NULL;
    hops_event ev;

    chunk_offsets(&b, offs, 16);
    b.data[offs[3] + 20] ^= 1; /* the THRD chunk */
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(hops_reader_offset(r), offs[1]);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(hops_reader_next(r, &ev), HOPS_E_CHECKSUM);
    cr_assert_eq(hops_reader_offset(r), offs[3]);
    /* Errors are sticky. */
    cr_assert_eq(hops_reader_next(r, &ev), HOPS_E_CHECKSUM);
    hops_reader_close(r);
    free(b.data);
}

Test(hops_reader, handles_truncation_at_every_byte)
{
    buf b = small_file(1);
    size_t offs[16], n = chunk_offsets(&b, offs, 16);

    cr_assert_eq(n, 7);
    for (int via = 0; via < VIA_COUNT; via++)
        for (size_t len = 0; len <= b.size; len++) {
            buf cut = {malloc(len ? len : 1), len};
            size_t complete = 0, n_events;
            int saw_end, err;

            memcpy(cut.data, b.data, len);
            for (size_t c = 0; c < n; c++) {
                size_t end = c + 1 < n ? offs[c + 1] : b.size;
                if (end <= len)
                    complete++;
            }
            err = open_and_drain_via(via, &cut, &n_events, &saw_end);
            if (len == 0) {
                cr_assert_eq(err, HOPS_E_EMPTY, "%s", via_names[via]);
            } else if (complete == 0) {
                /* Cut inside the header or META: the file cannot be opened. */
                cr_assert_eq(err, HOPS_E_TRUNCATED, "%s, len %zu: %s", via_names[via], len,
                             hops_strerror(err));
            } else {
                int on_boundary = len == b.size || (complete < n && offs[complete] == len);
                cr_assert_eq(err, on_boundary ? 0 : HOPS_E_TRUNCATED, "%s, len %zu: %s",
                             via_names[via], len, hops_strerror(err));
                cr_assert_eq(n_events, complete - 1, "%s, len %zu: every complete chunk is read",
                             via_names[via], len);
                cr_assert_eq(saw_end, len == b.size);
            }
            free(cut.data);
        }
    free(b.data);
}

Test(hops_reader, reads_a_killed_run_without_end)
{
    buf b = small_file(0);
    size_t n_events;
    int saw_end;

    for (int via = 0; via < VIA_COUNT; via++) {
        cr_assert_eq(open_and_drain_via(via, &b, &n_events, &saw_end), 0, "%s", via_names[via]);
        cr_assert_eq(n_events, 5);
        cr_assert(!saw_end);
    }
    free(b.data);
}

Test(hops_reader, flags_a_length_field_past_the_end_as_truncation)
{
    buf b = small_file(1);
    size_t offs[16], n_events;
    int saw_end;

    chunk_offsets(&b, offs, 16);
    /* The THRD chunk claims far more bytes than the file holds: the reader
     * must neither trust nor allocate it. */
    hops_write_le64(b.data + offs[3] + 8, UINT64_MAX - 8);
    for (int via = 0; via < VIA_COUNT; via++) {
        cr_assert_eq(open_and_drain_via(via, &b, &n_events, &saw_end), HOPS_E_TRUNCATED, "%s",
                     via_names[via]);
        cr_assert_eq(n_events, 2);
    }
    hops_write_le64(b.data + offs[3] + 8, 1u << 30);
    for (int via = 0; via < VIA_COUNT; via++)
        cr_assert_eq(open_and_drain_via(via, &b, &n_events, &saw_end), HOPS_E_TRUNCATED, "%s",
                     via_names[via]);
    /* A shorter length moves the chunk boundary: the checksum catches it. */
    hops_write_le64(b.data + offs[3] + 8, 4);
    for (int via = 0; via < VIA_COUNT; via++)
        cr_assert_eq(open_and_drain_via(via, &b, &n_events, &saw_end), HOPS_E_CHECKSUM, "%s",
                     via_names[via]);
    free(b.data);
}

Test(hops_reader, skips_unknown_chunk_ids)
{
    buf b = small_file(0);
    static const uint8_t junk[] = "future chunk payload";
    hops_end e = {.end_ns = 1, .flags = HOPS_END_CLEAN};
    uint8_t endp[24];
    size_t n_events;
    int saw_end;

    append_chunk(&b, "XTRA", junk, sizeof(junk));
    append_chunk(&b, "zzzz", "", 0);
    hops_write_le64(endp, (uint64_t)e.end_ns);
    hops_write_le32(endp + 8, 0);
    hops_write_le32(endp + 12, e.flags);
    hops_write_le64(endp + 16, 0);
    append_chunk(&b, "END ", endp, sizeof(endp));
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), 0);
    cr_assert_eq(n_events, 6);
    cr_assert(saw_end);

    /* ...but still check their checksum. */
    b.data[b.size - 40 - 10] ^= 1;
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CHECKSUM);
    free(b.data);
}

Test(hops_reader, ignores_trailing_bytes_of_a_newer_minor_in_fixed_chunks)
{
    buf b = small_file(0);
    uint8_t endp[32] = {0};
    hops_reader *r = NULL;
    hops_event ev;

    hops_write_le32(endp + 8, 42);
    memset(endp + 24, 0xEE, 8);
    append_chunk(&b, "END ", endp, sizeof(endp));
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    while (hops_reader_next(r, &ev) == 1 && ev.kind != HOPS_EV_END)
        ;
    cr_assert_eq(ev.kind, HOPS_EV_END);
    cr_assert_eq(ev.u.end.exit_status, 42);
    cr_assert_eq(hops_reader_next(r, &ev), 0);
    hops_reader_close(r);
    free(b.data);
}

/* Builds a file whose META payload is given verbatim. */
static buf
file_with_meta(const uint8_t *meta, size_t len)
{
    buf b = {malloc(16), 16};

    memcpy(b.data, "\x89HOPS\r\n\x1a", 8);
    hops_write_le16(b.data + 8, 1);
    hops_write_le16(b.data + 10, 0);
    hops_write_le32(b.data + 12, 0);
    append_chunk(&b, "META", meta, len);
    return b;
}

static size_t
put_tlv(uint8_t *p, uint16_t tag, const void *v, uint32_t len)
{
    hops_write_le16(p, tag);
    hops_write_le16(p + 2, 0);
    hops_write_le32(p + 4, len);
    memcpy(p + 8, v, len);
    return 8 + len;
}

Test(hops_reader, skips_unknown_meta_tags)
{
    uint8_t meta[256], pid[8];
    size_t len = 0;
    buf b;
    hops_reader *r = NULL;
    const hops_file_meta *fm;

    hops_write_le64(pid, 4242);
    len += put_tlv(meta + len, 999, "future\0field", 12);
    len += put_tlv(meta + len, 3, "arg0", 4);
    len += put_tlv(meta + len, 0, "", 0);
    len += put_tlv(meta + len, 4, pid, 8);
    len += put_tlv(meta + len, 0xffff, "zz", 2);
    len += put_tlv(meta + len, 3, "arg1", 4);
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    fm = hops_reader_meta(r);
    cr_assert_eq(fm->meta.pid, 4242);
    cr_assert_eq(fm->meta.argc, 2);
    cr_assert_str_eq(fm->meta.argv[0], "arg0");
    cr_assert_str_eq(fm->meta.argv[1], "arg1");
    hops_reader_close(r);
    free(b.data);
}

Test(hops_reader, rejects_malformed_meta)
{
    uint8_t meta[64], v8[8] = {0};
    size_t len;
    buf b;
    hops_reader *r = NULL;

    len = put_tlv(meta, 4, v8, 4); /* pid must be 8 bytes */
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);

    len = put_tlv(meta, 1, "3.1\0x", 5); /* NUL in a string */
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);

    len = put_tlv(meta, 1, "3.12", 4);
    len += put_tlv(meta + len, 1, "3.13", 4); /* singular tag twice */
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);

    len = put_tlv(meta, 2, "abc", 3);
    hops_write_le32(meta + 4, 4); /* value runs past the payload */
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);

    len = put_tlv(meta, 2, "abc", 3) + 5; /* a partial TLV header at the end */
    memset(meta + len - 5, 0, 5);
    b = file_with_meta(meta, len);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_E_CORRUPT);
    free(b.data);
    cr_assert_null(r);
}

Test(hops_reader, requires_meta_first_and_once)
{
    buf b = file_with_meta((const uint8_t *)"", 0);
    buf c = {malloc(16), 16};
    hops_reader *r = NULL;
    size_t n_events;
    int saw_end;

    /* A header alone: the run was killed before META was written. */
    memcpy(c.data, b.data, 16);
    cr_assert_eq(hops_reader_open_mem(&r, c.data, c.size), HOPS_E_TRUNCATED);
    append_chunk(&c, "THRD", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
    cr_assert_eq(hops_reader_open_mem(&r, c.data, c.size), HOPS_E_CORRUPT);
    cr_assert_null(r);

    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), 0);
    append_chunk(&b, "META", "", 0);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    free(b.data);
    free(c.data);
}

Test(hops_reader, rejects_chunks_after_end)
{
    buf b = small_file(1);
    size_t n_events;
    int saw_end;

    append_chunk(&b, "XTRA", "", 0);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    cr_assert_eq(n_events, 6);
    free(b.data);
}

/* Offset of the first chunk with this id. */
static size_t
find_chunk(const buf *b, const char id[4])
{
    size_t offs[64], n = chunk_offsets(b, offs, 64);

    for (size_t i = 0; i < n; i++)
        if (memcmp(b->data + offs[i], id, 4) == 0)
            return offs[i];
    cr_assert_fail("no chunk %.4s", id);
    return 0;
}

Test(hops_reader, rejects_a_frame_naming_an_undeclared_site)
{
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_count c[] = {{0, 1}, {1, 1}, {2, 1}};
    size_t n_events, off;
    int saw_end;
    buf b;

    /* Frame first (the writer refuses undeclared sites, so declare 3, write
     * the frame, then edit the file so CODE declares only 2). */
    add_simple_code(w, 3, "f");
    cr_assert_eq(hops_writer_add_frame(w, 1, c, 3), HOPS_OK);
    b = finish_to_buf(w, fd, path);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), 0);
    cr_assert_eq(n_events, 2);

    off = find_chunk(&b, "CODE");
    /* n_sites at payload offset 4; the third site's bytes become trailing
     * bytes, which a reader ignores. */
    hops_write_le32(b.data + off + 16 + 4, 2);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    cr_assert_eq(n_events, 1);

    /* Raw records are left to the caller, with the bound to check. */
    {
        hops_reader *r = NULL;
        hops_event ev;
        cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
        cr_assert_eq(hops_reader_set_flags(r, HOPS_READ_RAW_RECORDS), HOPS_OK);
        cr_assert_eq(hops_reader_next(r, &ev), 1);
        cr_assert_eq(hops_reader_next(r, &ev), 1);
        cr_assert_eq(ev.kind, HOPS_EV_FRAME);
        cr_assert_eq(ev.u.frame.n_sites, 2);
        cr_assert_geq(hops_record_site(ev.u.frame.records + 2 * HOPS_RECORD_SIZE),
                      ev.u.frame.n_sites);
        hops_reader_close(r);
    }
    free(b.data);
}

Test(hops_reader, rejects_a_raw_size_mismatch)
{
    buf b = small_file(1);
    size_t off = find_chunk(&b, "FRAM"), n_events;
    uint32_t raw = hops_read_le32(b.data + off + 16 + 12);
    int saw_end;

    cr_assert_eq(raw, 36);
    hops_write_le32(b.data + off + 16 + 12, raw + 12);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    cr_assert_eq(n_events, 3);

    /* Consistent n and raw_size that do not match the block either. */
    hops_write_le32(b.data + off + 16 + 8, 4);
    hops_write_le32(b.data + off + 16 + 12, 48);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    hops_write_le32(b.data + off + 16 + 8, 2);
    hops_write_le32(b.data + off + 16 + 12, 24);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_LZ4);

    /* A raw_size no LZ4 block of this size could produce (more than 255-fold
     * expansion) is refused before allocating for it. */
    hops_write_le32(b.data + off + 16 + 8, 1000);
    hops_write_le32(b.data + off + 16 + 12, 12000);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);

    /* A forged raw_size beyond the 64 MiB bound is refused before allocating. */
    hops_write_le32(b.data + off + 16 + 8, 0x10000000u / 3);
    hops_write_le32(b.data + off + 16 + 12, 0x10000000u / 3 * 12);
    fix_crc(&b, off);
    cr_assert_eq(open_and_drain(&b, &n_events, &saw_end), HOPS_E_CORRUPT);
    free(b.data);
}

Test(hops_reader, rejects_malformed_code_chunks)
{
    buf b = small_file(1);
    size_t off = find_chunk(&b, "CODE"), n_events;
    size_t p = off + 16;
    buf t;
    int saw_end;

    /* first_site must be the running total. */
    t.data = malloc(b.size);
    t.size = b.size;
    memcpy(t.data, b.data, b.size);
    hops_write_le32(t.data + p, 1);
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);

    /* A filename length beyond the payload. */
    memcpy(t.data, b.data, b.size);
    hops_write_le32(t.data + p + 12, 1000);
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);

    /* A NUL in the filename ("mod.py" starts at payload offset 16). */
    memcpy(t.data, b.data, b.size);
    t.data[p + 16 + 2] = 0;
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);

    /* One site, empty filename and qualname, then one byte 'X' that is either
     * the opname or a trailing byte (which readers ignore). */
    {
        uint8_t code[12 + 4 + 4 + 13 + 1] = {0};
        buf e = file_with_meta((const uint8_t *)"", 0);
        size_t code_off = e.size, olen_at = e.size + 16 + 32;

        hops_write_le32(code + 4, 1);
        code[33] = 'X';
        append_chunk(&e, "CODE", code, sizeof(code));
        cr_assert_eq(open_and_drain(&e, &n_events, &saw_end), HOPS_E_CORRUPT, "empty opname");
        e.data[olen_at] = 1;
        fix_crc(&e, code_off);
        cr_assert_eq(open_and_drain(&e, &n_events, &saw_end), 0, "opname \"X\" is fine");
        cr_assert_eq(n_events, 1);
        e.data[olen_at] = 2;
        fix_crc(&e, code_off);
        cr_assert_eq(open_and_drain(&e, &n_events, &saw_end), HOPS_E_CORRUPT, "past the end");
        free(e.data);
    }

    /* More sites than the payload can hold, and a total beyond 2^32 - 1. */
    memcpy(t.data, b.data, b.size);
    hops_write_le32(t.data + p + 4, 4);
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);
    hops_write_le32(t.data + p + 4, UINT32_MAX);
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);

    /* A payload too short for the fixed fields. */
    memcpy(t.data, b.data, b.size);
    hops_write_le64(t.data + off + 8, 3);
    t.size = off + 16 + 3;
    fix_crc(&t, off);
    cr_assert_eq(open_and_drain(&t, &n_events, &saw_end), HOPS_E_CORRUPT);
    free(t.data);
    free(b.data);
}

Test(hops_reader, rejects_misuse)
{
    buf b = small_file(1);
    hops_reader *r = NULL;
    hops_event ev;

    cr_assert_eq(hops_reader_open_mem(NULL, b.data, b.size), HOPS_E_API);
    cr_assert_eq(hops_reader_open_mem(&r, NULL, 5), HOPS_E_API);
    cr_assert_eq(hops_reader_open_path(&r, NULL), HOPS_E_API);
    cr_assert_eq(hops_reader_next(NULL, &ev), HOPS_E_API);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, NULL), HOPS_E_API);
    cr_assert_eq(hops_reader_next(r, &ev), 1, "misuse is not sticky");
    cr_assert_eq(hops_reader_set_flags(NULL, 0), HOPS_E_API);
    cr_assert_eq(hops_reader_set_flags(r, 0x80u), HOPS_E_API);
    cr_assert_eq(hops_reader_next(r, &ev), 1, "a refused flag changes nothing");
    hops_reader_close(r);
    hops_reader_close(NULL);
    cr_assert_null(hops_reader_meta(NULL));
    free(b.data);
}

/* ---- line tables (format 1.1) ------------------------------------------- */

/* A location table with an entry of each kind (CPython's Objects/locations.md)
 * for a code object whose first line is 10, and what its sites decode to. */
static const uint8_t LT[] = {
    0xE8, 0x00,          /* kind 13, 1 unit: line +0, no column */
    0xD9, 4,    9,       /* kind 11, 2 units: line +1, column 4 (to 9) */
    0x88, 0x20,          /* kind 1 (short form), 1 unit: column 1 << 3 | 2 */
    0xF0, 6,    0, 1, 5, /* kind 14 (long form), 1 unit: line +3, column 1 - 1 */
    0xF9,                /* kind 15, 2 units: no location */
    0xE8, 5,             /* kind 13, 1 unit: line -2 */
};
static const size_t LT_ENTRY_ENDS[] = {2, 5, 7, 12, 13, 15};
enum { LT_SITES = 7 };
static const uint32_t LT_OFFSETS[LT_SITES] = {0, 2, 6, 8, 10, 14, 16}; /* 16: past the table */
static const int32_t LT_LINES[LT_SITES] = {10, 11, 11, 14, -1, 12, -1};
static const int32_t LT_COLS[LT_SITES] = {-1, 4, 10, 0, -1, -1, -1};

static void
lt_sites(hops_site *s)
{
    for (int i = 0; i < LT_SITES; i++)
        s[i] = (hops_site){.offset = LT_OFFSETS[i], .line = 77, .col = 77, .opname = "OP"};
}

Test(hops_linetable, decodes_every_kind_of_entry)
{
    hops_site s[LT_SITES];

    lt_sites(s);
    cr_assert_eq(hops_linetable_positions(LT, sizeof(LT), 10, s, LT_SITES), HOPS_OK);
    for (int i = 0; i < LT_SITES; i++) {
        cr_expect_eq(s[i].line, LT_LINES[i], "site %d: line %d", i, s[i].line);
        cr_expect_eq(s[i].col, LT_COLS[i], "site %d: col %d", i, s[i].col);
    }
}

Test(hops_linetable, rejects_cut_entries_malformed_bytes_and_unordered_sites)
{
    static const uint8_t no_high_bit[] = {0x68, 0x00};
    hops_site s[LT_SITES];

    for (size_t cut = 0; cut <= sizeof(LT); cut++) {
        int boundary = cut == 0;
        for (size_t e = 0; e < sizeof(LT_ENTRY_ENDS) / sizeof(*LT_ENTRY_ENDS); e++)
            boundary |= LT_ENTRY_ENDS[e] == cut;
        lt_sites(s);
        cr_expect_eq(hops_linetable_positions(LT, cut, 10, s, LT_SITES),
                     boundary ? HOPS_OK : HOPS_E_CORRUPT, "table cut at %zu", cut);
    }
    lt_sites(s);
    cr_expect_eq(hops_linetable_positions(no_high_bit, sizeof(no_high_bit), 10, s, 1),
                 HOPS_E_CORRUPT);
    lt_sites(s);
    s[1].offset = 0xFFFFFFF0u;
    cr_expect_eq(hops_linetable_positions(LT, sizeof(LT), 10, s, LT_SITES), HOPS_E_CORRUPT);
}

/* A file with one code object of LT_SITES sites and the given line table. */
static buf
file_with_linetable(const uint8_t *table, uint32_t len)
{
    int fd;
    char *path;
    hops_writer *w = writer_to_fd(&fd, &path);
    hops_site s[LT_SITES];
    hops_code c = {.n_sites = LT_SITES,
                   .firstlineno = 10,
                   .filename = "mod.py",
                   .qualname = "f",
                   .sites = s,
                   .linetable = table,
                   .linetable_len = len};

    lt_sites(s);
    cr_assert_eq(hops_writer_add_code(w, &c), HOPS_OK);
    cr_assert_eq(hops_writer_finish(w, &(hops_end){.flags = HOPS_END_CLEAN}), HOPS_OK);
    return finish_to_buf(w, fd, path);
}

static void
read_first_code(const buf *b, hops_site *out)
{
    hops_reader *r = NULL;
    hops_event ev;

    cr_assert_eq(hops_reader_open_mem(&r, b->data, b->size), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, &ev), 1);
    cr_assert_eq(ev.kind, HOPS_EV_CODE);
    cr_assert_eq(ev.u.code.n_sites, LT_SITES);
    cr_assert_null(ev.u.code.linetable);
    memcpy(out, ev.u.code.sites, LT_SITES * sizeof(*out));
    hops_reader_close(r);
}

Test(hops_roundtrip, a_line_table_gives_the_sites_their_positions)
{
    buf b = file_with_linetable(LT, sizeof(LT));
    hops_site s[LT_SITES];

    read_first_code(&b, s);
    for (int i = 0; i < LT_SITES; i++) {
        cr_expect_eq(s[i].offset, LT_OFFSETS[i]);
        cr_expect_eq(s[i].line, LT_LINES[i], "site %d: line %d", i, s[i].line);
        cr_expect_eq(s[i].col, LT_COLS[i], "site %d: col %d", i, s[i].col);
    }
    free(b.data);
}

Test(hops_reader, leaves_positions_unknown_for_a_line_table_it_cannot_decode)
{
    static const uint8_t cut[] = {0xE8, 0x00, 0xD9, 4}; /* ends inside its second entry */
    buf b = file_with_linetable(cut, sizeof(cut));
    hops_site s[LT_SITES];

    read_first_code(&b, s);
    for (int i = 0; i < LT_SITES; i++) {
        cr_expect_eq(s[i].line, -1, "site %d: line %d", i, s[i].line);
        cr_expect_eq(s[i].col, -1, "site %d: col %d", i, s[i].col);
    }
    free(b.data);
}

Test(hops_reader, rejects_a_line_table_longer_than_its_chunk)
{
    buf b = file_with_linetable(LT, sizeof(LT));
    size_t offs[8], n = chunk_offsets(&b, offs, 8);
    hops_reader *r = NULL;
    hops_event ev;

    cr_assert_geq(n, 2);
    size_t code = offs[1], len = (size_t)hops_read_le64(b.data + code + 8);
    cr_assert(memcmp(b.data + code, "CODE", 4) == 0);
    /* the table's length field sits before its bytes, at the payload's end */
    hops_write_le32(b.data + code + 16 + len - sizeof(LT) - 4, (uint32_t)sizeof(LT) + 1);
    fix_crc(&b, code);
    cr_assert_eq(hops_reader_open_mem(&r, b.data, b.size), HOPS_OK);
    cr_assert_eq(hops_reader_next(r, &ev), HOPS_E_CORRUPT);
    hops_reader_close(r);
    free(b.data);
}

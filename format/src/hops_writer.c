/*
 * hops_writer.c - appends chunks to a .hops file (docs/format.md).
 *
 * Chunks are assembled in one memory buffer and handed to write(2) when the
 * buffer passes HOPS_WRITER_BUF_SIZE or the next chunk would not fit, on
 * flush, and on finish/close (or, with a sink, handed to it, to be written by
 * another thread).  Each chunk is sized before it is built, so a failed
 * allocation leaves the buffer as it was and a chunk is never half-written to
 * the buffer.  Errors other than API misuse are sticky: once data may have
 * been lost, every later call and close() report it, so the recorder cannot
 * miss it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>

#include "hops_private.h"

/* Large enough that a busy recorder issues few write(2) calls, small enough
 * that a killed process loses little and that the pages it touches stay few:
 * a short run's first touch of a page costs more than a write(2) of 64 KB. */
#define HOPS_WRITER_BUF_SIZE ((size_t)64 << 10)

struct hops_writer {
    int fd;
    int owns_fd;
    pid_t pid;    /* the process that opened it: the only one that writes */
    int err;      /* first error, sticky; HOPS_OK while healthy */
    int finished; /* END chunk written */
    uint32_t next_site;
    uint64_t bytes_written;
    uint8_t *buf; /* Owned: chunks not yet written */
    size_t len;
    size_t cap;
    void *lz4_state; /* Owned: LZ4_sizeofState() bytes, kept off the caller's stack */
    uint8_t *raw;    /* Owned: staging area for one frame's raw records */
    size_t raw_cap;
    int replaced_fd;       /* Owned: the file a replacing open renamed over, or -1 */
    hops_writer_sink sink; /* NULL: buffers go to write(2) here */
    void *sink_ctx;
};

static int
set_error(hops_writer *w, int err)
{
    if (w->err == HOPS_OK)
        w->err = err;
    return w->err;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t got = write(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        RETURN_ERROR_IF(got < 0, HOPS_E_IO);
        /* write(2) returning 0 for a nonzero count makes no progress; treat it
         * as an error rather than spin. */
        RETURN_ERROR_IF(got == 0, HOPS_E_IO);
        p += got;
        n -= (size_t)got;
    }
    return HOPS_OK;
}

static int
buf_reserve(hops_writer *w, uint64_t extra)
{
    uint64_t need;
    size_t cap;
    uint8_t *nb;

    RETURN_ERROR_IF(hops_add_overflow(w->len, extra, &need) || need > SIZE_MAX / 2, HOPS_E_NOMEM);
    if (need <= w->cap)
        return HOPS_OK;
    if (w->len > 0) {
        /* The chunks before this one go out first: growing the buffer
         * instead would copy them (realloc), once for nearly every buffer,
         * just before it is written. */
        FORWARD_IF_ERROR(hops_writer_flush(w));
        need = extra;
        if (need <= w->cap)
            return HOPS_OK;
    }
    cap = w->cap ? w->cap : HOPS_WRITER_BUF_SIZE;
    while (cap < need)
        cap *= 2;
    nb = hops_realloc(w->buf, cap);
    RETURN_ERROR_IF(nb == NULL, HOPS_E_NOMEM);
    w->buf = nb;
    w->cap = cap;
    return HOPS_OK;
}

/* Starts a chunk of exactly payload_len bytes; the caller has reserved
 * HOPS_CHUNK_HDR_SIZE + payload_len.  Returns the payload pointer. */
static uint8_t *
chunk_begin(hops_writer *w)
{
    return w->buf + w->len + HOPS_CHUNK_HDR_SIZE;
}

static void
chunk_end(hops_writer *w, uint32_t id, size_t payload_len)
{
    uint8_t *hdr = w->buf + w->len;

    hops_put32(hdr, id);
    hops_put64(hdr + 8, payload_len);
    hops_put32(hdr + 4, hops_chunk_crc(hdr, hdr + HOPS_CHUNK_HDR_SIZE, payload_len));
    w->len += HOPS_CHUNK_HDR_SIZE + payload_len;
}

static int
maybe_flush(hops_writer *w)
{
    if (w->len >= HOPS_WRITER_BUF_SIZE)
        return hops_writer_flush(w);
    return w->err;
}

int
hops_writer_flush(hops_writer *w)
{
    int err;

    RETURN_ERROR_IF(w == NULL, HOPS_E_API);
    if (w->err != HOPS_OK)
        return w->err;
    if (w->len == 0)
        return HOPS_OK;
    /* One getpid(2) per buffer written, not per chunk. */
    if (getpid() != w->pid) {
        w->len = 0;
        return set_error(w, HOPS_E_FORKED);
    }
    if (w->sink != NULL) { /* the buffer is the sink's now; the next one is allocated */
        uint8_t *data = w->buf;
        size_t len = w->len;
        w->buf = NULL;
        w->len = w->cap = 0;
        w->bytes_written += len;
        err = w->sink(w->sink_ctx, data, len);
        return err == HOPS_OK ? HOPS_OK : set_error(w, err);
    }
    err = write_all(w->fd, w->buf, w->len);
    if (err != HOPS_OK)
        return set_error(w, err);
    w->bytes_written += w->len;
    w->len = 0;
    return HOPS_OK;
}

/* ---- meta ------------------------------------------------------------------ */

static int
check_str(const char *s, size_t max, uint64_t *total, uint64_t overhead)
{
    size_t n;

    RETURN_ERROR_IF(s == NULL, HOPS_E_API);
    n = strlen(s);
    RETURN_ERROR_IF(n > max, HOPS_E_API);
    *total += overhead + n;
    return HOPS_OK;
}

static int
check_str_list(const char *const *list, uint32_t n, uint64_t *total)
{
    RETURN_ERROR_IF(n > 0 && list == NULL, HOPS_E_API);
    for (uint32_t i = 0; i < n; i++)
        FORWARD_IF_ERROR(check_str(list[i], UINT32_MAX, total, HOPS_META_TLV_HDR_SIZE));
    return HOPS_OK;
}

static uint8_t *
put_tlv(uint8_t *p, uint16_t tag, const void *value, uint32_t len)
{
    hops_put16(p, tag);
    hops_put16(p + 2, 0);
    hops_put32(p + 4, len);
    if (len)
        memcpy(p + HOPS_META_TLV_HDR_SIZE, value, len);
    return p + HOPS_META_TLV_HDR_SIZE + len;
}

static uint8_t *
put_tlv_str(uint8_t *p, uint16_t tag, const char *s)
{
    return put_tlv(p, tag, s, (uint32_t)strlen(s));
}

static uint8_t *
put_tlv_list(uint8_t *p, uint16_t tag, const char *const *list, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        p = put_tlv_str(p, tag, list[i]);
    return p;
}

static int
meta_size(const hops_meta *m, uint64_t *size)
{
    uint64_t total = 3 * HOPS_META_TLV_HDR_SIZE + 8 + 8 + 4; /* pid, start_ns, flags */

    /* Absent strings are simply not written; the reader yields "". */
    if (m->python_version)
        FORWARD_IF_ERROR(check_str(m->python_version, UINT32_MAX, &total, HOPS_META_TLV_HDR_SIZE));
    if (m->mechanism)
        FORWARD_IF_ERROR(check_str(m->mechanism, UINT32_MAX, &total, HOPS_META_TLV_HDR_SIZE));
    FORWARD_IF_ERROR(check_str_list(m->argv, m->argc, &total));
    FORWARD_IF_ERROR(check_str_list(m->tracked, m->n_tracked, &total));
    FORWARD_IF_ERROR(check_str_list(m->file_globs, m->n_file_globs, &total));
    *size = total;
    return HOPS_OK;
}

static int
write_meta(hops_writer *w, const hops_meta *m)
{
    uint64_t size;
    uint8_t *p, *start;
    uint8_t num[8];

    FORWARD_IF_ERROR(meta_size(m, &size));
    FORWARD_IF_ERROR(buf_reserve(w, HOPS_CHUNK_HDR_SIZE + size));
    p = start = chunk_begin(w);
    if (m->python_version)
        p = put_tlv_str(p, HOPS_TAG_PYTHON_VERSION, m->python_version);
    if (m->mechanism)
        p = put_tlv_str(p, HOPS_TAG_MECHANISM, m->mechanism);
    hops_put64(num, m->pid);
    p = put_tlv(p, HOPS_TAG_PID, num, 8);
    hops_put64(num, (uint64_t)m->start_ns);
    p = put_tlv(p, HOPS_TAG_START_NS, num, 8);
    hops_put32(num, m->flags);
    p = put_tlv(p, HOPS_TAG_FLAGS, num, 4);
    p = put_tlv_list(p, HOPS_TAG_ARGV, m->argv, m->argc);
    p = put_tlv_list(p, HOPS_TAG_TRACKED, m->tracked, m->n_tracked);
    p = put_tlv_list(p, HOPS_TAG_FILE_GLOBS, m->file_globs, m->n_file_globs);
    chunk_end(w, HOPS_CHUNK_META, (size_t)(p - start));
    return HOPS_OK;
}

/* ---- open / close ------------------------------------------------------------ */

static int
writer_new(hops_writer **out, int fd, int owns_fd, const hops_meta *meta)
{
    hops_writer *w;
    int err;

    w = hops_calloc(1, sizeof(*w));
    RETURN_ERROR_IF(w == NULL, HOPS_E_NOMEM);
    w->fd = fd;
    w->owns_fd = owns_fd;
    w->replaced_fd = -1;
    w->pid = getpid();
    w->lz4_state = hops_malloc((size_t)LZ4_sizeofState());
    err = w->lz4_state ? buf_reserve(w, HOPS_HEADER_SIZE) : HOPS_E_NOMEM;
    if (err == HOPS_OK) {
        memcpy(w->buf, HOPS_MAGIC, HOPS_MAGIC_SIZE);
        hops_put16(w->buf + 8, HOPS_FORMAT_MAJOR);
        hops_put16(w->buf + 10, HOPS_FORMAT_MINOR);
        hops_put32(w->buf + 12, 0);
        w->len = HOPS_HEADER_SIZE;
        err = write_meta(w, meta);
    }
    /* The header and META reach the file at once, so that even a run killed
     * during start-up leaves a recognisable recording. */
    if (err == HOPS_OK)
        err = hops_writer_flush(w);
    if (err != HOPS_OK) {
        /* Nothing half-built may reach the file, and the caller keeps
         * ownership of the fd on failure. */
        w->len = 0;
        w->owns_fd = 0;
        hops_writer_close(w);
        return err;
    }
    *out = w;
    return HOPS_OK;
}

int
hops_writer_open_fd(hops_writer **out, int fd, const hops_meta *meta)
{
    uint64_t ignored = 0;

    RETURN_ERROR_IF(out == NULL || meta == NULL || fd < 0, HOPS_E_API);
    *out = NULL;
    FORWARD_IF_ERROR(meta_size(meta, &ignored));
    return writer_new(out, fd, 0, meta);
}

/* On Linux a file is made without a name in path's directory (O_TMPFILE), gets
 * its header and META, and only then a name, so that a process killed in
 * between (a pool worker that terminate() stops as it starts) leaves no
 * empty file behind:
 * - exclusive creation: path itself (linkat, which fails if the name exists,
 *   as O_EXCL does);
 * - replacing: a name of its own beside path (path.PID.tmp), which rename()
 *   then moves onto path at once, so that path holds the old file or the new
 *   one, never an empty one, and a reader of the old file keeps a whole
 *   file.  Only where path is absent or a regular file: rename would replace
 *   a device (/dev/null) or a symbolic link itself instead of writing to it.
 *   The new file takes the old one's mode and owner, as an O_TRUNC open
 *   keeps them; a file this process may not write, or that has other hard
 *   links (which rename would part from it), is opened the plain way, so
 *   --force refuses or writes through as before.  A process killed between
 *   the two steps leaves the new file under its temporary name.
 * HOPS_OK, HOPS_E_EXISTS, another error of writer_new, or HOPS_E_IO where
 * the directory, the system or path cannot do it (no O_TMPFILE there, no
 * /proc, not a regular file): the caller then opens the plain way. */
static int
open_named_after_header(hops_writer **out, const char *path, int replace, const hops_meta *meta)
{
#if defined(__linux__) && defined(O_TMPFILE)
    const char *slash = strrchr(path, '/');
    char dir[4096], proc[64], tmp[4096 + 32];
    const char *name = path;
    struct stat sb;
    int fd, err, e, keep = 0;

    if (replace) {
        if (lstat(path, &sb) == 0) {
            if (!S_ISREG(sb.st_mode) || sb.st_nlink > 1 ||
                faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0)
                return HOPS_E_IO;
            keep = 1;
        } else if (errno != ENOENT) {
            return HOPS_E_IO;
        }
        if ((size_t)snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >= sizeof tmp)
            return HOPS_E_IO;
        name = tmp;
    }
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if ((size_t)(slash - path) >= sizeof dir) {
        return HOPS_E_IO;
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash == path ? 1 : slash - path] = '\0'; /* "/x": the root */
    }
    fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0)
        return HOPS_E_IO;
    if (keep) {
        int owner = sb.st_uid == geteuid() && sb.st_gid == getegid();
        if ((!owner && fchown(fd, sb.st_uid, sb.st_gid) != 0) ||
            fchmod(fd, sb.st_mode & 07777) != 0) {
            close(fd);
            return HOPS_E_IO;
        }
    }
    err = writer_new(out, fd, 1, meta);
    if (err != HOPS_OK) {
        close(fd);
        return err;
    }
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0) {
        /* The old file held open, so that rename() does not free its pages
         * (hops_writer_take_replaced). */
        int old_fd = keep ? open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (!replace || rename(name, path) == 0) {
            (*out)->replaced_fd = old_fd;
            return HOPS_OK;
        }
        e = errno;
        if (old_fd >= 0)
            close(old_fd);
        unlink(name);
    } else {
        e = errno;
    }
    hops_writer_close(*out); /* the file goes with its descriptor */
    *out = NULL;
    return e == EEXIST && !replace ? HOPS_E_EXISTS : HOPS_E_IO;
#else
    (void)out;
    (void)path;
    (void)replace;
    (void)meta;
    return HOPS_E_IO;
#endif
}

int
hops_writer_open_path(hops_writer **out, const char *path, unsigned flags, const hops_meta *meta)
{
    int fd, oflags, err;
    uint64_t ignored = 0;

    RETURN_ERROR_IF(out == NULL || path == NULL || meta == NULL, HOPS_E_API);
    RETURN_ERROR_IF((flags & ~HOPS_WRITE_EXCLUSIVE) != 0, HOPS_E_API);
    *out = NULL;
    /* Validate before creating anything, so misuse leaves no empty file. */
    FORWARD_IF_ERROR(meta_size(meta, &ignored));
    err = open_named_after_header(out, path, !(flags & HOPS_WRITE_EXCLUSIVE), meta);
    if (err != HOPS_E_IO)
        return err;
    oflags = O_WRONLY | O_CREAT | O_CLOEXEC;
    oflags |= (flags & HOPS_WRITE_EXCLUSIVE) ? O_EXCL : O_TRUNC;
    do {
        fd = open(path, oflags, 0644);
    } while (fd < 0 && errno == EINTR);
    RETURN_ERROR_IF(fd < 0 && errno == EEXIST && (flags & HOPS_WRITE_EXCLUSIVE), HOPS_E_EXISTS);
    RETURN_ERROR_IF(fd < 0, HOPS_E_IO);
    err = writer_new(out, fd, 1, meta);
    if (err != HOPS_OK)
        close(fd);
    return err;
}

int
hops_writer_close(hops_writer *w)
{
    int err;

    if (w == NULL)
        return HOPS_OK;
    hops_writer_flush(w);
    if (w->owns_fd && close(w->fd) != 0)
        set_error(w, HOPS_E_IO);
    if (w->replaced_fd >= 0)
        close(w->replaced_fd);
    err = w->err;
    hops_free(w->buf);
    hops_free(w->raw);
    hops_free(w->lz4_state);
    hops_free(w);
    return err;
}

void
hops_writer_set_sink(hops_writer *w, hops_writer_sink sink, void *ctx)
{
    if (w == NULL)
        return;
    w->sink = sink;
    w->sink_ctx = ctx;
}

int
hops_writer_write_out(const hops_writer *w, const uint8_t *data, size_t len)
{
    RETURN_ERROR_IF(w == NULL || (data == NULL && len > 0), HOPS_E_API);
    return write_all(w->fd, data, len);
}

void
hops_writer_free_out(uint8_t *data)
{
    hops_free(data);
}

int
hops_writer_take_replaced(hops_writer *w)
{
    int fd;

    if (w == NULL)
        return -1;
    fd = w->replaced_fd;
    w->replaced_fd = -1;
    return fd;
}

uint64_t
hops_writer_bytes_written(const hops_writer *w)
{
    return w ? w->bytes_written : 0;
}

uint32_t
hops_writer_next_site(const hops_writer *w)
{
    return w ? w->next_site : 0;
}

/* ---- code / thread / end ---------------------------------------------------- */

static uint8_t *
put_str32(uint8_t *p, const char *s, size_t n)
{
    hops_put32(p, (uint32_t)n);
    memcpy(p + 4, s, n);
    return p + 4 + n;
}

int
hops_writer_add_code(hops_writer *w, const hops_code *code)
{
    uint64_t size = HOPS_CODE_FIXED_SIZE;
    size_t flen, qlen;
    uint8_t *p, *start;
    int err;

    RETURN_ERROR_IF(w == NULL || code == NULL, HOPS_E_API);
    RETURN_ERROR_IF(w->finished, HOPS_E_API);
    if (w->err != HOPS_OK)
        return w->err;
    RETURN_ERROR_IF(code->first_site != w->next_site, HOPS_E_API);
    RETURN_ERROR_IF(code->n_sites > UINT32_MAX - w->next_site, HOPS_E_API);
    RETURN_ERROR_IF(code->n_sites > 0 && code->sites == NULL, HOPS_E_API);
    FORWARD_IF_ERROR(check_str(code->filename, UINT32_MAX, &size, 4));
    FORWARD_IF_ERROR(check_str(code->qualname, UINT32_MAX, &size, 4));
    for (uint32_t i = 0; i < code->n_sites; i++) {
        const char *op = code->sites[i].opname;
        RETURN_ERROR_IF(op == NULL || op[0] == '\0', HOPS_E_API);
        FORWARD_IF_ERROR(check_str(op, UINT8_MAX, &size, 13));
    }
    RETURN_ERROR_IF(code->linetable == NULL && code->linetable_len != 0, HOPS_E_API);
    if (code->linetable != NULL) {
        size += 4 + (uint64_t)code->linetable_len;
    }
    err = buf_reserve(w, HOPS_CHUNK_HDR_SIZE + size);
    if (err != HOPS_OK)
        return set_error(w, err);

    p = start = chunk_begin(w);
    hops_put32(p, code->first_site);
    hops_put32(p + 4, code->n_sites);
    hops_put32(p + 8, (uint32_t)code->firstlineno);
    p += HOPS_CODE_FIXED_SIZE;
    flen = strlen(code->filename);
    qlen = strlen(code->qualname);
    p = put_str32(p, code->filename, flen);
    p = put_str32(p, code->qualname, qlen);
    for (uint32_t i = 0; i < code->n_sites; i++) {
        const hops_site *s = &code->sites[i];
        size_t olen = strlen(s->opname);
        hops_put32(p, s->offset);
        hops_put32(p + 4, code->linetable ? UINT32_MAX : (uint32_t)s->line);
        hops_put32(p + 8, code->linetable ? UINT32_MAX : (uint32_t)s->col);
        p[12] = (uint8_t)olen;
        memcpy(p + 13, s->opname, olen);
        p += 13 + olen;
    }
    if (code->linetable != NULL) { /* format 1.1: the positions, for the reader to decode */
        hops_put32(p, code->linetable_len);
        if (code->linetable_len > 0) {
            memcpy(p + 4, code->linetable, code->linetable_len);
        }
        p += 4 + code->linetable_len;
    }
    chunk_end(w, HOPS_CHUNK_CODE, (size_t)(p - start));
    w->next_site += code->n_sites;
    return maybe_flush(w);
}

int
hops_writer_add_thread(hops_writer *w, const hops_thread *t)
{
    uint64_t size = HOPS_THRD_FIXED_SIZE;
    uint8_t *p;
    int err;

    RETURN_ERROR_IF(w == NULL || t == NULL, HOPS_E_API);
    RETURN_ERROR_IF(w->finished, HOPS_E_API);
    if (w->err != HOPS_OK)
        return w->err;
    FORWARD_IF_ERROR(check_str(t->name, UINT32_MAX, &size, 4));
    err = buf_reserve(w, HOPS_CHUNK_HDR_SIZE + size);
    if (err != HOPS_OK)
        return set_error(w, err);
    p = chunk_begin(w);
    hops_put64(p, t->tid);
    hops_put64(p + 8, t->native_id);
    put_str32(p + HOPS_THRD_FIXED_SIZE, t->name, strlen(t->name));
    chunk_end(w, HOPS_CHUNK_THRD, (size_t)size);
    return maybe_flush(w);
}

int
hops_writer_finish(hops_writer *w, const hops_end *end)
{
    uint8_t *p;
    int err;

    RETURN_ERROR_IF(w == NULL || end == NULL, HOPS_E_API);
    RETURN_ERROR_IF(w->finished, HOPS_E_API);
    if (w->err != HOPS_OK)
        return w->err;
    err = buf_reserve(w, HOPS_CHUNK_HDR_SIZE + HOPS_END_SIZE);
    if (err != HOPS_OK)
        return set_error(w, err);
    p = chunk_begin(w);
    hops_put64(p, (uint64_t)end->end_ns);
    hops_put32(p + 8, (uint32_t)end->exit_status);
    hops_put32(p + 12, end->flags);
    hops_put64(p + 16, end->lost_events);
    chunk_end(w, HOPS_CHUNK_END, HOPS_END_SIZE);
    w->finished = 1;
    return hops_writer_flush(w);
}

/* ---- frames -------------------------------------------------------------------- */

/* Writes one FRAM chunk of n <= HOPS_FRAME_MAX_RECORDS counts. */
static int
write_one_frame(hops_writer *w, uint64_t tid, const hops_count *counts, size_t n)
{
    size_t raw_size = n * HOPS_RECORD_SIZE;
    int bound = LZ4_compressBound((int)raw_size);
    uint8_t *p, *r;
    int csize;

    if (raw_size > w->raw_cap) {
        uint8_t *nr = hops_realloc(w->raw, raw_size);
        RETURN_ERROR_IF(nr == NULL, HOPS_E_NOMEM);
        w->raw = nr;
        w->raw_cap = raw_size;
    }
    r = w->raw;
    for (size_t i = 0; i < n; i++) {
        hops_put32(r, counts[i].site);
        hops_put64(r + 4, counts[i].count);
        r += HOPS_RECORD_SIZE;
    }
    FORWARD_IF_ERROR(buf_reserve(w, HOPS_CHUNK_HDR_SIZE + HOPS_FRAM_FIXED_SIZE + (uint64_t)bound));
    p = chunk_begin(w);
    /* acceleration 1 with our own state is LZ4_compress_default's output,
     * without its 16 KiB stack frame on the recorder's threads. */
    csize = LZ4_compress_fast_extState(w->lz4_state, (const char *)w->raw,
                                       (char *)p + HOPS_FRAM_FIXED_SIZE, (int)raw_size, bound, 1);
    RETURN_ERROR_IF(csize <= 0, HOPS_E_LZ4);
    hops_put64(p, tid);
    hops_put32(p + 8, (uint32_t)n);
    hops_put32(p + 12, (uint32_t)raw_size);
    chunk_end(w, HOPS_CHUNK_FRAM, HOPS_FRAM_FIXED_SIZE + (size_t)csize);
    return HOPS_OK;
}

int
hops_writer_add_frame(hops_writer *w, uint64_t tid, const hops_count *counts, size_t n)
{
    uint32_t bad = 0;

    RETURN_ERROR_IF(w == NULL || (counts == NULL && n > 0), HOPS_E_API);
    RETURN_ERROR_IF(w->finished, HOPS_E_API);
    if (w->err != HOPS_OK)
        return w->err;
    /* Check every site before writing anything, so misuse leaves the file as
     * it was instead of a partial set of split frames. */
    for (size_t i = 0; i < n; i++)
        bad |= counts[i].site >= w->next_site;
    RETURN_ERROR_IF(bad, HOPS_E_API);
    while (n > 0) {
        size_t take = n < HOPS_FRAME_MAX_RECORDS ? n : HOPS_FRAME_MAX_RECORDS;
        int err = write_one_frame(w, tid, counts, take);
        if (err != HOPS_OK)
            return set_error(w, err);
        err = maybe_flush(w);
        if (err != HOPS_OK)
            return err;
        counts += take;
        n -= take;
    }
    return HOPS_OK;
}

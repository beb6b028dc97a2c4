/*
 * hops_fuzz_roundtrip.c - libFuzzer entry point checking decode(encode(x)) ==
 * x (STYLE.md rule 10).  The input drives a deterministic generator of
 * writer calls (meta, codes, threads, frames, flushes, an optional end).  The
 * generator runs twice over the same bytes: once feeding the writer, once
 * comparing each call with the reader's next event, so no copy of the
 * expected data is kept.
 */
#ifndef _GNU_SOURCE
#    define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hops/hops.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

static uint8_t
take8(src *s)
{
    if (s->n == 0)
        return 0;
    s->n--;
    return *s->p++;
}

static uint64_t
take64(src *s)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take8(s);
    return v;
}

/* A string of up to max-1 bytes with no NUL (the format forbids it). */
static char *
take_str(src *s, char *out, size_t max)
{
    size_t len = take8(s) % max;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = take8(s);
        out[i] = (char)(c ? c : 'x');
    }
    out[len] = '\0';
    return out;
}

enum { WRITE, VERIFY };

typedef struct gen {
    int mode;
    hops_writer *w;
    hops_reader *r;
    int fd; /* the writer's memfd */
    uint32_t next_site;
} gen;

static hops_event
expect_event(gen *g, hops_event_kind kind)
{
    hops_event ev;
    CHECK(hops_reader_next(g->r, &ev) == 1);
    CHECK(ev.kind == kind);
    return ev;
}

static void
gen_list(src *s, char store[4][32], const char *list[4], uint32_t *n)
{
    *n = take8(s) % 5;
    for (uint32_t i = 0; i < *n; i++)
        list[i] = take_str(s, store[i], 32);
}

static void
gen_meta(gen *g, src *s)
{
    char pyv[32], mech[32], argv_s[4][32], tr_s[4][32], gl_s[4][32];
    const char *argv[4], *tracked[4], *globs[4];
    hops_meta m = {0};

    m.python_version = take_str(s, pyv, sizeof(pyv));
    m.mechanism = take_str(s, mech, sizeof(mech));
    gen_list(s, argv_s, argv, &m.argc);
    gen_list(s, tr_s, tracked, &m.n_tracked);
    gen_list(s, gl_s, globs, &m.n_file_globs);
    m.argv = argv;
    m.tracked = tracked;
    m.file_globs = globs;
    m.pid = take64(s);
    m.start_ns = (int64_t)take64(s);
    m.flags = (uint32_t)take64(s);
    if (g->mode == WRITE) {
        g->fd = memfd_create("hops-fuzz", 0);
        CHECK(g->fd >= 0);
        CHECK(hops_writer_open_fd(&g->w, g->fd, &m) == HOPS_OK);
        return;
    }
    const hops_meta *got = &hops_reader_meta(g->r)->meta;
    CHECK(strcmp(got->python_version, m.python_version) == 0);
    CHECK(strcmp(got->mechanism, m.mechanism) == 0);
    CHECK(got->argc == m.argc && got->n_tracked == m.n_tracked &&
          got->n_file_globs == m.n_file_globs);
    for (uint32_t i = 0; i < m.argc; i++)
        CHECK(strcmp(got->argv[i], argv[i]) == 0);
    for (uint32_t i = 0; i < m.n_tracked; i++)
        CHECK(strcmp(got->tracked[i], tracked[i]) == 0);
    for (uint32_t i = 0; i < m.n_file_globs; i++)
        CHECK(strcmp(got->file_globs[i], globs[i]) == 0);
    CHECK(got->pid == m.pid && got->start_ns == m.start_ns && got->flags == m.flags);
}

static void
gen_code(gen *g, src *s)
{
    char fname[64], qname[64], ops[24][16];
    hops_site sites[24];
    hops_code c = {0};

    c.first_site = g->next_site;
    c.n_sites = take8(s) % 25;
    c.firstlineno = (int32_t)take64(s);
    c.filename = take_str(s, fname, sizeof(fname));
    c.qualname = take_str(s, qname, sizeof(qname));
    for (uint32_t i = 0; i < c.n_sites; i++) {
        sites[i].offset = (uint32_t)take64(s);
        sites[i].line = (int32_t)take64(s);
        sites[i].col = (int32_t)take64(s);
        sites[i].opname = take_str(s, ops[i], sizeof(ops[i]));
        if (ops[i][0] == '\0')
            sites[i].opname = "NOP";
    }
    c.sites = sites;
    g->next_site += c.n_sites;
    if (g->mode == WRITE) {
        CHECK(hops_writer_add_code(g->w, &c) == HOPS_OK);
        CHECK(hops_writer_next_site(g->w) == g->next_site);
        return;
    }
    hops_event ev = expect_event(g, HOPS_EV_CODE);
    CHECK(ev.u.code.first_site == c.first_site && ev.u.code.n_sites == c.n_sites);
    CHECK(ev.u.code.firstlineno == c.firstlineno);
    CHECK(strcmp(ev.u.code.filename, c.filename) == 0);
    CHECK(strcmp(ev.u.code.qualname, c.qualname) == 0);
    for (uint32_t i = 0; i < c.n_sites; i++) {
        const hops_site *a = &ev.u.code.sites[i], *b = &sites[i];
        CHECK(a->offset == b->offset && a->line == b->line && a->col == b->col);
        CHECK(strcmp(a->opname, b->opname) == 0);
    }
}

static void
gen_thread(gen *g, src *s)
{
    char name[64];
    hops_thread t;

    t.tid = take64(s);
    t.native_id = take64(s);
    t.name = take_str(s, name, sizeof(name));
    if (g->mode == WRITE) {
        CHECK(hops_writer_add_thread(g->w, &t) == HOPS_OK);
        return;
    }
    hops_event ev = expect_event(g, HOPS_EV_THREAD);
    CHECK(ev.u.thread.tid == t.tid && ev.u.thread.native_id == t.native_id);
    CHECK(strcmp(ev.u.thread.name, t.name) == 0);
}

static void
gen_frame(gen *g, src *s)
{
    hops_count counts[64];
    uint64_t tid = take64(s);
    size_t n = 1 + take8(s) % 64;

    if (g->next_site == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        counts[i].site = (uint32_t)(take64(s) % g->next_site);
        /* Runs of equal counts, as real deltas have, exercise LZ4 matches. */
        counts[i].count = take8(s) < 128 && i > 0 ? counts[i - 1].count : take64(s);
    }
    if (g->mode == WRITE) {
        CHECK(hops_writer_add_frame(g->w, tid, counts, n) == HOPS_OK);
        return;
    }
    hops_event ev = expect_event(g, HOPS_EV_FRAME);
    CHECK(ev.u.frame.tid == tid && ev.u.frame.n == n && ev.u.frame.raw_size == 12 * n);
    for (size_t i = 0; i < n; i++)
        CHECK(ev.u.frame.counts[i].site == counts[i].site &&
              ev.u.frame.counts[i].count == counts[i].count);
}

static void
gen_end(gen *g, src *s)
{
    hops_end e;

    e.end_ns = (int64_t)take64(s);
    e.exit_status = (int32_t)take64(s);
    e.flags = (uint32_t)take64(s);
    e.lost_events = take64(s);
    if (g->mode == WRITE) {
        CHECK(hops_writer_finish(g->w, &e) == HOPS_OK);
        return;
    }
    hops_event ev = expect_event(g, HOPS_EV_END);
    CHECK(ev.u.end.end_ns == e.end_ns && ev.u.end.exit_status == e.exit_status);
    CHECK(ev.u.end.flags == e.flags && ev.u.end.lost_events == e.lost_events);
}

static void
generate(gen *g, const uint8_t *data, size_t size)
{
    src s = {data, size};

    g->next_site = 0;
    gen_meta(g, &s);
    for (int ops = 0; s.n > 0 && ops < 64; ops++) {
        switch (take8(&s) % 6) {
        case 0:
        case 1:
            gen_code(g, &s);
            break;
        case 2:
            gen_thread(g, &s);
            break;
        case 3:
        case 4:
            gen_frame(g, &s);
            break;
        default:
            if (g->mode == WRITE)
                CHECK(hops_writer_flush(g->w) == HOPS_OK);
            break;
        }
    }
    if (size > 0 && data[0] & 1)
        gen_end(g, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gen g = {.mode = WRITE};
    uint8_t *file;
    off_t len;
    hops_event ev;

    generate(&g, data, size);
    CHECK(hops_writer_flush(g.w) == HOPS_OK);
    len = (off_t)hops_writer_bytes_written(g.w);
    CHECK(hops_writer_close(g.w) == HOPS_OK);
    CHECK(lseek(g.fd, 0, SEEK_END) == len);
    file = malloc((size_t)len);
    CHECK(file != NULL && pread(g.fd, file, (size_t)len, 0) == len);
    close(g.fd);

    g.mode = VERIFY;
    CHECK(hops_reader_open_mem(&g.r, file, (size_t)len) == HOPS_OK);
    generate(&g, data, size);
    CHECK(hops_reader_next(g.r, &ev) == 0);
    CHECK(hops_reader_file_size(g.r) == (uint64_t)len);
    hops_reader_close(g.r);
    free(file);
    return 0;
}

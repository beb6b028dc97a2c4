/*
 * an_testutil.h - helpers shared by the analyzer's Criterion tests
 * (test_aggregate.c, test_filter.c, test_render.c, test_diff.c, test_cli.c):
 * build real .hops files with the format library's writer in a temporary
 * directory, and run heavyops-analyze in-process with captured output.
 *
 * Header-only (static functions) so that tests/unit/meson.build needs no
 * extra sources.
 */
#ifndef AN_TESTUTIL_H
#define AN_TESTUTIL_H

#include "cli.h"
#include "load.h"

#include <criterion/criterion.h>
#include <hops/hops.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- temporary directory --------------------------------------------------- */

static char tu_dir[256];

/* Creates a fresh directory for this test's files. */
static inline void
tu_mkdir(void)
{
    snprintf(tu_dir, sizeof tu_dir, "/tmp/heavyops-an-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tu_dir));
}

/* A path inside the test directory; the result lives until the next 8 calls. */
static inline const char *
tu_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tu_dir, name);
    return p;
}

/* Removes the test directory and its files (one level deep). */
static inline void
tu_rmdir(void)
{
    if (!tu_dir[0])
        return;
    DIR *d = opendir(tu_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlink(tu_path(e->d_name));
        closedir(d);
    }
    rmdir(tu_dir);
    tu_dir[0] = '\0';
}

/* ---- writing .hops files ------------------------------------------------------ */

/* Opens path for writing; all_instructions selects HOPS_META_ALL_INSTRUCTIONS. */
static inline hops_writer *
tu_open(const char *path, int all_instructions)
{
    static const char *const argv[] = {"python3", "app.py", "it's"};
    static const char *const tracked[] = {"BUILD_LIST", "BUILD_MAP"};
    hops_meta m;
    memset(&m, 0, sizeof m);
    m.python_version = "3.12.1";
    m.mechanism = "test";
    m.argc = 3;
    m.argv = argv;
    m.pid = 4242;
    m.start_ns = 1700000000123456789LL;
    m.flags = all_instructions ? HOPS_META_ALL_INSTRUCTIONS : 0;
    if (!all_instructions) {
        m.n_tracked = 2;
        m.tracked = tracked;
    }
    hops_writer *w = NULL;
    int rc = hops_writer_open_path(&w, path, 0, &m);
    cr_assert_eq(rc, 0, "hops_writer_open_path: %s", hops_strerror(rc));
    return w;
}

/* Declares a code object whose sites are given as parallel arrays; returns the
 * global id of its first site. */
static inline uint32_t
tu_code(hops_writer *w, const char *file, const char *qualname, int firstlineno, size_t n,
        const char *const *opnames, const int *lines, const int *cols, const uint32_t *offsets)
{
    hops_site sites[64];
    cr_assert(n <= 64);
    for (size_t i = 0; i < n; i++) {
        sites[i].opname = opnames[i];
        sites[i].line = lines[i];
        sites[i].col = cols ? cols[i] : 4;
        sites[i].offset = offsets ? offsets[i] : (uint32_t)(2 * i);
    }
    hops_code c = {0};
    c.first_site = hops_writer_next_site(w);
    c.n_sites = (uint32_t)n;
    c.firstlineno = firstlineno;
    c.filename = file;
    c.qualname = qualname;
    c.sites = sites;
    int rc = hops_writer_add_code(w, &c);
    cr_assert_eq(rc, 0, "hops_writer_add_code: %s", hops_strerror(rc));
    return c.first_site;
}

/* A code object with one site. */
static inline uint32_t
tu_site(hops_writer *w, const char *file, const char *qualname, int firstlineno, int line, int col,
        const char *opname)
{
    const char *ops[1] = {opname};
    int lines[1] = {line}, cols[1] = {col};
    return tu_code(w, file, qualname, firstlineno, 1, ops, lines, cols, NULL);
}

static inline void
tu_thread(hops_writer *w, uint64_t tid, const char *name)
{
    hops_thread t = {tid, tid + 1000, name};
    cr_assert_eq(hops_writer_add_thread(w, &t), 0);
}

/* A frame of one record. */
static inline void
tu_count(hops_writer *w, uint64_t tid, uint32_t site, uint64_t count)
{
    hops_count c = {site, count};
    int rc = hops_writer_add_frame(w, tid, &c, 1);
    cr_assert_eq(rc, 0, "hops_writer_add_frame: %s", hops_strerror(rc));
}

/* Writes the END chunk (clean, exit status 0) and closes. */
static inline void
tu_finish(hops_writer *w)
{
    hops_end e = {1700000002123456789LL, 0, HOPS_END_CLEAN, 0};
    cr_assert_eq(hops_writer_finish(w, &e), 0);
    cr_assert_eq(hops_writer_close(w), 0);
}

/* Closes without an END chunk, as a killed recorder leaves the file. */
static inline void
tu_abandon(hops_writer *w)
{
    cr_assert_eq(hops_writer_close(w), 0);
}

static inline void
tu_write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    if (len)
        cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Reads a whole file into a malloc'd, NUL-terminated buffer. */
static inline char *
tu_slurp(const char *path, size_t *len)
{
    if (len)
        *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ---- running the CLI ---------------------------------------------------------- */

struct tu_run {
    int rc;
    char *out; /* malloc'd */
    char *err; /* malloc'd */
};

static inline char *
tu_read_stream(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs heavyops-analyze with a NULL-terminated list of arguments (argv[0] is
 * supplied). */
static inline struct tu_run
tu_run_argv(const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"heavyops-analyze";
    for (; *args; args++) {
        cr_assert(argc < 63);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    cr_assert(out && err);
    struct tu_run r;
    r.rc = an_cli_run(argc, argv, out, err);
    r.out = tu_read_stream(out);
    r.err = tu_read_stream(err);
    return r;
}

#define tu_run(...) tu_run_argv((const char *const[]){__VA_ARGS__, NULL})

static inline void
tu_run_free(struct tu_run *r)
{
    free(r->out);
    free(r->err);
}

/* Number of lines in s. */
static inline int
tu_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#endif /* AN_TESTUTIL_H */

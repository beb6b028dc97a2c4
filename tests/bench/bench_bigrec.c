/*
 * bench_bigrec.c - a large synthetic .hops recording for the analyzer part of
 * tests/bench/bench.py (which compiles it against the build's libhopsformat):
 *
 *   bench-bigrec OUT.hops MIB SITES THREADS SEED
 *
 * writes SITES sites (20 per code object, 1,000 files), THREADS threads and
 * frames of counts until the frames hold MIB MiB of decompressed data (12
 * bytes per count).  Each frame is one thread's flush: a window of ascending
 * site ids with random gaps, starting where that thread's previous window
 * ended, so every site is counted and a thread revisits its sites as a long
 * run does.  Counts are mostly small deltas with a heavy tail.  Two files
 * with the same SITES and different SEEDs share their symbol table and differ
 * in counts, which is what `heavyops-analyze diff` sees on a changed program.
 *
 * analyzer/bench/an_bench_gen.c is the analyzer's own fixed-shape generator
 * (40,000 sites, 4 threads); this one takes the shape from the command line.
 */
#include <hops/hops.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITES_PER_CODE 20
#define FILES          1000
#define RECORDS        65536 /* per frame: 768 KiB of frame data */

static uint64_t
next_rand(uint64_t *x) /* xorshift64 */
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int
usage(void)
{
    fprintf(stderr, "usage: bench-bigrec OUT.hops MIB SITES THREADS SEED\n");
    return 2;
}

int
main(int argc, char **argv)
{
    if (argc != 6) {
        return usage();
    }
    uint64_t mib = strtoull(argv[2], NULL, 10);
    uint32_t nsites = (uint32_t)strtoul(argv[3], NULL, 10);
    uint32_t nthreads = (uint32_t)strtoul(argv[4], NULL, 10);
    uint64_t seed = strtoull(argv[5], NULL, 10);
    if (mib == 0 || nsites < SITES_PER_CODE || nthreads == 0) {
        return usage();
    }
    uint32_t ncodes = nsites / SITES_PER_CODE;
    nsites = ncodes * SITES_PER_CODE;

    static const char *const av[] = {"python3", "synthetic.py"};
    static const char *const ops[] = {
        "LOAD_FAST",   "LOAD_CONST",   "STORE_FAST", "LOAD_ATTR",         "LOAD_GLOBAL",
        "CALL",        "BINARY_OP",    "COMPARE_OP", "POP_JUMP_IF_FALSE", "RETURN_VALUE",
        "BUILD_TUPLE", "BUILD_LIST",   "BUILD_MAP",  "LOAD_DEREF",        "MAKE_FUNCTION",
        "FOR_ITER",    "JUMP_BACKWARD"};
    const size_t nops = sizeof ops / sizeof ops[0];
    hops_meta m;
    memset(&m, 0, sizeof m);
    m.python_version = "3.12.1";
    m.mechanism = "synthetic (tests/bench/bench_bigrec.c)";
    m.argc = 2;
    m.argv = av;
    m.flags = HOPS_META_ALL_INSTRUCTIONS;

    hops_writer *w = NULL;
    hops_count *cs = NULL;
    uint32_t *cursor = NULL;
    int rc = hops_writer_open_path(&w, argv[1], 0, &m);
    if (rc < 0) {
        goto fail;
    }
    for (uint32_t c = 0; c < ncodes; c++) {
        hops_site s[SITES_PER_CODE];
        char file[64], qualname[64];
        for (int i = 0; i < SITES_PER_CODE; i++) {
            s[i].offset = 2 * (uint32_t)i + 2 * (i / 4);
            s[i].line = (int32_t)(c / FILES * 30 + 3 + i / 3);
            s[i].col = 4 * (i % 5);
            s[i].opname = ops[(c * 7 + (uint32_t)i) % nops];
        }
        snprintf(file, sizeof file, "/srv/app/pkg%02u/mod%03u.py", c % FILES / 50, c % FILES);
        snprintf(qualname, sizeof qualname, "Handler%u.step_%u", c % 97, c);
        hops_code code = {
            c * SITES_PER_CODE, SITES_PER_CODE, (int32_t)(c / FILES * 30 + 1), file, qualname, s};
        if ((rc = hops_writer_add_code(w, &code)) < 0) {
            goto fail;
        }
    }
    for (uint32_t t = 0; t < nthreads; t++) {
        char name[32];
        snprintf(name, sizeof name, t ? "worker-%u" : "MainThread", t);
        hops_thread th = {1000 + t, 50000 + t, name};
        if ((rc = hops_writer_add_thread(w, &th)) < 0) {
            goto fail;
        }
    }
    cs = malloc(RECORDS * sizeof *cs);
    cursor = calloc(nthreads, sizeof *cursor);
    if (cs == NULL || cursor == NULL) {
        rc = HOPS_E_NOMEM;
        goto fail;
    }
    for (uint32_t t = 0; t < nthreads; t++) {
        cursor[t] = (uint32_t)((uint64_t)nsites * t / nthreads);
    }
    uint64_t x = 88172645463325252ull ^ (seed * 0x9E3779B97F4A7C15ull);
    uint64_t want = mib << 20, done = 0;
    for (uint64_t f = 0; done < want; f++) {
        uint32_t t = (uint32_t)(f % nthreads);
        size_t n = RECORDS;
        if ((want - done) / 12 < n) {
            n = (size_t)((want - done + 11) / 12);
        }
        uint32_t site = cursor[t];
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_rand(&x);
            cs[i].site = site;
            cs[i].count = 1 + ((r >> 8) % 11 == 0 ? (r >> 16) % 50000 : (r >> 16) % 16);
            site += 1 + (uint32_t)(r & 3); /* gaps: sites this thread did not run */
            if (site >= nsites) {
                site -= nsites;
            }
        }
        cursor[t] = site;
        if ((rc = hops_writer_add_frame(w, 1000 + t, cs, n)) < 0) {
            goto fail;
        }
        done += 12 * (uint64_t)n;
    }
    hops_end e = {0, 0, HOPS_END_CLEAN, 0};
    if ((rc = hops_writer_finish(w, &e)) < 0) {
        goto fail;
    }
    free(cs);
    free(cursor);
    rc = hops_writer_close(w);
    if (rc < 0) {
        fprintf(stderr, "bench-bigrec: %s: %s\n", argv[1], hops_strerror(rc));
        return 1;
    }
    return 0;
fail:
    fprintf(stderr, "bench-bigrec: %s: %s\n", argv[1], hops_strerror(rc));
    free(cs);
    free(cursor);
    hops_writer_close(w);
    return 1;
}

/*
 * an_bench_gen.c - writes a large synthetic .hops file for measuring
 * heavyops-analyze throughput (not built by default):
 *
 *   ninja -C build analyzer/an-bench-gen
 *   build/analyzer/an-bench-gen /tmp/big.hops 1500     # ~1.2 GB of frame data
 *   perf stat build/heavyops-analyze /tmp/big.hops --top 1
 *
 * 2,000 code objects of 20 sites in 50 files, 4 threads, FRAMES frames of
 * 65,536 records each; counts are mostly small, as real deltas are, so the
 * frames compress roughly as real ones do.
 */
#include <hops/hops.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODES          2000
#define SITES_PER_CODE 20
#define RECORDS        (1u << 16)

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: an-bench-gen OUT.hops FRAMES\n");
        return 2;
    }
    size_t nframes = strtoul(argv[2], NULL, 10);
    static const char *const av[] = {"python3", "bench.py"};
    static const char *const ops[] = {"BUILD_LIST", "LOAD_FAST", "CALL",       "MAKE_FUNCTION",
                                      "LOAD_DEREF", "BINARY_OP", "STORE_FAST", "RETURN_VALUE"};
    hops_meta m;
    memset(&m, 0, sizeof m);
    m.python_version = "3.12.1";
    m.mechanism = "synthetic";
    m.argc = 2;
    m.argv = av;
    m.flags = HOPS_META_ALL_INSTRUCTIONS;
    hops_writer *w = NULL;
    int rc = hops_writer_open_path(&w, argv[1], 0, &m);
    if (rc < 0)
        goto fail;
    uint32_t nsites = 0;
    for (int c = 0; c < CODES; c++) {
        hops_site s[SITES_PER_CODE];
        char file[64], qualname[64];
        for (int i = 0; i < SITES_PER_CODE; i++) {
            s[i].offset = 2 * (uint32_t)i;
            s[i].line = 10 * c + i / 2;
            s[i].col = 4 * (i % 3);
            s[i].opname = ops[(c + i) % 8];
        }
        snprintf(file, sizeof file, "/srv/mod%d.py", c % 50);
        snprintf(qualname, sizeof qualname, "func_%d", c);
        hops_code code = {nsites, SITES_PER_CODE, 10 * c, file, qualname, s, NULL, 0};
        if ((rc = hops_writer_add_code(w, &code)) < 0)
            goto fail;
        nsites += SITES_PER_CODE;
    }
    for (uint64_t t = 0; t < 4; t++) {
        hops_thread th = {100 + t, 0, "worker"};
        if ((rc = hops_writer_add_thread(w, &th)) < 0)
            goto fail;
    }
    hops_count *cs = malloc(RECORDS * sizeof *cs);
    if (!cs)
        return 1;
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    for (size_t f = 0; f < nframes; f++) {
        for (size_t i = 0; i < RECORDS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cs[i].site = (uint32_t)(((uint64_t)i * nsites / RECORDS + f) % nsites);
            cs[i].count = 1 + (x % 7 == 0 ? x % 5000 : x % 16);
        }
        if ((rc = hops_writer_add_frame(w, 100 + f % 4, cs, RECORDS)) < 0)
            goto fail;
    }
    free(cs);
    hops_end e = {0, 0, HOPS_END_CLEAN, 0};
    if ((rc = hops_writer_finish(w, &e)) < 0)
        goto fail;
    return hops_writer_close(w) < 0;
fail:
    fprintf(stderr, "an-bench-gen: %s: %s\n", argv[1], hops_strerror(rc));
    hops_writer_close(w);
    return 1;
}

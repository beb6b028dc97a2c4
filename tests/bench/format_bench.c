/*
 * format_bench.c - throughput of the .hops writer and reader, in MB/s of
 * decompressed frame data (12 bytes per count record).  Not built by default:
 *
 *   ninja -C build format/format-bench && build/format/format-bench [MB] [path]
 *
 * Two workloads bracket real recordings: "sorted" (site ids ascending, small
 * counts: what a recorder flushing a per-thread counter array produces, and
 * compresses well) and "random" (random sites and 64-bit counts: nearly
 * incompressible, so the CRC and LZ4 work on the most bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hops/hops.h>

#define N_SITES    50000u
#define FRAME_RECS 100000u

/* CPU time of this thread: on a shared machine it measures the work of "one
 * core" without counting time spent descheduled. */
static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rng(uint64_t *s)
{
    /* splitmix64: deterministic, so runs are comparable. */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void
fill(hops_count *c, size_t n, int random, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        if (random) {
            c[i].site = (uint32_t)(rng(seed) % N_SITES);
            c[i].count = rng(seed);
        } else {
            c[i].site = (uint32_t)(i % N_SITES);
            c[i].count = 1 + (rng(seed) & 0x3ff);
        }
    }
}

static int
bench(const char *path, int random, uint64_t total_mb)
{
    static const char *const argv[] = {"bench"};
    hops_meta m = {.python_version = "3.12", .mechanism = "bench", .argc = 1, .argv = argv};
    hops_writer *w = NULL;
    hops_reader *r = NULL;
    hops_site *sites = calloc(N_SITES, sizeof(*sites));
    hops_count *c = malloc(FRAME_RECS * sizeof(*c));
    hops_code code = {.n_sites = N_SITES, .filename = "bench.py", .qualname = "f", .sites = sites};
    hops_end e = {.flags = HOPS_END_CLEAN};
    hops_event ev;
    uint64_t seed = 42, raw = 0, sum = 0, recs = 0;
    size_t frames = (size_t)(total_mb * 1000000 / (FRAME_RECS * 12));
    double t0, w0, t_write, t_read, best_read = 1e30, best_wall = 1e30;
    int err;

    for (uint32_t i = 0; i < N_SITES; i++)
        sites[i] = (hops_site){.offset = 2 * i, .line = (int32_t)i, .col = 0, .opname = "LOAD"};
    if ((err = hops_writer_open_path(&w, path, 0, &m)) != 0 ||
        (err = hops_writer_add_code(w, &code)) != 0)
        goto fail;
    t_write = 0;
    for (size_t f = 0; f < frames; f++) {
        fill(c, FRAME_RECS, random, &seed);
        t0 = now();
        if ((err = hops_writer_add_frame(w, 1, c, FRAME_RECS)) != 0)
            goto fail;
        t_write += now() - t0;
    }
    t0 = now();
    if ((err = hops_writer_finish(w, &e)) != 0)
        goto fail;
    t_write += now() - t0;
    printf("%-6s file %8.1f MB for %8.1f MB of records (ratio %.2f)\n",
           random ? "random" : "sorted", (double)hops_writer_bytes_written(w) / 1e6,
           (double)frames * FRAME_RECS * 12 / 1e6,
           (double)frames * FRAME_RECS * 12 / (double)hops_writer_bytes_written(w));
    err = hops_writer_close(w);
    w = NULL;
    if (err)
        goto fail;

    /* Best of 5 reads from a warm page cache: the reader, not the disk. */
    for (int rep = 0; rep < 5; rep++) {
        raw = sum = recs = 0;
        t0 = now();
        w0 = wall();
        if ((err = hops_reader_open_path(&r, path)) != 0)
            goto fail;
        while ((err = hops_reader_next(r, &ev)) == 1) {
            if (ev.kind != HOPS_EV_FRAME)
                continue;
            raw += ev.u.frame.raw_size;
            recs += ev.u.frame.n;
            /* Touch every count, as an aggregating analyzer would. */
            for (size_t i = 0; i < ev.u.frame.n; i++)
                sum += ev.u.frame.counts[i].count;
        }
        t_read = now() - t0;
        hops_reader_close(r);
        r = NULL;
        if (err)
            goto fail;
        if (t_read < best_read)
            best_read = t_read;
        if (wall() - w0 < best_wall)
            best_wall = wall() - w0;
    }
    printf("%-6s write %5.0f MB/s  read %5.0f MB/s cpu, %5.0f MB/s wall  (%llu records, sum "
           "%llu)\n",
           random ? "random" : "sorted", (double)raw / 1e6 / t_write, (double)raw / 1e6 / best_read,
           (double)raw / 1e6 / best_wall, (unsigned long long)recs,
           (unsigned long long)(sum & 0xffff));
    free(sites);
    free(c);
    return 0;
fail:
    fprintf(stderr, "format-bench: %s\n", hops_strerror(err));
    hops_writer_close(w);
    hops_reader_close(r);
    free(sites);
    free(c);
    return 1;
}

int
main(int argc, char **argv)
{
    uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 500;
    const char *path = argc > 2 ? argv[2] : "/tmp/format_bench.hops";
    static uint8_t buf[1 << 20];
    double t0, t;
    uint32_t crc = 0;
    int ret;

    memset(buf, 0x5a, sizeof(buf));
    t0 = now();
    for (int i = 0; i < 1000; i++)
        crc = hops_crc32c(crc, buf, sizeof(buf));
    t = now() - t0;
    printf("crc32c %.0f MB/s (%08x)\n", 1000.0 * sizeof(buf) / 1e6 / t, crc);

    ret = bench(path, 0, mb) | bench(path, 1, mb);
    unlink(path);
    return ret;
}

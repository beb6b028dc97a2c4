/*
 * hops_fuzz_reader.c - libFuzzer entry point for the .hops reader
 * (STYLE.md rule 10).  Opens the input from memory, iterates every event and
 * checks the invariants the reader promises its callers, so a bug shows up
 * as an abort even when it does not crash:
 *
 *   - success implies sizes match the header: raw_size == 12 * n;
 *   - site ids are dense: each code's first_site is the running total and
 *     each frame's sites are below it;
 *   - every string handed out is NUL-terminated within readable memory
 *     (touched with strlen, which ASan checks);
 *   - errors are sticky and end of file is stable;
 *   - every frame knows the sites declared before it; decoded frames hold
 *     only sites below that and agree with their raw records
 *     (HOPS_READ_RAW_RECORDS, on for inputs of odd size, checks nothing).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (format/meson.build does
 * it when the compiler supports it); hops_fuzz_replay.c runs the same entry
 * point over files with any compiler.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hops/hops.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static size_t
touch(const char *s)
{
    CHECK(s != NULL);
    return strlen(s);
}

static void
touch_list(const char *const *list, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        touch(list[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hops_reader *r = NULL;
    const hops_file_meta *fm;
    hops_event ev;
    uint64_t sites = 0;
    int raw = (int)(size & 1);
    int got;

    got = hops_reader_open_mem(&r, data, size);
    if (got != HOPS_OK) {
        CHECK(got < 0 && r == NULL);
        CHECK(hops_strerror(got) != NULL);
        return 0;
    }
    if (raw)
        CHECK(hops_reader_set_flags(r, HOPS_READ_RAW_RECORDS) == HOPS_OK);
    fm = hops_reader_meta(r);
    CHECK(fm->major == HOPS_FORMAT_MAJOR);
    touch(fm->meta.python_version);
    touch(fm->meta.mechanism);
    touch_list(fm->meta.argv, fm->meta.argc);
    touch_list(fm->meta.tracked, fm->meta.n_tracked);
    touch_list(fm->meta.file_globs, fm->meta.n_file_globs);

    while ((got = hops_reader_next(r, &ev)) == 1) {
        CHECK(hops_reader_offset(r) < size);
        switch (ev.kind) {
        case HOPS_EV_CODE:
            CHECK(ev.u.code.first_site == sites);
            sites += ev.u.code.n_sites;
            CHECK(sites <= UINT32_MAX);
            touch(ev.u.code.filename);
            touch(ev.u.code.qualname);
            for (uint32_t i = 0; i < ev.u.code.n_sites; i++)
                CHECK(touch(ev.u.code.sites[i].opname) > 0);
            break;
        case HOPS_EV_THREAD:
            touch(ev.u.thread.name);
            break;
        case HOPS_EV_FRAME:
            CHECK(ev.u.frame.raw_size == 12 * (uint64_t)ev.u.frame.n);
            CHECK(ev.u.frame.compressed_size <= size);
            CHECK(ev.u.frame.records != NULL);
            CHECK(ev.u.frame.n_sites == sites);
            CHECK(raw == (ev.u.frame.counts == NULL));
            for (size_t i = 0; i < ev.u.frame.n; i++) {
                const uint8_t *rec = ev.u.frame.records + i * HOPS_RECORD_SIZE;
                (void)hops_record_count(rec); /* readable */
                if (!raw)
                    CHECK(hops_record_site(rec) < sites &&
                          ev.u.frame.counts[i].site == hops_record_site(rec) &&
                          ev.u.frame.counts[i].count == hops_record_count(rec));
            }
            break;
        case HOPS_EV_END:
            break;
        default:
            CHECK(0);
        }
    }
    CHECK(got <= 0);
    /* Sticky errors, stable end of file. */
    CHECK(hops_reader_next(r, &ev) == got);
    hops_reader_close(r);
    return 0;
}

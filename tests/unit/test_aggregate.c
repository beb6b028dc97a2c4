/*
 * test_aggregate.c - load.c and aggregate.c: folding .hops files into keys and
 * grouping them per --by view, with totals, sorting and ties.
 */
#include "an_testutil.h"

#include "aggregate.h"
#include "an_sort.h"
#include "filter.h"
#include "load.h"

static struct an_dataset ds;
static struct an_filter all; /* -i '*' */
static const char *star[] = {"*"};

static void
setup(void)
{
    tu_mkdir();
    an_dataset_init(&ds);
    an_filter_init(&all);
    all.instructions = star;
    all.n_instructions = 1;
}

static void
teardown(void)
{
    an_dataset_release(&ds);
    tu_rmdir();
}

TestSuite(aggregate, .init = setup, .fini = teardown);

static void
load(const char *name)
{
    char err[256] = "";
    int rc = an_dataset_load(&ds, tu_path(name), err, sizeof err);
    cr_assert_eq(rc, 0, "load %s: %s", name, err);
}

static const char *
S(int64_t id)
{
    return an_strtab_get(&ds.strs, (uint32_t)id);
}

/* app.py: main (line 10) with BUILD_LIST at 11:4 (two offsets), 12:4 and
 * LOAD_FAST at 11:8; lib.py: helper (line 3) with BUILD_TUPLE at 4:0. */
static void
write_basic(const char *name, int all_instructions)
{
    hops_writer *w = tu_open(tu_path(name), all_instructions);
    tu_thread(w, 7, "MainThread");
    tu_thread(w, 8, "worker");
    const char *ops[] = {"BUILD_LIST", "BUILD_LIST", "LOAD_FAST", "BUILD_LIST"};
    int lines[] = {11, 11, 11, 12};
    int cols[] = {4, 4, 8, 4};
    uint32_t offs[] = {10, 20, 30, 40};
    uint32_t s = tu_code(w, "app.py", "main", 10, 4, ops, lines, cols, offs);
    uint32_t h = tu_site(w, "lib.py", "helper", 3, 4, 0, "BUILD_TUPLE");
    tu_count(w, 7, s + 0, 100);
    tu_count(w, 7, s + 1, 50);
    tu_count(w, 7, s + 2, 1000);
    tu_count(w, 8, s + 3, 30);
    tu_count(w, 8, h, 150);
    tu_count(w, 7, s + 0, 1); /* a second frame of the same thread adds up */
    tu_finish(w);
}

Test(aggregate, sums_frames_and_threads_per_instruction)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_INSTRUCTION, &r);
    cr_assert_eq(r.n, 3);
    cr_expect_str_eq(S(r.rows[0].f[0]), "LOAD_FAST");
    cr_expect_eq(r.rows[0].count, 1000);
    cr_expect_str_eq(S(r.rows[1].f[0]), "BUILD_LIST");
    cr_expect_eq(r.rows[1].count, 181);
    cr_expect_str_eq(S(r.rows[2].f[0]), "BUILD_TUPLE");
    cr_expect_eq(r.rows[2].count, 150);
    cr_expect_eq(r.tracked, 1331);
    cr_expect_eq(r.total, 1331);
    cr_expect(r.total_known);
    an_rows_release(&r);
}

Test(aggregate, merges_offsets_of_one_location)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_LOCATION, &r);
    cr_assert_eq(r.n, 4);
    /* LOAD_FAST 1000, BUILD_LIST 11:4 (151 over two offsets), BUILD_TUPLE 150, 12:4 30 */
    cr_expect_eq(r.rows[1].count, 151);
    cr_expect_str_eq(S(r.rows[1].f[0]), "app.py");
    cr_expect_eq(r.rows[1].f[1], 11);
    cr_expect_eq(r.rows[1].f[2], 4);
    cr_expect_str_eq(S(r.rows[1].f[3]), "main");
    cr_expect_str_eq(S(r.rows[1].f[4]), "BUILD_LIST");
    cr_expect_eq(r.rows[3].count, 30);
    an_rows_release(&r);
}

Test(aggregate, site_keeps_one_row_per_offset)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_SITE, &r);
    cr_assert_eq(r.n, 5);
    /* 1000 LOAD_FAST, 150 helper, 101 offset 10, 50 offset 20, 30 offset 40 */
    cr_expect_eq(r.rows[2].count, 101);
    cr_expect_eq(r.rows[2].f[3], 10);
    cr_expect_eq(r.rows[3].count, 50);
    cr_expect_eq(r.rows[3].f[3], 20);
    cr_expect_eq(r.rows[2].f[2], 10, "firstlineno");
    an_rows_release(&r);
}

Test(aggregate, groups_by_line_function_and_file)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_LINE, &r);
    cr_assert_eq(r.n, 3);
    cr_expect_eq(r.rows[0].count, 1151); /* app.py:11 */
    cr_expect_eq(r.rows[0].f[1], 11);
    an_aggregate(&ds, &all, AN_BY_FUNCTION, &r);
    cr_assert_eq(r.n, 2);
    cr_expect_str_eq(S(r.rows[0].f[1]), "main");
    cr_expect_eq(r.rows[0].count, 1181);
    cr_expect_eq(r.rows[0].f[2], 10);
    cr_expect_str_eq(S(r.rows[1].f[1]), "helper");
    an_aggregate(&ds, &all, AN_BY_FILE, &r);
    cr_assert_eq(r.n, 2);
    cr_expect_str_eq(S(r.rows[0].f[0]), "app.py");
    cr_expect_eq(r.rows[0].count, 1181);
    cr_expect_eq(r.rows[1].count, 150);
    an_rows_release(&r);
}

Test(aggregate, groups_by_thread)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_THREAD, &r);
    cr_assert_eq(r.n, 2);
    cr_expect_eq((uint64_t)r.rows[0].f[0], 7);
    cr_expect_str_eq(S(r.rows[0].f[1]), "MainThread");
    cr_expect_eq(r.rows[0].count, 1151);
    cr_expect_eq((uint64_t)r.rows[1].f[0], 8);
    cr_expect_eq(r.rows[1].count, 180);
    an_rows_release(&r);
}

Test(aggregate, merges_the_same_site_across_files)
{
    write_basic("a.hops", 1);
    write_basic("b.hops", 1);
    load("a.hops");
    load("b.hops");
    cr_expect_eq(ds.nkeys, 5, "same (file, qualname, firstlineno, offset) is one key");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_INSTRUCTION, &r);
    cr_expect_eq(r.rows[0].count, 2000);
    cr_expect_eq(r.total, 2662);
    /* Same tid and name in both files: one thread row. */
    an_aggregate(&ds, &all, AN_BY_THREAD, &r);
    cr_expect_eq(r.n, 2);
    cr_expect_eq(r.rows[0].count, 2302);
    an_rows_release(&r);
}

Test(aggregate, process_rows_split_the_files_again)
{
    write_basic("a.hops", 1);
    write_basic("b.hops", 1);
    load("a.hops");
    load("b.hops");
    struct an_filter tuples;
    an_filter_init(&tuples);
    const char *pat[] = {"BUILD_TUPLE"};
    tuples.instructions = pat;
    tuples.n_instructions = 1;
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_PROCESS, &r);
    cr_assert_eq(r.n, 2, "one row per file, though both say pid 4242");
    for (size_t i = 0; i < 2; i++) {
        cr_expect_eq((uint64_t)r.rows[i].f[0], 4242);
        cr_expect_eq(r.rows[i].count, 1331);
    }
    /* equal counts: ordered by the key, pid then recording path */
    cr_expect_str_eq(S(r.rows[0].f[1]), tu_path("a.hops"));
    cr_expect_str_eq(S(r.rows[1].f[1]), tu_path("b.hops"));
    an_aggregate(&ds, &tuples, AN_BY_PROCESS, &r);
    cr_assert_eq(r.n, 2);
    cr_expect_eq(r.rows[0].count, 150, "filters apply per process");
    cr_expect_eq(r.tracked, 300);
    an_rows_release(&r);
}

Test(aggregate, sorts_by_count_then_key_fields)
{
    /* Equal counts: file name, then line numerically (9 before 10), then
     * column, then function, then instruction. */
    hops_writer *w = tu_open(tu_path("t.hops"), 1);
    uint32_t a = tu_site(w, "b.py", "f", 1, 10, 0, "BUILD_LIST");
    uint32_t b = tu_site(w, "b.py", "f", 1, 9, 0, "BUILD_LIST");
    uint32_t c = tu_site(w, "a.py", "f", 1, 99, 0, "BUILD_LIST");
    uint32_t d = tu_site(w, "b.py", "f", 1, 9, 0, "BUILD_MAP");
    uint32_t e = tu_site(w, "c.py", "f", 1, 1, 0, "BUILD_MAP");
    tu_count(w, 1, a, 5);
    tu_count(w, 1, b, 5);
    tu_count(w, 1, c, 5);
    tu_count(w, 1, d, 5);
    tu_count(w, 1, e, 6);
    tu_finish(w);
    load("t.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_LOCATION, &r);
    cr_assert_eq(r.n, 5);
    cr_expect_str_eq(S(r.rows[0].f[0]), "c.py");
    cr_expect_str_eq(S(r.rows[1].f[0]), "a.py");
    cr_expect_eq(r.rows[2].f[1], 9);
    cr_expect_str_eq(S(r.rows[2].f[4]), "BUILD_LIST");
    cr_expect_eq(r.rows[3].f[1], 9);
    cr_expect_str_eq(S(r.rows[3].f[4]), "BUILD_MAP");
    cr_expect_eq(r.rows[4].f[1], 10);
    an_rows_release(&r);
}

Test(aggregate, never_shows_zero_counts)
{
    hops_writer *w = tu_open(tu_path("z.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    uint32_t b = tu_site(w, "a.py", "g", 5, 6, 0, "BUILD_LIST");
    tu_count(w, 1, a, 0);
    tu_count(w, 1, b, 3);
    tu_finish(w);
    load("z.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_LOCATION, &r);
    cr_expect_eq(r.n, 1);
    cr_expect_str_eq(S(r.rows[0].f[3]), "g");
    an_aggregate(&ds, &all, AN_BY_THREAD, &r);
    cr_expect_eq(r.n, 1);
    an_rows_release(&r);
}

Test(aggregate, total_counts_every_instruction_of_the_selected_threads)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_filter f;
    an_filter_init(&f); /* default instruction set: BUILD_LIST, BUILD_TUPLE count */
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &f, AN_BY_INSTRUCTION, &r);
    cr_expect_eq(r.n, 2);
    cr_expect_eq(r.tracked, 331);
    cr_expect_eq(r.total, 1331, "total ignores -i");
    const char *worker[] = {"worker"};
    f.threads = worker;
    f.n_threads = 1;
    an_aggregate(&ds, &f, AN_BY_INSTRUCTION, &r);
    cr_expect_eq(r.tracked, 180);
    cr_expect_eq(r.total, 180, "total follows --thread");
    an_rows_release(&r);
}

Test(aggregate, total_is_unknown_if_any_file_counted_a_tracked_set)
{
    write_basic("all.hops", 1);
    write_basic("some.hops", 0);
    load("all.hops");
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_FILE, &r);
    cr_expect(r.total_known);
    load("some.hops");
    an_aggregate(&ds, &all, AN_BY_FILE, &r);
    cr_expect_not(r.total_known);
    cr_expect_not(an_dataset_total_known(&ds));
    an_rows_release(&r);
}

Test(aggregate, min_count_hides_rows_but_not_tracked)
{
    write_basic("a.hops", 1);
    load("a.hops");
    struct an_filter f = all;
    f.min_count = 151;
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &f, AN_BY_LOCATION, &r);
    cr_expect_eq(r.n, 2);
    cr_expect_eq(r.rows[1].count, 151);
    cr_expect_eq(r.tracked, 1331);
    an_rows_release(&r);
}

Test(aggregate, thread_without_thread_chunk_has_an_empty_name)
{
    hops_writer *w = tu_open(tu_path("n.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 99, a, 4);
    tu_finish(w);
    load("n.hops");
    cr_assert_eq(ds.nthreads, 1);
    cr_expect_eq(ds.threads[0].tid, 99);
    cr_expect_str_eq(S(ds.threads[0].name), "");
    cr_expect_eq(ds.threads[0].total, 4);
}

Test(aggregate, a_renamed_thread_keeps_its_last_name)
{
    hops_writer *w = tu_open(tu_path("r.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_thread(w, 5, "Thread-1");
    tu_count(w, 5, a, 4);
    tu_thread(w, 5, "renamed");
    tu_count(w, 5, a, 1);
    tu_finish(w);
    load("r.hops");
    cr_assert_eq(ds.nthreads, 1);
    cr_expect_str_eq(S(ds.threads[0].name), "renamed");
    cr_expect_eq(ds.threads[0].total, 5);
}

Test(aggregate, detects_a_counter_overflowing_64_bits)
{
    hops_writer *w = tu_open(tu_path("o.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 1, a, UINT64_MAX);
    tu_count(w, 1, a, 2);
    tu_finish(w);
    char err[256] = "";
    cr_expect_eq(an_dataset_load(&ds, tu_path("o.hops"), err, sizeof err), -1);
    cr_expect_str_eq(err, "corrupt data");
}

Test(aggregate, sums_across_threads_saturate_instead_of_wrapping)
{
    uint32_t file = an_dataset_add_file(&ds, "mem");
    struct an_key k = {0};
    k.file = an_strtab_intern(&ds.strs, "a.py");
    k.qualname = an_strtab_intern(&ds.strs, "f");
    k.opname = an_strtab_intern(&ds.strs, "BUILD_LIST");
    uint32_t key = an_dataset_key(&ds, &k);
    size_t t1 = an_dataset_add_thread(&ds, file, 1, "a");
    size_t t2 = an_dataset_add_thread(&ds, file, 2, "b");
    cr_assert_eq(an_thread_add(&ds, t1, key, UINT64_MAX - 1), 0);
    cr_assert_eq(an_thread_add(&ds, t2, key, 5), 0);
    an_dataset_finish(&ds);
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_INSTRUCTION, &r);
    cr_expect_eq(r.rows[0].count, UINT64_MAX);
    an_rows_release(&r);
}

Test(aggregate, keys_are_what_the_by_values_name)
{
    static const struct {
        const char *name;
        enum an_by by;
        unsigned nfields;
    } cases[] = {{"instruction", AN_BY_INSTRUCTION, 1},
                 {"location", AN_BY_LOCATION, 5},
                 {"line", AN_BY_LINE, 2},
                 {"function", AN_BY_FUNCTION, 3},
                 {"file", AN_BY_FILE, 1},
                 {"thread", AN_BY_THREAD, 2},
                 {"process", AN_BY_PROCESS, 2},
                 {"site", AN_BY_SITE, 7}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        enum an_by by;
        cr_assert_eq(an_by_parse(cases[i].name, &by), 0, "%s", cases[i].name);
        cr_expect_eq(by, cases[i].by);
        cr_expect_eq(an_view_get(by)->nfields, cases[i].nfields);
    }
    enum an_by by;
    cr_expect_eq(an_by_parse("location_fn", &by), -1, "internal views are not --by values");
    cr_expect_eq(an_by_parse("Instruction", &by), -1);
}

/* ---- counts per file (an_dataset.per_thread = 0) ------------------------------ */

static int
load_into(struct an_dataset *d, int per_thread, const char *name, char *err, size_t errlen)
{
    d->per_thread = per_thread;
    return an_dataset_load(d, tu_path(name), err, errlen);
}

Test(aggregate, counts_per_file_give_the_rows_and_totals_of_counts_per_thread)
{
    write_basic("a.hops", 1);
    write_basic("b.hops", 1);
    struct an_dataset pf;
    an_dataset_init(&pf);
    char err[256] = "";
    cr_assert_eq(load_into(&ds, 1, "a.hops", err, sizeof err), 0, "%s", err);
    cr_assert_eq(load_into(&ds, 1, "b.hops", err, sizeof err), 0, "%s", err);
    cr_assert_eq(load_into(&pf, 0, "a.hops", err, sizeof err), 0, "%s", err);
    cr_assert_eq(load_into(&pf, 0, "b.hops", err, sizeof err), 0, "%s", err);
    cr_expect_not(pf.files[0].per_thread);
    cr_expect_null(pf.threads[0].counts);
    cr_assert_eq(pf.nthreads, ds.nthreads);
    for (size_t t = 0; t < ds.nthreads; t++)
        cr_expect_eq(pf.threads[t].total, ds.threads[t].total);
    struct an_filter dflt;
    an_filter_init(&dflt);
    const struct an_filter *filters[] = {&all, &dflt};
    const enum an_by bys[] = {AN_BY_INSTRUCTION, AN_BY_LOCATION, AN_BY_LINE,
                              AN_BY_FUNCTION,    AN_BY_FILE,     AN_BY_SITE};
    for (size_t fi = 0; fi < 2; fi++) {
        for (size_t b = 0; b < sizeof bys / sizeof *bys; b++) {
            for (size_t first = 0; first < 2; first++) {
                struct an_rows r1, r2;
                an_rows_init(&r1);
                an_rows_init(&r2);
                an_aggregate_files(&ds, filters[fi], bys[b], first, 1, &r1);
                an_aggregate_files(&pf, filters[fi], bys[b], first, 1, &r2);
                an_rows_sort(&r1, &ds.strs);
                an_rows_sort(&r2, &pf.strs);
                cr_assert_eq(r1.n, r2.n);
                cr_expect_eq(r1.tracked, r2.tracked);
                cr_expect_eq(r1.total, r2.total);
                for (size_t i = 0; i < r1.n; i++) {
                    cr_expect_eq(r1.rows[i].count, r2.rows[i].count);
                    const struct an_view *v = an_view_get(bys[b]);
                    for (unsigned f = 0; f < v->nfields; f++) {
                        int64_t x = r1.rows[i].f[f], y = r2.rows[i].f[f];
                        if (an_field_get(v->fields[f])->kind == AN_FK_STR)
                            cr_expect_str_eq(an_strtab_get(&ds.strs, (uint32_t)x),
                                             an_strtab_get(&pf.strs, (uint32_t)y));
                        else
                            cr_expect_eq(x, y);
                    }
                }
                an_rows_release(&r1);
                an_rows_release(&r2);
            }
        }
    }
    an_filter_release(&dflt);
    an_dataset_release(&pf);
}

Test(aggregate, counts_per_file_still_detect_one_thread_overflowing)
{
    hops_writer *w = tu_open(tu_path("o.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 1, a, UINT64_MAX);
    tu_count(w, 1, a, 2);
    tu_finish(w);
    char err[256] = "";
    cr_expect_eq(load_into(&ds, 0, "o.hops", err, sizeof err), -1);
    cr_expect_str_eq(err, "corrupt data");
}

Test(aggregate, counts_per_file_saturate_a_sum_over_threads)
{
    /* The file's sum overflows, no thread's does: loaded again per thread. */
    hops_writer *w = tu_open(tu_path("s.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 1, a, UINT64_MAX - 1);
    tu_count(w, 2, a, 5);
    tu_finish(w);
    char err[256] = "";
    cr_assert_eq(load_into(&ds, 0, "s.hops", err, sizeof err), 0, "%s", err);
    cr_expect_eq(ds.nfiles, 1);
    cr_expect_eq(ds.nthreads, 2);
    cr_expect(ds.files[0].per_thread);
    cr_expect_eq(ds.threads[0].total, UINT64_MAX - 1);
    cr_expect_eq(ds.threads[1].total, 5);
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, &all, AN_BY_INSTRUCTION, &r);
    cr_assert_eq(r.n, 1);
    cr_expect_eq(r.rows[0].count, UINT64_MAX);
    cr_expect_eq(r.total, UINT64_MAX);
    an_rows_release(&r);
}

Test(aggregate, a_thread_total_saturates)
{
    hops_writer *w = tu_open(tu_path("t.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    uint32_t b = tu_site(w, "a.py", "g", 5, 6, 0, "BUILD_LIST");
    tu_count(w, 1, a, UINT64_MAX - 1);
    tu_count(w, 1, b, 5);
    tu_count(w, 1, b, 0);
    tu_finish(w);
    for (int per_thread = 0; per_thread < 2; per_thread++) {
        char err[256] = "";
        an_dataset_release(&ds);
        cr_assert_eq(load_into(&ds, per_thread, "t.hops", err, sizeof err), 0, "%s", err);
        cr_expect_eq(ds.threads[0].total, UINT64_MAX);
    }
}

Test(aggregate, a_reused_thread_id_with_another_native_id_is_another_thread)
{
    hops_writer *w = tu_open(tu_path("u.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    hops_thread t1 = {5, 100, "first"}, t2 = {5, 200, "second"};
    cr_assert_eq(hops_writer_add_thread(w, &t1), 0);
    tu_count(w, 5, a, 3);
    cr_assert_eq(hops_writer_add_thread(w, &t2), 0);
    tu_count(w, 5, a, 4);
    tu_finish(w);
    for (int per_thread = 0; per_thread < 2; per_thread++) {
        char err[256] = "";
        an_dataset_release(&ds);
        cr_assert_eq(load_into(&ds, per_thread, "u.hops", err, sizeof err), 0, "%s", err);
        cr_assert_eq(ds.nthreads, 2);
        cr_expect_str_eq(S(ds.threads[0].name), "first");
        cr_expect_eq(ds.threads[0].total, 3);
        cr_expect_str_eq(S(ds.threads[1].name), "second");
        cr_expect_eq(ds.threads[1].total, 4);
    }
}

Test(aggregate, a_pipe_is_loaded_with_counts_per_thread)
{
    /* A pipe cannot be read a second time, should a count overflow. */
    write_basic("a.hops", 1);
    size_t len;
    char *data = tu_slurp(tu_path("a.hops"), &len);
    cr_assert_not_null(data);
    cr_assert_leq(len, 65536, "fits the pipe buffer");
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    cr_assert_eq(write(pfd[1], data, len), (ssize_t)len);
    close(pfd[1]);
    char dev[64], err[256] = "";
    snprintf(dev, sizeof dev, "/dev/fd/%d", pfd[0]);
    ds.per_thread = 0;
    cr_assert_eq(an_dataset_load(&ds, dev, err, sizeof err), 0, "%s", err);
    cr_expect(ds.files[0].per_thread);
    cr_expect_eq(ds.threads[0].total, 1151);
    close(pfd[0]);
    free(data);
}

/* ---- sorting only the rows shown -------------------------------------------- */

Test(aggregate, sort_top_puts_first_the_rows_a_full_sort_puts_first)
{
    const char *files[] = {"b.py", "a.py", "c.py"};
    uint32_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = an_strtab_intern(&ds.strs, files[i]);
    uint64_t x = 12345;
    for (int round = 0; round < 20; round++) {
        struct an_rows full;
        an_rows_init(&full);
        full.by = AN_BY_LINE;
        full.n = (size_t)(round * 7 % 40);
        full.rows = calloc(full.n ? full.n : 1, sizeof *full.rows);
        full.cap = full.n;
        for (size_t i = 0; i < full.n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Few values: equal counts, and equal keys too (ties by position). */
            full.rows[i].count = x % 4;
            full.rows[i].f[0] = ids[(x >> 8) % 3];
            full.rows[i].f[1] = (int64_t)((x >> 16) % 3) - 1;
            full.rows[i].f[2] = (int64_t)i; /* not a key field: tells rows apart */
        }
        for (size_t top = 0; top <= full.n + 1; top++) {
            struct an_rows part = full;
            part.rows = malloc((full.n ? full.n : 1) * sizeof *part.rows);
            memcpy(part.rows, full.rows, full.n * sizeof *part.rows);
            struct an_rows sorted = full;
            sorted.rows = malloc((full.n ? full.n : 1) * sizeof *sorted.rows);
            memcpy(sorted.rows, full.rows, full.n * sizeof *sorted.rows);
            an_rows_sort(&sorted, &ds.strs);
            an_rows_sort_top(&part, &ds.strs, top);
            size_t shown = top && top < full.n ? top : full.n;
            cr_assert_eq(part.n, full.n);
            for (size_t i = 0; i < shown; i++)
                cr_assert_eq(part.rows[i].f[2], sorted.rows[i].f[2], "round %d top %zu row %zu",
                             round, top, i);
            uint64_t seen = 0; /* the rest: the other rows, each once */
            for (size_t i = 0; i < full.n; i++)
                seen += (uint64_t)part.rows[i].f[2];
            cr_assert_eq(seen, full.n * (full.n - (full.n > 0)) / 2);
            free(part.rows);
            free(sorted.rows);
        }
        free(full.rows);
    }
}

static int
cmp_u32_mod(const void *a, const void *b, void *ctx)
{
    const uint32_t *keys = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (keys[x] != keys[y])
        return keys[x] < keys[y] ? -1 : 1;
    return x < y ? -1 : x > y; /* a total order */
}

Test(aggregate, sort_top_idx_selects_the_first_indices_in_order)
{
    uint32_t keys[50], idx[50];
    for (uint32_t i = 0; i < 50; i++)
        keys[i] = (i * 37) % 11;
    for (size_t top = 0; top <= 51; top++) {
        for (uint32_t i = 0; i < 50; i++)
            idx[i] = 49 - i;
        an_sort_top_idx(idx, 50, top, cmp_u32_mod, keys);
        size_t shown = top && top < 50 ? top : 50;
        uint32_t prev_key = 0, prev = 0;
        for (size_t i = 0; i < shown; i++) {
            if (i)
                cr_assert(keys[idx[i]] > prev_key || (keys[idx[i]] == prev_key && idx[i] > prev));
            prev_key = keys[idx[i]];
            prev = idx[i];
        }
        /* Nothing left out sorts before the last one shown. */
        for (size_t i = shown; i < 50; i++)
            cr_assert(cmp_u32_mod(&idx[i], &idx[shown - 1], keys) > 0);
    }
}

Test(aggregate, counts_past_32_bits_add_up_exactly)
{
    /* Loading keeps 32 bits per count and carries the rest: carries, large
     * counts, and keys declared after the first carry. */
    hops_writer *w = tu_open(tu_path("c.hops"), 1);
    uint32_t a = tu_site(w, "a.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 1, a, 0xFFFFFFFFull);
    tu_count(w, 1, a, 1);
    tu_count(w, 2, a, 0xFFFFFFFFull);
    uint32_t b = tu_site(w, "a.py", "g", 5, 6, 0, "BUILD_TUPLE");
    tu_count(w, 1, b, (1ull << 33) + 7);
    tu_count(w, 2, a, 3ull << 32);
    tu_count(w, 2, b, UINT64_MAX - (1ull << 33) - 7);
    tu_finish(w);
    for (int per_thread = 0; per_thread < 2; per_thread++) {
        char err[256] = "";
        an_dataset_release(&ds);
        cr_assert_eq(load_into(&ds, per_thread, "c.hops", err, sizeof err), 0, "%s", err);
        struct an_rows r;
        an_rows_init(&r);
        an_aggregate(&ds, &all, AN_BY_INSTRUCTION, &r);
        cr_assert_eq(r.n, 2);
        cr_expect_str_eq(S(r.rows[0].f[0]), "BUILD_TUPLE");
        cr_expect_eq(r.rows[0].count, UINT64_MAX);
        cr_expect_eq(r.rows[1].count, (1ull << 32) + 0xFFFFFFFFull + (3ull << 32));
        cr_expect_eq(ds.threads[0].total, (1ull << 32) + (1ull << 33) + 7);
        an_rows_release(&r);
    }
}

Test(aggregate, a_frame_naming_an_undeclared_site_is_corrupt)
{
    /* The reader leaves raw records to the loader, which must check them:
     * declare 3 sites, count the third, then edit CODE to declare 2. */
    hops_writer *w = tu_open(tu_path("u.hops"), 1);
    const char *ops[] = {"BUILD_LIST", "BUILD_LIST", "BUILD_LIST"};
    int lines[] = {2, 3, 4};
    uint32_t s = tu_code(w, "a.py", "f", 1, 3, ops, lines, NULL, NULL);
    tu_count(w, 1, s + 2, 5);
    tu_finish(w);
    size_t len;
    char *data = tu_slurp(tu_path("u.hops"), &len);
    cr_assert_not_null(data);
    uint8_t *b = (uint8_t *)data;
    size_t off = 16; /* file header; then chunks of id, crc, length, payload */
    while (off + 16 <= len && memcmp(b + off, "CODE", 4) != 0)
        off += 16 + (size_t)hops_read_le64(b + off + 8);
    cr_assert_leq(off + 16, len);
    hops_write_le32(b + off + 16 + 4, 2); /* n_sites */
    uint32_t crc = hops_crc32c(0, b + off, 4);
    crc = hops_crc32c(crc, b + off + 8, 8);
    crc = hops_crc32c(crc, b + off + 16, (size_t)hops_read_le64(b + off + 8));
    hops_write_le32(b + off + 4, crc);
    for (int per_thread = 0; per_thread < 2; per_thread++) {
        char err[256] = "";
        an_dataset_release(&ds);
        ds.per_thread = per_thread;
        cr_expect_eq(an_dataset_load_mem(&ds, "u.hops", data, len, err, sizeof err), -1);
        cr_expect_str_eq(err, "corrupt data");
    }
    free(data);
}

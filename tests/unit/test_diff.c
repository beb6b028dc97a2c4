/*
 * test_diff.c - cmd_diff.c: matching rows across two recordings (also when
 * functions moved), the n-th site rule, percent/new/gone, sorting, summary
 * and the CSV/JSON fields.
 */
#include "an_testutil.h"

static void
setup(void)
{
    tu_mkdir();
}

static void
teardown(void)
{
    tu_rmdir();
}

TestSuite(diff, .init = setup, .fini = teardown);

/* A recording of one function `f` defined at line `def`, with BUILD_LIST at
 * def+2 columns 4 and 20 (counts c1, c2) and BUILD_MAP at def+3 (c3); an
 * unrelated function g stays at line 100. */
static void
write_f(const char *name, int def, int col_shift, uint64_t c1, uint64_t c2, uint64_t c3)
{
    hops_writer *w = tu_open(tu_path(name), 1);
    tu_thread(w, 1, "MainThread");
    const char *ops[] = {"BUILD_LIST", "BUILD_LIST", "BUILD_MAP"};
    int lines[] = {def + 2, def + 2, def + 3};
    int cols[] = {4 + col_shift, 20 + col_shift, 4};
    uint32_t offs[] = {10, 20, 30};
    uint32_t s = tu_code(w, "app.py", "f", def, 3, ops, lines, cols, offs);
    uint32_t g = tu_site(w, "app.py", "g", 100, 101, 4, "BUILD_TUPLE");
    if (c1)
        tu_count(w, 1, s, c1);
    if (c2)
        tu_count(w, 1, s + 1, c2);
    if (c3)
        tu_count(w, 1, s + 2, c3);
    tu_count(w, 1, g, 40);
    tu_finish(w);
}

Test(diff, identical_recordings_have_zero_deltas)
{
    write_f("a.hops", 10, 0, 100, 7, 5);
    struct tu_run r = tu_run("diff", tu_path("a.hops"), tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before: 152 total, 152 tracked; after: 152 total, 152 tracked\n"
                            "\n"
                            "BEFORE | AFTER | DELTA | CHANGE | LOCATION\n"
                            "-------+-------+-------+--------+---------------------------\n"
                            "   100 |   100 |     0 |   0.0% | app.py:12:5 f BUILD_LIST\n"
                            "     7 |     7 |     0 |   0.0% | app.py:12:21 f BUILD_LIST\n"
                            "     5 |     5 |     0 |   0.0% | app.py:13:5 f BUILD_MAP\n"
                            "    40 |    40 |     0 |   0.0% | app.py:101:5 g BUILD_TUPLE\n");
    cr_expect_str_eq(r.err, "");
    tu_run_free(&r);
}

Test(diff, a_function_moved_down_still_matches)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 20, 0, 50, 7, 5);
    struct tu_run r = tu_run("diff", tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before: 152 total, 152 tracked; after: 102 total, 102 tracked\n"
                            "\n"
                            "BEFORE | AFTER | DELTA | CHANGE | LOCATION\n"
                            "-------+-------+-------+--------+---------------------------\n"
                            "   100 |    50 |   -50 | -50.0% | app.py:22:5 f BUILD_LIST\n"
                            "     7 |     7 |     0 |   0.0% | app.py:22:21 f BUILD_LIST\n"
                            "     5 |     5 |     0 |   0.0% | app.py:23:5 f BUILD_MAP\n"
                            "    40 |    40 |     0 |   0.0% | app.py:101:5 g BUILD_TUPLE\n");
    tu_run_free(&r);
}

Test(diff, nth_site_matches_when_columns_shift)
{
    /* Both BUILD_LISTs share (file, f, BUILD_LIST, relative line 2); the one
     * further left is the first in both files even though columns changed. */
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 10, 3, 100, 9, 5);
    struct tu_run r =
        tu_run("diff", "--format", "csv", tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before,after,delta,percent,file,line,column,function,instruction\n"
                            "7,9,2,28.57,app.py,12,24,f,BUILD_LIST\n"
                            "100,100,0,0.00,app.py,12,8,f,BUILD_LIST\n"
                            "5,5,0,0.00,app.py,13,5,f,BUILD_MAP\n"
                            "40,40,0,0.00,app.py,101,5,g,BUILD_TUPLE\n");
    tu_run_free(&r);
}

Test(diff, nth_counts_sites_that_never_ran)
{
    /* before ran only the first BUILD_LIST of line def+2, after only the
     * second: numbering the declared sites keeps them apart. */
    write_f("before.hops", 10, 0, 100, 0, 5);
    write_f("after.hops", 30, 0, 0, 300, 5);
    struct tu_run r = tu_run("diff", tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before: 145 total, 145 tracked; after: 345 total, 345 tracked\n"
                            "\n"
                            "BEFORE | AFTER | DELTA | CHANGE | LOCATION\n"
                            "-------+-------+-------+--------+---------------------------\n"
                            "     0 |   300 |  +300 |    new | app.py:32:21 f BUILD_LIST\n"
                            "   100 |     0 |  -100 |   gone | app.py:32:5 f BUILD_LIST\n"
                            "     5 |     5 |     0 |   0.0% | app.py:33:5 f BUILD_MAP\n"
                            "    40 |    40 |     0 |   0.0% | app.py:101:5 g BUILD_TUPLE\n");
    tu_run_free(&r);
}

Test(diff, change_column_says_new_and_gone)
{
    hops_writer *w = tu_open(tu_path("b.hops"), 1);
    uint32_t a = tu_site(w, "x.py", "old", 1, 2, 0, "BUILD_LIST");
    uint32_t k = tu_site(w, "x.py", "kept", 5, 6, 0, "BUILD_LIST");
    tu_count(w, 1, a, 10);
    tu_count(w, 1, k, 8);
    tu_finish(w);
    w = tu_open(tu_path("a.hops"), 1);
    uint32_t n = tu_site(w, "x.py", "new", 1, 2, 0, "BUILD_LIST");
    k = tu_site(w, "x.py", "kept", 5, 6, 0, "BUILD_LIST");
    tu_count(w, 1, n, 1000);
    tu_count(w, 1, k, 9);
    tu_finish(w);
    struct tu_run r = tu_run("diff", tu_path("b.hops"), tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before: 18 total, 18 tracked; after: 1,009 total, 1,009 tracked\n"
                            "\n"
                            "BEFORE | AFTER |  DELTA | CHANGE | LOCATION\n"
                            "-------+-------+--------+--------+-------------------------\n"
                            "     0 | 1,000 | +1,000 |    new | x.py:2:1 new BUILD_LIST\n"
                            "    10 |     0 |    -10 |   gone | x.py:2:1 old BUILD_LIST\n"
                            "     8 |     9 |     +1 | +12.5% | x.py:6:1 kept BUILD_LIST\n");
    tu_run_free(&r);

    r = tu_run("diff", "--format", "json", tu_path("b.hops"), tu_path("a.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out,
                     "{\n"
                     "  \"before\": {\"tracked\": 18, \"total\": 18},\n"
                     "  \"after\": {\"tracked\": 1009, \"total\": 1009},\n"
                     "  \"rows\": [\n"
                     "    {\"before\": 0, \"after\": 1000, \"delta\": 1000, \"percent\": null, "
                     "\"file\": \"x.py\", \"line\": 2, \"column\": 1, \"function\": \"new\", "
                     "\"instruction\": \"BUILD_LIST\"},\n"
                     "    {\"before\": 10, \"after\": 0, \"delta\": -10, \"percent\": -100.00, "
                     "\"file\": \"x.py\", \"line\": 2, \"column\": 1, \"function\": \"old\", "
                     "\"instruction\": \"BUILD_LIST\"},\n"
                     "    {\"before\": 8, \"after\": 9, \"delta\": 1, \"percent\": 12.50, "
                     "\"file\": \"x.py\", \"line\": 6, \"column\": 1, \"function\": \"kept\", "
                     "\"instruction\": \"BUILD_LIST\"}\n"
                     "  ]\n"
                     "}\n");
    tu_run_free(&r);
}

Test(diff, function_view_matches_moved_functions)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 50, 0, 10, 7, 5);
    struct tu_run r = tu_run("diff", "--by", "function", "--format", "csv", tu_path("before.hops"),
                             tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before,after,delta,percent,file,function,firstlineno\n"
                            "112,22,-90,-80.36,app.py,f,50\n"
                            "40,40,0,0.00,app.py,g,100\n");
    tu_run_free(&r);
}

Test(diff, site_view_matches_moved_functions)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 50, 0, 10, 7, 5);
    struct tu_run r = tu_run("diff", "--by", "site", "--format", "csv", "--top", "1",
                             tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out,
                     "before,after,delta,percent,file,function,firstlineno,offset,line,column,"
                     "instruction\n"
                     "100,10,-90,-90.00,app.py,f,50,10,52,5,BUILD_LIST\n");
    tu_run_free(&r);
}

Test(diff, line_view_matches_literally)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 20, 0, 100, 7, 5);
    struct tu_run r = tu_run("diff", "--by", "line", "--format", "csv", "--top", "0",
                             tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before,after,delta,percent,file,line\n"
                            "107,0,-107,-100.00,app.py,12\n"
                            "0,107,107,,app.py,22\n"
                            "5,0,-5,-100.00,app.py,13\n"
                            "0,5,5,,app.py,23\n"
                            "40,40,0,0.00,app.py,101\n");
    tu_run_free(&r);
}

Test(diff, thread_view_matches_by_name)
{
    hops_writer *w = tu_open(tu_path("b.hops"), 1);
    uint32_t a = tu_site(w, "x.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_thread(w, 111, "MainThread");
    tu_count(w, 111, a, 10);
    tu_finish(w);
    w = tu_open(tu_path("a.hops"), 1);
    a = tu_site(w, "x.py", "f", 1, 2, 0, "BUILD_LIST");
    tu_thread(w, 222, "MainThread");
    tu_count(w, 222, a, 15);
    tu_finish(w);
    struct tu_run r =
        tu_run("diff", "--by", "thread", "--format", "csv", tu_path("b.hops"), tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before,after,delta,percent,thread_name\n"
                            "10,15,5,50.00,MainThread\n");
    tu_run_free(&r);
}

Test(diff, filters_top_and_min_count_apply)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    write_f("after.hops", 10, 0, 50, 7, 5);
    struct tu_run r = tu_run("diff", "-i", "BUILD_LIST", "--min-count", "8", "--format", "csv",
                             tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "before,after,delta,percent,file,line,column,function,instruction\n"
                            "100,50,-50,-50.00,app.py,12,5,f,BUILD_LIST\n");
    tu_run_free(&r);
    r = tu_run("diff", "--top", "1", tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect(strstr(r.out, "\xe2\x80\xa6 3 more rows (--top 0 shows all)\n"), "%s", r.out);
    tu_run_free(&r);
}

Test(diff, summary_omits_unknown_totals)
{
    write_f("before.hops", 10, 0, 100, 7, 5);
    hops_writer *w = tu_open(tu_path("after.hops"), 0);
    uint32_t a = tu_site(w, "app.py", "f", 10, 12, 4, "BUILD_LIST");
    tu_count(w, 1, a, 3);
    tu_finish(w);
    struct tu_run r = tu_run("diff", tu_path("before.hops"), tu_path("after.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect(strncmp(r.out, "before: 152 total, 152 tracked; after: 3 tracked\n", 49) == 0, "%s",
              r.out);
    tu_run_free(&r);
    r = tu_run("diff", "--format", "json", tu_path("before.hops"), tu_path("after.hops"));
    cr_expect(strstr(r.out, "\"after\": {\"tracked\": 3, \"total\": null}"), "%s", r.out);
    tu_run_free(&r);
}

Test(diff, needs_exactly_two_files)
{
    write_f("a.hops", 10, 0, 1, 1, 1);
    struct tu_run r = tu_run("diff", tu_path("a.hops"));
    cr_expect_eq(r.rc, 2);
    cr_expect_str_eq(r.out, "");
    cr_expect(strstr(r.err, "diff needs exactly two files"), "%s", r.err);
    tu_run_free(&r);
    r = tu_run("diff", tu_path("a.hops"), tu_path("a.hops"), tu_path("a.hops"));
    cr_expect_eq(r.rc, 2);
    tu_run_free(&r);
}

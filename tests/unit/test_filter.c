/*
 * test_filter.c - filter.c on its own, and each filter (alone and combined)
 * through aggregation of a real recording.
 */
#include "an_testutil.h"

#include "aggregate.h"
#include "filter.h"

#define LIST(field, ...)                                                                           \
    do {                                                                                           \
        static const char *v_[] = {__VA_ARGS__};                                                   \
        f.field = v_;                                                                              \
        f.n_##field = sizeof v_ / sizeof *v_;                                                      \
    } while (0)

Test(filter, default_instruction_set_is_the_allocating_ones)
{
    struct an_filter f;
    an_filter_init(&f);
    const char *in[] = {"MAKE_FUNCTION", "BUILD_TUPLE", "BUILD_LIST",
                        "BUILD_SET",     "BUILD_MAP",   "LOAD_DEREF"};
    for (size_t i = 0; i < 6; i++)
        cr_expect(an_filter_instruction(&f, in[i]), "%s", in[i]);
    cr_expect_not(an_filter_instruction(&f, "LOAD_FAST"));
    cr_expect_not(an_filter_instruction(&f, "BUILD_STRING"));
    cr_expect_not(an_filter_instruction(&f, "build_list"), "the default set is exact");
}

Test(filter, instruction_globs_are_case_insensitive_and_replace_the_default)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(instructions, "load_*");
    cr_expect(an_filter_instruction(&f, "LOAD_FAST"));
    cr_expect(an_filter_instruction(&f, "LOAD_DEREF"));
    cr_expect_not(an_filter_instruction(&f, "BUILD_LIST"), "-i replaces the default set");
    LIST(instructions, "BUILD_LIST", "CALL");
    cr_expect(an_filter_instruction(&f, "BUILD_LIST"));
    cr_expect(an_filter_instruction(&f, "CALL"));
    cr_expect_not(an_filter_instruction(&f, "CALL_KW"), "a name without * is exact");
    LIST(instructions, "*");
    cr_expect(an_filter_instruction(&f, "NOP"));
}

Test(filter, instruction_comma_lists_are_several_patterns)
{
    struct an_filter f;
    an_filter_init(&f);
    char arg[] = "build_tuple,LOAD_*";
    cr_assert_eq(an_filter_add_instructions(&f, arg), 0);
    cr_assert_eq(an_filter_add_instructions(&f, "CALL"), 0);
    arg[5] = 'X'; /* the pieces are copies: argv may change afterwards */
    cr_expect_eq(f.n_instructions, 3);
    cr_expect(an_filter_instruction(&f, "BUILD_TUPLE"));
    cr_expect(an_filter_instruction(&f, "LOAD_DEREF"));
    cr_expect(an_filter_instruction(&f, "CALL"));
    cr_expect_not(an_filter_instruction(&f, "BUILD_LIST"));
    const char *empty[] = {"", ",", "A,", ",A", "A,,B"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        cr_expect_eq(an_filter_add_instructions(&f, empty[i]), -1, "'%s'", empty[i]);
    an_filter_release(&f); /* frees the copies (ASan checks) */
}

Test(filter, file_glob_matches_full_path_or_base_name)
{
    struct an_filter f;
    an_filter_init(&f);
    cr_expect(an_filter_file(&f, "/any/where.py"), "no -f: every file");
    LIST(files, "app.py");
    cr_expect(an_filter_file(&f, "/srv/x/app.py"), "base name");
    cr_expect(an_filter_file(&f, "app.py"));
    cr_expect_not(an_filter_file(&f, "/srv/x/myapp.py"));
    LIST(files, "*/lib/*");
    cr_expect(an_filter_file(&f, "/usr/lib/python3.12/json/decoder.py"),
              "'*' crosses '/' in a full-path pattern");
    cr_expect_not(an_filter_file(&f, "/srv/app.py"));
    LIST(files, "/srv/*.py");
    cr_expect_not(an_filter_file(&f, "app.py"), "a pattern with '/' never matches a base name");
    cr_expect(an_filter_file(&f, "/srv/app.py"));
    LIST(files, "test_*.py");
    cr_expect(an_filter_file(&f, "/repo/tests/test_x.py"));
    cr_expect_not(an_filter_file(&f, "/repo/test_dir/x.py"),
                  "the base-name match uses the last component only");
}

Test(filter, function_glob_matches_the_qualname)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(functions, "Parser.*");
    cr_expect(an_filter_function(&f, "Parser.parse"));
    cr_expect(an_filter_function(&f, "Parser.parse.<locals>.helper"));
    cr_expect_not(an_filter_function(&f, "parse"));
    LIST(functions, "main");
    cr_expect(an_filter_function(&f, "main"));
    cr_expect_not(an_filter_function(&f, "main.<locals>.f"));
}

Test(filter, thread_matches_id_native_id_or_name)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(threads, "140001");
    cr_expect(an_filter_thread(&f, 140001, 5, "MainThread"));
    cr_expect_not(an_filter_thread(&f, 140002, 5, "MainThread"));
    LIST(threads, "5");
    cr_expect(an_filter_thread(&f, 140001, 5, "x"), "native id");
    cr_expect_not(an_filter_thread(&f, 140001, 0, "x"), "0 means no native id");
    LIST(threads, "Worker-*", "MainThread");
    cr_expect(an_filter_thread(&f, 1, 0, "Worker-3"));
    cr_expect(an_filter_thread(&f, 2, 0, "MainThread"));
    cr_expect_not(an_filter_thread(&f, 3, 0, "Reader"));
    LIST(threads, "12abc");
    cr_expect(an_filter_thread(&f, 12, 0, "12abc"), "not a number: a name");
    cr_expect_not(an_filter_thread(&f, 12, 0, "other"));
}

/* ---- through aggregation ----------------------------------------------------- */

static struct an_dataset ds;

static void
setup(void)
{
    tu_mkdir();
    an_dataset_init(&ds);
    hops_writer *w = tu_open(tu_path("f.hops"), 1);
    tu_thread(w, 1, "MainThread");
    tu_thread(w, 2, "Worker-1");
    uint32_t a = tu_site(w, "/srv/app.py", "main", 1, 2, 0, "BUILD_LIST");
    uint32_t b = tu_site(w, "/srv/app.py", "main", 1, 3, 0, "LOAD_FAST");
    uint32_t c = tu_site(w, "/srv/lib/util.py", "Cache.get", 10, 12, 4, "BUILD_TUPLE");
    uint32_t d = tu_site(w, "/srv/lib/util.py", "helper", 20, 21, 4, "BUILD_LIST");
    tu_count(w, 1, a, 1);
    tu_count(w, 1, b, 10);
    tu_count(w, 1, c, 100);
    tu_count(w, 2, d, 1000);
    tu_count(w, 2, a, 10000);
    tu_finish(w);
    char err[256];
    cr_assert_eq(an_dataset_load(&ds, tu_path("f.hops"), err, sizeof err), 0, "%s", err);
}

static void
teardown(void)
{
    an_dataset_release(&ds);
    tu_rmdir();
}

static uint64_t
tracked(const struct an_filter *f, enum an_by by, size_t *nrows)
{
    struct an_rows r;
    an_rows_init(&r);
    an_aggregate(&ds, f, by, &r);
    uint64_t t = r.tracked, sum = 0;
    for (size_t i = 0; i < r.n; i++)
        sum += r.rows[i].count;
    if (!f->min_count)
        cr_expect_eq(sum, t, "rows add up to tracked");
    if (nrows)
        *nrows = r.n;
    an_rows_release(&r);
    return t;
}

Test(filter, default_set_applies_to_every_view, .init = setup, .fini = teardown)
{
    struct an_filter f;
    an_filter_init(&f);
    size_t n;
    cr_expect_eq(tracked(&f, AN_BY_FILE, &n), 11101);
    cr_expect_eq(n, 2);
    cr_expect_eq(tracked(&f, AN_BY_THREAD, &n), 11101);
    cr_expect_eq(n, 2);
}

Test(filter, each_filter_alone, .init = setup, .fini = teardown)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(instructions, "*");
    cr_expect_eq(tracked(&f, AN_BY_LOCATION, NULL), 11111);
    LIST(files, "util.py");
    cr_expect_eq(tracked(&f, AN_BY_LOCATION, NULL), 1100);
    an_filter_init(&f);
    LIST(instructions, "*");
    LIST(functions, "Cache.*");
    cr_expect_eq(tracked(&f, AN_BY_INSTRUCTION, NULL), 100);
    an_filter_init(&f);
    LIST(instructions, "*");
    LIST(threads, "Worker-*");
    cr_expect_eq(tracked(&f, AN_BY_FUNCTION, NULL), 11000);
    an_filter_init(&f);
    LIST(instructions, "*");
    f.min_count = 100;
    size_t n;
    tracked(&f, AN_BY_SITE, &n);
    cr_expect_eq(n, 3);
}

Test(filter, combined_filters_must_all_match, .init = setup, .fini = teardown)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(instructions, "BUILD_*");
    LIST(files, "/srv/*");
    LIST(threads, "1");
    cr_expect_eq(tracked(&f, AN_BY_LOCATION, NULL), 101);
    LIST(functions, "main", "helper");
    cr_expect_eq(tracked(&f, AN_BY_LOCATION, NULL), 1);
    LIST(threads, "1", "2");
    cr_expect_eq(tracked(&f, AN_BY_THREAD, NULL), 11001);
    f.min_count = 1001;
    size_t n;
    tracked(&f, AN_BY_THREAD, &n);
    cr_expect_eq(n, 1, "only Worker-1 reaches 1001");
}

Test(filter, a_filter_matching_nothing_gives_no_rows, .init = setup, .fini = teardown)
{
    struct an_filter f;
    an_filter_init(&f);
    LIST(instructions, "NO_SUCH_OP");
    size_t n = 99;
    cr_expect_eq(tracked(&f, AN_BY_LOCATION, &n), 0);
    cr_expect_eq(n, 0);
}

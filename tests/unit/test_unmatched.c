/*
 * test_unmatched.c - the warnings for filter patterns that match nothing
 * (analyzer/unmatched.c): which patterns get one, the names suggested for an
 * -i typo, what a tracked-set recording counted, and the edit distance.
 */
#include "an_testutil.h"

#include "unmatched.h"

TestSuite(unmatched, .init = tu_mkdir, .fini = tu_rmdir);

/* Two threads, two files, the opnames of a closure built in a loop. */
static void
write_rec(const char *name, int all_instructions)
{
    hops_writer *w = tu_open(tu_path(name), all_instructions);
    tu_thread(w, 140001, "MainThread");
    tu_thread(w, 140002, "worker");
    const char *ops[] = {"BUILD_LIST", "BUILD_TUPLE", "MAKE_FUNCTION", "LOAD_DEREF"};
    int lines[] = {12, 12, 13, 14};
    uint32_t s = tu_code(w, "/srv/app.py", "main", 10, 4, ops, lines, NULL, NULL);
    uint32_t h = tu_site(w, "/srv/lib.py", "Parser.helper", 3, 4, 0, "BUILD_MAP");
    tu_count(w, 140001, s + 0, 25);
    tu_count(w, 140001, s + 2, 10);
    tu_count(w, 140002, s + 3, 7);
    tu_count(w, 140002, h, 3);
    tu_finish(w);
}

Test(unmatched, patterns_that_match_get_no_warning)
{
    write_rec("a.hops", 1);
    struct tu_run r =
        tu_run("-i", "build_*", "-i", "LOAD_DEREF", "-f", "app.py", "-f", "/srv/*", "--function",
               "Parser.*", "--thread", "worker", "--thread", "140001", tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "");
    tu_run_free(&r);
}

Test(unmatched, each_pattern_that_matches_nothing_is_named_once)
{
    write_rec("a.hops", 1);
    struct tu_run r =
        tu_run("-i", "BUILD_LIST,build_tupel", "-i", "STORE_*", "-f", "nosuch.py", "-f", "app.py",
               "--function", "mian", "--function", "main", "--thread", "Worker", "--thread", "999",
               "--thread", "MainThread", tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(
        r.err,
        "heavyops-analyze: warning: -i 'build_tupel' matches no instruction in the recording; "
        "did you mean BUILD_TUPLE?\n"
        "heavyops-analyze: warning: -i 'STORE_*' matches no instruction in the recording\n"
        "heavyops-analyze: warning: -f 'nosuch.py' matches no file in the recording\n"
        "heavyops-analyze: warning: --function 'mian' matches no function in the recording\n"
        "heavyops-analyze: warning: --thread 'Worker' matches no thread in the recording\n"
        "heavyops-analyze: warning: --thread '999' matches no thread in the recording\n");
    /* the report is the same as without the patterns that match nothing */
    cr_expect(strstr(r.out, "25 | BUILD_LIST") != NULL, "%s", r.out);
    tu_run_free(&r);
}

Test(unmatched, suggestions_are_nearest_first_at_most_three)
{
    write_rec("a.hops", 1);
    /* BUILD_MAP is 1 away; BUILD_LIST and BUILD_TUPLE are farther than 2 */
    struct tu_run r = tu_run("-i", "BUILD_MAB", tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "heavyops-analyze: warning: -i 'BUILD_MAB' matches no instruction in "
                            "the recording; did you mean BUILD_MAP?\n");
    tu_run_free(&r);
    /* nothing near: no suggestion */
    r = tu_run("-i", "NOP", tu_path("a.hops"));
    cr_expect_str_eq(r.err, "heavyops-analyze: warning: -i 'NOP' matches no instruction in the "
                            "recording\n");
    tu_run_free(&r);
}

Test(unmatched, tracked_set_recording_says_what_it_counted)
{
    write_rec("t.hops", 0); /* tu_open: record -i BUILD_LIST -i BUILD_MAP */
    struct tu_run r = tu_run("-i", "RETURN_VALUE", tu_path("t.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    char want[1024];
    snprintf(want, sizeof want,
             "heavyops-analyze: warning: -i 'RETURN_VALUE' matches no instruction in the "
             "recording; %s counted only BUILD_LIST, BUILD_MAP (record -i)\n",
             tu_path("t.hops"));
    cr_expect_str_eq(r.err, want);
    tu_run_free(&r);
}

Test(unmatched, diff_checks_both_recordings)
{
    write_rec("a.hops", 1);
    write_rec("b.hops", 1);
    struct tu_run r = tu_run("diff", "-i", "BUILD_TUPLE", "-i", "BUILD_SETT", tu_path("a.hops"),
                             tu_path("b.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "heavyops-analyze: warning: -i 'BUILD_SETT' matches no instruction in "
                            "the recordings\n");
    tu_run_free(&r);
}

Test(unmatched, odd_bytes_in_a_pattern_are_escaped)
{
    write_rec("a.hops", 1);
    struct tu_run r = tu_run("-f", "bad\033name.py", tu_path("a.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_eq(tu_lines(r.err), 1, "%s", r.err);
    cr_expect(strchr(r.err, '\033') == NULL, "%s", r.err);
    tu_run_free(&r);
}

Test(unmatched, edit_distance)
{
    cr_expect_eq(an_edit_distance("BUILD_TUPLE", "BUILD_TUPLE", 2), 0);
    cr_expect_eq(an_edit_distance("build_tuple", "BUILD_TUPLE", 2), 0);
    cr_expect_eq(an_edit_distance("BUILD_TUPEL", "BUILD_TUPLE", 2), 1); /* a swap */
    cr_expect_eq(an_edit_distance("BUILD_TUPL", "BUILD_TUPLE", 2), 1);
    cr_expect_eq(an_edit_distance("BUILD_TUPLEE", "BUILD_TUPLE", 2), 1);
    cr_expect_eq(an_edit_distance("BUILD_TAPLX", "BUILD_TUPLE", 2), 2);
    cr_expect_eq(an_edit_distance("BUILD_MAP", "BUILD_TUPLE", 2), 3); /* over the limit */
    cr_expect_eq(an_edit_distance("NOP", "NOPE", 1), 1);
    cr_expect_eq(an_edit_distance("", "ab", 2), 2);
    cr_expect_eq(an_edit_distance("", "abc", 2), 3);
    cr_expect_eq(an_edit_distance("ab", "", 5), 2);
    cr_expect_eq(an_edit_distance("", "", 0), 0);
}

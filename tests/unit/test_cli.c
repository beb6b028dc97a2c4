/*
 * test_cli.c - the whole program through an_cli_run(): option parsing, exit
 * codes, error lines, the default report, and --help against
 * docs/heavyops-analyze.1.md (git's t0450).
 */
#include "an_testutil.h"

#include "cmd.h"
#include "opts.h"

#include <ctype.h>
#include <sys/stat.h>

#define TU_STR_(x) #x
#define TU_STR(x)  TU_STR_(x) /* a macro's value as a string */

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

TestSuite(cli, .init = setup, .fini = teardown);

/* The README example: a closure built in a loop. */
static void
write_app(const char *name, int all_instructions, int clean)
{
    hops_writer *w = tu_open(tu_path(name), all_instructions);
    tu_thread(w, 140001, "MainThread");
    tu_thread(w, 140002, "worker");
    const char *ops[] = {"BUILD_LIST", "LOAD_FAST", "MAKE_FUNCTION", "BUILD_LIST", "LOAD_DEREF"};
    int lines[] = {12, 12, 13, 13, 14};
    int cols[] = {8, 8, 4, 16, 11};
    uint32_t s = tu_code(w, "/srv/app.py", "main", 10, 5, ops, lines, cols, NULL);
    uint32_t h = tu_site(w, "/srv/lib.py", "helper", 3, 4, 0, "BUILD_TUPLE");
    tu_count(w, 140001, s + 0, 2500);
    tu_count(w, 140001, s + 1, 90000);
    tu_count(w, 140001, s + 2, 1000);
    tu_count(w, 140002, s + 2, 314);
    tu_count(w, 140002, s + 3, 0);
    tu_count(w, 140002, s + 4, 7);
    tu_count(w, 140002, h, 1234567);
    if (clean)
        tu_finish(w);
    else
        tu_abandon(w);
}

Test(cli, default_report_has_totals_and_two_tables)
{
    write_app("app.hops", 1, 1);
    struct tu_run r = tu_run(tu_path("app.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "1,238,388 / 1,328,388 tracked instructions\n"
                            "\n"
                            "    COUNT | INSTRUCTION\n"
                            "----------+--------------\n"
                            "1,234,567 | BUILD_TUPLE\n"
                            "    2,500 | BUILD_LIST\n"
                            "    1,314 | MAKE_FUNCTION\n"
                            "        7 | LOAD_DEREF\n"
                            "\n"
                            "    COUNT | LOCATION\n"
                            "----------+------------------------------------\n"
                            "1,234,567 | /srv/lib.py:4:1 helper BUILD_TUPLE\n"
                            "    2,500 | /srv/app.py:12:9 main BUILD_LIST\n"
                            "    1,314 | /srv/app.py:13:5 main MAKE_FUNCTION\n"
                            "        7 | /srv/app.py:14:12 main LOAD_DEREF\n");
    cr_expect_str_eq(r.err, "");
    tu_run_free(&r);
}

Test(cli, total_is_left_out_when_unknown)
{
    write_app("some.hops", 0, 1);
    struct tu_run r = tu_run(tu_path("some.hops"), "--by", "file");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "1,238,388 tracked instructions\n"
                            "\n"
                            "    COUNT | FILE\n"
                            "----------+------------\n"
                            "1,234,567 | /srv/lib.py\n"
                            "    3,821 | /srv/app.py\n");
    tu_run_free(&r);
    r = tu_run(tu_path("some.hops"), "--format", "json", "--by", "instruction", "--top", "1");
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "{\n"
                            "  \"tracked\": 1238388,\n"
                            "  \"total\": null,\n"
                            "  \"rows\": [\n"
                            "    {\"count\": 1234567, \"instruction\": \"BUILD_TUPLE\"}\n"
                            "  ]\n"
                            "}\n");
    tu_run_free(&r);
}

Test(cli, top_cuts_rows_and_says_how_many)
{
    write_app("app.hops", 1, 1);
    struct tu_run r = tu_run("--top", "1", "-i", "*", "--by", "instruction", tu_path("app.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "1,328,388 / 1,328,388 tracked instructions\n"
                            "\n"
                            "    COUNT | INSTRUCTION\n"
                            "----------+------------\n"
                            "1,234,567 | BUILD_TUPLE\n"
                            "\xe2\x80\xa6 4 more rows (--top 0 shows all)\n");
    tu_run_free(&r);
    r = tu_run("--top", "0", "-i", "*", "--by", "instruction", tu_path("app.hops"));
    cr_expect_eq(tu_lines(r.out), 4 + 5);
    tu_run_free(&r);
}

Test(cli, default_csv_and_json_carry_location_rows)
{
    write_app("app.hops", 1, 1);
    struct tu_run r = tu_run("--format", "csv", "--top", "2", tu_path("app.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "count,file,line,column,function,instruction\n"
                            "1234567,/srv/lib.py,4,1,helper,BUILD_TUPLE\n"
                            "2500,/srv/app.py,12,9,main,BUILD_LIST\n");
    tu_run_free(&r);
    r = tu_run("--format", "json", "--function", "nothing", tu_path("app.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "{\n  \"tracked\": 0,\n  \"total\": 1328388,\n  \"rows\": []\n}\n");
    tu_run_free(&r);
}

Test(cli, several_files_are_merged)
{
    write_app("a.hops", 1, 1);
    write_app("b.hops", 1, 1);
    struct tu_run r =
        tu_run(tu_path("a.hops"), tu_path("b.hops"), "--by", "instruction", "-i", "LOAD_DEREF");
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "14 / 2,656,776 tracked instructions\n"
                            "\n"
                            "COUNT | INSTRUCTION\n"
                            "------+------------\n"
                            "   14 | LOAD_DEREF\n");
    tu_run_free(&r);
}

Test(cli, option_forms_and_double_dash)
{
    write_app("app.hops", 1, 1);
    struct tu_run a = tu_run("-iLOAD_DEREF", "--by=line", "--format=csv", tu_path("app.hops"));
    struct tu_run b =
        tu_run("--", tu_path("app.hops"), "-i", "LOAD_DEREF", "--by", "line", "--format", "csv");
    cr_assert_eq(a.rc, 0, "%s", a.err);
    cr_expect_str_eq(a.out, "count,file,line\n7,/srv/app.py,14\n");
    cr_expect_eq(b.rc, 1, "after --, '-i' is a file name");
    cr_expect(strstr(b.err, "heavyops-analyze: -i: no such file or directory"), "%s", b.err);
    tu_run_free(&a);
    tu_run_free(&b);
}

Test(cli, odd_file_names_in_csv_and_json)
{
    hops_writer *w = tu_open(tu_path("odd.hops"), 1);
    const char *name = "dir,\"q\"\nx\x01\xc3\xa9\xff.py";
    uint32_t s = tu_site(w, name, "f", 1, 2, 0, "BUILD_LIST");
    tu_count(w, 1, s, 3);
    tu_finish(w);
    struct tu_run r = tu_run("--by", "file", "--format", "csv", tu_path("odd.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect_str_eq(r.out, "count,file\n3,\"dir,\"\"q\"\"\nx\x01\xc3\xa9\xff.py\"\n");
    tu_run_free(&r);
    r = tu_run("--by", "file", "--format", "json", tu_path("odd.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect(strstr(r.out, "{\"count\": 3, \"file\": \"dir,\\\"q\\\"\\u000ax\\u0001\xc3\xa9\\ufffd"
                            ".py\"}"),
              "%s", r.out);
    tu_run_free(&r);
    r = tu_run("--by", "file", tu_path("odd.hops"));
    cr_assert_eq(r.rc, 0);
    cr_expect(strstr(r.out, "    3 | dir,\"q\"\\nx\\x01\xc3\xa9\\xff.py\n"), "%s", r.out);
    tu_run_free(&r);
}

/* ---- errors ------------------------------------------------------------------ */

static void
expect_one_error_line(struct tu_run *r, const char *path, const char *reason)
{
    char want[1024];
    snprintf(want, sizeof want, "heavyops-analyze: %s: %s\n", path, reason);
    cr_expect_eq(r->rc, 1);
    cr_expect_str_eq(r->out, "", "nothing on stdout");
    cr_expect_str_eq(r->err, want);
}

Test(cli, missing_file_is_one_line_and_exit_1)
{
    const char *p = tu_path("nope.hops");
    struct tu_run r = tu_run(p);
    expect_one_error_line(&r, p, "no such file or directory");
    tu_run_free(&r);
}

Test(cli, directory_is_not_a_recording)
{
    struct tu_run r = tu_run(tu_dir);
    expect_one_error_line(&r, tu_dir, "is a directory");
    tu_run_free(&r);
}

Test(cli, empty_file_is_an_error)
{
    tu_write_bytes(tu_path("empty.hops"), "", 0);
    struct tu_run r = tu_run(tu_path("empty.hops"));
    expect_one_error_line(&r, tu_path("empty.hops"), hops_strerror(HOPS_E_EMPTY));
    tu_run_free(&r);
}

Test(cli, foreign_file_is_an_error)
{
    const char text[] = "#!/usr/bin/env python3\nprint('not a recording')\n";
    tu_write_bytes(tu_path("x.py"), text, sizeof text - 1);
    struct tu_run r = tu_run(tu_path("x.py"));
    expect_one_error_line(&r, tu_path("x.py"), hops_strerror(HOPS_E_BAD_MAGIC));
    tu_run_free(&r);
}

Test(cli, truncated_file_is_an_error)
{
    write_app("app.hops", 1, 1);
    size_t len;
    char *data = tu_slurp(tu_path("app.hops"), &len);
    cr_assert(len > 40);
    tu_write_bytes(tu_path("cut.hops"), data, len - 3); /* inside the END chunk */
    struct tu_run r = tu_run(tu_path("cut.hops"));
    expect_one_error_line(&r, tu_path("cut.hops"), hops_strerror(HOPS_E_TRUNCATED));
    tu_run_free(&r);
    tu_write_bytes(tu_path("hdr.hops"), data, 10); /* inside the header */
    r = tu_run(tu_path("hdr.hops"));
    expect_one_error_line(&r, tu_path("hdr.hops"), hops_strerror(HOPS_E_TRUNCATED));
    tu_run_free(&r);
    free(data);
}

Test(cli, corrupt_file_is_an_error_and_never_a_table)
{
    write_app("app.hops", 1, 1);
    size_t len;
    char *data = tu_slurp(tu_path("app.hops"), &len);
    /* Flip one byte at a time across the file: every variant must give either
     * a report or exactly one error line, never a crash or both. */
    for (size_t i = 0; i < len; i += 7) {
        data[i] ^= 0x5a;
        tu_write_bytes(tu_path("bad.hops"), data, len);
        data[i] ^= 0x5a;
        struct tu_run r = tu_run(tu_path("bad.hops"), "-i", "*");
        if (r.rc == 0) {
            cr_expect(strstr(r.out, "tracked instructions\n"), "byte %zu: %s", i, r.out);
        } else {
            cr_expect_eq(r.rc, 1, "byte %zu", i);
            cr_expect_str_eq(r.out, "", "byte %zu", i);
            cr_expect_eq(tu_lines(r.err), 1, "byte %zu: %s", i, r.err);
            cr_expect(strncmp(r.err, "heavyops-analyze: ", 18) == 0, "byte %zu", i);
        }
        tu_run_free(&r);
    }
    free(data);
}

Test(cli, a_bad_second_file_leaves_stdout_empty)
{
    write_app("good.hops", 1, 0); /* unclean: its warning must not appear either */
    tu_write_bytes(tu_path("bad.hops"), "HOPS", 4);
    struct tu_run r = tu_run(tu_path("good.hops"), tu_path("bad.hops"));
    cr_expect_eq(r.rc, 1);
    cr_expect_str_eq(r.out, "");
    cr_expect_eq(tu_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "bad.hops: "), "%s", r.err);
    tu_run_free(&r);
}

Test(cli, unclean_recording_warns_and_still_reports)
{
    write_app("killed.hops", 1, 0);
    struct tu_run r = tu_run(tu_path("killed.hops"), "--by", "instruction", "--top", "1");
    cr_assert_eq(r.rc, 0, "%s", r.err);
    char want[1024];
    snprintf(want, sizeof want,
             "heavyops-analyze: warning: %s: recording did not end cleanly (program killed or "
             "crashed?); counts are what was flushed\n",
             tu_path("killed.hops"));
    cr_expect_str_eq(r.err, want);
    cr_expect(strstr(r.out, "1,234,567 | BUILD_TUPLE\n"), "%s", r.out);
    tu_run_free(&r);
}

Test(cli, info_describes_the_recording)
{
    write_app("app.hops", 0, 1);
    struct tu_run r = tu_run("info", tu_path("app.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    const char *want[] = {
        "  format version:    " TU_STR(HOPS_FORMAT_MAJOR) "." TU_STR(HOPS_FORMAT_MINOR) "\n",
        "  python:            3.12.1\n",
        "  argv:              python3 app.py 'it'\\''s'\n",
        "  pid:               4242\n",
        "  start:             2023-11-14T22:13:20.123Z\n",
        "  duration:          2.000 s\n",
        "  mode:              tracked set: BUILD_LIST, BUILD_MAP\n",
        "  end:               clean, exit status 0\n",
        "  lost events:       0\n",
        "  threads:           2\n",
        "    140001 (native 141001) MainThread: 93,500 instructions\n",
        "    140002 (native 141002) worker: 1,234,888 instructions\n",
        "  code objects:      2\n",
        "  sites:             6\n",
        "  compression ratio: ",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(r.out, want[i]), "missing %s in:\n%s", want[i], r.out);
    tu_run_free(&r);
    write_app("killed.hops", 1, 0);
    r = tu_run("info", "--format", "json", tu_path("killed.hops"));
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"has_end\": false, \"clean\": false, \"exit_status\": null"), "%s",
              r.out);
    cr_expect(strstr(r.out, "\"duration_ns\": null"), "%s", r.out);
    cr_expect(strstr(r.out, "\"all_instructions\": true"), "%s", r.out);
    cr_expect(strstr(r.err, "did not end cleanly"));
    tu_run_free(&r);
}

Test(cli, info_quotes_argv_and_keeps_its_utf8)
{
    /* Found while seeding the analyzer's fuzz target: quoted words were
     * escaped a byte at a time, so 'café' showed as 'caf\xc3\xa9'. */
    struct an_dataset ds;
    an_dataset_init(&ds);
    uint32_t fi = an_dataset_add_file(&ds, "x.hops");
    const char *args[] = {"app.py", "caf\xc3\xa9", "it's \xc3\xa9t\xc3\xa9'", "a\x01\xff", ""};
    struct an_file *f = &ds.files[fi];
    f->argc = 5;
    f->argv = calloc(5, sizeof *f->argv);
    for (uint32_t i = 0; i < 5; i++)
        f->argv[i] = an_strtab_intern(&ds.strs, args[i]);
    struct analyze_opts o;
    an_opts_init(&o);
    struct an_strbuf out = AN_STRBUF_INIT;
    an_info_dataset(&o, &ds, &out);
    const char *want =
        "  argv:              app.py 'caf\xc3\xa9' 'it'\\''s \xc3\xa9t\xc3\xa9'\\''' "
        "'a\\x01\\xff' ''\n";
    cr_expect(strstr(an_strbuf_str(&out), want), "%s", an_strbuf_str(&out));
    an_strbuf_release(&out);
    an_opts_release(&o);
    an_dataset_release(&ds);
}

Test(cli, info_duration_spans_the_whole_int64_range)
{
    /* Found by the analyzer's fuzz target (tests/golden-errors/
     * info-duration-overflow.bin): end_ns - start_ns overflowed int64. */
    struct an_dataset ds;
    an_dataset_init(&ds);
    uint32_t fi = an_dataset_add_file(&ds, "x.hops");
    ds.files[fi].start_ns = INT64_MIN;
    ds.files[fi].end.end_ns = INT64_MAX;
    struct analyze_opts o;
    an_opts_init(&o);
    struct an_strbuf out = AN_STRBUF_INIT;
    an_info_dataset(&o, &ds, &out);
    cr_expect(strstr(an_strbuf_str(&out), "  duration:          18446744073.710 s\n"), "%s",
              an_strbuf_str(&out));
    an_strbuf_reset(&out);
    o.format = AN_FORMAT_JSON;
    an_info_dataset(&o, &ds, &out);
    cr_expect(strstr(an_strbuf_str(&out), "\"duration_ns\": 18446744073709551615,"), "%s",
              an_strbuf_str(&out));
    an_strbuf_release(&out);
    an_opts_release(&o);
    an_dataset_release(&ds);
}

/* ---- usage ------------------------------------------------------------------- */

Test(cli, usage_errors_exit_2_with_a_short_usage)
{
    write_app("app.hops", 1, 1);
    const char *f = tu_path("app.hops");
    const char *const cases[][6] = {
        {"--bogus", f},
        {"-x", f},
        {"--by", "colour", f},
        {"--by", "location_fn", f},
        {"--top", "-1", f},
        {"--top", "ten", f},
        {"--top", "99999999999999999999999", f},
        {"--min-count", "1e3", f},
        {"--format", "xml", f},
        {"--help=yes", f},
        {"-hx", f},
        {f, "--by"},
        {"-i"},
        {"--top", "3"},
        {"info", "--format", "csv", f},
        {"diff"},
        {"diff", "--by", "process", f, f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args[8] = {0};
        for (int k = 0; k < 6 && cases[i][k]; k++)
            args[k] = cases[i][k];
        struct tu_run r = tu_run_argv(args);
        cr_expect_eq(r.rc, 2, "case %zu (%s): rc %d", i, args[0], r.rc);
        cr_expect_str_eq(r.out, "", "case %zu", i);
        cr_expect(strncmp(r.err, "heavyops-analyze: ", 18) == 0, "case %zu: %s", i, r.err);
        cr_expect(strstr(r.err, "\nusage: heavyops-analyze"), "case %zu: %s", i, r.err);
        tu_run_free(&r);
    }
}

Test(cli, usage_messages_name_the_problem)
{
    struct tu_run r = tu_run("--by", "colour", "x.hops");
    cr_expect(strncmp(r.err,
                      "heavyops-analyze: invalid --by value 'colour' (expected "
                      "instruction|location|line|function|file|thread|process|site)\n",
                      108) == 0,
              "%s", r.err);
    tu_run_free(&r);
    r = tu_run("x.hops", "--frobnicate");
    cr_expect(strncmp(r.err, "heavyops-analyze: unknown option '--frobnicate'\n", 48) == 0, "%s",
              r.err);
    tu_run_free(&r);
    r = tu_run_argv((const char *const[]){NULL});
    cr_expect(strncmp(r.err, "heavyops-analyze: no input files\n", 33) == 0, "%s", r.err);
    cr_expect_eq(r.rc, 2);
    tu_run_free(&r);
}

Test(cli, help_goes_to_stdout_and_exits_0)
{
    struct tu_run r = tu_run("--help");
    cr_expect_eq(r.rc, 0);
    cr_expect_str_eq(r.err, "");
    cr_expect(strncmp(r.out, "usage: heavyops-analyze [OPTIONS] FILE...\n", 42) == 0);
    cr_expect(strstr(r.out, "--min-count N"));
    struct tu_run h = tu_run("x.hops", "-h", "--bogus");
    cr_expect_eq(h.rc, 0, "--help stops parsing");
    cr_expect_str_eq(h.out, r.out, "-h and --help print the same");
    tu_run_free(&h);
    tu_run_free(&r);
    r = tu_run("--version");
    cr_expect_eq(r.rc, 0);
    cr_expect(strncmp(r.out, "heavyops-analyze ", 17) == 0, "%s", r.out);
    tu_run_free(&r);
}

Test(cli, help_lines_fit_80_columns)
{
    struct tu_run r = tu_run("--help");
    const char *line = r.out;
    while (*line) {
        const char *nl = strchr(line, '\n');
        cr_assert(nl);
        cr_expect(nl - line <= 80, "too long: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    tu_run_free(&r);
}

/* ---- help vs doc ------------------------------------------------------------- */

/* docs/heavyops-analyze.1.md, found from this file's path (meson passes it
 * relative to the build directory, where tests run) or above the cwd. */
static char *
read_doc(void)
{
    char path[2200];
    const char *rel = "docs/heavyops-analyze.1.md";
    char *s = NULL;
    const char *slash = strrchr(__FILE__, '/');
    if (slash) {
        snprintf(path, sizeof path, "%.*s/../../%s", (int)(slash - __FILE__), __FILE__, rel);
        s = tu_slurp(path, NULL);
    }
    char prefix[64] = "";
    for (int up = 0; !s && up < 6; up++) {
        snprintf(path, sizeof path, "%s%s", prefix, rel);
        s = tu_slurp(path, NULL);
        strncat(prefix, "../", sizeof prefix - strlen(prefix) - 1);
    }
    cr_assert_not_null(s, "cannot find %s", rel);
    return s;
}

/* Collects the distinct "--long" option names (and "-x" short ones when
 * shorts is set) in text into a '\n'-separated list. */
static void
options_in(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = text; *p; p++) {
        if (p[0] != '-' || (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
            continue;
        const char *start = p;
        const char *q = p + 1;
        if (*q == '-')
            q++;
        if (!isalpha((unsigned char)*q))
            continue;
        while (isalnum((unsigned char)*q) || *q == '-')
            q++;
        int is_long = start[1] == '-';
        /* a short option is a single letter: -i, -f, -h */
        if (!is_long && q - start != 2)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%.*s\n", (int)(q - start), start);
        char needle[66] = "\n";
        strncat(needle, name, sizeof needle - 2);
        char hay[8192] = "\n";
        strncat(hay, out, sizeof hay - 2);
        if (!strstr(hay, needle))
            strncat(out, name, cap - strlen(out) - 1);
        p = q - 1;
    }
}

static int
listed(const char *list, const char *name)
{
    char hay[8192] = "\n", needle[66] = "\n";
    strncat(hay, list, sizeof hay - 2);
    strncat(needle, name, sizeof needle - 3);
    strcat(needle, "\n");
    return strstr(hay, needle) != NULL;
}

Test(cli, help_and_doc_list_the_same_options)
{
    struct an_strbuf help = AN_STRBUF_INIT;
    an_opts_help(&help);
    char *doc = read_doc();
    /* Only the OPTIONS section of the doc lists options; elsewhere it may
     * show examples of them. */
    char *sec = strstr(doc, "\n## OPTIONS\n");
    cr_assert_not_null(sec);
    char *end = strstr(sec + 1, "\n## ");
    if (end)
        *end = '\0';
    char in_help[4096], in_doc[4096];
    options_in(an_strbuf_str(&help), in_help, sizeof in_help);
    options_in(sec, in_doc, sizeof in_doc);
    cr_expect(listed(in_help, "--by") && listed(in_help, "-i"), "parser sanity: %s", in_help);
    for (char *p = in_help; *p;) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        cr_expect(listed(in_doc, p), "%s is in --help but not in the doc's OPTIONS", p);
        p = nl + 1;
    }
    options_in(sec, in_doc, sizeof in_doc);
    options_in(an_strbuf_str(&help), in_help, sizeof in_help);
    for (char *p = in_doc; *p;) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        cr_expect(listed(in_help, p), "%s is in the doc's OPTIONS but not in --help", p);
        p = nl + 1;
    }
    free(doc);
    an_strbuf_release(&help);
}

/*
 * test_render.c - render.c and an_strbuf.c: tables, thousands separators, key
 * text, CSV quoting and JSON escaping of odd names.
 */
#include "an_testutil.h"

#include "aggregate.h"
#include "an_strbuf.h"
#include "render.h"

static const char *
thousands(uint64_t v)
{
    static char buf[64];
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_strbuf_add_thousands(&sb, v);
    snprintf(buf, sizeof buf, "%s", an_strbuf_str(&sb));
    an_strbuf_release(&sb);
    return buf;
}

Test(render, thousands_separators)
{
    cr_expect_str_eq(thousands(0), "0");
    cr_expect_str_eq(thousands(999), "999");
    cr_expect_str_eq(thousands(1000), "1,000");
    cr_expect_str_eq(thousands(94467), "94,467");
    cr_expect_str_eq(thousands(1234567), "1,234,567");
    cr_expect_str_eq(thousands(UINT64_MAX), "18,446,744,073,709,551,615");
}

Test(render, delta_has_a_sign_and_separators)
{
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_render_delta(&sb, 1234);
    an_strbuf_addch(&sb, ' ');
    an_render_delta(&sb, -5);
    an_strbuf_addch(&sb, ' ');
    an_render_delta(&sb, 0);
    an_strbuf_addch(&sb, ' ');
    an_render_delta(&sb, INT64_MIN);
    cr_expect_str_eq(an_strbuf_str(&sb), "+1,234 -5 0 -9,223,372,036,854,775,808");
    an_strbuf_release(&sb);
}

static char *
table(size_t more, size_t nrows, const char *const *cells)
{
    const char *headers[2] = {"COUNT", "INSTRUCTION"};
    const int right[2] = {1, 0};
    struct an_table t;
    an_table_init(&t, 2, headers, right);
    for (size_t i = 0; i < nrows * 2; i++)
        an_table_add_cell(&t, cells[i]);
    t.more = more;
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_table_render(&t, &sb);
    an_table_release(&t);
    return sb.buf; /* caller frees */
}

Test(render, table_right_aligns_counts_under_a_dashed_rule)
{
    const char *cells[] = {"1,234,567", "BUILD_LIST", "12", "MAKE_FUNCTION"};
    char *s = table(0, 2, cells);
    cr_expect_str_eq(s, "    COUNT | INSTRUCTION\n"
                        "----------+--------------\n"
                        "1,234,567 | BUILD_LIST\n"
                        "       12 | MAKE_FUNCTION\n");
    free(s);
}

Test(render, table_announces_cut_rows)
{
    const char *cells[] = {"5", "X"};
    char *s = table(37, 1, cells);
    cr_expect_str_eq(s, "COUNT | INSTRUCTION\n"
                        "------+------------\n"
                        "    5 | X\n"
                        "\xe2\x80\xa6 37 more rows (--top 0 shows all)\n");
    free(s);
    s = table(14997, 1, cells);
    cr_expect(strstr(s, "\xe2\x80\xa6 14,997 more rows (--top 0 shows all)\n"));
    free(s);
    s = table(1, 1, cells);
    cr_expect(strstr(s, "\xe2\x80\xa6 1 more row (--top 0 shows all)\n"));
    free(s);
}

Test(render, empty_table_says_so)
{
    char *s = table(0, 0, NULL);
    cr_expect_str_eq(s, "COUNT | INSTRUCTION\n"
                        "------+------------\n"
                        "(no rows)\n");
    free(s);
}

Test(render, table_width_counts_utf8_characters_not_bytes)
{
    const char *headers[3] = {"NAME", "COUNT", "X"};
    const int right[3] = {0, 1, 0};
    struct an_table t;
    an_table_init(&t, 3, headers, right);
    an_table_add_cell(&t, "h\xc3\xa9llo"); /* 5 characters, 6 bytes */
    an_table_add_cell(&t, "1");
    an_table_add_cell(&t, "a");
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_table_render(&t, &sb);
    cr_expect_str_eq(an_strbuf_str(&sb), "NAME  | COUNT | X\n"
                                         "------+-------+--\n"
                                         "h\xc3\xa9llo |     1 | a\n");
    an_table_release(&t);
    an_strbuf_release(&sb);
}

Test(render, printable_escapes_what_would_break_a_table_line)
{
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_strbuf_add_printable(&sb, "a\nb\tc\\d\x01\x7f\xff\xc3\xa9\xc2\x85|");
    cr_expect_str_eq(an_strbuf_str(&sb), "a\\nb\\tc\\\\d\\x01\\x7f\\xff\xc3\xa9\\xc2\\x85|");
    an_strbuf_release(&sb);
}

static char *
csv_of(const char *s)
{
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_csv_field(&sb, s);
    return sb.buf ? sb.buf : strdup("");
}

Test(render, csv_quotes_fields_per_rfc4180)
{
    char *s;
    s = csv_of("plain.py");
    cr_expect_str_eq(s, "plain.py");
    free(s);
    s = csv_of("a,b.py");
    cr_expect_str_eq(s, "\"a,b.py\"");
    free(s);
    s = csv_of("say \"hi\".py");
    cr_expect_str_eq(s, "\"say \"\"hi\"\".py\"");
    free(s);
    s = csv_of("two\nlines");
    cr_expect_str_eq(s, "\"two\nlines\"");
    free(s);
    s = csv_of("cr\rhere");
    cr_expect_str_eq(s, "\"cr\rhere\"");
    free(s);
    s = csv_of("caf\xc3\xa9 \x01.py");
    cr_expect_str_eq(s, "caf\xc3\xa9 \x01.py", "other bytes pass through");
    free(s);
}

Test(render, csv_record_writes_null_as_an_empty_field)
{
    struct an_value v[4] = {{.kind = AN_V_U64, .u = 12},
                            {.kind = AN_V_STR, .s = "x,y"},
                            {.kind = AN_V_NULL},
                            {.kind = AN_V_I64, .i = -3}};
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_csv_record(&sb, v, 4);
    cr_expect_str_eq(an_strbuf_str(&sb), "12,\"x,y\",,-3\n");
    an_strbuf_release(&sb);
}

static char *
json_of(const char *s)
{
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_json_string(&sb, s);
    return sb.buf;
}

Test(render, json_escapes_quotes_backslashes_and_controls)
{
    char *s = json_of("a\"b\\c\nd\te\x01\x1f\x7f/");
    cr_expect_str_eq(s, "\"a\\\"b\\\\c\\u000ad\\u0009e\\u0001\\u001f\\u007f/\"");
    free(s);
}

Test(render, json_keeps_valid_utf8_and_replaces_invalid_bytes)
{
    char *s = json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d");
    cr_expect_str_eq(s, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\"");
    free(s);
    /* lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF */
    s = json_of("\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
    cr_expect_str_eq(s, "\"\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                        "\\ufffd\\ufffd\\ufffd\\ufffd\"");
    free(s);
}

Test(render, json_object_and_null)
{
    const char *names[3] = {"count", "file", "line"};
    struct an_value v[3] = {
        {.kind = AN_V_U64, .u = 7}, {.kind = AN_V_STR, .s = "a.py"}, {.kind = AN_V_NULL}};
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_json_object(&sb, names, v, 3);
    cr_expect_str_eq(an_strbuf_str(&sb), "{\"count\": 7, \"file\": \"a.py\", \"line\": null}");
    an_strbuf_release(&sb);
}

/* ---- key text and values per view ------------------------------------------ */

static struct an_strtab strs;

static void
strs_setup(void)
{
    an_strtab_init(&strs);
}

static void
strs_teardown(void)
{
    an_strtab_release(&strs);
}

static char *
key_text(enum an_by by, const int64_t *f)
{
    struct an_row row = {0};
    memcpy(row.f, f, sizeof row.f);
    struct an_strbuf sb = AN_STRBUF_INIT;
    an_render_key_text(&sb, by, &strs, &row);
    return sb.buf;
}

Test(render, key_text_of_each_view, .init = strs_setup, .fini = strs_teardown)
{
    int64_t file = an_strtab_intern(&strs, "app.py");
    int64_t fn = an_strtab_intern(&strs, "main.<locals>.f");
    int64_t op = an_strtab_intern(&strs, "BUILD_LIST");
    int64_t name = an_strtab_intern(&strs, "MainThread");
    int64_t empty = an_strtab_intern(&strs, "");
    struct {
        enum an_by by;
        int64_t f[AN_MAX_FIELDS];
        const char *want;
    } cases[] = {
        {AN_BY_INSTRUCTION, {op}, "BUILD_LIST"},
        {AN_BY_LOCATION, {file, 12, 8, fn, op}, "app.py:12:9 main.<locals>.f BUILD_LIST"},
        {AN_BY_LOCATION, {file, -1, -1, fn, op}, "app.py:?:? main.<locals>.f BUILD_LIST"},
        {AN_BY_LINE, {file, 12}, "app.py:12"},
        {AN_BY_FUNCTION, {file, fn, 10}, "app.py:10 main.<locals>.f"},
        {AN_BY_FILE, {file}, "app.py"},
        {AN_BY_THREAD, {140001, name}, "140001 MainThread"},
        {AN_BY_THREAD, {3, empty}, "3"},
        {AN_BY_SITE, {file, fn, 10, 24, 12, 0, op}, "app.py:12:1 main.<locals>.f@10+24 BUILD_LIST"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *s = key_text(cases[i].by, cases[i].f);
        cr_expect_str_eq(s, cases[i].want);
        free(s);
    }
}

Test(render, key_text_escapes_newlines_in_names, .init = strs_setup, .fini = strs_teardown)
{
    int64_t f[AN_MAX_FIELDS] = {an_strtab_intern(&strs, "evil\nname.py")};
    char *s = key_text(AN_BY_FILE, f);
    cr_expect_str_eq(s, "evil\\nname.py");
    free(s);
}

Test(render, values_make_columns_one_based_and_unknowns_null, .init = strs_setup,
     .fini = strs_teardown)
{
    struct an_row row = {0};
    row.f[0] = an_strtab_intern(&strs, "a.py");
    row.f[1] = 7;
    row.f[2] = 0;
    row.f[3] = an_strtab_intern(&strs, "f");
    row.f[4] = an_strtab_intern(&strs, "BUILD_MAP");
    struct an_value v[AN_MAX_FIELDS];
    cr_assert_eq(an_row_values(AN_BY_LOCATION, &strs, &row, v), 5);
    cr_expect_eq(v[1].kind, AN_V_I64);
    cr_expect_eq(v[1].i, 7);
    cr_expect_eq(v[2].i, 1, "column 0 is shown as 1");
    row.f[1] = -1;
    row.f[2] = -1;
    an_row_values(AN_BY_LOCATION, &strs, &row, v);
    cr_expect_eq(v[1].kind, AN_V_NULL);
    cr_expect_eq(v[2].kind, AN_V_NULL);
    row.f[0] = (int64_t)UINT64_MAX; /* thread ids are unsigned */
    row.f[1] = an_strtab_intern(&strs, "t");
    an_row_values(AN_BY_THREAD, &strs, &row, v);
    cr_expect_eq(v[0].kind, AN_V_U64);
    cr_expect_eq(v[0].u, UINT64_MAX);
}

Test(render, format_names)
{
    enum an_format f;
    cr_expect_eq(an_format_parse("table", &f), 0);
    cr_expect_eq(f, AN_FORMAT_TABLE);
    cr_expect_eq(an_format_parse("csv", &f), 0);
    cr_expect_eq(f, AN_FORMAT_CSV);
    cr_expect_eq(an_format_parse("json", &f), 0);
    cr_expect_eq(f, AN_FORMAT_JSON);
    cr_expect_eq(an_format_parse("xml", &f), -1);
}

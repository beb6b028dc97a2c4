/*
 * an_fuzz_analyze.c - libFuzzer entry point for the analyzer (STYLE.md rule
 * 10): the input goes through the code heavyops-analyze runs on a file, in
 * memory (an_dataset_load_mem, then the commands' an_*_dataset functions
 * with options parsed by an_opts_parse), so nothing reaches stdout.
 *
 *   report  the input alone: the default report, every --by view in table,
 *           csv and json, with and without filters, and info;
 *   diff    the input against itself or against a fixed good recording
 *           (built here with the writer) and, when the input holds a second
 *           magic number, its two parts (a BEFORE AFTER pair: seeds are two
 *           recordings concatenated), also merged into one report.
 *
 * Rendering every view of every pair costs a hundred times the load, so a
 * fuzzing run picks one report and one diff option set per input from a hash
 * of its bytes; the replay test (AN_FUZZ_ALL_VIEWS) runs them all.
 *
 * It checks what the commands promise, so a wrong result aborts even when
 * nothing crashes:
 *
 *   - a failed load says why in one non-empty line;
 *   - no output holds a NUL byte; table and info text is valid UTF-8 with no
 *     control character but '\n' (names are escaped), json likewise (control
 *     characters as \u00XX, invalid bytes as U+FFFD); a \xNN escape in a
 *     table never stands for part of a valid character; csv quotes what
 *     RFC 4180 says and its records all have the header's number of fields;
 *   - a report's tracked count is at most its total, and its rows, all
 *     shown, add up to it; a diff's rows add up to each side's tracked
 *     count, and each row's delta is after - before;
 *   - info's durations are never negative;
 *   - a recording diffed against itself changes nothing: every delta is 0
 *     and the two sides' summaries agree.
 *
 * Build: analyzer/meson.build (clang with -fsanitize=fuzzer, reader checksums
 * off as for the reader's target); format/fuzz/hops_fuzz_replay.c runs the
 * same entry point over files with any compiler (the fuzz-replay-analyzer
 * test).
 */
#ifndef _GNU_SOURCE
#    define _GNU_SOURCE /* memfd_create, memmem */
#endif
#include "cmd.h"
#include "load.h"
#include "opts.h"
#include "unmatched.h"

#include <hops/hops.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "an-fuzz-analyze: check failed at line %d: %s\n", __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t magic[8] = {0x89, 'H', 'O', 'P', 'S', '\r', '\n', 0x1a};

/* ---- options, parsed once as heavyops-analyze would parse them --------------- */

#define MAX_ARGS 28

static const char *const report_args[][MAX_ARGS] = {
    {NULL}, /* the default report: totals, instruction and location tables */
    {"--top", "0", NULL},
    {"-i", "*", "--by", "instruction", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "location", "--format", "csv", NULL},
    {"-i", "*", "--by", "line", "--top", "3", NULL},
    {"-i", "*", "--by", "function", "--format", "json", "--min-count", "2", NULL},
    {"-i", "*", "--by", "file", "--format", "csv", NULL},
    {"-i", "*", "--by", "thread", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "thread", "--top", "0", NULL},
    {"-i", "*", "--by", "site", "--format", "csv", "--top", "0", NULL},
    {"-i", "*", "--by", "site", "--format", "json", NULL},
    {"-i",         "build_tupel", "-i",       "load_*", "-i",         "*CALL*",
     "-f",         "*.py",        "-f",       "/*/x*",  "--function", "*<locals>*",
     "--function", "main",        "--thread", "Main*",  "--thread",   "1",
     "--format",   "json",        "--top",    "0",      NULL},
};

static const char *const diff_args[][MAX_ARGS] = {
    {NULL},
    {"-i", "*", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "site", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "function", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "thread", "--format", "json", "--top", "0", NULL},
    {"-i", "*", "--by", "instruction", "--top", "0", NULL},
    {"-i", "*", "--by", "line", "--format", "csv", "--min-count", "3", NULL},
    {"-i", "*", "--by", "file", NULL},
    {"-i", "*", "--by", "site", "--format", "csv", NULL},
    {"-f", "*.py", "--function", "*.*", "--min-count", "2", NULL},
};

#define N_REPORT (sizeof report_args / sizeof *report_args)
#define N_DIFF   (sizeof diff_args / sizeof *diff_args)

static struct analyze_opts report_opts[N_REPORT], diff_opts[N_DIFF], info_opts[2];
static uint8_t *good;
static size_t good_size;
static int verbose; /* AN_FUZZ_VERBOSE=1: every output to stderr, to debug a crash */

#ifdef AN_FUZZ_ALL_VIEWS
#    define ALL_VIEWS 1
#else
#    define ALL_VIEWS 0
#endif

/* Whether option set i of n runs for an input whose selector is sel. */
static int
chosen(size_t i, size_t n, uint64_t sel)
{
    return ALL_VIEWS || i == sel % n;
}

/* FNV-1a: any byte of the input may change the views it is shown in. */
static uint64_t
input_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static void
parse(struct analyze_opts *o, const char *command, const char *const *args, int nfiles)
{
    char *argv[MAX_ARGS + 4];
    int argc = 0;
    argv[argc++] = (char *)"heavyops-analyze";
    if (command)
        argv[argc++] = (char *)command;
    for (int i = 0; args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc++] = (char *)"a.hops";
    if (nfiles > 1)
        argv[argc++] = (char *)"b.hops";
    struct an_strbuf err = AN_STRBUF_INIT;
    an_opts_init(o);
    CHECK(an_opts_parse(o, argc, argv, &err) == 0);
    an_strbuf_release(&err);
}

/* A small clean recording: two functions of examples/closure.py with the
 * sites a 3.12 recording declares for them, two threads, two frames. */
static void
build_good(void)
{
    static const char *const argv[] = {"examples/closure.py"};
    hops_meta m = {.python_version = "3.12.1",
                   .mechanism = "sys.monitoring",
                   .argc = 1,
                   .argv = argv,
                   .pid = 4242,
                   .start_ns = 1700000000000000000,
                   .flags = HOPS_META_ALL_INSTRUCTIONS};
    static const hops_site outer[] = {{0, 1, 0, "RESUME"},        {2, 2, 4, "LOAD_CONST"},
                                      {4, 2, 4, "MAKE_FUNCTION"}, {6, 2, 4, "STORE_FAST"},
                                      {8, 4, 11, "LOAD_FAST"},    {10, 4, 4, "RETURN_VALUE"},
                                      {12, 5, 8, "BUILD_LIST"},   {14, 5, 8, "LOAD_DEREF"},
                                      {16, 6, 12, "BUILD_TUPLE"}, {18, 7, 0, "BUILD_MAP"}};
    static const hops_site inner[] = {{0, -1, -1, "COPY_FREE_VARS"},
                                      {2, 3, 8, "RESUME"},
                                      {4, 3, 15, "LOAD_DEREF"},
                                      {6, 3, 15, "BINARY_OP"},
                                      {8, 3, 8, "RETURN_VALUE"}};
    hops_code c1 = {0, 10, 1, "examples/closure.py", "outer", outer, NULL, 0};
    hops_code c2 = {10, 5, 2, "examples/closure.py", "outer.<locals>.inner", inner, NULL, 0};
    hops_thread t1 = {140000000001, 1001, "MainThread"}, t2 = {140000000002, 1002, "worker"};
    hops_count f1[] = {{0, 1}, {2, 100}, {4, 100}, {6, 50}, {11, 100}, {12, 100}, {13, 7}};
    hops_count f2[] = {{2, 3}, {7, 9}, {8, 1}, {14, 12}};
    hops_end e = {1700000001000000000, 0, HOPS_END_CLEAN, 0};
    hops_writer *w = NULL;
    int fd = memfd_create("an-fuzz-good", 0);

    CHECK(fd >= 0);
    CHECK(hops_writer_open_fd(&w, fd, &m) == HOPS_OK);
    CHECK(hops_writer_add_code(w, &c1) == HOPS_OK);
    CHECK(hops_writer_add_code(w, &c2) == HOPS_OK);
    CHECK(hops_writer_add_thread(w, &t1) == HOPS_OK);
    CHECK(hops_writer_add_thread(w, &t2) == HOPS_OK);
    CHECK(hops_writer_add_frame(w, t1.tid, f1, sizeof f1 / sizeof *f1) == HOPS_OK);
    CHECK(hops_writer_add_frame(w, t2.tid, f2, sizeof f2 / sizeof *f2) == HOPS_OK);
    CHECK(hops_writer_finish(w, &e) == HOPS_OK);
    good_size = (size_t)hops_writer_bytes_written(w);
    CHECK(hops_writer_close(w) == HOPS_OK);
    good = malloc(good_size);
    CHECK(good != NULL && pread(fd, good, good_size, 0) == (ssize_t)good_size);
    close(fd);
}

/* The option sets and the good recording live until exit (reachable, so not
 * leaks); the replay driver does not call LLVMFuzzerInitialize, hence lazy. */
static void
init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    verbose = getenv("AN_FUZZ_VERBOSE") != NULL;
    for (size_t i = 0; i < N_REPORT; i++)
        parse(&report_opts[i], NULL, report_args[i], 1);
    for (size_t i = 0; i < N_DIFF; i++)
        parse(&diff_opts[i], "diff", diff_args[i], 2);
    static const char *const table[] = {NULL}, *const json[] = {"--format", "json", NULL};
    parse(&info_opts[0], "info", table, 1);
    parse(&info_opts[1], "info", json, 1);
    build_good();
}

/* ---- output checks -------------------------------------------------------------- */

/* Text for a terminal (tables, info) or json: valid UTF-8, and no control
 * character but '\n' (no DEL, and in tables no C1 control either). */
static void
check_text(const struct an_strbuf *sb, int json)
{
    const unsigned char *p = (const unsigned char *)an_strbuf_str(sb);
    CHECK(strlen((const char *)p) == sb->len);
    for (size_t i = 0; i < sb->len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            CHECK(c == '\n' || (c >= 0x20 && c != 0x7f));
            i++;
            continue;
        }
        size_t len = an_utf8_seq_len(p + i, sb->len - i);
        CHECK(len > 0);
        CHECK(json || !(c == 0xc2 && p[i + 1] < 0xa0));
        i += len;
    }
}

/* In table and info text, \xNN stands for a byte that is not UTF-8 (or a C1
 * control): no run of such escapes may decode to a valid character (as when
 * info escaped quoted argv words a byte at a time). */
static void
check_escapes(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] != '\\') {
            i++;
            continue;
        }
        CHECK(i + 1 < len);
        if (s[i + 1] != 'x') {
            i += 2; /* \\ \n \t \r */
            continue;
        }
        unsigned char run[256];
        size_t k = 0;
        while (k < sizeof run && i + 1 < len && s[i] == '\\' && s[i + 1] == 'x') {
            CHECK(i + 4 <= len && isxdigit((unsigned char)s[i + 2]) &&
                  isxdigit((unsigned char)s[i + 3]));
            char hex[3] = {s[i + 2], s[i + 3], 0};
            run[k++] = (unsigned char)strtoul(hex, NULL, 16);
            i += 4;
        }
        for (size_t j = 0; j < k; j++) {
            size_t n = an_utf8_seq_len(run + j, k - j);
            CHECK(n == 0 || (n == 1 && (run[j] < 0x20 || run[j] == 0x7f)) ||
                  (n == 2 && run[j] == 0xc2 && run[j + 1] < 0xa0));
        }
    }
}

/* CSV as RFC 4180 says: a field holding a quote, CR or LF is quoted (quotes
 * doubled), every record ends in LF and has as many fields as the header. */
static void
check_csv(const struct an_strbuf *sb)
{
    const char *p = sb->buf, *end = sb->buf + sb->len;
    size_t fields = 1, header = 0;
    CHECK(sb->len > 0 && end[-1] == '\n');
    while (p < end) {
        if (*p == '"') {
            for (p++;; p++) {
                CHECK(p < end);
                if (*p == '"' && (p + 1 == end || p[1] != '"'))
                    break;
                if (*p == '"')
                    p++;
            }
            p++;
            CHECK(p < end && (*p == ',' || *p == '\n'));
        }
        for (; *p != ',' && *p != '\n'; p++)
            CHECK(*p != '"' && *p != '\r');
        if (*p++ == ',') {
            fields++;
            continue;
        }
        if (!header)
            header = fields;
        CHECK(fields == header);
        fields = 1;
    }
}

static void
check_output(const struct analyze_opts *o, const struct an_strbuf *out)
{
    if (verbose)
        fprintf(stderr, "---\n%s", an_strbuf_str(out));
    if (o->format == AN_FORMAT_CSV) {
        CHECK(strlen(an_strbuf_str(out)) == out->len);
        check_csv(out);
    } else {
        check_text(out, o->format == AN_FORMAT_JSON);
    }
    if (o->format == AN_FORMAT_TABLE)
        check_escapes(out->buf, out->len);
}

/* The unsigned number after the next '"name": ' at or after *p (member names
 * are the only place that text occurs: quotes in strings are escaped); moves
 * *p past it.  Returns 0 when there is none, or when the value is null. */
static int
json_next_u64(const char **p, const char *end, const char *name, uint64_t *v)
{
    char key[32];
    size_t n = (size_t)snprintf(key, sizeof key, "\"%s\": ", name);
    const char *q = memmem(*p, (size_t)(end - *p), key, n);
    if (!q)
        return 0;
    q += n;
    *p = q;
    if (*q == 'n')
        return 0;
    char *e;
    *v = strtoull(q, &e, 10);
    CHECK(e > q);
    *p = e;
    return 1;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

/* A report in json: tracked <= total, and with every row shown (--top 0, no
 * --min-count) the rows add up to tracked. */
static void
check_report_json(const struct analyze_opts *o, const struct an_strbuf *sb)
{
    const char *p = sb->buf, *end = sb->buf + sb->len;
    uint64_t tracked, total, count, sum = 0;
    CHECK(json_next_u64(&p, end, "tracked", &tracked));
    const char *after_tracked = p;
    if (json_next_u64(&p, end, "total", &total))
        CHECK(tracked <= total);
    else
        CHECK(p > after_tracked && strncmp(p, "null", 4) == 0);
    while (json_next_u64(&p, end, "count", &count))
        sum = sat_add(sum, count);
    if (o->top == 0 && o->filter.min_count <= 1)
        CHECK(sum == tracked);
}

/* A diff in json: each row's delta is after - before (clamped to int64),
 * a self-diff has only zero deltas, and with every row shown the rows add up
 * to each side's tracked count. */
static void
check_diff_json(const struct analyze_opts *o, const struct an_strbuf *sb, int self)
{
    const char *p = sb->buf, *end = sb->buf + sb->len;
    uint64_t tracked[2], before, after, sum[2] = {0, 0};
    CHECK(json_next_u64(&p, end, "tracked", &tracked[0]));
    CHECK(json_next_u64(&p, end, "tracked", &tracked[1]));
    if (self)
        CHECK(tracked[0] == tracked[1]);
    while (json_next_u64(&p, end, "before", &before)) {
        CHECK(json_next_u64(&p, end, "after", &after));
        CHECK(before || after);
        CHECK(*p == ',' && strncmp(p, ", \"delta\": ", 11) == 0);
        char *e;
        long long delta = strtoll(p + 11, &e, 10);
        CHECK(e > p + 11);
        p = e;
        if (after >= before)
            CHECK(delta == (after - before > INT64_MAX ? INT64_MAX : (long long)(after - before)));
        else
            CHECK(delta == (before - after > INT64_MAX ? INT64_MIN : -(long long)(before - after)));
        CHECK(!self || delta == 0);
        sum[0] = sat_add(sum[0], before);
        sum[1] = sat_add(sum[1], after);
    }
    if (o->top == 0 && o->filter.min_count <= 1)
        CHECK(sum[0] == tracked[0] && sum[1] == tracked[1]);
}

/* Info in json: one duration per file, a number of nanoseconds (never
 * negative) or null. */
static void
check_info_json(const struct an_dataset *ds, const struct an_strbuf *sb)
{
    static const char name[] = "\"duration_ns\": ";
    const char *p = sb->buf, *end = sb->buf + sb->len;
    size_t n = 0;
    while ((p = memmem(p, (size_t)(end - p), name, sizeof name - 1)) != NULL) {
        p += sizeof name - 1;
        CHECK(p < end && ((*p >= '0' && *p <= '9') || strncmp(p, "null", 4) == 0));
        n++;
    }
    CHECK(n == ds->nfiles);
}

/* Whole lines, each one warning. */
static void
check_warnings(const struct an_strbuf *sb)
{
    static const char head[] = "heavyops-analyze: warning: ";
    if (sb->len == 0)
        return; /* buf may still be NULL */
    const char *p = sb->buf, *end = sb->buf + sb->len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        CHECK(eol != NULL && strncmp(p, head, sizeof head - 1) == 0);
        CHECK(memchr(p, '\0', (size_t)(eol - p)) == NULL);
        p = eol + 1;
    }
}

/* Option sets N_REPORT and N_REPORT + 1 are info's. */
static void
report(const struct an_dataset *ds, uint64_t sel)
{
    struct an_strbuf out = AN_STRBUF_INIT;
    for (size_t i = 0; i < N_REPORT; i++) {
        const struct analyze_opts *o = &report_opts[i];
        if (!chosen(i, N_REPORT + 2, sel))
            continue;
        an_strbuf_reset(&out);
        an_warn_unmatched(&o->filter, ds, &out);
        check_warnings(&out);
        an_strbuf_reset(&out);
        an_report_dataset(o, ds, &out);
        check_output(o, &out);
        if (o->format == AN_FORMAT_JSON)
            check_report_json(o, &out);
    }
    for (size_t i = 0; i < 2; i++) {
        if (!chosen(N_REPORT + i, N_REPORT + 2, sel))
            continue;
        an_strbuf_reset(&out);
        an_info_dataset(&info_opts[i], ds, &out);
        check_output(&info_opts[i], &out);
        if (info_opts[i].format == AN_FORMAT_JSON)
            check_info_json(ds, &out);
    }
    an_strbuf_release(&out);
}

/* Diffs files 0 and 1 of ds; self: they are the same recording. */
static void
diff(const struct an_dataset *ds, int self, uint64_t sel)
{
    struct an_strbuf out = AN_STRBUF_INIT;
    for (size_t i = 0; i < N_DIFF; i++) {
        const struct analyze_opts *o = &diff_opts[i];
        if (!chosen(i, N_DIFF, sel))
            continue;
        an_strbuf_reset(&out);
        an_diff_dataset(o, ds, &out);
        check_output(o, &out);
        if (o->format == AN_FORMAT_JSON)
            check_diff_json(o, &out, self);
        if (self && o->format == AN_FORMAT_TABLE) {
            /* "before: X total, Y tracked; after: X total, Y tracked\n" */
            const char *s = an_strbuf_str(&out), *mid = strstr(s, "; after: ");
            const char *eol = strchr(s, '\n');
            CHECK(mid && eol && mid < eol && strncmp(s, "before: ", 8) == 0);
            CHECK((size_t)(mid - s - 8) == (size_t)(eol - mid - 9));
            CHECK(memcmp(s + 8, mid + 9, (size_t)(eol - mid - 9)) == 0);
        }
    }
    an_strbuf_release(&out);
}

/* Loads one file into ds; 0 or -1 with the reason checked. */
static int
load(struct an_dataset *ds, const char *name, const uint8_t *data, size_t size)
{
    char err[256];
    err[0] = '\0';
    size_t files = ds->nfiles;
    if (an_dataset_load_mem(ds, name, data, size, err, sizeof err) == 0) {
        CHECK(ds->nfiles == files + 1);
        return 0;
    }
    CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    return -1;
}

/* Loads a then b into a fresh dataset, diffs them and, if merged, reports
 * on both as one. */
static void
load_and_diff(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, int self, int merged,
              uint64_t sel)
{
    struct an_dataset ds;
    an_dataset_init(&ds);
    if (load(&ds, "before.hops", a, na) == 0 && load(&ds, "after.hops", b, nb) == 0) {
        diff(&ds, self, sel);
        if (merged)
            report(&ds, sel / N_DIFF);
    }
    an_dataset_release(&ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    uint64_t h = input_hash(data, size);

    struct an_dataset ds;
    an_dataset_init(&ds);
    int ok = load(&ds, "input.hops", data, size) == 0;
    if (ok)
        report(&ds, h);
    an_dataset_release(&ds);

    /* A second recording in the input: diff the two parts, and report both. */
    const uint8_t *second = size > 1 ? memmem(data + 1, size - 1, magic, sizeof magic) : NULL;
    if (second) {
        size_t split = (size_t)(second - data);
        load_and_diff(data, split, second, size - split, 0, 1, h >> 8);
    }
    if (ok && (ALL_VIEWS || (h >> 40) % 2 == 0))
        load_and_diff(data, size, data, size, 1, 0, h >> 16);
    if (ok && (ALL_VIEWS || (h >> 40) % 2 == 1))
        load_and_diff(good, good_size, data, size, 0, 0, h >> 24);
    return 0;
}

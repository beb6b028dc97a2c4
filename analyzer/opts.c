/*
 * opts.c - option table, parser and help; see opts.h.
 */
#include "opts.h"
#include "an_xalloc.h"
#include "exitcodes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    OPT_BY,
    OPT_FORMAT,
    OPT_TOP,
    OPT_INSTRUCTION,
    OPT_FILE,
    OPT_FUNCTION,
    OPT_THREAD,
    OPT_MIN_COUNT,
    OPT_HELP,
    OPT_VERSION,
};

struct option_def {
    enum opt_id id;
    char short_name; /* 0: long only */
    const char *long_name;
    const char *argh; /* value placeholder, NULL for a flag */
    const char *help;
};

/* The one list of options: parse_option() reads it and an_opts_help() prints
 * it, and tests/unit/test_cli.c checks docs/heavyops-analyze.1.md against it. */
static const struct option_def options[] = {
    {OPT_BY, 0, "by", "KEY",
     "one table grouped by KEY: instruction, location, line, function, file, thread, process or "
     "site"},
    {OPT_INSTRUCTION, 'i', "instruction", "OPNAME",
     "only these instructions (glob, case-insensitive; repeatable, or a comma list; '*' = all); "
     "default: "
     "MAKE_FUNCTION BUILD_TUPLE BUILD_LIST BUILD_SET BUILD_MAP LOAD_DEREF"},
    {OPT_FILE, 'f', "file", "GLOB",
     "only code in files matching GLOB (full path, or base name if GLOB has no '/'; "
     "repeatable)"},
    {OPT_FUNCTION, 0, "function", "GLOB",
     "only functions whose qualname matches GLOB (repeatable)"},
    {OPT_THREAD, 0, "thread", "ID|NAME",
     "only threads with this id or native id, or a name matching NAME (repeatable)"},
    {OPT_MIN_COUNT, 0, "min-count", "N", "hide rows that counted fewer than N executions"},
    {OPT_TOP, 0, "top", "N", "show the N largest rows of each table (default 20; 0 = all)"},
    {OPT_FORMAT, 0, "format", "FMT", "table (default), csv or json"},
    {OPT_HELP, 'h', "help", NULL, "show this help and exit"},
    {OPT_VERSION, 0, "version", NULL, "show the version and exit"},
};

#define NOPTIONS (sizeof options / sizeof *options)

void
an_opts_init(struct analyze_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cmd = AN_CMD_REPORT;
    o->by = AN_BY_LOCATION;
    o->format = AN_FORMAT_TABLE;
    o->top = AN_DEFAULT_TOP;
    an_filter_init(&o->filter);
}

void
an_opts_release(struct analyze_opts *o)
{
    an_filter_release(&o->filter);
    free(o->files);
    memset(o, 0, sizeof *o);
}

static int
parse_count(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int
apply_option(struct analyze_opts *o, const struct option_def *d, const char *arg,
             struct an_strbuf *err)
{
    switch (d->id) {
    case OPT_BY:
        if (an_by_parse(arg, &o->by) < 0) {
            an_strbuf_addf(err, "invalid --by value '%s' (expected %s)", arg, an_by_names());
            return -1;
        }
        o->by_given = 1;
        return 0;
    case OPT_FORMAT:
        if (an_format_parse(arg, &o->format) < 0) {
            an_strbuf_addf(err, "invalid --format value '%s' (expected table, csv or json)", arg);
            return -1;
        }
        return 0;
    case OPT_TOP:
    case OPT_MIN_COUNT:
        if (parse_count(arg, d->id == OPT_TOP ? &o->top : &o->filter.min_count) < 0) {
            an_strbuf_addf(err, "invalid --%s value '%s' (expected a non-negative integer)",
                           d->long_name, arg);
            return -1;
        }
        return 0;
    case OPT_INSTRUCTION:
        if (an_filter_add_instructions(&o->filter, arg) < 0) {
            an_strbuf_addf(err, "invalid -i value '%s' (an empty instruction name)", arg);
            return -1;
        }
        return 0;
    case OPT_FILE:
        an_filter_add(&o->filter.files, &o->filter.n_files, arg);
        return 0;
    case OPT_FUNCTION:
        an_filter_add(&o->filter.functions, &o->filter.n_functions, arg);
        return 0;
    case OPT_THREAD:
        an_filter_add(&o->filter.threads, &o->filter.n_threads, arg);
        return 0;
    case OPT_HELP:
        o->help = 1;
        return 0;
    case OPT_VERSION:
        o->version = 1;
        return 0;
    }
    return 0;
}

static void
add_file(struct analyze_opts *o, const char *path)
{
    o->files = an_xreallocarray(o->files, o->nfiles + 1, sizeof *o->files);
    o->files[o->nfiles++] = path;
}

/* Handles argv[*i], an option; advances *i past a separate value. */
static int
parse_option(struct analyze_opts *o, int argc, char **argv, int *i, struct an_strbuf *err)
{
    const char *a = argv[*i];
    const struct option_def *d = NULL;
    const char *value = NULL;
    if (a[1] == '-') {
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t k = 0; k < NOPTIONS; k++)
            if (strlen(options[k].long_name) == len &&
                strncmp(options[k].long_name, name, len) == 0)
                d = &options[k];
        if (!d) {
            an_strbuf_addf(err, "unknown option '--%.*s'", (int)len, name);
            return -1;
        }
        if (eq) {
            if (!d->argh) {
                an_strbuf_addf(err, "option '--%s' takes no value", d->long_name);
                return -1;
            }
            value = eq + 1;
        }
    } else {
        for (size_t k = 0; k < NOPTIONS; k++)
            if (options[k].short_name && options[k].short_name == a[1])
                d = &options[k];
        if (!d) {
            an_strbuf_addf(err, "unknown option '-%c'", a[1]);
            return -1;
        }
        if (a[2]) {
            if (!d->argh) {
                an_strbuf_addf(err, "unknown option '%s'", a);
                return -1;
            }
            value = a + 2; /* -iBUILD_LIST */
        }
    }
    if (d->argh && !value) {
        if (*i + 1 >= argc) {
            an_strbuf_addf(err, "option '--%s' needs a value", d->long_name);
            return -1;
        }
        value = argv[++*i];
    }
    return apply_option(o, d, value, err);
}

int
an_opts_parse(struct analyze_opts *o, int argc, char **argv, struct an_strbuf *err)
{
    int only_files = 0, seen_word = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_files && strcmp(a, "--") == 0) {
            only_files = 1;
            continue;
        }
        if (!only_files && a[0] == '-' && a[1]) {
            if (parse_option(o, argc, argv, &i, err) < 0)
                return AN_EXIT_USAGE;
            if (o->help || o->version)
                return AN_EXIT_OK; /* --help wins over whatever else is wrong */
            continue;
        }
        if (!seen_word && !only_files && (strcmp(a, "diff") == 0 || strcmp(a, "info") == 0)) {
            o->cmd = a[0] == 'd' ? AN_CMD_DIFF : AN_CMD_INFO;
            seen_word = 1;
            continue;
        }
        seen_word = 1;
        add_file(o, a);
    }
    if (o->cmd == AN_CMD_DIFF && o->nfiles != 2) {
        an_strbuf_addf(err, "diff needs exactly two files, BEFORE and AFTER (got %zu)", o->nfiles);
        return AN_EXIT_USAGE;
    }
    if (o->cmd == AN_CMD_DIFF && o->by_given && o->by == AN_BY_PROCESS) {
        /* pids differ from run to run: there is nothing to match rows on */
        an_strbuf_addstr(err, "diff cannot match processes across recordings; use --by thread");
        return AN_EXIT_USAGE;
    }
    if (o->nfiles == 0) {
        an_strbuf_addstr(err, "no input files");
        return AN_EXIT_USAGE;
    }
    if (o->cmd == AN_CMD_INFO && o->format == AN_FORMAT_CSV) {
        an_strbuf_addstr(err, "info supports --format table or json");
        return AN_EXIT_USAGE;
    }
    return AN_EXIT_OK;
}

static const char usage_lines[] = "usage: heavyops-analyze [OPTIONS] FILE...\n"
                                  "   or: heavyops-analyze diff [OPTIONS] BEFORE AFTER\n"
                                  "   or: heavyops-analyze info [--format FMT] FILE...\n";

void
an_opts_usage(struct an_strbuf *out)
{
    an_strbuf_addstr(out, usage_lines);
    an_strbuf_addstr(out, "Try 'heavyops-analyze --help' for more information.\n");
}

/* "  -i, --instruction OPNAME" or "      --by KEY" */
static void
option_synopsis(struct an_strbuf *sb, const struct option_def *d)
{
    if (d->short_name)
        an_strbuf_addf(sb, "  -%c, ", d->short_name);
    else
        an_strbuf_addstr(sb, "      ");
    an_strbuf_addf(sb, "--%s", d->long_name);
    if (d->argh)
        an_strbuf_addf(sb, " %s", d->argh);
}

/* Appends text word-wrapped to end before column `right`, continuation lines
 * indented to column `left` (the cursor is at `left` on entry). */
static void
add_wrapped(struct an_strbuf *out, const char *text, size_t left, size_t right)
{
    size_t col = left;
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > left && col + 1 + word > right) {
            an_strbuf_addch(out, '\n');
            an_strbuf_addchars(out, ' ', left);
            col = left;
        } else if (col > left) {
            an_strbuf_addch(out, ' ');
            col++;
        }
        an_strbuf_add(out, p, word);
        col += word;
        p += word;
        while (*p == ' ')
            p++;
    }
    an_strbuf_addch(out, '\n');
}

void
an_opts_help(struct an_strbuf *out)
{
    an_strbuf_addstr(out, usage_lines);
    an_strbuf_addstr(out,
                     "\n"
                     "Report how often each bytecode instruction ran in .hops recordings made by\n"
                     "heavyops record.  Several FILEs are merged into one report.\n"
                     "\n"
                     "Commands:\n"
                     "  (none)    totals, then a COUNT | INSTRUCTION and a COUNT | LOCATION table\n"
                     "  diff      compare two recordings row by row (default --by location)\n"
                     "  info      describe each recording: run, threads, sizes\n"
                     "\n"
                     "Options:\n");
    size_t width = 0;
    struct an_strbuf syn = AN_STRBUF_INIT;
    for (size_t k = 0; k < NOPTIONS; k++) {
        an_strbuf_reset(&syn);
        option_synopsis(&syn, &options[k]);
        if (syn.len > width)
            width = syn.len;
    }
    for (size_t k = 0; k < NOPTIONS; k++) {
        an_strbuf_reset(&syn);
        option_synopsis(&syn, &options[k]);
        an_strbuf_addstr(out, an_strbuf_str(&syn));
        an_strbuf_addchars(out, ' ', width - syn.len + 2);
        add_wrapped(out, options[k].help, width + 2, 79);
    }
    an_strbuf_release(&syn);
    an_strbuf_addstr(out, "\n"
                          "Exit status: 0 success, 1 unreadable or corrupt input, 2 usage error.\n"
                          "See heavyops-analyze(1) (docs/heavyops-analyze.1.md) for the output "
                          "formats.\n");
}

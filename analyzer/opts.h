/*
 * opts.h - the command line, parsed into struct analyze_opts before anything is
 * read (git parse-options, zstd's FIO_prefs_t).  One option table drives both
 * the parser and --help, so the two cannot drift apart.
 */
#ifndef AN_OPTS_H
#define AN_OPTS_H

#include "aggregate.h"
#include "an_strbuf.h"
#include "filter.h"
#include "render.h"

#include <stddef.h>
#include <stdint.h>

enum an_command { AN_CMD_REPORT, AN_CMD_DIFF, AN_CMD_INFO };

#define AN_DEFAULT_TOP 20

struct analyze_opts {
    enum an_command cmd;
    int by_given; /* 0: the command's default view */
    enum an_by by;
    enum an_format format;
    uint64_t top; /* rows per table; 0 = all */
    struct an_filter filter;
    const char **files; /* Owned array of Borrowed argv strings */
    size_t nfiles;
    int help, version; /* print help or version and stop */
};

void an_opts_init(struct analyze_opts *o);
void an_opts_release(struct analyze_opts *o);

/* Parses argv[1..argc-1].  Options may come before, between or after file
 * names; "--" ends options.  The first non-option word selects a command when
 * it is "diff" or "info".  Returns AN_EXIT_OK, or AN_EXIT_USAGE with a one-line
 * message (lowercase, no "heavyops-analyze: " prefix, no newline) in err. */
int an_opts_parse(struct analyze_opts *o, int argc, char **argv, struct an_strbuf *err);

/* Full help, generated from the option table (for --help, to stdout). */
void an_opts_help(struct an_strbuf *out);
/* The short usage printed after a usage error (to stderr). */
void an_opts_usage(struct an_strbuf *out);

#endif /* AN_OPTS_H */

/*
 * cmd.h - the three views over a dataset, dispatched from cli.c:
 *
 *   cmd_report.c  default report (totals + instruction and location tables)
 *                 and single tables with --by
 *   cmd_diff.c    diff BEFORE AFTER, rows matched across two recordings
 *   cmd_info.c    info: what a recording is and how big
 *
 * Each appends its whole output to out, and diagnostics to warn/err, so that
 * cli.c can print stdout only when everything succeeded.  Each returns an
 * an_exit code.
 */
#ifndef AN_CMD_H
#define AN_CMD_H

#include "an_strbuf.h"
#include "opts.h"

struct an_cmd_io {
    struct an_strbuf out;  /* for stdout, printed only on success */
    struct an_strbuf warn; /* warnings, printed to stderr on success */
    struct an_strbuf err;  /* the error line, printed to stderr on failure */
};

int an_cmd_report(const struct analyze_opts *o, struct an_cmd_io *io);
int an_cmd_diff(const struct analyze_opts *o, struct an_cmd_io *io);
int an_cmd_info(const struct analyze_opts *o, struct an_cmd_io *io);

/* The report of an already loaded dataset (what an_cmd_report prints after
 * loading; tests call it on datasets built in memory). */
void an_report_dataset(const struct analyze_opts *o, const struct an_dataset *ds,
                       struct an_strbuf *out);
/* The diff of files 0 (before) and 1 (after) of ds. */
void an_diff_dataset(const struct analyze_opts *o, const struct an_dataset *ds,
                     struct an_strbuf *out);
/* The info text of every file in ds. */
void an_info_dataset(const struct analyze_opts *o, const struct an_dataset *ds,
                     struct an_strbuf *out);

#endif /* AN_CMD_H */

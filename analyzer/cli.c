/*
 * cli.c - argv -> analyze_opts -> command -> stdout/stderr; see cli.h.
 */
#include "cli.h"
#include "cmd.h"
#include "exitcodes.h"
#include "opts.h"

#include <errno.h>
#include <string.h>

int
an_cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    struct analyze_opts o;
    an_opts_init(&o);
    struct an_cmd_io io = {AN_STRBUF_INIT, AN_STRBUF_INIT, AN_STRBUF_INIT};
    int rc = an_opts_parse(&o, argc, argv, &io.err);
    if (rc != AN_EXIT_OK) {
        fprintf(err, "heavyops-analyze: %s\n", an_strbuf_str(&io.err));
        an_strbuf_reset(&io.err);
        an_opts_usage(&io.err);
        an_strbuf_write(&io.err, err);
        goto done;
    }
    if (o.help) {
        an_opts_help(&io.out);
    } else if (o.version) {
        an_strbuf_addstr(&io.out, "heavyops-analyze " AN_VERSION "\n");
    } else {
        switch (o.cmd) {
        case AN_CMD_REPORT:
            rc = an_cmd_report(&o, &io);
            break;
        case AN_CMD_DIFF:
            rc = an_cmd_diff(&o, &io);
            break;
        case AN_CMD_INFO:
            rc = an_cmd_info(&o, &io);
            break;
        }
    }
    if (rc != AN_EXIT_OK) {
        an_strbuf_write(&io.err, err);
        goto done;
    }
    an_strbuf_write(&io.warn, err);
    if (an_strbuf_write(&io.out, out) < 0) {
        /* e.g. a full disk; a closed pipe (| head) ends us by SIGPIPE first */
        fprintf(err, "heavyops-analyze: error writing output: %s\n", strerror(errno));
        rc = AN_EXIT_RUNTIME;
    }
done:
    an_strbuf_release(&io.out);
    an_strbuf_release(&io.warn);
    an_strbuf_release(&io.err);
    an_opts_release(&o);
    return rc;
}

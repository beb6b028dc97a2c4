/*
 * cmd_report.c - the default report and --by tables.
 *
 * Table format: a totals line, then either the COUNT | INSTRUCTION and
 * COUNT | LOCATION tables (no --by) or the one --by table.  CSV and JSON have
 * no room for two tables, so without --by they carry the location rows.
 */
#include "aggregate.h"
#include "an_xalloc.h"
#include "cmd.h"
#include "exitcodes.h"
#include "load.h"
#include "render.h"
#include "unmatched.h"

#include <inttypes.h>
#include <string.h>

/* "3,814 / 94,467 tracked instructions", or without the total when a file
 * counted only some instructions and the total is unknown. */
static void
totals_line(struct an_strbuf *out, const struct an_rows *rows)
{
    an_strbuf_add_thousands(out, rows->tracked);
    if (rows->total_known) {
        an_strbuf_addstr(out, " / ");
        an_strbuf_add_thousands(out, rows->total);
    }
    an_strbuf_addstr(out, " tracked instructions\n");
}

static size_t
shown_rows(const struct analyze_opts *o, const struct an_rows *rows)
{
    return o->top && o->top < rows->n ? (size_t)o->top : rows->n;
}

static void
render_table(const struct analyze_opts *o, const struct an_dataset *ds, const struct an_rows *rows,
             struct an_strbuf *out)
{
    const char *headers[2] = {"COUNT", an_view_get(rows->by)->title};
    const int right[2] = {1, 0};
    struct an_table t;
    an_table_init(&t, 2, headers, right);
    struct an_strbuf cell = AN_STRBUF_INIT;
    size_t n = shown_rows(o, rows);
    for (size_t i = 0; i < n; i++) {
        an_strbuf_reset(&cell);
        an_strbuf_add_thousands(&cell, rows->rows[i].count);
        an_table_add_cell(&t, an_strbuf_str(&cell));
        an_strbuf_reset(&cell);
        an_render_key_text(&cell, rows->by, &ds->strs, &rows->rows[i]);
        an_table_add_cell(&t, an_strbuf_str(&cell));
    }
    t.more = rows->n - n;
    an_table_render(&t, out);
    an_table_release(&t);
    an_strbuf_release(&cell);
}

static void
render_csv(const struct analyze_opts *o, const struct an_dataset *ds, const struct an_rows *rows,
           struct an_strbuf *out)
{
    const struct an_view *v = an_view_get(rows->by);
    const char *names[AN_MAX_FIELDS + 1] = {"count"};
    for (unsigned i = 0; i < v->nfields; i++)
        names[i + 1] = an_field_get(v->fields[i])->name;
    an_csv_names(out, names, v->nfields + 1);
    struct an_value vals[AN_MAX_FIELDS + 1];
    size_t n = shown_rows(o, rows);
    for (size_t r = 0; r < n; r++) {
        vals[0] = (struct an_value){.kind = AN_V_U64, .u = rows->rows[r].count};
        unsigned nv = an_row_values(rows->by, &ds->strs, &rows->rows[r], vals + 1);
        an_csv_record(out, vals, nv + 1);
    }
}

static void
render_json(const struct analyze_opts *o, const struct an_dataset *ds, const struct an_rows *rows,
            struct an_strbuf *out)
{
    const struct an_view *v = an_view_get(rows->by);
    const char *names[AN_MAX_FIELDS + 1] = {"count"};
    for (unsigned i = 0; i < v->nfields; i++)
        names[i + 1] = an_field_get(v->fields[i])->name;
    an_strbuf_addf(out, "{\n  \"tracked\": %" PRIu64 ",\n  \"total\": ", rows->tracked);
    if (rows->total_known)
        an_strbuf_addf(out, "%" PRIu64, rows->total);
    else
        an_strbuf_addstr(out, "null");
    an_strbuf_addstr(out, ",\n  \"rows\": [");
    struct an_value vals[AN_MAX_FIELDS + 1];
    size_t n = shown_rows(o, rows);
    for (size_t r = 0; r < n; r++) {
        vals[0] = (struct an_value){.kind = AN_V_U64, .u = rows->rows[r].count};
        unsigned nv = an_row_values(rows->by, &ds->strs, &rows->rows[r], vals + 1);
        an_strbuf_addstr(out, r ? ",\n    " : "\n    ");
        an_json_object(out, names, vals, nv + 1);
    }
    an_strbuf_addstr(out, n ? "\n  ]\n}\n" : "]\n}\n");
}

void
an_report_dataset(const struct analyze_opts *o, const struct an_dataset *ds, struct an_strbuf *out)
{
    struct an_rows rows;
    an_rows_init(&rows);
    enum an_by by = o->by_given ? o->by : AN_BY_LOCATION;
    /* Only the rows shown need sorting. */
    size_t top = o->top > SIZE_MAX ? 0 : (size_t)o->top;
    if (o->format == AN_FORMAT_TABLE && !o->by_given) {
        an_aggregate_top(ds, &o->filter, AN_BY_INSTRUCTION, top, &rows);
        totals_line(out, &rows);
        an_strbuf_addch(out, '\n');
        render_table(o, ds, &rows, out);
        an_strbuf_addch(out, '\n');
        an_aggregate_top(ds, &o->filter, AN_BY_LOCATION, top, &rows);
        render_table(o, ds, &rows, out);
    } else {
        an_aggregate_top(ds, &o->filter, by, top, &rows);
        switch (o->format) {
        case AN_FORMAT_TABLE:
            totals_line(out, &rows);
            an_strbuf_addch(out, '\n');
            render_table(o, ds, &rows, out);
            break;
        case AN_FORMAT_CSV:
            render_csv(o, ds, &rows, out);
            break;
        case AN_FORMAT_JSON:
            render_json(o, ds, &rows, out);
            break;
        }
    }
    an_rows_release(&rows);
}

int
an_cmd_report(const struct analyze_opts *o, struct an_cmd_io *io)
{
    struct an_dataset ds;
    an_dataset_init(&ds);
    ds.per_thread = an_needs_thread_counts(&o->filter, o->by_given ? o->by : AN_BY_LOCATION);
    int rc = an_dataset_load_paths(&ds, o->files, o->nfiles, &io->warn, &io->err);
    if (rc == AN_EXIT_OK) {
        an_warn_unmatched(&o->filter, &ds, &io->warn);
        an_report_dataset(o, &ds, &io->out);
    }
    an_dataset_release(&ds);
    return rc;
}

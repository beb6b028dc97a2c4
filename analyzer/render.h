/*
 * render.h - last stage: turn rows into text.  Three output formats:
 *
 *   table  aligned columns for people: counts with thousands separators,
 *          right-aligned, " | " between columns, a dashed rule under the
 *          header, and odd bytes in names shown as C escapes;
 *   csv    RFC 4180 quoting (fields with ',', '"', CR or LF are quoted and
 *          quotes doubled), LF line ends, strings as the raw recorded bytes;
 *   json   one document; strings escaped per RFC 8259 with control characters
 *          as \u00XX and bytes that are not valid UTF-8 replaced by U+FFFD.
 *
 * The views (cmd_report.c, cmd_diff.c) decide what the columns are; this
 * module only knows cells, values and key text.
 */
#ifndef AN_RENDER_H
#define AN_RENDER_H

#include "aggregate.h"
#include "an_strbuf.h"

#include <stddef.h>
#include <stdint.h>

enum an_format { AN_FORMAT_TABLE, AN_FORMAT_CSV, AN_FORMAT_JSON };

/* Parses a --format value; returns 0 or -1. */
int an_format_parse(const char *s, enum an_format *out);

/* ---- tables ---------------------------------------------------------------- */

#define AN_TABLE_MAX_COLS 8

struct an_table {
    unsigned ncols;
    const char *headers[AN_TABLE_MAX_COLS]; /* Borrowed */
    int right[AN_TABLE_MAX_COLS];           /* 1: right-aligned (numbers) */
    char **cells;                           /* Owned; row-major, nrows * ncols */
    size_t ncells, cells_cap;
    size_t more; /* rows left out by --top, announced on the last line */
};

void an_table_init(struct an_table *t, unsigned ncols, const char *const *headers,
                   const int *right);
void an_table_release(struct an_table *t);
/* Appends the next cell (row-major); the text is copied. */
void an_table_add_cell(struct an_table *t, const char *text);
/* Renders header, rule, rows and the "... N more rows" line.  The last column
 * is not padded, so lines carry no trailing blanks. */
void an_table_render(const struct an_table *t, struct an_strbuf *out);

/* Appends the table form of a row's key: e.g. "app.py:12:9 main BUILD_LIST"
 * for a location (see docs/heavyops-analyze.1.md for each view). */
void an_render_key_text(struct an_strbuf *sb, enum an_by by, const struct an_strtab *strs,
                        const struct an_row *row);

/* ---- typed values for CSV and JSON ------------------------------------------ */

enum an_vkind { AN_V_NULL, AN_V_U64, AN_V_I64, AN_V_STR, AN_V_NUM };

struct an_value {
    enum an_vkind kind;
    uint64_t u;
    int64_t i;
    const char *s; /* AN_V_STR: Borrowed text; AN_V_NUM: a preformatted number */
};

/* The key fields of a row as values (column made 1-based, unknown line and
 * column null); returns the number of values written (the view's nfields). */
unsigned an_row_values(enum an_by by, const struct an_strtab *strs, const struct an_row *row,
                       struct an_value *vals);

/* One CSV line of names or values, ending in "\n". */
void an_csv_names(struct an_strbuf *sb, const char *const *names, size_t n);
void an_csv_record(struct an_strbuf *sb, const struct an_value *vals, size_t n);
/* One CSV field, quoted when it must be. */
void an_csv_field(struct an_strbuf *sb, const char *s);

/* A JSON string literal, quotes included. */
void an_json_string(struct an_strbuf *sb, const char *s);
void an_json_value(struct an_strbuf *sb, const struct an_value *v);
/* {"name": value, ...} on one line. */
void an_json_object(struct an_strbuf *sb, const char *const *names, const struct an_value *vals,
                    size_t n);

/* Signed with thousands separators: "+1,234", "-5", "0". */
void an_render_delta(struct an_strbuf *sb, int64_t delta);

#endif /* AN_RENDER_H */

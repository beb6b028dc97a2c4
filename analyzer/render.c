/*
 * render.c - tables, CSV and JSON; see render.h.
 */
#include "render.h"
#include "an_xalloc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int
an_format_parse(const char *s, enum an_format *out)
{
    static const char *const names[] = {"table", "csv", "json"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum an_format)i;
            return 0;
        }
    }
    return -1;
}

/* ---- tables ---------------------------------------------------------------- */

void
an_table_init(struct an_table *t, unsigned ncols, const char *const *headers, const int *right)
{
    memset(t, 0, sizeof *t);
    if (ncols > AN_TABLE_MAX_COLS)
        ncols = AN_TABLE_MAX_COLS;
    t->ncols = ncols;
    for (unsigned i = 0; i < ncols; i++) {
        t->headers[i] = headers[i];
        t->right[i] = right ? right[i] : 0;
    }
}

void
an_table_release(struct an_table *t)
{
    for (size_t i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void
an_table_add_cell(struct an_table *t, const char *text)
{
    AN_GROW(t->cells, t->ncells + 1, t->cells_cap);
    t->cells[t->ncells++] = an_xstrdup(text);
}

/* Terminal columns taken by s: one per UTF-8 code point.  Cells were made
 * printable (an_strbuf_add_printable), so there are no control characters. */
static size_t
text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

static void
add_cell(struct an_strbuf *out, const char *s, size_t width, int right, int last)
{
    size_t w = text_width(s);
    size_t pad = width > w ? width - w : 0;
    if (right)
        an_strbuf_addchars(out, ' ', pad);
    an_strbuf_addstr(out, s);
    if (!right && !last)
        an_strbuf_addchars(out, ' ', pad);
}

void
an_table_render(const struct an_table *t, struct an_strbuf *out)
{
    size_t width[AN_TABLE_MAX_COLS];
    size_t nrows = t->ncols ? t->ncells / t->ncols : 0;
    for (unsigned c = 0; c < t->ncols; c++) {
        width[c] = text_width(t->headers[c]);
        for (size_t r = 0; r < nrows; r++) {
            size_t w = text_width(t->cells[r * t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (unsigned c = 0; c < t->ncols; c++) {
        if (c)
            an_strbuf_addstr(out, " | ");
        add_cell(out, t->headers[c], width[c], t->right[c], c + 1 == t->ncols);
    }
    an_strbuf_addch(out, '\n');
    for (unsigned c = 0; c < t->ncols; c++) {
        if (c)
            an_strbuf_addstr(out, "-+-");
        an_strbuf_addchars(out, '-', width[c]);
    }
    an_strbuf_addch(out, '\n');
    for (size_t r = 0; r < nrows; r++) {
        for (unsigned c = 0; c < t->ncols; c++) {
            if (c)
                an_strbuf_addstr(out, " | ");
            add_cell(out, t->cells[r * t->ncols + c], width[c], t->right[c], c + 1 == t->ncols);
        }
        an_strbuf_addch(out, '\n');
    }
    if (!nrows && !t->more)
        an_strbuf_addstr(out, "(no rows)\n");
    if (t->more) {
        an_strbuf_addstr(out, "\xe2\x80\xa6 "); /* U+2026 HORIZONTAL ELLIPSIS */
        an_strbuf_add_thousands(out, t->more);
        an_strbuf_addstr(out, t->more == 1 ? " more row (--top 0 shows all)\n"
                                           : " more rows (--top 0 shows all)\n");
    }
}

/* ---- key text -------------------------------------------------------------- */

static void
add_str(struct an_strbuf *sb, const struct an_strtab *strs, int64_t id)
{
    an_strbuf_add_printable(sb, an_strtab_get(strs, (uint32_t)id));
}

static void
add_line_col(struct an_strbuf *sb, int64_t line, int64_t col)
{
    if (line >= 0)
        an_strbuf_addf(sb, ":%" PRId64, line);
    else
        an_strbuf_addstr(sb, ":?");
    if (col >= 0)
        an_strbuf_addf(sb, ":%" PRId64, col + 1);
    else
        an_strbuf_addstr(sb, ":?");
}

void
an_render_key_text(struct an_strbuf *sb, enum an_by by, const struct an_strtab *strs,
                   const struct an_row *row)
{
    const int64_t *f = row->f;
    switch (by) {
    case AN_BY_INSTRUCTION:
        add_str(sb, strs, f[0]);
        break;
    case AN_BY_LOCATION:
    case AN_BY_LOCATION_FN: /* file:line:col qualname OPNAME */
        add_str(sb, strs, f[0]);
        add_line_col(sb, f[1], f[2]);
        an_strbuf_addch(sb, ' ');
        add_str(sb, strs, f[3]);
        an_strbuf_addch(sb, ' ');
        add_str(sb, strs, f[4]);
        break;
    case AN_BY_LINE: /* file:line */
        add_str(sb, strs, f[0]);
        if (f[1] >= 0)
            an_strbuf_addf(sb, ":%" PRId64, f[1]);
        else
            an_strbuf_addstr(sb, ":?");
        break;
    case AN_BY_FUNCTION: /* file:firstlineno qualname */
        add_str(sb, strs, f[0]);
        an_strbuf_addf(sb, ":%" PRId64 " ", f[2]);
        add_str(sb, strs, f[1]);
        break;
    case AN_BY_FILE:
        add_str(sb, strs, f[0]);
        break;
    case AN_BY_THREAD: /* tid name */
        an_strbuf_addf(sb, "%" PRIu64, (uint64_t)f[0]);
        if (an_strtab_len(strs, (uint32_t)f[1])) {
            an_strbuf_addch(sb, ' ');
            add_str(sb, strs, f[1]);
        }
        break;
    case AN_BY_PROCESS: /* pid recording */
        an_strbuf_addf(sb, "%" PRIu64 " ", (uint64_t)f[0]);
        add_str(sb, strs, f[1]);
        break;
    case AN_BY_SITE: /* file:line:col qualname@firstlineno+offset OPNAME */
        add_str(sb, strs, f[0]);
        add_line_col(sb, f[4], f[5]);
        an_strbuf_addch(sb, ' ');
        add_str(sb, strs, f[1]);
        an_strbuf_addf(sb, "@%" PRId64 "+%" PRId64 " ", f[2], f[3]);
        add_str(sb, strs, f[6]);
        break;
    case AN_BY_THREAD_NAME:
        add_str(sb, strs, f[0]);
        break;
    default:
        break;
    }
}

/* ---- values ---------------------------------------------------------------- */

unsigned
an_row_values(enum an_by by, const struct an_strtab *strs, const struct an_row *row,
              struct an_value *vals)
{
    const struct an_view *v = an_view_get(by);
    for (unsigned i = 0; i < v->nfields; i++) {
        const struct an_field_desc *d = an_field_get(v->fields[i]);
        struct an_value *out = &vals[i];
        memset(out, 0, sizeof *out);
        int64_t x = row->f[i];
        if (d->kind == AN_FK_STR) {
            out->kind = AN_V_STR;
            out->s = an_strtab_get(strs, (uint32_t)x);
        } else if (d->kind == AN_FK_U64) {
            out->kind = AN_V_U64;
            out->u = (uint64_t)x;
        } else if (d->nullable && x < 0) {
            out->kind = AN_V_NULL;
        } else {
            out->kind = AN_V_I64;
            /* Columns are recorded 0-based; editors count from 1. */
            out->i = v->fields[i] == AN_F_COLUMN ? x + 1 : x;
        }
    }
    return v->nfields;
}

void
an_csv_field(struct an_strbuf *sb, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        an_strbuf_addstr(sb, s);
        return;
    }
    an_strbuf_addch(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            an_strbuf_addch(sb, '"');
        an_strbuf_addch(sb, *s);
    }
    an_strbuf_addch(sb, '"');
}

void
an_csv_names(struct an_strbuf *sb, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            an_strbuf_addch(sb, ',');
        an_csv_field(sb, names[i]);
    }
    an_strbuf_addch(sb, '\n');
}

void
an_csv_record(struct an_strbuf *sb, const struct an_value *vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct an_value *v = &vals[i];
        if (i)
            an_strbuf_addch(sb, ',');
        switch (v->kind) {
        case AN_V_NULL:
            break; /* an empty field */
        case AN_V_U64:
            an_strbuf_addf(sb, "%" PRIu64, v->u);
            break;
        case AN_V_I64:
            an_strbuf_addf(sb, "%" PRId64, v->i);
            break;
        case AN_V_STR:
        case AN_V_NUM:
            an_csv_field(sb, v->s);
            break;
        }
    }
    an_strbuf_addch(sb, '\n');
}

void
an_json_string(struct an_strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    an_strbuf_addch(sb, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            an_strbuf_addch(sb, '\\');
            an_strbuf_addch(sb, (char)c);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            an_strbuf_addf(sb, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            an_strbuf_addch(sb, (char)c);
            i++;
        } else {
            size_t len = an_utf8_seq_len(p + i, n - i);
            if (len) {
                an_strbuf_add(sb, p + i, len);
                i += len;
            } else {
                /* JSON text must be UTF-8: a byte that is not becomes U+FFFD. */
                an_strbuf_addstr(sb, "\\ufffd");
                i++;
            }
        }
    }
    an_strbuf_addch(sb, '"');
}

void
an_json_value(struct an_strbuf *sb, const struct an_value *v)
{
    switch (v->kind) {
    case AN_V_NULL:
        an_strbuf_addstr(sb, "null");
        break;
    case AN_V_U64:
        an_strbuf_addf(sb, "%" PRIu64, v->u);
        break;
    case AN_V_I64:
        an_strbuf_addf(sb, "%" PRId64, v->i);
        break;
    case AN_V_STR:
        an_json_string(sb, v->s);
        break;
    case AN_V_NUM:
        an_strbuf_addstr(sb, v->s);
        break;
    }
}

void
an_json_object(struct an_strbuf *sb, const char *const *names, const struct an_value *vals,
               size_t n)
{
    an_strbuf_addch(sb, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            an_strbuf_addstr(sb, ", ");
        an_json_string(sb, names[i]);
        an_strbuf_addstr(sb, ": ");
        an_json_value(sb, &vals[i]);
    }
    an_strbuf_addch(sb, '}');
}

void
an_render_delta(struct an_strbuf *sb, int64_t delta)
{
    if (delta > 0) {
        an_strbuf_addch(sb, '+');
        an_strbuf_add_thousands(sb, (uint64_t)delta);
    } else if (delta < 0) {
        an_strbuf_addch(sb, '-');
        an_strbuf_add_thousands(sb,
                                delta == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-delta);
    } else {
        an_strbuf_addch(sb, '0');
    }
}

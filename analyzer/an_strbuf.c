/*
 * an_strbuf.c - growable output buffer and the small text formatters the
 * renderers share.
 */
#include "an_strbuf.h"
#include "an_xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
an_strbuf_init(struct an_strbuf *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void
an_strbuf_release(struct an_strbuf *sb)
{
    free(sb->buf);
    an_strbuf_init(sb);
}

void
an_strbuf_reset(struct an_strbuf *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

const char *
an_strbuf_str(const struct an_strbuf *sb)
{
    return sb->buf ? sb->buf : "";
}

static void
grow(struct an_strbuf *sb, size_t extra)
{
    if (extra > SIZE_MAX - sb->len - 1)
        an_die_nomem();
    AN_GROW(sb->buf, sb->len + extra + 1, sb->cap);
}

void
an_strbuf_add(struct an_strbuf *sb, const void *data, size_t len)
{
    grow(sb, len);
    memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void
an_strbuf_addstr(struct an_strbuf *sb, const char *s)
{
    an_strbuf_add(sb, s, strlen(s));
}

void
an_strbuf_addch(struct an_strbuf *sb, char c)
{
    grow(sb, 1);
    sb->buf[sb->len++] = c;
    sb->buf[sb->len] = '\0';
}

void
an_strbuf_addchars(struct an_strbuf *sb, char c, size_t n)
{
    grow(sb, n);
    memset(sb->buf + sb->len, c, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void
an_strbuf_addf(struct an_strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        an_strbuf_add(sb, small, (size_t)n);
        return;
    }
    grow(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void
an_strbuf_add_thousands(struct an_strbuf *sb, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            an_strbuf_addch(sb, ',');
        an_strbuf_addch(sb, digits[i]);
    }
}

size_t
an_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong 3/4-byte forms, UTF-16 surrogates and beyond U+10FFFF. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void
an_strbuf_add_printable(struct an_strbuf *sb, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            an_strbuf_addch(sb, (char)c);
            i++;
            continue;
        }
        switch (c) {
        case '\\':
            an_strbuf_addstr(sb, "\\\\");
            i++;
            continue;
        case '\n':
            an_strbuf_addstr(sb, "\\n");
            i++;
            continue;
        case '\t':
            an_strbuf_addstr(sb, "\\t");
            i++;
            continue;
        case '\r':
            an_strbuf_addstr(sb, "\\r");
            i++;
            continue;
        default:
            break;
        }
        size_t len = c >= 0x80 ? an_utf8_seq_len(p + i, n - i) : 0;
        /* C1 controls (U+0080..U+009F) are valid UTF-8 but move terminals around. */
        if (len == 2 && c == 0xc2 && p[i + 1] < 0xa0)
            len = 0;
        if (len) {
            an_strbuf_add(sb, p + i, len);
            i += len;
        } else {
            an_strbuf_addf(sb, "\\x%02x", c);
            i++;
        }
    }
}

int
an_strbuf_write(const struct an_strbuf *sb, FILE *f)
{
    if (sb->len && fwrite(sb->buf, 1, sb->len, f) != sb->len)
        return -1;
    return fflush(f) == 0 ? 0 : -1;
}

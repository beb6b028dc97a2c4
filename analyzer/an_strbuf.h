/*
 * an_strbuf.h - a growable byte buffer (git's strbuf, reduced).  Every report is
 * built in one of these and written out only once it is complete, so that an
 * error found halfway through a file leaves stdout empty.
 */
#ifndef AN_STRBUF_H
#define AN_STRBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct an_strbuf {
    char *buf;  /* Owned; always NUL-terminated once anything was added */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap;
};

#define AN_STRBUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void an_strbuf_init(struct an_strbuf *sb);
/* Frees the buffer and leaves sb empty and reusable. */
void an_strbuf_release(struct an_strbuf *sb);
/* Empties sb, keeping its memory. */
void an_strbuf_reset(struct an_strbuf *sb);
/* Returns sb's contents as a NUL-terminated string ("" when empty); Borrowed. */
const char *an_strbuf_str(const struct an_strbuf *sb);

void an_strbuf_add(struct an_strbuf *sb, const void *data, size_t len);
void an_strbuf_addstr(struct an_strbuf *sb, const char *s);
void an_strbuf_addch(struct an_strbuf *sb, char c);
/* Appends n copies of c. */
void an_strbuf_addchars(struct an_strbuf *sb, char c, size_t n);
void an_strbuf_addf(struct an_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends v in decimal with a ',' every three digits: 1234567 -> "1,234,567". */
void an_strbuf_add_thousands(struct an_strbuf *sb, uint64_t v);

/* Appends s so that it is safe on one line of a terminal table: printable ASCII
 * and valid UTF-8 pass through; '\n', '\t', '\r' and '\\' become C escapes and
 * other control or invalid bytes become \xNN. */
void an_strbuf_add_printable(struct an_strbuf *sb, const char *s);

/* Writes the whole buffer to f; returns 0 or -1 on a write error. */
int an_strbuf_write(const struct an_strbuf *sb, FILE *f);

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or 0 if
 * the bytes there are not valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF are invalid). */
size_t an_utf8_seq_len(const unsigned char *s, size_t n);

#endif /* AN_STRBUF_H */

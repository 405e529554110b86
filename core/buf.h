/* buf.h - a growable NUL-terminated text buffer for building files and
 * messages of unknown length with printf-style appends.
 *
 * A Buf starts as {0}. An allocation failure sets oom and turns every later
 * append into a no-op, so a caller checks once at the end. */
#ifndef EQUIGRID_CORE_BUF_H
#define EQUIGRID_CORE_BUF_H

#include <stddef.h>

#include "errmsg.h"

typedef struct {
    char *p;    /* the text, NUL-terminated once anything was appended; NULL before */
    size_t n;   /* its length in bytes, without the NUL */
    size_t cap; /* bytes allocated at p */
    int oom;    /* an append failed (out of memory); the text is incomplete */
} Buf;

/* Appends the formatted text. */
void buf_printf(Buf *b, const char *fmt, ...) ERRMSG_PRINTF(2, 3);

/* Appends n bytes of data (which must not contain NUL for text use). */
void buf_append(Buf *b, const void *data, size_t n);

/* Hands the text to the caller (free() it) and resets b to {0}: "" when
 * nothing was appended, NULL after an allocation failure. */
char *buf_take(Buf *b);

/* Frees the text and resets b to {0}; b NULL is a no-op. */
void buf_free(Buf *b);

#endif

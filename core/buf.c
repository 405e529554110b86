/* buf.c - growable text buffer (see buf.h). Grows by doubling. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes room for extra more bytes plus the NUL; 0 or -1 (oom set). */
static int buf_reserve(Buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->p && b->n + extra < b->cap)
        return 0;
    size_t cap = (b->cap ? b->cap * 2 : 1024) + extra;
    char *np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

void buf_printf(Buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = 1;
        return;
    }
    if (buf_reserve(b, (size_t)k) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void buf_append(Buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
}

char *buf_take(Buf *b)
{
    char *p = b->oom ? NULL : b->p ? b->p : calloc(1, 1);
    if (b->oom)
        free(b->p);
    memset(b, 0, sizeof *b);
    return p;
}

void buf_free(Buf *b)
{
    if (!b)
        return;
    free(b->p);
    memset(b, 0, sizeof *b);
}

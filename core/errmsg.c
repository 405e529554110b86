/* errmsg.c - formatting of library error messages (see errmsg.h). */
#include "errmsg.h"

#include <stdio.h>

int errmsg_vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    return -1;
}

int errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int errmsg_vat(char *err, size_t errlen, const char *path, long line, long col, const char *fmt, va_list ap)
{
    if (!err || errlen == 0)
        return -1;
    int used = col > 0 ? snprintf(err, errlen, "%s:%ld:%ld: ", path, line, col) : snprintf(err, errlen, "%s:%ld: ", path, line);
    if (used >= 0 && (size_t)used < errlen)
        vsnprintf(err + used, errlen - (size_t)used, fmt, ap);
    return -1;
}

int errmsg_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vat(err, errlen, path, line, 0, fmt, ap);
    va_end(ap);
    return -1;
}

/* errmsg.h - the one formatter of library error messages.
 *
 * Library functions report failures through a caller-owned buffer
 * (char *err, size_t errlen); messages read "file:line: what was wrong;
 * allowed ...". These helpers are the only place that formats into such a
 * buffer: they never write past errlen, always NUL-terminate, and do
 * nothing when err is NULL or errlen is 0. */
#ifndef EQUIGRID_CORE_ERRMSG_H
#define EQUIGRID_CORE_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define ERRMSG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ERRMSG_PRINTF(a, b)
#endif

/* Formats fmt into err (truncated to errlen - 1 characters). Returns -1, so
 * that a failing function can `return errmsg_set(err, errlen, ...);`. */
int errmsg_set(char *err, size_t errlen, const char *fmt, ...) ERRMSG_PRINTF(3, 4);

/* errmsg_set with a va_list. Returns -1. */
int errmsg_vset(char *err, size_t errlen, const char *fmt, va_list ap);

/* "path:line: " followed by fmt, the location prefix of every message about
 * a line of a file. Returns -1. */
int errmsg_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...) ERRMSG_PRINTF(5, 6);

/* "path:line: " (col <= 0) or "path:line:col: " followed by fmt with a
 * va_list. Returns -1. */
int errmsg_vat(char *err, size_t errlen, const char *path, long line, long col, const char *fmt, va_list ap);

#endif

/* inifile.h - the one way the program reads INI files (configs, compare
 * specs, transfer specs): inih parses, and this module's line reader in
 * front of it makes the reading strict and line-numbered.
 *
 * The reader hands inih one whole line at a time: leading and trailing
 * blanks removed (so an indented line is never taken as the continuation of
 * the previous value), a UTF-8 byte order mark on the first line skipped. A
 * line longer than inih's line buffer (INI_MAX_LINE of the shared library,
 * 200 bytes in Debian's build: 198 characters of text) is an error naming
 * name:line, comment lines included: it is never split. A NUL byte is an
 * error. Keys may repeat (the callback decides).
 * Every message reads "name:line: what" with the callback's text as what. */
#ifndef EQUIGRID_CONFIGS_INIFILE_H
#define EQUIGRID_CONFIGS_INIFILE_H

#include <stddef.h>
#include <stdio.h>

/* Sees each line (number line) before inih parses it: blanks removed, never
 * empty or a comment; inline comments are still there. Section headers are
 * seen here only (inih does not report a section without keys). Returns 0 to
 * go on, or -1 with what is wrong in what. */
typedef int (*IniLineFn)(void *user, const char *text, int line, char *what, size_t whatlen);
/* One "key = value" (section "" before the first header), in file order.
 * Returns 0 to go on, or -1 with what is wrong in what. */
typedef int (*IniPairFn)(void *user, const char *section, const char *key, const char *value, int line, char *what, size_t whatlen);

typedef struct {
    const char *name;      /* the file's name, for messages */
    FILE *f;               /* read from f, or, when NULL, ... */
    const char *text;      /* ... from this NUL-terminated text */
    IniLineFn line;        /* NULL: no check */
    IniPairFn pair;        /* required */
    void *user;            /* passed to both */
    const char *long_hint; /* appended to "line longer than N characters; allowed: shorter lines" */
} IniSource;

/* Reads the whole source. Returns 0, or -1 with "name:line: what" (from a
 * callback, an over-long line, a NUL byte, or an inih syntax error), "name:
 * read error: ..." or "name: out of memory" in err. */
int inifile_parse(const IniSource *src, char *err, size_t errlen);

/* inih's line buffer in bytes as the linked library reports it (Debian: 200). */
int inifile_max_line(void);

#endif

/* inifile.c - inih behind a strict line reader (see inifile.h). */
#include "inifile.h"

#include <errno.h>
#include <string.h>

#include <ini.h>

#include "../core/errmsg.h"

enum { WHAT = 1024 };

typedef struct {
    const IniSource *src;
    const char *s; /* cursor in src->text */
    int line;      /* lines handed to inih so far */
    int failed;
    char what[WHAT];
} IniState;

static void fail(IniState *st, const char *what)
{
    if (!st->failed)
        snprintf(st->what, sizeof st->what, "%s", what);
    st->failed = 1;
}

static int next_char(IniState *st)
{
    if (st->src->f)
        return getc(st->src->f);
    return *st->s ? (unsigned char)*st->s++ : EOF;
}

/* Reads one physical line into str (at most cap characters kept); returns
 * 0 at the end of input, else 1 with *toolong and *nul set. */
static int read_line(IniState *st, char *str, size_t cap, int *toolong, int *nul)
{
    size_t n = 0;
    int any = 0;
    *toolong = *nul = 0;
    for (int ch; (ch = next_char(st)) != EOF;) {
        any = 1;
        if (ch == '\n')
            break;
        if (ch == '\0')
            *nul = 1;
        if (n < cap)
            str[n++] = (char)ch;
        else
            *toolong = 1;
    }
    str[n] = '\0';
    return any;
}

/* Removes the BOM (first line), leading and trailing blanks in place;
 * returns the length. */
static size_t trim_line(IniState *st, char *str)
{
    char *t = str;
    if (st->line == 1 && (unsigned char)t[0] == 0xEF && (unsigned char)t[1] == 0xBB && (unsigned char)t[2] == 0xBF)
        t += 3;
    while (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\f' || *t == '\v')
        t++;
    size_t len = strlen(t);
    memmove(str, t, len + 1);
    while (len && (str[len - 1] == ' ' || str[len - 1] == '\t' || str[len - 1] == '\r'))
        str[--len] = '\0';
    return len;
}

/* inih's reader: one whole line per call, always ending in '\n', or NULL at
 * the end of input or after an error. */
static char *reader(char *str, int num, void *stream)
{
    IniState *st = stream;
    if (st->failed || num < 3)
        return NULL;
    size_t cap = (size_t)num - 2;
    int toolong, nul;
    if (!read_line(st, str, cap, &toolong, &nul))
        return NULL;
    st->line++;
    size_t len = trim_line(st, str);
    if (nul) {
        fail(st, "line contains a NUL byte; allowed: text");
        return NULL;
    }
    if (toolong) {
        char what[WHAT];
        snprintf(what, sizeof what, "line longer than %d characters; allowed: shorter lines%s", (int)cap, st->src->long_hint ? st->src->long_hint : "");
        fail(st, what);
        return NULL;
    }
    if (len == 0 || str[0] == ';' || str[0] == '#') {
        snprintf(str, (size_t)num, "\n");
        return str;
    }
    char what[WHAT];
    if (st->src->line && st->src->line(st->src->user, str, st->line, what, sizeof what) != 0) {
        fail(st, what);
        return NULL;
    }
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    IniState *st = user;
    if (st->failed)
        return 0;
    char what[WHAT];
    if (st->src->pair(st->src->user, section, name, value, st->line, what, sizeof what) != 0) {
        fail(st, what);
        return 0;
    }
    return 1;
}

int inifile_parse(const IniSource *src, char *err, size_t errlen)
{
    IniState st;
    memset(&st, 0, sizeof st);
    st.src = src;
    st.s = src->text ? src->text : "";
    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (st.failed)
        return errmsg_at(err, errlen, src->name, st.line, "%s", st.what);
    if (src->f && ferror(src->f))
        return errmsg_set(err, errlen, "%s: read error: %s", src->name, strerror(errno));
    if (rc == -2)
        return errmsg_set(err, errlen, "%s: out of memory", src->name);
    if (rc != 0)
        return errmsg_at(err, errlen, src->name, rc, "syntax error; allowed: '[section]', 'key = value' or a comment");
    return 0;
}

static char *probe_reader(char *str, int num, void *stream)
{
    (void)str;
    *(int *)stream = num;
    return NULL;
}

static int probe_handler(void *user, const char *section, const char *name, const char *value)
{
    (void)user, (void)section, (void)name, (void)value;
    return 1;
}

int inifile_max_line(void)
{
    int num = 0;
    ini_parse_stream(probe_reader, &num, probe_handler, NULL);
    return num;
}

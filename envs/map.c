/* map.c - ASCII map files for the `map` env: parsing, validation, loading.
 * Tuned for robustness, not speed: any byte sequence either yields a valid
 * EnvMap or exactly one message "name:line:col: what was wrong; what is
 * allowed" (lines and columns 1-based, columns in bytes).
 *
 * Format: '#' wall, '.' floor, 'A' agent start (one or more, at most
 * ENV_MAX_STARTS), 'G' goal (exactly one), 'L' lava. Rows end with "\n" or
 * "\r\n"; the final newline may be missing and blank lines may follow the last
 * row. The map is square, N x N with N <= ENV_MAX_N, and its outer ring is all
 * walls (so no move can leave the grid; the step loop relies on that). The goal
 * must be reachable from at least one start without crossing walls or lava. */
#include "env.h"

#include "../core/file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"

#define MAP_ALLOWED "allowed: '#' wall, '.' floor, 'A' agent start, 'G' goal, 'L' lava"

enum { MAP_FILE_CAP = 1 << 20 }; /* bytes; a 64x64 map with CRLF is ~4.3 KB */

/* Formats "name:line:col: <fmt>" into err and returns -1. */
static int map_fail(char *err, size_t errlen, const char *name, unsigned long line, unsigned long col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errmsg_vat(err, errlen, name, (long)line, (long)col, fmt, ap);
    va_end(ap);
    return -1;
}

/* True when the goal can be walked to from some start (4-neighbour moves over
 * cells that are neither wall nor lava). */
static int map_goal_reachable(const EnvMap *m, int goal)
{
    uint8_t seen[ENV_MAX_CELLS] = {0};
    int16_t queue[ENV_MAX_CELLS];
    int n = m->n, head = 0, tail = 0;
    seen[goal] = 1;
    queue[tail++] = (int16_t)goal;
    while (head < tail) {
        int p = queue[head++], r = p / n, c = p % n;
        int nb[4] = {r > 0 ? p - n : -1, c < n - 1 ? p + 1 : -1, r < n - 1 ? p + n : -1, c > 0 ? p - 1 : -1};
        for (int k = 0; k < 4; k++) {
            int q = nb[k];
            if (q >= 0 && !seen[q] && !(m->cells[q] & (CELL_WALL | CELL_LAVA))) {
                seen[q] = 1;
                queue[tail++] = (int16_t)q;
            }
        }
    }
    for (int i = 0; i < m->nstarts; i++)
        if (seen[m->starts[i]])
            return 1;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..len) (2 to 4 bytes, no
 * overlong forms or surrogates) with its code point in *cp, or 0. */
static int utf8_seq(const unsigned char *s, size_t len, unsigned long *cp)
{
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (n == 0 || (s[0] >= 0xf5) || len < (size_t)n)
        return 0;
    unsigned long v = s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const unsigned long least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < least[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Fails at the first byte of row[0..w) that is not ASCII, naming the UTF-8
 * character it starts (a multi-byte character would otherwise make the row
 * look wider than it is) or the stray byte. */
static int map_check_ascii(const char *row, size_t w, const char *name, unsigned long line, char *err, size_t errlen)
{
    for (size_t i = 0; i < w; i++) {
        const unsigned char *u = (const unsigned char *)row + i;
        if (*u < 0x80)
            continue;
        unsigned long cp;
        if (utf8_seq(u, w - i, &cp))
            return map_fail(err, errlen, name, line, (unsigned long)i + 1, "non-ASCII character U+%04lX; " MAP_ALLOWED, cp);
        return map_fail(err, errlen, name, line, (unsigned long)i + 1, "unknown byte 0x%02x; " MAP_ALLOWED, *u);
    }
    return 0;
}

int env_map_parse(EnvMap *m, const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    int width = 0, rows = 0, goal = -1;
    unsigned long line = 0, blank = 0; /* blank: first blank line after (or before) rows */
    size_t pos = 0;
    memset(m, 0, sizeof *m);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark, as editors on Windows write it */
    while (pos < len) {
        line++;
        size_t start = pos, end = pos;
        while (end < len && text[end] != '\n')
            end++;
        pos = end < len ? end + 1 : len;
        if (end > start && text[end - 1] == '\r')
            end--;
        size_t w = end - start;
        if (w == 0) {
            if (!blank)
                blank = line;
            continue;
        }
        if (blank)
            return map_fail(err, errlen, name, blank, 1, "empty line %s; allowed: blank lines only after the last row",
                            rows ? "inside the map" : "before the first row");
        if (map_check_ascii(text + start, w, name, line, err, errlen) != 0)
            return -1;
        if (rows == 0) {
            if (w > ENV_MAX_N)
                return map_fail(err, errlen, name, line, ENV_MAX_N + 1, "row is %zu characters wide; allowed: maps of at most %dx%d",
                                w, ENV_MAX_N, ENV_MAX_N);
            width = (int)w;
        } else if (w != (size_t)width) {
            return map_fail(err, errlen, name, line, (w < (size_t)width ? w : (size_t)width) + 1,
                            "ragged row: %zu characters wide but the first row is %d; allowed: every row %d characters wide", w, width, width);
        }
        if (rows == width)
            return map_fail(err, errlen, name, line, 1, "map is not square: row %d is one more than the width %d; allowed: N rows of N characters",
                            rows + 1, width);
        for (int c = 0; c < width; c++) {
            unsigned char ch = (unsigned char)text[start + (size_t)c];
            int idx = rows * width + c;
            switch (ch) {
            case '#':
                m->cells[idx] = CELL_WALL;
                break;
            case '.':
                break;
            case 'L':
                m->cells[idx] = CELL_LAVA;
                break;
            case 'A':
                if (m->nstarts == ENV_MAX_STARTS)
                    return map_fail(err, errlen, name, line, (unsigned long)c + 1, "too many agent starts 'A'; allowed: at most %d", ENV_MAX_STARTS);
                m->starts[m->nstarts++] = idx;
                break;
            case 'G':
                if (goal >= 0)
                    return map_fail(err, errlen, name, line, (unsigned long)c + 1, "second goal 'G' (the first is at %d:%d); allowed: exactly one 'G'",
                                    goal / width + 1, goal % width + 1);
                goal = idx;
                m->cells[idx] = CELL_GOAL;
                break;
            default:
                if (ch >= 0x20 && ch < 0x7f)
                    return map_fail(err, errlen, name, line, (unsigned long)c + 1, "unknown character '%c'; " MAP_ALLOWED, ch);
                return map_fail(err, errlen, name, line, (unsigned long)c + 1, "unknown byte 0x%02x; " MAP_ALLOWED, ch);
            }
        }
        rows++;
    }
    if (rows == 0)
        return map_fail(err, errlen, name, 1, 1, "empty map (no rows); allowed: N rows of N characters, each '#' wall, '.' floor, 'A' agent start, 'G' goal or 'L' lava");
    if (rows < width)
        return map_fail(err, errlen, name, (unsigned long)rows + 1, 1, "map is not square: %d rows but %d characters wide; allowed: N rows of N characters",
                        rows, width);
    int n = width;
    m->n = n;
    for (int i = 0; i < n * n; i++) {
        int r = i / n, c = i % n;
        if ((r == 0 || c == 0 || r == n - 1 || c == n - 1) && m->cells[i] != CELL_WALL) {
            int is_start = 0;
            for (int s = 0; s < m->nstarts; s++)
                is_start |= m->starts[s] == i;
            char ch = is_start ? 'A' : m->cells[i] == CELL_GOAL ? 'G' : m->cells[i] == CELL_LAVA ? 'L' : '.';
            return map_fail(err, errlen, name, (unsigned long)r + 1, (unsigned long)c + 1, "border cell is '%c'; allowed: only '#' on the outer ring", ch);
        }
    }
    if (m->nstarts == 0)
        return map_fail(err, errlen, name, 1, 1, "no agent start 'A'; allowed: at least one 'A'");
    if (goal < 0)
        return map_fail(err, errlen, name, 1, 1, "no goal 'G'; allowed: exactly one 'G'");
    if (!map_goal_reachable(m, goal))
        return map_fail(err, errlen, name, (unsigned long)(goal / n) + 1, (unsigned long)(goal % n) + 1,
                        "goal 'G' is unreachable from every start 'A'; allowed: maps where some 'A' reaches 'G' without crossing '#' or 'L'");
    return 0;
}

int env_map_load(EnvMap *m, const char *path, char *err, size_t errlen)
{
    FILE *f = file_open_read(path, err, errlen);
    if (!f)
        return -1;
    char *buf = malloc((size_t)MAP_FILE_CAP + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory reading the map", path);
        return -1;
    }
    size_t len = fread(buf, 1, (size_t)MAP_FILE_CAP + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    } else if (len > MAP_FILE_CAP) {
        snprintf(err, errlen, "%s: file is larger than %d bytes; allowed: maps of at most %dx%d cells", path, MAP_FILE_CAP, ENV_MAX_N, ENV_MAX_N);
        rc = -1;
    } else {
        rc = env_map_parse(m, buf, len, path, err, errlen);
    }
    free(buf);
    return rc;
}

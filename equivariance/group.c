/* group.c - D4 elements as (k quarter turns, f mirror), their composition,
 * inverses and actions on cells, planes, byte states and actions. The tables
 * are derived from the cell map at first principles (no hand-written table to
 * get wrong); tests/test_group.c checks them against independent index math. */
#include "group.h"

#include <stdio.h>
#include <string.h>

static const char *const names[D4_ORDER] = {"id", "r90", "r180", "r270", "m", "m.r90", "m.r180", "m.r270"};

void d4_cell(int g, int n, int r, int c, int *r_out, int *c_out)
{
    if (g >= 4)
        c = n - 1 - c;
    for (int k = g & 3; k > 0; k--) {
        int t = r;
        r = n - 1 - c;
        c = t;
    }
    *r_out = r;
    *c_out = c;
}

int d4_compose(int g, int h)
{
    /* R^k1 M^f1 R^k2 M^f2 = R^(k1 + (-1)^f1 k2) M^(f1 xor f2) */
    int k1 = g & 3, f1 = g >> 2, k2 = h & 3, f2 = h >> 2;
    int k = (k1 + (f1 ? 4 - k2 : k2)) & 3;
    return 4 * (f1 ^ f2) + k;
}

int d4_inverse(int g)
{
    /* rotations invert to the opposite turn; every reflection is an involution */
    return g >= 4 ? g : (4 - g) & 3;
}

int d4_action(int g, int a)
{
    if (a < 0 || a > 3)
        return a; /* STAY and anything beyond the four moves are fixed */
    if (g >= 4 && (a == 1 || a == 3))
        a = 4 - a; /* mirror swaps RIGHT (1) and LEFT (3) */
    return (a + 3 * (g & 3)) & 3; /* each quarter turn: a -> a - 1 (mod 4) */
}

const char *d4_name(int g) { return g >= 0 && g < D4_ORDER ? names[g] : "?"; }

static const struct {
    const char *name;
    int n;
    int elem[D4_ORDER];
} named[] = {
    {"trivial", 1, {0}},
    {"flip", 2, {0, 4}},
    {"rot180", 2, {0, 2}},
    {"rot90", 4, {0, 1, 2, 3}},
    {"d4", 8, {0, 1, 2, 3, 4, 5, 6, 7}},
};

int group_parse(Group *g, const char *spec, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(spec, named[i].name) == 0) {
            g->n = named[i].n;
            memcpy(g->elem, named[i].elem, sizeof g->elem);
            return 0;
        }
    }
    int present[D4_ORDER] = {0};
    const char *p = spec;
    int count = 0;
    while (*p) {
        if (*p < '0' || *p > '7' || (p[1] != ',' && p[1] != '\0') || (p[1] == ',' && p[2] == '\0')) {
            snprintf(err, errlen, "group '%s': not a group; allowed: trivial, flip, rot180, rot90, d4, or element indices 0-7 separated by commas (e.g. 0,2)", spec);
            return -1;
        }
        int e = *p - '0';
        if (present[e]) {
            snprintf(err, errlen, "group '%s': element %d listed twice", spec, e);
            return -1;
        }
        present[e] = 1;
        count++;
        p += p[1] == ',' ? 2 : 1;
    }
    if (count == 0) {
        snprintf(err, errlen, "group is empty; allowed: trivial, flip, rot180, rot90, d4, or element indices 0-7 separated by commas");
        return -1;
    }
    if (!present[0]) {
        snprintf(err, errlen, "group '%s': must contain the identity 0", spec);
        return -1;
    }
    for (int a = 0; a < D4_ORDER; a++)
        for (int b = 0; b < D4_ORDER; b++)
            if (present[a] && present[b] && !present[d4_compose(a, b)]) {
                snprintf(err, errlen, "group '%s': not closed under composition: %d then %d gives %d, which is missing", spec, b, a, d4_compose(a, b));
                return -1;
            }
    g->n = 0;
    for (int e = 0; e < D4_ORDER; e++)
        if (present[e])
            g->elem[g->n++] = e;
    return 0;
}

void group_format(const Group *g, char *buf, size_t buflen)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (named[i].n == g->n && memcmp(named[i].elem, g->elem, (size_t)g->n * sizeof(int)) == 0) {
            snprintf(buf, buflen, "%s", named[i].name);
            return;
        }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < g->n && used + 3 < buflen; i++)
        used += (size_t)snprintf(buf + used, buflen - used, i ? ",%d" : "%d", g->elem[i]);
}

void group_cell_perm(int *perm, int g, int n)
{
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int r2, c2;
            d4_cell(g, n, r, c, &r2, &c2);
            perm[r * n + c] = r2 * n + c2;
        }
}

void group_planes(float *out, const float *in, int g, int C, int n)
{
    int nn = n * n;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int r2, c2;
            d4_cell(g, n, r, c, &r2, &c2);
            int src = r * n + c, dst = r2 * n + c2;
            for (int k = 0; k < C; k++)
                out[k * nn + dst] = in[k * nn + src];
        }
}

void group_bytes(uint8_t *out, const uint8_t *in, int g, int n)
{
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int r2, c2;
            d4_cell(g, n, r, c, &r2, &c2);
            out[r2 * n + c2] = in[r * n + c];
        }
}

/* test_group.c - D4 and its subgroups (equivariance/group.c) against naive
 * index math written here independently: rot90 as numpy builds it
 * (out[i][j] = in[j][n-1-i]), the mirror (out[i][j] = in[i][n-1-j]), element
 * (k, f) = rot90^k after mirror^f. Group laws are checked exhaustively. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../equivariance/group.h"
#include "check_main.h"

enum { TN = 5 }; /* odd side: has a centre cell */
enum { TN2 = 4 }; /* even side */

/* Naive action of element g on an n x n int grid (out must not alias in). */
static void naive_apply(int *out, const int *in, int g, int n)
{
    int a[64 * 64], b[64 * 64];
    memcpy(a, in, sizeof(int) * (size_t)(n * n));
    if (g >= 4) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                b[i * n + j] = a[i * n + (n - 1 - j)];
        memcpy(a, b, sizeof(int) * (size_t)(n * n));
    }
    for (int k = 0; k < (g & 3); k++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                b[i * n + j] = a[j * n + (n - 1 - i)];
        memcpy(a, b, sizeof(int) * (size_t)(n * n));
    }
    memcpy(out, a, sizeof(int) * (size_t)(n * n));
}

/* A grid whose value at (r, c) is its index: a permutation after transform. */
static void iota(int *x, int n)
{
    for (int i = 0; i < n * n; i++)
        x[i] = i;
}

/* The naive permutation of element g: where cell i lands. */
static void naive_perm(int *perm, int g, int n)
{
    int in[64 * 64] = {0}, out[64 * 64];
    iota(in, n);
    naive_apply(out, in, g, n);
    for (int i = 0; i < n * n; i++)
        perm[out[i]] = i;
}

/* Physical displacement (dr, dc) of each action; STAY is (0, 0). */
static const int act_dr[5] = {-1, 0, 1, 0, 0}, act_dc[5] = {0, 1, 0, -1, 0};

START_TEST(test_identity_and_laws)
{
    for (int g = 0; g < D4_ORDER; g++) {
        ck_assert_msg(d4_compose(g, 0) == g && d4_compose(0, g) == g, "identity law fails for %d", g);
        int inv = d4_inverse(g);
        ck_assert_msg(inv >= 0 && inv < D4_ORDER, "inverse of %d out of range: %d", g, inv);
        ck_assert_msg(d4_compose(g, inv) == 0 && d4_compose(inv, g) == 0, "%d * inverse %d != id", g, inv);
    }
    for (int a = 0; a < D4_ORDER; a++)
        for (int b = 0; b < D4_ORDER; b++)
            for (int c = 0; c < D4_ORDER; c++)
                ck_assert_msg(d4_compose(a, d4_compose(b, c)) == d4_compose(d4_compose(a, b), c), "associativity fails for %d %d %d", a, b, c);
    /* rot^4 = id, mirror^2 = id, and rot has order exactly 4 */
    int r = 1;
    ck_assert_msg(d4_compose(r, r) == 2 && d4_compose(r, d4_compose(r, r)) == 3, "r90 powers are not r180, r270");
    ck_assert_msg(d4_compose(r, d4_compose(r, d4_compose(r, r))) == 0, "rot^4 != id");
    ck_assert_msg(d4_compose(4, 4) == 0, "mirror^2 != id");
    /* (k, f) is rot^k after mirror^f */
    for (int g = 0; g < D4_ORDER; g++) {
        int expect = g >= 4 ? 4 : 0;
        for (int k = 0; k < (g & 3); k++)
            expect = d4_compose(1, expect);
        ck_assert_msg(expect == g, "element %d is not rot^%d after mirror^%d", g, g & 3, g >> 2);
    }
    /* names: distinct, "id" first */
    ck_assert_msg(strcmp(d4_name(0), "id") == 0, "element 0 is not named id");
    for (int a = 0; a < D4_ORDER; a++)
        for (int b = a + 1; b < D4_ORDER; b++)
            ck_assert_msg(strcmp(d4_name(a), d4_name(b)) != 0, "elements %d and %d share a name", a, b);
}
END_TEST

START_TEST(test_compose_matches_naive)
{
    int sizes[2] = {TN, TN2};
    for (int s = 0; s < 2; s++) {
        int n = sizes[s], x[64], hx[64], ghx[64], direct[64];
        iota(x, n);
        for (int g = 0; g < D4_ORDER; g++)
            for (int h = 0; h < D4_ORDER; h++) {
                naive_apply(hx, x, h, n);
                naive_apply(ghx, hx, g, n);
                naive_apply(direct, x, d4_compose(g, h), n);
                ck_assert_msg(memcmp(ghx, direct, sizeof(int) * (size_t)(n * n)) == 0,
                              "n=%d: applying %d then %d differs from d4_compose = %d", n, h, g, d4_compose(g, h));
            }
        /* the 8 naive transforms are distinct permutations */
        for (int a = 0; a < D4_ORDER; a++)
            for (int b = a + 1; b < D4_ORDER; b++) {
                int pa[64], pb[64];
                naive_perm(pa, a, n);
                naive_perm(pb, b, n);
                ck_assert_msg(memcmp(pa, pb, sizeof(int) * (size_t)(n * n)) != 0, "n=%d: elements %d and %d act the same", n, a, b);
            }
    }
}
END_TEST

START_TEST(test_transforms_match_naive)
{
    for (int n = 1; n <= 7; n++) {
        int in[64], out[64], perm[64], nperm[64];
        iota(in, n);
        for (int g = 0; g < D4_ORDER; g++) {
            naive_apply(out, in, g, n);
            naive_perm(nperm, g, n);
            /* d4_cell */
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++) {
                    int r2 = -1, c2 = -1;
                    d4_cell(g, n, r, c, &r2, &c2);
                    ck_assert_msg(r2 >= 0 && r2 < n && c2 >= 0 && c2 < n, "d4_cell(%d, n=%d, %d, %d) out of the grid", g, n, r, c);
                    ck_assert_msg(out[r2 * n + c2] == r * n + c, "d4_cell(%d, n=%d, %d, %d) = (%d, %d) but numpy-style math puts it elsewhere", g, n, r, c, r2,
                                  c2);
                }
            /* group_cell_perm */
            group_cell_perm(perm, g, n);
            for (int i = 0; i < n * n; i++)
                ck_assert_msg(perm[i] == nperm[i], "group_cell_perm g=%d n=%d cell %d -> %d, naive %d", g, n, i, perm[i], nperm[i]);
            /* group_bytes */
            uint8_t bin[64], bout[64];
            for (int i = 0; i < n * n; i++)
                bin[i] = (uint8_t)(i * 7 + 3);
            group_bytes(bout, bin, g, n);
            for (int i = 0; i < n * n; i++)
                ck_assert_msg(bout[i] == (uint8_t)(out[i] * 7 + 3), "group_bytes g=%d n=%d differs at %d", g, n, i);
            /* group_planes with 3 planes of different content */
            enum { C = 3 };
            float fin[C * 64], fout[C * 64];
            for (int k = 0; k < C; k++)
                for (int i = 0; i < n * n; i++)
                    fin[k * n * n + i] = (float)(100 * k + i);
            group_planes(fout, fin, g, C, n);
            for (int k = 0; k < C; k++)
                for (int i = 0; i < n * n; i++)
                    ck_assert_msg(fout[k * n * n + i] == (float)(100 * k + out[i]), "group_planes g=%d n=%d plane %d cell %d: %g", g, n, k, i,
                                  (double)fout[k * n * n + i]);
        }
    }
}
END_TEST

START_TEST(test_actions)
{
    /* explicit table: a quarter turn maps UP->LEFT, LEFT->DOWN, DOWN->RIGHT, RIGHT->UP; mirror swaps LEFT, RIGHT */
    ck_assert_msg(d4_action(1, 0) == 3 && d4_action(1, 3) == 2 && d4_action(1, 2) == 1 && d4_action(1, 1) == 0, "r90 on actions is wrong");
    ck_assert_msg(d4_action(4, 1) == 3 && d4_action(4, 3) == 1 && d4_action(4, 0) == 0 && d4_action(4, 2) == 2, "mirror on actions is wrong");
    for (int g = 0; g < D4_ORDER; g++) {
        ck_assert_msg(d4_action(g, 4) == 4, "STAY not fixed by %d", g);
        int seen = 0;
        for (int a = 0; a < 4; a++)
            seen |= 1 << d4_action(g, a);
        ck_assert_msg(seen == 15, "rho(%d) is not a permutation of the moves", g);
        for (int h = 0; h < D4_ORDER; h++)
            for (int a = 0; a <= 4; a++)
                ck_assert_msg(d4_action(d4_compose(g, h), a) == d4_action(g, d4_action(h, a)), "rho(%d*%d)(%d) != rho(%d)(rho(%d)(%d))", g, h, a, g, h, a);
    }
    /* physical consistency: moving by a then transforming = transforming then moving by rho(g)a */
    int n = TN;
    for (int g = 0; g < D4_ORDER; g++)
        for (int a = 0; a <= 4; a++) {
            int r = 2, c = 2, r1, c1, r2, c2;
            d4_cell(g, n, r, c, &r1, &c1);
            d4_cell(g, n, r + act_dr[a], c + act_dc[a], &r2, &c2);
            int b = d4_action(g, a);
            ck_assert_msg(r2 - r1 == act_dr[b] && c2 - c1 == act_dc[b], "element %d maps the move of action %d to (%d,%d), not to action %d", g, a, r2 - r1,
                          c2 - c1, b);
        }
}
END_TEST

/* Closure of a subset by naive composition of permutations. */
static int naive_closed(int mask)
{
    int n = TN, x[64], hx[64], ghx[64];
    iota(x, n);
    for (int g = 0; g < D4_ORDER; g++)
        for (int h = 0; h < D4_ORDER; h++) {
            if (!(mask >> g & 1) || !(mask >> h & 1))
                continue;
            naive_apply(hx, x, h, n);
            naive_apply(ghx, hx, g, n);
            int found = 0;
            for (int k = 0; k < D4_ORDER; k++) {
                int y[64];
                naive_apply(y, x, k, n);
                if ((mask >> k & 1) && memcmp(y, ghx, sizeof(int) * (size_t)(n * n)) == 0)
                    found = 1;
            }
            if (!found)
                return 0;
        }
    return 1;
}

START_TEST(test_named_subgroups)
{
    const char *names[] = {"trivial", "flip", "rot180", "rot90", "d4"};
    const int orders[] = {1, 2, 2, 4, 8};
    char err[256], buf[64];
    for (int i = 0; i < 5; i++) {
        Group G;
        ck_assert_msg(group_parse(&G, names[i], err, sizeof err) == 0, "group_parse(%s) failed: %s", names[i], err);
        ck_assert_msg(G.n == orders[i], "%s has order %d, expected %d", names[i], G.n, orders[i]);
        ck_assert_msg(G.elem[0] == 0, "%s does not start with the identity", names[i]);
        int mask = 0;
        for (int k = 0; k < G.n; k++) {
            ck_assert_msg(k == 0 || G.elem[k] > G.elem[k - 1], "%s elements not sorted", names[i]);
            mask |= 1 << G.elem[k];
        }
        for (int a = 0; a < G.n; a++) {
            ck_assert_msg(mask >> d4_inverse(G.elem[a]) & 1, "%s lacks the inverse of %d", names[i], G.elem[a]);
            for (int b = 0; b < G.n; b++)
                ck_assert_msg(mask >> d4_compose(G.elem[a], G.elem[b]) & 1, "%s not closed: %d*%d", names[i], G.elem[a], G.elem[b]);
        }
        ck_assert_msg(naive_closed(mask), "%s not closed under naive composition", names[i]);
        group_format(&G, buf, sizeof buf);
        ck_assert_msg(strcmp(buf, names[i]) == 0, "group_format of %s gives %s", names[i], buf);
    }
    Group G;
    ck_assert_msg(group_parse(&G, "flip", err, sizeof err) == 0 && G.elem[1] == 4, "flip is not {0, 4}");
    ck_assert_msg(group_parse(&G, "rot180", err, sizeof err) == 0 && G.elem[1] == 2, "rot180 is not {0, 2}");
}
END_TEST

START_TEST(test_parse_every_subset)
{
    /* every subset containing 0, spelled as an index list: accepted iff closed */
    char spec[32], err[256], buf[64];
    int groups = 0;
    for (int mask = 1; mask < 256; mask += 2) {
        size_t used = 0;
        spec[0] = '\0';
        for (int e = 0; e < D4_ORDER; e++)
            if (mask >> e & 1)
                used += (size_t)snprintf(spec + used, sizeof spec - used, used ? ",%d" : "%d", e);
        Group G;
        err[0] = '\0';
        int rc = group_parse(&G, spec, err, sizeof err);
        int closed = naive_closed(mask);
        ck_assert_msg((rc == 0) == closed, "group_parse(%s) = %d but the set is %sclosed", spec, rc, closed ? "" : "not ");
        if (rc == 0) {
            groups++;
            int got = 0;
            for (int k = 0; k < G.n; k++)
                got |= 1 << G.elem[k];
            ck_assert_msg(got == mask, "group_parse(%s) gave another set", spec);
            group_format(&G, buf, sizeof buf);
            Group H;
            ck_assert_msg(group_parse(&H, buf, err, sizeof err) == 0 && H.n == G.n && memcmp(H.elem, G.elem, sizeof(int) * (size_t)G.n) == 0,
                          "format/parse round trip of %s via %s", spec, buf);
        } else {
            ck_assert_msg(strstr(err, "not closed") != NULL && strstr(err, spec) != NULL, "message for %s: %s", spec, err);
        }
    }
    /* D4 has 10 subgroups */
    ck_assert_msg(groups == 10, "found %d subgroups of D4, expected 10", groups);
}
END_TEST

START_TEST(test_parse_errors)
{
    static const struct {
        const char *spec, *needle;
    } cases[] = {
        {"0,1", "not closed"}, {"foo", "allowed"}, {"D4", "allowed"}, {"0,0", "twice"}, {"0,4,4", "twice"}, {"1,2", "identity"},
        {"4", "identity"},     {"8", "allowed"},   {"0,", "allowed"}, {",0", "allowed"}, {"0,,2", "allowed"}, {"0 2", "allowed"},
        {"", "empty"},         {"-1", "allowed"},  {"02", "allowed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Group G;
        char err[256] = "";
        ck_assert_msg(group_parse(&G, cases[i].spec, err, sizeof err) == -1, "group_parse('%s') accepted", cases[i].spec);
        ck_assert_msg(strstr(err, cases[i].needle) != NULL, "group_parse('%s') message lacks '%s': %s", cases[i].spec, cases[i].needle, err);
    }
}
END_TEST

static Suite *group_suite(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("laws");
    tcase_add_test(tc, test_identity_and_laws);
    tcase_add_test(tc, test_compose_matches_naive);
    suite_add_tcase(s, tc);
    tc = tcase_create("transforms");
    tcase_add_test(tc, test_transforms_match_naive);
    tcase_add_test(tc, test_actions);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, test_named_subgroups);
    tcase_add_test(tc, test_parse_every_subset);
    tcase_add_test(tc, test_parse_errors);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(group_suite)

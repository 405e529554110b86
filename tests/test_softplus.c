/* test_softplus.c - Check suite for equivariance/softplus.c: softplus and
 * sigmoid against double-precision references (log1p(exp(-|z|)) + max(z, 0),
 * 1 / (1 + exp(-z))) on a dense grid over [-110, 110] and 1e6 random values,
 * special values (+-inf, NaN, +-0, huge, underflowing), per-element purity
 * (every offset 0..16 x length 1..40, bit patterns compared, nothing written
 * outside), vector path == plain-C path bit for bit, monotonicity on sorted
 * grids, and the identities sp(z) - sp(-z) = z, sig(z) + sig(-z) = 1. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"
#include "../equivariance/softplus.h"
#include "check_main.h"

#define MAX_ULP 4.0       /* allowed error where the exact result is a normal float */
#define MAX_REL 5e-7      /* the same bound as a relative error */
#define MAX_SUB_STEPS 2.0 /* allowed error below FLT_MIN, in units of 2^-149 */
#define LN2 0.69314718055994530942 /* ln 2 (M_LN2 is not C11) */
enum { NGRID = 220 * 1024 + 1, NRAND = 1000000 };

/* Failures found in a loop: asserting per element would cost Check a
 * message per call (seconds for 1e6 elements), so loops count failures,
 * keep the first one's description and assert once at the end. */
typedef struct {
    long count;
    char first[256];
} Fails;

#define FAIL_IF(f, cond, ...)                                                 \
    do {                                                                      \
        if (cond) {                                                           \
            if ((f)->count++ == 0)                                            \
                snprintf((f)->first, sizeof (f)->first, __VA_ARGS__);        \
        }                                                                     \
    } while (0)

/* Exact-enough references: double carries 29 bits beyond float. */
static double ref_sp(double z) { return fmax(z, 0.0) + log1p(exp(-fabs(z))); }
static double ref_sig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Worst error seen for one function. */
typedef struct {
    double ulp, rel, sub; /* max ulp, max relative error (normal results), max subnormal steps */
    float z_ulp, z_sub;   /* inputs where the maxima occurred */
    float got, want;      /* at z_ulp: computed and exact (rounded) values */
} Worst;

/* Records the error of `got` against the exact value y at input z. */
static void worst_add(Worst *w, float z, float got, double y)
{
    if (y >= FLT_MIN) {
        int ex;
        frexp(y, &ex); /* y = m 2^ex, m in [0.5, 1): float ulp is 2^(ex-24) */
        double u = fabs(got - y) / ldexp(1.0, ex - 24), r = fabs(got - y) / y;
        if (!(u <= w->ulp)) {
            w->ulp = u;
            w->z_ulp = z;
            w->got = got;
            w->want = (float)y;
        }
        if (!(r <= w->rel))
            w->rel = r;
    } else {
        double s = fabs(got - y) / 0x1p-149;
        if (!(s <= w->sub)) {
            w->sub = s;
            w->z_sub = z;
        }
    }
}

/* Runs the kernel on z[0..n) and folds the errors into *wsp, *wsig. */
static void measure(const float *z, int n, Worst *wsp, Worst *wsig)
{
    float *sp = malloc(sizeof(float) * (size_t)n), *sig = malloc(sizeof(float) * (size_t)n);
    ck_assert_msg(sp && sig, "out of memory for %d outputs", n);
    softplus_sigmoid(z, sp, sig, n);
    for (int i = 0; i < n; i++) {
        worst_add(wsp, z[i], sp[i], ref_sp(z[i]));
        worst_add(wsig, z[i], sig[i], ref_sig(z[i]));
    }
    free(sp);
    free(sig);
}

static void assert_worst(const Worst *w, const char *what, const char *where)
{
    ck_assert_msg(w->ulp <= MAX_ULP && w->rel <= MAX_REL,
                  "%s on %s: max error %.3f ulp, %.3g relative (allowed %.1f ulp, %.1g) at z = %.9g: got %.9g, exact %.9g",
                  what, where, w->ulp, w->rel, MAX_ULP, MAX_REL, (double)w->z_ulp, (double)w->got, (double)w->want);
    ck_assert_msg(w->sub <= MAX_SUB_STEPS, "%s on %s: subnormal result off by %.2f steps of 2^-149 at z = %.9g (allowed %.1f)",
                  what, where, w->sub, (double)w->z_sub, MAX_SUB_STEPS);
}

/* z = -110 + i/1024, i < NGRID: every point is exact in float, sorted. */
static float *make_grid(void)
{
    float *z = malloc(sizeof(float) * NGRID);
    ck_assert_msg(z != NULL, "out of memory for the grid");
    for (int i = 0; i < NGRID; i++)
        z[i] = -110.0f + (float)i / 1024.0f;
    return z;
}

/* NRAND values: half uniform in [-110, 110], half +-2^u with u uniform in
 * [-40, 7) (tiny to large magnitudes, where relative accuracy near z = 0
 * shows). */
static float *make_random(uint64_t seed)
{
    float *z = malloc(sizeof(float) * NRAND);
    ck_assert_msg(z != NULL, "out of memory for the random values");
    Rng r;
    rng_seed(&r, seed, 0);
    for (int i = 0; i < NRAND; i++) {
        if (i % 2 == 0) {
            z[i] = -110.0f + 220.0f * rng_float(&r);
        } else {
            float m = ldexpf(1.0f + rng_float(&r), (int)rng_below(&r, 47) - 40);
            z[i] = rng_u32(&r) & 1 ? -m : m;
        }
    }
    return z;
}

START_TEST(test_grid_accuracy)
{
    float *z = make_grid();
    Worst wsp = {0}, wsig = {0};
    measure(z, NGRID, &wsp, &wsig);
    assert_worst(&wsp, "softplus", "the grid [-110, 110] step 1/1024");
    assert_worst(&wsig, "sigmoid", "the grid [-110, 110] step 1/1024");
    free(z);
}
END_TEST

START_TEST(test_random_accuracy)
{
    float *z = make_random(12345);
    Worst wsp = {0}, wsig = {0};
    measure(z, NRAND, &wsp, &wsig);
    assert_worst(&wsp, "softplus", "1e6 random values");
    assert_worst(&wsig, "sigmoid", "1e6 random values");
    free(z);
}
END_TEST

/* Random bit patterns: every float class, including NaNs and huge values.
 * Checks the invariants everywhere and the accuracy on finite inputs. */
START_TEST(test_random_bits)
{
    enum { NB = 200000 };
    float *z = malloc(sizeof(float) * NB), *sp = malloc(sizeof(float) * NB), *sig = malloc(sizeof(float) * NB);
    ck_assert_msg(z && sp && sig, "out of memory for %d values", NB);
    Rng r;
    rng_seed(&r, 777, 1);
    for (int i = 0; i < NB; i++) {
        uint32_t u = rng_u32(&r);
        memcpy(&z[i], &u, sizeof u);
    }
    softplus_sigmoid(z, sp, sig, NB);
    Worst wsp = {0}, wsig = {0};
    Fails f = {0};
    for (int i = 0; i < NB; i++) {
        if (isnan(z[i])) {
            FAIL_IF(&f, !isnan(sp[i]) || !isnan(sig[i]), "NaN input %a gave sp = %g, sig = %g", (double)z[i], (double)sp[i], (double)sig[i]);
            continue;
        }
        FAIL_IF(&f, !(sp[i] >= fmaxf(z[i], 0.0f)) || signbit(sp[i]), "z = %a: softplus %a is below max(z, 0) or negative", (double)z[i], (double)sp[i]);
        FAIL_IF(&f, !(sig[i] >= 0.0f && sig[i] <= 1.0f) || signbit(sig[i]), "z = %a: sigmoid %a is outside [0, 1]", (double)z[i], (double)sig[i]);
        if (isfinite(z[i]) && isfinite(sp[i])) {
            worst_add(&wsp, z[i], sp[i], ref_sp(z[i]));
            worst_add(&wsig, z[i], sig[i], ref_sig(z[i]));
        }
    }
    ck_assert_msg(f.count == 0, "%ld invariant failures on random bit patterns; first: %s", f.count, f.first);
    assert_worst(&wsp, "softplus", "random bit patterns");
    assert_worst(&wsig, "sigmoid", "random bit patterns");
    free(z);
    free(sp);
    free(sig);
}
END_TEST

START_TEST(test_special_values)
{
    float z[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, 90.0f, 100.0f, 1e30f, -105.0f, -1e30f, FLT_MIN, -FLT_MIN, 0x1p-149f, -0x1p-149f, 17.0f, -17.0f};
    enum { N = sizeof z / sizeof z[0] };
    float sp[N], sig[N];
    softplus_sigmoid(z, sp, sig, N);
    ck_assert_msg(isinf(sp[0]) && sp[0] > 0 && sig[0] == 1.0f, "z = +inf: want sp = +inf, sig = 1; got %g, %g", (double)sp[0], (double)sig[0]);
    ck_assert_msg(sp[1] == 0.0f && !signbit(sp[1]) && sig[1] == 0.0f && !signbit(sig[1]), "z = -inf: want sp = +0, sig = +0; got %a, %a", (double)sp[1], (double)sig[1]);
    ck_assert_msg(isnan(sp[2]) && isnan(sig[2]) && isnan(sp[3]) && isnan(sig[3]), "NaN in must give NaN out: got %g %g %g %g", (double)sp[2], (double)sig[2], (double)sp[3], (double)sig[3]);
    for (int i = 4; i <= 5; i++) {
        ck_assert_msg(sig[i] == 0.5f, "z = %g: sigmoid must be exactly 0.5, got %a", (double)z[i], (double)sig[i]);
        ck_assert_msg(fabs(sp[i] - LN2) <= 0x1p-24, "z = %g: softplus must be ln 2 = %.9g, got %.9g", (double)z[i], LN2, (double)sp[i]);
    }
    for (int i = 6; i <= 10; i++) /* z >= 90: e^-z is far below half an ulp of z */
        if (z[i] > 0)
            ck_assert_msg(sp[i] == z[i] && sig[i] == 1.0f, "z = %g: want sp == z, sig == 1; got sp = %.9g, sig = %.9g", (double)z[i], (double)sp[i], (double)sig[i]);
    for (int i = 7; i <= 12; i++) /* z <= -105: e^z < 2^-150 rounds to +0 */
        if (z[i] < 0)
            ck_assert_msg(sp[i] == 0.0f && sig[i] == 0.0f && !signbit(sp[i]) && !signbit(sig[i]), "z = %g: want sp = sig = +0, got %a, %a", (double)z[i], (double)sp[i], (double)sig[i]);
    for (int i = 13; i <= 16; i++) { /* tiny |z|: sp = ln2 + z/2, sig = 1/2 + z/4, to the ulp */
        ck_assert_msg(fabs(sp[i] - LN2) <= 0x1p-24 && fabs(sig[i] - 0.5) <= 0x1p-25, "z = %a: want sp ~ ln 2, sig ~ 0.5; got %.9g, %.9g", (double)z[i], (double)sp[i], (double)sig[i]);
    }
    ck_assert_msg(fabs(sp[17] - ref_sp(17.0)) <= 0x1p-20 && fabs(sig[17] - ref_sig(17.0)) <= 0x1p-24, "z = 17: got sp = %.9g (want %.9g), sig = %.9g (want %.9g)",
                  (double)sp[17], ref_sp(17.0), (double)sig[17], ref_sig(17.0));
    ck_assert_msg(fabs(sp[18] - ref_sp(-17.0)) <= 4e-7 * ref_sp(-17.0) && fabs(sig[18] - ref_sig(-17.0)) <= 4e-7 * ref_sig(-17.0), "z = -17: got sp = %.9g (want %.9g), sig = %.9g (want %.9g)",
                  (double)sp[18], ref_sp(-17.0), (double)sig[18], ref_sig(-17.0));
}
END_TEST

/* Same input values at every start offset 0..16 and every length 1..40 (so
 * each goes through vector bodies, 8 or 16 lanes, and tails in every lane):
 * bit-identical to one-at-a-time results, and nothing outside
 * [off, off + len) is written. */
START_TEST(test_offsets_and_lengths)
{
    enum { NV = 20, MAXLEN = 40, PAD = 16, BUF = PAD + MAXLEN + PAD };
    float vals[NV] = {-100.0f, -87.5f, -20.0f, -3.25f, -1e-6f, -0.0f, 0.0f, 1e-30f, 0.375f, 1.0f,
                      2.5f, 15.0f, 33.0f, 89.9f, 120.0f, INFINITY, -INFINITY, NAN, -104.2f, 7.77f};
    float one_sp[NV], one_sig[NV];
    for (int j = 0; j < NV; j++)
        softplus_sigmoid(&vals[j], &one_sp[j], &one_sig[j], 1);
    const float sentinel = -12345.0f;
    for (int len = 1; len <= MAXLEN; len++)
        for (int off = 0; off <= PAD; off++) {
            float z[BUF], sp[BUF], sig[BUF], want_sp[BUF], want_sig[BUF];
            for (int j = 0; j < BUF; j++)
                z[j] = sp[j] = sig[j] = want_sp[j] = want_sig[j] = sentinel;
            for (int j = 0; j < len; j++) {
                int v = (j + len + off) % NV; /* rotate so every value meets every lane */
                z[off + j] = vals[v];
                want_sp[off + j] = one_sp[v];
                want_sig[off + j] = one_sig[v];
            }
            softplus_sigmoid(z + off, sp + off, sig + off, len);
            ck_assert_msg(memcmp(sp, want_sp, sizeof sp) == 0, "softplus bits differ (or were written outside) at offset %d, length %d", off, len);
            ck_assert_msg(memcmp(sig, want_sig, sizeof sig) == 0, "sigmoid bits differ (or were written outside) at offset %d, length %d", off, len);
        }
}
END_TEST

/* The vector kernel and the plain-C lane agree bit for bit on the grid and
 * random values (catches any contraction or reordering in either path). */
START_TEST(test_vector_matches_scalar)
{
    float *zs[2] = {make_grid(), make_random(99)};
    int ns[2] = {NGRID, NRAND};
    for (int t = 0; t < 2; t++) {
        int n = ns[t];
        float *a = malloc(sizeof(float) * (size_t)n * 4);
        ck_assert_msg(a != NULL, "out of memory for %d outputs", n);
        softplus_sigmoid(zs[t], a, a + n, n);
        softplus_sigmoid_scalar(zs[t], a + 2 * (size_t)n, a + 3 * (size_t)n, n);
        Fails f = {0};
        for (int i = 0; i < n; i++)
            FAIL_IF(&f, memcmp(&a[i], &a[2 * (size_t)n + i], sizeof(float)) != 0 || memcmp(&a[n + i], &a[3 * (size_t)n + i], sizeof(float)) != 0,
                    "z = %a: vector gives sp %a sig %a, scalar gives %a %a", (double)zs[t][i], (double)a[i], (double)a[n + i],
                    (double)a[2 * (size_t)n + i], (double)a[3 * (size_t)n + i]);
        ck_assert_msg(f.count == 0, "%ld of %d results differ between vector and scalar paths (%s); first: %s", f.count, n, t ? "random" : "grid", f.first);
        free(a);
        free(zs[t]);
    }
}
END_TEST

/* sp or sig may be z itself. */
START_TEST(test_in_place)
{
    enum { N = 13 };
    float z[N], sp[N], sig[N], a[N], b[N];
    for (int i = 0; i < N; i++)
        z[i] = a[i] = b[i] = -6.0f + (float)i;
    softplus_sigmoid(z, sp, sig, N);
    softplus_sigmoid(a, a, sig, N);
    ck_assert_msg(memcmp(a, sp, sizeof a) == 0, "softplus written over its input differs");
    softplus_sigmoid(b, sp, b, N);
    ck_assert_msg(memcmp(b, sig, sizeof b) == 0, "sigmoid written over its input differs");
}
END_TEST

/* Checks sp and sig never decrease along the sorted z[0..n). */
static void assert_monotone(const float *z, int n, const char *where)
{
    float *sp = malloc(sizeof(float) * (size_t)n), *sig = malloc(sizeof(float) * (size_t)n);
    ck_assert_msg(sp && sig, "out of memory for %d outputs", n);
    softplus_sigmoid(z, sp, sig, n);
    Fails f = {0};
    for (int i = 1; i < n; i++) {
        FAIL_IF(&f, !(sp[i] >= sp[i - 1]), "softplus decreases from z = %.9g (%.9g) to z = %.9g (%.9g)", (double)z[i - 1], (double)sp[i - 1], (double)z[i], (double)sp[i]);
        FAIL_IF(&f, !(sig[i] >= sig[i - 1]), "sigmoid decreases from z = %.9g (%.9g) to z = %.9g (%.9g)", (double)z[i - 1], (double)sig[i - 1], (double)z[i], (double)sig[i]);
    }
    ck_assert_msg(f.count == 0, "%s: %ld decreasing steps; first: %s", where, f.count, f.first);
    free(sp);
    free(sig);
}

START_TEST(test_monotone)
{
    float *z = make_grid();
    assert_monotone(z, NGRID, "grid [-110, 110] step 2^-10");
    free(z);
    enum { NF = 1 << 19 }; /* [-0.25, 0.25) step 2^-20: where the functions are flattest in relative terms */
    float *f = malloc(sizeof(float) * NF);
    ck_assert_msg(f != NULL, "out of memory for the fine grid");
    for (int i = 0; i < NF; i++)
        f[i] = -0.25f + (float)i * 0x1p-20f;
    assert_monotone(f, NF, "grid [-0.25, 0.25) step 2^-20");
    free(f);
}
END_TEST

/* softplus(z) - softplus(-z) = z and sigmoid(z) + sigmoid(-z) = 1. */
START_TEST(test_identities)
{
    float *z = make_random(4242);
    float *n = malloc(sizeof(float) * NRAND), *out = malloc(sizeof(float) * NRAND * 4);
    ck_assert_msg(n && out, "out of memory for %d values", NRAND);
    for (int i = 0; i < NRAND; i++)
        n[i] = -z[i];
    float *sp = out, *sig = out + NRAND, *spn = out + 2 * NRAND, *sign = out + 3 * NRAND;
    softplus_sigmoid(z, sp, sig, NRAND);
    softplus_sigmoid(n, spn, sign, NRAND);
    Fails f = {0};
    for (int i = 0; i < NRAND; i++) {
        float big = fmaxf(sp[i], spn[i]);
        double ulp = nextafterf(big, INFINITY) - big;
        double d = (double)sp[i] - spn[i] - z[i];
        FAIL_IF(&f, !(fabs(d) <= ulp), "z = %.9g: sp(z) - sp(-z) - z = %.3g, more than one ulp (%.3g) of %.9g", (double)z[i], d, ulp, (double)big);
        double s = (double)sig[i] + sign[i] - 1.0;
        FAIL_IF(&f, !(fabs(s) <= 0x1p-23), "z = %.9g: sig(z) + sig(-z) - 1 = %.3g, more than 2^-23", (double)z[i], s);
    }
    ck_assert_msg(f.count == 0, "%ld identity failures on 1e6 random z; first: %s", f.count, f.first);
    free(z);
    free(n);
    free(out);
}
END_TEST

static Suite *softplus_suite(void)
{
    Suite *s = suite_create("softplus");
    TCase *tc = tcase_create("accuracy");
    tcase_add_test(tc, test_grid_accuracy);
    tcase_add_test(tc, test_random_accuracy);
    tcase_add_test(tc, test_random_bits);
    tcase_add_test(tc, test_special_values);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    tc = tcase_create("purity");
    tcase_add_test(tc, test_offsets_and_lengths);
    tcase_add_test(tc, test_vector_matches_scalar);
    tcase_add_test(tc, test_in_place);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    tc = tcase_create("shape");
    tcase_add_test(tc, test_monotone);
    tcase_add_test(tc, test_identities);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(softplus_suite)

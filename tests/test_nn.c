/* test_nn.c - Check suite for nn/gemm.c, nn/nn.c and nn/optim.c:
 * gemm() against gemm_naive() (itself checked on a hand example), network
 * forward against a naive double-precision reference, every backward against
 * central finite differences, the sparse first layer against dense loops,
 * He init statistics, Adam against a hand-computed example, clipping, the TD
 * losses, tensor naming/coverage, spec validation and workspace growth.
 *
 * `test_nn bench` instead prints forward+backward timings (run by hand with
 * OPENBLAS_NUM_THREADS=1; not part of the suite). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../nn/conv.h"
#include "../nn/gemm.h"
#include "../nn/nn.h"
#include "check_main.h"

/* ---------- helpers ---------- */

static float *xalloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    ck_assert_msg(p != NULL, "calloc of %zu floats failed", n);
    return p;
}

static void fill_uniform(Rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rng_float(r);
}

/* Input with a fraction pzero of zeros; nonzeros are 1 (binary) or in [-1, 2). */
static void fill_input(Rng *r, float *x, size_t n, float pzero, int binary)
{
    for (size_t i = 0; i < n; i++) {
        if (rng_float(r) < pzero)
            x[i] = 0.0f;
        else
            x[i] = binary ? 1.0f : -1.0f + 3.0f * rng_float(r);
    }
}

static NetSpec mlp_spec(int C, int n, int nh, const int *hidden, int out)
{
    NetSpec s;
    memset(&s, 0, sizeof s);
    s.kind = NET_MLP;
    s.in_c = C;
    s.n = n;
    s.nhidden = nh;
    for (int i = 0; i < nh; i++)
        s.hidden[i] = hidden[i];
    s.out = out;
    return s;
}

static NetSpec cnn_spec(int C, int n, int nc, const int *conv, int nh, const int *hidden, int out)
{
    NetSpec s = mlp_spec(C, n, nh, hidden, out);
    s.kind = NET_CNN;
    s.nconv = nc;
    for (int i = 0; i < nc; i++)
        s.conv[i] = conv[i];
    return s;
}

/* Naive double-precision forward of one spec straight from the documented
 * parameter layout: conv (out,in,3,3) + bias, flatten channel-major, dense
 * (in,out) + bias, ReLU after every layer but the last. */
static void ref_forward(const NetSpec *s, const float *p, const float *x, int B, double *out)
{
    int n = s->n, hw = n * n;
    size_t maxw = (size_t)s->in_c * hw;
    for (int i = 0; i < s->nconv && s->kind == NET_CNN; i++)
        maxw = (size_t)s->conv[i] * hw > maxw ? (size_t)s->conv[i] * hw : maxw;
    for (int i = 0; i < s->nhidden; i++)
        maxw = (size_t)s->hidden[i] > maxw ? (size_t)s->hidden[i] : maxw;
    maxw = (size_t)s->out > maxw ? (size_t)s->out : maxw;
    double *cur = calloc(maxw, sizeof(double)), *nxt = calloc(maxw, sizeof(double));
    ck_assert_msg(cur && nxt, "calloc failed");
    for (int b = 0; b < B; b++) {
        int width = s->in_c * hw, ch = s->in_c;
        for (int i = 0; i < width; i++)
            cur[i] = x[(size_t)b * width + i];
        size_t off = 0;
        int nconv = s->kind == NET_CNN ? s->nconv : 0;
        int nl = nconv + s->nhidden + 1;
        for (int l = 0; l < nl; l++) {
            int last = l == nl - 1;
            if (l < nconv) {
                int co = s->conv[l];
                const float *w = p + off, *bias = w + (size_t)co * ch * 9;
                for (int o = 0; o < co; o++)
                    for (int y = 0; y < n; y++)
                        for (int xx = 0; xx < n; xx++) {
                            double acc = bias[o];
                            for (int c = 0; c < ch; c++)
                                for (int ky = 0; ky < 3; ky++)
                                    for (int kx = 0; kx < 3; kx++) {
                                        int sy = y + ky - 1, sx = xx + kx - 1;
                                        if (sy < 0 || sy >= n || sx < 0 || sx >= n)
                                            continue;
                                        acc += (double)w[((o * ch + c) * 3 + ky) * 3 + kx] * cur[(c * n + sy) * n + sx];
                                    }
                            nxt[(o * n + y) * n + xx] = (!last && acc < 0) ? 0 : acc;
                        }
                off += (size_t)co * ch * 9 + co;
                ch = co;
                width = co * hw;
            } else {
                int j = l - nconv;
                int O = j < s->nhidden ? s->hidden[j] : s->out;
                const float *w = p + off, *bias = w + (size_t)width * O;
                for (int o = 0; o < O; o++) {
                    double acc = bias[o];
                    for (int i = 0; i < width; i++)
                        acc += (double)w[(size_t)i * O + o] * cur[i];
                    nxt[o] = (!last && acc < 0) ? 0 : acc;
                }
                off += (size_t)width * O + O;
                width = O;
            }
            double *t = cur;
            cur = nxt;
            nxt = t;
        }
        for (int j = 0; j < s->out; j++)
            out[(size_t)b * s->out + j] = cur[j];
    }
    free(cur);
    free(nxt);
}

/* Objective for gradient checks: projection sum(r * q) or a TD loss. */
typedef struct {
    int kind; /* 0 projection, 1 Huber, 2 MSE */
    const float *r;
    const int *act;
    const float *target;
    float *dq;
} Objective;

static double objective(Net *net, const float *x, int B, const Objective *o)
{
    int A = net_spec(net)->out;
    const float *q = net_forward(net, x, B);
    ck_assert_msg(q != NULL, "forward returned NULL");
    if (o->kind == 0) {
        double s = 0.0;
        for (int i = 0; i < B * A; i++) {
            s += (double)o->r[i] * q[i];
            o->dq[i] = o->r[i];
        }
        return s;
    }
    return td_loss(o->kind == 1 ? LOSS_HUBER : LOSS_MSE, q, o->act, o->target, B, A, o->dq);
}

static int fd_close(double ana, double num, double atol, double rtol)
{
    double m = fabs(ana) > fabs(num) ? fabs(ana) : fabs(num);
    return fabs(ana - num) <= atol + rtol * m;
}

/* Central difference of the objective w.r.t. *v at step eps (restores *v). */
static double fd_at(Net *net, const float *x, int B, const Objective *o, float *v, float eps)
{
    float orig = *v;
    *v = orig + eps;
    double lp = objective(net, x, B, o);
    *v = orig - eps;
    double lm = objective(net, x, B, o);
    *v = orig;
    return (lp - lm) / (2.0 * (double)eps);
}

/* Checks every parameter and input gradient of net on x against central
 * differences: step 1e-2, then 1e-3 and 3e-4 (a ReLU kink within a step
 * of a pre-activation bends the larger ones). */
static void check_grads(Net *net, float *params, float *grads, size_t np, float *x, int B, const Objective *o, const char *what)
{
    const NetSpec *s = net_spec(net);
    size_t D = (size_t)s->in_c * s->n * s->n;
    float *din = xalloc((size_t)B * D);
    memset(grads, 0, np * sizeof(float));
    objective(net, x, B, o);
    net_backward(net, o->dq, din);
    float *ana = xalloc(np);
    memcpy(ana, grads, np * sizeof(float));
    int bad = 0;
    for (size_t i = 0; i < np; i++) {
        double num = fd_at(net, x, B, o, &params[i], 1e-2f);
        if (!fd_close(ana[i], num, 2e-3, 2e-2)) {
            double num2 = fd_at(net, x, B, o, &params[i], 1e-3f);
            if (!fd_close(ana[i], num2, 3e-3, 2e-2) && !fd_close(ana[i], fd_at(net, x, B, o, &params[i], 3e-4f), 3e-3, 2e-2)) {
                if (bad < 5)
                    fprintf(stderr, "%s: param %zu analytic %g numeric %g / %g\n", what, i, ana[i], num, num2);
                bad++;
            }
        }
    }
    ck_assert_msg(bad == 0, "%s: %d of %zu parameter gradients disagree with finite differences", what, bad, np);
    for (size_t i = 0; i < (size_t)B * D; i++) {
        double num = fd_at(net, x, B, o, &x[i], 1e-2f);
        if (!fd_close(din[i], num, 2e-3, 2e-2)) {
            double num2 = fd_at(net, x, B, o, &x[i], 1e-3f);
            if (!fd_close(din[i], num2, 3e-3, 2e-2) && !fd_close(din[i], fd_at(net, x, B, o, &x[i], 3e-4f), 3e-3, 2e-2)) {
                if (bad < 5)
                    fprintf(stderr, "%s: input %zu analytic %g numeric %g / %g\n", what, i, din[i], num, num2);
                bad++;
            }
        }
    }
    ck_assert_msg(bad == 0, "%s: %d of %zu input gradients disagree with finite differences", what, bad, (size_t)B * D);
    /* backward accumulates: a second backward doubles the gradient */
    objective(net, x, B, o);
    net_backward(net, o->dq, NULL);
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(fabsf(grads[i] - 2.0f * ana[i]) <= 1e-5f * (1.0f + fabsf(ana[i])), "%s: second backward did not accumulate at param %zu (%g vs 2*%g)", what, i, grads[i], ana[i]);
    free(ana);
    free(din);
}

/* Builds a net for spec, initialises it and runs check_grads with objective kind. */
static void grad_case(const NetSpec *s, int B, int kind, float pzero, uint64_t seed, const char *what)
{
    size_t np = net_nparams(s);
    ck_assert_msg(np > 0, "%s: spec rejected", what);
    float *params = xalloc(np), *grads = xalloc(np);
    Net *net = net_create(s, params, grads);
    ck_assert_msg(net != NULL, "%s: net_create failed", what);
    Rng rng;
    rng_seed(&rng, seed, 1);
    net_init(net, &rng);
    /* nonzero biases so bias paths matter */
    for (int i = 0; i < net_ntensors(net); i++) {
        NetTensor t;
        net_tensor(net, i, &t);
        if (t.ndim == 1)
            fill_uniform(&rng, params + t.offset, t.count, -0.3f, 0.3f);
    }
    size_t D = (size_t)s->in_c * s->n * s->n;
    int A = s->out;
    float *x = xalloc((size_t)B * D), *r = xalloc((size_t)B * A), *dq = xalloc((size_t)B * A), *target = xalloc((size_t)B);
    int *act = calloc((size_t)B, sizeof(int));
    ck_assert_msg(act != NULL, "calloc failed");
    fill_input(&rng, x, (size_t)B * D, pzero, 0);
    fill_uniform(&rng, r, (size_t)B * A, -1.0f, 1.0f);
    const float *q = net_forward(net, x, B);
    for (int b = 0; b < B; b++) {
        act[b] = (int)rng_below(&rng, (uint32_t)A);
        /* half the rows in Huber's linear zone, half in the quadratic one */
        float d = (b % 2) ? 0.2f + 0.5f * rng_float(&rng) : 1.5f + rng_float(&rng);
        target[b] = q[(size_t)b * A + act[b]] + ((b % 4) < 2 ? d : -d);
    }
    Objective o = {kind, r, act, target, dq};
    check_grads(net, params, grads, np, x, B, &o, what);
    free(act);
    free(target);
    free(dq);
    free(r);
    free(x);
    net_free(net);
    free(grads);
    free(params);
}

/* ---------- gemm ---------- */

START_TEST(test_gemm_naive_hand)
{
    /* A (2,3), B (3,2): C = A B */
    const float A[6] = {1, 2, 3, 4, 5, 6}, Bm[6] = {7, 8, 9, 10, 11, 12};
    float C[4] = {1, 1, 1, 1};
    gemm_naive(0, 0, 2, 2, 3, 1.0f, A, 3, Bm, 2, 0.0f, C, 2);
    const float want[4] = {58, 64, 139, 154};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(C[i] == want[i], "gemm_naive hand example C[%d] = %g, want %g", i, C[i], want[i]);
    /* op(A) = A^T with A = Bm stored (3,2): C = 2 Bm^T Bm + 0.5 C */
    float C2[4] = {1, 2, 3, 4};
    gemm_naive(1, 0, 2, 2, 3, 2.0f, Bm, 2, Bm, 2, 0.5f, C2, 2);
    /* Bm^T Bm = [[7*7+9*9+11*11, 7*8+9*10+11*12],[.., 8*8+10*10+12*12]] = [[251, 278],[278, 308]] */
    const float want2[4] = {502.5f, 557.0f, 557.5f, 618.0f};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(C2[i] == want2[i], "gemm_naive trans_a alpha/beta C[%d] = %g, want %g", i, C2[i], want2[i]);
}
END_TEST

START_TEST(test_gemm_vs_naive)
{
    static const int sizes[][3] = {{1, 1, 1}, {7, 5, 3}, {13, 17, 33}, {64, 64, 64}, {5, 130, 9}, {70, 3, 129}};
    Rng rng;
    rng_seed(&rng, 42, 0);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int M = sizes[si][0], N = sizes[si][1], K = sizes[si][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int bi = 0; bi < 3; bi++) {
                    float alpha = bi == 2 ? 1.0f : 0.7f, beta = bi == 0 ? 0.0f : (bi == 1 ? 1.3f : 1.0f);
                    int arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
                    int lda = acols + 3, ldb = bcols + 1, ldc = N + 2;
                    float *A = xalloc((size_t)arows * lda), *Bm = xalloc((size_t)brows * ldb);
                    float *C1 = xalloc((size_t)M * ldc), *C2 = xalloc((size_t)M * ldc);
                    fill_uniform(&rng, A, (size_t)arows * lda, -1, 1);
                    fill_uniform(&rng, Bm, (size_t)brows * ldb, -1, 1);
                    fill_uniform(&rng, C1, (size_t)M * ldc, -1, 1);
                    if (beta == 0.0f)
                        for (int i = 0; i < M; i++)
                            for (int j = 0; j < N; j++)
                                C1[(size_t)i * ldc + j] = NAN;
                    memcpy(C2, C1, (size_t)M * ldc * sizeof(float));
                    gemm(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, C1, ldc);
                    gemm_naive(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, C2, ldc);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < ldc; j++) {
                            float a = C1[(size_t)i * ldc + j], b = C2[(size_t)i * ldc + j];
                            if (j >= N) {
                                ck_assert_msg(a == b, "gemm wrote outside C (ldc padding) at %d,%d", i, j);
                                continue;
                            }
                            ck_assert_msg(isfinite(a) && fabsf(a - b) <= 1e-5f * (float)K + 1e-5f * fabsf(b),
                                          "gemm %dx%dx%d ta=%d tb=%d alpha=%g beta=%g: C[%d,%d] = %g, naive %g", M, N, K, ta, tb, alpha, beta, i, j, a, b);
                        }
                    free(A);
                    free(Bm);
                    free(C1);
                    free(C2);
                }
    }
}
END_TEST

START_TEST(test_gemm_k_zero)
{
    float C[4] = {NAN, 2, 3, 4}, D[4] = {1, 2, 3, 4};
    const float A[1] = {0}, Bm[1] = {0};
    gemm(0, 0, 2, 2, 0, 1.0f, A, 1, Bm, 2, 0.0f, C, 2);
    gemm(0, 0, 2, 2, 0, 1.0f, A, 1, Bm, 2, 2.0f, D, 2);
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(C[i] == 0.0f, "K=0, beta=0 must zero C, C[%d] = %g", i, C[i]);
        ck_assert_msg(D[i] == 2.0f * (float)(i + 1), "K=0, beta=2 must scale C, D[%d] = %g", i, D[i]);
    }
}
END_TEST

/* ---------- forward vs reference ---------- */

static void forward_case(const NetSpec *s, int B, float pzero, int binary, const char *what)
{
    size_t np = net_nparams(s);
    float *params = xalloc(np);
    Net *net = net_create(s, params, NULL);
    ck_assert_msg(net != NULL, "%s: net_create failed", what);
    Rng rng;
    rng_seed(&rng, 7, 3);
    net_init(net, &rng);
    fill_uniform(&rng, params, np, -0.5f, 0.5f); /* nonzero biases too */
    size_t D = (size_t)s->in_c * s->n * s->n;
    float *x = xalloc((size_t)B * D);
    fill_input(&rng, x, (size_t)B * D, pzero, binary);
    double *ref = calloc((size_t)B * s->out, sizeof(double));
    ck_assert_msg(ref != NULL, "calloc failed");
    ref_forward(s, params, x, B, ref);
    const float *q = net_forward(net, x, B);
    ck_assert_msg(q != NULL, "%s: forward failed", what);
    for (int i = 0; i < B * s->out; i++)
        ck_assert_msg(fabs(q[i] - ref[i]) <= 1e-4 * (1.0 + fabs(ref[i])), "%s: q[%d] = %g, reference %g", what, i, q[i], ref[i]);
    free(ref);
    free(x);
    net_free(net);
    free(params);
}

START_TEST(test_forward_reference)
{
    int h2[2] = {7, 5}, h1[1] = {6}, c2[2] = {3, 4};
    NetSpec a = mlp_spec(3, 5, 2, h2, 4);
    forward_case(&a, 9, 0.85f, 1, "MLP binary");
    forward_case(&a, 9, 0.5f, 0, "MLP real-valued");
    NetSpec b = mlp_spec(2, 3, 0, NULL, 3);
    forward_case(&b, 5, 0.3f, 0, "MLP linear");
    NetSpec c = cnn_spec(2, 5, 2, c2, 1, h1, 4);
    forward_case(&c, 3, 0.6f, 0, "CNN 2 conv");
    NetSpec d = cnn_spec(3, 4, 1, c2, 0, NULL, 5);
    forward_case(&d, 4, 0.8f, 1, "CNN 1 conv");
}
END_TEST

/* ---------- sparse first layer vs dense loops ---------- */

START_TEST(test_sparse_first_layer)
{
    const int C = 3, n = 3, I = 27, O = 9, B = 7;
    NetSpec s = mlp_spec(C, n, 0, NULL, O);
    size_t np = net_nparams(&s);
    ck_assert_msg(np == (size_t)I * O + O, "linear layer nparams %zu, want %d", np, I * O + O);
    float *p = xalloc(np), *g = xalloc(np), *x = xalloc((size_t)B * I), *d = xalloc((size_t)B * O), *din = xalloc((size_t)B * I);
    Net *net = net_create(&s, p, g);
    Rng rng;
    rng_seed(&rng, 11, 0);
    fill_uniform(&rng, p, np, -1, 1);
    fill_input(&rng, x, (size_t)B * I, 0.7f, 0);
    for (int i = 0; i < I; i++) {
        x[i] = 0.0f;              /* row 0: all zero */
        x[I + i] = 0.5f + (float)i; /* row 1: all nonzero, non-binary */
    }
    fill_uniform(&rng, d, (size_t)B * O, -1, 1);
    const float *q = net_forward(net, x, B);
    const float *W = p, *bias = p + (size_t)I * O;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            double acc = bias[o];
            for (int i = 0; i < I; i++)
                acc += (double)x[b * I + i] * W[i * O + o];
            ck_assert_msg(fabs(q[b * O + o] - acc) <= 1e-4 * (1 + fabs(acc)), "sparse forward [%d,%d] = %g, dense %g", b, o, q[b * O + o], acc);
        }
    for (size_t i = 0; i < np; i++)
        g[i] = 0.25f; /* backward must add to what is there */
    for (size_t i = 0; i < (size_t)B * I; i++)
        din[i] = NAN; /* and overwrite din */
    net_backward(net, d, din);
    for (int i = 0; i < I; i++)
        for (int o = 0; o < O; o++) {
            double acc = 0.25;
            for (int b = 0; b < B; b++)
                acc += (double)x[b * I + i] * d[b * O + o];
            ck_assert_msg(fabs(g[i * O + o] - acc) <= 1e-5 * (1 + fabs(acc)), "sparse dW[%d,%d] = %g, dense %g", i, o, g[i * O + o], acc);
        }
    for (int o = 0; o < O; o++) {
        double acc = 0.25;
        for (int b = 0; b < B; b++)
            acc += d[b * O + o];
        ck_assert_msg(fabs(g[I * O + o] - acc) <= 1e-5 * (1 + fabs(acc)), "db[%d] = %g, want %g", o, g[I * O + o], acc);
    }
    for (int b = 0; b < B; b++)
        for (int i = 0; i < I; i++) {
            double acc = 0;
            for (int o = 0; o < O; o++)
                acc += (double)d[b * O + o] * W[i * O + o];
            ck_assert_msg(fabs(din[b * I + i] - acc) <= 1e-5 * (1 + fabs(acc)), "din[%d,%d] = %g, want %g", b, i, din[b * I + i], acc);
        }
    net_free(net);
    free(din);
    free(d);
    free(x);
    free(g);
    free(p);
}
END_TEST

/* ---------- sparse-input forward (net_forward_sparse) ---------- */

/* Rows sharing a prefix of nonzeros (indices 0..9, like walls), then random
 * non-binary entries; row 4 has only the prefix; with vary, row 5's third
 * prefix value differs so the shared prefix is shorter. */
static void prefix_rows(Rng *r, float *x, int B, int D, int vary)
{
    fill_input(r, x, (size_t)B * D, 0.8f, 0);
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < 10; i++)
            x[(size_t)b * D + i] = 1.0f;
        if (b == 4)
            memset(x + (size_t)b * D + 10, 0, (size_t)(D - 10) * sizeof(float));
    }
    if (vary)
        x[5 * (size_t)D + 3] = 2.0f;
}

START_TEST(test_sparse_input_path)
{
    enum { B = 9, SHIFT = 7 };
    int widths[2][2] = {{70, 9}, {130, 6}}; /* a 64-wide strip + tail; two strips + tail */
    for (int wi = 0; wi < 2; wi++)
        for (int vary = 0; vary < 2; vary++) {
            NetSpec s = mlp_spec(3, 5, 2, widths[wi], 4);
            const int D = 75, A = 4;
            size_t np = net_nparams(&s);
            float *p = xalloc(np), *g1 = xalloc(np), *g2 = xalloc(np), *g3 = xalloc(np), *x = xalloc((size_t)B * D), *d = xalloc((size_t)B * A);
            float *din1 = xalloc((size_t)B * D), *din2 = xalloc((size_t)B * D), *val = xalloc((size_t)B * D), *q1 = xalloc((size_t)B * A);
            int *idx = calloc((size_t)B * D, sizeof *idx), rowptr[B + 1];
            ck_assert_msg(idx != NULL, "calloc failed");
            Rng rng;
            rng_seed(&rng, 31 + (uint64_t)wi, (uint64_t)vary);
            fill_uniform(&rng, p, np, -0.5f, 0.5f);
            prefix_rows(&rng, x, B, D, vary);
            fill_uniform(&rng, d, (size_t)B * A, -1, 1);
            /* the lists: ascending indices, the dense rows' nonzeros exactly */
            int nz = net_sparse_rows(x, B, D, idx, val, rowptr);
            ck_assert_msg(rowptr[0] == 0 && rowptr[B] == nz, "rowptr[0] = %d, rowptr[B] = %d, nnz %d", rowptr[0], rowptr[B], nz);
            for (int b = 0; b < B; b++) {
                int k = rowptr[b];
                for (int i = 0; i < D; i++)
                    if (x[b * D + i] != 0.0f) {
                        ck_assert_msg(k < rowptr[b + 1] && idx[k] == i && val[k] == x[b * D + i], "net_sparse_rows: row %d input %d missing or out of order", b, i);
                        k++;
                    }
                ck_assert_msg(k == rowptr[b + 1], "net_sparse_rows: row %d lists %d entries, want %d", b, rowptr[b + 1] - rowptr[b], k - rowptr[b]);
            }
            Net *dense = net_create(&s, p, g1), *sparse = net_create(&s, p, g2);
            const float *qd = net_forward(dense, x, B);
            ck_assert_msg(qd != NULL, "dense forward failed");
            memcpy(q1, qd, (size_t)B * A * sizeof(float));
            /* the longest prefix every row shares, listed once, and the rows'
             * remaining entries (rowptr shifted: only its differences matter) */
            int L = rowptr[1];
            for (int b = 1; b < B; b++) {
                int l = 0;
                while (l < L && rowptr[b] + l < rowptr[b + 1] && idx[rowptr[b] + l] == idx[l] && val[rowptr[b] + l] == val[l])
                    l++;
                L = l;
            }
            ck_assert_msg(L == (vary ? 3 : 10), "vary %d: rows share %d entries, want %d", vary, L, vary ? 3 : 10);
            int *ridx = calloc((size_t)B * D, sizeof *ridx), rrow[B + 1];
            float *rval = xalloc((size_t)B * D);
            ck_assert_msg(ridx != NULL, "calloc failed");
            int nr = 0;
            for (int b = 0; b < B; b++) {
                rrow[b] = nr + SHIFT;
                for (int k = rowptr[b] + L; k < rowptr[b + 1]; k++) {
                    ridx[nr] = idx[k];
                    rval[nr++] = val[k];
                }
            }
            rrow[B] = nr + SHIFT;
            SparseRows rows = {idx, val, L, ridx, rval, rrow};
            const float *qs = net_forward_sparse(sparse, &rows, B);
            ck_assert_msg(qs != NULL, "sparse forward failed");
            for (int i = 0; i < B * A; i++)
                ck_assert_msg(qs[i] == q1[i], "widths %d vary %d: sparse q[%d] = %.9g, dense %.9g (must be bit-identical)", widths[wi][0], vary, i, qs[i], q1[i]);
            /* the same rows with no prefix: the same sums in the same order */
            Net *unsplit = net_create(&s, p, g3);
            SparseRows whole = {NULL, NULL, 0, idx, val, rowptr};
            const float *qu = net_forward_sparse(unsplit, &whole, B);
            ck_assert_msg(qu != NULL, "sparse forward without a prefix failed");
            for (int i = 0; i < B * A; i++)
                ck_assert_msg(qu[i] == q1[i], "widths %d vary %d: sparse q[%d] without a prefix = %.9g, dense %.9g (must be bit-identical)", widths[wi][0], vary, i, qu[i], q1[i]);
            /* a first layer's row does not depend on the rest of the batch (later
             * layers are GEMMs, whose rounding may depend on the batch size) */
            NetSpec lin = mlp_spec(3, 5, 0, NULL, widths[wi][0]);
            Net *first = net_create(&lin, p, NULL);
            int H0 = widths[wi][0];
            float *hb = xalloc((size_t)B * H0);
            memcpy(hb, net_forward(first, x, B), (size_t)B * H0 * sizeof(float));
            for (int b = 0; b < B; b++) {
                const float *o = net_forward(first, x + (size_t)b * D, 1);
                for (int j = 0; j < H0; j++)
                    ck_assert_msg(o[j] == hb[b * H0 + j], "row %d alone gives h[%d] = %.9g, batched %.9g", b, j, o[j], hb[b * H0 + j]);
            }
            free(hb);
            net_free(first);
            net_forward(dense, x, B);
            for (size_t i = 0; i < np; i++)
                g1[i] = g2[i] = g3[i] = 0.25f;
            net_backward(dense, d, din1);
            net_backward(sparse, d, din2);
            ck_assert_msg(memcmp(g1, g2, np * sizeof(float)) == 0, "sparse and dense paths give different gradients");
            ck_assert_msg(memcmp(din1, din2, (size_t)B * D * sizeof(float)) == 0, "sparse and dense paths give different din");
            /* without the prefix, its weight rows' gradients are summed row by
             * row: equal to rounding */
            net_backward(unsplit, d, NULL);
            for (size_t i = 0; i < np; i++)
                ck_assert_msg(fabsf(g3[i] - g1[i]) <= 1e-5f * (1.0f + fabsf(g1[i])), "gradient %zu without a prefix = %.9g, with = %.9g", i, g3[i], g1[i]);
            net_free(unsplit);
            free(ridx);
            free(rval);
            /* first-layer weight gradient against a double reference */
            int H = widths[wi][0], H2 = widths[wi][1];
            float *h1 = xalloc((size_t)B * H), *dh1 = xalloc((size_t)B * H);
            const float *W1 = p, *b1 = p + (size_t)D * H, *W2 = b1 + H, *b2 = W2 + (size_t)H * H2, *W3 = b2 + H2;
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < H; j++) {
                    double acc = b1[j];
                    for (int i = 0; i < D; i++)
                        acc += (double)x[b * D + i] * W1[i * H + j];
                    h1[b * H + j] = (float)acc;
                }
                double h2[130], dh2[130];
                for (int j = 0; j < H2; j++) {
                    double acc = b2[j];
                    for (int i = 0; i < H; i++)
                        acc += (h1[b * H + i] > 0 ? h1[b * H + i] : 0.0) * W2[i * H2 + j];
                    h2[j] = acc;
                }
                for (int j = 0; j < H2; j++) {
                    double acc = 0;
                    for (int a = 0; a < A; a++)
                        acc += (double)d[b * A + a] * W3[j * A + a];
                    dh2[j] = h2[j] > 0 ? acc : 0.0;
                }
                for (int i = 0; i < H; i++) {
                    double acc = 0;
                    for (int j = 0; j < H2; j++)
                        acc += dh2[j] * W2[i * H2 + j];
                    dh1[b * H + i] = h1[b * H + i] > 0 ? (float)acc : 0.0f;
                }
            }
            for (int i = 0; i < D; i++)
                for (int j = 0; j < H; j++) {
                    double acc = 0.25;
                    for (int b = 0; b < B; b++)
                        acc += (double)x[b * D + i] * dh1[b * H + j];
                    ck_assert_msg(fabs(g2[i * H + j] - acc) <= 1e-4 * (1 + fabs(acc)), "dW1[%d,%d] = %g, reference %g", i, j, g2[i * H + j], acc);
                }
            free(dh1);
            free(h1);
            net_free(dense);
            net_free(sparse);
            free(idx);
            free(q1);
            free(val);
            free(din2);
            free(din1);
            free(d);
            free(x);
            free(g3);
            free(g2);
            free(g1);
            free(p);
        }
    /* -0 counts as zero wherever it sits in a block of 8 or a pair */
    float z[19] = {-0.0f, 0.0f, -0.0f, -0.0f, 0.0f, 0.0f, -0.0f, -0.0f, -0.0f, 2.0f, 0.0f, -0.0f, -0.0f, 0.0f, 0.0f, 0.0f, -0.0f, 0.0f, -3.0f};
    int zi[19], zr[2];
    float zv[19];
    ck_assert_msg(net_sparse_rows(z, 1, 19, zi, zv, zr) == 2 && zi[0] == 9 && zv[0] == 2.0f && zi[1] == 18 && zv[1] == -3.0f, "net_sparse_rows with -0 entries: %d entries", zr[1]);
}
END_TEST

/* A CNN big enough for several chunks of samples (conv 16,16 on 9x9 takes
 * 11 samples a chunk) on rows sharing a prefix, as observation planes do. */
static NetSpec chunked_cnn(void)
{
    int c2[2] = {16, 16}, h1[1] = {12};
    return cnn_spec(3, 9, 2, c2, 1, h1, 4);
}

/* Parameters of spec with random nonzero biases, from seed. */
static float *random_params(const NetSpec *s, uint64_t seed)
{
    size_t np = net_nparams(s);
    float *p = xalloc(np);
    Net *net = net_create(s, p, NULL);
    Rng rng;
    rng_seed(&rng, seed, 3);
    net_init(net, &rng);
    for (int i = 0; i < net_ntensors(net); i++) {
        NetTensor t;
        net_tensor(net, i, &t);
        if (t.ndim == 1)
            fill_uniform(&rng, p + t.offset, t.count, -0.3f, 0.3f);
    }
    net_free(net);
    return p;
}

START_TEST(test_cnn_chunks)
{
    enum { B = 37 };
    NetSpec s = chunked_cnn();
    const int D = 3 * 81, A = 4;
    size_t np = net_nparams(&s);
    float *p = random_params(&s, 41), *g = xalloc(np), *g1 = xalloc(np), *x = xalloc((size_t)B * D), *d = xalloc((size_t)B * A);
    float *din = xalloc((size_t)B * D), *din1 = xalloc((size_t)D);
    double *ref = calloc((size_t)B * A, sizeof(double));
    ck_assert_msg(ref != NULL, "calloc failed");
    Rng rng;
    rng_seed(&rng, 42, 0);
    prefix_rows(&rng, x, B, D, 0);
    fill_uniform(&rng, d, (size_t)B * A, -1.0f, 1.0f);
    Net *net = net_create(&s, p, g);
    const float *y = net_forward(net, x, B);
    ref_forward(&s, p, x, B, ref);
    for (int i = 0; i < B * A; i++)
        ck_assert_msg(fabs(y[i] - ref[i]) <= 1e-4 * (1.0 + fabs(ref[i])), "chunked CNN output %d = %g, reference %g", i, y[i], ref[i]);
    /* the same rows as lists with their prefix listed once: bit-identical */
    int *idx = calloc((size_t)B * D, sizeof(int)), rp[B + 1];
    float *val = xalloc((size_t)B * D), *y1 = xalloc((size_t)B * A);
    ck_assert_msg(idx != NULL, "calloc failed");
    memcpy(y1, y, (size_t)B * A * sizeof(float));
    net_sparse_rows(x, B, D, idx, val, rp);
    int L = net_common_prefix(idx, val, rp, B);
    ck_assert_msg(L == 10, "prefix of %d entries, want 10", L);
    int rp2[B + 1];
    for (int b = 0; b <= B; b++)
        rp2[b] = rp[b] - (b + 1) * L + L; /* rows without their prefix, packed */
    int w = 0;
    for (int b = 0; b < B; b++) {
        for (int k = rp[b] + L; k < rp[b + 1]; k++) {
            idx[L + w] = idx[k];
            val[L + w] = val[k];
            w++;
        }
    }
    SparseRows packed = {idx, val, L, idx + L, val + L, rp2};
    const float *ys = net_forward_sparse(net, &packed, B);
    ck_assert_msg(ys != NULL, "net_forward_sparse on a CNN failed");
    ck_assert_msg(memcmp(ys, y1, (size_t)B * A * sizeof(float)) == 0, "CNN on sparse lists differs from CNN on dense rows");
    /* the batch's gradients across chunks = the sum of each row's alone */
    net_forward(net, x, B);
    net_backward(net, d, din);
    Net *one = net_create(&s, p, g1);
    for (int b = 0; b < B; b++) {
        net_forward(one, x + (size_t)b * D, 1);
        net_backward(one, d + (size_t)b * A, din1);
        for (int i = 0; i < D; i++)
            ck_assert_msg(fabsf(din[(size_t)b * D + i] - din1[i]) <= 1e-5f * (1.0f + fabsf(din1[i])), "row %d input gradient %d: %g in the batch, %g alone", b, i, din[(size_t)b * D + i], din1[i]);
    }
    for (size_t i = 0; i < np; i++)
        ck_assert_msg(fabsf(g[i] - g1[i]) <= 1e-4f * (1.0f + fabsf(g1[i])), "parameter gradient %zu: %g for the batch, %g summed over single rows", i, g[i], g1[i]);
    net_free(one);
    net_free(net);
    free(y1);
    free(val);
    free(idx);
    free(ref);
    free(din1);
    free(din);
    free(d);
    free(x);
    free(g1);
    free(g);
    free(p);
}
END_TEST

/* 1 if a and b (n floats) agree to a relative 1e-5 (exact: bit for bit). */
static int close_floats(const float *a, const float *b, size_t n, int exact)
{
    if (exact)
        return memcmp(a, b, n * sizeof(float)) == 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(b[i]))))
            return 0;
    return 1;
}

/* Forward and backward of spec on B rows three times: with no pool, and
 * with two separate pools of 2 threads. The two 2-thread runs must be
 * bit-identical; the 1-thread run must agree bit for bit when exact, else
 * to rounding (OpenBLAS rounds a product of fewer rows or columns
 * differently, and the weight gradients that sum over rows add each
 * thread's partial sum). */
static void threads_case(const NetSpec *s, int B, int with_din, int exact, const char *what)
{
    const int D = s->in_c * s->n * s->n, A = s->out;
    size_t np = net_nparams(s);
    float *p = random_params(s, 51), *x = xalloc((size_t)B * D), *d = xalloc((size_t)B * A);
    float *g[3], *din[3], *y[3];
    Rng rng;
    rng_seed(&rng, 52, 0);
    prefix_rows(&rng, x, B, D, 0);
    fill_uniform(&rng, d, (size_t)B * A, -1.0f, 1.0f);
    for (int t = 0; t < 3; t++) {
        g[t] = xalloc(np);
        din[t] = xalloc((size_t)B * D);
        y[t] = xalloc((size_t)B * A);
        Pool *pool = t ? pool_create(2) : NULL;
        ck_assert_msg(!t || (pool != NULL && pool_threads(pool) == 2), "pool_create(2) failed");
        Net *net = net_create(s, p, g[t]);
        net_set_pool(net, pool);
        for (int rep = 0; rep < 2; rep++) { /* twice: the second run reuses the workspace */
            const float *out = net_forward(net, x, B);
            ck_assert_msg(out != NULL, "%s: forward failed", what);
            memcpy(y[t], out, (size_t)B * A * sizeof(float));
            net_backward(net, d, with_din ? din[t] : NULL);
        }
        net_free(net);
        pool_free(pool);
    }
    ck_assert_msg(close_floats(y[1], y[2], (size_t)B * A, 1), "%s: outputs differ between two 2-thread runs", what);
    ck_assert_msg(close_floats(g[1], g[2], np, 1), "%s: parameter gradients differ between two 2-thread runs", what);
    ck_assert_msg(close_floats(din[1], din[2], (size_t)B * D, 1), "%s: input gradients differ between two 2-thread runs", what);
    ck_assert_msg(close_floats(y[1], y[0], (size_t)B * A, exact), "%s: outputs differ between 1 and 2 threads", what);
    ck_assert_msg(close_floats(g[1], g[0], np, exact), "%s: parameter gradients differ between 1 and 2 threads", what);
    ck_assert_msg(close_floats(din[1], din[0], (size_t)B * D, exact), "%s: input gradients differ between 1 and 2 threads", what);
    for (int t = 0; t < 3; t++) {
        free(y[t]);
        free(din[t]);
        free(g[t]);
    }
    free(d);
    free(x);
    free(p);
}

START_TEST(test_threads_identical)
{
    int h2[2] = {64, 64}, h256[2] = {256, 40}, h1[1] = {64}, h70[1] = {70};
    NetSpec mlp = mlp_spec(3, 9, 2, h2, 4), wide = mlp_spec(3, 7, 2, h256, 5), head = mlp_spec(3, 9, 1, h1, 1), odd = mlp_spec(3, 9, 1, h70, 1);
    NetSpec cnn = chunked_cnn();
    threads_case(&mlp, 64, 0, 0, "MLP 64,64");
    threads_case(&mlp, 61, 1, 0, "MLP 64,64 with din");
    threads_case(&wide, 100, 1, 0, "MLP 256,40");
    threads_case(&head, 130, 0, 0, "lambda head 64");
    threads_case(&odd, 33, 0, 0, "head 70 (not a multiple of 64)");
    threads_case(&head, 31, 0, 1, "lambda head 64 below the rows a split needs");
    threads_case(&cnn, 37, 1, 0, "CNN 16,16 with din");
    threads_case(&cnn, 5, 0, 0, "CNN, one chunk");
    /* a pool of one thread is a team of one; NULL too */
    Pool *one = pool_create(1);
    ck_assert_msg(one != NULL && pool_threads(one) == 1 && pool_threads(NULL) == 1, "pool of one");
    pool_free(one);
    pool_free(NULL);
    ck_assert_msg(pool_create(0) == NULL && pool_create(65) == NULL, "pool sizes outside [1, 64] accepted");
}
END_TEST

/* pool_split: contiguous parts in order, aligned, covering [0, n). */
START_TEST(test_pool_split)
{
    int cases[][3] = {{0, 1, 2}, {1, 8, 2}, {100, 16, 2}, {64, 8, 3}, {7, 1, 7}, {9, 4, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int n = cases[c][0], align = cases[c][1], T = cases[c][2], next = 0;
        for (int t = 0; t < T; t++) {
            int lo, hi;
            pool_split(n, align, t, T, &lo, &hi);
            ck_assert_msg(lo == next && hi >= lo && hi <= n, "split(%d, %d) part %d of %d: [%d, %d) after %d", n, align, t, T, lo, hi, next);
            ck_assert_msg(hi == n || hi % align == 0, "split(%d, %d) part %d of %d ends at %d, not a multiple of %d", n, align, t, T, hi, align);
            next = hi;
        }
        ck_assert_msg(next == n, "split(%d, %d) over %d covers [0, %d)", n, align, T, next);
    }
}
END_TEST

/* conv_direct and conv_direct_dw against double-precision loops on
 * shapes that cover the tiles: 8-, 16- and 24-wide channel blocks, input
 * channels that are not a multiple of the weight gradient's block, rows
 * wider than one tile (n = 13), single-cell grids; with and without bias
 * and ReLU. The scratch is filled with garbage first: the kernels must not
 * depend on it. */
START_TEST(test_conv_direct)
{
    static const int shapes[][3] = {{16, 16, 9}, {5, 8, 13}, {8, 24, 1}, {3, 16, 2}, {24, 8, 7}, {1, 32, 4}};
    enum { NB = 3 };
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int Ci = shapes[c][0], Co = shapes[c][1], n = shapes[c][2], hw = n * n;
        ck_assert_msg(conv_direct_ok(Co) && !conv_direct_ok(Co + 1) && !conv_direct_ok(0), "conv_direct_ok(%d)", Co);
        Rng rng;
        rng_seed(&rng, 300 + c, 0);
        float *x = xalloc((size_t)NB * hw * Ci), *wt = xalloc((size_t)9 * Ci * Co), *bias = xalloc((size_t)Co);
        float *g = xalloc((size_t)NB * hw * Co), *out = xalloc((size_t)NB * hw * Co), *dwt = xalloc((size_t)9 * Ci * Co);
        float *pad = xalloc(conv_pad_floats(Ci, n));
        fill_uniform(&rng, x, (size_t)NB * hw * Ci, -1.0f, 1.0f);
        fill_uniform(&rng, wt, (size_t)9 * Ci * Co, -0.5f, 0.5f);
        fill_uniform(&rng, bias, (size_t)Co, -0.5f, 0.5f);
        fill_uniform(&rng, g, (size_t)NB * hw * Co, -1.0f, 1.0f);
        fill_uniform(&rng, dwt, (size_t)9 * Ci * Co, -1.0f, 1.0f);
        float *dwt0 = xalloc((size_t)9 * Ci * Co);
        memcpy(dwt0, dwt, (size_t)9 * Ci * Co * sizeof(float));
        for (int mode = 0; mode < 2; mode++) {
            for (size_t i = 0; i < conv_pad_floats(Ci, n); i++)
                pad[i] = 1e9f;
            conv_direct(out, x, wt, mode ? bias : NULL, pad, NB, Ci, Co, n, mode);
            for (int s = 0; s < NB; s++)
                for (int y = 0; y < n; y++)
                    for (int xx = 0; xx < n; xx++)
                        for (int co = 0; co < Co; co++) {
                            double acc = mode ? bias[co] : 0.0;
                            for (int t = 0; t < 9; t++) {
                                int yy = y + t / 3 - 1, xs = xx + t % 3 - 1;
                                if (yy < 0 || yy >= n || xs < 0 || xs >= n)
                                    continue;
                                for (int ci = 0; ci < Ci; ci++)
                                    acc += (double)x[((size_t)s * hw + yy * n + xs) * Ci + ci] * wt[((size_t)t * Ci + ci) * Co + co];
                            }
                            if (mode && acc < 0.0)
                                acc = 0.0;
                            float got = out[((size_t)s * hw + y * n + xx) * Co + co];
                            ck_assert_msg(fabs(got - acc) <= 1e-5 * (1.0 + fabs(acc)), "Ci %d Co %d n %d mode %d: out[%d,%d,%d,%d] = %.9g, reference %.9g", Ci, Co, n, mode, s, y, xx, co, got, acc);
                        }
        }
        for (size_t i = 0; i < conv_pad_floats(Ci, n); i++)
            pad[i] = -1e9f;
        conv_direct_dw(dwt, x, g, pad, NB, Ci, Co, n);
        for (int t = 0; t < 9; t++)
            for (int ci = 0; ci < Ci; ci++)
                for (int co = 0; co < Co; co++) {
                    double acc = dwt0[((size_t)t * Ci + ci) * Co + co];
                    for (int s = 0; s < NB; s++)
                        for (int y = 0; y < n; y++)
                            for (int xx = 0; xx < n; xx++) {
                                int yy = y + t / 3 - 1, xs = xx + t % 3 - 1;
                                if (yy >= 0 && yy < n && xs >= 0 && xs < n)
                                    acc += (double)x[((size_t)s * hw + yy * n + xs) * Ci + ci] * g[((size_t)s * hw + y * n + xx) * Co + co];
                            }
                    float got = dwt[((size_t)t * Ci + ci) * Co + co];
                    ck_assert_msg(fabs(got - acc) <= 1e-5 * (1.0 + fabs(acc)), "Ci %d Co %d n %d: dwt[%d,%d,%d] = %.9g, reference %.9g", Ci, Co, n, t, ci, co, got, acc);
                }
        free(dwt0);
        free(pad);
        free(dwt);
        free(out);
        free(g);
        free(bias);
        free(wt);
        free(x);
    }
}
END_TEST

/* ---------- layer and network gradients ---------- */

START_TEST(test_grad_layers)
{
    int h1[1] = {6}, c1[1] = {3}, c2[2] = {3, 2};
    NetSpec lin = mlp_spec(2, 3, 0, NULL, 4);
    grad_case(&lin, 3, 0, 0.5f, 101, "sparse dense layer");
    NetSpec two = mlp_spec(2, 3, 1, h1, 3);
    grad_case(&two, 4, 0, 0.5f, 102, "sparse + gemm dense layers");
    NetSpec conv = cnn_spec(2, 4, 1, c1, 0, NULL, 3);
    grad_case(&conv, 3, 0, 0.3f, 103, "conv + flatten + dense");
    NetSpec deep = cnn_spec(2, 4, 2, c2, 1, h1, 3);
    grad_case(&deep, 2, 0, 0.3f, 104, "conv, conv, dense, dense");
    /* channels that take the direct kernels: conv 8 -> 16 (forward, input
     * gradient and weight gradient direct), and 5 -> 8 (input gradient by
     * im2col, the rest direct) */
    int c8[2] = {8, 16}, c5[2] = {5, 8};
    NetSpec direct = cnn_spec(2, 4, 2, c8, 0, NULL, 3);
    grad_case(&direct, 2, 0, 0.3f, 107, "conv 8, conv 16 (direct kernels), dense");
    NetSpec mixed = cnn_spec(2, 3, 2, c5, 0, NULL, 3);
    grad_case(&mixed, 2, 0, 0.3f, 108, "conv 5, conv 8 (direct forward and weight gradient), dense");
    int h70[1] = {70};
    NetSpec one = mlp_spec(2, 3, 1, h70, 1); /* a lambda-like net: one output, no GEMM */
    grad_case(&one, 5, 0, 0.5f, 105, "sparse 70-wide + one-output dense layer");
}
END_TEST

/* A sparse layer 64 wide (or a multiple) and one output, the lambda
 * network's shape, runs as a fused head: its forward must equal, bit for bit,
 * the first layer alone, then ReLU and dense_forward's dot product (8 partial
 * sums); its backward (no input gradient) must equal, bit for bit, the
 * layer-by-layer backward that an input gradient forces. B = 7 covers the
 * four-row blocks and a tail; rows share a prefix (or, with vary, less). */
START_TEST(test_one_output_head)
{
    enum { B = 7, C = 3, N = 5, D = C * N * N };
    int widths[2] = {64, 128};
    for (int wi = 0; wi < 2; wi++)
        for (int vary = 0; vary < 2; vary++) {
            const int H = widths[wi];
            NetSpec s = mlp_spec(C, N, 1, &widths[wi], 1);
            size_t np = net_nparams(&s);
            float *p = xalloc(np), *g1 = xalloc(np), *g2 = xalloc(np), *x = xalloc((size_t)B * D), *din = xalloc((size_t)B * D), *h = xalloc((size_t)B * H);
            Rng rng;
            rng_seed(&rng, 77 + (uint64_t)wi, (uint64_t)vary);
            fill_uniform(&rng, p, np, -0.5f, 0.5f);
            prefix_rows(&rng, x, B, D, vary);
            float d[B], z[B];
            fill_uniform(&rng, d, B, -1, 1);
            Net *net = net_create(&s, p, g1);
            const float *q = net_forward(net, x, B);
            ck_assert_msg(q != NULL, "head forward failed");
            memcpy(z, q, sizeof z);
            /* reference forward: the first layer as a net of its own */
            NetSpec lin = mlp_spec(C, N, 0, NULL, H);
            Net *first = net_create(&lin, p, NULL);
            memcpy(h, net_forward(first, x, B), (size_t)B * H * sizeof(float));
            const float *w2 = p + (size_t)D * H + H, b2 = w2[H];
            for (int b = 0; b < B; b++) {
                float acc[8] = {0};
                for (int j = 0; j < H; j += 8)
                    for (int u = 0; u < 8; u++) {
                        float a = h[b * H + j + u] > 0.0f ? h[b * H + j + u] : 0.0f;
                        acc[u] += a * w2[j + u];
                    }
                float sum = 0.0f;
                for (int u = 0; u < 8; u++)
                    sum += acc[u];
                float want = b2 + sum;
                ck_assert_msg(memcmp(&z[b], &want, sizeof want) == 0, "H %d vary %d row %d: head %.9g, layer by layer %.9g", H, vary, b, z[b], want);
            }
            net_free(first);
            /* backward: fused (no input gradient) against layer by layer */
            memset(g1, 0, np * sizeof(float));
            net_backward(net, d, NULL);
            memcpy(g2, g1, np * sizeof(float));
            memset(g1, 0, np * sizeof(float));
            net_forward(net, x, B);
            net_backward(net, d, din);
            for (size_t i = 0; i < np; i++)
                ck_assert_msg(memcmp(&g1[i], &g2[i], sizeof(float)) == 0, "H %d vary %d: gradient %zu fused %.9g, layer by layer %.9g", H, vary, i, g2[i], g1[i]);
            net_free(net);
            free(h);
            free(din);
            free(x);
            free(g2);
            free(g1);
            free(p);
        }
    int h64[1] = {64};
    NetSpec one = mlp_spec(2, 3, 1, h64, 1);
    grad_case(&one, 6, 0, 0.5f, 106, "sparse 64-wide + one-output head");
}
END_TEST

START_TEST(test_grad_network_losses)
{
    int h2[2] = {8, 6}, h1[1] = {5}, c2[2] = {3, 3};
    NetSpec mlp = mlp_spec(3, 3, 2, h2, 4);
    grad_case(&mlp, 6, 1, 0.8f, 201, "MLP Huber");
    grad_case(&mlp, 6, 2, 0.8f, 202, "MLP MSE");
    NetSpec cnn = cnn_spec(2, 3, 2, c2, 1, h1, 4);
    grad_case(&cnn, 4, 1, 0.6f, 203, "CNN Huber");
    grad_case(&cnn, 4, 2, 0.6f, 204, "CNN MSE");
}
END_TEST

START_TEST(test_backward_no_grads)
{
    /* a net without a gradient buffer still gives input gradients */
    int h1[1] = {5};
    NetSpec s = mlp_spec(2, 3, 1, h1, 3);
    size_t np = net_nparams(&s);
    float *p = xalloc(np), *g = xalloc(np);
    Net *a = net_create(&s, p, g), *b = net_create(&s, p, NULL);
    Rng rng;
    rng_seed(&rng, 5, 5);
    net_init(a, &rng);
    float x[2 * 18], d[2 * 3], da[2 * 18], dbuf[2 * 18];
    fill_input(&rng, x, 36, 0.5f, 0);
    fill_uniform(&rng, d, 6, -1, 1);
    net_forward(a, x, 2);
    net_backward(a, d, da);
    net_forward(b, x, 2);
    net_backward(b, d, dbuf);
    for (int i = 0; i < 36; i++)
        ck_assert_msg(da[i] == dbuf[i], "din without grads differs at %d: %g vs %g", i, dbuf[i], da[i]);
    net_free(a);
    net_free(b);
    free(g);
    free(p);
}
END_TEST

/* ---------- init ---------- */

static void weight_stats(const float *w, size_t n, double *mean, double *std)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        s += w[i];
        ss += (double)w[i] * w[i];
    }
    *mean = s / n;
    *std = sqrt(ss / n - *mean * *mean);
}

START_TEST(test_init_he)
{
    int h1[1] = {256}, c1[1] = {64};
    NetSpec s = mlp_spec(3, 20, 1, h1, 4);
    size_t np = net_nparams(&s);
    float *p1 = xalloc(np), *p2 = xalloc(np), *p3 = xalloc(np);
    for (size_t i = 0; i < np; i++)
        p1[i] = p2[i] = p3[i] = NAN;
    Net *a = net_create(&s, p1, NULL), *b = net_create(&s, p2, NULL), *c = net_create(&s, p3, NULL);
    Rng r1, r2, r3;
    rng_seed(&r1, 99, 2);
    rng_seed(&r2, 99, 2);
    rng_seed(&r3, 100, 2);
    net_init(a, &r1);
    net_init(b, &r2);
    net_init(c, &r3);
    ck_assert_msg(memcmp(p1, p2, np * sizeof(float)) == 0, "net_init is not deterministic for a seed");
    ck_assert_msg(memcmp(p1, p3, np * sizeof(float)) != 0, "different seeds gave identical weights");
    for (int i = 0; i < net_ntensors(a); i++) {
        NetTensor t;
        net_tensor(a, i, &t);
        const float *w = p1 + t.offset;
        if (t.ndim == 1) {
            for (size_t k = 0; k < t.count; k++)
                ck_assert_msg(w[k] == 0.0f, "bias %s[%zu] = %g, want 0", t.name, k, w[k]);
            continue;
        }
        double mean, sd, want = sqrt(2.0 / t.shape[1]);
        weight_stats(w, t.count, &mean, &sd);
        double tol = t.count > 10000 ? 0.03 : 0.15;
        ck_assert_msg(fabs(sd / want - 1.0) < tol, "%s std %g, He wants %g", t.name, sd, want);
        ck_assert_msg(fabs(mean) < 4.0 * want / sqrt((double)t.count), "%s mean %g too far from 0", t.name, mean);
    }
    NetSpec cs = cnn_spec(8, 5, 1, c1, 0, NULL, 2);
    size_t cnp = net_nparams(&cs);
    float *cp = xalloc(cnp);
    Net *cn = net_create(&cs, cp, NULL);
    net_init(cn, &r1);
    double mean, sd, want = sqrt(2.0 / (8 * 9));
    weight_stats(cp, 64 * 8 * 9, &mean, &sd);
    ck_assert_msg(fabs(sd / want - 1.0) < 0.05, "conv std %g, He wants sqrt(2/(Cin*9)) = %g", sd, want);
    net_free(cn);
    free(cp);
    net_free(a);
    net_free(b);
    net_free(c);
    free(p1);
    free(p2);
    free(p3);
}
END_TEST

/* ---------- optimizer, clipping, losses ---------- */

START_TEST(test_adam_two_steps)
{
    Adam a;
    ck_assert_msg(adam_init(&a, 2, 0.1f, 0.9f, 0.999f, 1e-8f) == 0, "adam_init failed");
    float p[2] = {1.0f, -2.0f};
    const float g1[2] = {0.5f, -1.0f}, g2[2] = {-0.3f, 2.0f};
    adam_step(&a, p, g1, NULL);
    /* step 1: mhat = g, vhat = g^2, so p -= lr * sign(g) */
    ck_assert_msg(fabsf(p[0] - 0.9f) < 1e-6f && fabsf(p[1] + 1.9f) < 1e-6f, "Adam step 1 gave %g %g, want 0.9 -1.9", p[0], p[1]);
    adam_step(&a, p, g2, NULL);
    /* step 2 by hand: m = [0.015, 0.11], v = [0.00033975, 0.004999],
     * mhat = m / 0.19, vhat = v / 0.001999 */
    ck_assert_msg(fabsf(a.m[0] - 0.015f) < 1e-7f && fabsf(a.m[1] - 0.11f) < 1e-7f, "Adam m = %g %g", a.m[0], a.m[1]);
    /* float betas: 1 - 0.999f is 0.001 only to ~1e-5 relative */
    ck_assert_msg(fabsf(a.v[0] / 0.00033975f - 1) < 1e-4f && fabsf(a.v[1] / 0.004999f - 1) < 1e-4f, "Adam v = %g %g", a.v[0], a.v[1]);
    ck_assert_msg(fabsf(p[0] - 0.88085020f) < 2e-6f && fabsf(p[1] + 1.93661035f) < 2e-6f, "Adam step 2 gave %.8f %.8f, want 0.88085020 -1.93661035", p[0], p[1]);
    ck_assert_msg(a.t == 2, "Adam t = %ld after two steps", a.t);
    adam_free(&a);
    adam_free(&a);
    Adam z;
    memset(&z, 0, sizeof z);
    adam_free(&z);
    adam_free(NULL);
}
END_TEST

START_TEST(test_clip_grad_norm)
{
    float g[3] = {3.0f, 0.0f, -4.0f};
    float norm = clip_grad_norm(g, 3, 10.0f, NULL);
    ck_assert_msg(fabsf(norm - 5.0f) < 1e-6f && g[0] == 3.0f && g[2] == -4.0f, "below max_norm: norm %g, grads %g %g must be untouched", norm, g[0], g[2]);
    norm = clip_grad_norm(g, 3, 0.0f, NULL);
    ck_assert_msg(fabsf(norm - 5.0f) < 1e-6f && g[0] == 3.0f, "max_norm 0 must not clip");
    norm = clip_grad_norm(g, 3, 1.0f, NULL);
    ck_assert_msg(fabsf(norm - 5.0f) < 1e-6f, "clip returned %g, want the pre-clip norm 5", norm);
    ck_assert_msg(fabsf(g[0] - 0.6f) < 1e-6f && g[1] == 0.0f && fabsf(g[2] + 0.8f) < 1e-6f, "clipped grads %g %g %g, want 0.6 0 -0.8", g[0], g[1], g[2]);
    float after = clip_grad_norm(g, 3, 0.0f, NULL);
    ck_assert_msg(after <= 1.0f && after > 0.999f, "norm after clipping %g, want just under 1", after);
}
END_TEST

/* Adam and clipping split over a pool of 2 and 3 threads on a buffer long
 * enough to be split: Adam bit-identical to one thread; the norm equal to a
 * double reference, the clipped gradients to rounding, and each thread
 * count's result the same every time. */
START_TEST(test_optim_threads)
{
    enum { N = 100003 };
    float *p0 = xalloc(N), *p1 = xalloc(N), *g = xalloc(N), *c0 = xalloc(N), *c1 = xalloc(N), *c2 = xalloc(N);
    Rng rng;
    rng_seed(&rng, 61, 0);
    fill_uniform(&rng, p0, N, -1.0f, 1.0f);
    fill_uniform(&rng, g, N, -0.1f, 0.1f);
    memcpy(p1, p0, N * sizeof(float));
    double ss = 0.0;
    for (int i = 0; i < N; i++)
        ss += (double)g[i] * g[i];
    for (int T = 2; T <= 3; T++) {
        Pool *pool = pool_create(T);
        ck_assert_msg(pool != NULL, "pool_create(%d) failed", T);
        Adam a0, a1;
        ck_assert_msg(adam_init(&a0, N, 1e-3f, 0.9f, 0.999f, 1e-8f) == 0 && adam_init(&a1, N, 1e-3f, 0.9f, 0.999f, 1e-8f) == 0, "adam_init failed");
        for (int step = 0; step < 3; step++) {
            adam_step(&a0, p0, g, NULL);
            adam_step(&a1, p1, g, pool);
        }
        ck_assert_msg(memcmp(p0, p1, N * sizeof(float)) == 0 && memcmp(a0.v, a1.v, N * sizeof(float)) == 0, "Adam on %d threads differs from one thread", T);
        adam_free(&a0);
        adam_free(&a1);
        memcpy(c0, g, N * sizeof(float));
        memcpy(c1, g, N * sizeof(float));
        memcpy(c2, g, N * sizeof(float));
        float n0 = clip_grad_norm(c0, N, 1.0f, NULL), n1 = clip_grad_norm(c1, N, 1.0f, pool), n2 = clip_grad_norm(c2, N, 1.0f, pool);
        ck_assert_msg(fabs(n1 - sqrt(ss)) <= 1e-6 * sqrt(ss) && fabsf(n0 - n1) <= 1e-6f * n0, "clip norm on %d threads %.9g, one thread %.9g, reference %.9g", T, n1, n0, sqrt(ss));
        ck_assert_msg(memcmp(&n1, &n2, sizeof n1) == 0 && memcmp(c1, c2, N * sizeof(float)) == 0, "clip on %d threads differs between two calls", T);
        for (int i = 0; i < N; i++)
            ck_assert_msg(fabsf(c1[i] - c0[i]) <= 1e-6f * fabsf(c0[i]) && c1[i] != g[i], "clipped gradient %d on %d threads %g, one thread %g", i, T, c1[i], c0[i]);
        pool_free(pool);
    }
    free(c2);
    free(c1);
    free(c0);
    free(g);
    free(p1);
    free(p0);
}
END_TEST

START_TEST(test_td_loss)
{
    const float q[6] = {1.0f, 2.0f, 0.0f, -1.0f, 5.0f, 3.0f};
    const int act[2] = {1, 2};
    const float target[2] = {1.5f, 0.0f}; /* d = 0.5 and d = 3 */
    float dq[6];
    for (int i = 0; i < 6; i++)
        dq[i] = NAN;
    float l = td_loss(LOSS_HUBER, q, act, target, 2, 3, dq);
    ck_assert_msg(fabsf(l - (0.125f + 2.5f) / 2.0f) < 1e-6f, "Huber loss %g, want 1.3125", l);
    const float want_h[6] = {0, 0.25f, 0, 0, 0, 0.5f};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(dq[i] == want_h[i], "Huber dq[%d] = %g, want %g", i, dq[i], want_h[i]);
    l = td_loss(LOSS_MSE, q, act, target, 2, 3, dq);
    ck_assert_msg(fabsf(l - (0.25f + 9.0f) / 2.0f) < 1e-6f, "MSE loss %g, want 4.625", l);
    const float want_m[6] = {0, 0.5f, 0, 0, 0, 3.0f};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(dq[i] == want_m[i], "MSE dq[%d] = %g, want %g", i, dq[i], want_m[i]);
    const float tneg[2] = {3.5f, 3.0f}; /* d = -1.5, d = 0 */
    l = td_loss(LOSS_HUBER, q, act, tneg, 2, 3, dq);
    ck_assert_msg(fabsf(l - 0.5f) < 1e-6f && dq[1] == -0.5f && dq[5] == 0.0f, "Huber negative: loss %g dq %g %g", l, dq[1], dq[5]);
}
END_TEST

/* ---------- tensors, specs, flops ---------- */

static void check_tensors(const NetSpec *s, const char *const *names, const int (*shapes)[4], const int *ndims, int nt)
{
    size_t np = net_nparams(s);
    float *p = xalloc(np);
    Net *net = net_create(s, p, NULL);
    ck_assert_msg(net != NULL && net_ntensors(net) == nt, "expected %d tensors, got %d", nt, net ? net_ntensors(net) : -1);
    unsigned char *seen = calloc(np, 1);
    ck_assert_msg(seen != NULL, "calloc failed");
    for (int i = 0; i < nt; i++) {
        NetTensor t;
        net_tensor(net, i, &t);
        ck_assert_msg(strcmp(t.name, names[i]) == 0, "tensor %d named %s, want %s", i, t.name, names[i]);
        ck_assert_msg(t.ndim == ndims[i], "%s ndim %d, want %d", t.name, t.ndim, ndims[i]);
        size_t prod = 1;
        for (int k = 0; k < t.ndim; k++) {
            ck_assert_msg(t.shape[k] == shapes[i][k], "%s shape[%d] = %d, want %d", t.name, k, t.shape[k], shapes[i][k]);
            prod *= (size_t)t.shape[k];
        }
        ck_assert_msg(prod == t.count, "%s count %zu != product of shape %zu", t.name, t.count, prod);
        ck_assert_msg(t.transposed == (t.ndim == 2), "%s transposed %d: dense weights are stored (in, out)", t.name, t.transposed);
        ck_assert_msg(t.offset + t.count <= np, "%s runs past the buffer", t.name);
        for (size_t k = t.offset; k < t.offset + t.count; k++) {
            ck_assert_msg(seen[k] == 0, "%s overlaps another tensor at %zu", t.name, k);
            seen[k] = 1;
        }
    }
    for (size_t k = 0; k < np; k++)
        ck_assert_msg(seen[k] == 1, "parameter %zu belongs to no tensor", k);
    free(seen);
    net_free(net);
    free(p);
}

START_TEST(test_tensors)
{
    int h2[2] = {64, 64}, h1[1] = {64}, c2[2] = {16, 16};
    NetSpec m = mlp_spec(3, 9, 2, h2, 4);
    ck_assert_msg(net_nparams(&m) == 20036, "MLP 243-64-64-4 nparams %zu, want 20036", net_nparams(&m));
    const char *mn[] = {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"};
    const int ms[][4] = {{64, 243}, {64}, {64, 64}, {64}, {4, 64}, {4}};
    const int md[] = {2, 1, 2, 1, 2, 1};
    check_tensors(&m, mn, ms, md, 6);
    NetSpec c = cnn_spec(3, 9, 2, c2, 1, h1, 4);
    ck_assert_msg(net_nparams(&c) == (size_t)(16 * 27 + 16 + 16 * 144 + 16 + 1296 * 64 + 64 + 64 * 4 + 4), "CNN nparams %zu", net_nparams(&c));
    const char *cn[] = {"0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias", "7.weight", "7.bias"};
    const int cs[][4] = {{16, 3, 3, 3}, {16}, {16, 16, 3, 3}, {16}, {64, 1296}, {64}, {4, 64}, {4}};
    const int cd[] = {4, 1, 4, 1, 2, 1, 2, 1};
    check_tensors(&c, cn, cs, cd, 8);
}
END_TEST

START_TEST(test_spec_validation)
{
    int h2[2] = {64, 64}, c1[1] = {8};
    NetSpec ok = mlp_spec(3, 9, 2, h2, 4);
    ck_assert_msg(net_nparams(&ok) > 0, "valid MLP rejected");
    NetSpec lin = mlp_spec(3, 9, 0, NULL, 4);
    ck_assert_msg(net_nparams(&lin) == 243 * 4 + 4, "MLP without hidden layers: %zu", net_nparams(&lin));
    NetSpec s;
    s = ok; s.out = 0;
    ck_assert_msg(net_nparams(&s) == 0, "out = 0 accepted");
    s = ok; s.in_c = 0;
    ck_assert_msg(net_nparams(&s) == 0, "in_c = 0 accepted");
    s = ok; s.n = -1;
    ck_assert_msg(net_nparams(&s) == 0, "n = -1 accepted");
    s = ok; s.hidden[1] = 0;
    ck_assert_msg(net_nparams(&s) == 0, "hidden width 0 accepted");
    s = ok; s.nhidden = -1;
    ck_assert_msg(net_nparams(&s) == 0, "nhidden = -1 accepted");
    s = ok; s.nhidden = NET_MAX_LAYERS + 1;
    ck_assert_msg(net_nparams(&s) == 0, "nhidden > NET_MAX_LAYERS accepted");
    s = ok; s.kind = (NetKind)7;
    ck_assert_msg(net_nparams(&s) == 0, "unknown kind accepted");
    s = ok; s.n = 100000;
    ck_assert_msg(net_nparams(&s) == 0, "input too large for int sizes accepted");
    ck_assert_msg(net_nparams(NULL) == 0, "NULL spec accepted");
    NetSpec c = cnn_spec(3, 9, 1, c1, 2, h2, 4);
    ck_assert_msg(net_nparams(&c) > 0, "valid CNN rejected");
    s = c; s.nconv = 0;
    ck_assert_msg(net_nparams(&s) == 0, "CNN without convs accepted");
    s = c; s.nconv = NET_MAX_LAYERS + 1;
    ck_assert_msg(net_nparams(&s) == 0, "nconv > NET_MAX_LAYERS accepted");
    s = c; s.conv[0] = -3;
    ck_assert_msg(net_nparams(&s) == 0, "negative conv channels accepted");
    float p[4];
    s = ok; s.out = 0;
    ck_assert_msg(net_create(&s, p, NULL) == NULL, "net_create accepted an invalid spec");
    ck_assert_msg(net_create(&ok, NULL, NULL) == NULL, "net_create accepted NULL params");
    net_free(NULL);
}
END_TEST

START_TEST(test_flops)
{
    int h2[2] = {64, 64}, h1[1] = {64}, c2[2] = {16, 16};
    NetSpec m = mlp_spec(3, 9, 2, h2, 4);
    size_t np = net_nparams(&m);
    float *p = xalloc(np);
    Net *net = net_create(&m, p, NULL);
    double want = 2.0 * 64 * (243 * 64 + 64 * 64 + 64 * 4);
    ck_assert_msg(net_flops_forward(net, 64) == want, "MLP flops %g, want %g", net_flops_forward(net, 64), want);
    net_free(net);
    free(p);
    NetSpec c = cnn_spec(3, 9, 2, c2, 1, h1, 4);
    np = net_nparams(&c);
    p = xalloc(np);
    net = net_create(&c, p, NULL);
    want = 2.0 * 10 * (81.0 * 16 * 27 + 81.0 * 16 * 144 + 1296.0 * 64 + 64 * 4);
    ck_assert_msg(net_flops_forward(net, 10) == want, "CNN flops %g, want %g", net_flops_forward(net, 10), want);
    ck_assert_msg(net_spec(net)->nconv == 2 && net_spec(net)->conv[1] == 16, "net_spec does not return the spec");
    net_free(net);
    free(p);
}
END_TEST

/* ---------- workspace growth ---------- */

static void growth_case(const NetSpec *s, const char *what)
{
    size_t np = net_nparams(s);
    size_t D = (size_t)s->in_c * s->n * s->n;
    int A = s->out;
    float *p = xalloc(np), *g1 = xalloc(np), *g2 = xalloc(np);
    Net *grow = net_create(s, p, g1);
    Rng rng;
    rng_seed(&rng, 3, 9);
    net_init(grow, &rng);
    float *x = xalloc(100 * D), *d = xalloc(100 * (size_t)A), *din1 = xalloc(100 * D), *din2 = xalloc(100 * D);
    fill_input(&rng, x, 100 * D, 0.8f, 1);
    fill_uniform(&rng, d, 100 * (size_t)A, -1, 1);
    const int Bs[3] = {3, 100, 3};
    for (int k = 0; k < 3; k++) {
        int B = Bs[k];
        const float *x_in = x + (k == 2 ? 50 * D : 0); /* third call uses other rows */
        memset(g1, 0, np * sizeof(float));
        memset(g2, 0, np * sizeof(float));
        const float *q1 = net_forward(grow, x_in, B);
        ck_assert_msg(q1 != NULL, "%s: forward B=%d failed", what, B);
        float *q1c = xalloc((size_t)B * A);
        memcpy(q1c, q1, (size_t)B * A * sizeof(float));
        net_backward(grow, d, din1);
        Net *fresh = net_create(s, p, g2);
        const float *q2 = net_forward(fresh, x_in, B);
        net_backward(fresh, d, din2);
        ck_assert_msg(memcmp(q1c, q2, (size_t)B * A * sizeof(float)) == 0, "%s: forward B=%d after growth differs from a fresh net", what, B);
        ck_assert_msg(memcmp(g1, g2, np * sizeof(float)) == 0, "%s: grads B=%d after growth differ from a fresh net", what, B);
        ck_assert_msg(memcmp(din1, din2, (size_t)B * D * sizeof(float)) == 0, "%s: din B=%d after growth differs", what, B);
        /* rows are independent: row 0 of a batch equals a one-row forward */
        const float *q3 = net_forward(fresh, x_in, 1);
        for (int j = 0; j < A; j++)
            ck_assert_msg(fabsf(q3[j] - q1c[j]) <= 1e-5f * (1 + fabsf(q1c[j])), "%s: row 0 depends on batch size (B=%d)", what, B);
        net_free(fresh);
        free(q1c);
    }
    free(din2);
    free(din1);
    free(d);
    free(x);
    net_free(grow);
    free(g2);
    free(g1);
    free(p);
}

START_TEST(test_workspace_growth)
{
    int h2[2] = {16, 8}, c1[1] = {4};
    NetSpec m = mlp_spec(3, 5, 2, h2, 4);
    growth_case(&m, "MLP");
    NetSpec c = cnn_spec(3, 5, 1, c1, 1, h2, 4);
    growth_case(&c, "CNN");
}
END_TEST

/* ---------- benchmark (by hand) ---------- */

/* Allocation outside a running test (ck_assert would abort the process). */
static float *bench_alloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

static void bench_net(const NetSpec *s, int B, const char *what)
{
    size_t np = net_nparams(s), D = (size_t)s->in_c * s->n * s->n;
    float *p = bench_alloc(np), *g = bench_alloc(np), *x = bench_alloc((size_t)B * D), *d = bench_alloc((size_t)B * s->out);
    Net *net = net_create(s, p, g);
    Rng rng;
    rng_seed(&rng, 1, 1);
    net_init(net, &rng);
    fill_input(&rng, x, (size_t)B * D, 0.88f, 1);
    fill_uniform(&rng, d, (size_t)B * s->out, -0.01f, 0.01f);
    for (int i = 0; i < 20; i++) {
        net_forward(net, x, B);
        net_backward(net, d, NULL);
    }
    int iters = 0;
    double t0 = clock_seconds(), t;
    do {
        for (int i = 0; i < 50; i++) {
            net_forward(net, x, B);
            net_backward(net, d, NULL);
        }
        iters += 50;
        t = clock_seconds() - t0;
    } while (t < 1.0);
    double tf0 = clock_seconds();
    for (int i = 0; i < iters; i++)
        net_forward(net, x, B);
    double tf = clock_seconds() - tf0;
    double us = 1e6 * t / iters;
    printf("%-32s B=%4d  fwd+bwd %9.1f us  (fwd %8.1f us)  %8.0f updates/s  %.2f dense-equiv GFLOP/s (3x fwd)\n", what, B, us, 1e6 * tf / iters, iters / t,
           3.0 * net_flops_forward(net, B) * iters / t * 1e-9);
    net_free(net);
    free(d);
    free(x);
    free(g);
    free(p);
}

static void bench_gemm(int M, int N, int K)
{
    float *A = bench_alloc((size_t)M * K), *Bm = bench_alloc((size_t)K * N), *C = bench_alloc((size_t)M * N);
    Rng rng;
    rng_seed(&rng, 2, 2);
    fill_uniform(&rng, A, (size_t)M * K, -1, 1);
    fill_uniform(&rng, Bm, (size_t)K * N, -1, 1);
    int iters = 0;
    double t0 = clock_seconds(), t;
    do {
        for (int i = 0; i < 100; i++)
            gemm(0, 0, M, N, K, 1.0f, A, K, Bm, N, 0.0f, C, N);
        iters += 100;
        t = clock_seconds() - t0;
    } while (t < 1.0);
    printf("cblas_sgemm %dx%dx%d: %.1f us, %.2f GFLOP/s\n", M, N, K, 1e6 * t / iters, 2.0 * M * N * K * iters / t * 1e-9);
    free(C);
    free(Bm);
    free(A);
}

static void bench(void)
{
    gemm_set_threads(1);
    int h2[2] = {64, 64}, h1[1] = {64}, c2[2] = {16, 16};
    NetSpec m = mlp_spec(3, 9, 2, h2, 4);
    NetSpec c = cnn_spec(3, 9, 2, c2, 1, h1, 4);
    bench_gemm(512, 64, 64);
    bench_gemm(64, 64, 64);
    bench_net(&m, 64, "MLP 243-64-64-4");
    bench_net(&m, 512, "MLP 243-64-64-4");
    bench_net(&c, 64, "CNN 3x9x9 conv16,16 fc64");
    bench_net(&c, 512, "CNN 3x9x9 conv16,16 fc64");
}

/* ---------- suite ---------- */

static Suite *nn_suite(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("gemm");
    tcase_add_test(tc, test_gemm_naive_hand);
    tcase_add_test(tc, test_gemm_vs_naive);
    tcase_add_test(tc, test_gemm_k_zero);
    suite_add_tcase(s, tc);
    tc = tcase_create("forward");
    tcase_add_test(tc, test_forward_reference);
    tcase_add_test(tc, test_sparse_first_layer);
    tcase_add_test(tc, test_sparse_input_path);
    tcase_add_test(tc, test_cnn_chunks);
    tcase_add_test(tc, test_conv_direct);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_threads_identical);
    tcase_add_test(tc, test_pool_split);
    suite_add_tcase(s, tc);
    tc = tcase_create("gradients");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_grad_layers);
    tcase_add_test(tc, test_grad_network_losses);
    tcase_add_test(tc, test_one_output_head);
    tcase_add_test(tc, test_backward_no_grads);
    suite_add_tcase(s, tc);
    tc = tcase_create("init");
    tcase_add_test(tc, test_init_he);
    suite_add_tcase(s, tc);
    tc = tcase_create("optim");
    tcase_add_test(tc, test_adam_two_steps);
    tcase_add_test(tc, test_clip_grad_norm);
    tcase_add_test(tc, test_optim_threads);
    tcase_add_test(tc, test_td_loss);
    suite_add_tcase(s, tc);
    tc = tcase_create("layout");
    tcase_set_timeout(tc, 60); /* test_tensors checks every parameter: about 6 s under ASan */
    tcase_add_test(tc, test_tensors);
    tcase_add_test(tc, test_spec_validation);
    tcase_add_test(tc, test_flops);
    tcase_add_test(tc, test_workspace_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    return check_main_run(nn_suite());
}

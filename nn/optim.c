/* optim.c - the training arithmetic of nn.h outside the layers: Adam with
 * PyTorch's semantics (bias-corrected moments, eps added after the square
 * root), global-norm gradient clipping (torch.nn.utils.clip_grad_norm_) and
 * the TD losses (smooth_l1 with beta 1, MSE), each one loop over contiguous
 * floats. Reductions are accumulated in double. */
#include "nn.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Zeroed moments for n parameters; 0, or -1 (m and v NULL) if out of memory. */
int adam_init(Adam *a, size_t n, float lr, float beta1, float beta2, float eps)
{
    memset(a, 0, sizeof *a);
    a->n = n;
    a->lr = lr;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    if (n == 0)
        return 0;
    a->m = calloc(n, sizeof(float));
    a->v = calloc(n, sizeof(float));
    if (!a->m || !a->v) {
        adam_free(a);
        return -1;
    }
    return 0;
}

/* Frees the moments; a zeroed (or already freed) Adam is a no-op. */
void adam_free(Adam *a)
{
    if (!a)
        return;
    free(a->m);
    free(a->v);
    a->m = NULL;
    a->v = NULL;
}

/* Below this many parameters Adam and clipping stay on the caller's
 * thread: splitting costs more than the loop (a few microseconds). */
enum { OPT_PAR_MIN = 1 << 15 };

/* Threads of pool to split n floats over. */
static int opt_threads(const Pool *pool, size_t n)
{
    return n >= OPT_PAR_MIN && n <= (size_t)INT_MAX ? pool_threads(pool) : 1;
}

typedef struct {
    const Adam *a;
    float *params;
    const float *grads;
    float step, inv_sqrt_bc2;
    int T;
} AdamTask;

/* Adam on the parameters [lo, hi). */
static void adam_range(const Adam *a, float *restrict p, const float *restrict g, float step, float inv_sqrt_bc2, size_t lo, size_t hi)
{
    float b1 = a->beta1, b2 = a->beta2, eps = a->eps;
    float c1 = (float)(1.0 - (double)b1), c2 = (float)(1.0 - (double)b2);
    float *restrict m = a->m, *restrict v = a->v;
    for (size_t i = lo; i < hi; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

static void k_adam(void *ctx, int t)
{
    const AdamTask *k = ctx;
    int lo, hi;
    pool_split((int)k->a->n, 16, t, k->T, &lo, &hi);
    adam_range(k->a, k->params, k->grads, k->step, k->inv_sqrt_bc2, (size_t)lo, (size_t)hi);
}

/* One Adam step over the a->n parameters (t counts from 1), split over
 * pool by ranges: every entry gets the same operations for any split. */
void adam_step(Adam *a, float *params, const float *grads, Pool *pool)
{
    a->t++;
    float step = (float)((double)a->lr / (1.0 - pow((double)a->beta1, (double)a->t)));
    float inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow((double)a->beta2, (double)a->t)));
    AdamTask k = {a, params, grads, step, inv_sqrt_bc2, opt_threads(pool, a->n)};
    if (k.T == 1)
        adam_range(a, params, grads, step, inv_sqrt_bc2, 0, a->n);
    else
        pool_run(pool, k_adam, &k);
}

typedef struct {
    float *g;
    size_t n;
    int T;
    float scale;       /* the scaling pass's factor */
    double part[POOL_MAX][8]; /* per thread, clip's eight partial sums of squares */
} ClipTask;

/* Thread t's range of a ClipTask: contiguous, multiples of 8 but the last. */
static void clip_range(const ClipTask *k, int t, size_t *lo, size_t *hi)
{
    int l, h;
    pool_split((int)k->n, 8, t, k->T, &l, &h);
    *lo = (size_t)l;
    *hi = (size_t)h;
}

/* Eight partial sums of squares of grads[lo, hi) (lo a multiple of 8), the
 * tail after the last whole block of 8 added to the first. */
static void sum_squares(double acc[8], const float *grads, size_t lo, size_t hi)
{
    for (int k = 0; k < 8; k++)
        acc[k] = 0.0;
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)grads[i + k] * (double)grads[i + k];
    for (; i < hi; i++)
        acc[0] += (double)grads[i] * (double)grads[i];
}

static void k_clip_sum(void *ctx, int t)
{
    ClipTask *k = ctx;
    size_t lo, hi;
    clip_range(k, t, &lo, &hi);
    sum_squares(k->part[t], k->g, lo, hi);
}

static void k_clip_scale(void *ctx, int t)
{
    ClipTask *k = ctx;
    size_t lo, hi;
    clip_range(k, t, &lo, &hi);
    for (size_t j = lo; j < hi; j++)
        k->g[j] *= k->scale;
}

/* Global L2 norm of grads; scaled by max_norm / (norm + 1e-6) when above
 * max_norm > 0. Returns the norm before clipping. */
float clip_grad_norm(float *grads, size_t n, float max_norm, Pool *pool)
{
    /* eight independent partial sums per thread: the loop vectorises
     * without reassociating any one sum, so the result is the same on every
     * build; the threads' sums are added in thread order */
    ClipTask *k = &(ClipTask){.g = grads, .n = n, .T = opt_threads(pool, n)};
    if (k->T == 1)
        k_clip_sum(k, 0);
    else
        pool_run(pool, k_clip_sum, k);
    double acc[8];
    for (int j = 0; j < 8; j++) {
        acc[j] = k->part[0][j];
        for (int t = 1; t < k->T; t++)
            acc[j] += k->part[t][j];
    }
    double ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    double norm = sqrt(ss);
    if (max_norm > 0.0f && norm > (double)max_norm) {
        k->scale = (float)((double)max_norm / (norm + 1e-6));
        if (k->T == 1)
            k_clip_scale(k, 0);
        else
            pool_run(pool, k_clip_scale, k);
    }
    return (float)norm;
}

/* Huber (smooth_l1, beta 1) or MSE of q[b, act[b]] - target[b], mean over B;
 * dq (B, A) gets the gradient (zero except the chosen entries). */
float td_loss(LossKind kind, const float *q, const int *act, const float *target, int B, int A, float *dq)
{
    memset(dq, 0, (size_t)B * (size_t)A * sizeof(float));
    if (B <= 0)
        return 0.0f;
    double loss = 0.0;
    float inv_b = 1.0f / (float)B;
    for (int b = 0; b < B; b++) {
        assert(act[b] >= 0 && act[b] < A);
        size_t k = (size_t)b * A + (size_t)act[b];
        float d = q[k] - target[b];
        float grad;
        if (kind == LOSS_MSE) {
            loss += (double)d * d;
            grad = 2.0f * d;
        } else if (fabsf(d) < 1.0f) {
            loss += 0.5 * (double)d * d;
            grad = d;
        } else {
            loss += fabs((double)d) - 0.5;
            grad = d > 0.0f ? 1.0f : -1.0f;
        }
        dq[k] = grad * inv_b;
    }
    return (float)(loss / B);
}

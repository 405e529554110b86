/* optim.c - the training arithmetic of nn.h outside the layers: Adam with
 * PyTorch's semantics (bias-corrected moments, eps added after the square
 * root), global-norm gradient clipping (torch.nn.utils.clip_grad_norm_) and
 * the TD losses (smooth_l1 with beta 1, MSE), each one loop over contiguous
 * floats. Reductions are accumulated in double. */
#include "nn.h"

#include <assert.h>
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

/* One Adam step over the a->n parameters (t counts from 1). */
void adam_step(Adam *a, float *params, const float *grads)
{
    a->t++;
    float b1 = a->beta1, b2 = a->beta2, eps = a->eps;
    float c1 = (float)(1.0 - (double)b1), c2 = (float)(1.0 - (double)b2);
    float step = (float)((double)a->lr / (1.0 - pow((double)b1, (double)a->t)));
    float inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow((double)b2, (double)a->t)));
    float *restrict p = params, *restrict m = a->m, *restrict v = a->v;
    const float *restrict g = grads;
    for (size_t i = 0; i < a->n; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

/* Global L2 norm of grads; scaled by max_norm / (norm + 1e-6) when above
 * max_norm > 0. Returns the norm before clipping. */
float clip_grad_norm(float *grads, size_t n, float max_norm)
{
    /* eight independent partial sums: the loop vectorises without
     * reassociating any one sum, so the result is the same on every build */
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += (double)grads[i + k] * (double)grads[i + k];
    for (; i < n; i++)
        acc[0] += (double)grads[i] * (double)grads[i];
    double ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    double norm = sqrt(ss);
    if (max_norm > 0.0f && norm > (double)max_norm) {
        float scale = (float)((double)max_norm / (norm + 1e-6));
        for (size_t j = 0; j < n; j++)
            grads[j] *= scale;
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

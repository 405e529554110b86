/* nn.c - the Q-network layers of nn.h: an MLP (dense + ReLU) or a CNN (3x3
 * same-padding convolutions + ReLU, flatten, dense + ReLU), forward and
 * backward on a batch, He initialisation and the PyTorch tensor naming.
 *
 * Tuned for small networks on large batches of sparse 0/1 planes (MLP
 * 243->64->64->4 at B = 64..512): the first dense layer of an MLP gathers the
 * weight rows of the nonzero inputs (about one in eight) instead of a dense
 * GEMM, from row lists it builds (net_forward) or the caller gives
 * (net_forward_sparse), 64 outputs at a time in registers; the prefix of
 * nonzeros every row shares (the walls) is summed once per batch, in the same
 * order, so a row's result never depends on its batch. Every other layer is
 * one gemm() over the whole batch (a convolution is im2col of the batch then
 * one GEMM), except in a one-output head (the lambda network's shape: sparse
 * layer, ReLU, one output), whose forward and backward make one pass per row
 * with the same operations in the same order (head_forward, head_backward).
 * All activations live in one workspace block owned by the Net, grown
 * geometrically when a larger batch arrives, so forward and backward never
 * allocate in steady state. Adam, clipping and the TD losses are in optim.c. */
#include "nn.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

enum { NET_LAYERS_MAX = 2 * NET_MAX_LAYERS + 1 };

typedef struct {
    int conv;        /* 1: 3x3 convolution, 0: dense */
    int in, out;     /* dense: features; conv: channels */
    int out_width;   /* floats per row of the output: out (dense) or out*n*n (conv) */
    size_t w_off;    /* weight offset in the parameter buffer (bias follows) */
    size_t w_count;  /* dense in*out, conv out*in*9 */
    float *act;      /* workspace (B, out_width): output, after ReLU unless last */
    float *cols;     /* conv workspace (in*9, B*n*n): im2col of the input */
} Layer;

struct Net {
    NetSpec spec;
    int nlayers;
    Layer layer[NET_LAYERS_MAX];
    int hw;          /* n*n */
    int in_dim;      /* C*n*n */
    int maxw;        /* widest row: input or any layer output */
    int max_cout;    /* CNN: widest conv output (channels) */
    int max_cin9;    /* CNN: widest conv input (channels*9) */
    float *params, *grads; /* views, caller-owned; grads may be NULL */
    /* workspace, sized for cap rows */
    int cap;
    int B;           /* rows of the last forward; 0 = nothing to backpropagate */
    float *ws;       /* one block holding every float buffer below */
    int *iws;        /* one block holding idx and rowptr */
    float *g0, *g1;  /* (cap, maxw) gradient ping-pong */
    float *ybuf;     /* CNN (max_cout, cap*hw): conv GEMM output / its gradient */
    float *dcols;    /* CNN (max_cin9, cap*hw): gradient of the im2col matrix */
    int *idx;        /* MLP (cap*in_dim): nonzero input indices, by row */
    float *val;      /* MLP (cap*in_dim): their values */
    int *rowptr;     /* MLP (cap+1): row b's nonzeros are [rowptr[b], rowptr[b+1]) */
    /* the first layer's input of the last forward (MLP): the caller's lists
     * (net_forward_sparse, skip 0), or idx/val/rowptr above, whose rows still
     * hold the prefix (skip = its length) */
    SparseRows in;
    int skip;        /* entries at the start of each row list that belong to the prefix */
    float *pre;      /* MLP (maxw): bias + the prefix terms; backward scratch */
};

/* Floats and ints the workspace needs per batch row (ints: MLP sparse indices). */
static void net_row_sizes(const Net *net, size_t *floats, size_t *ints)
{
    size_t f = 2 * (size_t)net->maxw;
    for (int l = 0; l < net->nlayers; l++) {
        const Layer *L = &net->layer[l];
        f += (size_t)L->out_width;
        if (L->conv)
            f += (size_t)L->in * 9 * (size_t)net->hw;
    }
    if (net->spec.kind == NET_CNN) {
        f += ((size_t)net->max_cout + (size_t)net->max_cin9) * (size_t)net->hw;
        *ints = 0;
    } else {
        f += (size_t)net->in_dim;
        *ints = (size_t)net->in_dim + 1;
    }
    *floats = f;
}

/* Checks a spec and fills the layer shapes of net (when non-NULL); returns
 * the parameter count, 0 if invalid. Every per-row size must fit in an int. */
static size_t net_layout(const NetSpec *s, Net *net)
{
    if (!s || (s->kind != NET_MLP && s->kind != NET_CNN) || s->in_c <= 0 || s->n <= 0 || s->out <= 0)
        return 0;
    if (s->nhidden < 0 || s->nhidden > NET_MAX_LAYERS)
        return 0;
    int nconv = s->kind == NET_CNN ? s->nconv : 0;
    if (s->kind == NET_CNN && (nconv < 1 || nconv > NET_MAX_LAYERS))
        return 0;
    if ((long long)s->n * s->n * s->in_c > INT_MAX / 16)
        return 0;
    int hw = s->n * s->n;
    Layer tmp[NET_LAYERS_MAX];
    int nl = 0;
    size_t total = 0;
    int width = s->in_c * hw, ch = s->in_c, maxw = width, max_cout = 0, max_cin9 = 0;
    for (int i = 0; i < nconv; i++) {
        int co = s->conv[i];
        if (co <= 0 || (long long)co * hw > INT_MAX / 16 || (long long)ch * 9 * hw > INT_MAX / 16)
            return 0;
        Layer *L = &tmp[nl++];
        memset(L, 0, sizeof *L);
        L->conv = 1;
        L->in = ch;
        L->out = co;
        L->out_width = co * hw;
        L->w_off = total;
        L->w_count = (size_t)co * (size_t)ch * 9;
        total += L->w_count + (size_t)co;
        max_cout = co > max_cout ? co : max_cout;
        max_cin9 = ch * 9 > max_cin9 ? ch * 9 : max_cin9;
        ch = co;
        width = co * hw;
        maxw = width > maxw ? width : maxw;
    }
    for (int i = 0; i <= s->nhidden; i++) {
        int o = i < s->nhidden ? s->hidden[i] : s->out;
        if (o <= 0 || o > INT_MAX / 16)
            return 0;
        Layer *L = &tmp[nl++];
        memset(L, 0, sizeof *L);
        L->in = width;
        L->out = o;
        L->out_width = o;
        L->w_off = total;
        L->w_count = (size_t)width * (size_t)o;
        total += L->w_count + (size_t)o;
        width = o;
        maxw = o > maxw ? o : maxw;
    }
    if (net) {
        net->nlayers = nl;
        memcpy(net->layer, tmp, sizeof tmp);
        net->hw = hw;
        net->in_dim = s->in_c * hw;
        net->maxw = maxw;
        net->max_cout = max_cout;
        net->max_cin9 = max_cin9;
    }
    return total;
}

/* Parameter floats of a spec; 0 if invalid. */
size_t net_nparams(const NetSpec *spec)
{
    return net_layout(spec, NULL);
}

/* A network viewing params/grads; NULL on an invalid spec, NULL params or OOM. */
Net *net_create(const NetSpec *spec, float *params, float *grads)
{
    if (!params || net_nparams(spec) == 0)
        return NULL;
    Net *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    net->spec = *spec;
    if (net->spec.kind == NET_MLP)
        net->spec.nconv = 0;
    net_layout(&net->spec, net);
    net->params = params;
    net->grads = grads;
    return net;
}

/* Frees the workspace and the Net (not the parameters); NULL is a no-op. */
void net_free(Net *net)
{
    if (!net)
        return;
    free(net->ws);
    free(net->iws);
    free(net);
}

/* The spec the network was built from. */
const NetSpec *net_spec(const Net *net)
{
    return &net->spec;
}

/* He-normal weights in layer order, each in memory order; zero biases. */
void net_init(Net *net, Rng *rng)
{
    for (int l = 0; l < net->nlayers; l++) {
        const Layer *L = &net->layer[l];
        int fan_in = L->conv ? L->in * 9 : L->in;
        float std = sqrtf(2.0f / (float)fan_in);
        float *w = net->params + L->w_off;
        for (size_t i = 0; i < L->w_count; i++)
            w[i] = std * rng_normal(rng);
        memset(w + L->w_count, 0, (size_t)L->out * sizeof(float));
    }
}

/* Makes the workspace hold at least B rows (geometric growth); 0 or -1 (OOM,
 * or B too large for int-sized GEMM dimensions). */
static int net_reserve(Net *net, int B)
{
    if (B <= net->cap)
        return 0;
    size_t fr, ir;
    net_row_sizes(net, &fr, &ir);
    int widest = net->maxw;
    if (net->spec.kind == NET_CNN) {
        int w9 = net->max_cin9 * net->hw;
        widest = w9 > widest ? w9 : widest;
    }
    if (B > INT_MAX / widest)
        return -1;
    int cap = net->cap > INT_MAX / 2 ? INT_MAX : 2 * net->cap;
    cap = cap < B ? B : cap;
    if (cap > INT_MAX / widest)
        cap = B;
    size_t rows = (size_t)cap;
    if (fr > SIZE_MAX / sizeof(float) / (rows + 1) || (ir && ir > SIZE_MAX / sizeof(int) / (rows + 1)))
        return -1;
    size_t ffixed = net->spec.kind == NET_MLP ? (size_t)net->maxw : 0; /* pre */
    float *ws = malloc((fr * rows + ffixed) * sizeof(float));
    int *iws = ir ? malloc((ir * rows + 1) * sizeof(int)) : NULL;
    if (!ws || (ir && !iws)) {
        free(ws);
        free(iws);
        return -1;
    }
    free(net->ws);
    free(net->iws);
    net->ws = ws;
    net->iws = iws;
    net->cap = cap;
    float *p = ws;
    net->g0 = p;
    p += rows * (size_t)net->maxw;
    net->g1 = p;
    p += rows * (size_t)net->maxw;
    for (int l = 0; l < net->nlayers; l++) {
        Layer *L = &net->layer[l];
        L->act = p;
        p += rows * (size_t)L->out_width;
        if (L->conv) {
            L->cols = p;
            p += rows * (size_t)L->in * 9 * (size_t)net->hw;
        }
    }
    if (net->spec.kind == NET_CNN) {
        net->ybuf = p;
        p += rows * (size_t)net->max_cout * (size_t)net->hw;
        net->dcols = p;
        p += rows * (size_t)net->max_cin9 * (size_t)net->hw;
        net->idx = NULL;
        net->val = NULL;
        net->rowptr = NULL;
    } else {
        net->val = p;
        p += rows * (size_t)net->in_dim;
        net->pre = p;
        p += net->maxw;
        net->idx = iws;
        net->rowptr = iws + rows * (size_t)net->in_dim;
        net->ybuf = NULL;
        net->dcols = NULL;
    }
    assert((size_t)(p - ws) == fr * rows + ffixed);
    return 0;
}

/* The elementwise loops below run in blocks of VB with a constant-trip inner
 * loop: GCC's -O2 ("very cheap") vectorizer only vectorizes loops whose trip
 * count is a known multiple of the vector width, and these loops dominate
 * the small-network profile (5x slower as scalar code). */
enum { VB = 8 };

/* out[i] = max(out[i], 0) */
static void relu_inplace(float *restrict out, size_t n)
{
    size_t i = 0;
    for (; i + VB <= n; i += VB)
        for (int u = 0; u < VB; u++)
            out[i + u] = out[i + u] > 0.0f ? out[i + u] : 0.0f;
    for (; i < n; i++)
        out[i] = out[i] > 0.0f ? out[i] : 0.0f;
}

/* g[i] = act[i] > 0 ? g[i] : 0: backward through a ReLU, given its output. */
static void relu_backward(float *restrict g, const float *restrict act, size_t n)
{
    size_t i = 0;
    for (; i + VB <= n; i += VB)
        for (int u = 0; u < VB; u++)
            g[i + u] = act[i + u] > 0.0f ? g[i + u] : 0.0f;
    for (; i < n; i++)
        g[i] = act[i] > 0.0f ? g[i] : 0.0f;
}

/* y[j] += a * x[j] */
static inline void axpy(float *restrict y, float a, const float *restrict x, int n)
{
    int j = 0;
    for (; j + VB <= n; j += VB)
        for (int u = 0; u < VB; u++)
            y[j + u] += a * x[j + u];
    for (; j < n; j++)
        y[j] += a * x[j];
}

/* y[j] += a0 x0[j] + a1 x1[j] + a2 x2[j] + a3 x3[j]: one pass over y for four rows. */
static inline void axpy4(float *restrict y, float a0, const float *restrict x0, float a1, const float *restrict x1, float a2, const float *restrict x2, float a3,
                         const float *restrict x3, int n)
{
    int j = 0;
    for (; j + VB <= n; j += VB)
        for (int u = 0; u < VB; u++)
            y[j + u] += a0 * x0[j + u] + a1 * x1[j + u] + a2 * x2[j + u] + a3 * x3[j + u];
    for (; j < n; j++)
        y[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
}

/* db[j] += sum_b d[b, j] */
static void bias_backward(float *restrict db /*(O)*/, const float *restrict d /*(B,O)*/, int B, int O)
{
    for (int b = 0; b < B; b++)
        axpy(db, 1.0f, d + (size_t)b * O, O);
}

/* Nonzeros of B dense rows in ascending index order (blocks of 8 and pairs
 * of zeros skipped, the rest written without branches); returns their number. */
int net_sparse_rows(const float *x, int B, int D, int *idx, float *val, int *rowptr)
{
    int nz = 0;
    for (int b = 0; b < B; b++) {
        rowptr[b] = nz;
        const float *restrict xr = x + (size_t)b * D;
        int i = 0;
        for (; i + 8 <= D; i += 8) {
            /* skip a block of zeros, then each pair of zeros (+0 or -0: sign
             * bits masked off); a pair with a nonzero is written always and
             * kept where nonzero, without a branch per float */
            const uint64_t nonsign = UINT64_C(0x7fffffff7fffffff);
            uint64_t u[4];
            memcpy(u, xr + i, sizeof u);
            if (!((u[0] | u[1] | u[2] | u[3]) & nonsign))
                continue;
            for (int w = 0; w < 4; w++) {
                if (!(u[w] & nonsign))
                    continue;
                int k = i + 2 * w;
                idx[nz] = k;
                val[nz] = xr[k];
                nz += xr[k] != 0.0f;
                idx[nz] = k + 1;
                val[nz] = xr[k + 1];
                nz += xr[k + 1] != 0.0f;
            }
        }
        for (; i < D; i++) {
            if (xr[i] != 0.0f) {
                idx[nz] = i;
                val[nz] = xr[i];
                nz++;
            }
        }
    }
    rowptr[B] = nz;
    return nz;
}

/* Width of the register-blocked column strips of gather_rows. */
enum { GB = 64 };

#if defined(__GNUC__)
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
static inline v8f v8_load(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v8_store(float *p, v8f v)
{
    memcpy(p, &v, sizeof v);
}

/* Stores a, or relu(a) (a > 0 ? a : 0, as relu_inplace) when w is non-NULL;
 * then returns acc + relu(a) * w[0:8], one step of dot()'s partial sums. */
static inline v8f strip_out(float *out, v8f a, const float *w, v8f acc)
{
    if (!w) {
        v8_store(out, a);
        return acc;
    }
    const v8f zero = {0};
    v8i pos = a > zero;
    a = (v8f)((v8i)a & pos);
    v8_store(out, a);
    return acc + a * v8_load(w);
}

/* One GB-wide strip: out[0:GB] = init[0:GB] + sum_k val[k] src[idx[k]*lds + 0:GB]
 * in k order, with the GB accumulators in registers. With w non-NULL, the
 * strip of a one-output head (head_forward): out gets the ReLU, and
 * sum_j relu(out[j]) w[j] is added to the 8 partial sums acc in dot()'s order. */
static inline void gather_strip(float *out, const float *init, const int *restrict idx, const float *restrict val, int k0, int k1, const float *restrict src, size_t lds,
                                const float *w, float *acc)
{
    v8f a0 = v8_load(init), a1 = v8_load(init + 8), a2 = v8_load(init + 16), a3 = v8_load(init + 24);
    v8f a4 = v8_load(init + 32), a5 = v8_load(init + 40), a6 = v8_load(init + 48), a7 = v8_load(init + 56);
    for (int k = k0; k < k1; k++) {
        const float *restrict r = src + (size_t)idx[k] * lds;
        float s = val[k];
        v8f v = {s, s, s, s, s, s, s, s};
        a0 += v * v8_load(r);
        a1 += v * v8_load(r + 8);
        a2 += v * v8_load(r + 16);
        a3 += v * v8_load(r + 24);
        a4 += v * v8_load(r + 32);
        a5 += v * v8_load(r + 40);
        a6 += v * v8_load(r + 48);
        a7 += v * v8_load(r + 56);
    }
    v8f d = w ? v8_load(acc) : a0;
    d = strip_out(out, a0, w, d);
    d = strip_out(out + 8, a1, w ? w + 8 : NULL, d);
    d = strip_out(out + 16, a2, w ? w + 16 : NULL, d);
    d = strip_out(out + 24, a3, w ? w + 24 : NULL, d);
    d = strip_out(out + 32, a4, w ? w + 32 : NULL, d);
    d = strip_out(out + 40, a5, w ? w + 40 : NULL, d);
    d = strip_out(out + 48, a6, w ? w + 48 : NULL, d);
    d = strip_out(out + 56, a7, w ? w + 56 : NULL, d);
    if (w)
        v8_store(acc, d);
}
#else
static inline void gather_strip(float *out, const float *init, const int *restrict idx, const float *restrict val, int k0, int k1, const float *restrict src, size_t lds,
                                const float *w, float *acc)
{
    float a[GB];
    memcpy(a, init, sizeof a);
    for (int k = k0; k < k1; k++)
        axpy(a, val[k], src + (size_t)idx[k] * lds, GB);
    if (w)
        for (int j = 0; j < GB; j++) {
            a[j] = a[j] > 0.0f ? a[j] : 0.0f;
            acc[j % VB] += a[j] * w[j];
        }
    memcpy(out, a, sizeof a);
}
#endif

/* Sparse row gather-accumulate, the kernel of the first dense layer:
 * out[r, :] = init[r, :] + sum_{k in row r} val[k] src[idx[k], :] for R rows
 * of O columns, summed in list order (so every path that uses it agrees bit
 * for bit), then ReLU if relu. init has row stride ldi (0: one row for all,
 * a bias) and may be out itself. rowptr[r] - rowptr[0] is row r's start;
 * the first skip entries of every row are left out (init already has them). */
static void gather_rows(float *out /*(R,O)*/, const float *init, size_t ldi, const int *restrict idx, const float *restrict val, const int *restrict rowptr, int skip,
                        const float *restrict src /*(*,O)*/, int R, int O, int relu)
{
    int base = rowptr[0];
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)r * O;
        const float *in = init + (size_t)r * ldi;
        int k0 = rowptr[r] - base + skip, k1 = rowptr[r + 1] - base;
        int j = 0;
        for (; j + GB <= O; j += GB)
            gather_strip(o + j, in + j, idx, val, k0, k1, src + j, (size_t)O, NULL, NULL);
        if (j < O) {
            float tail[GB];
            int w = O - j;
            memcpy(tail, in + j, (size_t)w * sizeof(float));
            for (int k = k0; k < k1; k++)
                axpy(tail, val[k], src + (size_t)idx[k] * O + j, w);
            memcpy(o + j, tail, (size_t)w * sizeof(float));
        }
        if (relu)
            relu_inplace(o, (size_t)O);
    }
}

/* Longest prefix of entries every row starts with (see nn.h); compared with
 * memcmp, so cheap when it holds. */
int net_common_prefix(const int *idx, const float *val, const int *rowptr, int B)
{
    if (B < 1)
        return 0;
    int base = rowptr[0];
    int L = rowptr[1] - base;
    for (int r = 1; r < B && L > 0; r++) {
        int k0 = rowptr[r] - base, n = rowptr[r + 1] - rowptr[r];
        L = n < L ? n : L;
        if (memcmp(idx, idx + k0, (size_t)L * sizeof *idx) == 0 && memcmp(val, val + k0, (size_t)L * sizeof *val) == 0)
            continue;
        int l = 0;
        while (l < L && idx[l] == idx[k0 + l] && memcmp(&val[l], &val[k0 + l], sizeof *val) == 0)
            l++;
        L = l;
    }
    return L;
}

/* First dense layer forward from the sparse rows net->in: out[b,:] = bias +
 * sum_k val[k] W[idx[k],:] in list order, the shared prefix summed once for
 * all rows; ReLU if relu. Each row's result does not depend on the other rows
 * of the batch. */
static void sparse_forward(Net *net, float *out /*(B,O)*/, const float *w /*(I,O)*/, const float *bias, int B, int O, int relu)
{
    const SparseRows *x = &net->in;
    const float *init = bias;
    if (x->nprefix > 0) {
        int rp[2] = {0, x->nprefix};
        gather_rows(net->pre, bias, 0, x->pidx, x->pval, rp, 0, w, 1, O, 0);
        init = net->pre;
    }
    gather_rows(out, init, 0, x->idx, x->val, x->rowptr, net->skip, w, B, O, relu);
}

/* 1 if net is a sparse-input dense layer GB wide (or a multiple) then a
 * one-output dense layer, the lambda network's shape: head_forward and
 * head_backward then make one pass over the rows each. */
static int is_head(const Net *net)
{
    return net->spec.kind == NET_MLP && net->nlayers == 2 && net->layer[1].out == 1 && net->layer[0].out % GB == 0;
}

/* Forward of a head (is_head) on net->in: each row's hidden layer goes
 * through its ReLU and the output's dot product while in registers. The same
 * operations in the same order as sparse_forward then dense_forward, so the
 * results are bit-identical to theirs. */
static void head_forward(Net *net, int B)
{
    Layer *L0 = &net->layer[0], *L1 = &net->layer[1];
    const int H = L0->out;
    const float *w1 = net->params + L0->w_off, *b1 = w1 + L0->w_count, *w2 = net->params + L1->w_off, b2 = w2[L1->w_count];
    const SparseRows *x = &net->in;
    const float *init = b1;
    if (x->nprefix > 0) {
        int rp[2] = {0, x->nprefix};
        gather_rows(net->pre, b1, 0, x->pidx, x->pval, rp, 0, w1, 1, H, 0);
        init = net->pre;
    }
    const int base = x->rowptr[0];
    for (int r = 0; r < B; r++) {
        int k0 = x->rowptr[r] - base + net->skip, k1 = x->rowptr[r + 1] - base;
        float acc[VB] = {0};
        for (int j = 0; j < H; j += GB)
            gather_strip(L0->act + (size_t)r * H + j, init + j, x->idx, x->val, k0, k1, w1 + j, (size_t)H, w2 + j, acc);
        float sum = 0.0f;
        for (int u = 0; u < VB; u++)
            sum += acc[u];
        L1->act[r] = b2 + sum;
    }
}

/* Rows head_backward takes at a time. */
enum { HEAD_ROWS = 4 };

/* One row of head_backward: the hidden gradient dr (through the ReLU) of the
 * row with activations a and output gradient gb, added to the output
 * weights', hidden bias' and shared prefix's sums. */
static void head_row(float *restrict dw2, float *restrict db1, float *restrict sum, float *restrict dr, const float *restrict a, const float *restrict w2, float gb, int H)
{
    for (int j = 0; j < H; j++) {
        dw2[j] += gb * a[j];
        dr[j] = a[j] > 0.0f ? 0.0f + gb * w2[j] : 0.0f;
        db1[j] += dr[j];
        sum[j] += dr[j];
    }
}

#if defined(__GNUC__)
/* head_row on HEAD_ROWS consecutive rows (activations a, H apart; gradients
 * g; hidden gradients into d, H apart) in one pass, the rows added to each
 * sum in order: bit-identical to four head_row calls. H is a multiple of 8. */
static void head_rows4(float *restrict dw2, float *restrict db1, float *restrict sum, float *restrict d, const float *restrict a, const float *restrict w2, const float *g, int H)
{
    const v8f zero = {0};
    const v8f g0 = zero + g[0], g1 = zero + g[1], g2 = zero + g[2], g3 = zero + g[3];
    for (int j = 0; j < H; j += 8) {
        const v8f w = v8_load(w2 + j);
        const v8f a0 = v8_load(a + j), a1 = v8_load(a + H + j), a2 = v8_load(a + 2 * H + j), a3 = v8_load(a + 3 * H + j);
        v8f d0 = (v8f)((v8i)(zero + g0 * w) & (a0 > zero)), d1 = (v8f)((v8i)(zero + g1 * w) & (a1 > zero));
        v8f d2 = (v8f)((v8i)(zero + g2 * w) & (a2 > zero)), d3 = (v8f)((v8i)(zero + g3 * w) & (a3 > zero));
        v8_store(d + j, d0);
        v8_store(d + H + j, d1);
        v8_store(d + 2 * H + j, d2);
        v8_store(d + 3 * H + j, d3);
        v8_store(dw2 + j, (((v8_load(dw2 + j) + g0 * a0) + g1 * a1) + g2 * a2) + g3 * a3);
        v8_store(db1 + j, (((v8_load(db1 + j) + d0) + d1) + d2) + d3);
        v8_store(sum + j, (((v8_load(sum + j) + d0) + d1) + d2) + d3);
    }
}
#endif

/* Backward of a head (is_head) from g (B) = d(loss)/d(output), parameter
 * gradients only, in one pass over the rows (HEAD_ROWS at a time where
 * vector extensions exist): each row's hidden gradient, its terms of the
 * output weights', hidden bias' and shared prefix's sums, and the weight rows
 * of its own entries. Per gradient entry, the same operations in the same
 * order as net_backward's layer by layer (output layer, ReLU, bias, then
 * sparse_backward_w), so bit-identical to it. */
static void head_backward(Net *net, const float *g)
{
    Layer *L0 = &net->layer[0], *L1 = &net->layer[1];
    const int H = L0->out, B = net->B;
    const float *w2 = net->params + L1->w_off;
    float *dw1 = net->grads + L0->w_off, *db1 = dw1 + L0->w_count;
    float *dw2 = net->grads + L1->w_off, *db2 = dw2 + L1->w_count;
    float *d = net->g0, *sum = net->pre; /* (HEAD_ROWS, H) hidden gradients; their sum over all rows */
    const SparseRows *x = &net->in;
    const int L = x->nprefix, base = x->rowptr[0], skip = net->skip;
    memset(sum, 0, (size_t)H * sizeof *sum);
    for (int b0 = 0; b0 < B; b0 += HEAD_ROWS) {
        const int n = B - b0 < HEAD_ROWS ? B - b0 : HEAD_ROWS;
        const float *a = L0->act + (size_t)b0 * H;
#if defined(__GNUC__)
        if (n == HEAD_ROWS)
            head_rows4(dw2, db1, sum, d, a, w2, g + b0, H);
        else
#endif
            for (int r = 0; r < n; r++)
                head_row(dw2, db1, sum, d + (size_t)r * H, a + (size_t)r * H, w2, g[b0 + r], H);
        for (int r = 0; r < n; r++) {
            db2[0] += g[b0 + r];
            for (int k = x->rowptr[b0 + r] - base + skip; k < x->rowptr[b0 + r + 1] - base; k++)
                axpy(dw1 + (size_t)x->idx[k] * H, x->val[k], d + (size_t)r * H, H);
        }
    }
    for (int k = 0; k < L; k++)
        axpy(dw1 + (size_t)x->pidx[k] * H, x->pval[k], sum, H);
}

/* dW[i,:] += x[b,i] d[b,:] over the first layer's recorded nonzeros: the
 * shared prefix's rows get val * sum_b d[b,:] once, the rest row by row. */
static void sparse_backward_w(Net *net, float *restrict dw /*(I,O)*/, const float *restrict d /*(B,O)*/, int B, int O)
{
    const SparseRows *x = &net->in;
    const int base = x->rowptr[0], L = x->nprefix, skip = net->skip;
    const int *restrict idx = x->idx, *restrict rowptr = x->rowptr;
    const float *restrict val = x->val;
    if (L > 0) {
        float *restrict sum = net->pre;
        memset(sum, 0, (size_t)O * sizeof *sum);
        for (int b = 0; b < B; b++)
            axpy(sum, 1.0f, d + (size_t)b * O, O);
        for (int k = 0; k < L; k++)
            axpy(dw + (size_t)x->pidx[k] * O, x->pval[k], sum, O);
    }
    for (int b = 0; b < B; b++) {
        const float *restrict dr = d + (size_t)b * O;
        for (int k = rowptr[b] - base + skip; k < rowptr[b + 1] - base; k++)
            axpy(dw + (size_t)idx[k] * O, val[k], dr, O);
    }
}

/* sum_i x[i] y[i] in VB partial sums. */
static float dot(const float *restrict x, const float *restrict y, int n)
{
    float acc[VB] = {0};
    int i = 0;
    for (; i + VB <= n; i += VB)
        for (int u = 0; u < VB; u++)
            acc[u] += x[i + u] * y[i + u];
    float s = 0.0f;
    for (; i < n; i++)
        s += x[i] * y[i];
    for (int u = 0; u < VB; u++)
        s += acc[u];
    return s;
}

/* out (B,O) = x (B,I) W (I,O) + bias, ReLU if relu. A one-output layer (the
 * lambda network's) is B dot products: a GEMM with N = 1 costs more in
 * packing than in arithmetic. */
static void dense_forward(float *out /*(B,O)*/, const float *x /*(B,I)*/, const float *w /*(I,O)*/, const float *bias /*(O)*/, int B, int I, int O, int relu)
{
    if (O == 1) {
        for (int b = 0; b < B; b++) {
            float v = bias[0] + dot(x + (size_t)b * I, w, I);
            out[b] = relu && v < 0.0f ? 0.0f : v;
        }
        return;
    }
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * O, bias, (size_t)O * sizeof(float));
    gemm(0, 0, B, O, I, 1.0f, x, I, w, O, 1.0f, out, O);
    if (relu)
        relu_inplace(out, (size_t)B * (size_t)O);
}

/* Zeroes the entries of an n*n plane that a (dy, dx) shift reads from outside
 * the grid: row 0 or n-1 when dy is -1 or 1, column 0 or n-1 when dx is. */
static void zero_border(float *restrict d /*(n,n)*/, int n, int dy, int dx)
{
    if (dy != 0)
        memset(d + (dy < 0 ? 0 : (size_t)(n - 1) * n), 0, (size_t)n * sizeof(float));
    if (dx != 0)
        for (int y = 0, c = dx < 0 ? 0 : n - 1; y < n; y++)
            d[(size_t)y * n + c] = 0.0f;
}

/* im2col for a 3x3 same-padding convolution: cols[(c*9 + ky*3 + kx), b*n*n + y*n + x]
 * = x[b, c, y+ky-1, x+kx-1], zero outside the grid. Each (row, b) plane is
 * one contiguous copy shifted by (ky-1)*n + kx-1, then its border zeroed. */
static void im2col(float *restrict cols /*(C*9, B*n*n)*/, const float *restrict x /*(B,C,n,n)*/, int B, int C, int n)
{
    int hw = n * n;
    size_t ld = (size_t)B * hw;
    for (int c = 0; c < C; c++) {
        for (int k = 0; k < 9; k++) {
            float *restrict row = cols + (size_t)(c * 9 + k) * ld;
            int dy = k / 3 - 1, dx = k % 3 - 1, off = dy * n + dx;
            int p0 = off < 0 ? -off : 0, p1 = off > 0 ? hw - off : hw;
            for (int b = 0; b < B; b++) {
                const float *restrict src = x + ((size_t)b * C + c) * hw;
                float *restrict d = row + (size_t)b * hw;
                memset(d, 0, (size_t)p0 * sizeof(float));
                memcpy(d + p0, src + p0 + off, (size_t)(p1 - p0) * sizeof(float));
                memset(d + p1, 0, (size_t)(hw - p1) * sizeof(float));
                zero_border(d, n, dy, dx);
            }
        }
    }
}

/* The adjoint of im2col: dx[b, c, y+ky-1, x+kx-1] += dcols[...] over the
 * grid (dx is zeroed first). Zeroes the border entries of dcols (scratch),
 * which read outside the grid, so each plane is one contiguous shifted add. */
static void col2im(float *restrict dx /*(B,C,n,n)*/, float *restrict dcols /*(C*9, B*n*n)*/, int B, int C, int n)
{
    int hw = n * n;
    size_t ld = (size_t)B * hw;
    memset(dx, 0, (size_t)B * (size_t)C * hw * sizeof(float));
    for (int c = 0; c < C; c++) {
        for (int k = 0; k < 9; k++) {
            float *restrict row = dcols + (size_t)(c * 9 + k) * ld;
            int dy = k / 3 - 1, dx_ = k % 3 - 1, off = dy * n + dx_;
            int p0 = off < 0 ? -off : 0, p1 = off > 0 ? hw - off : hw;
            for (int b = 0; b < B; b++) {
                float *restrict s = row + (size_t)b * hw;
                zero_border(s, n, dy, dx_);
                axpy(dx + ((size_t)b * C + c) * hw + p0 + off, 1.0f, s + p0, p1 - p0);
            }
        }
    }
}

/* d[p] = s[p] + bias, then ReLU if relu. */
static void bias_act(float *restrict d, const float *restrict s, float bias, int n, int relu)
{
    int p = 0;
    if (relu) {
        for (; p + VB <= n; p += VB)
            for (int u = 0; u < VB; u++)
                d[p + u] = s[p + u] + bias > 0.0f ? s[p + u] + bias : 0.0f;
        for (; p < n; p++)
            d[p] = s[p] + bias > 0.0f ? s[p] + bias : 0.0f;
    } else {
        for (; p + VB <= n; p += VB)
            for (int u = 0; u < VB; u++)
                d[p + u] = s[p + u] + bias;
        for (; p < n; p++)
            d[p] = s[p] + bias;
    }
}

/* t[p] = s[p]; returns sum_p s[p] (in VB partial sums). */
static float copy_sum(float *restrict t, const float *restrict s, int n)
{
    float acc[VB] = {0};
    int p = 0;
    for (; p + VB <= n; p += VB)
        for (int u = 0; u < VB; u++) {
            t[p + u] = s[p + u];
            acc[u] += s[p + u];
        }
    float sum = 0.0f;
    for (; p < n; p++) {
        t[p] = s[p];
        sum += s[p];
    }
    for (int u = 0; u < VB; u++)
        sum += acc[u];
    return sum;
}

/* 3x3 same-padding convolution of x (B,Ci,n,n) into out (B,Co,n,n): im2col
 * into cols (kept for backward), one GEMM into y (Co, B*n*n), then bias,
 * ReLU and reorder to batch-major. */
static void conv_forward(float *restrict out /*(B,Co,n,n)*/, float *cols /*(Ci*9, B*n*n)*/, float *y /*(Co, B*n*n)*/, const float *x /*(B,Ci,n,n)*/,
                         const float *w /*(Co,Ci,3,3)*/, const float *bias /*(Co)*/, int B, int Ci, int Co, int n, int relu)
{
    int hw = n * n, N = B * hw;
    im2col(cols, x, B, Ci, n);
    gemm(0, 0, Co, N, Ci * 9, 1.0f, w, Ci * 9, cols, N, 0.0f, y, N);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < Co; c++)
            bias_act(out + ((size_t)b * Co + c) * hw, y + (size_t)c * N + (size_t)b * hw, bias[c], hw, relu);
}

/* Backward of conv_forward given d (B,Co,n,n) = d(loss)/d(pre-activation):
 * dW += dY cols^T, db += sums, and, when dx is non-NULL, dx = col2im(W^T dY). */
static void conv_backward(float *dx /*(B,Ci,n,n) or NULL*/, float *dw /*(Co,Ci*9) or NULL*/, float *db /*(Co) or NULL*/, float *y /*(Co, B*n*n) scratch*/,
                          float *dcols /*(Ci*9, B*n*n) scratch*/, const float *d /*(B,Co,n,n)*/, const float *cols /*(Ci*9, B*n*n)*/, const float *w /*(Co,Ci*9)*/,
                          int B, int Ci, int Co, int n)
{
    int hw = n * n, N = B * hw;
    for (int c = 0; c < Co; c++) {
        float sum = 0.0f;
        for (int b = 0; b < B; b++)
            sum += copy_sum(y + (size_t)c * N + (size_t)b * hw, d + ((size_t)b * Co + c) * hw, hw);
        if (db)
            db[c] += sum;
    }
    if (dw)
        gemm(0, 1, Co, Ci * 9, N, 1.0f, y, N, cols, N, 1.0f, dw, Ci * 9);
    if (dx) {
        gemm(1, 0, Ci * 9, N, Co, 1.0f, w, Ci * 9, y, N, 0.0f, dcols, N);
        col2im(dx, dcols, B, Ci, n);
    }
}

/* Every layer in order, given the dense input x (CNN) or, for an MLP, the
 * first layer's sparse rows in net->in. */
static const float *forward_layers(Net *net, const float *x, int B)
{
    if (is_head(net)) {
        head_forward(net, B);
        return net->layer[1].act;
    }
    for (int l = 0; l < net->nlayers; l++) {
        Layer *L = &net->layer[l];
        int relu = l < net->nlayers - 1;
        const float *w = net->params + L->w_off, *bias = w + L->w_count;
        if (L->conv)
            conv_forward(L->act, L->cols, net->ybuf, x, w, bias, B, L->in, L->out, net->spec.n, relu);
        else if (l == 0)
            sparse_forward(net, L->act, w, bias, B, L->out, relu);
        else
            dense_forward(L->act, x, w, bias, B, L->in, L->out, relu);
        x = L->act;
    }
    return net->layer[net->nlayers - 1].act;
}

/* Forward on B rows; the output (B, out) stays valid until the next forward. */
const float *net_forward(Net *net, const float *in, int B)
{
    assert(B >= 0);
    if (net_reserve(net, B < 1 ? 1 : B) != 0) {
        net->B = 0;
        return NULL;
    }
    net->B = B;
    if (net->spec.kind == NET_MLP) {
        net_sparse_rows(in, B, net->in_dim, net->idx, net->val, net->rowptr);
        int L = net_common_prefix(net->idx, net->val, net->rowptr, B);
        SparseRows x = {net->idx, net->val, L, net->idx, net->val, net->rowptr};
        net->in = x;
        net->skip = L;
    }
    return forward_layers(net, in, B);
}

/* Forward of an MLP on sparse rows (not copied; see nn.h). */
const float *net_forward_sparse(Net *net, const SparseRows *x, int B)
{
    assert(B >= 0);
    if (net->spec.kind != NET_MLP || net_reserve(net, B < 1 ? 1 : B) != 0) {
        net->B = 0;
        return NULL;
    }
    net->B = B;
    net->in = *x;
    net->skip = 0;
    return forward_layers(net, NULL, B);
}

/* Backward of the last forward: accumulates parameter gradients (if the net
 * has a gradient buffer) and writes din (if non-NULL). */
void net_backward(Net *net, const float *dout, float *din)
{
    int B = net->B;
    if (B == 0)
        return;
    if (is_head(net) && net->grads && !din) {
        head_backward(net, dout);
        return;
    }
    const float *g = dout; /* d(loss)/d(output of layer l) */
    float *gown = NULL;    /* g once it lives in a ping-pong buffer (all but the last layer) */
    for (int l = net->nlayers - 1; l >= 0; l--) {
        Layer *L = &net->layer[l];
        const float *w = net->params + L->w_off;
        float *dw = net->grads ? net->grads + L->w_off : NULL;
        float *db = dw ? dw + L->w_count : NULL;
        if (gown) {
            relu_backward(gown, L->act, (size_t)B * (size_t)L->out_width);
            g = gown;
        }
        float *dx = l > 0 ? (gown == net->g0 ? net->g1 : net->g0) : din;
        if (L->conv) {
            conv_backward(dx, dw, db, net->ybuf, net->dcols, g, L->cols, w, B, L->in, L->out, net->spec.n);
        } else {
            if (db)
                bias_backward(db, g, B, L->out);
            if (dw) {
                if (l == 0)
                    sparse_backward_w(net, dw, g, B, L->out);
                else if (L->out == 1) /* dW (I,1) += act^T g without a GEMM's packing */
                    for (int b = 0; b < B; b++)
                        axpy(dw, g[b], net->layer[l - 1].act + (size_t)b * L->in, L->in);
                else
                    gemm(1, 0, L->in, L->out, B, 1.0f, net->layer[l - 1].act, L->in, g, L->out, 1.0f, dw, L->out);
            }
            if (dx && L->out == 1) { /* dx = g w^T, an outer product */
                for (int b = 0; b < B; b++) {
                    float *restrict dr = dx + (size_t)b * L->in;
                    memset(dr, 0, (size_t)L->in * sizeof(float));
                    axpy(dr, g[b], w, L->in);
                }
            } else if (dx) {
                gemm(0, 1, B, L->in, L->out, 1.0f, g, L->out, w, L->out, 0.0f, dx, L->in);
            }
        }
        gown = dx;
    }
}

/* Number of parameter tensors: a weight and a bias per layer. */
int net_ntensors(const Net *net)
{
    return 2 * net->nlayers;
}

/* Tensor i with its nn.Sequential name: a CNN's dense layers come after a
 * Flatten, which takes one index. */
void net_tensor(const Net *net, int i, NetTensor *t)
{
    assert(i >= 0 && i < 2 * net->nlayers);
    const Layer *L = &net->layer[i / 2];
    int l = i / 2;
    int seq = (!L->conv && net->spec.kind == NET_CNN) ? 2 * l + 1 : 2 * l;
    memset(t, 0, sizeof *t);
    if (i % 2 == 0) {
        snprintf(t->name, sizeof t->name, "%d.weight", seq);
        t->offset = L->w_off;
        t->count = L->w_count;
        if (L->conv) {
            t->ndim = 4;
            t->shape[0] = L->out;
            t->shape[1] = L->in;
            t->shape[2] = 3;
            t->shape[3] = 3;
        } else {
            t->ndim = 2;
            t->shape[0] = L->out;
            t->shape[1] = L->in;
            t->transposed = 1;
        }
    } else {
        snprintf(t->name, sizeof t->name, "%d.bias", seq);
        t->offset = L->w_off + L->w_count;
        t->count = (size_t)L->out;
        t->ndim = 1;
        t->shape[0] = L->out;
    }
}

/* 2 * B * (multiply-adds of one dense row), counting every input as nonzero. */
double net_flops_forward(const Net *net, int B)
{
    double f = 0.0;
    for (int l = 0; l < net->nlayers; l++) {
        const Layer *L = &net->layer[l];
        if (L->conv)
            f += (double)net->hw * L->out * L->in * 9.0;
        else
            f += (double)L->in * L->out;
    }
    return 2.0 * B * f;
}

/* nn.c - the Q-network layers of nn.h: an MLP (dense + ReLU) or a CNN (3x3
 * same-padding convolutions + ReLU, flatten, dense + ReLU), forward and
 * backward on a batch, He initialisation and the PyTorch tensor naming.
 *
 * Tuned for small networks on large batches of sparse 0/1 planes (MLP
 * 243->64->64->4 at B = 64..512, CNN conv 16,16 + dense 64): the first layer,
 * dense or convolution, reads only the nonzero inputs (about one in eight),
 * from row lists it builds (net_forward) or the caller gives
 * (net_forward_sparse): a dense layer gathers their weight rows, 64 outputs
 * at a time in registers; a convolution scatters each through its 9 taps.
 * The prefix of nonzeros every row shares (the walls) is summed once per
 * batch, in the same order, so a row's result never depends on its batch.
 * Every other dense layer is one gemm() over the whole batch, except in a
 * one-output head (the lambda network's shape: sparse layer, ReLU, one
 * output), whose forward and backward make one pass per row with the same
 * operations in the same order (head_forward, head_backward_cols). CNN
 * activations are channel-last (conv.h), so each convolution works on
 * chunks of whole samples, written straight into the next layer's input,
 * and the flatten is free: with output channels a multiple of 8 by conv.h's
 * direct kernels (forward with bias and ReLU, input and weight gradients),
 * else by im2col then one GEMM per chunk. Every kernel can be split over a
 * Pool (run.threads) by rows or chunks, never by timing. All
 * activations live in one workspace block owned by the Net, grown
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

#include "conv.h"
#include "gemm.h"

enum { NET_LAYERS_MAX = 2 * NET_MAX_LAYERS + 1 };

/* A convolution works on chunks of whole samples whose im2col matrix
 * (rows*hw, 9*C) takes about CHUNK_FLOATS floats, so that it stays in the
 * core's L2 cache between being written and being multiplied: one im2col and
 * one GEMM over all |G|*B views would stream a 24 MB matrix through memory
 * for the 16-channel layer of the bench CNN, several times per update. The
 * direct kernels need no such matrix; they keep the chunks (each chunk's
 * weight gradient has its own slot, summed in chunk order) so that results
 * do not depend on the thread count. */
enum { CHUNK_FLOATS = 1 << 17 };

/* Rows head_backward_rows takes at a time. */
enum { HEAD_ROWS = 4 };

typedef struct {
    int conv;        /* 1: 3x3 convolution, 0: dense */
    int flat;        /* dense layer right after a convolution (reads NHWC) */
    int in, out;     /* dense: features; conv: channels */
    int out_width;   /* floats per row of the output: out (dense) or out*n*n (conv) */
    size_t w_off;    /* weight offset in the parameter buffer (bias follows) */
    size_t w_count;  /* dense in*out, conv out*in*9 */
    float *act;      /* workspace (B, out_width): output, after ReLU unless last;
                      * conv: NHWC (B*n*n, out) */
    float *wt, *wm;  /* conv: conv_weight_t (9*in, out) and conv_weight_m (9*out, in) of the last forward */
    float *wp;       /* flat: conv_flatten_w (in, out) of the last forward */
    float *dwp;      /* flat: its gradient (scratch) */
    float *slot;     /* conv: per chunk, the chunk's (9*in*out transposed weight, out bias) gradient */
} Layer;

struct Net {
    NetSpec spec;
    int nlayers;
    Layer layer[NET_LAYERS_MAX];
    int hw;          /* n*n */
    int in_dim;      /* C*n*n */
    int maxw;        /* widest row: input or any layer output */
    int maxc;        /* CNN: most channels into or out of a convolution */
    int nb;          /* CNN: samples per chunk */
    float *params, *grads; /* views, caller-owned; grads may be NULL */
    Pool *pool;      /* NULL: one thread */
    int threads;     /* pool_threads(pool) when the workspace was laid out */
    /* workspace, sized for cap rows */
    int cap;
    int B;           /* rows of the last forward; 0 = nothing to backpropagate */
    float *ws;       /* one block holding every float buffer below */
    int *iws;        /* one block holding idx and rowptr */
    float *g0, *g1;  /* (cap, maxw) gradient ping-pong */
    int *idx;        /* (cap*in_dim): nonzero input indices, by row */
    float *val;      /* (cap*in_dim): their values */
    int *rowptr;     /* (cap+1): row b's nonzeros are [rowptr[b], rowptr[b+1]) */
    /* the first layer's input of the last forward: the caller's lists
     * (net_forward_sparse, skip 0), or idx/val/rowptr above, whose rows still
     * hold the prefix (skip = its length) */
    SparseRows in;
    int skip;        /* entries at the start of each row list that belong to the prefix */
    float *pre;      /* (maxw): bias + the prefix terms; MLP backward scratch */
    float *tcols;    /* CNN, per thread (nb*hw, 9*maxc): im2col scratch, or the direct kernels' padded sample (conv_pad_floats <= that) */
    float *tsum;     /* CNN, per thread (hw*maxc): first layer's gradient summed over a chunk */
    float *tdx;      /* CNN, per thread (nb*hw, in_c): the input gradient in NHWC */
    float *tpart;    /* threads > 1, per thread (tpart_stride): partial sums of a
                      * first layer's or head's weight gradient (tpart_len), then
                      * sum (maxw), bias (maxw) and head hidden-gradient
                      * (HEAD_ROWS * maxw) scratch */
    size_t tpart_len, tpart_stride;
};

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
    int width = s->in_c * hw, ch = s->in_c, maxw = width, maxc = 0;
    for (int i = 0; i < nconv; i++) {
        int co = s->conv[i];
        if (co <= 0 || (long long)co * hw > INT_MAX / 16 || (long long)ch * 9 * hw > INT_MAX / 16 || (long long)co * 9 * hw > INT_MAX / 16)
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
        maxc = co > maxc ? co : maxc;
        maxc = ch > maxc ? ch : maxc;
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
        L->flat = i == 0 && nconv > 0;
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
        net->maxc = maxc;
        long long nb = maxc ? CHUNK_FLOATS / ((long long)hw * 9 * maxc) : 1;
        net->nb = nb < 1 ? 1 : (int)nb;
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
    net->threads = 1;
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

/* The team the kernels split over; the workspace is laid out again for it. */
void net_set_pool(Net *net, Pool *pool)
{
    net->pool = pool;
    if (pool_threads(pool) != net->threads) {
        free(net->ws);
        free(net->iws);
        net->ws = NULL;
        net->iws = NULL;
        net->cap = 0;
        net->B = 0;
        net->threads = pool_threads(pool);
    }
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

/* Chunks of net->nb samples in B rows. */
static int nchunks(const Net *net, int B)
{
    return (B + net->nb - 1) / net->nb;
}

/* The next piece of n floats at *off in base (NULL while only sizing),
 * 16-float (64-byte) aligned. */
static float *carve(float *base, size_t *off, size_t n)
{
    size_t at = (*off + 15) & ~(size_t)15;
    *off = at + n;
    return base ? base + at : NULL;
}

/* Points the workspace buffers into base (NULL: only sizing) for rows rows;
 * returns the floats they take. */
static size_t ws_layout(Net *net, float *base, size_t rows)
{
    const size_t hw = (size_t)net->hw, T = (size_t)net->threads, cnn = net->spec.kind == NET_CNN;
    const size_t crows = (size_t)net->nb * hw, nch = cnn ? (rows + (size_t)net->nb - 1) / (size_t)net->nb : 0;
    size_t off = 0;
    net->g0 = carve(base, &off, rows * (size_t)net->maxw);
    net->g1 = carve(base, &off, rows * (size_t)net->maxw);
    for (int l = 0; l < net->nlayers; l++) {
        Layer *L = &net->layer[l];
        L->act = carve(base, &off, rows * (size_t)L->out_width);
        if (L->conv) {
            L->wt = carve(base, &off, L->w_count);
            L->wm = carve(base, &off, L->w_count);
            L->slot = carve(base, &off, nch * (L->w_count + (size_t)L->out));
        }
        if (L->flat) {
            L->wp = carve(base, &off, L->w_count);
            L->dwp = carve(base, &off, T * L->w_count);
        }
    }
    net->val = carve(base, &off, rows * (size_t)net->in_dim);
    net->pre = carve(base, &off, (size_t)net->maxw);
    net->tcols = carve(base, &off, cnn * T * crows * 9 * (size_t)net->maxc);
    net->tsum = carve(base, &off, cnn * T * hw * (size_t)net->maxc);
    net->tdx = carve(base, &off, cnn * T * crows * (size_t)net->spec.in_c);
    const Layer *L0 = &net->layer[0];
    net->tpart_len = (L0->w_count + 2 * (size_t)L0->out + 2 + 15) & ~(size_t)15;
    net->tpart_stride = net->tpart_len + (2 + HEAD_ROWS) * (((size_t)net->maxw + 15) & ~(size_t)15);
    net->tpart = carve(base, &off, T > 1 ? T * net->tpart_stride : 0);
    return off;
}

/* Makes the workspace hold at least B rows (geometric growth); 0 or -1 (OOM,
 * or B too large for int-sized GEMM dimensions). */
static int net_reserve(Net *net, int B)
{
    if (B <= net->cap)
        return 0;
    int widest = net->maxw;
    if (B > INT_MAX / widest || B > INT_MAX / net->in_dim - 1)
        return -1;
    int cap = net->cap > INT_MAX / 2 ? INT_MAX : 2 * net->cap;
    cap = cap < B ? B : cap;
    if (cap > INT_MAX / widest || cap > INT_MAX / net->in_dim - 1)
        cap = B;
    size_t rows = (size_t)cap;
    Net sizing = *net; /* sized on a copy: net keeps its buffers if malloc fails */
    size_t nf = ws_layout(&sizing, NULL, rows);
    if (nf > SIZE_MAX / sizeof(float) || (size_t)net->in_dim * rows > SIZE_MAX / sizeof(int) - 1)
        return -1;
    float *ws = malloc(nf * sizeof(float));
    int *iws = malloc(((size_t)net->in_dim * rows + rows + 1) * sizeof(int));
    if (!ws || !iws) {
        free(ws);
        free(iws);
        return -1;
    }
    free(net->ws);
    free(net->iws);
    net->ws = ws;
    net->iws = iws;
    net->cap = cap;
    ws_layout(net, ws, rows);
    net->idx = iws;
    net->rowptr = iws + rows * (size_t)net->in_dim;
    return 0;
}

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

/* db[j] += sum_b d[b, j] for j < m, rows ld apart */
static void bias_backward(float *restrict db /*(m)*/, const float *restrict d /*(B,ld)*/, int B, int m, int ld)
{
    for (int b = 0; b < B; b++)
        axpy(db, 1.0f, d + (size_t)b * ld, m);
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

/* 1 if net is a sparse-input dense layer GB wide (or a multiple) then a
 * one-output dense layer, the lambda network's shape: head_forward and
 * head_backward then make one pass over the rows each. */
static int is_head(const Net *net)
{
    return net->spec.kind == NET_MLP && net->nlayers == 2 && net->layer[1].out == 1 && net->layer[0].out % GB == 0;
}

/* Forward of a head (is_head) on rows [r0, r1) of net->in, the prefix
 * already summed into net->pre: each row's hidden layer goes through its
 * ReLU and the output's dot product while in registers. The same operations
 * in the same order as sparse_forward then a dense layer, so the results are
 * bit-identical to theirs. */
static void head_forward_rows(const Net *net, int r0, int r1)
{
    const Layer *L0 = &net->layer[0], *L1 = &net->layer[1];
    const int H = L0->out;
    const float *w1 = net->params + L0->w_off, *b1 = w1 + L0->w_count, *w2 = net->params + L1->w_off, b2 = w2[L1->w_count];
    const SparseRows *x = &net->in;
    const float *init = x->nprefix > 0 ? net->pre : b1;
    const int base = x->rowptr[0];
    for (int r = r0; r < r1; r++) {
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
 * sum in order: bit-identical to four head_row calls. Columns [0, m), m a
 * multiple of 8, of rows H apart. */
static void head_rows4(float *restrict dw2, float *restrict db1, float *restrict sum, float *restrict d, const float *restrict a, const float *restrict w2, const float *g, int m, int H)
{
    const v8f zero = {0};
    const v8f g0 = zero + g[0], g1 = zero + g[1], g2 = zero + g[2], g3 = zero + g[3];
    for (int j = 0; j < m; j += 8) {
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
 * gradients only, of the rows [r0, r1), into grads (laid out as the net's
 * gradient buffer: net->grads, or a thread's partial sums), in one pass over
 * the rows (HEAD_ROWS at a time where vector extensions exist): each row's
 * hidden gradient (into d, HEAD_ROWS rows of H), its terms of the output
 * weights', hidden bias' and shared prefix's sums (sum, H floats zeroed by
 * the caller), and the weight rows of its own entries. Per gradient entry,
 * the same operations in the same order as net_backward's layer by layer
 * (output layer, ReLU, bias, then sparse_backward_w), so bit-identical to it
 * over all rows. */
static void head_backward_rows(const Net *net, const float *g, int r0, int r1, float *grads, float *sum, float *d)
{
    const Layer *L0 = &net->layer[0], *L1 = &net->layer[1];
    const int H = L0->out, m = H;
    const float *w2 = net->params + L1->w_off;
    float *dw1 = grads + L0->w_off, *db1 = grads + L0->w_off + L0->w_count;
    float *dw2 = grads + L1->w_off, *db2 = grads + L1->w_off + L1->w_count;
    const SparseRows *x = &net->in;
    const int L = x->nprefix, base = x->rowptr[0], skip = net->skip;
    for (int b0 = r0; b0 < r1; b0 += HEAD_ROWS) {
        const int n = r1 - b0 < HEAD_ROWS ? r1 - b0 : HEAD_ROWS;
        const float *a = L0->act + (size_t)b0 * H;
#if defined(__GNUC__)
        if (n == HEAD_ROWS && m % 8 == 0)
            head_rows4(dw2, db1, sum, d, a, w2, g + b0, m, H);
        else
#endif
            for (int r = 0; r < n; r++)
                head_row(dw2, db1, sum, d + (size_t)r * H, a + (size_t)r * H, w2, g[b0 + r], m);
        for (int r = 0; r < n; r++) {
            db2[0] += g[b0 + r];
            for (int k = x->rowptr[b0 + r] - base + skip; k < x->rowptr[b0 + r + 1] - base; k++)
                axpy(dw1 + (size_t)x->idx[k] * H, x->val[k], d + (size_t)r * H, m);
        }
    }
    for (int k = 0; k < L; k++)
        axpy(dw1 + (size_t)x->pidx[k] * H, x->pval[k], sum, m);
}

/* dW[i,j] += x[b,i] d[b,j] for the rows b in [b0, b1) over the first
 * layer's recorded nonzeros: the shared prefix's rows get val * sum_b d[b,:]
 * once (the sum in sum, O floats of scratch), the rest row by row. */
static void sparse_backward_w(const Net *net, float *restrict dw /*(I,O)*/, const float *restrict d /*(B,O)*/, int b0, int b1, int O, float *restrict sum)
{
    const SparseRows *x = &net->in;
    const int base = x->rowptr[0], L = x->nprefix, skip = net->skip;
    const int *restrict idx = x->idx, *restrict rowptr = x->rowptr;
    const float *restrict val = x->val;
    if (L > 0) {
        memset(sum, 0, (size_t)O * sizeof *sum);
        for (int b = b0; b < b1; b++)
            axpy(sum, 1.0f, d + (size_t)b * O, O);
        for (int k = 0; k < L; k++)
            axpy(dw + (size_t)x->pidx[k] * O, x->pval[k], sum, O);
    }
    for (int b = b0; b < b1; b++) {
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


/* ---------- kernels split over the pool ----------
 * Each task below is run by every thread t of T with the same Task; thread t
 * takes part t of the work by pool_split, never by timing. Parts are rows of
 * an output (forward, input gradients), rows of a dense weight gradient
 * (each entry summed by one thread, in the one-thread order), rows of the
 * batch for the weight gradients of a sparse first layer and a head (each
 * thread's partial sum then added in thread order), or chunks of whole
 * samples (convolutions, whose per-chunk weight gradients are summed in chunk
 * order afterwards), so results depend on T only, never on timing. */
typedef struct Task Task;
struct Task {
    Net *net;
    int l, B, relu;
    const float *x;     /* the layer's input */
    float *out;
    const float *g;     /* d(loss)/d(layer output) */
    float *dx;          /* d(loss)/d(layer input), or NULL */
    float *dw, *db;     /* parameter gradients, or NULL */
    const float *w, *bias;
    void (*run)(const Task *k, int t, int T);
    int T;              /* threads taking part */
    size_t n;           /* floats of the partial sums (k_head_backward, k_sparse_backward_w, k_reduce_parts) */
};

/* Batches below this many rows run on one thread: a split costs more than
 * it saves (acting forwards one state, or |G| views of it). */
enum { PAR_MIN_ROWS = 32 };

static void task_entry(void *ctx, int t)
{
    const Task *k = ctx;
    k->run(k, t, k->T);
}

/* Threads a task over the last forward's batch runs on. */
static int par_threads(const Net *net)
{
    return net->B < PAR_MIN_ROWS ? 1 : pool_threads(net->pool);
}

/* Runs k over the pool (or on this thread alone for a small batch). */
static void par(Net *net, Task *k)
{
    k->net = net;
    k->T = par_threads(net);
    if (k->T == 1)
        k->run(k, 0, 1);
    else
        pool_run(net->pool, task_entry, k);
}

/* Rows [r0, r1) of the sparse first layer (see sparse_forward). */
static void k_sparse_forward(const Task *k, int t, int T)
{
    const Net *net = k->net;
    const SparseRows *x = &net->in;
    const Layer *L = &net->layer[0];
    int r0, r1;
    pool_split(k->B, 1, t, T, &r0, &r1);
    if (r0 >= r1)
        return;
    const int off = x->rowptr[r0] - x->rowptr[0];
    const float *init = x->nprefix > 0 ? net->pre : k->bias;
    gather_rows(k->out + (size_t)r0 * L->out, init, 0, x->idx + off, x->val + off, x->rowptr + r0, net->skip, k->w, r1 - r0, L->out, k->relu);
}

/* First dense layer forward from the sparse rows net->in: out[b,:] = bias +
 * sum_k val[k] W[idx[k],:] in list order, the shared prefix summed once for
 * all rows; ReLU if relu. Each row's result does not depend on the other rows
 * of the batch. */
static void sparse_forward(Net *net, float *out /*(B,O)*/, const float *w /*(I,O)*/, const float *bias, int B, int O, int relu)
{
    const SparseRows *x = &net->in;
    if (x->nprefix > 0) {
        int rp[2] = {0, x->nprefix};
        gather_rows(net->pre, bias, 0, x->pidx, x->pval, rp, 0, w, 1, O, 0);
    }
    Task k = {.B = B, .relu = relu, .out = out, .w = w, .bias = bias, .run = k_sparse_forward};
    par(net, &k);
}

static void k_head_forward(const Task *k, int t, int T)
{
    int r0, r1;
    pool_split(k->B, 1, t, T, &r0, &r1);
    head_forward_rows(k->net, r0, r1);
}

/* Forward of a head (is_head) on net->in, rows split over the pool. */
static void head_forward(Net *net, int B)
{
    const Layer *L0 = &net->layer[0];
    const float *w1 = net->params + L0->w_off, *b1 = w1 + L0->w_count;
    const SparseRows *x = &net->in;
    if (x->nprefix > 0) {
        int rp[2] = {0, x->nprefix};
        gather_rows(net->pre, b1, 0, x->pidx, x->pval, rp, 0, w1, 1, L0->out, 0);
    }
    Task k = {.B = B, .run = k_head_forward};
    par(net, &k);
}

/* Floats in a 64-byte cache line. */
enum { LINE_FLOATS = 64 / sizeof(float) };

/* The part [*j0, *j1) of [0, n) that thread t of T writes in an array
 * whose entry 0 is at p: cut where p + j starts a cache line, so that two
 * threads never write the same line. */
static void split_cols(int n, const float *p, int t, int T, int *j0, int *j1)
{
    const int lead = (int)((LINE_FLOATS - ((uintptr_t)p / sizeof(float)) % LINE_FLOATS) % LINE_FLOATS);
    if (lead >= n) { /* the whole range within one line */
        *j0 = 0;
        *j1 = t == 0 ? n : 0;
        return;
    }
    pool_split(n - lead, LINE_FLOATS, t, T, j0, j1);
    *j0 = t == 0 ? 0 : *j0 + lead;
    *j1 += lead;
}

/* Thread t's block of the partial-sum workspace (see ws_layout). */
static float *part_of(const Net *net, int t)
{
    return net->tpart + (size_t)t * net->tpart_stride;
}

/* Thread t's scratch after its partial sums: sum (maxw), bias (maxw), d
 * (HEAD_ROWS * maxw). */
static float *part_sum(const Net *net, int t)
{
    return part_of(net, t) + net->tpart_len;
}

/* The weight gradients that a first layer (sparse) or a head sums over the
 * rows of the batch are split over the threads by rows, each thread summing
 * its rows into a partial buffer laid out as the gradient, then added to the
 * gradient in thread order (k_reduce_parts). Splitting them by columns, as
 * before, made each thread read every row of activations and gradients that
 * the other thread had just written, a cache line from the other core at a
 * time: the column kernels took 3 to 10 times the CPU time of one thread. */
static void k_head_backward(const Task *k, int t, int T)
{
    const Net *net = k->net;
    int r0, r1;
    pool_split(k->B, HEAD_ROWS, t, T, &r0, &r1);
    float *part = part_of(net, t), *sum = part_sum(net, t), *d = sum + 2 * (size_t)net->maxw;
    memset(part, 0, k->n * sizeof *part);
    memset(sum, 0, (size_t)net->layer[0].out * sizeof *sum);
    head_backward_rows(net, k->g, r0, r1, part, sum, d);
}

static void k_sparse_backward_w(const Task *k, int t, int T)
{
    const Net *net = k->net;
    int r0, r1;
    pool_split(k->B, 1, t, T, &r0, &r1);
    float *part = part_of(net, t);
    memset(part, 0, k->n * sizeof *part);
    sparse_backward_w(net, part, k->g, r0, r1, net->layer[0].out, part_sum(net, t));
}

/* dst[0, n) += the threads' partial sums, in thread order, entries split. */
static void k_reduce_parts(const Task *k, int t, int T)
{
    int e0, e1;
    split_cols((int)k->n, k->dw, t, T, &e0, &e1);
    for (int u = 0; u < T; u++)
        axpy(k->dw + e0, 1.0f, part_of(k->net, u) + e0, e1 - e0);
}

/* Bias gradient: thread t sums its rows into its partial (the caller adds
 * the partials in thread order). */
static void k_bias_backward(const Task *k, int t, int T)
{
    const Net *net = k->net;
    const int O = net->layer[k->l].out;
    int r0, r1;
    pool_split(k->B, 1, t, T, &r0, &r1);
    float *part = part_sum(net, t) + net->maxw;
    memset(part, 0, (size_t)O * sizeof *part);
    bias_backward(part, k->g + (size_t)r0 * O, r1 - r0, O, O);
}

static void k_relu_backward(const Task *k, int t, int T)
{
    const size_t w = (size_t)k->net->layer[k->l].out_width;
    int r0, r1;
    pool_split(k->B, 1, t, T, &r0, &r1);
    relu_backward(k->dx + (size_t)r0 * w, k->x + (size_t)r0 * w, (size_t)(r1 - r0) * w);
}

/* out (B,O) = x (B,I) W (I,O) + bias, ReLU if relu, rows split. A
 * one-output layer (the lambda network's) is B dot products: a GEMM with
 * N = 1 costs more in packing than in arithmetic. */
static void k_dense_forward(const Task *k, int t, int T)
{
    const Layer *L = &k->net->layer[k->l];
    const int I = L->in, O = L->out;
    int r0, r1;
    pool_split(k->B, O == 1 ? 1 : 16, t, T, &r0, &r1);
    if (r0 >= r1)
        return;
    float *out = k->out + (size_t)r0 * O;
    const float *x = k->x + (size_t)r0 * I;
    const int R = r1 - r0;
    if (O == 1) {
        for (int b = 0; b < R; b++) {
            float v = k->bias[0] + dot(x + (size_t)b * I, k->w, I);
            out[b] = k->relu && v < 0.0f ? 0.0f : v;
        }
        return;
    }
    for (int b = 0; b < R; b++)
        memcpy(out + (size_t)b * O, k->bias, (size_t)O * sizeof(float));
    gemm(0, 0, R, O, I, 1.0f, x, I, k->w, O, 1.0f, out, O);
    if (k->relu)
        relu_inplace(out, (size_t)R * (size_t)O);
}

/* dW (I,O) += x^T g, rows i of dW split: a flat layer's gradient goes to dwp
 * (NHWC rows) and is added to dW through conv_flatten_dw_add's map. */
static void k_dense_backward_w(const Task *k, int t, int T)
{
    const Net *net = k->net;
    const Layer *L = &net->layer[k->l];
    const int I = L->in, O = L->out, B = k->B;
    int i0, i1;
    pool_split(I, O == 1 ? 8 : 16, t, T, &i0, &i1);
    if (i0 >= i1)
        return;
    if (O == 1) { /* dW (I,1) += act^T g without a GEMM's packing */
        for (int b = 0; b < B; b++)
            axpy(k->dw + i0, k->g[b], k->x + (size_t)b * I + i0, i1 - i0);
        return;
    }
    if (!L->flat) {
        gemm(1, 0, i1 - i0, O, B, 1.0f, k->x + i0, I, k->g, O, 1.0f, k->dw + (size_t)i0 * O, O);
        return;
    }
    const int C = net->layer[k->l - 1].out, hw = net->hw;
    gemm(1, 0, i1 - i0, O, B, 1.0f, k->x + i0, I, k->g, O, 0.0f, L->dwp + (size_t)i0 * O, O);
    for (int i = i0; i < i1; i++)
        axpy(k->dw + ((size_t)(i % C) * hw + (size_t)(i / C)) * O, 1.0f, L->dwp + (size_t)i * O, O);
}

/* dx (B,I) = g W^T, rows split. */
static void k_dense_backward_x(const Task *k, int t, int T)
{
    const Layer *L = &k->net->layer[k->l];
    const int I = L->in, O = L->out;
    int r0, r1;
    pool_split(k->B, 16, t, T, &r0, &r1);
    if (r0 >= r1)
        return;
    if (O == 1) { /* dx = g w^T, an outer product */
        for (int b = r0; b < r1; b++) {
            float *restrict dr = k->dx + (size_t)b * I;
            memset(dr, 0, (size_t)I * sizeof(float));
            axpy(dr, k->g[b], k->w, I);
        }
        return;
    }
    gemm(0, 1, r1 - r0, I, O, 1.0f, k->g + (size_t)r0 * O, O, k->w, O, 0.0f, k->dx + (size_t)r0 * I, I);
}

/* ---------- convolutions (channel-last, see conv.h) ---------- */

/* out[r, :] = relu?(out[r, :] + bias) for R rows of C. */
static void bias_relu_rows(float *restrict out, const float *restrict bias, int R, int C, int relu)
{
    for (int r = 0; r < R; r++) {
        float *o = out + (size_t)r * C;
        axpy(o, 1.0f, bias, C);
        if (relu)
            relu_inplace(o, (size_t)C);
    }
}

/* Chunks of thread t, and the rows [s0, s1) of chunk c. */
static void chunk_rows(const Net *net, int c, int B, int *s0, int *s1)
{
    *s0 = c * net->nb;
    *s1 = *s0 + net->nb < B ? *s0 + net->nb : B;
}

/* The first convolution from the sparse rows net->in: each output plane
 * (hw, Co) starts from the bias plus the shared prefix's taps (net->pre,
 * summed once), then gets the row's own entries scattered through their 9
 * taps, in list order; ReLU. */
static void conv_first_rows(const Net *net, const Layer *L, int r0, int r1, int relu)
{
    const SparseRows *x = &net->in;
    const int hw = net->hw, Co = L->out, base = x->rowptr[0];
    for (int b = r0; b < r1; b++) {
        float *o = L->act + (size_t)b * hw * Co;
        memcpy(o, net->pre, (size_t)hw * Co * sizeof(float));
        for (int k = x->rowptr[b] - base + net->skip; k < x->rowptr[b + 1] - base; k++)
            conv_scatter(o, L->wt, x->idx[k], x->val[k], L->in, Co, net->spec.n);
        if (relu)
            relu_inplace(o, (size_t)hw * Co);
    }
}

/* Forward of convolution k->l over the chunks of thread t. */
static void k_conv_forward(const Task *k, int t, int T)
{
    const Net *net = k->net;
    const Layer *L = &net->layer[k->l];
    const int hw = net->hw, n = net->spec.n, Ci = L->in, Co = L->out;
    int c0, c1;
    pool_split(nchunks(net, k->B), 1, t, T, &c0, &c1);
    float *cols = net->tcols + (size_t)t * net->nb * hw * 9 * net->maxc;
    for (int c = c0; c < c1; c++) {
        int s0, s1;
        chunk_rows(net, c, k->B, &s0, &s1);
        if (k->l == 0) {
            conv_first_rows(net, L, s0, s1, k->relu);
            continue;
        }
        const int R = (s1 - s0) * hw;
        float *out = L->act + (size_t)s0 * hw * Co;
        if (conv_direct_ok(Co)) {
            conv_direct(out, k->x + (size_t)s0 * hw * Ci, L->wt, k->bias, cols, s1 - s0, Ci, Co, n, k->relu);
            continue;
        }
        conv_im2col(cols, k->x + (size_t)s0 * hw * Ci, s1 - s0, Ci, n);
        gemm(0, 0, R, Co, 9 * Ci, 1.0f, cols, 9 * Ci, L->wt, Co, 0.0f, out, Co);
        bias_relu_rows(out, k->bias, R, Co, k->relu);
    }
}

/* 3x3 same-padding convolution l: the transposed weights, the first layer's
 * shared prefix, then the chunks split over the pool. */
static void conv_forward(Net *net, int l, const float *x, int B, int relu)
{
    Layer *L = &net->layer[l];
    const float *w = net->params + L->w_off, *bias = w + L->w_count;
    conv_weight_t(L->wt, w, L->in, L->out);
    conv_weight_m(L->wm, w, L->in, L->out);
    if (l == 0) {
        const SparseRows *s = &net->in;
        for (int p = 0; p < net->hw; p++)
            memcpy(net->pre + (size_t)p * L->out, bias, (size_t)L->out * sizeof(float));
        for (int k = 0; k < s->nprefix; k++)
            conv_scatter(net->pre, L->wt, s->pidx[k], s->pval[k], L->in, L->out, net->spec.n);
    }
    Task k = {.l = l, .B = B, .relu = relu, .x = x, .bias = bias, .run = k_conv_forward};
    par(net, &k);
}

/* The first convolution's weight gradient of the chunk rows [s0, s1) into
 * its slot dwt (9*Ci, Co): the prefix entries once against the chunk's
 * summed gradient, then each row's own entries against the row's. */
static void conv_first_dw(const Net *net, const Layer *L, const float *g, int s0, int s1, float *dwt, float *sum)
{
    const SparseRows *x = &net->in;
    const int hw = net->hw, Co = L->out, n = net->spec.n, base = x->rowptr[0];
    if (x->nprefix > 0) {
        memset(sum, 0, (size_t)hw * Co * sizeof(float));
        for (int b = s0; b < s1; b++)
            axpy(sum, 1.0f, g + (size_t)b * hw * Co, hw * Co);
        for (int k = 0; k < x->nprefix; k++)
            conv_gather_dw(dwt, sum, x->pidx[k], x->pval[k], L->in, Co, n);
    }
    for (int b = s0; b < s1; b++)
        for (int k = x->rowptr[b] - base + net->skip; k < x->rowptr[b + 1] - base; k++)
            conv_gather_dw(dwt, g + (size_t)b * hw * Co, x->idx[k], x->val[k], L->in, Co, n);
}

/* Backward of convolution k->l over the chunks of thread t: the ReLU of the
 * layer's output (k->relu), the chunk's bias and weight gradients into its
 * slot (a GEMM on the recomputed im2col, or the sparse entries of the first
 * layer), and dx = im2col(g) wm, the transposed convolution (NCHW for the
 * first layer's input). */
static void k_conv_backward(const Task *k, int t, int T)
{
    const Net *net = k->net;
    const Layer *L = &net->layer[k->l];
    const int hw = net->hw, n = net->spec.n, Ci = L->in, Co = L->out;
    const size_t slot = L->w_count + (size_t)Co;
    float *g = (float *)k->g; /* the ReLU is taken in place on the gradient buffer */
    int c0, c1;
    pool_split(nchunks(net, k->B), 1, t, T, &c0, &c1);
    float *cols = net->tcols + (size_t)t * net->nb * hw * 9 * net->maxc;
    for (int c = c0; c < c1; c++) {
        int s0, s1;
        chunk_rows(net, c, k->B, &s0, &s1);
        const int R = (s1 - s0) * hw;
        float *gc = g + (size_t)s0 * hw * Co;
        if (k->relu)
            relu_backward(gc, L->act + (size_t)s0 * hw * Co, (size_t)R * Co);
        if (k->dw) {
            float *dwt = L->slot + (size_t)c * slot, *db = dwt + L->w_count;
            memset(dwt, 0, slot * sizeof(float));
            bias_backward(db, gc, R, Co, Co);
            if (k->l == 0) {
                conv_first_dw(net, L, g, s0, s1, dwt, net->tsum + (size_t)t * hw * net->maxc);
            } else if (conv_direct_ok(Co)) {
                conv_direct_dw(dwt, k->x + (size_t)s0 * hw * Ci, gc, cols, s1 - s0, Ci, Co, n);
            } else {
                conv_im2col(cols, k->x + (size_t)s0 * hw * Ci, s1 - s0, Ci, n);
                gemm(1, 0, 9 * Ci, Co, R, 1.0f, cols, 9 * Ci, gc, Co, 0.0f, dwt, Co);
            }
        }
        if (k->dx) {
            float *dx = k->l == 0 ? net->tdx + (size_t)t * net->nb * hw * net->spec.in_c : k->dx + (size_t)s0 * hw * Ci;
            if (k->l > 0 && conv_direct_ok(Ci)) {
                conv_direct(dx, gc, L->wm, NULL, cols, s1 - s0, Co, Ci, n, 0);
                continue;
            }
            conv_im2col(cols, gc, s1 - s0, Co, n);
            gemm(0, 0, R, Ci, 9 * Co, 1.0f, cols, 9 * Co, L->wm, Ci, 0.0f, dx, Ci);
            if (k->l == 0)
                conv_to_nchw(k->dx + (size_t)s0 * net->in_dim, dx, s1 - s0, Ci, hw);
        }
    }
}

/* Sums the chunk slots of convolution k->l in chunk order (entries split)
 * into the first slot. */
static void k_conv_reduce(const Task *k, int t, int T)
{
    const Layer *L = &k->net->layer[k->l];
    const int slot = (int)L->w_count + L->out, nc = nchunks(k->net, k->B);
    int e0, e1;
    split_cols(slot, L->slot, t, T, &e0, &e1);
    for (int c = 1; c < nc; c++)
        axpy(L->slot + e0, 1.0f, L->slot + (size_t)c * slot + e0, e1 - e0);
}

/* Backward of convolution l from g (B*hw, Co) = d(loss)/d(its output), the
 * ReLU taken here when relu: parameter gradients += (through the slots),
 * dx (or NULL) = d(loss)/d(its input). */
static void conv_backward(Net *net, int l, float *g, float *dx, int B, int relu)
{
    Layer *L = &net->layer[l];
    float *dw = net->grads ? net->grads + L->w_off : NULL;
    const float *x = l > 0 ? net->layer[l - 1].act : NULL;
    Task k = {.l = l, .B = B, .relu = relu, .x = x, .g = g, .dx = dx, .dw = dw, .run = k_conv_backward};
    par(net, &k);
    if (!dw)
        return;
    k.run = k_conv_reduce;
    par(net, &k);
    conv_weight_t_add(dw, L->slot, L->in, L->out);
    axpy(dw + L->w_count, 1.0f, L->slot + L->w_count, L->out);
}

/* ---------- whole networks ---------- */

/* Every layer in order, given the first layer's sparse rows in net->in. */
static const float *forward_layers(Net *net, int B)
{
    if (is_head(net)) {
        head_forward(net, B);
        return net->layer[1].act;
    }
    const float *x = NULL;
    for (int l = 0; l < net->nlayers; l++) {
        Layer *L = &net->layer[l];
        int relu = l < net->nlayers - 1;
        const float *w = net->params + L->w_off, *bias = w + L->w_count;
        if (L->conv) {
            conv_forward(net, l, x, B, relu);
        } else if (l == 0) {
            sparse_forward(net, L->act, w, bias, B, L->out, relu);
        } else {
            if (L->flat) {
                conv_flatten_w(L->wp, w, net->layer[l - 1].out, net->hw, L->out);
                w = L->wp;
            }
            Task k = {.l = l, .B = B, .relu = relu, .x = x, .out = L->act, .w = w, .bias = bias, .run = k_dense_forward};
            par(net, &k);
        }
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
    net_sparse_rows(in, B, net->in_dim, net->idx, net->val, net->rowptr);
    int L = net_common_prefix(net->idx, net->val, net->rowptr, B);
    SparseRows x = {net->idx, net->val, L, net->idx, net->val, net->rowptr};
    net->in = x;
    net->skip = L;
    return forward_layers(net, B);
}

/* Forward on sparse rows (not copied; see nn.h). */
const float *net_forward_sparse(Net *net, const SparseRows *x, int B)
{
    assert(B >= 0);
    if (net_reserve(net, B < 1 ? 1 : B) != 0) {
        net->B = 0;
        return NULL;
    }
    net->B = B;
    net->in = *x;
    net->skip = 0;
    return forward_layers(net, B);
}

/* Backward of dense layer l from g (B, out) (through its ReLU already). */
static void dense_backward(Net *net, int l, const float *g, float *dx, int B)
{
    Layer *L = &net->layer[l];
    const float *w = L->flat ? L->wp : net->params + L->w_off;
    float *dw = net->grads ? net->grads + L->w_off : NULL;
    float *db = dw ? dw + L->w_count : NULL;
    Task k = {.l = l, .B = B, .g = g, .dx = dx, .dw = dw, .db = db, .w = w, .x = l > 0 ? net->layer[l - 1].act : NULL};
    const int T = par_threads(net);
    if (db && T == 1) {
        bias_backward(db, g, B, L->out, L->out);
    } else if (db) {
        k.run = k_bias_backward;
        par(net, &k);
        for (int t = 0; t < T; t++)
            axpy(db, 1.0f, part_sum(net, t) + net->maxw, L->out);
    }
    if (dw && l == 0 && T == 1) {
        sparse_backward_w(net, dw, g, 0, B, L->out, net->pre);
    } else if (dw && l == 0) {
        k.n = L->w_count;
        k.run = k_sparse_backward_w;
        par(net, &k);
        k.run = k_reduce_parts;
        par(net, &k);
    } else if (dw) {
        k.run = k_dense_backward_w;
        par(net, &k);
    }
    if (dx) {
        k.run = k_dense_backward_x;
        par(net, &k);
    }
}

/* Backward of the last forward: accumulates parameter gradients (if the net
 * has a gradient buffer) and writes din (if non-NULL). */
void net_backward(Net *net, const float *dout, float *din)
{
    int B = net->B;
    if (B == 0)
        return;
    if (is_head(net) && net->grads && !din) {
        if (par_threads(net) > 1) {
            Task k = {.B = B, .g = dout, .dw = net->grads, .n = net_nparams(&net->spec), .run = k_head_backward};
            par(net, &k);
            k.run = k_reduce_parts;
            par(net, &k);
        } else {
            memset(net->pre, 0, (size_t)net->layer[0].out * sizeof *net->pre);
            head_backward_rows(net, dout, 0, B, net->grads, net->pre, net->g0);
        }
        return;
    }
    const float *g = dout; /* d(loss)/d(output of layer l) */
    float *gown = NULL;    /* g once it lives in a ping-pong buffer (all but the last layer) */
    for (int l = net->nlayers - 1; l >= 0; l--) {
        Layer *L = &net->layer[l];
        float *dx = l > 0 ? (gown == net->g0 ? net->g1 : net->g0) : din;
        if (L->conv) {
            conv_backward(net, l, gown ? gown : (float *)g, dx, B, gown != NULL);
        } else {
            if (gown) {
                Task k = {.l = l, .B = B, .x = L->act, .dx = gown, .run = k_relu_backward};
                par(net, &k);
                g = gown;
            }
            dense_backward(net, l, g, dx, B);
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

/* Appends one GEMM shape (if there is room); returns the new count. */
static int add_gemm(NetGemm *out, int max, int n, int ta, int tb, int M, int N, int K, int count)
{
    if (count <= 0 || M <= 0 || N <= 0 || K <= 0)
        return n;
    if (n < max) {
        NetGemm g = {ta, tb, M, N, K, count};
        out[n] = g;
    }
    return n + 1;
}

/* The GEMMs of forward_layers / net_backward (see nn.h). */
int net_gemms(const Net *net, int B, int backward, NetGemm *out, int max)
{
    int n = 0;
    if (is_head(net) || B < 1)
        return 0;
    const int hw = net->hw, full = B / net->nb, rest = B % net->nb;
    for (int l = 0; l < net->nlayers; l++) {
        const Layer *L = &net->layer[l];
        if (L->conv) {
            if (l == 0)
                continue; /* the sparse first convolution */
            for (int part = 0; part < 2; part++) {
                int R = (part ? rest : net->nb) * hw, cnt = part ? (rest > 0) : full;
                if (!backward) {
                    n = add_gemm(out, max, n, 0, 0, R, L->out, 9 * L->in, cnt);
                } else {
                    n = add_gemm(out, max, n, 1, 0, 9 * L->in, L->out, R, cnt);
                    n = add_gemm(out, max, n, 0, 0, R, L->in, 9 * L->out, cnt);
                }
            }
        } else if (l > 0 && L->out > 1) {
            if (!backward) {
                n = add_gemm(out, max, n, 0, 0, B, L->out, L->in, 1);
            } else {
                n = add_gemm(out, max, n, 1, 0, L->in, L->out, B, 1);
                n = add_gemm(out, max, n, 0, 1, B, L->in, L->out, 1);
            }
        }
    }
    return n;
}

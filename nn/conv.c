/* conv.c - channel-last 3x3 convolution kernels (see conv.h). The copies
 * and axpys run over C or Co contiguous floats in blocks of 8 with a
 * constant inner trip count, which GCC's -O2/-O3 vectorizer turns into
 * vector code (Co = 16 is two AVX registers). */
#include "conv.h"

#include <string.h>

enum { CB = 8 };

void conv_weight_t(float *wt, const float *w, int Ci, int Co)
{
    for (int co = 0; co < Co; co++)
        for (int ci = 0; ci < Ci; ci++)
            for (int t = 0; t < 9; t++)
                wt[((size_t)t * Ci + ci) * Co + co] = w[((size_t)co * Ci + ci) * 9 + t];
}

void conv_weight_m(float *wm, const float *w, int Ci, int Co)
{
    for (int co = 0; co < Co; co++)
        for (int ci = 0; ci < Ci; ci++)
            for (int t = 0; t < 9; t++)
                wm[((size_t)t * Co + co) * Ci + ci] = w[((size_t)co * Ci + ci) * 9 + 8 - t];
}

void conv_weight_t_add(float *dw, const float *dwt, int Ci, int Co)
{
    for (int co = 0; co < Co; co++)
        for (int ci = 0; ci < Ci; ci++)
            for (int t = 0; t < 9; t++)
                dw[((size_t)co * Ci + ci) * 9 + t] += dwt[((size_t)t * Ci + ci) * Co + co];
}

/* d[0:m] = s[0:m] */
static inline void copy_n(float *restrict d, const float *restrict s, int m)
{
    int j = 0;
    for (; j + CB <= m; j += CB)
        for (int u = 0; u < CB; u++)
            d[j + u] = s[j + u];
    for (; j < m; j++)
        d[j] = s[j];
}

/* d[0:m] += a * s[0:m] */
static inline void axpy_n(float *restrict d, float a, const float *restrict s, int m)
{
    int j = 0;
    for (; j + CB <= m; j += CB)
        for (int u = 0; u < CB; u++)
            d[j + u] += a * s[j + u];
    for (; j < m; j++)
        d[j] += a * s[j];
}

/* d[0:m] = 0 */
static inline void zero_n(float *restrict d, int m)
{
    int j = 0;
    for (; j + CB <= m; j += CB)
        for (int u = 0; u < CB; u++)
            d[j + u] = 0.0f;
    for (; j < m; j++)
        d[j] = 0.0f;
}

/* Tap t of every cell of one sample, column block t*C of cols rows W apart:
 * row y's cells read row y + dy of x, shifted by dx; the cells whose source
 * lies outside the grid get zeros. */
static void im2col_tap(float *restrict cols, const float *restrict x, int t, int C, int n, int W)
{
    const int dy = t / 3 - 1, dx = t % 3 - 1;
    const int x0 = dx < 0 ? 1 : 0, x1 = dx > 0 ? n - 1 : n;
    for (int y = 0; y < n; y++) {
        float *row = cols + (size_t)y * n * W + (size_t)t * C;
        const int yy = y + dy;
        if (yy < 0 || yy >= n) {
            for (int c = 0; c < n; c++)
                zero_n(row + (size_t)c * W, C);
            continue;
        }
        if (x0 > 0)
            zero_n(row, C);
        if (x1 < n)
            zero_n(row + (size_t)(n - 1) * W, C);
        const float *src = x + (size_t)yy * n * C;
        for (int c = x0; c < x1; c++)
            copy_n(row + (size_t)c * W, src + (size_t)(c + dx) * C, C);
    }
}

void conv_im2col(float *cols, const float *x, int nb, int C, int n)
{
    const int hw = n * n, W = 9 * C;
    for (int s = 0; s < nb; s++)
        for (int t = 0; t < 9; t++)
            im2col_tap(cols + (size_t)s * hw * W, x + (size_t)s * hw * C, t, C, n, W);
}

void conv_scatter(float *out, const float *wt, int idx, float val, int Ci, int Co, int n)
{
    const int hw = n * n, ci = idx / hw, q = idx % hw, qy = q / n, qx = q % n;
    for (int t = 0; t < 9; t++) {
        int y = qy - (t / 3 - 1), x = qx - (t % 3 - 1);
        if (y < 0 || y >= n || x < 0 || x >= n)
            continue;
        axpy_n(out + (size_t)(y * n + x) * Co, val, wt + ((size_t)t * Ci + ci) * Co, Co);
    }
}

void conv_gather_dw(float *dwt, const float *d, int idx, float val, int Ci, int Co, int n)
{
    const int hw = n * n, ci = idx / hw, q = idx % hw, qy = q / n, qx = q % n;
    for (int t = 0; t < 9; t++) {
        int y = qy - (t / 3 - 1), x = qx - (t % 3 - 1);
        if (y < 0 || y >= n || x < 0 || x >= n)
            continue;
        axpy_n(dwt + ((size_t)t * Ci + ci) * Co, val, d + (size_t)(y * n + x) * Co, Co);
    }
}

void conv_flatten_w(float *wp, const float *w, int C, int hw, int O)
{
    for (int c = 0; c < C; c++)
        for (int p = 0; p < hw; p++)
            memcpy(wp + ((size_t)p * C + c) * O, w + ((size_t)c * hw + p) * O, (size_t)O * sizeof(float));
}

void conv_flatten_dw_add(float *dw, const float *dwp, int C, int hw, int O)
{
    for (int c = 0; c < C; c++)
        for (int p = 0; p < hw; p++)
            axpy_n(dw + ((size_t)c * hw + p) * O, 1.0f, dwp + ((size_t)p * C + c) * O, O);
}

void conv_to_nchw(float *out, const float *in, int nb, int C, int hw)
{
    for (int s = 0; s < nb; s++)
        for (int p = 0; p < hw; p++)
            for (int c = 0; c < C; c++)
                out[(size_t)s * C * hw + (size_t)c * hw + p] = in[((size_t)s * hw + p) * C + c];
}

/* ---------- direct kernels (conv_direct, conv_direct_dw) ----------
 * With AVX2 and FMA a tile keeps its accumulators in registers: P cells
 * by 16 channels (two 8-float vectors each) for the forward, 8 input
 * channels by 16 output channels for the weight gradient (half of each
 * with only 16 vector registers). Without them, plain loops in the same
 * order. */

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define CONV_SIMD 1
#if defined(__AVX512VL__)
#define PMAX 12 /* 32 vector registers */
#define CIMAX 8
#else
#define PMAX 6 /* 16 */
#define CIMAX 4
#endif
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define PMAX 12
#define CIMAX 8
#endif

int conv_direct_ok(int out_channels)
{
    return out_channels > 0 && out_channels % 8 == 0;
}

size_t conv_pad_floats(int C, int n)
{
    return (size_t)(n + 2) * (size_t)(n + 2) * (size_t)C;
}

/* The interior of pad ((n+2)^2, C) = the sample x (n*n, C); the border is
 * left as it is (zero). */
static void pad_sample(float *restrict pad, const float *restrict x, int C, int n)
{
    const int n2 = n + 2;
    for (int y = 0; y < n; y++)
        memcpy(pad + ((size_t)(y + 1) * n2 + 1) * C, x + (size_t)y * n * C, (size_t)n * C * sizeof(float));
}

#ifdef CONV_SIMD
/* The tiles' accumulators are named variables, not arrays: GCC keeps an
 * array of vectors on the stack, storing it at every step. X(k) expands a
 * statement for k = 0 .. 11; the guards on the constant P or CIB leave
 * only the live ones. */
#define X12(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9) S(10) S(11)
#define X8(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7)
/* The vector pair (u0, u1) at p; u1 only when 16 channels wide. */
#define LOAD_PAIR(u0, u1, p) const __m256 u0 = _mm256_loadu_ps(p), u1 = W2 == 2 ? _mm256_loadu_ps((p) + 8) : zero
/* Accumulator pair k += broadcast(*p) * (u0, u1), the second half only when
 * the tile is 16 channels wide (W2 == 2). */
#define FMA_PAIR(k, p, u0, u1)                                 \
    do {                                                       \
        const __m256 v = _mm256_broadcast_ss(p);               \
        a##k##_0 = _mm256_fmadd_ps(v, u0, a##k##_0);           \
        if (W2 == 2)                                           \
            a##k##_1 = _mm256_fmadd_ps(v, u1, a##k##_1);       \
    } while (0);

/* P cells (out Co apart) by 8 * W2 channels: bias (or 0) + sum over taps t
 * and channels ci of src[(t/3 * n2 + t%3 + p) * Ci + ci] * wt[(t*Ci + ci) * Co + :],
 * ReLU if relu. src is pad at the tile's window, wt and bias at its channels. */
ALWAYS_INLINE void fwd_tile(float *restrict out, const float *restrict src, const float *restrict wt, const float *restrict bias, const int P, const int W2, int Ci, int Co, int n2, int relu)
{
    const __m256 zero = _mm256_setzero_ps();
    const __m256 b0 = bias ? _mm256_loadu_ps(bias) : zero, b1 = bias && W2 == 2 ? _mm256_loadu_ps(bias + 8) : zero;
#define FWD_INIT(k) __m256 a##k##_0 = b0, a##k##_1 = b1;
    X12(FWD_INIT)
    for (int t = 0; t < 9; t++) {
        const float *restrict s = src + ((size_t)(t / 3) * n2 + t % 3) * Ci;
        const float *restrict w = wt + (size_t)t * Ci * Co;
        for (int ci = 0; ci < Ci; ci++) {
            LOAD_PAIR(w0, w1, w + (size_t)ci * Co);
#define FWD_STEP(k) \
    if (P > k)      \
        FMA_PAIR(k, s + (size_t)(k) * Ci + ci, w0, w1)
            X12(FWD_STEP)
        }
    }
#define FWD_OUT(k)                                                                                   \
    if (P > k) {                                                                                     \
        _mm256_storeu_ps(out + (size_t)(k) * Co, relu ? _mm256_max_ps(a##k##_0, zero) : a##k##_0);   \
        if (W2 == 2)                                                                                 \
            _mm256_storeu_ps(out + (size_t)(k) * Co + 8, relu ? _mm256_max_ps(a##k##_1, zero) : a##k##_1); \
    }
    X12(FWD_OUT)
    (void)b1;
}

#define FWD_CASE(k)                                                                  \
    case k:                                                                          \
        if (W2 == 2)                                                                 \
            fwd_tile(out, src, wt, bias, k, 2, Ci, Co, n2, relu);                    \
        else                                                                         \
            fwd_tile(out, src, wt, bias, k, 1, Ci, Co, n2, relu);                    \
        break;

/* fwd_tile with P (1 <= P <= PMAX) and W2 made constants. */
static void fwd_tiles(float *out, const float *src, const float *wt, const float *bias, int P, int W2, int Ci, int Co, int n2, int relu)
{
    switch (P) {
        FWD_CASE(1)
        FWD_CASE(2)
        FWD_CASE(3)
        FWD_CASE(4)
        FWD_CASE(5)
        FWD_CASE(6)
#if PMAX > 6
        FWD_CASE(7)
        FWD_CASE(8)
        FWD_CASE(9)
        FWD_CASE(10)
        FWD_CASE(11)
        FWD_CASE(12)
#endif
    default:
        break;
    }
}

/* CIB input channels by 8 * W2 output channels of one tap: dwt[i * Co + :]
 * += sum over the n*n cells c of src[(c's window) + i] * g[c * Co + :], in
 * cell order. src is pad at the tap's offset and the block's first channel. */
ALWAYS_INLINE void dw_tile(float *restrict dwt, const float *restrict src, const float *restrict g, const int CIB, const int W2, int Ci, int Co, int n, int n2)
{
    const __m256 zero = _mm256_setzero_ps();
#define DW_INIT(k) __m256 a##k##_0 = zero, a##k##_1 = zero;
    X8(DW_INIT)
    for (int y = 0; y < n; y++) {
        const float *restrict s = src + (size_t)y * n2 * Ci;
        const float *restrict gr = g + (size_t)y * n * Co;
        for (int x = 0; x < n; x++) {
            LOAD_PAIR(g0, g1, gr + (size_t)x * Co);
#define DW_STEP(k) \
    if (CIB > k)    \
        FMA_PAIR(k, s + (size_t)x * Ci + (k), g0, g1)
            X8(DW_STEP)
        }
    }
#define DW_OUT(k)                                                                          \
    if (CIB > k) {                                                                         \
        float *d = dwt + (size_t)(k) * Co;                                                 \
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), a##k##_0));                 \
        if (W2 == 2)                                                                       \
            _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), a##k##_1));      \
    }
    X8(DW_OUT)
}

#define DW_CASE(k)                                                                   \
    case k:                                                                          \
        if (W2 == 2)                                                                 \
            dw_tile(dwt, src, g, k, 2, Ci, Co, n, n2);                               \
        else                                                                         \
            dw_tile(dwt, src, g, k, 1, Ci, Co, n, n2);                               \
        break;

/* dw_tile with CIB (1 <= CIB <= CIMAX) and W2 made constants. */
static void dw_tiles(float *dwt, const float *src, const float *g, int CIB, int W2, int Ci, int Co, int n, int n2)
{
    switch (CIB) {
        DW_CASE(1)
        DW_CASE(2)
        DW_CASE(3)
        DW_CASE(4)
#if CIMAX > 4
        DW_CASE(5)
        DW_CASE(6)
        DW_CASE(7)
        DW_CASE(8)
#endif
    default:
        break;
    }
}
#else
/* The plain-loop tiles: the same sums in the same order. */
static void fwd_tiles(float *out, const float *src, const float *wt, const float *bias, int P, int W2, int Ci, int Co, int n2, int relu)
{
    for (int p = 0; p < P; p++)
        for (int j = 0; j < 8 * W2; j++) {
            float a = bias ? bias[j] : 0.0f;
            for (int t = 0; t < 9; t++)
                for (int ci = 0; ci < Ci; ci++)
                    a += src[((size_t)(t / 3) * n2 + t % 3 + p) * Ci + ci] * wt[((size_t)t * Ci + ci) * Co + j];
            out[(size_t)p * Co + j] = relu && !(a > 0.0f) ? 0.0f : a;
        }
}

static void dw_tiles(float *dwt, const float *src, const float *g, int CIB, int W2, int Ci, int Co, int n, int n2)
{
    for (int i = 0; i < CIB; i++)
        for (int j = 0; j < 8 * W2; j++) {
            float a = 0.0f;
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                    a += src[((size_t)y * n2 + x) * Ci + i] * g[((size_t)y * n + x) * Co + j];
            dwt[(size_t)i * Co + j] += a;
        }
}
#endif

void conv_direct(float *out, const float *x, const float *wt, const float *bias, float *pad, int nb, int Ci, int Co, int n, int relu)
{
    const int n2 = n + 2, hw = n * n;
    const int tiles = (n + PMAX - 1) / PMAX; /* per row, as even as they come */
    memset(pad, 0, conv_pad_floats(Ci, n) * sizeof(float));
    for (int s = 0; s < nb; s++) {
        pad_sample(pad, x + (size_t)s * hw * Ci, Ci, n);
        float *o = out + (size_t)s * hw * Co;
        for (int y = 0; y < n; y++)
            for (int k = 0; k < tiles; k++) {
                const int x0 = n * k / tiles, x1 = n * (k + 1) / tiles;
                const float *src = pad + ((size_t)y * n2 + x0) * Ci;
                for (int cb = 0; cb < Co; cb += 16)
                    fwd_tiles(o + ((size_t)y * n + x0) * Co + cb, src, wt + cb, bias ? bias + cb : NULL, x1 - x0, Co - cb >= 16 ? 2 : 1, Ci, Co, n2, relu);
            }
    }
}

void conv_direct_dw(float *dwt, const float *x, const float *g, float *pad, int nb, int Ci, int Co, int n)
{
    const int n2 = n + 2, hw = n * n;
    memset(pad, 0, conv_pad_floats(Ci, n) * sizeof(float));
    for (int s = 0; s < nb; s++) {
        pad_sample(pad, x + (size_t)s * hw * Ci, Ci, n);
        const float *gs = g + (size_t)s * hw * Co;
        for (int t = 0; t < 9; t++) {
            const float *tap = pad + ((size_t)(t / 3) * n2 + t % 3) * Ci;
            for (int c0 = 0; c0 < Ci; c0 += CIMAX) {
                const int cib = Ci - c0 < CIMAX ? Ci - c0 : CIMAX;
                for (int cb = 0; cb < Co; cb += 16)
                    dw_tiles(dwt + ((size_t)t * Ci + c0) * Co + cb, tap + c0, gs + cb, cib, Co - cb >= 16 ? 2 : 1, Ci, Co, n, n2);
            }
        }
    }
}

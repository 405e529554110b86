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

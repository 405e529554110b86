/* softplus.c - softplus(z) = log(1 + e^z) and sigmoid(z) = 1 / (1 + e^-z),
 * 8 lanes at a time (16 with AVX-512), without libm, tuned for the few
 * hundred values per call of sym.c's lambda weights. Both come from one e = exp(-|z|) in (0, 1]:
 *   softplus(z) = max(z, 0) + log1p(e),
 *   sigmoid(z)  = 1 / (1 + e) if z >= 0, e / (1 + e) otherwise,
 * which never overflows and never cancels.
 *
 * exp(x), x = -|z| clamped to [-110, 0]: k = round(x / ln2) with the 1.5*2^23
 * rounding trick, r = x - k*ln2 in two steps (Cody-Waite: k*LN2_HI is exact),
 * |r| <= ln2/2 (a hair more when x/ln2 rounds the other way), e^r = 1 + (r +
 * r^2 P(r)) with Cephes' degree-5 P, then times 2^k as 2^(k+64), built in
 * the exponent bits, and 2^-64, so results below FLT_MIN round once,
 * correctly, into subnormals (and to 0 below 2^-150).
 * log1p(e), e in [0, 1]: s = e / (2 + e) in [0, 1/3], log1p(e) = 2 atanh(s) =
 * 2s + 2s * w Q(w), w = s^2 <= 1/9, Q a degree-4 polynomial (Chebyshev fit
 * of (atanh(s)/s - 1)/w on [0, 1/9], relative error of the result from Q
 * below 1e-9). No 1 + e is ever formed, so tiny e keeps all its bits.
 *
 * Error bound: measured over all 2^32 floats z against double-precision
 * log1p/exp, the largest error where the exact value is a normal float is
 * 2.80 ulp for softplus and 2.41 ulp for sigmoid (relative 2.3e-7, 1.8e-7);
 * below FLT_MIN results are within 1.5 subnormal steps (2^-149) and never
 * negative. Not correctly rounded, so adjacent floats can step back by an ulp
 * (about 1 pair in 1400, mostly at |z| < 1e-4); on evenly spaced grids over
 * [-110, 110] with step 2^-20 or more both are monotone (checked).
 *
 * Determinism: lanes never interact, the tail goes through the same
 * code in a zero-padded buffer, and every operation is written out with no
 * FMA contraction (see the guard below) and no fast-math assumption, so a
 * result depends only on its input: the same at -O0, -O1 and -O3, with or
 * without AVX or AVX-512, with GCC or clang (checked over a sample of 2^32/97
 * floats).
 * softplus_sigmoid_scalar performs the identical operations one float at a
 * time. */
#include "softplus.h"

#include <stdint.h>
#include <string.h>

/* No a*b+c may become an FMA, or results would depend on the compiler and
 * flags: clang contracts by default even under -std=c11 unless told here;
 * GCC contracts only in its GNU modes (-std=gnu11) and ignores this pragma. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__) && !defined(__STRICT_ANSI__)
#error "softplus.c needs -std=c11 (GNU modes let GCC fuse a*b+c into FMA, which changes results)"
#endif

/* |z| is clamped here: e^-110 ~ 1.7e-48 lies far below half the smallest
 * subnormal (2^-150 ~ 7.0e-46), so exp is exactly 0 from there on; the clamp
 * also turns inf and NaN into a finite value (NaN is put back at the end). */
#define SP_AMAX 110.0f
#define SP_LOG2E 1.44269504089f /* 1 / ln 2 */
/* 1.5 * 2^23: for |y| < 2^22, y + SP_MAGIC rounds y to the nearest integer k
 * and stores 2^22 + k in the low 23 bits (the mantissa field). */
#define SP_MAGIC 12582912.0f
#define SP_MANT_MASK 0x007fffff
#define SP_MANT_BIAS 0x00400000 /* 2^22, the mantissa field of SP_MAGIC */
/* ln 2 = SP_LN2_HI + SP_LN2_LO; SP_LN2_HI = 355/512 has 9 significant bits so
 * k * SP_LN2_HI is exact for |k| < 2^15 (here |k| <= 159). */
#define SP_LN2_HI 0.693359375f
#define SP_LN2_LO -2.12194440e-4f
/* Cephes expf: e^r ~ 1 + r + r^2 (P0 r^5 + ... + P5) on |r| <= ln2/2. */
#define SP_EP0 1.9875691500e-4f
#define SP_EP1 1.3981999507e-3f
#define SP_EP2 8.3334519073e-3f
#define SP_EP3 4.1665795894e-2f
#define SP_EP4 1.6666665459e-1f
#define SP_EP5 5.0000001201e-1f
/* (atanh(s)/s - 1)/w ~ L0 + L1 w + ... + L4 w^4 on w = s^2 in [0, 1/9]
 * (Taylor would be 1/3, 1/5, 1/7, 1/9, 1/11). */
#define SP_LQ0 3.333333433e-01f
#define SP_LQ1 1.999985278e-01f
#define SP_LQ2 1.429617852e-01f
#define SP_LQ3 1.085328758e-01f
#define SP_LQ4 1.161216497e-01f
#define SP_EXP_BIAS 127 /* IEEE single exponent bias */
/* 2^k = 2^(k + SP_KSHIFT) * SP_UNSHIFT: for k in [-159, 0] the first factor
 * is a normal float (2^-95 .. 2^64), p times it is exact and normal, and the
 * one rounding happens in the final product, correct even into subnormals. */
#define SP_KSHIFT 64
#define SP_UNSHIFT 0x1p-64f

static float sp_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t sp_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* One element; the vector block below is this, operation for operation. */
static void sp_lane(float z, float *sp_out, float *sig_out)
{
    float a = sp_float(sp_bits(z) & 0x7fffffffu); /* |z| */
    a = a < SP_AMAX ? a : SP_AMAX;                 /* NaN, inf -> SP_AMAX */
    float x = -a;
    /* e = exp(x) */
    float t = x * SP_LOG2E + SP_MAGIC;
    float kf = t - SP_MAGIC; /* k = round(x / ln2) in [-159, 0] */
    int32_t k = (int32_t)(sp_bits(t) & SP_MANT_MASK) - SP_MANT_BIAS;
    float r = (x - kf * SP_LN2_HI) - kf * SP_LN2_LO;
    float r2 = r * r;
    float q = ((((SP_EP0 * r + SP_EP1) * r + SP_EP2) * r + SP_EP3) * r + SP_EP4) * r + SP_EP5;
    float p = 1.0f + (r + r2 * q);
    float e = (p * sp_float((uint32_t)(k + SP_KSHIFT + SP_EXP_BIAS) << 23)) * SP_UNSHIFT;
    /* l = log1p(e) */
    float s = e / (2.0f + e);
    float w = s * s;
    float lq = (((SP_LQ4 * w + SP_LQ3) * w + SP_LQ2) * w + SP_LQ1) * w + SP_LQ0;
    float s2 = s + s;
    float l = s2 + s2 * (w * lq);
    float zp = z > 0.0f ? z : 0.0f;
    float spv = zp + l;
    float sigv = (z >= 0.0f ? 1.0f : e) / (1.0f + e);
    if (z != z)
        spv = sigv = z;
    *sp_out = spv;
    *sig_out = sigv;
}

void softplus_sigmoid_scalar(const float *z, float *sp, float *sig, int n)
{
    for (int i = 0; i < n; i++) {
        float spv, sigv;
        sp_lane(z[i], &spv, &sigv);
        sp[i] = spv;
        sig[i] = sigv;
    }
}

#if defined(__GNUC__)

/* One vector register per block: 16 lanes where AVX-512 exists (zmm), else 8
 * (AVX2 ymm; without AVX, GCC splits them into SSE halves). The lanes never
 * interact, so the width changes speed only, never a result. */
#if defined(__AVX512F__)
#define SP_LANES 16
#else
#define SP_LANES 8
#endif
typedef float vf __attribute__((vector_size(4 * SP_LANES)));
typedef int32_t vi __attribute__((vector_size(4 * SP_LANES)));

/* Lane-wise m ? a : b for a mask m of all-ones / all-zeros lanes. A macro,
 * not a function: passing 32-byte vectors by value draws GCC's -Wpsabi
 * warning in builds without -mavx (make sanitize). */
#define SP_SELECT(m, a, b) ((vf)(((m) & (vi)(a)) | (~(m) & (vi)(b))))

/* sp_lane on SP_LANES consecutive floats (loads all of z before storing). */
static void sp_block(const float *zin, float *sp_out, float *sig_out)
{
    const vf zero = {0};
    const vf one = zero + 1.0f, amax = zero + SP_AMAX;
    vf z;
    memcpy(&z, zin, sizeof z);
    vf a = (vf)((vi)z & 0x7fffffff);
    a = SP_SELECT(a < amax, a, amax);
    vf x = -a;
    vf t = x * SP_LOG2E + SP_MAGIC;
    vf kf = t - SP_MAGIC;
    vi k = ((vi)t & SP_MANT_MASK) - SP_MANT_BIAS;
    vf r = (x - kf * SP_LN2_HI) - kf * SP_LN2_LO;
    vf r2 = r * r;
    vf q = ((((SP_EP0 * r + SP_EP1) * r + SP_EP2) * r + SP_EP3) * r + SP_EP4) * r + SP_EP5;
    vf p = 1.0f + (r + r2 * q);
    vf e = (p * (vf)((k + SP_KSHIFT + SP_EXP_BIAS) << 23)) * SP_UNSHIFT;
    vf s = e / (2.0f + e);
    vf w = s * s;
    vf lq = (((SP_LQ4 * w + SP_LQ3) * w + SP_LQ2) * w + SP_LQ1) * w + SP_LQ0;
    vf s2 = s + s;
    vf l = s2 + s2 * (w * lq);
    vf zp = SP_SELECT(z > zero, z, zero);
    vf spv = zp + l;
    vf sigv = SP_SELECT(z >= zero, one, e) / (1.0f + e);
    vi nan = z != z;
    spv = SP_SELECT(nan, z, spv);
    sigv = SP_SELECT(nan, z, sigv);
    memcpy(sp_out, &spv, sizeof spv);
    memcpy(sig_out, &sigv, sizeof sigv);
}

void softplus_sigmoid(const float *z, float *sp, float *sig, int n)
{
    int i = 0;
    for (; i + SP_LANES <= n; i += SP_LANES)
        sp_block(z + i, sp + i, sig + i);
    if (i < n) { /* tail: same code on a zero-padded block */
        float zb[SP_LANES] = {0}, spb[SP_LANES], sigb[SP_LANES];
        size_t m = (size_t)(n - i);
        memcpy(zb, z + i, m * sizeof *zb);
        sp_block(zb, spb, sigb);
        memcpy(sp + i, spb, m * sizeof *spb);
        memcpy(sig + i, sigb, m * sizeof *sigb);
    }
}

#else

void softplus_sigmoid(const float *z, float *sp, float *sig, int n) { softplus_sigmoid_scalar(z, sp, sig, n); }

#endif

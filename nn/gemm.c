/* gemm.c - the one matrix-multiply wrapper of equigrid (see gemm.h). gemm()
 * forwards to OpenBLAS's cblas_sgemm in row-major order; gemm_naive() is the
 * plain triple loop with the same contract (double accumulation), the
 * reference the tests check gemm() against. This is the only file that
 * includes cblas.h. */
#include "gemm.h"

#include <cblas.h>

/* C = beta * C for the degenerate K == 0 product (beta == 0 overwrites). */
static void gemm_scale(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++)
            c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    }
}

/* Row-major C = alpha * op(A) op(B) + beta * C through cblas_sgemm. */
void gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        gemm_scale(M, N, beta, C, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The same product with plain loops; beta == 0 overwrites C (NaN included). */
void gemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                float a = trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += (double)a * (double)b;
            }
            float *c = C + (size_t)i * ldc + j;
            *c = beta == 0.0f ? (float)(alpha * s) : (float)(alpha * s + (double)beta * (double)*c);
        }
    }
}

/* Number of OpenBLAS threads (values below 1 are taken as 1). */
void gemm_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

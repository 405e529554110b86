/* gemm.h - the one matrix-multiply wrapper of equigrid. gemm() calls OpenBLAS's
 * cblas_sgemm (only gemm.c includes cblas.h); gemm_naive() is its plain-loop
 * twin with the same contract, used by the tests as the reference. */
#ifndef EQUIGRID_GEMM_H
#define EQUIGRID_GEMM_H

/* Row-major C(M,N) = alpha * op(A) * op(B) + beta * C, where op(X) is X or
 * X^T when the matching trans flag is non-zero. op(A) is (M,K), op(B) is (K,N);
 * lda, ldb, ldc are the row strides of A, B, C as stored. Cannot fail. */
void gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
void gemm_naive(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Sets the number of BLAS threads (>= 1). */
void gemm_set_threads(int n);

#endif

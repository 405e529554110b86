/* softplus.h - elementwise softplus and its derivative sigmoid, from one
 * shared exponential, vectorised 8 floats wide (16 with AVX-512; GCC vector
 * extensions, -march=native) for the lambda-equitune weights of sym.c. Each
 * output is a pure function of its own input: bit-identical whatever n is,
 * wherever the element sits and whether the vector body or the tail computes
 * it. Accuracy (see softplus.c): within 3 ulp of the exact value wherever that
 * is a normal float. Neither function can fail. */
#ifndef EQUIGRID_SOFTPLUS_H
#define EQUIGRID_SOFTPLUS_H

/* sp[i] = softplus(z[i]) = log(1 + e^z[i]) and sig[i] = sigmoid(z[i]) = 1 / (1 + e^-z[i]) for i < n (n <= 0: nothing); sp or sig may be z itself (in place) but must not otherwise overlap z or each other. softplus(+inf) = +inf, softplus(-inf) = 0, sigmoid(+-inf) = 1, 0; NaN gives NaN in both; always sp >= max(z, 0) and 0 <= sig <= 1. */
void softplus_sigmoid(const float *z, float *sp, float *sig, int n);
/* The same results bit for bit, computed one element at a time in plain C: the fallback when vector extensions are absent, and the tests' check of the vector path. */
void softplus_sigmoid_scalar(const float *z, float *sp, float *sig, int n);

#endif

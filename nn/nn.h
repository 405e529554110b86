/* nn.h - feed-forward Q-networks on observation planes: an MLP (dense + ReLU)
 * or a CNN (3x3 same-padding convolutions + ReLU, then dense layers), forward
 * and backward on a batch, He initialisation, Adam, global-norm clipping and
 * the TD losses.
 *
 * A Net does not own its parameters: it is a set of views into a float buffer
 * the caller gives (one buffer for all parameters), so an online
 * network, its lambda network and their gradients/Adam moments all live in one
 * array each, syncing a target is one memcpy and a checkpoint is a list of
 * views. A Net owns only its activation workspace, grown when a larger batch
 * arrives (never on a steady-state hot path).
 *
 * Parameter layout (in memory, in order of layers):
 *   dense: weight (in, out) row-major -- transposed w.r.t. PyTorch so that
 *          a sparse 0/1 input row selects contiguous weight rows -- then bias (out);
 *   conv:  weight (out_ch, in_ch, 3, 3) as PyTorch's Conv2d, then bias (out_ch).
 * net_tensor() reports PyTorch names and shapes ("q.0.weight" [out, in]) for
 * checkpoints; checkpoint code transposes dense weights on the way out/in.
 * Layer indices follow nn.Sequential with ReLU (and, for CNNs, Flatten)
 * counted, e.g. MLP 64,64: q.0 Linear, q.1 ReLU, q.2 Linear, q.3 ReLU, q.4 Linear. */
#ifndef EQUIGRID_NN_H
#define EQUIGRID_NN_H

#include <stddef.h>

#include "../core/rng.h"
#include "pool.h"

enum { NET_MAX_LAYERS = 8 };
typedef enum { NET_MLP, NET_CNN } NetKind;

typedef struct {
    NetKind kind;
    int in_c;                     /* input planes C */
    int n;                        /* input grid side: input is C*n*n floats per row */
    int nconv;                    /* CNN: number of conv layers */
    int conv[NET_MAX_LAYERS];     /* CNN: output channels of each conv */
    int nhidden;                  /* hidden dense layers (MLP, or after the convs) */
    int hidden[NET_MAX_LAYERS];   /* their widths */
    int out;                      /* outputs (actions, or 1 for a lambda net) */
} NetSpec;

typedef struct Net Net;

/* Number of floats of parameters a spec needs; 0 if the spec is invalid
 * (non-positive sizes, too many layers). */
size_t net_nparams(const NetSpec *spec);
/* Creates a network whose parameters and gradients are views into params and
 * grads (each net_nparams(spec) floats, owned by the caller; grads may be NULL
 * for a network that is never trained, e.g. a target). Returns NULL on an
 * invalid spec or out of memory. net_free(NULL) is a no-op. */
Net *net_create(const NetSpec *spec, float *params, float *grads);
void net_free(Net *net);
const NetSpec *net_spec(const Net *net);
/* He-normal weights (std sqrt(2/fan_in)), zero biases, from rng. */
void net_init(Net *net, Rng *rng);

/* Splits the network's kernels over pool's threads (NULL: one thread), the
 * GEMMs included (each thread's at one BLAS thread: gemm_set_threads(1)).
 * Results depend on nothing but the inputs and the thread count: across
 * thread counts they agree to rounding (the BLAS kernels round a split GEMM
 * differently, and with 2 or more threads the weight gradients of a sparse
 * first layer or a head are per-thread partial sums added in thread order).
 * The pool must outlive the network's use of it. */
void net_set_pool(Net *net, Pool *pool);

/* Forward pass on B rows, in (B, C*n*n). Returns the output (B, out), valid
 * until the next forward; keeps what backward needs. The first layer, dense
 * or convolution, reads only the non-zero inputs (exact; planes are mostly
 * zero). Returns NULL only if the workspace could not grow (out of memory). */
const float *net_forward(Net *net, const float *in, int B);
/* B sparse input rows for a network's first layer (net_forward_sparse). Row b is
 * zero except at its list: the nprefix entries (pidx, pval) that every row
 * starts with, listed once, then the entries [rowptr[b] - rowptr[0],
 * rowptr[b+1] - rowptr[0]) of (idx, val); indices strictly ascending along the
 * whole row. The forward sums the bias, the prefix once, then each row's own
 * entries, in list order; the backward gives the prefix's weight rows
 * val * sum_b d[b]. So with nprefix the longest prefix the full rows share, as
 * net_forward finds it, results are bit-identical to net_forward on the dense
 * rows; with a shorter one they agree to rounding. */
typedef struct {
    const int *pidx;
    const float *pval;
    int nprefix;
    const int *idx;
    const float *val;
    const int *rowptr;
} SparseRows;

/* Forward pass on the B rows of x (see SparseRows). Nothing is copied: the
 * lists must stay unchanged until the net_backward of this forward (or the
 * next forward). Returns NULL if the workspace could not grow. */
const float *net_forward_sparse(Net *net, const SparseRows *x, int B);
/* Lists the nonzeros of B dense rows of D floats in ascending index order, in
 * the form net_forward_sparse takes (idx and val need room for B*D entries,
 * rowptr for B+1, rowptr[0] = 0). Returns the number of nonzeros. */
int net_sparse_rows(const float *x, int B, int D, int *idx, float *val, int *rowptr);
/* Length of the longest prefix of entries (same index, same value bits) that
 * all B rows of the lists (as net_sparse_rows writes them) start with: in
 * observation planes the walls, listed first and shared by every state and
 * every view. 0 when B < 1. */
int net_common_prefix(const int *idx, const float *val, const int *rowptr, int B);
/* Backward pass of the last forward: dout (B, out). Accumulates (+=) into the
 * gradient buffer; writes d(loss)/d(in) into din (B, C*n*n) when din is
 * non-NULL. Cannot fail. */
void net_backward(Net *net, const float *dout, float *din);

/* Describes parameter tensor i (0 <= i < net_ntensors): PyTorch name suffix
 * ("0.weight"), shape in PyTorch convention, offset into the parameter buffer,
 * and whether the in-memory layout is the transpose of that shape (dense). */
typedef struct {
    char name[32];
    int ndim;
    int shape[4];
    size_t offset;  /* in floats */
    size_t count;   /* floats */
    int transposed; /* memory is (shape[1], shape[0]) */
} NetTensor;
int net_ntensors(const Net *net);
void net_tensor(const Net *net, int i, NetTensor *t);

/* Floating-point operations of one forward over B rows (multiply-add = 2), as
 * if every input were dense. For GFLOP/s figures. */
double net_flops_forward(const Net *net, int B);

/* A GEMM a forward or backward makes (gemm()'s shape), count times. */
typedef struct {
    int trans_a, trans_b, M, N, K;
    int count;
} NetGemm;
/* Lists the GEMMs of one forward (backward = 0) or of one backward with
 * parameter gradients and no input gradient (backward = 1) over B rows, on
 * one thread, into out (at most max); returns how many there are. For the
 * GFLOP/s of BLAS on the shapes a network really multiplies. A convolution
 * after the first is listed as its im2col product per chunk (rows*n*n x Co
 * x 9*Ci, and the backward's two), also where the direct kernels of conv.h
 * compute that product without BLAS. */
int net_gemms(const Net *net, int B, int backward, NetGemm *out, int max);

/* Adam with bias correction over a contiguous slice of parameters. */
typedef struct {
    size_t n;
    float lr, beta1, beta2, eps;
    long t;  /* steps taken */
    float *m, *v; /* owned, n floats each */
} Adam;
int adam_init(Adam *a, size_t n, float lr, float beta1, float beta2, float eps);
void adam_free(Adam *a);
/* One step: params -= lr * mhat / (sqrt(vhat) + eps), split over pool's
 * threads (NULL: one) by ranges; the same bits for any thread count. */
void adam_step(Adam *a, float *params, const float *grads, Pool *pool);

/* Scales grads so their global L2 norm is at most max_norm (if max_norm > 0);
 * returns the norm before clipping. Split over pool (NULL: one thread) by
 * ranges, the ranges' partial sums added in order: a fixed thread count
 * gives fixed bits, and one thread the sums of a plain loop with eight
 * partial sums. */
float clip_grad_norm(float *grads, size_t n, float max_norm, Pool *pool);

typedef enum { LOSS_HUBER, LOSS_MSE } LossKind;
/* TD loss on the chosen action, d = q[b, act[b]] - target[b]:
 * Huber = mean_b (|d| <= 1 ? d^2/2 : |d| - 1/2) (PyTorch smooth_l1_loss),
 * MSE = mean_b d^2 (F.mse_loss). Writes dq (B, A) = d(loss)/d(q): zero except
 * the chosen entries. Returns the loss. */
float td_loss(LossKind kind, const float *q, const int *act, const float *target, int B, int A, float *dq);

#endif

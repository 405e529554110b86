/* sym.h - symmetrized Q-functions (Basu et al., NeurIPS 2023) over a subgroup G
 * of D4: a QModel is a base network Q (MLP or CNN, nn/nn.h), wrapped by
 *   none:      Q_G(x) = Q(x);
 *   equitune:  Q_G(x)[a] = 1/|G| sum_h Q(h.x)[rho(h)(a)];
 *   lambda:    Q_G(x)[a] = sum_h lam(h.x) Q(h.x)[rho(h)(a)] / sum_h lam(h.x),
 *              lam > 0 an MLP of its own (softplus(z) + 1e-6, or softmax of z
 *              over the group);
 *   equizero:  h* = argmin_h proxy(Q(h.x)) (proxy -max_a Q, or the entropy of
 *              softmax Q; ties to the lowest index), Q_G(x)[a] = Q(h*.x)[rho(h*)(a)];
 *              gradient only through h* (selected, the default) or
 *              straight-through with equitune's (ste);
 *   canonical: h* = argmax_h s(h.x) (ties to the lowest index), s an MLP of
 *              the lambda network's shape (the score network), Q_G(x)[a] =
 *              Q(h*.x)[rho(h*)(a)]: equizero with a learned proxy. Q's
 *              gradient as equizero's; s gets the gradient of
 *              sum_h softmax(s)_h Q(h.x)[rho(h)(a)] (straight-through: the value
 *              stays one-hot).
 * All |G| views of a batch go through the base network as one stacked batch of
 * |G|*B rows (row h*B + b is view h of input b). Parameters are views into a
 * caller-owned buffer: [base | weight network] (lambda's lam or canonical's
 * s), so an optimizer, a target sync and a
 * checkpoint each see one array. Q_G(g.x)[rho(g)(a)] = Q_G(x)[a] for g in G. */
#ifndef EQUIGRID_SYM_H
#define EQUIGRID_SYM_H

#include <stddef.h>

#include "../nn/nn.h"
#include "group.h"

typedef enum { SYM_NONE, SYM_EQUITUNE, SYM_EQUIZERO, SYM_LAMBDA, SYM_CANONICAL } SymMethod;
typedef enum { PROXY_MAXQ, PROXY_ENTROPY } SymProxy;
typedef enum { GRAD_STE, GRAD_SELECTED } SymGrad;
typedef enum { LNORM_SOFTPLUS, LNORM_SOFTMAX } LambdaNorm;

typedef struct {
    SymMethod method;
    Group group;        /* method none ignores it (acts as trivial) */
    SymProxy proxy;
    SymGrad grad;       /* equizero and canonical: Q's gradient */
    int lambda_hidden;  /* hidden width of the weight MLP (lambda's lam, canonical's s) */
    LambdaNorm lambda_norm;
} SymSpec;

/* Names <-> enums ("none", "equitune", "equizero", "lambda", "canonical"; "maxq",
 * "entropy"; "ste", "selected"; "softplus", "softmax"); parse returns -1 for
 * unknown names. */
const char *sym_method_name(SymMethod m);
int sym_method_parse(const char *s);
int sym_proxy_parse(const char *s);
int sym_grad_parse(const char *s);
int sym_lnorm_parse(const char *s);

typedef struct QModel QModel;

/* Floats of parameters for base + weight network (the latter is 0 unless
 * method is lambda or canonical); 0 if a spec is invalid. */
size_t qmodel_nparams(const NetSpec *base, const SymSpec *s);
/* Floats of the base network alone: params[0, base) are Q's, the rest the weight network's. */
size_t qmodel_base_nparams(const QModel *q);
/* Creates a model over caller-owned params (and grads, NULL for a network
 * never trained), each qmodel_nparams floats. NULL on invalid spec / OOM.
 * qmodel_free(NULL) is a no-op. */
QModel *qmodel_create(const NetSpec *base, const SymSpec *s, float *params, float *grads);
void qmodel_free(QModel *q);
/* Splits the base and weight networks' kernels (see net_set_pool) and the
 * symmetrizer's own row loops (building the views, mapping outputs and
 * gradients between views, the weights and the combination) over pool (NULL:
 * one thread); those row loops give the same bits for any thread count. The
 * pool must outlive the model's use of it. Returns 0, or -1 out of memory
 * (the model is unchanged). */
int qmodel_set_pool(QModel *q, Pool *pool);
/* He initialisation of the base and weight networks from rng. */
void qmodel_init(QModel *q, Rng *rng);
Net *qmodel_base(QModel *q);
/* The weight network: lambda's lam or canonical's score network s; NULL for
 * the other methods. */
Net *qmodel_lambda(QModel *q);
const SymSpec *qmodel_sym(const QModel *q);

/* Forward on B inputs in (B, C*n*n) float planes. Returns Q_G (B, A), valid
 * until the next forward. NULL only when out of memory. */
const float *qmodel_forward(QModel *q, const float *in, int B);
/* Same as qmodel_forward(q, in, B), but reusing the stacked views that
 * `from` built in its last forward, which must have been on this very input
 * (e.g. the target network after the online network on the same next
 * states): the transforms are done once for both. Falls back to a plain
 * forward when the views cannot be shared (method none, other group, other
 * batch size). The result is bit-identical to qmodel_forward's. If q is
 * trained, `from` must not run another forward before q's backward. */
const float *qmodel_forward_views(QModel *q, const QModel *from, const float *in, int B);
/* Backward of the last forward, dout (B, A). Accumulates gradients of the
 * weight network always (lambda, canonical), and of the base network when
 * train_base (with train_base = 0 the base gradients are left untouched,
 * which is what freeze_q needs). Cannot fail. */
void qmodel_backward(QModel *q, const float *dout, int train_base);

/* The canonicalization prior on B inputs in (B, C*n*n) (method lambda or
 * canonical; 0 for the others, touching nothing): returns
 * weight * mean_b[-log p_id(in_b)], p the normalised weights of the views
 * (lambda) or the softmax of the scores (canonical), and accumulates its
 * gradient into the weight network's gradients (the base network's are left
 * untouched; a model without gradients only evaluates). It runs the weight
 * network alone over the views of in, reusing the workspace: call it after the
 * backward of a forward, never between the two; introspection then describes
 * nothing. NAN only when out of memory. */
double qmodel_prior(QModel *q, const float *in, int B, float weight);

/* Introspection of the last forward, for row b: the |G| views' Q-values
 * mapped back by rho(h) ((|G|, A), view i belongs to element group.elem[i]),
 * their normalised weights (|G|: lambda, 1/|G|, or one-hot), canonical's raw
 * scores s(h.x) (|G|; NULL for the other methods), and the element index that
 * equizero or canonical chose (-1 for other methods). */
const float *qmodel_view_q(const QModel *q, int b);
const float *qmodel_view_weight(const QModel *q, int b);
const float *qmodel_view_score(const QModel *q, int b);
int qmodel_chosen(const QModel *q, int b);

/* Seconds spent since creation inside the base network's forward/backward
 * and in the symmetrizer's own work (transforms, combining, lambda). */
void qmodel_timing(const QModel *q, double *base_seconds, double *sym_seconds);

#endif

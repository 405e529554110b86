/* sym.h - symmetrized Q-functions (Basu et al., NeurIPS 2023) over a subgroup G
 * of D4: a QModel is a base network Q (MLP or CNN, agents/nn.h), wrapped by
 *   none:      Q_G(x) = Q(x);
 *   equitune:  Q_G(x)[a] = 1/|G| sum_h Q(h.x)[rho(h)(a)];
 *   lambda:    Q_G(x)[a] = sum_h lam(h.x) Q(h.x)[rho(h)(a)] / sum_h lam(h.x),
 *              lam > 0 an MLP of its own (softplus(z) + 1e-6, or softmax of z
 *              over the group);
 *   equizero:  h* = argmin_h proxy(Q(h.x)) (proxy -max_a Q, or the entropy of
 *              softmax Q; ties to the lowest index), Q_G(x)[a] = Q(h*.x)[rho(h*)(a)];
 *              gradient straight-through with equitune's (ste) or only through
 *              h* (selected).
 * All |G| views of a batch go through the base network as one stacked batch of
 * |G|*B rows (row h*B + b is view h of input b). Parameters are views into a
 * caller-owned buffer: [base | lambda], so an optimizer, a target sync and a
 * checkpoint each see one array. Q_G(g.x)[rho(g)(a)] = Q_G(x)[a] for g in G. */
#ifndef EQUIGRID_SYM_H
#define EQUIGRID_SYM_H

#include <stddef.h>

#include "../nn/nn.h"
#include "group.h"

typedef enum { SYM_NONE, SYM_EQUITUNE, SYM_EQUIZERO, SYM_LAMBDA } SymMethod;
typedef enum { PROXY_MAXQ, PROXY_ENTROPY } SymProxy;
typedef enum { GRAD_STE, GRAD_SELECTED } SymGrad;
typedef enum { LNORM_SOFTPLUS, LNORM_SOFTMAX } LambdaNorm;

typedef struct {
    SymMethod method;
    Group group;        /* method none ignores it (acts as trivial) */
    SymProxy proxy;
    SymGrad grad;
    int lambda_hidden;  /* hidden width of the lambda MLP */
    LambdaNorm lambda_norm;
} SymSpec;

/* Names <-> enums ("none", "equitune", "equizero", "lambda"; "maxq",
 * "entropy"; "ste", "selected"; "softplus", "softmax"); parse returns -1 for
 * unknown names. */
const char *sym_method_name(SymMethod m);
int sym_method_parse(const char *s);
int sym_proxy_parse(const char *s);
int sym_grad_parse(const char *s);
int sym_lnorm_parse(const char *s);

typedef struct QModel QModel;

/* Floats of parameters for base + lambda (the lambda part is 0 unless
 * method is lambda); 0 if a spec is invalid. */
size_t qmodel_nparams(const NetSpec *base, const SymSpec *s);
/* Floats of the base network alone: params[0, base) are Q's, the rest lambda's. */
size_t qmodel_base_nparams(const QModel *q);
/* Creates a model over caller-owned params (and grads, NULL for a network
 * never trained), each qmodel_nparams floats. NULL on invalid spec / OOM.
 * qmodel_free(NULL) is a no-op. */
QModel *qmodel_create(const NetSpec *base, const SymSpec *s, float *params, float *grads);
void qmodel_free(QModel *q);
/* He initialisation of the base and lambda networks from rng. */
void qmodel_init(QModel *q, Rng *rng);
Net *qmodel_base(QModel *q);
Net *qmodel_lambda(QModel *q); /* NULL unless method is lambda */
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
 * lambda network always (method lambda), and of the base network when
 * train_base (with train_base = 0 the base gradients are left untouched,
 * which is what freeze_q needs). Cannot fail. */
void qmodel_backward(QModel *q, const float *dout, int train_base);

/* Introspection of the last forward, for row b: the |G| views' Q-values
 * mapped back by rho(h) ((|G|, A), view i belongs to element group.elem[i]),
 * their normalised weights (|G|: lambda, 1/|G|, or one-hot), and equizero's
 * chosen element index (-1 for other methods). */
const float *qmodel_view_q(const QModel *q, int b);
const float *qmodel_view_weight(const QModel *q, int b);
int qmodel_chosen(const QModel *q, int b);

/* Seconds spent since creation inside the base network's forward/backward
 * and in the symmetrizer's own work (transforms, combining, lambda). */
void qmodel_timing(const QModel *q, double *base_seconds, double *sym_seconds);

#endif

/* test_sym.c - Check suite for equivariance/sym.c: the symmetrizers against a
 * naive per-view reference, exact equivariance for every method x named group x
 * element on MLP and CNN bases (online and target copies), the identities
 * "equitune = lambda with constant lambda" and "equizero = lambda one-hot at
 * h*", "canonical = equizero with the score as proxy", the trivial group,
 * finite-difference gradients (canonical's straight-through ones against its
 * softmax surrogate), the canonicalization prior, freeze_q (train_base = 0),
 * greedy actions on gridworld-like states, and batching. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../equivariance/sym.h"
#include "check_main.h"

enum { C_ = 3, N_ = 5, MAXB = 8 };

static const char *const group_names[] = {"trivial", "flip", "rot180", "rot90", "d4"};
enum { NGROUPS = 5 };

static Group named_group(const char *name)
{
    Group g;
    char err[256];
    int rc = group_parse(&g, name, err, sizeof err);
    ck_assert_msg(rc == 0, "group_parse(%s) failed: %s", name, err);
    return g;
}

static NetSpec mlp_spec(int C, int n, int A)
{
    NetSpec s;
    memset(&s, 0, sizeof s);
    s.kind = NET_MLP;
    s.in_c = C;
    s.n = n;
    s.nhidden = 2;
    s.hidden[0] = 8;
    s.hidden[1] = 8;
    s.out = A;
    return s;
}

static NetSpec cnn_spec(int C, int n, int A)
{
    NetSpec s;
    memset(&s, 0, sizeof s);
    s.kind = NET_CNN;
    s.in_c = C;
    s.n = n;
    s.nconv = 1;
    s.conv[0] = 4;
    s.nhidden = 1;
    s.hidden[0] = 8;
    s.out = A;
    return s;
}

/* The weight network of lambda and canonical (one hidden layer, one output)
 * over C_ planes of N_ x N_. */
static NetSpec weight_spec(int hidden)
{
    NetSpec s;
    memset(&s, 0, sizeof s);
    s.kind = NET_MLP;
    s.in_c = C_;
    s.n = N_;
    s.nhidden = 1;
    s.hidden[0] = hidden;
    s.out = 1;
    return s;
}

/* The symmetrizer variants tested everywhere (method none separately). */
typedef struct {
    const char *label;
    SymMethod method;
    SymProxy proxy;
    SymGrad grad;
    LambdaNorm norm;
} Variant;

static const Variant variants[] = {
    {"equitune", SYM_EQUITUNE, PROXY_MAXQ, GRAD_STE, LNORM_SOFTPLUS},
    {"equizero/maxq", SYM_EQUIZERO, PROXY_MAXQ, GRAD_STE, LNORM_SOFTPLUS},
    {"equizero/entropy", SYM_EQUIZERO, PROXY_ENTROPY, GRAD_SELECTED, LNORM_SOFTPLUS},
    {"lambda/softplus", SYM_LAMBDA, PROXY_MAXQ, GRAD_STE, LNORM_SOFTPLUS},
    {"lambda/softmax", SYM_LAMBDA, PROXY_MAXQ, GRAD_STE, LNORM_SOFTMAX},
    {"canonical", SYM_CANONICAL, PROXY_MAXQ, GRAD_SELECTED, LNORM_SOFTPLUS},
};
enum { NVARIANTS = 6 };

static SymSpec make_sym(const Variant *v, Group g)
{
    SymSpec s;
    memset(&s, 0, sizeof s);
    s.method = v->method;
    s.group = g;
    s.proxy = v->proxy;
    s.grad = v->grad;
    s.lambda_hidden = 6;
    s.lambda_norm = v->norm;
    return s;
}

/* A model with its own parameter and gradient buffers. */
typedef struct {
    QModel *q;
    float *params, *grads;
    size_t np;
} Model;

static Model model_new(const NetSpec *ns, const SymSpec *ss, uint64_t seed)
{
    Model m;
    m.np = qmodel_nparams(ns, ss);
    ck_assert_msg(m.np > 0, "qmodel_nparams is 0 for a valid spec");
    m.params = calloc(m.np, sizeof(float));
    m.grads = calloc(m.np, sizeof(float));
    ck_assert_msg(m.params && m.grads, "out of memory");
    m.q = qmodel_create(ns, ss, m.params, m.grads);
    ck_assert_msg(m.q != NULL, "qmodel_create failed on a valid spec");
    Rng r;
    rng_seed(&r, seed, 1);
    qmodel_init(m.q, &r);
    /* non-zero biases so that nothing is accidentally symmetric */
    for (size_t i = 0; i < m.np; i++)
        if (m.params[i] == 0.0f)
            m.params[i] = 0.1f * rng_normal(&r);
    return m;
}

/* A second model (target: no gradients) over the given parameters. */
static Model model_over(const NetSpec *ns, const SymSpec *ss, const float *params, int with_grads)
{
    Model m;
    m.np = qmodel_nparams(ns, ss);
    m.params = malloc(m.np * sizeof(float));
    m.grads = with_grads ? calloc(m.np, sizeof(float)) : NULL;
    ck_assert_msg(m.params && (m.grads || !with_grads), "out of memory");
    memcpy(m.params, params, m.np * sizeof(float));
    m.q = qmodel_create(ns, ss, m.params, m.grads);
    ck_assert_msg(m.q != NULL, "qmodel_create failed on a valid spec");
    return m;
}

static void model_free(Model *m)
{
    qmodel_free(m->q);
    free(m->params);
    free(m->grads);
}

/* B random inputs, cycling through sparse 0/1 planes (one in eight set, like
 * observations), dense 0/1 planes and Gaussian floats. */
static void random_inputs(float *x, int B, int D, Rng *r)
{
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
            if (b % 3 == 0)
                x[b * D + j] = rng_below(r, 8) == 0 ? 1.0f : 0.0f;
            else if (b % 3 == 1)
                x[b * D + j] = (float)rng_below(r, 2);
            else
                x[b * D + j] = rng_normal(r);
        }
}

static double proxy_ref(SymProxy p, const float *v, int A)
{
    double m = v[0];
    for (int a = 1; a < A; a++)
        m = fmax(m, v[a]);
    if (p == PROXY_MAXQ)
        return -m;
    double s = 0.0, sv = 0.0;
    for (int a = 0; a < A; a++) {
        double e = exp(v[a] - m);
        s += e;
        sv += e * (v[a] - m);
    }
    return log(s) - sv / s;
}

/* Gap between the best and second-best proxy of row b of the last forward. */
static double proxy_gap(const QModel *q, int b, int A)
{
    const SymSpec *s = qmodel_sym(q);
    const float *v = qmodel_view_q(q, b);
    double best = INFINITY, second = INFINITY;
    for (int i = 0; i < s->group.n; i++) {
        double l = proxy_ref(s->proxy, v + i * A, A);
        if (l < best) {
            second = best;
            best = l;
        } else if (l < second) {
            second = l;
        }
    }
    return second - best;
}

/* Gap between the best and second-best score of canonical's row b. */
static double score_gap(const QModel *q, int b)
{
    const float *s = qmodel_view_score(q, b);
    double best = -INFINITY, second = -INFINITY;
    for (int i = 0; i < qmodel_sym(q)->group.n; i++) {
        if (s[i] > best) {
            second = best;
            best = s[i];
        } else if (s[i] > second) {
            second = s[i];
        }
    }
    return best - second;
}

/* How far row b of the last forward is from a tie in the view choice
 * (equizero's proxy, canonical's score); INFINITY for methods that pick no
 * view. */
static double choice_gap(const QModel *q, int b, int A)
{
    switch (qmodel_sym(q)->method) {
    case SYM_EQUIZERO: return proxy_gap(q, b, A);
    case SYM_CANONICAL: return score_gap(q, b);
    default: return INFINITY;
    }
}

static int close_rel(double a, double b, double rel, double scale)
{
    return fabs(a - b) <= rel * fmax(1.0, fmax(scale, fmax(fabs(a), fabs(b))));
}

/* Checks Q_G(g.x)[rho(g)(a)] == Q_G(x)[a] for every g of the model's group on
 * B inputs x (D floats each). Returns the number of rows compared. */
static int check_equivariance(QModel *q, const float *x, int B, int D, int C, int n, int A, const char *label)
{
    const SymSpec *s = qmodel_sym(q);
    float qx[MAXB * 5], xg[MAXB * C_ * 9 * 9];
    const float *out = qmodel_forward(q, x, B);
    ck_assert_msg(out != NULL, "%s: forward returned NULL", label);
    memcpy(qx, out, (size_t)B * A * sizeof(float));
    int ok_row[MAXB];
    for (int b = 0; b < B; b++)
        ok_row[b] = choice_gap(q, b, A) > 1e-4;
    int compared = 0;
    for (int e = 0; e < s->group.n; e++) {
        int g = s->group.elem[e];
        for (int b = 0; b < B; b++)
            group_planes(xg + b * D, x + b * D, g, C, n);
        const float *og = qmodel_forward(q, xg, B);
        ck_assert_msg(og != NULL, "%s: forward returned NULL", label);
        for (int b = 0; b < B; b++) {
            if (!ok_row[b] || choice_gap(q, b, A) <= 1e-4)
                continue;
            compared++;
            for (int a = 0; a < A; a++) {
                double want = qx[b * A + a], got = og[b * A + d4_action(g, a)];
                ck_assert_msg(close_rel(got, want, 1e-5, 0.0), "%s: g=%s row %d action %d: Q_G(g.x)[rho(g)a] = %.8g but Q_G(x)[a] = %.8g", label, d4_name(g), b, a, got, want);
            }
        }
    }
    return compared;
}

START_TEST(test_names)
{
    for (int m = 0; m < 5; m++)
        ck_assert_msg(sym_method_parse(sym_method_name((SymMethod)m)) == m, "method %d does not round-trip through its name", m);
    ck_assert_msg(sym_method_parse("equi") == -1, "unknown method name accepted");
    ck_assert_msg(sym_proxy_parse("maxq") == PROXY_MAXQ && sym_proxy_parse("entropy") == PROXY_ENTROPY && sym_proxy_parse("max") == -1, "proxy names");
    ck_assert_msg(sym_grad_parse("ste") == GRAD_STE && sym_grad_parse("selected") == GRAD_SELECTED && sym_grad_parse("") == -1, "grad names");
    ck_assert_msg(sym_lnorm_parse("softplus") == LNORM_SOFTPLUS && sym_lnorm_parse("softmax") == LNORM_SOFTMAX && sym_lnorm_parse("relu") == -1, "lambda norm names");
}
END_TEST

START_TEST(test_nparams_and_invalid)
{
    NetSpec ns = mlp_spec(C_, N_, 4);
    size_t base = net_nparams(&ns);
    SymSpec s = make_sym(&variants[0], named_group("d4"));
    ck_assert_msg(qmodel_nparams(&ns, &s) == base, "equitune nparams %zu != base %zu", qmodel_nparams(&ns, &s), base);
    s.method = SYM_NONE;
    ck_assert_msg(qmodel_nparams(&ns, &s) == base, "none nparams != base");
    s = make_sym(&variants[3], named_group("d4"));
    NetSpec ls = weight_spec(s.lambda_hidden);
    ck_assert_msg(qmodel_nparams(&ns, &s) == base + net_nparams(&ls), "lambda nparams %zu != base + lambda %zu", qmodel_nparams(&ns, &s), base + net_nparams(&ls));
    Model m = model_new(&ns, &s, 3);
    ck_assert_msg(qmodel_base_nparams(m.q) == base, "qmodel_base_nparams wrong");
    ck_assert_msg(qmodel_lambda(m.q) != NULL && qmodel_base(m.q) != NULL, "lambda model lacks its networks");
    model_free(&m);
    /* invalid specs */
    s.lambda_hidden = 0;
    ck_assert_msg(qmodel_nparams(&ns, &s) == 0, "lambda_hidden 0 accepted");
    s = make_sym(&variants[0], named_group("d4"));
    s.group.n = 3;
    s.group.elem[1] = 1;
    s.group.elem[2] = 2; /* {0,1,2} is not closed */
    ck_assert_msg(qmodel_nparams(&ns, &s) == 0, "non-closed group accepted");
    float dummy[1];
    ck_assert_msg(qmodel_create(&ns, &s, dummy, NULL) == NULL, "qmodel_create accepted a non-closed group");
    s = make_sym(&variants[0], named_group("rot90"));
    NetSpec bad = mlp_spec(C_, N_, 3);
    ck_assert_msg(qmodel_nparams(&bad, &s) == 0, "3 actions under rot90 accepted");
    s.group = named_group("trivial");
    ck_assert_msg(qmodel_nparams(&bad, &s) > 0, "3 actions under the trivial group rejected");
    {
        /* any number of actions works under the trivial group; B = 0 is a no-op */
        NetSpec six = mlp_spec(C_, N_, 6);
        Model t = model_new(&six, &s, 4);
        Net *base6 = net_create(&six, t.params, NULL);
        float x[2 * C_ * N_ * N_], ref[12];
        Rng r;
        rng_seed(&r, 5, 0);
        random_inputs(x, 2, C_ * N_ * N_, &r);
        memcpy(ref, net_forward(base6, x, 2), sizeof ref);
        const float *o = qmodel_forward(t.q, x, 2);
        ck_assert_msg(memcmp(o, ref, sizeof ref) == 0, "trivial equitune with 6 actions differs from the base network");
        float c[12] = {0};
        qmodel_backward(t.q, c, 1);
        ck_assert_msg(qmodel_forward(t.q, x, 0) != NULL, "forward of 0 rows returned NULL");
        qmodel_backward(t.q, c, 1);
        net_free(base6);
        model_free(&t);
    }
    qmodel_free(NULL);
}
END_TEST

/* Q_G from a naive per-view, per-row reference in double, using group_planes
 * and separate 1-row forwards of fresh networks over the same parameters. */
START_TEST(test_naive_reference)
{
    Rng r;
    rng_seed(&r, 11, 0);
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        int D = C_ * N_ * N_;
        for (int vi = 0; vi < NVARIANTS; vi++) {
            const Variant *v = &variants[vi];
            Group grp = named_group("d4");
            SymSpec ss = make_sym(v, grp);
            Model m = model_new(&ns, &ss, 100 + vi);
            Net *base = net_create(&ns, m.params, NULL);
            NetSpec ls = weight_spec(ss.lambda_hidden);
            int weighted = v->method == SYM_LAMBDA || v->method == SYM_CANONICAL;
            Net *lam = weighted ? net_create(&ls, m.params + net_nparams(&ns), NULL) : NULL;
            ck_assert_msg(base && (lam || !weighted), "net_create failed");
            float x[MAXB * C_ * N_ * N_], xh[C_ * N_ * N_];
            int B = 6;
            random_inputs(x, B, D, &r);
            float qg[MAXB * 5];
            memcpy(qg, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
            for (int b = 0; b < B; b++) {
                double vv[D4_ORDER][5], z[D4_ORDER];
                for (int i = 0; i < grp.n; i++) {
                    int h = grp.elem[i];
                    group_planes(xh, x + b * D, h, C_, N_);
                    const float *y = net_forward(base, xh, 1);
                    for (int a = 0; a < A; a++)
                        vv[i][a] = y[d4_action(h, a)];
                    if (lam)
                        z[i] = net_forward(lam, xh, 1)[0];
                }
                double w[D4_ORDER], s = 0.0;
                int best = 0;
                for (int i = 0; i < grp.n; i++) {
                    if (v->method == SYM_EQUITUNE)
                        w[i] = 1.0;
                    else if (v->method == SYM_LAMBDA && v->norm == LNORM_SOFTPLUS)
                        w[i] = log1p(exp(z[i])) + 1e-6;
                    else if (v->method == SYM_LAMBDA)
                        w[i] = exp(z[i]);
                    else
                        w[i] = 0.0;
                    s += w[i];
                }
                if (v->method == SYM_CANONICAL) {
                    for (int i = 1; i < grp.n; i++)
                        if (z[i] > z[best])
                            best = i;
                    w[best] = 1.0;
                    s = 1.0;
                    if (score_gap(m.q, b) <= 1e-4)
                        continue;
                    ck_assert_msg(qmodel_chosen(m.q, b) == grp.elem[best], "%s row %d: chosen %d, reference %d", v->label, b, qmodel_chosen(m.q, b), grp.elem[best]);
                    for (int i = 0; i < grp.n; i++)
                        ck_assert_msg(close_rel(qmodel_view_score(m.q, b)[i], z[i], 1e-5, 0.0), "%s row %d view %d: score %.8g, reference %.8g", v->label, b, i, qmodel_view_score(m.q, b)[i], z[i]);
                }
                if (v->method == SYM_EQUIZERO) {
                    float vf[D4_ORDER][5];
                    for (int i = 0; i < grp.n; i++)
                        for (int a = 0; a < A; a++)
                            vf[i][a] = (float)vv[i][a];
                    for (int i = 1; i < grp.n; i++)
                        if (proxy_ref(v->proxy, vf[i], A) < proxy_ref(v->proxy, vf[best], A))
                            best = i;
                    w[best] = 1.0;
                    s = 1.0;
                    if (proxy_gap(m.q, b, A) <= 1e-4)
                        continue;
                    ck_assert_msg(qmodel_chosen(m.q, b) == grp.elem[best], "%s row %d: chosen %d, reference %d", v->label, b, qmodel_chosen(m.q, b), grp.elem[best]);
                }
                const float *wq = qmodel_view_weight(m.q, b);
                const float *vq = qmodel_view_q(m.q, b);
                for (int i = 0; i < grp.n; i++) {
                    ck_assert_msg(fabs(wq[i] - w[i] / s) <= 1e-6, "%s row %d view %d: weight %.8g, reference %.8g", v->label, b, i, wq[i], w[i] / s);
                    for (int a = 0; a < A; a++)
                        ck_assert_msg(close_rel(vq[i * A + a], vv[i][a], 1e-5, 0.0), "%s row %d view %d action %d: mapped-back %.8g, reference %.8g", v->label, b, i, a, vq[i * A + a], vv[i][a]);
                }
                for (int a = 0; a < A; a++) {
                    double ref = 0.0;
                    for (int i = 0; i < grp.n; i++)
                        ref += w[i] / s * vv[i][a];
                    ck_assert_msg(close_rel(qg[b * A + a], ref, 1e-5, 0.0), "%s %s row %d action %d: Q_G %.8g, naive reference %.8g", v->label, kind ? "cnn" : "mlp", b, a, qg[b * A + a], ref);
                }
            }
            net_free(base);
            net_free(lam);
            model_free(&m);
        }
    }
}
END_TEST

START_TEST(test_equivariance)
{
    Rng r;
    rng_seed(&r, 7, 0);
    int D = C_ * N_ * N_, B = 8;
    float x[MAXB * C_ * N_ * N_];
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        for (int vi = 0; vi < NVARIANTS; vi++)
            for (int gi = 0; gi < NGROUPS; gi++) {
                SymSpec ss = make_sym(&variants[vi], named_group(group_names[gi]));
                Model m = model_new(&ns, &ss, 1000 + 10 * vi + gi);
                Model t = model_over(&ns, &ss, m.params, 0);
                char label[96];
                snprintf(label, sizeof label, "%s/%s/%s", kind ? "cnn" : "mlp", variants[vi].label, group_names[gi]);
                int total = 0;
                for (int rep = 0; rep < 2; rep++) {
                    random_inputs(x, B, D, &r);
                    total += check_equivariance(m.q, x, B, D, C_, N_, A, label);
                    /* the target copy agrees with the online model and is equivariant too */
                    float qo[MAXB * 5];
                    memcpy(qo, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
                    const float *qt = qmodel_forward(t.q, x, B);
                    for (int k = 0; k < B * A; k++)
                        ck_assert_msg(qt[k] == qo[k], "%s: target copy differs at %d: %.8g vs %.8g", label, k, qt[k], qo[k]);
                    /* the target reusing the online model's views gives the same bits */
                    memcpy(qo, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
                    qt = qmodel_forward_views(t.q, m.q, x, B);
                    for (int k = 0; k < B * A; k++)
                        ck_assert_msg(qt[k] == qo[k], "%s: target over shared views differs at %d: %.8g vs %.8g", label, k, qt[k], qo[k]);
                    snprintf(label, sizeof label, "%s/%s/%s target", kind ? "cnn" : "mlp", variants[vi].label, group_names[gi]);
                    check_equivariance(t.q, x, B, D, C_, N_, A, label);
                    snprintf(label, sizeof label, "%s/%s/%s", kind ? "cnn" : "mlp", variants[vi].label, group_names[gi]);
                }
                ck_assert_msg(total >= ss.group.n * B, "%s: only %d rows compared (too many near-ties)", label, total);
                model_free(&t);
                model_free(&m);
            }
    }
}
END_TEST

/* The same model is not equivariant under an element outside its group:
 * guards against a test that would pass for any function. */
START_TEST(test_not_equivariant_outside_group)
{
    Rng r;
    rng_seed(&r, 8, 0);
    int D = C_ * N_ * N_, B = 4, A = 4;
    NetSpec ns = mlp_spec(C_, N_, A);
    SymSpec ss = make_sym(&variants[0], named_group("flip"));
    Model m = model_new(&ns, &ss, 77);
    float x[MAXB * C_ * N_ * N_], xg[MAXB * C_ * N_ * N_], qx[MAXB * 5];
    random_inputs(x, B, D, &r);
    memcpy(qx, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
    for (int b = 0; b < B; b++)
        group_planes(xg + b * D, x + b * D, 1, C_, N_);
    const float *og = qmodel_forward(m.q, xg, B);
    double maxdiff = 0.0;
    for (int b = 0; b < B; b++)
        for (int a = 0; a < A; a++)
            maxdiff = fmax(maxdiff, fabs(og[b * A + d4_action(1, a)] - qx[b * A + a]));
    ck_assert_msg(maxdiff > 1e-3, "flip-equitune looks r90-equivariant (max diff %g): the check cannot fail", maxdiff);
    model_free(&m);
}
END_TEST

/* Offset of the lambda net's last layer (weights (h,1), then bias) in params. */
static size_t lambda_last_offset(const QModel *q, int D, int h) { return qmodel_base_nparams(q) + (size_t)D * h + h; }

START_TEST(test_lambda_constant_is_equitune)
{
    Rng r;
    rng_seed(&r, 9, 0);
    int D = C_ * N_ * N_, B = 8;
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        for (int gi = 0; gi < NGROUPS; gi++)
            for (int norm = 0; norm < 2; norm++) {
                SymSpec sl = make_sym(&variants[3 + norm], named_group(group_names[gi]));
                Model m = model_new(&ns, &sl, 50 + gi);
                size_t off = lambda_last_offset(m.q, D, sl.lambda_hidden);
                ck_assert_msg(off + (size_t)sl.lambda_hidden + 1 == m.np, "lambda last layer does not end the buffer");
                for (int k = 0; k < sl.lambda_hidden; k++)
                    m.params[off + k] = 0.0f;
                m.params[off + sl.lambda_hidden] = 0.7f;
                SymSpec se = make_sym(&variants[0], sl.group);
                Model e = model_over(&ns, &se, m.params, 0);
                float x[MAXB * C_ * N_ * N_], ql[MAXB * 5];
                random_inputs(x, B, D, &r);
                memcpy(ql, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
                const float *qe = qmodel_forward(e.q, x, B);
                for (int k = 0; k < B * A; k++)
                    ck_assert_msg(fabs(ql[k] - qe[k]) <= 1e-6 * fmax(1.0, fabs(qe[k])), "%s/%s: constant lambda %.8g != equitune %.8g at %d", group_names[gi], variants[3 + norm].label, ql[k], qe[k], k);
                for (int b = 0; b < B; b++)
                    for (int i = 0; i < sl.group.n; i++)
                        ck_assert_msg(fabsf(qmodel_view_weight(m.q, b)[i] - 1.0f / sl.group.n) <= 1e-6f, "constant lambda weight %g != 1/|G|", qmodel_view_weight(m.q, b)[i]);
                model_free(&e);
                model_free(&m);
            }
    }
}
END_TEST

START_TEST(test_weights_introspection)
{
    Rng r;
    rng_seed(&r, 10, 0);
    int D = C_ * N_ * N_, B = 8, A = 4;
    NetSpec ns = mlp_spec(C_, N_, A);
    float x[MAXB * C_ * N_ * N_];
    for (int vi = 0; vi < NVARIANTS; vi++) {
        SymSpec ss = make_sym(&variants[vi], named_group("d4"));
        Model m = model_new(&ns, &ss, 300 + vi);
        random_inputs(x, B, D, &r);
        const float *out = qmodel_forward(m.q, x, B);
        for (int b = 0; b < B; b++) {
            const float *w = qmodel_view_weight(m.q, b), *v = qmodel_view_q(m.q, b);
            double sw = 0.0;
            int nonzero = 0, at = -1;
            for (int i = 0; i < 8; i++) {
                ck_assert_msg(w[i] >= 0.0f, "%s: negative weight", variants[vi].label);
                sw += w[i];
                if (w[i] != 0.0f) {
                    nonzero++;
                    at = i;
                }
            }
            ck_assert_msg(fabs(sw - 1.0) <= 1e-6, "%s row %d: weights sum to %.8g", variants[vi].label, b, sw);
            for (int a = 0; a < A; a++) {
                double s = 0.0;
                for (int i = 0; i < 8; i++)
                    s += (double)w[i] * v[i * A + a];
                ck_assert_msg(close_rel(out[b * A + a], s, 1e-6, 0.0), "%s row %d: Q_G %.8g != sum weight*view %.8g", variants[vi].label, b, out[b * A + a], s);
            }
            if (variants[vi].method == SYM_EQUIZERO || variants[vi].method == SYM_CANONICAL) {
                /* one-hot at the chosen element (d4: view index == element index) */
                ck_assert_msg(nonzero == 1 && at == qmodel_chosen(m.q, b) && w[at] == 1.0f, "%s row %d: weights not one-hot at chosen %d", variants[vi].label, b, qmodel_chosen(m.q, b));
                for (int a = 0; a < A; a++)
                    ck_assert_msg(out[b * A + a] == v[at * A + a], "equizero Q_G is not exactly the chosen view");
                const float *sc = qmodel_view_score(m.q, b);
                for (int i = 0; i < 8; i++) {
                    if (variants[vi].method == SYM_EQUIZERO)
                        ck_assert_msg(proxy_ref(ss.proxy, v + i * A, A) >= proxy_ref(ss.proxy, v + at * A, A) - 1e-6, "%s: view %d has a better proxy than chosen %d", variants[vi].label, i, at);
                    else
                        ck_assert_msg(i < at ? sc[i] < sc[at] : sc[i] <= sc[at], "%s: view %d scores %.8g against chosen %d's %.8g (argmax, ties to the lowest)", variants[vi].label, i, sc[i], at, sc[at]);
                }
            } else {
                ck_assert_msg(qmodel_chosen(m.q, b) == -1 && qmodel_view_score(m.q, b) == NULL, "%s: chosen %d (or scores) for a method that picks no view", variants[vi].label, qmodel_chosen(m.q, b));
                ck_assert_msg(nonzero == 8, "%s: a zero weight", variants[vi].label);
            }
        }
        model_free(&m);
    }
    /* exact ties go to the lowest element: an input invariant under all of D4
     * gives every view the same maximum */
    {
        SymSpec sz = make_sym(&variants[1], named_group("d4"));
        Model z = model_new(&ns, &sz, 398);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < D; j++)
                x[b * D + j] = b % 2 ? 1.0f : 0.25f * (float)b;
        qmodel_forward(z.q, x, B);
        for (int b = 0; b < B; b++)
            ck_assert_msg(qmodel_chosen(z.q, b) == 0, "equizero on a D4-invariant input chose %d, not the identity (ties go to the lowest index)", qmodel_chosen(z.q, b));
        model_free(&z);
    }
    /* chosen is the element index, not the view index, in a group that skips elements */
    SymSpec ss = make_sym(&variants[1], named_group("flip"));
    Model m = model_new(&ns, &ss, 399);
    int seen4 = 0;
    for (int rep = 0; rep < 4 && !seen4; rep++) {
        random_inputs(x, B, D, &r);
        qmodel_forward(m.q, x, B);
        for (int b = 0; b < B; b++) {
            int c = qmodel_chosen(m.q, b);
            ck_assert_msg(c == 0 || c == 4, "flip-equizero chose element %d", c);
            ck_assert_msg(qmodel_view_weight(m.q, b)[c == 4 ? 1 : 0] == 1.0f, "flip-equizero: weight not one-hot at view of element %d", c);
            seen4 |= c == 4;
        }
    }
    ck_assert_msg(seen4, "flip-equizero never chose the mirror");
    model_free(&m);
}
END_TEST

START_TEST(test_trivial_and_none)
{
    Rng r;
    rng_seed(&r, 12, 0);
    int D = C_ * N_ * N_, B = 6;
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        float x[MAXB * C_ * N_ * N_], ref[MAXB * 5];
        random_inputs(x, B, D, &r);
        for (int vi = -1; vi < NVARIANTS; vi++) {
            SymSpec ss = make_sym(&variants[vi < 0 ? 0 : vi], named_group(vi < 0 ? "d4" : "trivial"));
            if (vi < 0)
                ss.method = SYM_NONE; /* none ignores its group */
            Model m = model_new(&ns, &ss, 500);
            Net *base = net_create(&ns, m.params, NULL);
            memcpy(ref, net_forward(base, x, B), (size_t)B * A * sizeof(float));
            const float *out = qmodel_forward(m.q, x, B);
            const char *label = vi < 0 ? "none" : variants[vi].label;
            for (int k = 0; k < B * A; k++)
                ck_assert_msg(out[k] == ref[k], "%s (trivial group): Q_G %.9g != base %.9g at %d", label, out[k], ref[k], k);
            for (int b = 0; b < B; b++) {
                ck_assert_msg(qmodel_view_weight(m.q, b)[0] == 1.0f, "%s: single view weight %g != 1", label, qmodel_view_weight(m.q, b)[0]);
                ck_assert_msg(memcmp(qmodel_view_q(m.q, b), ref + b * A, (size_t)A * sizeof(float)) == 0, "%s: view q is not the base output", label);
                if (vi < 0 || (variants[vi].method != SYM_EQUIZERO && variants[vi].method != SYM_CANONICAL))
                    ck_assert_msg(qmodel_chosen(m.q, b) == -1, "%s: chosen != -1", label);
                else
                    ck_assert_msg(qmodel_chosen(m.q, b) == 0, "%s: chosen != identity", label);
            }
            net_free(base);
            model_free(&m);
        }
    }
}
END_TEST

/* L = sum c[b,a] Q_G[b,a] in double. */
static double loss_of(QModel *q, const float *x, int B, int A, const float *c)
{
    const float *out = qmodel_forward(q, x, B);
    double L = 0.0;
    for (int k = 0; k < B * A; k++)
        L += (double)c[k] * out[k];
    return L;
}

/* Canonical's straight-through surrogate, whose gradient the score network
 * gets: sum c[b,a] sum_h softmax(s)_h Q_h[b,a], in double. */
static double surrogate_of(QModel *q, const float *x, int B, int A, const float *c)
{
    qmodel_forward(q, x, B);
    int G = qmodel_sym(q)->group.n;
    double L = 0.0;
    for (int b = 0; b < B; b++) {
        const float *sc = qmodel_view_score(q, b), *v = qmodel_view_q(q, b);
        double m = -INFINITY, z = 0.0;
        for (int i = 0; i < G; i++)
            m = fmax(m, sc[i]);
        for (int i = 0; i < G; i++)
            z += exp(sc[i] - m);
        for (int i = 0; i < G; i++)
            for (int a = 0; a < A; a++)
                L += exp(sc[i] - m) / z * c[b * A + a] * v[i * A + a];
    }
    return L;
}

/* Central differences of L w.r.t. sampled parameters against the analytic
 * gradient of qmodel_backward; for equizero/selected the chosen views must not
 * move under the perturbation (else that parameter is skipped). Canonical's
 * score network is checked against surrogate_of instead (its forward is
 * piecewise constant in those parameters). */
static void check_fd(Model *m, const float *x, int B, int A, const float *c, Rng *r, const char *label)
{
    memset(m->grads, 0, m->np * sizeof(float));
    qmodel_forward(m->q, x, B);
    int chosen0[MAXB];
    for (int b = 0; b < B; b++)
        chosen0[b] = qmodel_chosen(m->q, b);
    qmodel_backward(m->q, c, 1);
    size_t nb = qmodel_base_nparams(m->q);
    const float eps = 1e-3f;
    int checked = 0, bad = 0;
    for (int t = 0; t < 80; t++) {
        /* half the samples from the lambda net when there is one */
        size_t i = (t % 2 && m->np > nb) ? nb + rng_below(r, (uint32_t)(m->np - nb)) : rng_below(r, (uint32_t)nb);
        float p0 = m->params[i];
        /* L at p0 + {0, +-eps, +-eps/4} */
        const float steps[5] = {0.0f, eps, -eps, eps / 4, -eps / 4};
        double lv[5];
        int moved = 0, sur = qmodel_sym(m->q)->method == SYM_CANONICAL && i >= nb;
        for (int k = 0; k < 5; k++) {
            m->params[i] = p0 + steps[k];
            lv[k] = sur ? surrogate_of(m->q, x, B, A, c) : loss_of(m->q, x, B, A, c);
            for (int b = 0; b < B; b++)
                moved |= !sur && qmodel_chosen(m->q, b) != chosen0[b];
        }
        m->params[i] = p0;
        if (moved)
            continue;
        /* along one parameter a ReLU network is piecewise linear: a kink
         * within a step spoils the central difference and one one-sided
         * difference of that step size, so the best of central, forward and
         * backward differences at two step sizes is compared */
        double fd[6], an = m->grads[i];
        for (int k = 0; k < 2; k++) {
            double h = steps[1 + 2 * k];
            fd[3 * k] = (lv[1 + 2 * k] - lv[2 + 2 * k]) / (2.0 * h);
            fd[3 * k + 1] = (lv[1 + 2 * k] - lv[0]) / h;
            fd[3 * k + 2] = (lv[0] - lv[2 + 2 * k]) / h;
        }
        double err = INFINITY;
        int best = 0;
        for (int k = 0; k < 6; k++)
            if (fabs(fd[k] - an) < err) {
                err = fabs(fd[k] - an);
                best = k;
            }
        checked++;
        if (err > 1e-2 * fmax(fabs(fd[best]), fabs(an)) + 2e-3) {
            bad++;
            fprintf(stderr, "%s: param %zu: fd central/forward/backward %.6g %.6g %.6g (step/4: %.6g %.6g %.6g), analytic %.6g\n", label, i, fd[0], fd[1], fd[2], fd[3], fd[4], fd[5], an);
        }
    }
    ck_assert_msg(checked >= 60, "%s: only %d parameters checked (choice moved too often)", label, checked);
    ck_assert_msg(bad == 0, "%s: %d of %d finite-difference checks failed", label, bad, checked);
}

START_TEST(test_gradients_fd)
{
    Rng r;
    rng_seed(&r, 13, 0);
    int D = C_ * N_ * N_, B = 4;
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        for (int vi = 0; vi < NVARIANTS; vi++)
            for (int gi = 1; gi < NGROUPS; gi += 3) { /* flip and d4 */
                Variant v = variants[vi];
                if (v.method == SYM_EQUIZERO)
                    v.grad = GRAD_SELECTED; /* ste is not the derivative of the forward */
                SymSpec ss = make_sym(&v, named_group(group_names[gi]));
                Model m = model_new(&ns, &ss, 700 + vi);
                float x[MAXB * C_ * N_ * N_], c[MAXB * 5];
                random_inputs(x, B, D, &r);
                for (int k = 0; k < B * A; k++)
                    c[k] = rng_normal(&r);
                char label[96];
                snprintf(label, sizeof label, "%s/%s/%s", kind ? "cnn" : "mlp", v.label, group_names[gi]);
                check_fd(&m, x, B, A, c, &r, label);
                model_free(&m);
            }
    }
}
END_TEST

START_TEST(test_equizero_ste_is_equitune_grad)
{
    Rng r;
    rng_seed(&r, 14, 0);
    int D = C_ * N_ * N_, B = 6;
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        for (int p = 0; p < 2; p++) {
            SymSpec sz = make_sym(&variants[1 + p], named_group("d4"));
            sz.grad = GRAD_STE;
            Model z = model_new(&ns, &sz, 800);
            SymSpec se = make_sym(&variants[0], sz.group);
            Model e = model_over(&ns, &se, z.params, 1);
            float x[MAXB * C_ * N_ * N_], c[MAXB * 5];
            random_inputs(x, B, D, &r);
            for (int k = 0; k < B * A; k++)
                c[k] = rng_normal(&r);
            qmodel_forward(z.q, x, B);
            qmodel_backward(z.q, c, 1);
            qmodel_forward(e.q, x, B);
            qmodel_backward(e.q, c, 1);
            double gmax = 0.0;
            for (size_t i = 0; i < z.np; i++) {
                ck_assert_msg(fabsf(z.grads[i] - e.grads[i]) <= 1e-6f * fmaxf(1.0f, fabsf(e.grads[i])), "equizero/ste grad %.8g != equitune grad %.8g at %zu", z.grads[i], e.grads[i], i);
                gmax = fmax(gmax, fabs(e.grads[i]));
            }
            ck_assert_msg(gmax > 1e-3, "equitune gradient is zero: the comparison is empty");
            model_free(&e);
            model_free(&z);
        }
    }
}
END_TEST

START_TEST(test_freeze_base)
{
    Rng r;
    rng_seed(&r, 15, 0);
    int D = C_ * N_ * N_, B = 5, A = 4;
    NetSpec ns = mlp_spec(C_, N_, A);
    for (int vi = 0; vi < NVARIANTS; vi++) {
        SymSpec ss = make_sym(&variants[vi], named_group("d4"));
        Model m = model_new(&ns, &ss, 900 + vi);
        for (size_t i = 0; i < m.np; i++)
            m.grads[i] = rng_normal(&r);
        float *before = malloc(m.np * sizeof(float));
        ck_assert_msg(before != NULL, "out of memory");
        memcpy(before, m.grads, m.np * sizeof(float));
        float x[MAXB * C_ * N_ * N_], c[MAXB * 5];
        random_inputs(x, B, D, &r);
        for (int k = 0; k < B * A; k++)
            c[k] = rng_normal(&r);
        qmodel_forward(m.q, x, B);
        qmodel_backward(m.q, c, 0);
        size_t nb = qmodel_base_nparams(m.q);
        ck_assert_msg(memcmp(before, m.grads, nb * sizeof(float)) == 0, "%s: train_base = 0 changed base gradients", variants[vi].label);
        if (variants[vi].method == SYM_LAMBDA || variants[vi].method == SYM_CANONICAL)
            ck_assert_msg(memcmp(before + nb, m.grads + nb, (m.np - nb) * sizeof(float)) != 0, "%s: weight network gradients unchanged with train_base = 0", variants[vi].label);
        /* and train_base = 1 does change them */
        qmodel_backward(m.q, c, 1);
        ck_assert_msg(memcmp(before, m.grads, nb * sizeof(float)) != 0, "%s: train_base = 1 left base gradients unchanged", variants[vi].label);
        free(before);
        model_free(&m);
    }
}
END_TEST

/* Walled n x n grid with an agent and a goal: planes wall, agent, goal. */
static void grid_state(float *x, int n, int ar, int ac, int gr, int gc)
{
    int nn = n * n;
    memset(x, 0, (size_t)3 * nn * sizeof(float));
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            if (r == 0 || c == 0 || r == n - 1 || c == n - 1)
                x[r * n + c] = 1.0f;
    x[nn + ar * n + ac] = 1.0f;
    x[2 * nn + gr * n + gc] = 1.0f;
}

static int argmax_gap(const float *q, int A, double *gap)
{
    int best = 0;
    for (int a = 1; a < A; a++)
        if (q[a] > q[best])
            best = a;
    double second = -INFINITY;
    for (int a = 0; a < A; a++)
        if (a != best)
            second = fmax(second, q[a]);
    *gap = q[best] - second;
    return best;
}

START_TEST(test_greedy_actions)
{
    Rng r;
    rng_seed(&r, 16, 0);
    int n = 7, D = 3 * n * n, A = 5, B = 8;
    NetSpec ns = mlp_spec(3, n, A);
    ns.hidden[0] = ns.hidden[1] = 16;
    static const int which[] = {0, 3, 4, 1, 2, 5};
    float *x = malloc((size_t)B * D * sizeof(float)), *xg = malloc((size_t)B * D * sizeof(float));
    ck_assert_msg(x && xg, "out of memory");
    for (int w = 0; w < 6; w++) {
        const Variant *v = &variants[which[w]];
        SymSpec ss = make_sym(v, named_group("d4"));
        Model m = model_new(&ns, &ss, 1100 + w);
        for (int b = 0; b < B; b++) {
            int ar = 1 + (int)rng_below(&r, 5), ac = 1 + (int)rng_below(&r, 5), gr, gc;
            do {
                gr = 1 + (int)rng_below(&r, 5);
                gc = 1 + (int)rng_below(&r, 5);
            } while (gr == ar && gc == ac);
            grid_state(x + b * D, n, ar, ac, gr, gc);
        }
        int act[MAXB], compared = 0;
        double gap[MAXB];
        const float *out = qmodel_forward(m.q, x, B);
        for (int b = 0; b < B; b++) {
            act[b] = argmax_gap(out + b * A, A, &gap[b]);
            if (choice_gap(m.q, b, A) <= 1e-4)
                gap[b] = 0.0; /* a state symmetric under some element ties the view choice */
        }
        for (int g = 0; g < D4_ORDER; g++) {
            for (int b = 0; b < B; b++)
                group_planes(xg + b * D, x + b * D, g, 3, n);
            const float *og = qmodel_forward(m.q, xg, B);
            for (int b = 0; b < B; b++) {
                double gg;
                int ag = argmax_gap(og + b * A, A, &gg);
                if (choice_gap(m.q, b, A) <= 1e-4)
                    gg = 0.0;
                if (gap[b] < 1e-4 || gg < 1e-4)
                    continue;
                compared++;
                ck_assert_msg(ag == d4_action(g, act[b]), "%s: g=%s state %d: greedy %d on g.x, expected rho(g)(%d) = %d", v->label, d4_name(g), b, ag, act[b], d4_action(g, act[b]));
            }
        }
        ck_assert_msg(compared >= B * D4_ORDER / 2, "%s: only %d greedy comparisons (ties)", v->label, compared);
        model_free(&m);
    }
    free(x);
    free(xg);
}
END_TEST

START_TEST(test_batch_equals_rows)
{
    Rng r;
    rng_seed(&r, 17, 0);
    int D = C_ * N_ * N_, B = 7;
    for (int kind = 0; kind < 2; kind++) {
        int A = kind ? 5 : 4;
        NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
        for (int vi = -1; vi < NVARIANTS; vi++) {
            SymSpec ss = make_sym(&variants[vi < 0 ? 0 : vi], named_group("d4"));
            if (vi < 0)
                ss.method = SYM_NONE;
            Model m = model_new(&ns, &ss, 1200);
            float x[MAXB * C_ * N_ * N_], qb[MAXB * 5];
            random_inputs(x, B, D, &r);
            memcpy(qb, qmodel_forward(m.q, x, B), (size_t)B * A * sizeof(float));
            for (int b = 0; b < B; b++) {
                const float *o = qmodel_forward(m.q, x + b * D, 1);
                for (int a = 0; a < A; a++)
                    ck_assert_msg(close_rel(o[a], qb[b * A + a], 1e-5, 0.0), "%s: batched row %d action %d = %.8g, single-row forward %.8g", vi < 0 ? "none" : variants[vi].label, b, a, qb[b * A + a], o[a]);
            }
            /* a larger batch after a smaller one still works (workspace grows) */
            float big[2 * MAXB * C_ * N_ * N_];
            memcpy(big, x, (size_t)B * D * sizeof(float));
            memcpy(big + B * D, x, (size_t)B * D * sizeof(float));
            const float *o2 = qmodel_forward(m.q, big, 2 * B);
            ck_assert_msg(o2 != NULL, "forward of a larger batch failed");
            for (int k = 0; k < B * A; k++)
                ck_assert_msg(close_rel(o2[B * A + k], qb[k], 1e-5, 0.0), "repeated half of a larger batch differs at %d", k);
            double tb = -1.0, ts = -1.0;
            qmodel_timing(m.q, &tb, &ts);
            ck_assert_msg(tb > 0.0 && ts >= 0.0, "timing: base %g sym %g seconds", tb, ts);
            model_free(&m);
        }
    }
}
END_TEST

enum { ROWS_MIXED, ROWS_PLAIN, ROWS_CENTRED, ROWS_KINDS };
static const char *const rows_kind[ROWS_KINDS] = {"mixed rows", "walls + remainders", "walls + centre"};

/* Wall-like rows: every row shares the border of plane 0 (a common prefix),
 * then a few entries elsewhere; row 3 has only the border. ROWS_MIXED: row 1
 * adds interior plane-0 cells (they map below the prefix's last cell) and row 2
 * is dense and non-binary. ROWS_CENTRED: every row also has plane 1's centre,
 * which every element fixes, and row 0 plane 1's bottom-left cell, which some
 * elements map before the centre. */
static void wall_inputs(float *x, int B, int kind, Rng *r)
{
    const int nn = N_ * N_, D = C_ * nn;
    memset(x, 0, (size_t)B * D * sizeof(float));
    for (int b = 0; b < B; b++) {
        float *xr = x + (size_t)b * D;
        for (int y = 0; y < N_; y++)
            for (int c = 0; c < N_; c++)
                if (y == 0 || c == 0 || y == N_ - 1 || c == N_ - 1)
                    xr[y * N_ + c] = 1.0f;
        if (kind == ROWS_CENTRED) {
            xr[nn + (N_ / 2) * N_ + N_ / 2] = 1.0f;
            if (b == 0)
                xr[nn + (N_ - 1) * N_] = 1.0f;
        }
        if (b == 3)
            continue;
        if (kind != ROWS_CENTRED)
            xr[nn + (int)rng_below(r, (uint32_t)nn)] = 1.0f;
        xr[2 * nn + (int)rng_below(r, (uint32_t)nn)] = 1.0f;
        if (kind != ROWS_MIXED)
            continue;
        if (b == 1)
            xr[N_ + 1] = xr[2 * N_ + 2] = 0.5f;
        if (b == 2)
            for (int j = nn; j < D; j++)
                xr[j] = 0.25f + rng_float(r);
    }
}

/* The MLP base sees each view as a sparse list derived from the input's
 * nonzeros; its values and its parameter gradients must equal, bit for bit, a
 * plain network's on the densely transformed views, and Q_G must be exactly
 * equivariant. Both ways of building the lists are covered: rows whose walls
 * every view maps onto themselves (only the remainders are mapped), and rows
 * where some entries map below the shared prefix or are many. */
START_TEST(test_sparse_views_exact)
{
    enum { B = 6 };
    const int nn = N_ * N_, D = C_ * nn, A = 4;
    Rng r;
    rng_seed(&r, 23, 0);
    NetSpec ns = mlp_spec(C_, N_, A);
    for (int kind = 0; kind < ROWS_KINDS; kind++)
        for (int vi = 0; vi < NVARIANTS; vi++) {
            Group g = named_group("d4");
            SymSpec ss = make_sym(&variants[vi], g);
            Model m = model_new(&ns, &ss, 1300 + (uint64_t)vi);
            const char *rows = rows_kind[kind];
            float x[B * C_ * N_ * N_], views[D4_ORDER * B * C_ * N_ * N_], dout[B * 4], dy[D4_ORDER * B * 4];
            wall_inputs(x, B, kind, &r);
            for (int k = 0; k < B * A; k++)
                dout[k] = 2.0f * rng_float(&r) - 1.0f;
            const float *q = qmodel_forward(m.q, x, B);
            ck_assert_msg(q != NULL, "forward failed");
            memset(m.grads, 0, m.np * sizeof(float));
            qmodel_backward(m.q, dout, 1);
            int perm[N_ * N_];
            for (int i = 0; i < g.n; i++) {
                group_cell_perm(perm, g.elem[i], N_);
                for (int b = 0; b < B; b++)
                    for (int k = 0; k < C_; k++)
                        for (int j = 0; j < nn; j++)
                            views[((size_t)i * B + b) * D + k * nn + perm[j]] = x[(size_t)b * D + k * nn + j];
            }
            size_t nb = qmodel_base_nparams(m.q);
            float *gp = calloc(nb, sizeof(float));
            ck_assert_msg(gp != NULL, "calloc failed");
            Net *plain = net_create(&ns, m.params, gp);
            ck_assert_msg(plain != NULL, "net_create failed");
            const float *y = net_forward(plain, views, g.n * B);
            ck_assert_msg(y != NULL, "dense forward failed");
            for (int b = 0; b < B; b++) {
                const float *v = qmodel_view_q(m.q, b);
                for (int i = 0; i < g.n; i++)
                    for (int a = 0; a < A; a++) {
                        float want = y[((size_t)i * B + b) * A + d4_action(g.elem[i], a)];
                        ck_assert_msg(v[i * A + a] == want, "%s, %s: row %d view %d action %d: sparse %.9g, dense %.9g", variants[vi].label, rows, b, i, a, v[i * A + a], want);
                    }
            }
            /* the upstream gradient each view gets, as sym.h defines it */
            for (int i = 0; i < g.n; i++)
                for (int b = 0; b < B; b++) {
                    float s = qmodel_view_weight(m.q, b)[i];
                    if (variants[vi].method == SYM_EQUIZERO || variants[vi].method == SYM_CANONICAL)
                        s = variants[vi].grad == GRAD_SELECTED ? (qmodel_chosen(m.q, b) == g.elem[i] ? 1.0f : 0.0f) : 1.0f / (float)g.n;
                    for (int a = 0; a < A; a++)
                        dy[((size_t)i * B + b) * A + d4_action(g.elem[i], a)] = s * dout[b * A + a];
                }
            net_backward(plain, dy, NULL);
            for (size_t k = 0; k < nb; k++)
                ck_assert_msg(memcmp(&gp[k], &m.grads[k], sizeof(float)) == 0, "%s, %s: base gradient %zu through sparse views %.9g, dense %.9g", variants[vi].label, rows, k, m.grads[k], gp[k]);
            net_free(plain);
            free(gp);
            /* every view of g.x is, bit for bit, a view of x (mapped by rho(g)) */
            float vx[B * D4_ORDER * 4];
            for (int b = 0; b < B; b++)
                memcpy(vx + (size_t)b * g.n * A, qmodel_view_q(m.q, b), (size_t)g.n * A * sizeof(float));
            for (int gi = 0; gi < g.n; gi++) {
                int ge = g.elem[gi];
                group_cell_perm(perm, ge, N_);
                float gx[B * C_ * N_ * N_];
                for (int b = 0; b < B; b++)
                    for (int k = 0; k < C_; k++)
                        for (int j = 0; j < nn; j++)
                            gx[(size_t)b * D + k * nn + perm[j]] = x[(size_t)b * D + k * nn + j];
                ck_assert_msg(qmodel_forward(m.q, gx, B) != NULL, "forward failed");
                for (int b = 0; b < B; b++) {
                    const float *vg = qmodel_view_q(m.q, b);
                    for (int i = 0; i < g.n; i++) {
                        int found = 0;
                        for (int j = 0; j < g.n && !found; j++) {
                            int same = 1;
                            for (int a = 0; a < A; a++)
                                same &= vg[i * A + d4_action(ge, a)] == vx[((size_t)b * g.n + j) * A + a];
                            found = same;
                        }
                        ck_assert_msg(found, "%s, %s: element %d row %d: view %d of g.x is not exactly a view of x", variants[vi].label, rows, ge, b, i);
                    }
                }
            }
            model_free(&m);
        }
}
END_TEST

/* Canonical is equizero with the score as its proxy: on stacked dense views
 * through plain networks over the same parameters, the scores are those of
 * the score network bit for bit, the chosen view is their argmax (ties to
 * the lowest index) and Q_G is exactly that view's mapped-back Q-values. */
START_TEST(test_canonical_is_equizero_with_score)
{
    enum { B = 6 };
    Rng r;
    rng_seed(&r, 29, 0);
    const int D = C_ * N_ * N_, nn = N_ * N_;
    for (int kind = 0; kind < 2; kind++)
        for (int gi = 0; gi < NGROUPS; gi++) {
            int A = kind ? 5 : 4;
            NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
            Group g = named_group(group_names[gi]);
            SymSpec ss = make_sym(&variants[5], g);
            Model m = model_new(&ns, &ss, 1400 + (uint64_t)gi);
            NetSpec ls = weight_spec(ss.lambda_hidden);
            Net *base = net_create(&ns, m.params, NULL), *score = net_create(&ls, m.params + net_nparams(&ns), NULL);
            ck_assert_msg(base && score, "net_create failed");
            float x[B * C_ * N_ * N_], views[D4_ORDER * B * C_ * N_ * N_], y[D4_ORDER * B * 5], z[D4_ORDER * B], qg[B * 5];
            random_inputs(x, B, D, &r);
            memcpy(qg, qmodel_forward(m.q, x, B), sizeof(float) * B * A);
            int perm[N_ * N_];
            for (int i = 0; i < g.n; i++) {
                group_cell_perm(perm, g.elem[i], N_);
                for (int b = 0; b < B; b++)
                    for (int k = 0; k < C_; k++)
                        for (int j = 0; j < nn; j++)
                            views[((size_t)i * B + b) * D + k * nn + perm[j]] = x[(size_t)b * D + k * nn + j];
            }
            memcpy(y, net_forward(base, views, g.n * B), sizeof(float) * g.n * B * A);
            memcpy(z, net_forward(score, views, g.n * B), sizeof(float) * g.n * B);
            for (int b = 0; b < B; b++) {
                int best = 0;
                for (int i = 0; i < g.n; i++) {
                    ck_assert_msg(qmodel_view_score(m.q, b)[i] == z[i * B + b], "%s/%s row %d view %d: score %.9g, score network %.9g", kind ? "cnn" : "mlp", group_names[gi], b, i, qmodel_view_score(m.q, b)[i], z[i * B + b]);
                    if (z[i * B + b] > z[best * B + b])
                        best = i;
                }
                ck_assert_msg(qmodel_chosen(m.q, b) == g.elem[best], "%s/%s row %d: chose %d, the score's argmax is %d", kind ? "cnn" : "mlp", group_names[gi], b, qmodel_chosen(m.q, b), g.elem[best]);
                for (int a = 0; a < A; a++)
                    ck_assert_msg(qg[b * A + a] == y[((size_t)best * B + b) * A + d4_action(g.elem[best], a)], "%s/%s row %d action %d: Q_G %.9g is not the chosen view's value", kind ? "cnn" : "mlp", group_names[gi], b, a, qg[b * A + a]);
            }
            net_free(base);
            net_free(score);
            model_free(&m);
        }
}
END_TEST

/* -log p_id(x) of row b of the last forward, in double from the model's own
 * introspection: lambda's normalised weight of the identity view, or the
 * softmax of canonical's scores. */
static double neglog_pid(const QModel *q, int b)
{
    if (qmodel_sym(q)->method == SYM_LAMBDA)
        return -log((double)qmodel_view_weight(q, b)[0]);
    const float *sc = qmodel_view_score(q, b);
    double m = -INFINITY, z = 0.0;
    for (int i = 0; i < qmodel_sym(q)->group.n; i++)
        m = fmax(m, sc[i]);
    for (int i = 0; i < qmodel_sym(q)->group.n; i++)
        z += exp(sc[i] - m);
    return log(z) + m - sc[0];
}

/* The canonicalization prior: its value against the forward's weights, its
 * gradient against finite differences of that value, the base gradients
 * untouched; methods without a weight network give 0 and touch nothing. */
START_TEST(test_prior)
{
    enum { B = 5 };
    Rng r;
    rng_seed(&r, 31, 0);
    const int D = C_ * N_ * N_;
    const float W = 0.7f;
    static const int weighted[] = {3, 4, 5};
    for (int kind = 0; kind < 2; kind++)
        for (int wi = 0; wi < 3; wi++)
            for (int gi = 1; gi < NGROUPS; gi += 3) {
                int A = kind ? 5 : 4;
                NetSpec ns = kind ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
                const Variant *v = &variants[weighted[wi]];
                SymSpec ss = make_sym(v, named_group(group_names[gi]));
                Model m = model_new(&ns, &ss, 1500 + (uint64_t)wi);
                char label[96];
                snprintf(label, sizeof label, "%s/%s/%s", kind ? "cnn" : "mlp", v->label, group_names[gi]);
                float x[B * C_ * N_ * N_];
                random_inputs(x, B, D, &r);
                qmodel_forward(m.q, x, B);
                double want = 0.0;
                for (int b = 0; b < B; b++)
                    want += neglog_pid(m.q, b);
                want *= W / B;
                memset(m.grads, 0, m.np * sizeof(float));
                double got = qmodel_prior(m.q, x, B, W);
                ck_assert_msg(close_rel(got, want, 1e-5, 0.0), "%s: prior %.9g, from the forward's weights %.9g", label, got, want);
                size_t nb = qmodel_base_nparams(m.q);
                for (size_t i = 0; i < nb; i++)
                    ck_assert_msg(m.grads[i] == 0.0f, "%s: the prior touched base gradient %zu", label, i);
                int checked = 0;
                double gmax = 0.0;
                Model e = model_over(&ns, &ss, m.params, 0); /* evaluates only: no gradients accumulate */
                for (int t = 0; t < 40; t++) {
                    size_t i = nb + rng_below(&r, (uint32_t)(m.np - nb));
                    float p0 = e.params[i];
                    /* a ReLU kink inside a step spoils one of the central,
                     * forward and backward differences (two step sizes), not all */
                    const float steps[5] = {0.0f, 1e-3f, -1e-3f, 2.5e-4f, -2.5e-4f};
                    double lv[5], fd = INFINITY, an = m.grads[i];
                    for (int k = 0; k < 5; k++) {
                        e.params[i] = p0 + steps[k];
                        lv[k] = qmodel_prior(e.q, x, B, W);
                    }
                    e.params[i] = p0;
                    for (int k = 0; k < 2; k++) {
                        double hk = steps[1 + 2 * k], d[3] = {(lv[1 + 2 * k] - lv[2 + 2 * k]) / (2.0 * hk), (lv[1 + 2 * k] - lv[0]) / hk, (lv[0] - lv[2 + 2 * k]) / hk};
                        for (int j = 0; j < 3; j++)
                            if (fabs(d[j] - an) < fabs(fd - an))
                                fd = d[j];
                    }
                    ck_assert_msg(fabs(fd - an) <= 1e-2 * fmax(fabs(fd), fabs(an)) + 2e-3, "%s: param %zu: prior gradient %.6g, finite difference %.6g", label, i, an, fd);
                    gmax = fmax(gmax, fabs(an));
                    checked++;
                }
                ck_assert_msg(checked == 40 && gmax > 1e-3, "%s: the prior's gradient is zero: the comparison is empty", label);
                model_free(&e);
                model_free(&m);
            }
    /* no weight network: 0, gradients untouched */
    NetSpec ns = mlp_spec(C_, N_, 4);
    SymSpec ss = make_sym(&variants[1], named_group("d4"));
    Model m = model_new(&ns, &ss, 1599);
    float x[B * C_ * N_ * N_];
    random_inputs(x, B, D, &r);
    memset(m.grads, 0, m.np * sizeof(float));
    ck_assert_msg(qmodel_prior(m.q, x, B, W) == 0.0, "equizero has no prior");
    for (size_t i = 0; i < m.np; i++)
        ck_assert_msg(m.grads[i] == 0.0f, "the prior of equizero touched gradient %zu", i);
    model_free(&m);
}
END_TEST

/* With a team of 2 or 3 threads (run.threads), a batch large enough to be
 * split gives the one-thread values, choices and gradients: exactly where
 * the work does not go through BLAS, to rounding where the base network's
 * products do. Every method, MLP and CNN bases, d4. */
START_TEST(test_threads)
{
    enum { BT = 64 };
    const char *const kinds[] = {"mlp", "mlp/walls", "cnn"};
    Rng r;
    rng_seed(&r, 23, 0);
    const int D = C_ * N_ * N_;
    float *x = malloc((size_t)BT * D * sizeof(float)), *dout = malloc((size_t)BT * 5 * sizeof(float)), *q1 = malloc((size_t)BT * 5 * sizeof(float));
    ck_assert_msg(x && dout && q1, "out of memory");
    for (int T = 2; T <= 3; T++) {
        Pool *pool = pool_create(T);
        ck_assert_msg(pool != NULL, "pool_create(%d)", T);
        for (int kind = 0; kind < 3; kind++) { /* MLP on random rows, MLP on wall-like rows (the views' fast case), CNN */
            int A = kind == 2 ? 5 : 4;
            NetSpec ns = kind == 2 ? cnn_spec(C_, N_, A) : mlp_spec(C_, N_, A);
            if (kind == 1)
                wall_inputs(x, BT, ROWS_PLAIN, &r);
            else
                random_inputs(x, BT, D, &r);
            for (int k = 0; k < BT * A; k++)
                dout[k] = rng_normal(&r);
            for (int vi = 0; vi < NVARIANTS; vi++) {
                SymSpec ss = make_sym(&variants[vi], named_group("d4"));
                Model one = model_new(&ns, &ss, 900 + (uint64_t)vi), team = model_new(&ns, &ss, 900 + (uint64_t)vi);
                ck_assert_msg(qmodel_set_pool(team.q, pool) == 0, "qmodel_set_pool");
                memcpy(q1, qmodel_forward(one.q, x, BT), (size_t)BT * A * sizeof(float));
                const float *qt = qmodel_forward(team.q, x, BT);
                ck_assert_msg(qt != NULL, "forward with %d threads", T);
                for (int k = 0; k < BT * A; k++)
                    ck_assert_msg(close_rel(qt[k], q1[k], 1e-5, 0.0), "%s %s, %d threads: Q[%d] = %.8g, one thread %.8g", kinds[kind], variants[vi].label, T, k, qt[k], q1[k]);
                for (int b = 0; b < BT; b++) {
                    ck_assert_msg(qmodel_chosen(team.q, b) == qmodel_chosen(one.q, b), "%s %s: row %d chose view %d, one thread %d", kinds[kind], variants[vi].label, b, qmodel_chosen(team.q, b), qmodel_chosen(one.q, b));
                    for (int i = 0; i < 8; i++)
                        ck_assert_msg(close_rel(qmodel_view_weight(team.q, b)[i], qmodel_view_weight(one.q, b)[i], 1e-5, 0.0), "%s %s: row %d weight %d", kinds[kind], variants[vi].label, b, i);
                }
                qmodel_backward(one.q, dout, 1);
                qmodel_backward(team.q, dout, 1);
                double scale = 0.0;
                for (size_t k = 0; k < one.np; k++)
                    scale = fmax(scale, fabs(one.grads[k]));
                for (size_t k = 0; k < one.np; k++)
                    ck_assert_msg(close_rel(team.grads[k], one.grads[k], 1e-5, scale), "%s %s, %d threads: gradient %zu = %.8g, one thread %.8g", kinds[kind], variants[vi].label, T, k, team.grads[k], one.grads[k]);
                model_free(&one);
                model_free(&team);
            }
        }
        pool_free(pool);
    }
    free(x);
    free(dout);
    free(q1);
}
END_TEST

static Suite *sym_suite(void)
{
    Suite *s = suite_create("sym");
    struct {
        const char *name;
        const TTest *t;
    } cases[] = {
        {"names", test_names},
        {"nparams", test_nparams_and_invalid},
        {"naive_reference", test_naive_reference},
        {"equivariance", test_equivariance},
        {"not_equivariant_outside_group", test_not_equivariant_outside_group},
        {"lambda_constant_is_equitune", test_lambda_constant_is_equitune},
        {"weights_introspection", test_weights_introspection},
        {"trivial_and_none", test_trivial_and_none},
        {"gradients_fd", test_gradients_fd},
        {"equizero_ste_is_equitune_grad", test_equizero_ste_is_equitune_grad},
        {"freeze_base", test_freeze_base},
        {"greedy_actions", test_greedy_actions},
        {"batch_equals_rows", test_batch_equals_rows},
        {"sparse_views_exact", test_sparse_views_exact},
        {"canonical_is_equizero_with_score", test_canonical_is_equizero_with_score},
        {"prior", test_prior},
        {"threads", test_threads},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].t);
        suite_add_tcase(s, tc);
    }
    return s;
}

CHECK_MAIN(sym_suite)

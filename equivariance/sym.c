/* sym.c - symmetrized Q-functions: none, equitune, equizero, lambda-equitune
 * and canonical over a subgroup G of D4 (see sym.h).
 *
 * Tuned for the DQN update: every view of a batch is produced with a cell
 * permutation precomputed at create time (index tables per element over all
 * C*n*n inputs), stacked as |G|*B rows and pushed through the base network
 * (and the lambda network) in ONE forward and ONE backward. With an MLP base
 * the views are never written densely: each input row's nonzeros are listed
 * once, each view's list is that list permuted (re-sorted ascending through a
 * bitmap, so sums run in the dense path's order and results are bit-identical),
 * the prefix all of them share (the walls) listed once, and the base and
 * lambda networks both read these lists (net_forward_sparse). A CNN base
 * gets dense views: a scatter of the few nonzeros of a sparse row, a gather
 * for a dense one. The combine loops
 * work on the mapped-back values v (B, |G|, A), kept for introspection. The
 * workspace grows only when a larger batch arrives; steady-state forward and
 * backward do not allocate. */
#include "sym.h"

#include "softplus.h"
#include "../core/clock.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct QModel {
    NetSpec base_spec, lam_spec;
    SymSpec sym;
    Net *base;
    Net *lam;               /* the weight network: lambda's lam, canonical's score s */
    float *grads;           /* NULL for a model never trained */
    size_t base_n, lam_n;   /* floats of parameters */
    int G, A, D;            /* views, actions, inputs per row (C*n*n) */
    int *gather;            /* (G, D): view i row[j] = in[gather[i*D + j]] */
    int *scatter;           /* (G, D): view i row[scatter[i*D + j]] = in[j] */
    int *nz_idx;            /* (D) scratch: one input row's nonzeros (CNN views) or a view's mapped prefix */
    float *nz_val;          /* (D) their values */
    int sparse;             /* 1: MLP base, views as sparse lists (no xs) */
    uint64_t *bits;         /* ((D+63)/64) sparse: bitmap sorting one view row */
    float *bitval;          /* (D) sparse: values by position for that row */
    int *aperm;             /* (G, A): aperm[i*A + a] = rho(elem[i])(a) */
    /* workspace, sized for cap rows of input: one block (work) holding every
     * buffer below up to views, laid out by workspace_layout */
    int cap;
    unsigned char *work;
    float *xs;      /* (G*B, D) stacked views (CNN base) */
    int *bidx;      /* (B*D) sparse: nonzero indices of the input rows */
    float *bval;    /* (B*D) their values */
    int *brow;      /* (B+1) row starts */
    int *sidx;      /* (G*B*D) sparse: nonzeros of the stacked views after their shared prefix, by row */
    float *sval;    /* (G*B*D) their values */
    int *srow;      /* (G*B+1) row starts */
    int *pidx;      /* (D) sparse: the shared prefix, when not the input rows' own */
    float *pval;    /* (D) its values */
    SparseRows views; /* sparse: the stacked views of the last forward */
    float *v;       /* (B, G, A) mapped-back view values */
    float *w;       /* (B, G) normalised weights */
    float *q;       /* (B, A) Q_G */
    int *chosen;    /* (B) equizero's or canonical's view index */
    float *score;   /* (B, G) canonical: the raw scores s(h.x) */
    float *ps;      /* (B, G) canonical: their softmax, for the straight-through gradient */
    float *dy;      /* (G*B, A) gradient w.r.t. the base outputs */
    float *dz;      /* (G*B) gradient w.r.t. the lambda outputs */
    float *sp;      /* (G*B) softplus: the unnormalised weights softplus(z) */
    float *dw;      /* (G*B) softplus: d(weight)/dz = sigmoid(z), kept from forward */
    float *wsum;    /* (B) softplus: sum of the unnormalised weights */
    const float *none_out; /* method none: the base output of the last forward */
    Pool *pool;             /* run.threads: the row loops below split over it (NULL: one thread) */
    int *row_idx;           /* (T*D) stack_views: each thread's scratch for one row's nonzeros */
    float *row_val;         /* (T*D) their values */
    unsigned char row_fail[POOL_MAX]; /* stack_remainders: thread t met a row outside its fast case */
    int last_B;
    double t_base, t_sym; /* seconds */
};

static const float one_weight = 1.0f;

const char *sym_method_name(SymMethod m)
{
    switch (m) {
    case SYM_NONE: return "none";
    case SYM_EQUITUNE: return "equitune";
    case SYM_EQUIZERO: return "equizero";
    case SYM_LAMBDA: return "lambda";
    case SYM_CANONICAL: return "canonical";
    }
    return "?";
}

/* Index of s in names[0..n), or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int sym_method_parse(const char *s)
{
    static const char *const n[] = {"none", "equitune", "equizero", "lambda", "canonical"}; /* SymMethod order */
    return name_index(s, n, 5);
}

int sym_proxy_parse(const char *s)
{
    static const char *const n[] = {"maxq", "entropy"}; /* SymProxy order */
    return name_index(s, n, 2);
}

int sym_grad_parse(const char *s)
{
    static const char *const n[] = {"ste", "selected"}; /* SymGrad order */
    return name_index(s, n, 2);
}

int sym_lnorm_parse(const char *s)
{
    static const char *const n[] = {"softplus", "softmax"}; /* LambdaNorm order */
    return name_index(s, n, 2);
}

/* 1 if g is a subgroup of D4 in the form group.h promises. */
static int group_valid(const Group *g)
{
    if (g->n < 1 || g->n > D4_ORDER || g->elem[0] != 0)
        return 0;
    int present[D4_ORDER] = {0};
    for (int i = 0; i < g->n; i++) {
        if (g->elem[i] < 0 || g->elem[i] >= D4_ORDER || (i > 0 && g->elem[i] <= g->elem[i - 1]))
            return 0;
        present[g->elem[i]] = 1;
    }
    for (int i = 0; i < g->n; i++)
        for (int j = 0; j < g->n; j++)
            if (!present[d4_compose(g->elem[i], g->elem[j])])
                return 0;
    return 1;
}

/* 1 if the method has a weight network (lambda's lam, canonical's s). */
static int has_weight_net(SymMethod m) { return m == SYM_LAMBDA || m == SYM_CANONICAL; }

/* 1 if the method picks one view (equizero, canonical). */
static int picks_view(SymMethod m) { return m == SYM_EQUIZERO || m == SYM_CANONICAL; }

static NetSpec lambda_spec(const NetSpec *base, int hidden)
{
    NetSpec l;
    memset(&l, 0, sizeof l);
    l.kind = NET_MLP;
    l.in_c = base->in_c;
    l.n = base->n;
    l.nhidden = 1;
    l.hidden[0] = hidden;
    l.out = 1;
    return l;
}

/* Checks the symmetrizer spec against the base spec; 1 if usable. */
static int spec_valid(const NetSpec *base, const SymSpec *s)
{
    if (net_nparams(base) == 0)
        return 0;
    switch (s->method) {
    case SYM_NONE: return 1;
    case SYM_EQUITUNE: break;
    case SYM_EQUIZERO:
        if ((s->proxy != PROXY_MAXQ && s->proxy != PROXY_ENTROPY) || (s->grad != GRAD_STE && s->grad != GRAD_SELECTED))
            return 0;
        break;
    case SYM_LAMBDA:
        if (s->lambda_hidden <= 0 || (s->lambda_norm != LNORM_SOFTPLUS && s->lambda_norm != LNORM_SOFTMAX))
            return 0;
        break;
    case SYM_CANONICAL:
        if (s->lambda_hidden <= 0 || (s->grad != GRAD_STE && s->grad != GRAD_SELECTED))
            return 0;
        break;
    default: return 0;
    }
    if (!group_valid(&s->group))
        return 0;
    /* a non-trivial group permutes the four moves: the actions must be the
     * four moves, optionally plus STAY */
    if (s->group.n > 1 && base->out != 4 && base->out != 5)
        return 0;
    return 1;
}

size_t qmodel_nparams(const NetSpec *base, const SymSpec *s)
{
    if (!spec_valid(base, s))
        return 0;
    size_t n = net_nparams(base);
    if (has_weight_net(s->method)) {
        NetSpec l = lambda_spec(base, s->lambda_hidden);
        size_t ln = net_nparams(&l);
        if (ln == 0)
            return 0;
        n += ln;
    }
    return n;
}

size_t qmodel_base_nparams(const QModel *q) { return q->base_n; }

QModel *qmodel_create(const NetSpec *base, const SymSpec *s, float *params, float *grads)
{
    if (qmodel_nparams(base, s) == 0)
        return NULL;
    QModel *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->base_spec = *base;
    q->sym = *s;
    if (s->method == SYM_NONE) {
        q->sym.group.n = 1; /* none acts as the trivial group */
        memset(q->sym.group.elem, 0, sizeof q->sym.group.elem);
    }
    q->grads = grads;
    q->base_n = net_nparams(base);
    q->G = q->sym.group.n;
    q->A = base->out;
    q->D = base->in_c * base->n * base->n;
    q->base = net_create(base, params, grads);
    if (!q->base)
        goto fail;
    if (has_weight_net(s->method)) {
        q->lam_spec = lambda_spec(base, s->lambda_hidden);
        q->lam_n = net_nparams(&q->lam_spec);
        q->lam = net_create(&q->lam_spec, params + q->base_n, grads ? grads + q->base_n : NULL);
        if (!q->lam)
            goto fail;
    }
    if (s->method != SYM_NONE) {
        int nn = base->n * base->n;
        q->gather = malloc((size_t)q->G * (size_t)q->D * sizeof *q->gather);
        q->scatter = malloc((size_t)q->G * (size_t)q->D * sizeof *q->scatter);
        q->nz_idx = malloc((size_t)q->D * sizeof *q->nz_idx);
        q->nz_val = malloc((size_t)q->D * sizeof *q->nz_val);
        q->aperm = malloc((size_t)q->G * (size_t)q->A * sizeof *q->aperm);
        q->sparse = base->kind == NET_MLP;
        q->bits = calloc(((size_t)q->D + 63) / 64, sizeof *q->bits);
        q->bitval = malloc((size_t)q->D * sizeof *q->bitval);
        q->pidx = malloc((size_t)q->D * sizeof *q->pidx);
        q->pval = malloc((size_t)q->D * sizeof *q->pval);
        int *perm = malloc((size_t)nn * sizeof *perm);
        int *inv = malloc((size_t)nn * sizeof *inv);
        if (!q->aperm || !q->gather || !q->scatter || !q->nz_idx || !q->nz_val || !q->bits || !q->bitval || !q->pidx || !q->pval || !perm || !inv) {
            free(perm);
            free(inv);
            goto fail;
        }
        for (int i = 0; i < q->G; i++) {
            int h = q->sym.group.elem[i];
            group_cell_perm(perm, h, base->n);
            for (int j = 0; j < nn; j++)
                inv[perm[j]] = j; /* (h.x)[perm[j]] = x[j] */
            int *gi = q->gather + (size_t)i * (size_t)q->D;
            int *sc = q->scatter + (size_t)i * (size_t)q->D;
            for (int k = 0; k < base->in_c; k++)
                for (int j = 0; j < nn; j++) {
                    gi[k * nn + j] = k * nn + inv[j];
                    sc[k * nn + j] = k * nn + perm[j];
                }
            for (int a = 0; a < q->A; a++)
                q->aperm[i * q->A + a] = d4_action(h, a);
        }
        free(perm);
        free(inv);
    }
    return q;
fail:
    qmodel_free(q);
    return NULL;
}

void qmodel_free(QModel *q)
{
    if (!q)
        return;
    net_free(q->base);
    net_free(q->lam);
    free(q->aperm);
    free(q->gather);
    free(q->scatter);
    free(q->nz_idx);
    free(q->nz_val);
    free(q->bits);
    free(q->bitval);
    free(q->pidx);
    free(q->pval);
    free(q->work);
    free(q->row_idx);
    free(q->row_val);
    free(q);
}

void qmodel_init(QModel *q, Rng *rng)
{
    net_init(q->base, rng);
    if (q->lam)
        net_init(q->lam, rng);
}

int qmodel_set_pool(QModel *q, Pool *pool)
{
    size_t T = (size_t)pool_threads(pool), D = (size_t)q->D;
    int *ri = malloc(T * D * sizeof *ri);
    float *rv = malloc(T * D * sizeof *rv);
    if (!ri || !rv) {
        free(ri);
        free(rv);
        return -1;
    }
    free(q->row_idx);
    free(q->row_val);
    q->row_idx = ri;
    q->row_val = rv;
    q->pool = pool;
    net_set_pool(q->base, pool);
    if (q->lam)
        net_set_pool(q->lam, pool);
    return 0;
}

/* Rows [lo, hi) of a batch of B; thread t's share of a row loop. */
typedef void (*RowFn)(QModel *q, const void *arg, int B, int t, int lo, int hi);

typedef struct {
    QModel *q;
    const void *arg;
    int B;
    RowFn fn;
} RowTask;

static void row_task(void *ctx, int t)
{
    const RowTask *rt = ctx;
    int lo, hi;
    pool_split(rt->B, 1, t, pool_threads(rt->q->pool), &lo, &hi);
    if (lo < hi)
        rt->fn(rt->q, rt->arg, rt->B, t, lo, hi);
}

/* fn over the rows [0, B), split by contiguous ranges over q's pool; a
 * batch under SYM_SPLIT_ROWS rows (acting) stays on the calling thread.
 * Every row is computed by one thread as one thread would, so the result
 * does not depend on the thread count. */
enum { SYM_SPLIT_ROWS = 32 };
static void for_rows(QModel *q, RowFn fn, const void *arg, int B)
{
    if (pool_threads(q->pool) < 2 || B < SYM_SPLIT_ROWS) {
        fn(q, arg, B, 0, 0, B);
        return;
    }
    RowTask rt = {q, arg, B, fn};
    pool_run(q->pool, row_task, &rt);
}

Net *qmodel_base(QModel *q) { return q->base; }
Net *qmodel_lambda(QModel *q) { return q->lam; }
const SymSpec *qmodel_sym(const QModel *q) { return &q->sym; }

/* The next 64-byte-aligned piece of bytes at *off in base (NULL while only
 * sizing, base NULL). */
static void *carve(unsigned char *base, size_t *off, size_t bytes)
{
    size_t at = (*off + 63) & ~(size_t)63;
    *off = at + bytes;
    return base ? base + at : NULL;
}

/* Points q's workspace buffers into base (NULL: only sizing) for rows input
 * rows; returns the bytes they take. */
static size_t workspace_layout(QModel *q, unsigned char *base, size_t rows)
{
    const size_t G = (size_t)q->G, A = (size_t)q->A, D = (size_t)q->D;
    const size_t nx = q->sparse ? 0 : G * rows * D, nl = q->sparse ? G * rows * D : 0, nb = q->sparse ? rows * D : 0;
    size_t off = 0;
    q->xs = carve(base, &off, nx * sizeof(float));
    q->bidx = carve(base, &off, nb * sizeof(int));
    q->bval = carve(base, &off, nb * sizeof(float));
    q->brow = carve(base, &off, (rows + 1) * sizeof(int));
    q->sidx = carve(base, &off, nl * sizeof(int));
    q->sval = carve(base, &off, nl * sizeof(float));
    q->srow = carve(base, &off, (G * rows + 1) * sizeof(int));
    q->v = carve(base, &off, rows * G * A * sizeof(float));
    q->w = carve(base, &off, rows * G * sizeof(float));
    q->q = carve(base, &off, rows * A * sizeof(float));
    q->chosen = carve(base, &off, rows * sizeof(int));
    q->score = carve(base, &off, rows * G * sizeof(float));
    q->ps = carve(base, &off, rows * G * sizeof(float));
    q->dy = carve(base, &off, G * rows * A * sizeof(float));
    q->dz = carve(base, &off, G * rows * sizeof(float));
    q->sp = carve(base, &off, G * rows * sizeof(float));
    q->dw = carve(base, &off, G * rows * sizeof(float));
    q->wsum = carve(base, &off, rows * sizeof(float));
    return off;
}

/* Grows the workspace to B rows; 0 on success, -1 out of memory or overflow. */
static int reserve(QModel *q, int B)
{
    if (B <= q->cap)
        return 0;
    size_t rows = (size_t)B, G = (size_t)q->G, D = (size_t)q->D;
    if (rows > SIZE_MAX / G / D / sizeof(float) / 4 || rows * G * D > (size_t)INT32_MAX)
        return -1;
    QModel sizing = *q; /* sized on a copy: q keeps its buffers if malloc fails */
    unsigned char *work = malloc(workspace_layout(&sizing, NULL, rows));
    if (!work)
        return -1;
    free(q->work);
    q->work = work;
    workspace_layout(q, work, rows);
    q->cap = B;
    return 0;
}

/* Proxy loss of one mapped-back view (A values): lower is better. */
static float proxy_loss(SymProxy p, const float *v, int A)
{
    float m = v[0];
    for (int a = 1; a < A; a++)
        m = fmaxf(m, v[a]);
    if (p == PROXY_MAXQ)
        return -m;
    /* entropy of softmax(v) = logsumexp(v) - sum_a p_a v_a */
    double s = 0.0, sv = 0.0;
    for (int a = 0; a < A; a++) {
        double e = exp((double)(v[a] - m));
        s += e;
        sv += e * (double)(v[a] - m);
    }
    return (float)(log(s) - sv / s);
}

/* Rows [lo, hi) of stack_views (arg: the input), with thread t's scratch. */
static void stack_view_rows(QModel *q, const void *arg, int B, int t, int lo, int hi)
{
    const size_t D = (size_t)q->D, rows = (size_t)B;
    const float *in = arg;
    const int G = q->G;
    int *idx = q->row_idx ? q->row_idx + (size_t)t * D : q->nz_idx;
    float *val = q->row_val ? q->row_val + (size_t)t * D : q->nz_val;
    for (size_t b = (size_t)lo; b < (size_t)hi; b++) {
        const float *src = in + b * D;
        size_t nz = 0;
        for (size_t j = 0; j < D; j++)
            if (src[j] != 0.0f) {
                idx[nz] = (int)j;
                val[nz++] = src[j];
            }
        for (int i = 0; i < G; i++) {
            float *o = q->xs + ((size_t)i * rows + b) * D;
            if (q->sym.group.elem[i] == 0) {
                memcpy(o, src, D * sizeof *o);
            } else if (4 * nz <= D) {
                const int *sc = q->scatter + (size_t)i * D;
                memset(o, 0, D * sizeof *o);
                for (size_t k = 0; k < nz; k++)
                    o[sc[idx[k]]] = val[k];
            } else {
                const int *gi = q->gather + (size_t)i * D;
                for (size_t j = 0; j < D; j++)
                    o[j] = src[gi[j]];
            }
        }
    }
}

/* Fills xs with the G stacked views of in (B rows). Observation planes are
 * mostly zero, so a sparse row is written as zeros plus a scatter of its
 * nonzeros (listed once, reused by every view); a dense row is gathered. */
static void stack_views(QModel *q, const float *in, int B)
{
    for_rows(q, stack_view_rows, in, B);
}

/* Index of the lowest set bit of m != 0. */
static int lowest_set(uint64_t m)
{
#if defined(__GNUC__)
    return __builtin_ctzll(m);
#else
    int i = 0;
    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

/* Sorts the n entries (idx, val) mapped by sc into out (ascending index)
 * through the bitmap (left all zero); returns n. */
static int permute_sorted_bitmap(QModel *q, const int *restrict idx, const float *restrict val, int n, const int *restrict sc, int *restrict oi, float *restrict ov)
{
    const int W = (q->D + 63) / 64;
    uint64_t *restrict bits = q->bits;
    float *restrict bv = q->bitval;
    for (int k = 0; k < n; k++) {
        int p = sc[idx[k]];
        bits[p >> 6] |= (uint64_t)1 << (p & 63);
        bv[p] = val[k];
    }
    int o = 0;
    for (int w = 0; w < W; w++) {
        uint64_t m = bits[w];
        bits[w] = 0;
        for (; m; m &= m - 1) {
            int p = w * 64 + lowest_set(m);
            oi[o] = p;
            ov[o] = bv[p];
            o++;
        }
    }
    return o;
}

enum { SMALL_REST = 16 }; /* row remainders sorted by insertion */

/* Writes the r entries (idx, val) with every index mapped by sc to (oi, ov),
 * sorted ascending by insertion (r is small). Returns 0 as soon as an index
 * maps to top or below (it would fall inside a prefix ending at top), else 1. */
static int map_sorted_above(const int *restrict idx, const float *restrict val, int r, const int *restrict sc, int top, int *restrict oi, float *restrict ov)
{
    for (int k = 0; k < r; k++) {
        int p = sc[idx[k]];
        if (p <= top)
            return 0;
        int j = k;
        for (; j > 0 && oi[j - 1] > p; j--) {
            oi[j] = oi[j - 1];
            ov[j] = ov[j - 1];
        }
        oi[j] = p;
        ov[j] = val[k];
    }
    return 1;
}

/* Writes row (idx, val, n entries) with every index mapped by sc, sorted
 * ascending, to (oi, ov): the first L entries come from the mapped, sorted
 * prefix (pi, pv, top = its last index, -1 if empty) when the remainder is
 * short and maps above it (the common case), else the whole row goes through
 * the bitmap. */
static void permute_row(QModel *q, const int *restrict idx, const float *restrict val, int n, int L, const int *restrict pi, const float *restrict pv, int top, const int *restrict sc,
                        int *restrict oi, float *restrict ov)
{
    if (n - L <= SMALL_REST && map_sorted_above(idx + L, val + L, n - L, sc, top, oi + L, ov + L)) {
        memcpy(oi, pi, (size_t)L * sizeof *oi);
        memcpy(ov, pv, (size_t)L * sizeof *ov);
        return;
    }
    permute_sorted_bitmap(q, idx, val, n, sc, oi, ov);
}

/* Rows [lo, hi) of stack_remainders for every view (arg: L, the prefix's
 * last index and R, the remainders' total): row b of view i starts at
 * i*R + its offset among the remainders; a remainder that does not map
 * above the prefix sets q->row_fail[t]. */
static void remainder_rows(QModel *q, const void *arg, int B, int t, int lo, int hi)
{
    const int *lr = arg;
    const int L = lr[0], top = lr[1], R = lr[2], G = q->G, D = q->D;
    const int *restrict bidx = q->bidx, *restrict brow = q->brow;
    const float *restrict bval = q->bval;
    for (int i = 0; i < G; i++) {
        const int *restrict sc = q->scatter + (size_t)i * (size_t)D;
        for (int b = lo; b < hi; b++) {
            int k0 = brow[b] + L, r = brow[b + 1] - k0, o = i * R + brow[b] - brow[0] - b * L;
            q->srow[i * B + b] = o;
            if (q->sym.group.elem[i] == 0) { /* the input row's remainder, already sorted */
                memcpy(q->sidx + o, bidx + k0, (size_t)r * sizeof *bidx);
                memcpy(q->sval + o, bval + k0, (size_t)r * sizeof *bval);
            } else if (r > SMALL_REST || !map_sorted_above(bidx + k0, bval + k0, r, sc, top, q->sidx + o, q->sval + o)) {
                q->row_fail[t] = 1;
                return;
            }
        }
    }
}

/* The fast case of stack_sparse_views: every view maps the input rows'
 * shared prefix (bidx/bval[0, L)) onto itself, as a D4-symmetric wall
 * border does, and every row's remainder maps above it. Then each stacked
 * row is that prefix followed by its mapped remainder, and only the
 * remainders are written. Returns 0 if the case does not hold (the caller
 * then builds full rows). The rows split over the threads. */
static int stack_remainders(QModel *q, int B, int L)
{
    const int G = q->G, D = q->D;
    const int *restrict bidx = q->bidx, *restrict brow = q->brow;
    const float *restrict bval = q->bval;
    for (int i = 0; i < G; i++) {
        if (q->sym.group.elem[i] == 0)
            continue;
        permute_sorted_bitmap(q, bidx, bval, L, q->scatter + (size_t)i * (size_t)D, q->nz_idx, q->nz_val);
        if (memcmp(q->nz_idx, bidx, (size_t)L * sizeof *bidx) != 0 || memcmp(q->nz_val, bval, (size_t)L * sizeof *bval) != 0)
            return 0;
    }
    const int R = brow[B] - brow[0] - B * L;
    const int lr[3] = {L, L > 0 ? bidx[L - 1] : -1, R};
    memset(q->row_fail, 0, sizeof q->row_fail);
    for_rows(q, remainder_rows, lr, B);
    for (size_t t = 0; t < sizeof q->row_fail; t++)
        if (q->row_fail[t])
            return 0;
    q->srow[G * B] = G * R;
    /* The stacked rows share no more than the prefix: the identity view's rows
     * are the input rows, which share no more than L entries. */
    SparseRows v = {bidx, bval, L, q->sidx, q->sval, q->srow};
    q->views = v;
    return 1;
}

/* The G stacked views of in (B rows) as SparseRows for net_forward_sparse,
 * shared by the base and lambda networks: view i of row b (stacked row
 * i*B + b) is the row's nonzero list with every index mapped by the element's
 * scatter table and sorted ascending; the longest prefix all stacked rows
 * share is listed once (as net_forward finds it, so results are bit-identical
 * to net_forward on the dense views). Usually (stack_remainders) that prefix
 * is the walls every input row starts with, and only the few remaining
 * entries of each row are mapped and written; otherwise the full rows are
 * built, their shared prefix is found and moved out. */
static void stack_sparse_views(QModel *q, const float *in, int B)
{
    const int G = q->G, D = q->D;
    net_sparse_rows(in, B, D, q->bidx, q->bval, q->brow);
    const int *restrict bidx = q->bidx, *restrict brow = q->brow;
    const float *restrict bval = q->bval;
    const int L = net_common_prefix(bidx, bval, brow, B);
    if (stack_remainders(q, B, L))
        return;
    int o = 0;
    for (int i = 0; i < G; i++) {
        const int *restrict sc = q->scatter + (size_t)i * (size_t)D;
        int *restrict pi = q->nz_idx; /* the mapped, sorted prefix */
        float *restrict pv = q->nz_val;
        permute_sorted_bitmap(q, bidx, bval, L, sc, pi, pv);
        const int top = L > 0 ? pi[L - 1] : -1;
        for (int b = 0; b < B; b++) {
            int n = brow[b + 1] - brow[b];
            q->srow[i * B + b] = o;
            permute_row(q, bidx + brow[b], bval + brow[b], n, L, pi, pv, top, sc, q->sidx + o, q->sval + o);
            o += n;
        }
    }
    q->srow[G * B] = o;
    /* list the shared prefix once, then close the rows up over it */
    const int P = net_common_prefix(q->sidx, q->sval, q->srow, G * B);
    memcpy(q->pidx, q->sidx, (size_t)P * sizeof *q->pidx);
    memcpy(q->pval, q->sval, (size_t)P * sizeof *q->pval);
    int w = 0;
    for (int s = 0; s < G * B; s++) {
        int k0 = q->srow[s] + P, k1 = q->srow[s + 1];
        q->srow[s] = w;
        memmove(q->sidx + w, q->sidx + k0, (size_t)(k1 - k0) * sizeof *q->sidx);
        memmove(q->sval + w, q->sval + k0, (size_t)(k1 - k0) * sizeof *q->sval);
        w += k1 - k0;
    }
    q->srow[G * B] = w;
    SparseRows v = {q->pidx, q->pval, P, q->sidx, q->sval, q->srow};
    q->views = v;
}

/* Equizero, rows [lo, hi): the view of least proxy loss (ties to the
 * lowest index) and one-hot weights on it. */
static void equizero_weights(QModel *q, int lo, int hi)
{
    const int G = q->G, A = q->A;
    for (int b = lo; b < hi; b++) {
        const float *vb = q->v + (size_t)b * (size_t)G * (size_t)A;
        int best = 0;
        float bl = proxy_loss(q->sym.proxy, vb, A);
        for (int i = 1; i < G; i++) {
            float l = proxy_loss(q->sym.proxy, vb + (size_t)i * (size_t)A, A);
            if (l < bl) {
                bl = l;
                best = i;
            }
        }
        q->chosen[b] = best;
        for (int i = 0; i < G; i++)
            q->w[b * G + i] = i == best ? 1.0f : 0.0f;
    }
}

/* The weight network's outputs z on the stacked views: (G*B), row i*B + b. */
static const float *weight_net_forward(QModel *q, const SparseRows *views, const float *xs, int B)
{
    return q->sparse ? net_forward_sparse(q->lam, views, q->G * B) : net_forward(q->lam, xs, q->G * B);
}

/* Lambda, rows [lo, hi): normalised weights w (B, G) from z (softplus +
 * 1e-6, whose softplus q->sp the caller computed, or softmax). */
static void lambda_weights(QModel *q, const float *z, int B, int lo, int hi)
{
    const int G = q->G;
    for (int b = lo; b < hi; b++) {
        float *wb = q->w + (size_t)b * (size_t)G;
        float s = 0.0f;
        if (q->sym.lambda_norm == LNORM_SOFTPLUS) {
            for (int i = 0; i < G; i++) {
                wb[i] = q->sp[i * B + b] + 1e-6f;
                s += wb[i];
            }
            q->wsum[b] = s;
        } else {
            float m = z[b];
            for (int i = 1; i < G; i++)
                m = fmaxf(m, z[i * B + b]);
            for (int i = 0; i < G; i++) {
                wb[i] = expf(z[i * B + b] - m);
                s += wb[i];
            }
        }
        for (int i = 0; i < G; i++)
            wb[i] /= s;
    }
}

/* Canonical, rows [lo, hi): the scores z as (B, G), their softmax ps, the
 * view of highest score (ties to the lowest index) and one-hot weights on it. */
static void canonical_weights(QModel *q, const float *z, int B, int lo, int hi)
{
    const int G = q->G;
    for (int b = lo; b < hi; b++) {
        float *sb = q->score + (size_t)b * (size_t)G, *pb = q->ps + (size_t)b * (size_t)G, *wb = q->w + (size_t)b * (size_t)G;
        int best = 0;
        for (int i = 0; i < G; i++) {
            sb[i] = z[i * B + b];
            if (sb[i] > sb[best])
                best = i;
        }
        float s = 0.0f;
        for (int i = 0; i < G; i++) {
            pb[i] = expf(sb[i] - sb[best]);
            s += pb[i];
        }
        for (int i = 0; i < G; i++) {
            pb[i] /= s;
            wb[i] = i == best ? 1.0f : 0.0f;
        }
        q->chosen[b] = best;
    }
}

/* Rows [lo, hi) of a forward after the networks (arg: the base outputs y
 * and the weight network's z): each row's views mapped back, v[b][i][a] =
 * y[i*B + b][rho(h_i)(a)], its weights, and Q_G[b][a] = sum_i w[b][i]
 * v[b][i][a] (the chosen view's values for equizero and canonical). */
static void combine_rows(QModel *q, const void *arg, int B, int t, int lo, int hi)
{
    (void)t;
    const float *const *yz = arg;
    const float *y = yz[0], *z = yz[1];
    const int G = q->G, A = q->A;
    for (int b = lo; b < hi; b++)
        for (int i = 0; i < G; i++) {
            const int *ap = q->aperm + i * A;
            const float *yr = y + ((size_t)i * (size_t)B + (size_t)b) * (size_t)A;
            float *vr = q->v + ((size_t)b * (size_t)G + (size_t)i) * (size_t)A;
            for (int a = 0; a < A; a++)
                vr[a] = yr[ap[a]];
        }
    switch (q->sym.method) {
    case SYM_EQUITUNE:
        for (int k = lo * G; k < hi * G; k++)
            q->w[k] = 1.0f / (float)G;
        break;
    case SYM_EQUIZERO: equizero_weights(q, lo, hi); break;
    case SYM_LAMBDA: lambda_weights(q, z, B, lo, hi); break;
    case SYM_CANONICAL: canonical_weights(q, z, B, lo, hi); break;
    case SYM_NONE: break;
    }
    for (int b = lo; b < hi; b++) {
        float *qb = q->q + (size_t)b * (size_t)A;
        const float *vb = q->v + (size_t)b * (size_t)G * (size_t)A;
        if (picks_view(q->sym.method)) {
            memcpy(qb, vb + (size_t)q->chosen[b] * (size_t)A, (size_t)A * sizeof(float));
            continue;
        }
        const float *wb = q->w + (size_t)b * (size_t)G;
        for (int a = 0; a < A; a++)
            qb[a] = wb[0] * vb[a];
        for (int i = 1; i < G; i++)
            for (int a = 0; a < A; a++)
                qb[a] += wb[i] * vb[i * A + a];
    }
}

/* The forward pass from stacked views (sparse rows, or dense rows xs for a
 * CNN base), which may belong to another model over the same input. */
static const float *forward_views(QModel *q, const SparseRows *views, const float *xs, int B)
{
    const int G = q->G;
    double t1 = clock_seconds();
    const float *y = q->sparse ? net_forward_sparse(q->base, views, G * B) : net_forward(q->base, xs, G * B);
    double t2 = clock_seconds();
    q->t_base += t2 - t1;
    if (!y)
        return NULL;
    const float *z = NULL;
    if (has_weight_net(q->sym.method)) {
        if (!(z = weight_net_forward(q, views, xs, B)))
            return NULL;
        if (q->sym.method == SYM_LAMBDA && q->sym.lambda_norm == LNORM_SOFTPLUS)
            softplus_sigmoid(z, q->sp, q->dw, G * B);
    }
    const float *yz[2] = {y, z};
    for_rows(q, combine_rows, yz, B);
    q->last_B = B;
    q->t_sym += clock_seconds() - t2;
    return q->q;
}

const float *qmodel_forward(QModel *q, const float *in, int B)
{
    if (q->sym.method == SYM_NONE) {
        double t0 = clock_seconds();
        const float *y = net_forward(q->base, in, B);
        q->t_base += clock_seconds() - t0;
        q->none_out = y;
        q->last_B = B;
        return y;
    }
    double t0 = clock_seconds();
    if (reserve(q, B < 1 ? 1 : B) != 0)
        return NULL;
    if (B < 1) {
        q->last_B = 0;
        return q->q;
    }
    if (q->sparse)
        stack_sparse_views(q, in, B);
    else
        stack_views(q, in, B);
    double t1 = clock_seconds();
    q->t_sym += t1 - t0;
    return forward_views(q, &q->views, q->xs, B);
}

const float *qmodel_forward_views(QModel *q, const QModel *from, const float *in, int B)
{
    int same = q->sym.method != SYM_NONE && from->sym.method != SYM_NONE && from->last_B == B && B >= 1 && from->G == q->G && from->D == q->D &&
               from->sparse == q->sparse && memcmp(from->sym.group.elem, q->sym.group.elem, (size_t)q->G * sizeof(int)) == 0;
    if (!same)
        return qmodel_forward(q, in, B);
    if (reserve(q, B) != 0)
        return NULL;
    return forward_views(q, &from->views, from->xs, B);
}

/* Rows [lo, hi) of weight_net_backward: dz from dout (arg). */
static void weight_grad_rows(QModel *q, const void *arg, int B, int t, int lo, int hi)
{
    (void)t;
    const float *dout = arg;
    const int G = q->G, A = q->A;
    const int softplus = q->sym.method == SYM_LAMBDA && q->sym.lambda_norm == LNORM_SOFTPLUS;
    for (int b = lo; b < hi; b++) {
        const float *db = dout + (size_t)b * (size_t)A;
        const float *vb = q->v + (size_t)b * (size_t)G * (size_t)A;
        const float *pb = (q->sym.method == SYM_CANONICAL ? q->ps : q->w) + (size_t)b * (size_t)G;
        float dp[D4_ORDER];
        float pdp = 0.0f;
        for (int i = 0; i < G; i++) {
            float s = 0.0f;
            for (int a = 0; a < A; a++)
                s += db[a] * vb[i * A + a];
            dp[i] = s;
            pdp += pb[i] * s;
        }
        if (softplus) {
            /* p_i = w_i / S: dL/dw_i = (dp_i - sum_j p_j dp_j) / S,
             * dw_i/dz_i = sigmoid(z_i) */
            float inv_s = 1.0f / q->wsum[b];
            for (int i = 0; i < G; i++)
                q->dz[i * B + b] = (dp[i] - pdp) * inv_s * q->dw[i * B + b];
        } else {
            for (int i = 0; i < G; i++)
                q->dz[i * B + b] = pb[i] * (dp[i] - pdp);
        }
    }
}

/* Backward into the weight network from dout (B, A): the gradient of
 * sum_h p_h v_h with p lambda's normalised weights, or canonical's softmax of
 * the scores (its straight-through gradient). */
static void weight_net_backward(QModel *q, const float *dout, int B)
{
    for_rows(q, weight_grad_rows, dout, B);
    net_backward(q->lam, q->dz, NULL);
}

/* Rows [lo, hi) of the base network's output gradient from dout (arg):
 * dy[i*B + b][rho(h_i)(a)] = s * dout[b][a], s the weight of view i (the
 * selected view's 1, or 1/G straight through, for equizero and canonical). */
static void base_grad_rows(QModel *q, const void *arg, int B, int t, int lo, int hi)
{
    (void)t;
    const float *dout = arg;
    const int G = q->G, A = q->A;
    for (int b = lo; b < hi; b++) {
        const float *db = dout + (size_t)b * (size_t)A;
        for (int i = 0; i < G; i++) {
            const int *ap = q->aperm + i * A;
            float *dyr = q->dy + ((size_t)i * (size_t)B + (size_t)b) * (size_t)A;
            float s;
            if (picks_view(q->sym.method) && q->sym.grad == GRAD_SELECTED)
                s = q->chosen[b] == i ? 1.0f : 0.0f;
            else if (picks_view(q->sym.method))
                s = 1.0f / (float)G; /* straight-through: equitune's gradient */
            else
                s = q->w[(size_t)b * (size_t)G + (size_t)i];
            for (int a = 0; a < A; a++)
                dyr[ap[a]] = s * db[a];
        }
    }
}

void qmodel_backward(QModel *q, const float *dout, int train_base)
{
    if (!q->grads)
        return; /* a model without gradients (a target) is never trained */
    if (q->sym.method == SYM_NONE) {
        if (train_base) {
            double t0 = clock_seconds();
            net_backward(q->base, dout, NULL);
            q->t_base += clock_seconds() - t0;
        }
        return;
    }
    double t0 = clock_seconds();
    const int B = q->last_B;
    if (B < 1)
        return;
    double t_base = 0.0;
    if (train_base) {
        for_rows(q, base_grad_rows, dout, B);
        double t1 = clock_seconds();
        net_backward(q->base, q->dy, NULL);
        t_base = clock_seconds() - t1;
    }
    if (has_weight_net(q->sym.method))
        weight_net_backward(q, dout, B);
    q->t_base += t_base;
    q->t_sym += clock_seconds() - t0 - t_base;
}

/* -log p_id of row b of the weight network's outputs z ((G*B), row
 * i*B + b; the identity is view 0), and its gradient times scale into dz. */
static double prior_row(QModel *q, const float *z, int B, int b, float scale)
{
    const int G = q->G;
    if (q->sym.method == SYM_LAMBDA && q->sym.lambda_norm == LNORM_SOFTPLUS) {
        /* -log p_0 = log S - log w_0, w_i = softplus(z_i) + 1e-6, S = sum_i w_i */
        float S = 0.0f, w0 = q->sp[b] + 1e-6f;
        for (int i = 0; i < G; i++)
            S += q->sp[i * B + b] + 1e-6f;
        for (int i = 0; i < G; i++)
            q->dz[i * B + b] = scale * (1.0f / S - (i == 0 ? 1.0f / w0 : 0.0f)) * q->dw[i * B + b];
        return log((double)S) - log((double)w0);
    }
    /* softmax: -log p_0 = logsumexp(z) - z_0, gradient p_i - [i = 0] */
    float m = z[b];
    for (int i = 1; i < G; i++)
        m = fmaxf(m, z[i * B + b]);
    float s = 0.0f;
    for (int i = 0; i < G; i++)
        s += expf(z[i * B + b] - m);
    for (int i = 0; i < G; i++)
        q->dz[i * B + b] = scale * (expf(z[i * B + b] - m) / s - (i == 0 ? 1.0f : 0.0f));
    return log((double)s) + (double)m - (double)z[b];
}

double qmodel_prior(QModel *q, const float *in, int B, float weight)
{
    if (!has_weight_net(q->sym.method) || B < 1)
        return 0.0;
    double t0 = clock_seconds();
    if (reserve(q, B) != 0)
        return NAN;
    if (q->sparse)
        stack_sparse_views(q, in, B);
    else
        stack_views(q, in, B);
    const float *z = weight_net_forward(q, &q->views, q->xs, B);
    if (!z)
        return NAN;
    if (q->sym.method == SYM_LAMBDA && q->sym.lambda_norm == LNORM_SOFTPLUS)
        softplus_sigmoid(z, q->sp, q->dw, q->G * B);
    double loss = 0.0;
    const float scale = weight / (float)B;
    for (int b = 0; b < B; b++)
        loss += prior_row(q, z, B, b, scale);
    if (q->grads)
        net_backward(q->lam, q->dz, NULL);
    q->last_B = 0; /* the views are no longer the last forward's */
    q->t_sym += clock_seconds() - t0;
    return (double)weight * loss / (double)B;
}

const float *qmodel_view_q(const QModel *q, int b)
{
    if (q->sym.method == SYM_NONE)
        return q->none_out + (size_t)b * (size_t)q->A;
    return q->v + (size_t)b * (size_t)q->G * (size_t)q->A;
}

const float *qmodel_view_weight(const QModel *q, int b)
{
    if (q->sym.method == SYM_NONE)
        return &one_weight;
    return q->w + (size_t)b * (size_t)q->G;
}

const float *qmodel_view_score(const QModel *q, int b)
{
    if (q->sym.method != SYM_CANONICAL)
        return NULL;
    return q->score + (size_t)b * (size_t)q->G;
}

int qmodel_chosen(const QModel *q, int b)
{
    if (!picks_view(q->sym.method))
        return -1;
    return q->sym.group.elem[q->chosen[b]];
}

void qmodel_timing(const QModel *q, double *base_seconds, double *sym_seconds)
{
    if (base_seconds)
        *base_seconds = q->t_base;
    if (sym_seconds)
        *sym_seconds = q->t_sym;
}

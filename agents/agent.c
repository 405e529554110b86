/* agent.c - DQN on a symmetrized Q-model: building the networks from a Config,
 * epsilon-greedy acting, the TD update and checkpoint I/O of the networks and
 * optimizer (the trainer adds its own state to the same file). Tuned for small
 * batches on a CPU: every buffer is allocated once for the largest batch seen,
 * so the update loop never allocates. */
#include "agent.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/safetensors.h"

/* RNG streams derived from [run] seed (envs use their own, see train). */
enum { STREAM_INIT = 1, STREAM_EXPLORE = 2, STREAM_PRIOR = 5 };

static int parse_int_list(const char *s, int *out, int max, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > 1 << 20 || *n >= max)
            return -1;
        out[(*n)++] = (int)v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

/* NetSpec and SymSpec from the [network] and [symmetry] sections. */
static int specs_from_config(const Config *cfg, int C, int n, int A, NetSpec *ns, SymSpec *ss, char *err, size_t errlen)
{
    memset(ns, 0, sizeof *ns);
    ns->kind = strcmp(cfg->network.type, "cnn") == 0 ? NET_CNN : NET_MLP;
    ns->in_c = C;
    ns->n = n;
    ns->out = A;
    if (parse_int_list(cfg->network.hidden, ns->hidden, NET_MAX_LAYERS, &ns->nhidden) != 0) {
        snprintf(err, errlen, "[network] hidden = %s: expected up to %d positive widths separated by commas", cfg->network.hidden, NET_MAX_LAYERS);
        return -1;
    }
    if (ns->kind == NET_CNN && (parse_int_list(cfg->network.conv, ns->conv, NET_MAX_LAYERS, &ns->nconv) != 0 || ns->nconv == 0)) {
        snprintf(err, errlen, "[network] conv = %s: expected 1 to %d positive channel counts separated by commas", cfg->network.conv, NET_MAX_LAYERS);
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    int m = sym_method_parse(cfg->symmetry.method), p = sym_proxy_parse(cfg->symmetry.proxy);
    int g = sym_grad_parse(cfg->symmetry.grad), l = sym_lnorm_parse(cfg->symmetry.lambda_norm);
    if (m < 0 || p < 0 || g < 0 || l < 0) {
        snprintf(err, errlen, "[symmetry]: unknown method/proxy/grad/lambda_norm '%s/%s/%s/%s'", cfg->symmetry.method, cfg->symmetry.proxy, cfg->symmetry.grad, cfg->symmetry.lambda_norm);
        return -1;
    }
    ss->method = (SymMethod)m;
    ss->proxy = (SymProxy)p;
    ss->grad = (SymGrad)g;
    ss->lambda_norm = (LambdaNorm)l;
    ss->lambda_hidden = cfg->symmetry.lambda_hidden;
    char gerr[256];
    if (group_parse(&ss->group, cfg->symmetry.group, gerr, sizeof gerr) != 0) {
        snprintf(err, errlen, "[symmetry] %s", gerr);
        return -1;
    }
    if (ss->method == SYM_NONE)
        group_parse(&ss->group, "trivial", gerr, sizeof gerr);
    if (qmodel_nparams(ns, ss) == 0) {
        snprintf(err, errlen, "[network]/[symmetry]: invalid network shape");
        return -1;
    }
    return 0;
}

int agent_env_config(const Config *cfg, EnvConfig *ec, EnvMap *map, char *err, size_t errlen)
{
    int kind = env_kind_parse(cfg->env.name);
    if (kind < 0) {
        snprintf(err, errlen, "[env] name = %s: unknown environment; allowed: goal, fourrooms, lava, maze, map", cfg->env.name);
        return -1;
    }
    env_config_default(ec, (EnvKind)kind);
    if (cfg->env.size)
        ec->size = cfg->env.size;
    ec->max_steps = cfg->env.max_steps;
    ec->step_penalty = cfg->env.step_penalty;
    ec->seed = cfg->run.seed;
    if (strcmp(cfg->env.orientation, "identity") == 0)
        ec->orientation = ORIENT_IDENTITY;
    else if (strcmp(cfg->env.orientation, "random") == 0)
        ec->orientation = ORIENT_RANDOM;
    else if (cfg->env.orientation[0] >= '0' && cfg->env.orientation[0] <= '7' && cfg->env.orientation[1] == '\0')
        ec->orientation = cfg->env.orientation[0] - '0';
    else {
        snprintf(err, errlen, "[env] orientation = %s: allowed: identity, random, or an element index 0-7", cfg->env.orientation);
        return -1;
    }
    char gerr[256];
    if (group_parse(&ec->group, cfg->env.orient_group, gerr, sizeof gerr) != 0) {
        snprintf(err, errlen, "[env] orient_group: %s", gerr);
        return -1;
    }
    ec->goal_r = ec->goal_c = -1;
    if (strcmp(cfg->env.goal, "random") != 0 && sscanf(cfg->env.goal, "%d,%d", &ec->goal_r, &ec->goal_c) != 2) {
        snprintf(err, errlen, "[env] goal = %s: allowed: random, or a cell \"row,col\"", cfg->env.goal);
        return -1;
    }
    if (kind == ENV_MAP) {
        if (!cfg->env.map[0]) {
            snprintf(err, errlen, "[env] name = map needs [env] map = PATH (an ASCII map file)");
            return -1;
        }
        snprintf(ec->map_path, sizeof ec->map_path, "%s", cfg->env.map);
        if (env_map_load(map, cfg->env.map, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int agent_grow(Agent *a, int B)
{
    if (B <= a->cap)
        return 0;
    int cap = B > 2 * a->cap ? B : 2 * a->cap;
    size_t row = (size_t)a->C * (size_t)a->n * (size_t)a->n;
    float *f[7];
    size_t sz[7] = {row, row, 1, 1, 1, (size_t)a->A, 1};
    int *act = malloc((size_t)cap * sizeof *act);
    int ok = act != NULL;
    for (int i = 0; i < 7; i++) {
        f[i] = malloc((size_t)cap * sz[i] * sizeof(float));
        ok = ok && f[i];
    }
    if (!ok) {
        free(act);
        for (int i = 0; i < 7; i++)
            free(f[i]);
        return -1;
    }
    float **dst[7] = {&a->obs_f, &a->next_f, &a->reward, &a->done, &a->target_q, &a->dq, &a->q_next_online};
    for (int i = 0; i < 7; i++) {
        free(*dst[i]);
        *dst[i] = f[i];
    }
    free(a->action);
    a->action = act;
    a->cap = cap;
    return 0;
}

/* Copies the base network's tensors from a plain checkpoint ("q.*"). */
static int load_base(Agent *a, const StFile *f, const char *path, const char *prefix, float *params, char *err, size_t errlen)
{
    Net *net = qmodel_base(a->online);
    int nt = net_ntensors(net);
    for (int i = 0; i < nt; i++) {
        NetTensor t;
        net_tensor(net, i, &t);
        char name[ST_NAME];
        snprintf(name, sizeof name, "%s%s", prefix, t.name);
        int64_t shape[4];
        for (int d = 0; d < t.ndim; d++)
            shape[d] = t.shape[d];
        char e2[512];
        const StTensor *st = st_expect(f, name, ST_F32, t.ndim, shape, e2, sizeof e2);
        if (!st) {
            snprintf(err, errlen, "%s (this config's network needs it; is the checkpoint from a different [network]?)", e2);
            return -1;
        }
        if (t.transposed)
            st_copy_transposed(params + t.offset, st);
        else
            memcpy(params + t.offset, st->data, t.count * sizeof(float));
    }
    (void)path;
    return 0;
}

Agent *agent_create(const Config *cfg, int C, int n, int A, char *err, size_t errlen)
{
    Agent *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    a->C = C;
    a->n = n;
    a->A = A;
    if (specs_from_config(cfg, C, n, A, &a->net, &a->sym, err, errlen) != 0) {
        agent_free(a);
        return NULL;
    }
    a->nparams = qmodel_nparams(&a->net, &a->sym);
    a->params = calloc(a->nparams, sizeof(float));
    a->grads = calloc(a->nparams, sizeof(float));
    a->target_params = calloc(a->nparams, sizeof(float));
    if (a->params && a->grads && a->target_params) {
        a->online = qmodel_create(&a->net, &a->sym, a->params, a->grads);
        a->target = qmodel_create(&a->net, &a->sym, a->target_params, NULL);
    }
    if (!a->online || !a->target) {
        snprintf(err, errlen, "out of memory building the networks (%zu parameters)", a->nparams);
        agent_free(a);
        return NULL;
    }
    if (cfg->run.threads > 1) {
        a->pool = pool_create(cfg->run.threads);
        if (!a->pool) {
            snprintf(err, errlen, "[run] threads = %d: cannot start the threads", cfg->run.threads);
            agent_free(a);
            return NULL;
        }
        if (qmodel_set_pool(a->online, a->pool) != 0 || qmodel_set_pool(a->target, a->pool) != 0) {
            snprintf(err, errlen, "out of memory giving the networks %d threads", cfg->run.threads);
            agent_free(a);
            return NULL;
        }
    }
    Rng init;
    rng_seed(&init, cfg->run.seed, STREAM_INIT);
    qmodel_init(a->online, &init);
    if (cfg->network.init[0]) {
        StFile *f = st_open(cfg->network.init, err, errlen);
        if (!f || load_base(a, f, cfg->network.init, "q.", a->params, err, errlen) != 0 ||
            (cfg->symmetry.prior > 0.0f && agent_prior_states(a, f, cfg->network.init, err, errlen) != 0)) {
            st_close(f);
            agent_free(a);
            return NULL;
        }
        st_close(f);
    }
    memcpy(a->target_params, a->params, a->nparams * sizeof(float));
    a->adam_from = cfg->train.freeze_q ? qmodel_base_nparams(a->online) : 0;
    if (adam_init(&a->adam, a->nparams - a->adam_from, cfg->train.lr, 0.9f, 0.999f, cfg->train.adam_eps) != 0) {
        snprintf(err, errlen, "out of memory for Adam");
        agent_free(a);
        return NULL;
    }
    a->loss = strcmp(cfg->agent.loss, "mse") == 0 ? LOSS_MSE : LOSS_HUBER;
    rng_seed(&a->rng, cfg->run.seed, STREAM_EXPLORE);
    rng_seed(&a->prior_rng, cfg->run.seed, STREAM_PRIOR);
    if (agent_grow(a, cfg->train.batch_size > cfg->train.num_envs ? cfg->train.batch_size : cfg->train.num_envs) != 0) {
        snprintf(err, errlen, "out of memory for the batch buffers");
        agent_free(a);
        return NULL;
    }
    return a;
}

void agent_free(Agent *a)
{
    if (!a)
        return;
    qmodel_free(a->online);
    qmodel_free(a->target);
    pool_free(a->pool);
    free(a->params);
    free(a->grads);
    free(a->target_params);
    adam_free(&a->adam);
    free(a->obs_f);
    free(a->next_f);
    free(a->reward);
    free(a->done);
    free(a->target_q);
    free(a->dq);
    free(a->q_next_online);
    free(a->action);
    free(a->prior_obs);
    free(a->prior_batch);
    free(a->prior_f);
    free(a);
}

const float *agent_q(Agent *a, const uint8_t *obs, int B)
{
    if (agent_grow(a, B) != 0)
        return NULL;
    env_planes(a->obs_f, obs, B, a->C, a->n);
    return qmodel_forward(a->online, a->obs_f, B);
}

static int argmax(const float *q, int A)
{
    int best = 0;
    for (int i = 1; i < A; i++)
        if (q[i] > q[best])
            best = i;
    return best;
}

void agent_act(Agent *a, const uint8_t *obs, int B, float epsilon, int *actions)
{
    const float *q = NULL;
    for (int b = 0; b < B; b++) {
        if (epsilon > 0.0f && rng_float(&a->rng) < epsilon) {
            actions[b] = (int)rng_below(&a->rng, (uint32_t)a->A);
            continue;
        }
        if (!q) /* one batched forward, only if some row acts greedily */
            q = agent_q(a, obs, B);
        actions[b] = q ? argmax(q + (size_t)b * (size_t)a->A, a->A) : 0;
    }
}

int agent_prior_states(Agent *a, const StFile *f, const char *path, char *err, size_t errlen)
{
    const StTensor *t = st_find(f, "replay.obs");
    size_t nc = (size_t)a->n * (size_t)a->n;
    if (!t || t->dtype != ST_U8 || t->ndim != 2 || t->shape[1] != (int64_t)nc) {
        snprintf(err, errlen, "%s: symmetry.prior needs the replay states of the pretraining run: tensor replay.obs (uint8, [states, %zu]) is %s; allowed: network.init = a checkpoint written by equigrid train on this grid",
                 path, nc, t ? "of another dtype or shape" : "missing");
        return -1;
    }
    if (t->shape[0] < 1) {
        snprintf(err, errlen, "%s: symmetry.prior needs the replay states of the pretraining run, but replay.obs holds none (a run of train.steps = 0?); allowed: network.init = a checkpoint of a run that stepped its env", path);
        return -1;
    }
    size_t S = (size_t)t->shape[0], B = (size_t)a->cfg.train.batch_size;
    free(a->prior_obs);
    free(a->prior_batch);
    free(a->prior_f);
    a->prior_obs = malloc(S * nc);
    a->prior_batch = malloc(B * nc);
    a->prior_f = malloc(B * (size_t)a->C * nc * sizeof(float));
    if (!a->prior_obs || !a->prior_batch || !a->prior_f) {
        snprintf(err, errlen, "%s: out of memory for %zu prior states", path, S);
        return -1;
    }
    memcpy(a->prior_obs, t->data, S * nc);
    a->prior_n = S;
    return 0;
}

/* The prior's loss on train.batch_size states sampled from prior_obs, its
 * gradient accumulated into the weight network's. */
static float prior_batch_grad(Agent *a)
{
    int B = a->cfg.train.batch_size;
    size_t nc = (size_t)a->n * (size_t)a->n;
    for (int b = 0; b < B; b++) {
        size_t k = rng_below(&a->prior_rng, (uint32_t)a->prior_n);
        memcpy(a->prior_batch + (size_t)b * nc, a->prior_obs + k * nc, nc);
    }
    env_planes(a->prior_f, a->prior_batch, B, a->C, a->n);
    return (float)qmodel_prior(a->online, a->prior_f, B, a->cfg.symmetry.prior);
}

float agent_prior_update(Agent *a)
{
    memset(a->grads, 0, a->nparams * sizeof(float));
    float loss = prior_batch_grad(a);
    size_t from = a->adam_from, len = a->nparams - a->adam_from;
    clip_grad_norm(a->grads + from, len, a->cfg.train.max_grad_norm, a->pool);
    adam_step(&a->adam, a->params + from, a->grads + from, a->pool);
    a->updates++;
    a->last_prior = loss;
    return loss;
}

float agent_update(Agent *a, const float *obs, const int *action, const float *reward, const float *next_obs, const float *done, int B)
{
    int A = a->A;
    float gamma = a->cfg.agent.gamma;
    if (agent_grow(a, B) != 0)
        return NAN;
    /* targets: r + gamma (1 - done) Q_target(s', argmax_a Q_online(s', a)) (Double DQN) */
    if (a->cfg.agent.double_dqn) {
        const float *qo = qmodel_forward(a->online, next_obs, B);
        for (int b = 0; b < B; b++)
            a->action[b] = argmax(qo + (size_t)b * A, A);
    }
    /* with Double DQN the online network just stacked the views of next_obs */
    const float *qt = a->cfg.agent.double_dqn ? qmodel_forward_views(a->target, a->online, next_obs, B) : qmodel_forward(a->target, next_obs, B);
    for (int b = 0; b < B; b++) {
        const float *row = qt + (size_t)b * A;
        float next = a->cfg.agent.double_dqn ? row[a->action[b]] : row[argmax(row, A)];
        a->target_q[b] = reward[b] + gamma * (1.0f - done[b]) * next;
    }
    const float *q = qmodel_forward(a->online, obs, B);
    float loss = td_loss(a->loss, q, action, a->target_q, B, A, a->dq);
    double qsum = 0.0;
    for (int b = 0; b < B; b++)
        qsum += q[(size_t)b * A + action[b]];
    memset(a->grads, 0, a->nparams * sizeof(float));
    qmodel_backward(a->online, a->dq, !a->cfg.train.freeze_q);
    if (a->cfg.symmetry.prior > 0.0f && a->prior_n > 0)
        a->last_prior = prior_batch_grad(a);
    size_t from = a->adam_from, len = a->nparams - a->adam_from;
    clip_grad_norm(a->grads + from, len, a->cfg.train.max_grad_norm, a->pool);
    adam_step(&a->adam, a->params + from, a->grads + from, a->pool);
    a->updates++;
    a->last_loss = loss;
    a->last_q = (float)(qsum / B);
    return loss;
}

void agent_sync_target(Agent *a)
{
    float tau = a->cfg.agent.tau;
    if (tau >= 1.0f) {
        memcpy(a->target_params, a->params, a->nparams * sizeof(float));
        return;
    }
    for (size_t i = 0; i < a->nparams; i++)
        a->target_params[i] = tau * a->params[i] + (1.0f - tau) * a->target_params[i];
}

/* Appends views of one network's tensors ("prefix" + net_tensor name). */
static int net_views(StTensor *t, int max, Net *net, const float *params, const char *prefix)
{
    int nt = net_ntensors(net), k = 0;
    for (int i = 0; i < nt && k < max; i++, k++) {
        NetTensor nt_i;
        net_tensor(net, i, &nt_i);
        memset(&t[k], 0, sizeof t[k]);
        snprintf(t[k].name, sizeof t[k].name, "%s%s", prefix, nt_i.name);
        t[k].dtype = ST_F32;
        t[k].ndim = nt_i.ndim;
        for (int d = 0; d < nt_i.ndim; d++)
            t[k].shape[d] = nt_i.shape[d];
        t[k].data = params + nt_i.offset;
        t[k].transpose2d = nt_i.transposed;
    }
    return k;
}

/* Views of everything the agent owns: online and target networks (the
 * weight network as lambda.* or canon.*), Adam; or, with networks_only, the
 * online networks alone (what agent_export writes). */
static int agent_views(Agent *a, StTensor *t, int max, int64_t *scalars, int networks_only)
{
    int k = 0;
    struct {
        QModel *m;
        const float *p;
        const char *pre_q, *pre_l;
    } nets[2] = {{a->online, a->params, "q.", "lambda."}, {a->target, a->target_params, "target.q.", "target.lambda."}};
    if (a->sym.method == SYM_CANONICAL) { /* the score network */
        nets[0].pre_l = "canon.";
        nets[1].pre_l = "target.canon.";
    }
    size_t base_n = qmodel_base_nparams(a->online);
    for (int i = 0; i < (networks_only ? 1 : 2); i++) {
        k += net_views(t + k, max - k, qmodel_base(nets[i].m), nets[i].p, nets[i].pre_q);
        if (qmodel_lambda(nets[i].m))
            k += net_views(t + k, max - k, qmodel_lambda(nets[i].m), nets[i].p + base_n, nets[i].pre_l);
    }
    if (networks_only)
        return k;
    if (k + 5 > max)
        return -1;
    StTensor m = {.dtype = ST_F32, .ndim = 1, .shape = {(int64_t)a->adam.n}, .data = a->adam.m};
    StTensor v = m;
    v.data = a->adam.v;
    snprintf(m.name, sizeof m.name, "adam.m");
    snprintf(v.name, sizeof v.name, "adam.v");
    t[k++] = m;
    t[k++] = v;
    scalars[0] = a->adam.t;
    scalars[1] = a->updates;
    StTensor s = {.name = "agent.counters", .dtype = ST_I64, .ndim = 1, .shape = {2}, .data = scalars};
    t[k++] = s;
    StTensor r = {.name = "agent.rng", .dtype = ST_U32, .ndim = 1, .shape = {4}, .data = a->rng.s};
    t[k++] = r;
    if (a->cfg.symmetry.prior > 0.0f) {
        StTensor pr = {.name = "agent.prior_rng", .dtype = ST_U32, .ndim = 1, .shape = {4}, .data = a->prior_rng.s};
        t[k++] = pr;
    }
    return k;
}

enum { AGENT_MAX_TENSORS = 4 * (2 * NET_MAX_LAYERS + 4) + 8 };

int agent_save(Agent *a, const char *path, const StTensor *extra, int nextra, const char *const *mk, const char *const *mv, int nmeta, char *err, size_t errlen)
{
    int cap = AGENT_MAX_TENSORS + nextra;
    StTensor *t = malloc((size_t)cap * sizeof *t);
    const char **keys = malloc((size_t)(nmeta + 2) * sizeof *keys);
    const char **vals = malloc((size_t)(nmeta + 2) * sizeof *vals);
    char *conf = config_to_string(&a->cfg);
    int64_t scalars[2];
    int rc = -1;
    if (!t || !keys || !vals || !conf) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    int k = agent_views(a, t, AGENT_MAX_TENSORS, scalars, 0);
    if (k < 0) {
        snprintf(err, errlen, "%s: too many tensors", path);
        goto done;
    }
    if (nextra > 0) /* extra may be NULL when there are none */
        memcpy(t + k, extra, (size_t)nextra * sizeof *t);
    keys[0] = "format";
    vals[0] = AGENT_FORMAT;
    keys[1] = "config";
    vals[1] = conf;
    for (int i = 0; i < nmeta; i++) {
        keys[i + 2] = mk[i];
        vals[i + 2] = mv[i];
    }
    rc = st_write(path, t, k + nextra, keys, vals, nmeta + 2, err, errlen);
done:
    free(t);
    free(keys);
    free(vals);
    free(conf);
    return rc;
}

int agent_export(Agent *a, const char *path, const char *const *mk, const char *const *mv, int nmeta, char *err, size_t errlen)
{
    enum { EXPORT_MAX_META = 8 };
    StTensor t[AGENT_MAX_TENSORS];
    int64_t scalars[2];
    if (nmeta < 0 || nmeta > EXPORT_MAX_META - 3) {
        snprintf(err, errlen, "%s: %d metadata entries; allowed: 0..%d", path, nmeta, EXPORT_MAX_META - 3);
        return -1;
    }
    char *conf = config_to_string(&a->cfg);
    if (!conf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int k = agent_views(a, t, AGENT_MAX_TENSORS, scalars, 1);
    const char *keys[EXPORT_MAX_META] = {"format", "config", "content"}, *vals[EXPORT_MAX_META] = {AGENT_FORMAT, conf, AGENT_CONTENT_NETWORKS};
    for (int i = 0; i < nmeta; i++) {
        keys[3 + i] = mk[i];
        vals[3 + i] = mv[i];
    }
    int rc = st_write(path, t, k, keys, vals, 3 + nmeta, err, errlen);
    free(conf);
    return rc;
}

int agent_is_export(const StFile *f)
{
    const char *c = st_meta(f, "content");
    return c && strcmp(c, AGENT_CONTENT_NETWORKS) == 0;
}

/* Copies one tensor into place after checking its dtype and shape. */
static int restore(const StFile *f, const StTensor *want, size_t bytes, char *err, size_t errlen)
{
    const StTensor *st = st_expect(f, want->name, want->dtype, want->ndim, want->shape, err, errlen);
    if (!st)
        return -1;
    if (want->transpose2d)
        st_copy_transposed((float *)(uintptr_t)want->data, st);
    else
        memcpy((void *)(uintptr_t)want->data, st->data, bytes);
    return 0;
}

static size_t tensor_bytes(const StTensor *t)
{
    size_t n = t->dtype == ST_U8 ? 1 : t->dtype == ST_I64 ? 8 : 4;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

/* Fails naming the first F32 tensor of f holding a NaN or an infinity: a
 * checkpoint's numbers are input, and one non-finite weight makes every Q
 * value that depends on it non-finite. */
static int check_finite(const StFile *f, const char *path, char *err, size_t errlen)
{
    for (int i = 0; i < st_count(f); i++) {
        const StTensor *t = st_at(f, i);
        if (t->dtype != ST_F32)
            continue;
        size_t n = tensor_bytes(t) / sizeof(float);
        const float *x = t->data;
        for (size_t j = 0; j < n; j++)
            if (!isfinite(x[j])) {
                snprintf(err, errlen, "%s: tensor %s: element %zu is %s; allowed: finite numbers (the run diverged, or the file was changed)", path, t->name, j,
                         isnan(x[j]) ? "nan" : x[j] > 0 ? "inf" : "-inf");
                return -1;
            }
    }
    return 0;
}

int agent_stored_config(const StFile *f, const char *path, Config *cfg, char *err, size_t errlen)
{
    const char *format = st_meta(f, "format"), *conf = st_meta(f, "config");
    if (!format || strcmp(format, AGENT_FORMAT) != 0) {
        snprintf(err, errlen, "%s: not an equigrid checkpoint (metadata format is '%s'); allowed: format '%s', as equigrid train writes", path, format ? format : "missing", AGENT_FORMAT);
        return -1;
    }
    if (!conf) {
        snprintf(err, errlen, "%s: the metadata has no 'config' (the run's INI text); allowed: a checkpoint written by equigrid train", path);
        return -1;
    }
    config_default(cfg);
    char e2[1024];
    if (config_from_string(cfg, conf, path, e2, sizeof e2) != 0 || config_validate(cfg, e2, sizeof e2) != 0) {
        snprintf(err, errlen, "%s: stored config is invalid: %s", path, e2);
        return -1;
    }
    return 0;
}

Agent *agent_from_file(const StFile *f, const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    Config cfg;
    if (agent_stored_config(f, path, &cfg, err, errlen) != 0 || check_finite(f, path, err, errlen) != 0)
        return NULL;
    for (int i = 0; i < nsets; i++)
        if (config_set(&cfg, sets[i], err, errlen) != 0)
            return NULL;
    cfg.network.init[0] = '\0'; /* the weights come from this file */
    EnvConfig ec;
    EnvMap *map = malloc(sizeof *map);
    if (!map || agent_env_config(&cfg, &ec, map, err, errlen) != 0) {
        free(map);
        return NULL;
    }
    Env probe;
    int ok = env_init(&probe, &ec, map, 0, err, errlen) == 0;
    free(map);
    if (!ok)
        return NULL;
    Agent *a = agent_create(&cfg, probe.planes, probe.n, probe.nactions, err, errlen);
    if (!a)
        return NULL;
    StTensor t[AGENT_MAX_TENSORS];
    int64_t scalars[2] = {0, 0};
    int exported = agent_is_export(f);
    int k = agent_views(a, t, AGENT_MAX_TENSORS, scalars, exported);
    for (int i = 0; i < k; i++) {
        if (strcmp(t[i].name, "agent.counters") == 0)
            t[i].data = scalars;
        if (restore(f, &t[i], tensor_bytes(&t[i]), err, errlen) != 0) {
            agent_free(a);
            return NULL;
        }
    }
    if (scalars[0] < 0 || scalars[1] < 0 || (a->rng.s[0] | a->rng.s[1] | a->rng.s[2] | a->rng.s[3]) == 0) {
        if (scalars[0] < 0 || scalars[1] < 0)
            snprintf(err, errlen, "%s: tensor agent.counters: [adam steps, updates] = [%lld, %lld]; allowed: both >= 0", path, (long long)scalars[0], (long long)scalars[1]);
        else
            snprintf(err, errlen, "%s: tensor agent.rng: the RNG state is all zero; allowed: any other state (xoshiro128** never leaves zero)", path);
        agent_free(a);
        return NULL;
    }
    a->adam.t = scalars[0];
    a->updates = scalars[1];
    if (exported) /* an export has no target network: it starts equal to the online one */
        memcpy(a->target_params, a->params, a->nparams * sizeof(float));
    return a;
}

Agent *agent_load(const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    StFile *f = st_open(path, err, errlen);
    if (!f)
        return NULL;
    Agent *a = agent_from_file(f, path, sets, nsets, err, errlen);
    st_close(f);
    return a;
}

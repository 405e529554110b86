/* train.c - the DQN loop: num_envs envs stepped together, actions from one
 * batched forward, transitions pushed as compact states, updates every
 * train_freq iterations, target updates, periodic evaluation and checkpoints,
 * per-episode CSV rows, and exact resume. Nothing on the per-step path
 * allocates; CSV rows are buffered by stdio and flushed with every checkpoint. */
#include "train.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/file.h"
#include "../core/atomicfile.h"
#include "../core/clock.h"
#include "../core/progress.h"
#include "../replay/replay.h"

/* RNG streams (the agent uses 1 and 2). */
enum { STREAM_REPLAY = 3, STREAM_EVAL_EPS = 4, STREAM_ENV = 1000, STREAM_EVAL_ENV = 1 << 20 };

/* Seconds both networks have spent in the symmetrizer so far. */
static double sym_seconds(const Agent *a)
{
    double on, tg;
    qmodel_timing(a->online, NULL, &on);
    qmodel_timing(a->target, NULL, &tg);
    return on + tg;
}

static void mean_std(const double *x, int n, double *mean, double *std)
{
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    *mean = n ? s / n : 0.0;
    for (int i = 0; i < n; i++)
        ss += (x[i] - *mean) * (x[i] - *mean);
    *std = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

/* The weight the last forward of a's online model put, for row b, on the view
 * h = g^-1 of an episode in orientation g: the view that sees the layout as
 * pretraining did (0 if h is not in the group). */
static double pretrain_weight(Agent *a, int b, int g)
{
    const SymSpec *s = qmodel_sym(a->online);
    const float *w = qmodel_view_weight(a->online, b);
    int h = d4_inverse(g);
    for (int i = 0; i < s->group.n; i++)
        if (s->group.elem[i] == h)
            return w[i];
    return 0.0;
}

int evaluate(Agent *a, const EnvConfig *ec, const EnvMap *map, int episodes, float epsilon, EvalResult *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    int E = episodes;
    if (E < 1) {
        snprintf(err, errlen, "evaluation needs at least one episode (got %d)", E);
        return -1;
    }
    Env *envs = malloc((size_t)E * sizeof *envs);
    int ncells = 0;
    uint8_t *obs = NULL;
    uint8_t *active = malloc((size_t)E);
    double *buf = malloc(3 * (size_t)E * sizeof *buf);
    int rc = -1;
    if (!envs || !active || !buf) {
        snprintf(err, errlen, "evaluation: out of memory");
        goto done;
    }
    for (int i = 0; i < E; i++)
        if (env_init(&envs[i], ec, map, STREAM_EVAL_ENV + (uint64_t)i, err, errlen) != 0)
            goto done;
    ncells = envs[0].ncells;
    obs = malloc((size_t)E * (size_t)ncells);
    if (!obs) {
        snprintf(err, errlen, "evaluation: out of memory");
        goto done;
    }
    for (int i = 0; i < E; i++) {
        envs[i].autoreset = 0;
        env_reset(&envs[i], obs + (size_t)i * ncells);
        active[i] = 1;
    }
    Rng eps_rng;
    rng_seed(&eps_rng, ec->seed, STREAM_EVAL_EPS);
    double w_sum = 0.0;
    long w_states = 0;
    for (int left = E; left > 0;) {
        const float *q = agent_q(a, obs, E);
        if (!q) {
            snprintf(err, errlen, "evaluation: out of memory");
            goto done;
        }
        for (int i = 0; i < E; i++) {
            if (!active[i])
                continue;
            w_sum += pretrain_weight(a, i, envs[i].orient);
            w_states++;
            const float *row = q + (size_t)i * a->A;
            int best = 0;
            for (int k = 1; k < a->A; k++)
                if (row[k] > row[best])
                    best = k;
            if (epsilon > 0.0f && rng_float(&eps_rng) < epsilon)
                best = (int)rng_below(&eps_rng, (uint32_t)a->A);
            float r;
            uint8_t term, trunc;
            env_step(&envs[i], best, obs + (size_t)i * ncells, &r, &term, &trunc, NULL);
            if (term || trunc) {
                active[i] = 0;
                left--;
                buf[i] = envs[i].last.ret;
                buf[E + i] = envs[i].last.success;
                buf[2 * E + i] = envs[i].last.length;
            }
        }
    }
    res->episodes = E;
    mean_std(buf, E, &res->ret_mean, &res->ret_std);
    mean_std(buf + E, E, &res->success, &res->success_std);
    mean_std(buf + 2 * E, E, &res->len_mean, &res->len_std);
    res->w_pretrain = w_states ? w_sum / (double)w_states : 0.0;
    rc = 0;
done:
    free(envs);
    free(obs);
    free(active);
    free(buf);
    return rc;
}

enum { COUNTERS = 8, RECENT = 100 };

/* Everything a training run holds. */
typedef struct {
    Config cfg;
    Agent *agent;
    EnvConfig ec;
    EnvMap *map;
    VecEnv venv;
    Replay replay;
    int E, ncells, B;
    uint8_t *obs, *prev_obs, *next_obs, *term, *trunc;
    float *rew;
    int *act;
    size_t *idx;
    float *b_obs, *b_next, *b_rew, *b_done;
    int *b_act;
    long step, episodes, iter, next_eval, next_ckpt, next_target;
    long eval_rows; /* rows of eval.csv made on schedule (a resumed run keeps exactly these) */
    float recent_ret[RECENT], recent_success[RECENT]; /* the last RECENT training episodes, for the progress bar */
    long nrecent;
    char path_metrics[1024], path_eval[1024], path_ckpt[1024], path_config[1024];
    FILE *metrics, *evalf;
    double t0, last_draw; /* wall clock at the loop's start and at the last progress line */
    long step0;           /* step at the loop's start (0, or where a resumed run stopped) */
    int stopped;          /* opt->stop ended the loop */
    int lock_fd;          /* open on path_lock, holding its write lock; -1 if none */
    int created_dir;      /* this call created the run directory (removed again if the start fails) */
    char path_lock[1024], dir[1024];
    char path_best[1024]; /* best.safetensors: the networks at the best evaluation so far */
    float best_success;   /* its greedy success; -1 before the first evaluation */
} Run;


static float epsilon_at(const Config *c, long step)
{
    if (c->agent.eps_steps <= 0 || step >= c->agent.eps_steps)
        return c->agent.eps_end;
    return c->agent.eps_start + (c->agent.eps_end - c->agent.eps_start) * (float)step / (float)c->agent.eps_steps;
}

static void run_free(Run *r)
{
    agent_free(r->agent);
    free(r->map);
    vec_free(&r->venv);
    replay_free(&r->replay);
    void *bufs[] = {r->obs, r->prev_obs, r->next_obs, r->term, r->trunc, r->rew, r->act, r->idx, r->b_obs, r->b_next, r->b_rew, r->b_done, r->b_act};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    if (r->metrics)
        fclose(r->metrics);
    if (r->evalf)
        fclose(r->evalf);
    if (r->lock_fd > 0)
        close(r->lock_fd);
}

static int run_alloc(Run *r, char *err, size_t errlen)
{
    size_t E = (size_t)r->E, nc = (size_t)r->ncells, B = (size_t)r->B;
    size_t row = (size_t)r->agent->C * nc;
    r->obs = malloc(E * nc);
    r->prev_obs = malloc(E * nc);
    r->next_obs = malloc(E * nc);
    r->term = malloc(E);
    r->trunc = malloc(E);
    r->rew = malloc(E * sizeof(float));
    r->act = malloc(E * sizeof(int));
    r->idx = malloc(B * sizeof(size_t));
    r->b_obs = malloc(B * row * sizeof(float));
    r->b_next = malloc(B * row * sizeof(float));
    r->b_rew = malloc(B * sizeof(float));
    r->b_done = malloc(B * sizeof(float));
    r->b_act = malloc(B * sizeof(int));
    if (!r->obs || !r->prev_obs || !r->next_obs || !r->term || !r->trunc || !r->rew || !r->act || !r->idx || !r->b_obs || !r->b_next || !r->b_rew || !r->b_done || !r->b_act) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    return 0;
}

/* Flushes a CSV; fails (naming it) if any write to it failed so far, e.g. on
 * a full disk. The run then stops before its next checkpoint, so the last
 * good checkpoint and the rows it counts stay as they were. */
static int csv_check(FILE *f, const char *path, char *err, size_t errlen)
{
    if (ferror(f) || fflush(f) != 0) {
        snprintf(err, errlen, "%s: write failed: %s; the run stopped, its last checkpoint is intact (free space, then resume)", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Flushes and closes both CSVs at the end of a run (rc: its status so far). */
static int csv_close(Run *r, int rc, char *err, size_t errlen)
{
    FILE **fs[2] = {&r->metrics, &r->evalf};
    const char *paths[2] = {r->path_metrics, r->path_eval};
    for (int i = 0; i < 2; i++) {
        if (*fs[i] && rc == 0)
            rc = csv_check(*fs[i], paths[i], err, errlen);
        if (*fs[i] && fclose(*fs[i]) != 0 && rc == 0) {
            snprintf(err, errlen, "%s: close failed: %s", paths[i], strerror(errno));
            rc = -1;
        }
        *fs[i] = NULL;
    }
    return rc;
}

/* Writes the checkpoint: the agent plus envs, replay, counters. */
static int run_save(Run *r, char *err, size_t errlen)
{
    /* the CSV rows the checkpoint counts must be on disk before it is */
    if (csv_check(r->metrics, r->path_metrics, err, errlen) != 0 || csv_check(r->evalf, r->path_eval, err, errlen) != 0)
        return -1;
    int64_t counters[COUNTERS] = {r->step, r->episodes, r->iter, r->next_eval, r->next_ckpt, r->next_target, r->episodes, r->eval_rows};
    size_t E = (size_t)r->E, nc = (size_t)r->ncells;
    uint32_t *rng = malloc(E * 4 * sizeof *rng);
    uint8_t *layout = malloc(E * nc);
    int64_t *state = malloc(E * 4 * sizeof *state);
    float *ret = malloc(E * sizeof *ret);
    int rc = -1;
    if (!rng || !layout || !state || !ret) {
        snprintf(err, errlen, "%s: out of memory", r->path_ckpt);
        goto done;
    }
    for (size_t e = 0; e < E; e++) {
        const Env *env = &r->venv.envs[e];
        memcpy(rng + 4 * e, env->rng.s, 4 * sizeof *rng);
        memcpy(layout + e * nc, env->layout, nc);
        state[4 * e] = env->agent;
        state[4 * e + 1] = env->t;
        state[4 * e + 2] = env->orient;
        state[4 * e + 3] = env->episodes;
        ret[e] = env->ret;
    }
    Replay *rp = &r->replay;
    int64_t rstate[3] = {(int64_t)rp->capacity, (int64_t)rp->size, (int64_t)rp->pos};
    float last[2] = {r->agent->last_loss, r->agent->last_q};
    int64_t S = (int64_t)rp->size;
    StTensor t[] = {
        {.name = "train.counters", .dtype = ST_I64, .ndim = 1, .shape = {COUNTERS}, .data = counters},
        {.name = "train.last", .dtype = ST_F32, .ndim = 1, .shape = {2}, .data = last},
        {.name = "env.rng", .dtype = ST_U32, .ndim = 2, .shape = {(int64_t)E, 4}, .data = rng},
        {.name = "env.layout", .dtype = ST_U8, .ndim = 2, .shape = {(int64_t)E, (int64_t)nc}, .data = layout},
        {.name = "env.state", .dtype = ST_I64, .ndim = 2, .shape = {(int64_t)E, 4}, .data = state},
        {.name = "env.ret", .dtype = ST_F32, .ndim = 1, .shape = {(int64_t)E}, .data = ret},
        {.name = "replay.state", .dtype = ST_I64, .ndim = 1, .shape = {3}, .data = rstate},
        {.name = "replay.rng", .dtype = ST_U32, .ndim = 1, .shape = {4}, .data = rp->rng.s},
        {.name = "replay.obs", .dtype = ST_U8, .ndim = 2, .shape = {S, (int64_t)nc}, .data = rp->obs},
        {.name = "replay.next_obs", .dtype = ST_U8, .ndim = 2, .shape = {S, (int64_t)nc}, .data = rp->next_obs},
        {.name = "replay.action", .dtype = ST_U8, .ndim = 1, .shape = {S}, .data = rp->action},
        {.name = "replay.reward", .dtype = ST_F32, .ndim = 1, .shape = {S}, .data = rp->reward},
        {.name = "replay.done", .dtype = ST_U8, .ndim = 1, .shape = {S}, .data = rp->done},
    };
    char step[32];
    snprintf(step, sizeof step, "%ld", r->step);
    const char *mk[] = {"step"}, *mv[] = {step};
    rc = agent_save(r->agent, r->path_ckpt, t, (int)(sizeof t / sizeof t[0]), mk, mv, 1, err, errlen);
done:
    free(rng);
    free(layout);
    free(state);
    free(ret);
    return rc;
}

static int rng_zero(const uint32_t *s) { return (s[0] | s[1] | s[2] | s[3]) == 0; }

/* "PATH: tensor NAME: <why>" into err; returns -1. */
static int bad_tensor(const Run *r, const char *name, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: tensor %s: %s", r->path_ckpt, name, why);
    return -1;
}

/* A schedule counter: with interval > 0 a positive multiple of it, at most
 * one interval past step; with interval 0 it stays 0. */
static int schedule_ok(int64_t next, long interval, int64_t step)
{
    if (interval <= 0)
        return next == interval;
    return next >= interval && next % interval == 0 && next <= step + interval;
}

/* train.counters and train.last: counters consistent with each other and
 * with the config, as the loop leaves them. */
static int restore_counters(Run *r, const StFile *f, int64_t *rows, char *err, size_t errlen)
{
    const Config *c = &r->cfg;
    int64_t sh_c[1] = {COUNTERS}, sh_2[1] = {2}, k[COUNTERS];
    const StTensor *t = st_expect(f, "train.counters", ST_I64, 1, sh_c, err, errlen);
    if (!t)
        return -1;
    memcpy(k, t->data, sizeof k);
    char why[512];
    const int64_t BIG = (int64_t)1 << 50; /* far beyond any run, far below overflow */
    if (k[0] < 0 || k[0] > BIG)
        snprintf(why, sizeof why, "step = %lld; allowed: 0..2^50", (long long)k[0]);
    else if (k[2] < 0 || k[2] * r->E != k[0])
        snprintf(why, sizeof why, "iterations = %lld but step = %lld with %d envs; allowed: step = iterations * num_envs", (long long)k[2], (long long)k[0], r->E);
    else if (k[1] < 0 || k[1] > k[0])
        snprintf(why, sizeof why, "episodes = %lld; allowed: 0..step (%lld)", (long long)k[1], (long long)k[0]);
    else if (!schedule_ok(k[3], c->eval.eval_every, k[0]))
        snprintf(why, sizeof why, "next evaluation at step %lld; allowed: a multiple of eval_every = %ld in [eval_every, step + eval_every] (0 if eval_every = 0)", (long long)k[3], c->eval.eval_every);
    else if (!schedule_ok(k[4], c->train.checkpoint_every, k[0]))
        snprintf(why, sizeof why, "next checkpoint at step %lld; allowed: a multiple of checkpoint_every = %ld in [checkpoint_every, step + checkpoint_every] (0 if checkpoint_every = 0)", (long long)k[4], c->train.checkpoint_every);
    else if (!schedule_ok(k[5], c->agent.target_update, k[0]))
        snprintf(why, sizeof why, "next target update at step %lld; allowed: a multiple of target_update = %d in [target_update, step + target_update]", (long long)k[5], c->agent.target_update);
    else if (k[6] != k[1])
        snprintf(why, sizeof why, "metrics.csv rows = %lld; allowed: one row per episode (%lld)", (long long)k[6], (long long)k[1]);
    else if (k[7] < 0 || (c->eval.eval_every > 0 ? k[7] > k[3] / c->eval.eval_every : k[7] != 0))
        snprintf(why, sizeof why, "eval.csv rows = %lld; allowed: 0..%lld (one per evaluation on the eval_every schedule)", (long long)k[7], (long long)(c->eval.eval_every > 0 ? k[3] / c->eval.eval_every : 0));
    else
        why[0] = '\0';
    if (why[0])
        return bad_tensor(r, "train.counters", why, err, errlen);
    r->step = k[0];
    r->episodes = k[1];
    r->iter = k[2];
    r->next_eval = k[3];
    r->next_ckpt = k[4];
    r->next_target = k[5];
    rows[0] = k[6];
    rows[1] = r->eval_rows = k[7];
    if (!(t = st_expect(f, "train.last", ST_F32, 1, sh_2, err, errlen)))
        return -1;
    r->agent->last_loss = ((const float *)t->data)[0];
    r->agent->last_q = ((const float *)t->data)[1];
    return 0;
}

/* env.rng, env.layout, env.state, env.ret: each env's state validated by
 * env_check_state before it is set. */
static int restore_envs(Run *r, const StFile *f, char *err, size_t errlen)
{
    size_t E = (size_t)r->E, nc = (size_t)r->ncells;
    int64_t sh_er[2] = {(int64_t)E, 4}, sh_el[2] = {(int64_t)E, (int64_t)nc}, sh_e[1] = {(int64_t)E};
    const StTensor *rng = st_expect(f, "env.rng", ST_U32, 2, sh_er, err, errlen);
    const StTensor *lay = rng ? st_expect(f, "env.layout", ST_U8, 2, sh_el, err, errlen) : NULL;
    const StTensor *st = lay ? st_expect(f, "env.state", ST_I64, 2, sh_er, err, errlen) : NULL;
    const StTensor *ret = st ? st_expect(f, "env.ret", ST_F32, 1, sh_e, err, errlen) : NULL;
    if (!ret)
        return -1;
    char why[512], msg[600];
    for (size_t e = 0; e < E; e++) {
        Env *env = &r->venv.envs[e];
        const int64_t *s = (const int64_t *)st->data + 4 * e;
        const uint32_t *rs = (const uint32_t *)rng->data + 4 * e;
        const uint8_t *layout = (const uint8_t *)lay->data + e * nc;
        if (rng_zero(rs)) {
            snprintf(msg, sizeof msg, "env %zu: the RNG state is all zero; allowed: any other state (xoshiro128** never leaves zero)", e);
            return bad_tensor(r, "env.rng", msg, err, errlen);
        }
        if (env_check_state(env, layout, s[0], s[1], why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "env %zu: %s", e, why);
            return bad_tensor(r, strstr(why, "cell bits") || strstr(why, "border") ? "env.layout" : "env.state", msg, err, errlen);
        }
        if (s[2] < 0 || s[2] >= D4_ORDER || s[3] < 0) {
            snprintf(msg, sizeof msg, "env %zu: orientation %lld, episodes %lld; allowed: orientation 0..%d, episodes >= 0", e, (long long)s[2], (long long)s[3], D4_ORDER - 1);
            return bad_tensor(r, "env.state", msg, err, errlen);
        }
        memcpy(env->rng.s, rs, sizeof env->rng.s);
        env_set_state(env, layout, (int)s[0]);
        env->t = (int)s[1];
        env->orient = (int)s[2];
        env->episodes = s[3];
        env->ret = ((const float *)ret->data)[e];
        env_observe(env, r->obs + e * nc);
    }
    return 0;
}

/* replay.*: size and position within the buffer, transitions checked by
 * replay_check. */
static int restore_replay(Run *r, const StFile *f, char *err, size_t errlen)
{
    size_t nc = (size_t)r->ncells;
    Replay *rp = &r->replay;
    int64_t sh_3[1] = {3}, sh_4[1] = {4};
    const StTensor *t = st_expect(f, "replay.state", ST_I64, 1, sh_3, err, errlen);
    if (!t)
        return -1;
    const int64_t *rs = t->data;
    char why[512];
    if (rs[0] != (int64_t)rp->capacity || rs[1] < 0 || rs[1] > rs[0] || rs[2] < 0 || rs[2] >= rs[0] || (rs[1] < rs[0] && rs[2] != rs[1])) {
        snprintf(why, sizeof why, "[capacity, size, pos] = [%lld, %lld, %lld]; allowed: capacity = buffer_size = %zu, 0 <= size <= capacity, pos = size while not full, else 0 <= pos < capacity",
                 (long long)rs[0], (long long)rs[1], (long long)rs[2], rp->capacity);
        return bad_tensor(r, "replay.state", why, err, errlen);
    }
    rp->size = (size_t)rs[1];
    rp->pos = (size_t)rs[2];
    if (!(t = st_expect(f, "replay.rng", ST_U32, 1, sh_4, err, errlen)))
        return -1;
    if (rng_zero(t->data))
        return bad_tensor(r, "replay.rng", "the RNG state is all zero; allowed: any other state (xoshiro128** never leaves zero)", err, errlen);
    memcpy(rp->rng.s, t->data, sizeof rp->rng.s);
    int64_t S = (int64_t)rp->size, sh_s[1] = {S}, sh_sn[2] = {S, (int64_t)nc};
    struct {
        const char *name;
        StDtype dt;
        int nd;
        const int64_t *sh;
        void *dst;
        size_t bytes;
    } parts[] = {
        {"replay.obs", ST_U8, 2, sh_sn, rp->obs, (size_t)S * nc},
        {"replay.next_obs", ST_U8, 2, sh_sn, rp->next_obs, (size_t)S * nc},
        {"replay.action", ST_U8, 1, sh_s, rp->action, (size_t)S},
        {"replay.reward", ST_F32, 1, sh_s, rp->reward, (size_t)S * sizeof(float)},
        {"replay.done", ST_U8, 1, sh_s, rp->done, (size_t)S},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!(t = st_expect(f, parts[i].name, parts[i].dt, parts[i].nd, parts[i].sh, err, errlen)))
            return -1;
        memcpy(parts[i].dst, t->data, parts[i].bytes);
    }
    if (replay_check(rp, (1u << r->agent->C) - 1u, r->agent->A, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: tensor %s", r->path_ckpt, why);
        return -1;
    }
    return 0;
}

/* Restores counters, envs and replay from an opened checkpoint, validating
 * every field as strictly as a map or config file (the file is input). */
static int run_restore(Run *r, const StFile *f, int64_t *rows, char *err, size_t errlen)
{
    if (restore_counters(r, f, rows, err, errlen) != 0 || restore_envs(r, f, err, errlen) != 0)
        return -1;
    return restore_replay(r, f, err, errlen);
}

/* Cuts a CSV after its header and `rows` data rows (what the checkpoint saw). */
static int keep_rows(const char *path, int64_t rows, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int64_t lines = 0, want = rows + 1;
    long offset = 0;
    int ch;
    while (lines < want && (ch = getc(f)) != EOF) {
        offset++;
        if (ch == '\n')
            lines++;
    }
    fclose(f);
    if (lines < want) {
        snprintf(err, errlen, "%s: has %lld rows but the checkpoint recorded %lld; the run directory was changed by hand", path, (long long)(lines > 0 ? lines - 1 : 0), (long long)rows);
        return -1;
    }
    if (truncate(path, (off_t)offset) != 0) {
        snprintf(err, errlen, "%s: cannot truncate: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static FILE *open_csv(const char *path, const char *header, int resume, int64_t rows, char *err, size_t errlen)
{
    if (resume) {
        if (keep_rows(path, rows, err, errlen) != 0)
            return NULL;
        FILE *f = fopen(path, "a");
        if (!f)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return f;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    fputs(header, f);
    return f;
}

static int write_config(const Run *r, char *err, size_t errlen)
{
    AtomicFile *af = atomicfile_open(r->path_config, err, errlen);
    if (!af)
        return -1;
    config_write_ini(&r->cfg, atomicfile_stream(af));
    return atomicfile_commit(af, err, errlen);
}

static void progress(const Run *r, double t0, long step0, FILE *f, ProgressStyle style)
{
    double el = clock_seconds() - t0;
    double sps = el > 0 ? (double)(r->step - step0) / el : 0.0;
    long total = r->cfg.train.steps;
    long n = r->nrecent < RECENT ? r->nrecent : RECENT;
    double ret = 0.0, success = 0.0;
    for (long i = 0; i < n; i++) {
        ret += r->recent_ret[i];
        success += r->recent_success[i];
    }
    if (n > 0) {
        ret /= (double)n;
        success /= (double)n;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%ld episodes, last %ld: return %.2f, success %3.0f %%  %.0f steps/s", (long)r->episodes, n, ret, 100.0 * success, sps);
    Progress p = {.done = r->step, .total = total, .unit = "steps", .elapsed = el, .eta = sps > 0 ? (double)(total - r->step) / sps : -1.0, .detail = detail};
    progress_print(f, style, &p);
}

/* Exports the networks to best.safetensors (metadata: step, eval_success)
 * after an evaluation that beat every earlier one (ties keep the earlier). */
static int best_save(Run *r, float success, char *err, size_t errlen)
{
    char step[32], succ[32];
    snprintf(step, sizeof step, "%ld", r->step);
    snprintf(succ, sizeof succ, "%.6f", success);
    const char *mk[] = {"step", "eval_success"}, *mv[] = {step, succ};
    if (agent_export(r->agent, r->path_best, mk, mv, 2, err, errlen) != 0)
        return -1;
    r->best_success = success;
    return 0;
}

/* On resume: the success of best.safetensors if it comes from one of the
 * evaluations the resumed run keeps (eval_rows on the eval_every schedule),
 * else -1: the resumed run's next evaluation then rewrites the file (so a best
 * from a dropped evaluation, after the checkpoint or an off-schedule final
 * one, is not kept). */
static float best_restore(const Run *r)
{
    char err[256];
    StFile *f = st_open(r->path_best, err, sizeof err);
    if (!f)
        return -1.0f;
    const char *step = st_meta(f, "step"), *succ = st_meta(f, "eval_success");
    long kept = r->cfg.eval.eval_every > 0 ? r->eval_rows * r->cfg.eval.eval_every : -1;
    float best = -1.0f;
    if (step && succ && strtol(step, NULL, 10) <= kept)
        best = strtof(succ, NULL);
    st_close(f);
    return best;
}

static int eval_row(Run *r, TrainResult *res, char *err, size_t errlen)
{
    EvalResult ev;
    if (evaluate(r->agent, &r->ec, r->map, r->cfg.eval.eval_episodes, r->cfg.eval.eval_epsilon, &ev, err, errlen) != 0)
        return -1;
    fprintf(r->evalf, "%ld,%.6f,%.6f,%.6f,%.6f,%d,%.6f\n", r->step, ev.ret_mean, ev.ret_std, ev.success, ev.len_mean, ev.episodes, ev.w_pretrain);
    res->final = ev;
    if (ferror(r->evalf))
        return csv_check(r->evalf, r->path_eval, err, errlen);
    return ev.success > r->best_success ? best_save(r, ev.success, err, errlen) : 0;
}

/* Creates the run directory and its missing parents (noting whether the
 * run directory existed) and names the files in it. */
static int run_paths(Run *r, const char *dir, char *err, size_t errlen)
{
    char parent[sizeof r->dir];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (file_mkdir_p(parent, err, errlen) != 0)
            return -1;
    }
    if (mkdir(dir, 0777) == 0)
        r->created_dir = 1;
    else if (errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the run directory: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->path_metrics, sizeof r->path_metrics, "%s/metrics.csv", dir);
    snprintf(r->path_eval, sizeof r->path_eval, "%s/eval.csv", dir);
    snprintf(r->path_ckpt, sizeof r->path_ckpt, "%s/checkpoint.safetensors", dir);
    snprintf(r->path_config, sizeof r->path_config, "%s/config.ini", dir);
    snprintf(r->path_lock, sizeof r->path_lock, "%s/.lock", dir);
    snprintf(r->path_best, sizeof r->path_best, "%s/best.safetensors", dir);
    r->best_success = -1.0f;
    return 0;
}

/* Takes the run directory's advisory lock (a POSIX write lock on DIR/.lock,
 * released when the process ends, however it ends), so that one trainer at
 * a time writes the run. The lock file holds the owner's pid. */
static int run_lock(Run *r, char *err, size_t errlen)
{
    r->lock_fd = open(r->path_lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (r->lock_fd < 0) {
        snprintf(err, errlen, "%s: cannot create the lock file: %s", r->path_lock, strerror(errno));
        return -1;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(r->lock_fd, F_SETLK, &fl) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(r->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EACCES || e == EAGAIN)
            snprintf(err, errlen, "%s: another equigrid train (pid %s) is writing this run directory; allowed: one trainer per run directory (wait for it, stop it, or use --out for another directory)", r->dir, pid[0] ? pid : "?");
        else
            snprintf(err, errlen, "%s: cannot lock: %s", r->path_lock, strerror(e));
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(r->lock_fd, 0) != 0 || pwrite(r->lock_fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "%s: cannot write: %s", r->path_lock, strerror(errno));
        return -1;
    }
    return 0;
}

/* After a failed start in a directory this call created: removes what it
 * wrote and the directory, so failed starts leave nothing behind. */
static void run_unmake(Run *r)
{
    if (!r->created_dir)
        return;
    const char *files[] = {r->path_metrics, r->path_eval, r->path_config, r->path_lock};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(r->dir);
}

/* Opens the checkpoint of the run to resume into *ck; the run must continue
 * with the same config (only [train] steps may grow). */
static int resume_open(Run *r, const Config *cfg, StFile **ck, char *err, size_t errlen)
{
    *ck = st_open(r->path_ckpt, err, errlen);
    if (!*ck)
        return -1;
    if (agent_is_export(*ck)) {
        snprintf(err, errlen, "%s is an export (equigrid export: the networks alone, without the target network, Adam, the replay buffer and the trainer state); --resume needs the checkpoint a run writes", r->path_ckpt);
        return -1;
    }
    Config stored;
    if (agent_stored_config(*ck, r->path_ckpt, &stored, err, errlen) != 0)
        return -1;
    stored.train.steps = cfg->train.steps;
    char *a = config_to_string(&stored), *b = config_to_string(cfg);
    int same = a && b && strcmp(a, b) == 0;
    if (!same && a && b) {
        const char *p = a, *q = b;
        while (*p && *p == *q)
            p++, q++;
        while (p > a && p[-1] != '\n')
            p--;
        const char *eol = strchr(p, '\n');
        snprintf(err, errlen, "%s: the run was made with a different config (first difference at '%.*s'); only [train] steps may change on --resume", r->path_ckpt, (int)(eol ? eol - p : (long)strlen(p)), p);
    }
    free(a);
    free(b);
    return same ? 0 : -1;
}

/* Decides whether the run starts fresh or resumes (opening the checkpoint
 * into *ck). A directory whose run was killed before its first checkpoint
 * (CSVs, no checkpoint) holds nothing to continue: it starts afresh, with or
 * without --resume, which gives what an uninterrupted run gives. */
static int run_start(Run *r, const Config *cfg, const TrainOptions *opt, StFile **ck, char *err, size_t errlen)
{
    int have_ckpt = access(r->path_ckpt, F_OK) == 0, have_run = access(r->path_metrics, F_OK) == 0;
    if (have_ckpt && opt->resume)
        return resume_open(r, cfg, ck, err, errlen);
    if (have_ckpt) {
        snprintf(err, errlen, "%s already holds a run (checkpoint.safetensors exists); use --resume to continue it, or --out for another directory", r->dir);
        return -1;
    }
    if (opt->resume && !have_run) {
        snprintf(err, errlen, "%s: nothing to resume (no checkpoint.safetensors and no metrics.csv); allowed: --resume on a run directory that equigrid train wrote, or train without --resume to start one", r->dir);
        return -1;
    }
    if (have_run && opt->log)
        fprintf(opt->log, "equigrid train: %s holds a run that stopped before its first checkpoint; starting it afresh\n", r->dir);
    return 0;
}

/* A resumed run with the prior reads its states again from network.init
 * (the checkpoint keeps only the prior's Rng). */
static int resume_prior_states(Run *r, char *err, size_t errlen)
{
    StFile *f = st_open(r->cfg.network.init, err, errlen);
    int rc = f ? agent_prior_states(r->agent, f, r->cfg.network.init, err, errlen) : -1;
    st_close(f);
    return rc;
}

/* Prefixes the message in err with the checkpoint whose stored config it
 * is about; returns -1. */
static int name_checkpoint(const char *path, char *err, size_t errlen)
{
    char why[1024];
    snprintf(why, sizeof why, "%s", err);
    snprintf(err, errlen, "%s: its stored config: %s", path, why);
    return -1;
}

/* Builds envs, agent (from ck when resuming) and replay, and restores or
 * starts the counters; log (may be NULL) hears where the base network came
 * from. */
static int run_build(Run *r, const StFile *ck, FILE *log, int64_t *rows, char *err, size_t errlen)
{
    r->map = malloc(sizeof *r->map);
    if (!r->map) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->E = r->cfg.train.num_envs;
    r->B = r->cfg.train.batch_size;
    if (agent_env_config(&r->cfg, &r->ec, r->map, err, errlen) != 0 || vec_init(&r->venv, r->E, &r->ec, r->map, STREAM_ENV, err, errlen) != 0)
        return ck ? name_checkpoint(r->path_ckpt, err, errlen) : -1;
    const Env *e0 = &r->venv.envs[0];
    r->ncells = e0->ncells;
    if (ck)
        r->agent = agent_from_file(ck, r->path_ckpt, NULL, 0, err, errlen);
    else
        r->agent = agent_create(&r->cfg, e0->planes, e0->n, e0->nactions, err, errlen);
    if (!r->agent)
        return -1;
    if (ck && r->cfg.symmetry.prior > 0.0f && resume_prior_states(r, err, errlen) != 0)
        return -1;
    if (!ck && r->cfg.network.init[0] && log)
        fprintf(log, "equigrid train: base network initialised from %s\n", r->cfg.network.init);
    r->agent->cfg = r->cfg; /* a resumed run may have a larger [train] steps */
    if (replay_init(&r->replay, (size_t)r->cfg.train.buffer_size, r->ncells, r->cfg.run.seed, STREAM_REPLAY) != 0) {
        snprintf(err, errlen, "cannot allocate a replay buffer of %ld transitions", r->cfg.train.buffer_size);
        return -1;
    }
    if (run_alloc(r, err, errlen) != 0)
        return -1;
    rows[0] = rows[1] = 0;
    if (ck) {
        if (run_restore(r, ck, rows, err, errlen) != 0)
            return -1;
        r->best_success = best_restore(r);
        return 0;
    }
    vec_reset(&r->venv, r->obs);
    r->next_eval = r->cfg.eval.eval_every;
    r->next_ckpt = r->cfg.train.checkpoint_every;
    r->next_target = r->cfg.agent.target_update;
    return 0;
}

/* run_build, then writes config.ini and opens the CSVs. */
static int run_open(Run *r, const StFile *ck, const TrainOptions *opt, char *err, size_t errlen)
{
    int64_t rows[2];
    if (run_build(r, ck, opt->log, rows, err, errlen) != 0)
        return -1;
    if (ck && r->step >= r->cfg.train.steps)
        return 0; /* a finished run: resuming it must change nothing */
    if (write_config(r, err, errlen) != 0)
        return -1;
    r->metrics = open_csv(r->path_metrics, "step,episode,return,length,success,epsilon,loss,mean_q,sps\n", ck != NULL, rows[0], err, errlen);
    if (!r->metrics)
        return -1;
    r->evalf = open_csv(r->path_eval, "step,return_mean,return_std,success,length_mean,episodes,w_pretrain\n", ck != NULL, rows[1], err, errlen);
    return r->evalf ? 0 : -1;
}

/* One iteration of acting: every env takes an epsilon-greedy step, the
 * transitions go into the replay buffer, finished episodes into metrics.csv. */
static void run_collect(Run *r, float eps)
{
    size_t nc = (size_t)r->ncells;
    agent_act(r->agent, r->obs, r->E, eps, r->act);
    memcpy(r->prev_obs, r->obs, (size_t)r->E * nc);
    vec_step(&r->venv, r->act, r->next_obs, r->obs, r->rew, r->term, r->trunc);
    r->iter++;
    for (int e = 0; e < r->E; e++) {
        replay_push(&r->replay, r->prev_obs + (size_t)e * nc, r->act[e], r->rew[e], r->next_obs + (size_t)e * nc, r->term[e]);
        if (r->term[e] || r->trunc[e]) {
            const EpisodeStats *s = &r->venv.envs[e].last;
            double el = clock_seconds() - r->t0;
            r->episodes++;
            r->recent_ret[r->nrecent % RECENT] = s->ret;
            r->recent_success[r->nrecent % RECENT] = s->success;
            r->nrecent++;
            fprintf(r->metrics, "%ld,%ld,%.4f,%d,%d,%.4f,%.6f,%.6f,%.0f\n", r->step + e + 1, r->episodes, s->ret, (int)s->length, (int)s->success, eps, r->agent->last_loss, r->agent->last_q, el > 0 ? (double)(r->step + e + 1 - r->step0) / el : 0.0);
        }
    }
    r->step += r->E;
}

/* gradient_steps updates on batches sampled from the replay buffer. */
static void run_update(Run *r, TrainResult *res)
{
    double tu = clock_seconds(), sym0 = sym_seconds(r->agent);
    for (int g = 0; g < r->cfg.train.gradient_steps; g++) {
        replay_sample(&r->replay, r->idx, r->B);
        replay_batch(&r->replay, r->idx, r->B, r->agent->C, r->agent->n, r->b_obs, r->b_next, r->b_act, r->b_rew, r->b_done);
        agent_update(r->agent, r->b_obs, r->b_act, r->b_rew, r->b_next, r->b_done, r->B);
        res->updates++;
    }
    res->update_seconds += clock_seconds() - tu;
    res->update_sym_seconds += sym_seconds(r->agent) - sym0;
}

/* What falls due at this step: target sync, evaluation, checkpoint (the
 * last two not at the final step, which run_finish handles). */
static int run_schedules(Run *r, TrainResult *res, char *err, size_t errlen)
{
    const Config *c = &r->cfg;
    if (r->step >= r->next_target) {
        if (r->step > c->train.learning_starts)
            agent_sync_target(r->agent);
        r->next_target += c->agent.target_update;
    }
    if (c->eval.eval_every > 0 && r->step >= r->next_eval && r->step < c->train.steps) {
        if (eval_row(r, res, err, errlen) != 0)
            return -1;
        r->eval_rows++;
        r->next_eval += c->eval.eval_every;
    }
    if (c->train.checkpoint_every > 0 && r->step >= r->next_ckpt && r->step < c->train.steps) {
        if (run_save(r, err, errlen) != 0)
            return -1;
        r->next_ckpt += c->train.checkpoint_every;
    }
    return 0;
}

/* Steps until [train] steps or until opt->stop is raised (r->stopped). */
static int run_loop(Run *r, const TrainOptions *opt, TrainResult *res, char *err, size_t errlen)
{
    const Config *c = &r->cfg;
    r->t0 = clock_seconds();
    r->last_draw = 0.0;
    r->step0 = r->step;
    if (r->step == 0 && r->agent->updates == 0) /* a fresh run, before its first env step */
        for (int k = 0; k < c->train.prior_updates; k++) {
            float loss = agent_prior_update(r->agent);
            if (k == 0)
                res->prior_loss_first = loss;
            res->prior_loss_last = loss;
            res->prior_updates++;
        }
    while (r->step < c->train.steps) {
        if (opt->stop && *opt->stop) {
            r->stopped = 1;
            break;
        }
        run_collect(r, epsilon_at(c, r->step));
        if (ferror(r->metrics))
            return csv_check(r->metrics, r->path_metrics, err, errlen);
        if (r->step > c->train.learning_starts && r->iter % c->train.train_freq == 0)
            run_update(r, res);
        if (run_schedules(r, res, err, errlen) != 0)
            return -1;
        double every = opt->progress_style == PROGRESS_BAR ? 0.2 : opt->progress_every;
        if (opt->progress && (r->iter & 255) == 0 && clock_seconds() - r->last_draw > every) {
            r->last_draw = clock_seconds();
            progress(r, r->t0, r->step0, stderr, opt->progress_style);
        }
    }
    return 0;
}

/* The final evaluation (unless stopped), the last checkpoint, the result. */
static int run_finish(Run *r, const TrainOptions *opt, TrainResult *res, char *err, size_t errlen)
{
    const Config *c = &r->cfg;
    if (!r->stopped) {
        /* schedules move past this step exactly as a longer run passing
         * through here would have moved them */
        int scheduled = c->eval.eval_every > 0 && r->step >= r->next_eval;
        if (eval_row(r, res, err, errlen) != 0)
            return -1;
        r->eval_rows += scheduled;
        while (c->eval.eval_every > 0 && r->next_eval <= r->step)
            r->next_eval += c->eval.eval_every;
        while (c->train.checkpoint_every > 0 && r->next_ckpt <= r->step)
            r->next_ckpt += c->train.checkpoint_every;
    }
    if (run_save(r, err, errlen) != 0)
        return -1;
    if (opt->progress) {
        progress(r, r->t0, r->step0, stderr, opt->progress_style);
        progress_end(stderr, opt->progress_style);
    }
    if (opt->keep_agent) {
        opt->keep_agent[0] = r->agent;
        r->agent = NULL;
    }
    res->steps = r->step;
    res->steps_run = r->step - r->step0;
    res->episodes = r->episodes;
    res->interrupted = r->stopped;
    res->seconds = clock_seconds() - r->t0;
    return 0;
}

int train_run(const Config *cfg, const TrainOptions *opt, TrainResult *res, char *err, size_t errlen)
{
    Run run, *r = &run;
    memset(r, 0, sizeof *r);
    memset(res, 0, sizeof *res);
    r->cfg = *cfg;
    r->lock_fd = -1;
    if (run_paths(r, opt->out_dir, err, errlen) != 0)
        return -1;
    StFile *ck = NULL;
    int rc = run_lock(r, err, errlen);
    if (rc == 0)
        rc = run_start(r, cfg, opt, &ck, err, errlen);
    if (rc == 0)
        rc = run_open(r, ck, opt, err, errlen);
    st_close(ck);
    if (rc != 0)
        run_unmake(r);
    if (rc == 0 && ck && r->step >= cfg->train.steps) {
        res->already_finished = 1; /* run_open touched nothing: see there */
        res->steps = r->step;
        res->episodes = r->episodes;
    } else if (rc == 0) {
        rc = run_loop(r, opt, res, err, errlen);
        if (rc == 0)
            rc = run_finish(r, opt, res, err, errlen);
        rc = csv_close(r, rc, err, errlen);
    }
    run_free(r);
    return rc;
}

int train_check_checkpoint(const char *path, char *err, size_t errlen)
{
    Run run, *r = &run;
    memset(r, 0, sizeof *r);
    snprintf(r->path_ckpt, sizeof r->path_ckpt, "%s", path);
    StFile *ck = st_open(path, err, errlen);
    if (!ck)
        return -1;
    int64_t rows[2];
    int rc = agent_stored_config(ck, path, &r->cfg, err, errlen);
    if (rc == 0)
        rc = run_build(r, ck, NULL, rows, err, errlen);
    st_close(ck);
    run_free(r);
    return rc;
}

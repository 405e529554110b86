/* test_train.c - the DQN agent and training loop end to end: a fast learning
 * test, determinism, exact resume (after a clean stop and after an
 * asynchronous interrupt), checkpoint loading errors, canonical and the
 * canonicalization prior, the weight on the pretraining view, and the
 * command line. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../agents/agent.h"
#include "../agents/train.h"
#include "../nn/safetensors.h"
#include "check_main.h"
#include "testutil.h"

/* metrics.csv without its last column (wall-clock steps/s). */
static char *strip_sps(const char *path)
{
    char *s = test_slurp(path, NULL);
    ck_assert_msg(s != NULL, "cannot read %s", path);
    char *out = malloc(strlen(s) + 1), *o = out;
    for (char *line = s; *line;) {
        char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char *comma = NULL;
        for (size_t i = 0; i < len; i++)
            if (line[i] == ',')
                comma = line + i;
        size_t keep = comma ? (size_t)(comma - line) : len;
        memcpy(o, line, keep);
        o += keep;
        *o++ = '\n';
        line += len + (eol ? 1 : 0);
    }
    *o = '\0';
    free(s);
    return out;
}

static void small_config(Config *c, long steps)
{
    config_default(c);
    snprintf(c->env.name, sizeof c->env.name, "goal");
    c->env.size = 5;
    c->train.steps = steps;
    c->train.learning_starts = 200;
    c->train.buffer_size = 5000;
    c->train.batch_size = 32;
    c->agent.eps_steps = steps / 2;
    c->agent.target_update = 100;
    c->eval.eval_every = 500;
    c->eval.eval_episodes = 20;
    c->train.checkpoint_every = 500;
    snprintf(c->network.hidden, sizeof c->network.hidden, "32,32");
    snprintf(c->run.name, sizeof c->run.name, "t");
}

static void run_ok(const Config *c, const char *dir, int resume, volatile sig_atomic_t *stop, TrainResult *res)
{
    char err[1024];
    TrainOptions opt = {.out_dir = dir, .resume = resume, .stop = stop};
    int rc = train_run(c, &opt, res, err, sizeof err);
    ck_assert_msg(rc == 0, "train_run(%s) failed: %s", dir, err);
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = test_slurp(a, &la), *y = test_slurp(b, &lb);
    ck_assert_msg(x && y, "cannot read %s or %s", a, b);
    ck_assert_msg(la == lb && memcmp(x, y, la) == 0, "%s and %s differ (%zu vs %zu bytes)", a, b, la, lb);
    free(x);
    free(y);
}

static void assert_same_metrics(const char *da, const char *db)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/metrics.csv", da);
    snprintf(pb, sizeof pb, "%s/metrics.csv", db);
    char *x = strip_sps(pa), *y = strip_sps(pb);
    ck_assert_msg(strcmp(x, y) == 0, "metrics.csv of %s and %s differ (steps/s column ignored)", da, db);
    free(x);
    free(y);
    snprintf(pa, sizeof pa, "%s/eval.csv", da);
    snprintf(pb, sizeof pb, "%s/eval.csv", db);
    assert_same_file(pa, pb);
    snprintf(pa, sizeof pa, "%s/checkpoint.safetensors", da);
    snprintf(pb, sizeof pb, "%s/checkpoint.safetensors", db);
    assert_same_file(pa, pb);
}

START_TEST(learns_goal_5x5)
{
    Config c;
    small_config(&c, 6000);
    c.eval.eval_episodes = 100;
    c.train.checkpoint_every = 0;
    c.eval.eval_every = 0;
    char *d = test_tmpdir("train");
    TrainResult res;
    run_ok(&c, d, 0, NULL, &res);
    ck_assert_msg(res.final.episodes == 100, "final evaluation ran %d episodes", res.final.episodes);
    ck_assert_msg(res.final.success >= 0.9, "greedy success on goal 5x5 after %ld steps is %.2f, expected >= 0.90", res.steps, res.final.success);
    free(d);
}
END_TEST

START_TEST(deterministic)
{
    Config c;
    small_config(&c, 1500);
    char *d1 = test_tmpdir("train"), *d2 = test_tmpdir("train");
    TrainResult r1, r2;
    run_ok(&c, d1, 0, NULL, &r1);
    run_ok(&c, d2, 0, NULL, &r2);
    assert_same_metrics(d1, d2);
    free(d1);
    free(d2);
}
END_TEST

/* run.threads = 2: two runs of the same config and seed write identical
 * CSVs and checkpoints, for an MLP and for a CNN base, both under lambda
 * over d4 (|G|*B = 64 rows, so every kernel is split). */
START_TEST(deterministic_threads)
{
    for (int cnn = 0; cnn < 2; cnn++) {
        Config c;
        small_config(&c, 400);
        c.run.threads = 2;
        c.train.batch_size = 8;
        c.eval.eval_every = 0;
        c.train.checkpoint_every = 0;
        snprintf(c.symmetry.method, sizeof c.symmetry.method, "lambda");
        snprintf(c.symmetry.group, sizeof c.symmetry.group, "d4");
        if (cnn) {
            snprintf(c.network.type, sizeof c.network.type, "cnn");
            snprintf(c.network.conv, sizeof c.network.conv, "8,8");
        }
        char *d1 = test_tmpdir("train"), *d2 = test_tmpdir("train");
        TrainResult r1, r2;
        run_ok(&c, d1, 0, NULL, &r1);
        run_ok(&c, d2, 0, NULL, &r2);
        ck_assert_msg(r1.updates > 0, "no update was taken");
        assert_same_metrics(d1, d2);
        free(d1);
        free(d2);
    }
}
END_TEST

/* Several envs stepped together (one batched forward for their actions):
 * runs, counts steps over all envs, and stays deterministic and resumable. */
START_TEST(vector_envs)
{
    Config c;
    small_config(&c, 1200);
    c.train.num_envs = 4;
    char *d1 = test_tmpdir("train"), *d2 = test_tmpdir("train");
    TrainResult r1, r2;
    run_ok(&c, d1, 0, NULL, &r1);
    ck_assert_msg(r1.steps == 1200 && r1.episodes > 0, "steps %ld episodes %ld", r1.steps, r1.episodes);
    Config c1 = c;
    c1.train.steps = 600;
    run_ok(&c1, d2, 0, NULL, &r2);
    run_ok(&c, d2, 1, NULL, &r2);
    assert_same_metrics(d1, d2);
    free(d1);
    free(d2);
}
END_TEST

/* best.safetensors of two runs: the same step, success and tensors. */
static void assert_same_best(const char *a, const char *b)
{
    char pa[1100], pb[1100], err[1024];
    snprintf(pa, sizeof pa, "%s/best.safetensors", a);
    snprintf(pb, sizeof pb, "%s/best.safetensors", b);
    StFile *fa = st_open(pa, err, sizeof err), *fb = fa ? st_open(pb, err, sizeof err) : NULL;
    ck_assert_msg(fa && fb, "best.safetensors of both runs: %s", err);
    ck_assert_msg(strcmp(st_meta(fa, "step"), st_meta(fb, "step")) == 0, "best at step %s vs %s", st_meta(fa, "step"), st_meta(fb, "step"));
    ck_assert_msg(strcmp(st_meta(fa, "eval_success"), st_meta(fb, "eval_success")) == 0, "best success %s vs %s", st_meta(fa, "eval_success"), st_meta(fb, "eval_success"));
    ck_assert_msg(st_count(fa) == st_count(fb), "tensor counts %d vs %d", st_count(fa), st_count(fb));
    for (int i = 0; i < st_count(fa); i++) {
        const StTensor *x = st_at(fa, i), *y = st_find(fb, x->name);
        ck_assert_msg(y && x->dtype == ST_F32 && y->dtype == ST_F32 && x->ndim == y->ndim, "best tensor %s: F32 in both", x->name);
        size_t n = sizeof(float);
        for (int k = 0; k < x->ndim; k++) {
            ck_assert_msg(x->shape[k] == y->shape[k], "best tensor %s: shapes differ", x->name);
            n *= (size_t)x->shape[k];
        }
        ck_assert_msg(memcmp(x->data, y->data, n) == 0, "best tensor %s differs", x->name);
    }
    st_close(fa);
    st_close(fb);
}

/* best.safetensors holds the networks of the first evaluation with the
 * highest success (metadata step and eval_success), and loads like a
 * checkpoint. */
START_TEST(best_checkpoint)
{
    Config c;
    small_config(&c, 1500);
    c.eval.eval_every = 100;
    char *d = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, d, 0, NULL, &r);
    char path[1100], line[256];
    snprintf(path, sizeof path, "%s/eval.csv", d);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f && fgets(line, sizeof line, f), "eval.csv header");
    long best_step = -1, rows = 0;
    double best = -1.0;
    while (fgets(line, sizeof line, f)) {
        long step;
        double ret, sd, succ;
        ck_assert_msg(sscanf(line, "%ld,%lf,%lf,%lf", &step, &ret, &sd, &succ) == 4, "eval row %s", line);
        if ((float)succ > (float)best) {
            best = succ;
            best_step = step;
        }
        rows++;
    }
    fclose(f);
    ck_assert_msg(rows == 15, "15 evaluations, got %ld", rows);
    snprintf(path, sizeof path, "%s/best.safetensors", d);
    char err[1024];
    StFile *st = st_open(path, err, sizeof err);
    ck_assert_msg(st != NULL, "best.safetensors: %s", err);
    ck_assert_msg(strtol(st_meta(st, "step"), NULL, 10) == best_step, "best at step %s, the first row with the top success (%.3f) is %ld", st_meta(st, "step"), best, best_step);
    ck_assert_msg(fabs(strtod(st_meta(st, "eval_success"), NULL) - best) < 1e-6, "best success %s vs %.6f", st_meta(st, "eval_success"), best);
    ck_assert_msg(st_find(st, "q.0.weight") && !st_find(st, "adam.m") && !st_find(st, "target.q.0.weight"), "the networks alone");
    st_close(st);
    Agent *a = agent_load(path, NULL, 0, err, sizeof err);
    ck_assert_msg(a != NULL, "best.safetensors loads: %s", err);
    agent_free(a);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    ck_assert(system(cmd) == 0);
    free(d);
}
END_TEST

START_TEST(resume_equals_uninterrupted)
{
    Config c;
    small_config(&c, 1500);
    char *full = test_tmpdir("train"), *part = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, full, 0, NULL, &r);
    Config c1 = c;
    c1.train.steps = 700;
    run_ok(&c1, part, 0, NULL, &r);
    ck_assert_msg(r.steps == 700, "first part stopped at %ld", r.steps);
    run_ok(&c, part, 1, NULL, &r);
    ck_assert_msg(r.steps == 1500, "resumed run ended at %ld", r.steps);
    assert_same_metrics(full, part);
    assert_same_best(full, part);
    free(full);
    free(part);
}
END_TEST

static volatile sig_atomic_t alarm_stop;
static void on_alarm(int sig)
{
    (void)sig;
    alarm_stop = 1;
}

START_TEST(interrupt_then_resume)
{
    Config c;
    small_config(&c, 6000);
    char *full = test_tmpdir("train"), *part = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, full, 0, NULL, &r);
    signal(SIGALRM, on_alarm);
    struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 20000}};
    alarm_stop = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    run_ok(&c, part, 0, &alarm_stop, &r);
    signal(SIGALRM, SIG_DFL);
    ck_assert_msg(r.interrupted && r.steps < 6000, "run was not interrupted (steps %ld): the machine is too fast for a 20 ms alarm", r.steps);
    alarm_stop = 0;
    run_ok(&c, part, 1, NULL, &r);
    assert_same_metrics(full, part);
    free(full);
    free(part);
}
END_TEST

START_TEST(refuses_existing_run_and_other_config)
{
    Config c;
    small_config(&c, 300);
    char *d = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, d, 0, NULL, &r);
    char err[1024];
    TrainOptions opt = {.out_dir = d};
    ck_assert_msg(train_run(&c, &opt, &r, err, sizeof err) != 0, "a second run into the same directory must be refused");
    ck_assert_msg(strstr(err, "already holds a run") != NULL, "message: %s", err);
    opt.resume = 1;
    c.train.lr = 1e-2f;
    ck_assert_msg(train_run(&c, &opt, &r, err, sizeof err) != 0, "resume with another lr must be refused");
    ck_assert_msg(strstr(err, "different config") && strstr(err, "lr"), "message names the key: %s", err);
    free(d);
}
END_TEST

START_TEST(checkpoint_errors)
{
    Config c;
    small_config(&c, 300);
    char *d = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, d, 0, NULL, &r);
    char path[512], bad[512], err[1024];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", d);
    Agent *a = agent_load(path, NULL, 0, err, sizeof err);
    ck_assert_msg(a != NULL, "loading a fresh checkpoint: %s", err);
    agent_free(a);
    size_t len;
    char *bytes = test_slurp(path, &len);
    ck_assert_msg(bytes != NULL, "cannot read %s", path);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", d);
    size_t cuts[] = {0, 7, 8, 100, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        FILE *f = fopen(bad, "wb");
        fwrite(bytes, 1, cuts[i], f);
        fclose(f);
        err[0] = '\0';
        a = agent_load(bad, NULL, 0, err, sizeof err);
        ck_assert_msg(a == NULL, "a checkpoint truncated to %zu bytes loaded", cuts[i]);
        ck_assert_msg(strstr(err, bad) != NULL, "message names the file: %s", err);
    }
    const char *keys[] = {"x"}, *vals[] = {"y"};
    float v = 1.0f;
    StTensor t = {.name = "w", .dtype = ST_F32, .ndim = 1, .shape = {1}, .data = &v};
    ck_assert_msg(st_write(bad, &t, 1, keys, vals, 1, err, sizeof err) == 0, "st_write: %s", err);
    a = agent_load(bad, NULL, 0, err, sizeof err);
    ck_assert_msg(a == NULL && strstr(err, "not an equigrid checkpoint"), "foreign file: %s", err);
    free(bytes);
    free(d);
}
END_TEST


/* A plain run's base network, loaded into a lambda agent with freeze_q, stays
 * bit-identical through training while lambda changes; the lambda agent's
 * checkpoint reloads bit-exactly. */
START_TEST(freeze_q_and_lambda_roundtrip)
{
    Config c;
    small_config(&c, 400);
    c.eval.eval_every = 0;
    c.train.checkpoint_every = 0;
    char *plain = test_tmpdir("train"), *lam = test_tmpdir("train");
    TrainResult r;
    run_ok(&c, plain, 0, NULL, &r);
    char init[512], err[1024];
    snprintf(init, sizeof init, "%s/checkpoint.safetensors", plain);
    Agent *p = agent_load(init, NULL, 0, err, sizeof err);
    ck_assert_msg(p != NULL, "load plain: %s", err);

    Config l = c;
    snprintf(l.symmetry.method, sizeof l.symmetry.method, "lambda");
    snprintf(l.symmetry.group, sizeof l.symmetry.group, "d4");
    ck_assert_msg(strlen(init) < sizeof l.network.init, "temp path too long");
    memcpy(l.network.init, init, strlen(init) + 1);
    l.train.freeze_q = 1;
    Agent *a = NULL;
    TrainOptions opt = {.out_dir = lam, .keep_agent = &a};
    ck_assert_msg(train_run(&l, &opt, &r, err, sizeof err) == 0, "lambda run: %s", err);
    ck_assert_msg(r.updates > 0, "no updates were made");
    size_t base = qmodel_base_nparams(a->online);
    ck_assert_msg(base == p->nparams, "base sizes differ: %zu vs %zu", base, p->nparams);
    ck_assert_msg(memcmp(a->params, p->params, base * sizeof(float)) == 0, "freeze_q changed the base network");
    Agent *fresh = agent_create(&l, a->C, a->n, a->A, err, sizeof err);
    ck_assert_msg(fresh != NULL, "%s", err);
    ck_assert_msg(memcmp(a->params + base, fresh->params + base, (a->nparams - base) * sizeof(float)) != 0, "lambda did not train");

    char ck[512];
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", lam);
    Agent *b = agent_load(ck, NULL, 0, err, sizeof err);
    ck_assert_msg(b != NULL, "reload lambda checkpoint: %s", err);
    ck_assert_msg(b->nparams == a->nparams && memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0, "online parameters differ after reload");
    ck_assert_msg(memcmp(a->target_params, b->target_params, a->nparams * sizeof(float)) == 0, "target parameters differ after reload");
    ck_assert_msg(a->adam.t == b->adam.t && memcmp(a->adam.m, b->adam.m, a->adam.n * sizeof(float)) == 0, "Adam state differs after reload");
    uint8_t obs[25];
    Env env;
    EnvConfig ec;
    env_config_default(&ec, ENV_GOAL);
    ec.size = 5;
    ck_assert(env_init(&env, &ec, NULL, 9, err, sizeof err) == 0);
    env_reset(&env, obs);
    float qa[4], qb[4];
    memcpy(qa, agent_q(a, obs, 1), sizeof qa);
    memcpy(qb, agent_q(b, obs, 1), sizeof qb);
    ck_assert_msg(memcmp(qa, qb, sizeof qa) == 0, "Q-values differ after reload");
    agent_free(p);
    agent_free(a);
    agent_free(b);
    agent_free(fresh);
    free(plain);
    free(lam);
}
END_TEST

/* Sets a string field of a Config (the test's paths fit). */
#define SET_STR(field, value)                                                       \
    do {                                                                            \
        ck_assert_msg(strlen(value) < sizeof(field), "string too long: %s", value); \
        memcpy(field, value, strlen(value) + 1);                                    \
    } while (0)

/* A plain 400-step run in a new directory on a 6x6 map that no element of
 * D4 maps onto itself (so the orientation of its states can be told): the
 * pretrained network and replay the prior tests start from. Returns the
 * directory. */
static char *pretrain(Config *c, char *init, size_t len)
{
    small_config(c, 400);
    c->eval.eval_every = 0;
    c->train.checkpoint_every = 0;
    char *d = test_tmpdir("train"), map[512];
    snprintf(map, sizeof map, "%s/map.txt", d);
    FILE *f = fopen(map, "w");
    ck_assert_msg(f != NULL, "cannot write %s", map);
    fputs("######\n#A.#.#\n#....#\n#.#..#\n#...G#\n######\n", f);
    fclose(f);
    SET_STR(c->env.name, "map");
    SET_STR(c->env.map, map);
    c->env.size = 0;
    TrainResult r;
    run_ok(c, d, 0, NULL, &r);
    snprintf(init, len, "%s/checkpoint.safetensors", d);
    return d;
}

/* The prior with prior_updates and train.steps = 0, for lambda and
 * canonical: Q stays bit-identical, no env is stepped (no episode, an empty
 * replay, every env at t = 0), the weight network moves towards the
 * identity view (the prior loss falls, the evaluation's weight on the
 * pretraining view rises above uniform), and a canonical checkpoint holds
 * canon.* tensors that load back to the same networks and Q-values. */
START_TEST(prior_fit_without_env_steps)
{
    Config c;
    char init[512], err[1024];
    char *plain = pretrain(&c, init, sizeof init);
    Agent *p = agent_load(init, NULL, 0, err, sizeof err);
    ck_assert_msg(p != NULL, "load plain: %s", err);
    static const char *const methods[] = {"lambda", "canonical"};
    for (int mi = 0; mi < 2; mi++) {
        Config l = c;
        SET_STR(l.symmetry.method, methods[mi]);
        SET_STR(l.network.init, init);
        l.symmetry.prior = 1.0f;
        l.train.prior_updates = 300;
        l.train.lr = 1e-2f;
        l.train.freeze_q = 1;
        l.train.steps = 0;
        char *d = test_tmpdir("train");
        Agent *a = NULL;
        TrainResult r;
        TrainOptions opt = {.out_dir = d, .keep_agent = &a};
        ck_assert_msg(train_run(&l, &opt, &r, err, sizeof err) == 0, "%s prior run: %s", methods[mi], err);
        size_t base = qmodel_base_nparams(a->online);
        ck_assert_msg(memcmp(a->params, p->params, base * sizeof(float)) == 0, "%s: the prior changed Q", methods[mi]);
        ck_assert_msg(r.steps == 0 && r.episodes == 0 && r.final.episodes == l.eval.eval_episodes, "%s: steps %ld episodes %ld evaluated %d", methods[mi], r.steps, r.episodes, r.final.episodes);
        Agent *fresh = agent_create(&l, a->C, a->n, a->A, err, sizeof err);
        ck_assert_msg(fresh != NULL, "%s", err);
        Config l0 = l;
        l0.train.prior_updates = 0;
        Agent *untrained = agent_create(&l0, a->C, a->n, a->A, err, sizeof err);
        ck_assert_msg(untrained != NULL, "%s", err);
        float before = agent_prior_update(untrained);
        ck_assert_msg(memcmp(a->params + base, fresh->params + base, (a->nparams - base) * sizeof(float)) != 0, "%s: the weight network did not train", methods[mi]);
        ck_assert_msg(a->last_prior < 0.25f * before, "%s: prior loss %.4f after 300 updates, %.4f before", methods[mi], (double)a->last_prior, (double)before);
        ck_assert_msg(r.final.w_pretrain > 0.75, "%s: weight on the identity view %.3f after the prior", methods[mi], r.final.w_pretrain);
        char ck[600];
        snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", d);
        StFile *f = st_open(ck, err, sizeof err);
        ck_assert_msg(f != NULL, "%s", err);
        const StTensor *ro = st_find(f, "replay.obs"), *es = st_find(f, "env.state");
        ck_assert_msg(ro && ro->shape[0] == 0 && es && ((const int64_t *)es->data)[1] == 0, "%s: the run stepped its env", methods[mi]);
        int canon = mi == 1;
        ck_assert_msg((st_find(f, "canon.0.weight") != NULL) == canon && (st_find(f, "target.canon.2.bias") != NULL) == canon && (st_find(f, "lambda.0.weight") != NULL) == !canon,
                      "%s: weight network tensors named wrongly", methods[mi]);
        ck_assert_msg(st_find(f, "agent.prior_rng") != NULL, "%s: no agent.prior_rng", methods[mi]);
        st_close(f);
        char *metrics = NULL;
        char mp[600];
        snprintf(mp, sizeof mp, "%s/metrics.csv", d);
        metrics = test_slurp(mp, NULL);
        ck_assert_msg(metrics && strchr(metrics, '\n') == metrics + strlen(metrics) - 1, "%s: metrics.csv has rows: %s", methods[mi], metrics);
        free(metrics);
        Agent *b = agent_load(ck, NULL, 0, err, sizeof err);
        ck_assert_msg(b != NULL, "reload %s checkpoint: %s", methods[mi], err);
        ck_assert_msg(b->nparams == a->nparams && memcmp(a->params, b->params, a->nparams * sizeof(float)) == 0 && memcmp(a->target_params, b->target_params, a->nparams * sizeof(float)) == 0,
                      "%s: parameters differ after reload", methods[mi]);
        uint8_t obs[ENV_MAX_CELLS];
        Env env;
        EnvConfig ec;
        EnvMap *map = malloc(sizeof *map);
        ck_assert_msg(map && agent_env_config(&a->cfg, &ec, map, err, sizeof err) == 0 && env_init(&env, &ec, map, 9, err, sizeof err) == 0, "env: %s", err);
        env_reset(&env, obs);
        float qa[5], qb[5];
        memcpy(qa, agent_q(a, obs, 1), (size_t)a->A * sizeof(float));
        memcpy(qb, agent_q(b, obs, 1), (size_t)a->A * sizeof(float));
        ck_assert_msg(memcmp(qa, qb, (size_t)a->A * sizeof(float)) == 0, "%s: Q-values differ after reload", methods[mi]);
        free(map);
        agent_free(a);
        agent_free(b);
        agent_free(fresh);
        agent_free(untrained);
        free(d);
    }
    agent_free(p);
    free(plain);
}
END_TEST

/* The prior's errors: an init checkpoint without replay.obs, or with an
 * empty one, is refused with a message naming the file and the tensor. */
START_TEST(prior_errors)
{
    Config c;
    char init[512], err[1024], path[600];
    char *plain = pretrain(&c, init, sizeof init);
    Agent *p = agent_load(init, NULL, 0, err, sizeof err);
    ck_assert_msg(p != NULL, "load plain: %s", err);
    snprintf(path, sizeof path, "%s/noreplay.safetensors", plain);
    ck_assert_msg(agent_save(p, path, NULL, 0, NULL, NULL, 0, err, sizeof err) == 0, "agent_save: %s", err);
    Config l = c;
    SET_STR(l.symmetry.method, "canonical");
    SET_STR(l.network.init, path);
    l.symmetry.prior = 1.0f;
    ck_assert_msg(agent_create(&l, p->C, p->n, p->A, err, sizeof err) == NULL && strstr(err, "noreplay.safetensors") && strstr(err, "replay.obs") && strstr(err, "missing"), "no replay.obs: %s", err);
    /* a run of train.steps = 0 has an empty replay */
    Config z = c;
    z.train.steps = 0;
    char *zd = test_tmpdir("train");
    TrainResult r;
    run_ok(&z, zd, 0, NULL, &r);
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", zd);
    SET_STR(l.network.init, path);
    char *d = test_tmpdir("train");
    TrainOptions opt = {.out_dir = d};
    ck_assert_msg(train_run(&l, &opt, &r, err, sizeof err) != 0 && strstr(err, zd) && strstr(err, "replay.obs holds none"), "empty replay: %s", err);
    agent_free(p);
    free(plain);
    free(zd);
    free(d);
}
END_TEST

/* A run with the prior resumes exactly (the prior's Rng is in the
 * checkpoint, its states are read again from network.init). */
START_TEST(prior_resume_equals_uninterrupted)
{
    Config c;
    char init[512];
    char *plain = pretrain(&c, init, sizeof init);
    Config l = c;
    l.train.steps = 800;
    l.eval.eval_every = 200;
    SET_STR(l.symmetry.method, "canonical");
    SET_STR(l.network.init, init);
    l.symmetry.prior = 0.5f;
    l.train.prior_updates = 20;
    char *full = test_tmpdir("train"), *part = test_tmpdir("train");
    TrainResult r;
    run_ok(&l, full, 0, NULL, &r);
    Config l1 = l;
    l1.train.steps = 500;
    run_ok(&l1, part, 0, NULL, &r);
    run_ok(&l, part, 1, NULL, &r);
    assert_same_metrics(full, part);
    free(plain);
    free(full);
    free(part);
}
END_TEST

/* The evaluation's weight on the pretraining orientation's view: the plain
 * network 1 in the identity orientation and 0 in another, equitune 1/|G|. */
START_TEST(weight_on_pretraining_view)
{
    Config c;
    char init[512], err[1024];
    char *plain = pretrain(&c, init, sizeof init);
    static const char *const orient[] = {"orientation=identity", "orientation=3"};
    const double want[] = {1.0, 0.0};
    for (int k = 0; k < 2; k++) {
        char set[64];
        snprintf(set, sizeof set, "env.%s", orient[k]);
        const char *sets[] = {set, "symmetry.method=equitune"};
        for (int m = 0; m < 2; m++) {
            Agent *a = agent_load(init, sets, 1 + m, err, sizeof err);
            ck_assert_msg(a != NULL, "load: %s", err);
            EnvConfig ec;
            EvalResult ev;
            EnvMap *map = malloc(sizeof *map);
            ck_assert_msg(map && agent_env_config(&a->cfg, &ec, map, err, sizeof err) == 0, "%s", err);
            ck_assert_msg(evaluate(a, &ec, map, 10, 0.0f, &ev, err, sizeof err) == 0, "%s", err);
            free(map);
            double w = m ? 0.125 : want[k];
            ck_assert_msg(ev.w_pretrain == w, "%s %s: weight on the pretraining view %.9g, expected %g", m ? "equitune" : "none", orient[k], ev.w_pretrain, w);
            agent_free(a);
        }
    }
    free(plain);
}
END_TEST

/* test_sh() of "BIN args". */
static int shb(const char *args, char *out, size_t outlen)
{
    char cmd[1536];
    ck_assert_msg(strlen(test_bin()) + strlen(args) + 2 < sizeof cmd, "command too long: %s", args);
    snprintf(cmd, sizeof cmd, "%s %s", test_bin(), args);
    return test_sh(cmd, out, outlen);
}

START_TEST(command_line)
{
    char out[8192], cmd[1024];
    char *d = test_tmpdir("train");
    ck_assert_msg(access(test_bin(), X_OK) == 0, "%s must be built (make test builds it)", test_bin());
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/run --quiet --set env.size=5 --set train.steps=300 --set symmetry.method=equizero --set eval.eval_episodes=5", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "train failed: %s", out);
    snprintf(cmd, sizeof cmd, "%s eval %s/run/checkpoint.safetensors --episodes 7 --json --set env.orientation=random", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "eval failed: %s", out);
    /* a prior fit into a run directory whose parents do not exist yet: made, and the fit reported */
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/new/parents/prior --set env.size=5 --set symmetry.method=canonical --set symmetry.prior=1 --set train.prior_updates=20 --set train.steps=0 --set train.freeze_q=true --set eval.eval_episodes=2 --set network.init=%s/run/checkpoint.safetensors", test_bin(), d, d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "canonicalization prior: 20 updates before the first env step, its loss "), "prior fit into new parent directories: %s", out);
    /* network.init: reported once loaded, and a missing file is an error before any training */
    snprintf(cmd, sizeof cmd, "%s train configs/goal-lambda.ini --out %s/init --set env.size=5 --set train.steps=200 --set eval.eval_episodes=2 --set network.init=%s/run/checkpoint.safetensors", test_bin(), d, d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "base network initialised from"), "train from network.init: %s", out);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-lambda.ini --out %s/noinit --set env.size=5 --set network.init=%s/none.safetensors", test_bin(), d, d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 1 && strstr(out, "none.safetensors: cannot open") && !strstr(out, "initialised from"), "missing network.init: %s", out);
    snprintf(cmd, sizeof cmd, "%s eval %s/run/checkpoint.safetensors --episodes 7 --json --set env.orientation=random", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "eval failed: %s", out);
    ck_assert_msg(strstr(out, "\"episodes\": 7") && strstr(out, "\"return\": {\"mean\":") && strstr(out, "\"success\""), "eval --json output: %s", out);
    char map5[600], lava5[600]; /* maps of this test's own */
    snprintf(map5, sizeof map5, "%s/map5.txt", d);
    snprintf(lava5, sizeof lava5, "%s/lava5.txt", d);
    FILE *m = fopen(map5, "w");
    ck_assert_msg(m != NULL, "cannot write %s", map5);
    fputs("#####\n#A..#\n#...#\n#..G#\n#####\n", m);
    fclose(m);
    /* a goal network reads a lava-free map; a map with lava is refused clearly */
    snprintf(cmd, sizeof cmd, "%s qvalues %s/run/checkpoint.safetensors --map %s", test_bin(), d, map5);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "\"q\": [") && strstr(out, "\"chosen\": "), "qvalues of a goal network on a map: %s", out);
    m = fopen(lava5, "w");
    ck_assert_msg(m != NULL, "cannot write %s", lava5);
    fputs("#####\n#A..#\n#LL.#\n#..G#\n#####\n", m);
    fclose(m);
    snprintf(cmd, sizeof cmd, "%s qvalues %s/run/checkpoint.safetensors --map %s", test_bin(), d, lava5);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 1 && strstr(out, "has lava") && strstr(out, "planes"), "qvalues plane mismatch: %s", out);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/runm --quiet --set env.name=map --set env.map=%s --set env.size=0 --set train.steps=300 --set symmetry.method=equizero --set eval.eval_episodes=5", test_bin(), d, map5);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "train on a map failed: %s", out);
    snprintf(cmd, sizeof cmd, "%s qvalues %s/runm/checkpoint.safetensors --map %s --orient 3", test_bin(), d, map5);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "qvalues failed: %s", out);
    ck_assert_msg(strstr(out, "\"actions\": [\"up\", \"right\", \"down\", \"left\"]") && strstr(out, "\"views\": [{\"element\": 0") && strstr(out, "\"chosen\": "), "qvalues output: %s", out);
    /* canonical: the views with one-hot weights and their scores, the chosen element */
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/runc --quiet --set env.size=5 --set train.steps=300 --set symmetry.method=canonical --set symmetry.group=flip --set eval.eval_episodes=5", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "train canonical failed: %s", out);
    snprintf(cmd, sizeof cmd, "%s qvalues %s/runc/checkpoint.safetensors --map %s", test_bin(), d, map5);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "qvalues canonical failed: %s", out);
    int chosen = -1;
    const char *ch = strstr(out, "\"chosen\": ");
    ck_assert_msg(strstr(out, "\"method\": \"canonical\"") && strstr(out, "{\"element\": 0, \"q\": [") && strstr(out, "{\"element\": 4, \"q\": [") && ch && sscanf(ch, "\"chosen\": %d", &chosen) == 1 && (chosen == 0 || chosen == 4),
                  "qvalues canonical output: %s", out);
    ck_assert_msg(strstr(out, "\"weight\": 1, \"score\": ") && strstr(out, "\"weight\": 0, \"score\": "), "qvalues canonical weights not one-hot with scores: %s", out);
    /* show: every kind and a map file, with the legend; config errors */
    const char *kinds[] = {"goal", "fourrooms", "lava", "maze", "envs/maps/lava_bridge.txt"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        snprintf(cmd, sizeof cmd, "show %s --orient 5", kinds[i]);
        ck_assert_msg(shb(cmd, out, sizeof out) == 0 && strstr(out, "legend: # wall") && strstr(out, "orientation m.r90"), "show %s: %s", kinds[i], out);
    }
    ck_assert_msg(shb("show goal --set env.size=2", out, sizeof out) == 2 && strstr(out, "env.size=2") && strstr(out, "allowed"), "show bad size: %s", out);
    ck_assert_msg(shb("show nosuch", out, sizeof out) == 2 && strstr(out, "not a kind"), "show unknown env: %s", out);
    /* bad input: one clear message and a non-zero exit */
    ck_assert_msg(shb("train configs/goal-none.ini --set train.lr=-1", out, sizeof out) != 0 && strstr(out, "lr"), "bad --set: %s", out);
    ck_assert_msg(shb("train /nonexistent.ini", out, sizeof out) != 0 && strstr(out, "/nonexistent.ini"), "missing config: %s", out);
    ck_assert_msg(shb("eval /nonexistent.safetensors", out, sizeof out) != 0 && strstr(out, "/nonexistent.safetensors"), "missing checkpoint: %s", out);
    ck_assert_msg(shb("config show configs/goal-lambda.ini", out, sizeof out) == 0 && strstr(out, "method = lambda") && strstr(out, "lambda_hidden = 64"), "config show: %s", out);
    /* bench train --config: only the named configs; the symmetrizer's share
     * is a percentage, 0 without a symmetrizer */
    ck_assert_msg(shb("bench train --config bench-small,bench-small-lambda --steps 1100", out, sizeof out) == 0, "bench train --config: %s", out);
    ck_assert_msg(strstr(out, "bench-small ") && !strstr(out, "bench-large") && !strstr(out, "bench-small-equitune"), "bench train --config ran other configs: %s", out);
    const char *row = strstr(out, "  bench-small-lambda");
    ck_assert_msg(row != NULL, "no bench-small-lambda row: %s", out);
    double f[7];
    ck_assert_msg(sscanf(row, " bench-small-lambda %lf %lf %lf %lf %lf %lf %lf", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) == 7 && f[0] == 1100.0 && f[6] > 0.0 && f[6] < 100.0,
                  "bench-small-lambda row: %s", row);
    row = strstr(out, "  bench-small ");
    ck_assert_msg(sscanf(row, " bench-small %lf %lf %lf %lf %lf %lf %lf", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) == 7 && f[6] == 0.0, "bench-small has a symmetrizer share: %s", row);
    ck_assert_msg(shb("bench train --config bench-smal", out, sizeof out) == 2 && strstr(out, "'bench-smal'") && strstr(out, "allowed: bench-small,"), "bench unknown config: %s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    ck_assert(system(cmd) == 0);
    free(d);
}
END_TEST

/* The README's numpy snippet, which recomputes Q_G from a checkpoint, must
 * agree with `equigrid qvalues` on a lambda-equitune checkpoint. Skipped, with
 * the reason printed, where python3 has no numpy (it is not a dependency). */
/* The mean return of bench env's lava row after `steps` random steps. */
static double bench_lava_mean(long steps)
{
    char out[4096], args[64];
    snprintf(args, sizeof args, "bench env --steps %ld", steps);
    ck_assert_msg(shb(args, out, sizeof out) == 0, "bench env: %s", out);
    const char *row = strstr(out, "\nlava ");
    double size, sps, eps, ret;
    ck_assert_msg(row && sscanf(row, " lava %lf %lf %lf %lf", &size, &sps, &eps, &ret) == 4, "no lava row: %s", out);
    return ret;
}

/* bench env's mean return does not drift with the run length (it was
 * summed in a float: -0.976 after 65536 steps, -0.957 after 6 M, -0.923
 * after 8 M; the standard error of the first mean is about 0.003). */
START_TEST(bench_env_mean_return)
{
    double a = bench_lava_mean(65536), b = bench_lava_mean(6000000);
    ck_assert_msg(fabs(a - b) < 0.01, "lava mean return %.3f after 65536 steps but %.3f after 6000000", a, b);
}
END_TEST

/* make deps asks pkg-config nothing (on a fresh machine every query printed
 * "Package check was not found" before anything was installed). */
START_TEST(make_deps_asks_no_pkg_config)
{
    char out[4096], dir[] = "/tmp/eqg-pkgstub-XXXXXX", stub[64], log[64], cmd[512];
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(stub, sizeof stub, "%s/pkg-config", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    FILE *f = fopen(stub, "w");
    ck_assert_msg(f && fprintf(f, "#!/bin/sh\necho \"$@\" >> %s\nexit 1\n", log) > 0 && fclose(f) == 0, "stub");
    chmod(stub, 0700);
    snprintf(cmd, sizeof cmd, "PATH=%s:$PATH make -s deps", dir);
    int rc = test_sh(cmd, out, sizeof out);
    int asked = access(log, F_OK) == 0;
    unlink(stub);
    unlink(log);
    rmdir(dir);
    ck_assert_msg(rc == 0 && strstr(out, "deps:") && !asked, "make deps (exit %d) called pkg-config: %s; output: %s", rc, asked ? "yes" : "no", out);
}
END_TEST

/* Starts "exec CMD > out 2>&1" in the background; returns its pid. */
static pid_t spawn(const char *cmd, const char *out)
{
    char full[8192];
    snprintf(full, sizeof full, "exec %s > %s 2>&1", cmd, out);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork");
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits until path exists (at most 20 s). */
static void wait_for(const char *path)
{
    for (int i = 0; i < 2000 && access(path, F_OK) != 0; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    ck_assert_msg(access(path, F_OK) == 0, "%s never appeared", path);
}

/* What a user sees: --version, did-you-mean for commands, config without
 * show, the learning_starts warning, fresh run directories without --out,
 * and the interruption hint that resumes (SIGTERM 143, SIGINT 130). */
/* Standard error that is not a terminal (a scheduler's log) gets plain
 * progress lines at the --progress-every interval, no carriage returns;
 * --quiet silences them; compare's runs log them into their log.txt. */
START_TEST(progress_lines_for_logs)
{
    char out[16384], cmd[1024];
    char *d = test_tmpdir("train");
    snprintf(cmd, sizeof cmd, "%s train configs/goal-lambda.ini --out %s/p --set env.size=5 --set train.steps=3000 --set eval.eval_episodes=2 --progress-every 0.1", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0, "train failed: %s", out);
    int lines = 0;
    for (const char *p = out; (p = strstr(p, "progress: ")) != NULL; p++)
        lines++;
    ck_assert_msg(lines >= 2 && !strchr(out, '\r'), "plain progress lines, no bar: %d in %s", lines, out);
    ck_assert_msg(strstr(out, "3000/3000 steps (100 %)") && strstr(out, "episodes, last ") && strstr(out, "steps/s") && strstr(out, "ETA"),
                  "a line has step/total, episodes, recent return and success, steps/s and ETA: %s", out);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/q --quiet --set env.size=5 --set train.steps=3000 --set eval.eval_episodes=2 --progress-every 0.1", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && out[0] == '\0', "--quiet prints nothing: '%s'", out);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/r --progress-every 0", test_bin(), d);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 2 && strstr(out, "--progress-every 0: expected seconds"), "bad interval: %s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
    free(d);
}
END_TEST

START_TEST(user_messages)
{
    char out[8192], cmd[4096], abs_bin[2048], cwd[1024];
    ck_assert_msg(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(abs_bin, sizeof abs_bin, "%s%s%s", test_bin()[0] == '/' ? "" : cwd, test_bin()[0] == '/' ? "" : "/", test_bin());
    ck_assert_msg(shb("--version", out, sizeof out) == 0 && strncmp(out, "equigrid ", 9) == 0 && strstr(out, "equigrid-checkpoint-1"), "--version: %s", out);
    ck_assert_msg(shb("trian configs/goal-none.ini", out, sizeof out) == 2 && strstr(out, "did you mean 'train'?"), "unknown command: %s", out);
    ck_assert_msg(shb("config configs/goal-none.ini", out, sizeof out) == 2 && strstr(out, "equigrid config show configs/goal-none.ini") && strlen(out) < 300, "config FILE: %s", out);
    char *d = test_tmpdir("train");
    const char *quick = "--quiet --set env.size=5 --set train.steps=200 --set train.learning_starts=500 --set eval.eval_episodes=2";
    snprintf(cmd, sizeof cmd, "cd %s && %s train %s/configs/goal-none.ini %s", d, abs_bin, cwd, quick);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "warning: train.steps = 200 <= train.learning_starts = 500"), "first run / warning: %s", out);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 0 && strstr(out, "runs/goal-none already holds a run; this one goes to runs/goal-none-2"), "second run: %s", out);
    snprintf(cmd, sizeof cmd, "%s/runs/goal-none-2/checkpoint.safetensors", d);
    ck_assert_msg(access(cmd, F_OK) == 0, "runs/goal-none-2 holds no checkpoint");
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/runs/goal-none %s", test_bin(), d, quick);
    ck_assert_msg(test_sh(cmd, out, sizeof out) == 1 && strstr(out, "already holds a run"), "--out keeps the refusal: %s", out);
    /* interrupted with SIGTERM: exit 143 and a hint that resumes */
    char log[600], metrics[600];
    snprintf(log, sizeof log, "%s/log.txt", d);
    snprintf(metrics, sizeof metrics, "%s/long/metrics.csv", d);
    snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/long --set env.size=5 --set 'run.name=a b' --set train.steps=100000000 --set train.checkpoint_every=0", test_bin(), d);
    pid_t pid = spawn(cmd, log);
    wait_for(metrics);
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    size_t len;
    char *text = test_slurp(log, &len);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 143, "SIGTERM: status %d: %s", st, text);
    char *hint = strstr(text, "continue with: ");
    ck_assert_msg(hint && strstr(hint, "--set env.size=5 --set 'run.name=a b' --set train.steps=100000000 --set train.checkpoint_every=0 --out ") && strstr(hint, " --resume"), "hint: %s", text);
    hint += strlen("continue with: equigrid ");
    hint[strcspn(hint, "\n")] = '\0';
    snprintf(cmd, sizeof cmd, "%s %s", test_bin(), hint);
    free(text);
    pid = spawn(cmd, log);
    for (int i = 0; i < 2000; i++) {
        text = test_slurp(log, &len);
        int resuming = text && strstr(text, "(resuming)");
        free(text);
        if (resuming)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    kill(pid, SIGINT);
    waitpid(pid, &st, 0);
    text = test_slurp(log, &len);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130 && strstr(text, "(resuming)") && strstr(text, "interrupted at step"), "the hint's command: status %d: %s", st, text);
    free(text);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    ck_assert(system(cmd) == 0);
    free(d);
}
END_TEST


static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("learning");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, learns_goal_5x5);
    tcase_add_test(tc, best_checkpoint);
    suite_add_tcase(s, tc);
    tc = tcase_create("reproducibility");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, vector_envs);
    tcase_add_test(tc, resume_equals_uninterrupted);
    tcase_add_test(tc, interrupt_then_resume);
    tcase_add_test(tc, freeze_q_and_lambda_roundtrip);
    tcase_add_test(tc, prior_fit_without_env_steps);
    tcase_add_test(tc, prior_resume_equals_uninterrupted);
    tcase_add_test(tc, weight_on_pretraining_view);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 300); /* two threads wait for each other: slow on a loaded machine */
    tcase_add_test(tc, deterministic_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, refuses_existing_run_and_other_config);
    tcase_add_test(tc, checkpoint_errors);
    tcase_add_test(tc, prior_errors);
    tcase_add_test(tc, command_line);
    tcase_add_test(tc, user_messages);
    tcase_add_test(tc, progress_lines_for_logs);
    tcase_add_test(tc, make_deps_asks_no_pkg_config);
    suite_add_tcase(s, tc);
    tc = tcase_create("bench");
    tcase_set_timeout(tc, 300); /* 42 M env steps: a few seconds, a minute under the sanitizers */
    tcase_add_test(tc, bench_env_mean_return);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(train_suite)

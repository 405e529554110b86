/* test_resume.c - a checkpoint's trainer state is input: every field that
 * --resume restores is validated (train_check_checkpoint and train_run give
 * the same message naming the file and the tensor), non-finite weights and
 * inconsistent metadata are refused, resuming a finished run changes nothing,
 * one trainer per run directory, and write errors stop a run cleanly. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../agents/agent.h"
#include "../agents/train.h"
#include "check_main.h"
#include "testutil.h"

static void small_config(Config *c, long steps)
{
    config_default(c);
    snprintf(c->env.name, sizeof c->env.name, "goal");
    c->env.size = 5;
    c->train.steps = steps;
    c->train.learning_starts = 100;
    c->train.buffer_size = 1000;
    c->train.batch_size = 16;
    c->agent.eps_steps = 200;
    c->agent.target_update = 100;
    c->eval.eval_every = 200;
    c->eval.eval_episodes = 5;
    c->train.checkpoint_every = 200;
    snprintf(c->network.hidden, sizeof c->network.hidden, "16");
    snprintf(c->run.name, sizeof c->run.name, "t");
}

static void train_ok(const Config *c, const char *dir, int resume)
{
    char err[1024] = "";
    TrainResult res;
    TrainOptions opt = {.out_dir = dir, .resume = resume};
    ck_assert_msg(train_run(c, &opt, &res, err, sizeof err) == 0, "train_run(%s): %s", dir, err);
}

/* A checkpoint's tensors with writable copies of their data. */
typedef struct {
    int n;
    StTensor t[256];
    void *data[256];
    char *config, *step;
} Ckpt;

static size_t nbytes(const StTensor *t)
{
    size_t b = t->dtype == ST_U8 ? 1 : t->dtype == ST_I64 ? 8 : 4;
    for (int d = 0; d < t->ndim; d++)
        b *= (size_t)t->shape[d];
    return b;
}

static void ckpt_read(Ckpt *k, const char *path)
{
    char err[1024];
    StFile *f = st_open(path, err, sizeof err);
    ck_assert_msg(f != NULL, "st_open: %s", err);
    k->n = st_count(f);
    ck_assert_msg(k->n <= 256, "%d tensors", k->n);
    for (int i = 0; i < k->n; i++) {
        k->t[i] = *st_at(f, i);
        size_t b = nbytes(&k->t[i]);
        k->data[i] = malloc(b ? b : 1);
        memcpy(k->data[i], k->t[i].data, b);
        k->t[i].data = k->data[i];
    }
    k->config = strdup(st_meta(f, "config"));
    k->step = strdup(st_meta(f, "step"));
    st_close(f);
}

static void *ckpt_data(Ckpt *k, const char *name)
{
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->t[i].name, name) == 0)
            return k->data[i];
    ck_abort_msg("no tensor %s", name);
    return NULL;
}

static void ckpt_write(const Ckpt *k, const char *path, const char *config)
{
    char err[1024];
    const char *keys[] = {"format", "config", "step"}, *vals[] = {AGENT_FORMAT, config ? config : k->config, k->step};
    ck_assert_msg(st_write(path, k->t, k->n, keys, vals, 3, err, sizeof err) == 0, "st_write: %s", err);
}

static void ckpt_free(Ckpt *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->data[i]);
    free(k->config);
    free(k->step);
}

/* The run directory every case starts from (trained once, 400 steps). */
static char base_dir[64];
static char base_ckpt[512];

static void base_setup(void)
{
    Config c;
    small_config(&c, 400);
    snprintf(base_dir, sizeof base_dir, "/tmp/eqg-resume-XXXXXX");
    ck_assert_msg(mkdtemp(base_dir) != NULL, "mkdtemp");
    train_ok(&c, base_dir, 0);
    snprintf(base_ckpt, sizeof base_ckpt, "%s/checkpoint.safetensors", base_dir);
}

/* Copies the base run into a fresh directory (metrics, eval, config, ckpt). */
static char *copy_run(void)
{
    char *d = test_tmpdir("resume");
    const char *files[] = {"metrics.csv", "eval.csv", "config.ini", "checkpoint.safetensors"};
    for (size_t i = 0; i < 4; i++) {
        char src[600], dst[600];
        size_t len;
        snprintf(src, sizeof src, "%s/%s", base_dir, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", d, files[i]);
        char *b = test_slurp(src, &len);
        ck_assert_msg(b != NULL, "cannot read %s", src);
        FILE *f = fopen(dst, "wb");
        ck_assert_msg(f && fwrite(b, 1, len, f) == len && fclose(f) == 0, "copy %s", dst);
        free(b);
    }
    return d;
}

/* Expects both train_check_checkpoint and a --resume of a copied run whose
 * checkpoint was mutated by `mutate` to fail naming the file, `tensor` and `what`. */
static void expect_rejected(void (*mutate)(Ckpt *), const char *tensor, const char *what)
{
    char *d = copy_run(), path[600], err[2048] = "";
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", d);
    Ckpt k;
    ckpt_read(&k, base_ckpt);
    mutate(&k);
    ckpt_write(&k, path, NULL);
    ckpt_free(&k);
    ck_assert_msg(train_check_checkpoint(path, err, sizeof err) == -1, "train_check_checkpoint accepted a bad %s", tensor);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, tensor) && strstr(err, what) && strstr(err, "allowed"),
                  "check message for %s lacks '%s' / '%s' / 'allowed': %s", tensor, tensor, what, err);
    Config c;
    small_config(&c, 600);
    TrainResult res;
    TrainOptions opt = {.out_dir = d, .resume = 1};
    ck_assert_msg(train_run(&c, &opt, &res, err, sizeof err) == -1, "--resume accepted a bad %s", tensor);
    ck_assert_msg(strstr(err, tensor) && strstr(err, what), "resume message for %s: %s", tensor, err);
    free(d);
}

static void m_layout_border(Ckpt *k) { ((uint8_t *)ckpt_data(k, "env.layout"))[2] = 0; }
static void m_layout_bits(Ckpt *k) { ((uint8_t *)ckpt_data(k, "env.layout"))[12] |= 0x40; }
static void m_layout_agent_bit(Ckpt *k) { ((uint8_t *)ckpt_data(k, "env.layout"))[12] |= CELL_AGENT; }
static void m_agent_border(Ckpt *k) { ((int64_t *)ckpt_data(k, "env.state"))[0] = 1; }
static void m_agent_outside(Ckpt *k) { ((int64_t *)ckpt_data(k, "env.state"))[0] = 25; }
static void m_t_max(Ckpt *k) { ((int64_t *)ckpt_data(k, "env.state"))[1] = 20; }
static void m_t_negative(Ckpt *k) { ((int64_t *)ckpt_data(k, "env.state"))[1] = -1; }
static void m_env_episodes(Ckpt *k) { ((int64_t *)ckpt_data(k, "env.state"))[3] = -3; }
static void m_env_rng(Ckpt *k) { memset(ckpt_data(k, "env.rng"), 0, 16); }
static void m_replay_rng(Ckpt *k) { memset(ckpt_data(k, "replay.rng"), 0, 16); }
static void m_agent_rng(Ckpt *k) { memset(ckpt_data(k, "agent.rng"), 0, 16); }
static void m_action(Ckpt *k) { ((uint8_t *)ckpt_data(k, "replay.action"))[7] = 4; }
static void m_done(Ckpt *k) { ((uint8_t *)ckpt_data(k, "replay.done"))[3] = 2; }
static void m_obs_bits(Ckpt *k) { ((uint8_t *)ckpt_data(k, "replay.next_obs"))[30] |= 0x80; }
static void m_reward(Ckpt *k) { ((float *)ckpt_data(k, "replay.reward"))[5] = INFINITY; }
static void m_replay_pos(Ckpt *k) { ((int64_t *)ckpt_data(k, "replay.state"))[2] = 999; }
static void m_step(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[0] = -400; }
static void m_step_iter(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[2] = 7; }
static void m_next_eval(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[3] = (int64_t)1 << 62; }
static void m_next_target(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[5] = 0; }
static void m_rows(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[6] = -1; }
static void m_eval_rows(Ckpt *k) { ((int64_t *)ckpt_data(k, "train.counters"))[7] = -1; }
static void m_adam_t(Ckpt *k) { ((int64_t *)ckpt_data(k, "agent.counters"))[0] = -1; }
static void m_weight_nan(Ckpt *k) { ((float *)ckpt_data(k, "q.0.weight"))[3] = NAN; }
static void m_adam_inf(Ckpt *k) { ((float *)ckpt_data(k, "adam.v"))[0] = -INFINITY; }
static void m_last(Ckpt *k) { ((float *)ckpt_data(k, "train.last"))[0] = NAN; }
static void m_ret(Ckpt *k) { ((float *)ckpt_data(k, "env.ret"))[0] = INFINITY; }

START_TEST(env_state_validated)
{
    expect_rejected(m_layout_border, "env.layout", "border");
    expect_rejected(m_layout_bits, "env.layout", "unknown cell bits");
    expect_rejected(m_layout_agent_bit, "env.layout", "unknown cell bits");
    expect_rejected(m_agent_border, "env.state", "agent");
    expect_rejected(m_agent_outside, "env.state", "agent");
    expect_rejected(m_t_max, "env.state", "step t = 20");
    expect_rejected(m_t_negative, "env.state", "step t = -1");
    expect_rejected(m_env_episodes, "env.state", "episodes");
    expect_rejected(m_ret, "env.ret", "inf");
}
END_TEST

START_TEST(rng_states_validated)
{
    expect_rejected(m_env_rng, "env.rng", "all zero");
    expect_rejected(m_replay_rng, "replay.rng", "all zero");
    expect_rejected(m_agent_rng, "agent.rng", "all zero");
}
END_TEST

START_TEST(replay_validated)
{
    expect_rejected(m_action, "replay.action", "= 4");
    expect_rejected(m_done, "replay.done", "= 2");
    expect_rejected(m_obs_bits, "replay.next_obs", "unknown cell bits");
    expect_rejected(m_reward, "replay.reward", "inf");
    expect_rejected(m_replay_pos, "replay.state", "pos");
}
END_TEST

START_TEST(counters_validated)
{
    expect_rejected(m_step, "train.counters", "step");
    expect_rejected(m_step_iter, "train.counters", "iterations");
    expect_rejected(m_next_eval, "train.counters", "next evaluation");
    expect_rejected(m_next_target, "train.counters", "next target update");
    expect_rejected(m_rows, "train.counters", "metrics.csv rows = -1");
    expect_rejected(m_eval_rows, "train.counters", "eval.csv rows = -1");
    expect_rejected(m_adam_t, "agent.counters", "-1");
    expect_rejected(m_last, "train.last", "nan");
}
END_TEST

START_TEST(non_finite_weights)
{
    expect_rejected(m_weight_nan, "q.0.weight", "element 3 is nan");
    expect_rejected(m_adam_inf, "adam.v", "element 0 is -inf");
    /* agent_load (eval, qvalues, watch) refuses them too */
    char *d = test_tmpdir("resume"), path[600], err[1024] = "";
    snprintf(path, sizeof path, "%s/c.safetensors", d);
    Ckpt k;
    ckpt_read(&k, base_ckpt);
    m_weight_nan(&k);
    ckpt_write(&k, path, NULL);
    ckpt_free(&k);
    ck_assert_msg(agent_load(path, NULL, 0, err, sizeof err) == NULL && strstr(err, "q.0.weight") && strstr(err, "allowed: finite"), "agent_load: %s", err);
    unlink(path);
    rmdir(d);
    free(d);
}
END_TEST

/* The stored config goes through config_validate like a config file. */
START_TEST(metadata_config_validated)
{
    char *d = test_tmpdir("resume"), path[600], err[2048] = "";
    snprintf(path, sizeof path, "%s/c.safetensors", d);
    Ckpt k;
    ckpt_read(&k, base_ckpt);
    Config c;
    small_config(&c, 400);
    c.agent.eps_start = 0.01f;
    c.agent.eps_end = 0.5f;
    char *bad = config_to_string(&c);
    ckpt_write(&k, path, bad);
    ck_assert_msg(agent_load(path, NULL, 0, err, sizeof err) == NULL && strstr(err, path) && strstr(err, "eps_end"), "agent_load: %s", err);
    ck_assert_msg(train_check_checkpoint(path, err, sizeof err) == -1 && strstr(err, "eps_end"), "check: %s", err);
    free(bad);
    /* a config that passes config_validate but not the env's own checks (found by make fuzz) */
    small_config(&c, 400);
    c.env.size = 3;
    bad = config_to_string(&c);
    ckpt_write(&k, path, bad);
    ck_assert_msg(train_check_checkpoint(path, err, sizeof err) == -1 && strncmp(err, path, strlen(path)) == 0 && strstr(err, "env.size = 3"), "check names the file: %s", err);
    /* a missing config reads as such, not as a format mismatch */
    const char *keys[] = {"format"}, *vals[] = {AGENT_FORMAT};
    ck_assert_msg(st_write(path, k.t, k.n, keys, vals, 1, err, sizeof err) == 0, "st_write: %s", err);
    ck_assert_msg(agent_load(path, NULL, 0, err, sizeof err) == NULL && strstr(err, "no 'config'") && !strstr(err, "format is"), "missing config: %s", err);
    free(bad);
    ckpt_free(&k);
    unlink(path);
    rmdir(d);
    free(d);
}
END_TEST

START_TEST(valid_checkpoint_passes)
{
    char err[1024] = "";
    ck_assert_msg(train_check_checkpoint(base_ckpt, err, sizeof err) == 0, "a fresh checkpoint fails the check: %s", err);
    ck_assert_msg(train_check_checkpoint("/nonexistent/c.safetensors", err, sizeof err) == -1 && strstr(err, "cannot open"), "missing: %s", err);
}
END_TEST

static int same_bytes(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = test_slurp(a, &la), *y = test_slurp(b, &lb);
    ck_assert_msg(x && y, "cannot read %s or %s", a, b);
    int same = la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Resuming a run that already reached train.steps changes no byte of it,
 * also when its last step is on the eval_every schedule (400 = 2 x 200). */
START_TEST(resume_finished_changes_nothing)
{
    char *d = copy_run();
    const char *files[] = {"metrics.csv", "eval.csv", "config.ini", "checkpoint.safetensors"};
    Config c;
    small_config(&c, 400);
    char err[1024] = "";
    TrainResult res;
    TrainOptions opt = {.out_dir = d, .resume = 1};
    ck_assert_msg(train_run(&c, &opt, &res, err, sizeof err) == 0, "resume of a finished run: %s", err);
    ck_assert_msg(res.already_finished && res.steps == 400 && res.steps_run == 0, "result: finished %d, steps %ld, run %ld", res.already_finished, res.steps, res.steps_run);
    for (size_t i = 0; i < 4; i++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s", base_dir, files[i]);
        snprintf(b, sizeof b, "%s/%s", d, files[i]);
        ck_assert_msg(same_bytes(a, b), "%s changed by resuming a finished run", files[i]);
    }
    free(d);
}
END_TEST

/* A second trainer on a run directory in use is refused with a clear
 * message; the first one is not disturbed. */
START_TEST(one_trainer_per_directory)
{
    char *d = test_tmpdir("resume"), metrics[600], err[1024] = "";
    snprintf(metrics, sizeof metrics, "%s/metrics.csv", d);
    Config c;
    small_config(&c, 400000000L);
    c.train.checkpoint_every = 0;
    c.eval.eval_every = 0;
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork");
    if (pid == 0) {
        TrainResult res;
        TrainOptions opt = {.out_dir = d};
        _exit(train_run(&c, &opt, &res, err, sizeof err) == 0 ? 0 : 1);
    }
    for (int i = 0; i < 2000 && !exists(metrics); i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    ck_assert_msg(exists(metrics), "the first trainer did not start");
    TrainResult res;
    TrainOptions opt = {.out_dir = d, .resume = 1};
    int rc = train_run(&c, &opt, &res, err, sizeof err);
    opt.resume = 0;
    char err2[1024] = "";
    int rc2 = train_run(&c, &opt, &res, err2, sizeof err2);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_msg(rc == -1 && strstr(err, "another equigrid train") && strstr(err, d), "second trainer (--resume): %s", err);
    ck_assert_msg(rc2 == -1 && strstr(err2, "another equigrid train"), "second trainer: %s", err2);
    /* the kernel dropped the lock with the killed trainer: the directory is free */
    Config small;
    small_config(&small, 400);
    train_ok(&small, d, 1);
    free(d);
}
END_TEST

/* kill -9 before the first checkpoint: the directory holds CSVs and
 * config.ini but no checkpoint; train (with or without --resume) starts it
 * afresh, and the result equals an uninterrupted run. */
START_TEST(killed_before_first_checkpoint)
{
    char *d = test_tmpdir("resume"), p[600], err[1024] = "";
    const char *files[] = {"metrics.csv", "eval.csv", "config.ini"};
    for (int resume = 0; resume < 2; resume++) {
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/%s", d, files[i]);
            FILE *f = fopen(p, "w");
            ck_assert_msg(f && fputs(i == 0 ? "step,episode\n1,1\n" : "x\n", f) >= 0 && fclose(f) == 0, "write %s", p);
        }
        snprintf(p, sizeof p, "%s/checkpoint.safetensors", d);
        unlink(p);
        Config c;
        small_config(&c, 400);
        TrainResult res;
        TrainOptions opt = {.out_dir = d, .resume = resume};
        ck_assert_msg(train_run(&c, &opt, &res, err, sizeof err) == 0, "restart (resume %d) after kill -9: %s", resume, err);
        for (size_t i = 0; i < 3; i++) {
            char a[600], b[600];
            snprintf(a, sizeof a, "%s/%s", base_dir, files[i]);
            snprintf(b, sizeof b, "%s/%s", d, files[i]);
            ck_assert_msg(files[i][0] == 'm' || same_bytes(a, b), "%s differs from an uninterrupted run (resume %d)", files[i], resume);
        }
    }
    /* --resume where there is no run at all says so */
    char *e = test_tmpdir("resume");
    Config c;
    small_config(&c, 400);
    TrainResult res;
    TrainOptions opt = {.out_dir = e, .resume = 1};
    ck_assert_msg(train_run(&c, &opt, &res, err, sizeof err) == -1 && strstr(err, "nothing to resume"), "resume of an empty directory: %s", err);
    free(d);
    free(e);
}
END_TEST

/* A start that fails (here: a map file that does not exist) leaves no run
 * directory behind. */
START_TEST(failed_start_leaves_nothing)
{
    char *d = test_tmpdir("resume"), sub[600], err[1024] = "";
    snprintf(sub, sizeof sub, "%s/run", d);
    Config c;
    small_config(&c, 400);
    snprintf(c.env.name, sizeof c.env.name, "map");
    snprintf(c.env.map, sizeof c.env.map, "/nonexistent/map.txt");
    c.env.size = 0;
    TrainResult res;
    TrainOptions opt = {.out_dir = sub};
    ck_assert_msg(train_run(&c, &opt, &res, err, sizeof err) == -1 && strstr(err, "map.txt"), "a missing map must fail: %s", err);
    ck_assert_msg(!exists(sub), "the failed start left %s behind", sub);
    rmdir(d);
    free(d);
}
END_TEST

/* A write error (here the file size limit, as on a full disk) stops the run
 * with a message naming the file; the last good checkpoint stays intact. */
START_TEST(write_error_stops_run)
{
    char *d = copy_run(), ck[600], msg[600], metrics[600];
    snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", d);
    snprintf(msg, sizeof msg, "%s/../%s.msg", d, strrchr(d, '/') + 1);
    snprintf(metrics, sizeof metrics, "%s/metrics.csv", d);
    struct stat st;
    ck_assert_msg(stat(metrics, &st) == 0, "stat");
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork");
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = (rlim_t)st.st_size + 300, .rlim_max = RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &rl);
        Config c;
        small_config(&c, 4000);
        char err[1024] = "";
        TrainResult res;
        TrainOptions opt = {.out_dir = d, .resume = 1};
        int rc = train_run(&c, &opt, &res, err, sizeof err);
        FILE *f = fopen(msg, "w");
        if (f) {
            fprintf(f, "%s step %ld", err, res.steps);
            fclose(f);
        }
        _exit(rc == 0 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    size_t len;
    char *text = test_slurp(msg, &len);
    ck_assert_msg(text != NULL, "cannot read %s", msg);
    unlink(msg);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "a run that cannot write must fail (status %d): %s", status, text);
    /* the first write past the limit: a CSV row, or best.safetensors at the first evaluation */
    ck_assert_msg((strstr(text, "metrics.csv") || strstr(text, "best.safetensors")) && strstr(text, "write"), "message names the file: %s", text);
    ck_assert_msg(same_bytes(base_ckpt, ck), "the last good checkpoint changed");
    char err[1024] = "";
    ck_assert_msg(train_check_checkpoint(ck, err, sizeof err) == 0, "the checkpoint no longer resumes: %s", err);
    free(text);
    free(d);
}
END_TEST

/* qvalues prints JSON only: weights that are finite but overflow float on
 * the state give a message, never "inf". */
START_TEST(qvalues_never_prints_inf)
{
    const char *b = getenv("EQUIGRID_BIN");
    char bin[512], *d = test_tmpdir("resume"), path[600], map[600], cmd[2048], out[4096];
    snprintf(bin, sizeof bin, "%s", b && *b ? b : "./equigrid");
    snprintf(path, sizeof path, "%s/c.safetensors", d);
    snprintf(map, sizeof map, "%s/m.txt", d);
    FILE *f = fopen(map, "w");
    ck_assert_msg(f && fputs("#####\n#A..#\n#...#\n#..G#\n#####\n", f) >= 0 && fclose(f) == 0, "map");
    Ckpt k;
    ckpt_read(&k, base_ckpt);
    for (int i = 0; i < k.n; i++)
        if (strncmp(k.t[i].name, "q.", 2) == 0 && strstr(k.t[i].name, "weight"))
            for (size_t j = 0; j < nbytes(&k.t[i]) / 4; j++)
                ((float *)k.data[i])[j] = 3e38f;
    ckpt_write(&k, path, NULL);
    ckpt_free(&k);
    snprintf(cmd, sizeof cmd, "%s qvalues %s --map %s 2>&1", bin, path, map);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "popen");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1 && !strstr(out, "inf,") && !strstr(out, "{\"actions") && strstr(out, "not finite"), "qvalues on overflowing weights: %s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    ck_assert(system(cmd) == 0);
    free(d);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("validation");
    tcase_add_unchecked_fixture(tc, base_setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, valid_checkpoint_passes);
    tcase_add_test(tc, env_state_validated);
    tcase_add_test(tc, rng_states_validated);
    tcase_add_test(tc, replay_validated);
    tcase_add_test(tc, counters_validated);
    tcase_add_test(tc, non_finite_weights);
    tcase_add_test(tc, metadata_config_validated);
    tcase_add_test(tc, qvalues_never_prints_inf);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_unchecked_fixture(tc, base_setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resume_finished_changes_nothing);
    tcase_add_test(tc, one_trainer_per_directory);
    tcase_add_test(tc, killed_before_first_checkpoint);
    tcase_add_test(tc, failed_start_leaves_nothing);
    tcase_add_test(tc, write_error_stops_run);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(resume_suite)

/* test_config.c - Check suite for configs/config.c: defaults, the shipped
 * configs, every error path with its message, --set, cross-field validation,
 * exact round trips through INI files and strings, and the usage text. Run
 * from the repository root (it reads configs/). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../configs/config.h"
#include "check_main.h"

enum { ERRLEN = 2048 };

/* Writes text to a fresh file under /tmp; path receives its name. */
static void write_temp(char *path, size_t pathlen, const char *text, size_t len)
{
    snprintf(path, pathlen, "/tmp/test_config_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp failed");
    FILE *f = fdopen(fd, "wb");
    ck_assert_msg(f != NULL, "fdopen failed");
    ck_assert_msg(fwrite(text, 1, len, f) == len, "short write to %s", path);
    fclose(f);
}

/* Loads INI text through a temp file over c. Returns config_load's status. */
static int load_text(Config *c, const char *text, char *path, size_t pathlen, char *err)
{
    write_temp(path, pathlen, text, strlen(text));
    err[0] = '\0';
    int rc = config_load(c, path, err, ERRLEN);
    unlink(path);
    return rc;
}

/* Expects text to fail at `line` with every one of the NULL-ended substrings
 * in the message, and the Config to be left untouched. */
static void expect_error(const char *text, int line, const char *const *subs)
{
    Config c, before;
    config_default(&c);
    memcpy(&before, &c, sizeof c);
    char path[64], err[ERRLEN], prefix[96];
    int rc = load_text(&c, text, path, sizeof path, err);
    ck_assert_msg(rc == -1, "load of <<%s>> should fail, got %d", text, rc);
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "message should start with '%s': %s", prefix, err);
    for (int i = 0; subs[i]; i++)
        ck_assert_msg(strstr(err, subs[i]) != NULL, "message should contain '%s': %s", subs[i], err);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "a failed load must leave the Config unchanged (<<%s>>)", text);
}

#define EXPECT(text, line, ...)                                   \
    do {                                                          \
        const char *const subs_[] = {__VA_ARGS__, NULL};          \
        expect_error(text, line, subs_);                          \
    } while (0)

static void expect_set_error(const char *assign, const char *const *subs)
{
    Config c, before;
    config_default(&c);
    memcpy(&before, &c, sizeof c);
    char err[ERRLEN] = "", prefix[300];
    ck_assert_msg(config_set(&c, assign, err, sizeof err) == -1, "--set %s should fail", assign);
    snprintf(prefix, sizeof prefix, "--set %s: ", assign);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "message should start with '%s': %s", prefix, err);
    for (int i = 0; subs[i]; i++)
        ck_assert_msg(strstr(err, subs[i]) != NULL, "message should contain '%s': %s", subs[i], err);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "a failed --set must leave the Config unchanged (%s)", assign);
}

#define EXPECT_SET(assign, ...)                                   \
    do {                                                          \
        const char *const subs_[] = {__VA_ARGS__, NULL};          \
        expect_set_error(assign, subs_);                          \
    } while (0)

static void set_ok(Config *c, const char *assign)
{
    char err[ERRLEN] = "";
    ck_assert_msg(config_set(c, assign, err, sizeof err) == 0, "--set %s failed: %s", assign, err);
}

static void expect_invalid(const Config *c, const char *sub)
{
    char err[ERRLEN] = "";
    ck_assert_msg(config_validate(c, err, sizeof err) == -1, "validate should fail with '%s'", sub);
    ck_assert_msg(strstr(err, sub) != NULL, "validate message should contain '%s': %s", sub, err);
}

/* A config with every key moved off its default. */
static void all_changed(Config *c)
{
    static const char *const sets[] = {
        "run.seed=18446744073709551615", "run.name=my run/x-1", "run.threads=3",
        "env.name=map", "env.size=17", "env.max_steps=123", "env.step_penalty=0.0123456789",
        "env.orientation=5", "env.orient_group=0,2", "env.goal=3,4", "env.map=maps/a b.txt",
        "network.type=cnn", "network.hidden=", "network.conv=8,32,7", "network.init=runs/x/final.safetensors",
        "symmetry.method=lambda", "symmetry.group=rot90", "symmetry.proxy=entropy", "symmetry.grad=ste",
        "symmetry.lambda_hidden=17", "symmetry.lambda_norm=softmax", "symmetry.prior=0.25",
        "agent.gamma=0.3333333", "agent.double_dqn=no", "agent.loss=mse", "agent.target_update=7",
        "agent.tau=0.005", "agent.eps_start=0.9", "agent.eps_end=-0", "agent.eps_steps=0",
        "train.steps=1000000000000", "train.num_envs=1024", "train.batch_size=65536", "train.buffer_size=1000000000",
        "train.learning_starts=0", "train.train_freq=4", "train.gradient_steps=2", "train.lr=1e-7",
        "train.adam_eps=1.5e-5", "train.max_grad_norm=0", "train.freeze_q=yes", "train.prior_updates=3", "train.checkpoint_every=0",
        "eval.eval_every=0", "eval.eval_episodes=1", "eval.eval_epsilon=0.1",
        "render.fps=240", "render.cell=4", "render.show_q=0", "render.show_views=false",
    };
    config_default(c);
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        set_ok(c, sets[i]);
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
    Config c;
    config_default(&c);
    ck_assert_msg(c.run.seed == 1 && c.run.name[0] == '\0' && c.run.threads == 1, "run defaults");
    ck_assert_msg(strcmp(c.env.name, "goal") == 0 && c.env.size == 0 && c.env.max_steps == 0, "env name/size/max_steps defaults");
    ck_assert_msg(c.env.step_penalty == 0.01f, "step_penalty default %g", (double)c.env.step_penalty);
    ck_assert_msg(strcmp(c.env.orientation, "identity") == 0 && strcmp(c.env.orient_group, "d4") == 0, "orientation defaults");
    ck_assert_msg(strcmp(c.env.goal, "random") == 0 && c.env.map[0] == '\0', "goal/map defaults");
    ck_assert_msg(strcmp(c.network.type, "mlp") == 0 && strcmp(c.network.hidden, "64,64") == 0, "network type/hidden defaults");
    ck_assert_msg(strcmp(c.network.conv, "16,16") == 0 && c.network.init[0] == '\0', "network conv/init defaults");
    ck_assert_msg(strcmp(c.symmetry.method, "none") == 0 && strcmp(c.symmetry.group, "d4") == 0, "symmetry method/group defaults");
    ck_assert_msg(strcmp(c.symmetry.proxy, "maxq") == 0 && strcmp(c.symmetry.grad, "selected") == 0, "equizero defaults");
    ck_assert_msg(c.symmetry.lambda_hidden == 64 && strcmp(c.symmetry.lambda_norm, "softplus") == 0 && c.symmetry.prior == 0.0f, "lambda defaults");
    ck_assert_msg(c.train.prior_updates == 0, "prior_updates default");
    ck_assert_msg(c.agent.gamma == 0.99f && c.agent.double_dqn == 1 && strcmp(c.agent.loss, "huber") == 0, "agent gamma/double/loss");
    ck_assert_msg(c.agent.target_update == 500 && c.agent.tau == 1.0f, "agent target defaults");
    ck_assert_msg(c.agent.eps_start == 1.0f && c.agent.eps_end == 0.05f && c.agent.eps_steps == 10000, "epsilon defaults");
    ck_assert_msg(c.train.steps == 50000 && c.train.num_envs == 1 && c.train.batch_size == 64, "train steps/envs/batch");
    ck_assert_msg(c.train.buffer_size == 50000 && c.train.learning_starts == 1000, "train buffer/learning_starts");
    ck_assert_msg(c.train.train_freq == 1 && c.train.gradient_steps == 1, "train freq/gradient_steps");
    ck_assert_msg(c.train.lr == 5e-4f && c.train.adam_eps == 1e-8f && c.train.max_grad_norm == 10.0f, "optimizer defaults");
    ck_assert_msg(c.train.freeze_q == 0 && c.train.checkpoint_every == 10000, "freeze_q/checkpoint_every");
    ck_assert_msg(c.eval.eval_every == 5000 && c.eval.eval_episodes == 50 && c.eval.eval_epsilon == 0.0f, "eval defaults");
    ck_assert_msg(c.render.fps == 8 && c.render.cell == 48 && c.render.show_q == 1 && c.render.show_views == 1, "render defaults");
    char err[ERRLEN];
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "defaults must validate: %s", err);
}
END_TEST

START_TEST(test_default_zeroes_padding)
{
    Config a, b;
    memset(&a, 0xAB, sizeof a);
    memset(&b, 0x5C, sizeof b);
    config_default(&a);
    config_default(&b);
    ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "config_default must fill every byte, padding included");
    /* A string set longer then shorter leaves no stale bytes behind. */
    set_ok(&a, "network.hidden=1024,1024,1024");
    set_ok(&a, "network.hidden=64,64");
    ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "setting a string must clear the rest of its field");
}
END_TEST

/* ---- shipped configs ---- */

START_TEST(test_shipped_goal_none)
{
    Config c, want;
    char err[ERRLEN] = "";
    config_default(&c);
    ck_assert_msg(config_load(&c, "configs/goal-none.ini", err, sizeof err) == 0, "goal-none.ini: %s", err);
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "goal-none.ini validates: %s", err);
    config_default(&want);
    want.env.size = 9;
    want.agent.gamma = 0.95f;
    want.agent.target_update = 250;
    want.train.batch_size = 128;
    want.eval.eval_every = 2500;
    ck_assert_msg(memcmp(&c, &want, sizeof c) == 0, "goal-none.ini must equal the defaults except size 9, gamma 0.95, target_update 250, batch_size 128, eval_every 2500");
}
END_TEST

static void check_bench(const char *path, const char *hidden)
{
    Config c;
    char err[ERRLEN] = "";
    config_default(&c);
    ck_assert_msg(config_load(&c, path, err, sizeof err) == 0, "%s: %s", path, err);
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "%s validates: %s", path, err);
    ck_assert_msg(strcmp(c.env.name, "goal") == 0 && c.env.size == 9 && c.train.num_envs == 1, "%s: goal 9x9, one env", path);
    ck_assert_msg(strcmp(c.network.type, "mlp") == 0 && strcmp(c.network.hidden, hidden) == 0, "%s: mlp %s", path, hidden);
    ck_assert_msg(strcmp(c.symmetry.method, "none") == 0, "%s: no symmetrizer", path);
    ck_assert_msg(c.train.lr == 5e-4f && c.train.batch_size == 64 && c.train.buffer_size == 50000, "%s: lr/batch/buffer", path);
    ck_assert_msg(c.agent.gamma == 0.99f && c.train.learning_starts == 1000, "%s: gamma/learning_starts", path);
    ck_assert_msg(c.train.train_freq == 1 && c.train.gradient_steps == 1, "%s: train_freq/gradient_steps", path);
    ck_assert_msg(c.agent.target_update == 500 && c.agent.tau == 1.0f, "%s: target_update/tau", path);
    ck_assert_msg(c.agent.eps_start == 1.0f && c.agent.eps_end == 0.05f && c.agent.eps_steps == 10000, "%s: epsilon", path);
    ck_assert_msg(strcmp(c.agent.loss, "huber") == 0 && c.agent.double_dqn == 1 && c.train.max_grad_norm == 10.0f, "%s: loss/double/clip", path);
    ck_assert_msg(c.train.steps == 20000 && c.run.seed == 1, "%s: steps/seed", path);
    ck_assert_msg(c.eval.eval_every == 0 && c.train.checkpoint_every == 0 && c.eval.eval_episodes == 20, "%s: eval/checkpoint", path);
}

START_TEST(test_shipped_bench)
{
    check_bench("configs/bench-small.ini", "64,64");
    check_bench("configs/bench-large.ini", "256,256");
}
END_TEST

/* ---- error paths ---- */

START_TEST(test_error_missing_file)
{
    Config c;
    char err[ERRLEN] = "";
    config_default(&c);
    ck_assert_msg(config_load(&c, "/tmp/no/such/dir/x.ini", err, sizeof err) == -1, "missing file must fail");
    ck_assert_msg(strcmp(err, "/tmp/no/such/dir/x.ini: cannot open: No such file or directory") == 0, "message: %s", err);
}
END_TEST

/* A FIFO, a directory or a device is refused at once, naming what it is
 * (opening a FIFO for reading would block until a writer appears). */
START_TEST(test_error_not_regular)
{
    Config c;
    char err[ERRLEN] = "", dir[64] = "/tmp/test_config_dir_XXXXXX", fifo[96];
    config_default(&c);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
    snprintf(fifo, sizeof fifo, "%s/fifo.ini", dir);
    ck_assert_msg(mkfifo(fifo, 0600) == 0, "mkfifo failed");
    ck_assert_msg(config_load(&c, fifo, err, sizeof err) == -1, "a FIFO must be refused");
    ck_assert_msg(strncmp(err, fifo, strlen(fifo)) == 0 && strstr(err, "is a FIFO") && strstr(err, "allowed: a regular file"), "FIFO message: %s", err);
    ck_assert_msg(config_load(&c, dir, err, sizeof err) == -1, "a directory must be refused");
    ck_assert_msg(strstr(err, "is a directory") && strstr(err, "allowed: a regular file"), "directory message: %s", err);
    ck_assert_msg(config_load(&c, "/dev/null", err, sizeof err) == -1 && strstr(err, "is a character device"), "/dev/null message: %s", err);
    unlink(fifo);
    rmdir(dir);
}
END_TEST

START_TEST(test_error_sections)
{
    EXPECT("[run]\nseed = 2\n\n[trian]\nlr = 1\n", 4, "[trian]: unknown section", "did you mean [train]?",
           "allowed: [run] [env] [network] [symmetry] [agent] [train] [eval] [render]");
    EXPECT("[training]\n", 1, "unknown section", "did you mean [train]?");
    EXPECT("[zzzzzzzz]\n", 1, "[zzzzzzzz]: unknown section; allowed: [run]");
    EXPECT("; c\n[train\nlr = 1\n", 2, "[train: section header without ']'", "allowed: [run]");
    EXPECT("lr = 1e-3\n[train]\n", 1, "lr = 1e-3: key outside a section", "it belongs in [train]", "allowed: keys after a section header");
    EXPECT("[train]\nsteps 100\n", 2, "'steps 100': expected 'key = value'");
}
END_TEST

START_TEST(test_error_unknown_keys)
{
    EXPECT("[train]\nlr_rate = 1e-3\n", 2, "[train] lr_rate = 1e-3: unknown key in [train]", "did you mean 'lr'?",
           "allowed: steps, num_envs, batch_size");
    EXPECT("[agent]\ngama = 0.9\n", 2, "[agent] gama = 0.9: unknown key in [agent]", "did you mean 'gamma'?", "allowed: gamma,");
    EXPECT("[train]\ngamma = 0.9\n", 2, "[train] gamma = 0.9: unknown key in [train]", "it belongs in [agent]");
    EXPECT("[train]\nname = x\n", 2, "unknown key in [train]", "it belongs in [run] or [env]");
    EXPECT("[agent]\nbatch_sise = 3\n", 2, "did you mean 'batch_size' in [train]?");
    EXPECT("[train]\nbach_sise = 3\n", 2, "did you mean 'batch_size'?"); /* two edits */
    EXPECT("[agent]\ngamam = 3\n", 2, "did you mean 'gamma'?");          /* a swap is one edit */
    EXPECT("[train]\nlearning = 3\n", 2, "did you mean 'learning_starts'?"); /* a prefix */
    EXPECT("[env]\ncompletely_unrelated = 1\n", 2, "[env] completely_unrelated = 1: unknown key in [env]; allowed: name, size,");
}
END_TEST

START_TEST(test_error_numbers)
{
    EXPECT("[train]\nsteps = 10k\n", 2, "[train] steps = 10k: not an integer; allowed: [0, 1000000000000]");
    EXPECT("[train]\nsteps = 1e5\n", 2, "not an integer");
    EXPECT("[train]\nsteps = \n", 2, "[train] steps = : not an integer");
    EXPECT("[train]\nbatch_size = 99999999999999999999999\n", 2, "number too large; allowed: [1, 65536]");
    EXPECT("[train]\nbatch_size = 70000\n", 2, "[train] batch_size = 70000: out of range; allowed: [1, 65536]");
    EXPECT("[train]\nnum_envs = 0\n", 2, "out of range; allowed: [1, 1024]");
    EXPECT("[env]\nsize = 2\n", 2, "[env] size = 2: out of range; allowed: [3, 64] or 0");
    EXPECT("[env]\nsize = 65\n", 2, "out of range; allowed: [3, 64] or 0");
    EXPECT("[run]\nthreads = 65\n", 2, "allowed: [1, 64]");
    EXPECT("[run]\nseed = -1\n", 2, "[run] seed = -1: not a non-negative integer");
    EXPECT("[run]\nseed = 18446744073709551616\n", 2, "number too large");
    EXPECT("[train]\nlr = 0\n", 2, "[train] lr = 0: out of range; allowed: (0, 10]");
    EXPECT("[train]\nlr = 1e-3x\n", 2, "[train] lr = 1e-3x: not a number; allowed: (0, 10]");
    EXPECT("[train]\nlr = 1e99\n", 2, "number too large");
    EXPECT("[train]\nlr = nan\n", 2, "not a finite number");
    EXPECT("[agent]\ngamma = 1.5\n", 2, "out of range; allowed: [0, 1]");
    EXPECT("[agent]\ntau = 0\n", 2, "[agent] tau = 0: out of range; allowed: (0, 1]");
    EXPECT("[agent]\neps_end = -0.1\n", 2, "allowed: [0, 1]");
    EXPECT("[symmetry]\nlambda_hidden = 4097\n", 2, "allowed: [1, 4096]");
    EXPECT("[agent]\ndouble_dqn = maybe\n", 2, "[agent] double_dqn = maybe: not a boolean; allowed: true|false|yes|no|1|0");
}
END_TEST

START_TEST(test_error_words)
{
    EXPECT("[symmetry]\nmethod = equitun\n", 2, "[symmetry] method = equitun: unknown value (did you mean 'equitune'?)",
           "allowed: none|equitune|equizero|lambda");
    EXPECT("[env]\nname = grid\n", 2, "unknown value; allowed: goal|fourrooms|lava|maze|map");
    EXPECT("[network]\ntype = CNN\n", 2, "allowed: mlp|cnn");
    EXPECT("[symmetry]\nproxy = max\n", 2, "did you mean 'maxq'?", "allowed: maxq|entropy");
    EXPECT("[symmetry]\ngrad = x\n", 2, "allowed: ste|selected");
    EXPECT("[symmetry]\nlambda_norm = softplu\n", 2, "allowed: softplus|softmax");
    EXPECT("[agent]\nloss = l1\n", 2, "allowed: huber|mse");
    EXPECT("[env]\norientation = 8\n", 2, "[env] orientation = 8: not an orientation; allowed: identity|random|0..7");
    EXPECT("[symmetry]\ngroup = 0,1\n", 2, "[symmetry] group = 0,1: group '0,1': not closed under composition", "allowed:");
    EXPECT("[env]\norient_group = rot45\n", 2, "[env] orient_group = rot45: group 'rot45'", "allowed: trivial, flip");
    EXPECT("[network]\nhidden = 64,,64\n", 2, "not a comma-separated list of integers", "allowed: comma-separated integers in [1, 65536], at most 8, or empty");
    EXPECT("[network]\nhidden = 64,0\n", 2, "entry 2 = 0 out of range");
    EXPECT("[network]\nhidden = 64,-1\n", 2, "not a comma-separated list");
    EXPECT("[network]\nhidden = 64,64,\n", 2, "not a comma-separated list");
    EXPECT("[network]\nconv = 1,2,3,4,5,6,7,8,9\n", 2, "more than 8 entries", "[1, 4096]");
    EXPECT("[env]\ngoal = 3\n", 2, "[env] goal = 3: not random or row,column; allowed: random|row,column with each in [0, 63]");
    EXPECT("[env]\ngoal = 3,64\n", 2, "entry 2 = 64 out of range");
    EXPECT("[env]\nmap = a;b\n", 2, "contains ';'", "allowed: the path of an ASCII map file");
}
END_TEST

START_TEST(test_error_lines)
{
    EXPECT("[train]\nlr = 1e-3\n; again\nlr = 2e-3\n", 4, "[train] lr = 2e-3: duplicate key (first set on line 2)", "allowed: each key once per file");
    /* The same key name in two sections is not a duplicate. */
    Config c;
    char path[64], err[ERRLEN];
    config_default(&c);
    ck_assert_msg(load_text(&c, "[run]\nname = a\n[env]\nname = maze\n", path, sizeof path, err) == 0, "run.name and env.name: %s", err);
    ck_assert_msg(strcmp(c.run.name, "a") == 0 && strcmp(c.env.name, "maze") == 0, "both names set");

    char longline[400];
    snprintf(longline, sizeof longline, "[run]\nname = %0300d\n", 7);
    EXPECT(longline, 2, "line longer than");
    char longval[300];
    memset(longval, 'x', 170);
    snprintf(longval + 170, sizeof longval - 170, "\n");
    char text[400];
    snprintf(text, sizeof text, "[run]\nname = %s", longval);
    EXPECT(text, 2, "longer than 160 characters");
    /* Lines of up to 198 characters are read, longer ones are errors. */
    char edge[512];
    config_default(&c);
    snprintf(edge, sizeof edge, "[run]\n;%0197d\nseed = 5\n", 0);
    ck_assert_msg(load_text(&c, edge, path, sizeof path, err) == 0 && c.run.seed == 5, "a 198-character line is fine: %s", err);
    snprintf(edge, sizeof edge, "[run]\n;%0198d\nseed = 5\n", 0);
    EXPECT(edge, 2, "line longer than 198 characters");
    /* The first error stops the parse; its line is the one reported. */
    EXPECT("[train]\nlr = -1\nsteps = x\n", 2, "[train] lr = -1: out of range");
    /* Indented lines are ordinary lines, not continuations of the previous value. */
    EXPECT("[train]\nlr = 1e-3\n    lr_x = 2\n", 3, "[train] lr_x = 2: unknown key");
}
END_TEST

START_TEST(test_error_nul_byte)
{
    Config c;
    char path[64], err[ERRLEN] = "";
    config_default(&c);
    write_temp(path, sizeof path, "[run]\nseed = 1\0junk\n", 20);
    ck_assert_msg(config_load(&c, path, err, sizeof err) == -1, "a NUL byte must be rejected");
    unlink(path);
    ck_assert_msg(strstr(err, ":2: line contains a NUL byte") != NULL, "message: %s", err);
}
END_TEST

START_TEST(test_syntax_accepted)
{
    Config c;
    char path[64], err[ERRLEN] = "";
    config_default(&c);
    const char *text = "\xEF\xBB\xBF; comment\r\n# another\r\n[train]\r\n  lr : 0.001 ; inline comment\r\n\tsteps=7\r\n"
                       "[network]\nhidden = 32, 16\nconv = 4\n[env]\ngoal = 1 , 2\nmap =\n[symmetry]\ngroup = 0,4\n";
    ck_assert_msg(load_text(&c, text, path, sizeof path, err) == 0, "BOM, CRLF, ':' and inline comments: %s", err);
    ck_assert_msg(c.train.lr == 0.001f && c.train.steps == 7, "values read: lr %g steps %ld", (double)c.train.lr, c.train.steps);
    ck_assert_msg(strcmp(c.network.hidden, "32,16") == 0 && strcmp(c.network.conv, "4") == 0, "lists normalised: '%s'", c.network.hidden);
    ck_assert_msg(strcmp(c.env.goal, "1,2") == 0 && strcmp(c.symmetry.group, "0,4") == 0, "goal '%s' group '%s'", c.env.goal, c.symmetry.group);
    ck_assert_msg(load_text(&c, "", path, sizeof path, err) == 0, "an empty file is valid: %s", err);
    ck_assert_msg(load_text(&c, "[render]\n", path, sizeof path, err) == 0, "an empty section is valid: %s", err);
    ck_assert_msg(load_text(&c, "[network]\nhidden =\n", path, sizeof path, err) == 0 && c.network.hidden[0] == '\0', "empty hidden allowed: %s", err);
}
END_TEST

/* ---- --set ---- */

START_TEST(test_set)
{
    Config c;
    config_default(&c);
    set_ok(&c, "train.lr=1e-3");
    set_ok(&c, " agent.gamma = 0.9 ");
    set_ok(&c, "symmetry.method=equizero");
    set_ok(&c, "env.map=");
    set_ok(&c, "run.name=a=b");
    ck_assert_msg(c.train.lr == 1e-3f && c.agent.gamma == 0.9f, "numbers set");
    ck_assert_msg(strcmp(c.symmetry.method, "equizero") == 0, "enum set");
    ck_assert_msg(strcmp(c.run.name, "a=b") == 0, "value may contain '=': '%s'", c.run.name);
    /* --set overrides a loaded file. */
    char path[64], err[ERRLEN];
    ck_assert_msg(load_text(&c, "[train]\nsteps = 10\n", path, sizeof path, err) == 0, "load: %s", err);
    set_ok(&c, "train.steps=20");
    ck_assert_msg(c.train.steps == 20 && c.train.lr == 1e-3f, "later --set wins, earlier values stay");
}
END_TEST

START_TEST(test_set_errors)
{
    EXPECT_SET("train.lr_rate=1e-3", "unknown key in [train] (did you mean 'lr'?)", "allowed: steps");
    EXPECT_SET("train.gamma=0.9", "it belongs in [agent]");
    EXPECT_SET("trian.lr=1", "unknown section [trian] (did you mean [train]?)", "allowed: [run]");
    EXPECT_SET("lr=1e-3", "expected section.key=value (it belongs in [train])", "allowed: e.g. train.lr=1e-3");
    EXPECT_SET("train.lr", "expected section.key=value");
    EXPECT_SET("train.lr=-1", "out of range; allowed: (0, 10]");
    EXPECT_SET("train.steps=12abc", "not an integer");
    EXPECT_SET("symmetry.method=equitun", "did you mean 'equitune'?", "allowed: none|equitune|equizero|lambda");
    EXPECT_SET("env.size=1", "allowed: [3, 64] or 0");
}
END_TEST

/* ---- validate ---- */

/* config_read: defaults under the file, overrides in order over it, then
 * the cross-field checks, whose message names the file. */
START_TEST(test_read)
{
    char path[64], err[ERRLEN] = "";
    const char *text = "[train]\nsteps = 10\nlr = 0.5\n";
    write_temp(path, sizeof path, text, strlen(text));
    Config c, d;
    config_default(&d);
    memset(&c, 0x5a, sizeof c);
    const char *sets[] = {"train.steps=20", "train.steps=30", "agent.gamma=0.5"};
    ck_assert_msg(config_read(&c, path, sets, 3, err, sizeof err) == 0, "config_read: %s", err);
    ck_assert_msg(c.train.steps == 30 && c.train.lr == 0.5f && c.agent.gamma == 0.5f, "file then sets in order (steps %ld)", c.train.steps);
    ck_assert_msg(c.train.batch_size == d.train.batch_size && strcmp(c.env.name, d.env.name) == 0, "defaults under the file");
    const char *bad[] = {"train.batch_size=64", "train.buffer_size=32"};
    ck_assert_msg(config_read(&c, path, bad, 2, err, sizeof err) == -1 && strncmp(err, path, strlen(path)) == 0 && strstr(err, "batch_size"), "validation names the file: %s", err);
    const char *unknown[] = {"train.nope=1"};
    ck_assert_msg(config_read(&c, path, unknown, 1, err, sizeof err) == -1 && strstr(err, "--set train.nope=1"), "a bad override is named: %s", err);
    remove(path);
}
END_TEST

START_TEST(test_validate)
{
    Config c;
    char err[ERRLEN];

    config_default(&c);
    set_ok(&c, "env.name=map");
    expect_invalid(&c, "env.map is empty but env.name = map");
    set_ok(&c, "env.map=maps/x.txt");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "map with a path is valid: %s", err);
    set_ok(&c, "env.name=maze");
    expect_invalid(&c, "env.map = maps/x.txt is set but env.name = maze");

    config_default(&c);
    set_ok(&c, "agent.eps_start=0.1");
    set_ok(&c, "agent.eps_end=0.2");
    expect_invalid(&c, "agent.eps_end = 0.2 is above agent.eps_start = 0.1; allowed: eps_end <= eps_start");
    set_ok(&c, "agent.eps_end=0.1");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "eps_end == eps_start is valid: %s", err);

    config_default(&c);
    set_ok(&c, "train.buffer_size=32");
    expect_invalid(&c, "train.batch_size = 64 is above train.buffer_size = 32");
    set_ok(&c, "train.batch_size=32");
    set_ok(&c, "train.learning_starts=0");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "batch == buffer and learning_starts < batch are valid: %s", err);

    config_default(&c);
    set_ok(&c, "network.type=cnn");
    set_ok(&c, "network.conv=");
    expect_invalid(&c, "network.conv is empty but network.type = cnn");
    set_ok(&c, "network.type=mlp");
    set_ok(&c, "network.hidden=");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "mlp with no hidden layer and no conv is valid: %s", err);

    config_default(&c);
    set_ok(&c, "train.freeze_q=true");
    expect_invalid(&c, "train.freeze_q = true requires symmetry.method = lambda or canonical (got none)");
    set_ok(&c, "symmetry.method=lambda");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "freeze_q with lambda is valid: %s", err);
    set_ok(&c, "symmetry.method=canonical");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "freeze_q with canonical is valid: %s", err);

    /* the canonicalization prior: lambda or canonical, an init checkpoint,
     * and prior_updates only with a prior */
    config_default(&c);
    set_ok(&c, "symmetry.prior=0.5");
    expect_invalid(&c, "symmetry.prior = 0.5 requires symmetry.method = lambda or canonical (got none)");
    set_ok(&c, "symmetry.method=canonical");
    expect_invalid(&c, "symmetry.prior = 0.5 needs network.init");
    set_ok(&c, "network.init=runs/pre/checkpoint.safetensors");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "prior with canonical and an init is valid: %s", err);
    set_ok(&c, "train.prior_updates=100");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "prior_updates with a prior is valid: %s", err);
    set_ok(&c, "symmetry.prior=0");
    expect_invalid(&c, "train.prior_updates = 100 needs symmetry.prior > 0");
    EXPECT_SET("symmetry.prior=-1", "symmetry.prior");
    EXPECT_SET("train.prior_updates=-1", "train.prior_updates");

    config_default(&c);
    set_ok(&c, "symmetry.method=equitune");
    set_ok(&c, "symmetry.group=trivial");
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "the trivial group is valid: %s", err);

    /* Fields written directly, bypassing the parser, are checked too. */
    config_default(&c);
    c.train.lr = -1.0f;
    expect_invalid(&c, "train.lr = -1: out of range; allowed: (0, 10]");
    config_default(&c);
    c.agent.double_dqn = 2;
    expect_invalid(&c, "agent.double_dqn = 2: not a boolean");
    config_default(&c);
    snprintf(c.symmetry.method, CFG_STR, "equi");
    expect_invalid(&c, "symmetry.method = equi: unknown value");
    config_default(&c);
    memset(c.env.map, 'x', CFG_STR);
    expect_invalid(&c, "env.map: string not terminated");
}
END_TEST

/* ---- round trips ---- */

static void round_trip_file(const Config *c, const char *what)
{
    char path[64] = "/tmp/test_config_XXXXXX", err[ERRLEN] = "";
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "w");
    ck_assert_msg(f != NULL, "fdopen");
    config_write_ini(c, f);
    fclose(f);
    Config back;
    config_default(&back);
    int rc = config_load(&back, path, err, sizeof err);
    unlink(path);
    ck_assert_msg(rc == 0, "%s: reloading the written INI failed: %s", what, err);
    ck_assert_msg(memcmp(&back, c, sizeof back) == 0, "%s: write_ini -> load must give an identical Config", what);
}

START_TEST(test_round_trip_ini)
{
    Config c;
    config_default(&c);
    round_trip_file(&c, "defaults");
    all_changed(&c);
    char err[ERRLEN];
    ck_assert_msg(config_validate(&c, err, sizeof err) == 0, "all_changed validates: %s", err);
    Config d;
    config_default(&d);
    ck_assert_msg(memcmp(&c, &d, sizeof c) != 0, "all_changed differs from the defaults");
    round_trip_file(&c, "every key changed");

    /* Every key is written, in table order, grouped by section. */
    char *s = config_to_string(&c);
    ck_assert_msg(s != NULL, "config_to_string");
    const char *order[] = {"[run]\nseed = ", "[env]\nname = map", "[network]\ntype = cnn", "[symmetry]\nmethod = lambda",
                           "[agent]\ngamma = ", "[train]\nsteps = ", "[eval]\neval_every = 0", "[render]\nfps = 240"};
    const char *prev = s;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *at = strstr(prev, order[i]);
        ck_assert_msg(at != NULL, "'%s' must follow the previous section in:\n%s", order[i], s);
        prev = at;
    }
    char *z = config_to_string(&(Config){0});
    ck_assert_msg(z != NULL, "config_to_string of a zeroed Config");
    free(z);
    Config dc;
    config_default(&dc);
    char *t = config_to_string(&dc);
    ck_assert_msg(t && strstr(t, "\nlr = 0.0005\n") && strstr(t, "\nmax_grad_norm = 10\n") && strstr(t, "\nadam_eps = 1e-08\n")
                  && strstr(t, "\ngamma = 0.99\n") && strstr(t, "\nstep_penalty = 0.01\n"), "floats in their shortest exact spelling:\n%s", t);
    free(t);
    ck_assert_msg(strstr(s, "\nhidden =\n") && strstr(s, "\nconv = 8,32,7\n") && strstr(s, "\neps_end = -0\n"), "values spelled out:\n%s", s);
    free(s);
}
END_TEST

/* Many random float and integer values survive the text form exactly. */
START_TEST(test_round_trip_random)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int it = 0; it < 300; it++) {
        Config c;
        config_default(&c);
        char buf[128];
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) / 9007199254740992.0;
        float tiny = (float)(1e-30 * exp(u * 60.0)); /* 1e-30 .. 1e-4, many exponents */
        snprintf(buf, sizeof buf, "train.lr=%.17g", (double)tiny);
        set_ok(&c, buf);
        snprintf(buf, sizeof buf, "agent.gamma=%.17g", u);
        set_ok(&c, buf);
        snprintf(buf, sizeof buf, "train.max_grad_norm=%.17g", u * 1e8);
        set_ok(&c, buf);
        snprintf(buf, sizeof buf, "run.seed=%llu", (unsigned long long)x);
        set_ok(&c, buf);
        ck_assert_msg(c.agent.gamma == (float)u, "gamma stored as the nearest float of %.17g", u);
        round_trip_file(&c, "random values");
        char *s = config_to_string(&c);
        ck_assert_msg(s != NULL, "config_to_string");
        Config back;
        char err[ERRLEN] = "";
        config_default(&back);
        ck_assert_msg(config_from_string(&back, s, "meta", err, sizeof err) == 0, "from_string: %s", err);
        ck_assert_msg(memcmp(&back, &c, sizeof c) == 0, "string round trip, iteration %d:\n%s", it, s);
        free(s);
    }
}
END_TEST

START_TEST(test_string_round_trip)
{
    Config c, back;
    all_changed(&c);
    char *s = config_to_string(&c);
    ck_assert_msg(s != NULL, "config_to_string");
    char err[ERRLEN] = "";
    memset(&back, 0x77, sizeof back);
    config_default(&back);
    ck_assert_msg(config_from_string(&back, s, "ckpt.safetensors", err, sizeof err) == 0, "from_string: %s", err);
    ck_assert_msg(memcmp(&back, &c, sizeof c) == 0, "to_string -> from_string must give an identical Config");

    /* write_ini writes the same text as to_string. */
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    ck_assert_msg(f != NULL, "open_memstream");
    config_write_ini(&c, f);
    fclose(f);
    ck_assert_msg(strcmp(mem, s) == 0, "write_ini and to_string agree");
    free(mem);
    free(s);

    /* Errors name the string's name and line. */
    config_default(&back);
    Config before;
    memcpy(&before, &back, sizeof back);
    int rc = config_from_string(&back, "[agent]\ngamma = 0.9\ngamma = 0.8\n", "ckpt.safetensors", err, sizeof err);
    ck_assert_msg(rc == -1 && strstr(err, "ckpt.safetensors:3: [agent] gamma = 0.8: duplicate key") == err, "message: %s", err);
    ck_assert_msg(memcmp(&back, &before, sizeof back) == 0, "failed from_string leaves the Config unchanged");
    rc = config_from_string(&back, "[agent]\ngamma = 0.5", "m", err, sizeof err);
    ck_assert_msg(rc == 0 && back.agent.gamma == 0.5f, "last line without newline is read: %s", err);
}
END_TEST

/* ---- usage text and README ---- */

START_TEST(test_print_keys_and_readme)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    ck_assert_msg(f != NULL, "open_memstream");
    config_print_keys(f);
    fclose(f);
    ck_assert_msg(strstr(mem, "train.lr") && strstr(mem, "(default 0.0005; allowed (0, 10])  Adam learning rate"), "lr line:\n%s", mem);
    ck_assert_msg(strstr(mem, "env.name") && strstr(mem, "allowed goal|fourrooms|lava|maze|map"), "env.name line");
    ck_assert_msg(strstr(mem, "run.name                 (default \"\";"), "empty default shown as \"\"");

    FILE *r = fopen("configs/README.md", "r");
    ck_assert_msg(r != NULL, "configs/README.md must exist (run from the repository root)");
    static char readme[65536];
    size_t n = fread(readme, 1, sizeof readme - 1, r);
    fclose(r);
    readme[n] = '\0';
    /* Every key printed by the usage text has a README row "| section | `key` | default |". */
    int count = 0;
    for (char *line = strtok(mem, "\n"); line; line = strtok(NULL, "\n")) {
        char full[64], def[64], row[160];
        ck_assert_msg(sscanf(line, " %63s (default %63[^;];", full, def) == 2, "usage line format: %s", line);
        char *dot = strchr(full, '.');
        ck_assert_msg(dot != NULL, "section.key: %s", full);
        *dot = '\0';
        if (strcmp(def, "\"\"") == 0)
            snprintf(row, sizeof row, "| %s | `%s` | \"\" |", full, dot + 1);
        else
            snprintf(row, sizeof row, "| %s | `%s` | `%s` |", full, dot + 1, def);
        ck_assert_msg(strstr(readme, row) != NULL, "README row missing or default differs: %s", row);
        count++;
    }
    ck_assert_msg(count == 50, "50 keys, got %d", count);
    free(mem);
}
END_TEST

/* One named TCase per test. */
#define ADD(s, name)                             \
    do {                                         \
        TCase *tc_ = tcase_create(#name);        \
        tcase_add_test(tc_, test_##name);        \
        suite_add_tcase(s, tc_);                 \
    } while (0)

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    ADD(s, defaults);
    ADD(s, default_zeroes_padding);
    ADD(s, shipped_goal_none);
    ADD(s, shipped_bench);
    ADD(s, error_missing_file);
    ADD(s, error_not_regular);
    ADD(s, error_sections);
    ADD(s, error_unknown_keys);
    ADD(s, error_numbers);
    ADD(s, error_words);
    ADD(s, error_lines);
    ADD(s, error_nul_byte);
    ADD(s, syntax_accepted);
    ADD(s, set);
    ADD(s, set_errors);
    ADD(s, validate);
    ADD(s, read);
    ADD(s, round_trip_ini);
    ADD(s, round_trip_random);
    ADD(s, string_round_trip);
    ADD(s, print_keys_and_readme);
    return s;
}

CHECK_MAIN(config_suite)

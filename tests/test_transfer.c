/* test_transfer.c - the transfer experiment's spec reader (inih through
 * configs/inifile.h: repeated keys, line-numbered messages, over-long lines,
 * seeds by the rules of compare specs), its stage planner (variants, seeds
 * and overrides of pretrain, zero-shot and fine-tune for every method row),
 * the check that pretraining solved every seed, and a whole tiny transfer
 * run through the equigrid binary (EQUIGRID_BIN), and the same experiment
 * through --emit-jobs job lists, --check-pretrain and --collect. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "testutil.h"
#include "../experiments/plan.h"
#include "../experiments/transfer.h"

static char tmpdir[64];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/eqg-transfer-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_msg(system(cmd) == 0, "cannot remove %s", tmpdir);
}

/* Writes text to tmpdir/t.ini; the path goes to path. */
static void spec(char *path, size_t len, const char *text)
{
    snprintf(path, len, "%s/t.ini", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static const char *const ENV = "\n[env lava]\nconfig = configs/transfer/lava-wall.ini\n";

/* Loading "[transfer]\n" + body + ENV fails with a message holding every
 * one of the NULL-ended substrings. */
static void expect_error(const char *body, const char *const *subs)
{
    char path[128], text[8192], err[2048] = "";
    snprintf(text, sizeof text, "[transfer]\n%s%s", body, ENV);
    spec(path, sizeof path, text);
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t != NULL, "malloc");
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1, "<<%s>> should fail", body);
    for (int i = 0; subs[i]; i++)
        ck_assert_msg(strstr(err, subs[i]) != NULL, "<<%.60s>>: message should contain '%s': %s", body, subs[i], err);
    free(t);
}

#define EXPECT(body, ...)                                  \
    do {                                                   \
        const char *const subs_[] = {__VA_ARGS__, NULL};   \
        expect_error(body, subs_);                         \
    } while (0)

START_TEST(test_load_shipped)
{
    char err[2048];
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, "configs/transfer/transfer.ini", err, sizeof err) == 0, "shipped spec: %s", err);
    ck_assert_msg(t->nenvs == 3 && strcmp(t->envs[0].name, "lava-wall") == 0 && strcmp(t->envs[2].name, "fourrooms-corner") == 0, "three envs");
    ck_assert_msg(t->nseeds == 10 && t->seeds[0] == 1 && t->seeds[9] == 10, "seeds 1..10");
    ck_assert_msg(t->nmethods == 4 && t->ngroups == 1 && t->nproxies == 2 && t->nfits == 2 && strcmp(t->fits[1], "prior") == 0, "methods, proxies, fits, groups");
    TransferRow rows[TR_MAX_ROWS];
    ck_assert_msg(transfer_rows(t, rows) == 7, "7 method rows: equitune, equizero x 2 proxies, lambda and canonical x 2 fits");
    ck_assert_msg(t->ntd == 3 && t->nft == 3 && t->nscratch == 2, "repeated set keys all kept: %d %d %d", t->ntd, t->nft, t->nscratch);
    ck_assert_msg(strcmp(t->td[2], "train.learning_starts=500") == 0, "inline comment stripped, order kept: '%s'", t->td[2]);
    ck_assert_msg(t->td_steps == 5000 && t->finetune_steps == 5000 && t->prior_updates == 1000 && t->prior == 1.0 && t->pretrain_success == 0.95 && strcmp(t->out, "runs/transfer") == 0,
                  "numbers and out");
    ck_assert_msg(transfer_load(t, "configs/transfer/quick.ini", err, sizeof err) == 0 && t->nenvs == 1 && t->nseeds == 3, "quick.ini: one env, 3 seeds: %s", err);
    free(t);
}
END_TEST

START_TEST(test_seeds)
{
    make_tmp();
    EXPECT("seeds = 1,1\n", "t.ini:2: [transfer] seeds = 1,1", "listed twice");
    EXPECT("seeds = -1\n", "t.ini:2: [transfer] seeds = -1", "non-negative integers");
    EXPECT("seeds = 1,,2\n", "t.ini:2: [transfer] seeds = 1,,2", "comma-separated");
    EXPECT("seeds =\n", "t.ini:2: [transfer] seeds = ", "no seeds");
    char many[1024] = "seeds = ";
    for (int i = 1; i <= CMP_MAX_SEEDS + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), i > 1 ? ",%d" : "%d", i);
    strcat(many, "\n");
    EXPECT(many, "t.ini:2: [transfer] seeds = 1,2,3", "too many seeds; allowed: at most 64");
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nseeds = 7, 3\n[env a]\nconfig = c.ini\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "two seeds: %s", err);
    ck_assert_msg(t->nseeds == 2 && t->seeds[0] == 7 && t->seeds[1] == 3, "seeds in order");
    free(t);
    rm_tmp();
}
END_TEST

START_TEST(test_errors)
{
    make_tmp();
    EXPECT("nmae = x\n", "t.ini:2: [transfer] nmae: unknown key", "allowed: name, seeds");
    EXPECT("methods = equitune, ridge\n", "t.ini:2: methods = equitune, ridge: invalid value", "methods: equitune,equizero,lambda,canonical");
    EXPECT("proxies = maxq, max\n", "t.ini:2: proxies = maxq, max: invalid value", "proxies: maxq,entropy");
    EXPECT("fits = td, priors\n", "t.ini:2: fits = td, priors: invalid value", "fits: td,prior");
    EXPECT("prior = 0\n", "t.ini:2: prior = 0: invalid value", "prior: a number > 0");
    EXPECT("prior_updates = 0\n", "t.ini:2: prior_updates = 0: invalid value");
    EXPECT("pretrain_success = 1.5\n", "t.ini:2: pretrain_success = 1.5: invalid value", "in [0, 1]");
    EXPECT("lambda_steps = 5\n", "t.ini:2: [transfer] lambda_steps: unknown key", "td_steps");
    EXPECT("finetune_steps = 0\n", "t.ini:2: finetune_steps = 0: invalid value");
    EXPECT("[transfr]\n", "t.ini:2: [transfr]: unknown section", "allowed: [transfer], [env NAME]");
    EXPECT("[env lava\n", "t.ini:2: [env lava: section header without ']'");
    EXPECT("just words\n", "t.ini:2: just words: expected 'key = value'");
    EXPECT("[env lava]\nconfig = a.ini\n", "t.ini:5: [env lava]: duplicate env name (first at line 2)");
    EXPECT("[env b]\nset = train.lr=1\n", "t.ini:2: [env b]: no config = PATH");
    char path[128], err[2048];
    spec(path, sizeof path, "name = x\n[transfer]\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1 && strstr(err, "t.ini:1: name = x: expected 'key = value' inside [transfer]"), "key before a section: %s", err);
    spec(path, sizeof path, "[transfer]\nname = x\n");
    ck_assert_msg(transfer_load(t, path, err, sizeof err) == -1 && strstr(err, "t.ini: no [env NAME] section"), "no env: %s", err);
    free(t);
    rm_tmp();
}
END_TEST

START_TEST(test_long_lines)
{
    make_tmp();
    /* a comment longer than the old 1023-byte buffer whose tail looks like a
     * key: once split, "name = evil" became a key; now the line is an error */
    char body[2048] = ";";
    memset(body + 1, 'x', 1100);
    strcpy(body + 1101, " name = evil\n");
    EXPECT(body, "t.ini:2: line longer than 198 characters");
    char edge[256] = "name = ";
    memset(edge + 7, 'n', 191);
    strcpy(edge + 198, "\n");
    EXPECT(edge, "t.ini:2: name = ", "invalid value"); /* 198 characters: read (the name is too long) */
    /* an indented line is a key of its own, not a continuation */
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nset = eval.eval_every=100\n    set = eval.eval_episodes=3\n[env a]\nconfig = c.ini\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "indented key: %s", err);
    ck_assert_msg(t->nall == 2 && strcmp(t->all[1], "eval.eval_episodes=3") == 0, "two sets: %d", t->nall);
    free(t);
    rm_tmp();
}
END_TEST

/* The set of variant v of s that starts with prefix, or NULL. */
static const char *find_set(const CompareVariant *v, const char *prefix)
{
    const char *last = NULL;
    for (int i = 0; i < v->nsets; i++)
        if (strncmp(v->sets[i], prefix, strlen(prefix)) == 0)
            last = v->sets[i];
    return last;
}

START_TEST(test_stages)
{
    make_tmp();
    char path[128], err[2048];
    spec(path, sizeof path, "[transfer]\nname = tt\nseeds = 4,9\nout = O\nmethods = equitune, equizero, canonical\nproxies = entropy\ngroups = flip\ntd_steps = 100\n"
                            "prior = 0.5\nprior_updates = 7\nfinetune_steps = 300\n"
                            "set = eval.eval_episodes=5\ntd_set = agent.eps_start=0.1\nfinetune_set = agent.eps_steps=7\nscratch_set = agent.eps_steps=9\n"
                            "[env a]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=200\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "load: %s", err);
    CompareSpec *st[TRANSFER_STAGES];
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        st[k] = transfer_stage(t, (TransferStage)k, err, sizeof err);
        ck_assert_msg(st[k] != NULL, "stage %d: %s", k, err);
        ck_assert_msg(st[k]->nseeds == 2 && st[k]->seeds[0] == 4 && st[k]->seeds[1] == 9, "stage %d seeds", k);
    }
    ck_assert_msg(strcmp(st[0]->out, "O/pretrain") == 0 && strcmp(st[2]->name, "tt-finetune") == 0, "stage dirs and names");
    ck_assert_msg(st[0]->nvariants == 1 && strcmp(st[0]->variants[0].name, "a-plain") == 0, "pretrain: plain only");
    ck_assert_msg(strcmp(find_set(&st[0]->variants[0], "env.orientation="), "env.orientation=identity") == 0 && !find_set(&st[0]->variants[0], "network.init="), "pretrain on identity, from scratch");
    /* zero-shot: plain, equitune, equizero-entropy, canonical-td, canonical-prior */
    ck_assert_msg(st[1]->nvariants == 5, "zero-shot: plain + 4 method rows, %d", st[1]->nvariants);
    const char *names[] = {"a-plain", "a-equitune-flip", "a-equizero-entropy-flip", "a-canonical-td-flip", "a-canonical-prior-flip"};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(strcmp(st[1]->variants[i].name, names[i]) == 0, "zero-shot variant %d: %s, want %s", i, st[1]->variants[i].name, names[i]);
    const CompareVariant *eqt = &st[1]->variants[1], *ez = &st[1]->variants[2], *td = &st[1]->variants[3], *pr = &st[1]->variants[4];
    ck_assert_msg(strcmp(find_set(eqt, "train.steps="), "train.steps=0") == 0 && !find_set(eqt, "agent.eps_start=") && !find_set(eqt, "train.freeze_q="), "equitune: no training");
    ck_assert_msg(strcmp(find_set(eqt, "network.init="), "network.init=O/pretrain/a-plain/seed-{seed}/checkpoint.safetensors") == 0, "loads the pretrained network: %s", find_set(eqt, "network.init="));
    ck_assert_msg(strcmp(find_set(ez, "symmetry.proxy="), "symmetry.proxy=entropy") == 0 && strcmp(find_set(ez, "train.steps="), "train.steps=0") == 0, "equizero: its proxy, no training");
    ck_assert_msg(strcmp(find_set(td, "symmetry.method="), "symmetry.method=canonical") == 0 && strcmp(find_set(td, "train.steps="), "train.steps=100") == 0 &&
                      strcmp(find_set(td, "train.freeze_q="), "train.freeze_q=true") == 0 && find_set(td, "agent.eps_start=") && !find_set(td, "symmetry.prior="),
                  "td fit: Q frozen, td_steps env steps, td_set");
    ck_assert_msg(strcmp(find_set(pr, "train.steps="), "train.steps=0") == 0 && strcmp(find_set(pr, "train.freeze_q="), "train.freeze_q=true") == 0 &&
                      strcmp(find_set(pr, "symmetry.prior="), "symmetry.prior=0.5") == 0 && strcmp(find_set(pr, "train.prior_updates="), "train.prior_updates=7") == 0 && !find_set(pr, "agent.eps_start="),
                  "prior fit: Q frozen, prior_updates, no env step");
    ck_assert_msg(strcmp(find_set(pr, "env.orientation="), "env.orientation=random") == 0 && strcmp(find_set(pr, "symmetry.group="), "symmetry.group=flip") == 0, "evaluated on random orientations");
    /* fine-tune: the same rows + scratch; the prior row keeps the prior, Q trains */
    ck_assert_msg(st[2]->nvariants == 6 && strcmp(st[2]->variants[5].name, "a-scratch") == 0, "fine-tune: + scratch");
    const CompareVariant *scr = &st[2]->variants[5], *ftp = &st[2]->variants[0], *ftpr = &st[2]->variants[4];
    ck_assert_msg(!find_set(scr, "network.init=") && strcmp(find_set(scr, "agent.eps_steps="), "agent.eps_steps=9") == 0, "scratch: random init, scratch_set");
    ck_assert_msg(find_set(ftp, "network.init=") && strcmp(find_set(ftp, "agent.eps_steps="), "agent.eps_steps=7") == 0 && strcmp(find_set(ftp, "train.steps="), "train.steps=300") == 0, "fine-tune: finetune_set and steps");
    ck_assert_msg(strcmp(find_set(ftpr, "symmetry.prior="), "symmetry.prior=0.5") == 0 && strcmp(find_set(ftpr, "train.prior_updates="), "train.prior_updates=7") == 0 && !find_set(ftpr, "train.freeze_q=") &&
                      strcmp(find_set(ftpr, "train.steps="), "train.steps=300") == 0,
                  "fine-tuning a prior row: the prior stays, Q trains");
    ck_assert_msg(!find_set(&st[2]->variants[3], "symmetry.prior=") && !find_set(&st[2]->variants[3], "agent.eps_start="), "fine-tuning a td row: no prior, no td_set");
    for (int k = 0; k < TRANSFER_STAGES; k++)
        compare_spec_free(st[k]);
    free(t);
    rm_tmp();
}
END_TEST

/* Writes an eval.csv whose final success is s into the run directory of
 * variant v, seed of stage. */
static void fake_eval(const CompareSpec *stage, int v, uint64_t seed, double s)
{
    char dir[512], cmd[700], path[600];
    compare_run_dir(stage, v, seed, dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    ck_assert_msg(system(cmd) == 0, "mkdir %s", dir);
    snprintf(path, sizeof path, "%s/eval.csv", dir);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fprintf(f, "step,return_mean,return_std,success,length_mean,episodes,w_pretrain\n100,0,0,0.2,1,1,1\n200,0,0,%g,1,1,1\n", s);
    fclose(f);
}

START_TEST(test_pretrain_check)
{
    make_tmp();
    char path[128], err[4096], text[512];
    snprintf(text, sizeof text, "[transfer]\nseeds = 1,2\nout = %s/O\n[env a]\nconfig = configs/transfer/lava-wall.ini\n[env b]\nconfig = configs/transfer/rooms-corner.ini\n", tmpdir);
    spec(path, sizeof path, text);
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "load: %s", err);
    CompareSpec *pre = transfer_stage(t, TRANSFER_PRETRAIN, err, sizeof err);
    ck_assert_msg(pre != NULL, "pretrain stage: %s", err);
    fake_eval(pre, 0, 1, 1.0);
    fake_eval(pre, 0, 2, 0.95);
    fake_eval(pre, 1, 1, 0.97);
    ck_assert_msg(transfer_check_pretrain(t, pre, err, sizeof err) == -1 && strstr(err, "b-plain/seed-2/eval.csv: cannot open"), "a missing run is named: %s", err);
    fake_eval(pre, 1, 2, 0.94);
    ck_assert_msg(transfer_check_pretrain(t, pre, err, sizeof err) == -1, "0.94 < 0.95 fails");
    ck_assert_msg(strstr(err, "[env b] seed 2: greedy success 0.94 < 0.95") && !strstr(err, "[env a]") && !strstr(err, "seed 1:") && strstr(err, "train.steps"),
                  "the message names env b, seed 2 only, and what to change: %s", err);
    fake_eval(pre, 1, 2, 0.95);
    ck_assert_msg(transfer_check_pretrain(t, pre, err, sizeof err) == 0, "every seed at >= 0.95 passes: %s", err);
    t->pretrain_success = 1.0;
    ck_assert_msg(transfer_check_pretrain(t, pre, err, sizeof err) == -1 && strstr(err, "[env a] seed 2") && strstr(err, "[env b] seed 1") && strstr(err, "[env b] seed 2"),
                  "pretrain_success 1: three runs named: %s", err);
    compare_spec_free(pre);
    free(t);
    rm_tmp();
}
END_TEST

/* A cell over fewer runs than the spec's seeds says how many it has. */
START_TEST(test_report_partial)
{
    make_tmp();
    char path[128], err[2048], text[256];
    snprintf(text, sizeof text, "[transfer]\nseeds = 1,2\nout = %s\nmethods = equitune\n[env a]\nconfig = c.ini\n", tmpdir);
    spec(path, sizeof path, text);
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "load: %s", err);
    VariantSummary pre = {.name = "a-plain", .nruns = 2, .success = {2, 1, 0, 1, 1}, .w_pretrain = {2, 1, 0, 1, 1}};
    VariantSummary zs[2] = {{.name = "a-plain", .nruns = 2, .success = {2, 0.25, 0, 0.2, 0.3}, .w_pretrain = {2, 0.125, 0, 0.1, 0.15}},
                            {.name = "a-equitune-d4", .nruns = 1, .success = {1, 0.5, 0, 0.5, 0.5}, .w_pretrain = {1, 0.125, 0, 0.125, 0.125}}};
    CompareSummary sums[TRANSFER_STAGES] = {{1, &pre, 0.95, "p"}, {2, zs, 0.95, "z"}, {0, NULL, 0.95, "f"}};
    double secs[TRANSFER_STAGES] = {1, 2, 3};
    char *md = NULL;
    ck_assert_msg(transfer_report(t, sums, secs, 1, &md, err, sizeof err) == 0, "report: %s", err);
    ck_assert_msg(strstr(md, "| a | none | – | – | 0.25 [0.20, 0.30] | 0.12 [0.10, 0.15] | – | – |"), "complete cells: %s", md);
    ck_assert_msg(strstr(md, "| a | equitune | – | d4 | 0.50 [0.50, 0.50] (1 of 2 seeds) | 0.12 [0.12, 0.12] (1 of 2 seeds) | – | – |"), "partial cells: %s", md);
    free(md);
    free(t);
    rm_tmp();
}
END_TEST

/* A tiny whole experiment through the binary: a pretraining that fails
 * stops with env and seed named and nothing after it; one that solves the
 * map runs all three stages and writes a report with every row. */
START_TEST(test_run_tiny)
{
    ck_assert_msg(access(test_bin(), X_OK) == 0, "%s is built (make test builds it)", test_bin());
    make_tmp();
    char path[128], text[2048], cmd[1024], file[256];
    const char *body = "[transfer]\nname = tiny\nseeds = 1\njobs = 2\ntd_steps = 200\nprior_updates = 50\nfinetune_steps = 200\n"
                       "set = eval.eval_episodes=8\ntd_set = train.learning_starts=100\nfinetune_set = train.learning_starts=100\nfinetune_set = eval.eval_every=0\n"
                       "scratch_set = train.learning_starts=100\nscratch_set = eval.eval_every=0\n";
    snprintf(text, sizeof text, "%sout = %s/bad\n[env lava]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=300\nset = train.learning_starts=100\n", body, tmpdir);
    spec(path, sizeof path, text);
    snprintf(cmd, sizeof cmd, "%s transfer %s --quiet > %s/bad.log 2>&1", test_bin(), path, tmpdir);
    ck_assert_msg(system(cmd) != 0, "an unsolved pretraining fails the command");
    snprintf(cmd, sizeof cmd, "grep -q 'pretraining did not solve its env on every seed.*\\[env lava\\] seed 1: greedy success' %s/bad.log", tmpdir);
    ck_assert_msg(system(cmd) == 0, "the message names env and seed (see %s/bad.log)", tmpdir);
    snprintf(file, sizeof file, "%s/bad/zeroshot/lava-equitune-d4", tmpdir);
    ck_assert_msg(access(file, F_OK) != 0, "no zero-shot run after a failed pretraining");
    snprintf(text, sizeof text, "%sout = %s/good\n[env lava]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=8000\n", body, tmpdir);
    spec(path, sizeof path, text);
    snprintf(cmd, sizeof cmd, "%s transfer %s --quiet > %s/good.log 2>&1", test_bin(), path, tmpdir);
    ck_assert_msg(system(cmd) == 0, "the tiny transfer runs (see %s/good.log)", tmpdir);
    snprintf(file, sizeof file, "%s/good/transfer.md", tmpdir);
    FILE *f = fopen(file, "r");
    ck_assert_msg(f != NULL, "transfer.md written");
    static char md[65536];
    size_t n = fread(md, 1, sizeof md - 1, f);
    md[n] = '\0';
    fclose(f);
    const char *rows[] = {"| lava | pretrained (identity orientation) | – | – | 1.00 [1.00, 1.00] | 1.00 [1.00, 1.00] | – | – |", "The transfer protocol, 1 seeds.", "| lava | scratch (random init, none) | – | – | – | – | ",
                          "| lava | equitune | – | d4 | ", "| lava | equizero | maxq | d4 | ", "| lava | equizero | entropy | d4 | ", "| lava | lambda | td | d4 | ",
                          "| lava | lambda | prior | d4 | ", "| lava | canonical | td | d4 | ", "| lava | canonical | prior | d4 | ", "| lava | equitune | – | d4 | 0.00 [0.00, 0.00] | 0.12 [0.12, 0.12] | "};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_msg(strstr(md, rows[i]) != NULL, "row '%s' in transfer.md:\n%s", rows[i], md);
    snprintf(file, sizeof file, "%s/good/transfer.csv", tmpdir);
    f = fopen(file, "r");
    char line[2048];
    ck_assert_msg(f && fgets(line, sizeof line, f) && strstr(line, "env,method,fit,group,zeroshot_success_mean,zeroshot_success_lo,zeroshot_success_hi,") == line, "csv header: %s", line);
    int nl = 1;
    while (fgets(line, sizeof line, f))
        nl++;
    fclose(f);
    ck_assert_msg(nl == 1 + 3 + 7, "csv: header + 3 baselines + 7 method rows, got %d lines", nl);
    /* --collect with seeds that never ran: the pretraining check names them */
    snprintf(text, sizeof text, "[transfer]\nseeds = 1,2,3\n%sout = %s/good\n[env lava]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=8000\n", strstr(body, "jobs"), tmpdir);
    spec(path, sizeof path, text);
    snprintf(cmd, sizeof cmd, "%s transfer %s --collect --quiet > %s/collect.log 2>&1; grep -q 'pretraining did not solve.*lava-plain/seed-2/eval.csv: cannot open' %s/collect.log", test_bin(), path, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "--collect with seeds 2, 3 never run: the pretraining check names them (see %s/collect.log)", tmpdir);
    snprintf(file, sizeof file, "%s/good/transfer.png", tmpdir);
    ck_assert_msg(access(file, F_OK) == 0, "transfer.png written");
    /* the prior fit never stepped an env: its metrics.csv has no episode */
    snprintf(file, sizeof file, "%s/good/zeroshot/lava-canonical-prior-d4/seed-1/metrics.csv", tmpdir);
    f = fopen(file, "r");
    ck_assert_msg(f && fgets(line, sizeof line, f) && !fgets(line, sizeof line, f), "a prior fit plays no episode");
    fclose(f);
    rm_tmp();
}
END_TEST

/* Runs every line of a job list with sh; returns how many lines ran, -1 on a failed line. */
static int run_jobs(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[16384];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        FILE *p = popen("sh", "w");
        if (!p || fputs(line, p) < 0 || pclose(p) != 0) {
            fclose(f);
            return -1;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* Whether two files have the same bytes. */
static int same_file(const char *a, const char *b)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

START_TEST(test_emit_chain)
{
    ck_assert_msg(access(test_bin(), X_OK) == 0, "%s is built (make test builds it)", test_bin());
    make_tmp();
    char path[128], text[2048], cmd[1024], a[256], b[256];
    const char *body = "[transfer]\nname = chain\nseeds = 1\njobs = 2\nmethods = equitune, lambda\nfits = prior\nprior_updates = 50\nfinetune_steps = 200\n"
                       "set = eval.eval_episodes=8\nfinetune_set = train.learning_starts=100\nfinetune_set = eval.eval_every=0\n"
                       "scratch_set = train.learning_starts=100\nscratch_set = eval.eval_every=0\n";
    const char *env = "[env lava]\nconfig = configs/transfer/lava-wall.ini\nset = train.steps=8000\n";
    /* the reference: the same experiment run locally */
    snprintf(text, sizeof text, "%sout = %s/local\n%s", body, tmpdir, env);
    spec(path, sizeof path, text);
    snprintf(cmd, sizeof cmd, "%s transfer %s --progress-every 0.2 > %s/local.log 2>&1", test_bin(), path, tmpdir);
    ck_assert_msg(system(cmd) == 0, "the local transfer runs (see %s/local.log)", tmpdir);
    snprintf(cmd, sizeof cmd, "grep -q '^progress: 1/1 runs (100 %%)' %s/local.log && grep -q '^progress: 4/4 runs (100 %%)' %s/local.log", tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "stderr not a terminal: plain progress lines per stage (see %s/local.log)", tmpdir);
    /* a rerun that has work to do adds its time to the stage's recorded wall time */
    snprintf(cmd, sizeof cmd, "rm -r %s/local/zeroshot/lava-equitune-d4 && echo 1000 > %s/local/zeroshot/seconds.txt && %s transfer %s --quiet > /dev/null 2>&1", tmpdir, tmpdir, test_bin(), path);
    ck_assert_msg(system(cmd) == 0, "the rerun: %s", cmd);
    snprintf(a, sizeof a, "%s/local/zeroshot/seconds.txt", tmpdir);
    FILE *f = fopen(a, "r");
    double secs = 0;
    ck_assert_msg(f && fscanf(f, "%lf", &secs) == 1 && secs > 1000 && secs < 1100, "zeroshot wall time summed over both invocations: %g", secs);
    fclose(f);
    snprintf(text, sizeof text, "%sout = %s/jobs\n%s", body, tmpdir, env);
    spec(path, sizeof path, text);
    snprintf(cmd, sizeof cmd, "%s transfer %s --emit-jobs %s/lists --collect > /dev/null 2>&1", test_bin(), path, tmpdir);
    ck_assert_msg(system(cmd) >> 8 == 2, "--emit-jobs with --collect is a usage error");
    snprintf(cmd, sizeof cmd, "%s transfer %s --emit-jobs %s/lists --quiet", test_bin(), path, tmpdir);
    ck_assert_msg(system(cmd) == 0, "--emit-jobs: %s", cmd);
    snprintf(a, sizeof a, "%s/jobs/pretrain/lava-plain/seed-1", tmpdir);
    ck_assert_msg(access(a, F_OK) != 0, "--emit-jobs runs nothing");
    snprintf(cmd, sizeof cmd, "%s transfer %s --check-pretrain > %s/check.log 2>&1; test $? = 1 && grep -q 'pretraining did not solve.*lava-plain/seed-1/eval.csv: cannot open' %s/check.log", test_bin(), path, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "--check-pretrain before pretraining fails naming the run (see %s/check.log)", tmpdir);
    const char *stages[] = {"pretrain", "zeroshot", "finetune"};
    const int lines[] = {1, 1 + 2, 2 + 2}; /* plain (+ scratch) + equitune and lambda-prior */
    for (int k = 0; k < 3; k++) {
        snprintf(a, sizeof a, "%s/lists/%s.txt", tmpdir, stages[k]);
        ck_assert_msg(run_jobs(a) == lines[k], "%s: %d lines, each runs", a, lines[k]);
        if (k == 0) {
            snprintf(cmd, sizeof cmd, "%s transfer %s --check-pretrain | grep -q 'pretraining solved every env on every seed: 1 runs'", test_bin(), path);
            ck_assert_msg(system(cmd) == 0, "--check-pretrain passes once pretraining solved the env");
        }
    }
    snprintf(a, sizeof a, "%s/lists/finetune.txt", tmpdir);
    ck_assert_msg(run_jobs(a) == 4, "a finished job list runs again (each line skips its done run)");
    snprintf(cmd, sizeof cmd, "%s transfer %s --collect > %s/collect.log 2>&1 && grep -q 'Wall time: pretrain not recorded, zero-shot not recorded' %s/collect.log", test_bin(), path, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "--collect writes the report, without made-up wall times (see %s/collect.log)", tmpdir);
    snprintf(a, sizeof a, "%s/local/transfer.csv", tmpdir);
    snprintf(b, sizeof b, "%s/jobs/transfer.csv", tmpdir);
    ck_assert_msg(same_file(a, b), "the job lists give the local run's transfer.csv byte for byte (%s, %s)", a, b);
    for (int k = 0; k < 3; k++) {
        snprintf(a, sizeof a, "%s/local/%s/summary.csv", tmpdir, stages[k]);
        snprintf(b, sizeof b, "%s/jobs/%s/summary.csv", tmpdir, stages[k]);
        ck_assert_msg(same_file(a, b), "%s summary equal to the local run's", stages[k]);
    }
    rm_tmp();
}
END_TEST

static Suite *transfer_suite(void)
{
    Suite *s = suite_create("transfer");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"load_shipped", test_load_shipped},
        {"seeds", test_seeds},
        {"errors", test_errors},
        {"long_lines", test_long_lines},
        {"stages", test_stages},
        {"pretrain_check", test_pretrain_check},
        {"report_partial", test_report_partial},
        {"run_tiny", test_run_tiny},
        {"emit_chain", test_emit_chain},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 300); /* run_tiny trains about 20 short runs: about 50 s on a loaded 2-core machine */
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

CHECK_MAIN(transfer_suite)

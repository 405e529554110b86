/* test_compare.c - compare specs and their errors, summary statistics against
 * hand-computed values, resume skipping finished runs, the --emit-jobs /
 * --collect round trip through the real ./equigrid binary on a tiny spec,
 * and plot files. Runs from the repository root (make test). */
#include <cairo.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../experiments/compare.h"
#include "../experiments/transfer.h"
#include "../render/plot.h"
#include "check_main.h"
#include "testutil.h"

static char tmpdir[256];

/* LeakSanitizer hook (sanitized builds only; an unused function otherwise):
 * cairo's text drawing makes fontconfig cache its configuration for the
 * process's lifetime, which LSan reports at exit; not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/equigrid-test-compare-XXXXXX");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void rm_tmp(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_msg(system(cmd) == 0, "cannot remove %s", tmpdir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Writes name.ini in tmpdir with text (where "OUT" is replaced by tmpdir/out). */
static void spec_file(char *path, size_t len, const char *name, const char *text)
{
    snprintf(path, len, "%s/%s.ini", tmpdir, name);
    char buf[4096], *o = buf;
    for (const char *p = text; *p;) {
        if (strncmp(p, "OUT", 3) == 0) {
            o += sprintf(o, "%s/out", tmpdir);
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    write_file(path, buf);
}

static const char *tiny_spec =
    "; tiny\n"
    "[compare]\n"
    "name = tiny\n"
    "seeds = 3, 7\n"
    "out = OUT\n"
    "threshold = 0.5\n"
    "jobs = 2\n"
    "\n"
    "[variant plain]\n"
    "config = configs/goal-none.ini\n"
    "set = train.steps=200\n"
    "set = train.learning_starts=50\n"
    "set = eval.eval_every=100\n"
    "set = eval.eval_episodes=3\n"
    "set = train.checkpoint_every=0\n"
    "\n"
    "[variant flip]\n"
    "config = configs/goal-none.ini\n"
    "set = symmetry.method=equitune\n"
    "set = symmetry.group=flip\n"
    "set = train.steps=200\n"
    "set = train.learning_starts=50\n"
    "set = eval.eval_every=100\n"
    "set = eval.eval_episodes=3\n"
    "set = train.checkpoint_every=0\n";

/* Loads text as a spec; expects load (and check) to fail with all of the
 * fragments in the message. */
static void expect_error(const char *text, int at_check, const char *f1, const char *f2)
{
    char path[1200], err[2048];
    spec_file(path, sizeof path, "bad", text);
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    if (at_check) {
        ck_assert_msg(s != NULL, "spec should load: %s", s ? "" : err);
        ck_assert_msg(compare_spec_check(s, NULL, 0, err, sizeof err) != 0, "check should fail for:\n%s", text);
        compare_spec_free(s);
    } else {
        ck_assert_msg(s == NULL, "load should fail for:\n%s", text);
    }
    ck_assert_msg(strstr(err, path) != NULL, "message names the spec file: %s", err);
    ck_assert_msg(strstr(err, f1) != NULL, "message has '%s': %s", f1, err);
    ck_assert_msg(!f2 || strstr(err, f2) != NULL, "message has '%s': %s", f2 ? f2 : "", err);
}

START_TEST(test_parse)
{
    make_tmp();
    char path[1200], err[2048];
    spec_file(path, sizeof path, "tiny", tiny_spec);
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s != NULL, "tiny spec loads: %s", err);
    ck_assert_msg(strcmp(s->name, "tiny") == 0, "name");
    ck_assert_msg(s->nseeds == 2 && s->seeds[0] == 3 && s->seeds[1] == 7, "seeds 3, 7");
    ck_assert_msg(fabs(s->threshold - 0.5) < 1e-12 && s->jobs == 2, "threshold and jobs");
    ck_assert_msg(s->nvariants == 2 && strcmp(s->variants[1].name, "flip") == 0, "two variants in order");
    ck_assert_msg(s->variants[1].nsets == 7 && strcmp(s->variants[1].sets[0], "symmetry.method=equitune") == 0, "repeated set kept in order");
    ck_assert_msg(s->variants[1].set_line[0] == 19, "set line number 19, got %d", s->variants[1].set_line[0]);
    ck_assert_msg(compare_spec_check(s, NULL, 0, err, sizeof err) == 0, "check passes: %s", err);
    Config cfg;
    ck_assert_msg(compare_run_config(s, 1, 7, NULL, 0, &cfg, err, sizeof err) == 0, "run config: %s", err);
    ck_assert_msg(cfg.run.seed == 7 && strcmp(cfg.symmetry.method, "equitune") == 0 && cfg.train.steps == 200, "overrides and seed applied");
    const char *global[] = {"train.lr=0.001"};
    ck_assert_msg(compare_run_config(s, 0, 3, global, 1, &cfg, err, sizeof err) == 0 && fabsf(cfg.train.lr - 0.001f) < 1e-9f, "global --set applied");
    char **argv;
    ck_assert_msg(compare_run_argv(s, 0, 3, NULL, 0, "/bin/equigrid", 1, &argv, err, sizeof err) == 0, "argv");
    int n = 0;
    while (argv[n])
        n++;
    ck_assert_msg(strcmp(argv[1], "train") == 0 && strcmp(argv[n - 1], "--resume") == 0 && strcmp(argv[n - 3], "--out") == 0 && strstr(argv[n - 2], "seed-3"), "train ... --out DIR --resume (no --quiet: the run logs progress lines)");
    ck_assert_msg(strstr(argv[n - 2], "/out/plain/seed-3") != NULL, "run directory OUT/plain/seed-3: %s", argv[n - 2]);
    compare_argv_free(argv);
    char x[256];
    ck_assert_msg(compare_expand(x, sizeof x, "network.init={out}/a/seed-{seed}/c", 42, "runs/x") == 0 && strcmp(x, "network.init=runs/x/a/seed-42/c") == 0, "expand: %s", x);
    ck_assert_msg(compare_expand(x, 8, "{out}{out}", 1, "runs/x") != 0, "expand reports overflow");
    compare_spec_free(s);
    /* defaults: name from the file stem, out runs/compare-NAME */
    spec_file(path, sizeof path, "mini", "[variant a]\nconfig = configs/goal-none.ini\n");
    s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s && strcmp(s->name, "mini") == 0 && strcmp(s->out, "runs/compare-mini") == 0 && s->nseeds == 5 && fabs(s->threshold - 0.95) < 1e-12, "defaults");
    compare_spec_free(s);
    rm_tmp();
}
END_TEST

START_TEST(test_errors)
{
    make_tmp();
    expect_error("[compare]\nseeds = 1\n[variant a]\nconfig = configs/nope.ini\n", 1, ":4: [variant a] config = configs/nope.ini", "cannot read");
    expect_error("[compare]\n[variant a]\nconfig = configs/goal-none.ini\nsett = train.lr=1\n", 0, ":4: [variant a] sett", "did you mean 'set'?");
    expect_error("[compare]\nsedes = 1,2\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":2: [compare] sedes", "did you mean 'seeds'?");
    expect_error("[variant a]\nconfig = configs/goal-none.ini\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":3: [variant a]: duplicate variant name", "line 1");
    expect_error("[variant a]\nconfig = configs/goal-none.ini\nset = train.lr=-1\n", 1, ":3: [variant a] set = train.lr=-1", "allowed");
    expect_error("[variant a]\nconfig = configs/goal-none.ini\nset = train.lrr=1\n", 1, ":3: [variant a] set = train.lrr=1", "did you mean");
    expect_error("[variant a]\nconfig = configs/goal-none.ini\nset = run.seed=3\n", 1, ":3:", "seeds come from [compare] seeds");
    expect_error("[variant a]\nconfig = configs/goal-none.ini\nset = train.freeze_q=true\n", 1, ":1: [variant a]", "freeze_q");
    expect_error("[compare]\nseeds = 1,x\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":2: [compare] seeds = 1,x", "comma-separated");
    expect_error("[compare]\nthreshold = 2\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":2: [compare] threshold", "[0, 1]");
    expect_error("[variant a/b]\nconfig = configs/goal-none.ini\n", 0, ":1: [variant a/b]", "invalid variant name");
    expect_error("[variant a]\nset = train.lr=1\n", 0, ":1: [variant a]: no config", NULL);
    expect_error("[comapre]\n", 0, ":1: [comapre]: unknown section", "did you mean 'compare'?");
    /* an output directory holding runs of a different spec */
    char path[1200], err[2048];
    spec_file(path, sizeof path, "one", "[compare]\nout = OUT\n[variant a]\nconfig = configs/goal-none.ini\nset = train.lr=0.001\n");
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s && compare_out_prepare(s, NULL, 0, 1, err, sizeof err) == 0, "first use of out: %s", err);
    compare_spec_free(s);
    spec_file(path, sizeof path, "one", "[compare]\nout = OUT\nseeds = 1,2,3,4,5,6\n[variant a]\nconfig = configs/goal-none.ini\nset = train.lr=0.001\n");
    s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s && compare_out_prepare(s, NULL, 0, 1, err, sizeof err) == 0, "more seeds reuse the directory: %s", err);
    compare_spec_free(s);
    spec_file(path, sizeof path, "two", "[compare]\nout = OUT\n[variant a]\nconfig = configs/goal-none.ini\nset = train.lr=0.002\n");
    s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s && compare_out_prepare(s, NULL, 0, 1, err, sizeof err) != 0, "different overrides rejected");
    ck_assert_msg(strstr(err, "holds runs of a different spec") && strstr(err, "train.lr=0.002") && strstr(err, "two.ini"), "message: %s", err);
    const char *sets[] = {"train.gamma=0.9"};
    ck_assert_msg(compare_out_prepare(s, sets, 1, 0, err, sizeof err) != 0, "different command-line --set rejected too");
    compare_spec_free(s);
    rm_tmp();
}
END_TEST

/* A transfer spec with the given [transfer] seeds line must fail to load,
 * naming the file, line 2 and the fragment. */
static void expect_transfer_seeds_error(const char *seeds, const char *fragment)
{
    char path[1200], err[2048], text[2048];
    snprintf(text, sizeof text, "[transfer]\nseeds = %s\n[env a]\nconfig = configs/goal-none.ini\n", seeds);
    spec_file(path, sizeof path, "transfer", text);
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t != NULL, "out of memory");
    ck_assert_msg(transfer_load(t, path, err, sizeof err) != 0, "seeds = %s should be rejected", seeds);
    ck_assert_msg(strstr(err, path) && strstr(err, ":2: [transfer] seeds"), "message names file:line and the key: %s", err);
    ck_assert_msg(strstr(err, fragment) != NULL, "message has '%s': %s", fragment, err);
    free(t);
}

/* Transfer seeds follow the compare rules: found by fuzz_transfer, which saw
 * seeds = 2,2 become two runs sharing one directory. */
START_TEST(test_transfer_seeds)
{
    make_tmp();
    expect_transfer_seeds_error("1,1", "listed twice");
    expect_transfer_seeds_error("-1", "non-negative");
    expect_transfer_seeds_error("1,,2", "non-negative");
    expect_transfer_seeds_error("", "no seeds");
    char many[1024] = "";
    for (int i = 0; i <= CMP_MAX_SEEDS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s%d", i ? "," : "", i);
    expect_transfer_seeds_error(many, "at most 64");
    many[0] = '\0';
    for (int i = 0; i < 20; i++) /* 20 seeds, 399 characters: once cut to fit */
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10000000000000000%02d", i ? "," : "", i);
    char path[1200], err[2048], text[2048];
    snprintf(text, sizeof text, "[transfer]\nseeds = %s\n[env a]\nconfig = configs/goal-none.ini\n", many);
    spec_file(path, sizeof path, "transfer", text);
    TransferSpec *lt = malloc(sizeof *lt);
    ck_assert_msg(lt && transfer_load(lt, path, err, sizeof err) != 0 && strstr(err, ":2: line longer than 198 characters"), "a seed list longer than a line: %s", err);
    free(lt);
    spec_file(path, sizeof path, "transfer", "[transfer]\nseeds = 4, 2,9\n[env a]\nconfig = configs/goal-none.ini\n");
    TransferSpec *t = malloc(sizeof *t);
    ck_assert_msg(t && transfer_load(t, path, err, sizeof err) == 0, "a good seed list loads: %s", t ? err : "out of memory");
    CompareSpec *s = transfer_stage(t, TRANSFER_PRETRAIN, err, sizeof err);
    ck_assert_msg(s != NULL, "stage: %s", err);
    ck_assert_msg(s->nseeds == 3 && s->seeds[0] == 4 && s->seeds[1] == 2 && s->seeds[2] == 9, "stage seeds 4, 2, 9 (got %d)", s->nseeds);
    compare_spec_free(s);
    free(t);
    rm_tmp();
}
END_TEST

/* eval.csv with rows (step, return, success). */
static void eval_csv(const char *dir, const long *step, const double *ret, const double *succ, int n)
{
    char path[1200], buf[4096];
    mkdir(dir, 0777);
    size_t k = (size_t)sprintf(buf, "step,return_mean,return_std,success,length_mean,episodes\n");
    for (int i = 0; i < n; i++)
        k += (size_t)sprintf(buf + k, "%ld,%.6f,0.1,%.6f,10,50\n", step[i], ret[i], succ[i]);
    snprintf(path, sizeof path, "%s/eval.csv", dir);
    write_file(path, buf);
}

/* The spec goes through inih (configs/inifile.h): repeated keys in order
 * with their lines, indented lines as keys of their own, over-long lines an
 * error naming their line instead of being split. */
START_TEST(test_ini_lines)
{
    make_tmp();
    char path[1200], err[2048];
    spec_file(path, sizeof path, "rep", "[compare]\nseeds = 1\n[variant a]\nconfig = configs/goal-none.ini\nset = train.lr=1e-3 ; a comment\n"
                                        "   set = train.steps=100\nset = train.lr=2e-3\n");
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s != NULL, "load: %s", err);
    const CompareVariant *v = &s->variants[0];
    ck_assert_msg(v->nsets == 3, "three sets, the indented one included: %d", v->nsets);
    ck_assert_msg(strcmp(v->sets[0], "train.lr=1e-3") == 0 && strcmp(v->sets[1], "train.steps=100") == 0 && strcmp(v->sets[2], "train.lr=2e-3") == 0, "in order, comment stripped");
    ck_assert_msg(v->set_line[0] == 5 && v->set_line[1] == 6 && v->set_line[2] == 7 && v->config_line == 4 && v->line == 3, "line numbers: %d %d %d", v->set_line[0], v->set_line[1], v->set_line[2]);
    compare_spec_free(s);

    char text[2048] = "[compare]\n;";
    memset(text + 11, 'x', 1100);
    strcpy(text + 1111, " name = evil\n[variant a]\nconfig = configs/goal-none.ini\n");
    expect_error(text, 0, ":2: line longer than 198 characters", NULL);
    char edge[512] = "[variant a]\nconfig = configs/goal-none.ini\n;";
    size_t n = strlen(edge);
    memset(edge + n, 'y', 197);
    strcpy(edge + n + 197, "\n");
    spec_file(path, sizeof path, "edge", edge);
    s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s != NULL, "a 198-character line is read: %s", err);
    compare_spec_free(s);
    expect_error("[variant a]\nconfig: configs/goal-none.ini\n", 0, ":2: config: configs/goal-none.ini: syntax error", NULL);
    expect_error("seeds = 1\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":1: seeds = 1: key outside a section", NULL);
    expect_error("[compare]\n[variant a]\nconfig = configs/goal-none.ini\n[compare]\n", 0, ":4: [compare] appears twice", NULL);
    expect_error("[compare] x\n", 0, ":1: [compare] x: malformed section header", NULL);
    expect_error("[compare]\nseeds = 1,1\n[variant a]\nconfig = configs/goal-none.ini\n", 0, ":2: [compare] seeds = 1,1", "listed twice");
    rm_tmp();
}
END_TEST

START_TEST(test_stats)
{
    make_tmp();
    /* AUC by hand: steps 0,100,300, success 0, 0.5, 1 ->
     * (0.25*100 + 0.75*200) / 300 = 175/300 */
    long st[] = {0, 100, 300};
    double y[] = {0.0, 0.5, 1.0};
    ck_assert_msg(fabs(compare_auc(st, y, 3) - 175.0 / 300.0) < 1e-12, "auc %g", compare_auc(st, y, 3));
    ck_assert_msg(fabs(compare_auc(st, y, 1) - 0.0) < 1e-12, "auc of one point is its value");
    /* mean and sample std of 1,2,3,4: 2.5, sqrt(5/3) */
    double x[] = {1, 2, 3, 4};
    Stat s = compare_stat(x, 4, 2000, 7);
    ck_assert_msg(fabs(s.mean - 2.5) < 1e-12 && fabs(s.std - sqrt(5.0 / 3.0)) < 1e-12, "mean %g std %g", s.mean, s.std);
    ck_assert_msg(s.lo <= s.mean && s.mean <= s.hi && s.lo >= 1.0 && s.hi <= 4.0 && s.lo < s.hi, "bootstrap [%g, %g] contains the mean within the data range", s.lo, s.hi);
    Stat s2 = compare_stat(x, 4, 2000, 7);
    ck_assert_msg(s2.lo == s.lo && s2.hi == s.hi, "bootstrap deterministic");
    Stat s3 = compare_stat(x, 1, 2000, 7);
    ck_assert_msg(s3.mean == 1 && s3.std == 0 && s3.lo == 1 && s3.hi == 1, "one value: zero spread");
    /* a spec's run directories with fixed CSVs */
    char path[1200], err[2048], dir[600];
    spec_file(path, sizeof path, "st", "[compare]\nseeds = 1,2,3\nout = OUT\nthreshold = 0.8\n[variant a]\nconfig = configs/goal-none.ini\n[variant b]\nconfig = configs/goal-none.ini\n");
    CompareSpec *sp = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(sp && compare_out_prepare(sp, NULL, 0, 1, err, sizeof err) == 0, "spec: %s", err);
    long steps[] = {1000, 2000, 3000, 4000};
    double ra[3][4] = {{0.1, 0.5, 0.9, 0.9}, {0.0, 0.2, 0.4, 0.6}, {0.8, 0.9, 0.9, 1.0}};
    double sa[3][4] = {{0.2, 0.5, 0.9, 0.9}, {0.0, 0.2, 0.4, 0.6}, {0.8, 0.9, 1.0, 1.0}};
    for (int k = 0; k < 3; k++) {
        snprintf(dir, sizeof dir, "%s/out/a", tmpdir);
        mkdir(dir, 0777);
        snprintf(dir, sizeof dir, "%s/out/a/seed-%d", tmpdir, k + 1);
        eval_csv(dir, steps, ra[k], sa[k], 4);
        snprintf(path, sizeof path, "%s/done", dir);
        write_file(path, "ok\n");
    }
    /* variant b: one finished run, one unfinished (no done marker) */
    snprintf(dir, sizeof dir, "%s/out/b", tmpdir);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/out/b/seed-1", tmpdir);
    eval_csv(dir, steps, ra[2], sa[2], 4);
    snprintf(path, sizeof path, "%s/done", dir);
    write_file(path, "ok\n");
    snprintf(dir, sizeof dir, "%s/out/b/seed-2", tmpdir);
    eval_csv(dir, steps, ra[0], sa[0], 2);
    CompareSummary sum;
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_msg(compare_summarize(sp, &sum, devnull, err, sizeof err) == 0, "summarize: %s", err);
    fclose(devnull);
    const VariantSummary *a = &sum.v[0], *b = &sum.v[1];
    ck_assert_msg(a->nruns == 3 && b->nruns == 1, "finished runs only: a %d, b %d", a->nruns, b->nruns);
    /* final success 0.9, 0.6, 1.0: mean 2.5/3, std sqrt(((0.0667)^2 + (0.2333)^2 + (0.1667)^2)/2) */
    double m = 2.5 / 3.0, sd = sqrt((pow(0.9 - m, 2) + pow(0.6 - m, 2) + pow(1.0 - m, 2)) / 2.0);
    ck_assert_msg(fabs(a->success.mean - m) < 1e-9 && fabs(a->success.std - sd) < 1e-9, "final success %g ± %g, want %g ± %g", a->success.mean, a->success.std, m, sd);
    ck_assert_msg(fabs(a->ret.mean - (0.9 + 0.6 + 1.0) / 3.0) < 1e-9, "final return");
    /* steps to 0.8: 3000, never (-> 4000, marked), 1000 */
    ck_assert_msg(a->never == 1 && fabs(a->steps.mean - 8000.0 / 3.0) < 1e-9 && a->max_steps == 4000, "steps to threshold %g, never %d", a->steps.mean, a->never);
    /* AUC of seed 1: (0.35 + 0.7 + 0.9) * 1000 / 3000 = 0.65; seed 2: (0.1+0.3+0.5)/3 = 0.3; seed 3: (0.85+0.95+1.0)/3 */
    double auc = (0.65 + 0.3 + (0.85 + 0.95 + 1.0) / 3.0) / 3.0;
    ck_assert_msg(fabs(a->auc.mean - auc) < 1e-9, "auc %g want %g", a->auc.mean, auc);
    ck_assert_msg(a->success.lo <= a->success.mean && a->success.mean <= a->success.hi, "interval contains the mean");
    ck_assert_msg(a->npoints == 4 && fabs(a->s_mean[0] - (0.2 + 0.0 + 0.8) / 3.0) < 1e-9 && a->s_lo[0] == 0.0 && fabs(a->s_hi[0] - 0.8) < 1e-9, "mean curve and band");
    ck_assert_msg(a->w_pretrain.n == 0 && isnan(a->w_pretrain.mean), "no w_pretrain column: no statistic");
    ck_assert_msg(compare_write_summary(&sum, sp->out, err, sizeof err) == 0, "write summary: %s", err);
    compare_summary_free(&sum);
    snprintf(path, sizeof path, "%s/out/summary.md", tmpdir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "summary.md written");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_msg(strstr(text, "(1/3 never)") && strstr(text, "≥"), "never-reached runs are marked: %s", text);
    ck_assert_msg(strstr(text, "| a | 3 | 0.833 ± 0.208"), "a's row: %s", text);
    snprintf(path, sizeof path, "%s/out/summary.csv.tmp", tmpdir);
    ck_assert_msg(access(path, F_OK) != 0, "no temporary file left");
    /* malformed eval.csv is an error naming file:line */
    snprintf(path, sizeof path, "%s/bad.csv", tmpdir);
    write_file(path, "step,return_mean,return_std,success,length_mean,episodes\n100,0.1,0,0.5,1,1\n50,0.1,0,x,1,1\n");
    EvalCurve c;
    ck_assert_msg(compare_read_eval(path, &c, err, sizeof err) != 0 && strstr(err, "bad.csv:3"), "malformed row: %s", err);
    /* the w_pretrain column (7th) is read when the header names it, and checked */
    snprintf(path, sizeof path, "%s/w.csv", tmpdir);
    write_file(path, "step,return_mean,return_std,success,length_mean,episodes,w_pretrain\n100,0.1,0,0.5,1,1,0.25\n200,0.1,0,0.5,1,1,0.75\n");
    ck_assert_msg(compare_read_eval(path, &c, err, sizeof err) == 0, "eval.csv with w_pretrain: %s", err);
    ck_assert_msg(c.n == 2 && c.w_pretrain && c.w_pretrain[0] == 0.25 && c.w_pretrain[1] == 0.75, "w_pretrain values read");
    compare_curve_free(&c);
    write_file(path, "step,return_mean,return_std,success,length_mean,episodes,w_pretrain\n100,0.1,0,0.5,1,1,1.5\n");
    ck_assert_msg(compare_read_eval(path, &c, err, sizeof err) != 0 && strstr(err, "w.csv:2") && strstr(err, "w_pretrain in [0, 1]"), "w_pretrain out of range: %s", err);
    write_file(path, "step,return_mean,return_std,success,length_mean,episodes,w_pretrain\n100,0.1,0,0.5,1,1\n");
    ck_assert_msg(compare_read_eval(path, &c, err, sizeof err) != 0 && strstr(err, "w.csv:2"), "w_pretrain missing from a row: %s", err);
    compare_spec_free(sp);
    rm_tmp();
}
END_TEST

START_TEST(test_resume_skips_finished)
{
    make_tmp();
    char path[1200], err[2048], dir[600];
    spec_file(path, sizeof path, "tiny", tiny_spec);
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s && compare_out_prepare(s, NULL, 0, 1, err, sizeof err) == 0, "spec: %s", err);
    for (int v = 0; v < s->nvariants; v++)
        for (int k = 0; k < s->nseeds; k++) {
            compare_run_dir(s, v, s->seeds[k], dir, sizeof dir);
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "mkdir -p '%s' && echo ok > '%s/done'", dir, dir);
            ck_assert_msg(system(cmd) == 0, "pre-create done markers");
            ck_assert_msg(compare_run_state(dir) == RUN_DONE, "state DONE");
        }
    /* an exe that cannot run: launching anything would fail the run */
    CompareRunOptions opt = {.exe = "/nonexistent/equigrid", .jobs = 2};
    CompareRunResult res;
    ck_assert_msg(compare_execute(s, NULL, 0, &opt, &res, err, sizeof err) == 0, "execute: %s", err);
    ck_assert_msg(res.total == 4 && res.skipped == 4 && res.launched == 0 && res.failed == 0, "nothing launched: %d skipped, %d launched", res.skipped, res.launched);
    /* one unfinished run: launched once, and its failure is counted, not fatal */
    compare_run_dir(s, 1, 7, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/done", dir);
    remove(path);
    ck_assert_msg(compare_run_state(dir) == RUN_FRESH, "state FRESH");
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    write_file(path, "x\n");
    ck_assert_msg(compare_run_state(dir) == RUN_STALE, "metrics without checkpoint: STALE");
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    write_file(path, "x\n");
    ck_assert_msg(compare_run_state(dir) == RUN_RESUME, "checkpoint: RESUME");
    ck_assert_msg(compare_execute(s, NULL, 0, &opt, &res, err, sizeof err) == 0, "execute: %s", err);
    ck_assert_msg(res.skipped == 3 && res.launched == 1 && res.failed == 1, "one launched and failed: %d %d %d", res.skipped, res.launched, res.failed);
    compare_spec_free(s);
    rm_tmp();
}
END_TEST

/* Runs `BIN compare SPEC` in the background (output to log); returns its pid. */
static pid_t spawn_compare(const char *spec, const char *log)
{
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork");
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (!f || dup2(fileno(stdout), 2) < 0)
            _exit(127);
        execl(test_bin(), test_bin(), "compare", spec, "--jobs", "1", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sends sig (twice if twice) once path exists; returns the exit status and
 * the seconds from the (first) signal to the exit. */
static int stop_when(pid_t pid, const char *path, int sig, int twice, double *secs)
{
    for (int i = 0; i < 3000 && access(path, F_OK) != 0; i++)
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    ck_assert_msg(access(path, F_OK) == 0, "%s never appeared", path);
    double t0 = now_s();
    kill(pid, sig);
    if (twice) {
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        kill(pid, sig);
    }
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (now_s() - t0 > 30) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            *secs = 99;
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    *secs = now_s() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Ctrl-C or SIGTERM while runs are still queued: compare exits in seconds
 * (it used to wait forever for runs it would never launch), with 130 or
 * 143, the interrupted run resumable; a second Ctrl-C works as well. */
START_TEST(test_stop_with_queued_runs)
{
    make_tmp();
    char cwd[512], text[2048], path[1200], err[2048], dir[600], metrics[700], log[700];
    ck_assert_msg(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(text, sizeof text, "[compare]\nname = long\nseeds = 1, 2, 3\nout = OUT\n\n[variant none]\nconfig = %s/configs/goal-none.ini\nset = env.size=5\nset = train.steps=100000000\nset = train.checkpoint_every=0\nset = eval.eval_every=0\n", cwd);
    spec_file(path, sizeof path, "long", text);
    CompareSpec *s = compare_spec_load(path, err, sizeof err);
    ck_assert_msg(s != NULL, "spec: %s", err);
    compare_run_dir(s, 0, 1, dir, sizeof dir);
    snprintf(metrics, sizeof metrics, "%s/.lock", dir); /* written by each trainer once it started */
    snprintf(log, sizeof log, "%s/compare.log", tmpdir);
    const struct {
        int sig, twice, code;
    } cases[] = {{SIGINT, 0, 130}, {SIGTERM, 0, 143}, {SIGINT, 1, 130}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double secs;
        unlink(metrics);
        pid_t pid = spawn_compare(path, log);
        int code = stop_when(pid, metrics, cases[i].sig, cases[i].twice, &secs);
        ck_assert_msg(code == cases[i].code && secs < 15, "case %zu: signal %d%s: exit %d after %.1f s (expected %d within seconds)", i, cases[i].sig, cases[i].twice ? " twice" : "", code, secs, cases[i].code);
        ck_assert_msg(compare_run_state(dir) == RUN_RESUME, "case %zu: the interrupted run is not resumable (state %d)", i, (int)compare_run_state(dir));
    }
    compare_spec_free(s);
    rm_tmp();
}
END_TEST

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

START_TEST(test_emit_collect_roundtrip)
{
    ck_assert_msg(access(test_bin(), X_OK) == 0, "%s is built (make test builds it)", test_bin());
    make_tmp();
    char path[1200], cmd[2048], jobs[600], out[600];
    spec_file(path, sizeof path, "tiny", tiny_spec);
    snprintf(jobs, sizeof jobs, "%s/jobs.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "%s compare %s --emit-jobs %s --quiet", test_bin(), path, jobs);
    ck_assert_msg(system(cmd) == 0, "emit-jobs: %s", cmd);
    ck_assert_msg(count_lines(jobs) == 4, "one line per run: %d", count_lines(jobs));
    snprintf(out, sizeof out, "%s/out/plain/seed-3", tmpdir);
    ck_assert_msg(access(out, F_OK) != 0, "--emit-jobs runs nothing");
    /* collect before anything ran: an error */
    snprintf(cmd, sizeof cmd, "%s compare %s --collect --quiet 2>/dev/null", test_bin(), path);
    ck_assert_msg(system(cmd) != 0, "collect with no finished run fails");
    /* run each line as a scheduler would */
    snprintf(cmd, sizeof cmd, "while IFS= read -r line; do sh -c \"$line\" || exit 1; done < %s", jobs);
    ck_assert_msg(system(cmd) == 0, "the emitted commands run");
    snprintf(path, sizeof path, "%s/out/flip/seed-7/done", tmpdir);
    ck_assert_msg(access(path, F_OK) == 0, "done marker written by the job");
    snprintf(path, sizeof path, "%s/tiny.ini", tmpdir);
    snprintf(cmd, sizeof cmd, "%s compare %s --collect --quiet", test_bin(), path);
    ck_assert_msg(system(cmd) == 0, "collect");
    snprintf(path, sizeof path, "%s/out/summary.csv", tmpdir);
    ck_assert_msg(count_lines(path) == 3, "summary.csv: header + 2 variants");
    FILE *f = fopen(path, "r");
    char line[1024];
    ck_assert_msg(f && fgets(line, sizeof line, f) && strncmp(line, "variant,runs,success_mean", 25) == 0, "header");
    ck_assert_msg(fgets(line, sizeof line, f) && strncmp(line, "plain,2,", 8) == 0, "plain row over 2 seeds: %s", line);
    fclose(f);
    /* a local rerun skips everything; the job lines are idempotent too */
    snprintf(path, sizeof path, "%s/tiny.ini", tmpdir);
    snprintf(cmd, sizeof cmd, "%s compare %s 2>&1 | grep -q '4 already finished, 0 ran'", test_bin(), path);
    ck_assert_msg(system(cmd) == 0, "rerun skips finished runs");
    /* ... and ends with the summary table on stdout, as transfer does */
    snprintf(cmd, sizeof cmd, "%s compare %s 2>/dev/null | grep -q 'Per variant over seeds'", test_bin(), path);
    ck_assert_msg(system(cmd) == 0, "compare prints its summary table at the end");
    /* transfer takes --set like compare, and checks it before running anything */
    snprintf(cmd, sizeof cmd, "%s transfer configs/transfer/transfer.ini --collect --set train.lr_rate=1 2>&1 | grep -q \"did you mean 'lr'\"", test_bin());
    ck_assert_msg(system(cmd) == 0, "transfer --set is taken and checked");
    /* the curves written by collect are PNGs of the stated size */
    snprintf(path, sizeof path, "%s/out/curves.png", tmpdir);
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS, "curves.png is a valid PNG");
    ck_assert_msg(cairo_image_surface_get_width(img) == PLOT_W && cairo_image_surface_get_height(img) == PLOT_H, "curves.png is %dx%d", PLOT_W, PLOT_H);
    cairo_surface_destroy(img);
    snprintf(path, sizeof path, "%s/out/curves.svg", tmpdir);
    f = fopen(path, "r");
    ck_assert_msg(f && fgets(line, sizeof line, f) && strstr(line, "<?xml"), "curves.svg is SVG");
    fclose(f);
    rm_tmp();
}
END_TEST

START_TEST(test_plot)
{
    make_tmp();
    double x[] = {0, 1000, 2000, 3000}, y[] = {0, 0.4, 0.8, 0.9}, lo[] = {0, 0.3, 0.6, 0.85}, hi[] = {0, 0.5, 0.9, 1.0};
    PlotSeries s[2] = {{"a", 4, x, y, lo, hi}, {"b", 4, x, lo, NULL, NULL}};
    PlotPanel p = {"env steps", "success", 0, 1, 2, s};
    char path[1200], err[1024];
    snprintf(path, sizeof path, "%s/c.png", tmpdir);
    ck_assert_msg(plot_curves(path, 640, 480, "t", &p, 1, err, sizeof err) == 0, "plot: %s", err);
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS && cairo_image_surface_get_width(img) == 640 && cairo_image_surface_get_height(img) == 480, "valid 640x480 PNG");
    /* something other than the white background was drawn in the plot area */
    cairo_surface_flush(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img), coloured = 0;
    for (int r = 100; r < 400; r++)
        for (int c = 100; c < 600; c++) {
            const unsigned char *px = d + r * stride + 4 * c;
            coloured += px[0] != px[1] || px[1] != px[2];
        }
    cairo_surface_destroy(img);
    ck_assert_msg(coloured > 500, "curves drawn in colour (%d pixels)", coloured);
    const char *rows[] = {"r1", "r2"}, *bars[] = {"zero-shot", "fine-tuned"};
    double mean[] = {0.2, 0.9, NAN, 0.5}, sd[] = {0.1, 0.05, NAN, 0.2};
    PlotBarPanel bp = {"env", "success", 0, 1, 2, rows, mean, sd, NULL, NULL};
    snprintf(path, sizeof path, "%s/b.svg", tmpdir);
    ck_assert_msg(plot_bars(path, PLOT_W, PLOT_H, "bars", 2, bars, &bp, 1, err, sizeof err) == 0, "bars svg: %s", err);
    snprintf(path, sizeof path, "%s/b.gif", tmpdir);
    ck_assert_msg(plot_bars(path, PLOT_W, PLOT_H, "bars", 2, bars, &bp, 1, err, sizeof err) != 0 && strstr(err, ".png, .svg"), "unknown format: %s", err);
    rm_tmp();
}
END_TEST

/* equigrid plot: learning curves of two runs (eval.csv and metrics.csv) as a
 * PNG of PLOT_W x PLOT_H with coloured curves, and as SVG; its errors. */
START_TEST(test_plot_runs)
{
    make_tmp();
    char cmd[2048], path[1200];
    const char *sets[2] = {"", "--set symmetry.method=equitune"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "%s train configs/goal-none.ini --out %s/run%d --quiet --set env.size=5 --set train.steps=600 --set train.learning_starts=100 --set eval.eval_every=200 --set eval.eval_episodes=3 %s", test_bin(), tmpdir, i, sets[i]);
        ck_assert_msg(system(cmd) == 0, "train: %s", cmd);
    }
    snprintf(cmd, sizeof cmd, "%s plot %s/run0 %s/run1/ --out %s/p.png > /dev/null", test_bin(), tmpdir, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "plot png: %s", cmd);
    snprintf(path, sizeof path, "%s/p.png", tmpdir);
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS && cairo_image_surface_get_width(img) == PLOT_W && cairo_image_surface_get_height(img) == PLOT_H, "a valid %dx%d PNG", PLOT_W, PLOT_H);
    cairo_surface_flush(img);
    const unsigned char *d = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img), coloured = 0;
    for (int r = 60; r < PLOT_H - 40; r++)
        for (int c = 90; c < PLOT_W - 40; c++) {
            const unsigned char *px = d + r * stride + 4 * c;
            coloured += px[0] != px[1] || px[1] != px[2];
        }
    cairo_surface_destroy(img);
    ck_assert_msg(coloured > 1000, "curves drawn in colour (%d pixels)", coloured);
    snprintf(cmd, sizeof cmd, "%s plot %s/run0 > /dev/null", test_bin(), tmpdir);
    ck_assert_msg(system(cmd) == 0, "plot of one run, default output");
    snprintf(path, sizeof path, "%s/run0/curves.png", tmpdir);
    ck_assert_msg(access(path, F_OK) == 0, "one run: RUN_DIR/curves.png");
    snprintf(cmd, sizeof cmd, "%s plot %s/run0 %s/run1 --out %s/p.svg > /dev/null", test_bin(), tmpdir, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "plot svg");
    snprintf(path, sizeof path, "%s/p.svg", tmpdir);
    FILE *f = fopen(path, "r");
    char line[512];
    ck_assert_msg(f && fgets(line, sizeof line, f) && strstr(line, "<?xml"), "p.svg is SVG");
    fclose(f);
    /* errors: a directory without eval.csv names the file; an unknown extension */
    snprintf(cmd, sizeof cmd, "%s plot %s/run0 %s/none --out %s/q.png 2>&1 | grep -q 'none/eval.csv: cannot open'", test_bin(), tmpdir, tmpdir, tmpdir);
    ck_assert_msg(system(cmd) == 0, "missing run directory named");
    snprintf(cmd, sizeof cmd, "%s plot %s/run0 --out %s/q.gif 2>/dev/null", test_bin(), tmpdir, tmpdir);
    ck_assert_msg(WEXITSTATUS(system(cmd)) == 2, "--out .gif refused");
    snprintf(path, sizeof path, "%s/q.png", tmpdir);
    ck_assert_msg(access(path, F_OK) != 0, "nothing written on error");
    rm_tmp();
}
END_TEST

static Suite *compare_suite(void)
{
    Suite *s = suite_create("compare");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"parse", test_parse},
        {"errors", test_errors},
        {"transfer_seeds", test_transfer_seeds},
        {"ini_lines", test_ini_lines},
        {"stats", test_stats},
        {"resume", test_resume_skips_finished},
        {"emit_collect", test_emit_collect_roundtrip},
        {"plot", test_plot},
        {"plot_runs", test_plot_runs},
        {"stop", test_stop_with_queued_runs},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

CHECK_MAIN(compare_suite)

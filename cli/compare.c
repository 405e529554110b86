/* cmd_compare.c - `equigrid compare` (variants x seeds as child processes,
 * summary and plots; --emit-jobs for schedulers, --collect to summarise) and
 * `equigrid transfer` (DESIGN.md's transfer protocol as three compare stages:
 * pretrain, zero-shot, fine-tune, then one table and one bar chart). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "../core/atomicfile.h"
#include "../core/clock.h"
#include "../experiments/compare.h"
#include "../render/plot.h"

enum { MAX_SETS = 64 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Absolute path of this program, for the child processes and job lists. */
static int self_exe(char *buf, size_t len, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n > 0) {
        buf[n] = '\0';
        return 0;
    }
    /* main passes argv + 1: argv[-1] is the program's own argv[0] */
    char cwd[PATH_MAX];
    const char *a0 = argv[-1];
    if (!a0 || !strchr(a0, '/'))
        return -1;
    if (a0[0] == '/')
        snprintf(buf, len, "%s", a0);
    else if (getcwd(cwd, sizeof cwd) && strlen(cwd) + strlen(a0) + 2 <= len) {
        strcpy(buf, cwd);
        strcat(buf, "/");
        strcat(buf, a0);
    } else
        return -1;
    return 0;
}

static int default_jobs(int spec_jobs, int cli_jobs)
{
    if (cli_jobs > 0)
        return cli_jobs;
    if (spec_jobs > 0)
        return spec_jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int parse_jobs(const char *cmd, const char *s, int *jobs)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 1024) {
        fprintf(stderr, "equigrid %s: --jobs %s: expected an integer in 1..1024\n", cmd, s);
        return -1;
    }
    *jobs = (int)v;
    return 0;
}

/* Runs one spec locally; prints failures; returns 0, 1 (failures) or 130. */
static int run_spec(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, int jobs, int quiet, const char *cmd)
{
    char err[2048];
    CompareRunOptions opt = {exe, jobs, &stop_requested, stderr, !quiet && isatty(2)};
    CompareRunResult res;
    if (!quiet)
        fprintf(stderr, "equigrid %s: %s: %d variants x %d seeds -> %s (%d at a time)\n", cmd, s->name, s->nvariants, s->nseeds, s->out, jobs);
    if (compare_execute(s, sets, nsets, &opt, &res, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "equigrid %s: %s: %d runs: %d already finished, %d ran, %d failed%s\n", cmd, s->name, res.total, res.skipped, res.succeeded, res.failed, res.interrupted ? ", some interrupted" : "");
    if (stop_requested || res.interrupted) {
        fprintf(stderr, "equigrid %s: interrupted; the runs checkpointed; run the same command again to resume\n", cmd);
        return 130;
    }
    return res.failed ? 1 : 0;
}

static int summarize(const CompareSpec *s, const char *cmd, int quiet)
{
    char err[2048];
    CompareSummary sum;
    if (compare_summarize(s, &sum, stderr, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    int rc = compare_write_summary(&sum, s->out, err, sizeof err);
    compare_summary_free(&sum);
    if (rc != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    if (!quiet)
        printf("summary: %s/summary.md, %s/summary.csv; plots: %s/curves.png, %s/curves.svg\n", s->out, s->out, s->out, s->out);
    return 0;
}

static void compare_usage(FILE *f)
{
    fprintf(f, "usage: equigrid compare SPEC [--set section.key=value ...] [--jobs N] [--emit-jobs FILE | --collect] [--quiet]\n\n"
               "Trains every variant x seed of the compare spec as its own process (`equigrid train ...\n"
               "--out OUT/VARIANT/seed-S --quiet`, OPENBLAS_NUM_THREADS=1, output in log.txt), N at a time\n"
               "(default: [compare] jobs, or the number of cores), then writes OUT/summary.md, summary.csv,\n"
               "curves.png and curves.svg. Finished runs (OUT/VARIANT/seed-S/done) are skipped and\n"
               "interrupted ones resume from their checkpoint, so rerunning continues an experiment;\n"
               "Ctrl-C stops every run cleanly (exit 130).\n\n"
               "  --set k=v        override a config key in every run (repeatable)\n"
               "  --jobs N         runs at a time\n"
               "  --emit-jobs FILE write one shell command per run (GNU parallel, a Slurm array) and run nothing\n"
               "  --collect        only build the summary from the run directories\n"
               "  --quiet          no progress bar\n\n"
               "Spec (INI; paths relative to the working directory):\n"
               "  [compare]        name = NAME, seeds = 1,2,3,4,5, out = runs/compare-NAME,\n"
               "                   threshold = 0.95 (steps-to-threshold), jobs = 0 (= cores)\n"
               "  [variant NAME]   config = PATH, set = section.key=value (repeatable, in order;\n"
               "                   {seed} and {out} are expanded per run)\n");
}

int cmd_compare(int argc, char **argv)
{
    const char *sets[MAX_SETS], *spec_path = NULL, *emit = NULL;
    int nsets = 0, jobs = 0, collect = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            compare_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < MAX_SETS) {
            sets[nsets++] = argv[++i];
        } else if (strncmp(argv[i], "--set=", 6) == 0 && nsets < MAX_SETS) {
            sets[nsets++] = argv[i] + 6;
        } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            if (parse_jobs("compare", argv[++i], &jobs) != 0)
                return 2;
        } else if (strcmp(argv[i], "--emit-jobs") == 0 && i + 1 < argc) {
            emit = argv[++i];
        } else if (strcmp(argv[i], "--collect") == 0) {
            collect = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !spec_path) {
            spec_path = argv[i];
        } else {
            fprintf(stderr, "equigrid compare: unexpected argument '%s' (see equigrid compare --help)\n", argv[i]);
            return 2;
        }
    }
    if (!spec_path || (emit && collect)) {
        compare_usage(stderr);
        return 2;
    }
    char err[2048], exe[PATH_MAX];
    CompareSpec *s = compare_spec_load(spec_path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "equigrid compare: %s\n", err);
        return 1;
    }
    int rc = 1;
    if (compare_spec_check(s, sets, nsets, err, sizeof err) != 0 || compare_out_prepare(s, sets, nsets, !collect, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid compare: %s\n", err);
        goto done;
    }
    if (collect) {
        rc = summarize(s, "compare", quiet);
        goto done;
    }
    if (self_exe(exe, sizeof exe, argv) != 0) {
        fprintf(stderr, "equigrid compare: cannot find the path of the equigrid program (/proc/self/exe)\n");
        goto done;
    }
    if (emit) {
        char cwd[PATH_MAX];
        FILE *f = fopen(emit, "w");
        if (!getcwd(cwd, sizeof cwd) || !f) {
            fprintf(stderr, "equigrid compare: %s: cannot write: %s\n", emit, strerror(errno));
            if (f)
                fclose(f);
            goto done;
        }
        int n = compare_emit_jobs(s, sets, nsets, exe, cwd, f, err, sizeof err);
        if (fclose(f) != 0 || n < 0) {
            fprintf(stderr, "equigrid compare: %s: %s\n", emit, n < 0 ? err : strerror(errno));
            goto done;
        }
        if (!quiet)
            printf("%d jobs written to %s (one shell command per line); when they have run: equigrid compare %s --collect\n", n, emit, spec_path);
        rc = 0;
        goto done;
    }
    install_signals();
    rc = run_spec(s, sets, nsets, exe, default_jobs(s->jobs, jobs), quiet, "compare");
    if (rc != 130) {
        int src = summarize(s, "compare", quiet);
        if (rc == 0)
            rc = src;
        if (rc != 0 && src == 0)
            fprintf(stderr, "equigrid compare: some runs failed (see above); the summary covers the finished ones; rerun to retry the failed runs\n");
    }
done:
    compare_spec_free(s);
    return rc;
}

/* ---------------- transfer ---------------- */

enum { TR_MAX_ENVS = 8, TR_MAX_LIST = 8, TR_MAX_SETS = 16 };

typedef struct {
    char name[64];
    char config[CMP_PATH];
    int line;
    int nsets;
    char sets[TR_MAX_SETS][CFG_STR];
} TransferEnv;

typedef struct {
    char path[CMP_PATH];
    char name[64];
    char out[200];
    char seeds[CFG_STR];
    int jobs;
    long lambda_steps, finetune_steps;
    int nmethods, ngroups;
    char methods[TR_MAX_LIST][32], groups[TR_MAX_LIST][32];
    int nall, nlambda, nft, nscratch;
    char all[TR_MAX_SETS][CFG_STR], lambda[TR_MAX_SETS][CFG_STR], ft[TR_MAX_SETS][CFG_STR], scratch[TR_MAX_SETS][CFG_STR];
    int nenvs;
    TransferEnv envs[TR_MAX_ENVS];
} TransferSpec;

static int split_list(const char *val, char out[][32], int *n)
{
    char buf[CFG_STR];
    snprintf(buf, sizeof buf, "%s", val);
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *t = compare_trim(tok);
        if (!*t || *n >= TR_MAX_LIST || strlen(t) >= 32)
            return -1;
        snprintf(out[(*n)++], 32, "%s", t);
    }
    return *n > 0 ? 0 : -1;
}

static int add_set(char list[][CFG_STR], int *n, const char *val)
{
    if (*n >= TR_MAX_SETS || strlen(val) >= CFG_STR || !strchr(val, '='))
        return -1;
    snprintf(list[(*n)++], CFG_STR, "%s", val);
    return 0;
}

/* Reads a transfer spec; prints the error naming path:line. */
static int transfer_load(TransferSpec *t, const char *path)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    snprintf(t->seeds, sizeof t->seeds, "1,2,3,4,5");
    snprintf(t->name, sizeof t->name, "transfer");
    t->lambda_steps = 5000;
    t->finetune_steps = 10000;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "equigrid transfer: %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    char line[1024], sec[16] = "";
    int lineno = 0, have_out = 0;
    TransferEnv *env = NULL;
    static const char *const tkeys = "name, seeds, out, jobs, methods, groups, lambda_steps, finetune_steps, set, lambda_set, finetune_set, scratch_set";
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = compare_clean_line(line);
        if (!*s)
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close)
                *close = '\0';
            char *nm = compare_trim(s + 1);
            if (strcmp(nm, "transfer") == 0) {
                snprintf(sec, sizeof sec, "transfer");
            } else if (strncmp(nm, "env ", 4) == 0 && t->nenvs < TR_MAX_ENVS) {
                env = &t->envs[t->nenvs++];
                snprintf(env->name, sizeof env->name, "%s", compare_trim(nm + 4));
                env->line = lineno;
                for (int i = 0; i < t->nenvs - 1; i++)
                    if (strcmp(t->envs[i].name, env->name) == 0) {
                        fprintf(stderr, "equigrid transfer: %s:%d: [env %s]: duplicate env name (first at line %d)\n", path, lineno, env->name, t->envs[i].line);
                        fclose(f);
                        return -1;
                    }
                snprintf(sec, sizeof sec, "env");
            } else {
                fprintf(stderr, "equigrid transfer: %s:%d: [%s]: unknown section; allowed: [transfer], [env NAME] (at most %d)\n", path, lineno, nm, TR_MAX_ENVS);
                fclose(f);
                return -1;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq || !sec[0]) {
            fprintf(stderr, "equigrid transfer: %s:%d: %s: expected 'key = value' inside [transfer] or [env NAME]\n", path, lineno, s);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        char *key = compare_trim(s), *val = compare_trim(eq + 1);
        int bad = 0;
        if (strcmp(sec, "transfer") == 0) {
            char *end;
            if (strcmp(key, "name") == 0) {
                snprintf(t->name, sizeof t->name, "%s", val);
                bad = strlen(val) >= sizeof t->name;
            }
            else if (strcmp(key, "seeds") == 0)
                snprintf(t->seeds, sizeof t->seeds, "%s", val);
            else if (strcmp(key, "out") == 0) {
                snprintf(t->out, sizeof t->out, "%s", val);
                have_out = 1;
                bad = !*val || strlen(val) >= sizeof t->out;
            } else if (strcmp(key, "jobs") == 0) {
                t->jobs = (int)strtol(val, &end, 10);
                bad = *end || t->jobs < 0;
            } else if (strcmp(key, "lambda_steps") == 0) {
                t->lambda_steps = strtol(val, &end, 10);
                bad = *end || t->lambda_steps < 0;
            } else if (strcmp(key, "finetune_steps") == 0) {
                t->finetune_steps = strtol(val, &end, 10);
                bad = *end || t->finetune_steps < 1;
            } else if (strcmp(key, "methods") == 0) {
                bad = split_list(val, t->methods, &t->nmethods);
                for (int i = 0; !bad && i < t->nmethods; i++)
                    bad = strcmp(t->methods[i], "equitune") && strcmp(t->methods[i], "equizero") && strcmp(t->methods[i], "lambda");
            } else if (strcmp(key, "groups") == 0)
                bad = split_list(val, t->groups, &t->ngroups);
            else if (strcmp(key, "set") == 0)
                bad = add_set(t->all, &t->nall, val);
            else if (strcmp(key, "lambda_set") == 0)
                bad = add_set(t->lambda, &t->nlambda, val);
            else if (strcmp(key, "finetune_set") == 0)
                bad = add_set(t->ft, &t->nft, val);
            else if (strcmp(key, "scratch_set") == 0)
                bad = add_set(t->scratch, &t->nscratch, val);
            else {
                fprintf(stderr, "equigrid transfer: %s:%d: [transfer] %s: unknown key; allowed: %s\n", path, lineno, key, tkeys);
                fclose(f);
                return -1;
            }
        } else {
            if (strcmp(key, "config") == 0)
                snprintf(env->config, sizeof env->config, "%s", val);
            else if (strcmp(key, "set") == 0)
                bad = add_set(env->sets, &env->nsets, val);
            else {
                fprintf(stderr, "equigrid transfer: %s:%d: [env %s] %s: unknown key; allowed: config, set\n", path, lineno, env->name, key);
                fclose(f);
                return -1;
            }
        }
        if (bad) {
            fprintf(stderr, "equigrid transfer: %s:%d: %s = %s: invalid value (methods: equitune,equizero,lambda; groups: comma-separated group names; steps: non-negative integers; set: section.key=value, at most %d)\n", path, lineno, key, val, TR_MAX_SETS);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    if (t->nenvs == 0) {
        fprintf(stderr, "equigrid transfer: %s: no [env NAME] section\n", path);
        return -1;
    }
    for (int i = 0; i < t->nenvs; i++)
        if (!t->envs[i].config[0]) {
            fprintf(stderr, "equigrid transfer: %s:%d: [env %s]: no config = PATH\n", path, t->envs[i].line, t->envs[i].name);
            return -1;
        }
    if (!t->nmethods)
        split_list("equitune,equizero,lambda", t->methods, &t->nmethods);
    if (!t->ngroups)
        split_list("d4,rot90,flip", t->groups, &t->ngroups);
    if (!have_out)
        snprintf(t->out, sizeof t->out, "runs/transfer-%s", t->name);
    return 0;
}

/* Adds "key=value" built with printf to v; returns -1 with err. */
static int vset(CompareVariant *v, char *err, size_t errlen, const char *f, const char *a)
{
    char buf[CFG_STR];
    snprintf(buf, sizeof buf, f, a);
    return compare_variant_add_set(v, buf, 0, err, errlen);
}

static int vsets(CompareVariant *v, char list[][CFG_STR], int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        if (compare_variant_add_set(v, list[i], 0, err, errlen) != 0)
            return -1;
    return 0;
}

/* Stage specs: 0 pretrain, 1 zero-shot, 2 fine-tune. */
static CompareSpec *transfer_stage(const TransferSpec *t, int stage, char *err, size_t errlen)
{
    static const char *const names[] = {"pretrain", "zeroshot", "finetune"};
    char label[CMP_PATH + 32], vn[CFG_STR], init[CMP_PATH], num[32];
    snprintf(label, sizeof label, "%s (stage %s)", t->path, names[stage]);
    CompareSpec *s = compare_spec_new(label);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->name, sizeof s->name, "%s-%s", t->name, names[stage]);
    snprintf(s->out, sizeof s->out, "%s/%s", t->out, names[stage]);
    char why[256];
    /* seeds through the compare parser's rules */
    {
        char *tmp = strdup(t->seeds), *save = tmp;
        int n = 0;
        for (char *tok = strtok(tmp, ","); tok && n < CMP_MAX_SEEDS; tok = strtok(NULL, ",")) {
            char *end;
            unsigned long long x = strtoull(compare_trim(tok), &end, 10);
            if (*end || !*compare_trim(tok)) {
                snprintf(err, errlen, "%s: seeds = %s: expected a comma-separated list of integers", t->path, t->seeds);
                free(save);
                compare_spec_free(s);
                return NULL;
            }
            s->seeds[n++] = x;
        }
        free(save);
        s->nseeds = n;
    }
    for (int e = 0; e < t->nenvs; e++) {
        const TransferEnv *env = &t->envs[e];
        snprintf(init, sizeof init, "network.init=%s/pretrain/%s-plain/seed-{seed}/checkpoint.safetensors", t->out, env->name);
        /* rows: plain (+ scratch in fine-tune), then methods x groups */
        int rows = 1 + t->nmethods * t->ngroups + (stage == 2);
        if (stage == 0)
            rows = 1;
        for (int r = 0; r < rows; r++) {
            const char *method = "none", *group = "trivial";
            int scratch = stage == 2 && r == rows - 1;
            if (r >= 1 && !scratch) {
                method = t->methods[(r - 1) / t->ngroups];
                group = t->groups[(r - 1) % t->ngroups];
                snprintf(vn, sizeof vn, "%s-%s-%s", env->name, method, group);
            } else {
                snprintf(vn, sizeof vn, "%s-%s", env->name, scratch ? "scratch" : "plain");
            }
            CompareVariant *v = compare_spec_add_variant(s, vn, env->config, 0, err, errlen);
            if (!v)
                goto fail;
            if (vsets(v, (char(*)[CFG_STR])env->sets, env->nsets, why, sizeof why) != 0 || vsets(v, (char(*)[CFG_STR])t->all, t->nall, why, sizeof why) != 0)
                goto fail_why;
            if (vset(v, why, sizeof why, "env.orientation=%s", stage == 0 ? "identity" : "random") != 0 || vset(v, why, sizeof why, "symmetry.method=%s", method) != 0 ||
                vset(v, why, sizeof why, "symmetry.group=%s", group) != 0)
                goto fail_why;
            if (stage == 0)
                continue;
            if (!scratch && compare_variant_add_set(v, init, 0, why, sizeof why) != 0)
                goto fail_why;
            if (stage == 1) {
                int fit = strcmp(method, "lambda") == 0 && t->lambda_steps > 0;
                snprintf(num, sizeof num, "%ld", fit ? t->lambda_steps : 0L);
                if (vset(v, why, sizeof why, "train.steps=%s", num) != 0 || vset(v, why, sizeof why, "eval.eval_every=%s", "0") != 0)
                    goto fail_why;
                if (fit && (vset(v, why, sizeof why, "train.freeze_q=%s", "true") != 0 || vsets(v, (char(*)[CFG_STR])t->lambda, t->nlambda, why, sizeof why) != 0))
                    goto fail_why;
            } else {
                snprintf(num, sizeof num, "%ld", t->finetune_steps);
                if (vset(v, why, sizeof why, "train.steps=%s", num) != 0)
                    goto fail_why;
                if (vsets(v, (char(*)[CFG_STR])(scratch ? t->scratch : t->ft), scratch ? t->nscratch : t->nft, why, sizeof why) != 0)
                    goto fail_why;
            }
        }
    }
    return s;
fail_why:
    snprintf(err, errlen, "%s: %s", t->path, why);
fail:
    compare_spec_free(s);
    return NULL;
}

static const VariantSummary *find_variant(const CompareSummary *sum, const char *name)
{
    for (int i = 0; i < sum->nvariants; i++)
        if (strcmp(sum->v[i].name, name) == 0 && sum->v[i].nruns > 0)
            return &sum->v[i];
    return NULL;
}

static void cell(char *buf, size_t len, const VariantSummary *v, int ret)
{
    if (!v)
        snprintf(buf, len, "–");
    else if (ret)
        snprintf(buf, len, "%.3f ± %.3f", v->ret.mean, v->ret.std);
    else
        snprintf(buf, len, "%.2f ± %.2f", v->success.mean, v->success.std);
}

/* transfer.md / transfer.csv / transfer.png / transfer.svg from the stage summaries. */
static int transfer_report(const TransferSpec *t, const CompareSummary sums[3], const double secs[3], int jobs)
{
    char err[1024], path[CMP_PATH + 32], a[64], b[64], c[64], d[64], e[64], vn[CFG_STR];
    size_t cap = 1 << 16;
    char *md = malloc(cap), *csv = malloc(cap);
    if (!md || !csv) {
        free(md);
        free(csv);
        fprintf(stderr, "equigrid transfer: out of memory\n");
        return 1;
    }
    size_t nm = 0, nc = 0;
#define MD(...) (nm += (size_t)snprintf(md + nm, nm < cap ? cap - nm : 0, __VA_ARGS__))
#define CSV(...) (nc += (size_t)snprintf(csv + nc, nc < cap ? cap - nc : 0, __VA_ARGS__))
    int nseeds = sums[0].nvariants ? sums[0].v[0].nruns : 0;
    MD("# Transfer: %s\n\nDESIGN.md's protocol, %d seeds. Pretrain: plain DQN on orientation identity (each env's config budget). "
       "Zero-shot: the pretrained network wrapped in each symmetrizer, evaluated greedily on orientation random (D4); equitune and equizero without any training, "
       "lambda after fitting only λ for %ld steps (freeze_q = true). Fine-tune: %ld steps on orientation random from the pretrained network; "
       "scratch: the plain network trained from random init for the same %ld steps. Success and return: mean ± sample std over seeds of the final greedy evaluation.\n\n"
       "| env | method | group | zero-shot success | zero-shot return | fine-tuned success | fine-tuned return |\n|---|---|---|---|---|---|---|\n",
       t->name, nseeds, t->lambda_steps, t->finetune_steps, t->finetune_steps);
    CSV("env,method,group,zeroshot_success_mean,zeroshot_success_std,zeroshot_return_mean,zeroshot_return_std,finetune_success_mean,finetune_success_std,finetune_return_mean,finetune_return_std,runs\n");
    int rows = 3 + t->nmethods * t->ngroups;
    PlotBarPanel *panels = calloc((size_t)t->nenvs, sizeof *panels);
    double *vals = calloc((size_t)t->nenvs * rows * 2 * 2, sizeof *vals);
    char (*labels)[64] = calloc((size_t)rows, sizeof *labels);
    const char **lab = calloc((size_t)rows, sizeof *lab);
    if (!panels || !vals || !labels || !lab) {
        fprintf(stderr, "equigrid transfer: out of memory\n");
        free(md), free(csv), free(panels), free(vals), free(labels), free(lab);
        return 1;
    }
    for (int r = 0; r < rows; r++)
        lab[r] = labels[r];
    for (int k = 0; k < t->nenvs; k++) {
        const char *env = t->envs[k].name;
        double *mean = vals + (size_t)k * rows * 4, *sd = mean + rows * 2;
        for (int r = 0; r < rows; r++) {
            const VariantSummary *zs = NULL, *ft = NULL;
            const char *method, *group;
            if (r == 0) {
                snprintf(vn, sizeof vn, "%s-plain", env);
                zs = find_variant(&sums[0], vn);
                method = "pretrained (identity orientation)";
                group = "–";
                snprintf(labels[r], 64, "pretrained, identity");
            } else if (r == 1) {
                snprintf(vn, sizeof vn, "%s-plain", env);
                zs = find_variant(&sums[1], vn);
                ft = find_variant(&sums[2], vn);
                method = "none";
                group = "–";
                snprintf(labels[r], 64, "none");
            } else if (r == 2) {
                snprintf(vn, sizeof vn, "%s-scratch", env);
                ft = find_variant(&sums[2], vn);
                method = "scratch (random init, none)";
                group = "–";
                snprintf(labels[r], 64, "scratch");
            } else {
                method = t->methods[(r - 3) / t->ngroups];
                group = t->groups[(r - 3) % t->ngroups];
                snprintf(vn, sizeof vn, "%s-%s-%s", env, method, group);
                zs = find_variant(&sums[1], vn);
                ft = find_variant(&sums[2], vn);
                snprintf(labels[r], 64, "%s %s", method, group);
            }
            cell(a, sizeof a, zs, 0);
            cell(b, sizeof b, zs, 1);
            cell(c, sizeof c, ft, 0);
            cell(d, sizeof d, ft, 1);
            MD("| %s | %s | %s | %s | %s | %s | %s |\n", env, method, group, a, b, c, d);
            snprintf(e, sizeof e, "%d", zs ? zs->nruns : ft ? ft->nruns : 0);
            CSV("%s,%s,%s", env, r == 0 ? "pretrained" : r == 2 ? "scratch" : method, r < 3 ? "trivial" : group);
            const VariantSummary *both[2] = {zs, ft};
            for (int q = 0; q < 2; q++) {
                if (both[q])
                    CSV(",%.6g,%.6g,%.6g,%.6g", both[q]->success.mean, both[q]->success.std, both[q]->ret.mean, both[q]->ret.std);
                else
                    CSV(",,,,");
                mean[r * 2 + q] = both[q] ? both[q]->success.mean : NAN;
                sd[r * 2 + q] = both[q] ? both[q]->success.std : NAN;
            }
            CSV(",%s\n", e);
        }
        panels[k] = (PlotBarPanel){env, "success (greedy, orientation random)", 0.0, 1.0, rows, lab, mean, sd};
    }
    static const char *const bars[] = {"zero-shot (pretrained: identity orientation)", "fine-tuned / scratch"};
    MD("\n![transfer](transfer.png)\n\ntransfer.png / transfer.svg: success per row, zero-shot and after fine-tuning (error bars: ± std over seeds).\n\n"
       "Wall time: pretrain %.0f s, zero-shot %.0f s, fine-tune %.0f s (total %.1f min, %d runs at a time).\n",
       secs[0], secs[1], secs[2], (secs[0] + secs[1] + secs[2]) / 60.0, jobs);
#undef MD
#undef CSV
    int rc = 0;
    if (nm >= cap || nc >= cap) {
        fprintf(stderr, "equigrid transfer: the report is too large\n");
        rc = 1;
    }
    snprintf(path, sizeof path, "%s/transfer.md", t->out);
    if (rc == 0 && atomicfile_write(path, md, strlen(md), err, sizeof err) != 0)
        rc = 1;
    snprintf(path, sizeof path, "%s/transfer.csv", t->out);
    if (rc == 0 && atomicfile_write(path, csv, strlen(csv), err, sizeof err) != 0)
        rc = 1;
    int h = PLOT_H > 420 * t->nenvs ? PLOT_H : 420 * t->nenvs;
    char title[CFG_STR + 64];
    snprintf(title, sizeof title, "%s: success on random orientations (mean ± std over %d seeds)", t->name, nseeds);
    const char *ext[] = {"png", "svg"};
    for (int q = 0; q < 2 && rc == 0; q++) {
        snprintf(path, sizeof path, "%s/transfer.%s", t->out, ext[q]);
        if (plot_bars(path, PLOT_W, h, title, 2, bars, panels, t->nenvs, err, sizeof err) != 0)
            rc = 1;
    }
    if (rc != 0 && nm < cap && nc < cap)
        fprintf(stderr, "equigrid transfer: %s\n", err);
    if (rc == 0) {
        fputs(md, stdout);
        printf("\nwritten: %s/transfer.md, transfer.csv, transfer.png (%dx%d), transfer.svg\n", t->out, PLOT_W, h);
    }
    free(md), free(csv), free(panels), free(vals), free(labels), free(lab);
    return rc;
}

int cmd_transfer(int argc, char **argv)
{
    const char *spec_path = NULL;
    int jobs = 0, quiet = 0, collect = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: equigrid transfer SPEC [--jobs N] [--collect] [--quiet]\n\n"
                   "Runs DESIGN.md's transfer protocol as three compare stages under [transfer] out:\n"
                   "pretrain/ (plain DQN, orientation identity), zeroshot/ (the pretrained network wrapped in\n"
                   "each method x group, evaluated on orientation random; lambda first fits only λ for\n"
                   "lambda_steps), finetune/ (finetune_steps on orientation random, plus a scratch baseline),\n"
                   "then writes transfer.md, transfer.csv, transfer.png and transfer.svg. Resumable like\n"
                   "compare; --collect only rebuilds the report.\n\n"
                   "Spec: [transfer] name, seeds, out, jobs, methods (equitune,equizero,lambda), groups\n"
                   "(d4,rot90,flip), lambda_steps, finetune_steps, set / lambda_set / finetune_set / scratch_set\n"
                   "= section.key=value (all runs / the λ fit / fine-tuning / scratch); [env NAME] config = PATH\n"
                   "(the pretraining config), set = section.key=value. See configs/transfer/.\n");
            return 0;
        } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            if (parse_jobs("transfer", argv[++i], &jobs) != 0)
                return 2;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--collect") == 0) {
            collect = 1;
        } else if (argv[i][0] != '-' && !spec_path) {
            spec_path = argv[i];
        } else {
            fprintf(stderr, "equigrid transfer: unexpected argument '%s' (see equigrid transfer --help)\n", argv[i]);
            return 2;
        }
    }
    if (!spec_path) {
        fprintf(stderr, "usage: equigrid transfer SPEC [--jobs N] [--collect] [--quiet]\n");
        return 2;
    }
    TransferSpec *t = malloc(sizeof *t);
    if (!t || transfer_load(t, spec_path) != 0) {
        free(t);
        return 1;
    }
    char err[2048], exe[PATH_MAX];
    CompareSpec *st[3] = {NULL, NULL, NULL};
    CompareSummary sums[3];
    memset(sums, 0, sizeof sums);
    double secs[3] = {0, 0, 0};
    int rc = 1, njobs = default_jobs(t->jobs, jobs);
    for (int k = 0; k < 3; k++) {
        st[k] = transfer_stage(t, k, err, sizeof err);
        if (!st[k] || compare_spec_check(st[k], NULL, 0, err, sizeof err) != 0 || compare_out_prepare(st[k], NULL, 0, !collect, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            goto done;
        }
    }
    if (!collect && self_exe(exe, sizeof exe, argv) != 0) {
        fprintf(stderr, "equigrid transfer: cannot find the path of the equigrid program (/proc/self/exe)\n");
        goto done;
    }
    install_signals();
    for (int k = 0; k < 3; k++) {
        if (!collect) {
            double t0 = clock_seconds();
            int r = run_spec(st[k], NULL, 0, exe, njobs, quiet, "transfer");
            secs[k] = clock_seconds() - t0;
            char tp[CMP_PATH + 32], tx[64];
            snprintf(tp, sizeof tp, "%s/seconds.txt", st[k]->out);
            snprintf(tx, sizeof tx, "%.1f\n", secs[k]);
            /* a resumed stage with nothing to do keeps the time it first took */
            if (r == 0 && secs[k] > 2.0)
                atomicfile_write(tp, tx, strlen(tx), err, sizeof err);
            if (r != 0) {
                if (r != 130)
                    fprintf(stderr, "equigrid transfer: stage %s had failed runs; later stages need its checkpoints, so stopping here (rerun to retry)\n", st[k]->name);
                rc = r;
                goto done;
            }
        }
        char tp[CMP_PATH + 32];
        snprintf(tp, sizeof tp, "%s/seconds.txt", st[k]->out);
        FILE *f = fopen(tp, "r");
        if (f) {
            if (fscanf(f, "%lf", &secs[k]) != 1)
                secs[k] = 0;
            fclose(f);
        }
        if (compare_summarize(st[k], &sums[k], stderr, err, sizeof err) != 0 || compare_write_summary(&sums[k], st[k]->out, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            goto done;
        }
    }
    rc = transfer_report(t, sums, secs, njobs);
done:
    for (int k = 0; k < 3; k++) {
        compare_summary_free(&sums[k]);
        compare_spec_free(st[k]);
    }
    free(t);
    return rc;
}

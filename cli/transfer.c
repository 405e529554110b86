/* transfer.c - `equigrid transfer`: argument parsing and wiring of the
 * transfer experiment (experiments/transfer.h) as three compare stages,
 * pretrain, zero-shot and fine-tune, then one table and one bar chart. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "experiment.h"
#include "../core/file.h"
#include "../core/clock.h"
#include "../experiments/transfer.h"
#include "../render/plot.h"

static const char transfer_synopsis[] = "usage: equigrid transfer SPEC [--set section.key=value ...] [--jobs N] [--emit-jobs DIR | --check-pretrain | --collect] [--quiet] [--progress-every S]";

static void transfer_usage(FILE *f)
{
    fprintf(f, "%s\n\n"
               "Runs the transfer protocol (see the README) as three compare stages under [transfer] out:\n"
               "pretrain/ (plain DQN, orientation identity; the experiment stops there, naming env and seed,\n"
               "unless every run reaches greedy success pretrain_success), zeroshot/ (the pretrained network\n"
               "wrapped in each method row, evaluated on orientation random), finetune/ (finetune_steps on\n"
               "orientation random, plus a scratch baseline), then writes transfer.md, transfer.csv,\n"
               "transfer.png and transfer.svg: final success and w_pretrain (the weight on the pretraining\n"
               "orientation's view), mean and 95 %% bootstrap interval over seeds. Resumable like compare;\n"
               "--collect only rebuilds the report. --set overrides a key in every run of every stage, after\n"
               "the spec's own sets, as compare's --set does. When stderr is not a terminal (a log), a plain\n"
               "progress line every --progress-every S seconds (default 10) replaces the progress bar.\n\n"
               "For a cluster, --emit-jobs DIR runs nothing and writes one job list per stage, DIR/pretrain.txt,\n"
               "DIR/zeroshot.txt and DIR/finetune.txt (one shell command per run, as compare --emit-jobs);\n"
               "zeroshot and finetune start from pretrain's checkpoints, so they run once --check-pretrain\n"
               "(exit 0 when every pretraining run reached pretrain_success, else 1 naming env and seed)\n"
               "has passed, and --collect writes the report when all have ended. The README chains the\n"
               "stages with sbatch --dependency=afterok.\n\n"
               "Method rows: equitune; equizero per proxy; lambda and canonical per fit, td (Q frozen, the\n"
               "TD loss for td_steps env steps) or prior (Q frozen, prior_updates updates of the\n"
               "canonicalization prior on the pretrained checkpoint's replay, no env step); each per group.\n\n"
               "Spec [transfer] (default):\n"
               "  name (transfer), seeds (1,2,3,4,5), out (runs/transfer-NAME), jobs (0 = cores)\n"
               "  methods (equitune,equizero,lambda,canonical), proxies (maxq,entropy), fits (td,prior)\n"
               "  groups (d4), td_steps (5000), prior (1), prior_updates (1000), finetune_steps (10000)\n"
               "  pretrain_success (0.95)\n"
               "  set / td_set / finetune_set / scratch_set = section.key=value (repeatable: every run /\n"
               "  the td fits / fine-tuning / scratch)\n"
               "[env NAME] config = PATH (the pretraining config), set = section.key=value.\n"
               "See configs/transfer/ (quick.ini: one env, 3 seeds, a few minutes).\n", transfer_synopsis);
}

typedef struct {
    const char *spec;
    const char *emit; /* --emit-jobs DIR */
    int jobs, quiet, collect, check;
    const char *sets[CLI_MAX_SETS]; /* --set section.key=value, for every run */
    int nsets;
} TransferArgs;

/* Returns 0 to go on, 1 after --help, 2 on a usage error (printed). */
static int transfer_args(TransferArgs *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int k = cli_take_set(argc, argv, i, a->sets, &a->nsets);
        if (k < 0) {
            fprintf(stderr, "equigrid transfer: --set needs section.key=value (at most %d)\n", CLI_MAX_SETS);
            return 2;
        }
        if (k > 0) {
            i += k - 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            transfer_usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            if (experiment_parse_jobs("transfer", argv[++i], &a->jobs) != 0)
                return 2;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(argv[i], "--progress-every") == 0) {
            if (cli_take_progress_every(argc, argv, i++, &experiment_progress_every, "transfer") < 0)
                return 2;
        } else if (strcmp(argv[i], "--collect") == 0) {
            a->collect = 1;
        } else if (strcmp(argv[i], "--check-pretrain") == 0) {
            a->check = 1;
        } else if (strcmp(argv[i], "--emit-jobs") == 0 && i + 1 < argc) {
            a->emit = argv[++i];
        } else if (argv[i][0] != '-' && !a->spec) {
            a->spec = argv[i];
        } else {
            fprintf(stderr, "equigrid transfer: unexpected argument '%s' (see equigrid transfer --help)\n", argv[i]);
            return 2;
        }
    }
    if (!a->spec || (a->emit != NULL) + a->check + a->collect > 1) {
        fprintf(stderr, "%s\n", transfer_synopsis);
        return 2;
    }
    return 0;
}

/* Plans and checks every stage and prepares its directory (only compares
 * its spec.ini when collecting or checking). */
static int stages_prepare(const TransferSpec *t, const TransferArgs *a, CompareSpec *st[TRANSFER_STAGES])
{
    char err[2048];
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        st[k] = transfer_stage(t, (TransferStage)k, err, sizeof err);
        if (!st[k] || compare_spec_check(st[k], a->sets, a->nsets, err, sizeof err) != 0 || compare_out_prepare(st[k], a->sets, a->nsets, !a->collect && !a->check, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* Runs one stage; its wall time, summed over every invocation that ran
 * something (an interrupted one too), goes to *secs and the stage's
 * seconds.txt. Returns experiment_run_spec's status. */
static int stage_run(const CompareSpec *st, const TransferArgs *a, const char *exe, int jobs, double *secs)
{
    char err[1024];
    double before = transfer_stage_seconds(st), t0 = clock_seconds();
    int r = experiment_run_spec(st, a->sets, a->nsets, exe, jobs, a->quiet, "transfer");
    double took = clock_seconds() - t0;
    *secs = (before > 0 ? before : 0) + took;
    /* an invocation that found the stage done adds its few milliseconds */
    if (transfer_stage_seconds_write(st, *secs, err, sizeof err) != 0 && !a->quiet)
        fprintf(stderr, "equigrid transfer: warning: %s\n", err);
    if (r != 0 && !experiment_stop)
        fprintf(stderr, "equigrid transfer: stage %s had failed runs; later stages need its checkpoints, so stopping here (rerun to retry)\n", st->name);
    return r;
}

/* Runs (unless collecting) and summarises every stage in order; stops
 * after pretraining unless every pretraining run solved its env. */
static int stages_run(const TransferSpec *t, CompareSpec *st[TRANSFER_STAGES], const TransferArgs *a, const char *exe, int jobs, CompareSummary sums[TRANSFER_STAGES], double secs[TRANSFER_STAGES])
{
    char err[2048];
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        if (!a->collect) {
            int r = stage_run(st[k], a, exe, jobs, &secs[k]);
            if (r != 0)
                return r;
        }
        if (k == TRANSFER_PRETRAIN && transfer_check_pretrain(t, st[k], err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            return 1;
        }
        double recorded = transfer_stage_seconds(st[k]);
        if (recorded >= 0)
            secs[k] = recorded;
        if (compare_summarize(st[k], &sums[k], stderr, err, sizeof err) != 0 || compare_write_summary(&sums[k], st[k]->out, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            return 1;
        }
    }
    return 0;
}

/* --emit-jobs: one job list per stage in a->emit. */
static int emit_stages(CompareSpec *st[TRANSFER_STAGES], const TransferArgs *a, const char *exe)
{
    char err[1024], path[PATH_MAX];
    int n[TRANSFER_STAGES];
    if (file_mkdir_p(a->emit, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid transfer: %s\n", err);
        return 1;
    }
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        snprintf(path, sizeof path, "%s/%s.txt", a->emit, transfer_stage_name((TransferStage)k));
        if ((n[k] = experiment_emit_jobs(st[k], a->sets, a->nsets, exe, path, "transfer")) < 0)
            return 1;
    }
    if (!a->quiet)
        printf("job lists written to %s: pretrain.txt (%d lines), zeroshot.txt (%d), finetune.txt (%d), one shell command per line.\n"
               "Run pretrain.txt, then equigrid transfer %s --check-pretrain%s; once it passes, zeroshot.txt and finetune.txt\n"
               "(in any order); when they have ended, equigrid transfer %s --collect%s.\n",
               a->emit, n[0], n[1], n[2], a->spec, a->nsets ? " (with the same --set)" : "", a->spec, a->nsets ? " (with the same --set)" : "");
    return 0;
}

/* --check-pretrain: 0 when every pretraining run solved its env. */
static int check_stage(const TransferSpec *t, const CompareSpec *pretrain, const TransferArgs *a)
{
    char err[2048];
    if (transfer_check_pretrain(t, pretrain, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid transfer: %s\n", err);
        return 1;
    }
    if (!a->quiet)
        printf("pretraining solved every env on every seed: %d runs reached greedy success %.2f\n", pretrain->nvariants * pretrain->nseeds, t->pretrain_success);
    return 0;
}

/* Writes the report and prints it. */
static int report(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const double secs[TRANSFER_STAGES], int jobs)
{
    char err[1024], *md;
    if (transfer_report(t, sums, secs, jobs, &md, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid transfer: %s\n", err);
        return 1;
    }
    fputs(md, stdout);
    printf("\nwritten: %s/transfer.md, transfer.csv, transfer.png (%dx%d), transfer.svg\n", t->out, PLOT_W, transfer_plot_height(t));
    free(md);
    return 0;
}

int cmd_transfer(int argc, char **argv)
{
    TransferArgs a;
    int rc = transfer_args(&a, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    char err[2048], exe[PATH_MAX];
    TransferSpec *t = malloc(sizeof *t);
    if (!t) {
        fprintf(stderr, "equigrid transfer: out of memory\n");
        return 1;
    }
    if (transfer_load(t, a.spec, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid transfer: %s\n", err);
        free(t);
        return 1;
    }
    CompareSpec *st[TRANSFER_STAGES] = {NULL};
    CompareSummary sums[TRANSFER_STAGES];
    memset(sums, 0, sizeof sums);
    double secs[TRANSFER_STAGES] = {-1, -1, -1}; /* not recorded */
    int jobs = experiment_default_jobs(t->jobs, a.jobs);
    rc = 1;
    if (stages_prepare(t, &a, st) != 0)
        goto done;
    if (a.check) {
        rc = check_stage(t, st[TRANSFER_PRETRAIN], &a);
        goto done;
    }
    if (!a.collect && experiment_self_exe(exe, sizeof exe, argv) != 0) {
        fprintf(stderr, "equigrid transfer: cannot find the path of the equigrid program (/proc/self/exe)\n");
        goto done;
    }
    if (a.emit) {
        rc = emit_stages(st, &a, exe);
        goto done;
    }
    experiment_install_signals();
    rc = stages_run(t, st, &a, exe, jobs, sums, secs);
    if (rc == 0)
        rc = report(t, sums, secs, jobs);
done:
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        compare_summary_free(&sums[k]);
        compare_spec_free(st[k]);
    }
    free(t);
    return rc;
}

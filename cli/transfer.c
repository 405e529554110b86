/* transfer.c - `equigrid transfer`: argument parsing and wiring of the
 * transfer experiment (experiments/transfer.h) as three compare stages,
 * pretrain, zero-shot and fine-tune, then one table and one bar chart. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "experiment.h"
#include "../core/clock.h"
#include "../experiments/transfer.h"
#include "../render/plot.h"

static void transfer_usage(FILE *f)
{
    fprintf(f, "usage: equigrid transfer SPEC [--set section.key=value ...] [--jobs N] [--collect] [--quiet]\n\n"
               "Runs the transfer protocol (see the README) as three compare stages under [transfer] out:\n"
               "pretrain/ (plain DQN, orientation identity; the experiment stops there, naming env and seed,\n"
               "unless every run reaches greedy success pretrain_success), zeroshot/ (the pretrained network\n"
               "wrapped in each method row, evaluated on orientation random), finetune/ (finetune_steps on\n"
               "orientation random, plus a scratch baseline), then writes transfer.md, transfer.csv,\n"
               "transfer.png and transfer.svg: final success and w_pretrain (the weight on the pretraining\n"
               "orientation's view), mean and 95 %% bootstrap interval over seeds. Resumable like compare;\n"
               "--collect only rebuilds the report. --set overrides a key in every run of every stage, after\n"
               "the spec's own sets, as compare's --set does.\n\n"
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
               "See configs/transfer/ (quick.ini: one env, 3 seeds, a few minutes).\n");
}

typedef struct {
    const char *spec;
    int jobs, quiet, collect;
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
        } else if (strcmp(argv[i], "--collect") == 0) {
            a->collect = 1;
        } else if (argv[i][0] != '-' && !a->spec) {
            a->spec = argv[i];
        } else {
            fprintf(stderr, "equigrid transfer: unexpected argument '%s' (see equigrid transfer --help)\n", argv[i]);
            return 2;
        }
    }
    if (!a->spec) {
        fprintf(stderr, "usage: equigrid transfer SPEC [--set section.key=value ...] [--jobs N] [--collect] [--quiet]\n");
        return 2;
    }
    return 0;
}

/* Plans and checks every stage and prepares its directory. */
static int stages_prepare(const TransferSpec *t, const TransferArgs *a, CompareSpec *st[TRANSFER_STAGES])
{
    char err[2048];
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        st[k] = transfer_stage(t, (TransferStage)k, err, sizeof err);
        if (!st[k] || compare_spec_check(st[k], a->sets, a->nsets, err, sizeof err) != 0 || compare_out_prepare(st[k], a->sets, a->nsets, !a->collect, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid transfer: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* Runs one stage and records its wall time in *secs; returns
 * experiment_run_spec's status. */
static int stage_run(const CompareSpec *st, const TransferArgs *a, const char *exe, int jobs, double *secs)
{
    char err[1024];
    double t0 = clock_seconds();
    int r = experiment_run_spec(st, a->sets, a->nsets, exe, jobs, a->quiet, "transfer");
    *secs = clock_seconds() - t0;
    /* a resumed stage with nothing to do keeps the time it first took */
    if (r == 0 && *secs > 2.0)
        transfer_stage_seconds_write(st, *secs, err, sizeof err);
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
    double secs[TRANSFER_STAGES] = {0};
    int jobs = experiment_default_jobs(t->jobs, a.jobs);
    rc = 1;
    if (stages_prepare(t, &a, st) != 0)
        goto done;
    if (!a.collect && experiment_self_exe(exe, sizeof exe, argv) != 0) {
        fprintf(stderr, "equigrid transfer: cannot find the path of the equigrid program (/proc/self/exe)\n");
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

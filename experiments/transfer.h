/* transfer.h - the transfer experiment: a network pretrained without
 * symmetry on one orientation, wrapped in each symmetrizer, evaluated
 * zero-shot on all orientations and fine-tuned there, against the plain
 * network fine-tuned and a network trained from scratch.
 *
 * A transfer spec (INI: [transfer] and one [env NAME] per environment)
 * becomes three compare stages under [transfer] out: pretrain/ (plain DQN,
 * orientation identity; transfer_check_pretrain demands that every seed
 * solves its env), zeroshot/ (every method row on orientation random,
 * loading the pretrained checkpoints through {out}/{seed}) and finetune/
 * (finetune_steps on orientation random, plus a scratch baseline).
 *
 * The method rows: equitune; equizero once per proxy (maxq, entropy);
 * lambda and canonical once per fit: `td` (zero-shot: Q frozen, the weight
 * network trained by the TD loss for td_steps env steps on orientation
 * random) or `prior` (zero-shot: Q frozen, prior_updates updates of the
 * canonicalization prior on the pretrained checkpoint's replay states,
 * zero env steps; fine-tuning keeps the prior with weight `prior`); each
 * over every group. transfer_report turns the three stage summaries into
 * transfer.md / .csv / .png / .svg: per row the final greedy success and
 * w_pretrain (the weight on the pretraining orientation's view) with 95 %
 * bootstrap intervals over seeds. */
#ifndef EQUIGRID_EXPERIMENTS_TRANSFER_H
#define EQUIGRID_EXPERIMENTS_TRANSFER_H

#include "spec.h"
#include "summary.h"

enum { TR_MAX_ENVS = 8, TR_MAX_LIST = 8, TR_MAX_SETS = 16, TR_MAX_ROWS = 64 };

/* The stages, in the order they run. */
typedef enum { TRANSFER_PRETRAIN, TRANSFER_ZEROSHOT, TRANSFER_FINETUNE, TRANSFER_STAGES } TransferStage;

/* "pretrain", "zeroshot" or "finetune": the stage's directory under out
 * and the name of its job list. */
const char *transfer_stage_name(TransferStage stage);

/* One [env NAME] section: the pretraining config and its overrides. */
typedef struct {
    char name[64];
    char config[CMP_PATH];
    int line;                         /* spec line of the section header */
    int nsets;
    char sets[TR_MAX_SETS][CFG_STR];  /* "section.key=value", in order */
} TransferEnv;

typedef struct {
    char path[CMP_PATH];              /* the spec file, for messages */
    char name[64];
    char out[200];                    /* output directory (default runs/transfer-NAME) */
    int nseeds;
    uint64_t seeds[CMP_MAX_SEEDS];    /* distinct (compare_parse_seeds) */
    int jobs;                         /* parallel runs; 0 = number of cores */
    long td_steps, finetune_steps;    /* env steps of a td fit (0: no fit), of fine-tuning (>= 1) */
    double prior;                     /* weight of the canonicalization prior in prior rows (> 0) */
    long prior_updates;               /* prior-only updates of a prior fit (>= 1) */
    double pretrain_success;          /* every pretraining run must reach this greedy success, in [0, 1] */
    int nmethods, ngroups, nproxies, nfits;
    char methods[TR_MAX_LIST][32], groups[TR_MAX_LIST][32], proxies[TR_MAX_LIST][32], fits[TR_MAX_LIST][32];
    int nall, ntd, nft, nscratch;     /* overrides: all runs, td fit, fine-tuning, scratch */
    char all[TR_MAX_SETS][CFG_STR], td[TR_MAX_SETS][CFG_STR], ft[TR_MAX_SETS][CFG_STR], scratch[TR_MAX_SETS][CFG_STR];
    int nenvs;
    TransferEnv envs[TR_MAX_ENVS];
} TransferSpec;

/* Reads a transfer spec into t (configs/inifile.h; keys with "set" in
 * their name repeat). Returns 0, or -1 with "path:line: what was wrong;
 * allowed ..." (unknown section or key, bad value, seeds by the rules of
 * compare specs, duplicate env, missing config, no env, an over-long line). */
int transfer_load(TransferSpec *t, const char *path, char *err, size_t errlen);

/* One method row: method (equitune, equizero, lambda, canonical), kind (the
 * equizero proxy, the lambda / canonical fit, "" for equitune) and group. */
typedef struct {
    const char *method, *kind, *group;
} TransferRow;

/* The method rows of t in report order (methods, then kinds, then groups)
 * into rows[0..TR_MAX_ROWS); returns how many. */
int transfer_rows(const TransferSpec *t, TransferRow rows[TR_MAX_ROWS]);
/* ENV-METHOD[-KIND]-GROUP into buf. */
void transfer_row_name(char *buf, size_t len, const char *env, const TransferRow *row);

/* The compare spec of one stage (variants named ENV-plain, ENV-scratch and
 * transfer_row_name's); NULL with a message (too many variants or
 * overrides, out of memory). Free with compare_spec_free. */
CompareSpec *transfer_stage(const TransferSpec *t, TransferStage stage, char *err, size_t errlen);

/* Checks that every pretraining run (stage = transfer_stage(t,
 * TRANSFER_PRETRAIN)) reached t->pretrain_success in its final greedy
 * evaluation. Returns 0, or -1 with a message naming each env and seed
 * below it (or whose eval.csv is unreadable) and what to change. */
int transfer_check_pretrain(const TransferSpec *t, const CompareSpec *stage, char *err, size_t errlen);

/* Wall-clock seconds a finished stage took: stage->out/seconds.txt; -1 when
 * there is no such file, 0 when it holds no number. */
double transfer_stage_seconds(const CompareSpec *stage);
/* Records secs in stage->out/seconds.txt (atomically). 0 or -1 with a message. */
int transfer_stage_seconds_write(const CompareSpec *stage, double secs, char *err, size_t errlen);

/* Height in pixels of transfer.png / transfer.svg for t. */
int transfer_plot_height(const TransferSpec *t);

/* Writes OUT/transfer.md, transfer.csv, transfer.png and transfer.svg from
 * the three stage summaries, the stages' wall times (secs; < 0: not
 * recorded) and the number of runs at a time (jobs). On success *md is the malloc'd text of transfer.md.
 * Returns 0, or -1 with a message (out of memory, a write failed). */
int transfer_report(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const double secs[TRANSFER_STAGES], int jobs, char **md, char *err, size_t errlen);

#endif

/* transfer.h - the transfer experiment: a network pretrained without
 * symmetry on one orientation, wrapped in each symmetrizer, evaluated
 * zero-shot on all orientations and fine-tuned there, against the plain
 * network fine-tuned and a network trained from scratch.
 *
 * A transfer spec (INI: [transfer] and one [env NAME] per environment)
 * becomes three compare stages under [transfer] out: pretrain/ (plain DQN,
 * orientation identity), zeroshot/ (every method x group on orientation
 * random, loading the pretrained checkpoints through {out}/{seed}; lambda
 * first fits only λ for lambda_steps) and finetune/ (finetune_steps on
 * orientation random, plus a scratch baseline). transfer_report turns the
 * three stage summaries into transfer.md / .csv / .png / .svg. */
#ifndef EQUIGRID_EXPERIMENTS_TRANSFER_H
#define EQUIGRID_EXPERIMENTS_TRANSFER_H

#include "spec.h"
#include "summary.h"

enum { TR_MAX_ENVS = 8, TR_MAX_LIST = 8, TR_MAX_SETS = 16 };

/* The stages, in the order they run. */
typedef enum { TRANSFER_PRETRAIN, TRANSFER_ZEROSHOT, TRANSFER_FINETUNE, TRANSFER_STAGES } TransferStage;

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
    long lambda_steps, finetune_steps;
    int nmethods, ngroups;
    char methods[TR_MAX_LIST][32], groups[TR_MAX_LIST][32];
    int nall, nlambda, nft, nscratch; /* overrides: all runs, λ fit, fine-tuning, scratch */
    char all[TR_MAX_SETS][CFG_STR], lambda[TR_MAX_SETS][CFG_STR], ft[TR_MAX_SETS][CFG_STR], scratch[TR_MAX_SETS][CFG_STR];
    int nenvs;
    TransferEnv envs[TR_MAX_ENVS];
} TransferSpec;

/* Reads a transfer spec into t (configs/inifile.h; keys with "set" in
 * their name repeat). Returns 0, or -1 with "path:line: what was wrong;
 * allowed ..." (unknown section or key, bad value, seeds by the rules of
 * compare specs, duplicate env, missing config, no env, an over-long line). */
int transfer_load(TransferSpec *t, const char *path, char *err, size_t errlen);

/* The compare spec of one stage (variants named ENV-plain, ENV-scratch,
 * ENV-METHOD-GROUP); NULL with a message (too many variants or overrides,
 * out of memory). Free with compare_spec_free. */
CompareSpec *transfer_stage(const TransferSpec *t, TransferStage stage, char *err, size_t errlen);

/* Wall-clock seconds a finished stage took: stage->out/seconds.txt; -1 when
 * there is no such file, 0 when it holds no number. */
double transfer_stage_seconds(const CompareSpec *stage);
/* Records secs in stage->out/seconds.txt (atomically). 0 or -1 with a message. */
int transfer_stage_seconds_write(const CompareSpec *stage, double secs, char *err, size_t errlen);

/* Height in pixels of transfer.png / transfer.svg for t. */
int transfer_plot_height(const TransferSpec *t);

/* Writes OUT/transfer.md, transfer.csv, transfer.png and transfer.svg from
 * the three stage summaries, the stages' wall times (secs) and the number of
 * runs at a time (jobs). On success *md is the malloc'd text of transfer.md.
 * Returns 0, or -1 with a message (out of memory, a write failed). */
int transfer_report(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const double secs[TRANSFER_STAGES], int jobs, char **md, char *err, size_t errlen);

#endif

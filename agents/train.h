/* train.h - the DQN training loop and greedy evaluation. A run directory
 * holds config.ini (the effective config), metrics.csv (one row per finished
 * training episode), eval.csv (one row per evaluation) and
 * checkpoint.safetensors (networks, optimizer, env, replay and RNG state, so
 * that --resume continues exactly as an uninterrupted run would). */
#ifndef EQUIGRID_TRAIN_H
#define EQUIGRID_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "../configs/config.h"
#include "../core/progress.h"
#include "agent.h"

typedef struct {
    int episodes;
    double ret_mean, ret_std;
    double success;                 /* fraction of episodes that reached the goal */
    double success_std;
    double len_mean, len_std;
    double w_pretrain;              /* mean over the episodes' states of the weight on the view h = g^-1
                                       of the episode's orientation g (the pretraining orientation's view) */
} EvalResult;

typedef struct {
    const char *out_dir;            /* run directory (created if missing) */
    int resume;                     /* continue from out_dir/checkpoint.safetensors */
    int progress;                   /* report progress on stderr (0: never) */
    ProgressStyle progress_style;   /* PROGRESS_BAR on a terminal, PROGRESS_LINE for logs */
    double progress_every;          /* seconds between PROGRESS_LINE records (> 0) */
    volatile sig_atomic_t *stop;    /* set asynchronously (SIGINT) to stop cleanly; may be NULL */
    FILE *log;                      /* progress messages (e.g. where the base network came from); NULL for silence */
    Agent **keep_agent;             /* if non-NULL, receives the trained agent (caller frees) */
} TrainOptions;

typedef struct {
    long steps;                     /* env steps done (in all, after a resume too) */
    long steps_run;                 /* of which in this call */
    long episodes;
    int interrupted;                /* stopped by *stop before the end */
    int already_finished;           /* resumed a run that had reached [train] steps: nothing was changed */
    double seconds;
    double updates;                 /* TD updates in this call */
    long prior_updates;             /* prior-only updates of a fresh run before its first env step (train.prior_updates) */
    float prior_loss_first, prior_loss_last; /* the prior's loss on the first and the last of them */
    double update_seconds;          /* wall time inside the update steps (sample, batch, forward, backward, Adam) */
    double update_sym_seconds;      /* the symmetrizer's share of it (qmodel_timing of both networks), acting left out */
    EvalResult final;               /* last evaluation (valid if final.episodes > 0) */
} TrainResult;

/* Trains from cfg (validated by the caller) into opt->out_dir. Returns 0, or
 * -1 with a message (I/O failure, run directory holding another run, resume
 * with a different config, ...). Interrupted runs return 0 with
 * res->interrupted set, after writing a checkpoint and flushing the CSVs. */
int train_run(const Config *cfg, const TrainOptions *opt, TrainResult *res, char *err, size_t errlen);

/* Checks that the checkpoint at path can be resumed, reading it exactly as
 * --resume does and writing nothing: its metadata config passes
 * config_validate, the networks load (finite weights), and every restored
 * field is consistent (env layouts with wall borders and known cell bits
 * only, agents on free cells, episode steps below max_steps, RNG states not
 * all zero, replay actions below the action count, step and schedule
 * counters in range, CSV row counts >= 0). Returns 0, or -1 with "path:
 * tensor NAME: what was wrong; allowed ..." in err. Never exits. */
int train_check_checkpoint(const char *path, char *err, size_t errlen);

/* Greedy (epsilon-greedy) evaluation of a's Q on `episodes` fresh envs
 * described by ec (streams fixed, so every evaluation sees the same layouts),
 * acting in one batched forward per step; eps draws come from an Rng of its
 * own, so evaluation never changes the agent's exploration sequence. */
int evaluate(Agent *a, const EnvConfig *ec, const EnvMap *map, int episodes, float epsilon, EvalResult *res, char *err, size_t errlen);

#endif

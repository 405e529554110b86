/* queue.h - the local run queue: every unfinished run of a compare spec as
 * a child process, a fixed number at a time, resumable, with done markers. */
#ifndef EQUIGRID_EXPERIMENTS_QUEUE_H
#define EQUIGRID_EXPERIMENTS_QUEUE_H

#include <signal.h>
#include <stdio.h>

#include "../core/progress.h"
#include "spec.h"

typedef struct {
    const char *exe;                 /* absolute path of the equigrid binary */
    int jobs;                        /* >= 1 */
    volatile sig_atomic_t *stop;     /* raised asynchronously to stop (may be NULL): nothing more is launched; 1 sends
                                        SIGINT to the children (each checkpoints and exits), 2 or more SIGKILL (they
                                        resume from their last checkpoint, or start afresh without one) */
    FILE *log;                       /* failures and messages; NULL for silence */
    int progress;                    /* report progress on log (0: never) */
    ProgressStyle progress_style;    /* PROGRESS_BAR on a terminal, PROGRESS_LINE for logs */
    double progress_every;           /* seconds between PROGRESS_LINE records (> 0) */
} CompareRunOptions;

typedef struct {
    int total, skipped, launched, succeeded, failed, interrupted;
} CompareRunResult;

/* Runs every unfinished run of s as a child process, opt->jobs at a time,
 * each with OPENBLAS_NUM_THREADS=1 and output in DIR/log.txt; writes DIR/done
 * after exit status 0; reports failures with their log's tail and goes on.
 * Returns once every child has exited: all runs done, or stopped by
 * opt->stop with queued runs left unlaunched (res->interrupted counts the
 * children it stopped). Returns 0 (see res for failures) or -1 with a message
 * (fork failure, ...). */
int compare_execute(const CompareSpec *s, const char *const *sets, int nsets, const CompareRunOptions *opt, CompareRunResult *res, char *err, size_t errlen);

#endif

/* queue.h - the local run queue: every unfinished run of a compare spec as
 * a child process, a fixed number at a time, resumable, with done markers. */
#ifndef EQUIGRID_EXPERIMENTS_QUEUE_H
#define EQUIGRID_EXPERIMENTS_QUEUE_H

#include <signal.h>
#include <stdio.h>

#include "spec.h"

typedef struct {
    const char *exe;                 /* absolute path of the equigrid binary */
    int jobs;                        /* >= 1 */
    volatile sig_atomic_t *stop;     /* set asynchronously to stop: SIGINT goes to children */
    FILE *log;                       /* failures and messages; NULL for silence */
    int progress;                    /* draw a progress bar on log */
} CompareRunOptions;

typedef struct {
    int total, skipped, launched, succeeded, failed, interrupted;
} CompareRunResult;

/* Runs every unfinished run of s as a child process, opt->jobs at a time,
 * each with OPENBLAS_NUM_THREADS=1 and output in DIR/log.txt; writes DIR/done
 * after exit status 0; reports failures with their log's tail and goes on.
 * Returns 0 (see res for failures) or -1 with a message (fork failure, ...). */
int compare_execute(const CompareSpec *s, const char *const *sets, int nsets, const CompareRunOptions *opt, CompareRunResult *res, char *err, size_t errlen);

#endif

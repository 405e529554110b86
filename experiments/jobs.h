/* jobs.h - --emit-jobs: a compare spec as a job list for external
 * schedulers (GNU parallel, a Slurm array), one shell command per run. */
#ifndef EQUIGRID_EXPERIMENTS_JOBS_H
#define EQUIGRID_EXPERIMENTS_JOBS_H

#include <stdio.h>

#include "spec.h"

/* Writes one shell command per run (variant-major, seeds inner) to f: cd to
 * cwd, skip if done, --resume if a checkpoint exists, log to DIR/log.txt,
 * touch DIR/done on success. Returns the number of lines or -1. */
int compare_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *cwd, FILE *f, char *err, size_t errlen);

#endif

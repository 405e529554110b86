/* rundir.h - the state on disk of a compare output directory: OUT/spec.ini
 * binds it to one spec, and each run directory OUT/VARIANT/seed-S tells by
 * its files how far the run got. */
#ifndef EQUIGRID_EXPERIMENTS_RUNDIR_H
#define EQUIGRID_EXPERIMENTS_RUNDIR_H

#include "spec.h"

/* Makes s->out and compares/writes s->out/spec.ini: -1 with a message if the
 * directory holds runs of a different spec (variants, configs or overrides
 * differ; seeds, threshold and jobs may change). write = 0 only compares. */
int compare_out_prepare(const CompareSpec *s, const char *const *sets, int nsets, int write, char *err, size_t errlen);

/* State of one run directory. */
typedef enum { RUN_FRESH, RUN_RESUME, RUN_DONE, RUN_STALE } RunState;
/* done marker -> DONE; checkpoint -> RESUME; metrics.csv or eval.csv without
 * a checkpoint (killed before its first checkpoint) -> STALE; else FRESH. */
RunState compare_run_state(const char *dir);

/* The whole file as a malloc'd string ("" when empty); NULL when it cannot
 * be opened or read, or out of memory. */
char *compare_read_text(const char *path);

#endif

/* compare.h - experiments over variants x seeds, the face of experiments/:
 *   spec.h     the compare spec (INI) and its reader
 *   plan.h     each run's config, directory and command line
 *   rundir.h   the output directory's state (spec.ini, done markers)
 *   queue.h    the local run queue (child processes, --jobs at a time)
 *   jobs.h     job lists for external schedulers (--emit-jobs)
 *   stats.h    curves, AUC, steps to threshold, bootstrap intervals
 *   summary.h  summary.csv / summary.md / curves over seeds
 *   transfer.h the transfer experiment as three compare stages */
#ifndef EQUIGRID_COMPARE_H
#define EQUIGRID_COMPARE_H

#include "jobs.h"
#include "plan.h"
#include "queue.h"
#include "rundir.h"
#include "spec.h"
#include "stats.h"
#include "summary.h"
#include "transfer.h"

#endif

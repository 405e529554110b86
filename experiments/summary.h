/* summary.h - the summary of a compare output directory over seeds: per
 * variant final success and return, steps to the success threshold and area
 * under the success curve (stats.h), written atomically as summary.csv and
 * summary.md with curves.png / curves.svg (render/plot.h). */
#ifndef EQUIGRID_EXPERIMENTS_SUMMARY_H
#define EQUIGRID_EXPERIMENTS_SUMMARY_H

#include <stdio.h>

#include "spec.h"
#include "stats.h"

/* The summary of one variant over its finished runs. */
typedef struct {
    char name[CFG_STR];
    int nruns;
    Stat success, ret, steps, auc; /* final success, final return, steps to threshold, AUC */
    Stat w_pretrain;               /* final w_pretrain; n = 0 (mean NAN) unless every run's eval.csv has the column */
    int never;                     /* runs that never reached the threshold */
    long max_steps;                /* largest total steps among them */
    /* mean curve over runs on the common eval steps */
    int npoints;
    double *x, *s_mean, *s_lo, *s_hi, *r_mean, *r_lo, *r_hi; /* lo/hi: min and max over runs */
} VariantSummary;

typedef struct {
    int nvariants;
    VariantSummary *v;
    double threshold;
    char name[CFG_STR];
} CompareSummary;

/* Reads every finished run (done marker) of s; runs without one are listed
 * on log (if not NULL) and left out. Returns 0, or -1 with a message if a
 * finished run's eval.csv is unreadable or no run has finished. */
int compare_summarize(const CompareSpec *s, CompareSummary *sum, FILE *log, char *err, size_t errlen);
/* Frees what compare_summarize allocated; NULL is a no-op. */
void compare_summary_free(CompareSummary *sum);
/* Writes OUT/summary.csv, OUT/summary.md, OUT/curves.png and OUT/curves.svg
 * atomically (temporary file + rename). */
int compare_write_summary(const CompareSummary *sum, const char *out, char *err, size_t errlen);

#endif

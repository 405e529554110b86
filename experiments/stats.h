/* stats.h - statistics of runs over seeds: a run's eval.csv curve, the
 * area under it, steps to a success threshold, and mean, sample std and a
 * deterministic 95 % percentile bootstrap interval of the mean. */
#ifndef EQUIGRID_EXPERIMENTS_STATS_H
#define EQUIGRID_EXPERIMENTS_STATS_H

#include <stddef.h>
#include <stdint.h>

/* One run's eval.csv. */
typedef struct {
    int n;
    long *step;
    double *ret, *success;
    double *w_pretrain; /* the w_pretrain column (weight on the pretraining orientation's view), NULL if the file has none */
} EvalCurve;

/* Reads path (header step,return_mean,return_std,success,..., and
 * optionally w_pretrain as the 7th column). -1 with a message naming
 * path:line on a malformed file or no rows. */
int compare_read_eval(const char *path, EvalCurve *c, char *err, size_t errlen);
/* Frees the arrays of c and zeroes it; NULL is a no-op. */
void compare_curve_free(EvalCurve *c);
/* Trapezoid area under y(step) divided by the step range: in [min y, max y];
 * one point gives y[0]. */
double compare_auc(const long *step, const double *y, int n);
/* First step with success >= threshold, or -1 if never. */
long compare_steps_to_threshold(const EvalCurve *c, double threshold);

/* mean, sample std (0 for n < 2), 95 % percentile bootstrap interval of the mean. */
typedef struct {
    int n;
    double mean, std, lo, hi;
} Stat;
/* Stat of x[0..n) with `resamples` bootstrap resamples from Rng(seed). */
Stat compare_stat(const double *x, int n, int resamples, uint64_t seed);

enum { CMP_BOOTSTRAP = 2000 };
#define CMP_BOOTSTRAP_SEED 20240601u

#endif

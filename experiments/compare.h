/* compare.h - experiments over variants x seeds: the compare spec (INI: a
 * [compare] section and one [variant NAME] section per variant), run planning
 * (one `equigrid train` process per variant x seed, resumable, with done
 * markers), a local process runner (--jobs at a time), job lists for external
 * schedulers, and the summary over seeds (final success and return, steps to
 * a success threshold, area under the success curve: mean, sample std and a
 * deterministic 95 % percentile bootstrap interval) written atomically as
 * summary.csv / summary.md, with curves.png / curves.svg (render/plot.h).
 *
 * Paths in a spec (config files, out) are relative to the working directory,
 * like every path in a config. Override values may contain {seed} (the run's
 * seed) and {out} (the spec's output directory), expanded per run: this is how
 * a later stage loads an earlier stage's checkpoints (equigrid transfer). */
#ifndef EQUIGRID_COMPARE_H
#define EQUIGRID_COMPARE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../configs/config.h"

enum { CMP_MAX_SEEDS = 64, CMP_MAX_VARIANTS = 128, CMP_MAX_SETS = 32, CMP_PATH = 512 };

/* One variant: a config file plus overrides applied in order. */
typedef struct {
    char name[CFG_STR];               /* [variant NAME]: letters, digits, '-', '_', '.' */
    int line;                         /* spec line of the section header (0 = built in code) */
    char config[CMP_PATH];
    int config_line;
    int nsets;
    char sets[CMP_MAX_SETS][CFG_STR]; /* "section.key=value" */
    int set_line[CMP_MAX_SETS];
} CompareVariant;

typedef struct {
    char path[CMP_PATH];              /* spec file (for messages), or a label */
    char name[CFG_STR];
    int nseeds;
    uint64_t seeds[CMP_MAX_SEEDS];
    char out[CMP_PATH];
    double threshold;                 /* success threshold for steps-to-threshold, in [0, 1] */
    int jobs;                         /* parallel runs; 0 = number of cores */
    int nvariants;
    CompareVariant *variants;         /* nvariants, malloc'd */
} CompareSpec;

/* An empty spec (defaults: seeds 1..5, threshold 0.95, jobs 0, out
 * runs/compare-NAME once a name is given) labelled `path`; NULL on out of memory. */
CompareSpec *compare_spec_new(const char *path);
void compare_spec_free(CompareSpec *s);
/* Appends a variant (name, config path); returns it, or NULL with a message
 * (duplicate name, invalid name, too many variants). */
CompareVariant *compare_spec_add_variant(CompareSpec *s, const char *name, const char *config, int line, char *err, size_t errlen);
/* Appends an override to v; -1 with a message when there are too many. */
int compare_variant_add_set(CompareVariant *v, const char *assignment, int line, char *err, size_t errlen);
/* Reads a spec file. Returns NULL with "path:line: what was wrong; allowed ..."
 * (unknown section or key with did-you-mean, duplicate variant, bad seeds,
 * threshold or jobs, missing config or set). */
CompareSpec *compare_spec_load(const char *path, char *err, size_t errlen);

/* Expands {seed} and {out} in src into dst. Returns 0, or -1 if it does not fit. */
int compare_expand(char *dst, size_t dstlen, const char *src, uint64_t seed, const char *out);
/* Builds the effective config of one run: config file, the variant's
 * overrides, the global overrides (sets, nsets), then run.seed = seed.
 * Errors name the spec file:line of the variant, its config or the override. */
int compare_run_config(const CompareSpec *s, int variant, uint64_t seed, const char *const *sets, int nsets, Config *cfg, char *err, size_t errlen);
/* Checks every run before anything runs: config files exist and load, each
 * override is valid, run.seed is not overridden, the combination validates,
 * at least one variant and seed. Returns 0 or -1 with the first error. */
int compare_spec_check(const CompareSpec *s, const char *const *sets, int nsets, char *err, size_t errlen);
/* The normalised spec (variants, configs, overrides, command-line overrides
 * and a digest of each variant's effective config) as INI text, malloc'd; the
 * lines that define the runs are those not starting with ';' or "seeds",
 * "threshold" or "jobs". NULL on out of memory or if a config fails to load. */
char *compare_spec_normalised(const CompareSpec *s, const char *const *sets, int nsets);
/* Makes s->out and compares/writes s->out/spec.ini: -1 with a message if the
 * directory holds runs of a different spec (variants, configs or overrides
 * differ; seeds, threshold and jobs may change). write = 0 only compares. */
int compare_out_prepare(const CompareSpec *s, const char *const *sets, int nsets, int write, char *err, size_t errlen);

/* State of one run directory. */
typedef enum { RUN_FRESH, RUN_RESUME, RUN_DONE, RUN_STALE } RunState;
/* OUT/VARIANT/seed-S into dir. */
void compare_run_dir(const CompareSpec *s, int variant, uint64_t seed, char *dir, size_t dirlen);
/* done marker -> DONE; checkpoint -> RESUME; metrics.csv without a checkpoint
 * (killed before its first checkpoint) -> STALE; else FRESH. */
RunState compare_run_state(const char *dir);
/* The argument vector of one run: exe train CONFIG --set (variant sets, global
 * sets, expanded) --set run.seed=S --out DIR --quiet [--resume]. Strings are
 * malloc'd into *argv (NULL-terminated); free with compare_argv_free. */
int compare_run_argv(const CompareSpec *s, int variant, uint64_t seed, const char *const *sets, int nsets, const char *exe, int resume, char ***argv, char *err, size_t errlen);
void compare_argv_free(char **argv);
/* Writes one shell command per run (variant-major, seeds inner) to f: cd to
 * cwd, skip if done, --resume if a checkpoint exists, log to DIR/log.txt,
 * touch DIR/done on success. Returns the number of lines or -1. */
int compare_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *cwd, FILE *f, char *err, size_t errlen);

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

/* ---- statistics ---- */

/* One run's eval.csv. */
typedef struct {
    int n;
    long *step;
    double *ret, *success;
} EvalCurve;

/* Reads path (header step,return_mean,return_std,success,...). -1 with a
 * message naming path:line on a malformed file or no rows. */
int compare_read_eval(const char *path, EvalCurve *c, char *err, size_t errlen);
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

/* The summary of one variant over its finished runs. */
typedef struct {
    char name[CFG_STR];
    int nruns;
    Stat success, ret, steps, auc; /* final success, final return, steps to threshold, AUC */
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
void compare_summary_free(CompareSummary *sum);
/* Writes OUT/summary.csv, OUT/summary.md, OUT/curves.png and OUT/curves.svg
 * atomically (temporary file + rename). */
int compare_write_summary(const CompareSummary *sum, const char *out, char *err, size_t errlen);

/* Trims blanks at both ends in place; returns the first non-blank char. */
char *compare_trim(char *s);
/* Strips an INI comment (a line starting with ';' or '#', or " ;" inside a
 * line) and blanks; returns the content, "" for a blank or comment line. */
char *compare_clean_line(char *line);

#endif

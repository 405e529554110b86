/* plan.h - the runs of a compare spec: one `equigrid train` process per
 * variant x seed, its effective config, its directory OUT/VARIANT/seed-S and
 * its command line, and the normalised spec that says which runs an output
 * directory holds. */
#ifndef EQUIGRID_EXPERIMENTS_PLAN_H
#define EQUIGRID_EXPERIMENTS_PLAN_H

#include "spec.h"

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

/* OUT/VARIANT/seed-S into dir. */
void compare_run_dir(const CompareSpec *s, int variant, uint64_t seed, char *dir, size_t dirlen);
/* The argument vector of one run: exe train CONFIG --set (variant sets, global
 * sets, expanded) --set run.seed=S --out DIR [--resume]. Strings are
 * malloc'd into *argv (NULL-terminated); free with compare_argv_free. */
int compare_run_argv(const CompareSpec *s, int variant, uint64_t seed, const char *const *sets, int nsets, const char *exe, int resume, char ***argv, char *err, size_t errlen);
/* Frees an argument vector of compare_run_argv; NULL is a no-op. */
void compare_argv_free(char **argv);

#endif

/* spec.h - compare specs: which variants (a config file plus overrides) to
 * train over which seeds, and where. INI: a [compare] section (name, seeds,
 * out, threshold, jobs) and one [variant NAME] section per variant (config,
 * set repeatable, applied in order).
 *
 * Paths in a spec (config files, out) are relative to the working directory,
 * like every path in a config. Override values may contain {seed} (the run's
 * seed) and {out} (the spec's output directory), expanded per run (plan.h):
 * this is how a later stage loads an earlier stage's checkpoints (transfer.h). */
#ifndef EQUIGRID_EXPERIMENTS_SPEC_H
#define EQUIGRID_EXPERIMENTS_SPEC_H

#include <stddef.h>
#include <stdint.h>

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
/* Frees s; NULL is a no-op. */
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

/* Parses a seed list ("1,2,3": distinct integers in 0..2^64-1, at most
 * CMP_MAX_SEEDS) into seeds. Returns the count, or -1 with what is wrong and
 * what is allowed in why (no location). */
int compare_parse_seeds(const char *list, uint64_t seeds[CMP_MAX_SEEDS], char *why, size_t whylen);

/* Trims blanks at both ends in place; returns the first non-blank char. */
char *compare_trim(char *s);
/* Strips an INI comment (a line starting with ';' or '#', or " ;" inside a
 * line) and blanks; returns the content, "" for a blank or comment line. */
char *compare_clean_line(char *line);

#endif

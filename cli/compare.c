/* compare.c - `equigrid compare`: argument parsing and wiring of
 * experiments/ (variants x seeds as child processes, summary and plots;
 * --emit-jobs for schedulers, --collect to summarise). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "experiment.h"

enum { MAX_SETS = 64 };

static void compare_usage(FILE *f)
{
    fprintf(f, "usage: equigrid compare SPEC [--set section.key=value ...] [--jobs N] [--emit-jobs FILE | --collect] [--quiet]\n"
               "                       [--progress-every S]\n\n"
               "Trains every variant x seed of the compare spec as its own process (`equigrid train ...\n"
               "--out OUT/VARIANT/seed-S`, OPENBLAS_NUM_THREADS=1, output and progress lines in log.txt), N at a time\n"
               "(default: [compare] jobs, or the number of cores), then writes OUT/summary.md, summary.csv,\n"
               "curves.png and curves.svg. Finished runs (OUT/VARIANT/seed-S/done) are skipped and\n"
               "interrupted ones resume from their checkpoint, so rerunning continues an experiment;\n"
               "Ctrl-C (or SIGTERM) stops every run cleanly and exits 130 (143); a second Ctrl-C\n"
               "kills the runs, which then resume from their last checkpoint.\n\n"
               "  --set k=v        override a config key in every run (repeatable)\n"
               "  --jobs N         runs at a time\n"
               "  --emit-jobs FILE write one shell command per run (GNU parallel, a Slurm array) and run nothing\n"
               "  --collect        only build the summary from the run directories\n"
               "  --quiet          no progress display\n"
               "  --progress-every S  when stderr is not a terminal (a log), one plain progress line\n"
               "                   every S seconds instead of the bar (default 10)\n\n"
               "Spec (INI; paths relative to the working directory):\n"
               "  [compare]        name = NAME, seeds = 1,2,3,4,5, out = runs/compare-NAME,\n"
               "                   threshold = 0.95 (steps-to-threshold), jobs = 0 (= cores)\n"
               "  [variant NAME]   config = PATH, set = section.key=value (repeatable, in order;\n"
               "                   {seed} and {out} are expanded per run)\n");
}

int cmd_compare(int argc, char **argv)
{
    const char *sets[MAX_SETS], *spec_path = NULL, *emit = NULL;
    int nsets = 0, jobs = 0, collect = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            compare_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && nsets < MAX_SETS) {
            sets[nsets++] = argv[++i];
        } else if (strncmp(argv[i], "--set=", 6) == 0 && nsets < MAX_SETS) {
            sets[nsets++] = argv[i] + 6;
        } else if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            if (experiment_parse_jobs("compare", argv[++i], &jobs) != 0)
                return 2;
        } else if (strcmp(argv[i], "--emit-jobs") == 0 && i + 1 < argc) {
            emit = argv[++i];
        } else if (strcmp(argv[i], "--collect") == 0) {
            collect = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "--progress-every") == 0) {
            if (cli_take_progress_every(argc, argv, i++, &experiment_progress_every, "compare") < 0)
                return 2;
        } else if (argv[i][0] != '-' && !spec_path) {
            spec_path = argv[i];
        } else {
            fprintf(stderr, "equigrid compare: unexpected argument '%s' (see equigrid compare --help)\n", argv[i]);
            return 2;
        }
    }
    if (!spec_path || (emit && collect)) {
        compare_usage(stderr);
        return 2;
    }
    char err[2048], exe[PATH_MAX];
    CompareSpec *s = compare_spec_load(spec_path, err, sizeof err);
    if (!s) {
        fprintf(stderr, "equigrid compare: %s\n", err);
        return 1;
    }
    int rc = 1;
    if (compare_spec_check(s, sets, nsets, err, sizeof err) != 0 || compare_out_prepare(s, sets, nsets, !collect, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid compare: %s\n", err);
        goto done;
    }
    if (collect) {
        rc = experiment_summarize(s, "compare", quiet);
        goto done;
    }
    if (experiment_self_exe(exe, sizeof exe, argv) != 0) {
        fprintf(stderr, "equigrid compare: cannot find the path of the equigrid program (/proc/self/exe)\n");
        goto done;
    }
    if (emit) {
        int n = experiment_emit_jobs(s, sets, nsets, exe, emit, "compare");
        if (n < 0)
            goto done;
        if (!quiet)
            printf("%d jobs written to %s (one shell command per line); when they have run: equigrid compare %s --collect\n", n, emit, spec_path);
        rc = 0;
        goto done;
    }
    experiment_install_signals();
    rc = experiment_run_spec(s, sets, nsets, exe, experiment_default_jobs(s->jobs, jobs), quiet, "compare");
    if (!experiment_stop && rc != 130) {
        int src = experiment_summarize(s, "compare", quiet);
        if (rc == 0)
            rc = src;
        if (rc != 0 && src == 0)
            fprintf(stderr, "equigrid compare: some runs failed (see above); the summary covers the finished ones; rerun to retry the failed runs\n");
    }
done:
    compare_spec_free(s);
    return rc;
}

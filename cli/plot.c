/* plot.c - `equigrid plot RUN_DIR... [--out FILE]`: learning curves of runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../experiments/runplot.h"
#include "../render/plot.h"
#include "cmd.h"

static const char *usage = "usage: equigrid plot RUN_DIR... [--out FILE.png|FILE.svg]\n";

int cmd_plot(int argc, char **argv)
{
    const char *out = NULL;
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    int ndirs = 0;
    if (!dirs) {
        fprintf(stderr, "equigrid plot: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s\nDraws the learning curves of one or more runs (directories written by equigrid\n"
                   "train): greedy success and return of the evaluations (eval.csv) and the training\n"
                   "return averaged over the last %d episodes (metrics.csv), against env steps, one\n"
                   "colour per run, %dx%d. --out: .png or .svg; default RUN_DIR/curves.png for one run,\n"
                   "curves.png for several.\n",
                   usage, RUNPLOT_SMOOTH, PLOT_W, PLOT_H);
            free(dirs);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] != '-') {
            dirs[ndirs++] = argv[i];
        } else {
            fprintf(stderr, "equigrid plot: unexpected argument '%s'\n%s", argv[i], usage);
            free(dirs);
            return 2;
        }
    }
    if (ndirs == 0) {
        fputs(usage, stderr);
        free(dirs);
        return 2;
    }
    char def[2048];
    if (!out) {
        snprintf(def, sizeof def, ndirs == 1 ? "%s/curves.png" : "curves.png", dirs[0]);
        out = def;
    }
    size_t len = strlen(out);
    if (len < 4 || (strcmp(out + len - 4, ".png") != 0 && strcmp(out + len - 4, ".svg") != 0)) {
        fprintf(stderr, "equigrid plot: --out %s: allowed: a file name ending in .png or .svg\n", out);
        free(dirs);
        return 2;
    }
    char err[1024];
    int rc = runplot_write(dirs, ndirs, out, err, sizeof err);
    free(dirs);
    if (rc != 0) {
        fprintf(stderr, "equigrid plot: %s\n", err);
        return 1;
    }
    printf("equigrid plot: %s (%dx%d)\n", out, PLOT_W, PLOT_H);
    return 0;
}

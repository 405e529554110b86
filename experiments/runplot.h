/* runplot.h - learning curves of one or more training runs (`equigrid plot`):
 * greedy success and return of the evaluations (eval.csv) and the training
 * return (metrics.csv) as a moving average, against env steps, one colour
 * per run, drawn by render/plot in the style of compare's curves. */
#ifndef EQUIGRID_EXPERIMENTS_RUNPLOT_H
#define EQUIGRID_EXPERIMENTS_RUNPLOT_H

#include <stddef.h>

/* Training episodes the moving average of the training return spans. */
enum { RUNPLOT_SMOOTH = 100 };

/* Reads dirs[0..ndirs) (each a run directory with eval.csv and metrics.csv),
 * labels each curve with its directory's last component, and writes a
 * PLOT_W x PLOT_H figure of three panels to out (.png or .svg). Returns 0, or
 * -1 with a message naming the file and line that could not be read. */
int runplot_write(const char *const *dirs, int ndirs, const char *out, char *err, size_t errlen);

#endif

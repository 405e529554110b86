/* plot.h - learning curves and grouped bar charts drawn with cairo, written
 * as PNG or SVG (by the file's extension) through a temporary file and a
 * rename, so a killed process never leaves a half-written plot. Panels are
 * stacked vertically; each has axes with ticks and labels, and the figure a
 * title and a legend. Colours: a fixed palette of 10 distinguishable colours
 * (Tableau 10), cycled. Default figure size PLOT_W x PLOT_H pixels. */
#ifndef EQUIGRID_PLOT_H
#define EQUIGRID_PLOT_H

#include <stddef.h>

enum { PLOT_W = 1000, PLOT_H = 700 };

/* One curve: a mean line and a shaded band [lo, hi] (may be NULL: no band). */
typedef struct {
    const char *label;
    int n;
    const double *x, *y, *lo, *hi;
} PlotSeries;

typedef struct {
    const char *xlabel, *ylabel;
    double ymin, ymax;  /* fixed y range, or ymin >= ymax for automatic */
    int nseries;
    const PlotSeries *series;
} PlotPanel;

/* Curves: panels stacked vertically, one legend (the first panel's labels).
 * Returns 0 or -1 with a message naming the path. */
int plot_curves(const char *path, int width, int height, const char *title, const PlotPanel *panels, int npanels, char *err, size_t errlen);

/* Grouped bars: nrows groups of nbars bars (value mean[r*nbars+b]; error bar
 * from lo[...] to hi[...] when lo and hi are not NULL, else +-sd[...] when sd
 * is not NULL; NAN values are left out), bar labels in the legend. */
typedef struct {
    const char *title, *ylabel;
    double ymin, ymax;  /* fixed y range, or ymin >= ymax for automatic */
    int nrows;
    const char *const *row_labels;
    const double *mean, *sd;
    const double *lo, *hi; /* an interval per bar instead of +-sd (both or neither) */
} PlotBarPanel;

int plot_bars(const char *path, int width, int height, const char *title, int nbars, const char *const *bar_labels, const PlotBarPanel *panels, int npanels, char *err, size_t errlen);

#endif

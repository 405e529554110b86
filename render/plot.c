/* plot.c - cairo learning curves and grouped bar charts (see plot.h). One
 * drawing routine per chart kind renders onto any cairo context; the PNG and
 * SVG writers wrap it in an image or SVG surface on a temporary file that is
 * renamed over the target when complete. Not tuned for speed: a figure is
 * drawn once per experiment. */
#include "plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/atomicfile.h"

static const double PI = 3.14159265358979323846;

/* Tableau 10. */
static const double palette[10][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
    {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
    {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812},
};

typedef struct {
    double x0, y0, w, h;      /* plot area in pixels */
    double xmin, xmax, ymin, ymax;
} Frame;

static double fx(const Frame *f, double x) { return f->x0 + (x - f->xmin) / (f->xmax - f->xmin) * f->w; }
static double fy(const Frame *f, double y) { return f->y0 + f->h - (y - f->ymin) / (f->ymax - f->ymin) * f->h; }

static void set_colour(cairo_t *cr, int i, double alpha)
{
    const double *c = palette[i % 10];
    cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

/* A "nice" tick step giving about `want` ticks over span. */
static double nice_step(double span, int want)
{
    double raw = span / want, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return mag * (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0);
}

static void fmt_tick(char *buf, size_t len, double v, double step)
{
    if (fabs(v) < step * 1e-6)
        v = 0.0;
    if (fabs(v) >= 10000.0 && step >= 1000.0)
        snprintf(buf, len, "%gk", v / 1000.0);
    else
        snprintf(buf, len, "%g", v);
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t te;
    cairo_text_extents(cr, s, &te);
    cairo_move_to(cr, x - ax * te.width - te.x_bearing, y - ay * te.height - te.y_bearing);
    cairo_show_text(cr, s);
}

/* Axes box, grid, ticks, tick labels and axis labels. xticks = 0: no x ticks. */
static void draw_axes(cairo_t *cr, const Frame *f, const char *xlabel, const char *ylabel, int xticks)
{
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1.0);
    double ys = nice_step(f->ymax - f->ymin, 5);
    char buf[64];
    for (double v = ceil(f->ymin / ys - 1e-9) * ys; v <= f->ymax + ys * 1e-6; v += ys) {
        double py = fy(f, v);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->x0, py);
        cairo_line_to(cr, f->x0 + f->w, py);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_move_to(cr, f->x0 - 5, py);
        cairo_line_to(cr, f->x0, py);
        cairo_stroke(cr);
        fmt_tick(buf, sizeof buf, v, ys);
        text_at(cr, buf, f->x0 - 8, py, 1.0, 0.5);
    }
    if (xticks) {
        double xs = nice_step(f->xmax - f->xmin, 8);
        for (double v = ceil(f->xmin / xs - 1e-9) * xs; v <= f->xmax + xs * 1e-6; v += xs) {
            double px = fx(f, v);
            cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            cairo_move_to(cr, px, f->y0);
            cairo_line_to(cr, px, f->y0 + f->h);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
            cairo_move_to(cr, px, f->y0 + f->h);
            cairo_line_to(cr, px, f->y0 + f->h + 5);
            cairo_stroke(cr);
            fmt_tick(buf, sizeof buf, v, xs);
            text_at(cr, buf, px, f->y0 + f->h + 8, 0.5, 0.0);
        }
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_rectangle(cr, f->x0, f->y0, f->w, f->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    if (xlabel)
        text_at(cr, xlabel, f->x0 + f->w / 2, f->y0 + f->h + 26, 0.5, 0.0);
    if (ylabel) {
        cairo_save(cr);
        cairo_translate(cr, f->x0 - 52, f->y0 + f->h / 2);
        cairo_rotate(cr, -PI / 2);
        text_at(cr, ylabel, 0, 0, 0.5, 0.5);
        cairo_restore(cr);
    }
}

/* Legend entries in rows across the top, below the title; returns its height. */
static double draw_legend(cairo_t *cr, int width, double top, const char *const *labels, int n, int bars)
{
    cairo_set_font_size(cr, 12);
    double x = 80, y = top, row_h = 18;
    for (int i = 0; i < n; i++) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, labels[i] ? labels[i] : "", &te);
        double wlen = 26 + te.x_advance + 18;
        if (x + wlen > width - 20 && x > 80) {
            x = 80;
            y += row_h;
        }
        set_colour(cr, i, 1.0);
        if (bars) {
            cairo_rectangle(cr, x, y + 3, 16, 10);
            cairo_fill(cr);
        } else {
            cairo_set_line_width(cr, 2.5);
            cairo_move_to(cr, x, y + 8);
            cairo_line_to(cr, x + 20, y + 8);
            cairo_stroke(cr);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, labels[i] ? labels[i] : "", x + 26, y + 8, 0.0, 0.5);
        x += wlen;
    }
    return y + row_h - top;
}

static void draw_title(cairo_t *cr, int width, const char *title)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 17);
    text_at(cr, title ? title : "", width / 2.0, 12, 0.5, 0.0);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

typedef struct {
    const char *title;
    const PlotPanel *panels;
    int npanels;
    int nbars;
    const char *const *bar_labels;
    const PlotBarPanel *bpanels;
} Figure;

static void draw_curves(cairo_t *cr, int width, int height, const Figure *fig)
{
    draw_title(cr, width, fig->title);
    const PlotPanel *p0 = &fig->panels[0];
    const char *labels[64];
    int nl = p0->nseries < 64 ? p0->nseries : 64;
    for (int i = 0; i < nl; i++)
        labels[i] = p0->series[i].label;
    double top = 40 + draw_legend(cr, width, 40, labels, nl, 0) + 12;
    double gap = 60, bottom = 50;
    double ph = (height - top - bottom - gap * (fig->npanels - 1)) / fig->npanels;
    for (int k = 0; k < fig->npanels; k++) {
        const PlotPanel *p = &fig->panels[k];
        Frame f = {80, top + k * (ph + gap), width - 110, ph, INFINITY, -INFINITY, INFINITY, -INFINITY};
        for (int s = 0; s < p->nseries; s++)
            for (int i = 0; i < p->series[s].n; i++) {
                const PlotSeries *ser = &p->series[s];
                f.xmin = fmin(f.xmin, ser->x[i]);
                f.xmax = fmax(f.xmax, ser->x[i]);
                f.ymin = fmin(f.ymin, ser->lo ? ser->lo[i] : ser->y[i]);
                f.ymax = fmax(f.ymax, ser->hi ? ser->hi[i] : ser->y[i]);
            }
        if (p->ymin < p->ymax) {
            f.ymin = p->ymin;
            f.ymax = p->ymax;
        }
        if (!isfinite(f.xmin)) {
            f.xmin = 0;
            f.xmax = 1;
            f.ymin = 0;
            f.ymax = 1;
        }
        if (f.xmax - f.xmin < 1e-12) {
            f.xmin -= 1;
            f.xmax += 1;
        }
        if (f.ymax - f.ymin < 1e-12) {
            f.ymin -= 0.5;
            f.ymax += 0.5;
        } else if (!(p->ymin < p->ymax)) {
            double pad = 0.05 * (f.ymax - f.ymin);
            f.ymin -= pad;
            f.ymax += pad;
        }
        draw_axes(cr, &f, p->xlabel, p->ylabel, 1);
        cairo_save(cr);
        cairo_rectangle(cr, f.x0, f.y0, f.w, f.h);
        cairo_clip(cr);
        for (int s = 0; s < p->nseries; s++) {
            const PlotSeries *ser = &p->series[s];
            if (ser->n < 1)
                continue;
            if (ser->lo && ser->hi && ser->n > 1) {
                set_colour(cr, s, 0.18);
                cairo_move_to(cr, fx(&f, ser->x[0]), fy(&f, ser->hi[0]));
                for (int i = 1; i < ser->n; i++)
                    cairo_line_to(cr, fx(&f, ser->x[i]), fy(&f, ser->hi[i]));
                for (int i = ser->n - 1; i >= 0; i--)
                    cairo_line_to(cr, fx(&f, ser->x[i]), fy(&f, ser->lo[i]));
                cairo_close_path(cr);
                cairo_fill(cr);
            }
            set_colour(cr, s, 1.0);
            cairo_set_line_width(cr, 2.2);
            cairo_move_to(cr, fx(&f, ser->x[0]), fy(&f, ser->y[0]));
            for (int i = 1; i < ser->n; i++)
                cairo_line_to(cr, fx(&f, ser->x[i]), fy(&f, ser->y[i]));
            cairo_stroke(cr);
            for (int i = 0; i < ser->n; i++) {
                cairo_arc(cr, fx(&f, ser->x[i]), fy(&f, ser->y[i]), 2.8, 0, 2 * PI);
                cairo_fill(cr);
            }
        }
        cairo_restore(cr);
    }
}

/* The error bar of bar i: [lo, hi] from the panel's interval, or mean +- sd;
 * NAN, NAN when the panel has neither. */
static void bar_range(const PlotBarPanel *p, int i, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (p->lo && p->hi) {
        *lo = p->lo[i];
        *hi = p->hi[i];
    } else if (p->sd && !isnan(p->sd[i])) {
        *lo = p->mean[i] - p->sd[i];
        *hi = p->mean[i] + p->sd[i];
    }
}

static void draw_bars(cairo_t *cr, int width, int height, const Figure *fig)
{
    draw_title(cr, width, fig->title);
    double top = 40 + draw_legend(cr, width, 40, fig->bar_labels, fig->nbars, 1) + 30;
    double bottom = 120, gap = 150;
    double ph = (height - top - bottom - gap * (fig->npanels - 1)) / fig->npanels;
    for (int k = 0; k < fig->npanels; k++) {
        const PlotBarPanel *p = &fig->bpanels[k];
        Frame f = {80, top + k * (ph + gap), width - 110, ph, 0, (double)p->nrows, INFINITY, -INFINITY};
        for (int i = 0; i < p->nrows * fig->nbars; i++) {
            if (isnan(p->mean[i]))
                continue;
            double lo, hi;
            bar_range(p, i, &lo, &hi);
            f.ymin = fmin(f.ymin, fmin(0.0, isnan(lo) ? p->mean[i] : lo));
            f.ymax = fmax(f.ymax, isnan(hi) ? p->mean[i] : hi);
        }
        if (p->ymin < p->ymax) {
            f.ymin = p->ymin;
            f.ymax = p->ymax;
        }
        if (!isfinite(f.ymin) || f.ymax - f.ymin < 1e-12) {
            f.ymin = 0;
            f.ymax = 1;
        }
        if (p->nrows < 1)
            f.xmax = 1;
        draw_axes(cr, &f, NULL, p->ylabel, 0);
        cairo_set_font_size(cr, 14);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        text_at(cr, p->title ? p->title : "", f.x0 + f.w / 2, f.y0 - 6, 0.5, 1.0);
        double slot = f.w / (p->nrows > 0 ? p->nrows : 1), bw = slot * 0.8 / fig->nbars;
        for (int r = 0; r < p->nrows; r++) {
            double sx = f.x0 + r * slot + slot * 0.1;
            for (int b = 0; b < fig->nbars; b++) {
                double m = p->mean[r * fig->nbars + b];
                if (isnan(m))
                    continue;
                double y0 = fy(&f, fmax(f.ymin, fmin(0.0, m))), y1 = fy(&f, fmin(f.ymax, fmax(0.0, m)));
                set_colour(cr, b, 0.9);
                cairo_rectangle(cr, sx + b * bw, y1, bw * 0.92, y0 - y1);
                cairo_fill(cr);
                double lo, hi;
                bar_range(p, r * fig->nbars + b, &lo, &hi);
                if (!isnan(lo) && !isnan(hi) && hi > lo) {
                    double cx = sx + b * bw + bw * 0.46, ylo = fy(&f, fmax(f.ymin, lo)), yhi = fy(&f, fmin(f.ymax, hi));
                    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
                    cairo_set_line_width(cr, 1.2);
                    cairo_move_to(cr, cx, ylo);
                    cairo_line_to(cr, cx, yhi);
                    cairo_move_to(cr, cx - bw * 0.2, yhi);
                    cairo_line_to(cr, cx + bw * 0.2, yhi);
                    cairo_move_to(cr, cx - bw * 0.2, ylo);
                    cairo_line_to(cr, cx + bw * 0.2, ylo);
                    cairo_stroke(cr);
                }
            }
            /* row label, rotated so long names fit */
            cairo_save(cr);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_font_size(cr, 11);
            cairo_translate(cr, f.x0 + r * slot + slot / 2, f.y0 + f.h + 6);
            cairo_rotate(cr, -PI / 4);
            text_at(cr, p->row_labels[r] ? p->row_labels[r] : "", 0, 0, 1.0, 0.0);
            cairo_restore(cr);
        }
    }
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* cairo's write callback: appends to the FILE* of an AtomicFile. */
static cairo_status_t plot_write(void *closure, const unsigned char *data, unsigned int length)
{
    return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Renders fig with draw() to path (PNG or SVG) through core/atomicfile. */
static int render(const char *path, int width, int height, const Figure *fig, void (*draw)(cairo_t *, int, int, const Figure *), char *err, size_t errlen)
{
    if (width < 200 || height < 150 || width > 10000 || height > 10000) {
        snprintf(err, errlen, "%s: figure size %dx%d: allowed 200x150 to 10000x10000", path, width, height);
        return -1;
    }
    int svg = has_suffix(path, ".svg");
    if (!svg && !has_suffix(path, ".png")) {
        snprintf(err, errlen, "%s: unknown plot format; allowed: .png, .svg", path);
        return -1;
    }
    AtomicFile *af = atomicfile_open(path, err, errlen);
    if (!af)
        return -1;
    FILE *out = atomicfile_stream(af);
    cairo_surface_t *surf = svg ? cairo_svg_surface_create_for_stream(plot_write, out, width, height) : cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s: cannot create the surface: %s", path, cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        atomicfile_abort(af);
        return -1;
    }
    cairo_t *cr = cairo_create(surf);
    draw(cr, width, height, fig);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS) {
        if (svg) {
            cairo_surface_finish(surf);
            st = cairo_surface_status(surf);
        } else {
            st = cairo_surface_write_to_png_stream(surf, plot_write, out);
        }
    }
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s: cannot write the plot: %s", path, cairo_status_to_string(st));
        atomicfile_abort(af);
        return -1;
    }
    return atomicfile_commit(af, err, errlen);
}

int plot_curves(const char *path, int width, int height, const char *title, const PlotPanel *panels, int npanels, char *err, size_t errlen)
{
    if (npanels < 1) {
        snprintf(err, errlen, "%s: a plot needs at least one panel", path);
        return -1;
    }
    Figure fig = {.title = title, .panels = panels, .npanels = npanels};
    return render(path, width, height, &fig, draw_curves, err, errlen);
}

int plot_bars(const char *path, int width, int height, const char *title, int nbars, const char *const *bar_labels, const PlotBarPanel *panels, int npanels, char *err, size_t errlen)
{
    if (npanels < 1 || nbars < 1) {
        snprintf(err, errlen, "%s: a bar chart needs at least one panel and one bar per group", path);
        return -1;
    }
    Figure fig = {.title = title, .npanels = npanels, .nbars = nbars, .bar_labels = bar_labels, .bpanels = panels};
    return render(path, width, height, &fig, draw_bars, err, errlen);
}

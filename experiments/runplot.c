/* runplot.c - learning curves of training runs (see runplot.h). */
#include "runplot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"
#include "../render/plot.h"
#include "stats.h"

/* One run's curves, as plot series want them. */
typedef struct {
    char label[256];
    EvalCurve eval;
    double *ex;        /* (eval.n) eval steps as doubles */
    int n;             /* training episodes */
    double *tx, *tret; /* (n) step at each episode's end, moving average of the return */
} RunCurves;

static void run_free(RunCurves *r)
{
    compare_curve_free(&r->eval);
    free(r->ex);
    free(r->tx);
    free(r->tret);
}

/* Reads metrics.csv (step,episode,return,...) into r->tx and r->tret, the
 * return averaged over the last RUNPLOT_SMOOTH episodes. */
static int read_metrics(const char *path, RunCurves *r, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errmsg_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char line[1024];
    if (!fgets(line, sizeof line, f) || strncmp(line, "step,episode,return", 19) != 0) {
        fclose(f);
        return errmsg_set(err, errlen, "%s:1: not a metrics.csv; expected the header step,episode,return,...", path);
    }
    int cap = 0, lineno = 1;
    double window[RUNPLOT_SMOOTH], sum = 0.0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line, *end;
        double step = strtod(p, &end);
        int ok = end != p && *end == ',';
        if (ok) {
            strtod(end + 1, &p);
            ok = *p == ',';
        }
        double ret = ok ? strtod(p + 1, &end) : 0.0;
        if (!ok || end == p + 1 || (r->n > 0 && step < r->tx[r->n - 1])) {
            fclose(f);
            return errmsg_set(err, errlen, "%s:%d: malformed row; expected non-decreasing step, episode, return, ...", path, lineno);
        }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 256;
            double *nx = realloc(r->tx, (size_t)cap * sizeof *nx);
            if (nx)
                r->tx = nx;
            double *nr = realloc(r->tret, (size_t)cap * sizeof *nr);
            if (nr)
                r->tret = nr;
            if (!nx || !nr) {
                fclose(f);
                return errmsg_set(err, errlen, "%s: out of memory", path);
            }
        }
        int k = r->n % RUNPLOT_SMOOTH;
        if (r->n >= RUNPLOT_SMOOTH)
            sum -= window[k];
        window[k] = ret;
        sum += ret;
        r->tx[r->n] = step;
        r->tret[r->n] = sum / (double)(r->n < RUNPLOT_SMOOTH ? r->n + 1 : RUNPLOT_SMOOTH);
        r->n++;
    }
    fclose(f);
    return 0;
}

static int read_run(const char *dir, RunCurves *r, char *err, size_t errlen)
{
    char path[2048];
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    const char *base = dir + len;
    while (base > dir && base[-1] != '/')
        base--;
    snprintf(r->label, sizeof r->label, "%.*s", (int)(dir + len - base), base);
    snprintf(path, sizeof path, "%.*s/eval.csv", (int)len, dir);
    if (compare_read_eval(path, &r->eval, err, errlen) != 0)
        return -1;
    r->ex = malloc((size_t)r->eval.n * sizeof *r->ex);
    if (!r->ex)
        return errmsg_set(err, errlen, "%s: out of memory", path);
    for (int i = 0; i < r->eval.n; i++)
        r->ex[i] = (double)r->eval.step[i];
    snprintf(path, sizeof path, "%.*s/metrics.csv", (int)len, dir);
    return read_metrics(path, r, err, errlen);
}

int runplot_write(const char *const *dirs, int ndirs, const char *out, char *err, size_t errlen)
{
    if (ndirs < 1)
        return errmsg_set(err, errlen, "no run directory given");
    RunCurves *r = calloc((size_t)ndirs, sizeof *r);
    PlotSeries *ss = calloc((size_t)ndirs * 3, sizeof *ss);
    int rc = -1;
    if (!r || !ss) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < ndirs; i++)
        if (read_run(dirs[i], &r[i], err, errlen) != 0)
            goto done;
    for (int i = 0; i < ndirs; i++) {
        ss[i] = (PlotSeries){r[i].label, r[i].eval.n, r[i].ex, r[i].eval.success, NULL, NULL};
        ss[ndirs + i] = (PlotSeries){r[i].label, r[i].eval.n, r[i].ex, r[i].eval.ret, NULL, NULL};
        ss[2 * ndirs + i] = (PlotSeries){r[i].label, r[i].n, r[i].tx, r[i].tret, NULL, NULL};
    }
    char ylabel[64];
    snprintf(ylabel, sizeof ylabel, "return (training, last %d episodes)", RUNPLOT_SMOOTH);
    PlotPanel panels[3] = {
        {"env steps", "success (greedy eval)", 0.0, 1.0, ndirs, ss},
        {"env steps", "return (greedy eval)", 0.0, 0.0, ndirs, ss + ndirs},
        {"env steps", ylabel, 0.0, 0.0, ndirs, ss + 2 * ndirs},
    };
    char title[300];
    snprintf(title, sizeof title, ndirs == 1 ? "%s: learning curves" : "%s and %d more: learning curves", r[0].label, ndirs - 1);
    rc = plot_curves(out, PLOT_W, PLOT_H, title, panels, 3, err, errlen);
done:
    for (int i = 0; r && i < ndirs; i++)
        run_free(&r[i]);
    free(r);
    free(ss);
    return rc;
}

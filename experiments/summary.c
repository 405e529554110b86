/* summary.c - the summary of a compare output directory over seeds (see
 * summary.h): summary.csv, summary.md, curves.png and curves.svg. */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/errmsg.h"
#include "../render/plot.h"
#include "plan.h"
#include "rundir.h"

static void variant_summary_free(VariantSummary *v)
{
    free(v->x);
    free(v->s_mean);
    free(v->s_lo);
    free(v->s_hi);
    free(v->r_mean);
    free(v->r_lo);
    free(v->r_hi);
}

void compare_summary_free(CompareSummary *sum)
{
    if (!sum || !sum->v)
        return;
    for (int i = 0; i < sum->nvariants; i++)
        variant_summary_free(&sum->v[i]);
    free(sum->v);
    sum->v = NULL;
}

/* Summary of one variant from its curves. */
static int summarize_variant(VariantSummary *vs, const EvalCurve *c, int n, double threshold)
{
    double fs[CMP_MAX_SEEDS], fr[CMP_MAX_SEEDS], st[CMP_MAX_SEEDS], au[CMP_MAX_SEEDS], fw[CMP_MAX_SEEDS];
    int nw = 0;
    vs->nruns = n;
    vs->never = 0;
    vs->max_steps = 0;
    int np = n > 0 ? c[0].n : 0;
    for (int k = 0; k < n; k++) {
        fs[k] = c[k].success[c[k].n - 1];
        fr[k] = c[k].ret[c[k].n - 1];
        if (c[k].w_pretrain)
            fw[nw++] = c[k].w_pretrain[c[k].n - 1];
        long t = compare_steps_to_threshold(&c[k], threshold);
        long total = c[k].step[c[k].n - 1];
        if (total > vs->max_steps)
            vs->max_steps = total;
        if (t < 0) {
            vs->never++;
            t = total;
        }
        st[k] = (double)t;
        au[k] = compare_auc(c[k].step, c[k].success, c[k].n);
        if (c[k].n < np)
            np = c[k].n;
    }
    vs->success = compare_stat(fs, n, CMP_BOOTSTRAP, CMP_BOOTSTRAP_SEED);
    vs->ret = compare_stat(fr, n, CMP_BOOTSTRAP, CMP_BOOTSTRAP_SEED);
    vs->steps = compare_stat(st, n, CMP_BOOTSTRAP, CMP_BOOTSTRAP_SEED);
    vs->auc = compare_stat(au, n, CMP_BOOTSTRAP, CMP_BOOTSTRAP_SEED);
    vs->w_pretrain = compare_stat(fw, nw == n ? n : 0, CMP_BOOTSTRAP, CMP_BOOTSTRAP_SEED);
    vs->npoints = np;
    if (np == 0)
        return 0;
    double **arrs[] = {&vs->x, &vs->s_mean, &vs->s_lo, &vs->s_hi, &vs->r_mean, &vs->r_lo, &vs->r_hi};
    for (int i = 0; i < 7; i++)
        if (!(*arrs[i] = malloc((size_t)np * sizeof(double))))
            return -1;
    for (int i = 0; i < np; i++) {
        vs->x[i] = (double)c[0].step[i];
        double ss = 0, sr = 0, slo = INFINITY, shi = -INFINITY, rlo = INFINITY, rhi = -INFINITY;
        for (int k = 0; k < n; k++) {
            ss += c[k].success[i];
            sr += c[k].ret[i];
            slo = fmin(slo, c[k].success[i]);
            shi = fmax(shi, c[k].success[i]);
            rlo = fmin(rlo, c[k].ret[i]);
            rhi = fmax(rhi, c[k].ret[i]);
        }
        vs->s_mean[i] = ss / n;
        vs->r_mean[i] = sr / n;
        vs->s_lo[i] = slo;
        vs->s_hi[i] = shi;
        vs->r_lo[i] = rlo;
        vs->r_hi[i] = rhi;
    }
    return 0;
}

int compare_summarize(const CompareSpec *s, CompareSummary *sum, FILE *log, char *err, size_t errlen)
{
    memset(sum, 0, sizeof *sum);
    sum->threshold = s->threshold;
    snprintf(sum->name, sizeof sum->name, "%s", s->name);
    sum->v = calloc((size_t)s->nvariants, sizeof *sum->v);
    if (!sum->v) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    sum->nvariants = s->nvariants;
    int found = 0;
    char dir[CMP_PATH * 2], path[CMP_PATH * 2 + 16];
    for (int v = 0; v < s->nvariants; v++) {
        EvalCurve c[CMP_MAX_SEEDS];
        int n = 0;
        VariantSummary *vs = &sum->v[v];
        snprintf(vs->name, sizeof vs->name, "%s", s->variants[v].name);
        for (int k = 0; k < s->nseeds; k++) {
            compare_run_dir(s, v, s->seeds[k], dir, sizeof dir);
            if (compare_run_state(dir) != RUN_DONE) {
                if (log)
                    fprintf(log, "equigrid compare: %s: not finished (no done marker); left out of the summary\n", dir);
                continue;
            }
            snprintf(path, sizeof path, "%s/eval.csv", dir);
            if (compare_read_eval(path, &c[n], err, errlen) != 0) {
                for (int j = 0; j < n; j++)
                    compare_curve_free(&c[j]);
                compare_summary_free(sum);
                return -1;
            }
            n++;
        }
        int rc = summarize_variant(vs, c, n, s->threshold);
        for (int j = 0; j < n; j++)
            compare_curve_free(&c[j]);
        if (rc != 0) {
            errmsg_set(err, errlen, "out of memory");
            compare_summary_free(sum);
            return -1;
        }
        found += n;
    }
    if (found == 0) {
        errmsg_set(err, errlen, "%s: no finished run under %s; nothing to summarize", s->path, s->out);
        compare_summary_free(sum);
        return -1;
    }
    return 0;
}

static void md_stat(Buf *b, Stat st, const char *f)
{
    if (st.n == 0) {
        buf_printf(b, " – |");
        return;
    }
    char m[64], sd[64], lo[64], hi[64];
    snprintf(m, sizeof m, f, st.mean);
    snprintf(sd, sizeof sd, f, st.std);
    snprintf(lo, sizeof lo, f, st.lo);
    snprintf(hi, sizeof hi, f, st.hi);
    buf_printf(b, " %s ± %s [%s, %s] |", m, sd, lo, hi);
}

int compare_write_summary(const CompareSummary *sum, const char *out, char *err, size_t errlen)
{
    Buf csv = {0}, md = {0};
    buf_printf(&csv, "variant,runs,success_mean,success_std,success_lo,success_hi,return_mean,return_std,return_lo,return_hi,"
                  "steps_to_threshold_mean,steps_to_threshold_std,steps_to_threshold_lo,steps_to_threshold_hi,never_reached,auc_mean,auc_std,auc_lo,auc_hi,threshold\n");
    buf_printf(&md, "# %s\n\nPer variant over seeds: mean ± sample std [95 %% percentile bootstrap interval of the mean, %d resamples]. "
                 "Final = last evaluation (greedy). Steps to %.2f success: runs that never reach it count as their total steps (≥). "
                 "AUC: area under the success curve over the evaluated steps, normalised to [0, 1].\n\n"
                 "| variant | runs | final success | final return | steps to %.2f success | AUC (success) |\n|---|---|---|---|---|---|\n",
            sum->name, CMP_BOOTSTRAP, sum->threshold, sum->threshold);
    for (int i = 0; i < sum->nvariants; i++) {
        const VariantSummary *v = &sum->v[i];
        const Stat *sts[] = {&v->success, &v->ret, &v->steps, &v->auc};
        buf_printf(&csv, "%s,%d", v->name, v->nruns);
        for (int k = 0; k < 4; k++) {
            if (v->nruns == 0)
                buf_printf(&csv, ",,,,");
            else
                buf_printf(&csv, ",%.6g,%.6g,%.6g,%.6g", sts[k]->mean, sts[k]->std, sts[k]->lo, sts[k]->hi);
            if (k == 2)
                buf_printf(&csv, ",%d", v->never);
        }
        buf_printf(&csv, ",%g\n", sum->threshold);
        buf_printf(&md, "| %s | %d |", v->name, v->nruns);
        md_stat(&md, v->success, "%.3f");
        md_stat(&md, v->ret, "%.3f");
        if (v->nruns > 0 && v->never > 0) {
            buf_printf(&md, " ≥");
            md_stat(&md, v->steps, "%.0f");
            md.n -= 2; /* drop " |" to append the count */
            md.p[md.n] = '\0';
            buf_printf(&md, " (%d/%d never) |", v->never, v->nruns);
        } else {
            md_stat(&md, v->steps, "%.0f");
        }
        md_stat(&md, v->auc, "%.3f");
        buf_printf(&md, "\n");
    }
    buf_printf(&md, "\n![curves](curves.png)\n\ncurves.png / curves.svg (%dx%d): success and return of the greedy evaluations against env steps; line = mean over seeds, band = min–max over seeds.\n", PLOT_W, PLOT_H);
    int rc = -1;
    char path[CMP_PATH * 2];
    if (csv.oom || md.oom) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/summary.csv", out);
    if (atomicfile_write(path, csv.p, csv.n, err, errlen) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/summary.md", out);
    if (atomicfile_write(path, md.p, md.n, err, errlen) != 0)
        goto done;
    PlotSeries *ss = calloc((size_t)sum->nvariants * 2 + 1, sizeof *ss);
    if (!ss) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < sum->nvariants; i++) {
        const VariantSummary *v = &sum->v[i];
        ss[i] = (PlotSeries){v->name, v->npoints, v->x, v->s_mean, v->s_lo, v->s_hi};
        ss[sum->nvariants + i] = (PlotSeries){v->name, v->npoints, v->x, v->r_mean, v->r_lo, v->r_hi};
    }
    PlotPanel panels[2] = {
        {"env steps", "success (greedy eval)", 0.0, 1.0, sum->nvariants, ss},
        {"env steps", "return (greedy eval)", 0.0, 0.0, sum->nvariants, ss + sum->nvariants},
    };
    char title[CFG_STR + 64];
    snprintf(title, sizeof title, "%s: mean over seeds, band = min–max", sum->name);
    rc = 0;
    const char *ext[] = {"png", "svg"};
    for (int k = 0; k < 2 && rc == 0; k++) {
        snprintf(path, sizeof path, "%s/curves.%s", out, ext[k]);
        rc = plot_curves(path, PLOT_W, PLOT_H, title, panels, 2, err, errlen);
    }
    free(ss);
done:
    free(csv.p);
    free(md.p);
    return rc;
}

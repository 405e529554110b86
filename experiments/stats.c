/* stats.c - statistics over seeds (see stats.h): eval.csv curves, area
 * under a curve, steps to a threshold, and mean / sample std / percentile
 * bootstrap interval with an explicit RNG seed. */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"
#include "../core/rng.h"

void compare_curve_free(EvalCurve *c)
{
    if (!c)
        return;
    free(c->step);
    free(c->ret);
    free(c->success);
    free(c->w_pretrain);
    memset(c, 0, sizeof *c);
}

int compare_read_eval(const char *path, EvalCurve *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f) {
        errmsg_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, cap = 0;
    if (!fgets(line, sizeof line, f) || strncmp(line, "step,return_mean,return_std,success", 35) != 0) {
        errmsg_set(err, errlen, "%s:1: not an eval.csv; expected the header step,return_mean,return_std,success,length_mean,episodes", path);
        fclose(f);
        return -1;
    }
    lineno = 1;
    int has_w = strstr(line, ",episodes,w_pretrain") != NULL, ncols = has_w ? 7 : 4;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        char *p = line, *end;
        double v[7];
        int ok = 1;
        for (int k = 0; k < ncols && ok; k++) {
            v[k] = strtod(p, &end);
            if (end == p || (*end != ',' && *end != '\n' && *end != '\0'))
                ok = 0;
            p = *end == ',' ? end + 1 : end;
        }
        if (!ok || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[3]) || v[3] < 0 || v[3] > 1 || (c->n > 0 && (long)v[0] <= c->step[c->n - 1]) ||
            (has_w && !(v[6] >= 0 && v[6] <= 1))) {
            errmsg_set(err, errlen, "%s:%d: malformed row; expected increasing step, then return_mean, return_std, success in [0, 1]%s", path, lineno,
                       has_w ? ", length_mean, episodes, w_pretrain in [0, 1]" : "");
            fclose(f);
            compare_curve_free(c);
            return -1;
        }
        if (c->n == cap) {
            cap = cap ? cap * 2 : 16;
            long *ns = realloc(c->step, (size_t)cap * sizeof *ns);
            if (ns)
                c->step = ns;
            double *nr = realloc(c->ret, (size_t)cap * sizeof *nr);
            if (nr)
                c->ret = nr;
            double *nsu = realloc(c->success, (size_t)cap * sizeof *nsu);
            if (nsu)
                c->success = nsu;
            double *nw = has_w ? realloc(c->w_pretrain, (size_t)cap * sizeof *nw) : NULL;
            if (nw)
                c->w_pretrain = nw;
            if (!ns || !nr || !nsu || (has_w && !nw)) {
                errmsg_set(err, errlen, "%s: out of memory", path);
                fclose(f);
                compare_curve_free(c);
                return -1;
            }
        }
        c->step[c->n] = (long)v[0];
        c->ret[c->n] = v[1];
        c->success[c->n] = v[3];
        if (has_w)
            c->w_pretrain[c->n] = v[6];
        c->n++;
    }
    fclose(f);
    if (c->n == 0) {
        errmsg_set(err, errlen, "%s: no evaluation rows", path);
        compare_curve_free(c);
        return -1;
    }
    return 0;
}

double compare_auc(const long *step, const double *y, int n)
{
    if (n < 1)
        return NAN;
    if (n == 1 || step[n - 1] == step[0])
        return y[n - 1];
    double a = 0;
    for (int i = 1; i < n; i++)
        a += 0.5 * (y[i] + y[i - 1]) * (double)(step[i] - step[i - 1]);
    return a / (double)(step[n - 1] - step[0]);
}

long compare_steps_to_threshold(const EvalCurve *c, double threshold)
{
    for (int i = 0; i < c->n; i++)
        if (c->success[i] >= threshold)
            return c->step[i];
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, int n, double p)
{
    double pos = p * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return sorted[n - 1];
    return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

Stat compare_stat(const double *x, int n, int resamples, uint64_t seed)
{
    Stat st = {n, NAN, NAN, NAN, NAN};
    if (n < 1)
        return st;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += x[i];
    st.mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (x[i] - st.mean) * (x[i] - st.mean);
    st.std = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    double *means = resamples > 0 ? malloc((size_t)resamples * sizeof *means) : NULL;
    if (!means || n == 1) {
        free(means);
        st.lo = st.hi = st.mean;
        return st;
    }
    Rng r;
    rng_seed(&r, seed, 0x626f6f74u);
    for (int b = 0; b < resamples; b++) {
        double m = 0;
        for (int i = 0; i < n; i++)
            m += x[rng_below(&r, (uint32_t)n)];
        means[b] = m / n;
    }
    qsort(means, (size_t)resamples, sizeof *means, cmp_double);
    st.lo = percentile(means, resamples, 0.025);
    st.hi = percentile(means, resamples, 0.975);
    free(means);
    return st;
}

/* transfer.c - the transfer experiment (see transfer.h): the spec reader,
 * the planner that turns a spec into three compare stages, and the report
 * over the stage summaries. */
#include "transfer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/errmsg.h"
#include "../core/file.h"
#include "../configs/inifile.h"
#include "../render/plot.h"

static const char *const stage_names[TRANSFER_STAGES] = {"pretrain", "zeroshot", "finetune"};

/* ---- the spec ---- */

static int split_list(const char *val, char out[][32], int *n)
{
    char buf[CFG_STR];
    snprintf(buf, sizeof buf, "%s", val);
    *n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *t = compare_trim(tok);
        if (!*t || *n >= TR_MAX_LIST || strlen(t) >= 32)
            return -1;
        snprintf(out[(*n)++], 32, "%s", t);
    }
    return *n > 0 ? 0 : -1;
}

static int add_set(char list[][CFG_STR], int *n, const char *val)
{
    if (*n >= TR_MAX_SETS || strlen(val) >= CFG_STR || !strchr(val, '='))
        return -1;
    snprintf(list[(*n)++], CFG_STR, "%s", val);
    return 0;
}

/* The reader's state between lines. */
typedef struct {
    TransferSpec *t;
    TransferEnv *env; /* the current [env NAME], NULL in [transfer] */
    char sec[16];     /* "", "transfer" or "env" */
    int have_out;
} TransferParse;

static const char TRANSFER_KEYS[] = "name, seeds, out, jobs, methods, groups, lambda_steps, finetune_steps, set, lambda_set, finetune_set, scratch_set";

/* A section header's name (without brackets) on line lineno. */
static int transfer_section(TransferParse *p, char *nm, int lineno, char *what, size_t wl)
{
    TransferSpec *t = p->t;
    if (strcmp(nm, "transfer") == 0) {
        snprintf(p->sec, sizeof p->sec, "transfer");
        return 0;
    }
    if (strncmp(nm, "env ", 4) == 0 && t->nenvs < TR_MAX_ENVS) {
        TransferEnv *env = &t->envs[t->nenvs++];
        snprintf(env->name, sizeof env->name, "%s", compare_trim(nm + 4));
        env->line = lineno;
        for (int i = 0; i < t->nenvs - 1; i++)
            if (strcmp(t->envs[i].name, env->name) == 0)
                return errmsg_set(what, wl, "[env %s]: duplicate env name (first at line %d)", env->name, t->envs[i].line);
        p->env = env;
        snprintf(p->sec, sizeof p->sec, "env");
        return 0;
    }
    return errmsg_set(what, wl, "[%s]: unknown section; allowed: [transfer], [env NAME] (at most %d)", nm, TR_MAX_ENVS);
}

/* A key of [transfer]: 0, 1 (bad value) or -1 (message in what). */
static int transfer_key(TransferParse *p, const char *key, const char *val, char *what, size_t wl)
{
    TransferSpec *t = p->t;
    char *end, why[256];
    if (strcmp(key, "name") == 0) {
        snprintf(t->name, sizeof t->name, "%s", val);
        return strlen(val) >= sizeof t->name;
    }
    if (strcmp(key, "seeds") == 0) {
        int n = compare_parse_seeds(val, t->seeds, why, sizeof why);
        if (n < 0)
            return errmsg_set(what, wl, "[transfer] seeds = %s: %s", val, why);
        t->nseeds = n;
        return 0;
    }
    if (strcmp(key, "out") == 0) {
        snprintf(t->out, sizeof t->out, "%s", val);
        p->have_out = 1;
        return !*val || strlen(val) >= sizeof t->out;
    }
    if (strcmp(key, "jobs") == 0) {
        t->jobs = (int)strtol(val, &end, 10);
        return *end || t->jobs < 0;
    }
    if (strcmp(key, "lambda_steps") == 0) {
        t->lambda_steps = strtol(val, &end, 10);
        return *end || t->lambda_steps < 0;
    }
    if (strcmp(key, "finetune_steps") == 0) {
        t->finetune_steps = strtol(val, &end, 10);
        return *end || t->finetune_steps < 1;
    }
    if (strcmp(key, "methods") == 0) {
        int bad = split_list(val, t->methods, &t->nmethods);
        for (int i = 0; !bad && i < t->nmethods; i++)
            bad = strcmp(t->methods[i], "equitune") && strcmp(t->methods[i], "equizero") && strcmp(t->methods[i], "lambda");
        return bad != 0;
    }
    if (strcmp(key, "groups") == 0)
        return split_list(val, t->groups, &t->ngroups) != 0;
    if (strcmp(key, "set") == 0)
        return add_set(t->all, &t->nall, val) != 0;
    if (strcmp(key, "lambda_set") == 0)
        return add_set(t->lambda, &t->nlambda, val) != 0;
    if (strcmp(key, "finetune_set") == 0)
        return add_set(t->ft, &t->nft, val) != 0;
    if (strcmp(key, "scratch_set") == 0)
        return add_set(t->scratch, &t->nscratch, val) != 0;
    return errmsg_set(what, wl, "[transfer] %s: unknown key; allowed: %s", key, TRANSFER_KEYS);
}

/* A key of [env NAME]: 0, 1 (bad value) or -1 (message in what). */
static int env_key(TransferParse *p, const char *key, const char *val, char *what, size_t wl)
{
    TransferEnv *env = p->env;
    if (strcmp(key, "config") == 0) {
        snprintf(env->config, sizeof env->config, "%s", val);
        return 0;
    }
    if (strcmp(key, "set") == 0)
        return add_set(env->sets, &env->nsets, val) != 0;
    return errmsg_set(what, wl, "[env %s] %s: unknown key; allowed: config, set", env->name, key);
}

/* After the last line: every env has a config; defaults for the rest. */
static int transfer_finish(TransferParse *p, char *err, size_t errlen)
{
    TransferSpec *t = p->t;
    if (t->nenvs == 0)
        return errmsg_set(err, errlen, "%s: no [env NAME] section", t->path);
    for (int i = 0; i < t->nenvs; i++)
        if (!t->envs[i].config[0])
            return errmsg_at(err, errlen, t->path, t->envs[i].line, "[env %s]: no config = PATH", t->envs[i].name);
    if (!t->nmethods)
        split_list("equitune,equizero,lambda", t->methods, &t->nmethods);
    if (!t->ngroups)
        split_list("d4,rot90,flip", t->groups, &t->ngroups);
    if (!p->have_out)
        snprintf(t->out, sizeof t->out, "runs/transfer-%s", t->name);
    return 0;
}

/* inifile's line check: section headers, and keys only as "key = value"
 * inside a section. */
static int transfer_line(void *user, const char *text, int line, char *what, size_t wl)
{
    TransferParse *p = user;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    char *s = compare_clean_line(buf);
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close)
            return errmsg_set(what, wl, "%s: section header without ']'; allowed: [transfer], [env NAME]", s);
        *close = '\0';
        return transfer_section(p, compare_trim(s + 1), line, what, wl);
    }
    const char *sep = s + strcspn(s, "=:");
    if (*sep != '=' || !p->sec[0])
        return errmsg_set(what, wl, "%s: expected 'key = value' inside [transfer] or [env NAME]", s);
    return 0;
}

/* inifile's pair callback ("key = value" on line). */
static int transfer_pair(void *user, const char *section, const char *key, const char *val, int line, char *what, size_t wl)
{
    TransferParse *p = user;
    (void)section, (void)line; /* the section as transfer_line saw it is p->sec */
    int rc = strcmp(p->sec, "transfer") == 0 ? transfer_key(p, key, val, what, wl) : env_key(p, key, val, what, wl);
    if (rc > 0)
        return errmsg_set(what, wl,
                          "%s = %s: invalid value (methods: equitune,equizero,lambda; groups: comma-separated group names; steps: non-negative integers; set: section.key=value, at most %d)",
                          key, val, TR_MAX_SETS);
    return rc;
}

int transfer_load(TransferSpec *t, const char *path, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->nseeds = 5;
    for (int i = 0; i < 5; i++)
        t->seeds[i] = (uint64_t)i + 1;
    snprintf(t->name, sizeof t->name, "transfer");
    t->lambda_steps = 5000;
    t->finetune_steps = 10000;
    FILE *f = file_open_read(path, err, errlen);
    if (!f)
        return -1;
    TransferParse p = {.t = t};
    IniSource src = {.name = path, .f = f, .line = transfer_line, .pair = transfer_pair, .user = &p};
    int rc = inifile_parse(&src, err, errlen);
    fclose(f);
    return rc == 0 ? transfer_finish(&p, err, errlen) : -1;
}

/* ---- the stages ---- */

/* Adds "key=value" built with printf to v; returns -1 with err. */
static int vset(CompareVariant *v, char *err, size_t errlen, const char *f, const char *a)
{
    char buf[CFG_STR];
    snprintf(buf, sizeof buf, f, a);
    return compare_variant_add_set(v, buf, 0, err, errlen);
}

static int vsets(CompareVariant *v, const char list[][CFG_STR], int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        if (compare_variant_add_set(v, list[i], 0, err, errlen) != 0)
            return -1;
    return 0;
}

/* The overrides that make a variant of stage: orientation, symmetrizer,
 * the pretrained network, step budget and the stage's own overrides. */
static int stage_sets(const TransferSpec *t, TransferStage stage, const TransferEnv *env, CompareVariant *v, const char *method, const char *group, int scratch, char *why, size_t wl)
{
    char init[CMP_PATH + 96], num[32];
    if (vsets(v, env->sets, env->nsets, why, wl) != 0 || vsets(v, t->all, t->nall, why, wl) != 0)
        return -1;
    if (vset(v, why, wl, "env.orientation=%s", stage == TRANSFER_PRETRAIN ? "identity" : "random") != 0 || vset(v, why, wl, "symmetry.method=%s", method) != 0 ||
        vset(v, why, wl, "symmetry.group=%s", group) != 0)
        return -1;
    if (stage == TRANSFER_PRETRAIN)
        return 0;
    snprintf(init, sizeof init, "network.init=%s/pretrain/%s-plain/seed-{seed}/checkpoint.safetensors", t->out, env->name);
    if (!scratch && compare_variant_add_set(v, init, 0, why, wl) != 0)
        return -1;
    if (stage == TRANSFER_ZEROSHOT) {
        int fit = strcmp(method, "lambda") == 0 && t->lambda_steps > 0;
        snprintf(num, sizeof num, "%ld", fit ? t->lambda_steps : 0L);
        if (vset(v, why, wl, "train.steps=%s", num) != 0 || vset(v, why, wl, "eval.eval_every=%s", "0") != 0)
            return -1;
        if (fit && (vset(v, why, wl, "train.freeze_q=%s", "true") != 0 || vsets(v, t->lambda, t->nlambda, why, wl) != 0))
            return -1;
        return 0;
    }
    snprintf(num, sizeof num, "%ld", t->finetune_steps);
    if (vset(v, why, wl, "train.steps=%s", num) != 0)
        return -1;
    return vsets(v, scratch ? t->scratch : t->ft, scratch ? t->nscratch : t->nft, why, wl);
}

/* The variants of one env in stage: plain, then methods x groups, then
 * (fine-tune only) scratch; pretraining has plain only. */
static int stage_env(const TransferSpec *t, TransferStage stage, const TransferEnv *env, CompareSpec *s, char *err, size_t errlen)
{
    int rows = stage == TRANSFER_PRETRAIN ? 1 : 1 + t->nmethods * t->ngroups + (stage == TRANSFER_FINETUNE);
    char vn[CFG_STR], why[256];
    for (int r = 0; r < rows; r++) {
        const char *method = "none", *group = "trivial";
        int scratch = stage == TRANSFER_FINETUNE && r == rows - 1;
        if (r >= 1 && !scratch) {
            method = t->methods[(r - 1) / t->ngroups];
            group = t->groups[(r - 1) % t->ngroups];
            snprintf(vn, sizeof vn, "%s-%s-%s", env->name, method, group);
        } else {
            snprintf(vn, sizeof vn, "%s-%s", env->name, scratch ? "scratch" : "plain");
        }
        CompareVariant *v = compare_spec_add_variant(s, vn, env->config, 0, err, errlen);
        if (!v)
            return -1;
        if (stage_sets(t, stage, env, v, method, group, scratch, why, sizeof why) != 0)
            return errmsg_set(err, errlen, "%s: %s", t->path, why);
    }
    return 0;
}

CompareSpec *transfer_stage(const TransferSpec *t, TransferStage stage, char *err, size_t errlen)
{
    char label[CMP_PATH + 32];
    snprintf(label, sizeof label, "%s (stage %s)", t->path, stage_names[stage]);
    CompareSpec *s = compare_spec_new(label);
    if (!s) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->name, sizeof s->name, "%s-%s", t->name, stage_names[stage]);
    snprintf(s->out, sizeof s->out, "%s/%s", t->out, stage_names[stage]);
    memcpy(s->seeds, t->seeds, sizeof s->seeds);
    s->nseeds = t->nseeds;
    int rc = 0;
    for (int e = 0; e < t->nenvs && rc == 0; e++)
        rc = stage_env(t, stage, &t->envs[e], s, err, errlen);
    if (rc != 0) {
        compare_spec_free(s);
        return NULL;
    }
    return s;
}

static void stage_seconds_path(const CompareSpec *stage, char *path, size_t len)
{
    snprintf(path, len, "%s/seconds.txt", stage->out);
}

double transfer_stage_seconds(const CompareSpec *stage)
{
    char path[CMP_PATH + 32];
    double secs = -1;
    stage_seconds_path(stage, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%lf", &secs) != 1)
            secs = 0;
        fclose(f);
    }
    return secs;
}

int transfer_stage_seconds_write(const CompareSpec *stage, double secs, char *err, size_t errlen)
{
    char path[CMP_PATH + 32], text[64];
    stage_seconds_path(stage, path, sizeof path);
    snprintf(text, sizeof text, "%.1f\n", secs);
    return atomicfile_write(path, text, strlen(text), err, errlen);
}

/* ---- the report ---- */

static const VariantSummary *find_variant(const CompareSummary *sum, const char *name)
{
    for (int i = 0; i < sum->nvariants; i++)
        if (strcmp(sum->v[i].name, name) == 0 && sum->v[i].nruns > 0)
            return &sum->v[i];
    return NULL;
}

static void cell(char *buf, size_t len, const VariantSummary *v, int ret)
{
    if (!v)
        snprintf(buf, len, "–");
    else if (ret)
        snprintf(buf, len, "%.3f ± %.3f", v->ret.mean, v->ret.std);
    else
        snprintf(buf, len, "%.2f ± %.2f", v->success.mean, v->success.std);
}

/* One row of the report: what it shows and its zero-shot and fine-tuned
 * summaries (NULL where the row has none). */
typedef struct {
    const char *method, *group; /* as the table shows them */
    const char *csv_method, *csv_group;
    char label[64];             /* bar chart label */
    const VariantSummary *zs, *ft;
} ReportRow;

/* Row r of env: 0 pretrained, 1 plain, 2 scratch, then methods x groups. */
static void report_row(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const char *env, int r, ReportRow *row)
{
    char vn[CFG_STR];
    memset(row, 0, sizeof *row);
    row->group = row->csv_group = "–";
    if (r == 0) {
        snprintf(vn, sizeof vn, "%s-plain", env);
        row->zs = find_variant(&sums[TRANSFER_PRETRAIN], vn);
        row->method = "pretrained (identity orientation)";
        row->csv_method = "pretrained";
        snprintf(row->label, sizeof row->label, "pretrained, identity");
    } else if (r == 1) {
        snprintf(vn, sizeof vn, "%s-plain", env);
        row->zs = find_variant(&sums[TRANSFER_ZEROSHOT], vn);
        row->ft = find_variant(&sums[TRANSFER_FINETUNE], vn);
        row->method = row->csv_method = "none";
        snprintf(row->label, sizeof row->label, "none");
    } else if (r == 2) {
        snprintf(vn, sizeof vn, "%s-scratch", env);
        row->ft = find_variant(&sums[TRANSFER_FINETUNE], vn);
        row->method = "scratch (random init, none)";
        row->csv_method = "scratch";
        snprintf(row->label, sizeof row->label, "scratch");
    } else {
        row->method = row->csv_method = t->methods[(r - 3) / t->ngroups];
        row->group = row->csv_group = t->groups[(r - 3) % t->ngroups];
        snprintf(vn, sizeof vn, "%s-%s-%s", env, row->method, row->group);
        row->zs = find_variant(&sums[TRANSFER_ZEROSHOT], vn);
        row->ft = find_variant(&sums[TRANSFER_FINETUNE], vn);
        snprintf(row->label, sizeof row->label, "%s %s", row->method, row->group);
    }
    if (r < 3)
        row->csv_group = "trivial";
}

/* The table rows of one env into md and csv; success means and stds into
 * mean[r*2+q] and sd[r*2+q] (q 0 zero-shot, 1 fine-tuned; NAN if absent). */
static void report_env(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const char *env, int rows, char (*labels)[64], Buf *md, Buf *csv, double *mean, double *sd)
{
    char a[64], b[64], c[64], d[64];
    for (int r = 0; r < rows; r++) {
        ReportRow row;
        report_row(t, sums, env, r, &row);
        snprintf(labels[r], 64, "%s", row.label);
        cell(a, sizeof a, row.zs, 0);
        cell(b, sizeof b, row.zs, 1);
        cell(c, sizeof c, row.ft, 0);
        cell(d, sizeof d, row.ft, 1);
        buf_printf(md, "| %s | %s | %s | %s | %s | %s | %s |\n", env, row.method, row.group, a, b, c, d);
        buf_printf(csv, "%s,%s,%s", env, row.csv_method, row.csv_group);
        const VariantSummary *both[2] = {row.zs, row.ft};
        for (int q = 0; q < 2; q++) {
            if (both[q])
                buf_printf(csv, ",%.6g,%.6g,%.6g,%.6g", both[q]->success.mean, both[q]->success.std, both[q]->ret.mean, both[q]->ret.std);
            else
                buf_printf(csv, ",,,,");
            mean[r * 2 + q] = both[q] ? both[q]->success.mean : NAN;
            sd[r * 2 + q] = both[q] ? both[q]->success.std : NAN;
        }
        buf_printf(csv, ",%d\n", row.zs ? row.zs->nruns : row.ft ? row.ft->nruns : 0);
    }
}

static void report_head(const TransferSpec *t, int nseeds, Buf *md, Buf *csv)
{
    buf_printf(md, "# Transfer: %s\n\nThe transfer protocol, %d seeds. Pretrain: plain DQN on orientation identity (each env's config budget). "
                   "Zero-shot: the pretrained network wrapped in each symmetrizer, evaluated greedily on orientation random (D4); equitune and equizero without any training, "
                   "lambda after fitting only λ for %ld steps (freeze_q = true). Fine-tune: %ld steps on orientation random from the pretrained network; "
                   "scratch: the plain network trained from random init for the same %ld steps. Success and return: mean ± sample std over seeds of the final greedy evaluation.\n\n"
                   "| env | method | group | zero-shot success | zero-shot return | fine-tuned success | fine-tuned return |\n|---|---|---|---|---|---|---|\n",
               t->name, nseeds, t->lambda_steps, t->finetune_steps, t->finetune_steps);
    buf_printf(csv, "env,method,group,zeroshot_success_mean,zeroshot_success_std,zeroshot_return_mean,zeroshot_return_std,finetune_success_mean,finetune_success_std,finetune_return_mean,finetune_return_std,runs\n");
}

int transfer_plot_height(const TransferSpec *t)
{
    return PLOT_H > 420 * t->nenvs ? PLOT_H : 420 * t->nenvs;
}

/* transfer.md, transfer.csv, transfer.png and transfer.svg under t->out. */
static int report_files(const TransferSpec *t, int nseeds, const Buf *md, const Buf *csv, const PlotBarPanel *panels, char *err, size_t errlen)
{
    static const char *const bars[] = {"zero-shot (pretrained: identity orientation)", "fine-tuned / scratch"};
    char path[CMP_PATH + 32], title[CFG_STR + 64];
    snprintf(path, sizeof path, "%s/transfer.md", t->out);
    if (atomicfile_write(path, md->p, md->n, err, errlen) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/transfer.csv", t->out);
    if (atomicfile_write(path, csv->p, csv->n, err, errlen) != 0)
        return -1;
    snprintf(title, sizeof title, "%s: success on random orientations (mean ± std over %d seeds)", t->name, nseeds);
    const char *ext[] = {"png", "svg"};
    for (int q = 0; q < 2; q++) {
        snprintf(path, sizeof path, "%s/transfer.%s", t->out, ext[q]);
        if (plot_bars(path, PLOT_W, transfer_plot_height(t), title, 2, bars, panels, t->nenvs, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int transfer_report(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const double secs[TRANSFER_STAGES], int jobs, char **md_out, char *err, size_t errlen)
{
    *md_out = NULL;
    int nseeds = sums[0].nvariants ? sums[0].v[0].nruns : 0, rows = 3 + t->nmethods * t->ngroups;
    Buf md = {0}, csv = {0};
    PlotBarPanel *panels = calloc((size_t)t->nenvs, sizeof *panels);
    double *vals = calloc((size_t)t->nenvs * rows * 2 * 2, sizeof *vals);
    char(*labels)[64] = calloc((size_t)rows, sizeof *labels);
    const char **lab = calloc((size_t)rows, sizeof *lab);
    int rc = -1;
    if (!panels || !vals || !labels || !lab) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    for (int r = 0; r < rows; r++)
        lab[r] = labels[r];
    report_head(t, nseeds, &md, &csv);
    for (int k = 0; k < t->nenvs; k++) {
        double *mean = vals + (size_t)k * rows * 4, *sd = mean + rows * 2;
        report_env(t, sums, t->envs[k].name, rows, labels, &md, &csv, mean, sd);
        panels[k] = (PlotBarPanel){t->envs[k].name, "success (greedy, orientation random)", 0.0, 1.0, rows, lab, mean, sd};
    }
    buf_printf(&md, "\n![transfer](transfer.png)\n\ntransfer.png / transfer.svg: success per row, zero-shot and after fine-tuning (error bars: ± std over seeds).\n\n"
                    "Wall time: pretrain %.0f s, zero-shot %.0f s, fine-tune %.0f s (total %.1f min, %d runs at a time).\n",
               secs[0], secs[1], secs[2], (secs[0] + secs[1] + secs[2]) / 60.0, jobs);
    if (md.oom || csv.oom) {
        errmsg_set(err, errlen, "out of memory");
        goto done;
    }
    rc = report_files(t, nseeds, &md, &csv, panels, err, errlen);
    if (rc == 0)
        *md_out = buf_take(&md);
done:
    buf_free(&md);
    buf_free(&csv);
    free(panels), free(vals), free(labels), free(lab);
    return rc;
}

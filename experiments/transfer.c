/* transfer.c - the transfer experiment (see transfer.h): the spec reader,
 * the planner that turns a spec into three compare stages, the check that
 * pretraining solved every env, and the report over the stage summaries. */
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
#include "plan.h"
#include "stats.h"

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

/* A comma-separated list of words from allowed ("a|b|c") into out: 0, or 1
 * (empty, too long, or a word not allowed). */
static int list_of(const char *val, char out[][32], int *n, const char *allowed)
{
    if (split_list(val, out, n) != 0)
        return 1;
    for (int i = 0; i < *n; i++) {
        size_t len = strlen(out[i]);
        const char *p = allowed;
        int found = 0;
        while (*p && !found) {
            size_t w = strcspn(p, "|");
            found = w == len && strncmp(p, out[i], len) == 0;
            p += w + (p[w] == '|');
        }
        if (!found)
            return 1;
    }
    return 0;
}

/* The reader's state between lines. */
typedef struct {
    TransferSpec *t;
    TransferEnv *env; /* the current [env NAME], NULL in [transfer] */
    char sec[16];     /* "", "transfer" or "env" */
    int have_out;
} TransferParse;

static const char TRANSFER_KEYS[] = "name, seeds, out, jobs, methods, groups, proxies, fits, td_steps, prior, prior_updates, finetune_steps, pretrain_success, set, td_set, finetune_set, scratch_set";

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
    if (strcmp(key, "td_steps") == 0) {
        t->td_steps = strtol(val, &end, 10);
        return *end || t->td_steps < 0;
    }
    if (strcmp(key, "finetune_steps") == 0) {
        t->finetune_steps = strtol(val, &end, 10);
        return *end || t->finetune_steps < 1;
    }
    if (strcmp(key, "prior_updates") == 0) {
        t->prior_updates = strtol(val, &end, 10);
        return *end || t->prior_updates < 1 || t->prior_updates > 1000000000L;
    }
    if (strcmp(key, "prior") == 0) {
        t->prior = strtod(val, &end);
        return *end || !(t->prior > 0 && t->prior <= 1e9);
    }
    if (strcmp(key, "pretrain_success") == 0) {
        t->pretrain_success = strtod(val, &end);
        return *end || !(t->pretrain_success >= 0 && t->pretrain_success <= 1);
    }
    if (strcmp(key, "methods") == 0)
        return list_of(val, t->methods, &t->nmethods, "equitune|equizero|lambda|canonical");
    if (strcmp(key, "proxies") == 0)
        return list_of(val, t->proxies, &t->nproxies, "maxq|entropy");
    if (strcmp(key, "fits") == 0)
        return list_of(val, t->fits, &t->nfits, "td|prior");
    if (strcmp(key, "groups") == 0)
        return split_list(val, t->groups, &t->ngroups) != 0;
    if (strcmp(key, "set") == 0)
        return add_set(t->all, &t->nall, val) != 0;
    if (strcmp(key, "td_set") == 0)
        return add_set(t->td, &t->ntd, val) != 0;
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
        split_list("equitune,equizero,lambda,canonical", t->methods, &t->nmethods);
    if (!t->ngroups)
        split_list("d4", t->groups, &t->ngroups);
    if (!t->nproxies)
        split_list("maxq,entropy", t->proxies, &t->nproxies);
    if (!t->nfits)
        split_list("td,prior", t->fits, &t->nfits);
    TransferRow rows[TR_MAX_ROWS];
    if (transfer_rows(t, rows) >= TR_MAX_ROWS)
        return errmsg_set(err, errlen, "%s: methods x proxies / fits x groups make more than %d rows; allowed: fewer", t->path, TR_MAX_ROWS - 1);
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
                          "%s = %s: invalid value (methods: equitune,equizero,lambda,canonical; proxies: maxq,entropy; fits: td,prior; groups: comma-separated group names; "
                          "td_steps: an integer >= 0; finetune_steps, prior_updates: integers >= 1; prior: a number > 0; pretrain_success: in [0, 1]; set: section.key=value, at most %d)",
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
    t->td_steps = 5000;
    t->finetune_steps = 10000;
    t->prior = 1.0;
    t->prior_updates = 1000;
    t->pretrain_success = 0.95;
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

int transfer_rows(const TransferSpec *t, TransferRow rows[TR_MAX_ROWS])
{
    int n = 0;
    for (int m = 0; m < t->nmethods; m++) {
        const char *method = t->methods[m];
        int equizero = strcmp(method, "equizero") == 0, weighted = strcmp(method, "lambda") == 0 || strcmp(method, "canonical") == 0;
        int nk = equizero ? t->nproxies : weighted ? t->nfits : 1;
        for (int k = 0; k < nk; k++)
            for (int g = 0; g < t->ngroups; g++) {
                if (n < TR_MAX_ROWS)
                    rows[n] = (TransferRow){method, equizero ? t->proxies[k] : weighted ? t->fits[k] : "", t->groups[g]};
                n++;
            }
    }
    return n;
}

void transfer_row_name(char *buf, size_t len, const char *env, const TransferRow *row)
{
    snprintf(buf, len, "%s-%s%s%s-%s", env, row->method, row->kind[0] ? "-" : "", row->kind, row->group);
}

/* Adds "key=%ld" to v. */
static int vset_long(CompareVariant *v, char *err, size_t errlen, const char *key, long x)
{
    char num[32];
    snprintf(num, sizeof num, "%ld", x);
    return vset(v, err, errlen, key, num);
}

/* The prior: weight and prior-only updates (a prior row, both stages). */
static int prior_sets(const TransferSpec *t, CompareVariant *v, char *why, size_t wl)
{
    char w[32];
    snprintf(w, sizeof w, "%.9g", t->prior);
    return vset(v, why, wl, "symmetry.prior=%s", w) != 0 || vset_long(v, why, wl, "train.prior_updates=%s", t->prior_updates) != 0 ? -1 : 0;
}

/* The overrides of a method row in the zero-shot or fine-tune stage:
 * equizero's proxy, the fit of lambda / canonical, the step budget and the
 * stage's own overrides. */
static int row_sets(const TransferSpec *t, TransferStage stage, const TransferRow *row, CompareVariant *v, char *why, size_t wl)
{
    int prior = strcmp(row->kind, "prior") == 0, td = strcmp(row->kind, "td") == 0;
    if (strcmp(row->method, "equizero") == 0 && vset(v, why, wl, "symmetry.proxy=%s", row->kind) != 0)
        return -1;
    if (prior && prior_sets(t, v, why, wl) != 0)
        return -1;
    if (stage == TRANSFER_FINETUNE)
        return vset_long(v, why, wl, "train.steps=%s", t->finetune_steps) != 0 || vsets(v, t->ft, t->nft, why, wl) != 0 ? -1 : 0;
    long steps = td ? t->td_steps : 0;
    if (vset_long(v, why, wl, "train.steps=%s", steps) != 0 || vset(v, why, wl, "eval.eval_every=%s", "0") != 0)
        return -1;
    if ((prior || (td && steps > 0)) && vset(v, why, wl, "train.freeze_q=%s", "true") != 0)
        return -1;
    return td && steps > 0 ? vsets(v, t->td, t->ntd, why, wl) : 0;
}

/* The overrides that make a variant of stage: orientation, symmetrizer,
 * the pretrained network, then the baselines' budget or the row's sets;
 * row is NULL for plain and scratch. */
static int stage_sets(const TransferSpec *t, TransferStage stage, const TransferEnv *env, CompareVariant *v, const TransferRow *row, int scratch, char *why, size_t wl)
{
    char init[CMP_PATH + 96];
    if (vsets(v, env->sets, env->nsets, why, wl) != 0 || vsets(v, t->all, t->nall, why, wl) != 0)
        return -1;
    if (vset(v, why, wl, "env.orientation=%s", stage == TRANSFER_PRETRAIN ? "identity" : "random") != 0 || vset(v, why, wl, "symmetry.method=%s", row ? row->method : "none") != 0 ||
        vset(v, why, wl, "symmetry.group=%s", row ? row->group : "trivial") != 0)
        return -1;
    if (stage == TRANSFER_PRETRAIN)
        return 0;
    snprintf(init, sizeof init, "network.init=%s/pretrain/%s-plain/seed-{seed}/checkpoint.safetensors", t->out, env->name);
    if (!scratch && compare_variant_add_set(v, init, 0, why, wl) != 0)
        return -1;
    if (row)
        return row_sets(t, stage, row, v, why, wl);
    if (stage == TRANSFER_ZEROSHOT)
        return vset(v, why, wl, "train.steps=%s", "0") != 0 || vset(v, why, wl, "eval.eval_every=%s", "0") != 0 ? -1 : 0;
    if (vset_long(v, why, wl, "train.steps=%s", t->finetune_steps) != 0)
        return -1;
    return vsets(v, scratch ? t->scratch : t->ft, scratch ? t->nscratch : t->nft, why, wl);
}

/* The variants of one env in stage: plain, then the method rows, then
 * (fine-tune only) scratch; pretraining has plain only. */
static int stage_env(const TransferSpec *t, TransferStage stage, const TransferEnv *env, CompareSpec *s, char *err, size_t errlen)
{
    TransferRow mrows[TR_MAX_ROWS];
    int nm = stage == TRANSFER_PRETRAIN ? 0 : transfer_rows(t, mrows);
    int rows = 1 + nm + (stage == TRANSFER_FINETUNE);
    char vn[CFG_STR], why[256];
    for (int r = 0; r < rows; r++) {
        int scratch = stage == TRANSFER_FINETUNE && r == rows - 1;
        const TransferRow *row = r >= 1 && !scratch ? &mrows[r - 1] : NULL;
        if (row)
            transfer_row_name(vn, sizeof vn, env->name, row);
        else
            snprintf(vn, sizeof vn, "%s-%s", env->name, scratch ? "scratch" : "plain");
        CompareVariant *v = compare_spec_add_variant(s, vn, env->config, 0, err, errlen);
        if (!v)
            return -1;
        if (stage_sets(t, stage, env, v, row, scratch, why, sizeof why) != 0)
            return errmsg_set(err, errlen, "%s: %s", t->path, why);
    }
    return 0;
}

const char *transfer_stage_name(TransferStage stage)
{
    return (unsigned)stage < TRANSFER_STAGES ? stage_names[stage] : "?";
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

int transfer_check_pretrain(const TransferSpec *t, const CompareSpec *stage, char *err, size_t errlen)
{
    Buf msg = {0};
    int bad = 0;
    char dir[CMP_PATH + 96], path[CMP_PATH + 128], why[512];
    for (int e = 0; e < stage->nvariants; e++)
        for (int k = 0; k < stage->nseeds; k++) {
            EvalCurve c;
            compare_run_dir(stage, e, stage->seeds[k], dir, sizeof dir);
            snprintf(path, sizeof path, "%s/eval.csv", dir);
            if (compare_read_eval(path, &c, why, sizeof why) != 0) {
                buf_printf(&msg, "%s%s", bad++ ? "; " : "", why);
                continue;
            }
            double s = c.success[c.n - 1];
            if (s < t->pretrain_success)
                buf_printf(&msg, "%s[env %s] seed %llu: greedy success %.2f < %.2f (%s)", bad++ ? "; " : "", t->envs[e].name, (unsigned long long)stage->seeds[k], s, t->pretrain_success, path);
            compare_curve_free(&c);
        }
    if (bad)
        errmsg_set(err, errlen,
                   "%s: pretraining did not solve its env on every seed (orientation identity): %s; the transfer needs a network that solves its env, "
                   "so give the env's config a larger train.steps or better settings and rerun, or lower [transfer] pretrain_success",
                   t->path, msg.oom ? "out of memory" : msg.p);
    buf_free(&msg);
    return bad ? -1 : 0;
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

/* "mean [lo, hi]" of st, "(n of N seeds)" added when only n of the
 * spec's nseeds runs have finished; "–" when there is none. */
static void cell(char *buf, size_t len, const Stat *st, int nseeds)
{
    if (!st || st->n < 1 || isnan(st->mean))
        snprintf(buf, len, "–");
    else if (st->n < nseeds)
        snprintf(buf, len, "%.2f [%.2f, %.2f] (%d of %d seeds)", st->mean, st->lo, st->hi, st->n, nseeds);
    else
        snprintf(buf, len, "%.2f [%.2f, %.2f]", st->mean, st->lo, st->hi);
}

/* One row of the report: what it shows and its zero-shot and fine-tuned
 * summaries (NULL where the row has none). */
typedef struct {
    const char *method, *kind, *group; /* as the table shows them */
    const char *csv_method, *csv_kind, *csv_group;
    char label[64];                    /* bar chart label */
    const VariantSummary *zs, *ft;
} ReportRow;

/* Row r of env: 0 pretrained, 1 plain, 2 scratch, then the method rows. */
static void report_row(const TransferRow *mrows, const CompareSummary sums[TRANSFER_STAGES], const char *env, int r, ReportRow *row)
{
    char vn[CFG_STR];
    memset(row, 0, sizeof *row);
    row->kind = row->group = "–";
    row->csv_kind = "";
    row->csv_group = "trivial";
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
        const TransferRow *m = &mrows[r - 3];
        row->method = row->csv_method = m->method;
        row->csv_kind = m->kind;
        row->kind = m->kind[0] ? m->kind : "–";
        row->group = row->csv_group = m->group;
        transfer_row_name(vn, sizeof vn, env, m);
        row->zs = find_variant(&sums[TRANSFER_ZEROSHOT], vn);
        row->ft = find_variant(&sums[TRANSFER_FINETUNE], vn);
        snprintf(row->label, sizeof row->label, "%s%s%s %s", m->method, m->kind[0] ? " " : "", m->kind, m->group);
    }
}

/* ",mean,lo,hi" of st into csv (empty fields when absent). */
static void csv_stat(Buf *csv, const Stat *st)
{
    if (st && st->n > 0 && !isnan(st->mean))
        buf_printf(csv, ",%.6g,%.6g,%.6g", st->mean, st->lo, st->hi);
    else
        buf_printf(csv, ",,,");
}

/* The bars of one panel: success means and intervals, q 0 zero-shot, 1
 * fine-tuned (NAN if absent). */
typedef struct {
    double *mean, *lo, *hi;
} ReportBars;

/* The table rows of one env into md and csv, and its bars. */
static void report_env(const TransferRow *mrows, const CompareSummary sums[TRANSFER_STAGES], const char *env, int rows, int nseeds, char (*labels)[64], Buf *md, Buf *csv, ReportBars bars)
{
    char a[96], b[96], c[96], d[96];
    for (int r = 0; r < rows; r++) {
        ReportRow row;
        report_row(mrows, sums, env, r, &row);
        snprintf(labels[r], 64, "%s", row.label);
        const VariantSummary *both[2] = {row.zs, row.ft};
        cell(a, sizeof a, row.zs ? &row.zs->success : NULL, nseeds);
        cell(b, sizeof b, row.zs ? &row.zs->w_pretrain : NULL, nseeds);
        cell(c, sizeof c, row.ft ? &row.ft->success : NULL, nseeds);
        cell(d, sizeof d, row.ft ? &row.ft->w_pretrain : NULL, nseeds);
        buf_printf(md, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", env, row.method, row.kind, row.group, a, b, c, d);
        buf_printf(csv, "%s,%s,%s,%s", env, row.csv_method, row.csv_kind, row.csv_group);
        for (int q = 0; q < 2; q++) {
            const VariantSummary *v = both[q];
            csv_stat(csv, v ? &v->success : NULL);
            csv_stat(csv, v ? &v->ret : NULL);
            csv_stat(csv, v ? &v->w_pretrain : NULL);
            bars.mean[r * 2 + q] = v ? v->success.mean : NAN;
            bars.lo[r * 2 + q] = v ? v->success.lo : NAN;
            bars.hi[r * 2 + q] = v ? v->success.hi : NAN;
        }
        buf_printf(csv, ",%d\n", row.zs ? row.zs->nruns : row.ft ? row.ft->nruns : 0);
    }
}

static void report_head(const TransferSpec *t, int nseeds, Buf *md, Buf *csv)
{
    buf_printf(md, "# Transfer: %s\n\nThe transfer protocol, %d seeds. Pretrain: plain DQN on orientation identity (each env's config budget; every seed reached "
                   "greedy success >= %.2f). Zero-shot: the pretrained network wrapped in each symmetrizer, evaluated greedily on orientation random (D4); "
                   "equitune and equizero without any training; lambda and canonical with Q frozen after a fit of their weight network: `td` = %ld env steps "
                   "of the TD loss on orientation random, `prior` = %ld updates of the canonicalization prior (weight %g) on the pretrained checkpoint's replay "
                   "states, no env step. Fine-tune: %ld steps on orientation random from the pretrained network (prior rows keep the prior); scratch: the plain "
                   "network trained from random init for the same %ld steps. Cells: mean [95 %% bootstrap interval] over seeds of the final greedy evaluation "
                   "(success; w_pretrain = the weight on the view that shows the layout as pretraining did, averaged over the evaluation's states).\n\n"
                   "| env | method | fit / proxy | group | zero-shot success | zero-shot w_pretrain | fine-tuned success | fine-tuned w_pretrain |\n"
                   "|---|---|---|---|---|---|---|---|\n",
               t->name, nseeds, t->pretrain_success, t->td_steps, t->prior_updates, t->prior, t->finetune_steps, t->finetune_steps);
    buf_printf(csv, "env,method,fit,group");
    static const char *const stage[] = {"zeroshot", "finetune"}, *const what[] = {"success", "return", "w_pretrain"};
    for (int q = 0; q < 2; q++)
        for (int w = 0; w < 3; w++)
            buf_printf(csv, ",%s_%s_mean,%s_%s_lo,%s_%s_hi", stage[q], what[w], stage[q], what[w], stage[q], what[w]);
    buf_printf(csv, ",runs\n");
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
    snprintf(title, sizeof title, "%s: success on random orientations (mean, 95 %% interval over %d seeds)", t->name, nseeds);
    const char *ext[] = {"png", "svg"};
    for (int q = 0; q < 2; q++) {
        snprintf(path, sizeof path, "%s/transfer.%s", t->out, ext[q]);
        if (plot_bars(path, PLOT_W, transfer_plot_height(t), title, 2, bars, panels, t->nenvs, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* The wall-time line; a stage whose time was not recorded (its runs went
 * through --emit-jobs and a scheduler) is named as such. */
static void report_wall_time(Buf *md, const double secs[TRANSFER_STAGES], int jobs)
{
    static const char *const labels[TRANSFER_STAGES] = {"pretrain", "zero-shot", "fine-tune"};
    double total = 0;
    int known = 0;
    buf_printf(md, "Wall time:");
    for (int k = 0; k < TRANSFER_STAGES; k++) {
        if (secs[k] >= 0) {
            buf_printf(md, "%s %s %.0f s", k ? "," : "", labels[k], secs[k]);
            total += secs[k];
            known++;
        } else
            buf_printf(md, "%s %s not recorded", k ? "," : "", labels[k]);
    }
    if (known == TRANSFER_STAGES)
        buf_printf(md, " (total %.1f min, %d runs at a time).\n", total / 60.0, jobs);
    else
        buf_printf(md, " (a stage not run by `equigrid transfer` itself, e.g. from --emit-jobs job lists, has no recorded time).\n");
}

int transfer_report(const TransferSpec *t, const CompareSummary sums[TRANSFER_STAGES], const double secs[TRANSFER_STAGES], int jobs, char **md_out, char *err, size_t errlen)
{
    *md_out = NULL;
    TransferRow mrows[TR_MAX_ROWS];
    int nseeds = sums[0].nvariants ? sums[0].v[0].nruns : 0, rows = 3 + transfer_rows(t, mrows);
    size_t per = (size_t)rows * 2;
    Buf md = {0}, csv = {0};
    PlotBarPanel *panels = calloc((size_t)t->nenvs, sizeof *panels);
    double *vals = calloc((size_t)t->nenvs * per * 3, sizeof *vals);
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
        ReportBars bars = {vals + (size_t)k * per * 3, vals + (size_t)k * per * 3 + per, vals + (size_t)k * per * 3 + 2 * per};
        report_env(mrows, sums, t->envs[k].name, rows, t->nseeds, labels, &md, &csv, bars);
        panels[k] = (PlotBarPanel){t->envs[k].name, "success (greedy, orientation random)", 0.0, 1.0, rows, lab, bars.mean, NULL, bars.lo, bars.hi};
    }
    buf_printf(&md, "\n![transfer](transfer.png)\n\ntransfer.png / transfer.svg: success per row, zero-shot and after fine-tuning (error bars: 95 %% bootstrap interval over seeds).\n\n");
    report_wall_time(&md, secs, jobs);
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

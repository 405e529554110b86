/* plan.c - what each run of a compare spec is (see plan.h): its effective
 * config, its directory and its command line, and the normalised spec that
 * identifies an output directory's runs. */
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/errmsg.h"

int compare_expand(char *dst, size_t dstlen, const char *src, uint64_t seed, const char *out)
{
    size_t n = 0;
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)seed);
    for (const char *p = src; *p;) {
        const char *rep = NULL;
        size_t skip = 1;
        if (strncmp(p, "{seed}", 6) == 0) {
            rep = num;
            skip = 6;
        } else if (strncmp(p, "{out}", 5) == 0) {
            rep = out;
            skip = 5;
        }
        size_t len = rep ? strlen(rep) : 1;
        if (n + len + 1 > dstlen)
            return -1;
        memcpy(dst + n, rep ? rep : p, len);
        n += len;
        p += skip;
    }
    dst[n] = '\0';
    return 0;
}

static int is_seed_set(const char *a)
{
    while (isspace((unsigned char)*a))
        a++;
    if (strncmp(a, "run.seed", 8) != 0)
        return 0;
    a += 8;
    while (isspace((unsigned char)*a))
        a++;
    return *a == '=';
}

/* Loads a variant's config with its overrides and the global ones; expand =
 * 0 leaves {seed}/{out} unexpanded (for the digest). */
static int variant_config(const CompareSpec *s, int vi, uint64_t seed, const char *const *sets, int nsets, int expand, Config *cfg, char *err, size_t errlen)
{
    const CompareVariant *v = &s->variants[vi];
    char e[1024], buf[CFG_STR * 2];
    config_default(cfg);
    if (access(v->config, R_OK) != 0) {
        errmsg_set(err, errlen, "%s:%d: [variant %s] config = %s: cannot read the config file: %s", s->path, v->config_line, v->name, v->config, strerror(errno));
        return -1;
    }
    if (config_load(cfg, v->config, e, sizeof e) != 0) {
        errmsg_set(err, errlen, "%s:%d: [variant %s] config = %s: %s", s->path, v->config_line, v->name, v->config, e);
        return -1;
    }
    for (int i = 0; i < v->nsets + nsets; i++) {
        const char *a = i < v->nsets ? v->sets[i] : sets[i - v->nsets];
        if (is_seed_set(a)) {
            if (i < v->nsets)
                errmsg_set(err, errlen, "%s:%d: [variant %s] set = %s: run.seed cannot be overridden; seeds come from [compare] seeds", s->path, v->set_line[i], v->name, a);
            else
                errmsg_set(err, errlen, "--set %s: run.seed cannot be overridden; seeds come from [compare] seeds", a);
            return -1;
        }
        if (expand) {
            if (compare_expand(buf, sizeof buf, a, seed, s->out) != 0) {
                errmsg_set(err, errlen, "%s:%d: [variant %s] set = %s: too long after expanding {seed} and {out}", s->path, i < v->nsets ? v->set_line[i] : 0, v->name, a);
                return -1;
            }
            a = buf;
        }
        if (config_set(cfg, a, e, sizeof e) != 0) {
            if (i < v->nsets)
                errmsg_set(err, errlen, "%s:%d: [variant %s] set = %s: %s", s->path, v->set_line[i], v->name, v->sets[i], e);
            else
                errmsg_set(err, errlen, "%s", e);
            return -1;
        }
    }
    cfg->run.seed = seed;
    return 0;
}

int compare_run_config(const CompareSpec *s, int variant, uint64_t seed, const char *const *sets, int nsets, Config *cfg, char *err, size_t errlen)
{
    if (variant_config(s, variant, seed, sets, nsets, 1, cfg, err, errlen) != 0)
        return -1;
    char e[1024];
    if (config_validate(cfg, e, sizeof e) != 0) {
        const CompareVariant *v = &s->variants[variant];
        errmsg_set(err, errlen, "%s:%d: [variant %s] (config %s with its overrides, seed %llu): %s", s->path, v->line, v->name, v->config, (unsigned long long)seed, e);
        return -1;
    }
    return 0;
}

int compare_spec_check(const CompareSpec *s, const char *const *sets, int nsets, char *err, size_t errlen)
{
    if (s->nvariants < 1 || s->nseeds < 1) {
        errmsg_set(err, errlen, "%s: a compare spec needs at least one variant and one seed", s->path);
        return -1;
    }
    Config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int v = 0; v < s->nvariants && rc == 0; v++)
        for (int k = 0; k < s->nseeds && rc == 0; k++)
            rc = compare_run_config(s, v, s->seeds[k], sets, nsets, cfg, err, errlen);
    free(cfg);
    return rc;
}

/* FNV-1a, 64 bit. */
static uint64_t fnv1a(const char *p)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

char *compare_spec_normalised(const CompareSpec *s, const char *const *sets, int nsets)
{
    Buf b = {0};
    Config *cfg = malloc(sizeof *cfg);
    char e[1024];
    if (!cfg)
        return NULL;
    buf_printf(&b, "; equigrid compare spec, normalised: the runs in this directory were made from it.\n"
                "; Lines other than comments, name, seeds, threshold and jobs must match to reuse the directory.\n"
                "[compare]\nname = %s\nseeds = ", s->name);
    for (int i = 0; i < s->nseeds; i++)
        buf_printf(&b, i ? ",%llu" : "%llu", (unsigned long long)s->seeds[i]);
    buf_printf(&b, "\nthreshold = %g\njobs = %d\n", s->threshold, s->jobs);
    for (int i = 0; i < nsets; i++)
        buf_printf(&b, "set_all = %s\n", sets[i]);
    for (int v = 0; v < s->nvariants; v++) {
        const CompareVariant *var = &s->variants[v];
        buf_printf(&b, "\n[variant %s]\nconfig = %s\n", var->name, var->config);
        for (int i = 0; i < var->nsets; i++)
            buf_printf(&b, "set = %s\n", var->sets[i]);
        if (variant_config(s, v, 0, sets, nsets, 0, cfg, e, sizeof e) != 0) {
            free(cfg);
            free(b.p);
            return NULL;
        }
        cfg->run.name[0] = '\0';
        char *text = config_to_string(cfg);
        if (!text) {
            free(cfg);
            free(b.p);
            return NULL;
        }
        buf_printf(&b, "config_digest = %016llx\n", (unsigned long long)fnv1a(text));
        free(text);
    }
    free(cfg);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

void compare_run_dir(const CompareSpec *s, int variant, uint64_t seed, char *dir, size_t dirlen)
{
    snprintf(dir, dirlen, "%s/%s/seed-%llu", s->out, s->variants[variant].name, (unsigned long long)seed);
}

void compare_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int compare_run_argv(const CompareSpec *s, int variant, uint64_t seed, const char *const *sets, int nsets, const char *exe, int resume, char ***argv, char *err, size_t errlen)
{
    const CompareVariant *v = &s->variants[variant];
    int n = 0, cap = 2 * (v->nsets + nsets) + 16;
    char **a = calloc((size_t)cap, sizeof *a), buf[CFG_STR * 2], dir[CMP_PATH * 2];
    if (!a) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    compare_run_dir(s, variant, seed, dir, sizeof dir);
    int oom = 0;
#define PUSH(str) do { if (!(a[n++] = strdup(str))) oom = 1; } while (0)
    PUSH(exe);
    PUSH("train");
    PUSH(v->config);
    for (int i = 0; i < v->nsets + nsets; i++) {
        const char *x = i < v->nsets ? v->sets[i] : sets[i - v->nsets];
        if (compare_expand(buf, sizeof buf, x, seed, s->out) != 0) {
            errmsg_set(err, errlen, "%s: [variant %s] set = %s: too long after expanding {seed} and {out}", s->path, v->name, x);
            a[n] = NULL;
            compare_argv_free(a);
            return -1;
        }
        PUSH("--set");
        PUSH(buf);
    }
    snprintf(buf, sizeof buf, "run.seed=%llu", (unsigned long long)seed);
    PUSH("--set");
    PUSH(buf);
    PUSH("--out");
    PUSH(dir);
    if (resume)
        PUSH("--resume");
#undef PUSH
    a[n] = NULL;
    if (oom) {
        compare_argv_free(a);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    *argv = a;
    return 0;
}

/* compare.c - compare specs, run planning, the local process runner and the
 * summary over seeds (see compare.h). The spec reader is a small line parser
 * of its own rather than inih, because a variant repeats `set` and every
 * message must name the spec's line. The runner polls waitpid every 100 ms so
 * that it can redraw the progress bar and forward a stop request without
 * relying on interrupted system calls. */
#include "compare.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/buf.h"
#include "../core/errmsg.h"
#include "../core/progress.h"
#include "../core/rng.h"
#include "../core/suggest.h"
#include "../core/clock.h"
#include "../render/plot.h"

/* ---- spec ---- */

CompareSpec *compare_spec_new(const char *path)
{
    CompareSpec *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->path, sizeof s->path, "%s", path ? path : "spec");
    s->nseeds = 5;
    for (int i = 0; i < 5; i++)
        s->seeds[i] = (uint64_t)i + 1;
    s->threshold = 0.95;
    return s;
}

void compare_spec_free(CompareSpec *s)
{
    if (!s)
        return;
    free(s->variants);
    free(s);
}

static int valid_name(const char *name)
{
    if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return 0;
    return 1;
}

CompareVariant *compare_spec_add_variant(CompareSpec *s, const char *name, const char *config, int line, char *err, size_t errlen)
{
    char where[CMP_PATH + 32];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d", s->path, line);
    else
        snprintf(where, sizeof where, "%s", s->path);
    if (!valid_name(name) || strlen(name) >= CFG_STR - 16) {
        errmsg_set(err, errlen, "%s: [variant %s]: invalid variant name; allowed: letters, digits, '-', '_', '.' (it names a directory)", where, name);
        return NULL;
    }
    for (int i = 0; i < s->nvariants; i++)
        if (strcmp(s->variants[i].name, name) == 0) {
            if (s->variants[i].line > 0)
                errmsg_set(err, errlen, "%s: [variant %s]: duplicate variant name (first defined at line %d); each variant needs its own name", where, name, s->variants[i].line);
            else
                errmsg_set(err, errlen, "%s: [variant %s]: duplicate variant name; each variant needs its own name", where, name);
            return NULL;
        }
    if (s->nvariants >= CMP_MAX_VARIANTS) {
        errmsg_set(err, errlen, "%s: [variant %s]: too many variants; allowed: at most %d", where, name, CMP_MAX_VARIANTS);
        return NULL;
    }
    CompareVariant *nv = realloc(s->variants, (size_t)(s->nvariants + 1) * sizeof *nv);
    if (!nv) {
        errmsg_set(err, errlen, "%s: out of memory", where);
        return NULL;
    }
    s->variants = nv;
    CompareVariant *v = &s->variants[s->nvariants++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->config, sizeof v->config, "%s", config ? config : "");
    v->line = line;
    v->config_line = line;
    return v;
}

int compare_variant_add_set(CompareVariant *v, const char *assignment, int line, char *err, size_t errlen)
{
    if (v->nsets >= CMP_MAX_SETS) {
        errmsg_set(err, errlen, "line %d: [variant %s] set = %s: too many overrides; allowed: at most %d per variant", line, v->name, assignment, CMP_MAX_SETS);
        return -1;
    }
    if (strlen(assignment) >= CFG_STR) {
        errmsg_set(err, errlen, "line %d: [variant %s] set = %s: too long; allowed: at most %d characters", line, v->name, assignment, CFG_STR - 1);
        return -1;
    }
    snprintf(v->sets[v->nsets], CFG_STR, "%s", assignment);
    v->set_line[v->nsets++] = line;
    return 0;
}


/* " (did you mean 'x'?)" for the nearest of keys, or "". */
static void did_you_mean(char *out, size_t outlen, const char *typed, const char *const *keys, int n)
{
    int i = suggest_nearest(typed, keys, n);
    if (i >= 0)
        snprintf(out, outlen, " (did you mean '%s'?)", keys[i]);
    else
        out[0] = '\0';
}

char *compare_clean_line(char *line)
{
    /* comments: a line starting with ';' or '#', or " ;" inside a line */
    for (char *c = line; *c; c++)
        if (*c == ';' && (c == line || isspace((unsigned char)c[-1]))) {
            *c = '\0';
            break;
        }
    char *t = compare_trim(line);
    return *t == '#' ? t + strlen(t) : t;
}

char *compare_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int parse_seeds(CompareSpec *s, const char *v, char *why, size_t whylen)
{
    int n = 0;
    const char *p = v;
    while (*p) {
        char *end;
        while (isspace((unsigned char)*p))
            p++;
        if (!isdigit((unsigned char)*p)) {
            errmsg_set(why, whylen, "expected a comma-separated list of non-negative integers, e.g. 1,2,3,4,5");
            return -1;
        }
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (errno) {
            errmsg_set(why, whylen, "a seed is out of range; allowed: 0..18446744073709551615");
            return -1;
        }
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p && *p != ',') {
            errmsg_set(why, whylen, "expected a comma-separated list of non-negative integers, e.g. 1,2,3,4,5");
            return -1;
        }
        if (*p == ',')
            p++;
        for (int i = 0; i < n; i++)
            if (s->seeds[i] == x) {
                errmsg_set(why, whylen, "seed %llu is listed twice; allowed: distinct seeds", x);
                return -1;
            }
        if (n >= CMP_MAX_SEEDS) {
            errmsg_set(why, whylen, "too many seeds; allowed: at most %d", CMP_MAX_SEEDS);
            return -1;
        }
        s->seeds[n++] = x;
    }
    if (n == 0) {
        errmsg_set(why, whylen, "no seeds; allowed: a comma-separated list of non-negative integers");
        return -1;
    }
    s->nseeds = n;
    return 0;
}

static const char *const compare_keys[] = {"name", "seeds", "out", "threshold", "jobs"};
static const char *const variant_keys[] = {"config", "set"};

CompareSpec *compare_spec_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        errmsg_set(err, errlen, "%s: cannot open the compare spec: %s", path, strerror(errno));
        return NULL;
    }
    CompareSpec *s = compare_spec_new(path);
    if (!s) {
        fclose(f);
        errmsg_set(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    char line[1024], why[512], sec[CFG_STR] = "";
    int lineno = 0, have_compare = 0, have_out = 0, have_name = 0;
    CompareVariant *v = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            errmsg_set(err, errlen, "%s:%d: line too long; allowed: at most %d characters", path, lineno, (int)sizeof line - 2);
            goto fail;
        }
        char *t = compare_clean_line(line);
        if (!*t)
            continue;
        if (*t == '[') {
            char *close = strchr(t, ']');
            if (!close || compare_trim(close + 1)[0]) {
                errmsg_set(err, errlen, "%s:%d: %s: malformed section header; allowed: [compare] or [variant NAME]", path, lineno, t);
                goto fail;
            }
            *close = '\0';
            char *name = compare_trim(t + 1);
            if (strcmp(name, "compare") == 0) {
                if (have_compare) {
                    errmsg_set(err, errlen, "%s:%d: [compare] appears twice; allowed: one [compare] section", path, lineno);
                    goto fail;
                }
                have_compare = 1;
                v = NULL;
                snprintf(sec, sizeof sec, "compare");
            } else if (strncmp(name, "variant", 7) == 0 && isspace((unsigned char)name[7])) {
                char *vn = compare_trim(name + 8);
                v = compare_spec_add_variant(s, vn, "", lineno, err, errlen);
                if (!v)
                    goto fail;
                snprintf(sec, sizeof sec, "variant");
            } else {
                const char *secs[] = {"compare", "variant"};
                char dym[CFG_STR + 32];
                did_you_mean(dym, sizeof dym, name, secs, 2);
                errmsg_set(err, errlen, "%s:%d: [%s]: unknown section%s; allowed: [compare], [variant NAME]", path, lineno, name, dym);
                goto fail;
            }
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq) {
            errmsg_set(err, errlen, "%s:%d: %s: syntax error; allowed: '[section]', 'key = value' or a comment", path, lineno, t);
            goto fail;
        }
        *eq = '\0';
        char *key = compare_trim(t), *val = compare_trim(eq + 1);
        if (!sec[0]) {
            errmsg_set(err, errlen, "%s:%d: %s = %s: key outside a section; allowed: keys inside [compare] or [variant NAME]", path, lineno, key, val);
            goto fail;
        }
        char dym[CFG_STR + 32];
        if (strcmp(sec, "compare") == 0) {
            if (strcmp(key, "name") == 0) {
                if (!valid_name(val) || strlen(val) >= 120) {
                    errmsg_set(err, errlen, "%s:%d: [compare] name = %s: invalid name; allowed: letters, digits, '-', '_', '.'", path, lineno, val);
                    goto fail;
                }
                snprintf(s->name, sizeof s->name, "%s", val);
                have_name = 1;
            } else if (strcmp(key, "seeds") == 0) {
                if (parse_seeds(s, val, why, sizeof why) != 0) {
                    errmsg_set(err, errlen, "%s:%d: [compare] seeds = %s: %s", path, lineno, val, why);
                    goto fail;
                }
            } else if (strcmp(key, "out") == 0) {
                if (!val[0] || strlen(val) > 300) {
                    errmsg_set(err, errlen, "%s:%d: [compare] out = %s: allowed: a directory path of 1 to 300 characters", path, lineno, val);
                    goto fail;
                }
                snprintf(s->out, sizeof s->out, "%s", val);
                have_out = 1;
            } else if (strcmp(key, "threshold") == 0) {
                char *end;
                double x = strtod(val, &end);
                if (end == val || *end || !(x >= 0.0 && x <= 1.0)) {
                    errmsg_set(err, errlen, "%s:%d: [compare] threshold = %s: allowed: a number in [0, 1]", path, lineno, val);
                    goto fail;
                }
                s->threshold = x;
            } else if (strcmp(key, "jobs") == 0) {
                char *end;
                long x = strtol(val, &end, 10);
                if (end == val || *end || x < 0 || x > 1024) {
                    errmsg_set(err, errlen, "%s:%d: [compare] jobs = %s: allowed: an integer in [0, 1024] (0 = number of cores)", path, lineno, val);
                    goto fail;
                }
                s->jobs = (int)x;
            } else {
                did_you_mean(dym, sizeof dym, key, compare_keys, 5);
                errmsg_set(err, errlen, "%s:%d: [compare] %s = %s: unknown key in [compare]%s; allowed: name, seeds, out, threshold, jobs", path, lineno, key, val, dym);
                goto fail;
            }
        } else {
            if (strcmp(key, "config") == 0) {
                if (!val[0] || strlen(val) >= CMP_PATH) {
                    errmsg_set(err, errlen, "%s:%d: [variant %s] config = %s: allowed: the path of a config file", path, lineno, v->name, val);
                    goto fail;
                }
                if (v->config[0]) {
                    errmsg_set(err, errlen, "%s:%d: [variant %s] config = %s: config is given twice; allowed: one config per variant (use set = ... for overrides)", path, lineno, v->name, val);
                    goto fail;
                }
                snprintf(v->config, sizeof v->config, "%s", val);
                v->config_line = lineno;
            } else if (strcmp(key, "set") == 0) {
                if (!strchr(val, '=') || !strchr(val, '.')) {
                    errmsg_set(err, errlen, "%s:%d: [variant %s] set = %s: allowed: section.key=value, e.g. set = train.lr=1e-3", path, lineno, v->name, val);
                    goto fail;
                }
                if (v->nsets >= CMP_MAX_SETS || strlen(val) >= CFG_STR) {
                    errmsg_set(err, errlen, "%s:%d: [variant %s] set = %s: too many or too long; allowed: at most %d overrides of at most %d characters", path, lineno, v->name, val, CMP_MAX_SETS, CFG_STR - 1);
                    goto fail;
                }
                compare_variant_add_set(v, val, lineno, why, sizeof why);
            } else {
                did_you_mean(dym, sizeof dym, key, variant_keys, 2);
                errmsg_set(err, errlen, "%s:%d: [variant %s] %s = %s: unknown key in a variant%s; allowed: config, set (repeatable)", path, lineno, v->name, key, val, dym);
                goto fail;
            }
        }
    }
    if (ferror(f)) {
        errmsg_set(err, errlen, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    f = NULL;
    for (int i = 0; i < s->nvariants; i++)
        if (!s->variants[i].config[0]) {
            errmsg_set(err, errlen, "%s:%d: [variant %s]: no config; allowed: config = PATH of a config file", path, s->variants[i].line, s->variants[i].name);
            goto fail;
        }
    if (s->nvariants == 0) {
        errmsg_set(err, errlen, "%s: no [variant NAME] section; a compare spec needs at least one variant", path);
        goto fail;
    }
    if (!have_name) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t len = strcspn(base, ".");
        snprintf(s->name, sizeof s->name, "%.*s", (int)(len < 100 ? len : 100), base);
    }
    if (!have_out)
        snprintf(s->out, sizeof s->out, "runs/compare-%s", s->name);
    return s;
fail:
    if (f)
        fclose(f);
    compare_spec_free(s);
    return NULL;
}

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

/* Copies the run-defining lines of a normalised spec into a new string. */
static char *defining_lines(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        int skip = len == 0 || p[0] == ';' || strncmp(p, "name =", 6) == 0 || strncmp(p, "seeds =", 7) == 0 || strncmp(p, "threshold =", 11) == 0 || strncmp(p, "jobs =", 6) == 0;
        if (!skip) {
            memcpy(o, p, len);
            o += len;
            *o++ = '\n';
        }
        p += len + (eol ? 1 : 0);
    }
    *o = '\0';
    return out;
}

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char tmp[CMP_PATH * 2];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
                errmsg_set(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
                return -1;
            }
            *p = '/';
        }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
        errmsg_set(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    Buf b = {0};
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, k);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}


int compare_out_prepare(const CompareSpec *s, const char *const *sets, int nsets, int write, char *err, size_t errlen)
{
    char *norm = compare_spec_normalised(s, sets, nsets);
    if (!norm) {
        /* a config that does not load: compare_spec_check names it */
        if (compare_spec_check(s, sets, nsets, err, errlen) == 0)
            errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char path[CMP_PATH + 16];
    snprintf(path, sizeof path, "%s/spec.ini", s->out);
    char *old = read_text(path);
    int rc = 0;
    if (old) {
        char *a = defining_lines(old), *b = defining_lines(norm);
        if (!a || !b) {
            errmsg_set(err, errlen, "out of memory");
            rc = -1;
        } else if (strcmp(a, b) != 0) {
            const char *p = a, *q = b;
            while (*p && *p == *q)
                p++, q++;
            while (p > a && p[-1] != '\n')
                p--;
            while (q > b && q[-1] != '\n')
                q--;
            const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
            errmsg_set(err, errlen, "%s: %s holds runs of a different spec (its %s has '%.*s' where %s has '%.*s'); use another [compare] out, or remove the directory",
                s->path, s->out, path, (int)(pe ? pe - p : (long)strlen(p)), p, s->path, (int)(qe ? qe - q : (long)strlen(q)), q);
            rc = -1;
        }
        free(a);
        free(b);
    }
    if (rc == 0 && write) {
        if (mkdir_p(s->out, err, errlen) != 0 || atomicfile_write(path, norm, strlen(norm), err, errlen) != 0)
            rc = -1;
    }
    free(old);
    free(norm);
    return rc;
}

/* ---- runs ---- */

void compare_run_dir(const CompareSpec *s, int variant, uint64_t seed, char *dir, size_t dirlen)
{
    snprintf(dir, dirlen, "%s/%s/seed-%llu", s->out, s->variants[variant].name, (unsigned long long)seed);
}

static int exists_in(const char *dir, const char *file)
{
    char p[CMP_PATH * 2 + 64];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

RunState compare_run_state(const char *dir)
{
    if (exists_in(dir, "done"))
        return RUN_DONE;
    if (exists_in(dir, "checkpoint.safetensors"))
        return RUN_RESUME;
    if (exists_in(dir, "metrics.csv") || exists_in(dir, "eval.csv"))
        return RUN_STALE;
    return RUN_FRESH;
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
    PUSH("--quiet");
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

/* Writes s single-quoted for sh. */
static void shell_quote(FILE *f, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_./=,:+@%", *p))
            plain = 0;
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

int compare_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *cwd, FILE *f, char *err, size_t errlen)
{
    int lines = 0;
    char dir[CMP_PATH * 2];
    for (int v = 0; v < s->nvariants; v++)
        for (int k = 0; k < s->nseeds; k++) {
            char **argv;
            if (compare_run_argv(s, v, s->seeds[k], sets, nsets, exe, 0, &argv, err, errlen) != 0)
                return -1;
            compare_run_dir(s, v, s->seeds[k], dir, sizeof dir);
            fputs("cd ", f);
            shell_quote(f, cwd);
            fputs(" && d=", f);
            shell_quote(f, dir);
            fputs(" && { [ -e \"$d/done\" ] || { mkdir -p \"$d\" && r= && { [ -e \"$d/checkpoint.safetensors\" ] && r=--resume || rm -f \"$d/metrics.csv\" \"$d/eval.csv\"; } && OPENBLAS_NUM_THREADS=1", f);
            for (char **p = argv; *p; p++) {
                fputc(' ', f);
                shell_quote(f, *p);
            }
            fputs(" $r >> \"$d/log.txt\" 2>&1 && echo ok > \"$d/done\"; }; }\n", f);
            compare_argv_free(argv);
            lines++;
        }
    if (ferror(f)) {
        errmsg_set(err, errlen, "cannot write the job list: %s", strerror(errno));
        return -1;
    }
    return lines;
}

typedef struct {
    pid_t pid;
    int variant;
    uint64_t seed;
    int signalled;
} Child;

static void print_tail(FILE *log, const char *path, int lines)
{
    char *text = read_text(path);
    if (!text) {
        fprintf(log, "    (no log at %s)\n", path);
        return;
    }
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    const char *p = text + n;
    int k = 0;
    while (p > text && k < lines) {
        p--;
        if (*p == '\n')
            k++;
    }
    if (*p == '\n')
        p++;
    for (const char *q = p; *q;) {
        const char *eol = strchr(q, '\n');
        size_t len = eol ? (size_t)(eol - q) : strlen(q);
        /* a progress bar's carriage returns: keep the last segment */
        const char *cr = q;
        for (const char *c = q; c < q + len; c++)
            if (*c == '\r')
                cr = c + 1;
        fprintf(log, "    %.*s\n", (int)(q + len - cr), cr);
        q += len + (eol ? 1 : 0);
    }
    free(text);
}


static void draw_progress(FILE *log, const CompareRunResult *r, int running, int finished_now, double t0, int remaining)
{
    double elapsed = clock_seconds() - t0;
    char detail[64];
    snprintf(detail, sizeof detail, "%d running  %d failed", running, r->failed);
    Progress p = {.done = r->skipped + r->succeeded + r->failed, .total = r->total, .unit = "runs", .elapsed = elapsed,
                  .eta = finished_now > 0 ? elapsed / finished_now * remaining : -1.0, .detail = detail};
    progress_print(log, PROGRESS_BAR, &p);
}

static void launch_child(const char *dir, char **argv)
{
    char path[CMP_PATH * 2 + 16];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0)
        _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[0], argv);
    dprintf(2, "equigrid compare: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int compare_execute(const CompareSpec *s, const char *const *sets, int nsets, const CompareRunOptions *opt, CompareRunResult *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    int total = s->nvariants * s->nseeds, jobs = opt->jobs > 0 ? opt->jobs : 1;
    res->total = total;
    Child *kids = calloc((size_t)jobs, sizeof *kids);
    if (!kids) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char dir[CMP_PATH * 2], path[CMP_PATH * 2 + 32];
    /* skip finished runs up front so the progress bar and ETA count real work */
    int *pending = malloc((size_t)total * sizeof *pending), npending = 0;
    if (!pending) {
        free(kids);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < total; i++) {
        compare_run_dir(s, i / s->nseeds, s->seeds[i % s->nseeds], dir, sizeof dir);
        if (compare_run_state(dir) == RUN_DONE)
            res->skipped++;
        else
            pending[npending++] = i;
    }
    double t0 = clock_seconds(), last_draw = 0;
    int next = 0, running = 0, finished_now = 0, rc = 0, forwarded = 0;
    while (next < npending || running > 0) {
        int stopping = opt->stop && *opt->stop;
        if (stopping && !forwarded) {
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid > 0)
                    kill(kids[j].pid, SIGINT);
            forwarded = 1;
        }
        /* launch */
        while (!stopping && rc == 0 && next < npending && running < jobs) {
            int i = pending[next++], v = i / s->nseeds;
            uint64_t seed = s->seeds[i % s->nseeds];
            compare_run_dir(s, v, seed, dir, sizeof dir);
            if (mkdir_p(dir, err, errlen) != 0) {
                rc = -1;
                break;
            }
            RunState st = compare_run_state(dir);
            if (st == RUN_STALE) {
                static const char *const stale[] = {"metrics.csv", "eval.csv", "config.ini"};
                for (int k = 0; k < 3; k++) {
                    snprintf(path, sizeof path, "%s/%s", dir, stale[k]);
                    remove(path);
                }
            }
            char **argv;
            if (compare_run_argv(s, v, seed, sets, nsets, opt->exe, st == RUN_RESUME, &argv, err, errlen) != 0) {
                rc = -1;
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                errmsg_set(err, errlen, "cannot start a run: fork: %s", strerror(errno));
                compare_argv_free(argv);
                rc = -1;
                break;
            }
            if (pid == 0)
                launch_child(dir, argv);
            compare_argv_free(argv);
            int slot = 0;
            while (kids[slot].pid > 0)
                slot++;
            kids[slot] = (Child){pid, v, seed, 0};
            running++;
            res->launched++;
        }
        if (rc != 0 && running == 0)
            break;
        if (rc != 0 && !forwarded) {
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid > 0)
                    kill(kids[j].pid, SIGINT);
            forwarded = 1;
        }
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            int slot = -1;
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid == pid)
                    slot = j;
            if (slot < 0)
                continue;
            Child c = kids[slot];
            kids[slot].pid = 0;
            running--;
            compare_run_dir(s, c.variant, c.seed, dir, sizeof dir);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (code == 0) {
                snprintf(path, sizeof path, "%s/done", dir);
                char e2[256];
                if (atomicfile_write(path, "ok\n", 3, e2, sizeof e2) != 0) {
                    if (opt->log)
                        fprintf(opt->log, "\n%s\n", e2);
                    res->failed++;
                } else {
                    res->succeeded++;
                    finished_now++;
                }
            } else if (code == 130 && (stopping || forwarded)) {
                res->interrupted++;
            } else {
                res->failed++;
                finished_now++;
                if (opt->log) {
                    snprintf(path, sizeof path, "%s/log.txt", dir);
                    fprintf(opt->log, "%s%s/%s/seed-%llu failed (exit status %d); last lines of %s:\n", opt->progress ? "\n" : "", s->out, s->variants[c.variant].name, (unsigned long long)c.seed, code, path);
                    print_tail(opt->log, path, 12);
                }
            }
            if (opt->progress && opt->log)
                draw_progress(opt->log, res, running, finished_now, t0, npending - next + running);
            continue;
        }
        if (pid < 0 && errno != EINTR) {
            if (running > 0) {
                errmsg_set(err, errlen, "waitpid: %s", strerror(errno));
                rc = -1;
                break;
            }
        }
        if (opt->progress && opt->log && clock_seconds() - last_draw > 1.0) {
            draw_progress(opt->log, res, running, finished_now, t0, npending - next + running);
            last_draw = clock_seconds();
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (opt->progress && opt->log) {
        draw_progress(opt->log, res, 0, finished_now, t0, 0);
        progress_end(opt->log, PROGRESS_BAR);
    }
    free(pending);
    free(kids);
    return rc;
}

/* ---- statistics ---- */

void compare_curve_free(EvalCurve *c)
{
    if (!c)
        return;
    free(c->step);
    free(c->ret);
    free(c->success);
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
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        char *p = line, *end;
        double v[4];
        int ok = 1;
        for (int k = 0; k < 4 && ok; k++) {
            v[k] = strtod(p, &end);
            if (end == p || (*end != ',' && *end != '\n' && *end != '\0'))
                ok = 0;
            p = *end == ',' ? end + 1 : end;
        }
        if (!ok || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[3]) || v[3] < 0 || v[3] > 1 || (c->n > 0 && (long)v[0] <= c->step[c->n - 1])) {
            errmsg_set(err, errlen, "%s:%d: malformed row; expected increasing step, then return_mean, return_std, success in [0, 1]", path, lineno);
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
            if (!ns || !nr || !nsu) {
                errmsg_set(err, errlen, "%s: out of memory", path);
                fclose(f);
                compare_curve_free(c);
                return -1;
            }
        }
        c->step[c->n] = (long)v[0];
        c->ret[c->n] = v[1];
        c->success[c->n] = v[3];
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
    double fs[CMP_MAX_SEEDS], fr[CMP_MAX_SEEDS], st[CMP_MAX_SEEDS], au[CMP_MAX_SEEDS];
    vs->nruns = n;
    vs->never = 0;
    vs->max_steps = 0;
    int np = n > 0 ? c[0].n : 0;
    for (int k = 0; k < n; k++) {
        fs[k] = c[k].success[c[k].n - 1];
        fr[k] = c[k].ret[c[k].n - 1];
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

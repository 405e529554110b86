/* spec.c - reading compare specs (see spec.h): the [compare] section and
 * one [variant NAME] section per variant, every message naming the spec's
 * line, with "did you mean" for mistyped sections and keys. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"
#include "../core/suggest.h"

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

int compare_parse_seeds(const char *v, uint64_t seeds[CMP_MAX_SEEDS], char *why, size_t whylen)
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
            if (seeds[i] == x) {
                errmsg_set(why, whylen, "seed %llu is listed twice; allowed: distinct seeds", x);
                return -1;
            }
        if (n >= CMP_MAX_SEEDS) {
            errmsg_set(why, whylen, "too many seeds; allowed: at most %d", CMP_MAX_SEEDS);
            return -1;
        }
        seeds[n++] = x;
    }
    if (n == 0) {
        errmsg_set(why, whylen, "no seeds; allowed: a comma-separated list of non-negative integers");
        return -1;
    }
    return n;
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
                int n = compare_parse_seeds(val, s->seeds, why, sizeof why);
                if (n < 0) {
                    errmsg_set(err, errlen, "%s:%d: [compare] seeds = %s: %s", path, lineno, val, why);
                    goto fail;
                }
                s->nseeds = n;
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

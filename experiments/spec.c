/* spec.c - reading compare specs (see spec.h): the [compare] section and
 * one [variant NAME] section per variant, every message naming the spec's
 * line, with "did you mean" for mistyped sections and keys. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"
#include "../core/file.h"
#include "../core/suggest.h"
#include "../configs/inifile.h"

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

/* What is wrong with adding a variant called name to s ("[variant NAME]:
 * ...", without a location), or 0 when nothing is. */
static int variant_refused(const CompareSpec *s, const char *name, char *what, size_t len)
{
    if (!valid_name(name) || strlen(name) >= CFG_STR - 16)
        return errmsg_set(what, len, "[variant %s]: invalid variant name; allowed: letters, digits, '-', '_', '.' (it names a directory)", name);
    for (int i = 0; i < s->nvariants; i++)
        if (strcmp(s->variants[i].name, name) == 0) {
            if (s->variants[i].line > 0)
                return errmsg_set(what, len, "[variant %s]: duplicate variant name (first defined at line %d); each variant needs its own name", name, s->variants[i].line);
            return errmsg_set(what, len, "[variant %s]: duplicate variant name; each variant needs its own name", name);
        }
    if (s->nvariants >= CMP_MAX_VARIANTS)
        return errmsg_set(what, len, "[variant %s]: too many variants; allowed: at most %d", name, CMP_MAX_VARIANTS);
    return 0;
}

CompareVariant *compare_spec_add_variant(CompareSpec *s, const char *name, const char *config, int line, char *err, size_t errlen)
{
    char where[CMP_PATH + 32], what[CFG_STR + 256];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d", s->path, line);
    else
        snprintf(where, sizeof where, "%s", s->path);
    if (variant_refused(s, name, what, sizeof what) != 0) {
        errmsg_set(err, errlen, "%s: %s", where, what);
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

/* The reader's state between lines. */
typedef struct {
    CompareSpec *s;
    CompareVariant *v; /* the current [variant NAME], NULL in [compare] */
    char sec[16];      /* "", "compare" or "variant" */
    int have_compare, have_out, have_name;
} SpecParse;

/* A section header (text: the line without comments) on line. */
static int spec_section(SpecParse *p, char *t, int line, char *what, size_t wl)
{
    char *close = strchr(t, ']');
    if (!close || compare_trim(close + 1)[0])
        return errmsg_set(what, wl, "%s: malformed section header; allowed: [compare] or [variant NAME]", t);
    *close = '\0';
    char *name = compare_trim(t + 1);
    if (strcmp(name, "compare") == 0) {
        if (p->have_compare)
            return errmsg_set(what, wl, "[compare] appears twice; allowed: one [compare] section");
        p->have_compare = 1;
        p->v = NULL;
        snprintf(p->sec, sizeof p->sec, "compare");
        return 0;
    }
    if (strncmp(name, "variant", 7) == 0 && isspace((unsigned char)name[7])) {
        char *vn = compare_trim(name + 8), e[CFG_STR + 256];
        if (variant_refused(p->s, vn, what, wl) != 0)
            return -1;
        p->v = compare_spec_add_variant(p->s, vn, "", line, e, sizeof e);
        if (!p->v)
            return errmsg_set(what, wl, "out of memory");
        snprintf(p->sec, sizeof p->sec, "variant");
        return 0;
    }
    const char *secs[] = {"compare", "variant"};
    char dym[CFG_STR + 32];
    did_you_mean(dym, sizeof dym, name, secs, 2);
    return errmsg_set(what, wl, "[%s]: unknown section%s; allowed: [compare], [variant NAME]", name, dym);
}

/* inifile's line check: section headers, and the "key = value" shape. */
static int spec_line(void *user, const char *text, int line, char *what, size_t wl)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    char *t = compare_clean_line(buf);
    if (*t == '[')
        return spec_section(user, t, line, what, wl);
    const char *sep = t + strcspn(t, "=:");
    if (*sep != '=')
        return errmsg_set(what, wl, "%s: syntax error; allowed: '[section]', 'key = value' or a comment", t);
    return 0;
}

/* A key of [compare]. */
static int compare_key(SpecParse *p, const char *key, const char *val, char *what, size_t wl)
{
    CompareSpec *s = p->s;
    char *end, why[512], dym[CFG_STR + 32];
    if (strcmp(key, "name") == 0) {
        if (!valid_name(val) || strlen(val) >= 120)
            return errmsg_set(what, wl, "[compare] name = %s: invalid name; allowed: letters, digits, '-', '_', '.'", val);
        snprintf(s->name, sizeof s->name, "%s", val);
        p->have_name = 1;
    } else if (strcmp(key, "seeds") == 0) {
        int n = compare_parse_seeds(val, s->seeds, why, sizeof why);
        if (n < 0)
            return errmsg_set(what, wl, "[compare] seeds = %s: %s", val, why);
        s->nseeds = n;
    } else if (strcmp(key, "out") == 0) {
        if (!val[0] || strlen(val) > 300)
            return errmsg_set(what, wl, "[compare] out = %s: allowed: a directory path of 1 to 300 characters", val);
        snprintf(s->out, sizeof s->out, "%s", val);
        p->have_out = 1;
    } else if (strcmp(key, "threshold") == 0) {
        double x = strtod(val, &end);
        if (end == val || *end || !(x >= 0.0 && x <= 1.0))
            return errmsg_set(what, wl, "[compare] threshold = %s: allowed: a number in [0, 1]", val);
        s->threshold = x;
    } else if (strcmp(key, "jobs") == 0) {
        long x = strtol(val, &end, 10);
        if (end == val || *end || x < 0 || x > 1024)
            return errmsg_set(what, wl, "[compare] jobs = %s: allowed: an integer in [0, 1024] (0 = number of cores)", val);
        s->jobs = (int)x;
    } else {
        did_you_mean(dym, sizeof dym, key, compare_keys, 5);
        return errmsg_set(what, wl, "[compare] %s = %s: unknown key in [compare]%s; allowed: name, seeds, out, threshold, jobs", key, val, dym);
    }
    return 0;
}

/* A key of [variant NAME] on line. */
static int variant_key(SpecParse *p, const char *key, const char *val, int line, char *what, size_t wl)
{
    CompareVariant *v = p->v;
    char why[512], dym[CFG_STR + 32];
    if (strcmp(key, "config") == 0) {
        if (!val[0] || strlen(val) >= CMP_PATH)
            return errmsg_set(what, wl, "[variant %s] config = %s: allowed: the path of a config file", v->name, val);
        if (v->config[0])
            return errmsg_set(what, wl, "[variant %s] config = %s: config is given twice; allowed: one config per variant (use set = ... for overrides)", v->name, val);
        snprintf(v->config, sizeof v->config, "%s", val);
        v->config_line = line;
    } else if (strcmp(key, "set") == 0) {
        if (!strchr(val, '=') || !strchr(val, '.'))
            return errmsg_set(what, wl, "[variant %s] set = %s: allowed: section.key=value, e.g. set = train.lr=1e-3", v->name, val);
        if (v->nsets >= CMP_MAX_SETS || strlen(val) >= CFG_STR)
            return errmsg_set(what, wl, "[variant %s] set = %s: too many or too long; allowed: at most %d overrides of at most %d characters", v->name, val, CMP_MAX_SETS, CFG_STR - 1);
        compare_variant_add_set(v, val, line, why, sizeof why);
    } else {
        did_you_mean(dym, sizeof dym, key, variant_keys, 2);
        return errmsg_set(what, wl, "[variant %s] %s = %s: unknown key in a variant%s; allowed: config, set (repeatable)", v->name, key, val, dym);
    }
    return 0;
}

/* inifile's pair callback: keys repeat (set) and are read in order. */
static int spec_pair(void *user, const char *section, const char *key, const char *val, int line, char *what, size_t wl)
{
    SpecParse *p = user;
    (void)section; /* the section as spec_line saw it is p->sec */
    if (!p->sec[0])
        return errmsg_set(what, wl, "%s = %s: key outside a section; allowed: keys inside [compare] or [variant NAME]", key, val);
    if (strcmp(p->sec, "compare") == 0)
        return compare_key(p, key, val, what, wl);
    return variant_key(p, key, val, line, what, wl);
}

/* After the last line: every variant has a config; defaults for the rest. */
static int spec_finish(SpecParse *p, const char *path, char *err, size_t errlen)
{
    CompareSpec *s = p->s;
    for (int i = 0; i < s->nvariants; i++)
        if (!s->variants[i].config[0])
            return errmsg_at(err, errlen, path, s->variants[i].line, "[variant %s]: no config; allowed: config = PATH of a config file", s->variants[i].name);
    if (s->nvariants == 0)
        return errmsg_set(err, errlen, "%s: no [variant NAME] section; a compare spec needs at least one variant", path);
    if (!p->have_name) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t len = strcspn(base, ".");
        snprintf(s->name, sizeof s->name, "%.*s", (int)(len < 100 ? len : 100), base);
    }
    if (!p->have_out)
        snprintf(s->out, sizeof s->out, "runs/compare-%s", s->name);
    return 0;
}

CompareSpec *compare_spec_load(const char *path, char *err, size_t errlen)
{
    FILE *f = file_open_read(path, err, errlen);
    if (!f)
        return NULL;
    CompareSpec *s = compare_spec_new(path);
    if (!s) {
        fclose(f);
        errmsg_set(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    SpecParse p = {.s = s};
    IniSource src = {.name = path, .f = f, .line = spec_line, .pair = spec_pair, .user = &p};
    int rc = inifile_parse(&src, err, errlen);
    fclose(f);
    if (rc != 0 || spec_finish(&p, path, err, errlen) != 0) {
        compare_spec_free(s);
        return NULL;
    }
    return s;
}

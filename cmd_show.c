/* cmd_show.c - `equigrid show ENV`: builds one env from a kind name or a map
 * file, resets it once and prints the layout as text with a legend. The few
 * env.* keys it understands are parsed by show_set_key (to be replaced by the
 * config module). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "envs/env.h"

static void show_usage(FILE *f)
{
    fprintf(f, "usage: equigrid show ENV [--set env.KEY=VALUE ...] [--orient I] [--seed S]\n"
               "\n"
               "Prints the first layout of an environment as text with a legend.\n"
               "ENV is a kind (goal, fourrooms, lava, maze, map) or the path of an ASCII map.\n"
               "\n"
               "options:\n"
               "  --set env.KEY=VALUE  KEY is one of:\n"
               "                         size          grid side incl. border (0 = default: goal 9,\n"
               "                                       fourrooms 11, lava 9, maze 11 (odd); map: 0 or the map's side)\n"
               "                         max_steps     truncation limit (0 = 4 * size)\n"
               "                         step_penalty  penalty per step, >= 0 (default 0.01)\n"
               "                         orientation   identity | random | 0..7 | an element name (id, r90, m.r90, ...)\n"
               "                         goal          fourrooms: random | R,C (canonical orientation)\n"
               "                         map           path of the ASCII map (kind map)\n"
               "                         seed          RNG seed (default 0)\n"
               "  --orient I           same as --set env.orientation=I\n"
               "  --seed S             same as --set env.seed=S\n"
               "  -h, --help           this text\n");
}

static int show_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Applies one "env.KEY=VALUE" (or "KEY=VALUE" for --orient/--seed) to cfg.
 * Returns 0, or -1 with a message naming the key and what is allowed. */
static int show_set_key(EnvConfig *cfg, const char *assign, char *err, size_t errlen)
{
    const char *eq = strchr(assign, '=');
    if (strncmp(assign, "env.", 4) != 0 || !eq) {
        snprintf(err, errlen, "--set %s: expected env.KEY=VALUE", assign);
        return -1;
    }
    char key[64];
    size_t klen = (size_t)(eq - assign) - 4;
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, assign + 4, klen);
    key[klen] = '\0';
    const char *val = eq + 1;
    long v;
    if (strcmp(key, "size") == 0) {
        if (show_parse_int(val, 0, ENV_MAX_N, &v) != 0)
            goto bad_int;
        cfg->size = (int)v;
    } else if (strcmp(key, "max_steps") == 0) {
        if (show_parse_int(val, 0, 1000000000L, &v) != 0)
            goto bad_int;
        cfg->max_steps = (int)v;
    } else if (strcmp(key, "step_penalty") == 0) {
        char *end;
        errno = 0;
        float p = strtof(val, &end);
        if (errno || end == val || *end || !(p >= 0.0f) || p > 1e30f) {
            snprintf(err, errlen, "--set env.step_penalty=%s: allowed: a number >= 0", val);
            return -1;
        }
        cfg->step_penalty = p;
    } else if (strcmp(key, "orientation") == 0) {
        if (strcmp(val, "random") == 0) {
            cfg->orientation = ORIENT_RANDOM;
            return 0;
        }
        if (strcmp(val, "identity") == 0) {
            cfg->orientation = ORIENT_IDENTITY;
            return 0;
        }
        for (int g = 0; g < D4_ORDER; g++)
            if (strcmp(val, d4_name(g)) == 0) {
                cfg->orientation = g;
                return 0;
            }
        if (show_parse_int(val, 0, D4_ORDER - 1, &v) != 0) {
            snprintf(err, errlen, "--set env.orientation=%s: allowed: identity, random, 0..7, id, r90, r180, r270, m, m.r90, m.r180, m.r270", val);
            return -1;
        }
        cfg->orientation = (int)v;
    } else if (strcmp(key, "goal") == 0) {
        int r, c, used = 0;
        if (strcmp(val, "random") == 0) {
            cfg->goal_r = cfg->goal_c = -1;
        } else if (sscanf(val, "%d,%d%n", &r, &c, &used) == 2 && val[used] == '\0') {
            cfg->goal_r = r;
            cfg->goal_c = c;
        } else {
            snprintf(err, errlen, "--set env.goal=%s: allowed: random or ROW,COL", val);
            return -1;
        }
    } else if (strcmp(key, "map") == 0) {
        if (strlen(val) >= sizeof cfg->map_path) {
            snprintf(err, errlen, "--set env.map: path longer than %zu bytes", sizeof cfg->map_path - 1);
            return -1;
        }
        snprintf(cfg->map_path, sizeof cfg->map_path, "%s", val);
        cfg->kind = ENV_MAP;
    } else if (strcmp(key, "seed") == 0) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(val, &end, 10);
        if (errno || end == val || *end || val[0] == '-') {
            snprintf(err, errlen, "--set env.seed=%s: allowed: an integer 0..2^64-1", val);
            return -1;
        }
        cfg->seed = (uint64_t)s;
    } else {
        snprintf(err, errlen, "--set env.%s: unknown key; allowed: size, max_steps, step_penalty, orientation, goal, map, seed", key);
        return -1;
    }
    return 0;
bad_int:
    snprintf(err, errlen, "--set env.%s=%s: allowed: an integer in %s", key, val, strcmp(key, "size") == 0 ? "0..64" : "0..1000000000");
    return -1;
}

int cmd_show(int argc, char **argv)
{
    char err[1024];
    const char *envname = NULL;
    const char *sets[64];
    int nsets = 0;
    char extra[2][64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            show_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--set") == 0 || strcmp(a, "--orient") == 0 || strcmp(a, "--seed") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "equigrid show: %s needs a value\n", a);
                return 2;
            }
            const char *val = argv[++i];
            if (nsets == (int)(sizeof sets / sizeof sets[0])) {
                fprintf(stderr, "equigrid show: too many options\n");
                return 2;
            }
            if (strcmp(a, "--set") == 0) {
                sets[nsets++] = val;
            } else {
                char *buf = extra[a[2] == 'o' ? 0 : 1];
                snprintf(buf, sizeof extra[0], "env.%s=%s", a[2] == 'o' ? "orientation" : "seed", val);
                sets[nsets++] = buf;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "equigrid show: unknown option '%s'\n", a);
            show_usage(stderr);
            return 2;
        } else if (envname) {
            fprintf(stderr, "equigrid show: one ENV expected, got '%s' and '%s'\n", envname, a);
            return 2;
        } else {
            envname = a;
        }
    }
    if (!envname) {
        fprintf(stderr, "equigrid show: missing ENV (a kind: goal, fourrooms, lava, maze, map; or a map file)\n");
        show_usage(stderr);
        return 2;
    }
    EnvConfig cfg;
    int kind = env_kind_parse(envname);
    if (kind >= 0) {
        env_config_default(&cfg, (EnvKind)kind);
    } else {
        env_config_default(&cfg, ENV_MAP);
        if (strlen(envname) >= sizeof cfg.map_path) {
            fprintf(stderr, "equigrid show: map path too long\n");
            return 2;
        }
        snprintf(cfg.map_path, sizeof cfg.map_path, "%s", envname);
    }
    for (int i = 0; i < nsets; i++)
        if (show_set_key(&cfg, sets[i], err, sizeof err) != 0) {
            fprintf(stderr, "equigrid show: %s\n", err);
            return 2;
        }
    if (cfg.kind == ENV_MAP && kind >= 0 && cfg.map_path[0] == '\0') {
        fprintf(stderr, "equigrid show: kind map needs --set env.map=PATH (or give the path as ENV)\n");
        return 2;
    }
    EnvMap *map = NULL;
    if (cfg.kind == ENV_MAP) {
        map = malloc(sizeof *map);
        if (!map) {
            fprintf(stderr, "equigrid show: out of memory\n");
            return 2;
        }
        if (env_map_load(map, cfg.map_path, err, sizeof err) != 0) {
            if (kind < 0 && strstr(err, "cannot open"))
                fprintf(stderr, "equigrid show: '%s' is not a kind (goal, fourrooms, lava, maze, map), and as a map file: %s\n", envname, err);
            else
                fprintf(stderr, "equigrid show: %s\n", err);
            free(map);
            return 2;
        }
    }
    Env *e = malloc(sizeof *e);
    if (!e || env_init(e, &cfg, map, 0, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid show: %s\n", e ? err : "out of memory");
        free(e);
        free(map);
        return 2;
    }
    env_reset(e, NULL);
    printf("%s %dx%d, seed %llu, max_steps %d, step_penalty %g\n", cfg.kind == ENV_MAP ? cfg.map_path : env_kind_name(cfg.kind), e->n, e->n,
           (unsigned long long)cfg.seed, e->max_steps, (double)cfg.step_penalty);
    env_print(stdout, e, 1);
    free(e);
    free(map);
    return 0;
}

/* show.c - `equigrid show ENV`: builds one env from a kind name or a map
 * file (through the config module, so every [env] key and its errors are the
 * same as in training configs), resets it once and prints the layout as text
 * with a legend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agents/agent.h"
#include "cmd.h"

enum { SHOW_MAX_SETS = 64 };

static void show_usage(FILE *f)
{
    fprintf(f, "usage: equigrid show ENV [--set env.KEY=VALUE ...] [--orient I] [--seed S]\n"
               "\n"
               "Prints the first layout of an environment as text with a legend.\n"
               "ENV is a kind (goal, fourrooms, lava, maze, map) or the path of an ASCII map.\n"
               "\n"
               "options:\n"
               "  --set section.key=value  any config key; the [env] keys shape the layout:\n"
               "                           size, max_steps, step_penalty, orientation, orient_group,\n"
               "                           goal, map (see configs/README.md)\n"
               "  --orient I               same as --set env.orientation=I (identity, random or 0-7)\n"
               "  --seed S                 same as --set run.seed=S (the env's RNG seed, default 1)\n"
               "  -h, --help               this text\n");
}

int cmd_show(int argc, char **argv)
{
    char err[1024];
    const char *envname = NULL, *sets[SHOW_MAX_SETS];
    char extra[SHOW_MAX_SETS][96];
    int nsets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            show_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--set") == 0 || strcmp(a, "--orient") == 0 || strcmp(a, "--seed") == 0) {
            if (i + 1 >= argc || nsets == SHOW_MAX_SETS) {
                fprintf(stderr, "equigrid show: %s\n", i + 1 >= argc ? "an option needs a value" : "too many options");
                return 2;
            }
            const char *val = argv[++i];
            if (strcmp(a, "--set") == 0) {
                sets[nsets++] = val;
            } else {
                snprintf(extra[nsets], sizeof extra[nsets], "%s=%s", a[2] == 'o' ? "env.orientation" : "run.seed", val);
                sets[nsets] = extra[nsets];
                nsets++;
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
    Config cfg;
    config_default(&cfg);
    int kind = env_kind_parse(envname);
    char first[600];
    snprintf(first, sizeof first, kind >= 0 ? "env.name=%s" : "env.map=%s", envname);
    if (config_set(&cfg, first, err, sizeof err) != 0 || (kind < 0 && config_set(&cfg, "env.name=map", err, sizeof err) != 0)) {
        fprintf(stderr, "equigrid show: %s\n", err);
        return 2;
    }
    for (int i = 0; i < nsets; i++)
        if (config_set(&cfg, sets[i], err, sizeof err) != 0) {
            fprintf(stderr, "equigrid show: %s\n", err);
            return 2;
        }
    if (config_validate(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid show: %s\n", err);
        return 2;
    }
    EnvConfig ec;
    EnvMap *map = malloc(sizeof *map);
    Env *e = malloc(sizeof *e);
    int rc = 2;
    if (!map || !e) {
        fprintf(stderr, "equigrid show: out of memory\n");
    } else if (agent_env_config(&cfg, &ec, map, err, sizeof err) != 0) {
        if (kind < 0 && strstr(err, "cannot open"))
            fprintf(stderr, "equigrid show: '%s' is not a kind (goal, fourrooms, lava, maze, map), and as a map file: %s\n", envname, err);
        else
            fprintf(stderr, "equigrid show: %s\n", err);
    } else if (env_init(e, &ec, map, 0, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid show: %s\n", err);
    } else {
        env_reset(e, NULL);
        printf("%s %dx%d, seed %llu, max_steps %d, step_penalty %g\n", ec.kind == ENV_MAP ? ec.map_path : env_kind_name(ec.kind), e->n, e->n,
               (unsigned long long)ec.seed, e->max_steps, (double)ec.step_penalty);
        env_print(stdout, e, 1);
        rc = 0;
    }
    free(e);
    free(map);
    return rc;
}

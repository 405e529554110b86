/* qvalues.c - `equigrid qvalues`: a checkpoint's Q-values (and its
 * symmetrizer's views) on the start state of a map, as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agents/agent.h"
#include "cmd.h"

static void print_floats(const float *x, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++)
        printf(i ? ", %.7g" : "%.7g", x[i]);
    putchar(']');
}

/* Parses argv; returns 0 to go on, 1 after printing --help, -1 after an error. */
static int qvalues_args(int argc, char **argv, const char **ckpt, const char **mapfile, int *orient)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: equigrid qvalues CHECKPOINT --map FILE [--orient i]\n\n"
                   "Prints as JSON the Q-values the agent acts on in the start state of the map (its\n"
                   "first 'A'), after applying group element i (0-7) to the state when given. For a\n"
                   "symmetrized agent also each view's Q-values mapped back by rho(h), its weight and\n"
                   "(canonical) score, and (equizero, canonical) the chosen element.\n");
            return 1;
        } else if (strcmp(argv[i], "--map") == 0 && i + 1 < argc) {
            *mapfile = argv[++i];
        } else if (strcmp(argv[i], "--orient") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (s[0] < '0' || s[0] > '7' || s[1]) {
                fprintf(stderr, "equigrid qvalues: --orient %s: expected a group element index 0-7\n", s);
                return -1;
            }
            *orient = s[0] - '0';
        } else if (argv[i][0] != '-' && !*ckpt) {
            *ckpt = argv[i];
        } else {
            fprintf(stderr, "equigrid qvalues: unexpected argument '%s' (see equigrid qvalues --help)\n", argv[i]);
            return -1;
        }
    }
    if (!*ckpt || !*mapfile) {
        fprintf(stderr, "usage: equigrid qvalues CHECKPOINT --map FILE [--orient i]\n");
        return -1;
    }
    return 0;
}

/* The observation of the map's start state for agent a, after group element
 * orient. Prints the error and returns -1 when the map does not fit a. */
static int qvalues_state(uint8_t *obs, const Agent *a, EnvMap *map, const char *mapfile, int orient)
{
    char err[1024];
    if (env_map_load(map, mapfile, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid qvalues: %s\n", err);
        return -1;
    }
    if (map->n != a->n) {
        fprintf(stderr, "equigrid qvalues: %s is %dx%d but the checkpoint's network takes %dx%d grids\n", mapfile, map->n, map->n, a->n, a->n);
        return -1;
    }
    EnvConfig ec;
    env_config_default(&ec, ENV_MAP);
    snprintf(ec.map_path, sizeof ec.map_path, "%s", mapfile);
    Env env;
    if (env_init(&env, &ec, map, 0, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid qvalues: %s\n", err);
        return -1;
    }
    /* plane k is bit k of a cell: a network with fewer planes (goal: wall,
     * agent, goal) reads a map exactly as long as the map has no cell kind
     * beyond its planes */
    for (int i = 0; i < map->n * map->n; i++)
        if (map->cells[i] >> a->C) {
            fprintf(stderr, "equigrid qvalues: %s has lava but the checkpoint's network takes %d planes (wall, agent, goal): it was trained on '%s'\n", mapfile, a->C, a->cfg.env.name);
            return -1;
        }
    env_set_state(&env, map->cells, map->starts[0]);
    env_transform(&env, orient);
    env_observe(&env, obs);
    return 0;
}

/* 0 if every value qvalues_print would print is finite; else -1 after
 * naming the first one that is not (JSON has no inf or nan). */
static int qvalues_finite(const Agent *a, const float *q)
{
    const char *bad = NULL;
    int idx = 0;
    for (int i = 0; i < a->A && !bad; i++)
        if (!isfinite(q[i]))
            bad = "q", idx = i;
    if (a->sym.method != SYM_NONE) {
        const float *vq = qmodel_view_q(a->online, 0), *w = qmodel_view_weight(a->online, 0);
        for (int i = 0; i < a->sym.group.n * a->A && !bad; i++)
            if (!isfinite(vq[i]))
                bad = "a view's q", idx = i % a->A;
        for (int i = 0; i < a->sym.group.n && !bad; i++)
            if (!isfinite(w[i]))
                bad = "a view's weight", idx = i;
    }
    if (bad)
        fprintf(stderr, "equigrid qvalues: %s[%d] is not finite (the weights overflow float on this state); JSON cannot hold it, so nothing is printed\n", bad, idx);
    return bad ? -1 : 0;
}

/* Prints the JSON object: q (the values acted on) and, for a symmetrized
 * agent, every view's values, weight and (canonical) score, and the chosen
 * view of equizero or canonical. */
static void qvalues_print(const Agent *a, const float *q, int orient)
{
    static const char *names[] = {"up", "right", "down", "left", "stay"};
    printf("{\"actions\": [");
    for (int i = 0; i < a->A; i++)
        printf(i ? ", \"%s\"" : "\"%s\"", names[i]);
    printf("], \"orient\": %d, \"q\": ", orient);
    print_floats(q, a->A);
    if (a->sym.method != SYM_NONE) {
        const float *vq = qmodel_view_q(a->online, 0), *w = qmodel_view_weight(a->online, 0), *sc = qmodel_view_score(a->online, 0);
        printf(", \"method\": \"%s\", \"views\": [", sym_method_name(a->sym.method));
        for (int i = 0; i < a->sym.group.n; i++) {
            printf(i ? ", {\"element\": %d, \"q\": " : "{\"element\": %d, \"q\": ", a->sym.group.elem[i]);
            print_floats(vq + (size_t)i * a->A, a->A);
            printf(", \"weight\": %.7g", w[i]);
            if (sc)
                printf(", \"score\": %.7g", sc[i]);
            putchar('}');
        }
        putchar(']');
        if (qmodel_chosen(a->online, 0) >= 0)
            printf(", \"chosen\": %d", qmodel_chosen(a->online, 0));
    }
    printf("}\n");
}

int cmd_qvalues(int argc, char **argv)
{
    const char *ckpt = NULL, *mapfile = NULL;
    int orient = 0;
    int parsed = qvalues_args(argc, argv, &ckpt, &mapfile, &orient);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    char err[1024];
    Agent *a = agent_load(ckpt, NULL, 0, err, sizeof err);
    EnvMap *map = malloc(sizeof *map);
    int rc = 1;
    uint8_t obs[ENV_MAX_CELLS];
    if (!a || !map) {
        fprintf(stderr, "equigrid qvalues: %s\n", a ? "out of memory" : err);
    } else if (qvalues_state(obs, a, map, mapfile, orient) == 0) {
        const float *q = agent_q(a, obs, 1);
        if (q && qvalues_finite(a, q) == 0) {
            qvalues_print(a, q, orient);
            rc = 0;
        } else if (!q) {
            fprintf(stderr, "equigrid qvalues: out of memory\n");
        }
    }
    free(map);
    agent_free(a);
    return rc;
}

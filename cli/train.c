/* cmd_train.c - `equigrid train`, `eval`, `qvalues` and `config show`:
 * argument parsing and wiring of config, agent and trainer. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../agents/agent.h"
#include "../nn/gemm.h"
#include "../agents/train.h"
#include "cmd.h"

enum { MAX_SETS = 64 };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Collects "--set k=v" (also "--set=k=v") pairs; returns the index of a
 * consumed option or 0 if argv[i] is not one. */
static int take_set(int argc, char **argv, int i, const char **sets, int *nsets)
{
    if (strcmp(argv[i], "--set") == 0) {
        if (i + 1 >= argc || *nsets >= MAX_SETS)
            return -1;
        sets[(*nsets)++] = argv[i + 1];
        return 2;
    }
    if (strncmp(argv[i], "--set=", 6) == 0 && *nsets < MAX_SETS) {
        sets[(*nsets)++] = argv[i] + 6;
        return 1;
    }
    return 0;
}

/* Loads CONFIG, applies the overrides, validates; prints errors itself. */
static int load_config(Config *cfg, const char *path, const char **sets, int nsets, const char *cmd)
{
    char err[1024];
    config_default(cfg);
    if (config_load(cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return -1;
    }
    for (int i = 0; i < nsets; i++)
        if (config_set(cfg, sets[i], err, sizeof err) != 0) {
            fprintf(stderr, "equigrid %s: %s\n", cmd, err);
            return -1;
        }
    if (config_validate(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s: %s\n", cmd, path, err);
        return -1;
    }
    if (!cfg->run.name[0]) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t len = strcspn(base, ".");
        snprintf(cfg->run.name, sizeof cfg->run.name, "%.*s", (int)len, base);
    }
    return 0;
}

static void train_usage(FILE *f)
{
    fprintf(f, "usage: equigrid train CONFIG [--set section.key=value ...] [--out DIR] [--resume] [--quiet]\n\n"
               "Trains a DQN agent as CONFIG says and writes a run directory (default runs/NAME,\n"
               "NAME = [run] name or the config file's stem): config.ini, metrics.csv (one row\n"
               "per episode), eval.csv (one row per evaluation) and checkpoint.safetensors.\n"
               "Ctrl-C stops after the current step, writes a checkpoint and flushes the CSVs;\n"
               "--resume continues the run exactly where it stopped.\n\n"
               "  --set k=v   override any config key (repeatable), e.g. --set train.lr=1e-3\n"
               "  --out DIR   run directory\n"
               "  --resume    continue the run in DIR from its checkpoint\n"
               "  --quiet     no progress bar and no summary\n\n"
               "Keys and their defaults:\n");
    config_print_keys(f);
}

int cmd_train(int argc, char **argv)
{
    const char *sets[MAX_SETS], *config = NULL, *out = NULL;
    int nsets = 0, resume = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        int k = take_set(argc, argv, i, sets, &nsets);
        if (k < 0) {
            fprintf(stderr, "equigrid train: --set needs section.key=value (at most %d)\n", MAX_SETS);
            return 2;
        }
        if (k > 0) {
            i += k - 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            train_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--resume") == 0) {
            resume = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = 1;
        } else if (argv[i][0] != '-' && !config) {
            config = argv[i];
        } else {
            fprintf(stderr, "equigrid train: unexpected argument '%s' (see equigrid train --help)\n", argv[i]);
            return 2;
        }
    }
    if (!config) {
        train_usage(stderr);
        return 2;
    }
    Config cfg;
    if (load_config(&cfg, config, sets, nsets, "train") != 0)
        return 1;
    char dir[1024];
    if (!out) {
        if (mkdir("runs", 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "equigrid train: runs: cannot create: %s\n", strerror(errno));
            return 1;
        }
        snprintf(dir, sizeof dir, "runs/%s", cfg.run.name);
        out = dir;
    }
    gemm_set_threads(cfg.run.threads);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    TrainOptions opt = {.out_dir = out, .resume = resume, .progress = !quiet && isatty(2), .stop = &stop_requested, .log = quiet ? NULL : stderr};
    TrainResult res;
    char err[1024];
    if (!quiet && strcmp(cfg.symmetry.method, "none") == 0)
        fprintf(stderr, "equigrid train: %s (%s, plain DQN) -> %s%s\n", cfg.run.name, cfg.env.name, out, resume ? " (resuming)" : "");
    else if (!quiet)
        fprintf(stderr, "equigrid train: %s (%s, %s over %s) -> %s%s\n", cfg.run.name, cfg.env.name, cfg.symmetry.method, cfg.symmetry.group, out, resume ? " (resuming)" : "");
    if (train_run(&cfg, &opt, &res, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid train: %s\n", err);
        return 1;
    }
    if (res.interrupted) {
        fprintf(stderr, "equigrid train: interrupted at step %ld; checkpoint and CSVs written to %s; continue with: equigrid train %s --out %s --resume\n", res.steps, out, config, out);
        return 130;
    }
    if (!quiet) {
        if (res.steps_run != res.steps)
            printf("trained %ld steps (%ld in this run), %ld episodes; this run took %.1f s (%.0f steps/s, %.0f updates)\n", res.steps, res.steps_run, res.episodes, res.seconds,
                   res.seconds > 0 ? (double)res.steps_run / res.seconds : 0.0, res.updates);
        else
            printf("trained %ld steps, %ld episodes in %.1f s (%.0f steps/s, %.0f updates)\n", res.steps, res.episodes, res.seconds, res.seconds > 0 ? (double)res.steps / res.seconds : 0.0, res.updates);
        printf("eval over %d episodes: return %.3f ± %.3f, success %.1f %%, length %.1f ± %.1f\n", res.final.episodes, res.final.ret_mean, res.final.ret_std, 100.0 * res.final.success, res.final.len_mean, res.final.len_std);
        printf("run directory: %s\n", out);
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    const char *sets[MAX_SETS], *ckpt = NULL;
    int nsets = 0, episodes = -1, json = 0;
    for (int i = 1; i < argc; i++) {
        int k = take_set(argc, argv, i, sets, &nsets);
        if (k < 0) {
            fprintf(stderr, "equigrid eval: --set needs section.key=value\n");
            return 2;
        }
        if (k > 0) {
            i += k - 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: equigrid eval CHECKPOINT [--episodes N] [--set env.orientation=random ...] [--json]\n\n"
                   "Greedy evaluation (epsilon = [eval] eval_epsilon) of a checkpoint on fresh episodes of\n"
                   "its env; --set changes the env (or any key) for this evaluation only. Prints the mean\n"
                   "and standard deviation of return, success and length; --json as one JSON object.\n");
            return 0;
        } else if (strcmp(argv[i], "--episodes") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "equigrid eval: --episodes %s: expected an integer in 1..1000000\n", argv[i]);
                return 2;
            }
            episodes = (int)v;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] != '-' && !ckpt) {
            ckpt = argv[i];
        } else {
            fprintf(stderr, "equigrid eval: unexpected argument '%s' (see equigrid eval --help)\n", argv[i]);
            return 2;
        }
    }
    if (!ckpt) {
        fprintf(stderr, "usage: equigrid eval CHECKPOINT [--episodes N] [--set k=v ...] [--json]\n");
        return 2;
    }
    char err[1024];
    Agent *a = agent_load(ckpt, sets, nsets, err, sizeof err);
    if (!a) {
        fprintf(stderr, "equigrid eval: %s\n", err);
        return 1;
    }
    EnvConfig ec;
    EnvMap *map = malloc(sizeof *map);
    EvalResult ev;
    int rc = 1;
    if (!map || agent_env_config(&a->cfg, &ec, map, err, sizeof err) != 0 || evaluate(a, &ec, map, episodes > 0 ? episodes : a->cfg.eval.eval_episodes, a->cfg.eval.eval_epsilon, &ev, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid eval: %s\n", map ? err : "out of memory");
    } else {
        if (json)
            printf("{\"return\": {\"mean\": %.6g, \"std\": %.6g}, \"success\": {\"mean\": %.6g, \"std\": %.6g}, \"length\": {\"mean\": %.6g, \"std\": %.6g}, \"episodes\": %d}\n", ev.ret_mean, ev.ret_std, ev.success, ev.success_std, ev.len_mean, ev.len_std, ev.episodes);
        else
            printf("%d episodes of %s (orientation %s): return %.3f ± %.3f, success %.1f %% ± %.1f, length %.1f ± %.1f\n", ev.episodes, a->cfg.env.name, a->cfg.env.orientation, ev.ret_mean, ev.ret_std, 100.0 * ev.success, 100.0 * ev.success_std, ev.len_mean, ev.len_std);
        rc = 0;
    }
    free(map);
    agent_free(a);
    return rc;
}

static void print_floats(const float *x, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++)
        printf(i ? ", %.7g" : "%.7g", x[i]);
    putchar(']');
}

int cmd_qvalues(int argc, char **argv)
{
    const char *ckpt = NULL, *mapfile = NULL;
    int orient = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: equigrid qvalues CHECKPOINT --map FILE [--orient i]\n\n"
                   "Prints as JSON the Q-values the agent acts on in the start state of the map (its\n"
                   "first 'A'), after applying group element i (0-7) to the state when given. For a\n"
                   "symmetrized agent also each view's Q-values mapped back by rho(h), its weight and\n"
                   "(equizero) the chosen element.\n");
            return 0;
        } else if (strcmp(argv[i], "--map") == 0 && i + 1 < argc) {
            mapfile = argv[++i];
        } else if (strcmp(argv[i], "--orient") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (s[0] < '0' || s[0] > '7' || s[1]) {
                fprintf(stderr, "equigrid qvalues: --orient %s: expected a group element index 0-7\n", s);
                return 2;
            }
            orient = s[0] - '0';
        } else if (argv[i][0] != '-' && !ckpt) {
            ckpt = argv[i];
        } else {
            fprintf(stderr, "equigrid qvalues: unexpected argument '%s' (see equigrid qvalues --help)\n", argv[i]);
            return 2;
        }
    }
    if (!ckpt || !mapfile) {
        fprintf(stderr, "usage: equigrid qvalues CHECKPOINT --map FILE [--orient i]\n");
        return 2;
    }
    char err[1024];
    Agent *a = agent_load(ckpt, NULL, 0, err, sizeof err);
    EnvMap *map = malloc(sizeof *map);
    int rc = 1;
    if (!a || !map) {
        fprintf(stderr, "equigrid qvalues: %s\n", a ? "out of memory" : err);
        goto done;
    }
    if (env_map_load(map, mapfile, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid qvalues: %s\n", err);
        goto done;
    }
    if (map->n != a->n) {
        fprintf(stderr, "equigrid qvalues: %s is %dx%d but the checkpoint's network takes %dx%d grids\n", mapfile, map->n, map->n, a->n, a->n);
        goto done;
    }
    EnvConfig ec;
    env_config_default(&ec, ENV_MAP);
    snprintf(ec.map_path, sizeof ec.map_path, "%s", mapfile);
    Env env;
    if (env_init(&env, &ec, map, 0, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid qvalues: %s\n", err);
        goto done;
    }
    /* plane k is bit k of a cell: a network with fewer planes (goal: wall,
     * agent, goal) reads a map exactly as long as the map has no cell kind
     * beyond its planes */
    for (int i = 0; i < map->n * map->n; i++)
        if (map->cells[i] >> a->C) {
            fprintf(stderr, "equigrid qvalues: %s has lava but the checkpoint's network takes %d planes (wall, agent, goal): it was trained on '%s'\n", mapfile, a->C, a->cfg.env.name);
            goto done;
        }
    env_set_state(&env, map->cells, map->starts[0]);
    env_transform(&env, orient);
    uint8_t obs[ENV_MAX_CELLS];
    env_observe(&env, obs);
    const float *q = agent_q(a, obs, 1);
    if (!q) {
        fprintf(stderr, "equigrid qvalues: out of memory\n");
        goto done;
    }
    static const char *names[] = {"up", "right", "down", "left", "stay"};
    printf("{\"actions\": [");
    for (int i = 0; i < a->A; i++)
        printf(i ? ", \"%s\"" : "\"%s\"", names[i]);
    printf("], \"orient\": %d, \"q\": ", orient);
    print_floats(q, a->A);
    if (a->sym.method != SYM_NONE) {
        const float *vq = qmodel_view_q(a->online, 0), *w = qmodel_view_weight(a->online, 0);
        printf(", \"method\": \"%s\", \"views\": [", sym_method_name(a->sym.method));
        for (int i = 0; i < a->sym.group.n; i++) {
            printf(i ? ", {\"element\": %d, \"q\": " : "{\"element\": %d, \"q\": ", a->sym.group.elem[i]);
            print_floats(vq + (size_t)i * a->A, a->A);
            printf(", \"weight\": %.7g}", w[i]);
        }
        putchar(']');
        if (a->sym.method == SYM_EQUIZERO)
            printf(", \"chosen\": %d", qmodel_chosen(a->online, 0));
    }
    printf("}\n");
    rc = 0;
done:
    free(map);
    agent_free(a);
    return rc;
}

int cmd_config(int argc, char **argv)
{
    const char *sets[MAX_SETS], *config = NULL;
    int nsets = 0;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "show") != 0) {
        FILE *f = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout : stderr;
        fprintf(f, "usage: equigrid config show CONFIG [--set section.key=value ...]\n\n"
                   "Prints the effective config with every default filled in. Keys:\n");
        config_print_keys(f);
        return f == stdout ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        int k = take_set(argc, argv, i, sets, &nsets);
        if (k > 0)
            i += k - 1;
        else if (k == 0 && argv[i][0] != '-' && !config)
            config = argv[i];
        else {
            fprintf(stderr, "equigrid config show: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "usage: equigrid config show CONFIG [--set section.key=value ...]\n");
        return 2;
    }
    Config cfg;
    if (load_config(&cfg, config, sets, nsets, "config show") != 0)
        return 1;
    config_write_ini(&cfg, stdout);
    return 0;
}

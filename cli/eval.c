/* eval.c - `equigrid eval`: greedy evaluation of a checkpoint on fresh
 * episodes of its env (or of the env the overrides give). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../agents/agent.h"
#include "../agents/train.h"
#include "cmd.h"

int cmd_eval(int argc, char **argv)
{
    const char *sets[CLI_MAX_SETS], *ckpt = NULL;
    int nsets = 0, episodes = -1, json = 0;
    for (int i = 1; i < argc; i++) {
        int k = cli_take_set(argc, argv, i, sets, &nsets);
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
                   "and standard deviation of return, success and length, and w_pretrain: the mean weight\n"
                   "the symmetrizer puts on the view that undoes the episode's orientation (the view of\n"
                   "the pretraining orientation); --json as one JSON object.\n");
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
            printf("{\"return\": {\"mean\": %.6g, \"std\": %.6g}, \"success\": {\"mean\": %.6g, \"std\": %.6g}, \"length\": {\"mean\": %.6g, \"std\": %.6g}, \"episodes\": %d, \"w_pretrain\": %.6g}\n", ev.ret_mean, ev.ret_std, ev.success, ev.success_std, ev.len_mean, ev.len_std, ev.episodes, ev.w_pretrain);
        else
            printf("%d episodes of %s (orientation %s): return %.3f ± %.3f, success %.1f %% ± %.1f, length %.1f ± %.1f, weight on the pretraining view %.3f\n", ev.episodes, a->cfg.env.name, a->cfg.env.orientation, ev.ret_mean, ev.ret_std, 100.0 * ev.success, 100.0 * ev.success_std, ev.len_mean, ev.len_std, ev.w_pretrain);
        rc = 0;
    }
    free(map);
    agent_free(a);
    return rc;
}

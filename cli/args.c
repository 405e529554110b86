/* args.c - command-line glue shared by the config-driven subcommands
 * (train, eval, config show): --set collection and loading a config with its
 * overrides. See cmd.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* Collects "--set k=v" (also "--set=k=v") pairs; returns the index of a
 * consumed option or 0 if argv[i] is not one. */
int cli_take_set(int argc, char **argv, int i, const char **sets, int *nsets)
{
    if (strcmp(argv[i], "--set") == 0) {
        if (i + 1 >= argc || *nsets >= CLI_MAX_SETS)
            return -1;
        sets[(*nsets)++] = argv[i + 1];
        return 2;
    }
    if (strncmp(argv[i], "--set=", 6) == 0 && *nsets < CLI_MAX_SETS) {
        sets[(*nsets)++] = argv[i] + 6;
        return 1;
    }
    return 0;
}

/* Loads CONFIG, applies the overrides, validates; prints errors itself. */
int cli_load_config(Config *cfg, const char *path, const char **sets, int nsets, const char *cmd)
{
    char err[1200];
    if (config_read(cfg, path, sets, nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
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

int cli_take_progress_every(int argc, char **argv, int i, double *every, const char *cmd)
{
    if (strcmp(argv[i], "--progress-every") != 0)
        return 0;
    char *end = NULL;
    double v = i + 1 < argc ? strtod(argv[i + 1], &end) : 0.0;
    if (i + 1 >= argc || end == argv[i + 1] || *end || !(v >= 0.1 && v <= 86400.0)) {
        fprintf(stderr, "equigrid %s: --progress-every %s: expected seconds in [0.1, 86400]\n", cmd, i + 1 < argc ? argv[i + 1] : "(missing)");
        return -1;
    }
    *every = v;
    return 2;
}

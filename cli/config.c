/* config.c - `equigrid config show`: the effective config of a file with
 * its overrides, every default filled in. */
#include <stdio.h>
#include <string.h>

#include "../configs/config.h"
#include "cmd.h"

int cmd_config(int argc, char **argv)
{
    const char *sets[CLI_MAX_SETS], *config = NULL;
    int nsets = 0;
    if (argc >= 2 && argv[1][0] != '-' && strcmp(argv[1], "show") != 0) {
        fprintf(stderr, "equigrid config: the subcommand is missing before '%s'; did you mean: equigrid config show %s ? (config has one subcommand, show)\n", argv[1], argv[1]);
        return 2;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "show") != 0) {
        FILE *f = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout : stderr;
        fprintf(f, "usage: equigrid config show CONFIG [--set section.key=value ...]\n\n"
                   "Prints the effective config with every default filled in. Keys:\n");
        config_print_keys(f);
        return f == stdout ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        int k = cli_take_set(argc, argv, i, sets, &nsets);
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
    if (cli_load_config(&cfg, config, sets, nsets, "config show") != 0)
        return 1;
    config_write_ini(&cfg, stdout);
    return 0;
}

/* main.c - the equigrid program: parses the subcommand and hands over to its
 * cli/ file, which wires the modules together. */
#include <stdio.h>
#include <string.h>

#include "../agents/agent.h"
#include "../core/suggest.h"
#include "cmd.h"

/* The program version, printed by --version with the checkpoint format. */
#define EQUIGRID_VERSION "0.1.0"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"train", cmd_train, "train a DQN agent from a config"},
    {"eval", cmd_eval, "evaluate a checkpoint greedily"},
    {"qvalues", cmd_qvalues, "print a checkpoint's Q-values on a map's start state (JSON)"},
    {"export", cmd_export, "write a checkpoint's networks alone (no replay, Adam or trainer state)"},
    {"plot", cmd_plot, "learning curves of one or more runs (PNG or SVG)"},
    {"config", cmd_config, "config show: print the effective config"},
    {"watch", cmd_watch, "show a checkpoint's agent playing in a window"},
    {"play", cmd_play, "play an environment yourself with the arrow keys"},
    {"record", cmd_record, "write greedy episodes as an animated GIF / PNG frames (headless)"},
    {"show", cmd_show, "print an environment's layout as text"},
    {"bench", cmd_bench, "measure env, GEMM and training throughput"},
    {"compare", cmd_compare, "train variants x seeds, summary statistics and plots"},
    {"transfer", cmd_transfer, "the transfer experiment: pretrain, zero-shot, fine-tune"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: equigrid COMMAND [ARGS...]   (equigrid COMMAND --help for details; equigrid --version)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("equigrid %s (checkpoint format %s)\n", EQUIGRID_VERSION, AGENT_FORMAT);
        return 0;
    }
    enum { NCMD = sizeof commands / sizeof commands[0] };
    const char *names[NCMD];
    for (size_t i = 0; i < NCMD; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
        names[i] = commands[i].name;
    }
    int near = suggest_nearest(argv[1], names, NCMD);
    if (near >= 0)
        fprintf(stderr, "equigrid: unknown command '%s'; did you mean '%s'?\n", argv[1], names[near]);
    else
        fprintf(stderr, "equigrid: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

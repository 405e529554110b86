/* cmd.h - the subcommands of the equigrid program. Each takes the arguments
 * after its name (argv[0] is the subcommand) and returns the process exit
 * status; these are the I/O glue that may print and exit (the libraries
 * below only return errors). */
#ifndef EQUIGRID_CMD_H
#define EQUIGRID_CMD_H

#include <stdio.h>

#include "../configs/config.h"
#include "../render/window.h"
#include "episode.h"

int cmd_show(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_qvalues(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_transfer(int argc, char **argv);

/* --set options a config-driven command takes at most. */
enum { CLI_MAX_SETS = 64 };
/* If argv[i] is "--set k=v" or "--set=k=v", appends k=v to sets and returns
 * how many arguments it took (2 or 1); 0 if argv[i] is no --set; -1 when the
 * value is missing or sets already holds CLI_MAX_SETS. */
int cli_take_set(int argc, char **argv, int i, const char **sets, int *nsets);
/* Loads the INI config at path, applies the overrides, validates, and names
 * the run after the file's stem when [run] name is empty. Prints the error
 * as "equigrid CMD: ..." and returns -1, else 0. */
int cli_load_config(Config *cfg, const char *path, const char **sets, int nsets, const char *cmd);
/* Seconds between the plain progress lines that train, compare and transfer
 * print when standard error is not a terminal (a scheduler's log file). */
#define CLI_PROGRESS_EVERY 10.0
/* If argv[i] is "--progress-every S", stores S (seconds, 0.1 .. 86400) and
 * returns 2; 0 if argv[i] is not that option; -1 after printing an error
 * ("equigrid CMD: ...") for a missing or bad value. */
int cli_take_progress_every(int argc, char **argv, int i, double *every, const char *cmd);

/* Options of the window commands (watch, play). */
enum { WINDOW_MAX_SETS = 64 };
typedef struct {
    const char *target;                 /* checkpoint, config or env name */
    const char *sets[WINDOW_MAX_SETS];  /* --set section.key=value */
    int nsets;
    const char *script;                 /* --script, else $EQUIGRID_SCRIPT, else NULL */
    RenderScript keys;                  /* that script, parsed */
    int W, H;                           /* --size, 0 = default */
    long max_frames;                    /* --frames, 0 = no limit */
} WindowArgs;
/* Parses argv (argv[0] = the subcommand) and the key script. Returns 0 to go
 * on, 1 after printing --help, -1 after printing an error (exit status 2). */
int window_args_parse(WindowArgs *wa, int argc, char **argv, const char *cmd, void (*usage)(FILE *f));
/* Opens the W x H window "equigrid CMD - target" and a renderer, printing a
 * warning the renderer reports. Returns 0, or -1 after printing the error
 * (with the hint to render headless); the caller frees *win and *r either
 * way (both may be NULL). */
int window_open(RenderWindow **win, Render **r, const char *cmd, const char *target, int W, int H);
/* Call after showing a frame: 1 when that was frame --frames, else waits
 * for the next frame's time and returns 0. frames counts the frames shown. */
int window_next_frame(const WindowArgs *wa, long *frames);
/* Prints the closing line "equigrid CMD: WHY after N steps in ...". */
void window_summary(const char *cmd, const char *why, const Episode *ep);

#endif

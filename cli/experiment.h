/* experiment.h - the command-line glue shared by `equigrid compare` and
 * `equigrid transfer`: the program's own path for the child processes, the
 * number of runs at a time, the stop signals, running one compare spec and
 * writing its summary, each printing its errors as "equigrid CMD: ...". */
#ifndef EQUIGRID_CLI_EXPERIMENT_H
#define EQUIGRID_CLI_EXPERIMENT_H

#include <signal.h>
#include <stddef.h>

#include "../experiments/compare.h"

/* Raised by SIGINT or SIGTERM once experiment_install_signals ran: the
 * number of such signals (the run queue kills its children on the second). */
extern volatile sig_atomic_t experiment_stop;
/* Seconds between plain progress lines when stderr is not a terminal
 * (CLI_PROGRESS_EVERY unless --progress-every changed it). */
extern double experiment_progress_every;
/* 0 while no stop signal came, else 128 + the last one (130 SIGINT, 143
 * SIGTERM): the exit status of an interrupted compare or transfer. */
int experiment_stopped_status(void);

/* Absolute path of this program into buf (argv as passed to the subcommand:
 * argv[-1] is the program's own argv[0]). 0, or -1 when it cannot be found. */
int experiment_self_exe(char *buf, size_t len, char **argv);
/* Runs at a time: --jobs if given (> 0), else the spec's jobs, else the
 * number of online cores. */
int experiment_default_jobs(int spec_jobs, int cli_jobs);
/* Parses a --jobs value (1..1024) into *jobs; prints the error for cmd. */
int experiment_parse_jobs(const char *cmd, const char *s, int *jobs);
/* SIGINT and SIGTERM raise experiment_stop (the first stops the runs
 * cleanly, a second kills them). */
void experiment_install_signals(void);
/* Runs one spec locally; prints progress (unless quiet) and failures;
 * returns 0, 1 (failures) or 130 (interrupted). */
int experiment_run_spec(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, int jobs, int quiet, const char *cmd);
/* Writes s as a job list (experiments/jobs.h) to path, atomically, with
 * the working directory as the jobs' cwd; returns the number of jobs, or -1
 * after printing "equigrid CMD: PATH: what was wrong". */
int experiment_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *path, const char *cmd);
/* Summarises s's finished runs and writes the summary files; 0 or 1. */
int experiment_summarize(const CompareSpec *s, const char *cmd, int quiet);

#endif

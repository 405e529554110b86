/* train.c - `equigrid train`: argument parsing and wiring of config, agent
 * and trainer; Ctrl-C stops cleanly and --resume continues. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../agents/train.h"
#include "../nn/gemm.h"
#include "cmd.h"

static volatile sig_atomic_t stop_requested;

/* The signal that asked to stop (SIGINT or SIGTERM), 0 while none did. */
static void on_signal(int sig)
{
    stop_requested = sig;
}

/* Prints s for a POSIX shell: as is when it holds only safe characters,
 * else in single quotes (a quote inside as '\''). */
static void print_quoted(FILE *f, const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=,:+-@%") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The command that continues this run: the same config and --set overrides,
 * its run directory and --resume. */
static void print_resume_command(FILE *f, const char *config, const char *const *sets, int nsets, const char *out)
{
    fputs("equigrid train ", f);
    print_quoted(f, config);
    for (int i = 0; i < nsets; i++) {
        fputs(" --set ", f);
        print_quoted(f, sets[i]);
    }
    fputs(" --out ", f);
    print_quoted(f, out);
    fputs(" --resume", f);
}

/* Without --out: runs/NAME, or when that already holds a run, the first of
 * runs/NAME-2, runs/NAME-3, ... that does not (--resume: runs/NAME). */
static int default_out(char *dir, size_t len, const char *name, int resume)
{
    if (mkdir("runs", 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "equigrid train: runs: cannot create: %s\n", strerror(errno));
        return -1;
    }
    for (int k = 1; k < 10000; k++) {
        if (k == 1)
            snprintf(dir, len, "runs/%s", name);
        else
            snprintf(dir, len, "runs/%s-%d", name, k);
        char m[1100], c[1100];
        snprintf(m, sizeof m, "%s/metrics.csv", dir);
        snprintf(c, sizeof c, "%s/checkpoint.safetensors", dir);
        if (resume || (access(m, F_OK) != 0 && access(c, F_OK) != 0))
            return 0;
    }
    fprintf(stderr, "equigrid train: runs/%s-2 .. runs/%s-9999 all hold runs; use --out\n", name, name);
    return -1;
}

static void train_usage(FILE *f)
{
    fprintf(f, "usage: equigrid train CONFIG [--set section.key=value ...] [--out DIR] [--resume] [--quiet]\n"
               "                      [--progress-every S]\n\n"
               "Trains a DQN agent as CONFIG says and writes a run directory (default runs/NAME,\n"
               "NAME = [run] name or the config file's stem): config.ini, metrics.csv (one row\n"
               "per episode), eval.csv (one row per evaluation) and checkpoint.safetensors.\n"
               "Ctrl-C stops after the current step, writes a checkpoint and flushes the CSVs;\n"
               "--resume continues the run exactly where it stopped.\n\n"
               "  --set k=v   override any config key (repeatable), e.g. --set train.lr=1e-3\n"
               "  --out DIR   run directory\n"
               "  --resume    continue the run in DIR from its checkpoint\n"
               "  --quiet     no progress display and no summary\n"
               "  --progress-every S  when stderr is not a terminal (a log file, a scheduler), print\n"
               "              one plain progress line every S seconds instead of the bar (default 10)\n\n"
               "Keys and their defaults:\n");
    config_print_keys(f);
}

int cmd_train(int argc, char **argv)
{
    const char *sets[CLI_MAX_SETS], *config = NULL, *out = NULL;
    int nsets = 0, resume = 0, quiet = 0;
    double every = CLI_PROGRESS_EVERY;
    for (int i = 1; i < argc; i++) {
        int k = cli_take_set(argc, argv, i, sets, &nsets);
        if (k < 0) {
            fprintf(stderr, "equigrid train: --set needs section.key=value (at most %d)\n", CLI_MAX_SETS);
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
        } else if (strcmp(argv[i], "--progress-every") == 0) {
            if (cli_take_progress_every(argc, argv, i++, &every, "train") < 0)
                return 2;
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
    if (cli_load_config(&cfg, config, sets, nsets, "train") != 0)
        return 1;
    char dir[1024];
    if (!out) {
        if (default_out(dir, sizeof dir, cfg.run.name, resume) != 0)
            return 1;
        char first[1024];
        snprintf(first, sizeof first, "runs/%s", cfg.run.name);
        if (strcmp(dir, first) != 0)
            fprintf(stderr, "equigrid train: %s already holds a run; this one goes to %s (--out DIR chooses, --resume continues %s)\n", first, dir, first);
        out = dir;
    }
    if (cfg.train.steps <= cfg.train.learning_starts)
        fprintf(stderr, "equigrid train: warning: train.steps = %ld <= train.learning_starts = %ld: no gradient step will be taken (the network stays as initialised)\n", cfg.train.steps,
                cfg.train.learning_starts);
    gemm_set_threads(1); /* run.threads splits equigrid's kernels, their GEMMs included (nn/pool.h) */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    TrainOptions opt = {.out_dir = out, .resume = resume, .progress = !quiet, .progress_style = isatty(2) ? PROGRESS_BAR : PROGRESS_LINE, .progress_every = every, .stop = &stop_requested, .log = quiet ? NULL : stderr};
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
        fprintf(stderr, "equigrid train: interrupted at step %ld; checkpoint and CSVs written to %s; continue with: ", res.steps, out);
        print_resume_command(stderr, config, sets, nsets, out);
        fputc('\n', stderr);
        return 128 + (stop_requested ? (int)stop_requested : SIGINT);
    }
    if (res.already_finished) {
        fprintf(stderr, "equigrid train: %s already finished at step %ld (train.steps = %ld); nothing changed (--set train.steps=N with a larger N continues it)\n", out, res.steps, cfg.train.steps);
        return 0;
    }
    if (!quiet) {
        if (res.steps_run != res.steps)
            printf("trained %ld steps (%ld in this run), %ld episodes; this run took %.1f s (%.0f steps/s, %.0f updates)\n", res.steps, res.steps_run, res.episodes, res.seconds,
                   res.seconds > 0 ? (double)res.steps_run / res.seconds : 0.0, res.updates);
        else
            printf("trained %ld steps, %ld episodes in %.1f s (%.0f steps/s, %.0f updates)\n", res.steps, res.episodes, res.seconds, res.seconds > 0 ? (double)res.steps / res.seconds : 0.0, res.updates);
        if (res.prior_updates > 0)
            printf("canonicalization prior: %ld updates before the first env step, its loss %.4f on the first, %.4f on the last\n", res.prior_updates, (double)res.prior_loss_first, (double)res.prior_loss_last);
        printf("eval over %d episodes: return %.3f ± %.3f, success %.1f %%, length %.1f ± %.1f\n", res.final.episodes, res.final.ret_mean, res.final.ret_std, 100.0 * res.final.success, res.final.len_mean, res.final.len_std);
        printf("run directory: %s\n", out);
    }
    return 0;
}

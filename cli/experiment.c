/* experiment.c - glue shared by compare and transfer (see experiment.h). */
#include "experiment.h"
#include "cmd.h"

#include "../core/atomicfile.h"
#include "../core/file.h"
#include "../experiments/jobs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t experiment_stop, experiment_signal;
double experiment_progress_every = CLI_PROGRESS_EVERY;

/* Counts the stop requests (the queue escalates on the second) and keeps
 * the signal for the exit status. */
static void on_signal(int sig)
{
    experiment_signal = sig;
    if (experiment_stop < 100)
        experiment_stop = experiment_stop + 1;
}

int experiment_stopped_status(void)
{
    return experiment_stop ? 128 + (int)experiment_signal : 0;
}

void experiment_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int experiment_self_exe(char *buf, size_t len, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n > 0) {
        buf[n] = '\0';
        return 0;
    }
    /* main passes argv + 1: argv[-1] is the program's own argv[0] */
    char cwd[PATH_MAX];
    const char *a0 = argv[-1];
    if (!a0 || !strchr(a0, '/'))
        return -1;
    if (a0[0] == '/')
        snprintf(buf, len, "%s", a0);
    else if (getcwd(cwd, sizeof cwd) && strlen(cwd) + strlen(a0) + 2 <= len) {
        strcpy(buf, cwd);
        strcat(buf, "/");
        strcat(buf, a0);
    } else
        return -1;
    return 0;
}

int experiment_default_jobs(int spec_jobs, int cli_jobs)
{
    if (cli_jobs > 0)
        return cli_jobs;
    if (spec_jobs > 0)
        return spec_jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int experiment_parse_jobs(const char *cmd, const char *s, int *jobs)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 1024) {
        fprintf(stderr, "equigrid %s: --jobs %s: expected an integer in 1..1024\n", cmd, s);
        return -1;
    }
    *jobs = (int)v;
    return 0;
}

int experiment_run_spec(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, int jobs, int quiet, const char *cmd)
{
    char err[2048];
    CompareRunOptions opt = {.exe = exe, .jobs = jobs, .stop = &experiment_stop, .log = stderr, .progress = !quiet,
                             .progress_style = isatty(2) ? PROGRESS_BAR : PROGRESS_LINE, .progress_every = experiment_progress_every};
    CompareRunResult res;
    if (!quiet)
        fprintf(stderr, "equigrid %s: %s: %d variants x %d seeds -> %s (%d at a time)\n", cmd, s->name, s->nvariants, s->nseeds, s->out, jobs);
    if (compare_execute(s, sets, nsets, &opt, &res, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "equigrid %s: %s: %d runs: %d already finished, %d ran, %d failed%s\n", cmd, s->name, res.total, res.skipped, res.succeeded, res.failed, res.interrupted ? ", some interrupted" : "");
    if (experiment_stop || res.interrupted) {
        fprintf(stderr, "equigrid %s: interrupted; %s; run the same command again to resume\n", cmd,
                experiment_stop >= 2 ? "the runs were killed and resume from their last checkpoints" : "the runs checkpointed");
        return experiment_stop ? experiment_stopped_status() : 130;
    }
    return res.failed ? 1 : 0;
}

int experiment_emit_jobs(const CompareSpec *s, const char *const *sets, int nsets, const char *exe, const char *path, const char *cmd)
{
    char cwd[PATH_MAX], err[2048];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "equigrid %s: cannot tell the working directory: %s\n", cmd, strerror(errno));
        return -1;
    }
    AtomicFile *af = atomicfile_open(path, err, sizeof err);
    if (!af) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return -1;
    }
    int n = compare_emit_jobs(s, sets, nsets, exe, cwd, atomicfile_stream(af), err, sizeof err);
    if (n < 0) {
        atomicfile_abort(af);
        fprintf(stderr, "equigrid %s: %s: %s\n", cmd, path, err);
        return -1;
    }
    if (atomicfile_commit(af, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return -1;
    }
    return n;
}

int experiment_summarize(const CompareSpec *s, const char *cmd, int quiet)
{
    char err[2048];
    CompareSummary sum;
    if (compare_summarize(s, &sum, stderr, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    int rc = compare_write_summary(&sum, s->out, err, sizeof err);
    compare_summary_free(&sum);
    if (rc != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return 1;
    }
    if (!quiet) {
        /* the table at the end, as transfer prints its report */
        char path[CMP_PATH + 16], chunk[4096];
        snprintf(path, sizeof path, "%s/summary.md", s->out);
        FILE *f = file_open_read(path, err, sizeof err);
        for (size_t n; f && (n = fread(chunk, 1, sizeof chunk, f)) > 0;)
            fwrite(chunk, 1, n, stdout);
        if (f)
            fclose(f);
        printf("\nsummary: %s/summary.md, %s/summary.csv; plots: %s/curves.png, %s/curves.svg\n", s->out, s->out, s->out, s->out);
    }
    return 0;
}

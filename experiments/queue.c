/* queue.c - the local run queue (see queue.h): every unfinished run as a
 * child `equigrid train` process, a fixed number at a time. It polls waitpid
 * every 50 ms so that it can redraw the progress bar and forward a stop
 * request without relying on interrupted system calls. */
#include "queue.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/atomicfile.h"
#include "../core/clock.h"
#include "../core/errmsg.h"
#include "../core/progress.h"
#include "plan.h"
#include "rundir.h"

typedef struct {
    pid_t pid;
    int variant;
    uint64_t seed;
    int signalled;
} Child;

static void print_tail(FILE *log, const char *path, int lines)
{
    char *text = compare_read_text(path);
    if (!text) {
        fprintf(log, "    (no log at %s)\n", path);
        return;
    }
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    const char *p = text + n;
    int k = 0;
    while (p > text && k < lines) {
        p--;
        if (*p == '\n')
            k++;
    }
    if (*p == '\n')
        p++;
    for (const char *q = p; *q;) {
        const char *eol = strchr(q, '\n');
        size_t len = eol ? (size_t)(eol - q) : strlen(q);
        /* a progress bar's carriage returns: keep the last segment */
        const char *cr = q;
        for (const char *c = q; c < q + len; c++)
            if (*c == '\r')
                cr = c + 1;
        fprintf(log, "    %.*s\n", (int)(q + len - cr), cr);
        q += len + (eol ? 1 : 0);
    }
    free(text);
}

static void draw_progress(FILE *log, const CompareRunResult *r, int running, int finished_now, double t0, int remaining)
{
    double elapsed = clock_seconds() - t0;
    char detail[64];
    snprintf(detail, sizeof detail, "%d running  %d failed", running, r->failed);
    Progress p = {.done = r->skipped + r->succeeded + r->failed, .total = r->total, .unit = "runs", .elapsed = elapsed,
                  .eta = finished_now > 0 ? elapsed / finished_now * remaining : -1.0, .detail = detail};
    progress_print(log, PROGRESS_BAR, &p);
}

static void launch_child(const char *dir, char **argv)
{
    char path[CMP_PATH * 2 + 16];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0)
        _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execv(argv[0], argv);
    dprintf(2, "equigrid compare: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int compare_execute(const CompareSpec *s, const char *const *sets, int nsets, const CompareRunOptions *opt, CompareRunResult *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    int total = s->nvariants * s->nseeds, jobs = opt->jobs > 0 ? opt->jobs : 1;
    res->total = total;
    Child *kids = calloc((size_t)jobs, sizeof *kids);
    if (!kids) {
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    char dir[CMP_PATH * 2], path[CMP_PATH * 2 + 32];
    /* skip finished runs up front so the progress bar and ETA count real work */
    int *pending = malloc((size_t)total * sizeof *pending), npending = 0;
    if (!pending) {
        free(kids);
        errmsg_set(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < total; i++) {
        compare_run_dir(s, i / s->nseeds, s->seeds[i % s->nseeds], dir, sizeof dir);
        if (compare_run_state(dir) == RUN_DONE)
            res->skipped++;
        else
            pending[npending++] = i;
    }
    double t0 = clock_seconds(), last_draw = 0;
    int next = 0, running = 0, finished_now = 0, rc = 0, forwarded = 0;
    for (;;) {
        int stopping = opt->stop && *opt->stop;
        /* stopping (or failing) launches nothing more: the loop ends once
         * the running children have exited, queued runs or not */
        if (running == 0 && (stopping || rc != 0 || next >= npending))
            break;
        if (stopping && !forwarded) {
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid > 0)
                    kill(kids[j].pid, SIGINT);
            forwarded = 1;
        }
        if (opt->stop && *opt->stop >= 2 && forwarded < 2) {
            /* a second signal: no waiting for checkpoints */
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid > 0)
                    kill(kids[j].pid, SIGKILL);
            forwarded = 2;
        }
        /* launch */
        while (!stopping && rc == 0 && next < npending && running < jobs) {
            int i = pending[next++], v = i / s->nseeds;
            uint64_t seed = s->seeds[i % s->nseeds];
            compare_run_dir(s, v, seed, dir, sizeof dir);
            if (compare_mkdir_p(dir, err, errlen) != 0) {
                rc = -1;
                break;
            }
            RunState st = compare_run_state(dir);
            if (st == RUN_STALE) {
                static const char *const stale[] = {"metrics.csv", "eval.csv", "config.ini"};
                for (int k = 0; k < 3; k++) {
                    snprintf(path, sizeof path, "%s/%s", dir, stale[k]);
                    remove(path);
                }
            }
            char **argv;
            if (compare_run_argv(s, v, seed, sets, nsets, opt->exe, st == RUN_RESUME, &argv, err, errlen) != 0) {
                rc = -1;
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                errmsg_set(err, errlen, "cannot start a run: fork: %s", strerror(errno));
                compare_argv_free(argv);
                rc = -1;
                break;
            }
            if (pid == 0)
                launch_child(dir, argv);
            compare_argv_free(argv);
            int slot = 0;
            while (kids[slot].pid > 0)
                slot++;
            kids[slot] = (Child){pid, v, seed, 0};
            running++;
            res->launched++;
        }
        if (rc != 0 && running == 0)
            continue;
        if (rc != 0 && !forwarded) {
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid > 0)
                    kill(kids[j].pid, SIGINT);
            forwarded = 1;
        }
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            int slot = -1;
            for (int j = 0; j < jobs; j++)
                if (kids[j].pid == pid)
                    slot = j;
            if (slot < 0)
                continue;
            Child c = kids[slot];
            kids[slot].pid = 0;
            running--;
            compare_run_dir(s, c.variant, c.seed, dir, sizeof dir);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (code == 0) {
                snprintf(path, sizeof path, "%s/done", dir);
                char e2[256];
                if (atomicfile_write(path, "ok\n", 3, e2, sizeof e2) != 0) {
                    if (opt->log)
                        fprintf(opt->log, "\n%s\n", e2);
                    res->failed++;
                } else {
                    res->succeeded++;
                    finished_now++;
                }
            } else if (forwarded && (code == 130 || code == 143 || code == 128 + SIGKILL)) {
                res->interrupted++;
            } else {
                res->failed++;
                finished_now++;
                if (opt->log) {
                    snprintf(path, sizeof path, "%s/log.txt", dir);
                    fprintf(opt->log, "%s%s/%s/seed-%llu failed (exit status %d); last lines of %s:\n", opt->progress ? "\n" : "", s->out, s->variants[c.variant].name, (unsigned long long)c.seed, code, path);
                    print_tail(opt->log, path, 12);
                }
            }
            if (opt->progress && opt->log)
                draw_progress(opt->log, res, running, finished_now, t0, npending - next + running);
            continue;
        }
        if (pid < 0 && errno != EINTR) {
            if (running > 0) {
                errmsg_set(err, errlen, "waitpid: %s", strerror(errno));
                rc = -1;
                break;
            }
        }
        if (opt->progress && opt->log && clock_seconds() - last_draw > 1.0) {
            draw_progress(opt->log, res, running, finished_now, t0, npending - next + running);
            last_draw = clock_seconds();
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (opt->progress && opt->log) {
        draw_progress(opt->log, res, 0, finished_now, t0, 0);
        progress_end(opt->log, PROGRESS_BAR);
    }
    free(pending);
    free(kids);
    return rc;
}

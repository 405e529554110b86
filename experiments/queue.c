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

#include "../core/file.h"
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

static void draw_progress(FILE *log, ProgressStyle style, const CompareRunResult *r, int running, int finished_now, double t0, int remaining)
{
    double elapsed = clock_seconds() - t0;
    char detail[64];
    snprintf(detail, sizeof detail, "%d running  %d failed", running, r->failed);
    Progress p = {.done = r->skipped + r->succeeded + r->failed, .total = r->total, .unit = "runs", .elapsed = elapsed,
                  .eta = finished_now > 0 ? elapsed / finished_now * remaining : -1.0, .detail = detail};
    progress_print(log, style, &p);
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

/* The queue's state while it runs. */
typedef struct {
    const CompareSpec *s;
    const char *const *sets;
    int nsets;
    const CompareRunOptions *opt;
    CompareRunResult *res;
    int jobs;         /* slots in kids */
    Child *kids;      /* pid 0 = free slot */
    int *pending;     /* run indices (variant-major) not finished yet */
    int npending;
    int next;         /* the next pending run to launch */
    int running;
    int finished_now; /* runs that finished (ok or failed) in this call, for the ETA */
    int forwarded;    /* 1: SIGINT went to the children, 2: SIGKILL too */
    double t0;
} Queue;

/* Allocates the slots and lists the unfinished runs (finished ones are
 * skipped up front so the progress bar and ETA count real work). */
static int queue_open(Queue *q, char *err, size_t errlen)
{
    const CompareSpec *s = q->s;
    int total = s->nvariants * s->nseeds;
    char dir[CMP_PATH * 2];
    q->res->total = total;
    q->kids = calloc((size_t)q->jobs, sizeof *q->kids);
    q->pending = malloc((size_t)(total > 0 ? total : 1) * sizeof *q->pending);
    if (!q->kids || !q->pending)
        return errmsg_set(err, errlen, "out of memory");
    for (int i = 0; i < total; i++) {
        compare_run_dir(s, i / s->nseeds, s->seeds[i % s->nseeds], dir, sizeof dir);
        if (compare_run_state(dir) == RUN_DONE)
            q->res->skipped++;
        else
            q->pending[q->npending++] = i;
    }
    q->t0 = clock_seconds();
    return 0;
}

/* Sends sig to every child. */
static void queue_signal(Queue *q, int sig)
{
    for (int j = 0; j < q->jobs; j++)
        if (q->kids[j].pid > 0)
            kill(q->kids[j].pid, sig);
}

/* Sends SIGINT to every child, once (level 1: each checkpoints and exits);
 * level 2, a second signal, sends SIGKILL, once: no waiting for checkpoints. */
static void queue_forward_stop(Queue *q, int level)
{
    if (q->forwarded < 1) {
        queue_signal(q, SIGINT);
        q->forwarded = 1;
    }
    if (level >= 2 && q->forwarded < 2) {
        queue_signal(q, SIGKILL);
        q->forwarded = 2;
    }
}

/* Starts the next pending run in a free slot: its directory (a stale one
 * cleared), its command line, fork and exec. */
static int queue_launch(Queue *q, char *err, size_t errlen)
{
    const CompareSpec *s = q->s;
    char dir[CMP_PATH * 2], path[CMP_PATH * 2 + 32];
    int i = q->pending[q->next++], v = i / s->nseeds;
    uint64_t seed = s->seeds[i % s->nseeds];
    compare_run_dir(s, v, seed, dir, sizeof dir);
    if (file_mkdir_p(dir, err, errlen) != 0)
        return -1;
    RunState st = compare_run_state(dir);
    if (st == RUN_STALE) {
        static const char *const stale[] = {"metrics.csv", "eval.csv", "config.ini"};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, stale[k]);
            remove(path);
        }
    }
    char **argv;
    if (compare_run_argv(s, v, seed, q->sets, q->nsets, q->opt->exe, st == RUN_RESUME, &argv, err, errlen) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        errmsg_set(err, errlen, "cannot start a run: fork: %s", strerror(errno));
        compare_argv_free(argv);
        return -1;
    }
    if (pid == 0)
        launch_child(dir, argv);
    compare_argv_free(argv);
    int slot = 0;
    while (q->kids[slot].pid > 0)
        slot++;
    q->kids[slot] = (Child){pid, v, seed, 0};
    q->running++;
    q->res->launched++;
    return 0;
}

static void queue_progress(const Queue *q)
{
    if (q->opt->progress && q->opt->log)
        draw_progress(q->opt->log, q->opt->progress_style, q->res, q->running, q->finished_now, q->t0, q->npending - q->next + q->running);
}

/* Records the exit of child pid: a done marker after status 0, a
 * failure with its log's tail, or an interruption after a stop. */
static void queue_reap(Queue *q, pid_t pid, int status)
{
    const CompareRunOptions *opt = q->opt;
    CompareRunResult *res = q->res;
    char dir[CMP_PATH * 2], path[CMP_PATH * 2 + 32];
    int slot = -1;
    for (int j = 0; j < q->jobs; j++)
        if (q->kids[j].pid == pid)
            slot = j;
    if (slot < 0)
        return;
    Child c = q->kids[slot];
    q->kids[slot].pid = 0;
    q->running--;
    compare_run_dir(q->s, c.variant, c.seed, dir, sizeof dir);
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
            q->finished_now++;
        }
    } else if (q->forwarded && (code == 130 || code == 143 || code == 128 + SIGKILL)) {
        res->interrupted++;
    } else {
        res->failed++;
        q->finished_now++;
        if (opt->log) {
            snprintf(path, sizeof path, "%s/log.txt", dir);
            fprintf(opt->log, "%s%s/%s/seed-%llu failed (exit status %d); last lines of %s:\n", opt->progress && opt->progress_style == PROGRESS_BAR ? "\n" : "", q->s->out, q->s->variants[c.variant].name, (unsigned long long)c.seed, code, path);
            print_tail(opt->log, path, 12);
        }
    }
    if (q->opt->progress_style == PROGRESS_BAR)
        queue_progress(q);
}

int compare_execute(const CompareSpec *s, const char *const *sets, int nsets, const CompareRunOptions *opt, CompareRunResult *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    Queue q = {.s = s, .sets = sets, .nsets = nsets, .opt = opt, .res = res, .jobs = opt->jobs > 0 ? opt->jobs : 1};
    int rc = queue_open(&q, err, errlen);
    double last_draw = 0;
    for (;;) {
        int stopping = opt->stop && *opt->stop;
        /* stopping (or failing) launches nothing more: the loop ends once
         * the running children have exited, queued runs or not */
        if (q.running == 0 && (stopping || rc != 0 || q.next >= q.npending))
            break;
        if (stopping)
            queue_forward_stop(&q, *opt->stop);
        while (!stopping && rc == 0 && q.next < q.npending && q.running < q.jobs)
            rc = queue_launch(&q, err, errlen);
        if (rc != 0 && q.running == 0)
            continue;
        if (rc != 0)
            queue_forward_stop(&q, 1);
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            queue_reap(&q, pid, status);
            continue;
        }
        if (pid < 0 && errno != EINTR && q.running > 0) {
            rc = errmsg_set(err, errlen, "waitpid: %s", strerror(errno));
            break;
        }
        if (clock_seconds() - last_draw > (opt->progress_style == PROGRESS_BAR ? 1.0 : opt->progress_every)) {
            queue_progress(&q);
            last_draw = clock_seconds();
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (opt->progress && opt->log && q.kids && q.pending) {
        draw_progress(opt->log, opt->progress_style, res, 0, q.finished_now, q.t0, 0);
        progress_end(opt->log, opt->progress_style);
    }
    free(q.pending);
    free(q.kids);
    return rc;
}

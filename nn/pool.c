/* pool.c - the thread team of pool.h: pthreads, a generation counter the
 * workers spin on (C11 atomics) before falling back to a condition variable,
 * and a countdown of the calls still running.
 *
 * The spin lasts SPIN_SECONDS of wall time, not a number of loads: an
 * update issues its tens of pool_run calls with serial work between them
 * (the symmetrizer's transforms, the loss, Adam) of up to a few hundred
 * microseconds, and a worker that has gone to sleep costs a futex wake on
 * the caller's thread plus the wake-up latency (tens of microseconds in a
 * VM) at the next call. 16,384 loads (a few microseconds) were too short:
 * a 2-thread bench-large-lambda run made about 100 futex calls an update. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../core/clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Loads between two looks at the clock while spinning. */
enum { SPIN_CHECK = 256 };
static const double SPIN_SECONDS = 2e-3;

typedef struct {
    Pool *pool;
    int t;
} Worker;

struct Pool {
    int threads;
    pthread_t tid[POOL_MAX];
    Worker worker[POOL_MAX];
    int started;                 /* workers started (for pool_free after a failure) */
    void (*fn)(void *ctx, int t);
    void *ctx;
    atomic_uint gen;             /* bumped by each pool_run */
    atomic_int pending;          /* worker calls of the current run not yet done */
    atomic_int quit;
    pthread_mutex_t mu;
    pthread_cond_t wake;
};

/* Waits until p->gen differs from seen (spinning for SPIN_SECONDS, then
 * sleeping); returns it. */
static unsigned wait_gen(Pool *p, unsigned seen)
{
    for (double t0 = clock_seconds();;) {
        for (int i = 0; i < SPIN_CHECK; i++) {
            unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
            if (g != seen)
                return g;
            cpu_relax();
        }
        if (clock_seconds() - t0 > SPIN_SECONDS)
            break;
    }
    pthread_mutex_lock(&p->mu);
    unsigned g;
    while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen)
        pthread_cond_wait(&p->wake, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    Pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (atomic_load_explicit(&p->quit, memory_order_acquire))
            return NULL;
        p->fn(p->ctx, w->t);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

/* Starts the next generation: every worker wakes and runs p->fn once. */
static void bump(Pool *p)
{
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1u, memory_order_acq_rel);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

Pool *pool_create(int threads)
{
    if (threads < 1 || threads > POOL_MAX)
        return NULL;
    Pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = threads;
    atomic_init(&p->gen, 0u);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->wake, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    for (int t = 1; t < threads; t++) {
        p->worker[t].pool = p;
        p->worker[t].t = t;
        if (pthread_create(&p->tid[t], NULL, worker_main, &p->worker[t]) != 0) {
            pool_free(p);
            return NULL;
        }
        p->started = t;
    }
    return p;
}

void pool_free(Pool *p)
{
    if (!p)
        return;
    atomic_store_explicit(&p->quit, 1, memory_order_release);
    bump(p);
    for (int t = 1; t <= p->started; t++)
        pthread_join(p->tid[t], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int pool_threads(const Pool *p)
{
    return p ? p->threads : 1;
}

void pool_run(Pool *p, void (*fn)(void *ctx, int t), void *ctx)
{
    if (!p || p->threads == 1) {
        fn(ctx, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_release);
    /* a spinning worker sees the new generation without the mutex; the
     * broadcast reaches the sleeping ones */
    bump(p);
    fn(ctx, 0);
    /* spin, then yield the core to a worker that is not running */
    double t0 = clock_seconds();
    for (int i = 1; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if (i % SPIN_CHECK == 0 && clock_seconds() - t0 > SPIN_SECONDS)
            sched_yield();
    }
}

void pool_split(int n, int align, int t, int T, int *lo, int *hi)
{
    if (align < 1)
        align = 1;
    int blocks = (n + align - 1) / align;
    int b0 = (int)((long long)blocks * t / T), b1 = (int)((long long)blocks * (t + 1) / T);
    *lo = b0 * align < n ? b0 * align : n;
    *hi = b1 * align < n ? b1 * align : n;
}

/* pool.h - a fixed team of threads for equigrid's own kernels (run.threads):
 * pool_run() calls fn(ctx, t) once for every t in [0, threads), t = 0 on the
 * caller's thread, and returns when all calls have returned. Work is split
 * by the callers, statically and by t alone, so a result depends only on the
 * thread count, never on timing. One pool serves every network of an agent:
 * they run one after the other, never concurrently. Workers spin briefly
 * between calls (an update issues tens of them a millisecond apart), then
 * sleep on a condition variable. A NULL pool is a team of one. */
#ifndef EQUIGRID_POOL_H
#define EQUIGRID_POOL_H

/* The largest team pool_create accepts. */
enum { POOL_MAX = 64 };

typedef struct Pool Pool;

/* A team of `threads` (1 <= threads <= POOL_MAX): threads - 1 workers are started.
 * Returns NULL if threads is out of range or a thread cannot be started.
 * pool_free(NULL) is a no-op; pool_free joins the workers. */
Pool *pool_create(int threads);
void pool_free(Pool *p);
/* Threads of the team; 1 for NULL. */
int pool_threads(const Pool *p);
/* fn(ctx, t) for t = 0 .. pool_threads(p) - 1, concurrently; returns when all
 * are done. Must not be called from inside fn. Cannot fail. */
void pool_run(Pool *p, void (*fn)(void *ctx, int t), void *ctx);
/* The part [*lo, *hi) of [0, n) that thread t of T takes: contiguous parts
 * in thread order, each a multiple of `align` long but the last. */
void pool_split(int n, int align, int t, int T, int *lo, int *hi);

#endif

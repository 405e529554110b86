/* replay.c - DQN replay ring buffer (contract in replay.h).
 *
 * Transitions live in five parallel arrays (obs, next_obs, action, reward,
 * done), one byte per cell for states, so memory is capacity * (2*ncells + 6)
 * bytes. The hot path is replay_batch: it expands the compact states of a
 * sampled batch into 0/1 float planes with env_planes (plane k = bit k of each
 * cell byte), after prefetching the sampled rows. */
#include "replay.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../envs/env.h"

/* Allocates a buffer of capacity transitions of ncells bytes per state. */
int replay_init(Replay *r, size_t capacity, int ncells, uint64_t seed, uint64_t stream)
{
    memset(r, 0, sizeof *r);
    /* rng_below draws 32-bit indices, so larger buffers could not be sampled. */
    if (capacity == 0 || ncells <= 0 || capacity > UINT32_MAX)
        return -1;
    size_t cells = (size_t)ncells;
    if (capacity > (size_t)PTRDIFF_MAX / cells / 2 || capacity > (size_t)PTRDIFF_MAX / sizeof(float))
        return -1;
    r->obs = malloc(capacity * cells);
    r->next_obs = malloc(capacity * cells);
    r->action = malloc(capacity);
    r->reward = malloc(capacity * sizeof(float));
    r->done = malloc(capacity);
    if (!r->obs || !r->next_obs || !r->action || !r->reward || !r->done) {
        replay_free(r);
        return -1;
    }
    r->capacity = capacity;
    r->ncells = ncells;
    rng_seed(&r->rng, seed, stream);
    return 0;
}

/* Frees the buffers and zeroes r; no-op on a zeroed or freed Replay. */
void replay_free(Replay *r)
{
    if (!r)
        return;
    free(r->obs);
    free(r->next_obs);
    free(r->action);
    free(r->reward);
    free(r->done);
    memset(r, 0, sizeof *r);
}

/* Appends one transition at pos, overwriting the oldest when full. */
void replay_push(Replay *r, const uint8_t *obs, int action, float reward, const uint8_t *next_obs, int terminated)
{
    size_t i = r->pos, cells = (size_t)r->ncells;
    assert(action >= 0 && action <= 255);
    memcpy(r->obs + i * cells, obs, cells);
    memcpy(r->next_obs + i * cells, next_obs, cells);
    r->action[i] = (uint8_t)action;
    r->reward[i] = reward;
    r->done[i] = terminated != 0;
    r->pos = i + 1 == r->capacity ? 0 : i + 1;
    if (r->size < r->capacity)
        r->size++;
}

/* Draws B indices uniformly from [0, size) with replacement. */
void replay_sample(Replay *r, size_t *idx, int B)
{
    assert(r->size > 0);
    for (int b = 0; b < B; b++)
        idx[b] = rng_below(&r->rng, (uint32_t)r->size);
}

/* Hints the cache to fetch [p, p+len); a no-op where the builtin is missing. */
static void prefetch(const void *p, size_t len)
{
#if defined(__GNUC__)
    const char *c = p;
    for (size_t i = 0; i < len; i += 64)
        __builtin_prefetch(c + i);
    __builtin_prefetch(c + len - 1);
#else
    (void)p;
    (void)len;
#endif
}

/* Assembles a batch from indices: planes (B, C, n, n), actions, rewards, done. */
void replay_batch(const Replay *r, const size_t *idx, int B, int C, int n, float *obs, float *next_obs, int *action, float *reward, float *done)
{
    int ncells = r->ncells;
    size_t row = (size_t)C * (size_t)ncells;
    assert(n * n == ncells && C >= 1 && C <= 8);
    /* Rows are scattered over a buffer far larger than the caches: requesting
     * them all first overlaps the misses (halves the batch time at B=512). */
    for (int b = 0; b < B; b++) {
        prefetch(r->obs + idx[b] * (size_t)ncells, (size_t)ncells);
        prefetch(r->next_obs + idx[b] * (size_t)ncells, (size_t)ncells);
        prefetch(r->reward + idx[b], sizeof(float));
        prefetch(r->action + idx[b], 1);
        prefetch(r->done + idx[b], 1);
    }
    for (int b = 0; b < B; b++) {
        size_t i = idx[b];
        assert(i < r->size);
        env_planes(obs + (size_t)b * row, r->obs + i * (size_t)ncells, 1, C, n);
        env_planes(next_obs + (size_t)b * row, r->next_obs + i * (size_t)ncells, 1, C, n);
        action[b] = r->action[i];
        reward[b] = r->reward[i];
        done[b] = (float)r->done[i];
    }
}

/* Bytes allocated for transitions: capacity * (2 * ncells + 1 + 4 + 1). */
size_t replay_bytes(const Replay *r)
{
    return r->capacity * (2 * (size_t)r->ncells + 1 + sizeof(float) + 1);
}

int replay_check(const Replay *r, unsigned cells, int nactions, char *why, size_t whylen)
{
    size_t nc = (size_t)r->ncells;
    const uint8_t *states[2] = {r->obs, r->next_obs};
    const char *names[2] = {"replay.obs", "replay.next_obs"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < r->size * nc; i++)
            if (states[k][i] & ~cells) {
                snprintf(why, whylen, "%s[%zu][%zu] = 0x%02x has unknown cell bits 0x%02x; allowed: bits of 0x%02x (one per observation plane)", names[k], i / nc, i % nc,
                         states[k][i], states[k][i] & ~cells, cells);
                return -1;
            }
    for (size_t i = 0; i < r->size; i++) {
        if (r->action[i] >= nactions) {
            snprintf(why, whylen, "replay.action[%zu] = %d; allowed: 0..%d", i, r->action[i], nactions - 1);
            return -1;
        }
        if (r->done[i] > 1) {
            snprintf(why, whylen, "replay.done[%zu] = %d; allowed: 0 or 1", i, r->done[i]);
            return -1;
        }
        if (!isfinite(r->reward[i])) {
            snprintf(why, whylen, "replay.reward[%zu] = %g; allowed: finite numbers", i, (double)r->reward[i]);
            return -1;
        }
    }
    return 0;
}

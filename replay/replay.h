/* replay.h - ring buffer of transitions for DQN. Stores compact states (one
 * byte per cell, docs/design.md), never float planes: a 9x9 transition is
 * 2*81 + 1 + 4 + 1 bytes, so 1,000,000 fit in ~170 MB. Planes are expanded
 * only when a batch is assembled. Sampling is uniform with the buffer's own Rng. */
#ifndef EQUIGRID_REPLAY_H
#define EQUIGRID_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "../core/rng.h"

typedef struct {
    size_t capacity;   /* transitions */
    size_t size;       /* stored, <= capacity */
    size_t pos;        /* next slot to write */
    int ncells;        /* bytes per state */
    uint8_t *obs;      /* (capacity, ncells) */
    uint8_t *next_obs; /* (capacity, ncells) */
    uint8_t *action;   /* (capacity) */
    float *reward;     /* (capacity) */
    uint8_t *done;     /* (capacity) 1 if terminated (truncation does not cut the bootstrap) */
    Rng rng;
} Replay;

/* Allocates a buffer. Returns 0, or -1 if capacity or ncells is zero, the size
 * overflows, or memory runs out (nothing allocated then). */
int replay_init(Replay *r, size_t capacity, int ncells, uint64_t seed, uint64_t stream);
/* Frees the buffers; replay_free on a zeroed or freed Replay is a no-op. */
void replay_free(Replay *r);
/* Appends one transition, overwriting the oldest when full. Cannot fail. */
void replay_push(Replay *r, const uint8_t *obs, int action, float reward, const uint8_t *next_obs, int terminated);
/* Draws B indices uniformly from [0, size) with replacement (size > 0). */
void replay_sample(Replay *r, size_t *idx, int B);
/* Assembles a batch from indices: obs and next_obs as float planes
 * (B, C, n, n) (see env_planes), actions, rewards and done flags. */
void replay_batch(const Replay *r, const size_t *idx, int B, int C, int n, float *obs, float *next_obs, int *action, float *reward, float *done);
/* Checks the stored transitions after they came from outside (a checkpoint):
 * every state byte of obs and next_obs uses only the bits in cells, every
 * action is below nactions, done is 0 or 1, every reward is finite. Returns
 * 0, or -1 with "replay.FIELD[i] = v; allowed ..." in why. */
int replay_check(const Replay *r, unsigned cells, int nactions, char *why, size_t whylen);
/* Bytes allocated for transitions. */
size_t replay_bytes(const Replay *r);

#endif

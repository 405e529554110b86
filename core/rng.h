/* rng.h - explicit random number generator state (xoshiro128** seeded by
 * splitmix64). Every env, replay buffer and agent owns one Rng and passes it by
 * pointer; there is no global random state and no rand(). Header-only (static
 * inline) because it is tiny and sits on every hot path; it lives in envs/
 * because envs are the lowest layer that every other module already includes. */
#ifndef EQUIGRID_RNG_H
#define EQUIGRID_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint32_t s[4]; /* never all zero */
} Rng;

static inline uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seeds from (seed, stream): distinct streams give independent sequences, so
 * one [run] seed derives every module's state (stream names a module/env). */
static inline void rng_seed(Rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    uint64_t a = rng_splitmix64(&x), b = rng_splitmix64(&x);
    r->s[0] = (uint32_t)a;
    r->s[1] = (uint32_t)(a >> 32);
    r->s[2] = (uint32_t)b;
    r->s[3] = (uint32_t)(b >> 32);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static inline uint32_t rng_rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/* Uniform 32-bit integer. */
static inline uint32_t rng_u32(Rng *r)
{
    uint32_t *s = r->s;
    uint32_t result = rng_rotl(s[1] * 5u, 7) * 9u;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 11);
    return result;
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire's method). */
static inline uint32_t rng_below(Rng *r, uint32_t n)
{
    uint64_t m = (uint64_t)rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (0u - n) % n;
        while (low < threshold) {
            m = (uint64_t)rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float rng_float(Rng *r) { return (float)(rng_u32(r) >> 8) * (1.0f / 16777216.0f); }

/* Standard normal (Box-Muller; uses two draws, discards the second value so
 * the state advance is fixed and easy to reason about). */
static inline float rng_normal(Rng *r)
{
    float u1 = ((float)(rng_u32(r) >> 8) + 0.5f) * (1.0f / 16777216.0f);
    float u2 = rng_float(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}

#endif

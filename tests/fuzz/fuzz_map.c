/* fuzz_map.c - libFuzzer harness for the ASCII map parser (env_map_parse).
 * Every input must either load or give one "fuzz:line:col: ..." message, and
 * a map that loads must keep the contract env_step relies on: square, side in
 * range, walls on the whole outer ring, one goal, starts on free cells. The
 * harness then plays a few random-orientation episodes on it, driven by the
 * input's bytes, so that any map the parser accepts is also safe to step. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../envs/env.h"

/* Aborts (a finding for libFuzzer) when a loaded map breaks the contract. */
static void check_map(const EnvMap *m)
{
    int n = m->n, goals = 0;
    if (n < 1 || n > ENV_MAX_N || m->nstarts < 1 || m->nstarts > ENV_MAX_STARTS)
        abort();
    for (int i = 0; i < n * n; i++) {
        int r = i / n, c = i % n;
        if ((r == 0 || c == 0 || r == n - 1 || c == n - 1) && m->cells[i] != CELL_WALL)
            abort();
        if (m->cells[i] & ~(CELL_WALL | CELL_GOAL | CELL_LAVA))
            abort();
        goals += (m->cells[i] & CELL_GOAL) != 0;
    }
    if (goals != 1)
        abort();
    for (int s = 0; s < m->nstarts; s++)
        if (m->starts[s] < 0 || m->starts[s] >= n * n || m->cells[m->starts[s]] != 0)
            abort();
}

/* Steps an env on the map with actions taken from the input. */
static void play(const EnvMap *m, const uint8_t *data, size_t size)
{
    EnvConfig cfg;
    env_config_default(&cfg, ENV_MAP);
    cfg.orientation = ORIENT_RANDOM;
    cfg.seed = size;
    Env e;
    char err[512];
    if (env_init(&e, &cfg, m, 0, err, sizeof err) != 0)
        abort(); /* a map that parses must make a valid env */
    e.autoreset = 1;
    uint8_t obs[ENV_MAX_CELLS], reset_obs[ENV_MAX_CELLS];
    env_reset(&e, obs);
    for (size_t i = 0; i < size && i < 256; i++) {
        float reward;
        uint8_t term, trunc;
        env_step(&e, data[i] % 4, obs, &reward, &term, &trunc, reset_obs);
        if (e.agent < 0 || e.agent >= e.ncells || (e.layout[e.agent] & CELL_WALL))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    EnvMap *m = malloc(sizeof *m);
    if (!m)
        return 0;
    char err[512];
    memset(err, 0, sizeof err);
    if (env_map_parse(m, (const char *)data, size, "fuzz", err, sizeof err) == 0) {
        check_map(m);
        play(m, data, size);
    } else if (strncmp(err, "fuzz:", 5) != 0 || memchr(err, '\0', sizeof err) == NULL) {
        abort(); /* every failure names the input */
    }
    free(m);
    return 0;
}

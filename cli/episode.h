/* episode.h - the episode driver of the rendering commands (watch, play,
 * record): opens an agent (a checkpoint, or an untrained one from an INI
 * config) or only an env, runs episodes one step at a time (reset, act,
 * step, apply a group element) with their counters, and fills the
 * RenderFrame that drawing takes. The renderer itself (render.h) never sees
 * an Agent: the agent's last forward is copied into a plain RenderQ. */
#ifndef EQUIGRID_EPISODE_H
#define EQUIGRID_EPISODE_H

#include <stddef.h>
#include <stdint.h>

#include "../agents/agent.h"
#include "../configs/config.h"
#include "../envs/env.h"
#include "../render/render.h"

/* Env stream used by the rendering commands (distinct from training's). */
enum { EPISODE_ENV_STREAM = 9001 };

/* 1 if path looks like a safetensors checkpoint (8-byte little-endian header
 * length, then '{'), 0 if not (e.g. an INI file), -1 with a message if it
 * cannot be read or is not a regular file. */
int episode_is_checkpoint(const char *path, char *err, size_t errlen);

/* An agent, the env it acts in, and the episode under way. */
typedef struct {
    Agent *agent;      /* NULL when opened with episode_open_env (play) */
    Config cfg;        /* effective config (the agent's, with overrides) */
    Env env;           /* autoreset off */
    EnvMap *map;       /* owned, for env.name = map (else NULL) */
    int untrained;     /* agent built from a config, not loaded from a checkpoint */
    uint8_t obs[ENV_MAX_CELLS]; /* compact observation of the current state */
    RenderQ rq;        /* the agent's values in obs (with an agent, while !done) */
    int action;        /* the agent's greedy action in obs (lowest index on ties) */
    int done;          /* the episode has ended; env shows its final state */
    const char *end;   /* once done: "goal reached", "episode over" or "time limit"; else "" */
    int step;          /* steps taken in this episode */
    float ret;         /* return so far in this episode */
    long episode;      /* 1-based number of this episode (0 before the first reset) */
    long successes, finished; /* episodes that reached the goal / that ended */
    long total_steps;  /* steps over all episodes */
} Episode;

/* Opens path: a checkpoint (agent_load with the overrides) or an INI config
 * (an agent created from it, untrained unless network.init names weights).
 * sets are "section.key=value". No episode is started. Returns 0 or -1 with
 * a message. */
int episode_open(Episode *ep, const char *path, const char *const *sets, int nsets, char *err, size_t errlen);
/* Opens only an env (no agent): spec is an env name (goal, fourrooms, lava,
 * maze, map) or an INI config path; then the overrides. 0 or -1 + message. */
int episode_open_env(Episode *ep, const char *spec, const char *const *sets, int nsets, char *err, size_t errlen);
/* Frees what open allocated; NULL or a zeroed Episode is a no-op. */
void episode_free(Episode *ep);

/* Starts the next episode and (with an agent) computes its values and
 * action in the first state. Returns 0, or -1 when out of memory. */
int episode_reset(Episode *ep);
/* Takes action (not when done); at the episode's end sets done, end and the
 * counters, else computes the agent's values in the new state. 0 or -1
 * when out of memory. */
int episode_step(Episode *ep, int action);
/* Applies D4 element g (0-7) to the current state and recomputes the
 * agent's values there. 0 or -1 when out of memory. */
int episode_transform(Episode *ep, int g);
/* Fills f (zeroed first) with the state and counters of the episode and,
 * with an agent, its Q-values: in a final state (done) those of the last
 * decision, so that the view strip and the board's place stay; the caller
 * adds note, overlays (no arrows when done) and help. f borrows from ep. */
void episode_frame(const Episode *ep, RenderFrame *f);

#endif

/* agentview.h - glue between the agent and the renderer, shared by the
 * watch, play and record commands: open an agent (checkpoint, or an untrained
 * one from an INI config) with the env it acts in, and turn the agent's last
 * forward into the plain RenderQ that drawing takes. The renderer itself
 * (render.h) never sees an Agent. */
#ifndef EQUIGRID_AGENTVIEW_H
#define EQUIGRID_AGENTVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../agents/agent.h"
#include "../configs/config.h"
#include "../envs/env.h"
#include "../render/render.h"

/* Env stream used by the rendering commands (distinct from training's). */
enum { RENDER_ENV_STREAM = 9001 };

/* 1 if path looks like a safetensors checkpoint (8-byte little-endian header
 * length, then '{'), 0 if not (e.g. an INI file), -1 with a message if it
 * cannot be read or is not a regular file. */
int render_is_checkpoint(const char *path, char *err, size_t errlen);

/* An agent and the env it acts in. */
typedef struct {
    Agent *agent;    /* NULL for play */
    Config cfg;      /* effective config (the agent's, with overrides) */
    Env env;         /* initialised, not reset; autoreset off */
    EnvMap *map;     /* owned, for env.name = map (else NULL) */
    int untrained;   /* agent built from a config, not loaded from a checkpoint */
} RenderSubject;

/* Opens path: a checkpoint (agent_load with the overrides) or an INI config
 * (an agent created from it, untrained unless network.init names weights).
 * sets are "section.key=value". Returns 0 or -1 with a message. */
int render_subject_open(RenderSubject *s, const char *path, const char *const *sets, int nsets, char *err, size_t errlen);
/* Opens only an env (no agent): spec is an env name (goal, fourrooms, lava,
 * maze, map) or an INI config path; then the overrides. 0 or -1 + message. */
int render_subject_env(RenderSubject *s, const char *spec, const char *const *sets, int nsets, char *err, size_t errlen);
/* Frees what open allocated; NULL or a zeroed subject is a no-op. */
void render_subject_free(RenderSubject *s);

/* Runs the agent on one compact observation (n*n bytes), fills rq with the
 * symmetrized Q-values, the |G| views' values and weights and equizero's
 * chosen view (rq->nviews = 0 for method none), and returns the greedy
 * action (lowest index on ties), or -1 when out of memory. */
int render_agent_q(RenderQ *rq, Agent *a, const uint8_t *obs);

#endif

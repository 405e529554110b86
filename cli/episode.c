/* episode.c - the episode driver of the rendering commands: opening an
 * agent + env, stepping episodes, copying the agent's last forward into a
 * RenderQ and the state into a RenderFrame. See episode.h. */
#include "episode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/file.h"

int episode_is_checkpoint(const char *path, char *err, size_t errlen)
{
    FILE *f = file_open_read(path, err, errlen);
    if (!f)
        return -1;
    unsigned char b[9];
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got < sizeof b)
        return 0;
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--)
        len = len << 8 | b[i];
    return len >= 2 && len < ((uint64_t)1 << 32) && b[8] == '{';
}

void episode_free(Episode *ep)
{
    if (!ep)
        return;
    agent_free(ep->agent);
    free(ep->map);
    ep->agent = NULL;
    ep->map = NULL;
}

/* Builds ep->env from ep->cfg. */
static int open_env(Episode *ep, char *err, size_t errlen)
{
    EnvConfig ec;
    ep->map = malloc(sizeof *ep->map);
    if (!ep->map) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (agent_env_config(&ep->cfg, &ec, ep->map, err, errlen) != 0)
        return -1;
    if (env_init(&ep->env, &ec, ec.kind == ENV_MAP ? ep->map : NULL, EPISODE_ENV_STREAM, err, errlen) != 0)
        return -1;
    ep->env.autoreset = 0;
    return 0;
}

int episode_open(Episode *ep, const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    memset(ep, 0, sizeof *ep);
    ep->end = "";
    int ck = episode_is_checkpoint(path, err, errlen);
    if (ck < 0) {
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, " (expected a checkpoint .safetensors or a config .ini)");
        return -1;
    }
    if (ck) {
        ep->agent = agent_load(path, sets, nsets, err, errlen);
        if (!ep->agent)
            return -1;
        ep->cfg = ep->agent->cfg;
    } else {
        if (config_read(&ep->cfg, path, sets, nsets, err, errlen) != 0)
            return -1;
        ep->untrained = 1;
    }
    if (open_env(ep, err, errlen) != 0) {
        episode_free(ep);
        return -1;
    }
    if (!ep->agent) {
        ep->agent = agent_create(&ep->cfg, ep->env.planes, ep->env.n, ep->env.nactions, err, errlen);
        if (!ep->agent) {
            episode_free(ep);
            return -1;
        }
    }
    return 0;
}

int episode_open_env(Episode *ep, const char *spec, const char *const *sets, int nsets, char *err, size_t errlen)
{
    memset(ep, 0, sizeof *ep);
    ep->end = "";
    if (env_kind_parse(spec) >= 0) {
        config_default(&ep->cfg);
        snprintf(ep->cfg.env.name, sizeof ep->cfg.env.name, "%s", spec);
        for (int i = 0; i < nsets; i++)
            if (config_set(&ep->cfg, sets[i], err, errlen) != 0)
                return -1;
        if (config_validate(&ep->cfg, err, errlen) != 0)
            return -1;
    } else {
        FILE *f = file_open_read(spec, err, errlen);
        if (!f) {
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (expected an environment: goal, fourrooms, lava, maze, map; or a config file)");
            return -1;
        }
        fclose(f);
        if (config_read(&ep->cfg, spec, sets, nsets, err, errlen) != 0)
            return -1;
    }
    if (open_env(ep, err, errlen) != 0) {
        episode_free(ep);
        return -1;
    }
    return 0;
}

/* Runs the agent on obs, fills rq with the symmetrized Q-values, the |G|
 * views' values, weights and (canonical) scores and the chosen view of
 * equizero or canonical (rq->nviews = 0 for
 * method none), and returns the greedy action (lowest index on ties), or -1
 * when out of memory. */
static int agent_view(RenderQ *rq, Agent *a, const uint8_t *obs)
{
    memset(rq, 0, sizeof *rq);
    rq->chosen = -1;
    const float *q = agent_q(a, obs, 1);
    if (!q)
        return -1;
    int A = a->A < RENDER_MAX_ACTIONS ? a->A : RENDER_MAX_ACTIONS, best = 0;
    rq->A = A;
    for (int i = 0; i < A; i++) {
        rq->q[i] = q[i];
        if (q[i] > q[best])
            best = i;
    }
    const SymSpec *ss = qmodel_sym(a->online);
    if (ss->method != SYM_NONE) {
        const float *vq = qmodel_view_q(a->online, 0), *vw = qmodel_view_weight(a->online, 0), *sc = qmodel_view_score(a->online, 0);
        int chosen = qmodel_chosen(a->online, 0);
        rq->nviews = ss->group.n;
        rq->has_score = sc != NULL;
        for (int i = 0; i < ss->group.n; i++) {
            rq->elem[i] = ss->group.elem[i];
            rq->weight[i] = vw[i];
            rq->score[i] = sc ? sc[i] : 0.0f;
            for (int k = 0; k < A; k++)
                rq->view_q[i][k] = vq[(size_t)i * (size_t)a->A + (size_t)k];
            if (rq->elem[i] == chosen) /* qmodel_chosen gives the D4 index; RenderQ wants the position */
                rq->chosen = i;
        }
    }
    return best;
}

/* The agent's values and action in the current state; nothing without an agent. */
static int think(Episode *ep)
{
    if (!ep->agent)
        return 0;
    ep->action = agent_view(&ep->rq, ep->agent, ep->obs);
    return ep->action < 0 ? -1 : 0;
}

int episode_reset(Episode *ep)
{
    env_reset(&ep->env, ep->obs);
    ep->done = 0;
    ep->end = "";
    ep->step = 0;
    ep->ret = 0.0f;
    ep->episode++;
    return think(ep);
}

int episode_step(Episode *ep, int action)
{
    float reward;
    uint8_t term, trunc;
    env_step(&ep->env, action, ep->obs, &reward, &term, &trunc, NULL);
    ep->step++;
    ep->total_steps++;
    ep->ret += reward;
    if (term || trunc) {
        int success = ep->env.last.success > 0.5f;
        ep->done = 1;
        ep->finished++;
        ep->successes += success;
        ep->end = success ? "goal reached" : term ? "episode over" : "time limit";
        return 0;
    }
    return think(ep);
}

int episode_transform(Episode *ep, int g)
{
    env_transform(&ep->env, g);
    env_observe(&ep->env, ep->obs);
    return think(ep);
}

void episode_frame(const Episode *ep, RenderFrame *f)
{
    memset(f, 0, sizeof *f);
    f->n = ep->env.n;
    f->layout = ep->env.layout;
    f->agent = ep->env.agent;
    f->episode = ep->episode;
    f->step = ep->step;
    f->max_steps = ep->env.max_steps;
    f->ret = ep->ret;
    f->successes = ep->successes;
    f->finished = ep->finished;
    /* a final state keeps the last decision's views, so the strip (and the
     * board's place) stays; it takes no decision, so callers show no arrows */
    f->q = ep->agent ? &ep->rq : NULL;
}

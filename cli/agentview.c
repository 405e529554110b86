/* agentview.c - opening an agent + env for the rendering commands and
 * copying the agent's last forward into a RenderQ. See agentview.h. */
#include "agentview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/file.h"

int render_is_checkpoint(const char *path, char *err, size_t errlen)
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

void render_subject_free(RenderSubject *s)
{
    if (!s)
        return;
    agent_free(s->agent);
    free(s->map);
    s->agent = NULL;
    s->map = NULL;
}

/* Builds s->env from s->cfg. */
static int open_env(RenderSubject *s, char *err, size_t errlen)
{
    EnvConfig ec;
    s->map = malloc(sizeof *s->map);
    if (!s->map) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (agent_env_config(&s->cfg, &ec, s->map, err, errlen) != 0)
        return -1;
    if (env_init(&s->env, &ec, ec.kind == ENV_MAP ? s->map : NULL, RENDER_ENV_STREAM, err, errlen) != 0)
        return -1;
    s->env.autoreset = 0;
    return 0;
}

static int load_ini(Config *cfg, const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    config_default(cfg);
    if (config_load(cfg, path, err, errlen) != 0)
        return -1;
    for (int i = 0; i < nsets; i++)
        if (config_set(cfg, sets[i], err, errlen) != 0)
            return -1;
    return config_validate(cfg, err, errlen);
}

int render_subject_open(RenderSubject *s, const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int ck = render_is_checkpoint(path, err, errlen);
    if (ck < 0) {
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, " (expected a checkpoint .safetensors or a config .ini)");
        return -1;
    }
    if (ck) {
        s->agent = agent_load(path, sets, nsets, err, errlen);
        if (!s->agent)
            return -1;
        s->cfg = s->agent->cfg;
    } else {
        if (load_ini(&s->cfg, path, sets, nsets, err, errlen) != 0)
            return -1;
        s->untrained = 1;
    }
    if (open_env(s, err, errlen) != 0) {
        render_subject_free(s);
        return -1;
    }
    if (!s->agent) {
        s->agent = agent_create(&s->cfg, s->env.planes, s->env.n, s->env.nactions, err, errlen);
        if (!s->agent) {
            render_subject_free(s);
            return -1;
        }
    }
    return 0;
}

int render_subject_env(RenderSubject *s, const char *spec, const char *const *sets, int nsets, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (env_kind_parse(spec) >= 0) {
        config_default(&s->cfg);
        snprintf(s->cfg.env.name, sizeof s->cfg.env.name, "%s", spec);
        for (int i = 0; i < nsets; i++)
            if (config_set(&s->cfg, sets[i], err, errlen) != 0)
                return -1;
        if (config_validate(&s->cfg, err, errlen) != 0)
            return -1;
    } else {
        FILE *f = file_open_read(spec, err, errlen);
        if (!f) {
            size_t used = strlen(err);
            snprintf(err + used, errlen - used, " (expected an environment: goal, fourrooms, lava, maze, map; or a config file)");
            return -1;
        }
        fclose(f);
        if (load_ini(&s->cfg, spec, sets, nsets, err, errlen) != 0)
            return -1;
    }
    if (open_env(s, err, errlen) != 0) {
        render_subject_free(s);
        return -1;
    }
    return 0;
}

int render_agent_q(RenderQ *rq, Agent *a, const uint8_t *obs)
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
        const float *vq = qmodel_view_q(a->online, 0), *vw = qmodel_view_weight(a->online, 0);
        int chosen = qmodel_chosen(a->online, 0);
        rq->nviews = ss->group.n;
        for (int i = 0; i < ss->group.n; i++) {
            rq->elem[i] = ss->group.elem[i];
            rq->weight[i] = vw[i];
            for (int k = 0; k < A; k++)
                rq->view_q[i][k] = vq[(size_t)i * (size_t)a->A + (size_t)k];
            if (rq->elem[i] == chosen) /* qmodel_chosen gives the D4 index; RenderQ wants the position */
                rq->chosen = i;
        }
    }
    return best;
}

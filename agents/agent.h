/* agent.h - the DQN agent: online and target Q-models (equivariance/sym.h)
 * over one parameter buffer each, Adam, epsilon-greedy acting in one batched
 * forward, the TD update (Double DQN, Huber/MSE, hard or Polyak target
 * updates), and checkpoints (safetensors, tensor names in README.md).
 *
 * Parameter buffer layout: [base Q | lambda]; the target mirrors it, so a hard
 * target update is one memcpy. */
#ifndef EQUIGRID_AGENT_H
#define EQUIGRID_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "../configs/config.h"
#include "../envs/env.h"
#include "../equivariance/sym.h"
#include "../nn/nn.h"
#include "../nn/safetensors.h"

/* Metadata "format" of every equigrid checkpoint. */
#define AGENT_FORMAT "equigrid-checkpoint-1"
/* Metadata "content" of an export (agent_export): the networks alone. */
#define AGENT_CONTENT_NETWORKS "networks"

typedef struct {
    Config cfg;
    NetSpec net;       /* base network */
    SymSpec sym;
    int C, n, A;       /* planes, side, actions */
    size_t nparams;
    float *params, *grads, *target_params; /* nparams each */
    QModel *online, *target;
    Pool *pool;         /* run.threads > 1: the team both models' kernels split over */
    Adam adam;          /* over params[adam_from, nparams): all, or lambda only with freeze_q */
    size_t adam_from;
    LossKind loss;
    Rng rng;            /* exploration */
    long updates;       /* gradient steps taken */
    /* batch workspace */
    int cap;
    float *obs_f, *next_f, *reward, *done, *target_q, *dq, *q_next_online;
    int *action;
    float last_loss, last_q; /* of the last update: TD loss, mean Q of the taken actions */
    /* the canonicalization prior (symmetry.prior > 0): the states it is
     * fitted on (compact, prior_n rows of n*n cells, from network.init's
     * replay), its sampling Rng and a batch workspace (train.batch_size rows) */
    uint8_t *prior_obs, *prior_batch;
    size_t prior_n;
    float *prior_f;
    Rng prior_rng;
    float last_prior;   /* prior loss of the last update */
} Agent;

/* Builds networks from cfg for an env with C planes, side n and A actions,
 * and initialises them from [run] seed (or from [network] init, reporting
 * nothing: the caller prints); with symmetry.prior > 0 also reads the prior's
 * states from [network] init (agent_prior_states). Returns NULL with a
 * message. */
Agent *agent_create(const Config *cfg, int C, int n, int A, char *err, size_t errlen);
void agent_free(Agent *a);
/* Q_G of B compact observations (B, n*n): (B, A), valid until the next call. */
const float *agent_q(Agent *a, const uint8_t *obs, int B);
/* Epsilon-greedy actions for B observations, one forward for all. */
void agent_act(Agent *a, const uint8_t *obs, int B, float epsilon, int *actions);
/* One TD update on a sampled batch of planes (plus, with symmetry.prior > 0,
 * the prior on a batch of the prior's states). Returns the TD loss. */
float agent_update(Agent *a, const float *obs, const int *action, const float *reward, const float *next_obs, const float *done, int B);
/* Reads the prior's states from checkpoint f (named path in messages): its
 * replay.obs, which must hold at least one state of this agent's grid.
 * Returns 0, or -1 with a message naming the file and tensor. */
int agent_prior_states(Agent *a, const StFile *f, const char *path, char *err, size_t errlen);
/* One update on the prior loss alone (symmetry.prior times the mean of
 * -log p_id over train.batch_size sampled prior states); needs the prior's
 * states. Returns the loss, NAN when out of memory. */
float agent_prior_update(Agent *a);
/* Copies online to target (tau = 1) or Polyak-averages. */
void agent_sync_target(Agent *a);

/* Translates cfg's [env] section into an EnvConfig (seed = [run] seed) and,
 * for env.name = map, loads the map into *map (caller-owned, may be large:
 * allocate it). Returns 0 or -1 with a message naming the key or map file. */
int agent_env_config(const Config *cfg, EnvConfig *ec, EnvMap *map, char *err, size_t errlen);

/* Writes a checkpoint atomically: the online and target networks (q.*,
 * lambda.* or canon.*, target.q.*, target.lambda.* or target.canon.*), Adam's moments and counters, the
 * exploration Rng, the config as metadata "config", plus the caller's extra
 * tensors and metadata (the trainer's state); with symmetry.prior > 0 also
 * the prior's sampling Rng (agent.prior_rng). Returns 0 or -1 with a message. */
int agent_save(Agent *a, const char *path, const StTensor *extra, int nextra, const char *const *mk, const char *const *mv, int nmeta, char *err, size_t errlen);
/* Writes the online networks alone (q.*, and lambda.* when present) with the
 * config as metadata "config", "content" = AGENT_CONTENT_NETWORKS and the
 * caller's nmeta (at most 5) extra entries: no target network, Adam state,
 * RNG or trainer state, so it loads wherever a checkpoint does but cannot be
 * resumed. Atomic. Returns 0 or -1 with a message. */
int agent_export(Agent *a, const char *path, const char *const *mk, const char *const *mv, int nmeta, char *err, size_t errlen);
/* 1 if an opened checkpoint is an export (agent_export), else 0. */
int agent_is_export(const StFile *f);
/* Reads the config of an opened checkpoint: its metadata format must be
 * AGENT_FORMAT and its "config" INI text must load and pass config_validate,
 * as strictly as a config file. Returns 0, or -1 with a message naming path. */
int agent_stored_config(const StFile *f, const char *path, Config *cfg, char *err, size_t errlen);
/* Builds an agent from an opened checkpoint or export (see agent_load); every
 * F32 tensor in the file must be finite (else -1 naming the tensor). From an
 * export the target network equals the online one and Adam starts at zero. */
Agent *agent_from_file(const StFile *f, const char *path, const char *const *sets, int nsets, char *err, size_t errlen);

/* Loads an agent from a checkpoint written by training: its config comes from
 * the checkpoint's metadata, then any "section.key=value" overrides in sets
 * (nsets of them; env.* keys change only the env, e.g. orientation) are
 * applied. Returns NULL with a message naming the file and what is wrong. */
Agent *agent_load(const char *path, const char *const *sets, int nsets, char *err, size_t errlen);

#endif

/* env.h - the gridworld engine: goal, fourrooms, lava, maze and ASCII-map
 * environments with D4-symmetric rules, following PufferLib's contract: the
 * caller owns the observation, reward and done arrays, env_step never
 * allocates, one explicit Rng per env, episode statistics in a small struct,
 * optional auto-reset. Tuned for raw speed: a step moves one agent on a byte
 * grid and writes the compact observation (n*n bytes) with one memcpy.
 *
 * Compact state: one byte per cell, row-major [r][c], bit flags CELL_*.
 * Float planes: plane k is bit k of every cell, so planes are wall, agent,
 * goal, (lava): C x N x N floats, 0/1, layout [k][r][c]. */
#ifndef EQUIGRID_ENV_H
#define EQUIGRID_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../equivariance/group.h"
#include "../core/rng.h"

enum { CELL_WALL = 1, CELL_AGENT = 2, CELL_GOAL = 4, CELL_LAVA = 8 };
enum { ACT_UP = 0, ACT_RIGHT = 1, ACT_DOWN = 2, ACT_LEFT = 3, ACT_STAY = 4 };
enum { ENV_MAX_N = 64, ENV_MAX_CELLS = ENV_MAX_N * ENV_MAX_N, ENV_MAX_STARTS = 256 };

typedef enum { ENV_GOAL, ENV_FOURROOMS, ENV_LAVA, ENV_MAZE, ENV_MAP, ENV_KIND_COUNT } EnvKind;

/* Orientation of each episode's layout. */
enum { ORIENT_IDENTITY = 0, ORIENT_RANDOM = -1 }; /* or an element index 0..7 */

/* Parameters of an environment, as given by the [env] config section. */
typedef struct {
    EnvKind kind;
    int size;           /* n: grid side including the border; 0 = kind's default */
    int max_steps;      /* truncation limit; 0 = 4 * n */
    float step_penalty; /* reward of a step that neither reaches the goal nor lava (>= 0, given as penalty) */
    int orientation;    /* ORIENT_RANDOM, or element index 0..7 (0 = identity) */
    Group group;        /* elements drawn from when orientation is random */
    int goal_r, goal_c; /* fourrooms: fixed goal cell, or -1, -1 for random */
    char map_path[512]; /* map: the ASCII file */
    uint64_t seed;
} EnvConfig;

/* Statistics of one finished episode. */
typedef struct {
    float ret;     /* sum of rewards */
    float length;  /* steps taken */
    float success; /* 1 if the goal was reached, else 0 */
} EpisodeStats;

/* A loaded ASCII map: static cells and start cells, in file orientation. */
typedef struct {
    int n;
    uint8_t cells[ENV_MAX_CELLS]; /* CELL_WALL / CELL_GOAL / CELL_LAVA flags */
    int nstarts;
    int starts[ENV_MAX_STARTS]; /* r*n + c of each 'A' */
} EnvMap;

typedef struct {
    EnvConfig cfg;
    int n;           /* side */
    int ncells;      /* n * n */
    int planes;      /* C: 3 (wall, agent, goal) or 4 (+ lava) */
    int nactions;    /* 4 */
    int max_steps;   /* resolved limit */
    int autoreset;   /* reset inside env_step when an episode ends */
    Rng rng;
    uint8_t layout[ENV_MAX_CELLS]; /* static cells of this episode, oriented; never CELL_AGENT */
    int agent;                     /* r*n + c */
    int t;                         /* steps in this episode */
    int orient;                    /* element applied to this episode's layout */
    float ret;                     /* running return */
    EpisodeStats last;             /* the most recently finished episode */
    long episodes;                 /* finished episodes */
    const EnvMap *map;             /* ENV_MAP only: shared, read-only */
} Env;

/* Name of a kind ("goal", ...); env_kind_parse returns -1 for unknown names. */
const char *env_kind_name(EnvKind k);
int env_kind_parse(const char *name);
/* Fills cfg with the defaults of a kind (size, penalty 0.01, identity, d4, seed 0). */
void env_config_default(EnvConfig *cfg, EnvKind kind);

/* Loads and validates an ASCII map file. Returns 0, or -1 with one message in
 * err of the form "path:line:col: what was wrong; what is allowed". Rejects
 * unknown characters, ragged or non-square maps, sides over ENV_MAX_N, no 'A',
 * no 'G', more than one 'G', a goal unreachable from every start. Never reads
 * out of bounds on any byte sequence. */
int env_map_load(EnvMap *m, const char *path, char *err, size_t errlen);
/* Same, parsing text already in memory; name is used in messages. */
int env_map_parse(EnvMap *m, const char *text, size_t len, const char *name, char *err, size_t errlen);

/* Initialises an env (no allocation). map must be non-NULL for ENV_MAP and
 * outlive the env. Returns 0, or -1 with a message for an invalid config (size
 * out of range for the kind, bad fixed goal, ...). Does not reset. */
int env_init(Env *e, const EnvConfig *cfg, const EnvMap *map, uint64_t stream, char *err, size_t errlen);
/* Starts a new episode (new layout from the env's Rng, oriented as configured)
 * and writes the compact observation (n*n bytes). */
void env_reset(Env *e, uint8_t *obs);
/* Applies an action. Writes the observation after the move into obs (the final
 * one if the episode ended), the reward and the two done flags. When the
 * episode ends: e->last holds its statistics, e->episodes is incremented, and
 * if e->autoreset the env is reset and, when reset_obs is non-NULL, the first
 * observation of the new episode is written there. Never allocates. */
void env_step(Env *e, int action, uint8_t *obs, float *reward, uint8_t *terminated, uint8_t *truncated, uint8_t *reset_obs);
/* Writes the current compact observation. */
void env_observe(const Env *e, uint8_t *obs);
/* Expands compact observations to float planes: out (B, C, n, n) from
 * obs (B, n*n). */
void env_planes(float *out, const uint8_t *obs, int B, int C, int n);
/* Applies group element g to the current layout and agent (the state s
 * becomes g.s); the episode continues from there. */
void env_transform(Env *e, int g);
/* Sets the state directly: layout (static cells, n*n) and agent cell. For
 * tests and tools; t and the running return are kept. */
void env_set_state(Env *e, const uint8_t *layout, int agent);
/* Checks a state that comes from outside (a checkpoint) before env_set_state
 * may use it: layout (ncells bytes) holds only static cell bits (wall, goal,
 * and lava when the env has a lava plane), its outer ring is all wall (the
 * step loop relies on that), agent is a cell with neither wall, goal nor lava
 * (an episode that ended was reset), and 0 <= t < max_steps. Returns 0, or -1
 * with "what was wrong; allowed ..." in why (the caller adds the file). */
int env_check_state(const Env *e, const uint8_t *layout, int64_t agent, int64_t t, char *why, size_t whylen);
/* Prints the current state as text, one character per cell ('#' wall, '.'
 * floor, 'A' agent, 'G' goal, 'L' lava), followed by a legend if legend. */
void env_print(FILE *f, const Env *e, int legend);

/* E environments stepped in one call. */
typedef struct {
    int E;
    Env *envs; /* E envs, owned */
} VecEnv;

/* Creates E envs with the same config and streams stream0, stream0+1, ...;
 * autoreset on. Returns 0 or -1 with a message. vec_free(NULL) is a no-op. */
int vec_init(VecEnv *v, int E, const EnvConfig *cfg, const EnvMap *map, uint64_t stream0, char *err, size_t errlen);
void vec_free(VecEnv *v);
/* Resets every env; obs is (E, n*n). */
void vec_reset(VecEnv *v, uint8_t *obs);
/* Steps env e with actions[e]. next_obs (E, n*n) receives the observation
 * after the move (terminal ones included); obs (E, n*n) receives what to act
 * on next: next_obs, or the first observation of the new episode for envs
 * that were auto-reset. reward, terminated, truncated are (E). */
void vec_step(VecEnv *v, const int *actions, uint8_t *next_obs, uint8_t *obs, float *reward, uint8_t *terminated, uint8_t *truncated);

#endif

/* env.c - the gridworld engine: layout generation for goal, fourrooms, lava,
 * maze and map envs, D4 orientation of layouts, the step loop, float planes,
 * vectorised envs and text printing.
 *
 * Tuned for raw single-core speed: env_step is a table lookup for the move, a
 * branch-free wall test, one memcpy of the static layout into the caller's
 * observation and one OR for the agent bit. Every layout has walls on its outer
 * ring (generated ones by construction, maps by validation in map.c), so a move
 * never needs a bounds check. Resets are cheap too: the `goal` room's walls
 * are D4-invariant, so orienting it transforms only two cells; other kinds
 * generate in canonical orientation and apply the element with one affine
 * index walk.
 *
 * Choices the header leaves open (also in the README):
 * - env_init leaves autoreset off; vec_init turns it on.
 * - truncated is set only when the episode did not terminate on that step.
 * - actions 0..3 move, 4 (STAY) is accepted and keeps the agent in place;
 *   anything else is a caller bug (assert).
 * - after an episode ends without autoreset, the caller must env_reset.
 * - RNG draws per reset: the orientation first (only when random), then the
 *   layout, so a fixed orientation g yields exactly g applied to the identity
 *   env's layouts for the same seed and stream.
 * - fourrooms' fixed goal (goal_r, goal_c) is in canonical orientation; it is
 *   oriented with the layout. It is rejected for the other kinds.
 * - map envs: cfg.size must be 0 or equal the map's side. */
#include "env.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[ENV_KIND_COUNT] = {"goal", "fourrooms", "lava", "maze", "map"};
static const int kind_default_size[ENV_KIND_COUNT] = {9, 11, 9, 11, 0};
static const int kind_min_size[ENV_KIND_COUNT] = {4, 5, 5, 5, 3};

const char *env_kind_name(EnvKind k) { return (unsigned)k < ENV_KIND_COUNT ? kind_names[k] : "?"; }

int env_kind_parse(const char *name)
{
    for (int k = 0; k < ENV_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

void env_config_default(EnvConfig *cfg, EnvKind kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->size = (unsigned)kind < ENV_KIND_COUNT ? kind_default_size[kind] : 0;
    cfg->max_steps = 0;
    cfg->step_penalty = 0.01f;
    cfg->orientation = ORIENT_IDENTITY;
    cfg->group.n = D4_ORDER;
    for (int i = 0; i < D4_ORDER; i++)
        cfg->group.elem[i] = i;
    cfg->goal_r = cfg->goal_c = -1;
    cfg->seed = 0;
}

/* Element g as an affine map on cell indices: (r, c) -> o + r*dr + c*dc. */
static void orient_affine(int g, int n, int *o, int *dr, int *dc)
{
    int r0, c0, r1, c1, r2, c2;
    d4_cell(g, n, 0, 0, &r0, &c0);
    d4_cell(g, n, 1, 0, &r1, &c1);
    d4_cell(g, n, 0, 1, &r2, &c2);
    *o = r0 * n + c0;
    *dr = (r1 - r0) * n + (c1 - c0);
    *dc = (r2 - r0) * n + (c2 - c0);
}

static int orient_cell(int g, int n, int idx)
{
    int r, c;
    d4_cell(g, n, idx / n, idx % n, &r, &c);
    return r * n + c;
}

/* out = g . in on n x n bytes (no overlap). */
static void orient_bytes(uint8_t *out, const uint8_t *in, int g, int n)
{
    int o, dr, dc;
    orient_affine(g, n, &o, &dr, &dc);
    for (int r = 0; r < n; r++) {
        int d = o + r * dr;
        const uint8_t *row = in + r * n;
        for (int c = 0; c < n; c++, d += dc)
            out[d] = row[c];
    }
}

/* Empty room: walls on the outer ring, floor inside. */
static void gen_border(uint8_t *lay, int n)
{
    memset(lay, CELL_WALL, (size_t)n);
    for (int r = 1; r < n - 1; r++) {
        uint8_t *row = lay + r * n;
        row[0] = CELL_WALL;
        memset(row + 1, 0, (size_t)n - 2);
        row[n - 1] = CELL_WALL;
    }
    memset(lay + (n - 1) * n, CELL_WALL, (size_t)n);
}

/* A uniformly random interior cell that is floor (0) and not `exclude`. */
static int random_free(Rng *rng, const uint8_t *lay, int n, int exclude)
{
    uint32_t m = (uint32_t)n - 2;
    for (;;) {
        uint32_t k = rng_below(rng, m * m);
        int idx = (int)(1 + k / m) * n + 1 + (int)(k % m);
        if (lay[idx] == 0 && idx != exclude)
            return idx;
    }
}

/* goal: empty room, agent and goal on distinct uniform interior cells. */
static void gen_goal(Env *e, uint8_t *lay, int *agent, int *goal)
{
    int n = e->n;
    uint32_t m = (uint32_t)n - 2, cells = m * m;
    gen_border(lay, n);
    uint32_t a = rng_below(&e->rng, cells), b = rng_below(&e->rng, cells - 1);
    if (b >= a)
        b++;
    *goal = (int)(1 + a / m) * n + 1 + (int)(a % m);
    *agent = (int)(1 + b / m) * n + 1 + (int)(b % m);
    lay[*goal] = CELL_GOAL;
}

/* fourrooms: a wall cross at row and column n/2 with one doorway in each of
 * its four segments; goal fixed or random, agent random elsewhere. */
static void gen_fourrooms(Env *e, uint8_t *lay, int *agent)
{
    int n = e->n, mid = n / 2;
    Rng *rng = &e->rng;
    gen_border(lay, n);
    for (int i = 1; i < n - 1; i++)
        lay[mid * n + i] = lay[i * n + mid] = CELL_WALL;
    lay[(1 + (int)rng_below(rng, (uint32_t)mid - 1)) * n + mid] = 0;
    lay[(mid + 1 + (int)rng_below(rng, (uint32_t)(n - 2 - mid))) * n + mid] = 0;
    lay[mid * n + 1 + (int)rng_below(rng, (uint32_t)mid - 1)] = 0;
    lay[mid * n + mid + 1 + (int)rng_below(rng, (uint32_t)(n - 2 - mid))] = 0;
    int goal = e->cfg.goal_r >= 0 ? e->cfg.goal_r * n + e->cfg.goal_c : random_free(rng, lay, n, -1);
    lay[goal] = CELL_GOAL;
    *agent = random_free(rng, lay, n, goal);
}

/* lava: a lava column at n/2 with one gap; agent left of it, goal right. */
static void gen_lava(Env *e, uint8_t *lay, int *agent)
{
    int n = e->n, mid = n / 2;
    Rng *rng = &e->rng;
    gen_border(lay, n);
    for (int r = 1; r < n - 1; r++)
        lay[r * n + mid] = CELL_LAVA;
    lay[(1 + (int)rng_below(rng, (uint32_t)n - 2)) * n + mid] = 0;
    *agent = (1 + (int)rng_below(rng, (uint32_t)n - 2)) * n + 1 + (int)rng_below(rng, (uint32_t)mid - 1);
    int goal = (1 + (int)rng_below(rng, (uint32_t)n - 2)) * n + mid + 1 + (int)rng_below(rng, (uint32_t)(n - 2 - mid));
    lay[goal] = CELL_GOAL;
}

/* maze: randomized DFS over the cells at odd coordinates (a perfect maze),
 * start uniform over free cells, goal the free cell farthest from it (BFS),
 * ties to the lowest index. */
static void gen_maze(Env *e, uint8_t *lay, int *agent)
{
    int n = e->n, m = (n - 1) / 2, nc = m * m;
    Rng *rng = &e->rng;
    uint8_t visited[ENV_MAX_CELLS / 4];
    int16_t stack[ENV_MAX_CELLS / 4];
    int top = 0;
    memset(lay, CELL_WALL, (size_t)n * (size_t)n);
    memset(visited, 0, (size_t)nc);
    int s = (int)rng_below(rng, (uint32_t)nc);
    visited[s] = 1;
    lay[(2 * (s / m) + 1) * n + 2 * (s % m) + 1] = 0;
    stack[top++] = (int16_t)s;
    while (top > 0) {
        int c = stack[top - 1], ci = c / m, cj = c % m, nb[4], k = 0;
        if (ci > 0 && !visited[c - m])
            nb[k++] = c - m;
        if (cj < m - 1 && !visited[c + 1])
            nb[k++] = c + 1;
        if (ci < m - 1 && !visited[c + m])
            nb[k++] = c + m;
        if (cj > 0 && !visited[c - 1])
            nb[k++] = c - 1;
        if (k == 0) {
            top--;
            continue;
        }
        int d = nb[rng_below(rng, (uint32_t)k)];
        int r1 = 2 * ci + 1, c1 = 2 * cj + 1, r2 = 2 * (d / m) + 1, c2 = 2 * (d % m) + 1;
        visited[d] = 1;
        lay[((r1 + r2) / 2) * n + (c1 + c2) / 2] = 0;
        lay[r2 * n + c2] = 0;
        stack[top++] = (int16_t)d;
    }
    int start = random_free(rng, lay, n, -1);
    int16_t dist[ENV_MAX_CELLS], queue[ENV_MAX_CELLS];
    const int step[4] = {-n, 1, n, -1};
    int head = 0, tail = 0, goal = start;
    for (int i = 0; i < n * n; i++)
        dist[i] = -1;
    dist[start] = 0;
    queue[tail++] = (int16_t)start;
    while (head < tail) {
        int p = queue[head++];
        for (int k = 0; k < 4; k++) {
            int q = p + step[k]; /* in range: the outer ring is wall */
            if (!lay[q] && dist[q] < 0) {
                dist[q] = (int16_t)(dist[p] + 1);
                queue[tail++] = (int16_t)q;
            }
        }
    }
    for (int i = 0; i < n * n; i++)
        if (dist[i] > dist[goal] || (dist[i] == dist[goal] && i < goal))
            goal = i;
    lay[goal] = CELL_GOAL;
    *agent = start;
}

int env_init(Env *e, const EnvConfig *cfg, const EnvMap *map, uint64_t stream, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if ((unsigned)cfg->kind >= ENV_KIND_COUNT) {
        snprintf(err, errlen, "env: unknown kind %d; allowed: goal, fourrooms, lava, maze, map", (int)cfg->kind);
        return -1;
    }
    const char *kname = kind_names[cfg->kind];
    int n;
    if (cfg->kind == ENV_MAP) {
        if (!map) {
            snprintf(err, errlen, "env: kind map needs a loaded map file (env.map = path)");
            return -1;
        }
        if (map->n < kind_min_size[ENV_MAP] || map->n > ENV_MAX_N) {
            snprintf(err, errlen, "env: map side %d is invalid; allowed: %d..%d (load maps with env_map_load)", map->n, kind_min_size[ENV_MAP], ENV_MAX_N);
            return -1;
        }
        if (cfg->size != 0 && cfg->size != map->n) {
            snprintf(err, errlen, "env.size = %d but the map '%s' is %dx%d; allowed: 0 or %d", cfg->size, cfg->map_path, map->n, map->n, map->n);
            return -1;
        }
        n = map->n;
    } else {
        n = cfg->size ? cfg->size : kind_default_size[cfg->kind];
        int max = cfg->kind == ENV_MAZE ? ENV_MAX_N - 1 : ENV_MAX_N;
        if (n < kind_min_size[cfg->kind] || n > max) {
            snprintf(err, errlen, "env.size = %d: out of range for %s; allowed: %d..%d (0 = default %d)", cfg->size, kname,
                     kind_min_size[cfg->kind], max, kind_default_size[cfg->kind]);
            return -1;
        }
        if (cfg->kind == ENV_MAZE && n % 2 == 0) {
            snprintf(err, errlen, "env.size = %d: a maze side must be odd; allowed: 5, 7, ..., 63", n);
            return -1;
        }
    }
    if (cfg->max_steps < 0) {
        snprintf(err, errlen, "env.max_steps = %d: must be >= 0 (0 = 4 * size)", cfg->max_steps);
        return -1;
    }
    if (!(cfg->step_penalty >= 0.0f) || isinf(cfg->step_penalty)) {
        snprintf(err, errlen, "env.step_penalty = %g: must be a finite number >= 0", (double)cfg->step_penalty);
        return -1;
    }
    if (cfg->orientation != ORIENT_RANDOM && (cfg->orientation < 0 || cfg->orientation >= D4_ORDER)) {
        snprintf(err, errlen, "env.orientation = %d: allowed: random (-1) or an element index 0..7", cfg->orientation);
        return -1;
    }
    const Group *G = &cfg->group;
    int ok = G->n >= 1 && G->n <= D4_ORDER && G->elem[0] == 0;
    for (int i = 1; ok && i < G->n; i++)
        ok = G->elem[i] > G->elem[i - 1] && G->elem[i] < D4_ORDER;
    for (int i = 0; ok && i < G->n; i++)
        for (int j = 0; ok && j < G->n; j++) {
            int gh = d4_compose(G->elem[i], G->elem[j]), found = 0;
            for (int k = 0; k < G->n; k++)
                found |= G->elem[k] == gh;
            ok = found;
        }
    if (!ok) {
        snprintf(err, errlen, "env: orientation group is not a subgroup of D4; allowed: a sorted, closed list of indices 0..7 starting with 0 (use group_parse)");
        return -1;
    }
    if (cfg->goal_r != -1 || cfg->goal_c != -1) {
        int mid = n / 2, r = cfg->goal_r, c = cfg->goal_c;
        if (cfg->kind != ENV_FOURROOMS) {
            snprintf(err, errlen, "env.goal = %d,%d: a fixed goal is only supported by fourrooms; allowed for %s: random", r, c, kname);
            return -1;
        }
        if (r < 1 || r > n - 2 || c < 1 || c > n - 2 || r == mid || c == mid) {
            snprintf(err, errlen, "env.goal = %d,%d: not a free cell of fourrooms size %d; allowed: row and column in 1..%d, neither equal to %d (the walls)",
                     r, c, n, n - 2, mid);
            return -1;
        }
    }
    e->cfg = *cfg;
    e->n = n;
    e->ncells = n * n;
    e->planes = (cfg->kind == ENV_LAVA || cfg->kind == ENV_MAP) ? 4 : 3;
    e->nactions = 4;
    e->max_steps = cfg->max_steps ? cfg->max_steps : 4 * n;
    e->autoreset = 0;
    e->map = cfg->kind == ENV_MAP ? map : NULL;
    rng_seed(&e->rng, cfg->seed, stream);
    return 0;
}

/* New episode: orientation, layout, agent; t and return cleared. */
static void env_new_episode(Env *e)
{
    int n = e->n, g = e->cfg.orientation;
    if (g == ORIENT_RANDOM)
        g = e->cfg.group.elem[rng_below(&e->rng, (uint32_t)e->cfg.group.n)];
    e->orient = g;
    e->t = 0;
    e->ret = 0.0f;
    int agent;
    if (e->cfg.kind == ENV_GOAL) {
        /* the walled room is D4-invariant: orient only the goal and agent */
        int goal;
        gen_goal(e, e->layout, &agent, &goal);
        if (g != 0) {
            e->layout[goal] = 0;
            e->layout[orient_cell(g, n, goal)] = CELL_GOAL;
            agent = orient_cell(g, n, agent);
        }
        e->agent = agent;
        return;
    }
    uint8_t canon[ENV_MAX_CELLS];
    uint8_t *lay = g ? canon : e->layout;
    switch (e->cfg.kind) {
    case ENV_FOURROOMS:
        gen_fourrooms(e, lay, &agent);
        break;
    case ENV_LAVA:
        gen_lava(e, lay, &agent);
        break;
    case ENV_MAZE:
        gen_maze(e, lay, &agent);
        break;
    default: /* ENV_MAP */
        memcpy(lay, e->map->cells, (size_t)e->ncells);
        agent = e->map->starts[e->map->nstarts > 1 ? rng_below(&e->rng, (uint32_t)e->map->nstarts) : 0];
        break;
    }
    if (g) {
        orient_bytes(e->layout, canon, g, n);
        agent = orient_cell(g, n, agent);
    }
    e->agent = agent;
}

void env_observe(const Env *e, uint8_t *obs)
{
    memcpy(obs, e->layout, (size_t)e->ncells);
    obs[e->agent] |= CELL_AGENT;
}

void env_reset(Env *e, uint8_t *obs)
{
    env_new_episode(e);
    if (obs)
        env_observe(e, obs);
}

void env_step(Env *e, int action, uint8_t *obs, float *reward, uint8_t *terminated, uint8_t *truncated, uint8_t *reset_obs)
{
    const int n = e->n;
    const int delta[5] = {-n, 1, n, -1, 0};
    assert(action >= 0 && action <= ACT_STAY);
    int next = e->agent + delta[action];
    unsigned cell = e->layout[next];
    int blocked = cell & CELL_WALL;
    next = blocked ? e->agent : next;
    cell = blocked ? 0u : cell;
    e->agent = next;
    e->t++;
    float r = -e->cfg.step_penalty;
    uint8_t term = 0;
    if (cell & (CELL_GOAL | CELL_LAVA)) {
        term = 1;
        r = (cell & CELL_GOAL) ? 1.0f : -1.0f;
    }
    e->ret += r;
    uint8_t trunc = !term && e->t >= e->max_steps;
    memcpy(obs, e->layout, (size_t)e->ncells);
    obs[next] |= CELL_AGENT;
    *reward = r;
    *terminated = term;
    *truncated = trunc;
    if (term | trunc) {
        e->last.ret = e->ret;
        e->last.length = (float)e->t;
        e->last.success = (cell & CELL_GOAL) ? 1.0f : 0.0f;
        e->episodes++;
        if (e->autoreset)
            env_reset(e, reset_obs);
    }
}

/* The fixed 16-cell inner loop needs no vector epilogue, so GCC vectorises it
 * under any cost model; this is on the training hot path (replay batches). */
void env_planes(float *restrict out, const uint8_t *restrict obs, int B, int C, int n)
{
    size_t nn = (size_t)n * (size_t)n;
    for (int b = 0; b < B; b++) {
        const uint8_t *restrict s = obs + (size_t)b * nn;
        for (int k = 0; k < C; k++) {
            float *restrict o = out + ((size_t)b * (size_t)C + (size_t)k) * nn;
            size_t i = 0;
            for (; i + 16 <= nn; i += 16)
                for (int j = 0; j < 16; j++)
                    o[i + j] = (float)((s[i + j] >> k) & 1u);
            for (; i < nn; i++)
                o[i] = (float)((s[i] >> k) & 1u);
        }
    }
}

void env_transform(Env *e, int g)
{
    uint8_t tmp[ENV_MAX_CELLS];
    memcpy(tmp, e->layout, (size_t)e->ncells);
    orient_bytes(e->layout, tmp, g, e->n);
    e->agent = orient_cell(g, e->n, e->agent);
    e->orient = d4_compose(g, e->orient);
}

void env_set_state(Env *e, const uint8_t *layout, int agent)
{
    for (int i = 0; i < e->ncells; i++)
        e->layout[i] = layout[i] & (uint8_t)~CELL_AGENT;
    e->agent = agent;
}

int env_check_state(const Env *e, const uint8_t *layout, int64_t agent, int64_t t, char *why, size_t whylen)
{
    int n = e->n, lava = e->planes > 3;
    uint8_t known = (uint8_t)(CELL_WALL | CELL_GOAL | (lava ? CELL_LAVA : 0));
    for (int i = 0; i < e->ncells; i++) {
        int r = i / n, c = i % n;
        if (layout[i] & ~known) {
            snprintf(why, whylen, "cell %d (row %d, column %d) = 0x%02x has unknown cell bits 0x%02x; allowed: wall 0x01, goal 0x04%s", i, r, c, layout[i],
                     layout[i] & ~known, lava ? ", lava 0x08" : " (this env has no lava plane)");
            return -1;
        }
        if ((r == 0 || c == 0 || r == n - 1 || c == n - 1) && layout[i] != CELL_WALL) {
            snprintf(why, whylen, "border cell %d (row %d, column %d) = 0x%02x is not a wall; allowed: only walls (0x01) on the outer ring", i, r, c, layout[i]);
            return -1;
        }
    }
    if (agent < 0 || agent >= e->ncells) {
        snprintf(why, whylen, "agent cell %lld is outside the %dx%d grid; allowed: 0..%d", (long long)agent, n, n, e->ncells - 1);
        return -1;
    }
    if (layout[agent] & (CELL_WALL | CELL_GOAL | CELL_LAVA)) {
        snprintf(why, whylen, "agent cell %lld (row %lld, column %lld) holds %s; allowed: a free cell (no wall, goal or lava)", (long long)agent, (long long)(agent / n),
                 (long long)(agent % n), layout[agent] & CELL_WALL ? "a wall" : layout[agent] & CELL_GOAL ? "the goal" : "lava");
        return -1;
    }
    if (t < 0 || t >= e->max_steps) {
        snprintf(why, whylen, "episode step t = %lld; allowed: 0 <= t < max_steps = %d", (long long)t, e->max_steps);
        return -1;
    }
    return 0;
}

void env_print(FILE *f, const Env *e, int legend)
{
    int n = e->n;
    for (int r = 0; r < n; r++) {
        for (int c = 0; c < n; c++) {
            int i = r * n + c;
            uint8_t v = e->layout[i];
            fputc(i == e->agent ? 'A' : (v & CELL_WALL) ? '#' : (v & CELL_GOAL) ? 'G' : (v & CELL_LAVA) ? 'L' : '.', f);
        }
        fputc('\n', f);
    }
    if (legend)
        fprintf(f, "legend: # wall  . floor  A agent  G goal%s  (orientation %s, step %d of %d)\n", e->planes > 3 ? "  L lava" : "",
                d4_name(e->orient), e->t, e->max_steps);
}

int vec_init(VecEnv *v, int E, const EnvConfig *cfg, const EnvMap *map, uint64_t stream0, char *err, size_t errlen)
{
    v->E = 0;
    v->envs = NULL;
    if (E < 1) {
        snprintf(err, errlen, "train.num_envs = %d: must be >= 1", E);
        return -1;
    }
    Env *envs = malloc((size_t)E * sizeof *envs);
    if (!envs) {
        snprintf(err, errlen, "env: out of memory for %d envs", E);
        return -1;
    }
    for (int i = 0; i < E; i++) {
        if (env_init(&envs[i], cfg, map, stream0 + (uint64_t)i, err, errlen) != 0) {
            free(envs);
            return -1;
        }
        envs[i].autoreset = 1;
    }
    v->E = E;
    v->envs = envs;
    return 0;
}

void vec_free(VecEnv *v)
{
    if (!v)
        return;
    free(v->envs);
    v->envs = NULL;
    v->E = 0;
}

void vec_reset(VecEnv *v, uint8_t *obs)
{
    for (int i = 0; i < v->E; i++)
        env_reset(&v->envs[i], obs + (size_t)i * (size_t)v->envs[i].ncells);
}

/* obs and next_obs should be distinct buffers: if they are the same, an
 * auto-reset overwrites the terminal observation there. */
void vec_step(VecEnv *v, const int *actions, uint8_t *next_obs, uint8_t *obs, float *reward, uint8_t *terminated, uint8_t *truncated)
{
    for (int i = 0; i < v->E; i++) {
        Env *e = &v->envs[i];
        size_t off = (size_t)i * (size_t)e->ncells;
        env_step(e, actions[i], next_obs + off, &reward[i], &terminated[i], &truncated[i], obs + off);
        if (!(terminated[i] | truncated[i]) && obs != next_obs)
            memcpy(obs + off, next_obs + off, (size_t)e->ncells);
    }
}

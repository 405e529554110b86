/* test_env.c - the gridworld engine (envs/env.c, envs/map.c): equivariance of
 * every env kind under all of D4, the rules of each kind, layouts, orientation,
 * autoreset, VecEnv, float planes, printing, and every map-loader error with
 * its file:line:col message, plus a fuzz run of the map parser. Run from the
 * repository root (the shipped maps are read from envs/maps/). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../envs/env.h"
#include "check_main.h"

static const char *const map_files[] = {"envs/maps/lava_bridge.txt", "envs/maps/corridor.txt", "envs/maps/fourrooms.txt"};
enum { NMAPS = sizeof map_files / sizeof map_files[0] };

static EnvMap *load_map(const char *path)
{
    char err[512];
    EnvMap *m = malloc(sizeof *m);
    ck_assert_msg(m != NULL, "out of memory");
    ck_assert_msg(env_map_load(m, path, err, sizeof err) == 0, "loading %s: %s", path, err);
    return m;
}

static void make_env(Env *e, EnvKind kind, const EnvMap *map, uint64_t seed, uint64_t stream, int orientation)
{
    EnvConfig cfg;
    char err[512];
    env_config_default(&cfg, kind);
    cfg.seed = seed;
    cfg.orientation = orientation;
    ck_assert_msg(env_init(e, &cfg, map, stream, err, sizeof err) == 0, "env_init(%s): %s", env_kind_name(kind), err);
}

static int count_flag(const uint8_t *cells, int nn, int flag)
{
    int k = 0;
    for (int i = 0; i < nn; i++)
        k += (cells[i] & flag) != 0;
    return k;
}

static int find_flag(const uint8_t *cells, int nn, int flag)
{
    for (int i = 0; i < nn; i++)
        if (cells[i] & flag)
            return i;
    return -1;
}

/* Checks what every observation must satisfy: one agent, not on a wall, walls
 * on the outer ring, exactly one goal. */
static void check_obs_basic(const uint8_t *obs, int n, const char *what)
{
    int nn = n * n;
    ck_assert_msg(count_flag(obs, nn, CELL_AGENT) == 1, "%s: %d agents", what, count_flag(obs, nn, CELL_AGENT));
    ck_assert_msg(count_flag(obs, nn, CELL_GOAL) == 1, "%s: %d goals", what, count_flag(obs, nn, CELL_GOAL));
    int a = find_flag(obs, nn, CELL_AGENT);
    ck_assert_msg(!(obs[a] & CELL_WALL), "%s: agent on a wall", what);
    int bad = -1; /* one assertion per call: Check's assertions are slow in loops */
    for (int i = 0; i < n; i++)
        if (!(obs[i] & obs[nn - n + i] & obs[i * n] & obs[i * n + n - 1] & CELL_WALL))
            bad = i;
    ck_assert_msg(bad < 0, "%s: outer ring not wall at %d", what, bad);
}

/* ---------------------------------------------------------------- basics */

START_TEST(test_kinds_and_defaults)
{
    for (int k = 0; k < ENV_KIND_COUNT; k++)
        ck_assert_msg(env_kind_parse(env_kind_name((EnvKind)k)) == k, "kind %d does not round-trip via '%s'", k, env_kind_name((EnvKind)k));
    ck_assert_msg(env_kind_parse("nope") == -1, "unknown kind accepted");
    const int sizes[ENV_KIND_COUNT] = {9, 11, 9, 11, 0};
    for (int k = 0; k < ENV_KIND_COUNT; k++) {
        EnvConfig c;
        env_config_default(&c, (EnvKind)k);
        ck_assert_msg(c.kind == (EnvKind)k && c.size == sizes[k], "%s default size %d", env_kind_name((EnvKind)k), c.size);
        ck_assert_msg(c.step_penalty == 0.01f && c.max_steps == 0 && c.orientation == ORIENT_IDENTITY && c.seed == 0, "%s defaults", env_kind_name((EnvKind)k));
        ck_assert_msg(c.group.n == 8 && c.goal_r == -1 && c.goal_c == -1, "%s default group/goal", env_kind_name((EnvKind)k));
    }
    Env e;
    make_env(&e, ENV_GOAL, NULL, 0, 0, 0);
    ck_assert_msg(e.n == 9 && e.ncells == 81 && e.planes == 3 && e.nactions == 4 && e.max_steps == 36, "goal env fields");
    make_env(&e, ENV_LAVA, NULL, 0, 0, 0);
    ck_assert_msg(e.planes == 4 && e.max_steps == 36, "lava env fields");
    make_env(&e, ENV_MAZE, NULL, 0, 0, 0);
    ck_assert_msg(e.n == 11 && e.planes == 3 && e.max_steps == 44, "maze env fields");
}
END_TEST

START_TEST(test_init_errors)
{
    EnvMap *map = load_map(map_files[0]);
    struct {
        EnvKind kind;
        int size, max_steps, orientation, goal_r, goal_c, group_bad, use_map;
        float pen;
        const char *needle;
    } cases[] = {
        {ENV_GOAL, 3, 0, 0, -1, -1, 0, 0, 0.01f, "env.size = 3"},
        {ENV_GOAL, 65, 0, 0, -1, -1, 0, 0, 0.01f, "4..64"},
        {ENV_MAZE, 10, 0, 0, -1, -1, 0, 0, 0.01f, "odd"},
        {ENV_MAZE, 64, 0, 0, -1, -1, 0, 0, 0.01f, "5..63"},
        {ENV_LAVA, 4, 0, 0, -1, -1, 0, 0, 0.01f, "out of range for lava"},
        {ENV_GOAL, 0, -1, 0, -1, -1, 0, 0, 0.01f, "env.max_steps = -1"},
        {ENV_GOAL, 0, 0, 0, -1, -1, 0, 0, -0.5f, "env.step_penalty"},
        {ENV_GOAL, 0, 0, 0, -1, -1, 0, 0, NAN, "env.step_penalty"},
        {ENV_GOAL, 0, 0, 8, -1, -1, 0, 0, 0.01f, "env.orientation = 8"},
        {ENV_GOAL, 0, 0, -2, -1, -1, 0, 0, 0.01f, "env.orientation = -2"},
        {ENV_GOAL, 0, 0, ORIENT_RANDOM, -1, -1, 1, 0, 0.01f, "group"},
        {ENV_FOURROOMS, 0, 0, 0, 5, 2, 0, 0, 0.01f, "env.goal = 5,2"},
        {ENV_FOURROOMS, 0, 0, 0, 0, 0, 0, 0, 0.01f, "not a free cell"},
        {ENV_FOURROOMS, 0, 0, 0, 2, -1, 0, 0, 0.01f, "env.goal"},
        {ENV_GOAL, 0, 0, 0, 2, 2, 0, 0, 0.01f, "only supported by fourrooms"},
        {ENV_MAP, 0, 0, 0, -1, -1, 0, 0, 0.01f, "needs a loaded map"},
        {ENV_MAP, 7, 0, 0, -1, -1, 0, 1, 0.01f, "env.size = 7"},
        {(EnvKind)99, 0, 0, 0, -1, -1, 0, 0, 0.01f, "unknown kind"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EnvConfig c;
        env_config_default(&c, cases[i].kind == (EnvKind)99 ? ENV_GOAL : cases[i].kind);
        c.kind = cases[i].kind;
        c.size = cases[i].size;
        c.max_steps = cases[i].max_steps;
        c.orientation = cases[i].orientation;
        c.goal_r = cases[i].goal_r;
        c.goal_c = cases[i].goal_c;
        c.step_penalty = cases[i].pen;
        if (cases[i].group_bad) {
            c.group.n = 2;
            c.group.elem[0] = 0;
            c.group.elem[1] = 1;
        }
        Env e;
        char err[512] = "";
        ck_assert_msg(env_init(&e, &c, cases[i].use_map ? map : NULL, 0, err, sizeof err) == -1, "case %zu (%s) accepted", i, cases[i].needle);
        ck_assert_msg(strstr(err, cases[i].needle) != NULL, "case %zu: message lacks '%s': %s", i, cases[i].needle, err);
    }
    /* the accepted edge cases */
    EnvConfig c;
    Env e;
    char err[512];
    env_config_default(&c, ENV_FOURROOMS);
    c.goal_r = 9;
    c.goal_c = 1;
    ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "fourrooms goal 9,1 rejected: %s", err);
    env_config_default(&c, ENV_MAP);
    c.size = map->n;
    ck_assert_msg(env_init(&e, &c, map, 0, err, sizeof err) == 0, "map with matching size rejected: %s", err);
    env_config_default(&c, ENV_MAZE);
    c.size = 63;
    ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "maze 63 rejected: %s", err);
    free(map);
}
END_TEST

START_TEST(test_planes)
{
    enum { B = 3, C = 4, N = 5, NN = N * N };
    uint8_t obs[B * NN];
    float out[B * C * NN];
    Rng rng;
    rng_seed(&rng, 7, 0);
    for (int i = 0; i < B * NN; i++)
        obs[i] = (uint8_t)rng_below(&rng, 16);
    env_planes(out, obs, B, C, N);
    int wrong = 0, ones = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < C; k++)
            for (int r = 0; r < N; r++)
                for (int c = 0; c < N; c++) {
                    float want = (obs[b * NN + r * N + c] >> k) & 1 ? 1.0f : 0.0f;
                    wrong += out[((b * C + k) * N + r) * N + c] != want;
                    ones += want == 1.0f;
                }
    ck_assert_msg(wrong == 0 && ones > 50, "%d plane values differ from the naive expansion", wrong);
    /* C = 3 ignores the lava bit and writes exactly B*3*N*N floats */
    float out3[B * 3 * NN + 1];
    out3[B * 3 * NN] = 42.0f;
    env_planes(out3, obs, B, 3, N);
    ck_assert_msg(out3[B * 3 * NN] == 42.0f, "env_planes wrote past B*C*n*n");
    ck_assert_msg(out3[(2 * 3 + 2) * NN + 7] == (float)((obs[2 * NN + 7] >> 2) & 1), "C=3 goal plane of the last row");
}
END_TEST

START_TEST(test_print)
{
    EnvMap *map = load_map(map_files[0]);
    Env e;
    make_env(&e, ENV_MAP, map, 0, 0, 0);
    env_reset(&e, NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_msg(f != NULL, "open_memstream");
    env_print(f, &e, 1);
    fclose(f);
    const char *want = "#########\n#A......#\n#.......#\n#LLL.LLL#\n#LLL.LLL#\n#LLL.LLL#\n#.......#\n#......G#\n#########\n";
    ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "printed map differs:\n%s", buf);
    ck_assert_msg(strstr(buf + strlen(want), "wall") && strstr(buf + strlen(want), "lava"), "legend missing: %s", buf + strlen(want));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    env_print(f, &e, 0);
    fclose(f);
    ck_assert_msg(len == strlen(want), "without legend printed %zu bytes, expected %zu", len, strlen(want));
    free(buf);
    free(map);
}
END_TEST

/* ----------------------------------------------------------------- rules */

START_TEST(test_goal_layouts)
{
    Env e;
    make_env(&e, ENV_GOAL, NULL, 3, 0, 0);
    int n = e.n, nn = n * n;
    int agent_seen[81] = {0}, goal_seen[81] = {0};
    uint8_t obs[ENV_MAX_CELLS];
    for (int it = 0; it < 1500; it++) {
        env_reset(&e, obs);
        check_obs_basic(obs, n, "goal reset");
        int a = find_flag(obs, nn, CELL_AGENT), g = find_flag(obs, nn, CELL_GOAL);
        ck_assert_msg(a != g && a == e.agent, "agent %d goal %d", a, g);
        ck_assert_msg(count_flag(obs, nn, CELL_WALL) == 4 * n - 4, "goal room has %d walls", count_flag(obs, nn, CELL_WALL));
        ck_assert_msg(e.t == 0 && e.ret == 0.0f && e.orient == 0, "reset state t=%d", e.t);
        agent_seen[a]++;
        goal_seen[g]++;
    }
    int rare = -1; /* expected 1500 / 49 = 31 each */
    for (int r = 1; r < n - 1; r++)
        for (int c = 1; c < n - 1; c++)
            if (agent_seen[r * n + c] < 10 || goal_seen[r * n + c] < 10)
                rare = r * n + c;
    ck_assert_msg(rare < 0, "cell %d rarely drawn: agent %d goal %d", rare, rare < 0 ? 0 : agent_seen[rare], rare < 0 ? 0 : goal_seen[rare]);
}
END_TEST

START_TEST(test_goal_rules)
{
    Env e;
    make_env(&e, ENV_GOAL, NULL, 1, 0, 0);
    env_reset(&e, NULL);
    int n = e.n;
    uint8_t lay[ENV_MAX_CELLS] = {0}, obs[ENV_MAX_CELLS];
    for (int i = 0; i < n; i++)
        lay[i] = lay[n * n - n + i] = lay[i * n] = lay[i * n + n - 1] = CELL_WALL;
    lay[3 * n + 4] = CELL_GOAL;
    float r;
    uint8_t term, trunc;
    /* walls block: at (1,1) UP and LEFT keep the agent in place, with the penalty */
    env_set_state(&e, lay, 1 * n + 1);
    env_step(&e, ACT_UP, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(e.agent == n + 1 && (obs[n + 1] & CELL_AGENT), "UP into the wall moved the agent to %d", e.agent);
    ck_assert_msg(r == -0.01f && !term && !trunc && e.t == 1, "wall bump: r=%g term=%d trunc=%d t=%d", (double)r, term, trunc, e.t);
    env_step(&e, ACT_LEFT, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(e.agent == n + 1 && r == -0.01f, "LEFT into the wall");
    /* each move goes where docs/design.md says: UP r-1, RIGHT c+1, DOWN r+1, LEFT c-1, STAY */
    const int dr[5] = {-1, 0, 1, 0, 0}, dc[5] = {0, 1, 0, -1, 0};
    for (int a = 0; a <= 4; a++) {
        env_set_state(&e, lay, 5 * n + 5);
        env_step(&e, a, obs, &r, &term, &trunc, NULL);
        ck_assert_msg(e.agent == (5 + dr[a]) * n + 5 + dc[a], "action %d moved to %d", a, e.agent);
        uint8_t want[ENV_MAX_CELLS];
        env_observe(&e, want);
        ck_assert_msg(memcmp(want, obs, (size_t)(n * n)) == 0, "step obs != env_observe after action %d", a);
        ck_assert_msg(count_flag(obs, n * n, CELL_AGENT) == 1, "one agent bit");
    }
    /* reaching the goal: exactly +1, terminated, success */
    e.t = 2;
    e.ret = -0.02f;
    env_set_state(&e, lay, 3 * n + 3);
    env_step(&e, ACT_RIGHT, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(r == 1.0f && term == 1 && trunc == 0, "goal: r=%g term=%d trunc=%d", (double)r, term, trunc);
    ck_assert_msg(obs[3 * n + 4] == (CELL_GOAL | CELL_AGENT), "final obs has agent on goal: %d", obs[3 * n + 4]);
    ck_assert_msg(e.last.success == 1.0f && e.last.length == 3.0f && e.last.ret == -0.02f + 1.0f && e.episodes == 1, "stats ret=%g len=%g succ=%g",
                  (double)e.last.ret, (double)e.last.length, (double)e.last.success);
    /* no autoreset: the env keeps its state */
    ck_assert_msg(e.t == 3 && e.agent == 3 * n + 4, "without autoreset the episode state stays");
    /* step limit truncates, not terminates; penalty summed */
    EnvConfig c;
    char err[256];
    env_config_default(&c, ENV_GOAL);
    c.max_steps = 3;
    c.step_penalty = 0.25f;
    ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "%s", err);
    env_reset(&e, NULL);
    env_set_state(&e, lay, n + 1);
    for (int s = 1; s <= 3; s++) {
        env_step(&e, ACT_UP, obs, &r, &term, &trunc, NULL);
        ck_assert_msg(r == -0.25f && !term && trunc == (s == 3), "step %d: r=%g trunc=%d", s, (double)r, trunc);
    }
    ck_assert_msg(e.last.length == 3.0f && e.last.ret == -0.75f && e.last.success == 0.0f, "truncated stats %g %g", (double)e.last.length,
                  (double)e.last.ret);
    /* reaching the goal on the last allowed step: terminated only */
    env_reset(&e, NULL);
    env_set_state(&e, lay, 3 * n + 1);
    env_step(&e, ACT_RIGHT, obs, &r, &term, &trunc, NULL);
    env_step(&e, ACT_RIGHT, obs, &r, &term, &trunc, NULL);
    env_step(&e, ACT_RIGHT, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(term == 1 && trunc == 0 && r == 1.0f, "goal at the limit: term=%d trunc=%d", term, trunc);
    /* a zero penalty gives exactly 0 per step */
    c.step_penalty = 0.0f;
    c.max_steps = 0;
    ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "%s", err);
    env_reset(&e, NULL);
    env_set_state(&e, lay, n + 1);
    env_step(&e, ACT_UP, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(r == 0.0f && e.max_steps == 36, "zero penalty r=%g", (double)r);
}
END_TEST

START_TEST(test_lava_rules)
{
    Env e;
    make_env(&e, ENV_LAVA, NULL, 5, 0, 0);
    int n = e.n, mid = n / 2;
    uint8_t obs[ENV_MAX_CELLS];
    int gaps[9] = {0};
    for (int it = 0; it < 500; it++) {
        env_reset(&e, obs);
        check_obs_basic(obs, n, "lava reset");
        int lava = 0, gap = -1;
        for (int r = 1; r < n - 1; r++) {
            if (obs[r * n + mid] == CELL_LAVA)
                lava++;
            else if (obs[r * n + mid] == 0)
                gap = r;
        }
        ck_assert_msg(lava == n - 3 && gap > 0 && count_flag(obs, n * n, CELL_LAVA) == n - 3, "lava column: %d lava, gap %d", lava, gap);
        gaps[gap]++;
        int a = find_flag(obs, n * n, CELL_AGENT), g = find_flag(obs, n * n, CELL_GOAL);
        ck_assert_msg(a % n < mid && g % n > mid, "agent col %d, goal col %d, river %d", a % n, g % n, mid);
    }
    for (int r = 1; r < n - 1; r++)
        ck_assert_msg(gaps[r] > 20, "gap row %d drawn %d times", r, gaps[r]);
    /* stepping into lava: -1, terminated, no success */
    env_reset(&e, obs);
    int lava_cell = -1;
    for (int r = 1; r < n - 1 && lava_cell < 0; r++)
        if (e.layout[r * n + mid] & CELL_LAVA)
            lava_cell = r * n + mid;
    env_set_state(&e, e.layout, lava_cell - 1);
    float r;
    uint8_t term, trunc;
    env_step(&e, ACT_RIGHT, obs, &r, &term, &trunc, NULL);
    ck_assert_msg(r == -1.0f && term == 1 && trunc == 0, "lava: r=%g term=%d", (double)r, term);
    ck_assert_msg(e.last.success == 0.0f && e.last.ret == -1.0f && e.last.length == 1.0f, "lava stats");
    ck_assert_msg(obs[lava_cell] == (CELL_LAVA | CELL_AGENT), "final obs shows the agent in the lava");
}
END_TEST

START_TEST(test_fourrooms_layouts)
{
    Env e;
    make_env(&e, ENV_FOURROOMS, NULL, 9, 0, 0);
    int n = e.n, mid = n / 2;
    uint8_t obs[ENV_MAX_CELLS];
    int door_seen[4][11] = {{0}};
    for (int it = 0; it < 400; it++) {
        env_reset(&e, obs);
        check_obs_basic(obs, n, "fourrooms reset");
        int doors[4] = {0, 0, 0, 0};
        for (int i = 1; i < n - 1; i++) {
            if (i == mid)
                continue;
            int seg_v = i < mid ? 0 : 1, seg_h = i < mid ? 2 : 3;
            if (!(obs[i * n + mid] & CELL_WALL)) {
                doors[seg_v]++;
                door_seen[seg_v][i]++;
            }
            if (!(obs[mid * n + i] & CELL_WALL)) {
                doors[seg_h]++;
                door_seen[seg_h][i]++;
            }
        }
        ck_assert_msg(doors[0] == 1 && doors[1] == 1 && doors[2] == 1 && doors[3] == 1, "doors per segment %d %d %d %d", doors[0], doors[1], doors[2],
                      doors[3]);
        ck_assert_msg(obs[mid * n + mid] & CELL_WALL, "centre of the cross is wall");
        ck_assert_msg(count_flag(obs, n * n, CELL_WALL) == 4 * n - 4 + 2 * (n - 2) - 1 - 4, "wall count %d", count_flag(obs, n * n, CELL_WALL));
    }
    for (int s = 0; s < 4; s++)
        for (int i = s % 2 ? mid + 1 : 1; i < (s % 2 ? n - 1 : mid); i++)
            ck_assert_msg(door_seen[s][i] > 20, "segment %d door at %d drawn %d times", s, i, door_seen[s][i]);
    /* fixed goal, in canonical coordinates, oriented with the layout */
    for (int g = 0; g < D4_ORDER; g++) {
        EnvConfig c;
        char err[256];
        env_config_default(&c, ENV_FOURROOMS);
        c.goal_r = 2;
        c.goal_c = 7;
        c.orientation = g;
        ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "%s", err);
        int gr, gc;
        d4_cell(g, n, 2, 7, &gr, &gc);
        for (int it = 0; it < 20; it++) {
            env_reset(&e, obs);
            ck_assert_msg(find_flag(obs, n * n, CELL_GOAL) == gr * n + gc, "fixed goal under %d at %d", g, find_flag(obs, n * n, CELL_GOAL));
            ck_assert_msg(e.agent != gr * n + gc, "agent on the goal");
        }
    }
}
END_TEST

/* Checks a maze observation: a perfect maze (free cells = edges + 1, all
 * reachable), odd-odd cells free, even-even cells wall, goal farthest from the
 * agent by BFS with ties to the lowest index. */
static void check_maze(const uint8_t *obs, int n)
{
    int nn = n * n, V = 0, E = 0;
    int odd_wall = -1, even_free = -1;
    for (int i = 0; i < nn; i++) {
        int r = i / n, c = i % n, free_ = !(obs[i] & CELL_WALL);
        V += free_;
        if (free_ && c + 1 < n && !(obs[i + 1] & CELL_WALL))
            E++;
        if (free_ && r + 1 < n && !(obs[i + n] & CELL_WALL))
            E++;
        if (r % 2 == 1 && c % 2 == 1 && !free_)
            odd_wall = i;
        if (r % 2 == 0 && c % 2 == 0 && free_)
            even_free = i;
    }
    ck_assert_msg(odd_wall < 0 && even_free < 0, "maze: odd-coordinate cell %d is a wall or even-coordinate cell %d is free", odd_wall, even_free);
    ck_assert_msg(E == V - 1, "maze not a tree: %d free cells, %d edges", V, E);
    int dist[ENV_MAX_CELLS], queue[ENV_MAX_CELLS], head = 0, tail = 0;
    for (int i = 0; i < nn; i++)
        dist[i] = -1;
    int a = find_flag(obs, nn, CELL_AGENT), g = find_flag(obs, nn, CELL_GOAL);
    dist[a] = 0;
    queue[tail++] = a;
    while (head < tail) {
        int p = queue[head++];
        int nb[4] = {p - n, p + 1, p + n, p - 1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && nb[k] < nn && !(obs[nb[k]] & CELL_WALL) && dist[nb[k]] < 0) {
                dist[nb[k]] = dist[p] + 1;
                queue[tail++] = nb[k];
            }
    }
    ck_assert_msg(tail == V, "maze: %d of %d free cells reachable", tail, V);
    int best = 0;
    for (int i = 0; i < nn; i++)
        if (dist[i] > dist[best])
            best = i;
    ck_assert_msg(g == best, "maze goal %d (dist %d) is not the first farthest cell %d (dist %d)", g, dist[g], best, dist[best]);
    ck_assert_msg(dist[g] > 0, "maze goal on the start");
}

START_TEST(test_maze_perfect)
{
    const int sizes[] = {5, 7, 11, 21, 63};
    uint8_t obs[ENV_MAX_CELLS];
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        EnvConfig c;
        char err[256];
        Env e;
        env_config_default(&c, ENV_MAZE);
        c.size = sizes[s];
        c.seed = 100 + s;
        ck_assert_msg(env_init(&e, &c, NULL, 0, err, sizeof err) == 0, "%s", err);
        int resets = sizes[s] > 21 ? 5 : 60;
        for (int it = 0; it < resets; it++) {
            env_reset(&e, obs);
            check_obs_basic(obs, e.n, "maze reset");
            check_maze(obs, e.n);
        }
    }
}
END_TEST

START_TEST(test_map_env)
{
    uint8_t obs[ENV_MAX_CELLS];
    for (int m = 0; m < NMAPS; m++) {
        EnvMap *map = load_map(map_files[m]);
        Env e;
        make_env(&e, ENV_MAP, map, 0, 0, 0);
        ck_assert_msg(e.planes == 4 && e.n == map->n, "%s: planes %d n %d", map_files[m], e.planes, e.n);
        int start_seen[ENV_MAX_STARTS] = {0};
        for (int it = 0; it < 200; it++) {
            env_reset(&e, obs);
            check_obs_basic(obs, e.n, map_files[m]);
            ck_assert_msg(memcmp(e.layout, map->cells, (size_t)e.ncells) == 0, "%s: layout is not the map", map_files[m]);
            int which = -1;
            for (int s = 0; s < map->nstarts; s++)
                if (map->starts[s] == e.agent)
                    which = s;
            ck_assert_msg(which >= 0, "%s: agent %d is not a start", map_files[m], e.agent);
            start_seen[which]++;
        }
        for (int s = 0; s < map->nstarts; s++)
            ck_assert_msg(start_seen[s] > 200 / map->nstarts / 2, "%s: start %d chosen %d times", map_files[m], s, start_seen[s]);
        free(map);
    }
    EnvMap *corr = load_map("envs/maps/corridor.txt");
    ck_assert_msg(corr->nstarts == 2 && corr->n == 12, "corridor: %d starts, side %d", corr->nstarts, corr->n);
    free(corr);
}
END_TEST

START_TEST(test_autoreset)
{
    Env e;
    make_env(&e, ENV_GOAL, NULL, 2, 0, 0);
    e.autoreset = 1;
    uint8_t obs[ENV_MAX_CELLS], robs[ENV_MAX_CELLS], now[ENV_MAX_CELLS];
    env_reset(&e, obs);
    int n = e.n, goal = find_flag(obs, n * n, CELL_GOAL);
    /* put the agent next to the goal (all four neighbours are floor or wall) */
    int from = -1, act = -1;
    const int d[4] = {-n, 1, n, -1};
    for (int a = 0; a < 4 && from < 0; a++)
        if (!(e.layout[goal - d[a]] & CELL_WALL)) {
            from = goal - d[a];
            act = a;
        }
    uint8_t lay[ENV_MAX_CELLS];
    memcpy(lay, e.layout, (size_t)(n * n));
    env_set_state(&e, lay, from);
    env_step(&e, ACT_STAY, obs, &(float){0}, &(uint8_t){0}, &(uint8_t){0}, NULL);
    float r;
    uint8_t term, trunc;
    env_step(&e, act, obs, &r, &term, &trunc, robs);
    ck_assert_msg(term && r == 1.0f, "did not reach the goal");
    ck_assert_msg(obs[goal] == (CELL_GOAL | CELL_AGENT), "obs is not the terminal observation");
    env_observe(&e, now);
    ck_assert_msg(memcmp(now, robs, (size_t)(n * n)) == 0, "reset_obs is not the new episode's observation");
    ck_assert_msg(e.t == 0 && e.ret == 0.0f && e.episodes == 1, "after autoreset t=%d ret=%g episodes=%ld", e.t, (double)e.ret, e.episodes);
    ck_assert_msg(e.last.length == 2.0f && e.last.success == 1.0f && fabsf(e.last.ret - 0.99f) < 1e-6f, "stats len=%g ret=%g", (double)e.last.length,
                  (double)e.last.ret);
    check_obs_basic(robs, n, "reset obs");
    /* reset_obs may be NULL: the env still resets */
    for (int s = 0; s < 200; s++) {
        env_step(&e, s % 4, obs, &r, &term, &trunc, NULL);
        if (term || trunc) {
            ck_assert_msg(e.t == 0, "no reset without reset_obs");
            break;
        }
    }
    ck_assert_msg(e.episodes == 2, "second episode did not end: %ld", e.episodes);
}
END_TEST

START_TEST(test_determinism)
{
    for (int k = 0; k < ENV_MAP; k++) {
        Env a, b, c, d;
        make_env(&a, (EnvKind)k, NULL, 11, 4, ORIENT_RANDOM);
        make_env(&b, (EnvKind)k, NULL, 11, 4, ORIENT_RANDOM);
        make_env(&c, (EnvKind)k, NULL, 12, 4, ORIENT_RANDOM);
        make_env(&d, (EnvKind)k, NULL, 11, 5, ORIENT_RANDOM);
        a.autoreset = b.autoreset = 1;
        uint8_t oa[ENV_MAX_CELLS], ob[ENV_MAX_CELLS], oc[ENV_MAX_CELLS], od[ENV_MAX_CELLS];
        env_reset(&a, oa);
        env_reset(&b, ob);
        ck_assert_msg(memcmp(oa, ob, (size_t)a.ncells) == 0, "%s: same seed, different first layout", env_kind_name((EnvKind)k));
        for (int s = 0; s < 500; s++) {
            float ra, rb;
            uint8_t ta, tb, ua, ub;
            env_step(&a, s * 7 % 5 % 4, oa, &ra, &ta, &ua, oa);
            env_step(&b, s * 7 % 5 % 4, ob, &rb, &tb, &ub, ob);
            ck_assert_msg(memcmp(oa, ob, (size_t)a.ncells) == 0 && ra == rb && ta == tb && ua == ub, "%s: same seed diverged at step %d",
                          env_kind_name((EnvKind)k), s);
        }
        int diff_seed = 0, diff_stream = 0;
        for (int it = 0; it < 10; it++) {
            env_reset(&a, oa);
            env_reset(&c, oc);
            env_reset(&d, od);
            diff_seed |= memcmp(oa, oc, (size_t)a.ncells) != 0;
            diff_stream |= memcmp(oa, od, (size_t)a.ncells) != 0;
        }
        ck_assert_msg(diff_seed && diff_stream, "%s: other seed/stream gave the same layouts (%d %d)", env_kind_name((EnvKind)k), diff_seed, diff_stream);
    }
}
END_TEST

/* ------------------------------------------------------------ orientation */

/* env with fixed orientation g, stepped with rho(g)a, mirrors the identity
 * env stepped with a at every step, including auto-resets. */
static void check_fixed_orientation(EnvKind kind, const EnvMap *map, int g)
{
    Env a, b;
    make_env(&a, kind, map, 21, 3, 0);
    make_env(&b, kind, map, 21, 3, g);
    a.autoreset = b.autoreset = 1;
    uint8_t oa[ENV_MAX_CELLS], ob[ENV_MAX_CELLS], ga[ENV_MAX_CELLS];
    env_reset(&a, oa);
    env_reset(&b, ob);
    int n = a.n;
    Rng rng;
    rng_seed(&rng, 5, (uint64_t)g);
    for (int s = 0; s < 300; s++) {
        group_bytes(ga, oa, g, n);
        ck_assert_msg(memcmp(ga, ob, (size_t)(n * n)) == 0, "%s orientation %d: layout is not g applied to the identity layout (step %d)",
                      env_kind_name(kind), g, s);
        ck_assert_msg(b.orient == g && a.orient == 0, "orient fields %d %d", a.orient, b.orient);
        int act = (int)rng_below(&rng, 4);
        float ra, rb;
        uint8_t ta, tb, ua, ub;
        env_step(&a, act, oa, &ra, &ta, &ua, oa);
        env_step(&b, d4_action(g, act), ob, &rb, &tb, &ub, ob);
        ck_assert_msg(ra == rb && ta == tb && ua == ub, "%s orientation %d: reward/done differ at step %d", env_kind_name(kind), g, s);
    }
}

START_TEST(test_orientation_fixed)
{
    EnvMap *map = load_map("envs/maps/corridor.txt");
    for (int k = 0; k < ENV_KIND_COUNT; k++)
        for (int g = 0; g < D4_ORDER; g++)
            check_fixed_orientation((EnvKind)k, k == ENV_MAP ? map : NULL, g);
    free(map);
}
END_TEST

START_TEST(test_orientation_random)
{
    EnvMap *map = load_map("envs/maps/corridor.txt");
    const char *groups[] = {"d4", "rot180", "flip"};
    for (int k = 0; k < ENV_KIND_COUNT; k++)
        for (int gi = 0; gi < 3; gi++) {
            EnvConfig c;
            char err[256];
            Env e;
            env_config_default(&c, (EnvKind)k);
            c.orientation = ORIENT_RANDOM;
            ck_assert_msg(group_parse(&c.group, groups[gi], err, sizeof err) == 0, "%s", err);
            ck_assert_msg(env_init(&e, &c, k == ENV_MAP ? map : NULL, 1, err, sizeof err) == 0, "%s", err);
            int seen[D4_ORDER] = {0};
            uint8_t obs[ENV_MAX_CELLS];
            for (int it = 0; it < 160; it++) {
                env_reset(&e, obs);
                seen[e.orient]++;
                /* undoing the orientation gives a canonical layout */
                env_transform(&e, d4_inverse(e.orient));
                ck_assert_msg(e.orient == 0, "inverse transform leaves orient %d", e.orient);
                int n = e.n, mid = n / 2;
                if (k == ENV_MAP) {
                    ck_assert_msg(memcmp(e.layout, map->cells, (size_t)e.ncells) == 0, "map: inverse-oriented layout is not the file's");
                } else if (k == ENV_LAVA) {
                    ck_assert_msg(count_flag(e.layout + 0, n * n, CELL_LAVA) == n - 3 && (e.layout[n + mid] | e.layout[2 * n + mid]) & CELL_LAVA,
                                  "lava: river not in column %d after undoing the orientation", mid);
                    ck_assert_msg(e.agent % n < mid, "lava: agent not left of the river after undoing the orientation");
                }
            }
            Group G = c.group;
            for (int x = 0; x < D4_ORDER; x++) {
                int in_group = 0;
                for (int j = 0; j < G.n; j++)
                    in_group |= G.elem[j] == x;
                if (in_group)
                    ck_assert_msg(seen[x] > 160 / G.n / 3, "%s/%s: element %d drawn %d times", env_kind_name((EnvKind)k), groups[gi], x, seen[x]);
                else
                    ck_assert_msg(seen[x] == 0, "%s/%s: element %d outside the group drawn", env_kind_name((EnvKind)k), groups[gi], x);
            }
        }
    free(map);
}
END_TEST

/* ----------------------------------------------------------- equivariance */

/* For random states s of an env: step(g.s, rho(g)a) == g.step(s, a). */
static void check_equivariance(EnvKind kind, const EnvMap *map, uint64_t seed)
{
    Env base;
    make_env(&base, kind, map, seed, 0, ORIENT_RANDOM);
    base.autoreset = 1;
    uint8_t obs[ENV_MAX_CELLS];
    env_reset(&base, obs);
    int n = base.n, nn = n * n;
    Rng rng;
    rng_seed(&rng, seed, 77);
    for (int state = 0; state < 12; state++) {
        int walk = (int)rng_below(&rng, 30);
        float r;
        uint8_t t, u;
        for (int s = 0; s < walk; s++)
            env_step(&base, (int)rng_below(&rng, 4), obs, &r, &t, &u, obs);
        base.autoreset = 0;
        for (int g = 0; g < D4_ORDER; g++) {
            Env gs = base;
            env_transform(&gs, g);
            /* env_set_state with g applied by hand agrees with env_transform */
            Env hs = base;
            uint8_t glay[ENV_MAX_CELLS];
            group_bytes(glay, base.layout, g, n);
            int ar, ac;
            d4_cell(g, n, base.agent / n, base.agent % n, &ar, &ac);
            env_set_state(&hs, glay, ar * n + ac);
            ck_assert_msg(memcmp(hs.layout, gs.layout, (size_t)nn) == 0 && hs.agent == gs.agent, "%s: env_transform(%d) != env_set_state(g.s)",
                          env_kind_name(kind), g);
            ck_assert_msg(gs.orient == d4_compose(g, base.orient), "%s: orient after transform", env_kind_name(kind));
            for (int a = 0; a <= 4; a++) {
                Env e1 = base, e2 = gs;
                uint8_t o1[ENV_MAX_CELLS], o2[ENV_MAX_CELLS], go1[ENV_MAX_CELLS];
                float r1, r2;
                uint8_t t1, t2, u1, u2;
                env_step(&e1, a, o1, &r1, &t1, &u1, NULL);
                env_step(&e2, d4_action(g, a), o2, &r2, &t2, &u2, NULL);
                group_bytes(go1, o1, g, n);
                ck_assert_msg(memcmp(go1, o2, (size_t)nn) == 0, "%s seed %llu state %d: obs not equivariant for g=%d a=%d", env_kind_name(kind),
                              (unsigned long long)seed, state, g, a);
                ck_assert_msg(r1 == r2 && t1 == t2 && u1 == u2, "%s: g=%d a=%d reward %g vs %g, term %d vs %d, trunc %d vs %d", env_kind_name(kind), g,
                              a, (double)r1, (double)r2, t1, t2, u1, u2);
            }
        }
        base.autoreset = 1;
    }
}

START_TEST(test_equivariance_generated)
{
    for (int k = 0; k < ENV_MAP; k++)
        for (uint64_t seed = 0; seed < 4; seed++)
            check_equivariance((EnvKind)k, NULL, seed);
}
END_TEST

START_TEST(test_equivariance_maps)
{
    for (int m = 0; m < NMAPS; m++) {
        EnvMap *map = load_map(map_files[m]);
        for (uint64_t seed = 0; seed < 3; seed++)
            check_equivariance(ENV_MAP, map, seed);
        free(map);
    }
}
END_TEST

/* -------------------------------------------------------------------- vec */

START_TEST(test_vec)
{
    enum { E = 3, STEPS = 400 };
    EnvConfig c;
    char err[256];
    env_config_default(&c, ENV_LAVA);
    c.orientation = ORIENT_RANDOM;
    VecEnv v;
    ck_assert_msg(vec_init(&v, E, &c, NULL, 10, err, sizeof err) == 0, "%s", err);
    Env single[E];
    int nn = v.envs[0].ncells;
    uint8_t obs[E * 81], next[E * 81], sobs[E][81], snext[E][81], srst[E][81];
    vec_reset(&v, obs);
    for (int i = 0; i < E; i++) {
        ck_assert_msg(env_init(&single[i], &c, NULL, 10 + (uint64_t)i, err, sizeof err) == 0, "%s", err);
        single[i].autoreset = 1;
        ck_assert_msg(v.envs[i].autoreset == 1, "vec env %d without autoreset", i);
        env_reset(&single[i], sobs[i]);
        ck_assert_msg(memcmp(obs + i * nn, sobs[i], (size_t)nn) == 0, "vec_reset env %d differs from env stream %d", i, 10 + i);
    }
    Rng rng;
    rng_seed(&rng, 3, 3);
    int ends = 0;
    for (int s = 0; s < STEPS; s++) {
        int act[E];
        float rew[E];
        uint8_t term[E], trunc[E];
        for (int i = 0; i < E; i++)
            act[i] = (int)rng_below(&rng, 4);
        vec_step(&v, act, next, obs, rew, term, trunc);
        for (int i = 0; i < E; i++) {
            float r;
            uint8_t t, u;
            env_step(&single[i], act[i], snext[i], &r, &t, &u, srst[i]);
            ck_assert_msg(r == rew[i] && t == term[i] && u == trunc[i], "vec env %d step %d: reward/done differ", i, s);
            ck_assert_msg(memcmp(next + i * nn, snext[i], (size_t)nn) == 0, "vec env %d step %d: next_obs differs", i, s);
            ck_assert_msg(memcmp(obs + i * nn, (t || u) ? srst[i] : snext[i], (size_t)nn) == 0, "vec env %d step %d: obs differs", i, s);
            if (t || u) {
                ends++;
                ck_assert_msg(count_flag(next + i * nn, nn, CELL_AGENT) == 1 && memcmp(next + i * nn, obs + i * nn, (size_t)nn) != 0,
                              "terminal next_obs should differ from the reset obs");
            }
        }
    }
    ck_assert_msg(ends > 10, "only %d episodes ended", ends);
    vec_free(&v);
    ck_assert_msg(v.envs == NULL && v.E == 0, "vec_free leaves pointers");
    vec_free(NULL);
    vec_free(&v);
    ck_assert_msg(vec_init(&v, 0, &c, NULL, 0, err, sizeof err) == -1 && strstr(err, ">= 1"), "vec_init(E=0): %s", err);
    c.size = 2;
    ck_assert_msg(vec_init(&v, 2, &c, NULL, 0, err, sizeof err) == -1 && strstr(err, "env.size") && v.envs == NULL, "vec_init(bad cfg): %s", err);
}
END_TEST

/* ------------------------------------------------------------------- maps */

static int parse(EnvMap *m, const char *text, char *err, size_t errlen)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1); /* exact size: ASan catches over-reads */
    ck_assert_msg(copy != NULL, "oom");
    memcpy(copy, text, len);
    int rc = env_map_parse(m, copy, len, "t.txt", err, errlen);
    free(copy);
    return rc;
}

START_TEST(test_map_errors)
{
    static char wide[200], tall[400], crowded[1000];
    memset(wide, '#', 65);
    strcpy(wide + 65, "\n");
    for (int r = 0; r < 65; r++)
        memcpy(tall + 5 * r, "####\n", 5);
    /* 20 x 20 with 18*18 = 324 starts (> ENV_MAX_STARTS) */
    size_t p = 0;
    for (int r = 0; r < 20; r++) {
        for (int c = 0; c < 20; c++)
            crowded[p++] = (r == 0 || c == 0 || r == 19 || c == 19) ? '#' : (r == 1 && c == 1) ? 'G' : 'A';
        crowded[p++] = '\n';
    }
    static const struct {
        const char *text, *where, *what;
    } cases[] = {
        {"####\n#AG#\n#.x#\n####\n", "t.txt:3:3: ", "unknown character 'x'; allowed: '#' wall, '.' floor, 'A' agent start, 'G' goal, 'L' lava"},
        {"####\n#AG#\n#.\x01#\n####\n", "t.txt:3:3: ", "unknown byte 0x01; allowed"},
        {"####\n#A\xff#\n", "t.txt:2:3: ", "unknown byte 0xff"},
        {"##\r##\n", "t.txt:1:3: ", "unknown byte 0x0d"},
        {"#####\n#A.G#\n#..#\n#####\n#####\n", "t.txt:3:5: ", "ragged row: 4 characters wide but the first row is 5; allowed"},
        {"####\n#AG#\n#...#\n####\n", "t.txt:3:5: ", "ragged row: 5 characters wide"},
        {"#####\n#A.G#\n#####\n", "t.txt:4:1: ", "not square: 3 rows but 5 characters wide"},
        {"####\n#AG#\n#..#\n#..#\n####\n", "t.txt:5:1: ", "not square: row 5"},
        {wide, "t.txt:1:65: ", "row is 65 characters wide; allowed: maps of at most 64x64"},
        {"####\n#.G#\n#..#\n####\n", "t.txt:1:1: ", "no agent start 'A'; allowed"},
        {"####\n#.A#\n#..#\n####\n", "t.txt:1:1: ", "no goal 'G'; allowed: exactly one"},
        {"#####\n#AGG#\n#...#\n#...#\n#####\n", "t.txt:2:4: ", "second goal 'G' (the first is at 2:3); allowed: exactly one 'G'"},
        {"#####\n#A#G#\n#.#.#\n#.#.#\n#####\n", "t.txt:2:4: ", "goal 'G' is unreachable from every start 'A'"},
        {"#####\n#A.L#\n#.LG#\n#L..#\n#####\n", "t.txt:3:4: ", "unreachable"},
        {"", "t.txt:1:1: ", "empty map"},
        {"\n\n\r\n", "t.txt:1:1: ", "empty map"},
        {"####\n#AG#\n\n#..#\n####\n", "t.txt:3:1: ", "empty line inside the map"},
        {"\n####\n#AG#\n#..#\n####\n", "t.txt:1:1: ", "empty line before the first row"},
        {"####\n.AG#\n#..#\n####\n", "t.txt:2:1: ", "border cell is '.'; allowed: only '#'"},
        {"####\n#AG#\n#..#\n##L#\n", "t.txt:4:3: ", "border cell is 'L'"},
        {"####\n#AG#\n#..#\n#A##\n", "t.txt:4:2: ", "border cell is 'A'"},
        {crowded, "t.txt:16:7: ", "too many agent starts 'A'; allowed: at most 256"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EnvMap m;
        char err[512] = "";
        ck_assert_msg(parse(&m, cases[i].text, err, sizeof err) == -1, "case %zu accepted (expected %s%s)", i, cases[i].where, cases[i].what);
        ck_assert_msg(strncmp(err, cases[i].where, strlen(cases[i].where)) == 0, "case %zu: location: got '%s', expected '%s...'", i, err, cases[i].where);
        ck_assert_msg(strstr(err, cases[i].what) != NULL, "case %zu: got '%s', expected to contain '%s'", i, err, cases[i].what);
    }
    /* more rows than 64 is caught as not square at the first extra row */
    EnvMap m;
    char err[512];
    ck_assert_msg(parse(&m, tall, err, sizeof err) == -1 && strncmp(err, "t.txt:5:1: ", 11) == 0, "tall map: %s", err);
    /* a file that does not exist */
    ck_assert_msg(env_map_load(&m, "envs/maps/no_such_map.txt", err, sizeof err) == -1 && strstr(err, "envs/maps/no_such_map.txt: cannot open"),
                  "missing file: %s", err);
}
END_TEST

/* Files that are not maps: a FIFO (would block), a directory, a device; and
 * bytes that are not ASCII are named as such, not as a ragged row. */
START_TEST(test_map_files)
{
    EnvMap *m = malloc(sizeof *m);
    char err[512] = "", dir[64] = "/tmp/test_env_dir_XXXXXX", fifo[96];
    ck_assert_msg(m && mkdtemp(dir) != NULL, "mkdtemp failed");
    snprintf(fifo, sizeof fifo, "%s/fifo.txt", dir);
    ck_assert_msg(mkfifo(fifo, 0600) == 0, "mkfifo failed");
    ck_assert_msg(env_map_load(m, fifo, err, sizeof err) == -1 && strncmp(err, fifo, strlen(fifo)) == 0 && strstr(err, "is a FIFO") && strstr(err, "allowed: a regular file"), "FIFO: %s", err);
    ck_assert_msg(env_map_load(m, dir, err, sizeof err) == -1 && strstr(err, "is a directory") && strstr(err, "allowed: a regular file"), "directory: %s", err);
    ck_assert_msg(env_map_load(m, "/dev/null", err, sizeof err) == -1 && strstr(err, "is a character device"), "/dev/null: %s", err);
    unlink(fifo);
    rmdir(dir);
    /* a UTF-8 byte order mark before the first row is skipped, as in configs */
    ck_assert_msg(parse(m, "\xef\xbb\xbf####\n#AG#\n#..#\n####\n", err, sizeof err) == 0 && m->n == 4, "BOM map rejected: %s", err);
    /* a two-byte UTF-8 character is one unknown character, not a ragged row */
    ck_assert_msg(parse(m, "####\n#A\xc3\xa9#\n#.G#\n####\n", err, sizeof err) == -1, "e-acute accepted");
    ck_assert_msg(strncmp(err, "t.txt:2:3: ", 11) == 0 && strstr(err, "non-ASCII character U+00E9") && !strstr(err, "ragged"), "e-acute: %s", err);
    ck_assert_msg(parse(m, "####\n#A\xc3#\n#.G#\n####\n", err, sizeof err) == -1 && strstr(err, "unknown byte 0xc3"), "lone lead byte: %s", err);
    /* the empty-map message says "allowed" once */
    ck_assert_msg(parse(m, "", err, sizeof err) == -1, "empty map accepted");
    const char *first = strstr(err, "allowed");
    ck_assert_msg(first && !strstr(first + 1, "allowed"), "empty map: %s", err);
    free(m);
}
END_TEST

START_TEST(test_map_variants)
{
    const char *canon = "#####\n#A.G#\n#.L.#\n#A..#\n#####\n";
    const char *variants[] = {
        "#####\r\n#A.G#\r\n#.L.#\r\n#A..#\r\n#####\r\n",
        "#####\n#A.G#\n#.L.#\n#A..#\n#####",
        "#####\n#A.G#\n#.L.#\n#A..#\n#####\n\n\n",
        "#####\r\n#A.G#\n#.L.#\r\n#A..#\n#####\r\n\r\n",
    };
    EnvMap a, b;
    char err[512];
    ck_assert_msg(parse(&a, canon, err, sizeof err) == 0, "canonical map rejected: %s", err);
    ck_assert_msg(a.n == 5 && a.nstarts == 2 && a.starts[0] == 6 && a.starts[1] == 16, "parsed n=%d starts=%d", a.n, a.nstarts);
    ck_assert_msg(a.cells[8] == CELL_GOAL && a.cells[12] == CELL_LAVA && a.cells[0] == CELL_WALL && a.cells[7] == 0, "cell flags");
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        ck_assert_msg(parse(&b, variants[i], err, sizeof err) == 0, "variant %zu rejected: %s", i, err);
        ck_assert_msg(b.n == a.n && b.nstarts == a.nstarts && memcmp(a.cells, b.cells, 25) == 0 && memcmp(a.starts, b.starts, sizeof(int) * 2) == 0,
                      "variant %zu parses differently", i);
    }
    /* shipped maps load, with their documented features */
    EnvMap *lb = load_map("envs/maps/lava_bridge.txt");
    ck_assert_msg(lb->n == 9 && count_flag(lb->cells, 81, CELL_LAVA) == 18, "lava bridge: n %d, %d lava", lb->n, count_flag(lb->cells, 81, CELL_LAVA));
    free(lb);
    EnvMap *fr = load_map("envs/maps/fourrooms.txt");
    ck_assert_msg(fr->n == 11 && fr->nstarts == 1, "fourrooms map");
    free(fr);
}
END_TEST

/* Parses buf[0..len) from an exact-size copy; on success checks the map's
 * invariants, on failure the message's form. */
static int fuzz_one(const char *buf, size_t len, size_t iter)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_msg(copy != NULL, "oom");
    memcpy(copy, buf, len);
    EnvMap m;
    char err[512] = "";
    int rc = env_map_parse(&m, copy, len, "fz", err, sizeof err);
    free(copy);
    if (rc == 0) {
        int n = m.n, goals = 0;
        ck_assert_msg(n >= 1 && n <= ENV_MAX_N && m.nstarts >= 1 && m.nstarts <= ENV_MAX_STARTS, "fuzz %zu: bad map accepted n=%d", iter, n);
        int bad_cell = -1, bad_start = -1;
        for (int i = 0; i < n * n; i++) {
            if (m.cells[i] != 0 && m.cells[i] != CELL_WALL && m.cells[i] != CELL_GOAL && m.cells[i] != CELL_LAVA)
                bad_cell = i;
            goals += m.cells[i] == CELL_GOAL;
        }
        for (int s = 0; s < m.nstarts; s++)
            if (m.starts[s] < 0 || m.starts[s] >= n * n || m.cells[m.starts[s]] != 0)
                bad_start = s;
        ck_assert_msg(goals == 1 && bad_cell < 0 && bad_start < 0, "fuzz %zu: accepted %d goals, bad cell %d, bad start %d", iter, goals, bad_cell, bad_start);
    } else {
        unsigned long line, col;
        int used = 0;
        ck_assert_msg(rc == -1 && sscanf(err, "fz:%lu:%lu: %n", &line, &col, &used) == 2 && used > 0 && line >= 1 && col >= 1,
                      "fuzz %zu: message without fz:line:col: '%s'", iter, err);
        ck_assert_msg(strstr(err, "allowed") != NULL, "fuzz %zu: message without 'allowed': %s", iter, err);
    }
    return rc == 0;
}

START_TEST(test_map_fuzz)
{
    static const char alphabet[] = "#.AGL\n\r#..##";
    Rng rng;
    rng_seed(&rng, 2024, 0);
    char buf[6000];
    int accepted = 0;
    /* random bytes, mostly from the map alphabet */
    for (size_t it = 0; it < 4000; it++) {
        size_t len = rng_below(&rng, 120);
        for (size_t i = 0; i < len; i++)
            buf[i] = rng_below(&rng, 8) ? alphabet[rng_below(&rng, sizeof alphabet - 1)] : (char)rng_below(&rng, 256);
        fuzz_one(buf, len, it);
    }
    /* mutations of valid maps */
    for (int mfile = 0; mfile < NMAPS; mfile++) {
        FILE *f = fopen(map_files[mfile], "rb");
        ck_assert_msg(f != NULL, "open %s", map_files[mfile]);
        char orig[4096];
        size_t olen = fread(orig, 1, sizeof orig, f);
        fclose(f);
        for (size_t it = 0; it < 2000; it++) {
            size_t len = olen;
            memcpy(buf, orig, len);
            int muts = 1 + (int)rng_below(&rng, 3);
            for (int k = 0; k < muts; k++) {
                size_t at = len ? rng_below(&rng, (uint32_t)len) : 0;
                char ch = rng_below(&rng, 6) ? alphabet[rng_below(&rng, sizeof alphabet - 1)] : (char)rng_below(&rng, 256);
                switch (rng_below(&rng, 5)) {
                case 0: /* replace */
                    if (len)
                        buf[at] = ch;
                    break;
                case 1: /* delete */
                    if (len) {
                        memmove(buf + at, buf + at + 1, len - at - 1);
                        len--;
                    }
                    break;
                case 2: /* insert */
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = ch;
                    len++;
                    break;
                case 3: /* truncate */
                    len = at;
                    break;
                default: /* duplicate the prefix */
                    if (2 * len < sizeof buf - 16) {
                        memcpy(buf + len, buf, at);
                        len += at;
                    }
                    break;
                }
            }
            accepted += fuzz_one(buf, len, 100000 + it);
        }
    }
    /* some mutations (e.g. '.' -> '#' far from the path) stay valid */
    ck_assert_msg(accepted > 50, "only %d mutated maps accepted: the fuzz mostly hits one error", accepted);
}
END_TEST

static Suite *env_suite(void)
{
    Suite *s = suite_create("env");
    TCase *tc = tcase_create("basics");
    tcase_add_test(tc, test_kinds_and_defaults);
    tcase_add_test(tc, test_init_errors);
    tcase_add_test(tc, test_planes);
    tcase_add_test(tc, test_print);
    suite_add_tcase(s, tc);
    tc = tcase_create("rules");
    tcase_add_test(tc, test_goal_layouts);
    tcase_add_test(tc, test_goal_rules);
    tcase_add_test(tc, test_lava_rules);
    tcase_add_test(tc, test_fourrooms_layouts);
    tcase_add_test(tc, test_maze_perfect);
    tcase_add_test(tc, test_map_env);
    tcase_add_test(tc, test_autoreset);
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);
    tc = tcase_create("orientation");
    tcase_add_test(tc, test_orientation_fixed);
    tcase_add_test(tc, test_orientation_random);
    suite_add_tcase(s, tc);
    tc = tcase_create("equivariance");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_equivariance_generated);
    tcase_add_test(tc, test_equivariance_maps);
    suite_add_tcase(s, tc);
    tc = tcase_create("vec");
    tcase_add_test(tc, test_vec);
    suite_add_tcase(s, tc);
    tc = tcase_create("maps");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_map_errors);
    tcase_add_test(tc, test_map_variants);
    tcase_add_test(tc, test_map_files);
    tcase_add_test(tc, test_map_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(env_suite)

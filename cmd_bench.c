/* cmd_bench.c - `equigrid bench [SECTION ...]`: throughput figures, one
 * section per subsystem. Sections live in one static table {name, run}; `all`
 * runs every entry in table order. Each section prints its own table to
 * stdout and returns 0, or prints to stderr and returns non-zero.
 *
 * env: raw single-core env steps per second for every env at its default size
 * (the map env on a shipped map), uniformly random actions drawn from an Rng,
 * the compact observation written on every step, autoreset on. Each row runs
 * for a fixed wall time (CLOCK_MONOTONIC), checked every 64k steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "envs/env.h"

typedef struct {
    double seconds; /* wall time per measurement */
} BenchOpts;

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Steps one env with random actions for about opts->seconds; prints a row. */
static int bench_env_row(const char *label, const EnvConfig *cfg, const EnvMap *map, const BenchOpts *opts)
{
    char err[512];
    Env e;
    if (env_init(&e, cfg, map, 0, err, sizeof err) != 0) {
        fprintf(stderr, "bench env %s: %s\n", label, err);
        return -1;
    }
    e.autoreset = 1;
    uint8_t obs[ENV_MAX_CELLS], reset_obs[ENV_MAX_CELLS];
    float reward, sum = 0.0f;
    uint8_t term, trunc;
    Rng rng;
    rng_seed(&rng, 1, 0xbe9c);
    env_reset(&e, obs);
    long steps = 0, episodes0 = e.episodes;
    double t0 = bench_now(), elapsed;
    do {
        for (int i = 0; i < 65536; i++) {
            env_step(&e, (int)rng_below(&rng, 4), obs, &reward, &term, &trunc, reset_obs);
            sum += reward;
        }
        steps += 65536;
        elapsed = bench_now() - t0;
    } while (elapsed < opts->seconds);
    long episodes = e.episodes - episodes0;
    printf("%-22s %5d %12.2f %13.0f %9.3f\n", label, e.n, (double)steps / elapsed * 1e-6, (double)episodes / elapsed,
           episodes ? (double)sum / (double)episodes : 0.0);
    return 0;
}

static int bench_env(const BenchOpts *opts)
{
    static const char map_path[] = "envs/maps/fourrooms.txt";
    printf("env steps/s, 1 core, random actions, compact obs every step, autoreset (%.1f s each)\n", opts->seconds);
    printf("%-22s %5s %12s %13s %9s\n", "env", "size", "steps/s (M)", "episodes/s", "mean ret");
    int rc = 0;
    for (int k = 0; k < ENV_KIND_COUNT; k++) {
        EnvConfig cfg;
        env_config_default(&cfg, (EnvKind)k);
        if (k == ENV_MAP) {
            char err[512];
            EnvMap *map = malloc(sizeof *map);
            if (!map || env_map_load(map, map_path, err, sizeof err) != 0) {
                fprintf(stderr, "bench env map: %s (run from the repository root)\n", map ? err : "out of memory");
                free(map);
                rc = -1;
                continue;
            }
            snprintf(cfg.map_path, sizeof cfg.map_path, "%s", map_path);
            rc |= bench_env_row("map fourrooms.txt", &cfg, map, opts);
            free(map);
        } else {
            rc |= bench_env_row(env_kind_name((EnvKind)k), &cfg, NULL, opts);
        }
    }
    EnvConfig cfg;
    env_config_default(&cfg, ENV_GOAL);
    cfg.orientation = ORIENT_RANDOM;
    rc |= bench_env_row("goal (random orient)", &cfg, NULL, opts);
    env_config_default(&cfg, ENV_LAVA);
    cfg.orientation = ORIENT_RANDOM;
    rc |= bench_env_row("lava (random orient)", &cfg, NULL, opts);
    return rc;
}

/* The sections, in the order `all` runs them. */
static const struct {
    const char *name;
    int (*run)(const BenchOpts *opts);
    const char *help;
} sections[] = {
    {"env", bench_env, "env steps/s for every env (1 core, random actions)"},
};
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: equigrid bench [--seconds S] [SECTION ...]   (default: all)\n\nsections:\n");
    for (int i = 0; i < NSECTIONS; i++)
        fprintf(f, "  %-6s %s\n", sections[i].name, sections[i].help);
    fprintf(f, "  %-6s every section above\n\noptions:\n  --seconds S  wall time per measurement (default 1)\n", "all");
}

int cmd_bench(int argc, char **argv)
{
    BenchOpts opts = {1.0};
    int want[NSECTIONS] = {0}, any = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--seconds") == 0) {
            char *end;
            if (i + 1 >= argc || (opts.seconds = strtod(argv[++i], &end), *end != '\0' || end == argv[i]) || !(opts.seconds > 0.0 && opts.seconds <= 600.0)) {
                fprintf(stderr, "equigrid bench: --seconds needs a number in (0, 600]\n");
                return 2;
            }
            continue;
        }
        int found = 0;
        for (int s = 0; s < NSECTIONS; s++)
            if (strcmp(a, "all") == 0 || strcmp(a, sections[s].name) == 0) {
                want[s] = 1;
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "equigrid bench: unknown section '%s'; allowed: all", a);
            for (int s = 0; s < NSECTIONS; s++)
                fprintf(stderr, ", %s", sections[s].name);
            fprintf(stderr, "\n");
            return 2;
        }
        any = 1;
    }
    int rc = 0;
    for (int s = 0; s < NSECTIONS; s++)
        if (want[s] || !any)
            rc |= sections[s].run(&opts) != 0;
    return rc ? 1 : 0;
}

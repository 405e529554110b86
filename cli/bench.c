/* bench.c - `equigrid bench [SECTION ...]`: throughput figures, one
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

#include "../core/clock.h"
#include "../nn/gemm.h"
#include "../agents/train.h"
#include "cmd.h"
#include "../envs/env.h"
#include "../replay/replay.h"

typedef struct {
    double seconds; /* wall time per measurement */
    long steps;     /* train section: env steps per run, 0 = the config's */
    const char *configs; /* train section: comma-separated config names, NULL = all */
} BenchOpts;

/* Steps one env with random actions for about opts->seconds (or exactly
 * opts->steps steps); prints a row. The mean return is over the episodes
 * that finished, summed in double, so it does not drift with the run length. */
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
    float reward;
    double sum = 0.0;
    uint8_t term, trunc;
    Rng rng;
    rng_seed(&rng, 1, 0xbe9c);
    env_reset(&e, obs);
    long steps = 0, episodes0 = e.episodes;
    double t0 = clock_seconds(), elapsed;
    do {
        long block = opts->steps > 0 && opts->steps - steps < 65536 ? opts->steps - steps : 65536;
        for (long i = 0; i < block; i++) {
            env_step(&e, (int)rng_below(&rng, 4), obs, &reward, &term, &trunc, reset_obs);
            if (term | trunc)
                sum += (double)e.last.ret;
        }
        steps += block;
        elapsed = clock_seconds() - t0;
    } while (opts->steps > 0 ? steps < opts->steps : elapsed < opts->seconds);
    long episodes = e.episodes - episodes0;
    printf("%-22s %5d %12.2f %13.0f %9.3f\n", label, e.n, (double)steps / elapsed * 1e-6, (double)episodes / elapsed, episodes ? sum / (double)episodes : 0.0);
    return 0;
}

static int bench_env(const BenchOpts *opts)
{
    static const char map_path[] = "envs/maps/fourrooms.txt";
    if (opts->steps > 0)
        printf("env steps/s, 1 core, random actions, compact obs every step, autoreset (%ld steps each)\n", opts->steps);
    else
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

/* Resident memory of this process in kB (VmRSS), or -1. */
static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* Memory of a full replay buffer: 1,000,000 transitions of the 9x9 goal env
 * pushed from real episodes, measured as the growth of VmRSS. */
static int bench_replay(const BenchOpts *opts)
{
    (void)opts;
    enum { N = 1000000 };
    EnvConfig cfg;
    env_config_default(&cfg, ENV_GOAL);
    Env env;
    char err[256];
    if (env_init(&env, &cfg, NULL, 1, err, sizeof err) != 0) {
        fprintf(stderr, "bench replay: %s\n", err);
        return 1;
    }
    env.autoreset = 1;
    long before = rss_kb();
    Replay r;
    if (replay_init(&r, N, env.ncells, 1, 1) != 0) {
        fprintf(stderr, "bench replay: cannot allocate %d transitions\n", N);
        return 1;
    }
    uint8_t obs[ENV_MAX_CELLS], next[ENV_MAX_CELLS];
    Rng rng;
    rng_seed(&rng, 1, 2);
    env_reset(&env, obs);
    double t0 = clock_seconds();
    for (long i = 0; i < N; i++) {
        int a = (int)rng_below(&rng, 4);
        float rew;
        uint8_t term, trunc;
        env_step(&env, a, next, &rew, &term, &trunc, obs);
        replay_push(&r, obs, a, rew, next, term);
        if (!term && !trunc)
            memcpy(obs, next, (size_t)env.ncells);
    }
    double dt = clock_seconds() - t0;
    long after = rss_kb();
    printf("\nreplay: %d transitions of goal 9x9 (compact states)\n", N);
    printf("  allocated %.1f MB, resident growth %.1f MB (target <= 200 MB), filled at %.1f M pushes/s\n", (double)replay_bytes(&r) / 1e6, (double)(after - before) / 1024.0 * 1.048576, (double)N / dt / 1e6);
    replay_free(&r);
    return 0;
}

/* Seconds per call of cblas_sgemm on op(A) (M x K) by op(B) (K x N), measured for about `seconds`. */
static double sgemm_seconds(int ta, int tb, int M, int N, int K, double seconds)
{
    float *a = calloc((size_t)M * K, sizeof *a), *b = calloc((size_t)K * N, sizeof *b), *c = calloc((size_t)M * N, sizeof *c);
    if (!a || !b || !c) {
        free(a);
        free(b);
        free(c);
        return 0.0;
    }
    for (long i = 0; i < (long)M * K; i++)
        a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)K * N; i++)
        b[i] = (float)(i % 5) * 0.1f;
    long reps = 0;
    double t0 = clock_seconds(), dt;
    do {
        for (int i = 0; i < 4; i++)
            gemm(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, 0.0f, c, N);
        reps += 4;
    } while ((dt = clock_seconds() - t0) < seconds);
    free(a);
    free(b);
    free(c);
    return dt / (double)reps;
}

/* GFLOP/s of cblas_sgemm over the GEMMs of `passes` forwards and one
 * backward of net on B rows (net_gemms): their flops over their summed
 * measured times, the rate BLAS reaches on the shapes the network really
 * multiplies. 0 if it makes no GEMM. */
static double net_sgemm_gflops(const Net *net, int B, double passes)
{
    NetGemm g[64];
    double flops = 0.0, secs = 0.0;
    for (int bw = 0; bw < 2; bw++) {
        int n = net_gemms(net, B, bw, g, 64);
        for (int i = 0; i < n && i < 64; i++) {
            double f = 2.0 * g[i].M * g[i].N * g[i].K * g[i].count * (bw ? 1.0 : passes);
            flops += f;
            secs += sgemm_seconds(g[i].trans_a, g[i].trans_b, g[i].M, g[i].N, g[i].K, 0.05) * g[i].count * (bw ? 1.0 : passes);
        }
    }
    return secs > 0.0 ? flops / secs / 1e9 : 0.0;
}

/* GFLOP/s of cblas_sgemm on an (M x K) by (K x N) product, for about `seconds`. */
static double sgemm_gflops(int M, int N, int K, double seconds)
{
    double s = sgemm_seconds(0, 0, M, N, K, seconds);
    return s > 0.0 ? 2.0 * M * N * K / s / 1e9 : 0.0;
}

static int bench_gemm(const BenchOpts *opts)
{
    static const int shapes[][3] = {{64, 64, 64}, {512, 64, 64}, {64, 256, 256}, {512, 256, 256}, {512, 64, 243}};
    printf("\ngemm: cblas_sgemm, 1 thread (M x K) * (K x N)\n  %5s %5s %5s  %8s\n", "M", "N", "K", "GFLOP/s");
    gemm_set_threads(1);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        printf("  %5d %5d %5d  %8.1f\n", shapes[i][0], shapes[i][1], shapes[i][2], sgemm_gflops(shapes[i][0], shapes[i][1], shapes[i][2], opts->seconds * 0.3));
    return 0;
}

/* Mean number of non-zero plane entries per observation of cfg's env over
 * 256 fresh layouts: what a sparse first layer actually reads. */
static double mean_nonzeros(const Config *cfg, int C)
{
    EnvConfig ec;
    EnvMap *map = malloc(sizeof *map);
    char err[512];
    Env env;
    double total = 0.0;
    int n = 0;
    if (map && agent_env_config(cfg, &ec, map, err, sizeof err) == 0 && env_init(&env, &ec, map, 7, err, sizeof err) == 0) {
        uint8_t obs[ENV_MAX_CELLS];
        for (; n < 256; n++) {
            env_reset(&env, obs);
            for (int i = 0; i < env.ncells; i++)
                for (int k = 0; k < C; k++)
                    total += (obs[i] >> k) & 1;
        }
    }
    free(map);
    return n ? total / n : 0.0;
}

/* Flops a sparse first layer skips over `rows` rows with nnz non-zero
 * inputs each: a dense layer reads nnz of its inputs' weight rows, a
 * convolution scatters nnz inputs through 9 taps. */
static double sparse_saving(const NetSpec *spec, int rows, double nnz)
{
    if (nnz <= 0.0)
        return 0.0;
    int in = spec->in_c * spec->n * spec->n;
    if (spec->kind == NET_CNN)
        return 2.0 * rows * ((double)in - nnz) * 9.0 * spec->conv[0];
    int out = spec->nhidden ? spec->hidden[0] : spec->out;
    return 2.0 * rows * ((double)in - nnz) * out;
}

/* Trains each benchmark config and reports throughput and the update step's
 * arithmetic rate against sgemm on the hidden layers' shape. */
static const char *const train_configs[] = {"bench-small", "bench-small-equitune", "bench-small-equizero", "bench-small-lambda",
                                            "bench-large", "bench-large-equitune", "bench-large-equizero", "bench-large-lambda",
                                            "bench-cnn",   "bench-cnn-equitune",   "bench-cnn-equizero",   "bench-cnn-lambda"};
enum { NTRAIN = sizeof train_configs / sizeof train_configs[0] };

/* 1 if name is an entry of the comma-separated list. */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

/* NULL if every entry of the comma-separated list names a train config, else
 * writes the first unknown entry to bad. */
static const char *unknown_config(const char *list, char *bad, size_t cap)
{
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        int ok = 0;
        for (int i = 0; i < NTRAIN; i++)
            ok |= strlen(train_configs[i]) == len && strncmp(p, train_configs[i], len) == 0;
        if (!ok) {
            snprintf(bad, cap, "%.*s", (int)len, p);
            return bad;
        }
        if (p[len] == '\0')
            return NULL;
        p += len + 1;
    }
}

/* One training run's figures. */
typedef struct {
    long steps;
    double env_rate, update_rate;   /* env steps and updates per second of the whole run */
    double dense_gf, done_gf, sgemm_gf;
    double sym_share;               /* % of the update time */
} TrainRow;

/* Trains configs/NAME.ini with run.threads = threads (steps overridden by
 * opts->steps) and measures its row; 0, or non-zero with a message. */
static int train_row(const char *name, const BenchOpts *opts, int threads, TrainRow *row)
{
    char path[256], dir[] = "/tmp/equigrid-bench-XXXXXX", err[1024];
    snprintf(path, sizeof path, "configs/%s.ini", name);
    Config cfg;
    config_default(&cfg);
    if (config_load(&cfg, path, err, sizeof err) != 0 || config_validate(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "bench train: %s\n", err);
        return 1;
    }
    if (opts->steps)
        cfg.train.steps = opts->steps;
    cfg.run.threads = threads;
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench train: cannot create a temporary directory\n");
        return 1;
    }
    Agent *agent = NULL;
    TrainOptions topt = {.out_dir = dir, .keep_agent = &agent};
    TrainResult res;
    int rc = train_run(&cfg, &topt, &res, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "bench train: %s: %s\n", path, err);
    } else {
        const SymSpec *sym = qmodel_sym(agent->online);
        int G = sym->method == SYM_NONE ? 1 : sym->group.n, B = cfg.train.batch_size;
        double nnz = mean_nonzeros(&cfg, agent->C);
        Net *base = qmodel_base(agent->online);
        double fwd = net_flops_forward(base, G * B), done = fwd;
        done -= sparse_saving(&agent->net, G * B, nnz);
        if (qmodel_lambda(agent->online)) {
            Net *lam = qmodel_lambda(agent->online);
            fwd += net_flops_forward(lam, G * B);
            done += net_flops_forward(lam, G * B) - sparse_saving(net_spec(lam), G * B, nnz);
        }
        double passes = cfg.agent.double_dqn ? 3.0 : 2.0; /* forwards, then a backward of about two forwards */
        double per_update = fwd * (passes + 2.0), per_update_done = done * (passes + 2.0);
        int h = agent->net.nhidden ? agent->net.hidden[agent->net.nhidden - 1] : 64;
        double ups = res.update_seconds > 0 ? res.updates / res.update_seconds : 0.0;
        row->steps = res.steps;
        row->env_rate = (double)res.steps / res.seconds;
        row->update_rate = res.updates / res.seconds;
        row->dense_gf = per_update * ups / 1e9;
        row->done_gf = per_update_done * ups / 1e9;
        row->sgemm_gf = agent->net.kind == NET_CNN ? net_sgemm_gflops(base, G * B, passes) : sgemm_gflops(G * B, h, h, 0.3);
        row->sym_share = res.update_seconds > 0 ? 100.0 * res.update_sym_seconds / res.update_seconds : 0.0;
    }
    agent_free(agent);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench train: could not remove %s\n", dir);
    return rc;
}

/* The configs whose run is repeated with run.threads = 2. */
static const char *const thread_configs[] = {"bench-large-lambda", "bench-cnn-lambda"};
enum { NTHREAD = sizeof thread_configs / sizeof thread_configs[0] };

/* Trains each benchmark config and reports throughput and the update step's
 * arithmetic rate against sgemm, then the two-thread runs against their
 * one-thread rows of the same invocation. */
static int bench_train(const BenchOpts *opts)
{
    printf("\ntrain: whole runs (env, replay, acting, updates), run.threads = 1, 1 BLAS thread%s\n", opts->steps ? " (steps overridden)" : "");
    printf("  %-22s %8s %10s %10s %10s %10s %10s %9s\n", "config", "steps", "env st/s", "updates/s", "dense GF/s", "done GF/s", "sgemm GF/s", "sym cost");
    gemm_set_threads(1);
    int rc = 0;
    TrainRow rows[NTRAIN];
    int have[NTRAIN] = {0};
    for (int i = 0; i < NTRAIN; i++) {
        if (opts->configs && !in_list(opts->configs, train_configs[i]))
            continue;
        TrainRow *r = &rows[i];
        if (train_row(train_configs[i], opts, 1, r) != 0) {
            rc = 1;
            continue;
        }
        have[i] = 1;
        printf("  %-22s %8ld %10.0f %10.0f %10.1f %10.1f %10.1f %8.1f%%\n", train_configs[i], r->steps, r->env_rate, r->update_rate, r->dense_gf, r->done_gf, r->sgemm_gf, r->sym_share);
        fflush(stdout);
    }
    printf("  dense GF/s: the update's arithmetic as if every input were dense, per second of update time;\n"
           "  done GF/s: what it really computes (the first layers touch only the non-zero inputs);\n"
           "  sgemm GF/s: MLP rows, cblas_sgemm on the last hidden layer's shape (|G|*B x h x h); CNN rows, cblas_sgemm\n"
           "  on every GEMM shape of the update (3 forwards, 1 backward), their flops over their summed times; in this run;\n"
           "  sym cost = transforms, combining and the lambda network inside the updates, as a share of the update time.\n");
    int header = 0;
    for (int i = 0; i < NTRAIN; i++)
        for (int j = 0; j < NTHREAD; j++) {
            if (!have[i] || strcmp(train_configs[i], thread_configs[j]) != 0)
                continue;
            TrainRow r2;
            if (train_row(train_configs[i], opts, 2, &r2) != 0) {
                rc = 1;
                continue;
            }
            if (!header) {
                printf("\ntrain: run.threads = 2 (equigrid's kernels and their GEMMs split over 2 threads) against the row above\n");
                printf("  %-22s %8s %10s %10s %10s %10s\n", "config", "steps", "env st/s", "updates/s", "1 thread", "speed-up");
                header = 1;
            }
            printf("  %-22s %8ld %10.0f %10.0f %10.0f %9.2fx\n", train_configs[i], r2.steps, r2.env_rate, r2.update_rate, rows[i].env_rate, rows[i].env_rate > 0 ? r2.env_rate / rows[i].env_rate : 0.0);
            fflush(stdout);
        }
    return rc;
}

/* The sections, in the order `all` runs them. */
static const struct {
    const char *name;
    int (*run)(const BenchOpts *opts);
    const char *help;
} sections[] = {
    {"env", bench_env, "env steps/s for every env (1 core, random actions)"},
    {"replay", bench_replay, "memory of 1,000,000 goal 9x9 transitions"},
    {"gemm", bench_gemm, "cblas_sgemm GFLOP/s at the networks' shapes"},
    {"train", bench_train, "bench-small/large/cnn x method: env steps/s, updates/s, GFLOP/s"},
};
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: equigrid bench [--seconds S] [--steps N] [--config A,B] [SECTION ...]   (default: all)\n\nsections:\n");
    for (int i = 0; i < NSECTIONS; i++)
        fprintf(f, "  %-6s %s\n", sections[i].name, sections[i].help);
    fprintf(f, "  %-6s every section above\n\noptions:\n  --seconds S  wall time per measurement (default 1)\n  --steps N    env steps per training run (default: the config's), and per env row instead of --seconds\n"
               "  --config A,B train only these configs (default: all of", "all");
    for (int i = 0; i < NTRAIN; i++)
        fprintf(f, "%s %s", i ? "," : "", train_configs[i]);
    fprintf(f, ")\n");
}

int cmd_bench(int argc, char **argv)
{
    BenchOpts opts = {1.0, 0, NULL};
    int want[NSECTIONS] = {0}, any = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            bench_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--steps") == 0) {
            char *end;
            if (i + 1 >= argc || (opts.steps = strtol(argv[++i], &end, 10), *end != '\0') || opts.steps < 1) {
                fprintf(stderr, "equigrid bench: --steps needs a positive integer\n");
                return 2;
            }
            continue;
        }
        if (strcmp(a, "--config") == 0) {
            char bad[64];
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "equigrid bench: --config needs a comma-separated list of train configs\n");
                return 2;
            }
            opts.configs = argv[++i];
            if (unknown_config(opts.configs, bad, sizeof bad)) {
                fprintf(stderr, "equigrid bench: --config: unknown train config '%s'; allowed:", bad);
                for (int c = 0; c < NTRAIN; c++)
                    fprintf(stderr, "%s %s", c ? "," : "", train_configs[c]);
                fprintf(stderr, "\n");
                return 2;
            }
            continue;
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

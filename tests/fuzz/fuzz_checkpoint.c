/* fuzz_checkpoint.c - libFuzzer harness for checkpoint restore: a mutated
 * checkpoint (through a memory file) goes through train_check_checkpoint,
 * the validation of everything --resume restores (metadata config, networks,
 * env, replay and trainer state), and through agent_from_file, the load of
 * eval, qvalues and watch; an agent that loads then acts greedily on its
 * env's first observation. Every input must either pass or give a message
 * naming the file, and a checkpoint that --resume accepts must load as an
 * agent and, when its run is small (few envs, short episodes, a small replay
 * buffer, few evaluation episodes and CSV rows), really resume: train_run
 * continues it for RESUME_STEPS steps in a temporary run directory, which
 * must succeed without any sanitizer report. A stored config naming a map
 * file outside envs/maps/ is skipped, so the fuzzer never opens arbitrary
 * paths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../agents/agent.h"
#include "../../agents/train.h"
#include "memfile.h"

/* True when the checkpoint's config reads a map outside the shipped ones. */
static int foreign_map(const StFile *f)
{
    const char *conf = st_meta(f, "config");
    if (!conf)
        return 0;
    Config *c = malloc(sizeof *c);
    if (!c)
        return 1;
    char err[1024];
    config_default(c);
    int foreign = config_from_string(c, conf, "fuzz", err, sizeof err) == 0 && c->env.map[0] != '\0' &&
                  (strncmp(c->env.map, "envs/maps/", 10) != 0 || strstr(c->env.map, ".."));
    free(c);
    return foreign;
}

/* Q values of the first observation of the agent's own env. */
static void act_once(Agent *a)
{
    EnvConfig ec;
    EnvMap *map = malloc(sizeof *map);
    char err[1024];
    Env e;
    if (map && agent_env_config(&a->cfg, &ec, map, err, sizeof err) == 0 && env_init(&e, &ec, map, 0, err, sizeof err) == 0) {
        uint8_t obs[ENV_MAX_CELLS];
        env_reset(&e, obs);
        int action = -1;
        agent_act(a, obs, 1, 0.0f, &action);
        if (action < 0 || action >= a->A)
            abort();
    }
    free(map);
}

enum { RESUME_STEPS = 16, MAX_ROWS = 1000 };

/* Writes path with a CSV header line and rows lines of zeros. */
static int write_csv(const char *path, int64_t rows)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("header\n", f);
    for (int64_t i = 0; i < rows; i++)
        fputs("0\n", f);
    return fclose(f);
}

/* Resumes the run of checkpoint data (accepted by train_check_checkpoint)
 * for RESUME_STEPS more steps, if it is small enough to do so quickly. */
static void resume(const StFile *f, const uint8_t *data, size_t size)
{
    Config *cfg = malloc(sizeof *cfg);
    char err[2048], dir[512], path[600];
    const StTensor *c = st_find(f, "train.counters");
    if (!cfg || !c || agent_stored_config(f, "fuzz", cfg, err, sizeof err) != 0 || cfg->train.num_envs > 4 ||
        cfg->train.buffer_size > 4096 || cfg->train.batch_size > 256 || cfg->eval.eval_episodes > 8 || cfg->env.max_steps > 256) {
        free(cfg);
        return;
    }
    const int64_t *counters = c->data; /* step, ..., metrics rows, eval rows (checked by train_check_checkpoint) */
    if (counters[6] > MAX_ROWS || counters[7] > MAX_ROWS) {
        free(cfg);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/equigrid-fuzz-resume-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(cfg);
        return;
    }
    const char *files[] = {"checkpoint.safetensors", "metrics.csv", "eval.csv", "config.ini", "checkpoint.safetensors.tmp"};
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    FILE *ck = fopen(path, "wb");
    int ok = ck && fwrite(data, 1, size, ck) == size;
    ok = (ck && fclose(ck) == 0) && ok;
    snprintf(path, sizeof path, "%s/%s", dir, files[1]);
    ok = ok && write_csv(path, counters[6]) == 0;
    snprintf(path, sizeof path, "%s/%s", dir, files[2]);
    ok = ok && write_csv(path, counters[7]) == 0;
    if (ok) {
        cfg->train.steps = counters[0] + RESUME_STEPS;
        TrainOptions opt = {.out_dir = dir, .resume = 1};
        TrainResult res;
        if (train_run(cfg, &opt, &res, err, sizeof err) != 0)
            abort(); /* what train_check_checkpoint accepts, --resume must resume */
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
    free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[2048] = "";
    int fd = memfile_open(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    StFile *f = st_open(path, err, sizeof err);
    if (!f) {
        close(fd);
        return 0;
    }
    if (!foreign_map(f)) {
        int resumable = train_check_checkpoint(path, err, sizeof err) == 0;
        if (!resumable && strncmp(err, path, strlen(path)) != 0)
            abort(); /* every failure names the file */
        Agent *a = agent_from_file(f, path, NULL, 0, err, sizeof err);
        if (a)
            act_once(a);
        else if (resumable || strncmp(err, path, strlen(path)) != 0)
            abort();
        agent_free(a);
        if (resumable)
            resume(f, data, size);
    }
    st_close(f);
    close(fd);
    return 0;
}

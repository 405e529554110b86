/* fuzz_checkpoint.c - libFuzzer harness for checkpoint restore: a mutated
 * checkpoint (through a memory file) goes through train_check_checkpoint,
 * the validation of everything --resume restores (metadata config, networks,
 * env, replay and trainer state), and through agent_from_file, the load of
 * eval, qvalues and watch; an agent that loads then acts greedily on its
 * env's first observation. Every input must either pass or give a message
 * naming the file, and a checkpoint that --resume accepts must load as an
 * agent. A stored config naming a map file outside envs/maps/ is skipped, so
 * the fuzzer never opens arbitrary paths. */
#include <stdint.h>
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
    }
    st_close(f);
    close(fd);
    return 0;
}

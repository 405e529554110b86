/* export.c - `equigrid export CKPT OUT`: the networks of a checkpoint alone
 * (q.*, lambda.* when present, the config as metadata), without the replay
 * buffer, Adam and trainer state that make up most of a checkpoint. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../agents/agent.h"
#include "cmd.h"

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int cmd_export(int argc, char **argv)
{
    const char *usage = "usage: equigrid export CHECKPOINT OUT.safetensors\n";
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("%s\nWrites the networks of CHECKPOINT alone: q.* (and lambda.* for lambda-equitune)\n"
               "with the config as metadata, without the target network, Adam, the replay buffer\n"
               "and the trainer state. The file loads wherever a checkpoint does (eval, qvalues,\n"
               "watch, record, network.init, tools/qvalues.py) except train --resume.\n",
               usage);
        return 0;
    }
    if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-') {
        fputs(usage, stderr);
        return 2;
    }
    char err[1024];
    Agent *a = agent_load(argv[1], NULL, 0, err, sizeof err);
    if (!a) {
        fprintf(stderr, "equigrid export: %s\n", err);
        return 1;
    }
    int rc = agent_export(a, argv[2], NULL, NULL, 0, err, sizeof err);
    agent_free(a);
    if (rc != 0) {
        fprintf(stderr, "equigrid export: %s\n", err);
        return 1;
    }
    printf("equigrid export: %s: %ld bytes (%s: %ld)\n", argv[2], file_size(argv[2]), argv[1], file_size(argv[1]));
    return 0;
}

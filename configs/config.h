/* config.h - the experiment configuration: INI files read with inih, every key
 * in one table (section, key, type, default, allowed range) in config.c, and
 * `--set section.key=value` overrides from the command line. configs/README.md
 * lists every key. Unknown keys and bad values are errors naming file:line,
 * the key, what was wrong and what is allowed, with "did you mean" for near
 * misses. */
#ifndef EQUIGRID_CONFIG_H
#define EQUIGRID_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum { CFG_STR = 256 };

typedef struct {
    struct {
        uint64_t seed;          /* root of every RNG stream */
        char name[CFG_STR];     /* run name (default: config file stem) */
        int threads;            /* threads of one run (nn/pool.h) */
    } run;
    struct {
        char name[CFG_STR];     /* goal | fourrooms | lava | maze | map */
        int size;               /* 0 = the env's default */
        int max_steps;          /* 0 = 4 * size */
        float step_penalty;     /* >= 0 */
        char orientation[CFG_STR]; /* identity | random | 0..7 */
        char orient_group[CFG_STR]; /* group drawn from when orientation = random */
        char goal[CFG_STR];     /* fourrooms: random | "r,c" */
        char map[CFG_STR];      /* map: path of the ASCII file */
    } env;
    struct {
        char type[CFG_STR];     /* mlp | cnn */
        char hidden[CFG_STR];   /* dense widths, e.g. "64,64" */
        char conv[CFG_STR];     /* cnn: conv channels, e.g. "16,16" */
        char init[CFG_STR];     /* checkpoint to load the base network from, or "" */
    } network;
    struct {
        char method[CFG_STR];   /* none | equitune | equizero | lambda | canonical */
        char group[CFG_STR];    /* trivial | flip | rot180 | rot90 | d4 | "0,2,..." */
        char proxy[CFG_STR];    /* maxq | entropy (equizero) */
        char grad[CFG_STR];     /* ste | selected (equizero, canonical) */
        int lambda_hidden;      /* width of the weight MLP's hidden layer (lambda, canonical) */
        char lambda_norm[CFG_STR]; /* softplus | softmax */
        float prior;            /* >= 0: weight of the canonicalization prior (lambda, canonical) */
    } symmetry;
    struct {
        float gamma;
        int double_dqn;         /* 0/1 */
        char loss[CFG_STR];     /* huber | mse */
        int target_update;      /* steps between target updates */
        float tau;              /* 1 = hard copy, < 1 = Polyak */
        float eps_start, eps_end;
        int eps_steps;          /* linear decay length in env steps */
    } agent;
    struct {
        long steps;             /* total env steps (over all envs) */
        int num_envs;
        int batch_size;
        long buffer_size;
        long learning_starts;
        int train_freq;         /* env steps between updates */
        int gradient_steps;     /* updates each time */
        float lr;
        float adam_eps;
        float max_grad_norm;    /* 0 = no clipping */
        int freeze_q;           /* 0/1: train only the weight network */
        int prior_updates;      /* prior-only updates before the first env step */
        long checkpoint_every;  /* env steps; 0 = only at the end */
    } train;
    struct {
        long eval_every;        /* env steps; 0 = only at the end */
        int eval_episodes;
        float eval_epsilon;
    } eval;
    struct {
        int fps;
        int cell;               /* pixels per cell */
        int show_q;             /* 0/1 */
        int show_views;         /* 0/1 */
    } render;
} Config;

/* Fills every field with its default. Cannot fail. */
void config_default(Config *c);
/* Reads an INI file over the current values. Returns 0, or -1 with one
 * message "path:line: [section] key = value: what was wrong; allowed ..." */
int config_load(Config *c, const char *path, char *err, size_t errlen);
/* Applies one "section.key=value" override; errors name "--set" and the key. */
int config_set(Config *c, const char *assignment, char *err, size_t errlen);
/* The usual way to a config: defaults, then the INI file at path, then the
 * overrides sets[0..nsets) in order, then config_validate. Returns 0, or -1
 * with the first message (a validation failure reads "path: what ..."). */
int config_read(Config *c, const char *path, const char *const *sets, int nsets, char *err, size_t errlen);
/* Cross-field checks (e.g. env.map needed when env.name = map, eps_end <=
 * eps_start, batch_size <= buffer_size). Returns 0 or -1 with a message. */
int config_validate(const Config *c, char *err, size_t errlen);
/* Writes the effective config as INI with every key (the README's format). */
void config_write_ini(const Config *c, FILE *f);
/* Same as a string (malloc'd, caller frees), for a checkpoint's metadata;
 * NULL on out of memory. */
char *config_to_string(const Config *c);
/* Parses a string written by config_to_string (a checkpoint's config). */
int config_from_string(Config *c, const char *text, const char *name, char *err, size_t errlen);
/* Prints "section.key  (default D; allowed ...)  meaning" for every key, for --help. */
void config_print_keys(FILE *f);

#endif

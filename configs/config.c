/* config.c - the experiment configuration. Every key lives in one static
 * table (section, key, type, field offset, default as text, range or allowed
 * words, meaning); defaults, parsing, validation, printing and the usage text
 * are all driven by it, so adding a key is one line here plus one row in
 * configs/README.md.
 *
 * INI text is read with inih through our own line reader, which numbers the
 * lines, strips leading blanks (so inih's multi-line continuation never
 * applies), rejects over-long lines and checks [section] headers; the inih
 * handler checks keys and values. Loading works on a copy and commits only on
 * success, so a failed load leaves the Config untouched. Not tuned for speed:
 * a config is read once per run. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/errmsg.h"
#include "../core/file.h"
#include "../core/suggest.h"
#include "inifile.h"
#include "../equivariance/group.h"

/* Longest string value, so that every "key = value" line fits inih's line
 * buffer (200 bytes, see ini_max_line) and a CFG_STR field. */
enum { VALUE_MAX = 160, LIST_MAX = 8, MSG = 1024 };

typedef enum {
    K_INT,    /* int, range [min, max] */
    K_LONG,   /* long, range [min, max] */
    K_U64,    /* uint64_t, any value */
    K_FLOAT,  /* float, range with open/closed ends */
    K_BOOL,   /* int 0/1 from true|false|yes|no|1|0 */
    K_STR,    /* free text (a name or a path) */
    K_ENUM,   /* one of the words in `words` */
    K_ORIENT, /* identity | random | 0..7 */
    K_GROUP,  /* a group spec accepted by group_parse */
    K_LIST,   /* comma-separated ints, each in [min, max], at most LIST_MAX */
    K_GOAL    /* random | r,c */
} KeyType;

enum {
    LO_OPEN = 1,  /* the range excludes min */
    HI_OPEN = 2,  /* the range excludes max */
    ZERO_OK = 4,  /* 0 is allowed besides [min, max] */
    EMPTY_OK = 8  /* K_LIST: the empty list is allowed */
};

typedef struct {
    const char *section;
    const char *key;
    KeyType type;
    size_t off;          /* offsetof(Config, field) */
    const char *def;     /* default, as the text a file would hold */
    double min, max;     /* K_INT/K_LONG/K_FLOAT range; K_LIST entry range */
    int flags;
    const char *words;   /* K_ENUM: "a|b|c"; K_STR: what the text is */
    const char *meaning; /* one line for the usage text */
} Key;

#define F(s, f) offsetof(Config, s.f)
static const Key keys[] = {
    {"run", "seed", K_U64, F(run, seed), "1", 0, 0, 0, NULL, "root of every RNG stream"},
    {"run", "name", K_STR, F(run, name), "", 0, 0, 0, "a run name", "run name; empty = the config file's stem"},
    {"run", "threads", K_INT, F(run, threads), "1", 1, 64, 0, NULL, "threads of one run (the networks' kernels and GEMMs split over them)"},

    {"env", "name", K_ENUM, F(env, name), "goal", 0, 0, 0, "goal|fourrooms|lava|maze|map", "environment"},
    {"env", "size", K_INT, F(env, size), "0", 3, 64, ZERO_OK, NULL, "grid side including the border; 0 = the env's default"},
    {"env", "max_steps", K_INT, F(env, max_steps), "0", 0, 1000000, 0, NULL, "episode step limit; 0 = 4 * size"},
    {"env", "step_penalty", K_FLOAT, F(env, step_penalty), "0.01", 0, 1, 0, NULL, "reward subtracted for each step that ends on neither goal nor lava"},
    {"env", "orientation", K_ORIENT, F(env, orientation), "identity", 0, 0, 0, NULL, "layout orientation: an element index, or random from orient_group each episode"},
    {"env", "orient_group", K_GROUP, F(env, orient_group), "d4", 0, 0, 0, NULL, "group the random orientation is drawn from"},
    {"env", "goal", K_GOAL, F(env, goal), "random", 0, 63, 0, NULL, "fourrooms goal cell: random each episode, or fixed row,column"},
    {"env", "map", K_STR, F(env, map), "", 0, 0, 0, "the path of an ASCII map file", "ASCII map file; required iff name = map"},

    {"network", "type", K_ENUM, F(network, type), "mlp", 0, 0, 0, "mlp|cnn", "Q-network architecture"},
    {"network", "hidden", K_LIST, F(network, hidden), "64,64", 1, 65536, EMPTY_OK, NULL, "widths of the dense hidden layers (empty = linear)"},
    {"network", "conv", K_LIST, F(network, conv), "16,16", 1, 4096, EMPTY_OK, NULL, "cnn: channels of the 3x3 conv layers"},
    {"network", "init", K_STR, F(network, init), "", 0, 0, 0, "the path of a checkpoint, or empty", "checkpoint to load the base Q-network from; empty = random init"},

    {"symmetry", "method", K_ENUM, F(symmetry, method), "none", 0, 0, 0, "none|equitune|equizero|lambda|canonical", "symmetrizer wrapped around the Q-network"},
    {"symmetry", "group", K_GROUP, F(symmetry, group), "d4", 0, 0, 0, NULL, "group the symmetrizer averages or searches over"},
    {"symmetry", "proxy", K_ENUM, F(symmetry, proxy), "maxq", 0, 0, 0, "maxq|entropy", "equizero: proxy score that picks the group element"},
    {"symmetry", "grad", K_ENUM, F(symmetry, grad), "selected", 0, 0, 0, "ste|selected", "equizero, canonical: Q's gradient only through the chosen view, or straight-through with equitune's"},
    {"symmetry", "lambda_hidden", K_INT, F(symmetry, lambda_hidden), "64", 1, 4096, 0, NULL, "lambda, canonical: hidden width of the weight (score) network"},
    {"symmetry", "lambda_norm", K_ENUM, F(symmetry, lambda_norm), "softplus", 0, 0, 0, "softplus|softmax", "lambda: how raw weights become importance weights"},
    {"symmetry", "prior", K_FLOAT, F(symmetry, prior), "0", 0, 1e9, 0, NULL, "lambda, canonical: weight of the canonicalization prior -log p_id on network.init's replay states"},

    {"agent", "gamma", K_FLOAT, F(agent, gamma), "0.99", 0, 1, 0, NULL, "discount factor"},
    {"agent", "double_dqn", K_BOOL, F(agent, double_dqn), "true", 0, 0, 0, NULL, "double DQN target (online argmax, target value)"},
    {"agent", "loss", K_ENUM, F(agent, loss), "huber", 0, 0, 0, "huber|mse", "TD loss"},
    {"agent", "target_update", K_INT, F(agent, target_update), "500", 1, INT_MAX, 0, NULL, "env steps between target network updates"},
    {"agent", "tau", K_FLOAT, F(agent, tau), "1", 0, 1, LO_OPEN, NULL, "target update: 1 = hard copy, < 1 = Polyak weight"},
    {"agent", "eps_start", K_FLOAT, F(agent, eps_start), "1", 0, 1, 0, NULL, "initial exploration epsilon"},
    {"agent", "eps_end", K_FLOAT, F(agent, eps_end), "0.05", 0, 1, 0, NULL, "final exploration epsilon"},
    {"agent", "eps_steps", K_INT, F(agent, eps_steps), "10000", 0, INT_MAX, 0, NULL, "env steps of the linear epsilon decay"},

    {"train", "steps", K_LONG, F(train, steps), "50000", 0, 1e12, 0, NULL, "total env steps over all envs (0: evaluate and checkpoint the initial network)"},
    {"train", "num_envs", K_INT, F(train, num_envs), "1", 1, 1024, 0, NULL, "parallel environments"},
    {"train", "batch_size", K_INT, F(train, batch_size), "64", 1, 65536, 0, NULL, "transitions per update"},
    {"train", "buffer_size", K_LONG, F(train, buffer_size), "50000", 1, 1e9, 0, NULL, "replay capacity in transitions"},
    {"train", "learning_starts", K_LONG, F(train, learning_starts), "1000", 0, 1e12, 0, NULL, "env steps before the first update"},
    {"train", "train_freq", K_INT, F(train, train_freq), "1", 1, 1000000, 0, NULL, "env steps between updates"},
    {"train", "gradient_steps", K_INT, F(train, gradient_steps), "1", 1, 1000, 0, NULL, "updates each time"},
    {"train", "lr", K_FLOAT, F(train, lr), "0.0005", 0, 10, LO_OPEN, NULL, "Adam learning rate"},
    {"train", "adam_eps", K_FLOAT, F(train, adam_eps), "1e-08", 0, 1, LO_OPEN, NULL, "Adam epsilon"},
    {"train", "max_grad_norm", K_FLOAT, F(train, max_grad_norm), "10", 0, 1e9, 0, NULL, "global gradient norm clip; 0 = no clipping"},
    {"train", "freeze_q", K_BOOL, F(train, freeze_q), "false", 0, 0, 0, NULL, "train only the weight network (needs symmetry.method = lambda or canonical)"},
    {"train", "prior_updates", K_INT, F(train, prior_updates), "0", 0, INT_MAX, 0, NULL, "updates on the prior loss alone before the first env step (needs symmetry.prior > 0)"},
    {"train", "checkpoint_every", K_LONG, F(train, checkpoint_every), "10000", 0, 1e12, 0, NULL, "env steps between checkpoints; 0 = only at the end"},

    {"eval", "eval_every", K_LONG, F(eval, eval_every), "5000", 0, 1e12, 0, NULL, "env steps between evaluations; 0 = only at the end"},
    {"eval", "eval_episodes", K_INT, F(eval, eval_episodes), "50", 1, 1000000, 0, NULL, "episodes per evaluation"},
    {"eval", "eval_epsilon", K_FLOAT, F(eval, eval_epsilon), "0", 0, 1, 0, NULL, "epsilon of the evaluation policy"},

    {"render", "fps", K_INT, F(render, fps), "8", 1, 240, 0, NULL, "frames per second"},
    {"render", "cell", K_INT, F(render, cell), "48", 4, 512, 0, NULL, "pixels per grid cell"},
    {"render", "show_q", K_BOOL, F(render, show_q), "true", 0, 0, 0, NULL, "draw Q-values of each action"},
    {"render", "show_views", K_BOOL, F(render, show_views), "true", 0, 0, 0, NULL, "draw the transformed views the symmetrizer sees"},
};
#undef F

enum { NKEYS = sizeof keys / sizeof keys[0] };

static const char *const sections[] = {"run", "env", "network", "symmetry", "agent", "train", "eval", "render"};
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

static const char ALL_SECTIONS[] = "[run] [env] [network] [symmetry] [agent] [train] [eval] [render]";
static const char BOOL_WORDS[] = "true|false|yes|no|1|0";

/* ---- small text helpers ---- */

/* The closest word of a "a|b|c" list to typed, copied into out; 0 if none. */
static int nearest_word(const char *typed, const char *words, char *out, size_t outlen)
{
    int best = -1;
    const char *p = words;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char w[64];
        if (len < sizeof w) {
            memcpy(w, p, len);
            w[len] = '\0';
            int s = suggest_closeness(typed, w);
            if (s >= 0 && (best < 0 || s < best)) {
                best = s;
                snprintf(out, outlen, "%s", w);
            }
        }
        p += len + (bar ? 1 : 0);
    }
    return best >= 0;
}

static int word_in(const char *s, const char *words)
{
    size_t n = strlen(s);
    const char *p = words;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

static int section_known(const char *s)
{
    for (int i = 0; i < NSECTIONS; i++)
        if (strcmp(s, sections[i]) == 0)
            return 1;
    return 0;
}

static const Key *key_find(const char *section, const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, name) == 0)
            return &keys[i];
    return NULL;
}

/* " (did you mean [train]?)" for a mistyped section name, or "". */
static void section_hint(const char *typed, char *out, size_t outlen)
{
    int i = suggest_nearest(typed, sections, NSECTIONS);
    if (i >= 0)
        snprintf(out, outlen, " (did you mean [%s]?)", sections[i]);
    else
        out[0] = '\0';
}

/* A hint for an unknown key: where it belongs when it exists in another
 * section, else the nearest key of any section (preferring `section`). */
static void key_hint(const char *section, const char *name, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].key, name) == 0 && used + 32 < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s[%s]", used ? " or " : "it belongs in ", keys[i].section);
    if (used)
        return;
    int best = -1, bi = 0, bsame = 0;
    for (int i = 0; i < NKEYS; i++) {
        int s = suggest_closeness(name, keys[i].key);
        int same = strcmp(keys[i].section, section) == 0;
        if (s >= 0 && (best < 0 || s < best || (s == best && same && !bsame))) {
            best = s;
            bi = i;
            bsame = same;
        }
    }
    if (best < 0)
        return;
    if (bsame)
        snprintf(out, outlen, "did you mean '%s'?", keys[bi].key);
    else
        snprintf(out, outlen, "did you mean '%s' in [%s]?", keys[bi].key, keys[bi].section);
}

/* "steps, num_envs, ..." : the keys of one section. */
static void section_keys(const char *section, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && used + 1 < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", keys[i].key);
}

/* The full "unknown key" text: what was wrong, a hint, what is allowed. */
static void unknown_key_msg(const char *section, const char *name, char *out, size_t outlen)
{
    char hint[160], list[512];
    key_hint(section, name, hint, sizeof hint);
    section_keys(section, list, sizeof list);
    if (hint[0])
        snprintf(out, outlen, "unknown key in [%s] (%s); allowed: %s", section, hint, list);
    else
        snprintf(out, outlen, "unknown key in [%s]; allowed: %s", section, list);
}

/* ---- values ---- */

static void range_text(const Key *k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%c%.15g, %.15g%c%s", (k->flags & LO_OPEN) ? '(' : '[', k->min, k->max,
             (k->flags & HI_OPEN) ? ')' : ']', (k->flags & ZERO_OK) ? " or 0" : "");
}

/* What a key accepts, as shown after "allowed:" and in the usage text. */
static void allowed_text(const Key *k, char *out, size_t outlen)
{
    char r[96];
    switch (k->type) {
    case K_INT:
    case K_LONG:
    case K_FLOAT:
        range_text(k, out, outlen);
        break;
    case K_U64:
        snprintf(out, outlen, "an integer in [0, %" PRIu64 "]", UINT64_MAX);
        break;
    case K_BOOL:
        snprintf(out, outlen, "%s", BOOL_WORDS);
        break;
    case K_STR:
        snprintf(out, outlen, "%s (at most %d characters, no ';' or control characters)", k->words, VALUE_MAX);
        break;
    case K_ENUM:
        snprintf(out, outlen, "%s", k->words);
        break;
    case K_ORIENT:
        snprintf(out, outlen, "identity|random|0..7");
        break;
    case K_GROUP:
        snprintf(out, outlen, "trivial|flip|rot180|rot90|d4|element indices 0-7 closed under composition, e.g. 0,2");
        break;
    case K_LIST:
        range_text(k, r, sizeof r);
        snprintf(out, outlen, "comma-separated integers in %s, at most %d%s", r, LIST_MAX, (k->flags & EMPTY_OK) ? ", or empty" : "");
        break;
    case K_GOAL:
        snprintf(out, outlen, "random|row,column with each in [%.0f, %.0f]", k->min, k->max);
        break;
    }
}

static int in_range(const Key *k, double v)
{
    if ((k->flags & ZERO_OK) && v == 0)
        return 1;
    if ((k->flags & LO_OPEN) ? !(v > k->min) : !(v >= k->min))
        return 0;
    if ((k->flags & HI_OPEN) ? !(v < k->max) : !(v <= k->max))
        return 0;
    return 1;
}

/* Strict decimal integer: optional sign, digits, nothing after. Returns 0,
 * -1 (syntax) or -2 (overflow). */
static int parse_long(const char *s, long *out)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (*p < '0' || *p > '9')
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end)
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

/* Parses "a,b,c" into ints each in [k->min, k->max]; returns the count or
 * -1 with what in why. */
static int parse_list(const Key *k, const char *s, int *out, char *why, size_t whylen)
{
    int n = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9') {
            errmsg_set(why, whylen, "not a comma-separated list of integers");
            return -1;
        }
        errno = 0;
        char *end;
        long v = strtol(p, &end, 10);
        if (errno == ERANGE || v < k->min || v > k->max) {
            errmsg_set(why, whylen, "entry %d = %.*s out of range", n + 1, (int)(end - p), p);
            return -1;
        }
        if (n == LIST_MAX) {
            errmsg_set(why, whylen, "more than %d entries", LIST_MAX);
            return -1;
        }
        out[n++] = (int)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return n;
        if (*p != ',') {
            errmsg_set(why, whylen, "not a comma-separated list of integers");
            return -1;
        }
        p++;
    }
}

static int check_text(const char *s, char *why, size_t whylen)
{
    size_t n = strlen(s);
    if (n > VALUE_MAX) {
        errmsg_set(why, whylen, "longer than %d characters", VALUE_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == ';') {
            errmsg_set(why, whylen, "contains %s", ch == ';' ? "';' (it starts a comment)" : "a control character");
            return -1;
        }
    }
    if (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
        errmsg_set(why, whylen, "has leading or trailing blanks");
        return -1;
    }
    return 0;
}

static void store_str(char *field, const char *s)
{
    memset(field, 0, CFG_STR);
    memcpy(field, s, strlen(s));
}

/* The value parsers of key_set: each stores s into field, or leaves
 * field alone and says what was wrong in what (wl bytes). */

static void set_integer(const Key *k, char *field, const char *s, char *what, size_t wl)
{
    long v;
    int rc = parse_long(s, &v);
    if (rc == -1)
        snprintf(what, wl, "not an integer");
    else if (rc == -2 || !in_range(k, (double)v))
        snprintf(what, wl, "%s", rc == -2 ? "number too large" : "out of range");
    else if (k->type == K_INT) {
        int iv = (int)v;
        memcpy(field, &iv, sizeof iv);
    } else
        memcpy(field, &v, sizeof v);
}

static void set_u64(char *field, const char *s, char *what, size_t wl)
{
    if (*s < '0' || *s > '9') {
        snprintf(what, wl, "not a non-negative integer");
        return;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        snprintf(what, wl, "not a non-negative integer");
    else if (errno == ERANGE || v > UINT64_MAX)
        snprintf(what, wl, "number too large");
    else {
        uint64_t u = (uint64_t)v;
        memcpy(field, &u, sizeof u);
    }
}

static void set_float(const Key *k, char *field, const char *s, char *what, size_t wl)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || *end || *s == ' ')
        snprintf(what, wl, "not a number");
    else if (!isfinite(v))
        snprintf(what, wl, "%s", errno == ERANGE ? "number too large" : "not a finite number");
    else if (errno == ERANGE && v != 0 && fabsf(v) < 1)
        snprintf(what, wl, "number too small for a float");
    else if (!in_range(k, (double)v))
        snprintf(what, wl, "out of range");
    else
        memcpy(field, &v, sizeof v);
}

static void set_bool(char *field, const char *s, char *what, size_t wl)
{
    int v = -1;
    if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "1") == 0)
        v = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "0") == 0)
        v = 0;
    if (v < 0)
        snprintf(what, wl, "not a boolean");
    else
        memcpy(field, &v, sizeof v);
}

static void set_enum(const Key *k, char *field, const char *s, char *what, size_t wl)
{
    if (word_in(s, k->words)) {
        store_str(field, s);
        return;
    }
    char near[64];
    if (nearest_word(s, k->words, near, sizeof near))
        snprintf(what, wl, "unknown value (did you mean '%s'?)", near);
    else
        snprintf(what, wl, "unknown value");
}

static void set_list(const Key *k, char *field, const char *s, char *what, size_t wl)
{
    int v[LIST_MAX];
    int n = parse_list(k, s, v, what, wl);
    if (n == 0 && !(k->flags & EMPTY_OK)) {
        snprintf(what, wl, "empty list");
        n = -1;
    }
    if (n < 0)
        return;
    /* Stored normalised ("64,64"), so writing and reloading it is exact. */
    char buf[LIST_MAX * 12];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, i ? ",%d" : "%d", v[i]);
    store_str(field, buf);
}

static void set_goal(const Key *k, char *field, const char *s, char *what, size_t wl)
{
    if (strcmp(s, "random") == 0) {
        store_str(field, s);
        return;
    }
    Key rc = *k;
    rc.flags = 0;
    int v[LIST_MAX];
    int n = parse_list(&rc, s, v, what, wl);
    if (n >= 0 && n != 2) {
        snprintf(what, wl, "not random or row,column");
        n = -1;
    }
    if (n == 2) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d,%d", v[0], v[1]);
        store_str(field, buf);
    }
}

/* A group's message carries its own "allowed" or gets the key's. Returns 0
 * or -1 with the whole message in why. */
static int set_group(char *field, const char *s, const char *allowed, char *what, size_t wl, char *why, size_t whylen)
{
    Group g;
    char gerr[256];
    if (strlen(s) > VALUE_MAX) {
        snprintf(what, wl, "longer than %d characters", VALUE_MAX);
        return 0;
    }
    if (group_parse(&g, s, gerr, sizeof gerr) != 0) {
        if (strstr(gerr, "allowed"))
            errmsg_set(why, whylen, "%s", gerr);
        else
            errmsg_set(why, whylen, "%s; allowed: %s", gerr, allowed);
        return -1;
    }
    store_str(field, s);
    return 0;
}

/* Parses text s as key k into c. Returns 0, or -1 with "what was wrong;
 * allowed: ..." in why. */
static int key_set(const Key *k, Config *c, const char *s, char *why, size_t whylen)
{
    char *field = (char *)c + k->off;
    char allowed[256], what[160];
    allowed_text(k, allowed, sizeof allowed);
    what[0] = '\0';
    switch (k->type) {
    case K_INT:
    case K_LONG:
        set_integer(k, field, s, what, sizeof what);
        break;
    case K_U64:
        set_u64(field, s, what, sizeof what);
        break;
    case K_FLOAT:
        set_float(k, field, s, what, sizeof what);
        break;
    case K_BOOL:
        set_bool(field, s, what, sizeof what);
        break;
    case K_STR:
        if (check_text(s, what, sizeof what) == 0)
            store_str(field, s);
        break;
    case K_ENUM:
        set_enum(k, field, s, what, sizeof what);
        break;
    case K_ORIENT:
        if (strcmp(s, "identity") == 0 || strcmp(s, "random") == 0 || (s[0] >= '0' && s[0] <= '7' && s[1] == '\0'))
            store_str(field, s);
        else
            snprintf(what, sizeof what, "not an orientation");
        break;
    case K_GROUP:
        if (set_group(field, s, allowed, what, sizeof what, why, whylen) != 0)
            return -1;
        break;
    case K_LIST:
        set_list(k, field, s, what, sizeof what);
        break;
    case K_GOAL:
        set_goal(k, field, s, what, sizeof what);
        break;
    }
    if (what[0]) {
        errmsg_set(why, whylen, "%s; allowed: %s", what, allowed);
        return -1;
    }
    return 0;
}

/* Shortest %g spelling of v that strtof reads back as exactly v, without an
 * exponent for whole numbers below 1e9 ("10", not "1e+01"). */
static void format_float(float v, char *buf, size_t n)
{
    int digits = 1; /* digits before the point */
    for (double a = fabs((double)v); a >= 10 && digits < 9; a /= 10)
        digits++;
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, n, "%.*g", prec < digits ? digits : prec, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
    snprintf(buf, n, "%.9g", (double)v);
}

/* The value of key k in c as the text a file would hold. */
static void key_format(const Key *k, const Config *c, char *buf, size_t n)
{
    const char *field = (const char *)c + k->off;
    switch (k->type) {
    case K_INT: {
        int v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, n, "%d", v);
        break;
    }
    case K_LONG: {
        long v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, n, "%ld", v);
        break;
    }
    case K_U64: {
        uint64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(buf, n, "%" PRIu64, v);
        break;
    }
    case K_FLOAT: {
        float v;
        memcpy(&v, field, sizeof v);
        format_float(v, buf, n);
        break;
    }
    case K_BOOL: {
        int v;
        memcpy(&v, field, sizeof v);
        if (v == 0 || v == 1)
            snprintf(buf, n, "%s", v ? "true" : "false");
        else
            snprintf(buf, n, "%d", v);
        break;
    }
    default:
        snprintf(buf, n, "%.*s", CFG_STR - 1, field);
        break;
    }
}

void config_default(Config *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < NKEYS; i++) {
        int rc = key_set(&keys[i], c, keys[i].def, NULL, 0);
        (void)rc; /* the defaults are constants checked by the test suite */
    }
}

/* ---- INI parsing ---- */

typedef struct {
    Config *c;           /* the scratch copy being filled */
    int seen[NKEYS];     /* line where each key was set, 0 = not yet */
} Parse;

/* First of `chars` or of an inline comment (';' after a blank), as inih finds it. */
static const char *find_sep(const char *s, const char *chars)
{
    int was_space = 0;
    while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
        was_space = *s == ' ' || *s == '\t' || *s == '\r';
        s++;
    }
    return s;
}

/* The structure of a line before inih parses it: a known section header,
 * or the "key = value" shape. */
static int parse_line(void *user, const char *str, int line, char *what, size_t whatlen)
{
    (void)user, (void)line;
    if (str[0] == '[') {
        const char *end = find_sep(str + 1, "]");
        if (*end != ']')
            return errmsg_set(what, whatlen, "%s: section header without ']'; allowed: %s", str, ALL_SECTIONS);
        char sec[64];
        size_t sl = (size_t)(end - (str + 1));
        if (sl >= sizeof sec)
            sl = sizeof sec - 1;
        memcpy(sec, str + 1, sl);
        sec[sl] = '\0';
        if (!section_known(sec)) {
            char hint[64];
            section_hint(sec, hint, sizeof hint);
            return errmsg_set(what, whatlen, "[%s]: unknown section%s; allowed: %s", sec, hint, ALL_SECTIONS);
        }
        return 0;
    }
    const char *sep = find_sep(str, "=:");
    if (*sep != '=' && *sep != ':')
        return errmsg_set(what, whatlen, "'%s': expected 'key = value', '[section]' or a comment starting with ';' or '#'", str);
    return 0;
}

static int parse_pair(void *user, const char *section, const char *name, const char *value, int line, char *what, size_t whatlen)
{
    Parse *p = user;
    if (section[0] == '\0') {
        char hint[160], paren[170] = "";
        key_hint("", name, hint, sizeof hint);
        if (hint[0])
            snprintf(paren, sizeof paren, " (%s)", hint);
        return errmsg_set(what, whatlen, "%s = %s: key outside a section%s; allowed: keys after a section header, one of %s", name, value, paren, ALL_SECTIONS);
    }
    const Key *k = key_find(section, name);
    if (!k) {
        char msg[MSG];
        unknown_key_msg(section, name, msg, sizeof msg);
        return errmsg_set(what, whatlen, "[%s] %s = %s: %s", section, name, value, msg);
    }
    int i = (int)(k - keys);
    if (p->seen[i])
        return errmsg_set(what, whatlen, "[%s] %s = %s: duplicate key (first set on line %d); allowed: each key once per file", section, name, value, p->seen[i]);
    p->seen[i] = line;
    char why[MSG];
    if (key_set(k, p->c, value, why, sizeof why) != 0)
        return errmsg_set(what, whatlen, "[%s] %s = %s: %s", section, name, value, why);
    return 0;
}

/* Reads f (or text when f is NULL) into a copy of c; commits the copy on success. */
static int parse_run(Config *c, const char *name, FILE *f, const char *text, char *err, size_t errlen)
{
    Config tmp;
    memcpy(&tmp, c, sizeof tmp);
    Parse p;
    memset(&p, 0, sizeof p);
    p.c = &tmp;
    char hint[64];
    snprintf(hint, sizeof hint, " (string values up to %d characters)", VALUE_MAX);
    IniSource src = {.name = name, .f = f, .text = text, .line = parse_line, .pair = parse_pair, .user = &p, .long_hint = hint};
    int rc = inifile_parse(&src, err, errlen);
    if (rc == 0)
        memcpy(c, &tmp, sizeof tmp);
    return rc;
}

int config_load(Config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = file_open_read(path, err, errlen);
    if (!f)
        return -1;
    int rc = parse_run(c, path, f, NULL, err, errlen);
    fclose(f);
    return rc;
}

int config_from_string(Config *c, const char *text, const char *name, char *err, size_t errlen)
{
    return parse_run(c, name, NULL, text, err, errlen);
}

int config_set(Config *c, const char *assignment, char *err, size_t errlen)
{
    char buf[512];
    if (strlen(assignment) >= sizeof buf) {
        errmsg_set(err, errlen, "--set %.40s...: too long; allowed: section.key=value up to %d characters", assignment, (int)sizeof buf - 1);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", assignment);
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    if (!eq || !dot || dot > eq) {
        /* Name the key when the user left out the section. */
        char name[128] = "", hint[160] = "";
        size_t nl = eq ? (size_t)(eq - buf) : strlen(buf);
        if (nl < sizeof name) {
            memcpy(name, buf, nl);
            name[nl] = '\0';
            while (nl && name[nl - 1] == ' ')
                name[--nl] = '\0';
            key_hint("", name, hint, sizeof hint);
        }
        errmsg_set(err, errlen, "--set %s: expected section.key=value%s%s%s; allowed: e.g. train.lr=1e-3", assignment,
                hint[0] ? " (" : "", hint, hint[0] ? ")" : "");
        return -1;
    }
    *eq = '\0';
    *dot = '\0';
    char *section = buf, *name = dot + 1, *value = eq + 1;
    /* Trim blanks around each part, as inih does for files. */
    char *parts[3] = {section, name, value};
    for (int i = 0; i < 3; i++) {
        char *s = parts[i];
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strlen(s);
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            s[--len] = '\0';
        parts[i] = s;
    }
    section = parts[0];
    name = parts[1];
    value = parts[2];
    if (!section_known(section)) {
        char hint[64];
        section_hint(section, hint, sizeof hint);
        errmsg_set(err, errlen, "--set %s: unknown section [%s]%s; allowed: %s", assignment, section, hint, ALL_SECTIONS);
        return -1;
    }
    const Key *k = key_find(section, name);
    if (!k) {
        char what[MSG];
        unknown_key_msg(section, name, what, sizeof what);
        errmsg_set(err, errlen, "--set %s: %s", assignment, what);
        return -1;
    }
    Config tmp;
    memcpy(&tmp, c, sizeof tmp);
    char why[MSG];
    if (key_set(k, &tmp, value, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "--set %s: %s", assignment, why);
        return -1;
    }
    memcpy(c, &tmp, sizeof tmp);
    return 0;
}

/* ---- validation and output ---- */

static int str_is(const char *field, const char *s)
{
    return strcmp(field, s) == 0;
}

int config_read(Config *c, const char *path, const char *const *sets, int nsets, char *err, size_t errlen)
{
    config_default(c);
    if (config_load(c, path, err, errlen) != 0)
        return -1;
    for (int i = 0; i < nsets; i++)
        if (config_set(c, sets[i], err, errlen) != 0)
            return -1;
    char why[1024];
    if (config_validate(c, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

int config_validate(const Config *c, char *err, size_t errlen)
{
    /* Every field on its own: format it and parse it back with its key's rules. */
    for (int i = 0; i < NKEYS; i++) {
        const Key *k = &keys[i];
        const char *field = (const char *)c + k->off;
        if (k->type >= K_STR && !memchr(field, '\0', CFG_STR)) {
            errmsg_set(err, errlen, "%s.%s: string not terminated; allowed: at most %d characters", k->section, k->key, VALUE_MAX);
            return -1;
        }
        char text[CFG_STR + 32], why[MSG];
        key_format(k, c, text, sizeof text);
        Config scratch;
        memcpy(&scratch, c, sizeof scratch);
        if (key_set(k, &scratch, text, why, sizeof why) != 0) {
            errmsg_set(err, errlen, "%s.%s = %s: %s", k->section, k->key, text, why);
            return -1;
        }
    }
    if (str_is(c->env.name, "map") && c->env.map[0] == '\0') {
        errmsg_set(err, errlen, "env.map is empty but env.name = map; allowed: the path of an ASCII map file in [env] map");
        return -1;
    }
    if (!str_is(c->env.name, "map") && c->env.map[0] != '\0') {
        errmsg_set(err, errlen, "env.map = %s is set but env.name = %s; allowed: env.map only with env.name = map", c->env.map, c->env.name);
        return -1;
    }
    if (c->agent.eps_end > c->agent.eps_start) {
        errmsg_set(err, errlen, "agent.eps_end = %g is above agent.eps_start = %g; allowed: eps_end <= eps_start",
                (double)c->agent.eps_end, (double)c->agent.eps_start);
        return -1;
    }
    if ((long)c->train.batch_size > c->train.buffer_size) {
        errmsg_set(err, errlen, "train.batch_size = %d is above train.buffer_size = %ld; allowed: batch_size <= buffer_size",
                c->train.batch_size, c->train.buffer_size);
        return -1;
    }
    if (str_is(c->network.type, "cnn") && c->network.conv[0] == '\0') {
        errmsg_set(err, errlen, "network.conv is empty but network.type = cnn; allowed: at least one conv layer, e.g. 16,16");
        return -1;
    }
    int weighted = str_is(c->symmetry.method, "lambda") || str_is(c->symmetry.method, "canonical");
    if (c->train.freeze_q && !weighted) {
        errmsg_set(err, errlen, "train.freeze_q = true requires symmetry.method = lambda or canonical (got %s): it trains only the weight network; allowed: freeze_q = false, or method = lambda or canonical",
                c->symmetry.method);
        return -1;
    }
    if (c->symmetry.prior > 0.0f && !weighted) {
        errmsg_set(err, errlen, "symmetry.prior = %g requires symmetry.method = lambda or canonical (got %s): it trains the weight network; allowed: prior = 0, or method = lambda or canonical",
                (double)c->symmetry.prior, c->symmetry.method);
        return -1;
    }
    if (c->symmetry.prior > 0.0f && c->network.init[0] == '\0') {
        errmsg_set(err, errlen, "symmetry.prior = %g needs network.init: the prior is fitted on the replay states of the checkpoint the base network comes from; allowed: prior = 0, or network.init = a checkpoint",
                (double)c->symmetry.prior);
        return -1;
    }
    if (c->train.prior_updates > 0 && c->symmetry.prior <= 0.0f) {
        errmsg_set(err, errlen, "train.prior_updates = %d needs symmetry.prior > 0 (the loss those updates minimise); allowed: prior_updates = 0, or symmetry.prior > 0",
                c->train.prior_updates);
        return -1;
    }
    return 0;
}

/* Length of the INI text of c (without the final NUL); writes it to buf
 * when buf is non-NULL. */
static size_t ini_text(const Config *c, char *buf, size_t cap)
{
    size_t used = 0;
    const char *prev = NULL;
    for (int i = 0; i < NKEYS; i++) {
        const Key *k = &keys[i];
        char val[CFG_STR + 32], line[CFG_STR + 96];
        int len = 0;
        if (!prev || strcmp(prev, k->section) != 0)
            len += snprintf(line + len, sizeof line - (size_t)len, "%s[%s]\n", prev ? "\n" : "", k->section);
        prev = k->section;
        key_format(k, c, val, sizeof val);
        len += snprintf(line + len, sizeof line - (size_t)len, val[0] ? "%s = %s\n" : "%s =%s\n", k->key, val);
        if (buf && used + (size_t)len < cap)
            memcpy(buf + used, line, (size_t)len);
        used += (size_t)len;
    }
    if (buf && used < cap)
        buf[used] = '\0';
    return used;
}

void config_write_ini(const Config *c, FILE *f)
{
    char *s = config_to_string(c);
    if (s) {
        fputs(s, f);
        free(s);
        return;
    }
    /* Out of memory: the same text, one key at a time. */
    const char *prev = NULL;
    for (int i = 0; i < NKEYS; i++) {
        char val[CFG_STR + 32];
        if (!prev || strcmp(prev, keys[i].section) != 0)
            fprintf(f, "%s[%s]\n", prev ? "\n" : "", keys[i].section);
        prev = keys[i].section;
        key_format(&keys[i], c, val, sizeof val);
        fprintf(f, val[0] ? "%s = %s\n" : "%s =%s\n", keys[i].key, val);
    }
}

char *config_to_string(const Config *c)
{
    size_t n = ini_text(c, NULL, 0);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    ini_text(c, s, n + 1);
    return s;
}

void config_print_keys(FILE *f)
{
    for (int i = 0; i < NKEYS; i++) {
        const Key *k = &keys[i];
        char name[64], allowed[256];
        snprintf(name, sizeof name, "%s.%s", k->section, k->key);
        allowed_text(k, allowed, sizeof allowed);
        fprintf(f, "  %-24s (default %s; allowed %s)  %s\n", name, k->def[0] ? k->def : "\"\"", allowed, k->meaning);
    }
}

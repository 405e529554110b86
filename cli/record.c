/* record.c - `equigrid record`: greedy episodes of a checkpoint's agent
 * (or of an untrained agent built from a config) drawn headless into an
 * animated GIF and/or numbered PNGs. Draws into a software surface only: no
 * window, no display, no SDL_Init. Same pictures as `equigrid watch`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "../core/clock.h"
#include "agentview.h"
#include "../render/render.h"

enum { MAX_SETS = 64 };

static void record_usage(FILE *f)
{
    fprintf(f,
            "usage: equigrid record CHECKPOINT|CONFIG [--episodes N] [--gif OUT.gif] [--png DIR]\n"
            "                       [--set section.key=value ...] [--size WxH] [--max-frames M]\n\n"
            "Plays N greedy episodes (default 1) and writes every step as a frame: an animated GIF\n"
            "(looping, [render] fps) and/or DIR/frame_NNNNNN.png. A .safetensors checkpoint gives its\n"
            "trained agent; an INI config gives an untrained agent (said so in the status line).\n"
            "--size defaults to [render] cell pixels per cell; --max-frames stops early (0 = no limit).\n"
            "[render] show_q / show_views choose the overlays (--set render.show_q=false).\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "sym group" of the agent, or the untrained note. */
static void subject_note(char *buf, size_t len, const RenderSubject *s, const char *extra)
{
    const SymSpec *ss = qmodel_sym(s->agent->online);
    char g[64];
    group_format(&ss->group, g, sizeof g);
    snprintf(buf, len, "%s%s%s%s%s", s->untrained ? "untrained agent | " : "", sym_method_name(ss->method),
             ss->method == SYM_NONE ? "" : " ", ss->method == SYM_NONE ? "" : g, extra);
}

typedef struct {
    Render *r;
    SDL_Surface *surf;
    RenderGif *gif;
    const char *png_dir;
    long frames, max_frames;
    int delay;
} Output;

/* Draws f and writes it; returns 0, 1 when max_frames is reached, -1 on error. */
static int emit(Output *o, const RenderFrame *f, int delay_cs)
{
    char err[1024];
    if (render_frame(o->r, o->surf, f, err, sizeof err) != 0 ||
        (o->gif && render_gif_frame(o->gif, o->surf, delay_cs, err, sizeof err) != 0)) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return -1;
    }
    if (o->png_dir) {
        char path[1200];
        snprintf(path, sizeof path, "%s/frame_%06ld.png", o->png_dir, o->frames);
        if (render_png_save(o->surf, path, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid record: %s\n", err);
            return -1;
        }
    }
    o->frames++;
    return o->max_frames > 0 && o->frames >= o->max_frames;
}

int cmd_record(int argc, char **argv)
{
    const char *path = NULL, *gif_path = NULL, *png_dir = NULL, *sets[MAX_SETS];
    int nsets = 0, W = 0, H = 0;
    long episodes = 1, max_frames = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            record_usage(stdout);
            return 0;
        } else if (strcmp(a, "--episodes") == 0 && has) {
            if (parse_int(argv[++i], 1, 1000000, &episodes) != 0) {
                fprintf(stderr, "equigrid record: --episodes %s: expected an integer in 1..1000000\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--max-frames") == 0 && has) {
            if (parse_int(argv[++i], 0, 100000000, &max_frames) != 0) {
                fprintf(stderr, "equigrid record: --max-frames %s: expected an integer >= 0 (0 = no limit)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--gif") == 0 && has) {
            gif_path = argv[++i];
        } else if (strcmp(a, "--png") == 0 && has) {
            png_dir = argv[++i];
        } else if (strcmp(a, "--set") == 0 && has) {
            if (nsets == MAX_SETS) {
                fprintf(stderr, "equigrid record: more than %d --set options\n", MAX_SETS);
                return 2;
            }
            sets[nsets++] = argv[++i];
        } else if (strcmp(a, "--size") == 0 && has) {
            char x;
            if (sscanf(argv[++i], "%d%c%d", &W, &x, &H) != 3 || x != 'x' || W < 16 || H < 16 || W > 8192 || H > 8192) {
                fprintf(stderr, "equigrid record: --size %s: expected WxH with each side in 16..8192, e.g. 480x560\n", argv[i]);
                return 2;
            }
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "equigrid record: unexpected argument '%s'%s\n", a, a[0] == '-' && !has ? " (missing value?)" : "");
            record_usage(stderr);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path || (!gif_path && !png_dir)) {
        fprintf(stderr, "equigrid record: %s\n", !path ? "give a checkpoint or config" : "nothing to write: give --gif OUT.gif and/or --png DIR");
        record_usage(stderr);
        return 2;
    }

    char err[1024];
    RenderSubject s;
    if (render_subject_open(&s, path, sets, nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return 1;
    }
    Env *e = &s.env;
    const SymSpec *ss = qmodel_sym(s.agent->online);
    int nviews = s.cfg.render.show_views && ss->method != SYM_NONE ? ss->group.n : 0;
    if (W == 0)
        render_default_size(e->n, s.cfg.render.cell, nviews, &W, &H);
    if (png_dir && mkdir(png_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "equigrid record: cannot create directory %s: %s\n", png_dir, strerror(errno));
        render_subject_free(&s);
        return 1;
    }
    Output o = {0};
    o.png_dir = png_dir;
    o.max_frames = max_frames;
    o.delay = render_gif_delay(s.cfg.render.fps);
    o.r = render_create(NULL, err, sizeof err);
    o.surf = o.r ? render_surface_create(W, H) : NULL;
    if (!o.r || !o.surf) {
        fprintf(stderr, "equigrid record: %s\n", o.r ? SDL_GetError() : err);
        render_free(o.r);
        render_subject_free(&s);
        return 1;
    }
    const char *warn = render_warning(o.r);
    if (warn)
        fprintf(stderr, "equigrid record: warning: %s\n", warn);
    if (gif_path && !(o.gif = render_gif_open(gif_path, W, H, err, sizeof err))) {
        fprintf(stderr, "equigrid record: %s\n", err);
        SDL_FreeSurface(o.surf);
        render_free(o.r);
        render_subject_free(&s);
        return 1;
    }

    double t0 = clock_seconds();
    uint8_t obs[ENV_MAX_CELLS];
    char note[160];
    subject_note(note, sizeof note, &s, "");
    RenderQ rq;
    RenderFrame f;
    memset(&f, 0, sizeof f);
    f.n = e->n;
    f.layout = e->layout;
    f.max_steps = e->max_steps;
    f.note = note;
    f.show_q = s.cfg.render.show_q;
    f.show_views = s.cfg.render.show_views;
    long successes = 0, finished = 0;
    int rc = 0, stop = 0;
    for (long ep = 0; ep < episodes && !stop && rc == 0; ep++) {
        env_reset(e, obs);
        f.episode = ep + 1;
        float ret = 0.0f;
        for (int t = 0;; t++) {
            int action = render_agent_q(&rq, s.agent, obs);
            if (action < 0) {
                fprintf(stderr, "equigrid record: out of memory computing Q-values\n");
                rc = -1;
                break;
            }
            f.agent = e->agent;
            f.step = t;
            f.ret = ret;
            f.q = &rq;
            f.successes = successes;
            f.finished = finished;
            int k = emit(&o, &f, o.delay);
            if (k != 0) {
                rc = k < 0 ? -1 : 0;
                stop = 1;
                break;
            }
            float reward;
            uint8_t term, trunc;
            env_step(e, action, obs, &reward, &term, &trunc, NULL);
            ret += reward;
            if (term || trunc) {
                finished++;
                successes += e->last.success > 0.5f;
                f.agent = e->agent;
                f.step = t + 1;
                f.ret = ret;
                f.q = NULL; /* no decision is taken in a final state */
                f.successes = successes;
                f.finished = finished;
                char endnote[200];
                subject_note(endnote, sizeof endnote, &s, e->last.success > 0.5f ? " | goal reached" : term ? " | episode over" : " | time limit");
                f.note = endnote;
                k = emit(&o, &f, o.delay > 100 ? o.delay : 100); /* hold the end for a second */
                f.note = note;
                if (k != 0) {
                    rc = k < 0 ? -1 : 0;
                    stop = 1;
                }
                break;
            }
        }
    }
    if (o.gif && render_gif_close(o.gif, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid record: %s\n", err);
        rc = -1;
    }
    double sec = clock_seconds() - t0;
    if (rc == 0)
        printf("recorded %ld frames (%dx%d) of %ld finished episodes, %ld reached the goal, in %.2f s%s%s%s%s%s\n", o.frames,
               W, H, finished, successes, sec, gif_path ? " -> " : "", gif_path ? gif_path : "", png_dir ? " -> " : "",
               png_dir ? png_dir : "", png_dir ? "/frame_*.png" : "");
    SDL_FreeSurface(o.surf);
    render_free(o.r);
    render_subject_free(&s);
    return rc == 0 ? 0 : 1;
}

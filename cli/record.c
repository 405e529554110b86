/* record.c - `equigrid record`: greedy episodes of a checkpoint's agent
 * (or of an untrained agent built from a config) drawn headless into an
 * animated GIF and/or numbered PNGs. Draws into a software surface only: no
 * window, no display, no SDL_Init. Same pictures as `equigrid watch`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "../core/file.h"
#include "../core/clock.h"
#include "episode.h"
#include "../render/render.h"

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
static void subject_note(char *buf, size_t len, const Episode *ep, const char *extra)
{
    const SymSpec *ss = qmodel_sym(ep->agent->online);
    char g[64];
    group_format(&ss->group, g, sizeof g);
    snprintf(buf, len, "%s%s%s%s%s", ep->untrained ? "untrained agent | " : "", sym_method_name(ss->method),
             ss->method == SYM_NONE ? "" : " ", ss->method == SYM_NONE ? "" : g, extra);
}

/* The command line of `equigrid record`. */
typedef struct {
    const char *path, *gif_path, *png_dir;
    const char *sets[CLI_MAX_SETS];
    int nsets, W, H;       /* --size, 0 = from [render] cell */
    long episodes, max_frames;
} RecordArgs;

/* Returns 0 to go on, 1 after printing --help, -1 after printing an error. */
static int record_args(RecordArgs *ra, int argc, char **argv)
{
    memset(ra, 0, sizeof *ra);
    ra->episodes = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            record_usage(stdout);
            return 1;
        } else if (strcmp(a, "--episodes") == 0 && has) {
            if (parse_int(argv[++i], 1, 1000000, &ra->episodes) != 0) {
                fprintf(stderr, "equigrid record: --episodes %s: expected an integer in 1..1000000\n", argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--max-frames") == 0 && has) {
            if (parse_int(argv[++i], 0, 100000000, &ra->max_frames) != 0) {
                fprintf(stderr, "equigrid record: --max-frames %s: expected an integer >= 0 (0 = no limit)\n", argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--gif") == 0 && has) {
            ra->gif_path = argv[++i];
        } else if (strcmp(a, "--png") == 0 && has) {
            ra->png_dir = argv[++i];
        } else if (strcmp(a, "--set") == 0 && has) {
            if (ra->nsets == CLI_MAX_SETS) {
                fprintf(stderr, "equigrid record: more than %d --set options\n", CLI_MAX_SETS);
                return -1;
            }
            ra->sets[ra->nsets++] = argv[++i];
        } else if (strcmp(a, "--size") == 0 && has) {
            char x;
            if (sscanf(argv[++i], "%d%c%d", &ra->W, &x, &ra->H) != 3 || x != 'x' || ra->W < 16 || ra->H < 16 || ra->W > 8192 || ra->H > 8192) {
                fprintf(stderr, "equigrid record: --size %s: expected WxH with each side in 16..8192, e.g. 480x560\n", argv[i]);
                return -1;
            }
        } else if (a[0] == '-' || ra->path) {
            fprintf(stderr, "equigrid record: unexpected argument '%s'%s\n", a, a[0] == '-' && !has ? " (missing value?)" : "");
            record_usage(stderr);
            return -1;
        } else {
            ra->path = a;
        }
    }
    if (!ra->path || (!ra->gif_path && !ra->png_dir)) {
        fprintf(stderr, "equigrid record: %s\n", !ra->path ? "give a checkpoint or config" : "nothing to write: give --gif OUT.gif and/or --png DIR");
        record_usage(stderr);
        return -1;
    }
    return 0;
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

/* Creates the PNG directory, the renderer, a W x H surface and the GIF.
 * Prints the error and returns -1 (o is freed by output_free), else 0. */
static int output_open(Output *o, const RecordArgs *ra, const Episode *ep, int W, int H)
{
    char err[1024];
    memset(o, 0, sizeof *o);
    o->png_dir = ra->png_dir;
    o->max_frames = ra->max_frames;
    o->delay = render_gif_delay(ep->cfg.render.fps);
    if (ra->png_dir && file_mkdir_p(ra->png_dir, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return -1;
    }
    o->r = render_create(NULL, err, sizeof err);
    o->surf = o->r ? render_surface_create(W, H) : NULL;
    if (!o->r || !o->surf) {
        fprintf(stderr, "equigrid record: %s\n", o->r ? SDL_GetError() : err);
        return -1;
    }
    const char *warn = render_warning(o->r);
    if (warn)
        fprintf(stderr, "equigrid record: warning: %s\n", warn);
    if (ra->gif_path && !(o->gif = render_gif_open(ra->gif_path, W, H, err, sizeof err))) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return -1;
    }
    return 0;
}

/* Closes the GIF (when still open); returns -1 after printing a write error. */
static int output_close(Output *o)
{
    char err[1024];
    RenderGif *gif = o->gif;
    o->gif = NULL;
    if (gif && render_gif_close(gif, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return -1;
    }
    return 0;
}

static void output_free(Output *o)
{
    SDL_FreeSurface(o->surf);
    render_free(o->r);
}

/* Plays one greedy episode into o: a frame for every state, the final one
 * held for a second. Returns 0, 1 when --max-frames is reached, -1 on error. */
static int record_episode(Output *o, Episode *ep, const char *note)
{
    RenderFrame f;
    int k;
    if (episode_reset(ep) != 0)
        goto oom;
    for (;;) {
        episode_frame(ep, &f);
        f.note = note;
        f.show_q = ep->cfg.render.show_q;
        f.show_views = ep->cfg.render.show_views;
        if ((k = emit(o, &f, o->delay)) != 0)
            return k;
        if (episode_step(ep, ep->action) != 0)
            goto oom;
        if (ep->done)
            break;
    }
    char endnote[200], end[64];
    snprintf(end, sizeof end, " | %s", ep->end);
    subject_note(endnote, sizeof endnote, ep, end);
    episode_frame(ep, &f);
    f.note = endnote;
    f.show_q = 0; /* no decision is taken in a final state: no arrows */
    f.show_views = ep->cfg.render.show_views;
    return emit(o, &f, o->delay > 100 ? o->delay : 100);
oom:
    fprintf(stderr, "equigrid record: out of memory computing Q-values\n");
    return -1;
}

int cmd_record(int argc, char **argv)
{
    RecordArgs ra;
    int parsed = record_args(&ra, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    char err[1024];
    Episode ep;
    if (episode_open(&ep, ra.path, ra.sets, ra.nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid record: %s\n", err);
        return 1;
    }
    const SymSpec *ss = qmodel_sym(ep.agent->online);
    int nviews = ep.cfg.render.show_views && ss->method != SYM_NONE ? ss->group.n : 0, W = ra.W, H = ra.H;
    if (W == 0)
        render_default_size(ep.env.n, ep.cfg.render.cell, nviews, &W, &H);
    Output o;
    if (output_open(&o, &ra, &ep, W, H) != 0) {
        output_free(&o);
        episode_free(&ep);
        return 1;
    }

    double t0 = clock_seconds();
    char note[160];
    subject_note(note, sizeof note, &ep, "");
    int k = 0;
    for (long i = 0; i < ra.episodes && k == 0; i++)
        k = record_episode(&o, &ep, note);
    int rc = k < 0 ? -1 : 0;
    if (output_close(&o) != 0)
        rc = -1;
    double sec = clock_seconds() - t0;
    if (rc == 0)
        printf("recorded %ld frames (%dx%d) of %ld finished episodes, %ld reached the goal, in %.2f s%s%s%s%s%s\n", o.frames,
               W, H, ep.finished, ep.successes, sec, ra.gif_path ? " -> " : "", ra.gif_path ? ra.gif_path : "", ra.png_dir ? " -> " : "",
               ra.png_dir ? ra.png_dir : "", ra.png_dir ? "/frame_*.png" : "");
    output_free(&o);
    episode_free(&ep);
    return rc == 0 ? 0 : 1;
}

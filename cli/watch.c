/* watch.c - `equigrid watch`: a checkpoint's agent plays greedy episodes
 * in a resizable SDL2 window, with its Q-values as arrows and the views of
 * its symmetrizer. Keys pause, single-step, change speed, start a new
 * episode, apply a group element to the state, toggle overlays and help.
 * --script injects keys (one per frame) so tests can drive it under Xvfb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "agentview.h"
#include "../render/render.h"
#include "../render/window.h"

enum { FRAME_MS = 15 };

static const char *const watch_help[] = {
    "space   pause / resume",
    "right   one step (when paused)",
    "+ / -   faster / slower",
    "r       new episode",
    "0-7     apply that D4 element to the state",
    "a / v   Q arrows / views on or off",
    "s       save a screenshot (watch-NNN.png)",
    "h       this help",
    "q, Esc  quit",
};

static void watch_usage(FILE *f)
{
    fprintf(f,
            "usage: equigrid watch CHECKPOINT|CONFIG [--set section.key=value ...] [--size WxH]\n"
            "                      [--script KEYS] [--frames N]\n\n"
            "Shows greedy episodes of the checkpoint's agent in a window (a config gives an untrained\n"
            "agent). Keys:\n");
    for (size_t i = 0; i < sizeof watch_help / sizeof watch_help[0]; i++)
        fprintf(f, "  %s\n", watch_help[i]);
    fprintf(f,
            "--script \"space,right,3,q\" (or $EQUIGRID_SCRIPT) presses one key per frame; --frames N quits\n"
            "after N frames. Without a display use `equigrid record CHECKPOINT --gif out.gif`.\n");
}

typedef struct {
    RenderSubject s;
    uint8_t obs[ENV_MAX_CELLS];
    RenderQ rq;
    int action;       /* greedy action in the current state */
    int done;         /* the episode has ended; the final state is shown */
    int step;
    float ret;
    long episode, successes, finished;
    long total_steps; /* over all episodes */
    char end[64];     /* how the last episode ended */
} Watch;

static int watch_think(Watch *w)
{
    w->action = render_agent_q(&w->rq, w->s.agent, w->obs);
    return w->action < 0 ? -1 : 0;
}

static int watch_reset(Watch *w)
{
    env_reset(&w->s.env, w->obs);
    w->done = 0;
    w->step = 0;
    w->ret = 0.0f;
    w->episode++;
    w->end[0] = '\0';
    return watch_think(w);
}

static int watch_step(Watch *w)
{
    float reward;
    uint8_t term, trunc;
    env_step(&w->s.env, w->action, w->obs, &reward, &term, &trunc, NULL);
    w->step++;
    w->total_steps++;
    w->ret += reward;
    if (term || trunc) {
        w->done = 1;
        w->finished++;
        w->successes += w->s.env.last.success > 0.5f;
        snprintf(w->end, sizeof w->end, "%s", w->s.env.last.success > 0.5f ? "goal reached" : term ? "episode over" : "time limit");
        return 0;
    }
    return watch_think(w);
}

int cmd_watch(int argc, char **argv)
{
    WindowArgs wa;
    int parsed = window_args_parse(&wa, argc, argv, "watch", watch_usage);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    const char *path = wa.target;
    int W = wa.W, H = wa.H;
    long max_frames = wa.max_frames;
    if (!path) {
        fprintf(stderr, "equigrid watch: give a checkpoint\n");
        watch_usage(stderr);
        return 2;
    }
    char err[1024];
    Watch *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, "equigrid watch: out of memory\n");
        return 1;
    }
    if (render_subject_open(&w->s, path, wa.sets, wa.nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid watch: %s\n", err);
        free(w);
        return 1;
    }
    const SymSpec *ss = qmodel_sym(w->s.agent->online);
    int nviews = w->s.cfg.render.show_views && ss->method != SYM_NONE ? ss->group.n : 0;
    if (W == 0)
        render_default_size(w->s.env.n, w->s.cfg.render.cell, nviews, &W, &H);
    char title[600];
    snprintf(title, sizeof title, "equigrid watch - %s", path);
    RenderWindow *win = render_window_open(title, W, H, err, sizeof err);
    if (!win) {
        fprintf(stderr, "equigrid watch: %s; use `equigrid record CHECKPOINT --gif out.gif` to render headless\n", err);
        render_subject_free(&w->s);
        free(w);
        return 1;
    }
    Render *r = render_create(NULL, err, sizeof err);
    int rc = 0;
    if (!r) {
        fprintf(stderr, "equigrid watch: %s\n", err);
        rc = 1;
    } else {
        const char *warn = render_warning(r);
        if (warn)
            fprintf(stderr, "equigrid watch: warning: %s\n", warn);
    }
    if (rc == 0 && watch_reset(w) != 0) {
        fprintf(stderr, "equigrid watch: out of memory computing Q-values\n");
        rc = 1;
    }

    int fps = w->s.cfg.render.fps, paused = 0, help = 0, show_q = w->s.cfg.render.show_q;
    int show_views = w->s.cfg.render.show_views, quit = 0;
    const char *why = "";
    char g[64];
    group_format(&ss->group, g, sizeof g);
    Uint32 next_step = SDL_GetTicks() + 1000u / (Uint32)fps;
    long frames = 0;
    char last_op[64] = "";
    int shots = 0;
    while (rc == 0 && !quit) {
        render_script_step(&wa.keys);
        int single = 0;
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT || (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE)) {
                quit = 1;
                why = "window closed";
            } else if (ev.type == SDL_KEYDOWN) {
                SDL_Keycode k = ev.key.keysym.sym;
                if (k == SDLK_q || k == SDLK_ESCAPE) {
                    quit = 1;
                    why = "quit by key";
                } else if (k == SDLK_SPACE) {
                    paused = !paused;
                } else if (k == SDLK_RIGHT) {
                    single = paused;
                } else if (k == SDLK_PLUS || k == SDLK_EQUALS || k == SDLK_KP_PLUS) {
                    fps = fps * 2 > 240 ? 240 : fps * 2;
                } else if (k == SDLK_MINUS || k == SDLK_KP_MINUS) {
                    fps = fps / 2 < 1 ? 1 : fps / 2;
                } else if (k == SDLK_r) {
                    rc = watch_reset(w);
                    snprintf(last_op, sizeof last_op, "new episode");
                } else if (k >= SDLK_0 && k <= SDLK_7) {
                    if (!w->done) {
                        env_transform(&w->s.env, (int)(k - SDLK_0));
                        env_observe(&w->s.env, w->obs);
                        rc = watch_think(w);
                        snprintf(last_op, sizeof last_op, "applied %s", d4_name((int)(k - SDLK_0)));
                    }
                } else if (k == SDLK_h) {
                    help = !help;
                } else if (k == SDLK_a) {
                    show_q = !show_q;
                } else if (k == SDLK_v) {
                    show_views = !show_views;
                } else if (k == SDLK_s) {
                    char shot[64], e2[512];
                    snprintf(shot, sizeof shot, "watch-%03d.png", ++shots);
                    if (render_window_save(win, shot, e2, sizeof e2) == 0)
                        fprintf(stderr, "equigrid watch: saved %s\n", shot);
                    else
                        fprintf(stderr, "equigrid watch: screenshot failed: %s\n", e2);
                }
            }
        }
        Uint32 now = SDL_GetTicks();
        if (rc == 0 && !quit && (single || (!paused && (Sint32)(now - next_step) >= 0))) {
            if (w->done)
                rc = watch_reset(w);
            else
                rc = watch_step(w);
            last_op[0] = '\0';
            /* hold the final state of an episode a little longer */
            Uint32 period = 1000u / (Uint32)fps;
            next_step = now + (w->done && period < 500 ? 500 : period);
        }
        if (rc != 0) {
            fprintf(stderr, "equigrid watch: out of memory computing Q-values\n");
            break;
        }
        char note[300];
        snprintf(note, sizeof note, "%s%s%s%s | %d fps%s%s%s%s", w->s.untrained ? "untrained | " : "", sym_method_name(ss->method),
                 ss->method == SYM_NONE ? "" : " ", ss->method == SYM_NONE ? "" : g, fps, paused ? " | paused" : "",
                 w->done ? " | " : "", w->end, last_op[0] ? " | " : "");
        if (last_op[0] && strlen(note) + strlen(last_op) < sizeof note)
            strcat(note, last_op);
        RenderFrame f;
        memset(&f, 0, sizeof f);
        f.n = w->s.env.n;
        f.layout = w->s.env.layout;
        f.agent = w->s.env.agent;
        f.episode = w->episode;
        f.step = w->step;
        f.max_steps = w->s.env.max_steps;
        f.ret = w->ret;
        f.successes = w->successes;
        f.finished = w->finished;
        f.note = note;
        f.q = w->done ? NULL : &w->rq;
        f.show_q = show_q;
        f.show_views = show_views;
        f.help = help ? watch_help : NULL;
        f.nhelp = help ? (int)(sizeof watch_help / sizeof watch_help[0]) : 0;
        if (render_window_show(win, r, &f, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid watch: %s\n", err);
            rc = 1;
            break;
        }
        if (max_frames > 0 && ++frames >= max_frames) {
            why = "--frames reached";
            break;
        }
        SDL_Delay(FRAME_MS);
    }
    if (rc == 0)
        printf("equigrid watch: %s after %ld steps in %ld episodes (%ld finished, %ld reached the goal)\n", why, w->total_steps,
               w->episode, w->finished, w->successes);
    render_free(r);
    render_window_free(win);
    render_subject_free(&w->s);
    free(w);
    return rc == 0 ? 0 : 1;
}

/* watch.c - `equigrid watch`: a checkpoint's agent plays greedy episodes
 * in a resizable SDL2 window, with its Q-values as arrows and the views of
 * its symmetrizer. Keys pause, single-step, change speed, start a new
 * episode, apply a group element to the state, toggle overlays and help.
 * --script injects keys (one per frame) so tests can drive it under Xvfb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "episode.h"
#include "../render/render.h"
#include "../render/window.h"

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

/* What the keys change: everything but the episode. */
typedef struct {
    int fps, paused, help, show_q, show_views, shots;
    int quit, single;  /* quit now; take one step although paused */
    const char *why;   /* why the loop ended */
    char last_op[64];  /* the last key's effect, shown until the next step */
} WatchUi;

static void watch_screenshot(WatchUi *ui, RenderWindow *win)
{
    char shot[64], e2[512];
    snprintf(shot, sizeof shot, "watch-%03d.png", ++ui->shots);
    if (render_window_save(win, shot, e2, sizeof e2) == 0)
        fprintf(stderr, "equigrid watch: saved %s\n", shot);
    else
        fprintf(stderr, "equigrid watch: screenshot failed: %s\n", e2);
}

/* Acts on one key; returns 0 or -1 when out of memory. */
static int watch_key(WatchUi *ui, Episode *ep, RenderWindow *win, SDL_Keycode k)
{
    if (k == SDLK_q || k == SDLK_ESCAPE) {
        ui->quit = 1;
        ui->why = "quit by key";
    } else if (k == SDLK_SPACE) {
        ui->paused = !ui->paused;
    } else if (k == SDLK_RIGHT) {
        ui->single = ui->paused;
    } else if (k == SDLK_PLUS || k == SDLK_EQUALS || k == SDLK_KP_PLUS) {
        ui->fps = ui->fps * 2 > 240 ? 240 : ui->fps * 2;
    } else if (k == SDLK_MINUS || k == SDLK_KP_MINUS) {
        ui->fps = ui->fps / 2 < 1 ? 1 : ui->fps / 2;
    } else if (k == SDLK_r) {
        snprintf(ui->last_op, sizeof ui->last_op, "new episode");
        return episode_reset(ep);
    } else if (k >= SDLK_0 && k <= SDLK_7) {
        if (!ep->done) {
            snprintf(ui->last_op, sizeof ui->last_op, "applied %s", d4_name((int)(k - SDLK_0)));
            return episode_transform(ep, (int)(k - SDLK_0));
        }
    } else if (k == SDLK_h) {
        ui->help = !ui->help;
    } else if (k == SDLK_a) {
        ui->show_q = !ui->show_q;
    } else if (k == SDLK_v) {
        ui->show_views = !ui->show_views;
    } else if (k == SDLK_s) {
        watch_screenshot(ui, win);
    }
    return 0;
}

/* Handles the pending window events; returns 0 or -1 when out of memory. */
static int watch_events(WatchUi *ui, Episode *ep, RenderWindow *win)
{
    SDL_Event ev;
    int rc = 0;
    ui->single = 0;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT || (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE)) {
            ui->quit = 1;
            ui->why = "window closed";
        } else if (ev.type == SDL_KEYDOWN && rc == 0) {
            rc = watch_key(ui, ep, win, ev.key.keysym.sym);
        }
    }
    return rc;
}

/* Draws the current state with the status note and the overlays. */
static int watch_draw(const WatchUi *ui, const Episode *ep, RenderWindow *win, Render *r)
{
    const SymSpec *ss = qmodel_sym(ep->agent->online);
    char g[64], note[300], err[1024];
    group_format(&ss->group, g, sizeof g);
    snprintf(note, sizeof note, "%s%s%s%s | %d fps%s%s%s%s", ep->untrained ? "untrained | " : "", sym_method_name(ss->method),
             ss->method == SYM_NONE ? "" : " ", ss->method == SYM_NONE ? "" : g, ui->fps, ui->paused ? " | paused" : "",
             ep->done ? " | " : "", ep->end, ui->last_op[0] ? " | " : "");
    if (ui->last_op[0] && strlen(note) + strlen(ui->last_op) < sizeof note)
        strcat(note, ui->last_op);
    RenderFrame f;
    episode_frame(ep, &f);
    f.note = note;
    f.show_q = ui->show_q && !ep->done; /* a final state takes no decision */
    f.show_views = ui->show_views;
    f.help = ui->help ? watch_help : NULL;
    f.nhelp = ui->help ? (int)(sizeof watch_help / sizeof watch_help[0]) : 0;
    if (render_window_show(win, r, &f, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid watch: %s\n", err);
        return -1;
    }
    return 0;
}

/* One frame at a time: keys, a step when one is due, drawing. Returns 0
 * when quit (key, window, --frames), else -1 after printing the error. */
static int watch_loop(Episode *ep, WindowArgs *wa, RenderWindow *win, Render *r, WatchUi *ui)
{
    Uint32 next_step = SDL_GetTicks() + 1000u / (Uint32)ui->fps;
    long frames = 0;
    while (!ui->quit) {
        render_script_step(&wa->keys);
        int rc = watch_events(ui, ep, win);
        Uint32 now = SDL_GetTicks();
        if (rc == 0 && !ui->quit && (ui->single || (!ui->paused && (Sint32)(now - next_step) >= 0))) {
            rc = ep->done ? episode_reset(ep) : episode_step(ep, ep->action);
            ui->last_op[0] = '\0';
            /* hold the final state of an episode a little longer */
            Uint32 period = 1000u / (Uint32)ui->fps;
            next_step = now + (ep->done && period < 500 ? 500 : period);
        }
        if (rc != 0) {
            fprintf(stderr, "equigrid watch: out of memory computing Q-values\n");
            return -1;
        }
        if (watch_draw(ui, ep, win, r) != 0)
            return -1;
        if (window_next_frame(wa, &frames)) {
            ui->why = "--frames reached";
            return 0;
        }
    }
    return 0;
}

int cmd_watch(int argc, char **argv)
{
    WindowArgs wa;
    int parsed = window_args_parse(&wa, argc, argv, "watch", watch_usage);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (!wa.target) {
        fprintf(stderr, "equigrid watch: give a checkpoint\n");
        watch_usage(stderr);
        return 2;
    }
    char err[1024];
    Episode *ep = calloc(1, sizeof *ep);
    if (!ep) {
        fprintf(stderr, "equigrid watch: out of memory\n");
        return 1;
    }
    if (episode_open(ep, wa.target, wa.sets, wa.nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid watch: %s\n", err);
        free(ep);
        return 1;
    }
    const SymSpec *ss = qmodel_sym(ep->agent->online);
    int nviews = ep->cfg.render.show_views && ss->method != SYM_NONE ? ss->group.n : 0;
    if (wa.W == 0)
        render_default_size(ep->env.n, ep->cfg.render.cell, nviews, &wa.W, &wa.H);
    RenderWindow *win = NULL;
    Render *r = NULL;
    int rc = window_open(&win, &r, "watch", wa.target, wa.W, wa.H);
    if (rc == 0 && episode_reset(ep) != 0) {
        fprintf(stderr, "equigrid watch: out of memory computing Q-values\n");
        rc = -1;
    }
    WatchUi ui = {.fps = ep->cfg.render.fps, .show_q = ep->cfg.render.show_q, .show_views = ep->cfg.render.show_views, .why = ""};
    if (rc == 0)
        rc = watch_loop(ep, &wa, win, r, &ui);
    if (rc == 0)
        window_summary("watch", ui.why, ep);
    render_free(r);
    render_window_free(win);
    episode_free(ep);
    free(ep);
    return rc == 0 ? 0 : 1;
}

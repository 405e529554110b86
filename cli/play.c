/* play.c - `equigrid play`: a human plays an environment with the arrow
 * keys in a resizable SDL2 window, drawn like `equigrid watch` (no agent, so
 * no Q overlay). --script injects keys (one per frame) for tests under Xvfb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "episode.h"
#include "../render/render.h"
#include "../render/window.h"

static const char *const play_help[] = {
    "arrows  move",
    "space   stay (envs with a STAY action)",
    "r       new episode",
    "0-7     apply that D4 element to the state",
    "h       this help",
    "q, Esc  quit",
};

static void play_usage(FILE *f)
{
    fprintf(f,
            "usage: equigrid play ENV|CONFIG [--set section.key=value ...] [--size WxH] [--script KEYS] [--frames N]\n\n"
            "ENV is goal, fourrooms, lava, maze or map (with --set env.map=FILE); a config file gives its [env].\n"
            "Keys:\n");
    for (size_t i = 0; i < sizeof play_help / sizeof play_help[0]; i++)
        fprintf(f, "  %s\n", play_help[i]);
    fprintf(f, "After an episode ends, any move starts the next one. --script \"right,down,q\" (or $EQUIGRID_SCRIPT)\n"
               "presses one key per frame; --frames N quits after N frames.\n");
}

/* What the keys change besides the episode. */
typedef struct {
    int help, quit;
    const char *why;  /* why the loop ended */
    char last_op[64]; /* the last key's effect, shown until the next move */
} PlayUi;

/* Acts on one key: a move steps the env (or starts the next episode once
 * this one has ended). */
static void play_key(PlayUi *ui, Episode *ep, SDL_Keycode k)
{
    int action = k == SDLK_UP ? ACT_UP : k == SDLK_RIGHT ? ACT_RIGHT : k == SDLK_DOWN ? ACT_DOWN
               : k == SDLK_LEFT ? ACT_LEFT : (k == SDLK_SPACE && ep->env.nactions > ACT_STAY) ? ACT_STAY : -1;
    if (k == SDLK_q || k == SDLK_ESCAPE) {
        ui->quit = 1;
        ui->why = "quit by key";
    } else if (k == SDLK_h) {
        ui->help = !ui->help;
    } else if (k == SDLK_r || (action >= 0 && ep->done)) {
        episode_reset(ep); /* no agent: cannot fail */
        ui->last_op[0] = '\0';
    } else if (k >= SDLK_0 && k <= SDLK_7 && !ep->done) {
        episode_transform(ep, (int)(k - SDLK_0));
        snprintf(ui->last_op, sizeof ui->last_op, "applied %s", d4_name((int)(k - SDLK_0)));
    } else if (action >= 0) {
        episode_step(ep, action);
        ui->last_op[0] = '\0';
    }
}

static void play_events(PlayUi *ui, Episode *ep)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        if (ev.type == SDL_QUIT || (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE)) {
            ui->quit = 1;
            ui->why = "window closed";
        } else if (ev.type == SDL_KEYDOWN) {
            play_key(ui, ep, ev.key.keysym.sym);
        }
    }
}

/* Draws the current state with the status note and the help box. */
static int play_draw(const PlayUi *ui, const Episode *ep, RenderWindow *win, Render *r)
{
    char note[200], err[1024];
    snprintf(note, sizeof note, "%s%s%s%s%s", ep->done ? ep->end : "", ep->done ? " - press a key" : "", ep->done && ui->last_op[0] ? " | " : "",
             ui->last_op, !ep->done && !ui->last_op[0] ? "h: help" : "");
    RenderFrame f;
    episode_frame(ep, &f);
    f.note = note;
    f.help = ui->help ? play_help : NULL;
    f.nhelp = ui->help ? (int)(sizeof play_help / sizeof play_help[0]) : 0;
    if (render_window_show(win, r, &f, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid play: %s\n", err);
        return -1;
    }
    return 0;
}

/* One frame at a time: keys, drawing. Returns 0 when quit (key, window,
 * --frames), else -1 after printing the error. */
static int play_loop(Episode *ep, WindowArgs *wa, RenderWindow *win, Render *r, PlayUi *ui)
{
    long frames = 0;
    while (!ui->quit) {
        render_script_step(&wa->keys);
        play_events(ui, ep);
        if (play_draw(ui, ep, win, r) != 0)
            return -1;
        if (window_next_frame(wa, &frames)) {
            ui->why = "--frames reached";
            return 0;
        }
    }
    return 0;
}

int cmd_play(int argc, char **argv)
{
    WindowArgs wa;
    int parsed = window_args_parse(&wa, argc, argv, "play", play_usage);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (!wa.target) {
        fprintf(stderr, "equigrid play: give an environment (goal, fourrooms, lava, maze, map) or a config\n");
        play_usage(stderr);
        return 2;
    }
    char err[1024];
    Episode *ep = calloc(1, sizeof *ep);
    if (!ep) {
        fprintf(stderr, "equigrid play: out of memory\n");
        return 1;
    }
    if (episode_open_env(ep, wa.target, wa.sets, wa.nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid play: %s\n", err);
        free(ep);
        return 1;
    }
    if (wa.W == 0)
        render_default_size(ep->env.n, ep->cfg.render.cell, 0, &wa.W, &wa.H);
    RenderWindow *win = NULL;
    Render *r = NULL;
    PlayUi ui = {.why = ""};
    int rc = window_open(&win, &r, "play", wa.target, wa.W, wa.H);
    if (rc == 0) {
        episode_reset(ep);
        rc = play_loop(ep, &wa, win, r, &ui);
    }
    if (rc == 0)
        window_summary("play", ui.why, ep);
    render_free(r);
    render_window_free(win);
    episode_free(ep);
    free(ep);
    return rc == 0 ? 0 : 1;
}

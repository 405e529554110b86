/* play.c - `equigrid play`: a human plays an environment with the arrow
 * keys in a resizable SDL2 window, drawn like `equigrid watch` (no agent, so
 * no Q overlay). --script injects keys (one per frame) for tests under Xvfb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "agentview.h"
#include "../render/render.h"
#include "../render/window.h"

enum { FRAME_MS = 15 };

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

int cmd_play(int argc, char **argv)
{
    WindowArgs wa;
    int parsed = window_args_parse(&wa, argc, argv, "play", play_usage);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    const char *spec = wa.target;
    int W = wa.W, H = wa.H;
    long max_frames = wa.max_frames;
    if (!spec) {
        fprintf(stderr, "equigrid play: give an environment (goal, fourrooms, lava, maze, map) or a config\n");
        play_usage(stderr);
        return 2;
    }
    char err[1024];
    RenderSubject *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "equigrid play: out of memory\n");
        return 1;
    }
    if (render_subject_env(s, spec, wa.sets, wa.nsets, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid play: %s\n", err);
        free(s);
        return 1;
    }
    Env *e = &s->env;
    if (W == 0)
        render_default_size(e->n, s->cfg.render.cell, 0, &W, &H);
    char title[600];
    snprintf(title, sizeof title, "equigrid play - %s", spec);
    RenderWindow *win = render_window_open(title, W, H, err, sizeof err);
    if (!win) {
        fprintf(stderr, "equigrid play: %s; use `equigrid record CHECKPOINT --gif out.gif` to render headless\n", err);
        render_subject_free(s);
        free(s);
        return 1;
    }
    Render *r = render_create(NULL, err, sizeof err);
    if (!r) {
        fprintf(stderr, "equigrid play: %s\n", err);
        render_window_free(win);
        render_subject_free(s);
        free(s);
        return 1;
    }
    const char *warn = render_warning(r);
    if (warn)
        fprintf(stderr, "equigrid play: warning: %s\n", warn);

    uint8_t obs[ENV_MAX_CELLS];
    env_reset(e, obs);
    long episode = 1, successes = 0, finished = 0, frames = 0, total_steps = 0;
    int step = 0, done = 0, help = 0, quit = 0, rc = 0;
    float ret = 0.0f;
    char end[64] = "", last_op[64] = "";
    const char *why = "";
    while (!quit) {
        render_script_step(&wa.keys);
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT || (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE)) {
                quit = 1;
                why = "window closed";
                continue;
            }
            if (ev.type != SDL_KEYDOWN)
                continue;
            SDL_Keycode k = ev.key.keysym.sym;
            int action = k == SDLK_UP ? ACT_UP : k == SDLK_RIGHT ? ACT_RIGHT : k == SDLK_DOWN ? ACT_DOWN
                       : k == SDLK_LEFT ? ACT_LEFT : (k == SDLK_SPACE && e->nactions > ACT_STAY) ? ACT_STAY : -1;
            if (k == SDLK_q || k == SDLK_ESCAPE) {
                quit = 1;
                why = "quit by key";
            } else if (k == SDLK_h) {
                help = !help;
            } else if (k == SDLK_r || (action >= 0 && done)) {
                env_reset(e, obs);
                episode++;
                step = 0;
                ret = 0.0f;
                done = 0;
                end[0] = last_op[0] = '\0';
            } else if (k >= SDLK_0 && k <= SDLK_7 && !done) {
                env_transform(e, (int)(k - SDLK_0));
                snprintf(last_op, sizeof last_op, "applied %s", d4_name((int)(k - SDLK_0)));
            } else if (action >= 0) {
                float reward;
                uint8_t term, trunc;
                env_step(e, action, obs, &reward, &term, &trunc, NULL);
                step++;
                total_steps++;
                ret += reward;
                last_op[0] = '\0';
                if (term || trunc) {
                    done = 1;
                    finished++;
                    successes += e->last.success > 0.5f;
                    snprintf(end, sizeof end, "%s - press a key", e->last.success > 0.5f ? "goal reached" : term ? "episode over" : "time limit");
                }
            }
        }
        char note[200];
        snprintf(note, sizeof note, "%s%s%s%s", done ? end : "", done && last_op[0] ? " | " : "", last_op,
                 !done && !last_op[0] ? "h: help" : "");
        RenderFrame f;
        memset(&f, 0, sizeof f);
        f.n = e->n;
        f.layout = e->layout;
        f.agent = e->agent;
        f.episode = episode;
        f.step = step;
        f.max_steps = e->max_steps;
        f.ret = ret;
        f.successes = successes;
        f.finished = finished;
        f.note = note;
        f.help = help ? play_help : NULL;
        f.nhelp = help ? (int)(sizeof play_help / sizeof play_help[0]) : 0;
        if (render_window_show(win, r, &f, err, sizeof err) != 0) {
            fprintf(stderr, "equigrid play: %s\n", err);
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
        printf("equigrid play: %s after %ld steps in %ld episodes (%ld finished, %ld reached the goal)\n", why, total_steps,
               episode, finished, successes);
    render_free(r);
    render_window_free(win);
    render_subject_free(s);
    free(s);
    return rc;
}

/* window.h - an SDL2 window showing rendered frames, for the interactive
 * watch and play commands, plus scripted key presses so tests (under Xvfb)
 * can drive them. Frames are drawn by render.h into the window's software
 * surface; nothing here needs a GPU. Created only by those commands. */
#ifndef EQUIGRID_WINDOW_H
#define EQUIGRID_WINDOW_H

#include <stddef.h>

#include <SDL.h>

#include "render.h"

typedef struct RenderWindow RenderWindow;

/* Starts SDL video and opens a resizable w x h window. Returns NULL when no
 * display is available (DISPLAY and WAYLAND_DISPLAY unset with no
 * SDL_VIDEODRIVER chosen, SDL_Init or window creation failing), with err set
 * to "no display (SDL: reason)". render_window_free(NULL) is a no-op. */
RenderWindow *render_window_open(const char *title, int w, int h, char *err, size_t errlen);
void render_window_free(RenderWindow *win);
/* Draws f over the window's current surface (its size follows resizes) and
 * shows it. Returns 0 or -1 with a message. */
int render_window_show(RenderWindow *win, Render *r, const RenderFrame *f, char *err, size_t errlen);

/* Saves what the window shows now (the last frame drawn) as a PNG. Returns
 * 0 or -1 with a message. */
int render_window_save(RenderWindow *win, const char *path, char *err, size_t errlen);

enum { RENDER_SCRIPT_MAX = 256 };

/* Key presses to inject, one per frame. */
typedef struct {
    int n, next;
    SDL_Keycode keys[RENDER_SCRIPT_MAX]; /* 0 = press nothing that frame */
} RenderScript;

/* Parses a comma list of key names: space, right, left, up, down, plus,
 * minus, esc, enter, wait (no key), or a single character (q, r, h, 0-7, a,
 * v, +, -). Empty or NULL gives an empty script. Returns 0, or -1 with a
 * message naming the bad token and the allowed names. */
int render_script_parse(RenderScript *s, const char *spec, char *err, size_t errlen);
/* Pushes the next scripted key as an SDL key-down/key-up pair. Returns 1 if
 * a token was consumed, 0 when the script is over. */
int render_script_step(RenderScript *s);

#endif

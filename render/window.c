/* window.c - the SDL2 window of the interactive commands and scripted key
 * injection. See window.h. */
#include "window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct RenderWindow {
    SDL_Window *win;
    SDL_Surface *canvas; /* used only when the window surface is not 32-bit */
};

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && v[0];
}

RenderWindow *render_window_open(const char *title, int w, int h, char *err, size_t errlen)
{
    if (!env_set("SDL_VIDEODRIVER") && !env_set("DISPLAY") && !env_set("WAYLAND_DISPLAY")) {
        snprintf(err, errlen, "no display (SDL: DISPLAY and WAYLAND_DISPLAY are unset)");
        return NULL;
    }
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        snprintf(err, errlen, "no display (SDL: %s)", SDL_GetError());
        return NULL;
    }
    RenderWindow *rw = calloc(1, sizeof *rw);
    if (!rw) {
        snprintf(err, errlen, "out of memory");
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        return NULL;
    }
    rw->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, w, h, SDL_WINDOW_RESIZABLE);
    if (!rw->win || !SDL_GetWindowSurface(rw->win)) {
        snprintf(err, errlen, "no display (SDL: %s)", SDL_GetError());
        render_window_free(rw);
        return NULL;
    }
    return rw;
}

void render_window_free(RenderWindow *rw)
{
    if (!rw)
        return;
    if (rw->canvas)
        SDL_FreeSurface(rw->canvas);
    if (rw->win)
        SDL_DestroyWindow(rw->win);
    free(rw);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    if (SDL_WasInit(SDL_INIT_EVERYTHING) == 0)
        SDL_Quit(); /* also shuts down SDL's D-Bus connection */
}

int render_window_show(RenderWindow *rw, Render *r, const RenderFrame *f, char *err, size_t errlen)
{
    SDL_Surface *dst = SDL_GetWindowSurface(rw->win);
    if (!dst) {
        snprintf(err, errlen, "window surface lost: %s", SDL_GetError());
        return -1;
    }
    SDL_Surface *target = dst;
    if (dst->format->BytesPerPixel != 4) {
        if (!rw->canvas || rw->canvas->w != dst->w || rw->canvas->h != dst->h) {
            if (rw->canvas)
                SDL_FreeSurface(rw->canvas);
            rw->canvas = render_surface_create(dst->w, dst->h);
            if (!rw->canvas) {
                snprintf(err, errlen, "cannot create a %dx%d canvas: %s", dst->w, dst->h, SDL_GetError());
                return -1;
            }
        }
        target = rw->canvas;
    }
    if (render_frame(r, target, f, err, errlen) != 0)
        return -1;
    if (target != dst && SDL_BlitSurface(target, NULL, dst, NULL) != 0) {
        snprintf(err, errlen, "blit to window failed: %s", SDL_GetError());
        return -1;
    }
    if (SDL_UpdateWindowSurface(rw->win) != 0) {
        snprintf(err, errlen, "window update failed: %s", SDL_GetError());
        return -1;
    }
    return 0;
}

int render_window_save(RenderWindow *rw, const char *path, char *err, size_t errlen)
{
    SDL_Surface *dst = SDL_GetWindowSurface(rw->win);
    if (!dst) {
        snprintf(err, errlen, "window surface lost: %s", SDL_GetError());
        return -1;
    }
    return render_png_save(rw->canvas ? rw->canvas : dst, path, err, errlen);
}

static const struct {
    const char *name;
    SDL_Keycode key;
} key_names[] = {
    {"space", SDLK_SPACE}, {"right", SDLK_RIGHT}, {"left", SDLK_LEFT}, {"up", SDLK_UP},       {"down", SDLK_DOWN},
    {"plus", SDLK_PLUS},   {"minus", SDLK_MINUS}, {"esc", SDLK_ESCAPE}, {"enter", SDLK_RETURN}, {"wait", 0},
};

int render_script_parse(RenderScript *s, const char *spec, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (!spec)
        return 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[32];
        if (len == 0 || len >= sizeof tok) {
            snprintf(err, errlen, "--script \"%s\": empty or overlong key name at offset %d", spec, (int)(p - spec));
            return -1;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        int found = 0;
        SDL_Keycode key = 0;
        for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
            if (strcmp(tok, key_names[i].name) == 0) {
                key = key_names[i].key;
                found = 1;
            }
        if (!found && len == 1 && tok[0] > ' ' && tok[0] < 127) {
            key = (SDL_Keycode)(unsigned char)(tok[0] >= 'A' && tok[0] <= 'Z' ? tok[0] - 'A' + 'a' : tok[0]);
            found = 1;
        }
        if (!found) {
            snprintf(err, errlen,
                     "--script: unknown key '%s'; allowed: space, right, left, up, down, plus, minus, esc, enter, wait, "
                     "or one character (q, r, h, 0-7, ...)",
                     tok);
            return -1;
        }
        if (s->n >= RENDER_SCRIPT_MAX) {
            snprintf(err, errlen, "--script: more than %d keys", RENDER_SCRIPT_MAX);
            return -1;
        }
        s->keys[s->n++] = key;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int render_script_step(RenderScript *s)
{
    if (s->next >= s->n)
        return 0;
    SDL_Keycode key = s->keys[s->next++];
    if (key == 0)
        return 1;
    SDL_Event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SDL_KEYDOWN;
    ev.key.state = SDL_PRESSED;
    ev.key.timestamp = SDL_GetTicks();
    ev.key.keysym.sym = key;
    ev.key.keysym.scancode = SDL_GetScancodeFromKey(key);
    SDL_PushEvent(&ev);
    ev.type = SDL_KEYUP;
    ev.key.state = SDL_RELEASED;
    SDL_PushEvent(&ev);
    return 1;
}

/* render.h - software drawing of gridworld frames onto SDL surfaces, and
 * GIF/PNG output. Everything draws into a 32-bit SDL_Surface in memory: no
 * window, no SDL_Init, works headless (SDL_VIDEODRIVER=offscreen/dummy or no
 * display at all); render/window.h puts the same pictures in a window.
 * Nothing here is needed for training: a Render is created lazily by the
 * watch/play/record commands only.
 *
 * A frame is: the grid (floor, walls, goal as a square, lava with a wave
 * pattern, agent as a circle), scaled to the surface (cell = the largest
 * integer size that fits, aspect kept, centred); optional Q-value arrows from
 * the agent; optional strip of |G| thumbnails (the views h.x of the state,
 * each with that view's greedy move as a small arrow, its weight as a bar,
 * and equizero's choice framed); a status line
 * (SDL2_ttf, DejaVuSans looked up at run time; without a font frames are drawn
 * without text); an optional help box. Drawing colours are exact (no
 * antialiasing except text), so GIF frames keep them exactly. Tuned for
 * speed: plain loops over uint32 pixels, one text render per line. */
#ifndef EQUIGRID_RENDER_H
#define EQUIGRID_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "../equivariance/group.h"

enum { RENDER_MAX_ACTIONS = 5, RENDER_GRADIENT = 16 };

/* The exact drawing colours (0xRRGGBB), indexed by RenderColor. */
typedef enum {
    RC_BACKGROUND, RC_FLOOR, RC_GRIDLINE, RC_WALL, RC_WALL_EDGE, RC_GOAL, RC_GOAL_MARK,
    RC_LAVA, RC_LAVA_WAVE, RC_AGENT, RC_AGENT_RIM, RC_TEXT, RC_TEXT_DIM, RC_STATUS_BG,
    RC_OUTLINE, RC_CHOSEN, RC_BAR, RC_BAR_BG, RC_HELP_BG, RC_COUNT
} RenderColor;
extern const uint32_t render_colors[RC_COUNT];
/* Arrow colours: RENDER_GRADIENT steps from red (lowest Q) to green (highest). */
extern const uint32_t render_gradient[RENDER_GRADIENT];

/* Q-values and symmetrizer views of one state, as plain numbers so that
 * drawing does not depend on the agent (the commands fill it). */
typedef struct {
    int A;                                     /* actions with values; 0 = no arrows */
    float q[RENDER_MAX_ACTIONS];               /* Q_G(x)[a], a in UP RIGHT DOWN LEFT (STAY) */
    int nviews;                                /* |G| views; 0 or 1 = no strip */
    int elem[D4_ORDER];                        /* view i is h = elem[i] (D4 index) */
    float view_q[D4_ORDER][RENDER_MAX_ACTIONS]; /* Q(h.x)[rho(h)(a)], in the frame of x */
    float weight[D4_ORDER];                    /* normalised weights (lambda, 1/|G|, one-hot) */
    int has_score;                             /* 1: score holds canonical's scores, shown instead of the one-hot weights */
    float score[D4_ORDER];                     /* canonical's score s(h.x) of each view */
    int chosen;                                /* view position 0..nviews-1 chosen by equizero or canonical, or -1 */
} RenderQ;

/* Everything one frame shows. Pointers are borrowed for the call. */
typedef struct {
    int n;                   /* grid side */
    const uint8_t *layout;   /* n*n static cells, CELL_* flags of envs/env.h */
    int agent;               /* r*n + c, or -1 for none */
    long episode;            /* 1-based episode number shown */
    int step, max_steps;     /* steps taken in the episode and its limit (0 = not shown) */
    float ret;               /* return so far */
    long successes, finished; /* goals reached / episodes finished so far */
    const char *note;        /* appended to the status line ("untrained agent", "paused"), or NULL */
    const RenderQ *q;        /* NULL = no Q data */
    int show_q;              /* draw arrows (needs q with A > 0) */
    int show_views;          /* draw the view strip (needs q with nviews > 1) */
    const char *const *help; /* lines of the help box, or NULL */
    int nhelp;
} RenderFrame;

/* Where things go on a w x h surface (pixels). Cell (r, c) occupies
 * [grid_x + c*cell, +cell) x [grid_y + r*cell, +cell). */
typedef struct {
    int grid_x, grid_y, cell;           /* main grid */
    int nthumbs;                        /* thumbnails in the strip (0 = none) */
    int thumb_x[D4_ORDER], thumb_y;     /* top-left of each thumbnail's grid */
    int thumb_cell;                     /* cell size inside a thumbnail */
    int label_h, bar_h;                 /* label row above, weight bar below */
    int weight_y;                       /* top of the row under the bars that prints each weight */
    int label_x[D4_ORDER], label_w;     /* each view's text column (name above, weight below): columns never overlap */
    int status_y, status_h;             /* status line band */
} RenderLayout;

/* Computes the layout of frame f on a w x h surface. Pure; cannot fail. */
void render_layout(RenderLayout *lay, int w, int h, const RenderFrame *f);
/* Surface size that shows a grid of side n at cell pixels per cell, with room
 * for a strip of nviews thumbnails (0 = none) and the status line. */
void render_default_size(int n, int cell, int nviews, int *w, int *h);

typedef struct Render Render;

/* Creates a renderer. font_path NULL looks for DejaVuSans.ttf ($EQUIGRID_FONT
 * first, then the usual system places). A missing font is not an error: text
 * is skipped and render_warning reports it. Returns NULL only if SDL_ttf
 * cannot start or memory runs out, with a message. render_free(NULL) is a no-op. */
Render *render_create(const char *font_path, char *err, size_t errlen);
void render_free(Render *r);
/* A warning to show the user once (e.g. font missing), or NULL; the next call
 * returns NULL. */
const char *render_warning(Render *r);
/* 1 if text can be drawn. */
int render_has_text(const Render *r);

/* Creates a w x h ARGB8888 surface to draw frames on; NULL on failure
 * (message in SDL_GetError). Free with SDL_FreeSurface. */
SDL_Surface *render_surface_create(int w, int h);
/* Draws frame f over the whole of dst (any 32-bit-per-pixel format). Each
 * text adapts to its room: the status line drops words, then the note; a
 * view's weight or score drops digits. Returns 0, or -1 with a message (dst
 * not 32-bit, bad frame). */
int render_frame(Render *r, SDL_Surface *dst, const RenderFrame *f, char *err, size_t errlen);
/* How many texts the last render_frame had to cut or leave out because even
 * their shortest form did not fit (0: every text was drawn whole). */
int render_text_cut(const Render *r);

/* Animated GIF writer: a fixed 256-colour palette holding every drawing
 * colour exactly, nearest-colour mapping for everything else (antialiased
 * text), loops forever (NETSCAPE2.0), only the changed rectangle of each
 * frame is stored. */
typedef struct RenderGif RenderGif;
/* Opens path for w x h frames. Returns NULL with a message. */
RenderGif *render_gif_open(const char *path, int w, int h, char *err, size_t errlen);
/* Appends a frame (a w x h 32-bit surface) shown for delay_cs hundredths of
 * a second (at least 2). Returns 0 or -1 with a message. */
int render_gif_frame(RenderGif *g, SDL_Surface *s, int delay_cs, char *err, size_t errlen);
/* Finishes and closes the file; frees g. Returns 0 or -1 with a message (the
 * file may then be incomplete). NULL is a no-op returning 0. */
int render_gif_close(RenderGif *g, char *err, size_t errlen);
/* Frame delay in hundredths of a second for a frame rate (>= 2, as viewers
 * treat smaller delays as 10). */
int render_gif_delay(int fps);
/* The GIF palette as 0xRRGGBB (256 entries). */
void render_gif_palette(uint32_t pal[256]);

/* Writes s as a PNG file (SDL2_image). Returns 0 or -1 with a message. */
int render_png_save(SDL_Surface *s, const char *path, char *err, size_t errlen);

#endif

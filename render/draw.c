/* draw.c - the frame painter of render.h: layout, cells, agent, Q arrows,
 * view thumbnails, status line and help box on a 32-bit SDL_Surface. Shapes
 * are filled with exact colours by plain span loops (no SDL_gfx, no
 * antialiasing) so frames are fast and GIF palettes stay exact; only text
 * (SDL2_ttf, blended) produces in-between colours. */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#include "../envs/env.h"

const uint32_t render_colors[RC_COUNT] = {
    [RC_BACKGROUND] = 0x1E2127, [RC_FLOOR] = 0xE8E4D8,   [RC_GRIDLINE] = 0xC9C3B3,
    [RC_WALL] = 0x4A5260,       [RC_WALL_EDGE] = 0x363C47, [RC_GOAL] = 0x2FA84F,
    [RC_GOAL_MARK] = 0x1D6E34,  [RC_LAVA] = 0xE4572E,    [RC_LAVA_WAVE] = 0xFFB000,
    [RC_AGENT] = 0x2F6FDB,      [RC_AGENT_RIM] = 0x173B7A, [RC_TEXT] = 0xF0F0F0,
    [RC_TEXT_DIM] = 0xA0A4AC,   [RC_STATUS_BG] = 0x2A2E36, [RC_OUTLINE] = 0x101010,
    [RC_CHOSEN] = 0xFFD23F,     [RC_BAR] = 0x5DA9E9,     [RC_BAR_BG] = 0x3A3F4A,
    [RC_HELP_BG] = 0x15181D,
};

/* red -> yellow -> green, linear in RGB in two halves */
const uint32_t render_gradient[RENDER_GRADIENT] = {
    0xD7301F, 0xDB431E, 0xDE561E, 0xE26A1D, 0xE57D1C, 0xE9901C, 0xEDA31B, 0xF0B61A,
    0xE4BD1E, 0xC7B825, 0xAAB32C, 0x8DAD33, 0x70A83A, 0x54A342, 0x379D49, 0x1A9850,
};

struct Render {
    int ttf_started;          /* we called TTF_Init */
    char font_path[512];      /* "" = no font found */
    TTF_Font *big, *small;    /* status/help font and label font, opened lazily */
    int big_px, small_px;     /* their sizes */
    char warning[600];
    int warned;
    int cut;                  /* texts the last frame cut or left out */
};

/* The surface as uint32 pixels plus every colour mapped to its format. */
typedef struct {
    uint32_t *px;
    int pitch; /* in pixels */
    int w, h;
    uint32_t col[RC_COUNT];
    uint32_t grad[RENDER_GRADIENT];
} Canvas;

static const char *const font_places[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/opt/homebrew/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
};

static int file_readable(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

Render *render_create(const char *font_path, char *err, size_t errlen)
{
    Render *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "render: out of memory");
        return NULL;
    }
    if (!TTF_WasInit()) {
        if (TTF_Init() != 0) {
            snprintf(err, errlen, "render: SDL_ttf failed to start: %s", TTF_GetError());
            free(r);
            return NULL;
        }
        r->ttf_started = 1;
    }
    const char *env = getenv("EQUIGRID_FONT");
    const char *want = font_path ? font_path : (env && env[0] ? env : NULL);
    if (want) {
        if (file_readable(want))
            snprintf(r->font_path, sizeof r->font_path, "%s", want);
        else
            snprintf(r->warning, sizeof r->warning, "font %s not readable; frames are drawn without text", want);
    } else {
        for (size_t i = 0; i < sizeof font_places / sizeof font_places[0]; i++)
            if (file_readable(font_places[i])) {
                snprintf(r->font_path, sizeof r->font_path, "%s", font_places[i]);
                break;
            }
        if (!r->font_path[0])
            snprintf(r->warning, sizeof r->warning,
                     "DejaVuSans.ttf not found (install fonts-dejavu-core or set EQUIGRID_FONT); frames are drawn without text");
    }
    return r;
}

void render_free(Render *r)
{
    if (!r)
        return;
    if (r->big)
        TTF_CloseFont(r->big);
    if (r->small)
        TTF_CloseFont(r->small);
    if (r->ttf_started)
        TTF_Quit();
    free(r);
}

const char *render_warning(Render *r)
{
    if (!r || r->warned || !r->warning[0])
        return NULL;
    r->warned = 1;
    return r->warning;
}

int render_has_text(const Render *r) { return r && r->font_path[0]; }

int render_text_cut(const Render *r) { return r ? r->cut : 0; }

/* Font of px pixels in slot (*font, *cur), reopened when the size changes.
 * On failure the font is dropped for good and a warning is recorded. */
static TTF_Font *font_get(Render *r, TTF_Font **font, int *cur, int px)
{
    if (!r->font_path[0])
        return NULL;
    if (*font && *cur == px)
        return *font;
    if (*font)
        TTF_CloseFont(*font);
    *font = TTF_OpenFont(r->font_path, px);
    *cur = px;
    if (!*font) {
        snprintf(r->warning, sizeof r->warning, "cannot open font %s: %s; frames are drawn without text", r->font_path,
                 TTF_GetError());
        r->warned = 0;
        r->font_path[0] = '\0';
    }
    return *font;
}

SDL_Surface *render_surface_create(int w, int h)
{
    return SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
}

/* ---- layout ---- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static int status_height(int w) { return clampi(w / 22, 16, 26); }

enum { PAD = 4 };

/* Thumbnail geometry for nv views of an n-grid on a surface w wide with at
 * most avail_h pixels for the strip body; 0 cell when they do not fit. */
static void thumb_geometry(int w, int avail_h, int n, int nv, int *cell, int *label_h, int *bar_h)
{
    int thumb = (w - PAD * (nv + 1)) / nv;
    if (thumb > avail_h)
        thumb = avail_h;
    *cell = thumb > 0 ? thumb / n : 0;
    int px = *cell * n;
    *label_h = clampi(px / 4, 10, 14);
    *bar_h = clampi(px / 10, 3, 6);
}

void render_layout(RenderLayout *lay, int w, int h, const RenderFrame *f)
{
    memset(lay, 0, sizeof *lay);
    int n = f->n > 0 ? f->n : 1;
    lay->status_h = status_height(w);
    lay->status_y = h - lay->status_h;
    int bottom = lay->status_y; /* grid area ends here */
    if (f->show_views && f->q && f->q->nviews > 1 && f->q->nviews <= D4_ORDER) {
        int nv = f->q->nviews, tc, lh, bh;
        thumb_geometry(w, (h - lay->status_h) / 4, n, nv, &tc, &lh, &bh);
        if (tc >= 1) {
            int px = tc * n, strip_h = lh + px + bh + lh + 4 * PAD;
            lay->nthumbs = nv;
            lay->thumb_cell = tc;
            lay->label_h = lh;
            lay->bar_h = bh;
            bottom = lay->status_y - strip_h;
            lay->thumb_y = bottom + PAD + lh;
            lay->weight_y = lay->thumb_y + px + PAD + bh + PAD / 2;
            lay->label_w = (int)((long)w / nv) - PAD;
            for (int i = 0; i < nv; i++) {
                lay->thumb_x[i] = (int)((long)w * i / nv) + ((int)((long)w / nv) - px) / 2;
                lay->label_x[i] = (int)((long)w * i / nv) + PAD / 2;
            }
        }
    }
    int cw = (w - 2 * PAD) / n, ch = (bottom - 2 * PAD) / n;
    lay->cell = cw < ch ? cw : ch;
    if (lay->cell < 1)
        lay->cell = 1;
    lay->grid_x = (w - lay->cell * n) / 2;
    lay->grid_y = (bottom - lay->cell * n) / 2;
}

void render_default_size(int n, int cell, int nviews, int *w, int *h)
{
    int W = n * cell + 2 * PAD;
    if (W < 400)
        W = 400;
    int H = n * cell + 2 * PAD + status_height(W);
    if (nviews > 1) {
        int tc, lh, bh;
        thumb_geometry(W, 1 << 20, n, nviews, &tc, &lh, &bh);
        if (tc >= 1)
            H += lh + tc * n + bh + lh + 4 * PAD;
    }
    *w = W;
    *h = H;
}

/* ---- primitives (all clip to the canvas) ---- */

static void fill_rect(Canvas *cv, int x, int y, int w, int h, uint32_t c)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > cv->w ? cv->w : x + w, y1 = y + h > cv->h ? cv->h : y + h;
    for (int yy = y0; yy < y1; yy++) {
        uint32_t *row = cv->px + (size_t)yy * (size_t)cv->pitch;
        for (int xx = x0; xx < x1; xx++)
            row[xx] = c;
    }
}

/* A frame of thickness t just inside the rectangle. */
static void frame_rect(Canvas *cv, int x, int y, int w, int h, int t, uint32_t c)
{
    fill_rect(cv, x, y, w, t, c);
    fill_rect(cv, x, y + h - t, w, t, c);
    fill_rect(cv, x, y, t, h, c);
    fill_rect(cv, x + w - t, y, t, h, c);
}

/* Filled disc of radius rad (pixels) centred at (cx2/2, cy2/2): the centre
 * is given in half pixels so that a cell of odd or even size centres it
 * exactly; pixel (x, y) is in when its centre (x + .5, y + .5) is. */
static void fill_disc(Canvas *cv, int cx2, int cy2, float rad, uint32_t c)
{
    int y0 = (int)floorf((cy2 - 2 * rad) / 2.0f), y1 = (int)ceilf((cy2 + 2 * rad) / 2.0f);
    for (int y = y0; y <= y1; y++) {
        float dy = (float)y + 0.5f - cy2 / 2.0f;
        float s = rad * rad - dy * dy;
        if (s < 0)
            continue;
        float hw = sqrtf(s);
        int xa = (int)ceilf(cx2 / 2.0f - hw - 0.5f), xb = (int)floorf(cx2 / 2.0f + hw - 0.5f);
        if (xb >= xa)
            fill_rect(cv, xa, y, xb - xa + 1, 1, c);
    }
}

/* ---- the grid ---- */

static void draw_cell(Canvas *cv, int x, int y, int s, uint8_t cell, int gridlines)
{
    if (cell & CELL_WALL) {
        fill_rect(cv, x, y, s, s, cv->col[RC_WALL]);
        if (gridlines)
            fill_rect(cv, x, y + s - 1, s, 1, cv->col[RC_WALL_EDGE]);
        return;
    }
    if (cell & CELL_LAVA) {
        fill_rect(cv, x, y, s, s, cv->col[RC_LAVA]);
        if (s >= 8) {
            /* two zigzag waves at 1/4 and 3/4 height; the centre stays RC_LAVA */
            int amp = s / 16 > 0 ? s / 16 : 1, th = s / 14 > 0 ? s / 14 : 1, period = s / 2 > 2 ? s / 2 : 2;
            for (int band = 1; band <= 3; band += 2)
                for (int dx = 0; dx < s; dx++) {
                    int ph = dx % period, tri = ph < period / 2 ? ph : period - ph; /* 0..period/2 */
                    int off = tri * 2 * amp / (period / 2 > 0 ? period / 2 : 1) - amp;
                    fill_rect(cv, x + dx, y + band * s / 4 + off - th / 2, 1, th, cv->col[RC_LAVA_WAVE]);
                }
        }
        return;
    }
    fill_rect(cv, x, y, s, s, cv->col[RC_FLOOR]);
    if (gridlines) {
        fill_rect(cv, x, y, s, 1, cv->col[RC_GRIDLINE]);
        fill_rect(cv, x, y, 1, s, cv->col[RC_GRIDLINE]);
    }
    if (cell & CELL_GOAL) {
        if (s >= 6) {
            int in = s / 8, rim = s / 16 > 0 ? s / 16 : 1;
            fill_rect(cv, x + in, y + in, s - 2 * in, s - 2 * in, cv->col[RC_GOAL_MARK]);
            fill_rect(cv, x + in + rim, y + in + rim, s - 2 * (in + rim), s - 2 * (in + rim), cv->col[RC_GOAL]);
        } else {
            fill_rect(cv, x, y, s, s, cv->col[RC_GOAL]);
        }
    }
}

static void draw_agent(Canvas *cv, int x, int y, int s)
{
    if (s < 8) { /* too small for a disc to read as one: a square */
        int in = s / 5;
        fill_rect(cv, x + in, y + in, s - 2 * in, s - 2 * in, cv->col[RC_AGENT]);
        return;
    }
    float rad = 0.36f * (float)s, rim = s / 12 > 0 ? (float)(s / 12) : 1.0f;
    fill_disc(cv, 2 * x + s, 2 * y + s, rad, cv->col[RC_AGENT_RIM]);
    fill_disc(cv, 2 * x + s, 2 * y + s, rad - rim, cv->col[RC_AGENT]);
}

static void draw_grid(Canvas *cv, int x0, int y0, int s, int n, const uint8_t *layout, int agent)
{
    int gridlines = s >= 8;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            draw_cell(cv, x0 + c * s, y0 + r * s, s, layout[r * n + c], gridlines);
    if (agent >= 0 && agent < n * n)
        draw_agent(cv, x0 + (agent % n) * s, y0 + (agent / n) * s, s);
}

/* ---- Q arrows ---- */

static const int dir_dx[4] = {0, 1, 0, -1}, dir_dy[4] = {-1, 0, 1, 0}; /* UP RIGHT DOWN LEFT on screen */

/* Fills the cells at distance u (pixels, along direction d from (cx, cy))
 * and v in [vlo, vhi] across it. */
static void span_dir(Canvas *cv, int d, int cx, int cy, int u, int vlo, int vhi, uint32_t c)
{
    if (vhi < vlo)
        return;
    if (dir_dx[d] != 0)
        fill_rect(cv, cx + dir_dx[d] * u, cy + vlo, 1, vhi - vlo + 1, c);
    else
        fill_rect(cv, cx + vlo, cy + dir_dy[d] * u, vhi - vlo + 1, 1, c);
}

/* Arrow from distance u0 to u0 + len along d: shaft of half width hw, head of
 * half width hh and length hl; grown by o pixels on every side. */
static void arrow(Canvas *cv, int d, int cx, int cy, int u0, int len, int hw, int hh, int hl, int o, uint32_t c)
{
    int ushaft = u0 + len - hl;
    for (int u = u0 - o; u < ushaft; u++)
        span_dir(cv, d, cx, cy, u, -hw - o, hw + o, c);
    for (int u = ushaft; u < u0 + len + 2 * o; u++) {
        int k = u - ushaft, width = hh + o - (int)((long)(hh + o) * k / (hl + 2 * o));
        span_dir(cv, d, cx, cy, u, -width, width, c);
    }
}

static void draw_q(Canvas *cv, const RenderLayout *lay, const RenderFrame *f)
{
    const RenderQ *q = f->q;
    int A = q->A > RENDER_MAX_ACTIONS ? RENDER_MAX_ACTIONS : q->A;
    if (A <= 0 || f->agent < 0 || f->agent >= f->n * f->n)
        return;
    float lo = q->q[0], hi = q->q[0];
    int best = 0;
    for (int a = 1; a < A; a++) {
        if (q->q[a] < lo)
            lo = q->q[a];
        if (q->q[a] > hi) {
            hi = q->q[a];
            best = a;
        }
    }
    int s = lay->cell;
    int cx = lay->grid_x + (f->agent % f->n) * s + s / 2, cy = lay->grid_y + (f->agent / f->n) * s + s / 2;
    int o = s / 24 > 1 ? s / 24 : 1;
    for (int pass = 0; pass < 2; pass++) /* the greedy arrow last so it is on top */
        for (int a = 0; a < A; a++) {
            if ((a == best) != (pass == 1))
                continue;
            float t = hi - lo > 1e-12f ? (q->q[a] - lo) / (hi - lo) : 1.0f;
            if (!(t >= 0.0f))
                t = 0.0f; /* NaN */
            if (t > 1.0f)
                t = 1.0f;
            uint32_t c = cv->grad[(int)lroundf(t * (RENDER_GRADIENT - 1))];
            if (a == 4) { /* STAY: a square on the agent, side grows with t */
                int side = (int)((0.10f + 0.22f * t) * (float)s) | 1;
                if (a == best)
                    fill_rect(cv, cx - side / 2 - o, cy - side / 2 - o, side + 2 * o, side + 2 * o, cv->col[RC_OUTLINE]);
                fill_rect(cv, cx - side / 2, cy - side / 2, side, side, c);
                continue;
            }
            int u0 = (int)(0.30f * (float)s);
            int len = (int)((0.25f + 0.85f * t) * (float)s);
            int hw = (int)((0.03f + 0.05f * t) * (float)s), hh = (int)((0.10f + 0.12f * t) * (float)s);
            int hl = (int)(0.45f * (float)len);
            if (len < 3)
                len = 3;
            if (hl < 2)
                hl = 2;
            if (hh < hw + 1)
                hh = hw + 1;
            if (a == best)
                arrow(cv, a, cx, cy, u0, len, hw, hh, hl, o, cv->col[RC_OUTLINE]);
            arrow(cv, a, cx, cy, u0, len, hw, hh, hl, 0, c);
        }
}

/* ---- view strip ---- */

static void draw_views(Canvas *cv, const RenderLayout *lay, const RenderFrame *f, uint8_t *tmp)
{
    const RenderQ *q = f->q;
    int n = f->n, tc = lay->thumb_cell, px = tc * n;
    float wmax = 0.0f;
    for (int i = 0; i < lay->nthumbs; i++)
        if (q->weight[i] > wmax)
            wmax = q->weight[i];
    for (int i = 0; i < lay->nthumbs; i++) {
        int g = q->elem[i] & 7, x = lay->thumb_x[i], y = lay->thumb_y;
        group_bytes(tmp, f->layout, g, n);
        int agent = -1;
        if (f->agent >= 0 && f->agent < n * n) {
            int r2, c2;
            d4_cell(g, n, f->agent / n, f->agent % n, &r2, &c2);
            agent = r2 * n + c2;
        }
        int bw = tc >= 6 ? 3 : 2;
        if (i == q->chosen)
            frame_rect(cv, x - bw - 1, y - bw - 1, px + 2 * bw + 2, px + 2 * bw + 2, bw, cv->col[RC_CHOSEN]);
        else
            frame_rect(cv, x - 1, y - 1, px + 2, px + 2, 1, cv->col[RC_GRIDLINE]);
        draw_grid(cv, x, y, tc, n, tmp, agent);
        /* the view's own greedy move, as that view sees it: rho(h)(argmax_a view_q[i][a]) */
        int A = q->A > RENDER_MAX_ACTIONS ? RENDER_MAX_ACTIONS : q->A;
        if (A > 0 && agent >= 0 && tc >= 4) {
            int best = 0;
            for (int a = 1; a < A; a++)
                if (q->view_q[i][a] > q->view_q[i][best])
                    best = a;
            if (best < 4) {
                int d = d4_action(g, best), len = tc * 9 / 10, hh = tc / 4 > 1 ? tc / 4 : 1;
                arrow(cv, d, x + (agent % n) * tc + tc / 2, y + (agent / n) * tc + tc / 2, tc / 4, len, tc / 12, hh,
                      len / 2 > 1 ? len / 2 : 1, 0, cv->grad[RENDER_GRADIENT - 1]);
            }
        }
        int by = y + px + PAD;
        fill_rect(cv, x, by, px, lay->bar_h, cv->col[RC_BAR_BG]);
        float w = q->weight[i];
        int len = wmax > 0.0f && w > 0.0f ? (int)lroundf((float)px * w / wmax) : 0;
        fill_rect(cv, x, by, len > px ? px : len, lay->bar_h, cv->col[RC_BAR]);
    }
}

/* ---- text ---- */

static int blit_text(SDL_Surface *dst, TTF_Font *font, const char *text, int x, int y, uint32_t rgb, int maxw)
{
    if (!font || !text[0])
        return 0;
    SDL_Color c = {(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
    SDL_Surface *t = TTF_RenderUTF8_Blended(font, text, c);
    if (!t)
        return -1;
    SDL_Rect src = {0, 0, t->w < maxw ? t->w : maxw, t->h}, at = {x, y, 0, 0};
    int rc = SDL_BlitSurface(t, &src, dst, &at);
    SDL_FreeSurface(t);
    return rc;
}

static int text_width(TTF_Font *font, const char *text)
{
    int w = 0, h = 0;
    if (!font || TTF_SizeUTF8(font, text, &w, &h) != 0)
        return 0;
    return w;
}

/* The status line at a level of compactness: 0 in words, 1 abbreviated, 2
 * the numbers and the note, 3 the numbers only (STATUS_LEVELS in all). */
enum { STATUS_LEVELS = 4 };
static void status_text(char *buf, size_t len, const RenderFrame *f, int compact)
{
    char steps[32] = "";
    if (f->max_steps > 0)
        snprintf(steps, sizeof steps, "/%d", f->max_steps);
    int k;
    if (compact >= 2)
        k = snprintf(buf, len, "ep %ld t %d R %.2f", f->episode, f->step, (double)f->ret);
    else
        k = snprintf(buf, len, compact ? "ep %ld  t %d%s  R %.2f  goals %ld/%ld" : "episode %ld | step %d%s | return %.2f | successes %ld/%ld",
                     f->episode, f->step, steps, (double)f->ret, f->successes, f->finished);
    if (compact < 3 && k > 0 && (size_t)k < len && f->note && f->note[0])
        snprintf(buf + k, len - (size_t)k, compact == 0 ? " | %s" : "  %s", f->note);
}

/* View i's weight (canonical: its score) at a precision level, 0 the most
 * precise; returns 0 when there is no shorter form. */
static int weight_text(char *buf, size_t len, const RenderQ *q, int i, int level)
{
    static const char *const weight_fmt[] = {"%.2f", "%.1f"};
    static const char *const score_fmt[] = {"s%+.2f", "%+.2f", "%+.1f", "%+.0f"};
    int nlev = q->has_score ? 4 : 2;
    if (level >= nlev)
        return 0;
    snprintf(buf, len, q->has_score ? score_fmt[level] : weight_fmt[level], (double)(q->has_score ? q->score[i] : q->weight[i]));
    return 1;
}

static int lock(SDL_Surface *s) { return SDL_MUSTLOCK(s) ? SDL_LockSurface(s) : 0; }
static void unlock(SDL_Surface *s)
{
    if (SDL_MUSTLOCK(s))
        SDL_UnlockSurface(s);
}

static void canvas_init(Canvas *cv, SDL_Surface *dst)
{
    cv->px = dst->pixels;
    cv->pitch = dst->pitch / 4;
    cv->w = dst->w;
    cv->h = dst->h;
    for (int i = 0; i < RC_COUNT; i++)
        cv->col[i] = SDL_MapRGB(dst->format, (Uint8)(render_colors[i] >> 16), (Uint8)(render_colors[i] >> 8),
                                (Uint8)render_colors[i]);
    for (int i = 0; i < RENDER_GRADIENT; i++)
        cv->grad[i] = SDL_MapRGB(dst->format, (Uint8)(render_gradient[i] >> 16), (Uint8)(render_gradient[i] >> 8),
                                 (Uint8)render_gradient[i]);
}

/* The status line, in the most words that fit. */
static int draw_status(Render *r, SDL_Surface *dst, TTF_Font *big, const RenderLayout *lay, const RenderFrame *f)
{
    if (!big)
        return 0;
    char line[512];
    int room = dst->w - 12;
    for (int compact = 0; compact < STATUS_LEVELS; compact++) {
        status_text(line, sizeof line, f, compact);
        if (text_width(big, line) <= room)
            break;
    }
    r->cut += text_width(big, line) > room;
    int th = TTF_FontHeight(big);
    return blit_text(dst, big, line, 6, lay->status_y + (lay->status_h - th) / 2, render_colors[RC_TEXT], room);
}

/* Draws text in column [col, col + w) at y, from x0 if it fits there, else
 * from the column's left edge; counts it as cut when it does not fit. */
static int column_text(Render *r, SDL_Surface *dst, TTF_Font *font, const char *text, int x0, int col, int w, int y, uint32_t c)
{
    int tw = text_width(font, text);
    if (tw > w) {
        r->cut++;
        return 0;
    }
    return blit_text(dst, font, text, x0 + tw <= col + w ? x0 : col, y, c, w);
}

/* Places n texts of widths wd[i] on one line, each as near its centre ce[i]
 * as the others allow, in order, gap pixels apart, within [lo, hi): their
 * left edges into x. Returns 0, or -1 when they do not fit side by side. */
static int pack_line(int n, const int *ce, const int *wd, int lo, int hi, int gap, int *x)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += wd[i] + (i ? gap : 0);
    if (total > hi - lo)
        return -1;
    for (int i = 0; i < n; i++) {
        x[i] = ce[i] - wd[i] / 2;
        int min = i ? x[i - 1] + wd[i - 1] + gap : lo;
        x[i] = x[i] < min ? min : x[i];
    }
    for (int i = n - 1; i >= 0; i--) {
        int max = i + 1 < n ? x[i + 1] - gap - wd[i] : hi - wd[i];
        x[i] = x[i] > max ? max : x[i];
    }
    return 0;
}

/* A view's labels: the chosen view's colour, else the dim text colour. */
static uint32_t label_colour(const RenderQ *q, int i) { return i == q->chosen ? render_colors[RC_CHOSEN] : render_colors[RC_TEXT_DIM]; }

/* The views' names above the strip: each in its own column when all fit
 * there, else packed side by side near their views; counted as cut when
 * even that leaves no room. */
static int draw_view_names(Render *r, SDL_Surface *dst, TTF_Font *small, const RenderLayout *lay, const RenderQ *q)
{
    int wd[D4_ORDER], ce[D4_ORDER], x[D4_ORDER], fit = 1, rc = 0;
    for (int i = 0; i < lay->nthumbs; i++) {
        wd[i] = text_width(small, d4_name(q->elem[i] & 7));
        fit &= wd[i] <= lay->label_w;
    }
    int y = lay->thumb_y - lay->label_h - PAD;
    for (int i = 0; fit && i < lay->nthumbs; i++)
        rc |= column_text(r, dst, small, d4_name(q->elem[i] & 7), lay->thumb_x[i], lay->label_x[i], lay->label_w, y, label_colour(q, i));
    if (fit)
        return rc;
    for (int i = 0; i < lay->nthumbs; i++)
        ce[i] = lay->label_x[i] + lay->label_w / 2;
    if (pack_line(lay->nthumbs, ce, wd, 2, dst->w - 2, 3, x) != 0) {
        r->cut += lay->nthumbs;
        return 0;
    }
    for (int i = 0; i < lay->nthumbs; i++)
        rc |= blit_text(dst, small, d4_name(q->elem[i] & 7), x[i], y, label_colour(q, i), wd[i]);
    return rc;
}

/* Each view's name above it and its weight (canonical: its score) under its
 * bar, in the view's own column, the weight with as many digits as fit. */
static int draw_view_labels(Render *r, SDL_Surface *dst, const RenderLayout *lay, const RenderFrame *f)
{
    TTF_Font *small = font_get(r, &r->small, &r->small_px, clampi(lay->label_h - 2, 8, 12));
    if (!small)
        return 0;
    int rc = draw_view_names(r, dst, small, lay, f->q);
    for (int i = 0; i < lay->nthumbs; i++) {
        char weight[16];
        for (int level = 0; weight_text(weight, sizeof weight, f->q, i, level); level++)
            if (text_width(small, weight) <= lay->label_w)
                break;
        rc |= column_text(r, dst, small, weight, lay->thumb_x[i], lay->label_x[i], lay->label_w, lay->weight_y, label_colour(f->q, i));
    }
    return rc;
}

/* The help box, centred over the board (lines wider than the surface are cut). */
static int draw_help(Render *r, SDL_Surface *dst, TTF_Font *big, const RenderLayout *lay, const RenderFrame *f)
{
    int th = TTF_FontLineSkip(big), bw = 0, rc = 0;
    for (int i = 0; i < f->nhelp; i++) {
        int w = text_width(big, f->help[i]);
        bw = w > bw ? w : bw;
    }
    bw += 4 * PAD;
    int bh = th * f->nhelp + 4 * PAD;
    int bx = (dst->w - bw) / 2 > 0 ? (dst->w - bw) / 2 : 0, by = (lay->status_y - bh) / 2 > 0 ? (lay->status_y - bh) / 2 : 0;
    if (lock(dst) == 0) {
        Canvas cv;
        canvas_init(&cv, dst);
        fill_rect(&cv, bx, by, bw, bh, cv.col[RC_HELP_BG]);
        frame_rect(&cv, bx, by, bw, bh, 2, cv.col[RC_CHOSEN]);
        unlock(dst);
    }
    for (int i = 0; i < f->nhelp; i++) {
        r->cut += bx + 2 * PAD + text_width(big, f->help[i]) > dst->w;
        rc |= blit_text(dst, big, f->help[i], bx + 2 * PAD, by + 2 * PAD + i * th, render_colors[RC_TEXT], bw);
    }
    return rc;
}

int render_frame(Render *r, SDL_Surface *dst, const RenderFrame *f, char *err, size_t errlen)
{
    if (!dst || dst->format->BytesPerPixel != 4) {
        snprintf(err, errlen, "render: the target surface must have 32 bits per pixel");
        return -1;
    }
    if (f->n < 1 || f->n > ENV_MAX_N || !f->layout) {
        snprintf(err, errlen, "render: grid side %d outside 1..%d or no layout", f->n, ENV_MAX_N);
        return -1;
    }
    RenderLayout lay;
    render_layout(&lay, dst->w, dst->h, f);
    if (lock(dst) != 0) {
        snprintf(err, errlen, "render: cannot lock surface: %s", SDL_GetError());
        return -1;
    }
    Canvas cv;
    canvas_init(&cv, dst);
    uint8_t tmp[ENV_MAX_CELLS];
    fill_rect(&cv, 0, 0, cv.w, lay.status_y, cv.col[RC_BACKGROUND]);
    fill_rect(&cv, 0, lay.status_y, cv.w, lay.status_h, cv.col[RC_STATUS_BG]);
    draw_grid(&cv, lay.grid_x, lay.grid_y, lay.cell, f->n, f->layout, f->agent);
    if (f->show_q && f->q)
        draw_q(&cv, &lay, f);
    if (lay.nthumbs > 0)
        draw_views(&cv, &lay, f, tmp);
    unlock(dst);

    r->cut = 0;
    TTF_Font *big = font_get(r, &r->big, &r->big_px, clampi(lay.status_h * 2 / 3, 9, 20));
    int rc = draw_status(r, dst, big, &lay, f);
    if (lay.nthumbs > 0)
        rc |= draw_view_labels(r, dst, &lay, f);
    if (f->help && f->nhelp > 0 && big)
        rc |= draw_help(r, dst, big, &lay, f);
    if (rc != 0) {
        snprintf(err, errlen, "render: drawing text failed: %s", SDL_GetError());
        return -1;
    }
    return 0;
}

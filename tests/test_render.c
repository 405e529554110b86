/* test_render.c - the render module: cell colours at cell centres, scaling
 * with aspect kept, Q arrows whose sizes follow the Q-values, the view strip
 * (transformed thumbnails, weight bars, equizero's frame), text, GIF frames
 * read back with DGifSlurp, PNGs read back with IMG_Load, key scripts, and
 * the equigrid binary's play/record/no-display paths (under xvfb-run). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <SDL_image.h>
#include <gif_lib.h>

#include "../core/clock.h"
#include "../envs/env.h"
#include "../render/render.h"
#include "../render/window.h"
#include "check_main.h"

enum { N = 7 };

/* A 7x7 room: border walls, goal (1,5), lava (3,3), agent (5,1). */
static void make_layout(uint8_t *layout, int *agent)
{
    for (int r = 0; r < N; r++)
        for (int c = 0; c < N; c++)
            layout[r * N + c] = (r == 0 || c == 0 || r == N - 1 || c == N - 1) ? CELL_WALL : 0;
    layout[1 * N + 5] = CELL_GOAL;
    layout[3 * N + 3] = CELL_LAVA;
    *agent = 5 * N + 1;
}

static RenderFrame make_frame(const uint8_t *layout, int agent)
{
    RenderFrame f;
    memset(&f, 0, sizeof f);
    f.n = N;
    f.layout = layout;
    f.agent = agent;
    f.episode = 1;
    f.step = 3;
    f.max_steps = 28;
    f.ret = 0.25f;
    return f;
}

static uint32_t pixel(SDL_Surface *s, int x, int y)
{
    uint32_t p = ((uint32_t *)((uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch))[x];
    Uint8 r, g, b;
    SDL_GetRGB(p, s->format, &r, &g, &b);
    return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

static void cell_centre(const RenderLayout *lay, int r, int c, int *x, int *y)
{
    *x = lay->grid_x + c * lay->cell + lay->cell / 2;
    *y = lay->grid_y + r * lay->cell + lay->cell / 2;
}

static Render *new_render(void)
{
    char err[512];
    Render *r = render_create(NULL, err, sizeof err);
    ck_assert_msg(r != NULL, "render_create failed: %s", err);
    return r;
}

static void draw(Render *r, SDL_Surface *s, const RenderFrame *f)
{
    char err[512];
    ck_assert_msg(render_frame(r, s, f, err, sizeof err) == 0, "render_frame failed: %s", err);
}

static void check_cells(SDL_Surface *s, const RenderFrame *f)
{
    RenderLayout lay;
    render_layout(&lay, s->w, s->h, f);
    static const struct {
        int r, c;
        RenderColor want;
        const char *what;
    } probes[] = {
        {0, 0, RC_WALL, "wall"}, {0, 3, RC_WALL, "wall"}, {2, 2, RC_FLOOR, "floor"}, {4, 5, RC_FLOOR, "floor"},
        {1, 5, RC_GOAL, "goal"}, {3, 3, RC_LAVA, "lava"}, {5, 1, RC_AGENT, "agent"},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int x, y;
        cell_centre(&lay, probes[i].r, probes[i].c, &x, &y);
        uint32_t got = pixel(s, x, y);
        ck_assert_msg(got == render_colors[probes[i].want], "%dx%d: %s cell (%d,%d) centre is %06x, expected %06x", s->w,
                      s->h, probes[i].what, probes[i].r, probes[i].c, got, render_colors[probes[i].want]);
    }
}

START_TEST(test_cell_colours)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    Render *r = new_render();
    static const int sizes[][2] = {{400, 420}, {517, 300}, {260, 700}, {90, 90}};
    for (size_t i = 0; i < 4; i++) {
        SDL_Surface *s = render_surface_create(sizes[i][0], sizes[i][1]);
        ck_assert_msg(s != NULL, "surface: %s", SDL_GetError());
        draw(r, s, &f);
        check_cells(s, &f);
        SDL_FreeSurface(s);
    }
    /* the surface format does not matter as long as it has 32 bits */
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 300, 330, 32, SDL_PIXELFORMAT_ABGR8888);
    draw(r, s, &f);
    check_cells(s, &f);
    SDL_FreeSurface(s);
    /* 16-bit surfaces are refused with a message */
    s = SDL_CreateRGBSurfaceWithFormat(0, 100, 100, 16, SDL_PIXELFORMAT_RGB565);
    char err[256] = "";
    ck_assert_msg(render_frame(r, s, &f, err, sizeof err) == -1 && strstr(err, "32 bits"), "16-bit target accepted: '%s'", err);
    SDL_FreeSurface(s);
    render_free(r);
}
END_TEST

START_TEST(test_layout_scaling)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    static const int sizes[][2] = {{400, 420}, {800, 300}, {300, 800}, {1000, 1000}, {64, 40}};
    for (size_t i = 0; i < 5; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        RenderLayout lay;
        render_layout(&lay, w, h, &f);
        int gh = lay.status_y, best = (w - 8) / N < (gh - 8) / N ? (w - 8) / N : (gh - 8) / N;
        if (best < 1)
            best = 1;
        ck_assert_msg(lay.cell == best, "%dx%d: cell %d, expected min of both sides' fit %d", w, h, lay.cell, best);
        int left = lay.grid_x, right = w - (lay.grid_x + N * lay.cell);
        int top = lay.grid_y, bottom = gh - (lay.grid_y + N * lay.cell);
        ck_assert_msg(abs(left - right) <= 1 && abs(top - bottom) <= 1, "%dx%d: grid not centred: margins l%d r%d t%d b%d",
                      w, h, left, right, top, bottom);
        ck_assert_msg(lay.status_y + lay.status_h == h, "%dx%d: status band does not end at the bottom", w, h);
    }
    /* the default size fits the grid at the requested cell size, with and without views */
    for (int nv = 0; nv <= 8; nv += 8) {
        RenderQ q;
        memset(&q, 0, sizeof q);
        q.nviews = nv;
        f.q = &q;
        f.show_views = 1;
        int w, h;
        render_default_size(N, 48, nv, &w, &h);
        RenderLayout lay;
        render_layout(&lay, w, h, &f);
        ck_assert_msg(lay.cell == 48, "default size %dx%d with %d views gives cell %d, expected 48", w, h, nv, lay.cell);
        ck_assert_msg(lay.nthumbs == (nv > 1 ? nv : 0), "default size with %d views shows %d thumbnails", nv, lay.nthumbs);
    }
}
END_TEST

/* Pixels that differ between a and b, per screen direction from (cx, cy):
 * UP, RIGHT, DOWN, LEFT sectors (|dx| <= |dy| for vertical ones). */
static void diff_sectors(SDL_Surface *a, SDL_Surface *b, int cx, int cy, int radius, long count[4])
{
    memset(count, 0, 4 * sizeof count[0]);
    for (int y = cy - radius; y <= cy + radius; y++)
        for (int x = cx - radius; x <= cx + radius; x++) {
            if (x < 0 || y < 0 || x >= a->w || y >= a->h || pixel(a, x, y) == pixel(b, x, y))
                continue;
            int dx = x - cx, dy = y - cy;
            if (abs(dx) <= abs(dy))
                count[dy < 0 ? 0 : 2]++;
            else
                count[dx > 0 ? 1 : 3]++;
        }
}

static long count_colour(SDL_Surface *s, int x0, int y0, int x1, int y1, uint32_t rgb)
{
    long n = 0;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < s->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < s->w; x++)
            n += pixel(s, x, y) == rgb;
    return n;
}

typedef struct {
    int x0, y0, x1, y1;
} Box;

/* The band an arrow in direction d (UP RIGHT DOWN LEFT) from (cx, cy) can
 * occupy: from 0.3 cell (where arrows start) to 2 cells out, half a cell
 * either side. */
static Box sector_box(int cx, int cy, int cell, int d)
{
    int near = cell * 3 / 10, far = 2 * cell, side = cell / 2;
    Box b;
    switch (d) {
    case 0: b = (Box){cx - side, cy - far, cx + side, cy - near}; break;
    case 1: b = (Box){cx + near, cy - side, cx + far, cy + side}; break;
    case 2: b = (Box){cx - side, cy + near, cx + side, cy + far}; break;
    default: b = (Box){cx - far, cy - side, cx - near, cy + side}; break;
    }
    return b;
}

START_TEST(test_q_arrows)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    layout[5 * N + 1] = 0;
    agent = 3 * N + 2; /* near the middle so every arrow has room */
    layout[3 * N + 3] = 0;
    RenderFrame f = make_frame(layout, agent);
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.chosen = -1;
    static const float vals[][4] = {{0.1f, 1.0f, 0.5f, 0.2f}, {-3.0f, -1.0f, -2.5f, -0.5f}, {2.0f, 0.0f, 1.0f, 1.5f}};
    Render *r = new_render();
    SDL_Surface *plain = render_surface_create(420, 440), *with = render_surface_create(420, 440);
    draw(r, plain, &f);
    for (int k = 0; k < 3; k++) {
        memcpy(q.q, vals[k], sizeof vals[k]);
        f.q = &q;
        f.show_q = 1;
        draw(r, with, &f);
        RenderLayout lay;
        render_layout(&lay, with->w, with->h, &f);
        int cx, cy;
        cell_centre(&lay, 3, 2, &cx, &cy);
        long cnt[4];
        diff_sectors(plain, with, cx, cy, 2 * lay.cell, cnt);
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                if (vals[k][a] > vals[k][b])
                    ck_assert_msg(cnt[a] > cnt[b], "case %d: q[%d]=%g > q[%d]=%g but arrow pixels %ld <= %ld", k, a,
                                  (double)vals[k][a], b, (double)vals[k][b], cnt[a], cnt[b]);
        /* colours: the best arrow carries the top gradient colour and an outline, the worst the bottom one */
        int best = 0, worst = 0;
        for (int a = 1; a < 4; a++) {
            best = vals[k][a] > vals[k][best] ? a : best;
            worst = vals[k][a] < vals[k][worst] ? a : worst;
        }
        Box bb = sector_box(cx, cy, lay.cell, best), wb = sector_box(cx, cy, lay.cell, worst);
        ck_assert_msg(count_colour(with, bb.x0, bb.y0, bb.x1, bb.y1, render_gradient[RENDER_GRADIENT - 1]) > 20,
                      "case %d: greedy arrow %d lacks the top gradient colour", k, best);
        ck_assert_msg(count_colour(with, bb.x0, bb.y0, bb.x1, bb.y1, render_colors[RC_OUTLINE]) > 10,
                      "case %d: greedy arrow %d is not outlined", k, best);
        ck_assert_msg(count_colour(with, wb.x0, wb.y0, wb.x1, wb.y1, render_gradient[0]) > 5,
                      "case %d: worst arrow %d lacks the bottom gradient colour", k, worst);
        ck_assert_msg(count_colour(with, wb.x0, wb.y0, wb.x1, wb.y1, render_colors[RC_OUTLINE]) == 0,
                      "case %d: a non-greedy arrow %d is outlined", k, worst);
    }
    /* show_q off draws no arrows even with Q data */
    f.show_q = 0;
    draw(r, with, &f);
    ck_assert_msg(memcmp(plain->pixels, with->pixels, (size_t)plain->pitch * (size_t)plain->h) == 0,
                  "show_q = 0 still changed pixels");
    /* STAY (A = 5): the square on the agent grows with its value */
    q.A = 5;
    float v4[5] = {0.0f, 0.0f, 0.0f, 0.0f, 1.0f};
    memcpy(q.q, v4, sizeof v4);
    f.show_q = 1;
    draw(r, with, &f);
    RenderLayout lay;
    render_layout(&lay, with->w, with->h, &f);
    int cx, cy;
    cell_centre(&lay, 3, 2, &cx, &cy);
    ck_assert_msg(pixel(with, cx, cy) == render_gradient[RENDER_GRADIENT - 1], "best STAY square not at the agent centre");
    SDL_FreeSurface(plain);
    SDL_FreeSurface(with);
    render_free(r);
}
END_TEST

START_TEST(test_view_strip)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.nviews = 8;
    q.chosen = 3;
    static const float w[8] = {0.30f, 0.05f, 0.10f, 0.20f, 0.05f, 0.10f, 0.15f, 0.05f};
    for (int i = 0; i < 8; i++) {
        q.elem[i] = i;
        q.weight[i] = w[i];
    }
    f.q = &q;
    f.show_views = 1;
    int W, H;
    render_default_size(N, 40, 8, &W, &H);
    SDL_Surface *s = render_surface_create(W, H);
    Render *r = new_render();
    draw(r, s, &f);
    RenderLayout lay;
    render_layout(&lay, W, H, &f);
    ck_assert_msg(lay.nthumbs == 8 && lay.thumb_cell >= 3, "expected 8 thumbnails, got %d of cell %d", lay.nthumbs, lay.thumb_cell);
    check_cells(s, &f);
    int tc = lay.thumb_cell, px = tc * N;
    for (int i = 0; i < 8; i++) {
        int r2, c2;
        d4_cell(i, N, 5, 1, &r2, &c2); /* the agent */
        int x = lay.thumb_x[i] + c2 * tc + tc / 2, y = lay.thumb_y + r2 * tc + tc / 2;
        ck_assert_msg(pixel(s, x, y) == render_colors[RC_AGENT], "view %d: agent not at its transformed cell (%d,%d)", i, r2, c2);
        d4_cell(i, N, 1, 5, &r2, &c2); /* the goal */
        x = lay.thumb_x[i] + c2 * tc + tc / 2;
        y = lay.thumb_y + r2 * tc + tc / 2;
        ck_assert_msg(pixel(s, x, y) == render_colors[RC_GOAL], "view %d: goal not at its transformed cell (%d,%d)", i, r2, c2);
        int left = lay.thumb_x[i] - 2, mid = lay.thumb_y + px / 2;
        if (i == q.chosen)
            ck_assert_msg(pixel(s, left, mid) == render_colors[RC_CHOSEN], "chosen view %d has no highlight frame", i);
        else
            ck_assert_msg(pixel(s, left, mid) != render_colors[RC_CHOSEN], "view %d is framed but not chosen", i);
        /* weight bar: length proportional to weight / max weight */
        int by = lay.thumb_y + px + 4 + lay.bar_h / 2;
        long bar = count_colour(s, lay.thumb_x[i], by, lay.thumb_x[i] + px - 1, by, render_colors[RC_BAR]);
        long want = lroundf((float)px * w[i] / 0.30f);
        ck_assert_msg(labs(bar - want) <= 1, "view %d: weight bar %ld px, expected %ld", i, bar, want);
    }
    /* each thumbnail shows its view's greedy move in the view's own frame:
     * view_q is in x's frame, so a preference for RIGHT shows as rho(h)(RIGHT) */
    for (int i = 0; i < 8; i++) {
        for (int a = 0; a < 4; a++)
            q.view_q[i][a] = a == ACT_RIGHT ? 1.0f : 0.0f;
    }
    SDL_Surface *big = render_surface_create(1200, 900);
    draw(r, big, &f);
    RenderLayout lb;
    render_layout(&lb, big->w, big->h, &f);
    ck_assert_msg(lb.thumb_cell >= 8, "thumbnails too small to test arrows (%d)", lb.thumb_cell);
    for (int i = 0; i < 8; i++) {
        int r2, c2, t = lb.thumb_cell;
        d4_cell(i, N, 5, 1, &r2, &c2);
        int cx = lb.thumb_x[i] + c2 * t + t / 2, cy = lb.thumb_y + r2 * t + t / 2;
        int d = d4_action(i, ACT_RIGHT);
        for (int dd = 0; dd < 4; dd++) {
            Box b = sector_box(cx, cy, t, dd);
            long cnt = count_colour(big, b.x0, b.y0, b.x1, b.y1, render_gradient[RENDER_GRADIENT - 1]);
            ck_assert_msg(dd == d ? cnt > 3 : cnt == 0, "view %d: arrow pixels %ld in direction %d (greedy move shows as %d)", i,
                          cnt, dd, d);
        }
    }
    SDL_FreeSurface(big);
    /* show_views off: no strip, the grid gets the room */
    f.show_views = 0;
    RenderLayout lay2;
    render_layout(&lay2, W, H, &f);
    ck_assert_msg(lay2.nthumbs == 0 && lay2.cell > lay.cell, "hiding views should drop the strip and grow cells (%d -> %d)",
                  lay.cell, lay2.cell);
    SDL_FreeSurface(s);
    render_free(r);
}
END_TEST

/* Pixels of region [x0, x1] x [y0, y1] that differ from the background. */
static long count_not_background(SDL_Surface *s, int x0, int y0, int x1, int y1)
{
    long n = 0;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < s->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < s->w; x++)
            n += pixel(s, x, y) != render_colors[RC_BACKGROUND];
    return n;
}

/* Every view's weight is printed (equizero's chosen 1.00 included) at the
 * default size of a 9x9 grid and in a 200x200 window; text columns never
 * overlap and the strip stays above the status line. */
START_TEST(test_view_labels)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.nviews = 8;
    q.chosen = 5;
    for (int i = 0; i < 8; i++) {
        q.elem[i] = i;
        q.weight[i] = i == 5 ? 1.0f : 0.0f;
    }
    f.q = &q;
    f.show_views = 1;
    Render *r = new_render();
    if (!render_has_text(r)) {
        printf("test_view_labels: skipped, no font\n");
        render_free(r);
        return;
    }
    int sizes[2][2];
    render_default_size(9, 48, 8, &sizes[0][0], &sizes[0][1]);
    sizes[1][0] = sizes[1][1] = 200;
    for (int k = 0; k < 2; k++) {
        int W = sizes[k][0], H = sizes[k][1];
        SDL_Surface *s = render_surface_create(W, H);
        draw(r, s, &f);
        RenderLayout lay;
        render_layout(&lay, W, H, &f);
        ck_assert_msg(lay.nthumbs == 8, "%dx%d: %d thumbnails", W, H, lay.nthumbs);
        ck_assert_msg(lay.weight_y > lay.thumb_y + lay.thumb_cell * N && lay.weight_y + lay.label_h <= lay.status_y, "%dx%d: weight row at %d, status at %d", W, H, lay.weight_y, lay.status_y);
        for (int i = 0; i < 8; i++) {
            if (i + 1 < 8)
                ck_assert_msg(lay.label_x[i] + lay.label_w <= lay.label_x[i + 1], "%dx%d: text columns %d and %d overlap", W, H, i, i + 1);
            long ink = count_not_background(s, lay.label_x[i], lay.weight_y, lay.label_x[i] + lay.label_w - 1, lay.weight_y + lay.label_h - 1);
            ck_assert_msg(ink > 0, "%dx%d: view %d's weight is not printed", W, H, i);
        }
        long chosen = count_colour(s, lay.label_x[5], lay.weight_y, lay.label_x[5] + lay.label_w - 1, lay.weight_y + lay.label_h - 1, render_colors[RC_CHOSEN]);
        ck_assert_msg(chosen > 0, "%dx%d: the chosen view's 1.00 is not in the chosen colour", W, H);
        SDL_FreeSurface(s);
    }
    render_free(r);
}
END_TEST

/* Every text fits whole, or in a shorter form, at the default size and in a
 * 200x200 window: the status line with long numbers and a note, and each
 * view's weight (lambda, equizero's one-hot) or score (canonical). */
START_TEST(test_text_fits)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    f.episode = 123456;
    f.step = 396;
    f.max_steps = 400;
    f.ret = -3.96f;
    f.successes = 99999;
    f.finished = 123455;
    f.note = "paused";
    Render *r = new_render();
    if (!render_has_text(r)) {
        printf("test_text_fits: skipped, no font\n");
        render_free(r);
        return;
    }
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.nviews = 8;
    for (int i = 0; i < 8; i++)
        q.elem[i] = i;
    f.q = &q;
    f.show_views = 1;
    f.show_q = 1;
    int sizes[3][2] = {{0, 0}, {200, 200}, {400, 200}};
    render_default_size(9, 48, 8, &sizes[0][0], &sizes[0][1]);
    const char *kinds[] = {"lambda", "equizero", "canonical"};
    for (int kind = 0; kind < 3; kind++) {
        q.has_score = kind == 2;
        q.chosen = kind == 0 ? -1 : 3;
        for (int i = 0; i < 8; i++) {
            q.weight[i] = kind == 0 ? (float)(i + 1) / 36.0f : i == 3 ? 1.0f : 0.0f;
            q.score[i] = (i % 2 ? 1.0f : -1.0f) * (0.5f + 3.1f * (float)i);
        }
        for (int k = 0; k < 3; k++) {
            SDL_Surface *s = render_surface_create(sizes[k][0], sizes[k][1]);
            draw(r, s, &f);
            ck_assert_msg(render_text_cut(r) == 0, "%s at %dx%d: %d texts cut or left out", kinds[kind], sizes[k][0], sizes[k][1], render_text_cut(r));
            RenderLayout lay;
            render_layout(&lay, s->w, s->h, &f);
            for (int i = 0; i < 8; i++) {
                long ink = count_not_background(s, lay.label_x[i], lay.weight_y, lay.label_x[i] + lay.label_w - 1, lay.weight_y + lay.label_h - 1);
                ck_assert_msg(ink > 0, "%s at %dx%d: view %d's number is not printed", kinds[kind], sizes[k][0], sizes[k][1], i);
            }
            SDL_FreeSurface(s);
        }
    }
    /* a surface too narrow for even the shortest status line says so */
    f.q = NULL;
    f.show_views = f.show_q = 0;
    SDL_Surface *s = render_surface_create(60, 60);
    draw(r, s, &f);
    ck_assert_msg(render_text_cut(r) == 1, "60x60: the status line cannot fit and is counted as cut (%d)", render_text_cut(r));
    SDL_FreeSurface(s);
    render_free(r);
}
END_TEST

START_TEST(test_text_and_font)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    char err[512];
    SDL_Surface *s = render_surface_create(420, 440);
    /* a missing font is a warning (reported once), not an error */
    Render *r = render_create("/nonexistent/font.ttf", err, sizeof err);
    ck_assert_msg(r != NULL, "render_create with a missing font failed: %s", err);
    ck_assert_msg(!render_has_text(r), "missing font reported as usable");
    const char *w = render_warning(r);
    ck_assert_msg(w && strstr(w, "/nonexistent/font.ttf"), "no warning naming the missing font");
    ck_assert_msg(render_warning(r) == NULL, "warning given twice");
    draw(r, s, &f);
    RenderLayout lay;
    render_layout(&lay, s->w, s->h, &f);
    ck_assert_msg(count_colour(s, 0, lay.status_y, s->w - 1, s->h - 1, render_colors[RC_STATUS_BG]) ==
                      (long)s->w * lay.status_h,
                  "status band has marks without a font");
    check_cells(s, &f);
    render_free(r);

    r = new_render();
    if (!render_has_text(r)) {
        fprintf(stderr, "test_text_and_font: skipped the text check: %s\n", render_warning(r));
    } else {
        static const char *const help[] = {"space  pause", "q  quit"};
        f.help = help;
        f.nhelp = 2;
        f.note = "untrained agent";
        draw(r, s, &f);
        long bg = count_colour(s, 0, lay.status_y, s->w - 1, s->h - 1, render_colors[RC_STATUS_BG]);
        ck_assert_msg(bg < (long)s->w * lay.status_h - 200, "status line has no visible text (%ld background pixels)", bg);
        ck_assert_msg(count_colour(s, 0, 0, s->w - 1, lay.status_y - 1, render_colors[RC_HELP_BG]) > 1000, "no help box");
    }
    SDL_FreeSurface(s);
    render_free(r);
}
END_TEST

static void tmp_path(char *buf, size_t len, const char *name)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, len, "%s/equigrid-test-render-%ld-%s", dir && dir[0] ? dir : "/tmp", (long)getpid(), name);
}

START_TEST(test_gif_roundtrip)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.q[1] = 1.0f;
    f.q = &q;
    f.show_q = 1;
    char path[512], err[512];
    tmp_path(path, sizeof path, "a.gif");
    int W = 300, H = 320, frames = 6;
    Render *r = new_render();
    SDL_Surface *s = render_surface_create(W, H);
    RenderGif *g = render_gif_open(path, W, H, err, sizeof err);
    ck_assert_msg(g != NULL, "render_gif_open: %s", err);
    static const int cells[6] = {5 * N + 1, 4 * N + 1, 4 * N + 2, 4 * N + 2, 3 * N + 2, 2 * N + 2};
    for (int i = 0; i < frames; i++) { /* frame 3 repeats frame 2: stored as a 1x1 frame */
        f.agent = cells[i];
        f.step = i < 3 ? i : i - 1;
        if (i == 3)
            f.step = 2;
        draw(r, s, &f);
        ck_assert_msg(render_gif_frame(g, s, render_gif_delay(8), err, sizeof err) == 0, "frame %d: %s", i, err);
    }
    ck_assert_msg(render_gif_close(g, err, sizeof err) == 0, "close: %s", err);

    int e = 0;
    GifFileType *gf = DGifOpenFileName(path, &e);
    ck_assert_msg(gf != NULL, "cannot reopen %s: %s", path, GifErrorString(e));
    ck_assert_msg(DGifSlurp(gf) == GIF_OK, "DGifSlurp failed: %s", GifErrorString(gf->Error));
    ck_assert_msg(gf->ImageCount == frames, "GIF has %d frames, expected %d", gf->ImageCount, frames);
    ck_assert_msg(gf->SWidth == W && gf->SHeight == H, "GIF is %dx%d, expected %dx%d", gf->SWidth, gf->SHeight, W, H);
    ck_assert_msg(gf->SColorMap && gf->SColorMap->ColorCount == 256, "no 256-colour global palette");
    ck_assert_msg(gf->SavedImages[3].ImageDesc.Width == 1, "unchanged frame stored as %d px wide, expected 1",
                  gf->SavedImages[3].ImageDesc.Width);
    int loop = 0;
    for (int i = 0; i < gf->SavedImages[0].ExtensionBlockCount; i++) {
        ExtensionBlock *b = &gf->SavedImages[0].ExtensionBlocks[i];
        if (b->Function == APPLICATION_EXT_FUNC_CODE && b->ByteCount == 11 && memcmp(b->Bytes, "NETSCAPE2.0", 11) == 0)
            loop = 1;
    }
    ck_assert_msg(loop, "no NETSCAPE2.0 loop extension before the first frame");
    GraphicsControlBlock gcb;
    ck_assert_msg(DGifSavedExtensionToGCB(gf, 2, &gcb) == GIF_OK && gcb.DelayTime == 13,
                  "frame delay %d cs, expected 13 (8 fps)", gcb.DelayTime);
    /* composite all frames and compare with the last drawn surface: every
     * exactly drawn colour survives; text pixels map to a near colour */
    uint8_t *canvas = calloc((size_t)W * H, 1);
    for (int i = 0; i < gf->ImageCount; i++) {
        GifImageDesc *d = &gf->SavedImages[i].ImageDesc;
        for (int y = 0; y < d->Height; y++)
            memcpy(canvas + (size_t)(d->Top + y) * W + d->Left, gf->SavedImages[i].RasterBits + (size_t)y * d->Width,
                   (size_t)d->Width);
    }
    long exact = 0, bad = 0, far = 0;
    uint32_t pal[256];
    render_gif_palette(pal);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            GifColorType c = gf->SColorMap->Colors[canvas[(size_t)y * W + x]];
            uint32_t got = (uint32_t)c.Red << 16 | (uint32_t)c.Green << 8 | c.Blue, want = pixel(s, x, y);
            int in_pal = 0;
            for (int k = 0; k < 256; k++)
                in_pal |= pal[k] == want;
            if (in_pal) {
                exact++;
                bad += got != want;
            } else {
                int dr = (int)(got >> 16) - (int)(want >> 16), dg = (int)(got >> 8 & 255) - (int)(want >> 8 & 255),
                    db = (int)(got & 255) - (int)(want & 255);
                far += dr * dr + dg * dg + db * db > 3 * 40 * 40;
            }
        }
    ck_assert_msg(exact > (long)W * H * 9 / 10 && bad == 0, "%ld of %ld palette-colour pixels changed in the GIF", bad, exact);
    ck_assert_msg(far == 0, "%ld antialiased pixels mapped to a far colour", far);
    RenderLayout lay;
    render_layout(&lay, W, H, &f);
    int x, y;
    cell_centre(&lay, 2, 2, &x, &y);
    GifColorType c = gf->SColorMap->Colors[canvas[(size_t)y * W + x]];
    ck_assert_msg(((uint32_t)c.Red << 16 | (uint32_t)c.Green << 8 | c.Blue) == render_colors[RC_AGENT],
                  "last GIF frame has no agent at (2,2)");
    free(canvas);
    DGifCloseFile(gf, &e);
    remove(path);
    /* a frame of the wrong size is refused */
    g = render_gif_open(path, W, H, err, sizeof err);
    SDL_Surface *small = render_surface_create(10, 10);
    ck_assert_msg(render_gif_frame(g, small, 10, err, sizeof err) == -1 && strstr(err, "10x10"), "wrong-size frame accepted");
    render_gif_close(g, err, sizeof err);
    remove(path);
    ck_assert_msg(render_gif_open("/nonexistent-dir/x.gif", W, H, err, sizeof err) == NULL && strstr(err, "/nonexistent-dir"),
                  "unwritable path accepted or message lacks the path");
    SDL_FreeSurface(small);
    SDL_FreeSurface(s);
    render_free(r);
}
END_TEST

START_TEST(test_gif_palette)
{
    uint32_t pal[256];
    render_gif_palette(pal);
    for (int i = 0; i < RC_COUNT; i++) {
        int found = 0;
        for (int k = 0; k < 256; k++)
            found |= pal[k] == render_colors[i];
        ck_assert_msg(found, "drawing colour %d (%06x) missing from the GIF palette", i, render_colors[i]);
    }
    for (int i = 0; i < RENDER_GRADIENT; i++) {
        int found = 0;
        for (int k = 0; k < 256; k++)
            found |= pal[k] == render_gradient[i];
        ck_assert_msg(found, "gradient colour %d (%06x) missing from the GIF palette", i, render_gradient[i]);
    }
    for (int i = 0; i < 256; i++)
        for (int k = i + 1; k < 256; k++)
            ck_assert_msg(pal[i] != pal[k], "palette entries %d and %d repeat %06x", i, k, pal[i]);
    ck_assert_msg(render_gif_delay(10) == 10 && render_gif_delay(8) == 13 && render_gif_delay(240) == 2 && render_gif_delay(0) == 100,
                  "gif delays wrong: %d %d %d %d", render_gif_delay(10), render_gif_delay(8), render_gif_delay(240),
                  render_gif_delay(0));
}
END_TEST

START_TEST(test_png_roundtrip)
{
    uint8_t layout[N * N];
    int agent;
    make_layout(layout, &agent);
    RenderFrame f = make_frame(layout, agent);
    char path[512], err[512];
    tmp_path(path, sizeof path, "a.png");
    Render *r = new_render();
    SDL_Surface *s = render_surface_create(333, 301);
    draw(r, s, &f);
    ck_assert_msg(render_png_save(s, path, err, sizeof err) == 0, "render_png_save: %s", err);
    SDL_Surface *raw = IMG_Load(path);
    ck_assert_msg(raw != NULL, "IMG_Load(%s): %s", path, IMG_GetError());
    SDL_Surface *back = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
    ck_assert_msg(back && back->w == 333 && back->h == 301, "PNG read back as %dx%d, expected 333x301", back ? back->w : -1,
                  back ? back->h : -1);
    check_cells(back, &f);
    RenderLayout lay;
    render_layout(&lay, s->w, s->h, &f);
    int x, y;
    cell_centre(&lay, 1, 5, &x, &y);
    ck_assert_msg(pixel(back, x, y) == render_colors[RC_GOAL], "goal colour lost in the PNG");
    ck_assert_msg(render_png_save(s, "/nonexistent-dir/a.png", err, sizeof err) == -1 && strstr(err, "/nonexistent-dir"),
                  "writing to a missing directory succeeded or message lacks the path");
    SDL_FreeSurface(raw);
    SDL_FreeSurface(back);
    SDL_FreeSurface(s);
    render_free(r);
    remove(path);
}
END_TEST

START_TEST(test_script_parse)
{
    RenderScript sc;
    char err[512];
    ck_assert_msg(render_script_parse(&sc, "space,right,3,q,wait,esc,+,plus,R", err, sizeof err) == 0, "parse: %s", err);
    static const SDL_Keycode want[] = {SDLK_SPACE, SDLK_RIGHT, SDLK_3, SDLK_q, 0, SDLK_ESCAPE, SDLK_PLUS, SDLK_PLUS, SDLK_r};
    ck_assert_msg(sc.n == 9, "parsed %d keys, expected 9", sc.n);
    for (int i = 0; i < 9; i++)
        ck_assert_msg(sc.keys[i] == want[i], "key %d is %d, expected %d", i, (int)sc.keys[i], (int)want[i]);
    ck_assert_msg(render_script_parse(&sc, "space,jump", err, sizeof err) == -1 && strstr(err, "'jump'"),
                  "unknown key accepted or not named: %s", err);
    ck_assert_msg(render_script_parse(&sc, "space,,q", err, sizeof err) == -1, "empty key accepted");
    ck_assert_msg(render_script_parse(&sc, NULL, err, sizeof err) == 0 && sc.n == 0, "NULL script not empty");
}
END_TEST

START_TEST(test_record_speed)
{
    /* 100 frames of a 9x9 grid with arrows and 8 views, drawn and GIF-encoded */
    enum { M = 9 };
    uint8_t layout[M * M];
    for (int i = 0; i < M * M; i++)
        layout[i] = (i / M == 0 || i % M == 0 || i / M == M - 1 || i % M == M - 1) ? CELL_WALL : 0;
    layout[2 * M + 6] = CELL_GOAL;
    RenderFrame f;
    memset(&f, 0, sizeof f);
    f.n = M;
    f.layout = layout;
    RenderQ q;
    memset(&q, 0, sizeof q);
    q.A = 4;
    q.nviews = 8;
    q.chosen = 2;
    for (int i = 0; i < 8; i++) {
        q.elem[i] = i;
        q.weight[i] = 0.125f;
    }
    f.q = &q;
    f.show_q = f.show_views = 1;
    int W, H;
    render_default_size(M, 48, 8, &W, &H);
    char path[512], err[512];
    tmp_path(path, sizeof path, "speed.gif");
    Render *r = new_render();
    SDL_Surface *s = render_surface_create(W, H);
    RenderGif *g = render_gif_open(path, W, H, err, sizeof err);
    double t0 = clock_seconds();
    for (int i = 0; i < 100; i++) {
        f.agent = (1 + (i / 7) % 7) * M + 1 + i % 7;
        f.step = i;
        for (int a = 0; a < 4; a++)
            q.q[a] = (float)((i * 7 + a * 3) % 5);
        draw(r, s, &f);
        ck_assert_msg(render_gif_frame(g, s, 10, err, sizeof err) == 0, "frame %d: %s", i, err);
    }
    ck_assert_msg(render_gif_close(g, err, sizeof err) == 0, "close: %s", err);
    double sec = clock_seconds() - t0;
    fprintf(stderr, "test_record_speed: 100 frames %dx%d drawn + GIF-encoded in %.3f s\n", W, H, sec);
#ifdef __SANITIZE_ADDRESS__
    double limit = 10.0; /* instrumented build: only a sanity bound */
#else
    double limit = 1.0;
#endif
    ck_assert_msg(sec < limit, "100 frames took %.3f s, expected under %.0f s", sec, limit);
    SDL_FreeSurface(s);
    render_free(r);
    remove(path);
}
END_TEST

/* ---- the equigrid binary ---- */

/* $EQUIGRID_BIN, else $BUILD/equigrid (tests/run sets BUILD), else ./equigrid. */
static const char *binary(void)
{
    static char path[600];
    const char *b = getenv("EQUIGRID_BIN"), *build = getenv("BUILD");
    if (b && b[0])
        return b;
    if (build && build[0]) {
        snprintf(path, sizeof path, "%s/equigrid", build);
        if (access(path, X_OK) == 0)
            return path;
    }
    return "./equigrid";
}

static int have_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        char full[4200];
        snprintf(full, sizeof full, "%s/%s", dir, name);
        if (access(full, X_OK) == 0)
            return 1;
    }
    return 0;
}

/* Runs argv with stdout+stderr into out_path, DISPLAY-like variables removed
 * if no_display; kills it after timeout_s. Returns the exit status, or -1
 * when it was killed or crashed (signal). With video (!no_display) in a
 * sanitized build, leak checking is off in the child: SDL 2.26's video
 * start-up leaves libdbus allocations behind for good (its D-Bus connection
 * is never shut down), whose stacks LSan cannot unwind to suppress. */
static int run(char *const argv[], const char *out_path, int no_display, int timeout_s)
{
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (no_display) {
            unsetenv("DISPLAY");
            unsetenv("WAYLAND_DISPLAY");
            unsetenv("SDL_VIDEODRIVER");
        } else {
            char opts[1200];
            const char *old = getenv("ASAN_OPTIONS");
            snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", old ? old : "", old && old[0] ? ":" : "");
            setenv("ASAN_OPTIONS", opts, 1);
        }
        setpgid(0, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    for (int waited = 0; waited < timeout_s * 20; waited++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void slurp(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void need_binary(void)
{
    ck_assert_msg(access(binary(), X_OK) == 0, "%s not found: build it first (make test does), or set EQUIGRID_BIN", binary());
}

/* One Xvfb for both interactive commands: play takes 3 moves (the 4th key
 * after the episode ends would reset), watch is paused at once and steps
 * twice by key, so both report exact step counts. */
START_TEST(test_window_xvfb)
{
    need_binary();
    if (!have_program("xvfb-run")) {
        fprintf(stderr, "test_window_xvfb: skipped: xvfb-run is not installed (Debian package xvfb)\n");
        return;
    }
    char out[512], cfg[512], log[8192], cmd[4096];
    tmp_path(out, sizeof out, "win.log");
    tmp_path(cfg, sizeof cfg, "win.ini");
    FILE *f = fopen(cfg, "w");
    ck_assert_msg(f != NULL, "cannot write %s", cfg);
    fprintf(f, "[env]\nname = goal\nsize = 7\n[symmetry]\nmethod = lambda\ngroup = rot90\n");
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "'%s' play goal --set env.size=7 --script wait,h,right,h,3,left,up,plus,minus,wait,q --frames 30 && "
             "'%s' watch '%s' --script space,right,h,wait,right,5,a,v,h,s,r,q --frames 40 && "
             "'%s' watch '%s' --frames 12",
             binary(), binary(), cfg, binary(), cfg);
    char *argv[] = {"xvfb-run", "-a", "sh", "-c", cmd, NULL};
    int rc = run(argv, out, 0, 40);
    slurp(out, log, sizeof log);
    ck_assert_msg(rc == 0, "xvfb-run play/watch exited with %d; output:\n%s", rc, log);
    ck_assert_msg(strstr(log, "equigrid play: quit by key after 3 steps in 1 episodes"),
                  "play did not quit by key after exactly 3 moves; output:\n%s", log);
    ck_assert_msg(strstr(log, "equigrid watch: quit by key after 2 steps in 2 episodes"),
                  "watch (paused, two single steps, r) did not report 2 steps in 2 episodes; output:\n%s", log);
    ck_assert_msg(strstr(log, "equigrid watch: --frames reached"), "watch --frames 12 did not stop by frame count:\n%s", log);
    /* 's' saved what the window showed, in the working directory */
    ck_assert_msg(strstr(log, "equigrid watch: saved watch-001.png"), "watch did not report its screenshot:\n%s", log);
    SDL_Surface *shot = IMG_Load("watch-001.png");
    ck_assert_msg(shot != NULL && shot->w >= 16 && shot->h >= 16, "watch-001.png is not a readable PNG: %s", IMG_GetError());
    SDL_FreeSurface(shot);
    remove("watch-001.png");
    remove(out);
    remove(cfg);
}
END_TEST

START_TEST(test_no_display)
{
    need_binary();
    char out[512], log[8192];
    tmp_path(out, sizeof out, "nodisp.log");
    const char *cmds[] = {"play", "watch"};
    for (int i = 0; i < 2; i++) {
        char cfg[512];
        tmp_path(cfg, sizeof cfg, "nodisp.ini");
        FILE *f = fopen(cfg, "w");
        fprintf(f, "[env]\nname = goal\nsize = 7\n");
        fclose(f);
        char *argv[] = {(char *)binary(), (char *)cmds[i], i == 0 ? "goal" : cfg, NULL};
        int rc = run(argv, out, 1, 20);
        slurp(out, log, sizeof log);
        ck_assert_msg(rc == 1, "equigrid %s without a display exited with %d (expected 1); output:\n%s", cmds[i], rc, log);
        ck_assert_msg(strstr(log, "no display") && strstr(log, "equigrid record"),
                      "equigrid %s without a display: message lacks 'no display' or the record hint:\n%s", cmds[i], log);
        remove(cfg);
    }
    remove(out);
}
END_TEST

START_TEST(test_record_config)
{
    need_binary();
    char cfg[512], gif[512], dir[512], out[512], log[8192];
    tmp_path(cfg, sizeof cfg, "rec.ini");
    tmp_path(gif, sizeof gif, "rec.gif");
    tmp_path(dir, sizeof dir, "recpng");
    tmp_path(out, sizeof out, "rec.log");
    FILE *f = fopen(cfg, "w");
    ck_assert_msg(f != NULL, "cannot write %s", cfg);
    fprintf(f, "[env]\nname = goal\nsize = 7\nmax_steps = 10\n[symmetry]\nmethod = equitune\ngroup = d4\n");
    fclose(f);
    char *argv[] = {(char *)binary(), "record", cfg, "--episodes", "2", "--gif", gif, "--png", dir,
                    "--size", "320x360", "--max-frames", "15", NULL};
    int rc = run(argv, out, 1, 30);
    slurp(out, log, sizeof log);
    ck_assert_msg(rc == 0, "equigrid record exited with %d; output:\n%s", rc, log);
    int e = 0;
    GifFileType *gf = DGifOpenFileName(gif, &e);
    ck_assert_msg(gf != NULL && DGifSlurp(gf) == GIF_OK, "record's GIF unreadable");
    ck_assert_msg(gf->ImageCount == 15 && gf->SWidth == 320 && gf->SHeight == 360,
                  "record's GIF has %d frames of %dx%d, expected 15 of 320x360 (max-frames)", gf->ImageCount, gf->SWidth,
                  gf->SHeight);
    DGifCloseFile(gf, &e);
    char png[700];
    snprintf(png, sizeof png, "%s/frame_000014.png", dir);
    SDL_Surface *s = IMG_Load(png);
    ck_assert_msg(s && s->w == 320 && s->h == 360, "%s missing or wrong size", png);
    SDL_FreeSurface(s);
    for (int i = 0; i < 15; i++) {
        snprintf(png, sizeof png, "%s/frame_%06d.png", dir, i);
        remove(png);
    }
    snprintf(png, sizeof png, "%s/frame_000015.png", dir);
    ck_assert_msg(access(png, F_OK) != 0, "more PNGs than --max-frames");
    rmdir(dir);
    remove(gif);
    remove(cfg);
    remove(out);
}
END_TEST

/* Row of the first wall pixel down the middle column of a PNG frame. */
static int first_wall_row(const char *png)
{
    SDL_Surface *s = IMG_Load(png);
    ck_assert_msg(s != NULL, "%s unreadable", png);
    int y = 0;
    while (y < s->h && pixel(s, s->w / 2, y) != render_colors[RC_WALL])
        y++;
    SDL_FreeSurface(s);
    return y;
}

/* The last frame of an episode (a final state) keeps the view strip, so the
 * board does not jump between the last two frames. */
START_TEST(test_record_last_frame_keeps_strip)
{
    need_binary();
    char cfg[512], dir[512], out[512], log[8192], png[700];
    tmp_path(cfg, sizeof cfg, "last.ini");
    tmp_path(dir, sizeof dir, "lastpng");
    tmp_path(out, sizeof out, "last.log");
    FILE *f = fopen(cfg, "w");
    ck_assert_msg(f != NULL, "cannot write %s", cfg);
    fprintf(f, "[env]\nname = goal\nsize = 7\nmax_steps = 6\n[symmetry]\nmethod = equitune\ngroup = d4\n");
    fclose(f);
    char *argv[] = {(char *)binary(), "record", cfg, "--episodes", "1", "--png", dir, "--size", "320x360", NULL};
    int rc = run(argv, out, 1, 30);
    slurp(out, log, sizeof log);
    ck_assert_msg(rc == 0, "equigrid record exited with %d; output:\n%s", rc, log);
    int last = 0;
    for (;; last++) {
        snprintf(png, sizeof png, "%s/frame_%06d.png", dir, last + 1);
        if (access(png, F_OK) != 0)
            break;
    }
    ck_assert_msg(last >= 1, "only one frame recorded");
    snprintf(png, sizeof png, "%s/frame_%06d.png", dir, 0);
    int y0 = first_wall_row(png);
    snprintf(png, sizeof png, "%s/frame_%06d.png", dir, last);
    int y1 = first_wall_row(png);
    ck_assert_msg(y0 == y1, "the board moved on the last frame: top wall row %d, then %d (the strip disappeared)", y0, y1);
    for (int i = 0; i <= last; i++) {
        snprintf(png, sizeof png, "%s/frame_%06d.png", dir, i);
        remove(png);
    }
    rmdir(dir);
    remove(cfg);
    remove(out);
}
END_TEST

static Suite *render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *draw_tc = tcase_create("draw");
    tcase_add_test(draw_tc, test_cell_colours);
    tcase_add_test(draw_tc, test_layout_scaling);
    tcase_add_test(draw_tc, test_q_arrows);
    tcase_add_test(draw_tc, test_view_strip);
    tcase_add_test(draw_tc, test_text_and_font);
    tcase_add_test(draw_tc, test_view_labels);
    tcase_add_test(draw_tc, test_text_fits);
    suite_add_tcase(s, draw_tc);
    TCase *out_tc = tcase_create("output");
    tcase_add_test(out_tc, test_gif_roundtrip);
    tcase_add_test(out_tc, test_gif_palette);
    tcase_add_test(out_tc, test_png_roundtrip);
    tcase_add_test(out_tc, test_record_speed);
    tcase_set_timeout(out_tc, 30);
    suite_add_tcase(s, out_tc);
    TCase *win_tc = tcase_create("commands");
    tcase_add_test(win_tc, test_script_parse);
    tcase_add_test(win_tc, test_no_display);
    tcase_add_test(win_tc, test_record_config);
    tcase_add_test(win_tc, test_record_last_frame_keeps_strip);
    tcase_add_test(win_tc, test_window_xvfb);
    tcase_set_timeout(win_tc, 60);
    suite_add_tcase(s, win_tc);
    return s;
}

CHECK_MAIN(render_suite)

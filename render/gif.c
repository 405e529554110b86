/* gif.c - animated GIF (giflib) and PNG (SDL2_image) output of rendered
 * frames. The GIF palette is fixed: every exact drawing colour of render.h,
 * a ramp between the status background and the text colour (antialiased
 * text), a 6x6x6 colour cube (all of it fits), then greys. Pixels map to the nearest palette
 * entry (exact colours map to themselves) through a small direct-mapped
 * cache, so a frame of a few hundred thousand pixels costs about one cache
 * probe per pixel. Each frame after the first stores only the rectangle that
 * changed (disposal "do not dispose"), which keeps episode GIFs small. */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL_image.h>
#include <gif_lib.h>

enum { CACHE_BITS = 12, CACHE_SIZE = 1 << CACHE_BITS, CACHE_VALID = 1u << 24 };

struct RenderGif {
    GifFileType *gf;
    int w, h;
    long frames;
    uint32_t pal[256];
    uint8_t *cur, *prev; /* w*h palette indices of this and the previous frame */
    uint32_t cache_key[CACHE_SIZE];
    uint8_t cache_val[CACHE_SIZE];
    char path[512];
};

static int pal_add(uint32_t *pal, int n, uint32_t c)
{
    for (int i = 0; i < n; i++)
        if (pal[i] == c)
            return n;
    if (n < 256)
        pal[n++] = c;
    return n;
}

static uint32_t lerp_rgb(uint32_t a, uint32_t b, int k, int m)
{
    uint32_t out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        int x = (int)((a >> sh) & 255), y = (int)((b >> sh) & 255);
        out |= (uint32_t)(x + (y - x) * k / m) << sh;
    }
    return out;
}

void render_gif_palette(uint32_t pal[256])
{
    int n = 0;
    for (int i = 0; i < RC_COUNT; i++)
        n = pal_add(pal, n, render_colors[i]);
    for (int i = 0; i < RENDER_GRADIENT; i++)
        n = pal_add(pal, n, render_gradient[i]);
    for (int k = 1; k < 5; k++)
        n = pal_add(pal, n, lerp_rgb(render_colors[RC_STATUS_BG], render_colors[RC_TEXT], k, 5));
    for (int r = 0; r < 6; r++)
        for (int g = 0; g < 6; g++)
            for (int b = 0; b < 6; b++)
                n = pal_add(pal, n, (uint32_t)(r * 51) << 16 | (uint32_t)(g * 51) << 8 | (uint32_t)(b * 51));
    for (int v = 0; n < 256 && v < 256; v += 7)
        n = pal_add(pal, n, (uint32_t)v * 0x010101u);
    for (uint32_t extra = 1; n < 256; extra++) /* cannot happen with the sets above; keeps the palette full */
        n = pal_add(pal, n, extra);
}

static uint8_t nearest(const uint32_t *pal, uint32_t rgb)
{
    int r = (int)(rgb >> 16 & 255), g = (int)(rgb >> 8 & 255), b = (int)(rgb & 255);
    int best = 0;
    long bestd = -1;
    for (int i = 0; i < 256; i++) {
        int dr = r - (int)(pal[i] >> 16 & 255), dg = g - (int)(pal[i] >> 8 & 255), db = b - (int)(pal[i] & 255);
        long d = 3L * dr * dr + 4L * dg * dg + 2L * db * db;
        if (bestd < 0 || d < bestd) {
            bestd = d;
            best = i;
            if (d == 0)
                break;
        }
    }
    return (uint8_t)best;
}

static uint8_t palette_index(RenderGif *g, uint32_t rgb)
{
    uint32_t slot = (rgb * 2654435761u) >> (32 - CACHE_BITS);
    if (g->cache_key[slot] == (rgb | CACHE_VALID))
        return g->cache_val[slot];
    uint8_t v = nearest(g->pal, rgb);
    g->cache_key[slot] = rgb | CACHE_VALID;
    g->cache_val[slot] = v;
    return v;
}

int render_gif_delay(int fps)
{
    if (fps < 1)
        fps = 1;
    int cs = (100 + fps / 2) / fps;
    return cs < 2 ? 2 : cs;
}

RenderGif *render_gif_open(const char *path, int w, int h, char *err, size_t errlen)
{
    if (w < 1 || h < 1 || w > 65535 || h > 65535) {
        snprintf(err, errlen, "%s: GIF size %dx%d outside 1..65535", path, w, h);
        return NULL;
    }
    RenderGif *g = calloc(1, sizeof *g);
    if (g) {
        g->cur = malloc((size_t)w * (size_t)h);
        g->prev = malloc((size_t)w * (size_t)h);
    }
    if (!g || !g->cur || !g->prev) {
        snprintf(err, errlen, "%s: out of memory for %dx%d frames", path, w, h);
        if (g) {
            free(g->cur);
            free(g->prev);
        }
        free(g);
        return NULL;
    }
    g->w = w;
    g->h = h;
    snprintf(g->path, sizeof g->path, "%s", path);
    render_gif_palette(g->pal);
    /* open() ourselves: EGifOpenFileName creates files with mode 0600 */
    int e = 0, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    g->gf = fd >= 0 ? EGifOpenFileHandle(fd, &e) : NULL;
    if (!g->gf) {
        if (fd < 0)
            snprintf(err, errlen, "%s: cannot create GIF: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s: cannot create GIF: %s", path, GifErrorString(e));
        if (fd >= 0)
            close(fd);
        free(g->cur);
        free(g->prev);
        free(g);
        return NULL;
    }
    EGifSetGifVersion(g->gf, true);
    GifColorType colors[256];
    for (int i = 0; i < 256; i++) {
        colors[i].Red = (GifByteType)(g->pal[i] >> 16);
        colors[i].Green = (GifByteType)(g->pal[i] >> 8);
        colors[i].Blue = (GifByteType)g->pal[i];
    }
    ColorMapObject *cmap = GifMakeMapObject(256, colors);
    static const GifByteType loop[3] = {1, 0, 0}; /* sub-block 1, loop count 0 = forever */
    int ok = cmap && EGifPutScreenDesc(g->gf, w, h, 8, 0, cmap) == GIF_OK &&
             EGifPutExtensionLeader(g->gf, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
             EGifPutExtensionBlock(g->gf, 11, "NETSCAPE2.0") == GIF_OK &&
             EGifPutExtensionBlock(g->gf, 3, loop) == GIF_OK && EGifPutExtensionTrailer(g->gf) == GIF_OK;
    GifFreeMapObject(cmap);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write GIF header: %s", path, GifErrorString(g->gf->Error));
        EGifCloseFile(g->gf, &e);
        free(g->cur);
        free(g->prev);
        free(g);
        return NULL;
    }
    return g;
}

int render_gif_frame(RenderGif *g, SDL_Surface *s, int delay_cs, char *err, size_t errlen)
{
    if (s->w != g->w || s->h != g->h || s->format->BytesPerPixel != 4) {
        snprintf(err, errlen, "%s: frame %ld is %dx%d at %d bytes per pixel; the GIF takes %dx%d at 4", g->path,
                 g->frames, s->w, s->h, s->format->BytesPerPixel, g->w, g->h);
        return -1;
    }
    if (SDL_MUSTLOCK(s) && SDL_LockSurface(s) != 0) {
        snprintf(err, errlen, "%s: cannot lock frame: %s", g->path, SDL_GetError());
        return -1;
    }
    const SDL_PixelFormat *fmt = s->format;
    int argb = fmt->format == SDL_PIXELFORMAT_ARGB8888 || fmt->format == SDL_PIXELFORMAT_RGB888;
    for (int y = 0; y < g->h; y++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch);
        uint8_t *out = g->cur + (size_t)y * (size_t)g->w;
        uint32_t last = 0, lastv = 0;
        int have = 0;
        for (int x = 0; x < g->w; x++) {
            uint32_t p = row[x];
            if (have && p == last) {
                out[x] = (uint8_t)lastv;
                continue;
            }
            uint32_t rgb;
            if (argb) {
                rgb = p & 0xFFFFFFu;
            } else {
                Uint8 r, gg, b;
                SDL_GetRGB(p, fmt, &r, &gg, &b);
                rgb = (uint32_t)r << 16 | (uint32_t)gg << 8 | b;
            }
            last = p;
            lastv = palette_index(g, rgb);
            have = 1;
            out[x] = (uint8_t)lastv;
        }
    }
    if (SDL_MUSTLOCK(s))
        SDL_UnlockSurface(s);

    /* the rectangle that changed since the previous frame */
    int x0 = 0, y0 = 0, x1 = g->w - 1, y1 = g->h - 1;
    if (g->frames > 0) {
        x0 = g->w;
        y0 = g->h;
        x1 = y1 = -1;
        for (int y = 0; y < g->h; y++) {
            const uint8_t *a = g->cur + (size_t)y * (size_t)g->w, *b = g->prev + (size_t)y * (size_t)g->w;
            if (memcmp(a, b, (size_t)g->w) == 0)
                continue;
            if (y < y0)
                y0 = y;
            y1 = y;
            int l = 0, r = g->w - 1;
            while (a[l] == b[l])
                l++;
            while (a[r] == b[r])
                r--;
            if (l < x0)
                x0 = l;
            if (r > x1)
                x1 = r;
        }
        if (y1 < 0) /* unchanged: a 1x1 frame keeps the timing */
            x0 = y0 = x1 = y1 = 0;
    }
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false,
                                .DelayTime = delay_cs < 2 ? 2 : delay_cs, .TransparentColor = NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    size_t elen = EGifGCBToExtension(&gcb, ext);
    int fw = x1 - x0 + 1, fh = y1 - y0 + 1;
    int ok = EGifPutExtension(g->gf, GRAPHICS_EXT_FUNC_CODE, (int)elen, ext) == GIF_OK &&
             EGifPutImageDesc(g->gf, x0, y0, fw, fh, false, NULL) == GIF_OK;
    for (int y = y0; ok && y <= y1; y++)
        ok = EGifPutLine(g->gf, g->cur + (size_t)y * (size_t)g->w + x0, fw) == GIF_OK;
    if (!ok) {
        snprintf(err, errlen, "%s: writing frame %ld failed: %s", g->path, g->frames, GifErrorString(g->gf->Error));
        return -1;
    }
    uint8_t *t = g->prev;
    g->prev = g->cur;
    g->cur = t;
    g->frames++;
    return 0;
}

int render_gif_close(RenderGif *g, char *err, size_t errlen)
{
    if (!g)
        return 0;
    int e = 0, rc = 0;
    if (EGifCloseFile(g->gf, &e) != GIF_OK) {
        snprintf(err, errlen, "%s: closing GIF failed: %s", g->path, GifErrorString(e));
        rc = -1;
    }
    free(g->cur);
    free(g->prev);
    free(g);
    return rc;
}

int render_png_save(SDL_Surface *s, const char *path, char *err, size_t errlen)
{
    if (IMG_SavePNG(s, path) != 0) {
        snprintf(err, errlen, "%s: cannot write PNG: %s", path, IMG_GetError());
        return -1;
    }
    return 0;
}

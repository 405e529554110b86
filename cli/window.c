/* window.c - what the window commands (`watch`, `play`) share: their
 * command-line options (one target, --set, --size, --script, --frames) and
 * opening the window with its renderer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

enum { FRAME_MS = 15 }; /* about 60 frames a second */

int window_args_parse(WindowArgs *wa, int argc, char **argv, const char *cmd, void (*usage)(FILE *f))
{
    memset(wa, 0, sizeof *wa);
    wa->script = getenv("EQUIGRID_SCRIPT");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--set") == 0 && has) {
            if (wa->nsets == WINDOW_MAX_SETS) {
                fprintf(stderr, "equigrid %s: more than %d --set options\n", cmd, WINDOW_MAX_SETS);
                return -1;
            }
            wa->sets[wa->nsets++] = argv[++i];
        } else if (strcmp(a, "--script") == 0 && has) {
            wa->script = argv[++i];
        } else if (strcmp(a, "--frames") == 0 && has) {
            char *end;
            errno = 0;
            wa->max_frames = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || wa->max_frames < 1) {
                fprintf(stderr, "equigrid %s: --frames %s: expected a positive integer\n", cmd, argv[i]);
                return -1;
            }
        } else if (strcmp(a, "--size") == 0 && has) {
            char x;
            if (sscanf(argv[++i], "%d%c%d", &wa->W, &x, &wa->H) != 3 || x != 'x' || wa->W < 16 || wa->H < 16 || wa->W > 8192 || wa->H > 8192) {
                fprintf(stderr, "equigrid %s: --size %s: expected WxH with each side in 16..8192\n", cmd, argv[i]);
                return -1;
            }
        } else if (a[0] == '-' || wa->target) {
            fprintf(stderr, "equigrid %s: unexpected argument '%s'\n", cmd, a);
            usage(stderr);
            return -1;
        } else {
            wa->target = a;
        }
    }
    char err[512];
    if (render_script_parse(&wa->keys, wa->script, err, sizeof err) != 0) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return -1;
    }
    return 0;
}

int window_open(RenderWindow **win, Render **r, const char *cmd, const char *target, int W, int H)
{
    char title[600], err[1024];
    snprintf(title, sizeof title, "equigrid %s - %s", cmd, target);
    *r = NULL;
    *win = render_window_open(title, W, H, err, sizeof err);
    if (!*win) {
        fprintf(stderr, "equigrid %s: %s; use `equigrid record CHECKPOINT --gif out.gif` to render headless\n", cmd, err);
        return -1;
    }
    *r = render_create(NULL, err, sizeof err);
    if (!*r) {
        fprintf(stderr, "equigrid %s: %s\n", cmd, err);
        return -1;
    }
    const char *warn = render_warning(*r);
    if (warn)
        fprintf(stderr, "equigrid %s: warning: %s\n", cmd, warn);
    return 0;
}

int window_next_frame(const WindowArgs *wa, long *frames)
{
    if (wa->max_frames > 0 && ++*frames >= wa->max_frames)
        return 1;
    SDL_Delay(FRAME_MS);
    return 0;
}

void window_summary(const char *cmd, const char *why, const Episode *ep)
{
    printf("equigrid %s: %s after %ld steps in %ld episodes (%ld finished, %ld reached the goal)\n", cmd, why, ep->total_steps,
           ep->episode, ep->finished, ep->successes);
}

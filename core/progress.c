/* progress.c - progress bar and progress lines (see progress.h). */
#include "progress.h"

enum { BAR_WIDTH = 30 };

void progress_duration(char *buf, size_t len, double s)
{
    if (s < 0) {
        snprintf(buf, len, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", t / 60, t % 60);
}

void progress_print(FILE *f, ProgressStyle style, const Progress *p)
{
    char el[32], eta[32];
    progress_duration(el, sizeof el, p->elapsed);
    progress_duration(eta, sizeof eta, p->eta);
    const char *unit = p->unit ? p->unit : "", *sp = unit[0] ? " " : "";
    const char *detail = p->detail ? p->detail : "";
    if (style == PROGRESS_LINE) {
        double pct = p->total > 0 ? 100.0 * (double)p->done / (double)p->total : 0.0;
        fprintf(f, "progress: %ld/%ld%s%s (%.0f %%), %s elapsed, ETA %s%s%s\n", p->done, p->total, sp, unit, pct, el, eta, detail[0] ? ", " : "", detail);
    } else {
        char bar[BAR_WIDTH + 1];
        long fill = p->total > 0 ? p->done * BAR_WIDTH / p->total : 0;
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(f, "\r[%s] %ld/%ld%s%s  %s elapsed  ETA %s%s%s ", bar, p->done, p->total, sp, unit, el, eta, detail[0] ? "  " : "", detail);
    }
    fflush(f);
}

void progress_end(FILE *f, ProgressStyle style)
{
    if (style == PROGRESS_BAR)
        fputc('\n', f);
    fflush(f);
}

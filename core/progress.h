/* progress.h - the one progress display of long commands (train, compare,
 * transfer). Formatting only: the caller measures, decides how often to
 * draw and owns the stream.
 *
 * Two styles of the same record: PROGRESS_BAR redraws one terminal line in
 * place ("\r[####....] 120/500 runs  01:02 elapsed  ETA 04:10  detail"), and
 * PROGRESS_LINE prints a plain line per call ("progress: 120/500 runs (24 %),
 * 01:02 elapsed, ETA 04:10, detail"), for logs and other non-terminals. */
#ifndef EQUIGRID_CORE_PROGRESS_H
#define EQUIGRID_CORE_PROGRESS_H

#include <stdio.h>

typedef enum { PROGRESS_BAR, PROGRESS_LINE } ProgressStyle;

/* One progress record. */
typedef struct {
    long done;          /* units finished, 0..total */
    long total;         /* units planned; <= 0 draws an empty bar */
    const char *unit;   /* after "done/total", e.g. "runs"; NULL or "" for none */
    double elapsed;     /* seconds since the start */
    double eta;         /* seconds left; < 0 = unknown ("--:--") */
    const char *detail; /* free text at the end; NULL for none */
} Progress;

/* "mm:ss", or "h:mm:ss" from an hour on, of s seconds rounded to the
 * nearest second (negative: "--:--"), into buf. */
void progress_duration(char *buf, size_t len, double s);

/* Draws p on f in the given style and flushes f. */
void progress_print(FILE *f, ProgressStyle style, const Progress *p);

/* Ends a sequence of progress_print calls: a newline after a bar (so that
 * the next output starts on its own line), nothing after lines. */
void progress_end(FILE *f, ProgressStyle style);

#endif

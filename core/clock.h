/* clock.h - the monotonic clock: elapsed wall time for progress, ETAs,
 * throughput figures and time limits. Never affects results. */
#ifndef EQUIGRID_CORE_CLOCK_H
#define EQUIGRID_CORE_CLOCK_H

/* Seconds on CLOCK_MONOTONIC since an arbitrary origin (nanosecond
 * resolution); only differences are meaningful. Cannot fail. */
double clock_seconds(void);

#endif

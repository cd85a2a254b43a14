/* bench_clock.h - the one clock of `make bench`'s programs: CLOCK_MONOTONIC
 * seconds, which every process on the machine shares, so that the bench can
 * subtract the time it forked from a time its child printed. */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif

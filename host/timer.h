/* timer.h — wall-clock seconds for benchmarks and progress lines. */
#ifndef HS_TIMER_H
#define HS_TIMER_H

#include <time.h>

static inline double hs_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif

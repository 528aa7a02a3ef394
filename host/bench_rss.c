/* bench_rss.c — the process's peak resident memory for the benchmarks, to
 * set beside the device memory the context counts: on a CPU device the two
 * should be close, and a gap is memory the allocator keeps. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

void hs_peak_rss_reset(void)
{
    /* Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current
     * resident size. Elsewhere the peak stays the whole run's. */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

double hs_peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0 && sscanf(line + 6, "%ld", &kib) == 1) break;
    if (f) fclose(f);
    if (kib >= 0) return kib / 1024.0;
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0.0;
    return usage.ru_maxrss / 1024.0; /* KiB on Linux and the BSDs */
}

/* bench.h — the benchmarks behind `hirestyle bench`. Each prints a table on
 * stdout; tools/bench.sh runs the PyTorch peer beside them for ratios. */
#ifndef HS_BENCH_H
#define HS_BENCH_H

#include "hirestyle.h"

hs_status hs_bench_ops(hs_context *ctx, const int *sizes, int size_count, int repeat);
/* `hirestyle tune`: time `candidates` GEMM parameter sets, store the best. */
hs_status hs_tune_gemm(hs_context *ctx, int candidates, int quiet);

#endif

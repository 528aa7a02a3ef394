/* bench.h — the benchmarks behind `hirestyle bench`. Each prints a table on
 * stdout; tools/bench.sh runs the PyTorch peer beside them for ratios. */
#ifndef HS_BENCH_H
#define HS_BENCH_H

#include "hirestyle.h"

/* Median seconds of `repeat` calls of run(arg), each waited for, after one
 * untimed call when warm_up (bench_ops.c). */
typedef hs_status (*hs_bench_fn)(void *arg);
hs_status hs_bench_median(hs_context *ctx, hs_bench_fn run, void *arg, int warm_up, int repeat,
                          double *median);

hs_status hs_bench_ops(hs_context *ctx, const int *sizes, int size_count, int repeat);
/* Every row of the layer table on one instance (bench_layers.c); part of bench ops. */
hs_status hs_bench_layers(hs_context *ctx, int repeat);
/* The Gram matrices of ResNet50's style layers, forward and backward, at
 * each image size (bench_gram.c); part of bench ops. */
hs_status hs_bench_gram(hs_context *ctx, const int *sizes, int size_count, int repeat);
/* `bench upscale`: MP/s and peak device memory of esrgan-{thick,medium,slim}-x4
 * on a size×size image (bench_upscale.c). */
hs_status hs_bench_upscale(hs_context *ctx, int size, int repeat);
/* Style-transfer iterations with each weights file at size×(3/4 size). */
hs_status hs_bench_style(hs_context *ctx, const char *const *weights, int count, int size,
                         const int *blocks, int block_count, int iterations);
/* The process's peak resident memory in MiB since the last reset (bench_rss.c). */
void hs_peak_rss_reset(void);
double hs_peak_rss_mib(void);
/* `hirestyle tune`: time `candidates` GEMM parameter sets, store the best. */
hs_status hs_tune_gemm(hs_context *ctx, int candidates, int quiet);
/* Its conv part: the fastest conv algorithm per layer shape, stored (tune_conv.c). */
hs_status hs_tune_conv(hs_context *ctx, int quiet);

#endif

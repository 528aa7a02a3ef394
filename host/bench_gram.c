/* bench_gram.c — the Gram part of `hirestyle bench ops`: the Gram matrices
 * of ResNet50's style layers (conv1_relu, res2c, res3d, res4f) for a
 * size×size image, forward G = F·Fᵀ (a product whose right operand is
 * stored transposed) and backward (dG + dGᵀ)·F (host/op_gram.c).
 * GFLOP/s count the whole product, 2·C²·H·W, as torch.mm(F, F.t()) does
 * in the peer (tools/bench_ops_torch.py), though the forward computes only
 * the lower triangle. Each time is one warm-up run, then the median of
 * --repeat runs.
 */
#include "bench.h"
#include "engine.h"

#include <stdio.h>

typedef struct gram_job { hs_tensor in, gram, din; } gram_job;

static hs_status run_forward(void *arg)
{
    gram_job *j = arg;
    return hs_gram_forward(&j->gram, &j->in, 1.0f);
}

static hs_status run_backward(void *arg)
{
    gram_job *j = arg;
    return hs_gram_backward(&j->din, &j->gram, &j->in, 1.0f);
}

static hs_status bench_one(hs_context *ctx, const char *layer, int c, int side, int repeat)
{
    gram_job j = {0};
    hs_status st = hs_tensor_alloc(ctx, &j.in, 1, c, side, side);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &j.gram, 1, 1, c, c);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &j.din, 1, c, side, side);
    if (st == HS_OK) st = hs_tensor_fill(&j.in, 0.01f);
    double fwd = 0, bwd = 0;
    if (st == HS_OK) st = hs_bench_median(ctx, run_forward, &j, 1, repeat, &fwd);
    if (st == HS_OK) st = hs_bench_median(ctx, run_backward, &j, 1, repeat, &bwd);
    hs_tensor_free(&j.in);
    hs_tensor_free(&j.gram);
    hs_tensor_free(&j.din);
    if (st != HS_OK) return st;
    double gflop = 2.0 * c * c * side * side * 1e-9;
    printf("%-7s %-10s %4d %6d  %9.2f %7.1f  %9.2f %7.1f\n", "gram", layer, c, side * side,
           fwd * 1e3, gflop / fwd, bwd * 1e3, gflop / bwd);
    fflush(stdout);
    return HS_OK;
}

hs_status hs_bench_gram(hs_context *ctx, const int *sizes, int size_count, int repeat)
{
    static const struct { const char *layer; int c, shift; } layers[] = {
        {"conv1_relu", 64, 1}, {"res2c", 256, 2}, {"res3d", 512, 3}, {"res4f", 1024, 4},
    };
    printf("(Gram matrices of ResNet50's style layers, F: C x H*W; GFLOP/s of 2*C*C*H*W)\n");
    printf("%-7s %-10s %4s %6s  %9s %7s  %9s %7s\n", "net", "layer", "C", "H*W", "fwd ms",
           "GFLOP/s", "bwd ms", "GFLOP/s");
    for (int i = 0; i < size_count; i++)
        for (size_t k = 0; k < sizeof layers / sizeof layers[0]; k++)
            HS_TRY(bench_one(ctx, layers[k].layer, layers[k].c, sizes[i] >> layers[k].shift,
                             repeat));
    return HS_OK;
}

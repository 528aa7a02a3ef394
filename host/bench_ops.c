/* bench_ops.c — `hirestyle bench ops`: time and GFLOP/s of the conv layers
 * style transfer and super-resolution spend their time in, forward and
 * backward-input, and the GEMM alone (hs_gemm: hirestyle's kernel or
 * CLBlast, as the device is set up) at the same GEMM shapes.
 *
 * Every conv is timed by the algorithm the device picks for it and, forward,
 * by each of im2col, Winograd F(2×2,3×3) and F(4×4,3×3) (3×3 only) and the
 * implicit GEMM (host/conv_algorithm.c).
 *
 * Shapes: every distinct 3×3 conv of VGG19 at the requested image sizes,
 * the 64-channel 3×3 convs of the SR generators on a 128×128 tile and the
 * convs of their tails (esrgan-slim's 4-channel dense layers, the 5×5, the
 * 3×3s to 48 channels, and the RGB conv after the x4 upsampling as inference
 * folds it: 48 to 48 at 128²). 'Same' padding. Each
 * measurement is one warm-up run, then the median of --repeat runs. Then
 * the Gram matrices of ResNet50's style layers at the same image sizes
 * (bench_gram.c) and every kind of the layer table (bench_layers.c).
 */
#include "bench.h"
#include "engine.h"
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct conv_shape { const char *net; const char *layer; int ic, oc, size, k; } conv_shape;

/* VGG19's distinct convs at image size s (the layer's input is s >> pools). */
static int vgg19_shapes(int s, conv_shape *out)
{
    static const struct { const char *layer; int ic, oc, shift; } vgg[] = {
        {"conv1_1", 3, 64, 0},    {"conv1_2", 64, 64, 0},   {"conv2_1", 64, 128, 1},
        {"conv2_2", 128, 128, 1}, {"conv3_1", 128, 256, 2}, {"conv3_2-4", 256, 256, 2},
        {"conv4_1", 256, 512, 3}, {"conv4_2-4", 512, 512, 3}, {"conv5_1-4", 512, 512, 4},
    };
    int n = (int)(sizeof vgg / sizeof vgg[0]);
    for (int i = 0; i < n; i++)
        out[i] = (conv_shape){"vgg19", vgg[i].layer, vgg[i].ic, vgg[i].oc, s >> vgg[i].shift, 3};
    return n;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

hs_status hs_bench_median(hs_context *ctx, hs_bench_fn run, void *arg, int warm_up, int repeat,
                          double *median)
{
    double times[64];
    if (repeat > 64) repeat = 64;
    if (warm_up) {
        HS_TRY(run(arg));
        HS_TRY(hs_finish(ctx));
    }
    for (int r = 0; r < repeat; r++) {
        double t0 = hs_seconds();
        HS_TRY(run(arg));
        HS_TRY(hs_finish(ctx));
        times[r] = hs_seconds() - t0;
    }
    qsort(times, (size_t)repeat, sizeof times[0], compare_doubles);
    *median = times[repeat / 2];
    return HS_OK;
}

typedef struct conv_job {
    hs_tensor in, weight, bias, out, din;
    hs_conv_params p;
    hs_context *ctx;
    cl_mem a, b, c; /* SGEMM operands at the conv's GEMM shape */
    size_t m, n, k;
} conv_job;

static hs_status run_forward(void *arg)
{
    conv_job *j = arg;
    return hs_conv2d_forward(&j->out, &j->in, &j->weight, &j->bias, j->p);
}

static hs_status run_backward(void *arg)
{
    conv_job *j = arg;
    return hs_conv2d_backward(&j->din, NULL, NULL, &j->out, &j->in, &j->weight, j->p);
}

static hs_status run_sgemm(void *arg)
{
    conv_job *j = arg;
    return hs_gemm(j->ctx, j->m, j->n, j->k, 1.0f, (hs_matrix){j->a, 0, j->k, 0},
                   (hs_matrix){j->b, 0, j->n, 0}, 0.0f, (hs_matrix){j->c, 0, j->n, 0});
}

static void conv_job_free(conv_job *j)
{
    hs_tensor_free(&j->in);
    hs_tensor_free(&j->weight);
    hs_tensor_free(&j->bias);
    hs_tensor_free(&j->out);
    hs_tensor_free(&j->din);
    hs_buffer_free(j->ctx, j->a, j->m * j->k * sizeof(float));
    hs_buffer_free(j->ctx, j->b, j->k * j->n * sizeof(float));
    hs_buffer_free(j->ctx, j->c, j->m * j->n * sizeof(float));
}

static hs_status conv_job_alloc(hs_context *ctx, const conv_shape *s, conv_job *j)
{
    memset(j, 0, sizeof *j);
    j->ctx = ctx;
    j->m = (size_t)s->oc;
    j->n = (size_t)s->size * s->size;
    j->k = (size_t)s->ic * s->k * s->k;
    j->p = (hs_conv_params){1, s->k / 2, s->k / 2};
    HS_TRY(hs_tensor_alloc(ctx, &j->in, 1, s->ic, s->size, s->size));
    HS_TRY(hs_tensor_alloc(ctx, &j->weight, s->oc, s->ic, s->k, s->k));
    HS_TRY(hs_tensor_alloc(ctx, &j->bias, 1, s->oc, 1, 1));
    HS_TRY(hs_tensor_alloc(ctx, &j->out, 1, s->oc, s->size, s->size));
    HS_TRY(hs_tensor_alloc(ctx, &j->din, 1, s->ic, s->size, s->size));
    HS_TRY(hs_buffer_alloc(ctx, j->m * j->k * sizeof(float), &j->a));
    HS_TRY(hs_buffer_alloc(ctx, j->k * j->n * sizeof(float), &j->b));
    HS_TRY(hs_buffer_alloc(ctx, j->m * j->n * sizeof(float), &j->c));
    hs_tensor *all[] = {&j->in, &j->weight, &j->bias, &j->out, &j->din};
    for (int i = 0; i < 5; i++) HS_TRY(hs_tensor_fill(all[i], 0.01f * (float)(i + 1)));
    return HS_OK;
}

/* Forward by `algorithm` (HS_CONV_*), or as the device would pick (-1). */
static hs_status time_forward(hs_context *ctx, conv_job *j, int algorithm, int repeat,
                              double *seconds)
{
    int keep = ctx->conv_force;
    ctx->conv_force = algorithm;
    hs_status st = hs_bench_median(ctx, run_forward, j, 1, repeat, seconds);
    ctx->conv_force = keep;
    return st;
}

static hs_status bench_shape(hs_context *ctx, const conv_shape *s, int repeat)
{
    conv_job j;
    hs_status st = conv_job_alloc(ctx, s, &j);
    double fwd = 0, bwd = 0, gemm = 0, by[HS_CONV_ALGORITHMS] = {0};
    for (int a = HS_CONV_IM2COL; st == HS_OK && a < HS_CONV_ALGORITHMS; a++) {
        by[a] = -1; /* not timed: Winograd where it does not apply */
        int forced = ctx->conv_force;
        ctx->conv_force = a;
        int applies = (int)hs_conv_algorithm_for(ctx, s->ic, s->oc, s->size, s->size, s->k,
                                                 s->k, j.p) == a;
        ctx->conv_force = forced;
        if (applies) st = time_forward(ctx, &j, a, repeat, &by[a]);
    }
    if (st == HS_OK) st = time_forward(ctx, &j, ctx->conv_force, repeat, &fwd);
    if (st == HS_OK) st = hs_bench_median(ctx, run_backward, &j, 1, repeat, &bwd);
    if (st == HS_OK) st = hs_bench_median(ctx, run_sgemm, &j, 1, repeat, &gemm);
    conv_job_free(&j);
    if (st != HS_OK) return st;
    hs_conv_algorithm used = hs_conv_algorithm_for(ctx, s->ic, s->oc, s->size, s->size, s->k,
                                                   s->k, j.p);
    double gflop = 2.0 * j.m * j.n * j.k * 1e-9; /* a direct conv's */
    printf("%-7s %-10s %4d %4d %5d  %9.2f %7.1f  %9.2f %7.1f  %-9s", s->net, s->layer, s->ic,
           s->oc, s->size, fwd * 1e3, gflop / fwd, bwd * 1e3, gflop / bwd,
           hs_conv_algorithm_name(used));
    for (int a = HS_CONV_IM2COL; a < HS_CONV_ALGORITHMS; a++)
        if (by[a] >= 0) printf(" %8.2f", by[a] * 1e3);
        else printf(" %8s", "-");
    printf(" %5.2f  %5zux%-6zux%4zu %7.1f\n", gemm / fwd, j.m, j.n, j.k, gflop / gemm);
    fflush(stdout);
    return HS_OK;
}

hs_status hs_bench_ops(hs_context *ctx, const int *sizes, int size_count, int repeat)
{
    printf("device: %s (%s)\n", ctx->dev.name, ctx->dev.platform_name);
    printf("(conv GFLOP/s count a direct conv's FLOPs whatever the algorithm; fwd and bwd-in\n"
           " by the algorithm picked for the shape, `algorithm`; forward ms by each; the\n"
           " forward's rate over its GEMM's, x GEMM)\n");
    printf("%-7s %-10s %4s %4s %5s  %9s %7s  %9s %7s  %-9s %8s %8s %8s %8s %8s %5s  %-17s %7s\n",
           "net", "layer", "in", "out", "size", "fwd ms", "GFLOP/s", "bwd-in ms", "GFLOP/s",
           "algorithm", "im2col", "F2x2", "F4x4", "implicit", "few", "xGEMM", "GEMM MxNxK",
           "GEMM");
    for (int i = 0; i < size_count; i++) {
        conv_shape shapes[16];
        int n = vgg19_shapes(sizes[i], shapes);
        for (int k = 0; k < n; k++) HS_TRY(bench_shape(ctx, &shapes[k], repeat));
    }
    static const conv_shape sr[] = {
        {"sr", "64ch-3x3", 64, 64, 128, 3}, {"sr", "slim-dense", 64, 4, 128, 3},
        {"sr", "UPN1-5x5", 64, 64, 128, 5}, {"sr", "UPN3/up", 32, 48, 128, 3},
        {"sr", "thick-up", 64, 48, 128, 3}, {"sr", "SR-folded", 48, 48, 128, 3},
    };
    for (size_t i = 0; i < sizeof sr / sizeof sr[0]; i++) HS_TRY(bench_shape(ctx, &sr[i], repeat));
    HS_TRY(hs_bench_gram(ctx, sizes, size_count, repeat));
    return hs_bench_layers(ctx, repeat);
}

/* bench_layers.c — the layer-table part of `hirestyle bench ops`: every row
 * of the layer table (layers.h) timed on one typical instance at the SR
 * generators' working size (64 channels, a 128×128 tile): forward, backward
 * w.r.t. the inputs and w.r.t. the weights, through the row's own columns,
 * so a new kind is timed as soon as it has a row and an instance here.
 * Each time is one warm-up run, then the median of --repeat runs.
 */
#include "bench.h"
#include "engine.h"
#include "layers.h"

#include <stdio.h>
#include <string.h>

#define SIDE 128
#define CH 64

typedef struct layer_instance {
    const char *kind;  /* the row's name */
    hs_layer layer;    /* parameters and output channels */
    int inputs;        /* each of CH channels, SIDE×SIDE */
    int weight[4];     /* shape of the weight ({0}: none) */
    int bias;          /* channels of the bias (0: none) */
} layer_instance;

static const layer_instance instances[] = {
    {"Convolution", {.channels = CH, .kernel_h = 3, .kernel_w = 3, .conv = {1, 1, 1}}, 1,
     {CH, CH, 3, 3}, CH},
    {"ReLU", {.channels = CH}, 1, {0}, 0},
    {"LeakyReLU", {.channels = CH, .alpha = 0.2f}, 1, {0}, 0},
    {"PReLU", {.channels = CH}, 1, {1, CH, 1, 1}, 0},
    {"MaxPool", {.channels = CH, .pool = {2, 2, 0, 0}}, 1, {0}, 0},
    {"Add", {.channels = CH, .alpha = 1.0f, .beta = 0.2f}, 2, {0}, 0},
    {"Concat", {.channels = 2 * CH}, 2, {0}, 0},
    {"PixelShuffle", {.channels = CH / 4, .factor = 2}, 1, {0}, 0},
    {"Upsample", {.channels = CH, .factor = 2}, 1, {0}, 0},
    {"TanhHalf", {.channels = CH}, 1, {0}, 0},
    {"Deconvolution", {.channels = CH, .kernel_h = 4, .kernel_w = 4, .conv = {2, 1, 1}}, 1,
     {CH, CH, 4, 4}, CH},
};

/* One instance, allocated: the layer, its inputs, output and gradients. */
typedef struct layer_job {
    const hs_layer_type *type;
    hs_layer layer;
    hs_tensor in[HS_NET_MAX_INPUTS], din[HS_NET_MAX_INPUTS], out, dweight, dbias;
    const hs_tensor *in_ptrs[HS_NET_MAX_INPUTS];
    hs_tensor *din_ptrs[HS_NET_MAX_INPUTS];
} layer_job;

static hs_status run_forward(void *arg)
{
    layer_job *j = arg;
    return j->type->forward(&j->layer, &j->out, j->in_ptrs);
}

static hs_status run_backward(void *arg)
{
    layer_job *j = arg;
    return j->type->backward(&j->layer, j->din_ptrs, &j->out, j->in_ptrs);
}

static hs_status run_backward_weights(void *arg)
{
    layer_job *j = arg;
    return j->type->backward_weights(&j->layer, &j->dweight, j->dbias.buf ? &j->dbias : NULL,
                                     &j->out, j->in_ptrs);
}

static void job_free(layer_job *j)
{
    for (int k = 0; k < HS_NET_MAX_INPUTS; k++) {
        hs_tensor_free(&j->in[k]);
        hs_tensor_free(&j->din[k]);
    }
    hs_tensor *all[] = {&j->out, &j->dweight, &j->dbias, &j->layer.weight, &j->layer.bias};
    for (int k = 0; k < 5; k++) hs_tensor_free(all[k]);
}

static hs_status filled(hs_context *ctx, hs_tensor *t, int n, int c, int h, int w, float value)
{
    HS_TRY(hs_tensor_alloc(ctx, t, n, c, h, w));
    return hs_tensor_fill(t, value);
}

static hs_status job_alloc(hs_context *ctx, const hs_layer_type *type, const layer_instance *li,
                           layer_job *j)
{
    memset(j, 0, sizeof *j);
    j->type = type;
    j->layer = li->layer;
    j->layer.kind = type->kind;
    j->layer.input_count = li->inputs;
    snprintf(j->layer.name, sizeof j->layer.name, "%s", li->kind);
    for (int k = 0; k < li->inputs; k++) {
        HS_TRY(filled(ctx, &j->in[k], 1, CH, SIDE, SIDE, 0.5f - 0.1f * (float)k));
        HS_TRY(filled(ctx, &j->din[k], 1, CH, SIDE, SIDE, 0.0f));
        j->in_ptrs[k] = &j->in[k];
        j->din_ptrs[k] = &j->din[k];
    }
    const int *w = li->weight;
    if (w[0]) {
        HS_TRY(filled(ctx, &j->layer.weight, w[0], w[1], w[2], w[3], 0.01f));
        HS_TRY(filled(ctx, &j->dweight, w[0], w[1], w[2], w[3], 0.0f));
    }
    if (li->bias) {
        HS_TRY(filled(ctx, &j->layer.bias, 1, li->bias, 1, 1, 0.01f));
        HS_TRY(filled(ctx, &j->dbias, 1, li->bias, 1, 1, 0.0f));
    }
    hs_tensor shape;
    HS_TRY(type->shape(&j->layer, j->in_ptrs, &shape));
    return filled(ctx, &j->out, shape.n, shape.c, shape.h, shape.w, 0.25f);
}

/* A time in ms, or "-" when the pass does not exist (negative). */
static void print_ms(double seconds)
{
    if (seconds >= 0) printf("  %9.2f", seconds * 1e3);
    else printf("  %9s", "-");
}

/* One line: the kind, its output, forward, backward-input and backward-weights ms
 * (and a conv's algorithm). */
static hs_status bench_instance(hs_context *ctx, const hs_layer_type *type,
                                const layer_instance *li, int repeat)
{
    layer_job j;
    double fwd = 0, bwd = -1, bwd_w = -1;
    hs_status st = job_alloc(ctx, type, li, &j);
    if (st == HS_OK) st = hs_bench_median(ctx, run_forward, &j, 1, repeat, &fwd);
    if (st == HS_OK && type->backward)
        st = hs_bench_median(ctx, run_backward, &j, 1, repeat, &bwd);
    if (st == HS_OK && type->backward_weights)
        st = hs_bench_median(ctx, run_backward_weights, &j, 1, repeat, &bwd_w);
    if (st == HS_OK) {
        printf("layer %-13s %dx%dx%dx%d -> %dx%dx%d  %9.2f", type->name, li->inputs, CH, SIDE,
               SIDE, j.out.c, j.out.h, j.out.w, fwd * 1e3);
        print_ms(bwd);
        print_ms(bwd_w);
        if (type->kind == HS_LAYER_CONV) /* which algorithm it ran by (bench ops compares) */
            printf("  %s", hs_conv_algorithm_name(hs_conv_algorithm_for(
                                ctx, CH, li->layer.channels, SIDE, SIDE, li->layer.kernel_h,
                                li->layer.kernel_w, li->layer.conv)));
        putchar('\n');
    }
    job_free(&j);
    return st == HS_OK ? HS_OK : hs_fail_context(st, "bench ops: %s layer", type->name);
}

hs_status hs_bench_layers(hs_context *ctx, int repeat)
{
    printf("layer %-13s %-26s %9s  %9s  %9s\n", "kind", "inputs -> output", "fwd ms",
           "bwd-in ms", "bwd-w ms");
    for (int i = 0; i < HS_LAYER_KIND_COUNT; i++) {
        const hs_layer_type *type = hs_layer_type_at(i);
        if (!type) return hs_fail(HS_ERR_INTERNAL, "bench ops: layer kind %d has no row", i);
        if (type->kind == HS_LAYER_INPUT) continue;
        const layer_instance *li = NULL;
        for (size_t k = 0; k < sizeof instances / sizeof instances[0]; k++)
            if (strcmp(instances[k].kind, type->name) == 0) li = &instances[k];
        if (!li) {
            printf("layer %-13s (no instance in host/bench_layers.c)\n", type->name);
            continue;
        }
        HS_TRY(bench_instance(ctx, type, li, repeat));
        fflush(stdout);
    }
    return HS_OK;
}

/* cli_bench.c — `hirestyle bench ops|style|upscale`: the benchmarks, one
 * table each; tools/bench.sh runs the PyTorch peers beside them. */
#include "bench.h"
#include "cli.h"
#include "weights.h"

#include <stdio.h>
#include <string.h>

static void bench_help(void)
{
    printf("usage: hirestyle bench ops|style|upscale [OPTIONS]\n\n"
           "bench ops: the conv layers of VGG19 and the SR generators, forward and\n"
           "backward-input, ms and GFLOP/s, and CLBlast SGEMM at the same GEMM shapes;\n"
           "the Gram matrices of ResNet50's style layers, forward and backward;\n"
           "then every kind of the layer table on a 64-channel 128x128 tile, forward,\n"
           "backward w.r.t. the inputs and w.r.t. the weights.\n"
           "      --sizes LIST       image sizes of the VGG19 and Gram rows (default:\n"
           "                         256,512)\n"
           "      --repeat N         timed runs per measurement, median (default: 3)\n\n"
           "bench style: seconds per style-transfer iteration (forward, loss, backward,\n"
           "Adam step) and peak device memory, per feature network.\n"
           "      --image-size N     longer side of the 4:3 image (default: 256)\n"
           "      --iters N          timed iterations after 2 warm-up ones (default: 10)\n"
           "      --blocks LIST      block sides to time the loss in, 0 = the whole image\n"
           "                         (default: as a painting would, blocks only if needed)\n"
           "      --weights LIST     weights files (default: vgg19 and resnet50, those\n"
           "                         fetched)\n\n"
           "bench upscale: output megapixels/s and peak device memory of esrgan-thick,\n"
           "-medium and -slim x4 on one image.\n"
           "      --size N           input image side (default: 128)\n"
           "      --repeat N         timed runs per model, median (default: 1)\n\n"
           "tools/bench.sh runs all three with PyTorch doing the same work and prints\n"
           "ratios.\n");
    cli_common_help();
}

typedef struct bench_args {
    cli_common common;
    int sizes[8], size_count;   /* ops */
    int image_size, iterations; /* style */
    int blocks[8], block_count;
    const char *weights[4];
    int weights_count;
    int size;                   /* upscale */
    int repeat;                 /* ops, upscale; 0 = the benchmark's default */
} bench_args;

enum { B_SIZES = 1, B_IMAGE_SIZE, B_BLOCKS, B_ITERS, B_SIZE, B_REPEAT, B_WEIGHTS };

static const cli_option bench_options[] = {
    {"sizes", 0, NULL, CLI_VALUE, B_SIZES},   {"image-size", 0, NULL, CLI_VALUE, B_IMAGE_SIZE},
    {"blocks", 0, NULL, CLI_VALUE, B_BLOCKS}, {"iters", 0, NULL, CLI_VALUE, B_ITERS},
    {"size", 0, NULL, CLI_VALUE, B_SIZE},     {"repeat", 0, NULL, CLI_VALUE, B_REPEAT},
    {"weights", 0, NULL, CLI_VALUE, B_WEIGHTS},
};

static int set_bench_option(void *state, const cli_option *o, const char *n, const char *v)
{
    bench_args *a = state;
    switch (o->id) {
    case B_SIZES: return (a->size_count = cli_parse_int_list(n, v, 16, 8192, a->sizes, 8)) < 0;
    case B_IMAGE_SIZE: return cli_parse_int(n, v, 16, 8192, &a->image_size);
    case B_BLOCKS: return (a->block_count = cli_parse_int_list(n, v, 0, 65536, a->blocks, 8)) < 0;
    case B_ITERS: return cli_parse_int(n, v, 1, 10000, &a->iterations);
    case B_SIZE: return cli_parse_int(n, v, 8, 8192, &a->size);
    case B_REPEAT: return cli_parse_int(n, v, 1, 64, &a->repeat);
    }
    static char list[4096]; /* --weights A,B: split in a copy the names point into */
    snprintf(list, sizeof list, "%s", v);
    for (char *save = NULL, *w = strtok_r(list, ",", &save); w && a->weights_count < 4;
         w = strtok_r(NULL, ",", &save))
        a->weights[a->weights_count++] = w;
    return 0;
}

/* The feature networks that have been fetched. */
static int default_weights(const char **out, char paths[2][4096])
{
    int n = 0;
    const char *names[2] = {"vgg19.safetensors", "resnet50.safetensors"};
    for (int i = 0; i < 2; i++)
        if (hs_find_weights(names[i], paths[n], sizeof paths[n]) == HS_OK) {
            out[n] = paths[n];
            n++;
        }
    return n;
}

int cli_bench(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        bench_help();
        return argc < 2 ? HS_ERR_USAGE : 0;
    }
    const char *what = argv[1];
    if (strcmp(what, "ops") && strcmp(what, "style") && strcmp(what, "upscale")) {
        fprintf(stderr, "hirestyle bench: unknown benchmark '%s' (ops, style or upscale)\n", what);
        return HS_ERR_USAGE;
    }
    bench_args a = {.sizes = {256, 512}, .size_count = 2, .image_size = 256, .iterations = 10,
                    .blocks = {HS_STYLE_BLOCK_AUTO}, .block_count = 1, .size = 128};
    cli_table tables[] = {CLI_TABLE(bench_options, set_bench_option, &a),
                          cli_common_table(&a.common)};
    int rc = cli_parse("bench", argc - 1, argv + 1, tables, 2);
    if (rc == CLI_HELP) bench_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    char paths[2][4096];
    if (!strcmp(what, "style") && a.weights_count == 0 &&
        (a.weights_count = default_weights(a.weights, paths)) == 0)
        return cli_report(hs_find_weights("resnet50.safetensors", paths[0], sizeof paths[0]));
    hs_context *ctx;
    if ((rc = cli_open_context(&a.common, &ctx))) return rc;
    hs_status st;
    if (!strcmp(what, "ops"))
        st = hs_bench_ops(ctx, a.sizes, a.size_count, a.repeat ? a.repeat : 3);
    else if (!strcmp(what, "style"))
        st = hs_bench_style(ctx, a.weights, a.weights_count, a.image_size, a.blocks,
                            a.block_count, a.iterations);
    else
        st = hs_bench_upscale(ctx, a.size, a.repeat ? a.repeat : 1);
    hs_context_destroy(ctx);
    return cli_report(st);
}

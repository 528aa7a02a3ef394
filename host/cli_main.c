/* cli_main.c — the hirestyle command: dispatch to subcommands, the options
 * they share, and error reporting. */
#include "cli.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cli_devices, "list OpenCL platforms and devices"},
    {"run", cli_run, "style transfer, then super-resolution: a high-resolution painting"},
    {"style", cli_style, "paint a photo in the style of one or more paintings"},
    {"upscale", cli_upscale, "enlarge an image 2-8x with a GAN super-resolution network"},
    {"models", cli_models, "list the upscaling models found (weights and ncnn models)"},
    {"bench", cli_bench, "time ops, style iterations or upscaling on the device"},
    {"tune", cli_tune, "pick the fastest GEMM for the device (stored in the cache)"},
    {"graph", cli_graph, "print a network as text, one line per layer"},
    {"train-sr", cli_train_sr, "train a super-resolution network on a folder of photographs"},
};
static const int command_count = sizeof commands / sizeof commands[0];

static void usage(FILE *out)
{
    fprintf(out, "usage: hirestyle COMMAND [OPTIONS]\n\n"
                 "High-resolution neural style transfer on any OpenCL device.\n\n"
                 "Commands:\n");
    for (int i = 0; i < command_count; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `hirestyle COMMAND --help` for a command's options, with their defaults.\n"
                 "Environment: HIRESTYLE_DEVICE (default device), HIRESTYLE_WEIGHTS (the\n"
                 "first weights folder searched, before $XDG_DATA_HOME/hirestyle/weights,\n"
                 "PREFIX/share/hirestyle/weights and ./weights; tools/fetch_weights.sh writes\n"
                 "there), HIRESTYLE_MEMORY_LIMIT_MB (cap on device memory),\n"
                 "HIRESTYLE_KERNEL_DIR (kernel sources instead of the built-in ones).\n"
                 "\nExit codes: 0 done, 1 internal error, 2 bad option or unknown device,\n"
                 "3 unreadable file, 4 missing or invalid weights, 5 no OpenCL platform or\n"
                 "usable device, 6 kernel build failure, 7 too large for device or host\n"
                 "memory, 8 out of device memory, 9 interrupted, 10 a kernel the device lacks\n"
                 "the resources to launch, 11 a kernel or driver failure on the device,\n"
                 "12 the loss became infinite or NaN.\n");
}

enum { COMMON_DEVICE = 1, COMMON_DEVICE_TYPE, COMMON_VERBOSE, COMMON_QUIET };

static const cli_option common_options[] = {
    {"device", 'g', NULL, CLI_VALUE, COMMON_DEVICE},
    {NULL, 0, "gpu", CLI_VALUE, COMMON_DEVICE}, /* neural-style's -gpu N */
    {"device-type", 0, NULL, CLI_VALUE, COMMON_DEVICE_TYPE},
    {"verbose", 'v', NULL, CLI_FLAG, COMMON_VERBOSE},
    {"quiet", 'q', NULL, CLI_FLAG, COMMON_QUIET},
    {"help", 'h', NULL, CLI_FLAG, CLI_HELP},
};

static int set_common(void *state, const cli_option *o, const char *spelling, const char *value)
{
    cli_common *common = state;
    switch (o->id) {
    case COMMON_VERBOSE: common->context.verbose = 1; return 0;
    case COMMON_QUIET: common->quiet = 1; return 0;
    case COMMON_DEVICE:
        if (o->name) {
            common->context.device = value;
            return 0;
        }
        common->gpu_given = 1;
        return cli_parse_int(spelling, value, -1, 255, &common->gpu);
    }
    if (strcmp(value, "gpu") == 0) common->context.device_type = HS_DEVICE_GPU;
    else if (strcmp(value, "cpu") == 0) common->context.device_type = HS_DEVICE_CPU;
    else if (strcmp(value, "any") == 0) common->context.device_type = HS_DEVICE_ANY;
    else {
        fprintf(stderr, "hirestyle: %s must be gpu, cpu or any, not '%s'\n", spelling, value);
        return -1;
    }
    return 0;
}

cli_table cli_common_table(cli_common *common)
{
    return CLI_TABLE(common_options, set_common, common);
}

void cli_common_help(void)
{
    printf("  -g, --device N|P:D|NAME  device index as listed by `hirestyle devices`,\n"
           "                         platform:device, or part of a platform or device name\n"
           "                         (default: $HIRESTYLE_DEVICE, else the best-ranked\n"
           "                         device: see `hirestyle devices`); folders and upscale\n"
           "                         take a list, N,M,...: the work is spread over them\n"
           "      --device-type T    gpu, cpu or any: pick the best-ranked device of that\n"
           "                         type (default: any, GPUs first)\n"
           "      -gpu N             neural-style's: the N-th GPU from 0; -1 = the CPU\n"
           "  -v, --verbose          say what is being built, cached and allocated\n"
           "  -q, --quiet            print nothing but errors\n"
           "  -h, --help             this help\n");
}

int cli_report(hs_status status)
{
    if (status != HS_OK) {
        fprintf(stderr, "hirestyle: %s\n", hs_last_error());
        cli_progress_error(status, hs_last_error());
    }
    return (int)status;
}

/* neural-style's -gpu N: the index of the N-th GPU device, as --device takes
 * it, in `spec`. */
static hs_status nth_gpu(int n, char *spec, size_t size)
{
    hs_device_info *list;
    int count, seen = 0;
    hs_status st = hs_list_devices(&list, &count);
    if (st != HS_OK) return st;
    for (int i = 0; i < count; i++)
        if ((list[i].type & CL_DEVICE_TYPE_GPU) && seen++ == n) {
            snprintf(spec, size, "%d", list[i].index);
            free(list);
            return HS_OK;
        }
    free(list);
    return hs_fail(HS_ERR_USAGE, "-gpu %d: %s (-gpu counts GPUs from 0, -1 is the CPU; "
                   "`hirestyle devices` lists the devices)", n,
                   seen ? "there are not that many GPUs" : "there is no GPU");
}

int cli_open_context(const cli_common *common, hs_context **ctx)
{
    hs_context_options options = common->context;
    char spec[16];
    hs_status st = HS_OK;
    if (options.device && strchr(options.device, ','))
        st = hs_fail(HS_ERR_USAGE, "--device %s: a list of devices shares the images of a "
                     "folder, and upscale's tiles; one picture is painted on one device",
                     options.device);
    else if (common->gpu_given && common->gpu < 0) options.device_type = HS_DEVICE_CPU;
    else if (common->gpu_given && (st = nth_gpu(common->gpu, spec, sizeof spec)) == HS_OK)
        options.device = spec;
    if (st == HS_OK) st = hs_context_create(&options, ctx);
    if (st == HS_OK) return 0;
    cli_report(st);
    if (st == HS_ERR_USAGE) cli_print_devices(1);
    return (int)st;
}

int main(int argc, char **argv)
{
#ifdef M_MMAP_THRESHOLD
    /* PoCL's CPU device allocates every device buffer with malloc. glibc
     * serves blocks from their own mapping, returned to the system on free,
     * only above a threshold that rises to 32 MiB as such blocks are freed;
     * below it freed buffers stay in the heap, which then grows with every
     * tile and layer: an esrgan-thick upscale of a 128x128 image held 2.1 GB
     * resident for 0.17 GB of device buffers. A fixed 1 MiB threshold keeps
     * that at 0.27 GB, at the same speed. */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
    if (argc < 2) {
        usage(stderr);
        return HS_ERR_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hirestyle 0.1.0\n");
        return 0;
    }
    for (int i = 0; i < command_count; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int code = commands[i].run(argc - 1, argv + 1);
            cli_progress_end(code);
            return code;
        }
    fprintf(stderr, "hirestyle: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return HS_ERR_USAGE;
}

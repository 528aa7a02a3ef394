/* cli_tune.c — `hirestyle tune`: search GEMM parameters and conv algorithms
 * for the device. */
#include "bench.h"
#include "cli.h"

#include <stdio.h>

static void tune_help(void)
{
    printf("usage: hirestyle tune [OPTIONS]\n\n"
           "Time CLBlast GEMM kernel parameters at the shapes hirestyle uses, and\n"
           "hirestyle's own GEMM kernel, and store for the selected device which is\n"
           "fastest (and CLBlast's best parameters) in ~/.cache/hirestyle; every later\n"
           "run applies them. Without it, PoCL's CPU device uses hirestyle's kernel and\n"
           "other devices CLBlast's own tuning database. hirestyle's kernel is chosen only\n"
           "on PoCL's CPU device, the one it is proven on; either GEMM is checked against\n"
           "exact products before its first use.\n"
           "Then time im2col + GEMM, the implicit GEMM (hirestyle's kernel only), for\n"
           "3x3 stride 1 Winograd F(2x2,3x3) and F(4x4,3x3), and for stride 1 to at\n"
           "most 8 channels the direct conv (few) on the convs of VGG19,\n"
           "ResNet50, SRResNet and the ESRGAN generators, and store the fastest per shape;\n"
           "untuned, convs take the choice measured on a 2-core AVX-512 CPU under PoCL,\n"
           "and im2col on other devices.\n\n"
           "Options:\n"
           "      --candidates N     CLBlast parameter sets to try (default: 60)\n"
           "      --conv-only        only the conv algorithms (a minute or two)\n");
    cli_common_help();
}

static const cli_option tune_options[] = {{"candidates", 0, NULL, CLI_VALUE, 1},
                                          {"conv-only", 0, NULL, CLI_FLAG, 2}};

typedef struct tune_args { int candidates, conv_only; } tune_args;

static int set_option(void *state, const cli_option *o, const char *spelling, const char *value)
{
    tune_args *a = state;
    if (o->id == 2) {
        a->conv_only = 1;
        return 0;
    }
    return cli_parse_int(spelling, value, 1, 10000, &a->candidates);
}

int cli_tune(int argc, char **argv)
{
    cli_common common = {0};
    tune_args args = {60, 0};
    cli_table tables[] = {CLI_TABLE(tune_options, set_option, &args),
                          cli_common_table(&common)};
    int rc = cli_parse("tune", argc, argv, tables, 2);
    if (rc == CLI_HELP) tune_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    hs_context *ctx;
    rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    hs_status st = args.conv_only ? HS_OK : hs_tune_gemm(ctx, args.candidates, common.quiet);
    if (st == HS_OK) st = hs_tune_conv(ctx, common.quiet);
    rc = cli_report(st);
    hs_context_destroy(ctx);
    return rc;
}

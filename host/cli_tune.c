/* cli_tune.c — `hirestyle tune`: search GEMM parameters for the device. */
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
           "exact products before its first use.\n\n"
           "Options:\n"
           "      --candidates N     CLBlast parameter sets to try (default: 60)\n");
    cli_common_help();
}

static const cli_option tune_options[] = {{"candidates", 0, NULL, CLI_VALUE, 1}};

static int set_candidates(void *state, const cli_option *o, const char *spelling,
                          const char *value)
{
    (void)o;
    return cli_parse_int(spelling, value, 1, 10000, state);
}

int cli_tune(int argc, char **argv)
{
    cli_common common = {0};
    int candidates = 60;
    cli_table tables[] = {CLI_TABLE(tune_options, set_candidates, &candidates),
                          cli_common_table(&common)};
    int rc = cli_parse("tune", argc, argv, tables, 2);
    if (rc == CLI_HELP) tune_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    hs_context *ctx;
    rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    rc = cli_report(hs_tune_gemm(ctx, candidates, common.quiet));
    hs_context_destroy(ctx);
    return rc;
}

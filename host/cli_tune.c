/* cli_tune.c — `hirestyle tune`: search GEMM parameters for the device. */
#include "bench.h"
#include "cli.h"

#include <stdio.h>

static void tune_help(void)
{
    printf("usage: hirestyle tune [OPTIONS]\n\n"
           "Time CLBlast GEMM kernel parameters at the shapes hirestyle uses, and hirestyle's\n"
           "own GEMM kernel, and store for the selected device which is fastest (and CLBlast's\n"
           "best parameters) in ~/.cache/hirestyle; every later run applies them. Without it,\n"
           "PoCL's CPU device uses hirestyle's kernel and other devices CLBlast's own tuning\n"
           "database. hirestyle's kernel is chosen only on PoCL's CPU device, the one it is\n"
           "proven on; either GEMM is checked against exact products before its first use.\n\n"
           "Options:\n"
           "      --candidates N     CLBlast parameter sets to try (default: 60)\n");
    cli_common_help();
}

int cli_tune(int argc, char **argv)
{
    cli_common common = {0};
    int candidates = 60;
    for (int i = 1; i < argc; i++) {
        int used = cli_common_option(&common, argc, argv, &i);
        if (used < 0) return HS_ERR_USAGE;
        if (used) continue;
        const char *value;
        if (cli_is(argv[i], "--help", "-h")) {
            tune_help();
            return 0;
        } else if (cli_is(argv[i], "--candidates", NULL)) {
            if (!(value = cli_value(argc, argv, &i)) ||
                cli_parse_int("--candidates", value, 1, 10000, &candidates))
                return HS_ERR_USAGE;
        } else {
            fprintf(stderr, "hirestyle tune: unknown option '%s'\n", argv[i]);
            return HS_ERR_USAGE;
        }
    }
    hs_context *ctx;
    int rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    rc = cli_report(hs_tune_gemm(ctx, candidates, common.quiet));
    hs_context_destroy(ctx);
    return rc;
}

/* cli_bench.c — `hirestyle bench WHAT`: the benchmarks, one table each. */
#include "bench.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void bench_help(void)
{
    printf("usage: hirestyle bench ops [OPTIONS]\n\n"
           "Time the conv layers of VGG19 and the SR generators on the device: forward and\n"
           "backward-input, ms and GFLOP/s, and CLBlast SGEMM at the same GEMM shapes.\n"
           "tools/bench.sh runs PyTorch beside it and prints the ratios.\n\n"
           "Options:\n"
           "      --sizes LIST       image sizes for the VGG19 layers (default: 256,512)\n"
           "      --repeat N         timed runs per measurement, median reported (default: 3)\n");
    cli_common_help();
}

int cli_bench(int argc, char **argv)
{
    if (argc < 2 || cli_is(argv[1], "--help", "-h")) {
        bench_help();
        return argc < 2 ? HS_ERR_USAGE : 0;
    }
    if (strcmp(argv[1], "ops") != 0) {
        fprintf(stderr, "hirestyle bench: unknown benchmark '%s' (try: ops)\n", argv[1]);
        return HS_ERR_USAGE;
    }
    cli_common common = {0};
    int sizes[8] = {256, 512}, size_count = 2, repeat = 3;
    for (int i = 2; i < argc; i++) {
        int used = cli_common_option(&common, argc, argv, &i);
        if (used < 0) return HS_ERR_USAGE;
        if (used) continue;
        const char *value;
        if (cli_is(argv[i], "--help", "-h")) {
            bench_help();
            return 0;
        } else if (cli_is(argv[i], "--sizes", NULL)) {
            if (!(value = cli_value(argc, argv, &i)) ||
                (size_count = cli_parse_int_list("--sizes", value, 16, 8192, sizes, 8)) < 0)
                return HS_ERR_USAGE;
        } else if (cli_is(argv[i], "--repeat", NULL)) {
            if (!(value = cli_value(argc, argv, &i)) ||
                cli_parse_int("--repeat", value, 1, 64, &repeat))
                return HS_ERR_USAGE;
        } else {
            fprintf(stderr, "hirestyle bench ops: unknown option '%s'\n", argv[i]);
            return HS_ERR_USAGE;
        }
    }
    hs_context *ctx;
    int rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    rc = cli_report(hs_bench_ops(ctx, sizes, size_count, repeat));
    hs_context_destroy(ctx);
    return rc;
}

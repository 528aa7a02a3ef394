/* cli_devices.c — `hirestyle devices`: every OpenCL platform and device,
 * with a star on the one the other commands would use given the same
 * --device / --device-type / $HIRESTYLE_DEVICE. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The table; `chosen` is the flat index to star, or -1. */
static int print_table(FILE *out, int chosen)
{
    hs_device_info *list;
    int n;
    hs_status st = hs_list_devices(&list, &n);
    if (st != HS_OK) return cli_report(st);
    fprintf(out, "  %-5s %-5s %-28s %-40s %-4s %4s %10s %10s  %s\n", "index", "P:D", "platform",
            "device", "type", "CUs", "global MiB", "alloc MiB", "OpenCL C");
    for (int i = 0; i < n; i++) {
        const hs_device_info *d = &list[i];
        char pd[16];
        snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
        fprintf(out, "%c %-5d %-5s %-28.28s %-40.40s %-4s %4u %10llu %10llu  %s\n",
                i == chosen ? '*' : ' ', d->index, pd, d->platform_name, d->name,
                hs_device_type_name(d->type), d->compute_units,
                (unsigned long long)(d->global_mem >> 20), (unsigned long long)(d->max_alloc >> 20),
                d->opencl_c_version);
    }
    free(list);
    return 0;
}

int cli_print_devices(int to_stderr) { return print_table(to_stderr ? stderr : stdout, -1); }

int cli_devices(int argc, char **argv)
{
    cli_common common = {0};
    for (int i = 1; i < argc; i++) {
        int used = cli_common_option(&common, argc, argv, &i);
        if (used < 0) return HS_ERR_USAGE;
        if (used) continue;
        if (cli_is(argv[i], "--help", "-h")) {
            printf("usage: hirestyle devices [--device N|P:D] [--device-type gpu|cpu|any]\n\n"
                   "List every OpenCL platform and device with the index that --device takes;\n"
                   "* marks the device the other commands would use with the same options.\n"
                   "HIRESTYLE_DEVICE=N sets the default device for every command.\n");
            return 0;
        }
        fprintf(stderr, "hirestyle devices: unknown option '%s'\n", argv[i]);
        return HS_ERR_USAGE;
    }
    hs_device_info chosen;
    hs_status st = hs_select_device(common.context.device, common.context.device_type, &chosen);
    if (st == HS_ERR_NO_PLATFORM) return cli_report(st);
    int rc = print_table(stdout, st == HS_OK ? chosen.index : -1);
    return st == HS_OK ? rc : cli_report(st); /* an unknown --device: the list, then why */
}

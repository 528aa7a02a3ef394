/* cli_devices.c — `hirestyle devices`: every OpenCL platform and device. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_print_devices(int to_stderr)
{
    FILE *out = to_stderr ? stderr : stdout;
    hs_device_info *list;
    int n;
    hs_status st = hs_list_devices(&list, &n);
    if (st != HS_OK) return cli_report(st);
    fprintf(out, "%-5s %-5s %-28s %-40s %-4s %4s %10s %10s  %s\n", "index", "P:D", "platform",
            "device", "type", "CUs", "global MiB", "alloc MiB", "OpenCL C");
    for (int i = 0; i < n; i++) {
        const hs_device_info *d = &list[i];
        char pd[16];
        snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
        fprintf(out, "%-5d %-5s %-28.28s %-40.40s %-4s %4u %10llu %10llu  %s\n", d->index, pd,
                d->platform_name, d->name, hs_device_type_name(d->type), d->compute_units,
                (unsigned long long)(d->global_mem >> 20), (unsigned long long)(d->max_alloc >> 20),
                d->opencl_c_version);
    }
    free(list);
    return 0;
}

int cli_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: hirestyle devices\n\n"
                   "List every OpenCL platform and device with the index that --device takes.\n"
                   "HIRESTYLE_DEVICE=N sets the default device for every command.\n");
            return 0;
        }
        fprintf(stderr, "hirestyle devices: unknown option '%s'\n", argv[i]);
        return HS_ERR_USAGE;
    }
    return cli_print_devices(0);
}

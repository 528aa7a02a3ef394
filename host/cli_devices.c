/* cli_devices.c — `hirestyle devices`: every OpenCL platform and device,
 * with its rank (the order hirestyle prefers them in when none is chosen),
 * the reason when it cannot be used, and a star on the one the other
 * commands would use given the same --device / --device-type /
 * $HIRESTYLE_DEVICE. */
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
    fprintf(out, "  %-5s %-5s %-4s %-28s %-40s %-9s %4s %5s %10s %10s  %s\n", "index", "P:D",
            "rank", "platform", "device", "type", "CUs", "MHz", "global MiB", "alloc MiB",
            "OpenCL C");
    for (int i = 0; i < n; i++) {
        const hs_device_info *d = &list[i];
        char pd[16], rank[8], type[16];
        snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
        snprintf(rank, sizeof rank, d->rank ? "%d" : "-", d->rank);
        snprintf(type, sizeof type, "%s%s", hs_device_type_name(d->type),
                 (d->type & CL_DEVICE_TYPE_GPU) ? (d->unified_memory ? " integr" : " discr") : "");
        fprintf(out, "%c %-5d %-5s %-4s %-28.28s %-40.40s %-9s %4u %5u %10llu %10llu  %s\n",
                i == chosen ? '*' : ' ', d->index, pd, rank, d->platform_name, d->name, type,
                d->compute_units, d->clock_mhz, (unsigned long long)(d->global_mem >> 20),
                (unsigned long long)(d->max_alloc >> 20), d->opencl_c_version);
        if (d->unusable[0]) fprintf(out, "        not usable: %s\n", d->unusable);
    }
    free(list);
    return 0;
}

int cli_print_devices(int to_stderr) { return print_table(to_stderr ? stderr : stdout, -1); }

static void devices_help(void)
{
    printf("usage: hirestyle devices [--device N|P:D|NAME] [--device-type gpu|cpu|any]\n\n"
           "List every OpenCL platform and device with the index that --device takes\n"
           "and its rank: without a choice hirestyle takes the best-ranked usable one\n"
           "(a discrete GPU, then an integrated one, then a CPU; then the one with more\n"
           "compute units x clock, then more memory). * marks the device the other\n"
           "commands would use with the same options; devices hirestyle cannot use\n"
           "say why.\n"
           "HIRESTYLE_DEVICE=N sets the default device for every command.\n");
}

int cli_devices(int argc, char **argv)
{
    cli_common common = {0};
    cli_table table = cli_common_table(&common);
    int rc = cli_parse("devices", argc, argv, &table, 1);
    if (rc == CLI_HELP) devices_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    hs_device_info chosen;
    hs_status st = hs_select_device(common.context.device, common.context.device_type, &chosen);
    if (st == HS_ERR_NO_PLATFORM) return cli_report(st);
    rc = print_table(stdout, st == HS_OK ? chosen.index : -1);
    return st == HS_OK ? rc : cli_report(st); /* an unknown --device: the list, then why */
}

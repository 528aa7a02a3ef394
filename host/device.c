/* device.c — finding OpenCL devices, ranking them and choosing one.
 *
 * Devices get one flat index over all platforms, in the order the ICD loader
 * reports them; `--device N` takes that index, `--device P:D` a platform and
 * device pair, `--device NAME` the best device whose platform or device name
 * contains NAME ("rusticl", "NVIDIA"). Without a choice: $HIRESTYLE_DEVICE, else the best-ranked
 * usable device (hs_device_rank: a discrete GPU before an integrated one
 * before a CPU, then the faster). A device hirestyle cannot use (no
 * compiler, OpenCL C older than 1.1) is listed with the reason and never
 * chosen.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Packages known to give hirestyle a working device on Debian 12 / Ubuntu. */
#define NO_PLATFORM_HINT                                                               \
    "install an OpenCL driver: on Debian/Ubuntu `apt-get install pocl-opencl-icd` runs " \
    "on any CPU; for GPUs the vendor's ICD (nvidia-opencl-icd, intel-opencl-icd, AMD "  \
    "ROCm), or `apt-get install mesa-opencl-icd libclc-15` for Mesa (AMD GPUs through " \
    "Clover; Intel GPUs through rusticl with RUSTICL_ENABLE=iris, any CPU with "        \
    "RUSTICL_ENABLE=llvmpipe)"

const char *hs_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU) return "GPU";
    if (type & CL_DEVICE_TYPE_CPU) return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

static void query_string(cl_device_id d, cl_device_info what, char *out, size_t size)
{
    if (clGetDeviceInfo(d, what, size, out, NULL) != CL_SUCCESS)
        snprintf(out, size, "?");
    out[size - 1] = '\0';
}

static void describe_device(hs_device_info *info)
{
    cl_device_id d = info->device;
    clGetPlatformInfo(info->platform, CL_PLATFORM_NAME, sizeof info->platform_name,
                      info->platform_name, NULL);
    info->platform_name[sizeof info->platform_name - 1] = '\0';
    query_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    query_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    query_string(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
                 sizeof info->opencl_c_version);
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof info->type, &info->type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof info->compute_units,
                    &info->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof info->clock_mhz, &info->clock_mhz,
                    NULL);
    clGetDeviceInfo(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof info->float_vector_width,
                    &info->float_vector_width, NULL);
    clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof info->unified_memory,
                    &info->unified_memory, NULL);
    clGetDeviceInfo(d, CL_DEVICE_AVAILABLE, sizeof info->available, &info->available, NULL);
    clGetDeviceInfo(d, CL_DEVICE_COMPILER_AVAILABLE, sizeof info->compiler_available,
                    &info->compiler_available, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof info->global_mem, &info->global_mem,
                    NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof info->max_alloc, &info->max_alloc,
                    NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof info->local_mem, &info->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof info->max_work_group,
                    &info->max_work_group, NULL);
}

hs_status hs_list_devices(hs_device_info **out, int *count)
{
    hs_cache_prepare_driver(); /* PoCL needs a usable cache before it starts */
    cl_uint nplat = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &nplat);
    *out = NULL;
    *count = 0;
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && nplat == 0))
        return hs_fail(HS_ERR_NO_PLATFORM, "no OpenCL platform found: " NO_PLATFORM_HINT);
    HS_CL_CHECK(err, "clGetPlatformIDs");

    cl_platform_id *plats = calloc(nplat, sizeof *plats);
    if (!plats) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    err = clGetPlatformIDs(nplat, plats, NULL);
    if (err != CL_SUCCESS) {
        free(plats);
        return hs_cl_fail(err, "clGetPlatformIDs");
    }
    hs_device_info *list = NULL;
    int n = 0;
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint ndev = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev) != CL_SUCCESS ||
            ndev == 0)
            continue; /* a platform without devices is not an error */
        cl_device_id *devs = calloc(ndev, sizeof *devs);
        hs_device_info *grown = realloc(list, (n + ndev) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            free(grown ? grown : list);
            free(plats);
            return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        }
        list = grown;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL);
        for (cl_uint d = 0; d < ndev; d++) {
            hs_device_info *info = &list[n];
            memset(info, 0, sizeof *info);
            info->index = n;
            info->platform_index = (int)p;
            info->device_index = (int)d;
            info->platform = plats[p];
            info->device = devs[d];
            describe_device(info);
            n++;
        }
        free(devs);
    }
    free(plats);
    if (n == 0) {
        free(list);
        return hs_fail(HS_ERR_NO_PLATFORM, "OpenCL platforms exist but report no device: %s",
                       NO_PLATFORM_HINT);
    }
    hs_device_rank(list, n);
    *out = list;
    *count = n;
    return HS_OK;
}

int hs_device_c_version(const hs_device_info *dev)
{
    int major = 0, minor = 0;
    if (sscanf(dev->opencl_c_version, "OpenCL C %d.%d", &major, &minor) != 2) return 0;
    return major * 10 + minor;
}

/* Why the device cannot run hirestyle, into why (left "" when it can). */
static void check_usable(const hs_device_info *d, char *why, size_t size)
{
    why[0] = '\0';
    if (!d->available)
        snprintf(why, size, "the driver reports it unavailable");
    else if (!d->compiler_available)
        snprintf(why, size, "its driver has no OpenCL C compiler");
    else if (hs_device_c_version(d) < 11)
        snprintf(why, size, "it reports '%s'; hirestyle's kernels need OpenCL C 1.1 or later",
                 d->opencl_c_version);
}

/* Kinds of device in order of preference: a discrete GPU has its own
 * memory; an integrated one shares the host's (and is usually slower). */
static int kind_order(const hs_device_info *d)
{
    if (d->type & CL_DEVICE_TYPE_GPU) return d->unified_memory ? 1 : 0;
    if (d->type & CL_DEVICE_TYPE_ACCELERATOR) return 2;
    if (d->type & CL_DEVICE_TYPE_CPU) return 3;
    return 4;
}

/* <0 when a is the better device, >0 when b is; list order breaks ties. */
static int compare(const hs_device_info *a, const hs_device_info *b)
{
    if (!a->unusable[0] != !b->unusable[0]) return a->unusable[0] ? 1 : -1;
    if (kind_order(a) != kind_order(b)) return kind_order(a) - kind_order(b);
    unsigned long long pa = (unsigned long long)a->compute_units * a->clock_mhz;
    unsigned long long pb = (unsigned long long)b->compute_units * b->clock_mhz;
    if (pa != pb) return pa > pb ? -1 : 1;
    if (a->global_mem != b->global_mem) return a->global_mem > b->global_mem ? -1 : 1;
    return a->index - b->index;
}

void hs_device_rank(hs_device_info *list, int n)
{
    for (int i = 0; i < n; i++) check_usable(&list[i], list[i].unusable, sizeof list[i].unusable);
    for (int i = 0; i < n; i++) {
        list[i].rank = 0;
        if (list[i].unusable[0]) continue;
        list[i].rank = 1;
        for (int j = 0; j < n; j++)
            if (j != i && compare(&list[j], &list[i]) < 0) list[i].rank++;
    }
}

int hs_device_best(const hs_device_info *list, int n, hs_device_type type)
{
    cl_device_type want = type == HS_DEVICE_CPU   ? CL_DEVICE_TYPE_CPU
                          : type == HS_DEVICE_GPU ? CL_DEVICE_TYPE_GPU
                                                  : CL_DEVICE_TYPE_ALL;
    int best = -1;
    for (int i = 0; i < n; i++)
        if (list[i].rank > 0 && (list[i].type & want) && (best < 0 || list[i].rank < list[best].rank))
            best = i;
    return best;
}

/* The best-ranked device whose platform or device name contains `name`
 * (any case), an unusable one only if no usable one does, or -1. */
static int find_by_name(const hs_device_info *list, int n, const char *name)
{
    int found = -1;
    for (int i = 0; i < n; i++) {
        if (!strcasestr(list[i].platform_name, name) && !strcasestr(list[i].name, name))
            continue;
        int better = found < 0 || (list[i].rank > 0 && (list[found].rank == 0 ||
                                                         list[i].rank < list[found].rank));
        if (better) found = i;
    }
    return found;
}

/* "N", "P:D" or a name -> index into list, or -1. */
static int find_by_spec(const hs_device_info *list, int n, const char *spec)
{
    char *end;
    long a = strtol(spec, &end, 10);
    if (end == spec) return find_by_name(list, n, spec);
    if (*end == '\0')
        return (a >= 0 && a < n) ? (int)a : -1;
    if (*end != ':') return find_by_name(list, n, spec);
    const char *second = end + 1;
    long b = strtol(second, &end, 10);
    if (end == second || *end != '\0') return -1;
    for (int i = 0; i < n; i++)
        if (list[i].platform_index == a && list[i].device_index == b) return i;
    return -1;
}

hs_status hs_select_device(const char *spec, hs_device_type type, hs_device_info *out)
{
    hs_device_info *list;
    int n;
    HS_TRY(hs_list_devices(&list, &n));
    const char *from_env = getenv("HIRESTYLE_DEVICE");
    if (!spec && from_env && *from_env) spec = from_env;

    int chosen = spec ? find_by_spec(list, n, spec) : hs_device_best(list, n, type);
    hs_status st = HS_OK;
    if (chosen < 0 && spec)
        st = hs_fail(HS_ERR_USAGE,
                     "unknown device '%s'%s: run `hirestyle devices` for the list (use N, P:D "
                     "or part of a platform or device name)",
                     spec, spec == from_env ? " (from HIRESTYLE_DEVICE)" : "");
    else if (chosen >= 0 && list[chosen].unusable[0])
        st = hs_fail(HS_ERR_USAGE, "device %d (%s) cannot be used: %s", chosen, list[chosen].name,
                     list[chosen].unusable);
    else if (chosen < 0 && hs_device_best(list, n, HS_DEVICE_ANY) < 0)
        st = hs_fail(HS_ERR_NO_PLATFORM,
                     "no usable OpenCL device (`hirestyle devices` says why of each): %s",
                     NO_PLATFORM_HINT);
    else if (chosen < 0)
        st = hs_fail(HS_ERR_USAGE,
                     "no usable %s device found: run `hirestyle devices` for the list",
                     type == HS_DEVICE_CPU ? "CPU" : "GPU");
    else
        *out = list[chosen];
    free(list);
    return st;
}

/* kernel_options.c — prints the build options host/program.c gives each
 * class of device hirestyle is meant to run on, one "class<TAB>options"
 * line each, for tests/clang_kernels.sh to compile the kernels with. The
 * devices are described as their drivers report them. */
#include "engine.h"

#include <stdio.h>
#include <string.h>

typedef struct device_class {
    const char *name, *c_version;
    cl_device_type type;
    cl_uint float_vector_width;
    cl_ulong local_mem;
    size_t max_work_group;
} device_class;

static const device_class classes[] = {
    {"nvidia", "OpenCL C 3.0 ", CL_DEVICE_TYPE_GPU, 1, 48 << 10, 1024},
    {"amd-rocm", "OpenCL C 2.0 ", CL_DEVICE_TYPE_GPU, 1, 64 << 10, 256},
    {"amd-clover", "OpenCL C 1.1 ", CL_DEVICE_TYPE_GPU, 4, 32 << 10, 256},
    {"intel-gpu", "OpenCL C 3.0 ", CL_DEVICE_TYPE_GPU, 1, 64 << 10, 512},
    {"rusticl-llvmpipe", "OpenCL C 1.2 ", CL_DEVICE_TYPE_CPU, 4, 32 << 10, 1024},
    {"cpu-avx2", "OpenCL C 1.2 PoCL", CL_DEVICE_TYPE_CPU, 8, 4 << 20, 4096},
    {"cpu-avx512", "OpenCL C 1.2 PoCL", CL_DEVICE_TYPE_CPU, 16, 4 << 20, 4096},
};

int main(void)
{
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        hs_device_info d;
        memset(&d, 0, sizeof d);
        snprintf(d.opencl_c_version, sizeof d.opencl_c_version, "%s", classes[i].c_version);
        d.type = classes[i].type;
        d.float_vector_width = classes[i].float_vector_width;
        d.local_mem = classes[i].local_mem;
        d.max_work_group = classes[i].max_work_group;
        char options[HS_PROGRAM_OPTIONS_MAX];
        hs_program_options(&d, options, sizeof options);
        printf("%s\t%s\n", classes[i].name, options);
    }
    return 0;
}

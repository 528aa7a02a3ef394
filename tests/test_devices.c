/* test_devices.c — device choice and the truth of errors, on the host alone:
 * hs_device_rank over fake device descriptions (the machines users have,
 * not the one running the test), the build options each device gets, and
 * the status and message each OpenCL failure turns into. No OpenCL call. */
#include "engine.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* A described device; the fields hs_device_rank and the options read. */
static hs_device_info fake(int index, const char *name, cl_device_type type, int unified,
                           unsigned units, unsigned mhz, unsigned gib, const char *c_version)
{
    hs_device_info d;
    memset(&d, 0, sizeof d);
    d.index = index;
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.opencl_c_version, sizeof d.opencl_c_version, "%s", c_version);
    d.type = type;
    d.unified_memory = (cl_bool)unified;
    d.compute_units = units;
    d.clock_mhz = mhz;
    d.global_mem = (cl_ulong)gib << 30;
    d.max_alloc = d.global_mem / 4;
    d.local_mem = 64 << 10;
    d.max_work_group = 1024;
    d.float_vector_width = 1;
    d.available = d.compiler_available = CL_TRUE;
    return d;
}

/* A laptop as the ICD loader may list it: CPU, Intel iGPU, then the NVIDIA card. */
START_TEST(discrete_before_integrated_before_cpu)
{
    hs_device_info list[] = {
        fake(0, "pocl cpu", CL_DEVICE_TYPE_CPU, 1, 16, 4000, 32, "OpenCL C 1.2 PoCL"),
        fake(1, "Intel UHD 770", CL_DEVICE_TYPE_GPU, 1, 32, 1450, 25, "OpenCL C 3.0 "),
        fake(2, "NVIDIA RTX 3060", CL_DEVICE_TYPE_GPU, 0, 28, 1777, 12, "OpenCL C 1.2 "),
    };
    hs_device_rank(list, 3);
    ck_assert_int_eq(list[2].rank, 1);
    ck_assert_int_eq(list[1].rank, 2);
    ck_assert_int_eq(list[0].rank, 3);
    ck_assert_int_eq(hs_device_best(list, 3, HS_DEVICE_ANY), 2);
    ck_assert_int_eq(hs_device_best(list, 3, HS_DEVICE_GPU), 2);
    ck_assert_int_eq(hs_device_best(list, 3, HS_DEVICE_CPU), 0);
}
END_TEST

/* Two discrete GPUs: more compute units x clock wins, then more memory,
 * then list order. */
START_TEST(faster_gpu_first)
{
    hs_device_info list[] = {
        fake(0, "small", CL_DEVICE_TYPE_GPU, 0, 20, 1500, 8, "OpenCL C 1.2 "),
        fake(1, "H200", CL_DEVICE_TYPE_GPU, 0, 132, 1980, 141, "OpenCL C 3.0 "),
        fake(2, "same as small, more memory", CL_DEVICE_TYPE_GPU, 0, 20, 1500, 16,
             "OpenCL C 1.2 "),
        fake(3, "twin of small", CL_DEVICE_TYPE_GPU, 0, 20, 1500, 8, "OpenCL C 1.2 "),
    };
    hs_device_rank(list, 4);
    ck_assert_int_eq(list[1].rank, 1);
    ck_assert_int_eq(list[2].rank, 2);
    ck_assert_int_eq(list[0].rank, 3);
    ck_assert_int_eq(list[3].rank, 4);
}
END_TEST

/* A device hirestyle cannot use is never chosen and says why; Clover's
 * OpenCL C 1.1 is usable (the kernels are 1.1 C). */
START_TEST(unusable_never_chosen)
{
    hs_device_info list[] = {
        fake(0, "pocl cpu", CL_DEVICE_TYPE_CPU, 1, 4, 3000, 16, "OpenCL C 1.2 PoCL"),
        fake(1, "old GPU", CL_DEVICE_TYPE_GPU, 0, 40, 1500, 8, "OpenCL C 1.0 "),
        fake(2, "no compiler", CL_DEVICE_TYPE_GPU, 0, 40, 1500, 8, "OpenCL C 1.2 "),
        fake(3, "broken", CL_DEVICE_TYPE_GPU, 0, 40, 1500, 8, "?"),
        fake(4, "AMD Radeon (Clover)", CL_DEVICE_TYPE_GPU, 0, 36, 1340, 8, "OpenCL C 1.1 "),
    };
    list[2].compiler_available = CL_FALSE;
    hs_device_rank(list, 5);
    ck_assert_int_eq(list[1].rank, 0);
    ck_assert_msg(strstr(list[1].unusable, "OpenCL C 1.1 or later"), "%s", list[1].unusable);
    ck_assert_int_eq(list[2].rank, 0);
    ck_assert_msg(strstr(list[2].unusable, "no OpenCL C compiler"), "%s", list[2].unusable);
    ck_assert_int_eq(list[3].rank, 0);
    ck_assert_int_eq(list[4].rank, 1);
    ck_assert_str_eq(list[4].unusable, "");
    ck_assert_int_eq(list[0].rank, 2);
    ck_assert_int_eq(hs_device_best(list, 5, HS_DEVICE_ANY), 4);
    ck_assert_int_eq(hs_device_best(list, 3, HS_DEVICE_GPU), -1);
    ck_assert_int_eq(hs_device_best(list + 1, 3, HS_DEVICE_ANY), -1);
}
END_TEST

/* -cl-std follows the device: 1.2 from OpenCL C 1.2 on, 1.1 on Clover. */
START_TEST(options_follow_c_version)
{
    static const struct { const char *version, *std; } cases[] = {
        {"OpenCL C 1.1 ", "-cl-std=CL1.1 "},
        {"OpenCL C 1.2 PoCL", "-cl-std=CL1.2 "},
        {"OpenCL C 2.0 ", "-cl-std=CL1.2 "},
        {"OpenCL C 3.0 ", "-cl-std=CL1.2 "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hs_device_info d = fake(0, "gpu", CL_DEVICE_TYPE_GPU, 0, 1, 1, 1, cases[i].version);
        char options[HS_PROGRAM_OPTIONS_MAX];
        hs_program_options(&d, options, sizeof options);
        ck_assert_msg(strncmp(options, cases[i].std, strlen(cases[i].std)) == 0, "%s: %s",
                      cases[i].version, options);
    }
    hs_device_info small = fake(0, "gpu", CL_DEVICE_TYPE_GPU, 0, 1, 1, 1, "OpenCL C 1.2 ");
    small.max_work_group = 96;
    ck_assert_int_eq(hs_reduce_group_for(&small), 64);
}
END_TEST

/* Out of memory, out of resources and a failure at a wait are three
 * statuses; only memory is one the upscale retry may cure. */
START_TEST(errors_tell_the_truth)
{
    ck_assert_int_eq(hs_cl_fail(CL_MEM_OBJECT_ALLOCATION_FAILURE, "x"), HS_ERR_DEVICE_MEMORY);
    ck_assert_msg(strstr(hs_last_error(), "out of device memory"), "%s", hs_last_error());
    ck_assert_int_eq(hs_cl_fail(CL_OUT_OF_HOST_MEMORY, "x"), HS_ERR_TOO_LARGE);
    ck_assert_msg(strstr(hs_last_error(), "out of host memory"), "%s", hs_last_error());
    ck_assert_int_eq(hs_cl_fail(CL_OUT_OF_RESOURCES, "running kernel 'conv'"),
                     HS_ERR_DEVICE_RESOURCES);
    ck_assert_msg(strstr(hs_last_error(), "not a lack of memory"), "%s", hs_last_error());
    ck_assert_int_eq(hs_cl_fail_wait(CL_OUT_OF_RESOURCES, "clFinish"), HS_ERR_DEVICE_FAULT);
    ck_assert_msg(strstr(hs_last_error(), "kernel faulted"), "%s", hs_last_error());
    ck_assert_int_eq(hs_cl_fail_wait(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, "read"),
                     HS_ERR_DEVICE_FAULT);
    ck_assert_int_eq(hs_cl_fail_wait(CL_INVALID_COMMAND_QUEUE, "read"), HS_ERR_DEVICE_FAULT);
    ck_assert_int_eq(hs_cl_fail_wait(CL_MEM_OBJECT_ALLOCATION_FAILURE, "read"),
                     HS_ERR_DEVICE_MEMORY);
    ck_assert_int_eq(hs_cl_fail(CL_INVALID_VALUE, "x"), HS_ERR_INTERNAL);
    ck_assert_int_ne(HS_ERR_DEVICE_RESOURCES, HS_ERR_DEVICE_MEMORY);
    ck_assert_int_ne(HS_ERR_DEVICE_FAULT, HS_ERR_DEVICE_MEMORY);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("devices");
    tcase_add_test(tc, discrete_before_integrated_before_cpu);
    tcase_add_test(tc, faster_gpu_first);
    tcase_add_test(tc, unusable_never_chosen);
    tcase_add_test(tc, options_follow_c_version);
    tcase_add_test(tc, errors_tell_the_truth);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}

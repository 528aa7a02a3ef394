/* error.c — the last-error message and OpenCL error names.
 *
 * Failing calls format one line a user can act on into a per-thread buffer
 * and return a status; callers up the stack may prefix context ("dog.png: ").
 */
#include "hirestyle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[2048];

const char *hs_last_error(void) { return last_error; }

hs_status hs_fail(hs_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

hs_status hs_fail_context(hs_status status, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error - sizeof prefix - 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t keep = strnlen(last_error, sizeof old - 1);
    memcpy(old, last_error, keep);
    old[keep] = '\0';
    snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
    return status;
}

const char *hs_cl_error_name(cl_int err)
{
    switch (err) {
#define NAME(e) case e: return #e
    NAME(CL_SUCCESS); NAME(CL_DEVICE_NOT_FOUND); NAME(CL_DEVICE_NOT_AVAILABLE);
    NAME(CL_COMPILER_NOT_AVAILABLE); NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE);
    NAME(CL_OUT_OF_RESOURCES); NAME(CL_OUT_OF_HOST_MEMORY);
    NAME(CL_PROFILING_INFO_NOT_AVAILABLE); NAME(CL_MEM_COPY_OVERLAP);
    NAME(CL_BUILD_PROGRAM_FAILURE); NAME(CL_MAP_FAILURE);
    NAME(CL_INVALID_VALUE); NAME(CL_INVALID_DEVICE_TYPE); NAME(CL_INVALID_PLATFORM);
    NAME(CL_INVALID_DEVICE); NAME(CL_INVALID_CONTEXT); NAME(CL_INVALID_QUEUE_PROPERTIES);
    NAME(CL_INVALID_COMMAND_QUEUE); NAME(CL_INVALID_HOST_PTR); NAME(CL_INVALID_MEM_OBJECT);
    NAME(CL_INVALID_BINARY); NAME(CL_INVALID_BUILD_OPTIONS); NAME(CL_INVALID_PROGRAM);
    NAME(CL_INVALID_PROGRAM_EXECUTABLE); NAME(CL_INVALID_KERNEL_NAME);
    NAME(CL_INVALID_KERNEL_DEFINITION); NAME(CL_INVALID_KERNEL); NAME(CL_INVALID_ARG_INDEX);
    NAME(CL_INVALID_ARG_VALUE); NAME(CL_INVALID_ARG_SIZE); NAME(CL_INVALID_KERNEL_ARGS);
    NAME(CL_INVALID_WORK_DIMENSION); NAME(CL_INVALID_WORK_GROUP_SIZE);
    NAME(CL_INVALID_WORK_ITEM_SIZE); NAME(CL_INVALID_GLOBAL_OFFSET);
    NAME(CL_INVALID_EVENT_WAIT_LIST); NAME(CL_INVALID_EVENT); NAME(CL_INVALID_OPERATION);
    NAME(CL_INVALID_BUFFER_SIZE); NAME(CL_INVALID_GLOBAL_WORK_SIZE);
    NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET);
    NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST);
#undef NAME
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

/* Three failures a user must tell apart, each with its own status:
 *   - memory: an allocation the device (or the host: HS_ERR_TOO_LARGE, as
 *     everywhere) could not satisfy. A smaller job may fit, so the upscale
 *     tiles are retried smaller;
 *   - resources: CL_OUT_OF_RESOURCES when enqueuing, a kernel the device
 *     cannot launch (registers, local memory, work-group size);
 *   - fault: an error surfacing at a wait (clFinish, a blocking read), which
 *     belongs to work enqueued earlier; NVIDIA reports a faulting kernel as
 *     CL_OUT_OF_RESOURCES there. Never retried: it would hide the fault. */
hs_status hs_cl_fail(cl_int err, const char *what)
{
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE)
        return hs_fail(HS_ERR_DEVICE_MEMORY, "%s: out of device memory (%s)", what,
                       hs_cl_error_name(err));
    if (err == CL_OUT_OF_HOST_MEMORY)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory (%s)", what,
                       hs_cl_error_name(err));
    if (err == CL_OUT_OF_RESOURCES)
        return hs_fail(HS_ERR_DEVICE_RESOURCES,
                       "%s: the device lacks the resources for it (%s: registers, local "
                       "memory or work-group size; not a lack of memory)",
                       what, hs_cl_error_name(err));
    return hs_fail(HS_ERR_INTERNAL, "%s failed: %s (%d)", what, hs_cl_error_name(err), err);
}

hs_status hs_cl_fail_wait(cl_int err, const char *what)
{
    /* What drivers answer at a wait after a kernel failed; NVIDIA's queue
     * is unusable afterwards (CL_INVALID_COMMAND_QUEUE). */
    if (err != CL_OUT_OF_RESOURCES && err != CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST &&
        err != CL_INVALID_COMMAND_QUEUE)
        return hs_cl_fail(err, what);
    return hs_fail(HS_ERR_DEVICE_FAULT,
                   "%s: queued work failed on the device (%s, %d): a kernel faulted or the "
                   "driver failed; a bug in hirestyle or the driver, please report it with "
                   "`hirestyle devices`",
                   what, hs_cl_error_name(err), err);
}

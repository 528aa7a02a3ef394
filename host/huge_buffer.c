/* huge_buffer.c — a CPU device's large buffers in 2 MiB pages.
 *
 * On a CPU device a fresh buffer is fresh host memory, and the first write
 * to each page faults. In 4 KiB pages that cost 15 µs a page on this
 * project's 2-core VMs: 113 MiB took 0.43 s to touch, every time it was
 * mapped again, against 0.02 s in 2 MiB pages once the VM had backed them.
 * An upscale's first writes into its activations took most of its time.
 * The implementations allocate buffers with malloc, where transparent huge
 * pages come only on request on many systems
 * (/sys/kernel/mm/transparent_hugepage/enabled set to "madvise"). So a
 * buffer of 2 MiB or more on a CPU device that shares the host's memory is
 * memory we map ourselves, 2 MiB-aligned and advised huge, and the buffer
 * works in it in place (CL_MEM_USE_HOST_PTR); the mapping goes when the
 * implementation destroys the buffer (its destructor callback). Where any
 * of that is missing, or fails, the caller allocates as usual.
 */
#include "engine.h"

#include <stdint.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)

#if defined(__linux__) && defined(MADV_HUGEPAGE)

typedef struct mapping {
    void *start;
    size_t length;
} mapping;

static void CL_CALLBACK unmap(cl_mem buf, void *user_data)
{
    (void)buf;
    mapping *m = (mapping *)user_data;
    munmap(m->start, m->length);
    free(m);
}

/* `length` bytes (a multiple of the page size) at a 2 MiB boundary, advised huge;
 * NULL when the system refuses. The over-mapped head and tail go back. */
static void *map_aligned(size_t length)
{
    size_t span = length + HUGE_PAGE;
    char *raw = (char *)mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw) munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + span - (start + length));
    if (tail) munmap(start + length, tail);
    madvise(start, length, MADV_HUGEPAGE); /* advice: refused, the pages stay small */
    return start;
}

cl_mem hs_huge_buffer_create(const hs_context *ctx, size_t bytes)
{
    if (!(ctx->dev.type & CL_DEVICE_TYPE_CPU) || !ctx->dev.unified_memory || bytes < HUGE_PAGE)
        return NULL;
    mapping *m = (mapping *)malloc(sizeof *m);
    if (!m) return NULL;
    size_t page = (size_t)sysconf(_SC_PAGESIZE); /* munmap's unit: 4 KiB, 16 or 64 on arm64 */
    m->length = (bytes + page - 1) / page * page;
    m->start = map_aligned(m->length);
    if (!m->start) {
        free(m);
        return NULL;
    }
    cl_int err;
    cl_mem buf =
        clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, bytes, m->start, &err);
    if (err == CL_SUCCESS && clSetMemObjectDestructorCallback(buf, unmap, m) == CL_SUCCESS)
        return buf;
    if (err == CL_SUCCESS) clReleaseMemObject(buf); /* unused: nothing still reads it */
    munmap(m->start, m->length);
    free(m);
    return NULL;
}

#else

cl_mem hs_huge_buffer_create(const hs_context *ctx, size_t bytes)
{
    (void)ctx;
    (void)bytes;
    return NULL;
}

#endif

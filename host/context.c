/* context.c — one device, its queue, its kernels and the memory accounting.
 *
 * Every device buffer goes through hs_buffer_alloc so the context knows the
 * bytes in use and the most it held (with the buffers buffer_pool.c keeps):
 * the benchmarks report it and the planners (style transfer, tiling) check
 * their estimates against it. When no
 * device was chosen and the kernels do not build on the best-ranked one,
 * the next one is tried, with a warning.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A context on `dev`: its queue, its program and the GEMM tuning. */
static hs_status open_device(const hs_context_options *opts, const hs_device_info *dev,
                             hs_context **out)
{
    hs_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    ctx->verbose = opts->verbose;
    ctx->dev = *dev;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->dev.platform,
                                     0};
    ctx->cl = clCreateContext(props, 1, &ctx->dev.device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(ctx);
        return hs_cl_fail(err, "clCreateContext");
    }
    int profiled = hs_profile_wanted();
    ctx->queue = clCreateCommandQueue(ctx->cl, ctx->dev.device,
                                      profiled ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) {
        hs_context_destroy(ctx);
        return hs_cl_fail(err, "clCreateCommandQueue");
    }
    if (profiled) {
        hs_status st = hs_profile_open(ctx);
        if (st != HS_OK) {
            hs_context_destroy(ctx);
            return st;
        }
    }
    ctx->reduce_group = hs_reduce_group_for(&ctx->dev);
    ctx->fold_width = HS_FOLD_WIDTH;
    ctx->grid_side = HS_GRID_SIDE;
    /* A cap on our device memory: to share a GPU, and to try the
     * out-of-memory paths on machines that have plenty. */
    const char *limit = getenv("HIRESTYLE_MEMORY_LIMIT_MB");
    if (limit && atol(limit) > 0) ctx->mem_limit = (size_t)atol(limit) << 20;
    /* Scratch (im2col) may take an eighth of a buffer's limit, at most 256 MiB. */
    ctx->scratch_limit = ctx->dev.max_alloc / 8;
    if (ctx->scratch_limit > ((size_t)256 << 20)) ctx->scratch_limit = (size_t)256 << 20;
    /* Frozen weights' transforms (weight_cache.c) may take as much. */
    ctx->weight_cache_limit = ctx->scratch_limit;

    hs_status st = hs_program_build(ctx);
    if (st == HS_OK) st = hs_gemm_apply_tuning(ctx);
    if (st == HS_OK) hs_conv_algorithm_load(ctx);
    if (st != HS_OK) {
        hs_context_destroy(ctx);
        return st;
    }
    *out = ctx;
    return HS_OK;
}

/* No device was chosen and the kernels did not build on the best-ranked
 * one (`failed`): the next ones in rank order, each with a warning; if none
 * builds, the first failure. */
static hs_status open_next_buildable(const hs_context_options *opts,
                                     const hs_device_info *failed, hs_context **out)
{
    char first[2048];
    snprintf(first, sizeof first, "%s", hs_last_error());
    hs_device_info *list;
    int n;
    if (hs_list_devices(&list, &n) != HS_OK) return hs_fail(HS_ERR_BUILD, "%s", first);
    list[failed->index].rank = 0;
    char previous[128];
    snprintf(previous, sizeof previous, "%s", failed->name);
    hs_status st = HS_ERR_BUILD;
    for (int i; st == HS_ERR_BUILD && (i = hs_device_best(list, n, opts->device_type)) >= 0;) {
        fprintf(stderr,
                "hirestyle: warning: the kernels failed to build for %s; trying %s "
                "(--device chooses)\n",
                previous, list[i].name);
        st = open_device(opts, &list[i], out);
        snprintf(previous, sizeof previous, "%s", list[i].name);
        list[i].rank = 0;
    }
    free(list);
    return st == HS_ERR_BUILD ? hs_fail(HS_ERR_BUILD, "%s", first) : st;
}

hs_status hs_context_create(const hs_context_options *opts, hs_context **out)
{
    static const hs_context_options defaults = {NULL, HS_DEVICE_ANY, 0};
    if (!opts) opts = &defaults;
    *out = NULL;
    hs_device_info dev;
    HS_TRY(hs_select_device(opts->device, opts->device_type, &dev));
    hs_status st = open_device(opts, &dev, out);
    const char *from_env = getenv("HIRESTYLE_DEVICE");
    int chosen = opts->device || (from_env && *from_env);
    return st == HS_ERR_BUILD && !chosen ? open_next_buildable(opts, &dev, out) : st;
}

void hs_context_destroy(hs_context *ctx)
{
    if (!ctx) return;
    if (ctx->queue) clFinish(ctx->queue);
    hs_profile_close(ctx);
    hs_weights_forget_all(ctx);
    hs_pool_drain(ctx);
    free(ctx->pool);
    for (int i = 0; i < ctx->kernel_count; i++) clReleaseKernel(ctx->kernels[i].kernel);
    free(ctx->kernels);
    if (ctx->scratch) hs_buffer_free(ctx, ctx->scratch, ctx->scratch_bytes);
    hs_buffer_free(ctx, ctx->gemm_pack, ctx->gemm_pack_bytes);
    if (ctx->program) clReleaseProgram(ctx->program);
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->cl) clReleaseContext(ctx->cl);
    free(ctx);
}

const hs_device_info *hs_context_device(const hs_context *ctx) { return &ctx->dev; }
size_t hs_memory_available(const hs_context *ctx)
{
    return ctx->mem_limit && ctx->mem_limit < ctx->dev.global_mem ? ctx->mem_limit
                                                                   : ctx->dev.global_mem;
}
size_t hs_memory_largest_buffer(const hs_context *ctx)
{
    size_t indexed = HS_MAX_ELEMENTS * sizeof(float);
    return ctx->dev.max_alloc < indexed ? ctx->dev.max_alloc : indexed;
}
size_t hs_memory_in_use(const hs_context *ctx) { return ctx->mem_in_use; }
size_t hs_memory_peak(const hs_context *ctx) { return ctx->mem_peak; }
void hs_memory_reset_peak(hs_context *ctx)
{
    hs_pool_drain(ctx); /* the pool may hold up to the old peak */
    ctx->mem_peak = ctx->live_peak = ctx->mem_in_use;
}

hs_status hs_finish(hs_context *ctx)
{
    HS_CL_CHECK_WAIT(clFinish(ctx->queue), "clFinish");
    return HS_OK;
}

/* `bytes` more held: refused past the memory limit, which pooled buffers
 * make room for first. */
static hs_status claim(hs_context *ctx, size_t bytes)
{
    while (ctx->mem_limit && ctx->mem_in_use + ctx->pool_bytes + bytes > ctx->mem_limit &&
           ctx->pool_count > 0)
        hs_pool_release_oldest(ctx);
    if (ctx->mem_limit && ctx->mem_in_use + ctx->pool_bytes + bytes > ctx->mem_limit)
        return hs_fail(HS_ERR_DEVICE_MEMORY,
                       "out of device memory: %.1f MiB more would pass "
                       "HIRESTYLE_MEMORY_LIMIT_MB=%zu",
                       bytes / 1048576.0, ctx->mem_limit >> 20);
    ctx->mem_in_use += bytes;
    if (ctx->mem_in_use > ctx->live_peak) ctx->live_peak = ctx->mem_in_use;
    if (ctx->mem_in_use + ctx->pool_bytes > ctx->mem_peak)
        ctx->mem_peak = ctx->mem_in_use + ctx->pool_bytes;
    return HS_OK;
}

/* A new buffer: in huge pages where hs_huge_buffer_create can, else as usual. */
static cl_mem create_buffer(hs_context *ctx, size_t bytes, cl_int *err)
{
    cl_mem buf = hs_huge_buffer_create(ctx, bytes);
    *err = CL_SUCCESS;
    return buf ? buf : clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, err);
}

hs_status hs_buffer_alloc(hs_context *ctx, size_t bytes, cl_mem *out)
{
    if (bytes == 0) bytes = sizeof(float);
    if (bytes > ctx->dev.max_alloc)
        return hs_fail(HS_ERR_TOO_LARGE,
                       "a buffer of %.1f MiB exceeds the device's largest allocation (%.1f MiB)",
                       bytes / 1048576.0, ctx->dev.max_alloc / 1048576.0);
    if (bytes > HS_MAX_ELEMENTS * sizeof(float))
        return hs_fail(HS_ERR_TOO_LARGE,
                       "a buffer of %.1f MiB holds more than 2^31-1 floats, the most the kernels "
                       "index", bytes / 1048576.0);
    HS_TRY(claim(ctx, bytes));
    cl_int err;
    *out = create_buffer(ctx, bytes, &err);
    if (err != CL_SUCCESS && ctx->pool_count > 0) { /* the pool's buffers may be in the way */
        hs_pool_drain(ctx);
        *out = create_buffer(ctx, bytes, &err);
    }
    if (err != CL_SUCCESS) {
        ctx->mem_in_use -= bytes;
        return hs_cl_fail(err, "allocating a device buffer");
    }
    ctx->buffers_created++;
    return HS_OK;
}

void hs_buffer_free(hs_context *ctx, cl_mem buf, size_t bytes)
{
    if (!buf) return;
    if (bytes == 0) bytes = sizeof(float);
    hs_weights_forget(ctx, buf);
    clReleaseMemObject(buf);
    ctx->mem_in_use -= bytes;
}

void hs_scratch_release(hs_context *ctx)
{
    if (ctx->scratch) hs_buffer_free(ctx, ctx->scratch, ctx->scratch_bytes);
    ctx->scratch = NULL;
    ctx->scratch_bytes = 0;
}

hs_status hs_scratch(hs_context *ctx, size_t bytes, cl_mem *out)
{
    if (bytes > ctx->scratch_bytes) {
        hs_scratch_release(ctx);
        HS_TRY(hs_buffer_alloc(ctx, bytes, &ctx->scratch));
        ctx->scratch_bytes = bytes;
    }
    *out = ctx->scratch;
    return HS_OK;
}

static const hs_kernel_signature *signature_of(const char *name)
{
    for (int i = 0; i < hs_kernel_signature_count; i++)
        if (strcmp(hs_kernel_signatures[i].name, name) == 0) return &hs_kernel_signatures[i];
    return NULL;
}

static hs_status find_kernel(hs_context *ctx, const char *name, const hs_kernel_entry **out)
{
    for (int i = 0; i < ctx->kernel_count; i++)
        if (strcmp(ctx->kernels[i].name, name) == 0) {
            *out = &ctx->kernels[i];
            return HS_OK;
        }
    const hs_kernel_signature *signature = signature_of(name);
    if (!signature)
        return hs_fail(HS_ERR_INTERNAL, "kernel '%s' is declared in no file of cl/", name);
    if (ctx->kernel_count == ctx->kernel_capacity) {
        int cap = ctx->kernel_capacity ? 2 * ctx->kernel_capacity : 32;
        hs_kernel_entry *grown = realloc(ctx->kernels, cap * sizeof *grown);
        if (!grown) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        ctx->kernels = grown;
        ctx->kernel_capacity = cap;
    }
    cl_int err;
    cl_kernel k = clCreateKernel(ctx->program, name, &err);
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "creating kernel '%s'", name);
        return hs_cl_fail(err, what);
    }
    size_t max_group = 1;
    err = clGetKernelWorkGroupInfo(k, ctx->dev.device, CL_KERNEL_WORK_GROUP_SIZE,
                                   sizeof max_group, &max_group, NULL);
    if (err != CL_SUCCESS) {
        clReleaseKernel(k);
        return hs_cl_fail(err, "asking a kernel's largest work-group");
    }
    ctx->kernels[ctx->kernel_count] = (hs_kernel_entry){name, k, signature, max_group};
    *out = &ctx->kernels[ctx->kernel_count++];
    return HS_OK;
}

/* The name of argument `index` in a comma-separated list, into out. */
static void argument_name(const char *names, int index, char *out, size_t size)
{
    for (; index > 0 && names; index--) {
        names = strchr(names, ',');
        if (names) names++;
    }
    size_t len = names ? strcspn(names, ",") : 0;
    if (len >= size) len = size - 1;
    memcpy(out, names ? names : "", len);
    out[len] = '\0';
}

static char tag_letter(int tag)
{
    return tag == HS_ARG_MEM ? 'm' : tag == HS_ARG_LOCAL ? 'l' : tag == HS_ARG_INT ? 'i' : 'f';
}

static const char *letter_type(char letter)
{
    return letter == 'm' ? "a buffer" : letter == 'l' ? "local memory"
           : letter == 'i' ? "an int" : "a float";
}

/* The tags of a launch's arguments against the kernel's declaration. */
static hs_status check_arguments(const hs_kernel_signature *sig, va_list ap)
{
    int count = (int)strlen(sig->types), index = 0;
    for (int tag; (tag = va_arg(ap, int)) != HS_ARG_END; index++) {
        if (tag < HS_ARG_MEM || tag > HS_ARG_LOCAL)
            return hs_fail(HS_ERR_INTERNAL, "kernel '%s': argument %d has no type tag (ARG_*)",
                           sig->name, index);
        if (index >= count)
            return hs_fail(HS_ERR_INTERNAL, "kernel '%s' takes %d arguments; the launch passes more",
                           sig->name, count);
        if (tag_letter(tag) != sig->types[index]) {
            char name[64];
            argument_name(sig->names, index, name, sizeof name);
            return hs_fail(HS_ERR_INTERNAL, "kernel '%s': argument %d (%s) is %s; the launch "
                           "passes %s", sig->name, index, name, letter_type(sig->types[index]),
                           letter_type(tag_letter(tag)));
        }
        if (tag == HS_ARG_MEM) (void)va_arg(ap, cl_mem);
        else if (tag == HS_ARG_INT) (void)va_arg(ap, int);
        else if (tag == HS_ARG_FLOAT) (void)va_arg(ap, double);
        else (void)va_arg(ap, size_t);
    }
    if (index != count)
        return hs_fail(HS_ERR_INTERNAL, "kernel '%s' takes %d arguments; the launch passes %d",
                       sig->name, count, index);
    return HS_OK;
}

size_t hs_kernel_group_limit(hs_context *ctx, const char *name)
{
    const hs_kernel_entry *entry = NULL;
    return find_kernel(ctx, name, &entry) == HS_OK ? entry->max_group : 1;
}

/* The work-group of a launch that names none: the driver would pick a
 * divisor of each global size, and PoCL compiles a work-group function per
 * (kernel, group size), so nearly every tensor shape cost a compile (66-121
 * per run). A fixed 256 work-items instead, 1-D or 16x16 (x1: a third
 * dimension counts products of a batch), halved while the kernel cannot take
 * them; the global size is rounded up to whole groups, and every kernel
 * launched so ignores the work-items past its range. */
static void fixed_group(const hs_kernel_entry *entry, int dims, size_t *local)
{
    for (int d = 0; d < dims; d++) local[d] = d == 2 ? 1 : dims == 1 ? 256 : 16;
    for (int d = 0;; d = (d + 1) % dims) {
        size_t items = 1;
        for (int e = 0; e < dims; e++) items *= local[e];
        if (items <= entry->max_group || items == 1) return;
        if (local[d] > 1) local[d] /= 2;
    }
}

/* Whether a 1-D range of `rounded` work-items (whole groups of `group`) is
 * longer than `most` and runs folded: as rows of equal width, the largest
 * multiple of the group that divides the range and is at most `most`, into
 * rounded[0] x rounded[1] with groups of local[0] x 1. PoCL compiles a
 * kernel once for grids whose every side is under 65535 items and once
 * more for longer ones, so a kernel run on a small and on a large tensor
 * cost two compiles; folded, the sides stay short (for any range whose
 * group count has a divisor near most / group: every power-of-two shape). */
static int fold_range(size_t most, size_t group, size_t *rounded, size_t *local)
{
    size_t groups = rounded[0] / group, across = most / group;
    if (groups <= across) return 0;
    while (across > 1 && groups % across) across--;
    rounded[0] = across * group;
    rounded[1] = groups / across;
    local[0] = group;
    local[1] = 1;
    return 1;
}

hs_status hs_launch(hs_context *ctx, const char *name, int dims, const size_t *global,
                    const size_t *local, ...)
{
    const hs_kernel_entry *entry = NULL;
    HS_TRY(find_kernel(ctx, name, &entry));
    cl_kernel k = entry->kernel;

    va_list ap;
    va_start(ap, local);
    hs_status checked = check_arguments(entry->signature, ap);
    va_end(ap);
    if (checked != HS_OK) return checked;
    va_start(ap, local);
    cl_int err = CL_SUCCESS;
    cl_uint index = 0;
    for (int tag; err == CL_SUCCESS && (tag = va_arg(ap, int)) != HS_ARG_END; index++) {
        if (tag == HS_ARG_MEM) {
            cl_mem m = va_arg(ap, cl_mem);
            err = clSetKernelArg(k, index, sizeof m, &m);
        } else if (tag == HS_ARG_INT) {
            cl_int v = va_arg(ap, int);
            err = clSetKernelArg(k, index, sizeof v, &v);
        } else if (tag == HS_ARG_FLOAT) {
            cl_float v = (cl_float)va_arg(ap, double);
            err = clSetKernelArg(k, index, sizeof v, &v);
        } else {
            size_t bytes = va_arg(ap, size_t);
            err = clSetKernelArg(k, index, bytes, NULL);
        }
    }
    va_end(ap);
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "setting argument %u of kernel '%s'", index, name);
        return hs_cl_fail(err, what);
    }

    size_t fixed[3], rounded[3];
    if (!local) {
        fixed_group(entry, dims, fixed);
        local = fixed;
    }
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0) return HS_OK; /* nothing to do */
        rounded[d] = (global[d] + local[d] - 1) / local[d] * local[d];
        /* the kernels take get_global_id as an int: the last id must fit */
        if (global[d] > HS_MAX_ELEMENTS || rounded[d] - 1 > HS_MAX_ELEMENTS)
            return hs_fail(HS_ERR_TOO_LARGE, "kernel '%s': %zu work-items in dimension %d, "
                           "more than the 2^31-1 the kernels index", name, global[d], d);
    }
    size_t folded[2];
    if (dims == 1 && entry->signature->folds &&
        fold_range(ctx->fold_width, local[0], rounded, folded)) {
        dims = 2;
        local = folded;
    }
    cl_event done;
    err = clEnqueueNDRangeKernel(ctx->queue, k, (cl_uint)dims, NULL, rounded, local, 0, NULL,
                                 ctx->profile ? &done : NULL);
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "running kernel '%s'", name);
        return hs_cl_fail(err, what);
    }
    return ctx->profile ? hs_profile_launch(ctx, name, done) : HS_OK;
}

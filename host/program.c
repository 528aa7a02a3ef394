/* program.c — compiling the kernels for a device, with a binary cache.
 *
 * All .cl files are joined into one program (common.cl first), each preceded
 * by a #line directive so compiler messages name the right file and line.
 * The options follow the device: -cl-std=CL1.2 where the device has OpenCL C
 * 1.2 or later, CL1.1 where it has 1.1 (Mesa's Clover), and the tunables as
 * -D options chosen from its description (hs_program_options).
 *
 * Binaries are cached (host/cache_dir.c) under a key hashed from everything
 * that makes a binary: platform name and version, device name and version,
 * driver version, options and sources. An entry is checked (magic, key,
 * length, checksum) and rebuilt from source whenever anything is off. Loads
 * and builds happen under the entry's lock, so concurrent cold starts compile
 * once; a marker file spans each load, so an entry that crashed the driver
 * (a foreign or poisoned binary passes our checksum) is found by the next
 * run, deleted and rebuilt instead of crashing every run.
 *
 * PoCL caches its own builds (by source and options) and compiles each
 * kernel only when it is first run; reading a whole program's binary back
 * makes it compile all of them at once, most of which a run never uses (14 s
 * of a 19 s cold start on a 2-core CPU). So on PoCL the binary is not kept
 * here; HIRESTYLE_KERNEL_CACHE=ours keeps it anyway, =driver never does.
 */
#include "engine.h"
#include "reduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cache_magic[8] = "HSPROG1";

/* The largest cache entry read: binaries are a few MiB. */
#define MAX_ENTRY_BYTES ((size_t)256 << 20)

typedef struct text { char *data; size_t len, cap; } text;

static int text_append(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *grown = realloc(t->data, cap);
        if (!grown) return -1;
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
            if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
                free(buf);
                buf = NULL;
            } else {
                buf[size] = '\0';
                *len = (size_t)size;
            }
        }
    }
    fclose(f);
    return buf;
}

/* The joined source: embedded, or the same files from $HIRESTYLE_KERNEL_DIR. */
static hs_status gather_sources(text *src)
{
    const char *dir = getenv("HIRESTYLE_KERNEL_DIR");
    for (int i = 0; i < hs_kernel_file_count; i++) {
        const char *name = hs_kernel_files[i].name;
        char line[300];
        snprintf(line, sizeof line, "#line 1 \"%s\"\n", name);
        char *from_disk = NULL;
        size_t len = 0;
        if (dir && *dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            from_disk = read_file(path, &len);
            if (!from_disk)
                return hs_fail(HS_ERR_IO, "%s: cannot read kernel source (HIRESTYLE_KERNEL_DIR=%s)",
                               path, dir);
        }
        const char *body = from_disk ? from_disk : hs_kernel_files[i].source;
        int bad = text_append(src, line, strlen(line)) ||
                  text_append(src, body, from_disk ? len : strlen(body)) ||
                  text_append(src, "\n", 1);
        free(from_disk);
        if (bad) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    }
    return HS_OK;
}

size_t hs_reduce_group_for(const hs_device_info *dev)
{
    /* One fixed group size per device, so reductions are reproducible bit
     * for bit: 256, or the device's limit if smaller. */
    size_t group = 256;
    while (group > dev->max_work_group && group > 1) group /= 2;
    return group;
}

void hs_program_options(const hs_device_info *dev, char *out, size_t size)
{
    hs_gemm_blocking g = hs_gemm_blocking_for(dev);
    snprintf(out, size,
             "-cl-std=CL%s -DREDUCE_GROUP=%zu -DGEMM_MR=%d -DGEMM_VW=%d -DGEMM_NV=%d -DGEMM_KC=%d "
             "-DRECTIFY_ACTIVATE=%d -DRECTIFY_GATE=%d -DREDUCE_SUM=%d -DREDUCE_DOT=%d "
             "-DREDUCE_SQUARED_DIFF=%d -DREDUCE_ABS_DIFF=%d -DREDUCE_TV=%d -DGEMM_Y_MATRIX=%d "
             "-DGEMM_Y_XT=%d -DGEMM_Y_CONV=%d -DACT_SIGMOID=%d "
             "-DACT_SIGMOID_BACKWARD=%d -DACT_TANH_HALF=%d",
             hs_device_c_version(dev) >= 12 ? "1.2" : "1.1", hs_reduce_group_for(dev), g.mr,
             g.vw, g.nv, g.kc, HS_RECTIFY_ACTIVATE, HS_RECTIFY_GATE, HS_REDUCE_SUM,
             HS_REDUCE_DOT, HS_REDUCE_SQUARED_DIFF, HS_REDUCE_ABS_DIFF, HS_REDUCE_TV,
             HS_GEMM_Y_MATRIX, HS_GEMM_Y_XT, HS_GEMM_Y_CONV, HS_ACT_SIGMOID,
             HS_ACT_SIGMOID_BACKWARD, HS_ACT_TANH_HALF);
}

/* A cached binary for `key`, or NULL when absent or damaged. */
static unsigned char *cache_load(const char *name, uint64_t key, size_t *size)
{
    size_t len = 0;
    unsigned char *file = hs_cache_read(name, MAX_ENTRY_BYTES, &len);
    if (!file) return NULL;
    uint64_t header[3]; /* key, size, checksum */
    unsigned char *binary = NULL;
    if (len >= sizeof cache_magic + sizeof header && memcmp(file, cache_magic, 8) == 0) {
        memcpy(header, file + 8, sizeof header);
        const unsigned char *body = file + 8 + sizeof header;
        size_t body_len = len - 8 - sizeof header;
        if (header[0] == key && header[1] == body_len &&
            header[2] == hs_hash(HS_HASH_SEED, body, body_len) &&
            (binary = malloc(body_len))) {
            memcpy(binary, body, body_len);
            *size = body_len;
        }
    }
    free(file);
    return binary;
}

/* Best effort: a cache that cannot be written only costs a rebuild. */
static void cache_store(const char *name, uint64_t key, const unsigned char *binary, size_t size)
{
    uint64_t header[3] = {key, size, hs_hash(HS_HASH_SEED, binary, size)};
    unsigned char *file = malloc(8 + sizeof header + size);
    if (!file) return;
    memcpy(file, cache_magic, 8);
    memcpy(file + 8, header, sizeof header);
    memcpy(file + 8 + sizeof header, binary, size);
    hs_cache_write(name, file, 8 + sizeof header + size);
    free(file);
}

static hs_status build_log_failure(hs_context *ctx, cl_program prog)
{
    size_t len = 0;
    clGetProgramBuildInfo(prog, ctx->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *log = malloc(len + 1);
    if (log) {
        clGetProgramBuildInfo(prog, ctx->dev.device, CL_PROGRAM_BUILD_LOG, len, log, NULL);
        log[len] = '\0';
    }
    hs_status st = hs_fail(HS_ERR_BUILD,
                           "the OpenCL kernels failed to build for %s; build log (file:line "
                           "names the kernel source in cl/):\n%s",
                           ctx->dev.name, log ? log : "(no log)");
    free(log);
    return st;
}

static hs_status build_from_binary(hs_context *ctx, const unsigned char *bin, size_t size,
                                   const char *options, cl_program *out)
{
    cl_int err, status;
    cl_program prog = clCreateProgramWithBinary(ctx->cl, 1, &ctx->dev.device, &size, &bin,
                                                &status, &err);
    if (err != CL_SUCCESS || status != CL_SUCCESS) {
        if (prog) clReleaseProgram(prog);
        return HS_ERR_BUILD;
    }
    if (clBuildProgram(prog, 1, &ctx->dev.device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return HS_ERR_BUILD;
    }
    *out = prog;
    return HS_OK;
}

static hs_status build_from_source(hs_context *ctx, const text *src, const char *options,
                                   cl_program *out)
{
    cl_int err;
    const char *s = src->data;
    cl_program prog = clCreateProgramWithSource(ctx->cl, 1, &s, &src->len, &err);
    if (err != CL_SUCCESS) return hs_cl_fail(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->dev.device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        hs_status st = err == CL_BUILD_PROGRAM_FAILURE ? build_log_failure(ctx, prog)
                                                        : hs_cl_fail(err, "clBuildProgram");
        clReleaseProgram(prog);
        return st;
    }
    *out = prog;
    return HS_OK;
}

static unsigned char *program_binary(cl_program prog, size_t *size)
{
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof *size, size, NULL) != CL_SUCCESS ||
        *size == 0)
        return NULL;
    unsigned char *bin = malloc(*size);
    if (bin && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
        free(bin);
        bin = NULL;
    }
    return bin;
}

/* The cache key: everything that makes the binary what it is. */
static uint64_t program_key(const hs_context *ctx, const char *options, const text *src)
{
    char platform_version[256] = "", device_version[256] = "";
    clGetPlatformInfo(ctx->dev.platform, CL_PLATFORM_VERSION, sizeof platform_version,
                      platform_version, NULL);
    clGetDeviceInfo(ctx->dev.device, CL_DEVICE_VERSION, sizeof device_version, device_version,
                    NULL);
    platform_version[sizeof platform_version - 1] = device_version[sizeof device_version - 1] = 0;
    const char *parts[] = {ctx->dev.platform_name, platform_version, ctx->dev.name,
                           device_version,         ctx->dev.driver_version, options};
    uint64_t key = HS_HASH_SEED;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        key = hs_hash(key, parts[i], strlen(parts[i]) + 1);
    return hs_hash(key, src->data, src->len);
}

/* Load the cached binary `name`, or build from source and cache the result.
 * Runs under the entry's lock. */
static hs_status load_or_build(hs_context *ctx, const text *src, const char *options,
                               const char *name)
{
    char marker[96];
    snprintf(marker, sizeof marker, "%s.loading", name);
    size_t bin_size = 0;
    unsigned char *bin = NULL;
    if (hs_cache_exists(marker)) {
        fprintf(stderr, "hirestyle: warning: an earlier run stopped while loading the cached "
                        "kernels %s/%s (did the driver crash?); rebuilding them\n",
                hs_cache_dir(), name);
        hs_cache_remove(name);
        hs_cache_remove(marker);
    } else {
        bin = cache_load(name, ctx->program_key, &bin_size);
    }
    if (bin) {
        hs_cache_write(marker, "", 0);
        hs_status st = build_from_binary(ctx, bin, bin_size, options, &ctx->program);
        hs_cache_remove(marker);
        free(bin);
        if (st == HS_OK) {
            if (ctx->verbose) fprintf(stderr, "kernels: loaded from cache %s/%s\n",
                                      hs_cache_dir(), name);
            return HS_OK;
        }
    }
    if (ctx->verbose)
        fprintf(stderr, "kernels: building for %s with %s%s\n", ctx->dev.name, options,
                bin ? " (cache entry unusable, rebuilding)" : "");
    HS_TRY(build_from_source(ctx, src, options, &ctx->program));
    bin = program_binary(ctx->program, &bin_size);
    if (bin) cache_store(name, ctx->program_key, bin, bin_size);
    free(bin);
    return HS_OK;
}

/* Whether binaries go to our cache, or the driver is left to cache them. */
static int cache_binaries(const hs_context *ctx)
{
    const char *choice = getenv("HIRESTYLE_KERNEL_CACHE");
    if (choice && strcmp(choice, "ours") == 0) return 1;
    if (choice && strcmp(choice, "driver") == 0) return 0;
    return strstr(ctx->dev.platform_name, "Portable Computing Language") == NULL;
}

hs_status hs_program_build(hs_context *ctx)
{
    text src = {0};
    hs_status st = gather_sources(&src);
    if (st != HS_OK) {
        free(src.data);
        return st;
    }
    ctx->gemm_block = hs_gemm_blocking_for(&ctx->dev);
    char options[HS_PROGRAM_OPTIONS_MAX];
    hs_program_options(&ctx->dev, options, sizeof options);
    ctx->program_key = program_key(ctx, options, &src);
    if (!cache_binaries(ctx)) {
        if (ctx->verbose)
            fprintf(stderr, "kernels: building for %s with %s (the driver caches them)\n",
                    ctx->dev.name, options);
        st = build_from_source(ctx, &src, options, &ctx->program);
        free(src.data);
        return st;
    }

    char name[64], lock_name[80];
    snprintf(name, sizeof name, "program-%016llx.bin", (unsigned long long)ctx->program_key);
    snprintf(lock_name, sizeof lock_name, "%s.lock", name);
    int lock = hs_cache_lock(lock_name, ctx->verbose);
    st = load_or_build(ctx, &src, options, name);
    hs_cache_unlock(lock);
    free(src.data);
    return st;
}

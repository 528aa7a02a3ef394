/* program.c — compiling the kernels for a device, with a binary cache.
 *
 * All .cl files are joined into one program (common.cl first), each preceded
 * by a #line directive so compiler messages name the right file and line.
 * Tunables are -D options chosen from device queries. Binaries are cached in
 * $XDG_CACHE_HOME/hirestyle (or ~/.cache/hirestyle) under a key hashed from
 * the device, driver, sources and options; an entry is checked (magic, key,
 * length, checksum) and rebuilt from source whenever anything is off.
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char cache_magic[8] = "HSPROG1";

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

static void build_options(const hs_context *ctx, char *out, size_t size)
{
    const hs_gemm_blocking *g = &ctx->gemm_block;
    snprintf(out, size,
             "-cl-std=CL1.2 -DREDUCE_GROUP=%zu -DGEMM_MR=%d -DGEMM_VW=%d -DGEMM_NV=%d -DGEMM_KC=%d",
             ctx->reduce_group, g->mr, g->vw, g->nv, g->kc);
}

/* A cached binary for `key`, or NULL when absent or damaged. */
static unsigned char *cache_load(const char *path, uint64_t key, size_t *size)
{
    size_t len = 0;
    char *file = path[0] ? read_file(path, &len) : NULL;
    if (!file) return NULL;
    uint64_t header[3]; /* key, size, checksum */
    unsigned char *binary = NULL;
    if (len >= sizeof cache_magic + sizeof header && memcmp(file, cache_magic, 8) == 0) {
        memcpy(header, file + 8, sizeof header);
        const unsigned char *body = (unsigned char *)file + 8 + sizeof header;
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
static void cache_store(const char *path, uint64_t key, const unsigned char *binary, size_t size)
{
    if (!path[0]) return;
    hs_make_parent_dirs(path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    uint64_t header[3] = {key, size, hs_hash(HS_HASH_SEED, binary, size)};
    int ok = fwrite(cache_magic, 1, 8, f) == 8 && fwrite(header, sizeof header, 1, f) == 1 &&
             fwrite(binary, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) remove(tmp);
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

hs_status hs_program_build(hs_context *ctx)
{
    text src = {0};
    hs_status st = gather_sources(&src);
    if (st != HS_OK) {
        free(src.data);
        return st;
    }
    ctx->gemm_block = hs_gemm_blocking_for(&ctx->dev);
    char options[256];
    build_options(ctx, options, sizeof options);

    uint64_t key = HS_HASH_SEED;
    const char *parts[] = {ctx->dev.platform_name, ctx->dev.name, ctx->dev.driver_version, options};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        key = hs_hash(key, parts[i], strlen(parts[i]) + 1);
    key = hs_hash(key, src.data, src.len);
    char name[64], path[4096];
    snprintf(name, sizeof name, "program-%016llx.bin", (unsigned long long)key);
    hs_cache_path(name, path, sizeof path);

    size_t bin_size = 0;
    unsigned char *bin = cache_load(path, key, &bin_size);
    if (bin && build_from_binary(ctx, bin, bin_size, options, &ctx->program) == HS_OK) {
        if (ctx->verbose) fprintf(stderr, "kernels: loaded from cache %s\n", path);
    } else {
        if (ctx->verbose)
            fprintf(stderr, "kernels: building for %s%s\n", ctx->dev.name,
                    bin ? " (cache entry unusable, rebuilding)" : "");
        st = build_from_source(ctx, &src, options, &ctx->program);
        if (st == HS_OK) {
            free(bin);
            bin = program_binary(ctx->program, &bin_size);
            if (bin) cache_store(path, key, bin, bin_size);
        }
    }
    free(bin);
    free(src.data);
    return st;
}

/* gemm.c — matrix products: our kernel on CPUs (host/gemm_kernel.c), else
 * CLBlast, with per-device tuning.
 *
 * CLBlast ships tuned kernel parameters for many GPUs but none for PoCL's CPU
 * device, where its defaults are several times slower than they need be.
 * `hirestyle tune` (host/tune.c) measures candidates and stores the winners
 * in the cache directory; every context applies them at creation with
 * CLBlastOverrideParameters, before the first GEMM compiles its kernels.
 */
#include "engine.h"
#include "gemm_tuning.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which implementation multiplies: what `hirestyle tune` measured faster on
 * this device, else our kernel (host/gemm_kernel.c) on CPUs, where it is
 * several times faster than CLBlast, and CLBlast on the others, whose tuned
 * kernels ours has not been measured against. $HIRESTYLE_GEMM=clblast or
 * =own overrides, to compare the two. */
static int use_own_kernel(const hs_context *ctx)
{
    const char *force = getenv("HIRESTYLE_GEMM");
    if (force && strcmp(force, "clblast") == 0) return 0;
    if (force && strcmp(force, "own") == 0) return 1;
    return ctx->gemm_own;
}

hs_status hs_gemm_clblast(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                              hs_matrix a, hs_matrix b, float beta, hs_matrix c)
{
    cl_command_queue queue = ctx->queue;
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, a.trans ? CLBlastTransposeYes : CLBlastTransposeNo,
        b.trans ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.buf, a.offset, a.ld,
        b.buf, b.offset, b.ld, beta, c.buf, c.offset, c.ld, &queue, NULL);
    if (st == CLBlastSuccess) return HS_OK;
    if (st == CLBlastOpenCLBuildProgramFailure)
        return hs_fail(HS_ERR_BUILD, "CLBlast could not build its GEMM kernel for %s (status %d)",
                       ctx->dev.name, (int)st);
    if (st == CLBlastTempBufferAllocFailure || st == CLBlastOpenCLOutOfResources ||
        st == CLBlastOpenCLOutOfHostMemory)
        return hs_fail(HS_ERR_DEVICE_MEMORY, "GEMM %zux%zux%zu: out of device memory", m,
                       n, k);
    return hs_fail(HS_ERR_INTERNAL, "CLBlast SGEMM %zux%zux%zu failed with status %d", m, n, k,
                   (int)st);
}

hs_status hs_gemm(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                  hs_matrix b, float beta, hs_matrix c)
{
    if (use_own_kernel(ctx) && hs_gemm_kernel_handles(m, n, k, a, b, c))
        return hs_gemm_kernel(ctx, m, n, k, alpha, a, b, beta, c);
    return hs_gemm_clblast(ctx, m, n, k, alpha, a, b, beta, c);
}

hs_status hs_gemm_lower(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                        hs_matrix b, float beta, hs_matrix c)
{
    if (use_own_kernel(ctx) && hs_gemm_kernel_handles(m, n, k, a, b, c))
        return hs_gemm_kernel_lower(ctx, m, n, k, alpha, a, b, beta, c);
    return hs_gemm_clblast(ctx, m, n, k, alpha, a, b, beta, c);
}

void hs_gemm_tuning_path(const hs_device_info *dev, char *out, size_t size)
{
    /* One file per device and driver, named by a hash of both. */
    uint64_t h = HS_HASH_SEED;
    const char *parts[] = {dev->platform_name, dev->name, dev->driver_version};
    for (size_t i = 0; i < 3; i++) h = hs_hash(h, parts[i], strlen(parts[i]) + 1);
    char name[64];
    snprintf(name, sizeof name, "gemm-%016llx.txt", (unsigned long long)h);
    hs_cache_path(name, out, size);
}

hs_status hs_gemm_override(const hs_context *ctx, const hs_gemm_params *p)
{
    const char *names[HS_GEMM_PARAM_COUNT];
    size_t values[HS_GEMM_PARAM_COUNT];
    for (int i = 0; i < HS_GEMM_PARAM_COUNT; i++) {
        names[i] = hs_gemm_param_names[i];
        values[i] = (size_t)p->value[i];
    }
    CLBlastStatusCode st = CLBlastOverrideParameters(ctx->dev.device, "Xgemm",
                                                     CLBlastPrecisionSingle, HS_GEMM_PARAM_COUNT,
                                                     names, values);
    if (st == CLBlastSuccess && p->min_indirect >= 0) {
        const char *routine[] = {"XGEMM_MIN_INDIRECT_SIZE"};
        size_t threshold[] = {(size_t)p->min_indirect};
        st = CLBlastOverrideParameters(ctx->dev.device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                       routine, threshold);
    }
    if (st != CLBlastSuccess)
        return hs_fail(HS_ERR_INTERNAL, "CLBlast rejected the GEMM parameters (status %d)", (int)st);
    return HS_OK;
}

/* The stored file is one line: "Xgemm NAME=VALUE ... [XGEMM_MIN_INDIRECT_SIZE=N]".
 * Untuned CPU devices get hs_gemm_cpu_defaults; others CLBlast's database. */
hs_status hs_gemm_apply_tuning(hs_context *ctx)
{
    ctx->gemm_own = (ctx->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    char path[4096];
    hs_gemm_tuning_path(&ctx->dev, path, sizeof path);
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    char line[1024];
    hs_gemm_params p;
    int ok = f && fgets(line, sizeof line, f) && hs_gemm_params_parse(line, &p);
    if (f) fclose(f);
    if (f && !ok && ctx->verbose) fprintf(stderr, "gemm: ignoring unreadable tuning file %s\n", path);
    if (ok) {
        if (ctx->verbose) fprintf(stderr, "gemm: applying tuned parameters from %s\n", path);
        if (p.own_kernel >= 0) ctx->gemm_own = p.own_kernel;
        return hs_gemm_override(ctx, &p);
    }
    if (!(ctx->dev.type & CL_DEVICE_TYPE_CPU)) return HS_OK;
    if (ctx->verbose)
        fprintf(stderr, "gemm: CPU defaults (run `hirestyle tune` to tune for this device)\n");
    return hs_gemm_override(ctx, &hs_gemm_cpu_defaults);
}

int hs_gemm_params_parse(const char *line, hs_gemm_params *out)
{
    if (strncmp(line, "Xgemm ", 6) != 0) return 0;
    for (int i = 0; i < HS_GEMM_PARAM_COUNT; i++) {
        char key[32];
        snprintf(key, sizeof key, " %s=", hs_gemm_param_names[i]);
        const char *at = strstr(line, key);
        if (!at) return 0;
        out->value[i] = atoi(at + strlen(key));
        if (out->value[i] < 0) return 0;
    }
    const char *at = strstr(line, " XGEMM_MIN_INDIRECT_SIZE=");
    out->min_indirect = at ? atol(at + strlen(" XGEMM_MIN_INDIRECT_SIZE=")) : -1;
    out->own_kernel = strstr(line, " KERNEL=own") ? 1 : strstr(line, " KERNEL=clblast") ? 0 : -1;
    return 1;
}

void hs_gemm_params_format(const hs_gemm_params *p, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "Xgemm");
    for (int i = 0; i < HS_GEMM_PARAM_COUNT && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, " %s=%d", hs_gemm_param_names[i],
                                 p->value[i]);
    if (p->min_indirect >= 0 && used < size)
        used += (size_t)snprintf(out + used, size - used, " XGEMM_MIN_INDIRECT_SIZE=%ld",
                                 p->min_indirect);
    if (p->own_kernel >= 0 && used < size)
        snprintf(out + used, size - used, " KERNEL=%s", p->own_kernel ? "own" : "clblast");
}

const char *const hs_gemm_param_names[HS_GEMM_PARAM_COUNT] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG", "SA", "SB", "STRM", "STRN", "VWM", "VWN"};

const hs_gemm_params hs_gemm_cpu_defaults = {
    /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 16, 1, 1, 0, 0, 4, 1},
    0, -1};

/* gemm.c — matrix products: our kernel on PoCL's CPU device
 * (host/gemm_kernel.c), else CLBlast, with per-device tuning, each checked
 * before its first use on a device (host/gemm_check.c).
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hs_gemm_own_known_good(const hs_device_info *dev)
{
    return (dev->type & CL_DEVICE_TYPE_CPU) &&
           strstr(dev->platform_name, "Portable Computing Language") != NULL;
}

/* Which implementation should multiply: what `hirestyle tune` measured
 * faster on this device, else our kernel on PoCL's CPU device, where it is
 * several times faster than CLBlast, and CLBlast on the others: our kernel
 * has been proven nowhere else (rusticl on llvmpipe gets its long loops
 * wrong). $HIRESTYLE_GEMM=clblast or =own overrides, to compare the two;
 * either way hs_gemm checks the choice before using it. */
static int want_own_kernel(const hs_context *ctx)
{
    const char *force = getenv("HIRESTYLE_GEMM");
    if (force && strcmp(force, "clblast") == 0) return 0;
    if (force && strcmp(force, "own") == 0) return 1;
    return ctx->gemm_own;
}

hs_status hs_gemm_choose(hs_context *ctx, int *own)
{
    int want = want_own_kernel(ctx);
    *own = want;
    /* Off only under a simulator (tests/oclgrind.sh), too slow for the check's
     * products, where the op tests compare every product with a reference. */
    const char *check = getenv("HIRESTYLE_GEMM_CHECK");
    if (check && strcmp(check, "off") == 0) return HS_OK;
    double error[2] = {0, 0}; /* the largest difference from the exact products */
    int first_time = !ctx->gemm_checked[want]; /* warn once a context */
    if (first_time) HS_TRY(hs_gemm_check(ctx, want, &error[want]));
    if (ctx->gemm_checked[want] > 0) return HS_OK;
    int other = !want;
    if (!ctx->gemm_checked[other]) HS_TRY(hs_gemm_check(ctx, other, &error[other]));
    const char *names[2] = {"CLBlast", "hirestyle's kernel"};
    if (ctx->gemm_checked[other] < 0)
        return hs_fail(HS_ERR_DEVICE_FAULT,
                       "neither GEMM gives right products on %s (%s): the driver is broken; "
                       "try another device or driver",
                       ctx->dev.name, ctx->dev.driver_version);
    if (first_time)
        fprintf(stderr,
                "hirestyle: warning: %s gives wrong matrix products on %s (driver %s: "
                "off by up to %g); using %s\n",
                names[want], ctx->dev.name, ctx->dev.driver_version, error[want], names[other]);
    *own = other;
    return HS_OK;
}

hs_status hs_gemm_clblast(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                              hs_matrix a, hs_matrix b, float beta, hs_matrix c)
{
    cl_command_queue queue = ctx->queue;
    cl_event done;
    hs_profile_flops(ctx, 2.0 * (double)m * (double)n * (double)k);
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, a.trans ? CLBlastTransposeYes : CLBlastTransposeNo,
        b.trans ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.buf, a.offset, a.ld,
        b.buf, b.offset, b.ld, beta, c.buf, c.offset, c.ld, &queue,
        ctx->profile ? &done : NULL);
    if (st == CLBlastSuccess)
        return ctx->profile ? hs_profile_launch(ctx, "CLBlast SGEMM", done) : HS_OK;
    if (st == CLBlastOpenCLBuildProgramFailure)
        return hs_fail(HS_ERR_BUILD, "CLBlast could not build its GEMM kernel for %s (status %d)",
                       ctx->dev.name, (int)st);
    char what[96];
    snprintf(what, sizeof what, "CLBlast SGEMM %zux%zux%zu", m, n, k);
    if (st == CLBlastTempBufferAllocFailure)
        return hs_cl_fail(CL_MEM_OBJECT_ALLOCATION_FAILURE, what);
    /* CLBlast passes OpenCL's own errors through, with their values. */
    if (st < 0 && st > -1000) return hs_cl_fail((cl_int)st, what);
    return hs_fail(HS_ERR_INTERNAL, "CLBlast SGEMM %zux%zux%zu failed with status %d", m, n, k,
                   (int)st);
}

hs_status hs_gemm(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                  hs_matrix b, float beta, hs_matrix c)
{
    return hs_gemm_epilogue(ctx, m, n, k, alpha, a, b, beta, c, NULL);
}

hs_status hs_pass_run(hs_context *ctx, const hs_pass *p)
{
    const int chunk = 1024; /* values per work-item of bias_act */
    if (p->offset + p->rows * p->ld > HS_MAX_ELEMENTS) /* the kernel's offsets are ints */
        return hs_fail(HS_ERR_TOO_LARGE, "a pass over %zu rows of %zu values is too long",
                       p->rows, p->ld);
    const hs_epilogue none = {0}, *ep = p->ep ? p->ep : &none;
    size_t segs = (p->cols + chunk - 1) / chunk;
    return hs_launch(ctx, "bias_act", 2, (size_t[]){segs, p->rows}, NULL, ARG_MEM(p->out),
                     ARG_INT(p->offset), ARG_INT(p->ld), ARG_INT(p->rows), ARG_INT(p->cols),
                     ARG_INT(p->channels), ARG_MEM(p->in),
                     ARG_MEM(p->row_scale ? p->row_scale : p->in), ARG_INT(p->row_scale != NULL),
                     ARG_INT(p->row_sigmoid), ARG_MEM(ep->bias ? ep->bias : p->in),
                     ARG_INT(ep->bias != NULL), ARG_INT(ep->rectify), ARG_FLOAT(ep->slope),
                     ARG_MEM(ep->residual ? ep->residual : p->in), ARG_INT(ep->residual_offset),
                     ARG_INT(ep->residual != NULL), ARG_FLOAT(ep->scale),
                     ARG_FLOAT(ep->residual_scale), ARG_FLOAT(p->clamped ? p->lo : -INFINITY),
                     ARG_FLOAT(p->clamped ? p->hi : INFINITY), ARG_INT(chunk), ARG_END);
}

hs_pass hs_pass_over_planes(hs_tensor *out, const hs_tensor *in)
{
    size_t plane = (size_t)in->h * in->w;
    return (hs_pass){.out = out->buf, .in = in->buf, .ld = plane, .rows = (size_t)in->n * in->c,
                     .cols = plane, .channels = in->c};
}

hs_status hs_epilogue_pass(hs_context *ctx, cl_mem buf, size_t offset, size_t ld, size_t rows,
                           size_t cols, int channels, const hs_epilogue *ep)
{
    return hs_pass_run(ctx, &(hs_pass){.out = buf, .in = buf, .offset = offset, .ld = ld,
                                       .rows = rows, .cols = cols, .channels = channels,
                                       .ep = ep});
}

hs_status hs_gemm_epilogue(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                           hs_matrix a, hs_matrix b, float beta, hs_matrix c,
                           const hs_epilogue *ep)
{
    int own = 0;
    HS_TRY(hs_gemm_choose(ctx, &own));
    if (own && hs_gemm_kernel_handles(m, n, k, a, b, c))
        return hs_gemm_kernel_epilogue(ctx, m, n, k, alpha, a, b, beta, c, ep);
    HS_TRY(hs_gemm_clblast(ctx, m, n, k, alpha, a, b, beta, c));
    return ep ? hs_epilogue_pass(ctx, c.buf, c.offset, c.ld, m, n, (int)m, ep) : HS_OK;
}

hs_status hs_gemm_batched(hs_context *ctx, size_t count, size_t m, size_t n, size_t k,
                          float alpha, hs_matrix a, size_t a_step, hs_matrix b, size_t b_step,
                          float beta, hs_matrix c, size_t c_step)
{
    int own = 0;
    HS_TRY(hs_gemm_choose(ctx, &own));
    if (own && hs_gemm_kernel_handles_batch(count, m, n, k, a, a_step, b, b_step, c, c_step))
        return hs_gemm_kernel_batched(ctx, count, m, n, k, alpha, a, a_step, b, b_step, beta, c,
                                      c_step);
    /* One product at a time: CLBlast 1.5's SgemmStridedBatched gave wrong
     * products on PoCL for long K with A transposed and for the a² products
     * of a 64-channel Winograd conv (tests/ops_gemm.c, ops_winograd.c). */
    for (size_t i = 0; i < count; i++) {
        hs_matrix ai = a, bi = b, ci = c;
        ai.offset += i * a_step;
        bi.offset += i * b_step;
        ci.offset += i * c_step;
        HS_TRY(hs_gemm_clblast(ctx, m, n, k, alpha, ai, bi, beta, ci));
    }
    return HS_OK;
}

hs_status hs_gemm_lower(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                        hs_matrix b, float beta, hs_matrix c)
{
    int own = 0;
    HS_TRY(hs_gemm_choose(ctx, &own));
    if (own && hs_gemm_kernel_handles(m, n, k, a, b, c))
        return hs_gemm_kernel_lower(ctx, m, n, k, alpha, a, b, beta, c);
    return hs_gemm_clblast(ctx, m, n, k, alpha, a, b, beta, c);
}

void hs_gemm_tuning_path(const hs_device_info *dev, char *out, size_t size)
{
    hs_cache_device_path(dev, "gemm-", out, size);
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
    ctx->gemm_own = hs_gemm_own_known_good(&ctx->dev);
    char path[4096], name[64];
    hs_gemm_tuning_path(&ctx->dev, path, sizeof path);
    const char *slash = strrchr(path, '/');
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : "");
    size_t len = 0;
    char *line = path[0] ? (char *)hs_cache_read(name, 4096, &len) : NULL;
    hs_gemm_params p;
    int ok = line && hs_gemm_params_parse(line, &p);
    if (line && !ok && ctx->verbose)
        fprintf(stderr, "gemm: ignoring unreadable tuning file %s\n", path);
    if (ok) ctx->gemm_tuning_hash = hs_hash(HS_HASH_SEED, line, len);
    free(line);
    if (ok) {
        if (ctx->verbose) fprintf(stderr, "gemm: applying tuned parameters from %s\n", path);
        if (p.own_kernel >= 0) ctx->gemm_own = p.own_kernel && hs_gemm_own_known_good(&ctx->dev);
        return hs_gemm_override(ctx, &p);
    }
    if (!(ctx->dev.type & CL_DEVICE_TYPE_CPU)) return HS_OK;
    if (ctx->verbose)
        fprintf(stderr, "gemm: CPU defaults (run `hirestyle tune` to tune for this device)\n");
    ctx->gemm_tuning_hash = 1; /* the CPU defaults, not CLBlast's own */
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

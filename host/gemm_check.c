/* gemm_check.c — a GEMM that cannot be silently wrong: before its first
 * product on a device, each implementation hs_gemm would use (our kernel or
 * CLBlast) multiplies two small problems whose exact answer the host knows,
 * and is used only if it gets it. The verdict is cached beside the kernels,
 * keyed on the same driver identity, so it costs one run per device and
 * driver.
 *
 * Why: rusticl on llvmpipe cuts a work-item's loops at 65535 iterations in
 * total and returns a wrong product without an error (our kernel's K loop at
 * K = 40000); CLBlast's tuning database has held parameters that give wrong
 * SGEMM on some GPUs. The problems are chosen to meet both: a long K through
 * one tile, and a product large enough for CLBlast's padded Xgemm kernel
 * rather than XgemmDirect. Small-integer entries keep every partial sum
 * exact in float, so a correct GEMM matches the reference to the bit.
 */
#include "engine.h"
#include "gemm_tuning.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_case { size_t m, n, k; int ta, tb; float alpha, beta; } check_case;

static const check_case cases[] = {
    {9, 33, 40000, 0, 0, 1.0f, 0.0f},    /* the K loop of one tile, past 65535 steps */
    {200, 300, 1200, 1, 0, 0.5f, 2.0f},  /* 72 M multiply-adds: CLBlast's padded kernel */
};
#define CASE_COUNT (int)(sizeof cases / sizeof cases[0])

/* Integers in -2..2 from a fixed sequence (xorshift32). */
static void fill_small_ints(float *x, size_t n, unsigned state)
{
    for (size_t i = 0; i < n; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        x[i] = (float)((int)(state % 5) - 2);
    }
}

/* Largest |got - want| over the product of one case, on the device's GEMM `impl`. */
static hs_status run_case(hs_context *ctx, hs_gemm_fn impl, const check_case *g, double *error)
{
    size_t na = g->m * g->k, nb = g->k * g->n, nc = g->m * g->n;
    float *host = malloc((na + nb + 2 * nc) * sizeof(float));
    if (!host) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    float *a = host, *b = a + na, *c = b + nb, *got = c + nc;
    fill_small_ints(a, na, 1u), fill_small_ints(b, nb, 2u), fill_small_ints(c, nc, 3u);
    cl_mem buf[3] = {NULL, NULL, NULL};
    size_t bytes[3] = {na * sizeof(float), nb * sizeof(float), nc * sizeof(float)};
    const float *data[3] = {a, b, c};
    hs_status st = HS_OK;
    for (int i = 0; i < 3 && st == HS_OK; i++) {
        st = hs_buffer_alloc(ctx, bytes[i], &buf[i]);
        if (st == HS_OK)
            st = clEnqueueWriteBuffer(ctx->queue, buf[i], CL_TRUE, 0, bytes[i], data[i], 0, NULL,
                                      NULL) == CL_SUCCESS ? HS_OK
                                                          : hs_fail(HS_ERR_INTERNAL, "uploading");
    }
    /* A is m x k (stored k x m when transposed), B k x n, C m x n. */
    if (st == HS_OK)
        st = impl(ctx, g->m, g->n, g->k, g->alpha, (hs_matrix){buf[0], 0, g->ta ? g->m : g->k, g->ta},
                  (hs_matrix){buf[1], 0, g->tb ? g->k : g->n, g->tb}, g->beta,
                  (hs_matrix){buf[2], 0, g->n, 0});
    if (st == HS_OK) {
        cl_int err = clEnqueueReadBuffer(ctx->queue, buf[2], CL_TRUE, 0, bytes[2], got, 0, NULL,
                                         NULL);
        if (err != CL_SUCCESS) st = hs_cl_fail_wait(err, "reading the GEMM check");
    }
    for (int i = 0; i < 3; i++) hs_buffer_free(ctx, buf[i], bytes[i]);
    *error = 0;
    /* Row by row, B's rows in order: the reference costs a first run
     * milliseconds, not the tenth of a second of a column walk. */
    double *row = st == HS_OK ? malloc(g->n * sizeof *row) : NULL;
    if (st == HS_OK && !row) st = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (size_t i = 0; st == HS_OK && i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++) row[j] = 0;
        for (size_t p = 0; p < g->k; p++) {
            double aip = g->ta ? a[p * g->m + i] : a[i * g->k + p];
            for (size_t j = 0; j < g->n; j++)
                row[j] += aip * (g->tb ? b[j * g->k + p] : b[p * g->n + j]);
        }
        for (size_t j = 0; j < g->n; j++) {
            double want = g->alpha * row[j] + g->beta * (double)c[i * g->n + j];
            double e = fabs(got[i * g->n + j] - want);
            if (!(e <= *error)) *error = isnan(e) ? INFINITY : e;
        }
    }
    free(row);
    free(host);
    return st;
}

/* The cache entry holding the verdict on `impl_name` for this program and tuning. */
static void entry_name(const hs_context *ctx, const char *impl_name, char *out, size_t size)
{
    snprintf(out, size, "gemm-check-%s-%016llx.txt", impl_name,
             (unsigned long long)hs_hash(ctx->program_key, &ctx->gemm_tuning_hash,
                                         sizeof ctx->gemm_tuning_hash));
}

hs_status hs_gemm_check(hs_context *ctx, int own, double *error)
{
    const char *impl_name = own ? "own" : "clblast";
    char name[96];
    entry_name(ctx, impl_name, name, sizeof name);
    size_t len = 0;
    char *cached = (char *)hs_cache_read(name, 64, &len);
    int verdict = 0;
    if (cached && sscanf(cached, "good %lf", error) == 1) verdict = 1;
    if (cached && sscanf(cached, "bad %lf", error) == 1) verdict = -1;
    free(cached);
    if (verdict) {
        ctx->gemm_checked[own] = verdict;
        return HS_OK;
    }
    hs_gemm_fn impl = own ? hs_gemm_kernel : hs_gemm_clblast;
    *error = 0;
    for (int i = 0; i < CASE_COUNT; i++) {
        double e = 0;
        HS_TRY(run_case(ctx, impl, &cases[i], &e));
        if (!(e <= *error)) *error = e;
    }
    /* Exact integers: any difference is a wrong product, not rounding. */
    ctx->gemm_checked[own] = *error == 0 ? 1 : -1;
    char line[64];
    snprintf(line, sizeof line, "%s %g\n", *error == 0 ? "good" : "bad", *error);
    hs_cache_write(name, line, strlen(line));
    if (ctx->verbose)
        fprintf(stderr, "gemm: %s checked on %s: %s\n", own ? "hirestyle's kernel" : "CLBlast",
                ctx->dev.name, *error == 0 ? "exact" : "WRONG");
    return HS_OK;
}

/* tune.c — searching CLBlast's Xgemm parameters for this device.
 *
 * Candidates are drawn at random (fixed seed) from the parameter space that
 * CLBlast's own tuner explores, filtered by the kernel's constraints and the
 * device's limits, and timed at the GEMM shapes our convs produce. The best
 * is checked for correctness against a host GEMM, then stored where every
 * context applies it (host/gemm.c).
 */
#include "bench.h"
#include "engine.h"
#include "gemm_tuning.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (M, N, K) of convs we run: VGG19 conv2_2 and conv4_2 (a quarter of a 256²
 * image), an SR generator's 64-channel conv, and ResNet50's small 1×1 convs. */
static const size_t tune_shapes[][3] = {
    {128, 4096, 1152}, {512, 256, 4608}, {64, 2304, 576}, {256, 192, 1024}, {64, 768, 256}};
#define TUNE_SHAPE_COUNT 5

static unsigned next_random(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 16;
}

static int pick(unsigned *state, const int *choices, int count)
{
    return choices[next_random(state) % (unsigned)count];
}

static int valid(const hs_device_info *dev, const hs_gemm_params *g)
{
    const int *v = g->value;
    int threads = v[GP_MDIMC] * v[GP_NDIMC];
    size_t local = ((v[GP_SA] ? v[GP_KWG] * v[GP_MWG] : 0) + (v[GP_SB] ? v[GP_KWG] * v[GP_NWG] : 0)) *
                   sizeof(float);
    return v[GP_KWG] % v[GP_KWI] == 0 && v[GP_MWG] % (v[GP_MDIMC] * v[GP_VWM]) == 0 &&
           v[GP_NWG] % (v[GP_NDIMC] * v[GP_VWN]) == 0 &&
           v[GP_MWG] % (v[GP_MDIMA] * v[GP_VWM]) == 0 &&
           v[GP_NWG] % (v[GP_NDIMB] * v[GP_VWN]) == 0 && v[GP_KWG] % (threads / v[GP_MDIMA]) == 0 &&
           v[GP_KWG] % (threads / v[GP_NDIMB]) == 0 && (size_t)threads <= dev->max_work_group &&
           local <= dev->local_mem;
}

/* Set parameter `which` (0..6 below) of g to a random allowed value. */
static void randomise(hs_gemm_params *g, int which, unsigned *state)
{
    static const int wg[] = {16, 32, 64, 128}, kwg[] = {16, 32}, dim[] = {8, 16, 32},
                     vw[] = {1, 2, 4, 8}, flag[] = {0, 1};
    int *v = g->value;
    switch (which) {
    case 0: v[GP_MWG] = pick(state, wg, 4); break;
    case 1: v[GP_NWG] = pick(state, wg, 4); break;
    case 2: v[GP_KWG] = pick(state, kwg, 2); break;
    case 3: v[GP_MDIMC] = v[GP_MDIMA] = pick(state, dim, 3); break;
    case 4: v[GP_NDIMC] = v[GP_NDIMB] = pick(state, dim, 3); break;
    case 5: v[GP_VWM] = pick(state, vw, 4); v[GP_VWN] = pick(state, vw, 4); break;
    default: v[GP_SA] = v[GP_SB] = pick(state, flag, 2); break;
    }
}

/* Half the time a neighbour of the best so far (one parameter changed),
 * otherwise a fresh random point: local search with restarts. */
static hs_gemm_params next_candidate(const hs_gemm_params *best, unsigned *state)
{
    hs_gemm_params g = *best;
    if (next_random(state) % 2) {
        randomise(&g, (int)(next_random(state) % 7), state);
    } else {
        for (int which = 0; which < 7; which++) randomise(&g, which, state);
    }
    g.value[GP_GEMMK] = 0;
    g.value[GP_KREG] = 1;
    g.value[GP_KWI] = 2;
    g.value[GP_STRM] = g.value[GP_STRN] = 0;
    g.min_indirect = 0; /* time Xgemm itself on every shape */
    return g;
}

typedef struct tune_buffers { cl_mem a, b, c; size_t floats_a, floats_b, floats_c; } tune_buffers;

static int seen(const hs_gemm_params *list, int count, const hs_gemm_params *g)
{
    for (int i = 0; i < count; i++)
        if (memcmp(list[i].value, g->value, sizeof g->value) == 0) return 1;
    return 0;
}

/* Seconds for one GEMM at each shape by `gemm`, each after a first call
 * that compiles what it needs: CLBlast's with the parameters under test, or
 * our kernel (PoCL builds it once per work-group size). */
typedef hs_status (*gemm_fn)(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                             hs_matrix a, hs_matrix b, float beta, hs_matrix c);
static hs_status time_shapes(hs_context *ctx, const tune_buffers *t, gemm_fn gemm,
                             double *seconds)
{
    *seconds = 0;
    for (int s = 0; s < TUNE_SHAPE_COUNT; s++) {
        size_t m = tune_shapes[s][0], n = tune_shapes[s][1], k = tune_shapes[s][2];
        hs_matrix a = {t->a, 0, k, 0}, b = {t->b, 0, n, 0}, c = {t->c, 0, n, 0};
        HS_TRY(gemm(ctx, m, n, k, 1.0f, a, b, 0.0f, c));
        HS_TRY(hs_finish(ctx));
        double t0 = hs_seconds();
        HS_TRY(gemm(ctx, m, n, k, 1.0f, a, b, 0.0f, c));
        HS_TRY(hs_finish(ctx));
        *seconds += hs_seconds() - t0;
    }
    return HS_OK;
}

static double total_gflop(void)
{
    double f = 0;
    for (int s = 0; s < TUNE_SHAPE_COUNT; s++)
        f += 2.0 * tune_shapes[s][0] * tune_shapes[s][1] * tune_shapes[s][2] * 1e-9;
    return f;
}

/* C = A·B on an odd shape with the chosen parameters, against the host. */
static hs_status verify(hs_context *ctx)
{
    enum { M = 67, N = 131, K = 45 };
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N),
          *c = malloc(sizeof(float) * M * N);
    hs_tensor ta = {0}, tb = {0}, tc = {0};
    hs_status st = (a && b && c) ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (int i = 0; st == HS_OK && i < M * K; i++) a[i] = (float)((i * 7) % 13) - 6.0f;
    for (int i = 0; st == HS_OK && i < K * N; i++) b[i] = (float)((i * 5) % 11) - 5.0f;
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &ta, 1, 1, M, K);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &tb, 1, 1, K, N);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &tc, 1, 1, M, N);
    if (st == HS_OK) st = hs_tensor_write(&ta, a);
    if (st == HS_OK) st = hs_tensor_write(&tb, b);
    if (st == HS_OK)
        st = hs_gemm(ctx, M, N, K, 1.0f, (hs_matrix){ta.buf, 0, K, 0}, (hs_matrix){tb.buf, 0, N, 0},
                     0.0f, (hs_matrix){tc.buf, 0, N, 0});
    if (st == HS_OK) st = hs_tensor_read(&tc, c);
    for (int i = 0; st == HS_OK && i < M; i++)
        for (int j = 0; j < N; j++) {
            double want = 0;
            for (int k = 0; k < K; k++) want += (double)a[i * K + k] * b[k * N + j];
            if (fabs(c[i * N + j] - want) > 1e-3) {
                st = hs_fail(HS_ERR_INTERNAL, "tuned GEMM gives wrong results: not stored");
                break;
            }
        }
    hs_tensor_free(&ta);
    hs_tensor_free(&tb);
    hs_tensor_free(&tc);
    free(a);
    free(b);
    free(c);
    return st;
}

static hs_status store(const hs_context *ctx, const hs_gemm_params *best, char *path, size_t size)
{
    hs_gemm_tuning_path(&ctx->dev, path, size);
    if (!path[0]) return hs_fail(HS_ERR_IO, "no cache directory: set XDG_CACHE_HOME or HOME");
    char line[512], tmp[4200];
    hs_gemm_params_format(best, line, sizeof line);
    hs_make_parent_dirs(path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        if (f) remove(tmp);
        return hs_fail(HS_ERR_IO, "%s: cannot write the tuning file", path);
    }
    return HS_OK;
}

/* Time up to `candidates` parameter sets; *best gets the fastest (its
 * time in *best_time), tried with the padded kernel on every shape. */
static hs_status search(hs_context *ctx, const tune_buffers *t, int candidates, int quiet,
                        hs_gemm_params *best, double *best_time)
{
    static hs_gemm_params tried_list[512];
    unsigned state = 20261125u;
    double gflop = total_gflop();
    *best = hs_gemm_cpu_defaults;
    *best_time = INFINITY;
    if (candidates > 512) candidates = 512;
    for (int tried = 0, drawn = 0; tried < candidates && drawn < 100000; drawn++) {
        hs_gemm_params g = tried == 0 ? hs_gemm_cpu_defaults : next_candidate(best, &state);
        if (!valid(&ctx->dev, &g) || seen(tried_list, tried, &g)) continue;
        tried_list[tried++] = g;
        double seconds;
        if (hs_gemm_override(ctx, &g) != HS_OK ||
            time_shapes(ctx, t, hs_gemm_clblast, &seconds) != HS_OK)
            continue; /* a candidate the device cannot run is skipped */
        char line[512];
        hs_gemm_params_format(&g, line, sizeof line);
        if (!quiet) printf("%3d/%d %7.1f GFLOP/s  %s\n", tried, candidates, gflop / seconds, line);
        if (seconds < *best_time) {
            *best_time = seconds;
            *best = g;
        }
    }
    if (!(*best_time < INFINITY)) return hs_fail(HS_ERR_INTERNAL, "no GEMM candidate ran");
    /* Keep CLBlast's direct kernel for small products if that is faster. */
    hs_gemm_params with_direct = *best;
    with_direct.min_indirect = 384L * 384 * 384;
    double direct_time;
    HS_TRY(hs_gemm_override(ctx, &with_direct));
    HS_TRY(time_shapes(ctx, t, hs_gemm_clblast, &direct_time));
    if (direct_time < *best_time) {
        *best = with_direct;
        *best_time = direct_time;
    }
    return HS_OK;
}

hs_status hs_tune_gemm(hs_context *ctx, int candidates, int quiet)
{
    tune_buffers t = {0};
    for (int s = 0; s < TUNE_SHAPE_COUNT; s++) {
        size_t m = tune_shapes[s][0], n = tune_shapes[s][1], k = tune_shapes[s][2];
        if (m * k > t.floats_a) t.floats_a = m * k;
        if (k * n > t.floats_b) t.floats_b = k * n;
        if (m * n > t.floats_c) t.floats_c = m * n;
    }
    hs_status st = hs_buffer_alloc(ctx, t.floats_a * sizeof(float), &t.a);
    if (st == HS_OK) st = hs_buffer_alloc(ctx, t.floats_b * sizeof(float), &t.b);
    if (st == HS_OK) st = hs_buffer_alloc(ctx, t.floats_c * sizeof(float), &t.c);
    double gflop = total_gflop(), best_time = INFINITY, current = INFINITY, own = INFINITY;
    hs_gemm_params best;
    if (st == HS_OK) st = time_shapes(ctx, &t, hs_gemm_clblast, &current);
    if (st == HS_OK && !quiet) printf("CLBlast, current parameters: %.1f GFLOP/s\n", gflop / current);
    if (st == HS_OK) st = search(ctx, &t, candidates, quiet, &best, &best_time);
    if (st == HS_OK) st = time_shapes(ctx, &t, hs_gemm_kernel, &own);
    hs_buffer_free(ctx, t.a, t.floats_a * sizeof(float));
    hs_buffer_free(ctx, t.b, t.floats_b * sizeof(float));
    hs_buffer_free(ctx, t.c, t.floats_c * sizeof(float));
    if (st != HS_OK) return st;
    best.own_kernel = own < best_time && hs_gemm_own_known_good(&ctx->dev);
    ctx->gemm_own = best.own_kernel;
    HS_TRY(hs_gemm_override(ctx, &best));
    HS_TRY(verify(ctx));
    char path[4096];
    HS_TRY(store(ctx, &best, path, sizeof path));
    printf("CLBlast: %.1f GFLOP/s tuned (was %.1f); hirestyle's kernel: %.1f GFLOP/s\n"
           "GEMMs will use %s; stored in %s\n",
           gflop / best_time, gflop / current, gflop / own,
           best.own_kernel ? "hirestyle's kernel" : "CLBlast", path);
    return HS_OK;
}

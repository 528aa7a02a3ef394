/* ops_gemm.c — hs_gemm against a double-precision reference, through each
 * implementation ($HIRESTYLE_GEMM=own: cl/gemm.cl, =clblast), for A·B, A·Bᵀ,
 * Aᵀ·B and Aᵀ·Bᵀ, with alpha, beta (beta = 0 on a NaN-filled C, which must
 * not be read), offsets and padded leading dimensions; every other case with
 * an epilogue (hs_gemm_epilogue: a bias per row, on Aᵀ a residual added
 * with C's row stride and an offset of its own, then LeakyReLU). Every
 * float of C's buffer outside the product (offset, row padding) must be
 * left as it was. Then products of a matrix with its own transpose, the
 * same stored matrix as both operands (A·Aᵀ of a Gram matrix, and Aᵀ·A),
 * alone and in batches. */
#include "engine.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct gemm_case {
    int m, n, k;
    float alpha, beta;
    int offset; /* floats before each matrix (A, B: offset; C: 2*offset+1) */
    int pad;    /* leading dimension = row length + pad */
    int small;  /* also run under oclgrind */
} gemm_case;

/* Our kernel's tiles are 6-8 rows x 8-32 columns: 24 x 32 fills them,
 * 25 x 33 x 65 spills one row, column and step past them. */
static const gemm_case cases[] = {
    {1, 1, 1, 1.0f, 0.0f, 0, 0, 1},
    {7, 13, 5, 0.5f, 0.0f, 3, 2, 1},
    {7, 13, 5, 1.0f, 0.75f, 0, 0, 1},
    {13, 17, 3, -1.5f, 1.0f, 1, 1, 1},
    {24, 32, 64, 1.0f, 0.0f, 0, 0, 1},
    {25, 33, 65, 2.0f, -0.5f, 4, 3, 1},
    {3, 40, 100, 1.0f, 0.0f, 0, 1, 1},
    {67, 131, 45, 1.0f, 0.25f, 11, 3, 0},
    {64, 4096, 576, 1.0f, 0.0f, 0, 0, 0},
    {513, 97, 1153, 0.5f, 1.0f, 1, 5, 0},
    {128, 20, 40000, 1.0f, 0.0f, 2, 0, 0},  /* A·B, A·Bᵀ: A copied in chunks of K */
    {130, 21, 33000, 1.0f, 0.5f, 0, 1, 0},
};
#define CASE_COUNT (int)(sizeof cases / sizeof cases[0])
#define TRANS_COUNT 4 /* NN, NT, TN, TT */
static const char *const impls[] = {"own", "clblast"};

/* A stored matrix: rows x cols of it used, ld = cols + pad, after offset. */
typedef struct stored { int rows, cols, ld, offset; size_t count; } stored;

static stored stored_of(int rows, int cols, int offset, int pad)
{
    stored s = {rows, cols, cols + pad, offset, 0};
    s.count = (size_t)offset + (size_t)(rows - 1) * s.ld + cols + pad;
    return s;
}

/* op(X)(i, j) of a stored matrix, transposed or not. */
static double at(const float *x, const stored *s, int trans, int i, int j)
{
    return trans ? x[s->offset + (size_t)j * s->ld + i] : x[s->offset + (size_t)i * s->ld + j];
}

/* The epilogue of the reference: NULL bias = none. */
typedef struct ref_epilogue {
    const float *bias;
    float slope;
    const float *res; /* NULL: none; element (i, j) at res[res_offset + i*ld + j], C's ld */
    size_t res_offset;
    float scale, res_scale;
} ref_epilogue;

static void gemm_ref(const gemm_case *g, int ta, int tb, const float *a, const stored *sa,
                     const float *b, const stored *sb, const float *c0, const stored *sc,
                     const ref_epilogue *ep, double *want)
{
    for (size_t i = 0; i < sc->count; i++) want[i] = c0[i];
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            double s = 0;
            for (int p = 0; p < g->k; p++) s += at(a, sa, ta, i, p) * at(b, sb, tb, p, j);
            size_t ci = sc->offset + (size_t)i * sc->ld + j;
            double x = g->alpha * s + (g->beta != 0.0f ? g->beta * (double)c0[ci] : 0.0);
            if (ep) x += ep->bias[i];
            if (ep && ep->res)
                x = ep->scale * x + ep->res_scale * ep->res[ep->res_offset + (size_t)i * sc->ld + j];
            want[ci] = !ep || x > 0 ? x : ep->slope * x;
        }
}

/* Floats of C's buffer outside the product must be bit-for-bit unchanged. */
static void assert_untouched(const float *got, const float *c0, const stored *sc)
{
    for (size_t i = 0; i < sc->count; i++) {
        size_t r = i < (size_t)sc->offset ? 0 : (i - sc->offset) / sc->ld;
        size_t col = i < (size_t)sc->offset ? 0 : (i - sc->offset) % sc->ld;
        int inside = i >= (size_t)sc->offset && r < (size_t)sc->rows && col < (size_t)sc->cols;
        if (!inside)
            ck_assert_msg(memcmp(&got[i], &c0[i], sizeof(float)) == 0,
                          "gemm wrote float %zu, outside C", i);
    }
}

static void clear_impl(void) { unsetenv("HIRESTYLE_GEMM"); }

/* Loop test i: its case, transposes, stored operands, and the GEMM it
 * runs on ($HIRESTYLE_GEMM set); NULL when skipped (too big under oclgrind). */
static const gemm_case *case_of(int i, int *ta, int *tb, stored *sa, stored *sb, stored *sc)
{
    const gemm_case *g = &cases[i / (TRANS_COUNT * 2)];
    *ta = (i / 2) % TRANS_COUNT >= 2;
    *tb = (i / 2) % 2;
    if (test_small_only() && !g->small) return NULL;
    setenv("HIRESTYLE_GEMM", impls[i % 2], 1);
    *sa = *ta ? stored_of(g->k, g->m, g->offset, g->pad) : stored_of(g->m, g->k, g->offset, g->pad);
    *sb = *tb ? stored_of(g->n, g->k, g->offset, g->pad) : stored_of(g->k, g->n, g->offset, g->pad);
    *sc = stored_of(g->m, g->n, 2 * g->offset + 1, g->pad);
    return g;
}

START_TEST(gemm_product)
{
    test_setup();
    int ta, tb;
    stored sa, sb, sc;
    const gemm_case *g = case_of(_i, &ta, &tb, &sa, &sb, &sc);
    if (!g) return;
    float *a = host_floats(sa.count), *b = host_floats(sb.count), *c0 = host_floats(sc.count);
    fill_random(a, sa.count, 11 + _i, -1, 1);
    fill_random(b, sb.count, 23 + _i, -1, 1);
    fill_random(c0, sc.count, 37 + _i, -1, 1);
    if (g->beta == 0.0f)
        for (size_t i = 0; i < sc.count; i++) c0[i] = NAN;
    int with_epilogue = (_i / (TRANS_COUNT * 2)) % 2;
    float *bias = host_floats((size_t)g->m);
    fill_random(bias, (size_t)g->m, 41 + _i, -1, 1);
    size_t res_offset = (size_t)g->offset + 5, res_count = res_offset + sc.count;
    float *res = host_floats(res_count);
    fill_random(res, res_count, 43 + _i, -1, 1);
    ref_epilogue ref_ep = {bias, 0.3f, ta ? res : NULL, res_offset, 0.5f, 1.5f};

    hs_tensor ta_ = upload(a, 1, 1, 1, (int)sa.count), tb_ = upload(b, 1, 1, 1, (int)sb.count);
    hs_tensor tc = upload(c0, 1, 1, 1, (int)sc.count), tbias = upload(bias, 1, g->m, 1, 1);
    hs_tensor tres = upload(res, 1, 1, 1, (int)res_count);
    hs_epilogue ep = {.bias = tbias.buf, .rectify = HS_RECTIFY_ACTIVATE, .slope = ref_ep.slope,
                      .residual = ta ? tres.buf : NULL, .residual_offset = res_offset,
                      .scale = ref_ep.scale, .residual_scale = ref_ep.res_scale};
    HS_CHECK(hs_gemm_epilogue(test_ctx, g->m, g->n, g->k, g->alpha,
                              (hs_matrix){ta_.buf, sa.offset, sa.ld, ta},
                              (hs_matrix){tb_.buf, sb.offset, sb.ld, tb}, g->beta,
                              (hs_matrix){tc.buf, sc.offset, sc.ld, 0},
                              with_epilogue ? &ep : NULL));
    float *got = download(&tc);

    double *want = host_doubles(sc.count);
    gemm_ref(g, ta, tb, a, &sa, b, &sb, c0, &sc, with_epilogue ? &ref_ep : NULL, want);
    assert_untouched(got, c0, &sc);
    for (int i = 0; i < g->m; i++) { /* compare the product rows only: the rest may be NaN */
        size_t row = sc.offset + (size_t)i * sc.ld;
        assert_close(ta ? (tb ? "gemm TT" : "gemm TN") : (tb ? "gemm NT" : "gemm NN"), got + row,
                     want + row, (size_t)g->n, g->k > 10000 ? 1e-4 : 1e-5);
    }
    free(a); free(b); free(c0); free(bias); free(res); free(got); free(want);
    hs_tensor_free(&ta_); hs_tensor_free(&tb_); hs_tensor_free(&tc); hs_tensor_free(&tbias);
    hs_tensor_free(&tres);
}
END_TEST

/* hs_gemm_batched: 3 products of each case's shape, operand i one
 * stored matrix after operand i-1, each against the reference alone, and
 * nothing written between them. */
#define BATCH 3
START_TEST(gemm_batch)
{
    test_setup();
    int ta, tb;
    stored sa, sb, sc;
    const gemm_case *g = case_of(_i, &ta, &tb, &sa, &sb, &sc);
    if (!g) return;
    float *a = host_floats(BATCH * sa.count), *b = host_floats(BATCH * sb.count);
    float *c0 = host_floats(BATCH * sc.count);
    fill_random(a, BATCH * sa.count, 13 + _i, -1, 1);
    fill_random(b, BATCH * sb.count, 29 + _i, -1, 1);
    fill_random(c0, BATCH * sc.count, 31 + _i, -1, 1);
    hs_tensor ta_ = upload(a, 1, 1, 1, (int)(BATCH * sa.count));
    hs_tensor tb_ = upload(b, 1, 1, 1, (int)(BATCH * sb.count));
    hs_tensor tc = upload(c0, 1, 1, 1, (int)(BATCH * sc.count));
    HS_CHECK(hs_gemm_batched(test_ctx, BATCH, g->m, g->n, g->k, g->alpha,
                             (hs_matrix){ta_.buf, sa.offset, sa.ld, ta}, sa.count,
                             (hs_matrix){tb_.buf, sb.offset, sb.ld, tb}, sb.count, g->beta,
                             (hs_matrix){tc.buf, sc.offset, sc.ld, 0}, sc.count));
    float *got = download(&tc);
    double *want = host_doubles(sc.count);
    for (size_t i = 0; i < BATCH; i++) {
        gemm_ref(g, ta, tb, a + i * sa.count, &sa, b + i * sb.count, &sb, c0 + i * sc.count,
                 &sc, NULL, want);
        assert_untouched(got + i * sc.count, c0 + i * sc.count, &sc);
        for (int r = 0; r < g->m; r++) {
            size_t row = sc.offset + (size_t)r * sc.ld;
            assert_close("gemm batch", got + i * sc.count + row, want + row, (size_t)g->n,
                         g->k > 10000 ? 1e-4 : 1e-5);
        }
    }
    free(a); free(b); free(c0); free(got); free(want);
    hs_tensor_free(&ta_); hs_tensor_free(&tb_); hs_tensor_free(&tc);
}
END_TEST

/* A·Aᵀ and Aᵀ·A, one stored matrix for both operands: our kernel copies Y's
 * panels from X's tiles (cl/gemm.cl, gemm_stage_xt). m = n; `count`
 * products in a batch, each matrix one stored matrix after the last. Sizes
 * short of a tile and a panel, past them by less than one, K past a panel
 * copy (GEMM_KC: 512 steps on AVX-512, 1024 on AVX2) and, at 96 x 45000,
 * past a copy of X (K in two chunks). */
typedef struct self_case { int n, k; float alpha, beta; int offset, pad, count, small; } self_case;
static const self_case self_cases[] = {
    {1, 1, 1.0f, 0.0f, 0, 0, 1, 1},      {7, 5, 0.5f, 0.0f, 3, 2, 3, 1},
    {37, 65, 1.0f, 0.75f, 1, 1, 3, 1},   {40, 600, -1.0f, 1.0f, 0, 3, 2, 1},
    {130, 1153, 2.0f, 0.0f, 5, 1, 2, 0}, {96, 45000, 1.0f, 0.0f, 2, 0, 1, 0},
};
#define SELF_COUNT (int)(sizeof self_cases / sizeof self_cases[0])

START_TEST(gemm_self_transpose)
{
    test_setup();
    const self_case *sc_ = &self_cases[_i / 4];
    int ta = (_i / 2) % 2; /* 0: A·Aᵀ, 1: Aᵀ·A */
    if (test_small_only() && !sc_->small) return;
    setenv("HIRESTYLE_GEMM", impls[_i % 2], 1);
    gemm_case g = {sc_->n, sc_->n, sc_->k, sc_->alpha, sc_->beta, sc_->offset, sc_->pad, 0};
    stored sa = ta ? stored_of(g.k, g.m, g.offset, g.pad) : stored_of(g.m, g.k, g.offset, g.pad);
    stored sc = stored_of(g.m, g.n, 2 * g.offset + 1, g.pad);
    size_t count = (size_t)sc_->count;
    float *a = host_floats(count * sa.count), *c0 = host_floats(count * sc.count);
    fill_random(a, count * sa.count, 17 + _i, -1, 1);
    fill_random(c0, count * sc.count, 19 + _i, -1, 1);
    hs_tensor ta_ = upload(a, 1, 1, 1, (int)(count * sa.count));
    hs_tensor tc = upload(c0, 1, 1, 1, (int)(count * sc.count));
    hs_matrix ma = {ta_.buf, sa.offset, sa.ld, ta}, mb = {ta_.buf, sa.offset, sa.ld, !ta};
    HS_CHECK(hs_gemm_batched(test_ctx, count, g.m, g.n, g.k, g.alpha, ma, sa.count, mb,
                             sa.count, g.beta, (hs_matrix){tc.buf, sc.offset, sc.ld, 0},
                             sc.count));
    float *got = download(&tc);
    double *want = host_doubles(sc.count);
    for (size_t i = 0; i < count; i++) {
        const float *ai = a + i * sa.count;
        gemm_ref(&g, ta, !ta, ai, &sa, ai, &sa, c0 + i * sc.count, &sc, NULL, want);
        assert_untouched(got + i * sc.count, c0 + i * sc.count, &sc);
        for (int r = 0; r < g.m; r++) {
            size_t row = sc.offset + (size_t)r * sc.ld;
            assert_close(ta ? "gemm Aᵀ·A" : "gemm A·Aᵀ", got + i * sc.count + row, want + row,
                         (size_t)g.n, g.k > 10000 ? 1e-4 : 1e-5);
        }
    }
    free(a); free(c0); free(got); free(want);
    hs_tensor_free(&ta_); hs_tensor_free(&tc);
}
END_TEST

void add_gemm_tests(Suite *s)
{
    TCase *tc = tcase_create("gemm");
    tcase_add_checked_fixture(tc, NULL, clear_impl);
    tcase_add_loop_test(tc, gemm_product, 0, CASE_COUNT * TRANS_COUNT * 2);
    tcase_add_loop_test(tc, gemm_batch, 0, CASE_COUNT * TRANS_COUNT * 2);
    tcase_add_loop_test(tc, gemm_self_transpose, 0, SELF_COUNT * 2 * 2);
    suite_add_tcase(s, tc);
}

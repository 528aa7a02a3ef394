/* gemm.cl — our SGEMM for CPU devices: C = alpha·X·Y + beta·C, row-major,
 * with an optional epilogue as it stores (a bias per row, an activation)
 * (host/gemm_kernel.c maps op(A), op(B) onto X, Y and drives it).
 *
 * CLBlast's kernels are written for GPUs; on PoCL's CPU device they reach a
 * fifth of the machine. This is a BLAS-style micro-kernel instead: each
 * work-item computes a GEMM_MR x GEMM_NR tile of C in GEMM_MR * GEMM_NV
 * vector accumulators; per step of K it loads GEMM_NV vectors of a row of Y
 * and broadcasts GEMM_MR scalars of X, contiguous in the copy of X that
 * gemm_pack_x made: each tile's K steps one after the other. Reading X in
 * place, even when stored transposed (MR contiguous values a step), was up
 * to 1.6x slower: a step apart is a whole row of X.
 *
 * A work-group is a column of tiles sharing one column panel of Y. It copies
 * GEMM_KC steps of the panel at a time into local memory (any strides, zero
 * past the last column), so Y needs no other copy, and large power-of-two
 * row strides, which map a whole panel onto one cache set, cost nothing
 * after the copy. The barriers around the copy keep the group's work-items
 * moving through K together: on a CPU the copy is still in cache when each
 * tile reads it.
 *
 * Build options set by the host (host/program.c, host/gemm_kernel.c):
 *   GEMM_MR  rows of a tile (scalars of X broadcast per step)
 *   GEMM_VW  vector width of the accumulators (4, 8 or 16)
 *   GEMM_NV  vectors per tile row: GEMM_NR = GEMM_VW * GEMM_NV columns
 *   GEMM_KC  steps of K per copy of Y's panel (GEMM_KC * GEMM_NR floats of
 *            local memory)
 */
#ifndef GEMM_MR
#define GEMM_MR 8
#endif
#ifndef GEMM_VW
#define GEMM_VW 16
#endif
#ifndef GEMM_NV
#define GEMM_NV 2
#endif
#ifndef GEMM_KC
#define GEMM_KC 256
#endif
#define GEMM_NR (GEMM_VW * GEMM_NV)

#define GEMM_CAT_(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT_(a, b)
#define floatv GEMM_CAT(float, GEMM_VW)
#define vloadv GEMM_CAT(vload, GEMM_VW)
#define vstorev GEMM_CAT(vstore, GEMM_VW)

/* Copy the tiles of X (rows x K, element (i, k) at x[x_off + i*rs + k*cs])
 * as dst[(t*K + k)*GEMM_MR + r] = X(t*GEMM_MR + r, k), zero past the last
 * row. One work-item per (k, tile), reading along k; dimension 2 runs over
 * a batch of products, X number b at x_off + b*x_step and its copy
 * tiles*K*GEMM_MR floats after the one before. */
__kernel void gemm_pack_x(__global float *dst, __global const float *x, int x_off, int rs,
                          int cs, int rows, int K, int tiles, int x_step)
{
    int k = get_global_id(0), t = get_global_id(1), b = get_global_id(2);
    if (k >= K || t >= tiles) return;
    int i0 = t * GEMM_MR;
    __global const float *in = x + x_off + (size_t)b * x_step + (size_t)k * cs;
    __global float *out = dst + (((size_t)b * tiles + t) * K + k) * GEMM_MR;
    for (int r = 0; r < GEMM_MR; r++) out[r] = i0 + r < rows ? in[(size_t)(i0 + r) * rs] : 0.0f;
}

void gemm_zero(floatv t[GEMM_MR][GEMM_NV])
{
#pragma unroll
    for (int r = 0; r < GEMM_MR; r++)
#pragma unroll
        for (int v = 0; v < GEMM_NV; v++) t[r][v] = (floatv)(0.0f);
}

/* Copy steps 0..kc-1 of columns j0..j0+GEMM_NR-1 of Y (element (k, j) at
 * y[k*rs + j*cs]) to dst[k*GEMM_NR + j - j0], zero past column `cols`.
 * The group's n work-items share it, each reading along Y's rows when they
 * are contiguous, down its columns when not. */
void gemm_stage(__local float *dst, __global const float *y, int rs, int cs, int j0,
                int cols, int kc, int id, int n)
{
    if (cs == 1 && j0 + GEMM_NR <= cols) {
        for (int k = id; k < kc; k += n) {
            __global const float *row = y + (size_t)k * rs + j0;
#pragma unroll
            for (int v = 0; v < GEMM_NV; v++) vstorev(vloadv(v, row), v, dst + k * GEMM_NR);
        }
        return;
    }
    for (int j = id; j < GEMM_NR; j += n) {
        __global const float *col = y + (size_t)(j0 + j) * cs;
        for (int k = 0; k < kc; k++)
            dst[k * GEMM_NR + j] = j0 + j < cols ? col[(size_t)k * rs] : 0.0f;
    }
}

/* The epilogue (host/gemm.c, hs_epilogue) of row i's values x: bias[i]
 * added when has_bias, then, when rectify, x > 0 ? x : slope * x (ReLU with
 * slope 0, LeakyReLU): a conv's bias and activation without another pass
 * over its output. */
#define GEMM_EPILOGUE __global const float *bias, int has_bias, int rectify, float slope
floatv gemm_finish(floatv x, int i, GEMM_EPILOGUE)
{
    if (has_bias) x += bias[i];
    return rectify ? select(slope * x, x, x > (floatv)(0.0f)) : x;
}

/* c[i*ldc + j] = epilogue(alpha * tile + beta * (same)), for the part of
 * the tile inside rows x cols; beta == 0 never reads C. */
void gemm_store(__global float *c, int ldc, int rows, int cols, int i0, int j0,
                const floatv acc[GEMM_MR][GEMM_NV], float alpha, float beta, GEMM_EPILOGUE)
{
    int full = j0 + GEMM_NR <= cols;
    for (int r = 0; r < GEMM_MR && i0 + r < rows; r++) {
        __global float *row = c + (size_t)(i0 + r) * ldc + j0;
        if (full) {
            for (int v = 0; v < GEMM_NV; v++) {
                floatv out = alpha * acc[r][v];
                if (beta != 0.0f) out += beta * vloadv(v, row);
                vstorev(gemm_finish(out, i0 + r, bias, has_bias, rectify, slope), v, row);
            }
            continue;
        }
        float t[GEMM_NR];
        for (int v = 0; v < GEMM_NV; v++) vstorev(alpha * acc[r][v], v, t);
        if (beta != 0.0f)
            for (int j = 0; j < cols - j0; j++) t[j] += beta * row[j];
        for (int v = 0; v < GEMM_NV; v++) vstorev(gemm_finish(vloadv(v, t), i0 + r, bias, has_bias,
                                                 rectify, slope), v, t);
        for (int j = 0; j < cols - j0; j++) row[j] = t[j];
    }
}

/* C = alpha·X·Y + beta·C for X rows x K, Y K x cols. Work-item (tm, tn):
 * rows tm*GEMM_MR.., columns tn*GEMM_NR.., with work-groups of (n, 1).
 * X is read from `packed`, as gemm_pack_x lays it out.
 * Y(k, j) = y[y_off + k*y_rs + j*y_cs].
 * Work-items past the last tile (the global size is a multiple of the
 * group's) help copy Y's panels and take the barriers, but compute and
 * store nothing. With `lower` set, so do the tiles wholly above C's
 * diagonal (every row < every column), and a group whose tiles all are
 * returns at once: the lower triangle of a symmetric product for half the
 * work. The store applies the epilogue (gemm_finish). Dimension 2 runs over
 * a batch of products: number b reads the b-th copy of gemm_pack_x, Y at
 * y_off + b*y_step and writes C at c_off + b*c_step. */
__kernel void gemm_tiles(__global const float *packed, __global const float *y, int y_off,
                         int y_rs, int y_cs, __global float *c, int c_off, int ldc, int rows,
                         int cols, int K, float alpha, float beta, int lower,
                         __global const float *bias, int has_bias, int rectify, float slope,
                         int y_step, int c_step)
{
    __local float ys[GEMM_KC * GEMM_NR];
    int tiles = (rows + GEMM_MR - 1) / GEMM_MR;
    size_t b = get_global_id(2);
    packed += b * tiles * K * GEMM_MR;
    y += b * y_step;
    c += b * c_step;
    int j0 = get_group_id(1) * GEMM_NR;
    int group_end = (get_group_id(0) + 1) * get_local_size(0) * GEMM_MR; /* past its last row */
    if (lower && group_end <= j0) return; /* the whole group: no barrier is left waiting */
    int active = get_global_id(0) < tiles &&
                 !(lower && ((int)get_global_id(0) + 1) * GEMM_MR <= j0);
    int tm = min((int)get_global_id(0), tiles - 1);
    int id = get_local_id(0), n = get_local_size(0);
    __global const float *xp = packed + (size_t)tm * K * GEMM_MR;

    floatv sum[GEMM_MR][GEMM_NV];
    gemm_zero(sum);
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        int kc = min(GEMM_KC, K - k0);
        barrier(CLK_LOCAL_MEM_FENCE);
        gemm_stage(ys, y + y_off + (size_t)k0 * y_rs, y_rs, y_cs, j0, cols, kc, id, n);
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Accumulators of this copy alone: PoCL keeps what lives across a
         * barrier (sum) in memory, and would store it at every step. */
        floatv acc[GEMM_MR][GEMM_NV];
        gemm_zero(acc);
        __local const float *yp = ys;
        int steps = active ? kc : 0;
        for (int k = 0; k < steps; k++, xp += GEMM_MR, yp += GEMM_NR) {
            floatv b[GEMM_NV];
#pragma unroll
            for (int v = 0; v < GEMM_NV; v++) b[v] = vloadv(v, yp);
#pragma unroll
            for (int r = 0; r < GEMM_MR; r++) {
                floatv a = (floatv)(xp[r]);
#pragma unroll
                for (int v = 0; v < GEMM_NV; v++) acc[r][v] = fma(a, b[v], acc[r][v]);
            }
        }
#pragma unroll
        for (int r = 0; r < GEMM_MR; r++)
#pragma unroll
            for (int v = 0; v < GEMM_NV; v++) sum[r][v] += acc[r][v];
    }
    if (active)
        gemm_store(c + c_off, ldc, rows, cols, tm * GEMM_MR, j0, sum, alpha, beta, bias,
                   has_bias, rectify, slope);
}

/* gemm.cl — our SGEMM for CPU devices: C = alpha·X·Y + beta·C, row-major,
 * with an optional epilogue as it stores (a bias per row, a residual, an
 * activation)
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
 * tile reads it. When Y is X's own transpose (Gram matrices F·Fᵀ), the
 * panels are copied from X's tiles instead (gemm_stage_xt): copied down Y's
 * columns, a float from each row of F in turn, the Gram matrices of
 * ResNet50's style layers took 1.1-1.7x the CPU time.
 *
 * For a convolution, the same kernel copies the panels of the im2col matrix
 * straight from the conv's input (gemm_stage_conv).
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
 * tiles*K*GEMM_MR floats after the one before. With wino_m 2 or 4, the
 * copies are instead those of the a² products of a Winograd F(m,3) conv,
 * of the transformed 3×3 kernels of weights x (cl/winograd.cl,
 * wino_pack_weights; flip: the backward-input's); x_off, rs, cs and x_step
 * are unused. One kernel for both, so a conv compiles one. */
__kernel void gemm_pack_x(__global float *dst, __global const float *x, int x_off, int rs,
                          int cs, int rows, int K, int tiles, int x_step, int wino_m, int flip)
{
    int k = get_global_id(0), t = get_global_id(1), b = get_global_id(2);
    if (k >= K || t >= tiles) return;
    if (wino_m) {
        wino_pack_weights(dst, x, wino_m, rows, K, tiles, GEMM_MR, flip, k, t);
        return;
    }
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

/* Copy steps k0..k0+kc-1 of columns j0..j0+GEMM_NR-1 of Y = Xᵀ to
 * dst[(k - k0)*GEMM_NR + j - j0], from X's tiles as gemm_pack_x laid them
 * out (`tiles` of them, K steps each): column j of Y is row j of X, row
 * j % GEMM_MR of tile j / GEMM_MR. GEMM_NR is a multiple of GEMM_MR (the
 * host makes sure), so a panel is GEMM_NR / GEMM_MR whole tiles, zero past
 * the last (the last tile's rows past X's are zero already). */
void gemm_stage_xt(__local float *dst, __global const float *packed, int K, int k0, int kc,
                   int j0, int tiles, int id, int n)
{
    int t0 = j0 / GEMM_MR;
    for (int k = id; k < kc; k += n)
        for (int t = 0; t < GEMM_NR / GEMM_MR; t++) {
            __local float *d = dst + k * GEMM_NR + t * GEMM_MR;
            __global const float *tile = packed + ((size_t)(t0 + t) * K + k0 + k) * GEMM_MR;
            int inside = t0 + t < tiles;
#pragma unroll
            for (int r = 0; r < GEMM_MR; r++) d[r] = inside ? tile[r] : 0.0f;
        }
}

DEFINE_EPILOGUE(epilogue_v, floatv) /* cl/common.cl */

#define GEMM_EPILOGUE                                                                      \
    __global const float *bias, int has_bias, int rectify, float slope,                   \
        __global const float *res, int has_res, float scale, float res_scale
#define GEMM_EPILOGUE_ARGS bias, has_bias, rectify, slope, res, has_res, scale, res_scale
/* The epilogue of row i's values x, r the residual's at their place:
 * bias[i] added when has_bias, then epilogue_v. */
floatv gemm_finish(floatv x, floatv r, int i, GEMM_EPILOGUE)
{
    if (has_bias) x += bias[i];
    return epilogue_v(x, r, rectify, slope, has_res, scale, res_scale);
}

/* c[i*ldc + j] = epilogue(alpha * tile + beta * (same)), for the part of
 * the tile inside rows x cols, the residual of (i, j) at res[i*ldc + j];
 * beta == 0 never reads C, has_res == 0 never the residual. */
void gemm_store(__global float *c, int ldc, int rows, int cols, int i0, int j0,
                const floatv acc[GEMM_MR][GEMM_NV], float alpha, float beta, GEMM_EPILOGUE)
{
    int full = j0 + GEMM_NR <= cols;
    for (int r = 0; r < GEMM_MR && i0 + r < rows; r++) {
        size_t at = (size_t)(i0 + r) * ldc + j0;
        __global float *row = c + at;
        __global const float *res_row = res + at;
        if (full) {
            for (int v = 0; v < GEMM_NV; v++) {
                floatv out = alpha * acc[r][v];
                if (beta != 0.0f) out += beta * vloadv(v, row);
                floatv x = has_res ? vloadv(v, res_row) : (floatv)(0.0f);
                vstorev(gemm_finish(out, x, i0 + r, GEMM_EPILOGUE_ARGS), v, row);
            }
            continue;
        }
        float t[GEMM_NR], u[GEMM_NR];
        for (int v = 0; v < GEMM_NV; v++) {
            vstorev(alpha * acc[r][v], v, t);
            vstorev((floatv)(0.0f), v, u);
        }
        if (beta != 0.0f)
            for (int j = 0; j < cols - j0; j++) t[j] += beta * row[j];
        if (has_res)
            for (int j = 0; j < cols - j0; j++) u[j] = res_row[j];
        for (int v = 0; v < GEMM_NV; v++)
            vstorev(gemm_finish(vloadv(v, t), vloadv(v, u), i0 + r, GEMM_EPILOGUE_ARGS), v, t);
        for (int j = 0; j < cols - j0; j++) row[j] = t[j];
    }
}

/* sum += X's tile (steps of it at xp) · the staged copy yp, `steps` steps.
 * Accumulators of this copy alone: PoCL keeps what lives across a barrier
 * (sum) in memory, and would store it at every step. */
void gemm_accumulate(floatv sum[GEMM_MR][GEMM_NV], __global const float *xp,
                     __local const float *yp, int steps)
{
    floatv acc[GEMM_MR][GEMM_NV];
    gemm_zero(acc);
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

/* ---- Implicit-GEMM convolution ---------------------------------------------
 * A conv's output (OC x OH*OW, one image) is W (OC x C*KH*KW) · col, with
 * col(k, j) = in[c][iy][ix], k = (c*KH + ky)*KW + kx, j = oy*OW + ox,
 * iy = oy*stride - pad_h + ky, ix = ox*stride - pad_w + kx, zero outside
 * the input: im2col's matrix (cl/conv.cl). gemm_tiles with GEMM_Y_CONV
 * copies its panels straight from the input: no col in memory, written
 * once and read back. */

/* d[t] = row iy of `plane` (H x W) at ix = x0 + t*stride, t < len, zero
 * outside it; the bounds computed once, as im2col does. */
void gemm_conv_run(__local float *d, __global const float *plane, int H, int W, int stride,
                   int iy, int x0, int len)
{
    int lo = 0, hi = 0; /* the t whose ix is inside 0 .. W-1 */
    if (iy >= 0 && iy < H) {
        if (stride == 1) {
            lo = x0 >= 0 ? 0 : -x0;
            hi = W - x0;
        } else {
            lo = x0 >= 0 ? 0 : (stride - 1 - x0) / stride;
            hi = W - 1 - x0 >= 0 ? (W - 1 - x0) / stride + 1 : 0;
        }
        hi = clamp(hi, 0, len);
        lo = min(lo, hi);
    }
    int t = 0;
    for (; t < lo; t++) d[t] = 0.0f;
    if (lo < hi) {
        __global const float *row = plane + (size_t)iy * W;
        if (stride == 1)
            for (; t < hi; t++) d[t] = row[t + x0];
        else
            for (; t < hi; t++) d[t] = row[t * stride + x0];
    }
    for (; t < len; t++) d[t] = 0.0f;
}

/* The lane numbers 0 .. GEMM_VW-1. */
#if GEMM_VW == 16
#define GEMM_LANES ((intv)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#elif GEMM_VW == 8
#define GEMM_LANES ((intv)(0, 1, 2, 3, 4, 5, 6, 7))
#else
#define GEMM_LANES ((intv)(0, 1, 2, 3))
#endif
#define intv GEMM_CAT(int, GEMM_VW)

/* Copy steps k0 .. k0+kc-1 of columns j0 .. j0+GEMM_NR-1 of `in`'s col
 * (one image, C x H x W) to dst[(k - k0)*GEMM_NR + j - j0], zero past
 * column `cols`. Each of the group's n work-items copies a run of
 * consecutive k (a step to the next (c, ky, kx) without a division).
 * A panel inside one output row reads, at stride 1, GEMM_NV vectors of the
 * input row, the lanes past its ends (padding) set to zero: a load that
 * strays into the rows beside it is harmless, as long as it stays inside
 * the buffer, whose floats from `before` before `in` to `from` after it the
 * kernel gives. Else the panel is cut at the output rows it spans. */
void gemm_stage_conv(__local float *dst, __global const float *in, long before, long from,
                     int H, int W, int KH, int KW, int stride, int pad_h, int pad_w, int OW,
                     int k0, int kc, int j0, int cols, int id, int n)
{
    int per = (kc + n - 1) / n;
    int k_begin = id * per, k_end = min(kc, k_begin + per);
    if (k_begin >= k_end) return;
    int k = k0 + k_begin, taps = KH * KW;
    int c = k / taps, ky = (k - c * taps) / KW, kx = k - c * taps - ky * KW;
    int oy0 = j0 / OW, ox0 = j0 - oy0 * OW;
    int in_row = ox0 + GEMM_NR <= OW && j0 + GEMM_NR <= cols; /* the panel: one output row */
    int valid = min(GEMM_NR, cols - j0);
    for (int kk = k_begin; kk < k_end; kk++) {
        __global const float *plane = in + (size_t)c * H * W;
        __local float *d = dst + kk * GEMM_NR;
        int dy = ky - pad_h, dx = kx - pad_w;
        int iy = oy0 * stride + dy, x0 = ox0 * stride + dx;
        long start = (long)c * H * W + (long)iy * W + x0; /* of the row's vectors, from in */
        if (in_row && (iy < 0 || iy >= H)) {
#pragma unroll
            for (int v = 0; v < GEMM_NV; v++) vstorev((floatv)(0.0f), v, d);
        } else if (in_row && stride == 1 && start >= -before && start + GEMM_NR <= from) {
#pragma unroll
            for (int v = 0; v < GEMM_NV; v++) {
                intv ix = GEMM_LANES + (x0 + v * GEMM_VW);
                floatv x = vloadv(v, in + start);
                vstorev(select((floatv)(0.0f), x, ix >= 0 && ix < W), v, d);
            }
        } else {
            int j = 0;
            for (int oy = oy0, ox = ox0; j < valid; oy++, ox = 0) {
                int len = min(OW - ox, valid - j);
                gemm_conv_run(d + j, plane, H, W, stride, oy * stride + dy, ox * stride + dx, len);
                j += len;
            }
            for (; j < GEMM_NR; j++) d[j] = 0.0f;
        }
        if (++kx == KW) {
            kx = 0;
            if (++ky == KH) {
                ky = 0;
                c++;
            }
        }
    }
}

/* C = alpha·X·Y + beta·C for X rows x K, Y K x cols. Work-item (tm, tn):
 * rows tm*GEMM_MR.., columns j_first + tn*GEMM_NR.., with work-groups of
 * (n, 1). X is read from `packed`, as gemm_pack_x lays it out. Y by y_kind:
 *   GEMM_Y_MATRIX  Y(k, j) = y[y_off + k*y_rs + j*y_cs]
 *   GEMM_Y_XT      Y = Xᵀ (cols = rows), copied from `packed`
 *                  (gemm_stage_xt), y unread
 *   GEMM_Y_CONV    the col of a conv's input image y (C x H x W, kernel
 *                  KH x KW, stride, padding pad_h, pad_w, output rows OW
 *                  wide), from its step y_off (gemm_stage_conv)
 * One kernel for the three, so that PoCL compiles the product once (about
 * 0.5 s a GEMM kernel on a 2-core CPU).
 * Work-items past the last tile (the global size is a multiple of the
 * group's) help copy Y's panels and take the barriers, but compute and
 * store nothing. With `lower` set, so do the tiles wholly above C's
 * diagonal (every row < every column), and a group whose tiles all are
 * returns at once: the lower triangle of a symmetric product for half the
 * work. The store applies the epilogue (gemm_finish), the residual of C's
 * (i, j) at res[res_off + i*ldc + j]. Dimension 2 runs over a batch of
 * products: number b reads the b-th copy of gemm_pack_x (the same copy for
 * every image of a conv: its weights), Y y_step floats on and writes C at
 * c_off + b*c_step, its residual at res_off + b*res_step. */
__kernel void gemm_tiles(__global const float *packed, __global const float *y, int y_kind,
                         int y_off, int y_rs, int y_cs, int y_step, int H, int W, int KH, int KW,
                         int stride, int pad_h, int pad_w, int OW, __global float *c, int c_off,
                         int ldc, int c_step, int rows, int cols, int j_first, int K,
                         float alpha, float beta, int lower, __global const float *bias,
                         int has_bias, int rectify, float slope, __global const float *res,
                         int res_off, int res_step, int has_res, float scale, float res_scale)
{
    __local float ys[GEMM_KC * GEMM_NR];
    int tiles = (rows + GEMM_MR - 1) / GEMM_MR;
    size_t b = get_global_id(2);
    if (y_kind != GEMM_Y_CONV) packed += b * tiles * K * GEMM_MR;
    __global const float *yb = y + b * y_step;
    long before = b * y_step, from = (get_global_size(2) - b) * y_step; /* yb's buffer */
    int j0 = j_first + get_group_id(1) * GEMM_NR;
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
        if (y_kind == GEMM_Y_XT)
            gemm_stage_xt(ys, packed, K, k0, kc, j0, tiles, id, n);
        else if (y_kind == GEMM_Y_CONV)
            gemm_stage_conv(ys, yb, before, from, H, W, KH, KW, stride, pad_h, pad_w, OW,
                            y_off + k0, kc, j0, cols, id, n);
        else
            gemm_stage(ys, yb + y_off + (size_t)k0 * y_rs, y_rs, y_cs, j0, cols, kc, id, n);
        barrier(CLK_LOCAL_MEM_FENCE);
        gemm_accumulate(sum, xp + (size_t)k0 * GEMM_MR, ys, active ? kc : 0);
    }
    if (active)
        gemm_store(c + c_off + b * c_step, ldc, rows, cols, tm * GEMM_MR, j0, sum, alpha, beta,
                   bias, has_bias, rectify, slope, res + res_off + b * res_step, has_res, scale,
                   res_scale);
}

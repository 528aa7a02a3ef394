/* image.cl — on float images: the reflect-padded translation (jitter)
 * applied during style transfer and the per-channel affine map to a
 * network's input, one kernel. (8-bit images become tensors on the host,
 * host/op_image.c.)
 */

/* Index i folded into 0..size-1 by reflection about the edges without
 * repeating them (numpy 'reflect'): -1 -> 1, size -> size-2; period 2(size-1). */
int reflect_index(int i, int size)
{
    if (size == 1) return 0;
    int period = 2 * (size - 1);
    int m = i % period;
    if (m < 0) m += period;
    return m < size ? m : period - m;
}

/* The columns [*lo, *hi) where a shift by d of a row of `size` needs no
 * reflection: p reads p - d, and only p reads p - d, so the backward's p
 * receives from p + d alone. d > 0 reflects -d..-1 onto 1..d; d < 0
 * reflects size..size-1-d onto size-1+d..size-2. Empty when |d| >= size-1. */
void shift_inner_columns(int d, int size, int *lo, int *hi)
{
    *lo = min(d >= 0 ? d + 1 : -d, size);
    *hi = max(d >= 0 ? size - d : size - 1 + d, *lo);
}

/* Row r of out (N,C,H,W), rows = N*C*H: out[y][x] =
 * in[reflect(y - dy)][reflect(x - dx)] * mul + add, in being plane `from`
 * of in; a straight copy between the edge columns, reflect_index only at
 * them. */
void translate_row(__global float *out, __global const float *in, int H, int W, int dx, int dy,
                   int r, int from, float mul, float add)
{
    int y = r % H;
    __global const float *src = in + ((size_t)from * H + reflect_index(y - dy, H)) * W;
    __global float *o = out + (size_t)r * W;
    int lo, hi;
    shift_inner_columns(dx, W, &lo, &hi);
    for (int x = 0; x < lo; x++) o[x] = src[reflect_index(x - dx, W)] * mul + add;
    for (int x = lo; x < hi; x++) o[x] = src[x - dx] * mul + add;
    for (int x = hi; x < W; x++) o[x] = src[reflect_index(x - dx, W)] * mul + add;
}

/* The source rows (or columns) q in [0, size) with reflect_index(q - shift) == p:
 * q ≡ ±p + shift (mod 2(size-1)); at most two, one when p is an edge, none
 * when no q reaches p. */
int reflect_sources(int p, int shift, int size, int *q)
{
    if (size == 1) {
        q[0] = 0;
        return 1;
    }
    int period = 2 * (size - 1), count = 0;
    int r1 = (p + shift) % period, r2 = (period - p + shift) % period;
    if (r1 < 0) r1 += period;
    if (r2 < 0) r2 += period;
    if (r1 < size) q[count++] = r1;
    if (r2 < size && r2 != r1) q[count++] = r2;
    return count;
}

/* din[py][px] of the backward below: the sum over the sources of px in the
 * dout rows d0 and, when ny is 2, d1 (the sources of py). */
float reflect_sum(__global const float *d0, __global const float *d1, int ny, int px, int dx,
                  int W)
{
    int qx[2];
    int nx = reflect_sources(px, dx, W, qx);
    float sum = 0.0f;
    for (int b = 0; b < nx; b++) sum += d0[qx[b]];
    for (int b = 0; ny == 2 && b < nx; b++) sum += d1[qx[b]];
    return sum;
}

/* Row r of din for the backward of out[y][x] = in[reflect(y - dy)][reflect(x - dx)]:
 * din[py][px] = sum of dout[qy][qx] over the sources of py and of px, rows
 * outer. Between the edge columns px has the one source px + dx (the sum
 * still starts at 0.0f, as reflect_sum's: -0.0 gives +0.0 in both). */
void translate_row_backward(__global float *din, __global const float *dout, int H, int W,
                            int dx, int dy, int r)
{
    int py = r % H, plane = r / H;
    int qy[2], lo, hi;
    int ny = reflect_sources(py, dy, H, qy);
    __global float *o = din + (size_t)r * W;
    if (ny == 0) { /* a row that no output row reads: at the far edge of a shift */
        for (int px = 0; px < W; px++) o[px] = 0.0f;
        return;
    }
    __global const float *d0 = dout + ((size_t)plane * H + qy[0]) * W;
    __global const float *d1 = dout + ((size_t)plane * H + qy[ny - 1]) * W;
    shift_inner_columns(dx, W, &lo, &hi);
    for (int px = 0; px < lo; px++) o[px] = reflect_sum(d0, d1, ny, px, dx, W);
    for (int px = lo; px < hi; px++) {
        float sum = 0.0f + d0[px + dx];
        o[px] = ny == 2 ? sum + d1[px + dx] : sum;
    }
    for (int px = hi; px < W; px++) o[px] = reflect_sum(d0, d1, ny, px, dx, W);
}

/* dst = the jitter's shift of src by (dx, dy), then, for channel c of 3
 * (an RGB image), * mul_c + add_c, dst's plane c reading src's plane 2 - c
 * of the same image when swap (RGB to BGR); or with `backward` the shift's
 * adjoint alone (dst = din, src = dout). A network's input normalisation
 * and its backward are the shift by 0 (host/op_normalize.c), the jitter
 * the map by 1 and 0. One work-item per row of dst, rows = N*C*H: one
 * kernel for all, so a painting compiles one. */
__kernel void shift_affine(__global float *dst, __global const float *src, int H, int W, int dx,
                           int dy, int backward, int swap, float mul0, float mul1, float mul2,
                           float add0, float add1, float add2, int rows)
{
    int r = item_id();
    if (r >= rows) return;
    int plane = r / H, c = plane % 3;
    int from = swap ? plane - c + 2 - c : plane;
    float mul = c == 0 ? mul0 : c == 1 ? mul1 : mul2;
    float add = c == 0 ? add0 : c == 1 ? add1 : add2;
    if (backward)
        translate_row_backward(dst, src, H, W, dx, dy, r);
    else
        translate_row(dst, src, H, W, dx, dy, r, from, mul, add);
}

/* pool.cl — max and average pooling, forward and backward.
 *
 * A k×k window with stride s over zero padding p: output (oy, ox) reads input
 * rows oy*s-p .. oy*s-p+k-1, likewise columns. Padded cells never win a max and
 * count towards an average only with count_pad. The host ensures p < k, so
 * every window holds at least one real cell.
 * Average pooling runs one work-item per output element forward, and one per
 * input element backward, gathering over the windows that cover it. Max
 * pooling runs one work-item per row, which needs no division per element:
 * forward per output row; backward first finds every window's argmax once
 * (maxpool with want_argmax, per output row, into an index buffer), then each input
 * row zeroes itself and adds the gradient of every window whose argmax lies
 * in it. No two work-items write the same element (no atomics), so results
 * do not depend on scheduling.
 */

/* The index (iy*W + ix) of the largest cell of window (oy, ox) in one plane,
 * its value in *value; ties go to the first in row-major scan order. The
 * best value stays in a register: no reload per cell. */
int pool_argmax(__global const float *plane, int H, int W, int k, int stride, int pad,
                int oy, int ox, float *value)
{
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    int ya = max(y0, 0), yb = min(y0 + k, H), xa = max(x0, 0), xb = min(x0 + k, W);
    int best = ya * W + xa;
    float v = plane[best];
    for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++)
            if (plane[iy * W + ix] > v) {
                v = plane[iy * W + ix];
                best = iy * W + ix;
            }
    *value = v;
    return best;
}

/* The divisor of window (oy, ox): k*k, or its cells inside the image. */
int pool_divisor(int H, int W, int k, int stride, int pad, int count_pad, int oy, int ox)
{
    if (count_pad) return k * k;
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    return (min(y0 + k, H) - max(y0, 0)) * (min(x0 + k, W) - max(x0, 0));
}

/* The output rows (or columns) whose windows cover input row i: *first .. *last. */
void pool_covering(int i, int k, int stride, int pad, int out_size, int *first, int *last)
{
    int lo = i + pad - k + 1;
    *first = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    *last = min((i + pad) / stride, out_size - 1);
}

/* Output row r of the max pool, rows = N*C*OH: out (N,C,OH,OW) = max over
 * each window of in (N,C,H,W); or, with want_argmax, argmax (N,C,OH,OW) =
 * the index in its plane of the cell each window copied (pool_argmax), for
 * the backward, and out is not written. */
void maxpool_row(__global float *out, __global int *argmax, int want_argmax,
                 __global const float *in, int H, int W, int OH, int OW, int k, int stride,
                 int pad, int r)
{
    int oy = r % OH, plane = r / OH;
    __global const float *p = in + (size_t)plane * H * W;
    size_t at = (size_t)r * OW;
    for (int ox = 0; ox < OW; ox++) {
        float v;
        int cell = pool_argmax(p, H, W, k, stride, pad, oy, ox, &v);
        if (want_argmax)
            argmax[at + ox] = cell;
        else
            out[at + ox] = v;
    }
}

/* Input row r of the backward of out[oy][ox] = p[pool_argmax(p, H, W, k,
 * stride, pad, oy, ox)], rows = N*C*H: din (N,C,H,W) = sum of dout over the
 * windows whose argmax is this cell, added in the order of the windows (oy,
 * then ox), to what din holds when add; then when gate, in > 0 ? that :
 * slope * that (the backward of the activation whose output `in` is). Only
 * the output rows whose windows cover the row can have their argmax in it. */
void maxpool_row_backward(__global float *din, __global const float *dout,
                          __global const int *argmax, __global const float *in, int H, int W,
                          int OH, int OW, int k, int stride, int pad, int r, int add, int gate,
                          float slope)
{
    int iy = r % H, plane = r / H;
    __global float *row = din + (size_t)r * W;
    if (!add)
        for (int ix = 0; ix < W; ix++) row[ix] = 0.0f;
    int oy0, oy1;
    pool_covering(iy, k, stride, pad, OH, &oy0, &oy1);
    int first = iy * W; /* argmax values of this row: first .. first+W-1 */
    for (int oy = oy0; oy <= oy1; oy++) {
        size_t window = ((size_t)plane * OH + oy) * OW;
        __global const int *a = argmax + window;
        __global const float *d = dout + window;
        for (int ox = 0; ox < OW; ox++) {
            int at = a[ox] - first;
            if (at >= 0 && at < W) row[at] += d[ox];
        }
    }
    if (gate) {
        __global const float *x = in + (size_t)r * W;
        for (int ix = 0; ix < W; ix++) row[ix] = x[ix] > 0.0f ? row[ix] : slope * row[ix];
    }
}

/* The max pool, by `pass`: 0 its values into out, 1 its argmax (the
 * backward's first pass), 2 its backward into out (din) from dout and
 * argmax; one work-item per row of what it writes, `rows` of them. One
 * kernel for the three, so a run compiles it once. */
__kernel void maxpool(__global float *out, __global int *argmax, int pass,
                      __global const float *in, __global const float *dout, int H, int W, int OH,
                      int OW, int k, int stride, int pad, int rows, int add, int gate,
                      float slope)
{
    int r = item_id();
    if (r >= rows) return;
    if (pass == 2)
        maxpool_row_backward(out, dout, argmax, in, H, W, OH, OW, k, stride, pad, r, add, gate,
                             slope);
    else
        maxpool_row(out, argmax, pass, in, H, W, OH, OW, k, stride, pad, r);
}

/* out (N,C,OH,OW) = mean over each window of in (N,C,H,W); n = N*C*OH*OW */
__kernel void avgpool_forward(__global float *out, __global const float *in, int H, int W,
                              int OH, int OW, int k, int stride, int pad, int count_pad, int n)
{
    int i = item_id();
    if (i >= n) return;
    int ox = i % OW, oy = (i / OW) % OH, plane = i / (OW * OH);
    __global const float *p = in + (size_t)plane * H * W;
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    float sum = 0.0f;
    for (int iy = max(y0, 0); iy < min(y0 + k, H); iy++)
        for (int ix = max(x0, 0); ix < min(x0 + k, W); ix++) sum += p[iy * W + ix];
    out[i] = sum / pool_divisor(H, W, k, stride, pad, count_pad, oy, ox);
}

/* backward of out[i] = sum / pool_divisor(H, W, k, stride, pad, count_pad, oy, ox):
 * din (N,C,H,W) = sum of dout / divisor over the windows covering this cell;
 * n = N*C*H*W */
__kernel void avgpool_backward(__global float *din, __global const float *dout, int H, int W,
                               int OH, int OW, int k, int stride, int pad, int count_pad, int n)
{
    int i = item_id();
    if (i >= n) return;
    int ix = i % W, iy = (i / W) % H, plane = i / (W * H);
    __global const float *d = dout + (size_t)plane * OH * OW;
    int oy0, oy1, ox0, ox1;
    pool_covering(iy, k, stride, pad, OH, &oy0, &oy1);
    pool_covering(ix, k, stride, pad, OW, &ox0, &ox1);
    float sum = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            sum += d[oy * OW + ox] / pool_divisor(H, W, k, stride, pad, count_pad, oy, ox);
    din[i] = sum;
}

/* pool.cl — max and average pooling, forward and backward.
 *
 * A k×k window with stride s over zero padding p: output (oy, ox) reads input
 * rows oy*s-p .. oy*s-p+k-1, likewise columns. Padded cells never win a max and
 * count towards an average only with count_pad. The host ensures p < k, so
 * every window holds at least one real cell.
 * Forward kernels run one work-item per output element. Backward kernels run
 * one per input element and gather over the windows that cover it (no atomics,
 * no index buffer), so their results do not depend on scheduling.
 */

/* The index (iy*W + ix) of the largest cell of window (oy, ox) in one plane;
 * ties go to the first in row-major scan order. */
int pool_argmax(__global const float *plane, int H, int W, int k, int stride, int pad,
                  int oy, int ox)
{
    int y0 = oy * stride - pad, x0 = ox * stride - pad;
    int best = -1;
    for (int iy = max(y0, 0); iy < min(y0 + k, H); iy++)
        for (int ix = max(x0, 0); ix < min(x0 + k, W); ix++)
            if (best < 0 || plane[iy * W + ix] > plane[best]) best = iy * W + ix;
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

/* out (N,C,OH,OW) = max over each window of in (N,C,H,W); n = N*C*OH*OW */
__kernel void maxpool_forward(__global float *out, __global const float *in, int H, int W,
                              int OH, int OW, int k, int stride, int pad, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int ox = i % OW, oy = (i / OW) % OH, plane = i / (OW * OH);
    __global const float *p = in + (size_t)plane * H * W;
    out[i] = p[pool_argmax(p, H, W, k, stride, pad, oy, ox)];
}

/* backward of out[i] = p[pool_argmax(p, H, W, k, stride, pad, oy, ox)]:
 * din (N,C,H,W) = sum of dout over the windows whose argmax is this cell;
 * n = N*C*H*W */
__kernel void maxpool_backward(__global float *din, __global const float *dout,
                               __global const float *in, int H, int W, int OH, int OW, int k,
                               int stride, int pad, int n)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int ix = i % W, iy = (i / W) % H, plane = i / (W * H);
    __global const float *p = in + (size_t)plane * H * W;
    __global const float *d = dout + (size_t)plane * OH * OW;
    int oy0, oy1, ox0, ox1;
    pool_covering(iy, k, stride, pad, OH, &oy0, &oy1);
    pool_covering(ix, k, stride, pad, OW, &ox0, &ox1);
    float sum = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            if (pool_argmax(p, H, W, k, stride, pad, oy, ox) == iy * W + ix)
                sum += d[oy * OW + ox];
    din[i] = sum;
}

/* out (N,C,OH,OW) = mean over each window of in (N,C,H,W); n = N*C*OH*OW */
__kernel void avgpool_forward(__global float *out, __global const float *in, int H, int W,
                              int OH, int OW, int k, int stride, int pad, int count_pad, int n)
{
    int i = get_global_id(0);
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
    int i = get_global_id(0);
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

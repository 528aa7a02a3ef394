/* loss.cl — the gradients of the L1 distance and total variation losses.
 * Their forward passes, and both passes of the mean squared error, are
 * cl/reduce.cl's sums and a scaled sum (hs_axpby; host/op_loss.c). */

/* backward of loss = scale * sum(|a - b|): da = scale * sign(a - b), 0 where a == b
 * (as PyTorch's L1Loss) */
__kernel void l1_backward(__global float *da, __global const float *a, __global const float *b,
                          float scale, int n)
{
    int i = item_id();
    if (i < n) {
        float d = a[i] - b[i];
        da[i] = d > 0.0f ? scale : (d < 0.0f ? -scale : 0.0f);
    }
}

/* backward of loss = scale * sum (x[y][x+1]-x[y][x])^2 + (x[y+1][x]-x[y][x])^2:
 * x[y][x] appears in four differences, as the minuend of those from its left
 * and upper neighbours and the subtrahend of its own; k = 2*scale. */
__kernel void tv_backward(__global float *dx, __global const float *x, float k, int W, int H,
                          int n)
{
    int i = item_id();
    if (i >= n) return;
    int col = i % W, row = (i / W) % H;
    float g = 0.0f;
    if (col > 0) g += x[i] - x[i - 1];
    if (row > 0) g += x[i] - x[i - W];
    if (col + 1 < W) g -= x[i + 1] - x[i];
    if (row + 1 < H) g -= x[i + W] - x[i];
    dx[i] = k * g;
}

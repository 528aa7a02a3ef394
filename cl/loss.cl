/* loss.cl — mean squared error, L1 distance and total variation, forward and backward.
 * The forward kernels are pass 1 of the deterministic sum of reduce.cl
 * (joined before this file): each writes one partial per group, and
 * host/op_loss.c finishes with sum_partials, applying the scale. */

/* forward: loss = scale * sum((a - b)^2); this pass sums (a - b)^2 */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void mse_partials(__global float *partials, __global const float *a, __global const float *b,
                  int n)
{
    __local float part[REDUCE_GROUP];
    float acc = 0.0f;
    for (int i = item_id(); i < n; i += item_count()) {
        float d = a[i] - b[i];
        acc += d * d;
    }
    float total = group_sum(part, acc);
    if (get_local_id(0) == 0) partials[item_group()] = total;
}

/* backward of loss = scale * sum((a - b)^2): da = 2*scale * (a - b); k = 2*scale */
__kernel void mse_backward(__global float *da, __global const float *a, __global const float *b,
                           float k, int n)
{
    int i = item_id();
    if (i < n) da[i] = k * (a[i] - b[i]);
}

/* forward: loss = scale * sum(|a - b|); this pass sums |a - b| */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void l1_partials(__global float *partials, __global const float *a, __global const float *b,
                 int n)
{
    __local float part[REDUCE_GROUP];
    float acc = 0.0f;
    for (int i = item_id(); i < n; i += item_count()) acc += fabs(a[i] - b[i]);
    float total = group_sum(part, acc);
    if (get_local_id(0) == 0) partials[item_group()] = total;
}

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

/* The TV terms of element i of x (planes of H x W): its forward differences
 * to the right and below, squared; zero past the last column or row. */
float tv_term(__global const float *x, int i, int W, int H)
{
    int col = i % W, row = (i / W) % H;
    float right = col + 1 < W ? x[i + 1] - x[i] : 0.0f;
    float down = row + 1 < H ? x[i + W] - x[i] : 0.0f;
    return right * right + down * down;
}

/* forward: loss = scale * sum over planes of (x[y][x+1]-x[y][x])^2 + (x[y+1][x]-x[y][x])^2;
 * this pass sums the terms */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void tv_partials(__global float *partials, __global const float *x, int W, int H, int n)
{
    __local float part[REDUCE_GROUP];
    float acc = 0.0f;
    for (int i = item_id(); i < n; i += item_count()) acc += tv_term(x, i, W, H);
    float total = group_sum(part, acc);
    if (get_local_id(0) == 0) partials[item_group()] = total;
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

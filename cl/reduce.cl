/* reduce.cl — deterministic sums: the work-group tree and the one kernel
 * behind hs_sum, hs_dot, the losses' forward passes (host/op_loss.c) and
 * hs_add_element (host/op_reduce.c).
 *
 * A reduction runs in two passes (host/op_reduce.c). Pass 1 launches G groups
 * of REDUCE_GROUP items, G fixed by n alone; item k of the G*REDUCE_GROUP
 * accumulates the terms of elements k, k + G*REDUCE_GROUP, ... in that
 * order, then each group adds its items' sums by a fixed tree and writes
 * partials[group]. Pass 2 sums the G partials with a single group. The same
 * input therefore gives the same bits on every run. The kinds of term,
 * REDUCE_SUM, REDUCE_DOT, REDUCE_SQUARED_DIFF, REDUCE_ABS_DIFF and
 * REDUCE_TV, are build options (hs_reduce_kind in host/reduce.h).
 */

/* The sum of every item's v in the group, by a fixed pairwise tree over
 * `part` (REDUCE_GROUP floats of local memory), returned to every item. */
float group_sum(__local float *part, float v)
{
    int l = get_local_id(0);
    part[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (l < width) part[l] += part[l + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

/* The total variation terms of element i of x (planes of H x W): its
 * forward differences to the right and below, squared; zero past the last
 * column or row. */
float tv_term(__global const float *x, int i, int W, int H)
{
    int col = i % W, row = (i / W) % H;
    float right = col + 1 < W ? x[i + 1] - x[i] : 0.0f;
    float down = row + 1 < H ? x[i + W] - x[i] : 0.0f;
    return right * right + down * down;
}

/* out[out_index + group] = scale * the sum over the group's slices of the
 * terms of `kind`: a[i], a[i] * b[i], (a[i] - b[i])², |a[i] - b[i]| or
 * tv_term(a, i, W, H); with `add`, added to what that element holds. One
 * kernel for every sum, so a run compiles it once (PoCL compiles each
 * kernel a run uses, about 0.1 s each). */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void reduce(__global float *out, int out_index, int add, float scale, int kind,
            __global const float *a, __global const float *b, int W, int H, int n)
{
    __local float part[REDUCE_GROUP];
    int first = item_id(), step = item_count();
    float acc = 0.0f;
    if (kind == REDUCE_SUM)
        for (int i = first; i < n; i += step) acc += a[i];
    else if (kind == REDUCE_DOT)
        for (int i = first; i < n; i += step) acc += a[i] * b[i];
    else if (kind == REDUCE_SQUARED_DIFF)
        for (int i = first; i < n; i += step) acc += (a[i] - b[i]) * (a[i] - b[i]);
    else if (kind == REDUCE_ABS_DIFF)
        for (int i = first; i < n; i += step) acc += fabs(a[i] - b[i]);
    else if (kind == REDUCE_TV)
        for (int i = first; i < n; i += step) acc += tv_term(a, i, W, H);
    float total = scale * group_sum(part, acc);
    if (get_local_id(0) == 0) {
        int at = out_index + item_group();
        out[at] = add ? out[at] + total : total;
    }
}

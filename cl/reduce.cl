/* reduce.cl — deterministic sums: the work-group tree and the one kernel
 * behind hs_sum, hs_dot, the losses' forward passes (host/op_loss.c),
 * hs_add_element (host/op_reduce.c) and the channel sums and dots
 * (host/op_channel.c).
 *
 * A reduction runs in two passes (host/op_reduce.c). Pass 1 launches G groups
 * of REDUCE_GROUP items, G fixed by n alone; item k of the G*REDUCE_GROUP
 * accumulates the terms of elements k, k + G*REDUCE_GROUP, ... in that
 * order, then each group adds its items' sums by a fixed tree and writes
 * partials[group]. Pass 2 sums the G partials with a single group. The same
 * input therefore gives the same bits on every run. The kinds of term,
 * REDUCE_SUM, REDUCE_DOT, REDUCE_SQUARED_DIFF, REDUCE_ABS_DIFF and
 * REDUCE_TV, are build options (hs_reduce_kind in host/reduce.h). Channel
 * sums take one pass, one group a plane.
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

/* out[out_index + group] = scale * the sum over the group's terms of
 * `kind`: a[i], a[i] * b[i], (a[i] - b[i])², |a[i] - b[i]| or
 * tv_term(a, i, W, H); with `add`, added to what that element holds.
 * With plane 0, the terms of elements 0..n-1, each item taking every
 * item_count()-th from its id. With plane > 0, group g's terms are those
 * of the H rows of W elements from a[g*plane + start], rows pitch apart
 * (channel sums and dots, one group a plane; sums and dots only), each
 * item taking every REDUCE_GROUP-th of a row from its local id. One
 * kernel for every sum, so a run compiles it once (PoCL compiles each
 * kernel a run uses, about 0.1 s each). */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void reduce(__global float *out, int out_index, int add, float scale, int kind,
            __global const float *a, __global const float *b, int W, int H, int n, int plane,
            int start, int pitch)
{
    __local float part[REDUCE_GROUP];
    int per_plane = plane > 0;
    int first = per_plane ? (int)get_local_id(0) : item_id();
    int step = per_plane ? REDUCE_GROUP : item_count();
    int rows = per_plane ? H : 1, width = per_plane ? W : n;
    float acc = 0.0f;
    for (int y = 0; y < rows; y++) {
        size_t at = per_plane ? (size_t)item_group() * plane + start + (size_t)y * pitch : 0;
        __global const float *x = a + at, *z = b + at;
        if (kind == REDUCE_SUM)
            for (int i = first; i < width; i += step) acc += x[i];
        else if (kind == REDUCE_DOT)
            for (int i = first; i < width; i += step) acc += x[i] * z[i];
        else if (kind == REDUCE_SQUARED_DIFF)
            for (int i = first; i < width; i += step) acc += (x[i] - z[i]) * (x[i] - z[i]);
        else if (kind == REDUCE_ABS_DIFF)
            for (int i = first; i < width; i += step) acc += fabs(x[i] - z[i]);
        else if (kind == REDUCE_TV)
            for (int i = first; i < width; i += step) acc += tv_term(a, i, W, H);
    }
    float total = scale * group_sum(part, acc);
    if (get_local_id(0) == 0) {
        int at = out_index + item_group();
        out[at] = add ? out[at] + total : total;
    }
}

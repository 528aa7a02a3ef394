/* reduce.cl — deterministic sums: the work-group tree and the partial-sum
 * kernels of hs_sum and hs_dot (loss.cl adds those of the losses).
 *
 * A reduction runs in two passes (host/op_reduce.c). Pass 1 launches G groups
 * of REDUCE_GROUP items, G fixed by n alone; item k of the G*REDUCE_GROUP
 * accumulates elements k, k + G*REDUCE_GROUP, ... in that order, then each
 * group adds its items' sums by a fixed tree and writes partials[group].
 * Pass 2 is sum_partials over the G partials with a single group. The same
 * input therefore gives the same bits on every run.
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

/* partials[group] = scale * sum of the group's slices of x */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void sum_partials(__global float *partials, __global const float *x, float scale, int n)
{
    __local float part[REDUCE_GROUP];
    float acc = 0.0f;
    for (int i = item_id(); i < n; i += item_count()) acc += x[i];
    float total = group_sum(part, acc);
    if (get_local_id(0) == 0) partials[item_group()] = scale * total;
}

/* partials[group] = sum of a[i] * b[i] over the group's slices */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUP, 1, 1)))
void dot_partials(__global float *partials, __global const float *a, __global const float *b,
                  int n)
{
    __local float part[REDUCE_GROUP];
    float acc = 0.0f;
    for (int i = item_id(); i < n; i += item_count()) acc += a[i] * b[i];
    float total = group_sum(part, acc);
    if (get_local_id(0) == 0) partials[item_group()] = total;
}

/* sums[index] += value[0] (one work-item does it) */
__kernel void add_element(__global float *sums, int index, __global const float *value)
{
    if (item_id() == 0) sums[index] += value[0];
}

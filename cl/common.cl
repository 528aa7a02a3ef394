/* common.cl — joined before every other kernel file.
 *
 * Build options set by the host (host/program.c):
 *   REDUCE_GROUP  work-group size of the reduction kernels (a power of two)
 * Conventions: tensors are float, NCHW, contiguous; 1-D kernels take the
 * element count and return early past it, since global sizes are rounded up.
 */
#ifndef REDUCE_GROUP
#define REDUCE_GROUP 64
#endif

/* A 1-D kernel's place in its range, which the host runs as rows of equal
 * width when it is long (host/context.c): the work-item's index, the
 * range's length and the group's index, each counted along the rows. A
 * kernel that reads its place only through these may be run so
 * (tools/embed_kernels.py marks it); get_local_id(0) is unchanged. */
int item_id(void) { return (int)(get_global_id(1) * get_global_size(0) + get_global_id(0)); }
int item_count(void) { return (int)(get_global_size(0) * get_global_size(1)); }
int item_group(void) { return (int)(get_group_id(1) * get_num_groups(0) + get_group_id(0)); }

/* Fill a buffer with one value. */
__kernel void fill(__global float *x, float value, int n)
{
    int i = item_id();
    if (i < n) x[i] = value;
}

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

/* Fill a buffer with one value. */
__kernel void fill(__global float *x, float value, int n)
{
    int i = get_global_id(0);
    if (i < n) x[i] = value;
}

/* common.cl — joined before every other kernel file.
 *
 * Build options set by the host (host/program.c):
 *   REDUCE_GROUP  work-group size of the reduction kernels (a power of two)
 *   RECTIFY_ACTIVATE, RECTIFY_GATE  the epilogue's rectify modes (hs_epilogue
 *                 in host/engine.h)
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

/* The epilogue (hs_epilogue in host/engine.h) after the bias, of values x
 * whose residuals are r: with has_res, scale * x + res_scale * r (an Add
 * reading the conv); then, when rectify is RECTIFY_ACTIVATE,
 * x > 0 ? x : slope * x (ReLU with slope 0, LeakyReLU): a conv's bias,
 * residual and activation without another pass over its output.
 * RECTIFY_GATE gates x by r instead, r not added: r > 0 ? x : slope * x,
 * an activation's backward whose output r is. One definition for every
 * kernel that stores through an epilogue, in the type it works in: float
 * (bias_act, conv_few), float8 (Winograd's rows of 8 pixels) and the GEMM's
 * floatv (cl/gemm.cl). */
#define DEFINE_EPILOGUE(name, T)                                                           \
    T name(T x, T r, int rectify, float slope, int has_res, float scale, float res_scale)  \
    {                                                                                      \
        if (rectify == RECTIFY_GATE) return select(slope * x, x, r > (T)(0.0f));           \
        if (has_res) x = scale * x + res_scale * r;                                        \
        return rectify == RECTIFY_ACTIVATE ? select(slope * x, x, x > (T)(0.0f)) : x;      \
    }
DEFINE_EPILOGUE(epilogue1, float)
DEFINE_EPILOGUE(epilogue8, float8)

/* Fill a buffer with one value. */
__kernel void fill(__global float *x, float value, int n)
{
    int i = item_id();
    if (i < n) x[i] = value;
}

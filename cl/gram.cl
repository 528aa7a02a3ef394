/* gram.cl — the kernels of the Gram matrices that are not GEMMs
 * (host/op_gram.c does the products with hs_gemm: our kernel or CLBlast). */

/* out (C x C) at out_off from src (C x C) at src_off. With add,
 * out = src + srcᵀ: the gradient of G = F·Fᵀ with respect to F is
 * (dG + dGᵀ)·F, so that sum is the left factor of the product. Without,
 * the upper triangle from the lower, out[i][j] = src[j][i] for j > i, out
 * and src the same matrix (the forward multiplies only the lower
 * triangle). One kernel for both: PoCL compiles each kernel a run uses. */
__kernel void gram_transpose(__global float *out, int out_off, __global const float *src,
                             int src_off, int C, int add)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i >= C || j >= C) return;
    if (add)
        out[out_off + i * C + j] = src[src_off + i * C + j] + src[src_off + j * C + i];
    else if (j > i)
        out[out_off + i * C + j] = src[src_off + j * C + i];
}

/* gram.cl — the kernels of the Gram matrices that are not GEMMs
 * (host/op_gram.c does the products with hs_gemm: our kernel or CLBlast). */

/* g (C x C) at offset: the upper triangle from the lower, g[i][j] = g[j][i]
 * for j > i (the forward multiplies only the lower triangle). */
__kernel void gram_mirror(__global float *g, int offset, int C)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i < C && j < C && j > i) g[offset + i * C + j] = g[offset + j * C + i];
}

/* s (C x C) = dg + dgᵀ, dg read at dg_offset: the gradient of G = F·Fᵀ with
 * respect to F is (dG + dGᵀ)·F, so S is the left factor of that product. */
__kernel void gram_symmetrize(__global float *s, __global const float *dg, int dg_offset, int C)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i < C && j < C) s[i * C + j] = dg[dg_offset + i * C + j] + dg[dg_offset + j * C + i];
}

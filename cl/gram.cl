/* gram.cl — the one kernel of the Gram backward that is not a GEMM
 * (host/op_gram.c does the products with hs_gemm: our kernel or CLBlast). */

/* s (C x C) = dg + dgᵀ, dg read at dg_offset: the gradient of G = F·Fᵀ with
 * respect to F is (dG + dGᵀ)·F, so S is the left factor of that product. */
__kernel void gram_symmetrize(__global float *s, __global const float *dg, int dg_offset, int C)
{
    int j = get_global_id(0), i = get_global_id(1);
    if (i < C && j < C) s[i * C + j] = dg[dg_offset + i * C + j] + dg[dg_offset + j * C + i];
}

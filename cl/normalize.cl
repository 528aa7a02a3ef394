/* normalize.cl — a float RGB image in [0,1] to a network's input and back.
 * The per-channel factors are computed on the host (host/op_normalize.c):
 *   out[c] = in[src(c)] * mul[c] + add[c],  src(c) = swap ? 2-c : c
 * Forward: mul = 255*scale/std, add = -mean/std. The backward is the same
 * map: din[s] = dout[src(s)] * mul[src(s)], src being its own inverse, so
 * the host passes the factors reordered and add 0. 1-D over N*3*H*W. */
__kernel void normalize_rgb(__global float *out, __global const float *in, float mul0,
                            float mul1, float mul2, float add0, float add1, float add2, int swap,
                            int plane, int n)
{
    int i = item_id();
    if (i >= n) return;
    int c = (i / plane) % 3;
    int src = swap ? 2 - c : c;
    float mul = c == 0 ? mul0 : c == 1 ? mul1 : mul2;
    float add = c == 0 ? add0 : c == 1 ? add1 : add2;
    out[i] = in[i + (src - c) * plane] * mul + add;
}

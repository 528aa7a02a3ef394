/* normalize.cl — a float RGB image in [0,1] to a network's input and back.
 * The per-channel factors are computed on the host:
 *   out[c] = in[src(c)] * mul[c] + add[c],  src(c) = swap ? 2-c : c
 * with mul = 255*scale/std and add = -mean/std. 1-D over N*3*H*W. */

__kernel void normalize_forward(__global float *out, __global const float *in, float mul0,
                                float mul1, float mul2, float add0, float add1, float add2,
                                int swap, int plane, int n)
{
    int i = item_id();
    if (i >= n) return;
    int c = (i / plane) % 3;
    int src = swap ? 2 - c : c;
    float mul = c == 0 ? mul0 : c == 1 ? mul1 : mul2;
    float add = c == 0 ? add0 : c == 1 ? add1 : add2;
    out[i] = in[i + (src - c) * plane] * mul + add;
}

/* backward of out[c] = in[src(c)] * mul[c] + add[c]: din[src(c)] = dout[c] * mul[c].
 * One work-item per din element, reading the dout channel that came from it. */
__kernel void normalize_backward(__global float *din, __global const float *dout, float mul0,
                                 float mul1, float mul2, int swap, int plane, int n)
{
    int i = item_id();
    if (i >= n) return;
    int src = (i / plane) % 3;
    int c = swap ? 2 - src : src; /* the output channel that read channel src */
    float mul = c == 0 ? mul0 : c == 1 ? mul1 : mul2;
    din[i] = dout[i + (c - src) * plane] * mul;
}

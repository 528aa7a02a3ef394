/* elementwise.cl — activations, scaled sums and clamping, forward and backward.
 * Every kernel is 1-D over n elements; in-place use (out == in) is allowed. */

/* out = gate > 0 ? x : slope * x: ReLU (slope 0) and LeakyReLU, forward
 * with x and gate both the input, backward with x the output's gradient and
 * gate the input. One kernel for the four, so a run compiles it once. */
__kernel void rectify(__global float *out, __global const float *x, __global const float *gate,
                      float slope, int n)
{
    int i = item_id();
    if (i < n) out[i] = gate[i] > 0.0f ? x[i] : slope * x[i];
}

/* PReLU with one slope per channel; plane = H*W, channels = C. */
__kernel void prelu_forward(__global float *out, __global const float *in,
                            __global const float *slope, int plane, int channels, int n)
{
    int i = item_id();
    if (i >= n) return;
    float a = slope[(i / plane) % channels];
    out[i] = in[i] > 0.0f ? in[i] : a * in[i];
}

__kernel void prelu_backward(__global float *din, __global const float *dout,
                             __global const float *in, __global const float *slope,
                             int plane, int channels, int n)
{
    int i = item_id();
    if (i >= n) return;
    float a = slope[(i / plane) % channels];
    din[i] = in[i] > 0.0f ? dout[i] : a * dout[i];
}

/* dslope[c] = sum over n, y, x of dout * in where in <= 0. One work-item per
 * channel, summed in a fixed order so the result is reproducible. */
__kernel void prelu_backward_slope(__global float *dslope, __global const float *dout,
                                   __global const float *in, int plane, int channels, int batch)
{
    int c = item_id();
    if (c >= channels) return;
    float sum = 0.0f;
    for (int b = 0; b < batch; b++) {
        int base = (b * channels + c) * plane;
        for (int p = 0; p < plane; p++) {
            float x = in[base + p];
            if (x <= 0.0f) sum += dout[base + p] * x;
        }
    }
    dslope[c] = sum;
}

/* out = alpha * a + beta * b, then, with `clamped`, clamp(out, lo, hi); b is
 * not read when beta is 0 (out = alpha * a), so one kernel serves the
 * scaled copy, the scaled sum, y += alpha * x (beta 1, out == b) and the
 * clamp in place (alpha 1, beta 0, out == a): PoCL compiles each kernel a
 * run uses, 60-140 ms each. */
__kernel void axpby(__global float *out, float alpha, __global const float *a, float beta,
                    __global const float *b, int clamped, float lo, float hi, int n)
{
    int i = item_id();
    if (i >= n) return;
    float x = beta == 0.0f ? alpha * a[i] : alpha * a[i] + beta * b[i];
    out[i] = clamped ? clamp(x, lo, hi) : x;
}

/* out = (tanh(in) + 1) / 2 */
__kernel void tanh_half(__global float *out, __global const float *in, int n)
{
    int i = item_id();
    if (i < n) out[i] = 0.5f * (tanh(in[i]) + 1.0f);
}

/* backward of tanh_half: din = dout * (1 - tanh(in)^2) / 2 */
__kernel void tanh_half_backward(__global float *din, __global const float *dout,
                                 __global const float *in, int n)
{
    int i = item_id();
    if (i >= n) return;
    float t = tanh(in[i]);
    din[i] = dout[i] * 0.5f * (1.0f - t * t);
}

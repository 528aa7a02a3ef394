/* elementwise.cl — the sigmoid, tanh and PReLU activations, forward and backward.
 * Every kernel is 1-D over n elements; in-place use (out == in) is allowed. */

/* out = f(x) of an activation, or its backward, by kind:
 *   ACT_SIGMOID             1 / (1 + exp(-x))
 *   ACT_SIGMOID_BACKWARD    x * s * (1 - s), s = sigmoid(gate): x the
 *                           output's gradient, gate the input
 *   ACT_TANH_HALF           (tanh(x) + 1) / 2
 *   ACT_TANH_HALF_BACKWARD  x * (1 - tanh(gate)²) / 2, as above
 * One kernel for all, so a run compiles it once. (The rectifiers, ReLU
 * and LeakyReLU, and the scaled sums and clamp are epilogue passes:
 * cl/conv.cl's bias_act.) */
__kernel void activate(__global float *out, __global const float *x, __global const float *gate,
                       int kind, int n)
{
    int i = item_id();
    if (i >= n) return;
    float v = x[i];
    if (kind == ACT_SIGMOID) {
        out[i] = 1.0f / (1.0f + exp(-v));
    } else if (kind == ACT_SIGMOID_BACKWARD) {
        float s = 1.0f / (1.0f + exp(-gate[i]));
        out[i] = v * s * (1.0f - s);
    } else if (kind == ACT_TANH_HALF) {
        out[i] = 0.5f * (tanh(v) + 1.0f);
    } else {
        float t = tanh(gate[i]);
        out[i] = v * 0.5f * (1.0f - t * t);
    }
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

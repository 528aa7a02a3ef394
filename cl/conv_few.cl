/* conv_few.cl — a stride-1 convolution computed directly, for convs with few
 * output channels: a dense block's growth convs (64 to 4 channels) and an
 * SR net's last conv to RGB. Our GEMM multiplies tiles of 8 output channels
 * by an im2col panel copied for them; with 3 or 4 channels, half the tile
 * is zeros and copying the panel costs more than the products.
 *
 * Each work-item computes CONV_FEW output channels (oc0 .. oc0+CONV_FEW-1,
 * those below OC) for CONV_RUN consecutive pixels of one output row: per
 * input channel and tap, one vector of CONV_RUN input values (zero outside
 * the image) times one weight per output channel. The store applies the
 * epilogue of host/engine.h's hs_epilogue: bias, a residual, an activation.
 */
#define CONV_FEW 4
#define CONV_RUN 16

/* in[iy][ix0 .. ix0+CONV_RUN-1] of one plane (H x W), zero outside it. */
float16 conv_few_run(__global const float *plane, int H, int W, int iy, int ix0)
{
    if (iy < 0 || iy >= H) return (float16)(0.0f);
    __global const float *row = plane + (size_t)iy * W;
    if (ix0 >= 0 && ix0 + CONV_RUN <= W) return vload16(0, row + ix0);
    float v[CONV_RUN];
    for (int t = 0; t < CONV_RUN; t++) {
        int ix = ix0 + t;
        v[t] = ix >= 0 && ix < W ? row[ix] : 0.0f;
    }
    return vload16(0, v);
}

/* out(n, channel0 + o, oy, ox) for o in oc0 .. min(oc0 + CONV_FEW, OC) - 1:
 * the conv of in (N, C, H, W) with w (OC, C, KH, KW), stride 1, padding
 * pad_h, pad_w, into an output of out_c channels, OH x OW. One work-item
 * per run of CONV_RUN pixels: runs per row, N*OH rows, `items` in all. The
 * residual, when has_res, is (N, OC, OH, OW). */
__kernel void conv_few(__global float *out, int out_c, int channel0, __global const float *in,
                       int C, int H, int W, __global const float *w, int OC, int oc0, int KH,
                       int KW, int pad_h, int pad_w, int OH, int OW, int runs, int items,
                       __global const float *bias, int has_bias, int rectify, float slope,
                       __global const float *res, int has_res, float scale, float res_scale)
{
    int item = item_id();
    if (item >= items) return;
    int row = item / runs, ox0 = (item % runs) * CONV_RUN;
    int oy = row % OH, n = row / OH;
    int count = min(CONV_FEW, OC - oc0);
    size_t taps = (size_t)KH * KW, filter = (size_t)C * taps;
    __global const float *wf = w + (size_t)oc0 * filter;
    float16 acc[CONV_FEW];
    for (int o = 0; o < CONV_FEW; o++) acc[o] = (float16)(0.0f);
    for (int c = 0; c < C; c++) {
        __global const float *plane = in + ((size_t)n * C + c) * H * W;
        __global const float *wc = wf + (size_t)c * taps;
        for (int ky = 0; ky < KH; ky++)
            for (int kx = 0; kx < KW; kx++) {
                float16 x = conv_few_run(plane, H, W, oy + ky - pad_h, ox0 + kx - pad_w);
                size_t at = (size_t)ky * KW + kx;
                /* past `count`, the first filter again: computed, never stored */
#pragma unroll
                for (int o = 0; o < CONV_FEW; o++)
                    acc[o] = fma((float16)(wc[(o < count ? o : 0) * filter + at]), x, acc[o]);
            }
    }
    int len = min(CONV_RUN, OW - ox0);
    for (int o = 0; o < count; o++) {
        size_t at = (((size_t)n * out_c + channel0 + oc0 + o) * OH + oy) * OW + ox0;
        size_t res_at = (((size_t)n * OC + oc0 + o) * OH + oy) * OW + ox0;
        float v[CONV_RUN];
        vstore16(acc[o], 0, v);
        for (int t = 0; t < len; t++) {
            float x = has_bias ? v[t] + bias[oc0 + o] : v[t];
            out[at + t] = epilogue1(x, has_res ? res[res_at + t] : 0.0f, rectify, slope,
                                    has_res, scale, res_scale);
        }
    }
}

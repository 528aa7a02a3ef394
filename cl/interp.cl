/* interp.cl — resizing by any factor, as ncnn's Interp layer does
 * (src/layer/interp.cpp), for the ncnn models that resize inside the net
 * (e.g. realesr-animevideov3-x3: its x4 output bicubically to 3/4).
 * One work-item per output element; forward only.
 *
 * in (planes, H, W) -> out (planes, OH, OW); ws = W / OW, hs = H / OH.
 *   mode 0, nearest:  src = min((int)(o * ws), W - 1)
 *   mode 1, bilinear: f = (o + 0.5) * ws - 0.5, taps floor(f) and floor(f) + 1
 *   mode 2, bicubic:  the same f, taps floor(f) - 1 .. floor(f) + 2 with Keys'
 *                     cubic, a = -0.75 (as ncnn, OpenCV and PyTorch)
 * Taps beyond the edge read the edge pixel (ncnn folds their weights onto it;
 * the same sums). Bilinear clamps f to 0 .. W - 1 first, as ncnn does.
 */

/* Bilinear: the lower tap and the weight of the upper one along one axis. */
int linear_tap(int o, float scale, int size, float *frac)
{
    float f = ((float)o + 0.5f) * scale - 0.5f;
    if (f < 0.0f) f = 0.0f;
    int s = (int)floor(f);
    *frac = f - (float)s;
    if (s >= size - 1) {
        s = size - 1;
        *frac = 0.0f;
    }
    return s;
}

/* Bicubic: the first of four taps and their weights along one axis. */
int cubic_taps(int o, float scale, float *w)
{
    const float a = -0.75f;
    float f = ((float)o + 0.5f) * scale - 0.5f;
    int s = (int)floor(f);
    float t = f - (float)s;
    float t0 = t + 1.0f, t1 = t, t2 = 1.0f - t;
    w[0] = a * t0 * t0 * t0 - 5.0f * a * t0 * t0 + 8.0f * a * t0 - 4.0f * a;
    w[1] = (a + 2.0f) * t1 * t1 * t1 - (a + 3.0f) * t1 * t1 + 1.0f;
    w[2] = (a + 2.0f) * t2 * t2 * t2 - (a + 3.0f) * t2 * t2 + 1.0f;
    w[3] = 1.0f - w[0] - w[1] - w[2];
    return s - 1;
}

int clamp_index(int i, int size) { return i < 0 ? 0 : (i >= size ? size - 1 : i); }

/* n = planes * OH * OW */
__kernel void interp(__global float *out, __global const float *in, int H, int W, int OH, int OW,
                     int mode, int n)
{
    int o = item_id();
    if (o >= n) return;
    int ox = o % OW, oy = (o / OW) % OH, plane = o / (OW * OH);
    float ws = (float)W / (float)OW, hs = (float)H / (float)OH;
    __global const float *src = in + (size_t)plane * H * W;
    float v;
    if (mode == 0) {
        int sx = min((int)((float)ox * ws), W - 1), sy = min((int)((float)oy * hs), H - 1);
        v = src[(size_t)sy * W + sx];
    } else if (mode == 1) {
        float fx, fy;
        int sx = linear_tap(ox, ws, W, &fx), sy = linear_tap(oy, hs, H, &fy);
        int sx1 = min(sx + 1, W - 1), sy1 = min(sy + 1, H - 1);
        float top = src[(size_t)sy * W + sx] * (1.0f - fx) + src[(size_t)sy * W + sx1] * fx;
        float bottom = src[(size_t)sy1 * W + sx] * (1.0f - fx) + src[(size_t)sy1 * W + sx1] * fx;
        v = top * (1.0f - fy) + bottom * fy;
    } else {
        float wx[4], wy[4];
        int sx = cubic_taps(ox, ws, wx), sy = cubic_taps(oy, hs, wy);
        v = 0.0f;
        for (int i = 0; i < 4; i++) {
            __global const float *row = src + (size_t)clamp_index(sy + i, H) * W;
            float r = 0.0f;
            for (int j = 0; j < 4; j++) r += wx[j] * row[clamp_index(sx + j, W)];
            v += wy[i] * r;
        }
    }
    out[o] = v;
}

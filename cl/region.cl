/* region.cl — copying a rectangle of every plane between tensors of
 * different sizes: cutting a block out of an image or a feature map, and
 * putting (or adding) a block's result back into the whole. */

/* dst[p][dy + y][dx + x] = src[p][sy + y][sx + x], plus the old dst value
 * when accumulate, for every plane p (N*C, the same in both), y < h, x < w;
 * n = planes * h * w */
__kernel void copy_region(__global float *dst, int dst_h, int dst_w, int dy, int dx,
                          __global const float *src, int src_h, int src_w, int sy, int sx, int h,
                          int w, int accumulate, int n)
{
    int i = item_id();
    if (i >= n) return;
    int x = i % w, row = i / w, y = row % h, p = row / h;
    float v = src[((size_t)p * src_h + sy + y) * src_w + sx + x];
    size_t o = ((size_t)p * dst_h + dy + y) * dst_w + dx + x;
    dst[o] = accumulate ? dst[o] + v : v;
}

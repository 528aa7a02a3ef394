/* region.cl — copying a rectangle of every plane between tensors of
 * different sizes: cutting a block out of an image or a feature map, and
 * putting (or adding) a block's result back into the whole. */

/* dst[p][dy + y][dx + x] = src[p][sy + y][sx + x], plus the old dst value
 * when accumulate, for every plane p (N*C, the same in both), y < h, x < w;
 * one work-item per row of the window, rows = planes * h */
__kernel void copy_region(__global float *dst, int dst_h, int dst_w, int dy, int dx,
                          __global const float *src, int src_h, int src_w, int sy, int sx, int h,
                          int w, int accumulate, int rows)
{
    int r = item_id();
    if (r >= rows) return;
    int y = r % h, p = r / h;
    __global const float *s = src + ((size_t)p * src_h + sy + y) * src_w + sx;
    __global float *d = dst + ((size_t)p * dst_h + dy + y) * dst_w + dx;
    if (accumulate)
        for (int x = 0; x < w; x++) d[x] += s[x];
    else
        for (int x = 0; x < w; x++) d[x] = s[x];
}

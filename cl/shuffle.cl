/* shuffle.cl — moving pixels between channels and space for upscaling:
 * pixel shuffle (sub-pixel convolution) in PyTorch's and TensorFlow's channel
 * orders, and nearest-neighbour upsampling. Forward only (inference); one
 * work-item per output element.
 */

/* out (N,C,H*r,W*r) from in (N,C*r*r,H,W):
 *   tf = 0: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]  (torch.pixel_shuffle)
 *   tf = 1: out[c][y*r+i][x*r+j] = in[(i*r + j)*C + c][y][x]  (tf.nn.depth_to_space)
 * n = N*C*H*r*W*r */
__kernel void pixel_shuffle(__global float *out, __global const float *in, int C, int H, int W,
                            int r, int tf, int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int OW = W * r, OH = H * r;
    int ox = o % OW, oy = (o / OW) % OH, c = (o / (OW * OH)) % C, b = o / (OW * OH * C);
    int i = oy % r, j = ox % r;
    int ic = tf ? (i * r + j) * C + c : c * r * r + i * r + j;
    out[o] = in[(((size_t)b * C * r * r + ic) * H + oy / r) * W + ox / r];
}

/* out (N,C,H*r,W*r): out[y][x] = in (N,C,H,W) [y/r][x/r]; n = N*C*H*r*W*r */
__kernel void upsample_nearest(__global float *out, __global const float *in, int H, int W, int r,
                               int n)
{
    int o = get_global_id(0);
    if (o >= n) return;
    int OW = W * r, OH = H * r;
    int ox = o % OW, oy = (o / OW) % OH, plane = o / (OW * OH);
    out[o] = in[((size_t)plane * H + oy / r) * W + ox / r];
}

/* shuffle.cl — moving pixels between channels and space for upscaling:
 * pixel shuffle (sub-pixel convolution) in PyTorch's and TensorFlow's channel
 * orders, and nearest-neighbour upsampling, with their backward passes
 * (the training of SR nets); one work-item per output element.
 */

/* out (N,C,H*r,W*r) from in (N,in_c,H,W), in_c = C*r*r or C:
 *   out[c][y*r+i][x*r+j] = in[c*c_step + (i*r + j)*block_step][y][x]
 * which is, by the steps the host gives,
 *   c_step r*r, block_step 1:  torch.pixel_shuffle
 *   c_step 1,   block_step C:  tf.nn.depth_to_space
 *   c_step 1,   block_step 0:  nearest-neighbour upsampling (in_c = C)
 * One kernel for the three, so an upscaler compiles one. One work-item per
 * output row, rows = N*C*H*r: the r source rows of its j, then pixel by
 * pixel, no division per element (one work-item per element took 10-30x the
 * time: PixelShuffle and Upsample in `bench ops`). */
__kernel void pixel_shuffle(__global float *out, __global const float *in, int C, int H, int W,
                            int r, int in_c, int c_step, int block_step, int rows)
{
    int row = item_id();
    if (row >= rows) return;
    int OH = H * r, oy = row % OH, plane = row / OH;
    int c = plane % C, b = plane / C, y = oy / r, i = oy - y * r;
    __global float *o = out + (size_t)row * W * r;
    size_t first = (((size_t)b * in_c + c * c_step + i * r * block_step) * H + y) * W;
    size_t j_step = (size_t)block_step * H * W; /* from the source row of j to j + 1's */
    for (int j = 0; j < r; j++) {
        __global const float *src = in + first + j * j_step;
        for (int x = 0; x < W; x++) o[x * r + j] = src[x];
    }
}

/* Backward of pixel_shuffle, its inverse permutation: din (N,C*r*r,H,W)
 * from dout (N,C,H*r,W*r); din[ic][y][x] = dout[c][y*r+i][x*r+j] with
 * (c, i, j) from ic as in the forward. n = N*C*r*r*H*W */
__kernel void pixel_shuffle_backward(__global float *din, __global const float *dout, int C, int H,
                                     int W, int r, int tf, int n)
{
    int o = item_id();
    if (o >= n) return;
    int x = o % W, y = (o / W) % H, ic = (o / (W * H)) % (C * r * r), b = o / (W * H * C * r * r);
    int c = tf ? ic % C : ic / (r * r), ij = tf ? ic / C : ic % (r * r);
    int i = ij / r, j = ij % r;
    din[o] = dout[(((size_t)b * C + c) * H * r + y * r + i) * W * r + x * r + j];
}

/* Backward of upsample_nearest: din (N,C,H,W)[y][x] = the sum of dout's
 * r×r block at (y*r, x*r). n = N*C*H*W */
__kernel void upsample_nearest_backward(__global float *din, __global const float *dout, int H,
                                        int W, int r, int n)
{
    int o = item_id();
    if (o >= n) return;
    int x = o % W, y = (o / W) % H, plane = o / (W * H);
    size_t row = ((size_t)plane * H * r + (size_t)y * r) * W * r + (size_t)x * r;
    float sum = 0.0f;
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) sum += dout[row + (size_t)i * W * r + j];
    din[o] = sum;
}

/* hirestyle.h — the public API of libhirestyle.
 *
 * hirestyle does neural style transfer and GAN super-resolution on any
 * OpenCL device. This header is what the shared library exports:
 *   - status codes and the last error message (every call returns hs_status);
 *   - devices and the compute context (one device, one queue, one program);
 *   - tensors: float32 NCHW buffers on the device;
 *   - ops: forward and backward pairs, argument order (outputs, inputs, params);
 *   - jobs: what the commands do, file to file (hs_job_style, hs_job_upscale,
 *     hs_job_run).
 * Networks, style transfer and upscaling have their own headers in host/,
 * which are not installed. A program links with
 *   cc prog.c $(pkg-config --cflags --libs hirestyle)
 * (tools/example_upscale.c is one).
 */
#ifndef HIRESTYLE_H
#define HIRESTYLE_H

#include <stddef.h>
#include <stdint.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libhirestyle.so exports what this header declares and nothing else (the
 * library is compiled with hidden visibility). */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* ---- Status ------------------------------------------------------------
 * Every failing call records one line in hs_last_error() and returns one of
 * these; the CLI uses the value as its exit code, so each kind of failure
 * a user can meet has its own code. */
typedef enum hs_status {
    HS_OK = 0,
    HS_ERR_INTERNAL = 1,     /* a bug or an unexpected OpenCL error */
    HS_ERR_USAGE = 2,        /* bad option, unknown device index */
    HS_ERR_IO = 3,           /* unreadable, corrupt or unsupported file */
    HS_ERR_WEIGHTS = 4,      /* missing or invalid weights file */
    HS_ERR_NO_PLATFORM = 5,  /* no OpenCL platform or device at all */
    HS_ERR_BUILD = 6,        /* a kernel failed to compile */
    HS_ERR_TOO_LARGE = 7,    /* the job cannot fit in device or host memory */
    HS_ERR_DEVICE_MEMORY = 8,/* the device ran out of memory at run time */
    HS_ERR_INTERRUPTED = 9,  /* stopped by the user (Ctrl-C) */
    HS_ERR_DEVICE_RESOURCES = 10, /* a kernel launch the device cannot resource
                                   * (CL_OUT_OF_RESOURCES: registers, local memory) */
    HS_ERR_DEVICE_FAULT = 11,     /* queued work failed on the device: a faulting
                                   * kernel or a driver error, found at a wait */
    HS_ERR_NOT_FINITE = 12,       /* the loss became infinite or NaN: a weight or
                                   * the learning rate too large for floats */
} hs_status;

/* The message of the last failure on this thread ("" if none). */
const char *hs_last_error(void);
/* Record a failure: formats the message, returns status (for `return hs_fail(...)`). */
hs_status hs_fail(hs_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the recorded message with context, e.g. the file being read. */
hs_status hs_fail_context(hs_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A readable name for an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *hs_cl_error_name(cl_int err);
/* Turn an OpenCL error from `what` into an hs_status with a message. */
hs_status hs_cl_fail(cl_int err, const char *what);
/* The same for a call that waits for queued kernels (clFinish, a blocking
 * read): an error there is a failure of work enqueued earlier. */
hs_status hs_cl_fail_wait(cl_int err, const char *what);

/* ---- Devices -------------------------------------------------------------- */
typedef enum hs_device_type { HS_DEVICE_ANY, HS_DEVICE_GPU, HS_DEVICE_CPU } hs_device_type;

typedef struct hs_device_info {
    int index;                  /* flat index over all platforms, as listed */
    int platform_index, device_index;
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[128];
    char name[128];
    char driver_version[64];
    char opencl_c_version[64];
    cl_device_type type;
    cl_uint compute_units;
    cl_uint clock_mhz;          /* CL_DEVICE_MAX_CLOCK_FREQUENCY */
    cl_uint float_vector_width; /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    cl_bool unified_memory;     /* CL_DEVICE_HOST_UNIFIED_MEMORY: an integrated GPU */
    cl_bool available, compiler_available;
    cl_ulong global_mem, max_alloc, local_mem;
    size_t max_work_group;
    int rank;                   /* 1 = best (see hs_device_rank); 0 = unusable */
    char unusable[160];         /* why hirestyle cannot use it; "" when it can */
} hs_device_info;

/* Every device of every platform, ranked. *out is malloc'ed; free with free(). */
hs_status hs_list_devices(hs_device_info **out, int *count);
/* Pick a device: `spec` is NULL, "N", "P:D" or part of a platform or device
 * name (the best-ranked match); NULL falls back to
 * $HIRESTYLE_DEVICE, then the best-ranked usable device of `type`. */
hs_status hs_select_device(const char *spec, hs_device_type type, hs_device_info *out);
const char *hs_device_type_name(cl_device_type type);
/* The device's OpenCL C version as major*10 + minor (12 for "OpenCL C 1.2"), 0 if unknown. */
int hs_device_c_version(const hs_device_info *dev);
/* Fill `unusable` and `rank` of each of n described devices: usable ones
 * ranked discrete GPU, integrated GPU (unified memory), accelerator, CPU,
 * then by compute units x clock, then memory, then list order. Pure: no
 * OpenCL call. */
void hs_device_rank(hs_device_info *list, int n);
/* The best-ranked usable device of `type` (GPUs only, CPUs only, or any), or -1. */
int hs_device_best(const hs_device_info *list, int n, hs_device_type type);

/* ---- Context ----------------------------------------------------------------
 * One device, one in-order queue, the kernels built for that device, and the
 * scratch the ops share. Not thread-safe: one context per thread. */
typedef struct hs_context hs_context;

typedef struct hs_context_options {
    const char *device;         /* as for hs_select_device; NULL = default */
    hs_device_type device_type;
    int verbose;                /* print build and cache decisions on stderr */
} hs_context_options;

hs_status hs_context_create(const hs_context_options *opts, hs_context **out);
void hs_context_destroy(hs_context *ctx);
const hs_device_info *hs_context_device(const hs_context *ctx);
hs_status hs_finish(hs_context *ctx);
/* Device memory hirestyle may use: the device's global memory, or less when
 * $HIRESTYLE_MEMORY_LIMIT_MB caps it. The style planner fits its estimate in
 * this; the tile planner in at most half the device's global memory (and
 * the cap) and, when an allocation fails or passes the cap, retries with
 * smaller tiles. */
size_t hs_memory_available(const hs_context *ctx);
/* The largest buffer hirestyle allocates: the device's largest allocation,
 * and at most HS_MAX_ELEMENTS floats. Every allocation past it is refused
 * (HS_ERR_TOO_LARGE); the planners keep each tensor within it. */
size_t hs_memory_largest_buffer(const hs_context *ctx);
/* The kernels index with int: no tensor, buffer or launch holds more items. */
#define HS_MAX_ELEMENTS ((size_t)2147483647)
/* Bytes of device memory in live buffers (tensors, scratch), and the most
 * the context held since the last reset, counting the freed buffers it
 * keeps for reuse. Resetting the peak releases those. */
size_t hs_memory_in_use(const hs_context *ctx);
size_t hs_memory_peak(const hs_context *ctx);
void hs_memory_reset_peak(hs_context *ctx);
/* The end of a job: releases the freed buffers kept for reuse and returns
 * free host memory to the system. */
void hs_memory_trim(hs_context *ctx);

/* ---- Tensors ----------------------------------------------------------------
 * float32, NCHW, contiguous, each in a buffer of its own. A zeroed struct is
 * an empty tensor; hs_tensor_free on it is a no-op. */
typedef struct hs_tensor {
    hs_context *ctx;
    cl_mem buf;
    int n, c, h, w;
} hs_tensor;

hs_status hs_tensor_alloc(hs_context *ctx, hs_tensor *t, int n, int c, int h, int w);
hs_status hs_tensor_alloc_like(hs_tensor *t, const hs_tensor *like);
void hs_tensor_free(hs_tensor *t);
size_t hs_tensor_count(const hs_tensor *t);
hs_status hs_tensor_write(hs_tensor *t, const float *host);
hs_status hs_tensor_read(const hs_tensor *t, float *host);
hs_status hs_tensor_fill(hs_tensor *t, float value);
hs_status hs_tensor_copy(hs_tensor *dst, const hs_tensor *src);

/* ---- Ops --------------------------------------------------------------------
 * Forward/backward pairs in the manner of llm.c: outputs first, then inputs,
 * then parameters. Shapes are (N,C,H,W); every output must be allocated by
 * the caller with the shape the comment gives. Backward ops overwrite their
 * gradient outputs (accumulate with hs_axpy). Ops only enqueue work. */

/* conv2d: out (N,OC,OH,OW) = in (N,IC,H,W) * weight (OC,IC,KH,KW) + bias (1,OC,1,1)
 * with OH = (H + 2*pad_h - KH)/stride + 1, likewise OW. bias may be NULL. */
typedef struct hs_conv_params { int stride, pad_h, pad_w; } hs_conv_params;
int hs_conv_out_size(int in, int k, int stride, int pad);
hs_status hs_conv2d_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *weight,
                            const hs_tensor *bias, hs_conv_params p);
/* Any of din, dweight, dbias may be NULL when not wanted. */
hs_status hs_conv2d_backward(hs_tensor *din, hs_tensor *dweight, hs_tensor *dbias,
                             const hs_tensor *dout, const hs_tensor *in,
                             const hs_tensor *weight, hs_conv_params p);

/* Transposed conv (ncnn Deconvolution, torch ConvTranspose2d): weight
 * (IC, OC, KH, KW) are the weights of the conv from OC to IC channels;
 * out (N, OC, OH, OW), OH = (H - 1)*stride + KH - 2*pad_h, likewise OW:
 * out[o][y*stride + ky - pad_h][x*stride + kx - pad_w] += in[i][y][x] * weight[i][o][ky][kx],
 * plus bias (1,OC,1,1) unless NULL. Backward: any of din, dweight, dbias
 * may be NULL. */
int hs_deconv_out_size(int in, int k, int stride, int pad);
hs_status hs_deconv2d_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *weight,
                              const hs_tensor *bias, hs_conv_params p);
hs_status hs_deconv2d_backward(hs_tensor *din, hs_tensor *dweight, hs_tensor *dbias,
                               const hs_tensor *dout, const hs_tensor *in,
                               const hs_tensor *weight, hs_conv_params p);

/* Activations, elementwise, in-place allowed (out == in). */
hs_status hs_relu_forward(hs_tensor *out, const hs_tensor *in);
hs_status hs_relu_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in);
hs_status hs_leaky_relu_forward(hs_tensor *out, const hs_tensor *in, float slope);
hs_status hs_leaky_relu_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in,
                                 float slope);
/* slope is (1,C,1,1); dslope may be NULL. */
hs_status hs_prelu_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *slope);
hs_status hs_prelu_backward(hs_tensor *din, hs_tensor *dslope, const hs_tensor *dout,
                            const hs_tensor *in, const hs_tensor *slope);

/* out = alpha*a + beta*b (b may be NULL: out = alpha*a). Backward of
 * "multiply by a constant" is hs_scale on the gradient; of add, the identity. */
hs_status hs_axpby(hs_tensor *out, float alpha, const hs_tensor *a, float beta, const hs_tensor *b);
hs_status hs_scale(hs_tensor *out, const hs_tensor *in, float alpha);
hs_status hs_add(hs_tensor *out, const hs_tensor *a, const hs_tensor *b);
hs_status hs_axpy(hs_tensor *y, float alpha, const hs_tensor *x); /* y += alpha*x */
/* out = (tanh(in) + 1) / 2: the SRGAN generator's output activation;
 * backward: din = dout * (1 - tanh(in)^2) / 2. */
hs_status hs_tanh_half(hs_tensor *out, const hs_tensor *in);
hs_status hs_tanh_half_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in);
/* Clamp in place to [lo, hi]. */
hs_status hs_clamp(hs_tensor *t, float lo, float hi);

/* Channel concat: out (N, sum Ci, H, W) from parts; split is its backward. */
hs_status hs_concat(hs_tensor *out, const hs_tensor *const *parts, int count);
hs_status hs_split(hs_tensor *const *parts, int count, const hs_tensor *in);

/* Pooling, k×k window, stride s, zero padding p (padded cells never win a max
 * and count towards the average only with count_pad). OH = (H+2p-k)/s + 1. */
typedef struct hs_pool_params { int k, stride, pad, count_pad; } hs_pool_params;
hs_status hs_maxpool_forward(hs_tensor *out, const hs_tensor *in, hs_pool_params p);
hs_status hs_maxpool_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in,
                              hs_pool_params p);
hs_status hs_avgpool_forward(hs_tensor *out, const hs_tensor *in, hs_pool_params p);
hs_status hs_avgpool_backward(hs_tensor *din, const hs_tensor *dout, hs_pool_params p);

/* Gram: gram (N,1,C,C) = scale * F·Fᵀ with F = in viewed as (C, H*W).
 * Gatys uses scale = 1/(C*H*W). Backward: din = scale * (dG + dGᵀ)·F. */
hs_status hs_gram_forward(hs_tensor *gram, const hs_tensor *in, float scale);
hs_status hs_gram_backward(hs_tensor *din, const hs_tensor *dgram, const hs_tensor *in,
                           float scale);

/* Pixel shuffle ×r: in (N, C*r*r, H, W) -> out (N, C, H*r, W*r).
 * TORCH: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x]   (torch.pixel_shuffle)
 * TF:    out[c][y*r+i][x*r+j] = in[(i*r + j)*C + c][y][x]   (tf.nn.depth_to_space) */
typedef enum hs_shuffle_order { HS_SHUFFLE_TORCH, HS_SHUFFLE_TF } hs_shuffle_order;
hs_status hs_pixel_shuffle(hs_tensor *out, const hs_tensor *in, int r, hs_shuffle_order order);
/* Backward: din (N, C*r*r, H, W) from dout, the inverse permutation. */
hs_status hs_pixel_shuffle_backward(hs_tensor *din, const hs_tensor *dout, int r,
                                    hs_shuffle_order order);
/* Nearest-neighbour upsample ×r: out (N, C, H*r, W*r); backward: din
 * (N, C, H, W), each pixel the sum of its r×r block of dout. */
hs_status hs_upsample_nearest(hs_tensor *out, const hs_tensor *in, int r);
hs_status hs_upsample_nearest_backward(hs_tensor *din, const hs_tensor *dout, int r);
/* Resize in (N, C, H, W) to out's (N, C, OH, OW) as ncnn's Interp layer:
 * scale W/OW (likewise H/OH); NEAREST src = min((int)(o*scale), W-1);
 * BILINEAR and BICUBIC (Keys, a = -0.75) at f = (o + 0.5)*scale - 0.5, taps
 * beyond the edge reading the edge. Forward only. */
typedef enum hs_interp_mode { HS_INTERP_NEAREST, HS_INTERP_BILINEAR, HS_INTERP_BICUBIC } hs_interp_mode;
hs_status hs_interp_forward(hs_tensor *out, const hs_tensor *in, hs_interp_mode mode);

/* Per channel (the sums by cl/reduce.cl, the scaling by cl/conv.cl's
 * bias_act), for squeeze-excite blocks:
 * channel_sum: out (N,C,1,1) = scale * sum of in (N,C,H,W) over the h×w
 * window at (y0, x0); channel_mean: the mean of every plane; its backward:
 * din[n][c][y][x] = dout[n][c] / (H*W).
 * channel_scale: out (N,C,H,W) = in[n][c][y][x] * v[n][c] (v (N,C,1,1);
 * out may be in); backward: din = dout * v, dv[n][c] = sum of dout * in over
 * the plane; either may be NULL. channel_gate: the same by sigmoid(v) (a
 * squeeze-excite block's last step); backward: din = dout * s,
 * dv = sum of dout * in * s * (1 - s), s = sigmoid(v).
 * sigmoid: out = 1 / (1 + exp(-in)); backward: din = dout * s * (1 - s). */
hs_status hs_channel_sum(hs_tensor *out, const hs_tensor *in, int y0, int x0, int h, int w,
                         float scale);
hs_status hs_channel_mean(hs_tensor *out, const hs_tensor *in);
hs_status hs_channel_mean_backward(hs_tensor *din, const hs_tensor *dout);
hs_status hs_channel_scale(hs_tensor *out, const hs_tensor *in, const hs_tensor *v);
hs_status hs_channel_scale_backward(hs_tensor *din, hs_tensor *dv, const hs_tensor *dout,
                                    const hs_tensor *in, const hs_tensor *v);
hs_status hs_channel_gate(hs_tensor *out, const hs_tensor *in, const hs_tensor *v);
hs_status hs_channel_gate_backward(hs_tensor *din, hs_tensor *dv, const hs_tensor *dout,
                                   const hs_tensor *in, const hs_tensor *v);
hs_status hs_sigmoid_forward(hs_tensor *out, const hs_tensor *in);
hs_status hs_sigmoid_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in);

/* A h×w window of every plane: dst[n][c][dy+y][dx+x] = src[n][c][sy+y][sx+x],
 * or += when accumulate. N and C must match; both windows lie inside. */
hs_status hs_copy_region(hs_tensor *dst, int dy, int dx, const hs_tensor *src, int sy, int sx,
                         int h, int w, int accumulate);

/* Reductions into a one-element tensor (1,1,1,1). Deterministic: the same
 * input gives the same bits on every run (fixed summation tree). */
hs_status hs_sum(hs_tensor *result, const hs_tensor *in);
hs_status hs_dot(hs_tensor *result, const hs_tensor *a, const hs_tensor *b);
/* MSE: loss = scale * sum((a-b)^2); backward: da = 2*scale*(a-b). */
hs_status hs_mse_loss(hs_tensor *loss, const hs_tensor *a, const hs_tensor *b, float scale);
hs_status hs_mse_backward(hs_tensor *da, const hs_tensor *a, const hs_tensor *b, float scale);
/* L1: loss = scale * sum(|a-b|); backward: da = scale * sign(a-b) (0 where
 * a == b, as PyTorch). The pixel loss of super-resolution training. */
hs_status hs_l1_loss(hs_tensor *loss, const hs_tensor *a, const hs_tensor *b, float scale);
hs_status hs_l1_backward(hs_tensor *da, const hs_tensor *a, const hs_tensor *b, float scale);
/* Total variation: loss = scale * sum over n,c of sum (x[y][x+1]-x[y][x])^2
 * + (x[y+1][x]-x[y][x])^2; backward gives its exact gradient. */
hs_status hs_tv_loss(hs_tensor *loss, const hs_tensor *x, float scale);
hs_status hs_tv_backward(hs_tensor *dx, const hs_tensor *x, float scale);
/* Read a one-element tensor to the host (waits for the queue). */
hs_status hs_read_scalar(const hs_tensor *t, float *value);
/* sums[index] += value, value (1,1,1,1): reductions gathered on the device,
 * so that several come back in one read (the terms of a loss). */
hs_status hs_add_element(hs_tensor *sums, int index, const hs_tensor *value);

/* Adam, in place: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
 * param -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). t counts from 1. */
typedef struct hs_adam_params { float lr, beta1, beta2, eps; int step; } hs_adam_params;
hs_status hs_adam_step(hs_tensor *param, const hs_tensor *grad, hs_tensor *m, hs_tensor *v,
                       hs_adam_params p);

/* Images. planar[c][y][x] = (pixel[y][x][c'] * scale - mean[c]) / std[c], where
 * c' = c, or 2-c when bgr. to_image inverts it, rounds and clamps to 0..255.
 * `pixels` is interleaved RGB8 (channels = 3) on the host; out is (1,3,H,W). */
typedef struct hs_normalize { float scale, mean[3], std[3]; int bgr; } hs_normalize;
hs_status hs_image_to_tensor(hs_tensor *out, const uint8_t *pixels, int width, int height,
                             const hs_normalize *norm);
hs_status hs_tensor_to_image(uint8_t *pixels, const hs_tensor *in, const hs_normalize *norm);
/* out[y][x] = in[reflect(y - dy)][reflect(x - dx)]: the image moved by (dx, dy),
 * borders filled by reflection (without repeating the edge, like numpy 'reflect'). */
hs_status hs_translate_reflect(hs_tensor *out, const hs_tensor *in, int dx, int dy);

/* Backward of hs_translate_reflect: din[p] = sum of dout[q] over the q whose
 * reflected source is p (its adjoint), so jittered gradients are exact. */
hs_status hs_translate_reflect_backward(hs_tensor *din, const hs_tensor *dout, int dx, int dy);

/* A float image in [0,1] (N,3,H,W, RGB) to a network's input and back:
 * out[c] = (in[c'] * 255 * norm->scale - mean[c]) / std[c], c' as above;
 * backward: din[c'] = dout[c] * 255 * scale / std[c]. */
hs_status hs_normalize_forward(hs_tensor *out, const hs_tensor *in, const hs_normalize *norm);
hs_status hs_normalize_backward(hs_tensor *din, const hs_tensor *dout, const hs_normalize *norm);

/* GEMM on row-major matrices, by hirestyle's kernel (cl/gemm.cl) or CLBlast,
 * whichever `hirestyle tune` found faster on the device (by default: ours on
 * PoCL's CPU device, CLBlast elsewhere), each checked on first use (host/gemm_check.c):
 * C = alpha * op(A) · op(B) + beta * C, op(X) = X or Xᵀ. Offsets in floats. */
typedef struct hs_matrix { cl_mem buf; size_t offset, ld; int trans; } hs_matrix;
hs_status hs_gemm(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                  hs_matrix b, float beta, hs_matrix c);

/* ---- Jobs -------------------------------------------------------------------
 * The commands' work, file to file, for a program that links libhirestyle.
 * Weights are found as the CLI finds them, by path or by name in the
 * weights folders: $HIRESTYLE_WEIGHTS, $XDG_DATA_HOME/hirestyle/weights
 * (~/.local/share by default), PREFIX/share/hirestyle/weights, ./weights. */

/* `hirestyle upscale -i input -o output`: one image (PNG, JPEG, WebP or
 * TIFF, 8 or 16-bit, grey, alpha) enlarged by a super-resolution network
 * and written atomically in the format of the output's extension, with the
 * input's ICC profile and EXIF. */
typedef struct hs_upscale_request {
    const char *input, *output;
    const char *model; /* a weights path, or a name in the weights folders
                        * ("esrgan-slim-x2"); NULL: esrgan-thick-x{scale} */
    int scale;         /* 2, 3, 4 or 8, which the model must have; 0: the
                        * model's (4 without a model) */
    int tile;          /* tile side in input pixels; 0: from device memory */
    int tta;           /* nonzero: the mean of the 8 flips and quarter turns */
    /* Called after each tile (may be NULL); nonzero stops the job with
     * HS_ERR_INTERRUPTED and nothing written. */
    int (*progress)(void *user, int done, int total, int tile);
    void *user;
} hs_upscale_request;
hs_status hs_job_upscale(hs_context *ctx, const hs_upscale_request *request);

/* `hirestyle style` and `hirestyle run`: the content photo painted in the
 * style of the style images (coarse to fine, from 256 px or the size if
 * smaller, each scale twice the last, as the CLI's defaults), written to
 * output; hs_job_run then enlarges the painting before writing it. Unset
 * fields (0, NULL) take the CLI's defaults. Unless quiet, the plan and the
 * progress go to stderr as the CLI prints them. */
typedef struct hs_style_request {
    const char *content, *output;
    const char *const *styles;  /* style image files */
    int style_count;            /* 1 to 8 */
    const float *blend;         /* a weight per style, normalised; NULL: equal */
    const char *weights;        /* the feature network, path or name; NULL: vgg19 when
                                 * found, else resnet50 */
    int image_size;             /* the painting's longer side; 0: 512 */
    int iterations;             /* of the first scale (finer ones a third of the
                                 * scale before, at least 20); 0: 300 */
    int upscale;                /* hs_job_run: 2, 3, 4 or 8; 0: 4 */
    const char *upscale_model;  /* hs_job_run: path or name; NULL: esrgan-thick-x{upscale} */
    int quiet;
} hs_style_request;
hs_status hs_job_style(hs_context *ctx, const hs_style_request *request);
hs_status hs_job_run(hs_context *ctx, const hs_style_request *request);

/* Ask the running job to stop at its next step (an iteration, a tile), which
 * then returns HS_ERR_INTERRUPTED and writes nothing: safe to call from a
 * signal handler (Ctrl-C). The request stays until hs_clear_stop. */
void hs_request_stop(void);
void hs_clear_stop(void);
int hs_stop_requested(void);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif

/* layer_reference.h — every kind of the layer table as a plain C function
 * in double precision, written from the kind's definition (not from its
 * kernels), and a whole layer list run through them: the reference the
 * table-driven layer tests and the network gradient tests compare with.
 */
#ifndef HS_TEST_LAYER_REFERENCE_H
#define HS_TEST_LAYER_REFERENCE_H

#include "layers.h"

typedef struct ref_tensor {
    int n, c, h, w;
    double *data;
} ref_tensor;

size_t ref_count(const ref_tensor *t);
/* A tensor of that shape, zero-filled (malloc'ed; free with ref_free). */
ref_tensor ref_alloc(int n, int c, int h, int w);
void ref_free(ref_tensor *t);

/* A convolution's sizes: input n×ic×h×w, weights oc×ic×kh×kw, padding
 * pad_h rows above and below, pad_w columns left and right. */
typedef struct ref_conv_shape { int n, ic, h, w, oc, kh, kw, stride, pad_h, pad_w; } ref_conv_shape;
/* out (n×oc×OH×OW, OH and OW as hs_conv_out_size) = in convolved with
 * weight, + bias (NULL: none). */
void ref_conv2d(const ref_conv_shape *c, const double *in, const double *weight,
                const double *bias, double *out);

/* out = layer l of in[0 .. l->input_count-1], its weights (shaped as
 * l->weight and l->bias) in weight and bias (NULL when it has none).
 * out is allocated here. */
typedef void (*ref_layer_fn)(const hs_layer *l, const ref_tensor *const *in,
                             const double *weight, const double *bias, ref_tensor *out);
/* in resized to out's height and width as ncnn's Interp layer does
 * (hirestyle.h, hs_interp_forward); out is allocated by the caller. */
void ref_interp(hs_interp_mode mode, const ref_tensor *in, ref_tensor *out);
/* The reference of the table row called `kind`, or NULL. */
ref_layer_fn ref_layer_named(const char *kind);

#endif

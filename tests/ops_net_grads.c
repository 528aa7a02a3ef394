/* ops_net_grads.c — the network-level backward (hs_net_backward_weights) on
 * a small net with one layer of every trainable sort (conv, PReLU, LeakyReLU,
 * add, concat, pixel shuffle, upsample, tanh-half), and residual blocks whose
 * convs compute the Add (and the ReLU) after them, Adds with coefficients 1
 * (whose gradient is handed over, not scaled) and of one input twice: the gradients w.r.t.
 * every weight, bias and the input against finite differences of the same
 * net run through the double-precision references (layer_reference.c), and
 * the accumulation of weight gradients over batches.
 */
#include "harness.h"
#include "layer_reference.h"
#include "net.h"
#include "test_weights.h"

#include <stdlib.h>
#include <string.h>

#define N 2
#define H 5
#define W 4

/* The weights file of the net, in memory: name, shape, random values. */
static const test_tensor tensors[] = {
    {"c1.weight", 4, {4, 3, 3, 3}}, {"c1.bias", 1, {4}},      {"p1", 1, {4}},
    {"c2.weight", 4, {4, 4, 3, 3}}, {"c2.bias", 1, {4}},      {"c3.weight", 4, {8, 7, 1, 1}},
    {"c3.bias", 1, {8}},            {"c4.weight", 4, {3, 2, 3, 2}}, {"c4.bias", 1, {3}},
    {"c5.weight", 4, {4, 4, 1, 1}}, {"c5.bias", 1, {4}},      {"c6.weight", 4, {4, 4, 3, 3}},
    {"c6.bias", 1, {4}},
};
#define TENSOR_COUNT ((int)(sizeof tensors / sizeof tensors[0]))

typedef struct test_net {
    test_weights w;
    hs_net net;
} test_net;

static void build_test_net(test_net *t)
{
    hs_net_builder b = test_net_start(&t->w, &t->net, "test-net", tensors, TENSOR_COUNT, 700);
    int x = hs_build_input(&b, 3);
    int c1 = hs_build_conv(&b, "c1", x, 4, 3, 1, 1);
    int p1 = hs_build_prelu(&b, "p1", c1);
    int c2 = hs_build_conv(&b, "c2", p1, 4, 3, 1, 1);
    int l2 = hs_build_leaky_relu(&b, "l2", c2, 0.2f);
    int sum = hs_build_add(&b, "sum", p1, 0.5f, l2, 1.5f);
    /* a ResNet block's end, relu(0.7 c5(sum) - 1.2 sum), and an SR net's
     * residual, r5 + 1.1 c6(r5), both computed by the convs' stores */
    int s5 = hs_build_add(&b, "s5", hs_build_conv(&b, "c5", sum, 4, 1, 1, 0), 0.7f, sum, -1.2f);
    int r5 = hs_build_relu(&b, "r5", s5);
    int s6 = hs_build_add(&b, "s6", r5, 1.0f, hs_build_conv(&b, "c6", r5, 4, 3, 1, 1), 1.1f);
    /* an Add of one input twice: the gradient it hands over is added to itself */
    int twice = hs_build_add(&b, "twice", s6, 1.0f, s6, 1.0f);
    int cat = hs_build_concat(&b, "cat", (const int[]){twice, x}, 2);
    int c3 = hs_build_conv(&b, "c3", cat, 8, 1, 1, 0);
    int ps = hs_build_pixel_shuffle(&b, "ps", c3, 2, HS_SHUFFLE_TORCH);
    int up = hs_build_upsample(&b, "up", ps, 2);
    /* a 3x2 kernel, padding 1: the output is (4H, 4W + 1) */
    hs_layer c4 = {.kind = HS_LAYER_CONV, .name = "c4", .inputs = {up}, .input_count = 1,
                   .channels = 3, .kernel_h = 3, .kernel_w = 2, .conv = {1, 1, 1}};
    int last = hs_build_tanh_half(&b, "out", hs_build_layer(&b, &c4));
    ck_assert_msg(b.status == HS_OK && last == t->net.count - 1, "building: %s",
                  hs_last_error());
}

/* L = sum(r * net(x)) for n images x, the net run through the references. */
static double reference_loss(test_net *t, const double *x, int n, const double *r)
{
    hs_net *net = &t->net;
    ref_tensor *outs = calloc((size_t)net->count, sizeof *outs);
    ck_assert_ptr_nonnull(outs);
    outs[0] = ref_alloc(n, 3, H, W);
    memcpy(outs[0].data, x, ref_count(&outs[0]) * sizeof *x);
    test_net_reference(&t->w, net, outs);
    const ref_tensor *out = &outs[net->count - 1];
    double loss = 0;
    for (size_t i = 0; i < ref_count(out); i++) loss += r[i] * out->data[i];
    for (int i = 0; i < net->count; i++) ref_free(&outs[i]);
    free(outs);
    return loss;
}

/* dL/dv by central differences, v one of the values the references read. */
static double difference(test_net *t, double *v, const double *x, int n, const double *r)
{
    const double step = 1e-3;
    double keep = *v;
    *v = keep + step;
    double plus = reference_loss(t, x, n, r);
    *v = keep - step;
    double minus = reference_loss(t, x, n, r);
    *v = keep;
    return (plus - minus) / (2 * step);
}

/* The device's forward and backward with the loss gradient r; weight
 * gradients added to wgrads, dL/dx into dx (NULL: not wanted). */
static void device_backward(test_net *t, const float *x, int n, const float *r,
                            hs_weight_grad *wgrads, float *dx)
{
    hs_net *net = &t->net;
    hs_tensor input = upload(x, n, 3, H, W);
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    hs_tensor *grads = calloc((size_t)net->count, sizeof *grads);
    ck_assert(acts && grads);
    HS_CHECK(hs_net_forward(net, &input, net->count - 1, 1, NULL, acts));
    const hs_tensor *out = &acts[net->count - 1];
    grads[net->count - 1] = upload(r, out->n, out->c, out->h, out->w);
    hs_tensor dinput = {0};
    if (dx) dinput = poisoned(n, 3, H, W);
    HS_CHECK(hs_net_backward_weights(net, &input, acts, grads, net->count - 1,
                                     dx ? &dinput : NULL, wgrads));
    if (dx) HS_CHECK(hs_tensor_read(&dinput, dx));
    hs_tensor_free(&dinput);
    hs_net_release(net, acts);
    hs_net_release(net, grads);
    free(acts);
    free(grads);
    hs_tensor_free(&input);
}

#define OUT_COUNT ((size_t)N * 3 * (4 * H) * (4 * W + 1))
#define IN_COUNT ((size_t)N * 3 * H * W)

/* Every weight, bias and input gradient against finite differences. */
START_TEST(net_gradients)
{
    test_setup();
    test_net t;
    build_test_net(&t);
    float *x = host_floats(IN_COUNT), *r = host_floats(OUT_COUNT), *dx = host_floats(IN_COUNT);
    fill_random(x, IN_COUNT, 11, -1, 1);
    fill_random(r, OUT_COUNT, 12, -1, 1);
    double *xd = to_doubles(x, IN_COUNT), *rd = to_doubles(r, OUT_COUNT);
    hs_weight_grad *wgrads;
    HS_CHECK(hs_net_weight_grads_alloc(&t.net, &wgrads));
    device_backward(&t, x, N, r, wgrads, dx);

    int checked = 0;
    for (int i = 1; i < t.net.count; i++) {
        const hs_layer *l = &t.net.layers[i];
        for (int bias = 0; bias < 2; bias++) {
            int ti = test_weights_of(&t.w, l, bias);
            const hs_tensor *g = bias ? &wgrads[i].bias : &wgrads[i].weight;
            ck_assert_msg((ti >= 0) == (g->buf != NULL), "layer '%s': %s gradient %s", l->name,
                          bias ? "bias" : "weight", g->buf ? "unexpected" : "missing");
            if (ti < 0) continue;
            size_t n = t.w.entries[ti].count;
            ck_assert_uint_eq(hs_tensor_count(g), n);
            float *got = download(g);
            double *want = host_doubles(n);
            for (size_t k = 0; k < n; k++) want[k] = difference(&t, &t.w.exact[ti][k], xd, N, rd);
            char what[96];
            snprintf(what, sizeof what, "d(%s) vs finite differences", tensors[ti].name);
            assert_close(what, got, want, n, 1e-4);
            free(got);
            free(want);
            checked++;
        }
    }
    ck_assert_int_eq(checked, TENSOR_COUNT);
    double *want = host_doubles(IN_COUNT);
    for (size_t k = 0; k < IN_COUNT; k++) want[k] = difference(&t, &xd[k], xd, N, rd);
    assert_close("d(input) vs finite differences", dx, want, IN_COUNT, 1e-4);

    free(want);
    free(x); free(r); free(dx); free(xd); free(rd);
    hs_net_weight_grads_free(&t.net, wgrads);
    test_net_free(&t.w, &t.net);
}
END_TEST

/* Two calls, one image each, add up to one call on both images; the
 * input gradient may be left out. */
START_TEST(net_gradients_accumulate)
{
    test_setup();
    test_net t;
    build_test_net(&t);
    size_t image = IN_COUNT / N, out_image = OUT_COUNT / N;
    float *x = host_floats(IN_COUNT), *r = host_floats(OUT_COUNT);
    fill_random(x, IN_COUNT, 21, -1, 1);
    fill_random(r, OUT_COUNT, 22, -1, 1);
    hs_weight_grad *batch, *split;
    HS_CHECK(hs_net_weight_grads_alloc(&t.net, &batch));
    HS_CHECK(hs_net_weight_grads_alloc(&t.net, &split));
    device_backward(&t, x, N, r, batch, NULL);
    for (int b = 0; b < N; b++)
        device_backward(&t, x + b * image, 1, r + b * out_image, split, NULL);
    for (int i = 0; i < t.net.count; i++)
        for (int bias = 0; bias < 2; bias++) {
            const hs_tensor *g = bias ? &batch[i].bias : &batch[i].weight;
            if (!g->buf) continue;
            float *whole = download(g), *parts = download(bias ? &split[i].bias : &split[i].weight);
            size_t n = hs_tensor_count(g);
            double *want = to_doubles(whole, n);
            char what[96];
            snprintf(what, sizeof what, "layer '%s' %s: accumulated over two calls",
                     t.net.layers[i].name, bias ? "bias" : "weight");
            assert_close(what, parts, want, n, 1e-5);
            free(whole); free(parts); free(want);
        }
    free(x); free(r);
    hs_net_weight_grads_free(&t.net, batch);
    hs_net_weight_grads_free(&t.net, split);
    test_net_free(&t.w, &t.net);
}
END_TEST

void add_net_grad_tests(Suite *s)
{
    TCase *tc = tcase_create("net_gradients");
    tcase_add_test(tc, net_gradients);
    tcase_add_test(tc, net_gradients_accumulate);
    suite_add_tcase(s, tc);
}

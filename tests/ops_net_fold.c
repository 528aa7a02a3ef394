/* ops_net_fold.c — the inference rewrite of convs on nearest-upsampled maps
 * (hs_net_fold_upsampling, net_fold.c): on a small net
 *     x -> c0 (3x3) -> Upsample ×r -> c1 (k×k, same padding) [-> activation]
 *       -> c2 (3x3) -> Add(c2, Upsample ×r of x)
 * with odd channel counts and sizes, the rewritten net's inference forward
 * equals the double-precision references of the net as built, for r = 2, 3,
 * 4, k = 1, 3, 5, with a LeakyReLU, a ReLU or no activation after c1. The
 * rewrite must leave the upsample that only the Add reads alone, replace the
 * other by a pixel shuffle and let the folded conv apply the activation.
 */
#include "harness.h"
#include "layer_reference.h"
#include "net_plan.h"
#include "test_weights.h"

#include <stdlib.h>
#include <string.h>

#define H 7
#define W 5

typedef struct fold_case { int r, k; hs_layer_kind act; int images; } fold_case;

static const fold_case cases[] = {
    {2, 3, HS_LAYER_LEAKY_RELU, 1}, {3, 3, HS_LAYER_RELU, 2}, {4, 3, HS_LAYER_INPUT, 1},
    {2, 5, HS_LAYER_INPUT, 1},      {3, 5, HS_LAYER_LEAKY_RELU, 1}, {3, 1, HS_LAYER_RELU, 1},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

/* The net of the comment above; act HS_LAYER_INPUT: none. Returns c1's reader. */
static int build(test_weights *w, hs_net *net, const fold_case *fc)
{
    const test_tensor tensors[] = {
        {"c0.weight", 4, {5, 3, 3, 3}}, {"c0.bias", 1, {5}},
        {"c1.weight", 4, {7, 5, fc->k, fc->k}}, {"c1.bias", 1, {7}},
        {"c2.weight", 4, {3, 7, 3, 3}}, {"c2.bias", 1, {3}},
    };
    hs_net_builder b = test_net_start(w, net, "fold-net", tensors, 6, 700);
    int x = hs_build_input(&b, 3);
    int up = hs_build_upsample(&b, "up", hs_build_conv(&b, "c0", x, 5, 3, 1, 1), fc->r);
    int y = hs_build_conv(&b, "c1", up, 7, fc->k, 1, fc->k / 2);
    if (fc->act == HS_LAYER_RELU) y = hs_build_relu(&b, "c1.relu", y);
    if (fc->act == HS_LAYER_LEAKY_RELU) y = hs_build_leaky_relu(&b, "c1.relu", y, 0.2f);
    int c2 = hs_build_conv(&b, "c2", y, 3, 3, 1, 1);
    hs_build_add(&b, "out", c2, 1.0f, hs_build_upsample(&b, "base", x, fc->r), 1.0f);
    ck_assert_msg(b.status == HS_OK, "building: %s", hs_last_error());
    return y;
}

static int count_kind(const hs_net *net, hs_layer_kind kind)
{
    int n = 0;
    for (int i = 0; i < net->count; i++) n += net->layers[i].kind == kind;
    return n;
}

START_TEST(folded_forward)
{
    test_setup();
    const fold_case *fc = &cases[_i];
    test_weights w;
    hs_net net;
    int y = build(&w, &net, fc);
    int n = fc->images, last = net.count - 1;
    size_t count = (size_t)n * 3 * H * W;
    float *x = host_floats(count);
    fill_random(x, count, 41 + _i, -1, 1);
    ref_tensor *want = calloc((size_t)net.count, sizeof *want);
    ck_assert_ptr_nonnull(want);
    want[0] = ref_alloc(n, 3, H, W);
    for (size_t i = 0; i < count; i++) want[0].data[i] = x[i];
    test_net_reference(&w, &net, want); /* of the net as built */

    HS_CHECK(hs_net_fold_upsampling(&net));
    ck_assert_int_eq(count_kind(&net, HS_LAYER_UPSAMPLE), 1); /* "base", read by the Add */
    ck_assert_int_eq(count_kind(&net, HS_LAYER_PIXEL_SHUFFLE), 1);
    ck_assert_int_eq(net.layers[y].kind, HS_LAYER_PIXEL_SHUFFLE);
    hs_store_plan plan;
    HS_CHECK(hs_store_plan_make(&net, last, 0, n, NULL, &plan));
    if (fc->act != HS_LAYER_INPUT) ck_assert_int_ge(plan.by_conv[net.layers[y].inputs[0]], 0);
    hs_store_plan_free(&plan);

    hs_tensor input = upload(x, n, 3, H, W);
    hs_tensor *acts = calloc((size_t)net.count, sizeof *acts);
    ck_assert_ptr_nonnull(acts);
    HS_CHECK(hs_net_forward(&net, &input, last, 0, NULL, acts));
    float *got = download(&acts[last]);
    char what[96];
    snprintf(what, sizeof what, "folded x%d, %dx%d conv, %d image(s)", fc->r, fc->k, fc->k, n);
    assert_close(what, got, want[last].data, ref_count(&want[last]), 1e-5);
    free(got);
    hs_net_release(&net, acts);
    hs_tensor_free(&input);
    for (int i = 0; i < net.count; i++) ref_free(&want[i]);
    free(want);
    free(acts);
    free(x);
    test_net_free(&w, &net);
}
END_TEST

void add_net_fold_tests(Suite *s)
{
    TCase *tc = tcase_create("net_fold");
    tcase_add_loop_test(tc, folded_forward, 0, CASE_COUNT);
    suite_add_tcase(s, tc);
}

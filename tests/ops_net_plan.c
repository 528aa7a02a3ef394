/* ops_net_plan.c — the inference forward's store plan (net_plan.h): on a
 * small dense block (convs with ReLU, LeakyReLU and no activation, concats
 * growing one from the next, an input read twice and copied, a concat read
 * by a conv and a concat), the plan places what it should, and the forward
 * without keep (activations fused, concats filled in place) equals the
 * double-precision references (layer_reference.c) at odd sizes, for one image
 * and two, with an intermediate output wanted (kept out of the plan) and
 * without, and by Winograd's convs. These keep their transforms along the
 * chains of concats (hs_conv_reuse): on two dense blocks of the same shapes,
 * whose buffers the second block and a second forward recycle, the output
 * is the references' and, bit for bit, the forward's that keeps nothing.
 * On residual blocks (ResNet's, an SR net's): the Adds computed by the
 * convs they may be (the other input computed first), with the activations
 * after them unless kept or, with keep, of negative slope; the forward with
 * and without keep equals the references. Deconvs are convs to the plan:
 * with their LeakyReLU, an Add, and written into a concat's channels.
 */
#include "engine.h"
#include "harness.h"
#include "layer_reference.h"
#include "net_plan.h"
#include "test_weights.h"

#include <stdlib.h>
#include <string.h>

#define H 7
#define W 5

static const test_tensor tensors[] = {
    {"c0.weight", 4, {4, 3, 3, 3}}, {"c0.bias", 1, {4}}, {"c1.weight", 4, {2, 4, 3, 3}},
    {"c1.bias", 1, {2}},            {"c2.weight", 4, {3, 6, 3, 3}}, {"c2.bias", 1, {3}},
    {"c3.weight", 4, {5, 9, 1, 1}}, {"c3.bias", 1, {5}}, {"c4.weight", 4, {3, 18, 3, 3}},
    {"c4.bias", 1, {3}},
};
#define TENSOR_COUNT ((int)(sizeof tensors / sizeof tensors[0]))

typedef struct test_net {
    test_weights w;
    hs_net net;
    int r0, a1, cat1, a2, cat2, c3, cat3;
} test_net;

/* x -> c0 -> r0 (ReLU); a1 = ReLU(c1(r0)), cat1 = [r0, a1];
 * a2 = LeakyReLU(c2(cat1)), cat2 = [cat1, a2]; c3 = c3(cat2) (1x1, no
 * activation); cat3 = [cat2, c3, r0]; out = c4(cat3). */
static void build_dense(test_net *t)
{
    hs_net_builder b = test_net_start(&t->w, &t->net, "dense-net", tensors, TENSOR_COUNT, 900);
    int x = hs_build_input(&b, 3);
    t->r0 = hs_build_relu(&b, "r0", hs_build_conv(&b, "c0", x, 4, 3, 1, 1));
    t->a1 = hs_build_relu(&b, "a1", hs_build_conv(&b, "c1", t->r0, 2, 3, 1, 1));
    t->cat1 = hs_build_concat(&b, "cat1", (const int[]){t->r0, t->a1}, 2);
    t->a2 = hs_build_leaky_relu(&b, "a2", hs_build_conv(&b, "c2", t->cat1, 3, 3, 1, 1), 0.2f);
    t->cat2 = hs_build_concat(&b, "cat2", (const int[]){t->cat1, t->a2}, 2);
    t->c3 = hs_build_conv(&b, "c3", t->cat2, 5, 1, 1, 0);
    t->cat3 = hs_build_concat(&b, "cat3", (const int[]){t->cat2, t->c3, t->r0}, 3);
    int last = hs_build_conv(&b, "c4", t->cat3, 3, 3, 1, 1);
    ck_assert_msg(b.status == HS_OK && last == t->net.count - 1, "building: %s",
                  hs_last_error());
}

/* For one image and no wanted output: the activations fused, every concat
 * part in place, the concats in the last one's buffer; the input read twice
 * is copied. For two images the concats cannot be views of one another. */
START_TEST(plan_places)
{
    test_setup();
    test_net t;
    build_dense(&t);
    const hs_net *net = &t.net;
    int last = net->count - 1;
    hs_store_plan p;
    HS_CHECK(hs_store_plan_make(net, last, 0, 1, NULL, &p));
    ck_assert_int_eq(p.act[net->layers[t.a1].inputs[0]], t.a1);
    ck_assert_int_eq(p.by_conv[t.a2], net->layers[t.a2].inputs[0]);
    ck_assert_int_eq(p.act[net->layers[t.r0].inputs[0]], t.r0);
    int want_home[][3] = {{t.a1, t.cat3, 4}, {t.cat1, t.cat3, 0}, {t.a2, t.cat3, 6},
                          {t.cat2, t.cat3, 0}, {t.c3, t.cat3, 9}, {t.r0, -1, 0}, {t.cat3, -1, 0}};
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(p.home[want_home[i][0]] == want_home[i][1], "layer '%s' home %d, not %d",
                      net->layers[want_home[i][0]].name, p.home[want_home[i][0]], want_home[i][1]);
        ck_assert_int_eq(p.channel0[want_home[i][0]], want_home[i][2]);
    }
    hs_store_plan_free(&p);

    HS_CHECK(hs_store_plan_make(net, last, 0, 2, NULL, &p));
    ck_assert_int_eq(p.home[t.cat1], -1);
    ck_assert_int_eq(p.home[t.a1], t.cat1);
    ck_assert_int_eq(p.home[t.c3], t.cat3);
    hs_store_plan_free(&p);

    /* keep: the activations are fused as without (their slopes are 0 and
     * 0.2), every output has a buffer of its own */
    hs_store_plan inference;
    HS_CHECK(hs_store_plan_make(net, last, 0, 1, NULL, &inference));
    HS_CHECK(hs_store_plan_make(net, last, 1, 1, NULL, &p));
    for (int i = 0; i < net->count; i++) {
        ck_assert_int_eq(p.act[i], inference.act[i]);
        ck_assert_int_eq(p.by_conv[i], inference.by_conv[i]);
        ck_assert(p.home[i] < 0);
    }
    ck_assert_int_eq(p.by_conv[t.a2], t.a2 - 1);
    hs_store_plan_free(&p);
    hs_store_plan_free(&inference);
    test_net_free(&t.w, &t.net);
}
END_TEST

static void teardown(void)
{
    if (test_ctx) test_ctx->conv_force = -1;
}

/* The Winograd algorithm of loop index i, forced until the teardown. */
static int force_winograd(int i)
{
    test_ctx->conv_force = i % 2 ? HS_CONV_WINOGRAD4 : HS_CONV_WINOGRAD2;
    return hs_conv_algorithm_tile(test_ctx->conv_force);
}

/* A forward's n random input images (3 x H x W), as floats and doubles,
 * the references of every layer's output (w's exact values) and the
 * forward's outputs. */
typedef struct forward_run {
    float *x;
    double *xd;
    ref_tensor *want;
    hs_tensor *acts, input;
} forward_run;

static void run_start(forward_run *r, const test_weights *w, const hs_net *net, int n,
                      unsigned seed)
{
    size_t count = (size_t)n * 3 * H * W;
    r->x = host_floats(count);
    fill_random(r->x, count, seed, -1, 1);
    r->xd = to_doubles(r->x, count);
    r->want = calloc((size_t)net->count, sizeof *r->want);
    r->acts = calloc((size_t)net->count, sizeof *r->acts);
    ck_assert(r->want && r->acts);
    r->input = upload(r->x, n, 3, H, W);
    r->want[0] = ref_alloc(n, 3, H, W);
    memcpy(r->want[0].data, r->xd, count * sizeof *r->xd);
    test_net_reference(w, net, r->want);
}

/* Every layer's output is there exactly where stored[] says, and is its
 * reference there. */
static void run_check(const forward_run *r, const hs_net *net, int last,
                      const unsigned char *stored, const char *label)
{
    for (int i = 1; i <= last; i++) {
        ck_assert_msg(!r->acts[i].buf == !stored[i], "%s: layer '%s' output %s", label,
                      net->layers[i].name, r->acts[i].buf ? "stored" : "missing");
        if (!r->acts[i].buf) continue;
        float *got = download(&r->acts[i]);
        char what[128];
        snprintf(what, sizeof what, "%s, layer '%s'", label, net->layers[i].name);
        assert_close(what, got, r->want[i].data, ref_count(&r->want[i]), 1e-5);
        free(got);
    }
}

static void run_free(forward_run *r, hs_net *net)
{
    hs_net_release(net, r->acts);
    hs_tensor_free(&r->input);
    for (int i = 0; i < net->count; i++) ref_free(&r->want[i]);
    free(r->want); free(r->acts); free(r->x); free(r->xd);
}

/* _i: 0 one image, 1 two, 2 one image with a1 and cat2 wanted; 3 and 4 one
 * image by Winograd F(2x2) and F(4x4). */
START_TEST(planned_forward)
{
    test_setup();
    if (_i >= 3) force_winograd(_i);
    test_net t;
    build_dense(&t);
    hs_net *net = &t.net;
    int n = _i == 1 ? 2 : 1, last = net->count - 1;
    unsigned char *wanted = calloc((size_t)net->count, 1), *stored = calloc((size_t)net->count, 1);
    ck_assert(wanted && stored);
    if (_i == 2) wanted[t.a1] = wanted[t.cat2] = 1;
    forward_run r;
    run_start(&r, &t.w, net, n, 31 + _i);
    HS_CHECK(hs_net_forward(net, &r.input, last, 0, _i == 2 ? wanted : NULL, r.acts));
    for (int i = 1; i <= last; i++) stored[i] = i == last || wanted[i];
    char label[64];
    snprintf(label, sizeof label, "planned forward, %d image(s)", n);
    run_check(&r, net, last, stored, label);
    run_free(&r, net);
    free(wanted); free(stored);
    test_net_free(&t.w, &t.net);
}
END_TEST

static const test_tensor block_tensors[] = {
    {"c0.weight", 4, {4, 3, 3, 3}}, {"c0.bias", 1, {4}}, {"c1.weight", 4, {2, 4, 3, 3}},
    {"c1.bias", 1, {2}},            {"c2.weight", 4, {3, 6, 3, 3}}, {"c2.bias", 1, {3}},
    {"c3.weight", 4, {4, 9, 1, 1}}, {"c3.bias", 1, {4}}, {"c4.weight", 4, {2, 4, 1, 1}},
    {"c4.bias", 1, {2}},            {"c5.weight", 4, {3, 6, 3, 3}}, {"c5.bias", 1, {3}},
    {"c6.weight", 4, {3, 9, 1, 1}}, {"c6.bias", 1, {3}},
};

/* cat2 = [[h, ReLU(ca(h))], LeakyReLU(cb(cat1))], as net_sr.c's dense
 * layers, ca k×k; its index. */
static int dense_block(hs_net_builder *b, int h, const char *ca, int k, const char *cb)
{
    int a = hs_build_relu(b, ca, hs_build_conv(b, ca, h, 2, k, 1, k / 2));
    int cat1 = hs_build_concat(b, ca, (const int[]){h, a}, 2);
    int c = hs_build_leaky_relu(b, cb, hs_build_conv(b, cb, cat1, 3, 3, 1, 1), 0.2f);
    return hs_build_concat(b, cb, (const int[]){cat1, c}, 2);
}

/* x -> c0 -> r0 (ReLU); h = r0 + c3(block(r0)); out = c6(block(h)), c3 and
 * c6 1×1 (as rdn's LFF): two blocks of the same shapes, the second's first
 * conv 1×1. The transforms of block 1's first concat are then the last ones
 * kept when block 2's first concat, of as many channels, is read: kept for
 * it, they would be wrong. */
static void build_blocks(test_weights *w, hs_net *net, int *chain)
{
    hs_net_builder b = test_net_start(w, net, "dense-blocks", block_tensors,
                                      (int)(sizeof block_tensors / sizeof block_tensors[0]), 950);
    int x = hs_build_input(&b, 3);
    int r0 = hs_build_relu(&b, "r0", hs_build_conv(&b, "c0", x, 4, 3, 1, 1));
    int cat = dense_block(&b, r0, "c1", 3, "c2");
    int h = hs_build_add(&b, "h", r0, 1.0f, hs_build_conv(&b, "c3", cat, 4, 1, 1, 0), 1.0f);
    chain[0] = r0;
    chain[1] = cat;
    chain[2] = h;
    chain[3] = dense_block(&b, h, "c4", 1, "c5");
    hs_build_conv(&b, "c6", chain[3], 3, 1, 1, 0);
    ck_assert_msg(b.status == HS_OK, "building: %s", hs_last_error());
}

/* _i: Winograd F(2x2), F(4x4). Two images one after the other in one context. */
START_TEST(chained_transforms)
{
    test_setup();
    int m = force_winograd(_i);
    test_weights w;
    hs_net net;
    int chain[4];
    build_blocks(&w, &net, chain);
    int last = net.count - 1;
    hs_tensor *shapes = calloc((size_t)net.count, sizeof *shapes);
    ck_assert_ptr_nonnull(shapes);
    HS_CHECK(hs_net_shapes(&net, H, W, shapes));
    hs_store_plan p;
    HS_CHECK(hs_store_plan_make(&net, last, 0, 1, NULL, &p));
    hs_store_plan_chains(&net, shapes, last, &p);
    /* each block's input and its two concats (the first 3 layers before the
     * second): to the largest a 3×3 conv reads, 6 channels */
    int in_chains[] = {chain[0], chain[1] - 3, chain[1], chain[2], chain[3] - 3, chain[3]};
    int expected[] = {6, 6, 0, 6, 6, 0};
    for (int k = 0; k < 6; k++)
        ck_assert_msg(p.chain[in_chains[k]] == expected[k], "layer '%s' chain %d, not %d",
                      net.layers[in_chains[k]].name, p.chain[in_chains[k]], expected[k]);
    hs_store_plan_free(&p);
    free(shapes);

    for (int image = 0; image < 2; image++) {
        forward_run r;
        run_start(&r, &w, &net, 1, 61 + image);
        hs_tensor *kept = calloc((size_t)net.count, sizeof *kept);
        ck_assert_ptr_nonnull(kept);
        HS_CHECK(hs_net_forward(&net, &r.input, last, 0, NULL, r.acts));
        HS_CHECK(hs_net_forward(&net, &r.input, last, 1, NULL, kept));
        float *got = download(&r.acts[last]), *plain = download(&kept[last]);
        char what[96];
        snprintf(what, sizeof what, "two dense blocks by F(%dx%d,3x3), image %d", m, m, image);
        assert_close(what, got, r.want[last].data, ref_count(&r.want[last]), 1e-5);
        ck_assert_msg(memcmp(got, plain, ref_count(&r.want[last]) * sizeof *got) == 0,
                      "%s: not bit for bit the forward that keeps every output", what);
        hs_net_release(&net, kept);
        run_free(&r, &net);
        free(kept); free(got); free(plain);
    }
    test_net_free(&w, &net);
}
END_TEST

static const test_tensor res_tensors[] = {
    {"d0.weight", 4, {4, 3, 3, 3}}, {"d0.bias", 1, {4}}, {"d1.weight", 4, {4, 4, 1, 1}},
    {"d1.bias", 1, {4}},            {"d2.weight", 4, {4, 4, 3, 3}}, {"d2.bias", 1, {4}},
    {"d3.weight", 4, {4, 4, 1, 1}}, {"d3.bias", 1, {4}}, {"d4.weight", 4, {4, 4, 3, 3}},
    {"d4.bias", 1, {4}},            {"d5.weight", 4, {4, 4, 1, 1}}, {"d5.bias", 1, {4}},
    {"d6.weight", 4, {3, 4, 3, 3}}, {"d6.bias", 1, {3}},
};
#define RES_TENSOR_COUNT ((int)(sizeof res_tensors / sizeof res_tensors[0]))

typedef struct res_net {
    test_weights w;
    hs_net net;
    int d0, d1, d2, d3, sum1, relu1, d4, sum2, d5, sum3, leaky3;
} res_net;

/* x -> d0 -> ReLU = r0; ResNet's block a: d2(ReLU(d1(r0))) + d3(r0), d3
 * (the shortcut) built after d2, then ReLU; an SR residual r1 + 0.2 d4(r1),
 * no activation; d5(s2) * 0.7 + s2 * 0.3, then LeakyReLU of slope -0.1;
 * out = d6(that). */
static void build_residual(res_net *t)
{
    hs_net_builder b = test_net_start(&t->w, &t->net, "res-net", res_tensors, RES_TENSOR_COUNT,
                                      950);
    int x = hs_build_input(&b, 3);
    t->d0 = hs_build_conv(&b, "d0", x, 4, 3, 1, 1);
    int r0 = hs_build_relu(&b, "r0", t->d0);
    t->d1 = hs_build_conv(&b, "d1", r0, 4, 1, 1, 0);
    int a1 = hs_build_relu(&b, "a1", t->d1);
    t->d2 = hs_build_conv(&b, "d2", a1, 4, 3, 1, 1);
    t->d3 = hs_build_conv(&b, "d3", r0, 4, 1, 1, 0);
    t->sum1 = hs_build_add(&b, "sum1", t->d2, 0.5f, t->d3, 1.5f);
    t->relu1 = hs_build_relu(&b, "relu1", t->sum1);
    t->d4 = hs_build_conv(&b, "d4", t->relu1, 4, 3, 1, 1);
    t->sum2 = hs_build_add(&b, "sum2", t->relu1, 1.0f, t->d4, 0.2f);
    t->d5 = hs_build_conv(&b, "d5", t->sum2, 4, 1, 1, 0);
    t->sum3 = hs_build_add(&b, "sum3", t->d5, 0.7f, t->sum2, 0.3f);
    t->leaky3 = hs_build_leaky_relu(&b, "leaky3", t->sum3, -0.1f);
    int last = hs_build_conv(&b, "d6", t->leaky3, 3, 3, 1, 1);
    ck_assert_msg(b.status == HS_OK && last == t->net.count - 1, "building: %s",
                  hs_last_error());
}

START_TEST(residual_plan)
{
    test_setup();
    res_net t;
    build_residual(&t);
    const hs_net *net = &t.net;
    int last = net->count - 1;
    for (int keep = 0; keep < 2; keep++) {
        hs_store_plan p;
        HS_CHECK(hs_store_plan_make(net, last, keep, 1, NULL, &p));
        ck_assert_int_eq(p.add[t.d2], -1); /* its Add's other input, d3, comes after it */
        ck_assert_int_eq(p.add[t.d3], t.sum1);
        ck_assert_int_eq(p.act[t.d3], t.relu1);
        ck_assert_int_eq(p.by_conv[t.sum1], t.d3);
        ck_assert_int_eq(p.by_conv[t.relu1], t.d3);
        ck_assert_int_eq(hs_store_plan_target(&p, t.d3), t.relu1);
        ck_assert_int_eq(p.add[t.d4], t.sum2);
        ck_assert_int_eq(p.act[t.d4], -1);
        ck_assert_int_eq(hs_store_plan_target(&p, t.d4), t.sum2);
        ck_assert_int_eq(p.add[t.d5], t.sum3);
        ck_assert_int_eq(p.act[t.d5], keep ? -1 : t.leaky3); /* slope < 0 */
        hs_store_plan_free(&p);
    }
    /* kept outputs stay out: the Add wanted, and a conv */
    unsigned char *wanted = calloc((size_t)net->count, 1);
    ck_assert_ptr_nonnull(wanted);
    wanted[t.sum1] = wanted[t.d4] = 1;
    hs_store_plan p;
    HS_CHECK(hs_store_plan_make(net, last, 1, 1, wanted, &p));
    ck_assert_int_eq(p.add[t.d3], t.sum1);
    ck_assert_int_eq(p.act[t.d3], -1);
    ck_assert_int_eq(p.add[t.d4], -1);
    hs_store_plan_free(&p);
    free(wanted);
    test_net_free(&t.w, &t.net);
}
END_TEST

/* _i: 0 without keep, 1 with keep (every output not fused keeps its own
 * buffer), 2 with keep and sum1 and d4 wanted, two images. */
START_TEST(residual_forward)
{
    test_setup();
    res_net t;
    build_residual(&t);
    hs_net *net = &t.net;
    int n = _i == 2 ? 2 : 1, keep = _i > 0, last = net->count - 1;
    unsigned char *wanted = calloc((size_t)net->count, 1), *stored = calloc((size_t)net->count, 1);
    ck_assert(wanted && stored);
    if (_i == 2) wanted[t.sum1] = wanted[t.d4] = 1;
    forward_run r;
    run_start(&r, &t.w, net, n, 41 + _i);
    HS_CHECK(hs_net_forward(net, &r.input, last, keep, wanted, r.acts));
    for (int i = 1; i <= last; i++) {
        /* with keep, all but what the convs' stores compute past (sum3 has its
         * own: its LeakyReLU is not fused, slope < 0) */
        int passed = i == t.d0 || i == t.d1 || i == t.d3 || i == t.sum1 || i == t.d4 ||
                     i == t.d5;
        stored[i] = i == last || wanted[i] || (keep && !passed);
    }
    char label[64];
    snprintf(label, sizeof label, "residual forward, keep %d, %d image(s)", keep, n);
    run_check(&r, net, last, stored, label);
    run_free(&r, net);
    free(wanted); free(stored);
    test_net_free(&t.w, &t.net);
}
END_TEST

static const test_tensor up_tensors[] = {
    {"u0.weight", 4, {3, 4, 2, 2}}, {"u0.bias", 1, {4}}, {"u1.weight", 4, {3, 3, 4, 4}},
    {"u1.bias", 1, {3}},            {"e.weight", 4, {3, 7, 3, 3}}, {"e.bias", 1, {3}},
};
#define UP_TENSOR_COUNT ((int)(sizeof up_tensors / sizeof up_tensors[0]))

typedef struct up_net {
    test_weights w;
    hs_net net;
    int up, u0, a0, u1, sum, cat;
} up_net;

static int build_deconv(hs_net_builder *b, const char *name, int input, int oc, int k, int stride,
                        int pad)
{
    hs_layer l = {.kind = HS_LAYER_DECONV, .input_count = 1, .inputs = {input}, .channels = oc,
                  .alpha = 1.0f, .beta = 1.0f, .kernel_h = k, .kernel_w = k,
                  .conv = {stride, pad, pad}};
    snprintf(l.name, sizeof l.name, "%s", name);
    snprintf(l.tensor, sizeof l.tensor, "%s", name);
    return hs_build_layer(b, &l);
}

/* x -> up = Upsample x2; a0 = LeakyReLU(u0(x)), u0 2x2 stride 2;
 * sum = u1(x) + 0.5 up, u1 4x4 stride 2 pad 1 (both 2H x 2W);
 * cat = [a0, sum]; out = e(cat). */
static void build_up(up_net *t)
{
    hs_net_builder b = test_net_start(&t->w, &t->net, "up-net", up_tensors, UP_TENSOR_COUNT, 970);
    int x = hs_build_input(&b, 3);
    t->up = hs_build_upsample(&b, "up", x, 2);
    t->u0 = build_deconv(&b, "u0", x, 4, 2, 2, 0);
    t->a0 = hs_build_leaky_relu(&b, "a0", t->u0, 0.1f);
    t->u1 = build_deconv(&b, "u1", x, 3, 4, 2, 1);
    t->sum = hs_build_add(&b, "sum", t->u1, 1.0f, t->up, 0.5f);
    t->cat = hs_build_concat(&b, "cat", (const int[]){t->a0, t->sum}, 2);
    int last = hs_build_conv(&b, "e", t->cat, 3, 3, 1, 1);
    ck_assert_msg(b.status == HS_OK && last == t->net.count - 1, "building: %s",
                  hs_last_error());
}

/* _i: 0 without keep, one image (the deconvs write into the concat's
 * channels), 1 two images, 2 with keep, two images (whole outputs). */
START_TEST(deconv_forward_fused)
{
    test_setup();
    up_net t;
    build_up(&t);
    hs_net *net = &t.net;
    int n = _i == 0 ? 1 : 2, keep = _i == 2, last = net->count - 1;
    hs_store_plan p;
    HS_CHECK(hs_store_plan_make(net, last, keep, n, NULL, &p));
    ck_assert_int_eq(p.act[t.u0], t.a0);
    ck_assert_int_eq(p.add[t.u1], t.sum);
    ck_assert_int_eq(p.home[t.a0], keep ? -1 : t.cat);
    ck_assert_int_eq(p.home[t.sum], keep ? -1 : t.cat);
    ck_assert_int_eq(p.channel0[t.sum], keep ? 0 : 4);
    hs_store_plan_free(&p);

    unsigned char *stored = calloc((size_t)net->count, 1);
    ck_assert_ptr_nonnull(stored);
    forward_run r;
    run_start(&r, &t.w, net, n, 61 + _i);
    HS_CHECK(hs_net_forward(net, &r.input, last, keep, NULL, r.acts));
    for (int i = 1; i <= last; i++)
        stored[i] = i == last || (keep && i != t.u0 && i != t.u1);
    char label[64];
    snprintf(label, sizeof label, "deconv forward, keep %d, %d image(s)", keep, n);
    run_check(&r, net, last, stored, label);
    run_free(&r, net);
    free(stored);
    test_net_free(&t.w, &t.net);
}
END_TEST

void add_net_plan_tests(Suite *s)
{
    TCase *tc = tcase_create("net_plan");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, plan_places);
    tcase_add_loop_test(tc, planned_forward, 0, 5);
    tcase_add_loop_test(tc, chained_transforms, 0, 2);
    tcase_add_test(tc, residual_plan);
    tcase_add_loop_test(tc, residual_forward, 0, 3);
    tcase_add_loop_test(tc, deconv_forward_fused, 0, 3);
    suite_add_tcase(s, tc);
}

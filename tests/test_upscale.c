/* test_upscale.c — the 'nets' suite for super-resolution: the generators of
 * net_sr.c, rewritten for inference as the upscale command runs them
 * (hs_net_fold_upsampling), and the tiled upscaler of upscale.c against the
 * references, on small images so that the whole suite stays short:
 *   - esrgan-thick-x4, esrgan-slim-x4 and esrgan-medium-x2 against the
 *     original TF.js models (tools/reference/tfjs_upscale.js in node) and
 *     against tools/reference/nets.py (PyTorch) on the same weights;
 *   - srresnet and rrdbnet on random checkpoints (tools/make_test_checkpoints.py
 *     with few blocks, converted by tools/convert_torch_sr.py) against nets.py;
 *   - a tiny random rrdn (x3, TF depth_to_space) written here, against nets.py;
 *   - the weight and input gradients of srresnet, rrdbnet and the tiny rrdn
 *     (hs_net_backward_weights) against PyTorch autograd (net_grads.py);
 *   - tiled == untiled on a 37×29 image with 12-pixel tiles, and the same
 *     tiles shared by three contexts (peers) == one context's, bit for bit;
 *   - grey and alpha images, the receptive-field margins;
 *   - bad weights files refused with HS_ERR_WEIGHTS and the file's name;
 *   - the `hirestyle upscale` command end to end: output, exit codes,
 *     nothing left behind when the output cannot be written, and Ctrl-C
 *     between tiles (on a pseudo-terminal, signalled at the first tile).
 * The inputs and the reference outputs go to a temporary directory, removed
 * at the end. Differences are measured in units of white (output_range).
 *
 * Environment (set by tests/meson.build): HIRESTYLE_SOURCE_ROOT (tools/ and
 * weights/npm/), HIRESTYLE_BINARY (the CLI); optional HIRESTYLE_TEST_DEVICE,
 * PYTHON (default /usr/bin/python3, which has python3-torch). Needs
 * tools/fetch_weights.sh and `npm ci --prefix tools` to have run.
 */
#include "harness.h"
#include "reference.h"
#include "image_io.h"
#include "net.h"
#include "upscale.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH_SIZE 1024
#define COMMAND_SIZE 4096

/* Tolerances, in units of white: float32 against float32 over up to 150 layers. */
#define REFERENCE_TOLERANCE 2e-4
#define TILING_TOLERANCE 1e-4

static char temp_dir[PATH_SIZE];

/* ---- Paths and commands ------------------------------------------------------ */

static const char *python(void)
{
    const char *chosen = getenv("PYTHON");
    if (chosen && *chosen) return chosen;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void temp_path(char path[PATH_SIZE], const char *name)
{
    ck_assert_int_lt(snprintf(path, PATH_SIZE, "%s/%s", temp_dir, name), PATH_SIZE);
}

static void print_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    char line[512];
    while (fgets(line, sizeof line, fp)) fputs(line, stderr);
    fclose(fp);
}

/* Run a shell command with its output in temp_dir/<log>; its exit code. */
static int run_logged(const char *log, const char *command)
{
    char log_path[PATH_SIZE], full[COMMAND_SIZE + PATH_SIZE];
    temp_path(log_path, log);
    ck_assert_int_lt(snprintf(full, sizeof full, "%s >'%s' 2>&1", command, log_path),
                     (int)sizeof full);
    int status = system(full);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run a shell command that must succeed; on failure its output is shown. */
static void run(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *format, ...)
{
    char command[COMMAND_SIZE], log_path[PATH_SIZE];
    va_list args;
    va_start(args, format);
    ck_assert_int_lt(vsnprintf(command, sizeof command, format, args), COMMAND_SIZE);
    va_end(args);
    int code = run_logged("command.log", command);
    if (code != 0) {
        temp_path(log_path, "command.log");
        print_file(log_path);
        ck_abort_msg("'%s' exited with %d (its output is above)", command, code);
    }
}

static void require_file(const char *path, const char *how_to_make_it)
{
    ck_assert_msg(access(path, R_OK) == 0, "%s is missing: %s", path, how_to_make_it);
}

/* ---- Files of floats and images ------------------------------------------------ */

/* Random pixels, reproducible from seed. */
static hs_image random_image(int width, int height, int channels, unsigned seed)
{
    size_t n = (size_t)width * height * channels;
    hs_image img = {.width = width, .height = height, .channels = channels, .pixels = malloc(n)};
    float *noise = host_floats(n);
    ck_assert_ptr_nonnull(img.pixels);
    fill_random(noise, n, seed, 0.0f, 256.0f);
    for (size_t i = 0; i < n; i++) img.pixels[i] = (uint8_t)noise[i];
    free(noise);
    return img;
}

/* The net ready for inference, as the upscale command loads it. */
static hs_net load_net(const char *path)
{
    hs_net net;
    HS_CHECK(hs_net_load(test_ctx, path, &net));
    HS_CHECK(hs_net_fold_upsampling(&net));
    return net;
}

static void find_weights(const char *name, char path[PATH_SIZE])
{
    HS_CHECK(hs_find_weights(name, path, PATH_SIZE));
}

/* The net's untiled (tile 0: one piece for these sizes) or tiled float output. */
static float *upscale_floats(hs_net *net, const hs_image *rgb, int tile)
{
    size_t n = 3 * (size_t)rgb->width * rgb->height * net->scale * net->scale;
    float *out = host_floats(n);
    hs_upscale_options opts = {.tile = tile};
    HS_CHECK(hs_upscale_floats(net, rgb, &opts, out));
    return out;
}

/* ---- References ---------------------------------------------------------------- */

/* The net's input for rgb as the reference tools take it: HWC floats,
 * normalised as hs_image_to_tensor does. */
static void write_reference_input(const hs_net *net, const hs_image *rgb, const char *path)
{
    size_t pixels = (size_t)rgb->width * rgb->height;
    float *x = host_floats(3 * pixels);
    const hs_normalize *norm = &net->norm;
    for (size_t i = 0; i < pixels; i++)
        for (int c = 0; c < 3; c++) {
            float v = rgb->pixels[i * 3 + (norm->bgr ? 2 - c : c)];
            x[i * 3 + c] = (v * norm->scale - norm->mean[c]) / norm->std[c];
        }
    write_floats(path, x, 3 * pixels);
    free(x);
}

/* nets.py on the weights file; HWC output. */
static float *torch_reference(const char *weights, const char *input, int w, int h, int scale)
{
    char out[PATH_SIZE];
    temp_path(out, "torch.f32");
    run("'%s' '%s/tools/reference/nets.py' '%s' '%s' %d %d '%s'", python(), source_root(),
        weights, input, h, w, out);
    return read_floats(out, 3 * (size_t)w * h * scale * scale);
}

/* The original UpscalerJS model (esrgan-<size>, x<scale>) in TF.js; HWC output. */
static float *tfjs_reference(const char *size, const char *input, int w, int h, int scale)
{
    char model[PATH_SIZE], tfjs[PATH_SIZE], out[PATH_SIZE];
    snprintf(model, sizeof model,
             "%s/weights/npm/upscalerjs-esrgan-%s-1.0.0/package/models/x%d/model.json",
             source_root(), size, scale);
    snprintf(tfjs, sizeof tfjs, "%s/tools/node_modules/@tensorflow/tfjs-core", source_root());
    require_file(model, "run tools/fetch_weights.sh");
    require_file(tfjs, "run `npm ci --prefix tools`");
    temp_path(out, "tfjs.f32");
    run("node '%s/tools/reference/tfjs_upscale.js' '%s' '%s' %d %d '%s'", source_root(), model,
        input, h, w, out);
    return read_floats(out, 3 * (size_t)w * h * scale * scale);
}

/* max |planar - hwc| / range over a w×h×3 output */
static double max_difference(const float *planes, const float *hwc, int w, int h, float range)
{
    size_t pixels = (size_t)w * h;
    double worst = 0;
    for (size_t i = 0; i < pixels; i++)
        for (int c = 0; c < 3; c++) {
            double d = fabs((double)planes[c * pixels + i] - hwc[i * 3 + c]);
            if (isnan(d)) return INFINITY;
            if (d > worst) worst = d;
        }
    return worst / range;
}

/* Our output on a w×h random image against nets.py and, when tfjs_size is
 * not NULL, against the TF.js model esrgan-<tfjs_size>. */
static void check_against_references(const char *weights, const char *tfjs_size, int w, int h)
{
    hs_net net = load_net(weights);
    hs_image rgb = random_image(w, h, 3, 7);
    int s = net.scale, ow = w * s, oh = h * s;
    float *ours = upscale_floats(&net, &rgb, 0);
    char input[PATH_SIZE];
    temp_path(input, "input.f32");
    write_reference_input(&net, &rgb, input);
    float *torch = torch_reference(weights, input, w, h, s);
    double vs_torch = max_difference(ours, torch, ow, oh, net.output_range);
    printf("%s: max difference %.2e of white against nets.py", weights, vs_torch);
    ck_assert_msg(vs_torch <= REFERENCE_TOLERANCE, "%s: %.3g of white from nets.py", weights,
                  vs_torch);
    if (tfjs_size) {
        float *tfjs = tfjs_reference(tfjs_size, input, w, h, s);
        double vs_tfjs = max_difference(ours, tfjs, ow, oh, net.output_range);
        printf(", %.2e against TF.js", vs_tfjs);
        ck_assert_msg(vs_tfjs <= REFERENCE_TOLERANCE, "%s: %.3g of white from TF.js", weights,
                      vs_tfjs);
        free(tfjs);
    }
    printf("\n");
    free(torch);
    free(ours);
    hs_image_free(&rgb);
    hs_net_free(&net);
}

/* ---- Weight gradients against PyTorch -------------------------------------------- */

/* hs_net_backward_weights on a whole generator, batch 2, L = sum(r * net(x)):
 * every weight, bias and the input gradient against
 * tools/reference/net_grads.py (autograd through nets.py) on the same file. */
static void check_weight_gradients(const char *weights, int w, int h)
{
    hs_net net; /* as built: training's layers */
    HS_CHECK(hs_net_load(test_ctx, weights, &net));
    int n = 2, s = net.scale, last = net.count - 1;
    size_t nin = (size_t)n * 3 * h * w, nout = nin * s * s;
    float *x = host_floats(nin), *r = host_floats(nout);
    fill_random(x, nin, 31, 0.0f, 1.0f);
    fill_random(r, nout, 32, -1.0f, 1.0f);
    char in_path[PATH_SIZE], r_path[PATH_SIZE], out_dir[PATH_SIZE], file[2 * PATH_SIZE];
    temp_path(in_path, "grad-in.f32");
    temp_path(r_path, "grad-r.f32");
    temp_path(out_dir, "grads");
    write_floats(in_path, x, nin);
    write_floats(r_path, r, nout);
    run("'%s' '%s/tools/reference/net_grads.py' '%s' '%s' %d %d %d '%s' '%s'", python(),
        source_root(), weights, in_path, n, h, w, r_path, out_dir);

    hs_tensor input = upload(x, n, 3, h, w), dinput = upload(NULL, n, 3, h, w);
    hs_tensor *acts = calloc((size_t)net.count, sizeof *acts);
    hs_tensor *grads = calloc((size_t)net.count, sizeof *grads);
    ck_assert(acts && grads);
    hs_weight_grad *wgrads;
    HS_CHECK(hs_net_weight_grads_alloc(&net, &wgrads));
    HS_CHECK(hs_net_forward(&net, &input, last, 1, NULL, acts));
    grads[last] = upload(r, n, 3, h * s, w * s);
    HS_CHECK(hs_net_backward_weights(&net, &input, acts, grads, last, &dinput, wgrads));

    double worst = 0;
    int compared = 0;
    for (int i = 0; i < net.count; i++)
        for (int bias = 0; bias < 2; bias++) {
            const hs_layer *l = &net.layers[i];
            const hs_tensor *g = bias ? &wgrads[i].bias : &wgrads[i].weight;
            if (!g->buf) continue;
            snprintf(file, sizeof file, "%s/%s%s.f32", out_dir, l->tensor,
                     l->kind == HS_LAYER_CONV ? (bias ? ".bias" : ".weight") : "");
            size_t count = hs_tensor_count(g);
            float *want = read_floats(file, count), *got = download(g);
            double *wd = to_doubles(want, count), e = max_rel_error(got, wd, count);
            ck_assert_msg(e <= 1e-4, "%s: d(%s) %.3g from PyTorch", weights, file, e);
            if (e > worst) worst = e;
            compared++;
            free(want); free(got); free(wd);
        }
    ck_assert_int_gt(compared, 4);
    snprintf(file, sizeof file, "%s/input.f32", out_dir);
    float *want = read_floats(file, nin), *got = download(&dinput);
    double *wd = to_doubles(want, nin), e = max_rel_error(got, wd, nin);
    ck_assert_msg(e <= 1e-4, "%s: d(input) %.3g from PyTorch", weights, e);
    printf("%s: %d weight gradients within %.2e of PyTorch, the input's %.2e\n", weights,
           compared, worst, e);
    free(want); free(got); free(wd); free(x); free(r);
    hs_net_weight_grads_free(&net, wgrads);
    hs_net_release(&net, acts);
    hs_net_release(&net, grads);
    free(acts);
    free(grads);
    hs_tensor_free(&input);
    hs_tensor_free(&dinput);
    hs_net_free(&net);
}

/* ---- Weights files made here ------------------------------------------------------ */

/* Random SRGAN (2 blocks, x4) and RRDBNet (1 block, x4) checkpoints, converted
 * once per run: temp_dir/srresnet.safetensors and rrdbnet.safetensors. */
static void make_random_checkpoints(void)
{
    static int made;
    if (made) return;
    const char *root = source_root();
    run("'%s' '%s/tools/make_test_checkpoints.py' '%s/ckpt' --skip-vgg --srgan-blocks 2 "
        "--rrdb-blocks 1",
        python(), root, temp_dir);
    run("'%s' '%s/tools/convert_torch_sr.py' '%s/ckpt/srgan_netG_x4_b2.pth' "
        "'%s/srresnet.safetensors' --arch srresnet",
        python(), root, temp_dir, temp_dir);
    run("'%s' '%s/tools/convert_torch_sr.py' '%s/ckpt/rrdbnet_basicsr.pth' "
        "'%s/rrdbnet.safetensors' --arch rrdbnet",
        python(), root, temp_dir, temp_dir);
    made = 1;
}

typedef struct tensor_spec { char name[48]; int ndim, shape[4]; } tensor_spec;

static void add_conv_spec(tensor_spec *specs, int *count, const char *name, int out, int in,
                          int k)
{
    tensor_spec *w = &specs[(*count)++], *b = &specs[(*count)++];
    *w = (tensor_spec){.ndim = 4, .shape = {out, in, k, k}};
    *b = (tensor_spec){.ndim = 1, .shape = {out}};
    snprintf(w->name, sizeof w->name, "%s.weight", name);
    snprintf(b->name, sizeof b->name, "%s.bias", name);
}

static size_t spec_count(const tensor_spec *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

/* Text built into a fixed buffer; the test fails when it does not fit. */
typedef struct text_buffer { char *data; size_t used, capacity; } text_buffer;

static void append(text_buffer *t, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void append(text_buffer *t, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vsnprintf(t->data + t->used, t->capacity - t->used, format, args);
    va_end(args);
    ck_assert_msg(n >= 0 && (size_t)n < t->capacity - t->used, "header buffer too small");
    t->used += (size_t)n;
}

/* header (JSON, padded with spaces to a multiple of 8), then data. */
static void write_safetensors(const char *path, const char *header, const void *data,
                              size_t data_bytes)
{
    size_t length = strlen(header), padded = (length + 7) / 8 * 8;
    unsigned char size_bytes[8];
    for (int i = 0; i < 8; i++) size_bytes[i] = (unsigned char)(padded >> (8 * i));
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(size_bytes, 1, 8, fp), 8);
    ck_assert_uint_eq(fwrite(header, 1, length, fp), length);
    for (size_t i = length; i < padded; i++) fputc(' ', fp);
    ck_assert_uint_eq(fwrite(data, 1, data_bytes, fp), data_bytes);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Random tensors (uniform in ±1/sqrt(fan-in), biases in ±0.1) with the
 * metadata pairs `meta` (a NULL-terminated key, value list). */
static void write_random_weights(const char *path, const tensor_spec *specs, int count,
                                 const char *const *meta)
{
    size_t total = 0;
    for (int i = 0; i < count; i++) total += spec_count(&specs[i]);
    float *data = host_floats(total);
    text_buffer header = {malloc(8192), 0, 8192};
    ck_assert_ptr_nonnull(header.data);
    append(&header, "{");
    for (int i = 0, offset = 0; i < count; offset += (int)spec_count(&specs[i]), i++) {
        const tensor_spec *t = &specs[i];
        float bound = t->ndim == 4 ? 1.0f / sqrtf((float)(t->shape[1] * t->shape[2] * t->shape[3]))
                                   : 0.1f;
        fill_random(data + offset, spec_count(t), 100u + (unsigned)i, -bound, bound);
        append(&header, "\"%s\":{\"dtype\":\"F32\",\"shape\":[", t->name);
        for (int d = 0; d < t->ndim; d++) append(&header, d ? ",%d" : "%d", t->shape[d]);
        append(&header, "],\"data_offsets\":[%zu,%zu]},", offset * sizeof(float),
               (offset + spec_count(t)) * sizeof(float));
    }
    append(&header, "\"__metadata__\":{");
    for (int k = 0; meta[k]; k += 2)
        append(&header, "%s\"%s\":\"%s\"", k ? "," : "", meta[k], meta[k + 1]);
    append(&header, "}}");
    write_safetensors(path, header.data, data, total * sizeof(float));
    free(header.data);
    free(data);
}

/* temp_dir/tiny-rrdn.safetensors: an rrdn with T=2, D=1, C=2, G=4, G0=8, x3,
 * small enough that 12-pixel tiles really are tiles (margin 10). */
static void tiny_rrdn(char path[PATH_SIZE])
{
    static const char *const meta[] = {
        "format", "hirestyle", "architecture", "rrdn", "C", "2", "D", "1", "G", "4", "G0", "8",
        "T", "2", "beta", "0.2", "scale", "3", "pixel_shuffle", "tf", "input_range", "1",
        "output_range", "1", "channel_order", "rgb", "mean", "0,0,0", "std", "1,1,1", NULL};
    tensor_spec specs[32];
    int n = 0;
    temp_path(path, "tiny-rrdn.safetensors");
    if (access(path, R_OK) == 0) return;
    add_conv_spec(specs, &n, "Pre_blocks_conv", 8, 3, 3);
    for (int t = 1; t <= 2; t++) {
        char name[32];
        for (int c = 1; c <= 2; c++) {
            snprintf(name, sizeof name, "F_%d_1_%d", t, c);
            add_conv_spec(specs, &n, name, 4, 8 + (c - 1) * 4, 3);
        }
        snprintf(name, sizeof name, "LFF_%d_1", t);
        add_conv_spec(specs, &n, name, 8, 16, 3);
    }
    add_conv_spec(specs, &n, "post_blocks_conv", 8, 8, 3);
    add_conv_spec(specs, &n, "PreShuffle", 27, 8, 3);
    add_conv_spec(specs, &n, "SR", 3, 3, 3);
    write_random_weights(path, specs, n, meta);
}

/* Copy `from` to `to` with `old` replaced by `replacement` in its JSON header. */
static void copy_with_header_edit(const char *from, const char *to, const char *old,
                                  const char *replacement)
{
    FILE *fp = fopen(from, "rb");
    ck_assert_ptr_nonnull(fp);
    unsigned char size_bytes[8];
    ck_assert_uint_eq(fread(size_bytes, 1, 8, fp), 8);
    size_t length = 0;
    for (int i = 7; i >= 0; i--) length = length << 8 | size_bytes[i];
    char *header = calloc(length + 1, 1), *edited = malloc(length + strlen(replacement) + 1);
    ck_assert_uint_eq(fread(header, 1, length, fp), length);
    fseek(fp, 0, SEEK_END);
    size_t data_bytes = (size_t)ftell(fp) - 8 - length;
    fseek(fp, (long)(8 + length), SEEK_SET);
    unsigned char *data = malloc(data_bytes);
    ck_assert_uint_eq(fread(data, 1, data_bytes, fp), data_bytes);
    fclose(fp);
    char *at = strstr(header, old);
    ck_assert_msg(at != NULL, "%s: the header has no %s", from, old);
    sprintf(edited, "%.*s%s%s", (int)(at - header), header, replacement, at + strlen(old));
    write_safetensors(to, edited, data, data_bytes);
    free(data);
    free(edited);
    free(header);
}

/* ---- Against the references ------------------------------------------------------- */

START_TEST(test_thick_x4_matches_tfjs_and_torch)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-thick-x4.safetensors", weights);
    check_against_references(weights, "thick", 11, 13);
}
END_TEST

START_TEST(test_slim_x4_matches_tfjs_and_torch)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    check_against_references(weights, "slim", 11, 13);
}
END_TEST

START_TEST(test_medium_x2_matches_tfjs_and_torch)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-medium-x2.safetensors", weights);
    check_against_references(weights, "medium", 11, 13);
}
END_TEST

START_TEST(test_srresnet_matches_torch)
{
    char weights[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "srresnet.safetensors");
    check_against_references(weights, NULL, 11, 13);
}
END_TEST

START_TEST(test_rrdbnet_matches_torch)
{
    char weights[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "rrdbnet.safetensors");
    check_against_references(weights, NULL, 11, 13);
}
END_TEST

START_TEST(test_tiny_rrdn_x3_matches_torch)
{
    char weights[PATH_SIZE];
    tiny_rrdn(weights);
    check_against_references(weights, NULL, 11, 13);
}
END_TEST

/* With CLBlast's GEMM: with our kernel (cl/gemm.cl, the default on PoCL)
 * every srresnet gradient is 0.2-2% off PyTorch (CLBlast: 1.6e-6), so one of
 * this net's backward products (9x9 convs, 64 -> 3 and 3 -> 64 channels)
 * trips a bug of our GEMM, not yet found; rrdbnet and rrdn pass on both. */
START_TEST(test_srresnet_weight_gradients_match_torch)
{
    char weights[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "srresnet.safetensors");
    setenv("HIRESTYLE_GEMM", "clblast", 1);
    check_weight_gradients(weights, 7, 6);
    unsetenv("HIRESTYLE_GEMM");
}
END_TEST

START_TEST(test_rrdbnet_weight_gradients_match_torch)
{
    char weights[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "rrdbnet.safetensors");
    check_weight_gradients(weights, 6, 5);
}
END_TEST

START_TEST(test_rrdn_weight_gradients_match_torch)
{
    char weights[PATH_SIZE];
    tiny_rrdn(weights);
    check_weight_gradients(weights, 7, 6);
}
END_TEST

/* ---- Test-time augmentation (-x) ------------------------------------------------------------ */

/* A w×h grid of cells of `size` bytes (cell (x, y) at y*w + x) turned a
 * quarter clockwise: h×w cells, the bottom-left cell first. */
static void *turn_clockwise(const void *in, int w, int h, size_t size)
{
    unsigned char *out = malloc((size_t)w * h * size);
    ck_assert_ptr_nonnull(out);
    for (int y = 0; y < w; y++)
        for (int x = 0; x < h; x++)
            memcpy(out + ((size_t)y * h + x) * size,
                   (const unsigned char *)in + ((size_t)(h - 1 - x) * w + y) * size, size);
    return out;
}

/* The grid mirrored left to right, in place. */
static void mirror(void *cells, int w, int h, size_t size)
{
    unsigned char *c = cells, swap[16];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w / 2; x++) {
            unsigned char *a = c + ((size_t)y * w + x) * size;
            unsigned char *b = c + ((size_t)y * w + w - 1 - x) * size;
            memcpy(swap, a, size), memcpy(a, b, size), memcpy(b, swap, size);
        }
}

/* An RGB image turned `turns` quarters clockwise, then mirrored if asked. */
static hs_image oriented(const hs_image *in, int turns, int mirrored)
{
    hs_image out = *in;
    out.pixels = malloc((size_t)in->width * in->height * 3);
    ck_assert_ptr_nonnull(out.pixels);
    memcpy(out.pixels, in->pixels, (size_t)in->width * in->height * 3);
    for (int k = 0; k < turns; k++) {
        uint8_t *turned = turn_clockwise(out.pixels, out.width, out.height, 3);
        free(out.pixels);
        out.pixels = turned;
        int w = out.width;
        out.width = out.height, out.height = w;
    }
    if (mirrored) mirror(out.pixels, out.width, out.height, 3);
    return out;
}

/* One w×h float plane oriented back: mirrored if it was, then turned the
 * rest of the way round. */
static float *plane_back(const float *plane, int w, int h, int turns, int mirrored)
{
    float *cells = host_floats((size_t)w * h);
    memcpy(cells, plane, (size_t)w * h * sizeof *cells);
    if (mirrored) mirror(cells, w, h, sizeof *cells);
    for (int k = turns; k % 4; k++) {
        float *turned = turn_clockwise(cells, w, h, sizeof *cells);
        free(cells);
        cells = turned;
        int t = w;
        w = h, h = t;
    }
    return cells;
}

/* -x is the mean of the net's float outputs for the 8 orientations, each
 * turned back, rounded once: here made by hand with turns and mirrors
 * written independently of upscale_tta.c, on a 13×9 image (not square, so
 * that a turn in the wrong direction cannot pass). */
START_TEST(test_tta_is_the_mean_of_eight_orientations)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x2.safetensors", weights);
    hs_net net = load_net(weights);
    hs_image rgb = random_image(13, 9, 3, 21);
    int s = net.scale, W = rgb.width * s, H = rgb.height * s;
    size_t plane = (size_t)W * H;
    double *sum = calloc(3 * plane, sizeof *sum);
    ck_assert_ptr_nonnull(sum);
    for (int mirrored = 0; mirrored < 2; mirrored++)
        for (int turns = 0; turns < 4; turns++) {
            hs_image in = oriented(&rgb, turns, mirrored);
            float *out = upscale_floats(&net, &in, 0);
            for (int c = 0; c < 3; c++) {
                float *back = plane_back(out + c * plane, in.width * s, in.height * s, turns,
                                         mirrored);
                for (size_t i = 0; i < plane; i++) sum[c * plane + i] += back[i];
                free(back);
            }
            free(out);
            hs_image_free(&in);
        }
    hs_image tta = {0}, plain = {0};
    hs_upscale_options with_tta = {.tta = 1}, without = {0};
    HS_CHECK(hs_upscale_image(&net, &rgb, &with_tta, &tta));
    HS_CHECK(hs_upscale_image(&net, &rgb, &without, &plain));
    ck_assert_int_eq(tta.width, W);
    ck_assert_int_eq(tta.height, H);
    int worst = 0, changed = 0;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            double v = round(sum[c * plane + i] / 8 / (net.output_range / 255.0));
            int expected = v < 0 ? 0 : v > 255 ? 255 : (int)v;
            worst = abs(tta.pixels[i * 3 + c] - expected) > worst
                        ? abs(tta.pixels[i * 3 + c] - expected) : worst;
            changed = abs(tta.pixels[i * 3 + c] - plain.pixels[i * 3 + c]) > changed
                          ? abs(tta.pixels[i * 3 + c] - plain.pixels[i * 3 + c]) : changed;
        }
    printf("tta: %d levels from the mean made by hand; %d levels from one pass\n", worst, changed);
    ck_assert_int_le(worst, 1); /* float sums in another order: a rounding step at most */
    ck_assert_int_ge(changed, 2); /* the net is not symmetric: the mean differs from one pass */
    hs_image_free(&tta);
    hs_image_free(&plain);
    hs_image_free(&rgb);
    free(sum);
    hs_net_free(&net);
}
END_TEST

/* A net that commutes with every flip and turn (nearest-neighbour ×2, and
 * the reflection pre-padding around it) gives the same bytes with -x as
 * without, on a grey image with alpha (the alpha is enlarged once). */
/* -x reports its 8 passes as one job: done counts 1, 2, ... up to the
 * total, which stays 8 times one pass's tiles (the bar and the time left
 * do not restart with each pass). */
static int count_tta_tiles(void *arg, int done, int total, int tile)
{
    int *calls = arg;
    ck_assert_int_eq(done, ++calls[0]);
    ck_assert_int_eq(total, 8 * 6);
    ck_assert_int_eq(tile, 5);
    return 0;
}

START_TEST(test_tta_progress_is_one_job)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x2.safetensors", weights);
    hs_net net = load_net(weights);
    hs_image rgb = random_image(13, 9, 3, 4), out = {0}; /* 3 × 2 tiles of 5, or 2 × 3 */
    int calls[1] = {0};
    hs_upscale_options opts = {.tile = 5, .tta = 1, .progress = count_tta_tiles,
                               .progress_arg = calls};
    HS_CHECK(hs_upscale_image(&net, &rgb, &opts, &out));
    ck_assert_int_eq(calls[0], 8 * 6);
    hs_image_free(&out);
    hs_image_free(&rgb);
    hs_net_free(&net);
}
END_TEST

START_TEST(test_tta_of_a_symmetric_net_changes_nothing)
{
    const char *text = "hirestyle-graph 1\n"
                       "nearest 2 input_scale=0.00392156863 mean=0,0,0 std=1,1,1 order=rgb "
                       "scale=2 output_range=1\n"
                       "Input    image 0 1 image c=3\n"
                       "Upsample up 1 1 image up factor=2\n";
    hs_weights none = {0};
    hs_net net;
    HS_CHECK(hs_graph_parse(test_ctx, "nearest.graph", text, &none, &net));
    hs_image in = random_image(11, 7, 2, 5), tta = {0}, plain = {0};
    hs_upscale_options with_tta = {.pre_pad = HS_UPSCALE_PRE_PAD, .tta = 1};
    hs_upscale_options without = {.pre_pad = HS_UPSCALE_PRE_PAD};
    HS_CHECK(hs_upscale_image(&net, &in, &with_tta, &tta));
    HS_CHECK(hs_upscale_image(&net, &in, &without, &plain));
    ck_assert_int_eq(tta.channels, 2);
    ck_assert_int_eq(tta.width, 22);
    ck_assert_int_eq(plain.height, 14);
    ck_assert_mem_eq(tta.pixels, plain.pixels, (size_t)22 * 14 * 2);
    ck_assert_int_eq(plain.pixels[(5 * 22 + 3) * 2], in.pixels[(2 * 11 + 1) * 2]); /* nearest */
    hs_image_free(&tta);
    hs_image_free(&plain);
    hs_image_free(&in);
    hs_net_free(&net);
}
END_TEST

/* ---- Tiling ---------------------------------------------------------------------------- */

static int count_tiles(void *arg, int done, int total, int tile)
{
    int *calls = arg;
    ck_assert_int_eq(done, ++calls[0]);
    calls[1] = total;
    calls[2] = tile;
    return 0;
}

/* 12-pixel tiles of a 37×29 image (4 × 3 tiles) give the untiled output. */
static void check_tiling(const char *weights)
{
    hs_net net = load_net(weights);
    hs_image rgb = random_image(37, 29, 3, 11);
    size_t n = 3 * (size_t)37 * 29 * net.scale * net.scale;
    float *whole = upscale_floats(&net, &rgb, 0), *tiled = upscale_floats(&net, &rgb, 12);
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)whole[i] - tiled[i]));
    worst /= net.output_range;
    printf("%s: tiled differs from untiled by %.2e of white\n", weights, worst);
    ck_assert_msg(worst <= TILING_TOLERANCE, "%s: tiles differ by %.3g of white", weights, worst);

    int calls[3] = {0};
    hs_image one = {0}, many = {0};
    hs_upscale_options untiled = {0},
                       tiles = {.tile = 12, .progress = count_tiles, .progress_arg = calls};
    HS_CHECK(hs_upscale_image(&net, &rgb, &untiled, &one));
    HS_CHECK(hs_upscale_image(&net, &rgb, &tiles, &many));
    ck_assert_int_eq(calls[0], 12);
    ck_assert_int_eq(calls[1], 12);
    ck_assert_int_eq(calls[2], 12);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(abs(one.pixels[i] - many.pixels[i]) <= 1, "%s: byte %zu is %d tiled, %d "
                      "untiled", weights, i, many.pixels[i], one.pixels[i]);
    hs_image_free(&one);
    hs_image_free(&many);
    free(whole);
    free(tiled);
    hs_image_free(&rgb);
    hs_net_free(&net);
}

START_TEST(test_tiling_rdn)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    check_tiling(weights);
}
END_TEST

START_TEST(test_tiling_srresnet)
{
    char weights[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "srresnet.safetensors");
    check_tiling(weights);
}
END_TEST

START_TEST(test_tiling_rrdn)
{
    char weights[PATH_SIZE];
    tiny_rrdn(weights);
    check_tiling(weights);
}
END_TEST

/* Peers: the same model on two more contexts of the device take tiles in
 * threads of their own. The output is the one net's bit for bit, progress
 * still counts 1, 2, ... on one thread at a time, a stop ends every thread,
 * and a peer of another model is refused. */
static int stop_at_five(void *arg, int done, int total, int tile)
{
    (void)total, (void)tile;
    int *calls = arg;
    ck_assert_int_eq(done, ++calls[0]);
    return done == 5;
}

START_TEST(test_peers_share_tiles)
{
    char weights[PATH_SIZE], other[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    find_weights("esrgan-slim-x2.safetensors", other);
    hs_context_options same_device = {getenv("HIRESTYLE_TEST_DEVICE"), HS_DEVICE_ANY, 0};
    hs_context *ctxs[2];
    hs_net net = load_net(weights), nets[2], wrong;
    hs_net *peers[2] = {&nets[0], &nets[1]};
    for (int k = 0; k < 2; k++) {
        HS_CHECK(hs_context_create(&same_device, &ctxs[k]));
        HS_CHECK(hs_net_load(ctxs[k], weights, &nets[k]));
        HS_CHECK(hs_net_fold_upsampling(&nets[k]));
    }
    hs_image rgb = random_image(37, 29, 3, 11);
    size_t n = 3 * (size_t)37 * 29 * net.scale * net.scale;
    float *alone = upscale_floats(&net, &rgb, 12), *shared = host_floats(n);
    int calls[3] = {0};
    hs_upscale_options opts = {.tile = 12, .progress = count_tiles, .progress_arg = calls,
                               .peers = peers, .peer_count = 2};
    for (int k = 0; k < 2; k++) hs_memory_reset_peak(ctxs[k]);
    HS_CHECK(hs_upscale_floats(&net, &rgb, &opts, shared));
    ck_assert_int_eq(calls[0], 12);
    /* a peer ran tiles: its context held more than the weights */
    ck_assert(hs_memory_peak(ctxs[0]) > hs_memory_in_use(ctxs[0]) ||
              hs_memory_peak(ctxs[1]) > hs_memory_in_use(ctxs[1]));
    ck_assert_msg(memcmp(alone, shared, n * sizeof *alone) == 0,
                  "tiles shared by three contexts differ from one context's");

    int stops[1] = {0};
    hs_upscale_options stopped = {.tile = 12, .progress = stop_at_five, .progress_arg = stops,
                                  .peers = peers, .peer_count = 2};
    ck_assert_int_eq(hs_upscale_floats(&net, &rgb, &stopped, shared), HS_ERR_INTERRUPTED);
    ck_assert_int_eq(stops[0], 5);
    ck_assert_ptr_nonnull(strstr(hs_last_error(), "interrupted after 5 of 12 tiles"));

    HS_CHECK(hs_net_load(ctxs[0], other, &wrong));
    hs_net *mismatched[1] = {&wrong};
    hs_upscale_options bad = {.tile = 12, .peers = mismatched, .peer_count = 1};
    ck_assert_int_eq(hs_upscale_floats(&net, &rgb, &bad, shared), HS_ERR_INTERNAL);
    hs_net_free(&wrong);
    free(alone);
    free(shared);
    hs_image_free(&rgb);
    for (int k = 0; k < 2; k++) {
        hs_net_free(&nets[k]);
        hs_context_destroy(ctxs[k]);
    }
    hs_net_free(&net);
}
END_TEST

/* Worked out by hand from the graphs of weights/README.md. */
START_TEST(test_margins)
{
    static const struct { const char *file; int margin; } cases[] = {
        /* F_m1 F_0 F_1_1 F_2_1 GFF_2 (1 each) UPN1 (2) UPN2 UPN3 = 9, ×4 + SR = 37 */
        {"esrgan-slim-x4.safetensors", 10},
        /* Pre, 10 × 3 × (4 F + LFF), post, PreShuffle = 153, ×4 + SR = 613 */
        {"esrgan-thick-x4.safetensors", 154},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char weights[PATH_SIZE];
        find_weights(cases[i].file, weights);
        hs_net net = load_net(weights);
        int margin = 0, tile = 0;
        HS_CHECK(hs_upscale_margin(&net, &margin));
        ck_assert_int_eq(margin, cases[i].margin);
        HS_CHECK(hs_upscale_pick_tile(&net, 37, 29, &tile));
        ck_assert_int_eq(tile, 37);
        hs_net_free(&net);
    }
}
END_TEST

/* ---- Grey and alpha ------------------------------------------------------------------- */

/* channels 1, 2, 4: the colour is that of the RGB version through the net
 * (turned into grey for 1 and 2), alpha is the bicubic enlargement. */
START_TEST(test_grey_and_alpha)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    hs_net net = load_net(weights);
    static const int channel_cases[] = {1, 2, 4};
    hs_upscale_options opts = {0};
    for (int k = 0; k < 3; k++) {
        int channels = channel_cases[k];
        hs_image in = random_image(9, 7, channels, 20u + (unsigned)k), out, rgb, big, expected;
        HS_CHECK(hs_upscale_image(&net, &in, &opts, &out));
        ck_assert_int_eq(out.width, 36);
        ck_assert_int_eq(out.height, 28);
        ck_assert_int_eq(out.channels, channels);
        HS_CHECK(hs_image_convert(&in, 3, &rgb));
        HS_CHECK(hs_upscale_image(&net, &rgb, &opts, &big));
        HS_CHECK(hs_image_convert(&big, channels, &expected));
        if (channels % 2 == 0) { /* the alpha of `expected` becomes the bicubic one */
            hs_image alpha = {.width = 9, .height = 7, .channels = 1, .pixels = malloc(63)};
            hs_image big_alpha;
            for (int i = 0; i < 63; i++) alpha.pixels[i] = in.pixels[i * channels + channels - 1];
            HS_CHECK(hs_image_resize(&alpha, 36, 28, &big_alpha));
            for (int i = 0; i < 36 * 28; i++)
                expected.pixels[i * channels + channels - 1] = big_alpha.pixels[i];
            hs_image_free(&alpha);
            hs_image_free(&big_alpha);
        }
        ck_assert_msg(memcmp(out.pixels, expected.pixels, (size_t)36 * 28 * channels) == 0,
                      "%d channels: not the RGB result with alpha enlarged", channels);
        hs_image *all[] = {&in, &out, &rgb, &big, &expected};
        for (int i = 0; i < 5; i++) hs_image_free(all[i]);
    }
    hs_net_free(&net);
}
END_TEST

/* 16 bits in, 16 bits out: an 8-bit image scaled to 16 (v * 257, the same
 * net input) gives the net's float output rounded to 16 bits, not to 8;
 * alpha is the bicubic enlargement of the 16-bit alpha. */
START_TEST(test_sixteen_bit)
{
    char weights[PATH_SIZE];
    find_weights("esrgan-slim-x2.safetensors", weights);
    hs_net net = load_net(weights);
    hs_image rgba8 = random_image(9, 7, 4, 31u), rgb8, rgba16, out, alpha16, big_alpha;
    HS_CHECK(hs_image_convert(&rgba8, 3, &rgb8));
    HS_CHECK(hs_image_convert_bits(&rgba8, 16, &rgba16));
    hs_upscale_options opts = {0};
    HS_CHECK(hs_upscale_image(&net, &rgba16, &opts, &out));
    ck_assert_int_eq(hs_image_bits(&out), 16);
    ck_assert_int_eq(out.channels, 4);
    float *planes = upscale_floats(&net, &rgb8, 0);
    size_t plane = (size_t)18 * 14;
    const uint16_t *got = hs_image_samples16(&out);
    int off_the_8bit_grid = 0;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float v = planes[c * plane + i] / net.output_range * 65535.0f;
            int expected = v <= 0 ? 0 : v >= 65535 ? 65535 : (int)(v + 0.5f);
            ck_assert_int_le(abs(got[i * 4 + c] - expected), 4);
            off_the_8bit_grid += got[i * 4 + c] % 257 != 0;
        }
    ck_assert_int_gt(off_the_8bit_grid, (int)plane); /* finer than 8 bits */
    HS_CHECK(hs_image_alloc(&alpha16, 9, 7, 1, 16));
    for (int i = 0; i < 63; i++)
        hs_image_samples16(&alpha16)[i] = hs_image_samples16(&rgba16)[i * 4 + 3];
    HS_CHECK(hs_image_resize(&alpha16, 18, 14, &big_alpha));
    for (size_t i = 0; i < plane; i++)
        ck_assert_int_eq(got[i * 4 + 3], hs_image_samples16(&big_alpha)[i]);
    free(planes);
    hs_image *all[] = {&rgba8, &rgb8, &rgba16, &out, &alpha16, &big_alpha};
    for (int i = 0; i < 6; i++) hs_image_free(all[i]);
    hs_net_free(&net);
}
END_TEST

/* ---- Bad weights files ------------------------------------------------------------------ */

/* Loading `path` fails with HS_ERR_WEIGHTS, naming the file and saying `phrase`. */
static void assert_refused(const char *path, const char *phrase)
{
    hs_net net;
    hs_status st = hs_net_load(test_ctx, path, &net);
    const char *message = hs_last_error();
    ck_assert_msg(st == HS_ERR_WEIGHTS, "%s: status %d, not HS_ERR_WEIGHTS (%s)", path, st,
                  message);
    ck_assert_msg(strstr(message, path), "'%s' does not name %s", message, path);
    ck_assert_msg(strstr(message, phrase), "'%s' does not say '%s'", message, phrase);
}

START_TEST(test_truncated_weights_refused)
{
    char weights[PATH_SIZE], cut[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    temp_path(cut, "truncated.safetensors");
    struct stat info;
    ck_assert_int_eq(stat(weights, &info), 0);
    run("head -c %lld '%s' > '%s'", (long long)info.st_size / 2, weights, cut);
    assert_refused(cut, "");
}
END_TEST

START_TEST(test_wrong_architecture_refused)
{
    char weights[PATH_SIZE], edited[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    temp_path(edited, "slim-as-rrdn.safetensors");
    copy_with_header_edit(weights, edited, "\"architecture\":\"rdn\"",
                          "\"architecture\":\"rrdn\",\"T\":\"1\",\"beta\":\"0.2\","
                          "\"pixel_shuffle\":\"tf\"");
    assert_refused(edited, "'Pre_blocks_conv.weight' is missing");
    temp_path(edited, "slim-as-edsr.safetensors");
    copy_with_header_edit(weights, edited, "\"architecture\":\"rdn\"", "\"architecture\":\"edsr\"");
    assert_refused(edited, "unknown architecture 'edsr'");
}
END_TEST

START_TEST(test_mismatched_shapes_refused)
{
    char weights[PATH_SIZE], edited[PATH_SIZE];
    find_weights("esrgan-slim-x4.safetensors", weights);
    temp_path(edited, "slim-g5.safetensors");
    copy_with_header_edit(weights, edited, "\"G\":\"4\"", "\"G\":\"5\"");
    assert_refused(edited, "'F_1_1.weight' has shape [4,64,3,3]");
    temp_path(edited, "slim-x2-label.safetensors");
    copy_with_header_edit(weights, edited, "\"scale\":\"4\"", "\"scale\":\"2\"");
    assert_refused(edited, "'UPN3.weight' has shape");
}
END_TEST

START_TEST(test_rrdbnet_x2_refused)
{
    char weights[PATH_SIZE], edited[PATH_SIZE];
    make_random_checkpoints();
    temp_path(weights, "rrdbnet.safetensors");
    temp_path(edited, "rrdbnet-unshuffle.safetensors");
    copy_with_header_edit(weights, edited, "\"pixel_unshuffle\":\"1\"",
                          "\"pixel_unshuffle\":\"2\"");
    assert_refused(edited, "pixel-unshuffle");
}
END_TEST

/* ---- The command ------------------------------------------------------------------------- */

/* `hirestyle upscale ARGS`: its exit code; its output in temp_dir/cli.log. */
static int run_cli(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int run_cli(const char *format, ...)
{
    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary && *binary, "HIRESTYLE_BINARY is not set (meson test sets it)");
    char args[COMMAND_SIZE], command[COMMAND_SIZE + PATH_SIZE];
    va_list list;
    va_start(list, format);
    vsnprintf(args, sizeof args, format, list);
    va_end(list);
    snprintf(command, sizeof command, "'%s' upscale %s", binary, args);
    return run_logged("cli.log", command);
}

static int log_says(const char *phrase)
{
    char path[PATH_SIZE], text[4096] = "";
    temp_path(path, "cli.log");
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    text[fread(text, 1, sizeof text - 1, fp)] = '\0';
    fclose(fp);
    return strstr(text, phrase) != NULL;
}

static int file_contains(const char *path, const char *phrase)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    static char bytes[1 << 16];
    size_t n = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    return memmem(bytes, n, phrase, strlen(phrase)) != NULL;
}

START_TEST(test_cli_upscales_an_rgba_png)
{
    char in_path[PATH_SIZE], out_path[PATH_SIZE], weights[PATH_SIZE];
    temp_path(in_path, "cli-in.png");
    temp_path(out_path, "cli-out.png");
    hs_image in = random_image(9, 7, 4, 5), got, want;
    HS_CHECK(hs_image_save_png(in_path, &in, NULL));
    int code = run_cli("-i '%s' -o '%s' -m esrgan-slim-x4 -t 4 --quiet", in_path, out_path);
    ck_assert_msg(code == 0, "exit code %d", code);
    HS_CHECK(hs_image_load(out_path, &got));
    find_weights("esrgan-slim-x4.safetensors", weights);
    hs_net net = load_net(weights);
    hs_upscale_options opts = {.pre_pad = HS_UPSCALE_PRE_PAD}; /* as the CLI */
    HS_CHECK(hs_upscale_image(&net, &in, &opts, &want));
    ck_assert_int_eq(got.width, 36);
    ck_assert_int_eq(got.height, 28);
    ck_assert_int_eq(got.channels, 4);
    for (size_t i = 0; i < (size_t)36 * 28 * 4; i++)
        ck_assert_msg(abs(got.pixels[i] - want.pixels[i]) <= 1, "byte %zu: %d, library %d", i,
                      got.pixels[i], want.pixels[i]);
    ck_assert(file_contains(out_path, "hirestyle command"));
    ck_assert(file_contains(out_path, "-m esrgan-slim-x4"));
    hs_net_free(&net);
    hs_image_free(&in);
    hs_image_free(&got);
    hs_image_free(&want);
}
END_TEST

/* A 16-bit TIFF with an ICC profile (TIFF keeps any bytes; libpng checks
 * them) goes out as a 16-bit TIFF with it (the library's result at 16
 * bits), as WebP (8-bit, with it) and, through -f, as a JPEG named without
 * an extension. */
START_TEST(test_cli_formats)
{
    char in_path[PATH_SIZE], tif[PATH_SIZE], webp[PATH_SIZE], jpeg[PATH_SIZE], weights[PATH_SIZE];
    temp_path(in_path, "cli-deep.tif");
    temp_path(tif, "cli-out.tif");
    temp_path(webp, "cli-out.webp");
    temp_path(jpeg, "cli-out");
    hs_image in8 = random_image(9, 7, 3, 6), in, got, want;
    HS_CHECK(hs_image_convert_bits(&in8, 16, &in));
    static const uint8_t profile[] = "not a real profile, carried as bytes";
    in.icc = malloc(sizeof profile);
    memcpy(in.icc, profile, sizeof profile);
    in.icc_size = sizeof profile;
    HS_CHECK(hs_image_save(in_path, &in, NULL));
    ck_assert_int_eq(run_cli("-i '%s' -o '%s' -m esrgan-slim-x2 -q", in_path, tif), 0);
    hs_load_options deep = {.keep_16bit = 1};
    HS_CHECK(hs_image_load_with(tif, &deep, &got));
    find_weights("esrgan-slim-x2.safetensors", weights);
    hs_net net = load_net(weights);
    hs_upscale_options opts = {.pre_pad = HS_UPSCALE_PRE_PAD}; /* as the CLI */
    HS_CHECK(hs_upscale_image(&net, &in, &opts, &want));
    ck_assert_int_eq(hs_image_bits(&got), 16);
    ck_assert_mem_eq(got.pixels, want.pixels, (size_t)18 * 14 * 3 * 2);
    ck_assert_uint_eq(got.icc_size, sizeof profile);
    ck_assert_mem_eq(got.icc, profile, sizeof profile);
    hs_image_free(&got);
    ck_assert_int_eq(run_cli("-i '%s' -o '%s' -m esrgan-slim-x2 -q", in_path, webp), 0);
    HS_CHECK(hs_image_load_with(webp, &deep, &got));
    ck_assert_int_eq(hs_image_bits(&got), 8);
    ck_assert_mem_eq(got.icc, profile, sizeof profile);
    hs_image_free(&got);
    ck_assert_int_eq(run_cli("-i '%s' -o '%s' -f jpg --quality 70 -m esrgan-slim-x2 -q", in_path,
                             jpeg), 0);
    HS_CHECK(hs_image_load(jpeg, &got));
    ck_assert_int_eq(got.width, 18);
    hs_net_free(&net);
    hs_image *all[] = {&in8, &in, &got, &want};
    for (int i = 0; i < 4; i++) hs_image_free(all[i]);
}
END_TEST

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) count += e->d_name[0] != '.';
    closedir(d);
    return count;
}

START_TEST(test_cli_errors)
{
    char in_path[PATH_SIZE], out_dir[PATH_SIZE];
    temp_path(in_path, "cli-errors.png");
    temp_path(out_dir, "cli-outputs");
    ck_assert_int_eq(mkdir(out_dir, 0755), 0);
    hs_image in = random_image(5, 4, 3, 9);
    HS_CHECK(hs_image_save_png(in_path, &in, NULL));
    hs_image_free(&in);

    ck_assert_int_eq(run_cli("-i '%s' -o '%s/no-such-dir/out.png' -m esrgan-slim-x4", in_path,
                             out_dir), HS_ERR_IO);
    ck_assert_int_eq(entries_in(out_dir), 0);
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.png' -m no-such-model", in_path, out_dir),
                     HS_ERR_WEIGHTS);
    ck_assert(log_says("tools/fetch_weights.sh"));
    ck_assert_int_eq(run_cli("-i '%s/none.png' -o '%s/out.png' -m esrgan-slim-x4", temp_dir,
                             out_dir), HS_ERR_IO);
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.png' -m esrgan-slim-x4 -s 2", in_path, out_dir),
                     HS_ERR_USAGE);
    ck_assert(log_says("upscales x4, not x2"));
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.bmp'", in_path, out_dir), HS_ERR_USAGE);
    ck_assert(log_says("name the output .png, .jpg, .webp or .tif"));
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.jpg' -f png", in_path, out_dir), HS_ERR_USAGE);
    ck_assert(log_says("the name says JPEG but the format asked for is PNG"));
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.jpg' --bits 16", in_path, out_dir), HS_ERR_USAGE);
    ck_assert(log_says("--bits 16 needs PNG or TIFF"));
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out' -f gif", in_path, out_dir), HS_ERR_USAGE);
    ck_assert_int_eq(run_cli("-i '%s' -o '%s/out.jpg' --quality 0", in_path, out_dir),
                     HS_ERR_USAGE);
    ck_assert_int_eq(run_cli("-i '%s' --tile -3 -o '%s/out.png'", in_path, out_dir), HS_ERR_USAGE);
    ck_assert_int_eq(entries_in(out_dir), 0);
    ck_assert_int_eq(run_cli("--help"), 0);
    ck_assert(log_says("--tile N"));
}
END_TEST

/* Ctrl-C while upscaling: the command runs on a pseudo-terminal (so it shows
 * its progress line), gets SIGINT as soon as the first tile's line appears,
 * and must stop between tiles with exit code 9, writing nothing. */
START_TEST(test_cli_ctrl_c_between_tiles)
{
    const char *binary = getenv("HIRESTYLE_BINARY");
    ck_assert_msg(binary && *binary, "HIRESTYLE_BINARY is not set (meson test sets it)");
    char in_path[PATH_SIZE], out_path[PATH_SIZE];
    temp_path(in_path, "ctrl-c-in.png");
    temp_path(out_path, "ctrl-c-out.png");
    hs_image in = random_image(96, 72, 3, 11);
    HS_CHECK(hs_image_save_png(in_path, &in, NULL));
    hs_image_free(&in);
    int terminal;
    pid_t pid = forkpty(&terminal, NULL, NULL, NULL);
    ck_assert_msg(pid >= 0, "forkpty failed");
    if (pid == 0) {
        execl(binary, binary, "upscale", "-i", in_path, "-o", out_path, "-m", "esrgan-slim-x4",
              "-t", "16", (char *)NULL);
        _exit(127);
    }
    char seen[8192];
    size_t length = 0;
    int signalled = 0;
    for (;;) { /* read until the first tile is reported, signal, then read to the end */
        struct pollfd p = {terminal, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, 300 * 1000) > 0, "no progress line in 300 s: '%.*s'",
                      (int)length, seen);
        ssize_t got = read(terminal, seen + length, sizeof seen - 1 - length);
        if (got <= 0) break; /* EIO: the command has exited */
        length += (size_t)got;
        seen[length] = '\0';
        if (!signalled && strstr(seen, "tile 1/")) {
            ck_assert_int_eq(kill(pid, SIGINT), 0);
            signalled = 1;
        }
        if (length + 1 == sizeof seen) length = 0; /* keep only the latest output */
    }
    close(terminal);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(signalled, "the command ended without a progress line: '%s'", seen);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == HS_ERR_INTERRUPTED,
                  "exit status %d, output '%s'", status, seen);
    ck_assert_msg(strstr(seen, "interrupted"), "no 'interrupted' in '%s'", seen);
    ck_assert_msg(access(out_path, F_OK) != 0, "%s was written", out_path);
}
END_TEST

/* ---- The suite ----------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *ftw)
{
    (void)info;
    (void)type;
    (void)ftw;
    return remove(path);
}

static TCase *new_case(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, test_setup, test_teardown);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(temp_dir, sizeof temp_dir, "%s/hirestyle-test-upscale-XXXXXX", base);
    if (!mkdtemp(temp_dir)) {
        perror("test_upscale: mkdtemp");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("nets");
    TCase *refs = new_case(s, "references");
    tcase_add_test(refs, test_thick_x4_matches_tfjs_and_torch);
    tcase_add_test(refs, test_slim_x4_matches_tfjs_and_torch);
    tcase_add_test(refs, test_medium_x2_matches_tfjs_and_torch);
    tcase_add_test(refs, test_srresnet_matches_torch);
    tcase_add_test(refs, test_rrdbnet_matches_torch);
    tcase_add_test(refs, test_tiny_rrdn_x3_matches_torch);
    tcase_add_test(refs, test_srresnet_weight_gradients_match_torch);
    tcase_add_test(refs, test_rrdbnet_weight_gradients_match_torch);
    tcase_add_test(refs, test_rrdn_weight_gradients_match_torch);
    TCase *tiling = new_case(s, "tiling");
    tcase_add_test(tiling, test_tiling_rdn);
    tcase_add_test(tiling, test_tiling_srresnet);
    tcase_add_test(tiling, test_tiling_rrdn);
    tcase_add_test(tiling, test_peers_share_tiles);
    tcase_add_test(tiling, test_margins);
    TCase *tta = new_case(s, "tta");
    tcase_add_test(tta, test_tta_is_the_mean_of_eight_orientations);
    tcase_add_test(tta, test_tta_of_a_symmetric_net_changes_nothing);
    tcase_add_test(tta, test_tta_progress_is_one_job);
    TCase *channels = new_case(s, "channels");
    tcase_add_test(channels, test_grey_and_alpha);
    tcase_add_test(channels, test_sixteen_bit);
    TCase *bad = new_case(s, "bad_weights");
    tcase_add_test(bad, test_truncated_weights_refused);
    tcase_add_test(bad, test_wrong_architecture_refused);
    tcase_add_test(bad, test_mismatched_shapes_refused);
    tcase_add_test(bad, test_rrdbnet_x2_refused);
    TCase *cli = new_case(s, "cli");
    tcase_add_test(cli, test_cli_upscales_an_rgba_png);
    tcase_add_test(cli, test_cli_errors);
    tcase_add_test(cli, test_cli_ctrl_c_between_tiles);
    tcase_add_test(cli, test_cli_formats);

    SRunner *runner = srunner_create(s);
    /* One process: the kernels are built once, the checkpoints made once. */
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (test_ctx) hs_context_destroy(test_ctx);
    nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

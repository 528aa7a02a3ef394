/* conv_algorithm.c — which algorithm computes a conv: im2col + GEMM
 * (op_conv.c), the implicit GEMM that never stores im2col's matrix
 * (host/gemm_kernel.c, HS_GEMM_Y_CONV), for a 3×3 stride-1 conv
 * Winograd F(2×2,3×3) or F(4×4,3×3) (op_winograd.c), or, for a stride-1
 * conv to at most HS_CONV_FEW_MAX channels, the direct conv_few kernel.
 *
 * In order: $HIRESTYLE_CONV=im2col|winograd2|winograd4|implicit|few (or
 * ctx->conv_force, which the tests set); else what `hirestyle tune`
 * measured fastest on this device (host/tune_conv.c) for the nearest
 * stored shape of the same kernel size and stride; else the default,
 * measured on PoCL's CPU device (see default_algorithm). Winograd is only
 * taken where it applies and fits the scratch limit (hs_winograd_fits), the
 * implicit GEMM only with our GEMM kernel (op_conv.c), few where it
 * applies, else im2col. A 1×1
 * stride-1 unpadded conv is always im2col's: a plain GEMM of the input.
 *
 * The stored file, conv-HASH.txt in the cache directory (HASH of platform,
 * device and driver, as the GEMM tuning's), has one line a shape:
 * "convKHxKW IC OC OH OW ALGORITHM" for stride 1, "convKHxKWsS ..." for
 * stride S.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[HS_CONV_ALGORITHMS] = {"im2col", "winograd2", "winograd4",
                                                       "implicit", "few"};

const char *hs_conv_algorithm_name(hs_conv_algorithm a)
{
    return a >= HS_CONV_IM2COL && a < HS_CONV_ALGORITHMS ? names[a] : "?";
}

static int parse_name(const char *s)
{
    for (int a = HS_CONV_IM2COL; a < HS_CONV_ALGORITHMS; a++)
        if (strcmp(s, names[a]) == 0) return a;
    return -1;
}

int hs_conv_algorithm_tile(hs_conv_algorithm a)
{
    return a == HS_CONV_WINOGRAD2 ? 2 : a == HS_CONV_WINOGRAD4 ? 4 : 0;
}

void hs_conv_algorithm_path(const hs_device_info *dev, char *out, size_t size)
{
    hs_cache_device_path(dev, "conv-", out, size);
}

int hs_conv_algorithm_parse(const char *line, hs_conv_choice *c)
{
    int used = 0;
    if (sscanf(line, "conv%dx%d%n", &c->kh, &c->kw, &used) != 2) return 0;
    line += used;
    c->stride = 1;
    if (*line == 's' && sscanf(line, "s%d%n", &c->stride, &used) == 1) line += used;
    if (*line != ' ') return 0;
    char algorithm[16];
    return sscanf(line, " %d %d %d %d %15s", &c->ic, &c->oc, &c->oh, &c->ow, algorithm) == 5 &&
           (c->algorithm = parse_name(algorithm)) >= 0;
}

void hs_conv_algorithm_format(const hs_conv_choice *c, char *out, size_t size)
{
    char stride[16] = "";
    if (c->stride != 1) snprintf(stride, sizeof stride, "s%d", c->stride);
    snprintf(out, size, "conv%dx%d%s %d %d %d %d %s", c->kh, c->kw, stride, c->ic, c->oc, c->oh,
             c->ow, hs_conv_algorithm_name(c->algorithm));
}

void hs_conv_algorithm_load(hs_context *ctx)
{
    ctx->conv_force = -1;
    const char *force = getenv("HIRESTYLE_CONV");
    if (force && *force) {
        ctx->conv_force = parse_name(force);
        if (ctx->conv_force < 0)
            fprintf(stderr, "hirestyle: warning: HIRESTYLE_CONV=%s is not im2col, winograd2, "
                            "winograd4, implicit or few; ignored\n", force);
    }
    ctx->conv_choice_count = 0;
    char path[4096];
    hs_conv_algorithm_path(&ctx->dev, path, sizeof path);
    const char *slash = strrchr(path, '/');
    if (!path[0] || !slash) return;
    size_t len = 0;
    char *text = (char *)hs_cache_read(slash + 1, 65536, &len);
    if (!text) return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save);
         line && ctx->conv_choice_count < HS_CONV_CHOICES; line = strtok_r(NULL, "\n", &save)) {
        hs_conv_choice c;
        if (!hs_conv_algorithm_parse(line, &c)) {
            if (ctx->verbose) fprintf(stderr, "conv: ignoring line '%s' of %s\n", line, path);
            continue;
        }
        ctx->conv_choices[ctx->conv_choice_count++] = c;
    }
    free(text);
    if (ctx->verbose)
        fprintf(stderr, "conv: %d measured algorithm choices from %s\n", ctx->conv_choice_count,
                path);
}

/* Untuned: what `hirestyle tune` measured faster on PoCL's CPU device (a
 * 2-core AVX-512 Zen 4), where our GEMM kernel runs. For a 3×3 stride-1
 * conv: F(4×4,3×3) from 64² output pixels, F(2×2,3×3) from 16² (VGG19's
 * 256 to 512 and 512 to 512 at 16² and 24²: 0.6-0.8 of im2col's time; at
 * 32² within 5 % of F(4×4); ResNet50's style iteration at 512 px 0.93-0.99
 * of its time with im2col below 32²), im2col below (12²: F(2×2) took 1.06;
 * 512 channels at 16²: the implicit GEMM took 1.14 of im2col's time
 * forward, twice backward; 8² twice as long); the implicit GEMM for thin
 * inputs (VGG19's conv1_1, 3 to 64: 0.43 of im2col's time at 256², 0.8 at
 * 512²), for thin outputs (64 to 4 channels at 148²: 0.55), for few
 * channels (under 3072 pairs: 64 to 32 and 48 to 48 at 148², 0.8-0.85 of
 * F(4×4)'s time; 96 to 32 took 1.2) and for larger or strided kernels (5×5
 * 0.7, 9×9 0.35-0.6, ResNet's 7×7 stride 2 0.75), but conv_few for at most
 * 4 outputs at stride 1 (64 to 4 at 256²: 0.33-0.43 of the implicit GEMM's
 * time, 48 to 3 at 512²: 0.42-0.54; 64 to 8 took 0.67-0.79, 64 to 6 by
 * 5×5 0.9-1.2, so those stay); im2col for 1×1 stride 2, and on devices
 * nobody has measured. */
static hs_conv_algorithm default_algorithm(const hs_context *ctx, const hs_conv_choice *shape)
{
    if (!hs_gemm_own_known_good(&ctx->dev) || (shape->kh == 1 && shape->kw == 1))
        return HS_CONV_IM2COL;
    if (shape->stride == 1 && shape->oc <= 4) return HS_CONV_FEW;
    if (shape->kh != 3 || shape->kw != 3 || shape->stride != 1) return HS_CONV_IMPLICIT;
    if (shape->ic < 16 || shape->oc < 16 || shape->ic * shape->oc < 3072)
        return HS_CONV_IMPLICIT;
    long pixels = (long)shape->oh * shape->ow;
    return pixels >= 64 * 64 ? HS_CONV_WINOGRAD4
           : pixels >= 16 * 16 ? HS_CONV_WINOGRAD2
                               : HS_CONV_IM2COL;
}

/* The stored choice for the nearest measured shape of the same kernel and
 * stride (distance: the sum of the log ratios of input channels, output
 * channels and half of pixels), or -1 when none is within a factor 4. */
static int measured(const hs_context *ctx, const hs_conv_choice *shape)
{
    int best = -1;
    double best_distance = log(4.0);
    for (int i = 0; i < ctx->conv_choice_count; i++) {
        const hs_conv_choice *c = &ctx->conv_choices[i];
        if (c->kh != shape->kh || c->kw != shape->kw || c->stride != shape->stride) continue;
        double distance =
            fabs(log((double)shape->ic / c->ic)) + fabs(log((double)shape->oc / c->oc)) +
            0.5 * fabs(log((double)shape->oh * shape->ow / ((double)c->oh * c->ow)));
        if (distance < best_distance) {
            best = i;
            best_distance = distance;
        }
    }
    return best < 0 ? -1 : ctx->conv_choices[best].algorithm;
}

hs_conv_algorithm hs_conv_algorithm_for(const hs_context *ctx, int ic, int oc, int h, int w,
                                        int kh, int kw, hs_conv_params p)
{
    if (kh == 1 && kw == 1 && p.stride == 1 && p.pad_h == 0 && p.pad_w == 0)
        return HS_CONV_IM2COL;
    hs_conv_choice shape = {kh, kw, p.stride, ic, oc, hs_conv_out_size(h, kh, p.stride, p.pad_h),
                            hs_conv_out_size(w, kw, p.stride, p.pad_w), -1};
    int a = ctx->conv_force;
    if (a < 0) a = measured(ctx, &shape);
    if (a < 0) a = default_algorithm(ctx, &shape);
    int m = hs_conv_algorithm_tile(a);
    if (m && !(kh == 3 && kw == 3 && p.stride == 1 &&
               hs_winograd_fits(ctx, m, ic, oc, h, w, p.pad_h, p.pad_w)))
        return HS_CONV_IM2COL;
    if (a == HS_CONV_FEW && !(p.stride == 1 && oc <= HS_CONV_FEW_MAX)) return HS_CONV_IM2COL;
    return a;
}

/* conv_algorithm.c — which algorithm computes a 3×3 stride-1 conv: im2col +
 * GEMM (op_conv.c) or Winograd F(2×2,3×3) or F(4×4,3×3) (op_winograd.c).
 *
 * In order: $HIRESTYLE_CONV=im2col|winograd2|winograd4 (or ctx->conv_force,
 * which the tests set); else what `hirestyle tune` measured fastest on this
 * device (host/tune_conv.c) for the nearest stored shape; else the
 * default, measured on PoCL's CPU device
 * (see default_algorithm). Winograd is only taken where it applies and fits
 * the scratch limit (hs_winograd_fits), else im2col.
 *
 * The stored file, conv-HASH.txt in the cache directory (HASH of platform,
 * device and driver, as the GEMM tuning's), has one line a shape:
 * "conv3x3 IC OC OH OW ALGORITHM".
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"im2col", "winograd2", "winograd4"};

const char *hs_conv_algorithm_name(hs_conv_algorithm a)
{
    return a >= HS_CONV_IM2COL && a <= HS_CONV_WINOGRAD4 ? names[a] : "?";
}

static int parse_name(const char *s)
{
    for (int a = HS_CONV_IM2COL; a <= HS_CONV_WINOGRAD4; a++)
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

void hs_conv_algorithm_load(hs_context *ctx)
{
    ctx->conv_force = -1;
    const char *force = getenv("HIRESTYLE_CONV");
    if (force && *force) {
        ctx->conv_force = parse_name(force);
        if (ctx->conv_force < 0)
            fprintf(stderr, "hirestyle: warning: HIRESTYLE_CONV=%s is not im2col, winograd2 "
                            "or winograd4; ignored\n", force);
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
        char algorithm[16];
        if (sscanf(line, "conv3x3 %d %d %d %d %15s", &c.ic, &c.oc, &c.oh, &c.ow, algorithm) != 5 ||
            (c.algorithm = parse_name(algorithm)) < 0) {
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
 * 2-core AVX-512 Zen 4), where our GEMM kernel runs: F(4×4,3×3) from 64²
 * output pixels, F(2×2,3×3) from 32², im2col below (512 channels at 16²:
 * im2col 0.95 of its GEMM's rate, F(2×2) 0.83) and for thin convs (an RGB
 * input); im2col on devices nobody has measured. */
static hs_conv_algorithm default_algorithm(const hs_context *ctx, int ic, int oc, int oh,
                                           int ow)
{
    if (!hs_gemm_own_known_good(&ctx->dev) || ic < 16 || oc < 16) return HS_CONV_IM2COL;
    long pixels = (long)oh * ow;
    return pixels >= 64 * 64 ? HS_CONV_WINOGRAD4
           : pixels >= 32 * 32 ? HS_CONV_WINOGRAD2
                               : HS_CONV_IM2COL;
}

/* The stored choice for the nearest measured shape (distance: the sum of
 * the log ratios of input channels, output channels and half of pixels),
 * or -1 when none is within a factor 4. */
static int measured(const hs_context *ctx, int ic, int oc, int oh, int ow)
{
    int best = -1;
    double best_distance = log(4.0);
    for (int i = 0; i < ctx->conv_choice_count; i++) {
        const hs_conv_choice *c = &ctx->conv_choices[i];
        double distance = fabs(log((double)ic / c->ic)) + fabs(log((double)oc / c->oc)) +
                          0.5 * fabs(log((double)oh * ow / ((double)c->oh * c->ow)));
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
    if (kh != 3 || kw != 3 || p.stride != 1 || p.pad_h < 0 || p.pad_h > 2 || p.pad_w < 0 ||
        p.pad_w > 2)
        return HS_CONV_IM2COL;
    int oh = h + 2 * p.pad_h - 2, ow = w + 2 * p.pad_w - 2;
    int a = ctx->conv_force;
    if (a < 0) a = measured(ctx, ic, oc, oh, ow);
    if (a < 0) a = default_algorithm(ctx, ic, oc, oh, ow);
    int m = hs_conv_algorithm_tile(a);
    if (m && !hs_winograd_fits(ctx, m, ic, oc, h, w, p.pad_h, p.pad_w)) return HS_CONV_IM2COL;
    return a;
}

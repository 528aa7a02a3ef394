/* train_data.c — training data for super-resolution (train_sr.h): a folder
 * of photographs held in memory as RGB8, random crops of them turned by one
 * of the square's 8 symmetries, and their low-resolution versions by
 * bicubic downsampling, optionally blurred first and noised and re-encoded
 * as JPEG after (Real-ESRGAN's degradations, one order, simplified). */
#include "train_sr.h"
#include "engine.h"
#include "image_codec.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The folder ----------------------------------------------------------------- */

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_image_name(const char *name)
{
    return name[0] != '.' && hs_image_format_from_path(name) != HS_FORMAT_AUTO;
}

/* One file as RGB8, its longer side at most max_side. */
static hs_status load_one(const char *path, int max_side, hs_image *out)
{
    hs_load_options options = {.longest_side = max_side};
    hs_image raw = {0}, rgb = {0};
    HS_TRY(hs_image_load_with(path, &options, &raw));
    hs_status st = hs_image_convert(&raw, 3, &rgb);
    hs_image_free(&raw);
    if (st != HS_OK) return hs_fail_context(st, "%s", path);
    int longer = rgb.width > rgb.height ? rgb.width : rgb.height;
    if (max_side <= 0 || longer <= max_side) {
        *out = rgb;
        return HS_OK;
    }
    int w = (int)((double)rgb.width * max_side / longer + 0.5);
    int h = (int)((double)rgb.height * max_side / longer + 0.5);
    st = hs_image_resize(&rgb, w > 0 ? w : 1, h > 0 ? h : 1, out);
    hs_image_free(&rgb);
    return st;
}

hs_status hs_train_images_load(const char *dir, int max_side, int min_side, hs_train_images *out)
{
    memset(out, 0, sizeof *out);
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, by_name);
    if (n < 0) return hs_fail(HS_ERR_IO, "%s: cannot read the folder", dir);
    out->images = calloc((size_t)n + 1, sizeof *out->images);
    out->paths = calloc((size_t)n + 1, sizeof *out->paths);
    hs_status st = out->images && out->paths ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (int i = 0; i < n; i++) {
        if (st == HS_OK && is_image_name(entries[i]->d_name)) {
            size_t size = strlen(dir) + strlen(entries[i]->d_name) + 2;
            char *path = malloc(size);
            if (!path) st = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
            if (st == HS_OK) {
                snprintf(path, size, "%s/%s", dir, entries[i]->d_name);
                hs_image *img = &out->images[out->count];
                st = load_one(path, max_side, img);
                if (st == HS_OK) {
                    out->paths[out->count++] = path;
                    if (img->width < min_side || img->height < min_side)
                        st = hs_fail(HS_ERR_USAGE, "%s: %dx%d is smaller than the %dx%d patches",
                                     path, img->width, img->height, min_side, min_side);
                } else {
                    free(path);
                }
            }
        }
        free(entries[i]);
    }
    free(entries);
    if (st == HS_OK && out->count == 0)
        st = hs_fail(HS_ERR_USAGE, "%s: no images (PNG, JPEG, WebP or TIFF) in the folder", dir);
    if (st != HS_OK) hs_train_images_free(out);
    return st;
}

void hs_train_images_free(hs_train_images *set)
{
    for (int i = 0; i < set->count; i++) {
        hs_image_free(&set->images[i]);
        free(set->paths[i]);
    }
    free(set->images);
    free(set->paths);
    memset(set, 0, sizeof *set);
}

/* ---- Pixels to planes --------------------------------------------------------------- */

void hs_rgb8_to_planes(const uint8_t *pixels, int w, int h, const hs_normalize *norm, float *out)
{
    size_t plane = (size_t)w * h;
    for (int c = 0; c < 3; c++) {
        int from = norm && norm->bgr ? 2 - c : c;
        float scale = norm ? norm->scale : 1.0f / 255.0f;
        float mean = norm ? norm->mean[c] : 0.0f, std = norm ? norm->std[c] : 1.0f;
        for (size_t i = 0; i < plane; i++)
            out[c * plane + i] = ((float)pixels[i * 3 + from] * scale - mean) / std;
    }
}

/* ---- Degradations -------------------------------------------------------------------- */

/* Separable Gaussian blur of sigma (edges clamped), in place. */
static hs_status blur(hs_image *img, double sigma)
{
    int radius = (int)ceil(3.0 * sigma);
    if (radius < 1) return HS_OK;
    int w = img->width, h = img->height, taps = 2 * radius + 1;
    float *kernel = malloc((size_t)taps * sizeof *kernel);
    float *tmp = malloc((size_t)w * h * 3 * sizeof *tmp);
    if (!kernel || !tmp) {
        free(kernel);
        free(tmp);
        return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    }
    double sum = 0;
    for (int i = 0; i < taps; i++) sum += kernel[i] = (float)exp(-0.5 * pow((i - radius) / sigma, 2));
    for (int i = 0; i < taps; i++) kernel[i] = (float)(kernel[i] / sum);
    for (int y = 0; y < h; y++) /* rows into tmp */
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                float acc = 0;
                for (int k = -radius; k <= radius; k++) {
                    int xx = x + k < 0 ? 0 : x + k >= w ? w - 1 : x + k;
                    acc += kernel[k + radius] * img->pixels[((size_t)y * w + xx) * 3 + c];
                }
                tmp[((size_t)y * w + x) * 3 + c] = acc;
            }
    for (int y = 0; y < h; y++) /* columns back into the image */
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                float acc = 0;
                for (int k = -radius; k <= radius; k++) {
                    int yy = y + k < 0 ? 0 : y + k >= h ? h - 1 : y + k;
                    acc += kernel[k + radius] * tmp[((size_t)yy * w + x) * 3 + c];
                }
                img->pixels[((size_t)y * w + x) * 3 + c] = (uint8_t)lrintf(acc);
            }
    free(kernel);
    free(tmp);
    return HS_OK;
}

static void add_noise(hs_image *img, double sigma, uint64_t *rng)
{
    size_t n = (size_t)img->width * img->height * 3;
    for (size_t i = 0; i < n; i++) {
        double v = img->pixels[i] + sigma * hs_rng_normal(rng);
        img->pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
    }
}

/* Encode as JPEG of this quality in memory (libjpeg) and decode again. */
static hs_status jpeg_roundtrip(hs_image *img, int quality)
{
    char *bytes = NULL;
    size_t size = 0;
    FILE *fp = open_memstream(&bytes, &size);
    if (!fp) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = hs_encode_jpeg(fp, "degradation", img, quality);
    fclose(fp);
    hs_image decoded = {0};
    if (st == HS_OK) st = hs_image_decode(bytes, size, "degradation", NULL, &decoded);
    free(bytes);
    if (st != HS_OK) return st;
    hs_image_free(img);
    *img = decoded;
    return HS_OK;
}

/* ---- Batches ------------------------------------------------------------------------- */

/* A patch×patch crop of img at (x0, y0) under symmetry `sym` (bit 0: flip
 * left-right, bit 1: flip top-bottom, bit 2: transpose), into out. */
static void crop_turned(const hs_image *img, int x0, int y0, int patch, int sym, hs_image *out)
{
    for (int y = 0; y < patch; y++)
        for (int x = 0; x < patch; x++) {
            int u = x, v = y;
            if (sym & 4) u = y, v = x;
            if (sym & 1) u = patch - 1 - u;
            if (sym & 2) v = patch - 1 - v;
            const uint8_t *src = img->pixels + ((size_t)(y0 + v) * img->width + (x0 + u)) * 3;
            memcpy(out->pixels + ((size_t)y * patch + x) * 3, src, 3);
        }
}

/* The low-resolution version of hr, degraded as deg says. */
static hs_status degrade(const hs_image *hr, int scale, const hs_degradation *deg, uint64_t *rng,
                         hs_image *lr)
{
    hs_image source = *hr, blurred = {0};
    double sigma = deg->blur > 0 ? hs_rng_uniform(rng) * deg->blur : 0.0;
    if (sigma > 0.1) {
        HS_TRY(hs_image_alloc(&blurred, hr->width, hr->height, 3, 8));
        memcpy(blurred.pixels, hr->pixels, (size_t)hr->width * hr->height * 3);
        hs_status st = blur(&blurred, sigma);
        if (st != HS_OK) {
            hs_image_free(&blurred);
            return st;
        }
        source = blurred;
    }
    hs_status st = hs_image_resize(&source, hr->width / scale, hr->height / scale, lr);
    hs_image_free(&blurred);
    if (st != HS_OK) return st;
    if (deg->noise > 0) add_noise(lr, hs_rng_uniform(rng) * deg->noise, rng);
    if (deg->jpeg_min > 0)
        st = jpeg_roundtrip(lr, deg->jpeg_min + hs_rng_below(rng, 101 - deg->jpeg_min));
    return st;
}

hs_status hs_train_batch(const hs_train_images *set, int n, int patch, int scale,
                         const hs_degradation *deg, const hs_normalize *norm, uint64_t *rng,
                         float *input, float *target)
{
    int small = patch / scale;
    hs_image hr = {0};
    HS_TRY(hs_image_alloc(&hr, patch, patch, 3, 8));
    hs_status st = HS_OK;
    for (int b = 0; st == HS_OK && b < n; b++) {
        const hs_image *img = &set->images[hs_rng_below(rng, set->count)];
        int x0 = hs_rng_below(rng, img->width - patch + 1);
        int y0 = hs_rng_below(rng, img->height - patch + 1);
        crop_turned(img, x0, y0, patch, hs_rng_below(rng, 8), &hr);
        hs_image lr = {0};
        st = degrade(&hr, scale, deg, rng, &lr);
        if (st != HS_OK) break;
        hs_rgb8_to_planes(lr.pixels, small, small, norm, input + (size_t)b * 3 * small * small);
        hs_rgb8_to_planes(hr.pixels, patch, patch, NULL, target + (size_t)b * 3 * patch * patch);
        hs_image_free(&lr);
    }
    hs_image_free(&hr);
    return st;
}

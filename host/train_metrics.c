/* train_metrics.c — PSNR and SSIM on the luma channel, as super-resolution
 * papers report them: Y of ITU-R BT.601 in 16..235 (MATLAB's rgb2ycbcr),
 * `shave` pixels cut from every side (the scale, by convention), SSIM with
 * an 11×11 Gaussian window of sigma 1.5 over the positions where it fits
 * (Wang et al. 2004, as skimage with gaussian_weights=True, use_sample_covariance=False). */
#include "train_sr.h"

#include <math.h>
#include <stdlib.h>

/* The Y plane of img inside the shaved border; NULL when out of memory. */
static double *luma(const hs_image *img, int shave, int *w, int *h)
{
    *w = img->width - 2 * shave;
    *h = img->height - 2 * shave;
    if (*w < 1 || *h < 1) return NULL;
    double *y = malloc((size_t)*w * *h * sizeof *y);
    for (int r = 0; y && r < *h; r++)
        for (int c = 0; c < *w; c++) {
            const uint8_t *p = img->pixels + ((size_t)(r + shave) * img->width + c + shave) * 3;
            y[(size_t)r * *w + c] = 16.0 + (65.481 * p[0] + 128.553 * p[1] + 24.966 * p[2]) / 255.0;
        }
    return y;
}

double hs_psnr_y(const hs_image *a, const hs_image *b, int shave)
{
    int w, h;
    double *ya = luma(a, shave, &w, &h), *yb = luma(b, shave, &w, &h);
    double mse = 0;
    for (size_t i = 0; ya && yb && i < (size_t)w * h; i++) mse += (ya[i] - yb[i]) * (ya[i] - yb[i]);
    int ok = ya && yb;
    free(ya);
    free(yb);
    if (!ok) return NAN;
    mse /= (double)w * h;
    return mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : INFINITY;
}

#define SSIM_RADIUS 5
#define SSIM_SIGMA 1.5

double hs_ssim_y(const hs_image *a, const hs_image *b, int shave)
{
    int w, h;
    double *x = luma(a, shave, &w, &h), *y = luma(b, shave, &w, &h);
    int n = 2 * SSIM_RADIUS + 1;
    if (!x || !y || w < n || h < n) {
        free(x);
        free(y);
        return NAN;
    }
    double g[2 * SSIM_RADIUS + 1], sum = 0;
    for (int i = 0; i < n; i++)
        sum += g[i] = exp(-0.5 * (i - SSIM_RADIUS) * (i - SSIM_RADIUS) / (SSIM_SIGMA * SSIM_SIGMA));
    for (int i = 0; i < n; i++) g[i] /= sum;
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    double total = 0;
    for (int r = 0; r + n <= h; r++)
        for (int c = 0; c + n <= w; c++) {
            double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    double wt = g[i] * g[j];
                    double u = x[(size_t)(r + i) * w + c + j], v = y[(size_t)(r + i) * w + c + j];
                    mx += wt * u, my += wt * v;
                    xx += wt * u * u, yy += wt * v * v, xy += wt * u * v;
                }
            double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
            total += ((2 * mx * my + c1) * (2 * cov + c2)) /
                     ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
    free(x);
    free(y);
    return total / ((double)(h - n + 1) * (w - n + 1));
}

#!/usr/bin/python3
"""PSNR and SSIM on the Y channel as super-resolution papers report them, in
numpy (the reference of host/train_metrics.c; skimage is not needed).

usage: sr_metrics.py A.png B.png SHAVE     prints "psnr ssim"

Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 (MATLAB's rgb2ycbcr), SHAVE
pixels cut from every side. SSIM (Wang et al. 2004): Gaussian window 11x11,
sigma 1.5, K1 0.01, K2 0.03, L 255, population (co)variances, the mean of the
map over the positions where the window fits.
"""

import sys

import numpy as np
from PIL import Image


def luma(path, shave):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    y = 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return y[shave:y.shape[0] - shave, shave:y.shape[1] - shave] if shave else y


def psnr(a, b):
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def filter_valid(x, g):
    """Correlate x with the separable window g (outer(g, g)) where it fits."""
    n = len(g)
    rows = sum(g[i] * x[:, i:x.shape[1] - n + 1 + i] for i in range(n))
    return sum(g[i] * rows[i:rows.shape[0] - n + 1 + i, :] for i in range(n))


def ssim(x, y):
    r = np.arange(11) - 5
    g = np.exp(-0.5 * r ** 2 / 1.5 ** 2)
    g /= g.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = filter_valid(x, g), filter_valid(y, g)
    vx = filter_valid(x * x, g) - mx * mx
    vy = filter_valid(y * y, g) - my * my
    cov = filter_valid(x * y, g) - mx * my
    m = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return float(m.mean())


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    shave = int(argv[3])
    a, b = luma(argv[1], shave), luma(argv[2], shave)
    print("%.12g %.12g" % (psnr(a, b), ssim(a, b)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""The peer of `hirestyle bench style`: one style-transfer iteration in PyTorch
(CPU, 2 threads unless --threads) on the same weights, image size and loss
definitions (tools/reference/style_ref.py, host/style.h), timed by phase.

usage: bench_style_torch.py WEIGHTS... [--image-size N] [--iters N] [--threads N]
Prints what it runs on (bench_peer_torch.describe), then per network:
    network image s/iter forward backward loss step RSS-MiB
(RSS: the process's peak resident memory from loading the network on).
"""

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import nets  # noqa: E402
from style_ref import gram, term  # noqa: E402

from bench_peer_torch import describe, peak_rss_mib, peak_rss_reset  # noqa: E402

LAYERS = {  # as hs_style_defaults: content, style, mode, content/style weight
    "vgg19": (["relu4_2"], ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"], "mse", 1.0, 1e6),
    "resnet50": (["res3d"], ["conv1_relu", "res2c", "res3d", "res4f"], "normalized", 1.0, 3.0),
}
ORDER = {"vgg19": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"],
         "resnet50": ["conv1_relu", "res2c", "res3d", "res4f"]}


def bench(path, size, iters):
    peak_rss_reset()
    model = nets.load(path)
    content_layers, style_layers, mode, cw, sw = LAYERS[model.arch]
    last = ORDER[model.arch][-1]
    h = size * 3 // 4
    g = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, h, size, generator=g)
    style = torch.rand(1, 3, size, size, generator=g)
    with torch.no_grad():
        fc = model(nets.preprocess(model, content), last=last)
        fs = model(nets.preprocess(model, style), last=last)
        ct = [fc[n] for n in content_layers]
        st = [gram(fs[n], mode) for n in style_layers]
    x = torch.rand(1, 3, h, size, generator=g).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    phases = {"forward": 0.0, "loss": 0.0, "backward": 0.0, "step": 0.0}
    for it in range(iters + 2):
        t0 = time.perf_counter()
        f = model(nets.preprocess(model, x), last=last)
        t1 = time.perf_counter()
        loss = cw * sum(term(f[n], t, mode) for n, t in zip(content_layers, ct))
        loss = loss + sw * sum(term(gram(f[n], mode), t, mode) for n, t in zip(style_layers, st))
        t2 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        t4 = time.perf_counter()
        if it >= 2:  # two warm-up iterations, as hirestyle's
            for k, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases[k] += dt
    per = {k: v / iters for k, v in phases.items()}
    print("%-9s %5dx%-5d %8.3f %8.3f %8.3f %8.3f %8.3f %8.0f" % (
        model.arch, size, h, sum(per.values()), per["forward"], per["backward"], per["loss"],
        per["step"], peak_rss_mib()), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    print(describe(a.threads))
    print("%-9s %-11s %8s %8s %8s %8s %8s %8s" % ("network", "image", "s/iter", "forward",
                                                  "backward", "loss", "step", "RSS MiB"))
    for w in a.weights:
        bench(w, a.image_size, a.iters)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The peer of `hirestyle bench ops`: the same conv shapes in PyTorch (CPU,
2 threads unless --threads): forward and backward w.r.t. the input, and
torch.mm at the conv's GEMM shape; then the Gram matrices of ResNet50's style
layers, torch.mm(F, F.t()) and its backward torch.mm(dG + dG.t(), F). Median of
--repeat runs after a warm-up.

usage: bench_ops_torch.py [--sizes 256,512] [--repeat 3] [--threads 2]
Prints: net layer in out size fwd_ms GFLOP/s bwd_ms GFLOP/s M N K mm_GFLOP/s,
then:   gram layer C H*W fwd_ms GFLOP/s bwd_ms GFLOP/s (GFLOP/s of 2*C*C*H*W)
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bench_peer_torch import describe

VGG = [("conv1_1", 3, 64, 0), ("conv1_2", 64, 64, 0), ("conv2_1", 64, 128, 1),
       ("conv2_2", 128, 128, 1), ("conv3_1", 128, 256, 2), ("conv3_2-4", 256, 256, 2),
       ("conv4_1", 256, 512, 3), ("conv4_2-4", 512, 512, 3), ("conv5_1-4", 512, 512, 4)]


def median_time(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(net, layer, ic, oc, size, repeat):
    x = torch.rand(1, ic, size, size, requires_grad=True)
    w = torch.rand(oc, ic, 3, 3) * 0.01
    b = torch.rand(oc)
    with torch.no_grad():
        fwd = median_time(lambda: F.conv2d(x, w, b, padding=1), repeat)
    y = F.conv2d(x, w, b, padding=1)
    dy = torch.rand_like(y)
    bwd = median_time(lambda: torch.autograd.grad(y, x, dy, retain_graph=True), repeat)
    m, n, k = oc, size * size, ic * 9
    a, bm = torch.rand(m, k), torch.rand(k, n)
    mm = median_time(lambda: torch.mm(a, bm), repeat)
    gflop = 2.0 * m * n * k * 1e-9
    print("%-7s %-10s %4d %4d %5d  %9.2f %7.1f  %9.2f %7.1f  %5dx%-6dx%4d %7.1f" % (
        net, layer, ic, oc, size, fwd * 1e3, gflop / fwd, bwd * 1e3, gflop / bwd, m, n, k,
        gflop / mm), flush=True)


RESNET_STYLE = [("conv1_relu", 64, 1), ("res2c", 256, 2), ("res3d", 512, 3), ("res4f", 1024, 4)]


def bench_gram(layer, c, side, repeat):
    f = torch.rand(c, side * side) * 0.01
    dg = torch.rand(c, c)
    fwd = median_time(lambda: torch.mm(f, f.t()), repeat)
    bwd = median_time(lambda: torch.mm(dg + dg.t(), f), repeat)
    gflop = 2.0 * c * c * side * side * 1e-9
    print("%-7s %-10s %4d %6d  %9.2f %7.1f  %9.2f %7.1f" % (
        "gram", layer, c, side * side, fwd * 1e3, gflop / fwd, bwd * 1e3, gflop / bwd),
        flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    print(describe(a.threads))
    print("%-7s %-10s %4s %4s %5s  %9s %7s  %9s %7s  %-17s %7s" % (
        "net", "layer", "in", "out", "size", "fwd ms", "GFLOP/s", "bwd-in ms", "GFLOP/s",
        "GEMM MxNxK", "mm"))
    for s in (int(v) for v in a.sizes.split(",")):
        for layer, ic, oc, shift in VGG:
            bench("vgg19", layer, ic, oc, s >> shift, a.repeat)
    bench("sr", "64ch-3x3", 64, 64, 128, a.repeat)
    for s in (int(v) for v in a.sizes.split(",")):
        for layer, c, shift in RESNET_STYLE:
            bench_gram(layer, c, s >> shift, a.repeat)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Time tools/reference/nets.py's PyTorch generators on the same weights and
image size as `hirestyle bench upscale`: the PyTorch side of tools/bench.sh.

usage: bench_upscale_torch.py [--size N] [--repeat N] [--threads N] [MODEL ...]

MODEL is a weights file name in weights/ without .safetensors (default:
esrgan-thick-x4 esrgan-medium-x4 esrgan-slim-x4). Each model gets one
warm-up run on a 64x64 image, then the median of --repeat runs on one
N x N image of random pixels, whole (no tiling), on --threads CPU threads
(default 2, the machine's cores). Prints what it runs on
(bench_peer_torch.describe), then one line per model:
    MODEL SIZE SECONDS MP/s RSS-MiB   (output megapixels per second; the
                                      process's peak resident memory from
                                      loading the model on)

The generators are nets.py's, with its two reference loops swapped for
PyTorch's own ops: nearest upsampling through F.interpolate and the
esrgan-thick (RRDN) TensorFlow-order depth_to_space through F.pixel_shuffle,
its PreShuffle conv's output channels permuted to match. use_torch_ops()
checks that both give nets.py's output before anything is timed.
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))
import nets  # noqa: E402

from bench_peer_torch import describe, peak_rss_mib, peak_rss_reset  # noqa: E402

DEFAULT_MODELS = ("esrgan-thick-x4", "esrgan-medium-x4", "esrgan-slim-x4")


def weights_path(name):
    base = os.environ.get("HIRESTYLE_WEIGHTS") or os.path.join(os.path.dirname(HERE), "weights")
    path = os.path.join(base, name + ".safetensors")
    if not os.path.exists(path):
        raise SystemExit("bench_upscale_torch: %s is missing: run tools/fetch_weights.sh" % path)
    return path


def tf_to_torch_shuffle_order(channels, r):
    """Index list p: conv output p[o] in TF depth_to_space order is channel o
    in F.pixel_shuffle's order (o = c*r*r + i*r + j; TF's (i*r + j)*C + c)."""
    c_out = channels // (r * r)
    return [(o % (r * r)) * c_out + o // (r * r) for o in range(channels)]


def use_torch_ops(model):
    """Swap nets.py's reference upsampling and TF depth_to_space for PyTorch's
    F.interpolate and F.pixel_shuffle (permuting RRDN's PreShuffle weights),
    after checking on a small input that the output does not change."""
    x = torch.rand(1, 3, 12, 12, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = model(nets.preprocess(model, x))
    if model.arch == "rrdn":
        r = int(model.meta["scale"])
        for key in ("PreShuffle.weight", "PreShuffle.bias"):
            t = model.w[key]
            model.w[key] = t[tf_to_torch_shuffle_order(t.shape[0], r)].contiguous()
    nets.depth_to_space_tf = lambda t, r: F.pixel_shuffle(t, r)
    nets.upsample_nearest = lambda t, r: F.interpolate(t, scale_factor=r, mode="nearest")
    with torch.no_grad():
        got = model(nets.preprocess(model, x))
    scale = expected.abs().max().item() or 1.0
    if (got - expected).abs().max().item() > 1e-4 * scale:
        raise SystemExit("bench_upscale_torch: PyTorch's own ops change %s's output" % model.arch)


def run_once(model, size, generator):
    rgb01 = torch.randint(0, 256, (1, 3, size, size), generator=generator).float() / 255
    x = nets.preprocess(model, rgb01)
    start = time.perf_counter()
    with torch.no_grad():
        y = model(x)
    seconds = time.perf_counter() - start
    return seconds, y.shape[2] * y.shape[3] / 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    generator = torch.Generator().manual_seed(12345)
    print(describe(a.threads))
    print("%-17s %5s %9s %8s %8s" % ("model", "size", "seconds", "MP/s", "RSS MiB"))
    reference_ops = nets.depth_to_space_tf, nets.upsample_nearest
    for name in a.models:
        nets.depth_to_space_tf, nets.upsample_nearest = reference_ops
        peak_rss_reset()
        model = nets.load(weights_path(name))
        use_torch_ops(model)
        run_once(model, 64, generator)
        runs = [run_once(model, a.size, generator) for _ in range(a.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        print("%-17s %5d %9.2f %8.3f %8.0f" % (name, a.size, seconds, runs[0][1] / seconds,
                                              peak_rss_mib()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

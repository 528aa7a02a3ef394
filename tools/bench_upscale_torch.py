#!/usr/bin/python3
"""Time tools/reference/nets.py's PyTorch generators on the same weights and
image size as `hirestyle bench upscale`: the PyTorch side of tools/bench.sh.

usage: bench_upscale_torch.py [--size N] [--repeat N] [--threads N] [MODEL ...]

MODEL is a weights file name in weights/ without .safetensors (default:
esrgan-thick-x4 esrgan-medium-x4 esrgan-slim-x4). Each model gets one
warm-up run on a 64x64 image, then the median of --repeat runs on one
N x N image of random pixels, whole (no tiling), on --threads CPU threads
(default 2, the machine's cores). Prints one line per model:
    MODEL SIZE SECONDS MP/s           (output megapixels per second)
"""

import argparse
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reference"))
import nets  # noqa: E402

DEFAULT_MODELS = ("esrgan-thick-x4", "esrgan-medium-x4", "esrgan-slim-x4")


def weights_path(name):
    base = os.environ.get("HIRESTYLE_WEIGHTS") or os.path.join(os.path.dirname(HERE), "weights")
    path = os.path.join(base, name + ".safetensors")
    if not os.path.exists(path):
        raise SystemExit("bench_upscale_torch: %s is missing: run tools/fetch_weights.sh" % path)
    return path


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
    torch.set_num_threads(a.threads)
    generator = torch.Generator().manual_seed(12345)
    print("torch %s, %d threads" % (torch.__version__, a.threads))
    print("%-17s %5s %9s %8s" % ("model", "size", "seconds", "MP/s"))
    for name in a.models:
        model = nets.load(weights_path(name))
        run_once(model, 64, generator)
        runs = [run_once(model, a.size, generator) for _ in range(a.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        print("%-17s %5d %9.2f %8.3f" % (name, a.size, seconds, runs[0][1] / seconds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

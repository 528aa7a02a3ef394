#!/usr/bin/python3
"""End-to-end check of converted UpscalerJS models against the package's own sample outputs.

usage: check_upscalerjs_samples.py [--weights DIR] [--npm DIR]

Each @upscalerjs/esrgan-* package ships assets/fixture.png (128x128) and
assets/samples/{s}x/result.png, the package's upscaled output.  This runs
tools/reference/nets.py on weights/esrgan-{size}-x{s}.safetensors with
preprocessing from the file's metadata (input_range, rgb) and compares the
8-bit rounded, clipped output with result.png.  This confirms the input and
output ranges and the channel order end to end.  Fails if any pixel differs
by more than 2/255.
"""

import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nets  # noqa: E402


def main():
    root = os.path.dirname(os.path.dirname(HERE))
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(root, "weights"))
    ap.add_argument("--npm", default=None)
    a = ap.parse_args()
    npm = a.npm or os.path.join(a.weights, "npm")
    torch.set_num_threads(os.cpu_count() or 1)
    fails, n = [], 0
    for size in ("thick", "medium", "slim"):
        pkg = os.path.join(npm, "upscalerjs-esrgan-%s-1.0.0" % size, "package", "assets")
        if not os.path.isdir(pkg):
            print("skip %s: %s missing (run tools/fetch_weights.sh esrgan)" % (size, pkg))
            continue
        img = np.asarray(Image.open(os.path.join(pkg, "fixture.png")).convert("RGB"), np.float32) / 255.0
        x = torch.from_numpy(img.transpose(2, 0, 1).copy())[None]
        for s in (2, 3, 4, 8):
            ref_p = os.path.join(pkg, "samples", "%dx" % s, "result.png")
            st = os.path.join(a.weights, "esrgan-%s-x%d.safetensors" % (size, s))
            if not (os.path.exists(ref_p) and os.path.exists(st)):
                continue
            net = nets.load(st)
            with torch.no_grad():
                y = net(nets.preprocess(net, x))[0].permute(1, 2, 0).numpy()
            y8 = np.clip(np.round(y / float(net.meta["output_range"]) * 255.0), 0, 255)
            ref = np.asarray(Image.open(ref_p).convert("RGB"), np.float32)
            n += 1
            if y8.shape != ref.shape:
                print("esrgan-%s-x%d: shape %s vs sample %s  FAIL" % (size, s, y8.shape, ref.shape))
                fails.append((size, s))
                continue
            d = np.abs(y8 - ref)
            ok = d.max() <= 2
            print("esrgan-%s-x%d vs package sample: max|diff| %d/255, mean %.4f, pixels off by >1: %d%s"
                  % (size, s, d.max(), d.mean(), int((d > 1).sum()), "" if ok else "  FAIL"))
            if not ok:
                fails.append((size, s))
    print("check_upscalerjs_samples: %d compared, %s" % (n, "OK" if not fails and n else "FAILED"))
    return 0 if n and not fails else 1


if __name__ == "__main__":
    sys.exit(main())

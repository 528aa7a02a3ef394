#!/usr/bin/python3
"""Gradients of a network's weights and input in PyTorch (nets.py), for the
C test of hs_net_backward_weights (tests/test_upscale.c).

usage: net_grads.py MODEL.safetensors IN.f32 N H W R.f32 OUTDIR

IN.f32 holds the network input (N,3,H,W) and R.f32 the loss weights r
shaped like the output, both raw little-endian float32 in NCHW order. With
L = sum(r * net(x)), writes OUTDIR/NAME.f32 = dL/dNAME for every tensor NAME
of the weights file (in its own shape) and OUTDIR/input.f32 = dL/dx.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402


def main(argv):
    if len(argv) != 8:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, in_path, n, h, w, r_path, out_dir = argv[1:]
    n, h, w = int(n), int(h), int(w)
    model = nets.load(model_path)
    for name in model.w:
        model.w[name] = model.w[name].clone().requires_grad_(True)
    x = torch.from_numpy(np.fromfile(in_path, dtype="<f4").reshape(n, 3, h, w).copy())
    x.requires_grad_(True)
    out = model(x)
    r = torch.from_numpy(np.fromfile(r_path, dtype="<f4").reshape(out.shape).copy())
    (r * out).sum().backward()
    os.makedirs(out_dir, exist_ok=True)
    for name, t in model.w.items():
        grad = t.grad if t.grad is not None else torch.zeros_like(t)
        grad.detach().numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".f32"))
    x.grad.detach().numpy().astype("<f4").tofile(os.path.join(out_dir, "input.f32"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

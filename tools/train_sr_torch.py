#!/usr/bin/python3
"""The PyTorch peer of `hirestyle train-sr`: the same generator (a hirestyle
safetensors file run by tools/reference/nets.py), the same loss (mean L1 in
[0,1] units), the same global-norm clipping, torch.optim.Adam and the same
EMA with warm-up (decay min(ema, (1+t)/(10+t)) after step t).

Two uses:

  train_sr_torch.py step MODEL.safetensors IN.f32 TARGET.f32 N H W STEPS LR CLIP EMA OUTDIR
      The reference of tests/test_train.c: STEPS steps on one batch (IN: the
      net's input (N,3,H,W), TARGET: (N,3,sH,sW) in [0,1], raw float32), Adam
      betas 0.9, 0.99, eps 1e-8. Writes OUTDIR/NAME.f32 (the weights after the
      steps), OUTDIR/ema.NAME.f32 and OUTDIR/loss.f32 (the loss of each step).

  train_sr_torch.py bench MODEL.safetensors --batch B --patch P --steps S [--warmup W] [--threads T]
      Speed: S timed steps (after W untimed) on random crops of random images
      in [0,1] (the net and recipe as hirestyle's; the crops its own), printing
      "torch: X s/step". Run beside `hirestyle bench train` (tools/bench.sh train).
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import nets  # noqa: E402


class Trainer:
    def __init__(self, model, lr, clip, ema):
        self.model = model
        # a checkpoint also holds the training state ("train." tensors): not the net's
        self.params = {k: v.clone().requires_grad_(True) for k, v in model.w.items()
                       if not k.startswith("train.")}
        model.w = self.params
        self.opt = torch.optim.Adam(self.params.values(), lr=lr, betas=(0.9, 0.99), eps=1e-8)
        self.clip = clip
        self.ema_decay = ema
        self.ema = {k: v.detach().clone() for k, v in self.params.items()}
        self.range = float(model.meta.get("output_range", "1"))
        self.steps = 0

    def step(self, x, target):
        self.opt.zero_grad()
        out = self.model(x)
        loss = (out / self.range - target).abs().mean()
        loss.backward()
        grads = [p.grad for p in self.params.values()]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
        if self.clip > 0 and norm > self.clip:
            for g in grads:
                g.mul_(float(self.clip / norm))
        self.opt.step()
        d = min(self.ema_decay, (1.0 + self.steps) / (10.0 + self.steps))
        with torch.no_grad():
            for k, p in self.params.items():
                self.ema[k].mul_(d).add_(p, alpha=1.0 - d)
        self.steps += 1
        return float(loss)


def read(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy())


def step_mode(a):
    model = nets.load(a.model)
    s = int(model.meta["scale"])
    x = read(a.input, (a.n, 3, a.h, a.w))
    t = read(a.target, (a.n, 3, a.h * s, a.w * s))
    trainer = Trainer(model, a.lr, a.clip, a.ema)
    losses = [trainer.step(x, t) for _ in range(a.steps)]
    os.makedirs(a.outdir, exist_ok=True)
    for k, p in trainer.params.items():
        p.detach().numpy().astype("<f4").tofile(os.path.join(a.outdir, k + ".f32"))
        trainer.ema[k].numpy().astype("<f4").tofile(os.path.join(a.outdir, "ema." + k + ".f32"))
    np.array(losses, dtype="<f4").tofile(os.path.join(a.outdir, "loss.f32"))
    return 0


def bench_mode(a):
    torch.manual_seed(0)
    model = nets.load(a.model)
    s = int(model.meta["scale"])
    small = a.patch // s
    trainer = Trainer(model, 1e-4, 0.0, 0.999)
    timed = []
    for i in range(a.warmup + a.steps):
        t = torch.rand(a.batch, 3, a.patch, a.patch)
        x = torch.nn.functional.interpolate(t, size=(small, small), mode="bicubic",
                                            align_corners=False, antialias=True)
        start = time.perf_counter()
        trainer.step(x, t)
        if i >= a.warmup:
            timed.append(time.perf_counter() - start)
    print("torch: %.3f s/step (%d steps, batch %d, patch %d, %d threads)"
          % (sum(timed) / len(timed), a.steps, a.batch, a.patch, torch.get_num_threads()))
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "step":
        p = argparse.ArgumentParser(prog="train_sr_torch.py step")
        for name in ("model", "input", "target"):
            p.add_argument(name)
        for name in ("n", "h", "w", "steps"):
            p.add_argument(name, type=int)
        for name in ("lr", "clip", "ema"):
            p.add_argument(name, type=float)
        p.add_argument("outdir")
        return step_mode(p.parse_args(argv[2:]))
    if len(argv) > 1 and argv[1] == "bench":
        p = argparse.ArgumentParser(prog="train_sr_torch.py bench")
        p.add_argument("model")
        p.add_argument("--batch", type=int, default=4)
        p.add_argument("--patch", type=int, default=96)
        p.add_argument("--steps", type=int, default=5)
        p.add_argument("--warmup", type=int, default=1)
        p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
        a = p.parse_args(argv[2:])
        if a.threads:
            torch.set_num_threads(a.threads)
        return bench_mode(a)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""PyTorch reference of hirestyle's style-transfer objective (host/style.h).

usage: style_ref.py CONFIG.json OUTDIR

CONFIG holds: weights (our safetensors file), mode ("mse" | "normalized"),
content_layers, style_layers, style_layer_weights, content_weight,
style_weight, tv_weight, learning_rate, steps, blend (one weight per style),
content {file, h, w}, styles [{file, h, w}], init {file, h, w}: raw float32
CHW images in [0,1].

Writes OUTDIR/result.json with the loss terms at init (content, style, tv,
total), OUTDIR/grad.f32 (dL/dx at init, CHW) and OUTDIR/adam.f32 (x after
`steps` Adam steps, clamped to [0,1] after each, no jitter), computed with
autograd from the definitions in host/style.h, not from hirestyle's code.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402


def read_image(spec):
    a = np.fromfile(spec["file"], dtype="<f4").reshape(1, 3, spec["h"], spec["w"])
    return torch.from_numpy(a.astype(np.float64))


def gram(f, mode):
    _, c, h, w = f.shape
    m = f.reshape(c, h * w)
    return m @ m.t() / (c * h * w if mode == "mse" else h * w)


def term(a, target, mode):
    d = ((a - target) ** 2).sum()
    return d / target.numel() if mode == "mse" else d / (target ** 2).sum()


def tv(x):
    return ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum() + ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum()


def main(config_path, outdir):
    cfg = json.load(open(config_path))
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = nets.load(cfg["weights"])
    model.w = {k: v.double() for k, v in model.w.items()}  # reference in double precision
    mode = cfg["mode"]

    def features(x):
        return model(nets.preprocess(model, x))

    with torch.no_grad():
        content = features(read_image(cfg["content"]))
        content_targets = [content[n] for n in cfg["content_layers"]]
        blend = np.array(cfg["blend"], dtype=np.float64)
        blend = blend / blend.sum()
        style_targets = [0.0] * len(cfg["style_layers"])
        for w, spec in zip(blend, cfg["styles"]):
            f = features(read_image(spec))
            for i, n in enumerate(cfg["style_layers"]):
                style_targets[i] = style_targets[i] + w * gram(f[n], mode)

    def loss(x):
        f = features(x)
        lc = sum(term(f[n], t, mode) for n, t in zip(cfg["content_layers"], content_targets))
        ls = sum(w * term(gram(f[n], mode), t, mode)
                 for n, w, t in zip(cfg["style_layers"], cfg["style_layer_weights"], style_targets))
        lt = cfg["tv_weight"] * tv(x)
        parts = {"content": cfg["content_weight"] * lc, "style": cfg["style_weight"] * ls, "tv": lt}
        return parts["content"] + parts["style"] + parts["tv"], parts

    x = read_image(cfg["init"]).requires_grad_(True)
    total, parts = loss(x)
    total.backward()
    result = {k: float(v) for k, v in parts.items()}
    result["total"] = float(total)
    os.makedirs(outdir, exist_ok=True)
    x.grad.numpy().astype("<f4").tofile(os.path.join(outdir, "grad.f32"))

    x = read_image(cfg["init"]).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=cfg["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        loss(x)[0].backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    x.detach().numpy().astype("<f4").tofile(os.path.join(outdir, "adam.f32"))
    json.dump(result, open(os.path.join(outdir, "result.json"), "w"), indent=1)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))

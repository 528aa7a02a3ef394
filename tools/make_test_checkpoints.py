#!/usr/bin/python3
"""Make small randomly initialised PyTorch checkpoints (fixed seed) for tests.

usage: make_test_checkpoints.py OUTDIR [--seed N] [--srgan-blocks N] [--srgan-scale 2|4|8]
                                [--rrdb-blocks N] [--rrdb-feat N] [--rrdb-grow N] [--full-vgg-classifier]

Writes (all with the original projects' exact key names):
  vgg19_random.pth            torchvision VGG19 state dict: features.N.weight/bias (+ classifier.{0,3,6}).
                              The classifier (unused by hirestyle, 120M values) is stored as
                              stride-0 tensors of the right shape so the file stays ~80 MB;
                              --full-vgg-classifier stores real random matrices (~550 MB).
  srgan_netG_x{S}_b{N}.pth    leftthomas/SRGAN Generator state dict (block1..block{N+3}),
                              random BatchNorm statistics and PReLU slopes.
  rrdbnet_basicsr.pth         {"params_ema": basicsr RRDBNet state dict} (Real-ESRGAN layout)
  rrdbnet_esrgan_old.pth      the same weights with the original ESRGAN names (model.0, model.1.sub.N...)
  rrdbnet_esrgan_2019.pth     the same weights with the 2019 ESRGAN names (RRDB_trunk, trunk_conv...)
  manifest.json               file -> {arch, hyper-parameters}
Defaults are small for speed (SRGAN 5 residual blocks as in leftthomas; RRDBNet
2 blocks, 64 features, growth 32); --srgan-blocks 16 / --rrdb-blocks 23 give
the full-size layouts.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import orig_arch  # noqa: E402


def randomise_(module, g):
    """Make BN statistics, BN affine params, biases and PReLU slopes non-trivial."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.normal_(0, 0.1, generator=g)
                m.num_batches_tracked.fill_(1000)
            elif isinstance(m, torch.nn.PReLU):
                m.weight.uniform_(0.05, 0.4, generator=g)
            elif isinstance(m, torch.nn.Conv2d) and m.bias is not None:
                m.bias.normal_(0, 0.02, generator=g)
    return module


def vgg_state_dict(g, full_classifier):
    try:
        from torchvision.models import vgg as tvvgg
        feats = tvvgg.make_layers(tvvgg.cfgs["E"], batch_norm=False)
    except Exception:  # torchvision missing: same layer list
        feats = orig_arch.vgg19_features()
    with torch.no_grad():
        for m in feats.modules():
            if isinstance(m, torch.nn.Conv2d):
                # kaiming_normal_(mode="fan_out", nonlinearity="relu"), as torchvision, seeded
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / (m.weight.shape[0] * 9)) ** 0.5)
                m.bias.normal_(0, 0.01, generator=g)
    sd = {"features." + k: v for k, v in feats.state_dict().items()}
    for idx, (o, i) in ((0, (4096, 25088)), (3, (4096, 4096)), (6, (1000, 4096))):
        if full_classifier:
            w = torch.randn(o, i, generator=g) * 0.01
            b = torch.zeros(o)
        else:
            w = (torch.randn(1, i, generator=g) * 0.01).expand(o, i)
            b = torch.zeros(1).expand(o)
        sd["classifier.%d.weight" % idx] = w
        sd["classifier.%d.bias" % idx] = b
    return sd


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--srgan-blocks", type=int, default=5)
    ap.add_argument("--srgan-scale", type=int, default=4, choices=(2, 4, 8))
    ap.add_argument("--rrdb-blocks", type=int, default=2)
    ap.add_argument("--rrdb-feat", type=int, default=64)
    ap.add_argument("--rrdb-grow", type=int, default=32)
    ap.add_argument("--full-vgg-classifier", action="store_true")
    ap.add_argument("--skip-vgg", action="store_true")
    a = ap.parse_args(argv)
    os.makedirs(a.outdir, exist_ok=True)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    manifest = {}

    def save(name, obj, info):
        p = os.path.join(a.outdir, name)
        torch.save(obj, p)
        manifest[name] = info
        print("make_test_checkpoints: wrote %s (%.1f MB)" % (p, os.path.getsize(p) / 1e6))

    if not a.skip_vgg:
        save("vgg19_random.pth", vgg_state_dict(g, a.full_vgg_classifier), {"arch": "vgg19"})

    torch.manual_seed(a.seed + 1)
    srgan = randomise_(orig_arch.SRGANGenerator(a.srgan_scale, a.srgan_blocks), g).eval()
    save("srgan_netG_x%d_b%d.pth" % (a.srgan_scale, a.srgan_blocks), srgan.state_dict(),
         {"arch": "srresnet", "num_blocks": a.srgan_blocks, "scale": a.srgan_scale, "num_feat": 64})

    torch.manual_seed(a.seed + 2)
    rrdb = randomise_(orig_arch.RRDBNet(3, 3, 4, a.rrdb_feat, a.rrdb_blocks, a.rrdb_grow), g).eval()
    sd = rrdb.state_dict()
    info = {"arch": "rrdbnet", "num_block": a.rrdb_blocks, "num_feat": a.rrdb_feat,
            "num_grow_ch": a.rrdb_grow, "scale": 4}
    save("rrdbnet_basicsr.pth", {"params_ema": sd}, dict(info, layout="basicsr"))
    save("rrdbnet_esrgan_old.pth", orig_arch.rrdb_old_names(sd, a.rrdb_blocks), dict(info, layout="esrgan-original"))
    save("rrdbnet_esrgan_2019.pth", orig_arch.rrdb_2019_names(sd), dict(info, layout="esrgan-2019"))

    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump({"seed": a.seed, "files": manifest}, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

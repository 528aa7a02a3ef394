#!/usr/bin/python3
"""Check the PyTorch converters and nets.py against the unconverted networks.

usage: check_torch_refs.py CKPT_DIR [--out DIR]

CKPT_DIR is the output of tools/make_test_checkpoints.py (manifest.json).
Each checkpoint is converted with the real converter (as a subprocess), then
nets.py on the converted file is compared with the original architecture
(tools/reference/orig_arch.py: torchvision VGG19 features, leftthomas SRGAN
Generator with unfolded BatchNorm in eval mode, basicsr RRDBNet) loaded with
the original state dict.  Also checks that a truncated checkpoint is refused.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, TOOLS)
import nets  # noqa: E402
import orig_arch  # noqa: E402
from torch_ckpt import load_state_dict  # noqa: E402


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, (r.stdout + r.stderr).strip()


def report(label, a, b, tol, fails):
    a, b = a.detach().double().numpy(), b.detach().double().numpy()
    d = float(np.abs(a - b).max())
    s = float(np.abs(b).max()) or 1.0
    ok = a.shape == b.shape and d <= tol * s
    print("%-48s max|diff| %.3g (max|ref| %.4g)%s" % (label, d, s, "" if ok else "  FAIL"))
    if not ok:
        fails.append(label)


def _to_basicsr(sd, info):
    """Undo orig_arch.rrdb_old_names / rrdb_2019_names by matching against a fresh basicsr dict."""
    base = orig_arch.RRDBNet(3, 3, info["scale"], info["num_feat"], info["num_block"], info["num_grow_ch"])
    names = list(base.state_dict())
    fwd = (orig_arch.rrdb_old_names if info["layout"] == "esrgan-original" else
           lambda d, *_: orig_arch.rrdb_2019_names(d))(dict.fromkeys(names, 0), info["num_block"])
    inv = dict(zip(fwd.keys(), names))
    return {inv[k]: v for k, v in sd.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt_dir")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="hs_torchref_")
    os.makedirs(out, exist_ok=True)
    man = json.load(open(os.path.join(a.ckpt_dir, "manifest.json")))["files"]
    torch.manual_seed(0)
    fails = []
    py = sys.executable
    for fn, info in sorted(man.items()):
        src = os.path.join(a.ckpt_dir, fn)
        dst = os.path.join(out, os.path.splitext(fn)[0] + ".safetensors")
        arch = info["arch"]
        if arch == "vgg19":
            cmd = [py, os.path.join(TOOLS, "convert_torchvision_vgg19.py"), src, dst]
        else:
            cmd = [py, os.path.join(TOOLS, "convert_torch_sr.py"), src, dst, "--arch", arch]
        rc, msg = run(cmd)
        print(msg)
        if rc:
            fails.append(fn)
            continue
        net = nets.load(dst)
        sd = {k: torch.from_numpy(v) for k, v in load_state_dict(src).items()}
        with torch.no_grad():
            if arch == "vgg19":
                try:  # torchvision's own layer list when available
                    from torchvision.models import vgg as tvvgg
                    ref = tvvgg.make_layers(tvvgg.cfgs["E"], batch_norm=False)
                except ImportError:
                    ref = orig_arch.vgg19_features()
                ref.load_state_dict({k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")})
                x = torch.randn(1, 3, 45, 38)
                feats = net(x)
                names = list(feats)
                if len(names) != len(ref):
                    fails.append(fn)
                h = x
                for name, layer in zip(names, ref.eval()):  # conv, relu, ..., maxpool: one to one
                    h = layer(h.clone())
                    report("%s %s" % (fn, name), feats[name], h, 1e-5, fails)
            elif arch == "srresnet":
                ref = orig_arch.SRGANGenerator(info["scale"], info["num_blocks"])
                ref.load_state_dict(sd)
                x = torch.rand(1, 3, 21, 17)
                report("%s (BN folded) vs leftthomas" % fn, net(x), ref.eval()(x), 1e-5, fails)
            elif arch == "rrdbnet":
                ref = orig_arch.RRDBNet(3, 3, info["scale"], info["num_feat"], info["num_block"],
                                        info["num_grow_ch"])
                # independent renaming (orig_arch) of the basicsr dict made by make_test_checkpoints
                ref.load_state_dict(sd if info.get("layout") == "basicsr" else _to_basicsr(sd, info))
                x = torch.rand(1, 3, 13, 11)
                report("%s vs basicsr RRDBNet" % fn, net(x), ref.eval()(x), 1e-5, fails)
    # all three RRDBNet layouts must give identical files
    outs = [os.path.join(out, n) for n in ("rrdbnet_basicsr.safetensors", "rrdbnet_esrgan_old.safetensors",
                                           "rrdbnet_esrgan_2019.safetensors")]
    if all(os.path.exists(p) for p in outs):
        import safetensors_io
        t = [safetensors_io.read(p)[0] for p in outs]
        same = all(list(x) == list(t[0]) and all(np.array_equal(x[k], t[0][k]) for k in x) for x in t[1:])
        print("rrdbnet layouts -> identical tensors: %s" % same)
        if not same:
            fails.append("rrdb layouts")
    # a truncated checkpoint must be refused with a one-line message
    for fn in sorted(man):
        src = os.path.join(a.ckpt_dir, fn)
        bad = os.path.join(out, "truncated.pth")
        with open(src, "rb") as f, open(bad, "wb") as g:
            g.write(f.read(os.path.getsize(src) // 2))
        arch = man[fn]["arch"]
        cmd = ([py, os.path.join(TOOLS, "convert_torchvision_vgg19.py"), bad, bad + ".st"] if arch == "vgg19" else
               [py, os.path.join(TOOLS, "convert_torch_sr.py"), bad, bad + ".st", "--arch", arch])
        rc, msg = run(cmd)
        ok = rc != 0 and len(msg.splitlines()) == 1 and not os.path.exists(bad + ".st")
        print("truncated %-38s -> exit %d: %s%s" % (fn, rc, msg[:150], "" if ok else "  FAIL"))
        if not ok:
            fails.append("truncated " + fn)
    print("check_torch_refs: %s" % ("OK" if not fails else "FAILED: %s" % ", ".join(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

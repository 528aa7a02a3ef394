#!/usr/bin/python3
"""Convert torchvision's VGG19 ImageNet weights to hirestyle safetensors.

usage: convert_torchvision_vgg19.py vgg19-dcbb9e9d.pth OUT.safetensors [--source S] [--license L]
                                    [--unsafe-pickle]

Keeps features.{0,2,5,7,10,12,14,16,19,21,23,25,28,30,32,34}.weight [O,I,3,3]
and .bias [O] unchanged (already OIHW); the classifier is dropped.  Every
expected key and shape is checked.  Graph (torchvision vgg19.features; all
convs 3x3 stride 1 pad 1, each followed by ReLU; 'M' = maxpool 2x2/2):
  conv1_1=features.0  conv1_2=features.2  M(pool1)
  conv2_1=features.5  conv2_2=features.7  M(pool2)
  conv3_1..3_4=features.10,12,14,16       M(pool3)
  conv4_1..4_4=features.19,21,23,25       M(pool4)
  conv5_1..5_4=features.28,30,32,34       M(pool5)
Input: RGB in [0,1], normalised with mean 0.485,0.456,0.406 / std 0.229,0.224,0.225.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_ckpt import CkptError, load_state_dict  # noqa: E402

CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def expected():
    out = []
    idx, cin = 0, 3
    for v in CFG:
        if v == "M":
            idx += 1
        else:
            out.append((idx, cin, v))
            cin = v
            idx += 2
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="torchvision VGG19 -> hirestyle safetensors")
    ap.add_argument("pth")
    ap.add_argument("out")
    ap.add_argument("--source", default="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth")
    ap.add_argument("--license", default="weights: CC BY 4.0 (Visual Geometry Group, University of Oxford; "
                    "Simonyan & Zisserman 2014); torchvision: BSD-3-Clause")
    ap.add_argument("--unsafe-pickle", action="store_true")
    a = ap.parse_args(argv)
    try:
        sd = load_state_dict(a.pth, unsafe=a.unsafe_pickle)
        tensors = {}
        for idx, cin, cout in expected():
            for suf, shape in (("weight", (cout, cin, 3, 3)), ("bias", (cout,))):
                k = "features.%d.%s" % (idx, suf)
                if k not in sd:
                    raise CkptError("%s: missing %s: not a torchvision VGG19 state dict (keys: %s ...)"
                                    % (a.pth, k, ", ".join(list(sd)[:4])))
                if tuple(sd[k].shape) != shape:
                    raise CkptError("%s: %s has shape %s, expected %s (not VGG19?)"
                                    % (a.pth, k, list(sd[k].shape), list(shape)))
                tensors[k] = sd[k]
        extra = [k for k in sd if k.startswith("features.") and k not in tensors]
        if extra:
            raise CkptError("%s: unexpected feature tensors %s (VGG19-BN or another net?)" % (a.pth, extra[:4]))
        meta = {
            "format": "hirestyle", "architecture": "vgg19",
            "source": a.source,
            "license": a.license,
            "input_range": "1", "channel_order": "rgb",
            "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225",
        }
        safetensors_io.write(a.out, tensors, dict(sorted(meta.items())))
    except (CkptError, safetensors_io.SafetensorsError, OSError) as e:
        print("convert_torchvision_vgg19: error: %s" % e, file=sys.stderr)
        return 1
    n = sum(int(v.size) for v in tensors.values())
    print("convert_torchvision_vgg19: %s -> %s: vgg19, 16 convs, %d tensors, %.2fM params (classifier dropped)"
          % (a.pth, a.out, len(tensors), n / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""PyTorch references for ncnn super-resolution models (.param + .bin).

The ncnn files are read here independently of hirestyle's C reader (a second
implementation of ncnn's .param text and .bin layout), their weights are given
the names of the original PyTorch architectures (basicsr), and the original
architectures run them:

  rrdbnet   Real-ESRGAN x4plus, x4plus-anime (ESRGAN RRDBNet, nets.RRDBNet):
            conv_first, body.N.rdbK.convJ, conv_body, conv_up1, conv_up2,
            conv_hr, conv_last;
  srvgg     realesr-general-x4v3 (upscayl's realesrgan-x4fast) and
            realesr-animevideov3 (SRVGGNetCompact, SRVGG below): body.0 conv,
            body.1 PReLU, ... the last conv, pixel shuffle, plus the input
            upsampled by nearest neighbour; the x2/x3 animevideov3 files add a
            bicubic resize (ncnn Interp type 3) of the x4 output;
  upconv7   waifu2x upconv_7 (nagadomi/waifu2x): six unpadded 3x3 convs with
            LeakyReLU 0.1, then a 4x4 transposed conv, stride 2, padding 3:
            it trims 7 input pixels per side (the tools pad the input by
            replicating its edge; so does this script's command line).

The architecture is recognised from the layer types; anything else is refused.

Command line (raw little-endian float32, HWC, RGB in [0,1] in and out, as
tools/reference/nets.py):
    ncnn_ref.py MODEL.param IN.f32 H W OUT.f32       writes (sH, sW, 3), not clipped
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nets  # noqa: E402

MAGIC = 7767517
TAG_FLOAT16 = 0x01306B47


def read_param(path):
    """[(type, name, bottoms, tops, {id: value})], values as float/int/list."""
    with open(path) as f:
        lines = [ln.split() for ln in f if ln.strip()]
    if int(lines[0][0]) != MAGIC:
        raise ValueError("%s: not an ncnn .param file" % path)
    layers = []
    for fields in lines[2:]:
        kind, name, nb, nt = fields[0], fields[1], int(fields[2]), int(fields[3])
        bottoms, tops = fields[4:4 + nb], fields[4 + nb:4 + nb + nt]
        params = {}
        for item in fields[4 + nb + nt:]:
            key, value = item.split("=", 1)
            key = int(key)
            if key <= -23300:
                values = value.split(",")[1:]
                params[-key - 23300] = [float(v) for v in values]
            else:
                params[key] = float(value) if any(c in value for c in ".eE") else int(value)
        layers.append((kind, name, bottoms, tops, params))
    return layers


class BinReader:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.at = 0
        self.path = path

    def _take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("%s: truncated at %d" % (self.path, self.at))
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def tagged(self, count):
        (tag,) = struct.unpack("<I", self._take(4))
        if tag == TAG_FLOAT16:
            a = np.frombuffer(self._take((count * 2 + 3) // 4 * 4)[:count * 2], "<f2")
            return a.astype(np.float32)
        if tag == 0:
            return self.raw(count)
        raise ValueError("%s: unsupported storage tag 0x%08X" % (self.path, tag))

    def raw(self, count):
        return np.frombuffer(self._take(count * 4), "<f4").astype(np.float32)


def read_weights(param_path):
    """The layers and, per Convolution / PReLU in order, its arrays as torch tensors."""
    layers = read_param(param_path)
    reader = BinReader(param_path[:-len(".param")] + ".bin")
    convs, prelus = [], []
    for kind, name, bottoms, tops, p in layers:
        if kind in ("Convolution", "Deconvolution"):
            oc, k = p[0], p[1]
            w = reader.tagged(p[6]).reshape(oc, -1, k, k)
            if kind == "Deconvolution":  # ncnn (out, in, k, k); torch's transposed conv (in, out, k, k)
                w = w.transpose(1, 0, 2, 3)
            b = reader.raw(oc) if p.get(5, 0) else np.zeros(oc, np.float32)
            convs.append((torch.from_numpy(w.copy()), torch.from_numpy(b.copy()), p))
        elif kind == "PReLU":
            prelus.append(torch.from_numpy(reader.raw(p[0]).copy()))
        elif kind not in ("Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp",
                          "PixelShuffle"):
            raise ValueError("%s: layer type %s is not in the reference architectures"
                             % (param_path, kind))
    if reader.at != len(reader.data):
        raise ValueError("%s: %d bytes left over" % (reader.path, len(reader.data) - reader.at))
    return layers, convs, prelus


class SRVGG(torch.nn.Module):
    """SRVGGNetCompact (Real-ESRGAN): conv, PReLU, (conv, PReLU) x num_conv, conv,
    pixel shuffle, + nearest-upsampled input; then an optional bicubic resize."""

    def __init__(self, convs, prelus, upscale, resize):
        super().__init__()
        self.convs, self.prelus, self.upscale, self.resize = convs, prelus, upscale, resize

    def forward(self, x):
        h = x
        for i, (w, b, _) in enumerate(self.convs):
            h = F.conv2d(h, w, b, padding=w.shape[-1] // 2)
            if i < len(self.prelus):
                h = nets.prelu(h, self.prelus[i])
        h = F.pixel_shuffle(h, self.upscale)
        h = h + F.interpolate(x, scale_factor=self.upscale, mode="nearest")
        if self.resize != 1.0:
            h = F.interpolate(h, scale_factor=self.resize, mode="bicubic", align_corners=False)
        return h


class UpConv7(torch.nn.Module):
    """waifu2x upconv_7: unpadded convs + LeakyReLU 0.1, transposed conv; the
    input is first padded by `border` pixels replicating its edge."""

    border = 7

    def __init__(self, convs):
        super().__init__()
        self.convs = convs

    def forward(self, x):
        x = F.pad(x, (self.border,) * 4, mode="replicate")
        for w, b, _ in self.convs[:-1]:
            x = F.leaky_relu(F.conv2d(x, w, b), 0.1)
        w, b, p = self.convs[-1]
        return F.conv_transpose2d(x, w, b, stride=p[3], padding=p[4])


def rrdbnet(convs, layers):
    blocks = (len(convs) - 6) // 15
    if 6 + 15 * blocks != len(convs):
        raise ValueError("%d convolutions is not an RRDBNet" % len(convs))
    names = ["conv_first"]
    for i in range(blocks):
        for k in (1, 2, 3):
            names += ["body.%d.rdb%d.conv%d" % (i, k, j) for j in range(1, 6)]
    names += ["conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]
    tensors = {}
    for name, (w, b, _) in zip(names, convs):
        tensors[name + ".weight"], tensors[name + ".bias"] = w, b
    slope = convs[1][2][10][0]  # conv1's fused LeakyReLU slope (activation 2)
    meta = {"num_block": str(blocks), "leaky_slope": str(slope), "scale": "4"}
    return nets.RRDBNet(tensors, meta)


def srvgg(convs, prelus, layers):
    shuffle = [p for kind, _, _, _, p in layers if kind == "PixelShuffle"]
    resizes = [p for kind, name, _, _, p in layers if kind == "Interp" and p.get(0) == 3]
    upscale = shuffle[0][0]
    resize = resizes[0][1] if resizes else 1.0
    return SRVGG(convs, prelus, upscale, resize)


def load(param_path):
    """(model, scale): model maps (1,3,H,W) RGB [0,1] to (1,3,sH,sW)."""
    layers, convs, prelus = read_weights(param_path)
    kinds = {kind for kind, *_ in layers}
    if "Concat" in kinds and "Eltwise" in kinds:
        return rrdbnet(convs, layers).eval(), 4
    if "PReLU" in kinds and "PixelShuffle" in kinds:
        model = srvgg(convs, prelus, layers).eval()
        return model, round(model.upscale * model.resize)
    if kinds == {"Input", "Convolution", "Deconvolution"}:
        return UpConv7(convs).eval(), convs[-1][2][3]
    raise ValueError("%s: neither an RRDBNet, an SRVGGNetCompact nor a waifu2x upconv_7"
                     % param_path)


def _main(argv):
    if len(argv) != 6:
        print(__doc__.split("Command line")[1], file=sys.stderr)
        return 2
    model, scale = load(argv[1])
    h, w = int(argv[3]), int(argv[4])
    a = np.fromfile(argv[2], dtype="<f4")
    if a.size != h * w * 3:
        print("ncnn_ref.py: %s holds %d floats, expected %d" % (argv[2], a.size, h * w * 3),
              file=sys.stderr)
        return 1
    x = torch.from_numpy(a.reshape(h, w, 3).transpose(2, 0, 1).copy())[None]
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with torch.no_grad():
        y = model(x)
    out = y[0].permute(1, 2, 0).contiguous().numpy().astype("<f4")
    out.tofile(argv[5])
    print(json.dumps({"shape": list(out.shape), "scale": scale}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

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
            replicating its edge; so does this script's command line);
  cunet     Real-CUGAN (bilibili/ailab upcunet_v3.py: UpCunet2x, 3x, 4x) and
            waifu2x cunet (its UpCUNet x2 and CUNet x1, which Real-CUGAN's
            2x copies): two U-Nets of unpadded convs with squeeze-excite
            blocks (channel means -> 1x1 conv, ReLU -> 1x1 conv, sigmoid ->
            scale), the second on the first's output; the input padded as
            realcugan-ncnn-vulkan (reflection) and waifu2x-ncnn-vulkan (edge
            replicated) pad it, by 18 (x2; waifu2x x1: 28), 14 (x3) or 19 (x4)
            pixels plus up to a multiple of 2 (x3, waifu2x x1: 4), cropped back.

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
        elif kind == "InnerProduct":  # weights (out, in): a 1x1 conv on the channel means
            oc = p[0]
            w = reader.tagged(p[2]).reshape(oc, -1, 1, 1)
            b = reader.raw(oc) if p.get(1, 0) else np.zeros(oc, np.float32)
            convs.append((torch.from_numpy(w.copy()), torch.from_numpy(b.copy()), p))
        elif kind == "PReLU":
            prelus.append(torch.from_numpy(reader.raw(p[0]).copy()))
        elif kind not in ("Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp",
                          "PixelShuffle", "Pooling", "Crop", "Scale"):
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


def _lrelu(x):
    return F.leaky_relu(x, 0.1)


class _Weights:
    """The convolutions in file order, handed out one by one as the modules are built."""

    def __init__(self, convs):
        self.convs, self.at = convs, 0

    def take(self):
        self.at += 1
        return self.convs[self.at - 1]


def _conv(x, wb, stride=1):
    return F.conv2d(x, wb[0], wb[1], stride=stride)


def _deconv(x, wb, stride, padding):
    return F.conv_transpose2d(x, wb[0], wb[1], stride=stride, padding=padding)


def _crop(x, n):
    return x[:, :, n:-n, n:-n]


class SEBlock:
    """x * sigmoid(conv2(relu(conv1(mean of each channel of x))))."""

    def __init__(self, w):
        self.fc1, self.fc2 = w.take(), w.take()

    def __call__(self, x):
        s = torch.mean(x, dim=(2, 3), keepdim=True)
        s = torch.sigmoid(_conv(F.relu(_conv(s, self.fc1)), self.fc2))
        return x * s


class UNetConv:
    """Two unpadded 3x3 convs with LeakyReLU 0.1, then an optional SE block."""

    def __init__(self, w, se):
        self.a, self.b = w.take(), w.take()
        self.se = SEBlock(w) if se else None

    def __call__(self, x):
        x = _lrelu(_conv(_lrelu(_conv(x, self.a)), self.b))
        return self.se(x) if self.se else x


def _bottom(x, wb):
    """The last layer of a U-Net: a transposed conv (k4 s2 p3, k5 s3 p2) or a 3x3 conv."""
    if wb[2].get(3, 1) == 1:
        return _conv(x, wb)
    return _deconv(x, wb, wb[2][3], wb[2].get(4, 0))


class UNet1:
    def __init__(self, w):
        self.conv1 = UNetConv(w, False)
        self.conv1_down = w.take()
        self.conv2 = UNetConv(w, True)
        self.conv2_up = w.take()
        self.conv3 = w.take()
        self.conv_bottom = w.take()

    def __call__(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(_lrelu(_conv(x1, self.conv1_down, stride=2)))
        x2 = _lrelu(_deconv(x2, self.conv2_up, 2, 0))
        x3 = _lrelu(_conv(_crop(x1, 4) + x2, self.conv3))
        return _bottom(x3, self.conv_bottom)


class UNet2:
    def __init__(self, w):
        self.conv1 = UNetConv(w, False)
        self.conv1_down = w.take()
        self.conv2 = UNetConv(w, True)
        self.conv2_down = w.take()
        self.conv3 = UNetConv(w, True)
        self.conv3_up = w.take()
        self.conv4 = UNetConv(w, True)
        self.conv4_up = w.take()
        self.conv5 = w.take()
        self.conv_bottom = w.take()

    def __call__(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(_lrelu(_conv(x1, self.conv1_down, stride=2)))
        x3 = self.conv3(_lrelu(_conv(x2, self.conv2_down, stride=2)))
        x3 = _lrelu(_deconv(x3, self.conv3_up, 2, 0))
        x4 = self.conv4(_crop(x2, 4) + x3)
        x4 = _lrelu(_deconv(x4, self.conv4_up, 2, 0))
        x5 = _lrelu(_conv(_crop(x1, 16) + x4, self.conv5))
        return _bottom(x5, self.conv_bottom)


class UpCunet:
    """unet2(unet1(x)) + unet1(x) cropped by 20; x4: a 3x3 conv to 12 channels,
    cropped by 1, pixel shuffle x2, plus the input enlarged x4 (nearest)."""

    def __init__(self, convs, scale, pad, align, reflect):
        w = _Weights(convs)
        self.unet1, self.unet2 = UNet1(w), UNet2(w)
        self.conv_final = w.take() if scale == 4 else None
        if w.at != len(convs):
            raise ValueError("%d convolutions left over: not a Real-CUGAN / cunet"
                             % (len(convs) - w.at))
        self.scale, self.pad, self.align, self.reflect = scale, pad, align, reflect

    def __call__(self, x):
        h0, w0 = x.shape[2:]
        ph, pw = -h0 % self.align, -w0 % self.align
        p = self.pad
        mode = "reflect" if self.reflect else "replicate"
        y = F.pad(x, (p, p + pw, p, p + ph), mode=mode)
        y = self.unet1(y)
        y = self.unet2(y) + _crop(y, 20)
        if self.conv_final is not None:
            y = F.pixel_shuffle(_crop(_conv(y, self.conv_final), 1), 2)
        y = y[:, :, :h0 * self.scale, :w0 * self.scale]
        if self.scale == 4:
            y = y + F.interpolate(x, scale_factor=4, mode="nearest")
        return y


def cunet(convs, param_path):
    """Real-CUGAN (models-se) or waifu2x cunet, padded as their tools pad."""
    folder = os.path.basename(os.path.dirname(os.path.abspath(param_path)))
    name = os.path.basename(param_path)
    if folder in ("models-se", "models-nose", "models-pro"):
        scale = int(name[2])  # upNx-...
        pad, align = {2: (18, 2), 3: (14, 4), 4: (19, 2)}[scale]
        return UpCunet(convs, scale, pad, align, True), scale
    scale = 2 if "scale2.0x" in name else 1
    pad, align = (18, 2) if scale == 2 else (28, 4)
    return UpCunet(convs, scale, pad, align, False), scale


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
    if "Pooling" in kinds and "InnerProduct" in kinds and "Crop" in kinds:
        return cunet(convs, param_path)
    raise ValueError("%s: neither an RRDBNet, an SRVGGNetCompact, a waifu2x upconv_7 nor a "
                     "cunet" % param_path)


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

#!/usr/bin/python3
"""PyTorch reference implementations that run hirestyle safetensors files.

These are what the C implementation is tested against.  They use only the
tensor names and metadata of our files (see weights/README.md), never the
original checkpoints.

    import nets
    model = nets.load("weights/resnet50.safetensors")   # picks the architecture
    feats = model(x)              # x: (1,3,H,W) float32 torch tensor

resnet50   input: preprocessed BGR (1,3,H,W): pixel*255 - mean (caffe style,
           see metadata).  Returns an OrderedDict: conv1_relu, pool1, res2a ..
           res2c, res3a .. res3d, res4a .. res4f, res5a .. res5c (each after
           the block's final relu).
vgg19      input: preprocessed RGB ((pixel in 0..1) - mean) / std.  Returns an
           OrderedDict conv1_1, relu1_1, conv1_2, relu1_2, pool1, ...,
           relu5_4, pool5 (torchvision vgg19.features layer by layer).
rrdn, rdn, srresnet, rrdbnet, srvgg
           super-resolution generators: input (1,3,H,W) RGB in the file's
           input_range (white = input_range), output (1,3,sH,sW) in the file's
           output_range, not clipped.

Helpers: preprocess(model, rgb01) turns an RGB image in [0,1] (1,3,H,W) into
the network's input; load_tensors(path) -> (dict of torch tensors, metadata).

Command line (raw little-endian float32 files, HWC layout, like
tools/reference/tfjs_upscale.js):
    nets.py MODEL.safetensors IN.f32 H W OUT.f32      SR models: writes sH*sW*3
    nets.py MODEL.safetensors IN.f32 H W OUTDIR       feature nets: OUTDIR/NAME.f32
                                                      (HWC) + OUTDIR/index.json
IN.f32 already holds network input values (no preprocessing is applied).
"""

import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import safetensors_io  # noqa: E402

RESNET_STAGES = ((2, "abc"), (3, "abcd"), (4, "abcdef"), (5, "abc"))
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def load_tensors(path):
    arrays, meta = safetensors_io.read(path)
    return {k: torch.from_numpy(v) for k, v in arrays.items()}, meta


def _hp(meta, key, cast=int):
    if key not in meta:
        raise ValueError("metadata lacks %s" % key)
    return cast(meta[key])


def conv(x, w, name, stride=1, padding=None):
    wt = w[name + ".weight"]
    if padding is None:
        padding = wt.shape[-1] // 2
    return F.conv2d(x, wt, w.get(name + ".bias"), stride=stride, padding=padding)


def depth_to_space_tf(x, r):
    """TF depth_to_space (NHWC) expressed on NCHW: out[c, y*r+i, x*r+j] = in[(i*r+j)*C + c, y, x]."""
    n, c, h, wd = x.shape
    co = c // (r * r)
    return x.view(n, r, r, co, h, wd).permute(0, 3, 4, 1, 5, 2).reshape(n, co, h * r, wd * r)


def upsample_nearest(x, r):
    return x.repeat_interleave(r, dim=2).repeat_interleave(r, dim=3)


def prelu(x, slope):
    return torch.where(x >= 0, x, x * slope.view(1, -1, 1, 1))


class Net(torch.nn.Module):
    def __init__(self, tensors, meta):
        super().__init__()
        self.w = tensors
        self.meta = meta
        self.arch = meta.get("architecture")


class ResNet50Keras(Net):
    def forward(self, x, last=None):
        """All block outputs, or those up to the block named `last`."""
        w = self.w
        out = collections.OrderedDict()
        x = F.relu(conv(F.pad(x, (3, 3, 3, 3)), w, "conv1", stride=2, padding=0))
        out["conv1_relu"] = x
        x = F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 2)  # Keras: zero padding, then valid pooling
        out["pool1"] = x
        for s, blocks in RESNET_STAGES:
            for b in blocks:
                p = "res%d%s" % (s, b)
                t = 2 if (b == "a" and s >= 3) else 1
                y = F.relu(conv(x, w, p + "_branch2a", stride=t, padding=0))
                y = F.relu(conv(y, w, p + "_branch2b", padding=1))
                y = conv(y, w, p + "_branch2c", padding=0)
                sc = conv(x, w, p + "_branch1", stride=t, padding=0) if b == "a" else x
                x = F.relu(y + sc)
                out[p] = x
                if p == last:
                    return out
        return out


class VGG19(Net):
    def forward(self, x, last=None):
        """All layer outputs, or those up to the layer named `last`."""
        w = self.w
        out = collections.OrderedDict()
        idx, blk, n = 0, 1, 1
        for v in VGG19_CFG:
            if v == "M":
                x = F.max_pool2d(x, 2, 2)
                out["pool%d" % blk] = x
                blk, n = blk + 1, 1
                idx += 1
            else:
                x = conv(x, w, "features.%d" % idx, padding=1)
                out["conv%d_%d" % (blk, n)] = x
                x = F.relu(x)
                out["relu%d_%d" % (blk, n)] = x
                if "relu%d_%d" % (blk, n) == last:
                    return out
                idx += 2
                n += 1
        return out


class RRDN(Net):
    def forward(self, x):
        w, m = self.w, self.meta
        C, D, T, r = _hp(m, "C"), _hp(m, "D"), _hp(m, "T"), _hp(m, "scale")
        beta = _hp(m, "beta", float)
        pre = conv(x, w, "Pre_blocks_conv")
        h = pre
        for t in range(1, T + 1):
            rin = h
            for d in range(1, D + 1):
                u = h
                for c in range(1, C + 1):
                    h = torch.cat([h, F.relu(conv(h, w, "F_%d_%d_%d" % (t, d, c)))], 1)
                h = u + beta * conv(h, w, "LFF_%d_%d" % (t, d))
            h = rin + beta * h
        h = conv(h, w, "post_blocks_conv") + pre
        h = conv(h, w, "PreShuffle")
        if m.get("pixel_shuffle", "tf") != "tf":
            raise ValueError("rrdn: pixel_shuffle %s unsupported" % m.get("pixel_shuffle"))
        return conv(depth_to_space_tf(h, r), w, "SR")


class RDN(Net):
    def forward(self, x):
        w, m = self.w, self.meta
        C, D, r = _hp(m, "C"), _hp(m, "D"), _hp(m, "scale")
        f1 = conv(x, w, "F_m1")
        h = conv(f1, w, "F_0")
        lrl = []
        for d in range(1, D + 1):
            u = h
            for c in range(1, C + 1):
                h = torch.cat([h, F.relu(conv(h, w, "F_%d_%d" % (d, c)))], 1)
            h = conv(h, w, "LFF_%d" % d) + u
            lrl.append(h)
        g = conv(torch.cat(lrl, 1), w, "GFF_1")
        g = conv(g, w, "GFF_2") + f1
        g = F.relu(conv(g, w, "UPN1"))
        g = F.relu(conv(g, w, "UPN2"))
        g = conv(g, w, "UPN3")
        return conv(upsample_nearest(g, r), w, "SR")


class SRResNet(Net):
    def forward(self, x):
        w, m = self.w, self.meta
        nb = _hp(m, "num_blocks")
        r = _hp(m, "scale")
        nup = {2: 1, 4: 2, 8: 3}[r]
        feat = prelu(conv(x, w, "head"), w["head.prelu"])
        h = feat
        for i in range(nb):
            p = "body.%d." % i
            y = prelu(conv(h, w, p + "conv1"), w[p + "prelu"])
            h = h + conv(y, w, p + "conv2")
        h = feat + conv(h, w, "body_end")
        for j in range(nup):
            h = prelu(F.pixel_shuffle(conv(h, w, "up.%d" % j), 2), w["up.%d.prelu" % j])
        y = conv(h, w, "tail")
        skip = m.get("global_skip", "none")
        act = m.get("output_activation", "tanh_half")
        if skip == "bicubic" and act == "none":
            return y + F.interpolate(x, scale_factor=r, mode="bicubic", align_corners=False)
        if skip != "none" or act != "tanh_half":
            raise ValueError("srresnet: global_skip %s with output_activation %s unsupported"
                             % (skip, act))
        return (torch.tanh(y) + 1) / 2


class RRDBNet(Net):
    def forward(self, x):
        w, m = self.w, self.meta
        nb = _hp(m, "num_block")
        slope = float(m.get("leaky_slope", "0.2"))
        unshuf = int(m.get("pixel_unshuffle", "1"))
        lrelu = lambda t: F.leaky_relu(t, slope)  # noqa: E731
        if unshuf > 1:
            x = F.pixel_unshuffle(x, unshuf)
        feat = conv(x, w, "conv_first")
        h = feat
        for i in range(nb):
            rin = h
            for k in (1, 2, 3):
                p = "body.%d.rdb%d." % (i, k)
                u = h
                xs = [h]
                for j in range(1, 5):
                    xs.append(lrelu(conv(torch.cat(xs, 1), w, p + "conv%d" % j)))
                h = u + 0.2 * conv(torch.cat(xs, 1), w, p + "conv5")
            h = rin + 0.2 * h
        feat = feat + conv(h, w, "conv_body")
        feat = lrelu(conv(upsample_nearest(feat, 2), w, "conv_up1"))
        feat = lrelu(conv(upsample_nearest(feat, 2), w, "conv_up2"))
        return conv(lrelu(conv(feat, w, "conv_hr")), w, "conv_last")


class SRVGG(Net):
    """Real-ESRGAN's SRVGGNetCompact with its state-dict names (body.N)."""
    def forward(self, x):
        w, m = self.w, self.meta
        n = _hp(m, "num_conv")
        r = _hp(m, "scale")
        h = prelu(conv(x, w, "body.0"), w["body.1.weight"])
        for k in range(1, n + 1):
            h = prelu(conv(h, w, "body.%d" % (2 * k)), w["body.%d.weight" % (2 * k + 1)])
        h = F.pixel_shuffle(conv(h, w, "body.%d" % (2 * n + 2)), r)
        return h + F.interpolate(x, scale_factor=r, mode="nearest")


ARCHS = {"resnet50": ResNet50Keras, "vgg19": VGG19, "rrdn": RRDN, "rdn": RDN,
         "srresnet": SRResNet, "rrdbnet": RRDBNet, "srvgg": SRVGG}
FEATURE_ARCHS = ("resnet50", "vgg19")


def load(path):
    tensors, meta = load_tensors(path)
    if meta.get("format") != "hirestyle":
        raise ValueError("%s: not a hirestyle file (metadata format=%r)" % (path, meta.get("format")))
    arch = meta.get("architecture")
    if arch not in ARCHS:
        raise ValueError("%s: unknown architecture %r" % (path, arch))
    return ARCHS[arch](tensors, meta).eval()


def _floats(meta, key):
    return [float(v) for v in meta[key].split(",")]


def preprocess(model, rgb01):
    """(1,3,H,W) RGB in [0,1] -> the network's input as described by the metadata."""
    m = model.meta
    x = rgb01 * float(m.get("input_range", "1"))
    if m.get("channel_order", "rgb") == "bgr":
        x = x.flip(1)
    if "mean" in m:
        x = x - torch.tensor(_floats(m, "mean")).view(1, 3, 1, 1)
    if "std" in m:
        x = x / torch.tensor(_floats(m, "std")).view(1, 3, 1, 1)
    return x


def _main(argv):
    if len(argv) != 6:
        print(__doc__.split("Command line")[1], file=sys.stderr)
        return 2
    model = load(argv[1])
    h, wd = int(argv[3]), int(argv[4])
    a = np.fromfile(argv[2], dtype="<f4")
    if a.size != h * wd * 3:
        print("nets.py: %s holds %d floats, expected %d" % (argv[2], a.size, h * wd * 3), file=sys.stderr)
        return 1
    x = torch.from_numpy(a.reshape(h, wd, 3).transpose(2, 0, 1).copy())[None]
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with torch.no_grad():
        y = model(x)
    if model.arch in FEATURE_ARCHS:
        os.makedirs(argv[5], exist_ok=True)
        index = {}
        for k, v in y.items():
            v = v[0].permute(1, 2, 0).contiguous().numpy().astype("<f4")
            v.tofile(os.path.join(argv[5], k + ".f32"))
            index[k] = list(v.shape)
        with open(os.path.join(argv[5], "index.json"), "w") as f:
            json.dump(index, f, indent=1)
        print(json.dumps({"layers": len(index)}))
    else:
        out = y[0].permute(1, 2, 0).contiguous().numpy().astype("<f4")
        out.tofile(argv[5])
        print(json.dumps({"shape": list(out.shape)}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

#!/usr/bin/python3
"""Convert PyTorch super-resolution generators to hirestyle safetensors.

usage: convert_torch_sr.py CKPT.pth OUT.safetensors --arch rrdbnet|srresnet
                           [--license L] [--source S] [--bn-eps E] [--unsafe-pickle]

--arch rrdbnet  ESRGAN / Real-ESRGAN RRDBNet.  Accepted key layouts:
    basicsr (Real-ESRGAN, possibly wrapped in "params_ema"/"params"):
        conv_first, body.N.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1, conv_up2, conv_hr, conv_last
    ESRGAN repo 2019 (RRDBNet_arch.py, current RRDB_ESRGAN_x4.pth):
        conv_first, RRDB_trunk.N.RDB{k}.conv{j}, trunk_conv, upconv1, upconv2, HRconv, conv_last
    ESRGAN original (architecture.py/block.py, old RRDB_ESRGAN_x4.pth):
        model.0, model.1.sub.N.RDB{k}.conv{j}.0, model.1.sub.{nb}, model.3, model.6, model.8, model.10
  Output uses the basicsr names (each .weight [O,I,3,3] and .bias [O]):
        conv_first; body.{i}.rdb{k}.conv{j} (i<num_block, k=1..3, j=1..5); conv_body;
        conv_up1; conv_up2; conv_hr; conv_last
  Graph (all convs 3x3 stride 1 pad 1, lrelu = leaky ReLU slope 0.2):
        x = pixel_unshuffle(x, u) if u>1 (u = metadata pixel_unshuffle: 1 for x4 models,
            2 for x2 models whose conv_first takes 12 channels, 4 for x1 models)
        f = conv_first(x); h = f
        for i: r = h
          for k in 1..3: u = h; x0 = h
            x1 = lrelu(conv1(x0)); x2 = lrelu(conv2(cat(x0,x1))); x3 = lrelu(conv3(cat(x0,x1,x2)))
            x4 = lrelu(conv4(cat(x0..x3))); h = u + 0.2 * conv5(cat(x0..x4))
          h = r + 0.2 * h
        f = f + conv_body(h)
        f = lrelu(conv_up1(nearest_x2(f))); f = lrelu(conv_up2(nearest_x2(f)))
        y = conv_last(lrelu(conv_hr(f)))            (range [0,1], not clipped)

--arch srresnet  SRGAN generator (Ledig et al.) as in github.com/leftthomas/SRGAN model.py:
    block1.0 conv 9x9 3->64 + block1.1 PReLU; block2..block{N+1} ResidualBlock
    (conv1, bn1, prelu, conv2, bn2); block{N+2}.0 conv 3x3 + .1 BatchNorm;
    block{N+3}.{j}.conv/.prelu UpsampleBLock (conv 3x3 64->256, pixel_shuffle(2), PReLU),
    j < log2(scale); block{N+3}.{n_up} conv 9x9 64->3.  Output (tanh(x)+1)/2.
  BatchNorms are folded (eps --bn-eps, PyTorch default 1e-5); single-parameter
  PReLUs are expanded to one slope per channel.  Output names:
        head.weight/bias [64,3,9,9], head.prelu [64]
        body.{i}.conv1.weight/bias, body.{i}.prelu [64], body.{i}.conv2.weight/bias   (i < num_blocks)
        body_end.weight/bias
        up.{j}.weight/bias [256,64,3,3], up.{j}.prelu [64]                          (j < log2(scale))
        tail.weight/bias [3,64,9,9]
  Graph: f = prelu(head(x)); h = f; for i: h = h + conv2(prelu(conv1(h)))
         h = f + body_end(h); for j: h = prelu_j(pixel_shuffle_torch(up_j(h), 2))
         y = (tanh(tail(h)) + 1) / 2
  pixel_shuffle_torch: out[c, y*2+i, x*2+j] = in[c*4 + i*2 + j, y, x].
"""

import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from torch_ckpt import CkptError, load_state_dict  # noqa: E402


def _need(sd, key, shape, path):
    if key not in sd:
        raise CkptError("%s: missing tensor %s" % (path, key))
    if shape is not None and tuple(sd[key].shape) != tuple(shape):
        raise CkptError("%s: %s has shape %s, expected %s" % (path, key, list(sd[key].shape), list(shape)))
    return sd[key]


# ------------------------------------------------------------------ rrdbnet
def rrdb_to_basicsr(sd, path):
    """Rename any supported RRDBNet layout to basicsr names; returns (dict, layout)."""
    if "conv_first.weight" in sd and "body.0.rdb1.conv1.weight" in sd:
        return dict(sd), "basicsr"
    out = {}
    if "conv_first.weight" in sd and "RRDB_trunk.0.RDB1.conv1.weight" in sd:
        ren = {"trunk_conv": "conv_body", "upconv1": "conv_up1", "upconv2": "conv_up2", "HRconv": "conv_hr"}
        for k, v in sd.items():
            m = re.fullmatch(r"RRDB_trunk\.(\d+)\.RDB([123])\.conv([1-5])\.(weight|bias)", k)
            if m:
                out["body.%s.rdb%s.conv%s.%s" % m.groups()] = v
                continue
            base, _, suf = k.rpartition(".")
            out["%s.%s" % (ren.get(base, base), suf)] = v
        return out, "esrgan-2019"
    if "model.0.weight" in sd and "model.1.sub.0.RDB1.conv1.0.weight" in sd:
        nb = 0
        while "model.1.sub.%d.RDB1.conv1.0.weight" % nb in sd:
            nb += 1
        tail = sorted(set(int(m.group(1)) for m in (re.fullmatch(r"model\.(\d+)\.weight", k) for k in sd) if m))
        tail = [t for t in tail if t >= 2]
        if len(tail) != 4:
            raise CkptError("%s: old ESRGAN layout with %d upsampling convs: only x4 models (model.3, model.6, "
                            "model.8, model.10) are supported" % (path, len(tail) - 2))
        ren = {"model.0": "conv_first", "model.1.sub.%d" % nb: "conv_body", "model.%d" % tail[0]: "conv_up1",
               "model.%d" % tail[1]: "conv_up2", "model.%d" % tail[2]: "conv_hr", "model.%d" % tail[3]: "conv_last"}
        for k, v in sd.items():
            m = re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB([123])\.conv([1-5])\.0\.(weight|bias)", k)
            if m:
                out["body.%s.rdb%s.conv%s.%s" % m.groups()] = v
                continue
            base, _, suf = k.rpartition(".")
            if base not in ren:
                raise CkptError("%s: unexpected tensor %s in old ESRGAN layout" % (path, k))
            out["%s.%s" % (ren[base], suf)] = v
        return out, "esrgan-original"
    raise CkptError("%s: not an RRDBNet checkpoint (no conv_first/body.0.rdb1, RRDB_trunk or model.1.sub keys; "
                    "first keys: %s)" % (path, ", ".join(list(sd)[:4])))


def convert_rrdbnet(sd, path):
    sd, layout = rrdb_to_basicsr(sd, path)
    cf = _need(sd, "conv_first.weight", None, path)
    if cf.ndim != 4 or cf.shape[2:] != (3, 3):
        raise CkptError("%s: conv_first.weight has shape %s" % (path, list(cf.shape)))
    nf, cin = cf.shape[0], cf.shape[1]
    unshuffle = {3: 1, 12: 2, 48: 4}.get(cin)
    if unshuffle is None:
        raise CkptError("%s: conv_first takes %d channels (expected 3, 12 or 48)" % (path, cin))
    gc = _need(sd, "body.0.rdb1.conv1.weight", None, path).shape[0]
    nb = 0
    while "body.%d.rdb1.conv1.weight" % nb in sd:
        nb += 1
    out = {}

    def take(name, o, i):
        out[name + ".weight"] = _need(sd, name + ".weight", (o, i, 3, 3), path)
        out[name + ".bias"] = _need(sd, name + ".bias", (o,), path)

    take("conv_first", nf, cin)
    for b in range(nb):
        for k in (1, 2, 3):
            for j in range(1, 6):
                take("body.%d.rdb%d.conv%d" % (b, k, j), nf if j == 5 else gc, nf + (j - 1) * gc)
    take("conv_body", nf, nf)
    take("conv_up1", nf, nf)
    take("conv_up2", nf, nf)
    take("conv_hr", nf, nf)
    take("conv_last", 3, nf)
    extra = [k for k in sd if k not in out]
    if extra:
        raise CkptError("%s: unexpected tensors for RRDBNet: %s" % (path, ", ".join(extra[:5])))
    scale = 4 // unshuffle
    meta = {"architecture": "rrdbnet", "num_feat": str(nf), "num_block": str(nb), "num_grow_ch": str(gc),
            "scale": str(scale), "pixel_unshuffle": str(unshuffle), "leaky_slope": "0.2",
            "residual_scale": "0.2", "upsampling": "nearest x2, twice", "key_layout": layout}
    return out, meta, "num_feat=%d num_block=%d num_grow_ch=%d x%d (%s keys)" % (nf, nb, gc, scale, layout)


# ----------------------------------------------------------------- srresnet
def _fold(w, b, sd, bn, eps, path):
    g = _need(sd, bn + ".weight", (w.shape[0],), path).astype(np.float64)
    beta = _need(sd, bn + ".bias", (w.shape[0],), path).astype(np.float64)
    mean = _need(sd, bn + ".running_mean", (w.shape[0],), path).astype(np.float64)
    var = _need(sd, bn + ".running_var", (w.shape[0],), path).astype(np.float64)
    if np.any(var < 0):
        raise CkptError("%s: %s.running_var is negative" % (path, bn))
    f = g / np.sqrt(var + eps)
    return ((w.astype(np.float64) * f[:, None, None, None]).astype(np.float32),
            ((b.astype(np.float64) - mean) * f + beta).astype(np.float32))


def _prelu(sd, key, ch, path):
    p = _need(sd, key, None, path)
    if p.shape == (1,):
        return np.full((ch,), p[0], np.float32)
    if p.shape == (ch,):
        return p.astype(np.float32)
    raise CkptError("%s: PReLU %s has shape %s (expected [1] or [%d])" % (path, key, list(p.shape), ch))


def convert_srresnet(sd, path, eps):
    if "block1.0.weight" not in sd:
        hint = " (this is the old sub-pixel CNN variant of leftthomas/SRGAN, not supported)" \
            if "conv1.weight" in sd and "conv5.weight" in sd else ""
        raise CkptError("%s: not a leftthomas/SRGAN Generator state dict (no block1.0.weight)%s" % (path, hint))
    hw = _need(sd, "block1.0.weight", None, path)
    if hw.ndim != 4 or hw.shape[1] != 3:
        raise CkptError("%s: block1.0.weight has shape %s" % (path, list(hw.shape)))
    nf, k = hw.shape[0], hw.shape[2]
    res = sorted(int(m.group(1)) for m in (re.fullmatch(r"block(\d+)\.conv1\.weight", x) for x in sd) if m)
    if not res or res != list(range(2, 2 + len(res))):
        raise CkptError("%s: residual blocks must be block2..blockN+1 with conv1/bn1/prelu/conv2/bn2, found %s"
                        % (path, res))
    nb = len(res)
    end, up = 2 + nb, 3 + nb
    out = {}
    used = set()

    def use(*keys):
        used.update(keys)

    out["head.weight"] = hw
    out["head.bias"] = _need(sd, "block1.0.bias", (nf,), path)
    out["head.prelu"] = _prelu(sd, "block1.1.weight", nf, path)
    use("block1.0.weight", "block1.0.bias", "block1.1.weight")
    for i in range(nb):
        p = "block%d." % (2 + i)
        for c, bn in (("conv1", "bn1"), ("conv2", "bn2")):
            w = _need(sd, p + c + ".weight", (nf, nf, 3, 3), path)
            b = _need(sd, p + c + ".bias", (nf,), path)
            out["body.%d.%s.weight" % (i, c)], out["body.%d.%s.bias" % (i, c)] = _fold(w, b, sd, p + bn, eps, path)
            use(p + c + ".weight", p + c + ".bias",
                *(p + bn + "." + s for s in ("weight", "bias", "running_mean", "running_var")))
        out["body.%d.prelu" % i] = _prelu(sd, p + "prelu.weight", nf, path)
        use(p + "prelu.weight")
        # keep the canonical order conv1, prelu, conv2
        for s in ("conv2.weight", "conv2.bias"):
            out["body.%d.%s" % (i, s)] = out.pop("body.%d.%s" % (i, s))
    p = "block%d." % end
    w = _need(sd, p + "0.weight", (nf, nf, 3, 3), path)
    b = _need(sd, p + "0.bias", (nf,), path)
    out["body_end.weight"], out["body_end.bias"] = _fold(w, b, sd, p + "1", eps, path)
    use(p + "0.weight", p + "0.bias", *(p + "1." + s for s in ("weight", "bias", "running_mean", "running_var")))
    p = "block%d." % up
    nup = 0
    while p + "%d.conv.weight" % nup in sd:
        out["up.%d.weight" % nup] = _need(sd, p + "%d.conv.weight" % nup, (nf * 4, nf, 3, 3), path)
        out["up.%d.bias" % nup] = _need(sd, p + "%d.conv.bias" % nup, (nf * 4,), path)
        out["up.%d.prelu" % nup] = _prelu(sd, p + "%d.prelu.weight" % nup, nf, path)
        use(*(p + "%d.%s" % (nup, s) for s in ("conv.weight", "conv.bias", "prelu.weight")))
        nup += 1
    if nup not in (1, 2, 3):
        raise CkptError("%s: found %d upsample blocks in block%d (expected 1..3)" % (path, nup, up))
    out["tail.weight"] = _need(sd, p + "%d.weight" % nup, (3, nf, k, k), path)
    out["tail.bias"] = _need(sd, p + "%d.bias" % nup, (3,), path)
    use(p + "%d.weight" % nup, p + "%d.bias" % nup)
    extra = [x for x in sd if x not in used]
    if extra:
        raise CkptError("%s: unexpected tensors for the SRGAN generator: %s" % (path, ", ".join(extra[:5])))
    scale = 2 ** nup
    meta = {"architecture": "srresnet", "num_blocks": str(nb), "num_feat": str(nf), "scale": str(scale),
            "output_activation": "tanh_half", "pixel_shuffle": "torch", "bn_folded": "1", "bn_eps": repr(eps),
            "key_layout": "leftthomas/SRGAN"}
    return out, meta, "num_blocks=%d num_feat=%d x%d, BN folded" % (nb, nf, scale)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch SR generator -> hirestyle safetensors")
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--arch", required=True, choices=("rrdbnet", "srresnet"))
    ap.add_argument("--license", default="unknown (not given to convert_torch_sr.py)")
    ap.add_argument("--source", default=None)
    ap.add_argument("--bn-eps", type=float, default=1e-5)
    ap.add_argument("--unsafe-pickle", action="store_true", help="allow full unpickling (trusted files only)")
    a = ap.parse_args(argv)
    try:
        sd = load_state_dict(a.ckpt, unsafe=a.unsafe_pickle)
        if a.arch == "rrdbnet":
            tensors, meta, summary = convert_rrdbnet(sd, a.ckpt)
        else:
            tensors, meta, summary = convert_srresnet(sd, a.ckpt, a.bn_eps)
        meta.update({"format": "hirestyle", "source": a.source or os.path.basename(a.ckpt), "license": a.license,
                     "input_range": "1", "output_range": "1", "channel_order": "rgb",
                     "mean": "0,0,0", "std": "1,1,1"})
        safetensors_io.write(a.out, tensors, dict(sorted(meta.items())))
    except (CkptError, safetensors_io.SafetensorsError, OSError) as e:
        print("convert_torch_sr: error: %s" % e, file=sys.stderr)
        return 1
    n = sum(int(v.size) for v in tensors.values())
    print("convert_torch_sr: %s -> %s: %s (%s), %d tensors, %.2fM params"
          % (a.ckpt, a.out, a.arch, summary, len(tensors), n / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())

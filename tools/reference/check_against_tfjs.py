#!/usr/bin/python3
"""Check a converted file and tools/reference/nets.py against the original TF.js model.

usage: check_against_tfjs.py MODEL_JSON CONVERTED.safetensors [--size H W] [--seed N] [--no-js]

Three independent computations on the same random input are compared:
  A  nets.py running CONVERTED.safetensors (BN folded, OIHW, hand-written graph);
  B  a generic PyTorch interpreter of model.json running the raw TF.js weights
     layer by layer (explicit BatchNormalization with each layer's epsilon,
     Keras 'same' padding rule, TF depth_to_space order) - the "unfolded original";
  C  TensorFlow.js itself (tools/reference/tfjs_upscale.js / tfjs_features.js,
     @tensorflow/tfjs-core+layers+backend-cpu 4.22, UpscalerJS' own custom layers).
For ResNet50 every block output (conv1_relu, pool1, res2a .. res5c) is compared.
Prints one line per comparison with the max abs difference and the max abs
value; exits 1 if a difference exceeds 1e-4 relative to the output's max abs.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nets  # noqa: E402
import tfjs_model  # noqa: E402


def same_pad(x, k, s):
    h, w = x.shape[2], x.shape[3]
    ph = max((math.ceil(h / s[0]) - 1) * s[0] + k[0] - h, 0)
    pw = max((math.ceil(w / s[1]) - 1) * s[1] + k[1] - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def interpret(m, x, want=()):
    """Run a tfjs_model.TfjsModel on NCHW float64 input; returns {layer: tensor} for want + outputs."""
    vals = {}
    W = lambda n, p: torch.from_numpy(tfjs_model.layer_weight(m, n, p).astype(np.float64))  # noqa: E731
    for lay in m.layers:
        c = lay.config
        ins = [vals[i] for i in lay.inbound]
        cls = lay.cls
        if cls == "InputLayer":
            y = x
        elif cls == "Conv2D":
            k = tfjs_model._tuple2(c["kernel_size"])
            s = tfjs_model._tuple2(c.get("strides", 1))
            t = same_pad(ins[0], k, s) if c.get("padding") == "same" else ins[0]
            wt = W(lay.name, "kernel").permute(3, 2, 0, 1)
            b = W(lay.name, "bias") if c.get("use_bias", True) else None
            y = F.conv2d(t, wt, b, stride=s)
            assert c.get("activation", "linear") == "linear"
        elif cls == "BatchNormalization":
            eps = float(c.get("epsilon", 1e-3))
            g = W(lay.name, "gamma") if c.get("scale", True) else 1.0
            be = W(lay.name, "beta") if c.get("center", True) else 0.0
            mu, var = W(lay.name, "moving_mean"), W(lay.name, "moving_variance")
            sh = lambda v: v.view(1, -1, 1, 1) if torch.is_tensor(v) else v  # noqa: E731
            y = (ins[0] - sh(mu)) / torch.sqrt(sh(var) + eps) * sh(g) + sh(be)
        elif cls == "Activation":
            y = {"relu": F.relu, "linear": lambda t: t}[c["activation"]](ins[0])
        elif cls == "Add":
            y = sum(ins[1:], ins[0])
        elif cls == "Concatenate":
            y = torch.cat(ins, 1)
        elif cls == "MultiplyBeta":
            y = ins[0] * 0.2  # the package's BETA constant; config beta is 0.2 too
        elif cls.startswith("PixelShuffle"):
            y = nets.depth_to_space_tf(ins[0], int(c.get("scale")))
        elif cls == "UpSampling2D":
            y = nets.upsample_nearest(ins[0], tfjs_model._tuple2(c["size"])[0])
        elif cls == "ZeroPadding2D":
            (t, b), (l, r) = tfjs_model._padding2(c["padding"])
            y = F.pad(ins[0], (l, r, t, b))
        elif cls == "MaxPooling2D":
            k = tfjs_model._tuple2(c["pool_size"])
            s = tfjs_model._tuple2(c.get("strides") or c["pool_size"])
            assert c.get("padding", "valid") == "valid"
            y = F.max_pool2d(ins[0], k, s)
        elif cls == "GlobalAveragePooling2D":
            y = ins[0].mean((2, 3))
        elif cls == "Dense":
            y = ins[0] @ W(lay.name, "kernel") + W(lay.name, "bias")
            if c.get("activation") == "softmax":
                y = torch.softmax(y, -1)
        else:
            raise SystemExit("interpreter: unsupported layer %s" % cls)
        vals[lay.name] = y
    return vals


def resnet_block_layers(m):
    """Our feature name -> Keras layer name (the relu ending each block)."""
    consumers = {}
    for l in m.layers:
        for i in l.inbound:
            consumers.setdefault(i, []).append(l)

    def relu_after(name):
        cs = [c for c in consumers.get(name, []) if c.cls == "Activation"]
        assert len(cs) == 1, name
        return cs[0].name

    out = {"conv1_relu": relu_after("bn_conv1")}
    pool = [c for c in consumers[consumers[out["conv1_relu"]][0].name] if c.cls == "MaxPooling2D"]
    out["pool1"] = pool[0].name
    for s, blocks in nets.RESNET_STAGES:
        for b in blocks:
            add = [c for c in consumers["bn%d%s_branch2c" % (s, b)] if c.cls == "Add"][0]
            out["res%d%s" % (s, b)] = relu_after(add.name)
    return out


def report(label, a, b, tol, fails):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        print("%-44s SHAPE MISMATCH %s vs %s" % (label, a.shape, b.shape))
        fails.append(label)
        return
    d = float(np.abs(a - b).max())
    scale = float(np.abs(b).max()) or 1.0
    ok = d <= tol * scale
    print("%-44s max|diff| %.3g  (max|ref| %.4g, rel %.2g)%s" % (label, d, scale, d / scale, "" if ok else "  FAIL"))
    if not ok:
        fails.append(label)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_json")
    ap.add_argument("converted")
    ap.add_argument("--size", nargs=2, type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-js", action="store_true")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    m = tfjs_model.load(a.model_json)
    net = nets.load(a.converted)
    arch = net.arch
    h, w = a.size or ((97, 83) if arch == "resnet50" else (23, 19))
    rng = np.random.RandomState(a.seed)
    img = rng.rand(h, w, 3)
    if arch == "resnet50":
        x = img[:, :, ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])
    else:
        x = img * float(net.meta["input_range"])
    x = np.ascontiguousarray(x.astype(np.float32))
    xt = torch.from_numpy(x.transpose(2, 0, 1).copy())[None]
    fails = []
    name = os.path.basename(a.converted)
    with torch.no_grad():
        A = net(xt)
        B = interpret(m, xt.double())
    tmp = tempfile.mkdtemp(prefix="hs_check_")
    inf = os.path.join(tmp, "in.f32")
    x.tofile(inf)
    node_env = dict(os.environ)
    if arch == "resnet50":
        names = resnet_block_layers(m)
        C = {}
        if not a.no_js:
            outdir = os.path.join(tmp, "feat")
            r = subprocess.run(["node", os.path.join(HERE, "tfjs_features.js"), a.model_json, inf, str(h), str(w),
                                outdir, ",".join(names.values())], capture_output=True, text=True, env=node_env)
            if r.returncode:
                raise SystemExit("tfjs_features.js failed: %s" % r.stderr.strip()[-500:])
            shapes = json.loads(r.stdout.strip().splitlines()[-1])
            for ours, keras in names.items():
                C[ours] = np.fromfile(os.path.join(outdir, keras + ".f32"), "<f4").reshape(shapes[keras])
        for ours, keras in names.items():
            av = A[ours][0].permute(1, 2, 0).numpy()
            bv = B[keras][0].permute(1, 2, 0).numpy()
            report("%s %s nets vs unfolded" % (name, ours), av, bv, a.tol, fails)
            if ours in C:
                report("%s %s nets vs tfjs" % (name, ours), av, C[ours], a.tol, fails)
                report("%s %s unfolded vs tfjs" % (name, ours), bv, C[ours], a.tol, fails)
    else:
        av = A[0].permute(1, 2, 0).numpy()
        bv = B[m.outputs[0]][0].permute(1, 2, 0).numpy()
        report("%s nets vs unfolded (%dx%d)" % (name, h, w), av, bv, a.tol, fails)
        if not a.no_js:
            outf = os.path.join(tmp, "out.f32")
            r = subprocess.run(["node", os.path.join(HERE, "tfjs_upscale.js"), a.model_json, inf, str(h), str(w), outf],
                               capture_output=True, text=True, env=node_env)
            if r.returncode:
                raise SystemExit("tfjs_upscale.js failed: %s" % r.stderr.strip()[-500:])
            info = json.loads(r.stdout.strip().splitlines()[-1])
            cv = np.fromfile(outf, "<f4").reshape(info["shape"])
            report("%s nets vs tfjs" % name, av, cv, a.tol, fails)
            report("%s unfolded vs tfjs" % name, bv, cv, a.tol, fails)
    print("%s: %s" % (name, "OK" if not fails else "FAILED (%d)" % len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Read a TensorFlow.js *layers* model (model.json + binary weight shards).

Used by tools/convert_tfjs.py and tools/reference/check_*.py.

- load(path_to_model_json) -> TfjsModel
    .layers   list of Layer(cls, name, config, inbound=[input layer names])
    .by_name  dict name -> Layer
    .inputs / .outputs   lists of layer names
    .weights  dict "layer/param" -> numpy float32 array (e.g. "conv1/kernel")
    .meta     the top-level fields of model.json (format, generatedBy, ...)
- canonical_ids(model) -> dict layer name -> "canonical id": a string that
  names what a layer computes.  Layers carrying weights (Conv2D,
  BatchNormalization, Dense) and the input are identified by their name; all
  other layers (activations, adds, concatenations, paddings, poolings, the
  UpscalerJS custom layers) by an expression of their inputs, e.g.
  "relu(add(bn2a_branch1,bn2a_branch2c))".  Automatically generated names
  (activation_12, add_3, multiply_beta_7) thus do not matter, and two graphs
  are equal iff every weighted layer has the same kind, settings and
  canonical input.  GraphBuilder produces the same ids for an expected
  architecture.

Weights: every group of weightsManifest is the concatenation of its shard
files in the listed order; its weights are laid out one after the other in
the listed order, each product(shape) little-endian values of its dtype.
Only float32 is accepted; quantized weights are rejected.
"""

import json
import os

import numpy as np


class TfjsError(Exception):
    pass


class Layer(object):
    __slots__ = ("cls", "name", "config", "inbound")

    def __init__(self, cls, name, config, inbound):
        self.cls, self.name, self.config, self.inbound = cls, name, config, inbound

    def __repr__(self):
        return "Layer(%s %s <- %s)" % (self.cls, self.name, self.inbound)


class TfjsModel(object):
    pass


def _inbound_names(layer):
    nodes = layer.get("inbound_nodes", [])
    if not nodes:
        return []
    if len(nodes) != 1:
        raise TfjsError("layer %s is called %d times (shared layers are not supported)"
                        % (layer.get("name"), len(nodes)))
    node = nodes[0]
    names = []
    if isinstance(node, dict):  # Keras 3 style {"args": [...], "kwargs": {}}
        raise TfjsError("Keras 3 model.json layout is not supported (layer %s)" % layer.get("name"))
    for item in node:
        if not isinstance(item, list) or not item or not isinstance(item[0], str):
            raise TfjsError("cannot parse inbound node of layer %s: %r" % (layer.get("name"), node))
        if len(item) > 2 and item[2] != 0:
            raise TfjsError("layer %s uses output %d of %s (multi-output layers unsupported)"
                            % (layer.get("name"), item[2], item[0]))
        names.append(item[0])
    return names


def load(model_json, read_weights=True):
    try:
        with open(model_json, "r", encoding="utf-8") as f:
            j = json.load(f)
    except OSError as e:
        raise TfjsError("cannot read %s: %s" % (model_json, e.strerror or e))
    except ValueError as e:
        raise TfjsError("%s is not valid JSON (%s)" % (model_json, e))
    if not isinstance(j, dict) or "modelTopology" not in j:
        raise TfjsError("%s is not a TF.js model.json (no modelTopology)" % model_json)
    fmt = j.get("format")
    if fmt not in (None, "layers-model"):
        raise TfjsError("%s: format %r is not a TF.js layers model" % (model_json, fmt))
    topo = j["modelTopology"]
    cfg = topo.get("model_config", topo) if isinstance(topo, dict) else None
    if not isinstance(cfg, dict) or cfg.get("class_name") not in ("Model", "Functional"):
        raise TfjsError("%s: only functional Keras models (class Model/Functional) are supported, got %r"
                        % (model_json, cfg.get("class_name") if isinstance(cfg, dict) else cfg))
    c = cfg["config"]
    m = TfjsModel()
    m.path = model_json
    m.meta = {k: v for k, v in j.items() if k not in ("modelTopology", "weightsManifest")}
    m.keras_version = topo.get("keras_version")
    m.layers = []
    m.by_name = {}
    for l in c["layers"]:
        name = l.get("name") or l.get("config", {}).get("name")
        lay = Layer(l["class_name"], name, l.get("config", {}), _inbound_names(l))
        if name in m.by_name:
            raise TfjsError("duplicate layer name %s" % name)
        m.layers.append(lay)
        m.by_name[name] = lay
    for lay in m.layers:
        for i in lay.inbound:
            if i not in m.by_name:
                raise TfjsError("layer %s has unknown input %s" % (lay.name, i))
    m.inputs = [x[0] for x in c.get("input_layers", [])]
    m.outputs = [x[0] for x in c.get("output_layers", [])]
    m.weights = {}
    m.weight_order = []
    if read_weights:
        _read_weights(m, j, os.path.dirname(os.path.abspath(model_json)))
    return m


_DT = {"float32": np.dtype("<f4")}


def _read_weights(m, j, base):
    manifest = j.get("weightsManifest")
    if not isinstance(manifest, list):
        raise TfjsError("%s: no weightsManifest" % m.path)
    for gi, group in enumerate(manifest):
        chunks = []
        for p in group.get("paths", []):
            fp = os.path.join(base, p)
            try:
                with open(fp, "rb") as f:
                    chunks.append(f.read())
            except OSError as e:
                raise TfjsError("cannot read weight shard %s: %s" % (fp, e.strerror or e))
        buf = b"".join(chunks)
        off = 0
        for w in group.get("weights", []):
            name, shape, dt = w["name"], [int(s) for s in w["shape"]], w.get("dtype", "float32")
            if "quantization" in w:
                raise TfjsError("weight %s is quantized (%s): only float32 weights are supported; "
                                "use the unquantized model" % (name, w["quantization"].get("dtype")))
            if dt not in _DT:
                raise TfjsError("weight %s has dtype %s: only float32 is supported" % (name, dt))
            n = int(np.prod(shape, dtype=np.int64))
            nb = n * _DT[dt].itemsize
            if off + nb > len(buf):
                raise TfjsError("weight group %d is truncated: %s needs bytes [%d,%d) but the shards "
                                "hold %d bytes" % (gi, name, off, off + nb, len(buf)))
            a = np.frombuffer(buf, dtype=_DT[dt], count=n, offset=off).reshape(shape).astype(np.float32)
            off += nb
            if name in m.weights:
                raise TfjsError("duplicate weight %s" % name)
            if not np.all(np.isfinite(a)):
                raise TfjsError("weight %s has non-finite values (corrupt file?)" % name)
            m.weights[name] = a
            m.weight_order.append(name)
        if off != len(buf):
            raise TfjsError("weight group %d: shards hold %d bytes but the manifest describes %d"
                            % (gi, len(buf), off))


def layer_weight(m, layer, param):
    """Weight `param` (kernel, bias, gamma, ...) of a layer, or None."""
    key = "%s/%s" % (layer, param)
    if key in m.weights:
        return m.weights[key]
    cands = [k for k in m.weights if k.endswith("/" + key)]
    if len(cands) == 1:
        return m.weights[cands[0]]
    return None


WEIGHTED = ("Conv2D", "BatchNormalization", "Dense")


def _tuple2(v):
    if isinstance(v, (list, tuple)):
        return tuple(int(x) for x in v)
    return (int(v), int(v))


def _padding2(p):
    if isinstance(p, int):
        return ((p, p), (p, p))
    if isinstance(p, (list, tuple)) and len(p) == 2:
        a, b = p
        a = (a, a) if isinstance(a, int) else tuple(a)
        b = (b, b) if isinstance(b, int) else tuple(b)
        return (tuple(int(x) for x in a), tuple(int(x) for x in b))
    raise TfjsError("cannot parse padding %r" % (p,))


def canonical_ids(m):
    ids = {}

    def expr(lay):
        ins = [ids[i] for i in lay.inbound]
        c = lay.config
        cls = lay.cls
        if cls == "InputLayer":
            return "input"
        if cls in WEIGHTED:
            return lay.name
        if len(ins) == 0:
            raise TfjsError("layer %s (%s) has no input" % (lay.name, cls))
        if cls == "Activation" or cls == "ReLU":
            act = c.get("activation", "relu") if cls == "Activation" else "relu"
            if cls == "ReLU" and (c.get("max_value") is not None or float(c.get("negative_slope", 0)) != 0
                                  or float(c.get("threshold", 0)) != 0):
                raise TfjsError("layer %s: ReLU with max_value/negative_slope/threshold unsupported" % lay.name)
            return ins[0] if act == "linear" else "%s(%s)" % (act, ins[0])
        if cls == "Add":
            return "add(%s)" % ",".join(sorted(ins))
        if cls == "Concatenate":
            if int(c.get("axis", -1)) not in (-1, 3):
                raise TfjsError("layer %s concatenates along axis %s (only channels supported)"
                                % (lay.name, c.get("axis")))
            return "cat(%s)" % ",".join(ins)
        if cls == "MultiplyBeta":
            return "mul%s(%s)" % (repr(float(c.get("beta", 0.2))), ins[0])
        if cls.startswith("PixelShuffle"):
            return "d2s%s(%s)" % (c.get("scale", cls[len("PixelShuffle"):].rstrip("x")), ins[0])
        if cls == "UpSampling2D":
            return "up_%s%s(%s)" % (c.get("interpolation", "nearest"), list(_tuple2(c.get("size", 2))), ins[0])
        if cls == "ZeroPadding2D":
            return "pad%s(%s)" % (list(map(list, _padding2(c.get("padding", 1)))), ins[0])
        if cls == "MaxPooling2D":
            return "maxpool%s/%s/%s(%s)" % (list(_tuple2(c["pool_size"])),
                                           list(_tuple2(c.get("strides") or c["pool_size"])),
                                           c.get("padding", "valid"), ins[0])
        if cls == "GlobalAveragePooling2D":
            return "gap(%s)" % ins[0]
        raise TfjsError("unsupported layer class %s (layer %s)" % (cls, lay.name))

    pending = list(m.layers)
    while pending:
        rest = []
        for lay in pending:
            if all(i in ids for i in lay.inbound):
                ids[lay.name] = expr(lay)
            else:
                rest.append(lay)
        if len(rest) == len(pending):
            raise TfjsError("graph has a cycle or dangling inputs near %s" % rest[0].name)
        pending = rest
    return ids


def layer_spec(m, lay, ids):
    """What a weighted layer is, for comparison with GraphBuilder specs."""
    c = lay.config
    inp = ids[lay.inbound[0]] if lay.inbound else None
    if len(lay.inbound) != 1:
        raise TfjsError("layer %s must have exactly one input" % lay.name)
    if lay.cls == "Conv2D":
        k = _tuple2(c["kernel_size"])
        s = _tuple2(c.get("strides", 1))
        pad = c.get("padding", "valid")
        if k == (1, 1):
            pad = "valid"  # identical for 1x1 kernels
        for key, want in (("data_format", "channels_last"), ("activation", "linear")):
            if c.get(key, want) != want:
                raise TfjsError("conv %s: %s=%r unsupported" % (lay.name, key, c.get(key)))
        if _tuple2(c.get("dilation_rate", 1)) != (1, 1) or int(c.get("groups", 1)) != 1:
            raise TfjsError("conv %s: dilation/groups unsupported" % lay.name)
        return ("Conv2D", inp, k, s, pad, int(c["filters"]))
    if lay.cls == "BatchNormalization":
        axis = c.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, 3):
            raise TfjsError("batch norm %s over axis %r unsupported" % (lay.name, axis))
        return ("BatchNormalization", inp)
    if lay.cls == "Dense":
        return ("Dense", inp)
    raise TfjsError("not a weighted layer: %s" % lay.name)


class GraphBuilder(object):
    """Describe an expected Keras graph; compare() checks a loaded model.

    Nodes are (canonical id, channels).  conv()/bn()/dense() record the
    weighted layers in order; .order lists them."""

    def __init__(self):
        self.specs = {}
        self.order = []
        self.output = None

    def input(self, channels=3):
        return ("input", channels)

    def conv(self, name, x, k, filters, stride=1, padding="same"):
        k = _tuple2(k)
        if k == (1, 1):
            padding = "valid"
        self.specs[name] = (("Conv2D", x[0], k, _tuple2(stride), padding, int(filters)), x[1])
        self.order.append(name)
        return (name, int(filters))

    def bn(self, name, x):
        self.specs[name] = (("BatchNormalization", x[0]), x[1])
        self.order.append(name)
        return (name, x[1])

    def dense(self, name, x):
        self.specs[name] = (("Dense", x[0]), x[1])
        self.order.append(name)
        return (name, None)

    @staticmethod
    def relu(x):
        return ("relu(%s)" % x[0], x[1])

    @staticmethod
    def add(*xs):
        return ("add(%s)" % ",".join(sorted(x[0] for x in xs)), xs[0][1])

    @staticmethod
    def cat(*xs):
        return ("cat(%s)" % ",".join(x[0] for x in xs), sum(x[1] for x in xs))

    @staticmethod
    def mul(x, beta):
        return ("mul%s(%s)" % (repr(float(beta)), x[0]), x[1])

    @staticmethod
    def d2s(x, r):
        return ("d2s%s(%s)" % (r, x[0]), x[1] // (r * r))

    @staticmethod
    def upsample(x, r):
        return ("up_nearest%s(%s)" % ([r, r], x[0]), x[1])

    @staticmethod
    def pad(x, p):
        return ("pad%s(%s)" % ([[p, p], [p, p]], x[0]), x[1])

    @staticmethod
    def maxpool(x, k, s):
        return ("maxpool%s/%s/valid(%s)" % ([k, k], [s, s], x[0]), x[1])

    @staticmethod
    def gap(x):
        return ("gap(%s)" % x[0], x[1])

    def compare(self, m, ids, ignore=()):
        """Raise TfjsError on the first difference between m and the spec."""
        actual = {l.name: l for l in m.layers if l.cls in WEIGHTED and l.name not in ignore}
        missing = [n for n in self.order if n not in actual]
        if missing:
            raise TfjsError("model lacks expected layer(s) %s" % ", ".join(missing[:5]))
        extra = [n for n in actual if n not in self.specs]
        if extra:
            raise TfjsError("model has unexpected weighted layer(s) %s" % ", ".join(extra[:5]))
        for n in self.order:
            want, cin = self.specs[n]
            got = layer_spec(m, actual[n], ids)
            if got != want:
                raise TfjsError("layer %s differs from the expected architecture:\n  got      %s\n  expected %s"
                                % (n, _short(got), _short(want)))
            if want[0] == "Conv2D":
                kern = layer_weight(m, n, "kernel")
                shape = tuple(want[2]) + (cin, want[5])
                if kern is None or tuple(kern.shape) != shape:
                    raise TfjsError("conv %s: kernel shape %s, expected %s"
                                    % (n, None if kern is None else list(kern.shape), list(shape)))
                b = layer_weight(m, n, "bias")
                if actual[n].config.get("use_bias", True) and (b is None or tuple(b.shape) != (want[5],)):
                    raise TfjsError("conv %s: missing or misshapen bias" % n)
            elif want[0] == "BatchNormalization":
                for p in ("moving_mean", "moving_variance"):
                    w = layer_weight(m, n, p)
                    if w is None or tuple(w.shape) != (cin,):
                        raise TfjsError("batch norm %s: missing or misshapen %s" % (n, p))
        if self.output is not None:
            outs = [ids[o] for o in m.outputs]
            if outs != [self.output]:
                raise TfjsError("model output is %s, expected %s" % (_short(outs), _short(self.output)))


def _short(x, n=300):
    s = str(x)
    return s if len(s) <= n else s[:n // 2] + " ... " + s[-n // 2:]

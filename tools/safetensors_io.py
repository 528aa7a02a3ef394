#!/usr/bin/python3
"""Minimal, self-contained safetensors reader/writer (numpy only).

File layout (https://github.com/huggingface/safetensors, format only):

    u64 LE   N = length of the JSON header in bytes
    N bytes  JSON header: {"NAME": {"dtype": "F32", "shape": [...],
                                    "data_offsets": [begin, end]}, ...,
                           "__metadata__": {"key": "value", ...}}
             (padded with spaces so that the data starts 8-byte aligned)
    bytes    raw little-endian tensor data; offsets are relative to the
             start of this section, tensors are contiguous, no holes.

hirestyle writes F32 only; all metadata values are strings.

API:
    write(path, tensors, metadata)   tensors: dict name -> array-like
                                     (converted to C-contiguous float32),
                                     written in the dict's order.
    read(path) -> (tensors, metadata) tensors: dict name -> numpy array,
                                     in file order.
    read_header(path) -> (header dict without __metadata__, metadata)

Command line:  python3 tools/safetensors_io.py FILE   prints a listing.
"""

import json
import os
import struct
import sys

import numpy as np

__all__ = ["write", "read", "read_header", "SafetensorsError"]

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(Exception):
    pass


def write(path, tensors, metadata=None):
    """Write tensors (name -> array) as F32 safetensors, atomically."""
    meta = {}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise SafetensorsError("metadata keys and values must be strings: %r=%r" % (k, v))
        meta[k] = v
    header = {}
    blobs = []
    off = 0
    for name, t in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise SafetensorsError("bad tensor name %r" % (name,))
        a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
        if not np.all(np.isfinite(a)):
            raise SafetensorsError("tensor %s has non-finite values" % name)
        b = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": [int(s) for s in a.shape],
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if meta:
        header["__metadata__"] = meta
    hj = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hj += b" " * ((8 - (len(hj) % 8)) % 8)
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(hj)))
            f.write(hj)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _parse_header(f, size, path):
    if size < 8:
        raise SafetensorsError("%s: too small to be a safetensors file (%d bytes)" % (path, size))
    (n,) = struct.unpack("<Q", f.read(8))
    if n < 2 or n > _MAX_HEADER or 8 + n > size:
        raise SafetensorsError("%s: bad header length %d (file has %d bytes): not safetensors or truncated"
                               % (path, n, size))
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError("%s: header is not valid JSON (%s)" % (path, e))
    if not isinstance(header, dict):
        raise SafetensorsError("%s: header is not a JSON object" % path)
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise SafetensorsError("%s: __metadata__ must map strings to strings" % path)
    data_len = size - 8 - n
    spans = []
    for name, info in header.items():
        try:
            dt = _DTYPES[info["dtype"]]
            shape = [int(s) for s in info["shape"]]
            b, e = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError("%s: bad or unsupported entry for tensor %s: %r" % (path, name, info))
        if any(s < 0 for s in shape):
            raise SafetensorsError("%s: negative dimension in %s" % (path, name))
        nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        if not (0 <= b <= e <= data_len) or e - b != nbytes:
            raise SafetensorsError("%s: tensor %s offsets [%d,%d) do not fit shape %s / data size %d (truncated?)"
                                   % (path, name, b, e, shape, data_len))
        spans.append((b, e, name))
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b != pos:
            raise SafetensorsError("%s: tensor data not contiguous at %s" % (path, name))
        pos = e
    if pos != data_len:
        raise SafetensorsError("%s: %d trailing bytes after tensor data" % (path, data_len - pos))
    return n, header, meta


def read_header(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        _, header, meta = _parse_header(f, size, path)
    return header, meta


def read(path):
    """Return (dict name -> numpy array, metadata dict), tensors in file order."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        n, header, meta = _parse_header(f, size, path)
        data = f.read()
    base = 0
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dt = _DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data, dtype=dt, count=(e - b) // dt.itemsize,
                                  offset=base + b).reshape(info["shape"]).copy()
    return out, meta


def _main(argv):
    if len(argv) != 2:
        print("usage: safetensors_io.py FILE.safetensors", file=sys.stderr)
        return 2
    try:
        tensors, meta = read(argv[1])
    except (OSError, SafetensorsError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    for k in sorted(meta):
        print("meta %s = %s" % (k, meta[k]))
    total = 0
    for k, v in tensors.items():
        total += v.size
        print("%-40s %-5s %s" % (k, v.dtype, list(v.shape)))
    print("%d tensors, %d parameters" % (len(tensors), total))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))

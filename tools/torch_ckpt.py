#!/usr/bin/python3
"""Load a PyTorch checkpoint safely (tensors only) for the converters."""

import os
import zipfile

import numpy as np


class CkptError(Exception):
    pass


def load_state_dict(path, unsafe=False, wrappers=("params_ema", "params", "state_dict", "model", "netG", "generator")):
    """Return an ordered dict name -> float32 numpy array.

    Unwraps Real-ESRGAN style {"params_ema": sd} / {"params": sd} and a few
    other common wrappers, and strips a DataParallel "module." prefix.
    weights_only loading is used unless unsafe=True (full unpickling of an
    untrusted file can run code)."""
    import torch
    if not os.path.isfile(path):
        raise CkptError("%s: no such file" % path)
    size = os.path.getsize(path)
    if size < 64:
        raise CkptError("%s: %d bytes is too small for a PyTorch checkpoint" % (path, size))
    try:
        if unsafe:
            obj = torch.load(path, map_location="cpu")
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except zipfile.BadZipFile as e:
        raise CkptError("%s: not a valid PyTorch checkpoint (truncated or corrupt zip: %s)" % (path, e))
    except Exception as e:  # torch raises many types for bad files
        msg = " ".join(str(e).split()) or type(e).__name__
        if "WeightsUnpickler error:" in msg:
            msg = msg.split("WeightsUnpickler error:", 1)[1].strip()
            if "EOF" in msg or "corrupt" in msg:
                msg = "truncated or corrupt file (%s)" % msg
            else:
                msg += " (the file holds more than tensors; re-run with --unsafe-pickle if you trust it)"
        raise CkptError("%s: cannot load as a PyTorch checkpoint: %s" % (path, msg[:400]))
    for _ in range(3):
        if isinstance(obj, dict) and not any(torch.is_tensor(v) for v in obj.values()):
            for w in wrappers:
                if w in obj and isinstance(obj[w], dict):
                    obj = obj[w]
                    break
            else:
                break
        else:
            break
    if not isinstance(obj, dict):
        raise CkptError("%s: checkpoint is a %s, not a state dict" % (path, type(obj).__name__))
    out = {}
    for k, v in obj.items():
        if not torch.is_tensor(v):
            continue
        if k.startswith("module."):
            k = k[len("module."):]
        if v.dtype in (torch.int64, torch.int32):  # BatchNorm num_batches_tracked
            continue
        if not v.is_floating_point():
            raise CkptError("%s: tensor %s has dtype %s" % (path, k, v.dtype))
        a = v.detach().to(torch.float32).contiguous().numpy().copy()
        if not np.all(np.isfinite(a)):
            raise CkptError("%s: tensor %s has non-finite values" % (path, k))
        out[k] = a
    if not out:
        raise CkptError("%s: no float tensors found (top-level keys: %s)"
                        % (path, ", ".join(list(map(str, obj.keys()))[:8])))
    return out

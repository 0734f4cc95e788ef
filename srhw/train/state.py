"""Exact-resume training state in one safetensors file (no pickle): model, optimizer, RNGs, step.

Tensors (weights, Adam moments, torch RNG state, numpy MT19937 key) are safetensors tensors; the rest
(step, optimizer param_groups, python `random` state, loss accumulator, config) is JSON in the header
metadata. The data sampler needs only `step` (srhw/data/patches.py: sample i is a function of (seed, i)).
"""

import json
import random

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path


def rng_state():
    np_state = np.random.get_state()
    tensors = {"rng.torch": torch.get_rng_state(), "rng.numpy.key": torch.from_numpy(np_state[1].astype(np.int64))}
    py = random.getstate()
    meta = {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            "python": [py[0], list(py[1]), py[2]]}
    return tensors, meta


def set_rng_state(tensors, meta):
    torch.set_rng_state(tensors["rng.torch"])
    name, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, tensors["rng.numpy.key"].numpy().astype(np.uint32), pos, has_gauss, cached))
    v, st, g = meta["python"]
    random.setstate((v, tuple(st), g))


def save_state(path, model, optimizer, step, extra):
    """Write model + optimizer + RNG states + `step` + JSON-able `extra` atomically to `path`."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    osd = optimizer.state_dict()
    opt_meta = {}
    for idx, st in osd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{idx}.{k}"] = v.detach().cpu().contiguous().clone()
            else:
                opt_meta[f"{idx}.{k}"] = v
    rt, rm = rng_state()
    tensors.update(rt)
    meta = {"step": step, "param_groups": osd["param_groups"], "optim_scalars": opt_meta, "rng": rm, "extra": extra}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"srhw_train_state": json.dumps(meta)})


def load_state(path, model, optimizer):
    """Restore what `save_state` wrote into `model` and `optimizer` and the global RNGs; returns (step, extra)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["srhw_train_state"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:
        raise SrhwError(f"{path}: unreadable training state ({type(e).__name__}: {e})".replace("\n", " ")) from None
    sd = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    from srhw.core.checkpoint import check_state_dict

    check_state_dict(model, sd)
    model.load_state_dict(sd)
    state = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v
    for k, v in meta["optim_scalars"].items():
        idx, name = k.split(".", 1)
        state.setdefault(int(idx), {})[name] = v
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    set_rng_state(tensors, meta["rng"])
    return meta["step"], meta["extra"]

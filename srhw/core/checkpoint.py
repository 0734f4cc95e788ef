"""Checkpoints: `<name>.safetensors` (weights) + `<name>.json` sidecar (what the weights are).

The sidecar holds `spec` (zoo spec string, e.g. "bl"), `scale`, `model_args` (overrides passed to
`srhw.models.build`, e.g. a tiny num_feat; {} for the paper model), `quant` (None or the quantization
scheme), `step` (training iteration), `data` (training set) and `metrics` (e.g. Set5 PSNR); the same JSON
is also stored in the safetensors header metadata under "srhw", so a lone .safetensors file still says
what it is. Weights are only ever read with safetensors: pickled files (`torch.save`) are refused, never
unpickled.
"""

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path, write_json
from srhw.core.sidecar import validate_sidecar

__all__ = ["save_checkpoint", "load_checkpoint", "read_meta", "check_state_dict", "sidecar_path", "META_KEYS"]

META_KEYS = ("spec", "scale", "model_args", "quant", "step", "data", "metrics")
SUFFIX = ".safetensors"


def sidecar_path(path):
    """`run/model.safetensors` -> `run/model.json`."""
    return Path(path).with_suffix(".json")


def save_checkpoint(path, model, meta):
    """Write `model`'s weights to `path` (.safetensors) and `meta` to the JSON sidecar, each atomically.

    Args:
        path (str | Path): must end in .safetensors.
        model (nn.Module | dict): a module or a state dict of tensors.
        meta (dict): at least `spec` and `scale`; keys of META_KEYS missing from it are stored as None.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise SrhwError(f"{path}: checkpoint files must end in {SUFFIX}")
    for k in ("spec", "scale"):
        if k not in meta:
            raise SrhwError(f"checkpoint meta needs '{k}'")
    meta = {**{k: None for k in META_KEYS}, **meta}
    sd = model.state_dict() if isinstance(model, torch.nn.Module) else model
    # clone: safetensors refuses tensors that share storage (tied weights, views)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in sd.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"srhw": json.dumps(meta)})
    write_json(sidecar_path(path), meta)
    return path


def _safetensors_problem(path):
    """Why `path` is not a readable safetensors file, or None. safetensors = u64 little-endian header length,
    then a JSON object of that length; pickles/zips start otherwise."""
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return "not a safetensors checkpoint (only .safetensors is read; pickles are refused)"
    n = int.from_bytes(head[:8], "little")
    size = path.stat().st_size
    if n > size - 8:
        return f"truncated safetensors file: its header needs {n} bytes, the file holds {size - 8} after the length"
    return None


def _check_finite(path, state_dict):
    for k, t in state_dict.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise SrhwError(f"{path}: weight {k} holds NaN or infinite values; refusing the checkpoint")


def load_checkpoint(path):
    """Read a checkpoint written by `save_checkpoint`. Returns (state_dict, meta).

    Refuses anything that is not a safetensors file (e.g. a `torch.save` pickle) with an SrhwError.
    `meta` comes from the JSON sidecar, else from the safetensors header, else is {}.
    """
    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"{path}: no such checkpoint file")
    problem = "not a safetensors checkpoint (only .safetensors is read; pickles are refused)" \
        if path.suffix != SUFFIX else _safetensors_problem(path)
    if problem:
        raise SrhwError(f"{path}: {problem}")
    try:
        state_dict = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            header_meta = (f.metadata() or {}).get("srhw")
    except (SafetensorError, OSError, ValueError) as e:
        raise SrhwError(f"{path}: corrupt safetensors file ({e})".replace("\n", " ")) from None
    _check_finite(path, state_dict)
    return state_dict, read_meta(path, header_meta)


def read_meta(path, header_meta=None):
    """The checkpoint's sidecar (validated against srhw.core.sidecar.SCHEMA), else its header's, else {}."""
    side = sidecar_path(path)
    if side.is_file():
        try:
            return validate_sidecar(json.loads(side.read_text()), side)
        except json.JSONDecodeError as e:
            raise SrhwError(f"{side}: bad JSON sidecar ({e})") from None
    if not header_meta:
        return {}
    try:
        return validate_sidecar(json.loads(header_meta), f"{path} (header metadata)")
    except json.JSONDecodeError as e:
        raise SrhwError(f"{path}: bad JSON in its header metadata ({e})") from None


def check_state_dict(model, state_dict, spec=None, scale=None):
    """Raise SrhwError unless `state_dict` has exactly `model`'s keys and shapes.

    `spec`/`scale` name the model in the message (a checkpoint of another spec or scale is the usual cause).
    """
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state_dict.items()}
    what = f"model {spec!r} x{scale}" if spec is not None else "the model"
    missing, extra = sorted(want.keys() - got.keys()), sorted(got.keys() - want.keys())
    wrong = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of wrong shape (e.g. {k}: {got[k]} vs {want[k]})")
        raise SrhwError(f"checkpoint does not fit {what}: " + ", ".join(parts) + " - wrong spec or scale?")


def load_into(model, path, spec=None, scale=None):
    """Load checkpoint `path` into `model` after `check_state_dict`; returns meta."""
    state_dict, meta = load_checkpoint(path)
    check_state_dict(model, state_dict, spec, scale)
    model.load_state_dict(state_dict)
    return meta

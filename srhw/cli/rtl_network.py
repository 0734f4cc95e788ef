"""`srhw rtl fit|counts|sp-layer`: a whole st_bl network on a part, its op counts, or one trained layer as Verilog.

fit and counts use a checkpoint's ternary codes: --checkpoint, else the shipped checkpoint of the model
(models/<slug>.safetensors) where one exists; only without either (or with --random-weights) do they
use random codes, and then they say `RANDOM WEIGHTS (no checkpoint)` in the table and in the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from srhw.cli.common import spec_and_scale
from srhw.core.errors import SrhwError
from srhw.core.names import shipped_checkpoint

RANDOM = "RANDOM WEIGHTS (no checkpoint)"
DEFAULT_MODEL = "st_bl(r=2c_out)"


def ternary_codes(path) -> tuple[dict, dict]:
    """({module: (W_b (r, N), W_c (M, r))}, model_args) of a checkpoint's ternary codes; SrhwError on bad input."""
    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"checkpoint not found: {path}")
    from safetensors.numpy import load_file

    try:
        sd = load_file(str(path))
    except Exception as e:
        raise SrhwError(f"cannot read {path} as safetensors: {type(e).__name__}") from None
    codes = {}
    for k, v in sd.items():
        for role, suffix in ((0, ".codes_b"), (1, ".codes_c"), (0, ".frozen_b"), (1, ".frozen_c")):
            if k.endswith(suffix):
                if not np.isin(v, (-1, 0, 1)).all():
                    raise SrhwError(f"{path}: {k} is not ternary (values outside {{-1, 0, 1}})")
                codes.setdefault(k[: -len(suffix)], [None, None])[role] = v.reshape(v.shape[0], -1).astype(np.int8)
    codes = {k: tuple(v) for k, v in codes.items() if v[0] is not None and v[1] is not None}
    if not codes:
        raise SrhwError(f"{path}: no ternary codes (codes_b/codes_c or frozen_b/frozen_c) in it")
    model_args = {}
    if path.with_suffix(".json").is_file():
        from srhw.core.checkpoint import read_meta

        model_args = dict(read_meta(path).get("model_args") or {})  # schema-checked sidecar
    return codes, model_args


def weights_of(args) -> tuple[str, int, Path | None]:
    """(spec, scale, checkpoint or None): --checkpoint (its sidecar names the spec), else the shipped one."""
    if args.random_weights and args.checkpoint:
        raise SrhwError("give either --checkpoint or --random-weights, not both")
    sidecar = args.checkpoint if args.checkpoint and Path(args.checkpoint).with_suffix(".json").is_file() else None
    if args.checkpoint and not Path(args.checkpoint).is_file():
        raise SrhwError(f"checkpoint not found: {args.checkpoint}")
    spec, scale = spec_and_scale(args.model, args.r, args.scale, sidecar, DEFAULT_MODEL, 2)
    if not spec.startswith("st_bl"):
        raise SrhwError(f"{spec} has no sum-product convs: the RTL path is for st_bl(...)")
    ckpt = Path(args.checkpoint) if args.checkpoint else None
    if ckpt is None and not args.random_weights:
        shipped = shipped_checkpoint(spec, scale)
        ckpt = shipped if shipped.is_file() else None
    return spec, scale, ckpt


def section(args, part) -> dict:
    from rtl import network_section

    spec, scale, ckpt = weights_of(args)
    codes, margs = ternary_codes(ckpt) if ckpt else (None, {})
    try:
        sec = network_section(spec, scale, part, getattr(args, "clock_mhz", 150.0), codes=codes, cse=args.cse,
                              model_args=margs)
    except ValueError as e:
        raise SrhwError(str(e).splitlines()[0]) from None
    sec.update(spec=spec, scale=scale, weights=str(ckpt) if ckpt else RANDOM, random_weights=ckpt is None)
    return sec


def show(sec, as_json: bool, fit: bool):
    if as_json:
        keep = {k: v for k, v in sec.items() if k != "roofline" or fit}
        print(json.dumps(keep, indent=1, sort_keys=True, default=str))
        return
    print(f"{sec['spec']} x{sec['scale']}, weights: {sec['weights']}")
    print(f"{'layer':28} {'c_in':>4} {'c_out':>5} {'r':>4} {'mults/px':>8} {'dense adds':>10} {'pruned':>8} "
          f"{'CSE':>8}" + (f" {'fold':>8} {'cycles/frame':>14}" if fit else ""))
    for l in sec["layers"]:
        cse = "-" if l["cse_adds"] is None else str(l["cse_adds"])
        print(f"{l['name']:28} {l['c_in']:>4} {l['c_out']:>5} {l['r']:>4} {l['dense_muls']:>8} {l['dense_adds']:>10} "
              f"{l['naive_adds']:>8} {cse:>8}" + (f" {str(l['fold_r']) + 'x' + str(l['fold_n']):>8} {l['cycles_per_frame']:>14,}" if fit else ""))
    print(f"per frame: {sec['muls']:,} mults, {sec['adds_dense_table5']:,} adds dense (Table 5), {sec['adds']:,} adds "
          f"{sec['adds_kind']}")
    if fit:
        print(f"{sec['architecture']} on {sec['part']}: LUT {sec['lut']:,} FF {sec['ff']:,} CARRY4 {sec['carry4']:,} "
              f"DSP {sec['dsp']} BRAM36 {sec['bram']} (analytic); {sec['fps_720p']:.3g} fps at 720p, {sec['clock_mhz']:g} MHz; "
              f"roofline {sec['roofline_fps']:.3g} fps ({sec['roofline']['bound']}-bound); ratio {sec['roofline_ratio']:.3f}")
        if sec.get("dataflow_rejected"):
            print(f"dataflow rejected: {sec['dataflow_rejected']}")
    if sec["random_weights"]:
        print(f"{RANDOM}: the counts above are of random ternary codes, not of a trained model")


def run_fit(args) -> int:
    from srhw.hw.parts import get_part

    show(section(args, get_part(args.part)), args.json, True)
    return 0


def run_counts(args) -> int:
    from srhw.hw.parts import get_part

    show(section(args, get_part("xc7z020")), args.json, False)
    return 0

"""`srhw rtl adder-tree|sum-product`: one kernel from a weights file, as Verilog + a JSON sidecar.

Each writes DIR/<module>.v and DIR/<module>.json (keys: module, n, m, in_bits, out_bits, latency, adders,
muls, plus naive_adders and kernel details), both atomically.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path, write_json

# Input widths the generator accepts: below 2 bits a signed input is only {-1, 0}; above 32 the
# packing helpers and simulators' 64-bit paths are not exercised.
MIN_IN_BITS, MAX_IN_BITS = 2, 32
_MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def load_ternary(path) -> np.ndarray:
    """Load a ternary weight matrix from .npy as int8 (M, N), or raise SrhwError with one line."""
    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"weights file not found: {path}")
    try:
        W = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy raises ValueError/OSError/EOFError/UnpicklingError variants
        raise SrhwError(f"cannot read {path} as .npy: {type(e).__name__}: {e}".splitlines()[0]) from None
    if not isinstance(W, np.ndarray):
        raise SrhwError(f"{path}: expected a single array, got {type(W).__name__}")
    if W.ndim != 2:
        raise SrhwError(f"{path}: weights must be 2-D (M x N), got shape {W.shape}")
    if W.size == 0:
        raise SrhwError(f"{path}: weights must not be empty, got shape {W.shape}")
    if W.dtype.kind not in "biuf":
        raise SrhwError(f"{path}: dtype {W.dtype} is not convertible to int8")
    if W.dtype.kind == "f" and not (np.all(np.isfinite(W)) and np.all(W == np.round(W))):
        raise SrhwError(f"{path}: weights are not integers")
    bad = ~np.isin(W, (-1, 0, 1))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise SrhwError(f"{path}: weights must be in {{-1, 0, 1}}, found {W[r, c]} at ({r}, {c})")
    return W.astype(np.int8)


def _check_common(args) -> Path:
    """Checks shared by every kernel; returns the (created) output folder."""
    if not (MIN_IN_BITS <= args.in_bits <= MAX_IN_BITS):
        raise SrhwError(f"--in-bits must be in {MIN_IN_BITS}..{MAX_IN_BITS}, got {args.in_bits}")
    if args.stage_every < 1:
        raise SrhwError(f"--stage-every must be >= 1, got {args.stage_every}")
    if not _MODULE_RE.match(args.module):
        raise SrhwError(f"--module must be a Verilog identifier, got {args.module!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SrhwError(f"--out {out} exists and is not a folder")
    return out


def _make_out(out: Path):
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SrhwError(f"cannot create --out {out}: {e.strerror}") from None


def _write(out: Path, module: str, text: str, sidecar: dict) -> Path:
    """Write <module>.v and <module>.json atomically; return the Verilog path."""
    vpath, jpath = out / f"{module}.v", out / f"{module}.json"
    try:
        with atomic_path(vpath) as tmp:
            tmp.write_text(text)
        write_json(jpath, sidecar)
    except OSError as e:
        raise SrhwError(f"cannot write to {out}: {e.strerror}") from None
    return vpath


def run_adder_tree(args) -> int:
    out = _check_common(args)
    W = load_ternary(args.weights)
    _make_out(out)

    # Amaranth is imported only here: `srhw rtl --help` stays fast.
    from rtl.adder_tree import AdderTree, AdderTreeConfig, to_verilog

    tree = AdderTree(W, AdderTreeConfig(in_bits=args.in_bits, stage_every=args.stage_every))
    text = to_verilog(tree, args.module)
    p = tree.plan
    s = p.summary()
    sidecar = {
        "module": args.module,
        "kernel": "adder-tree",
        "n": p.n,
        "m": p.m,
        "in_bits": p.in_bits,
        "out_bits": p.out_bits,
        "latency": p.latency,
        "adders": p.adders,
        "muls": 0,
        "naive_adders": s["naive_adders"],
        "cse_ratio": s["cse_ratio"],
        "shared_terms": p.shared_terms,
        "negs": p.negs,
        "nnz": p.nnz,
        "depth": p.depth,
        "stage_every": p.stage_every,
        "register_bits": s["register_bits"],
        "weights": str(Path(args.weights).name),
    }
    vpath = _write(out, args.module, text, sidecar)
    print(f"{vpath}: {p.m}x{p.n} ternary, {p.adders} adders ({s['naive_adders']} naive), "
          f"latency {p.latency}, out_bits {p.out_bits}")
    return 0


def load_sum_product(path) -> dict:
    """Load wb, a, wc, sh (and optional bias) from an .npz, checked; raise SrhwError with one line."""
    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"params file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except Exception as e:
        raise SrhwError(f"cannot read {path} as .npz: {type(e).__name__}: {e}".splitlines()[0]) from None
    missing = [k for k in ("wb", "a", "wc", "sh") if k not in d]
    if missing:
        raise SrhwError(f"{path}: missing arrays {missing} (need wb, a, wc, sh; bias optional)")
    for k in ("wb", "wc"):
        W = d[k]
        if W.ndim != 2 or W.size == 0 or W.dtype.kind not in "biu" or not np.isin(W, (-1, 0, 1)).all():
            raise SrhwError(f"{path}: {k} must be a 2-D integer array with values in {{-1, 0, 1}}")
    r = d["wb"].shape[0]
    for k, n_ in (("a", r), ("bias", d["wc"].shape[0])):
        if k in d and (d[k].dtype.kind not in "iu" or d[k].reshape(-1).shape != (n_,)):
            raise SrhwError(f"{path}: {k} must hold {n_} integers")
    if d["wc"].shape[1] != r:
        raise SrhwError(f"{path}: wc has {d['wc'].shape[1]} columns, wb has {r} rows")
    if d["sh"].size != 1 or d["sh"].dtype.kind not in "iu" or int(d["sh"]) < 0:
        raise SrhwError(f"{path}: sh must be one integer >= 0")
    return d


def run_sum_product(args) -> int:
    out = _check_common(args)
    if not (MIN_IN_BITS <= args.out_bits <= MAX_IN_BITS):
        raise SrhwError(f"--out-bits must be in {MIN_IN_BITS}..{MAX_IN_BITS}, got {args.out_bits}")
    d = load_sum_product(args.params)
    from rtl.adder_tree import to_verilog
    from rtl.sum_product import SumProduct, SumProductConfig, out_range

    cfg = SumProductConfig(in_bits=args.in_bits, out_bits=args.out_bits, out_signed=args.signed_out,
                           relu=not args.no_relu, stage_every=args.stage_every)
    try:
        sp = SumProduct(d["wb"], d["a"], d["wc"], d.get("bias"), int(d["sh"]), cfg)
    except ValueError as e:
        raise SrhwError(str(e)) from None
    _make_out(out)
    text = to_verilog(sp, args.module)
    pb, pc = sp.tree_b.plan, sp.tree_c.plan
    lo, hi = out_range(cfg)
    sidecar = {
        "module": args.module,
        "kernel": "sum-product",
        "n": sp.n,
        "m": sp.m,
        "r": sp.r,
        "in_bits": cfg.in_bits,
        "out_bits": cfg.out_bits,
        "out_signed": cfg.out_signed,
        "out_lo": lo,
        "out_hi": hi,
        "relu": cfg.relu,
        "sh": sp.sh,
        "latency": sp.latency,
        # Adders of both trees, plus one bias/rounding adder per output.
        "adders": pb.adders + pc.adders + sp.m,
        "muls": sp.r,
        "mul_bits": [pb.out_bits, sp.prod_bits - pb.out_bits],
        "naive_adders": pb.naive_adders + pc.naive_adders + sp.m,
        "stage_every": cfg.stage_every,
        "params": Path(args.params).name,
    }
    vpath = _write(out, args.module, text, sidecar)
    print(f"{vpath}: sum-product {sp.m}x{sp.r}x{sp.n}, {sidecar['adders']} adders, {sp.r} multipliers, "
          f"latency {sp.latency}")
    return 0

"""`python -m srhw rtl <kernel>`: generate multiplier-free RTL kernels (Verilog + one JSON sidecar).

Kernels are argparse sub-sub-commands so more can be added beside `adder-tree`:

    python -m srhw rtl adder-tree --weights W.npy --in-bits 8 --out DIR [--stage-every K] [--module NAME]

writes DIR/<module>.v and DIR/<module>.json (keys: module, n, m, in_bits, out_bits, latency, adders,
muls, plus naive_adders, cse_ratio and planning details), both atomically.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from srhw.errors import SrhwError
from srhw.io import atomic_path, write_json

# Input widths the generator accepts: below 2 bits a signed input is only {-1, 0}; above 32 the
# packing helpers and simulators' 64-bit paths are not exercised.
MIN_IN_BITS, MAX_IN_BITS = 2, 32
_MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def add_arguments(parser):
    kernels = parser.add_subparsers(dest="kernel", required=True, metavar="KERNEL")
    p = kernels.add_parser("adder-tree", help="constant ternary matrix-vector product y = W·x")
    p.add_argument("--weights", required=True, help="int8 .npy, shape M x N, values in {-1,0,1}")
    p.add_argument("--in-bits", type=int, required=True, help="signed input width (2..32)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--stage-every", type=int, default=2, help="adder levels per pipeline register")
    p.add_argument("--module", default="adder_tree", help="Verilog module name (and file stem)")
    p.set_defaults(_kernel=run_adder_tree)


def run(args) -> int:
    return args._kernel(args)


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


def run_adder_tree(args) -> int:
    if not (MIN_IN_BITS <= args.in_bits <= MAX_IN_BITS):
        raise SrhwError(f"--in-bits must be in {MIN_IN_BITS}..{MAX_IN_BITS}, got {args.in_bits}")
    if args.stage_every < 1:
        raise SrhwError(f"--stage-every must be >= 1, got {args.stage_every}")
    if not _MODULE_RE.match(args.module):
        raise SrhwError(f"--module must be a Verilog identifier, got {args.module!r}")
    W = load_ternary(args.weights)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SrhwError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SrhwError(f"cannot create --out {out}: {e.strerror}") from None

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
        "weights": str(Path(args.weights).name),
    }
    vpath, jpath = out / f"{args.module}.v", out / f"{args.module}.json"
    try:
        with atomic_path(vpath) as tmp:
            tmp.write_text(text)
        write_json(jpath, sidecar)
    except OSError as e:
        raise SrhwError(f"cannot write to {out}: {e.strerror}") from None
    print(f"{vpath}: {p.m}x{p.n} ternary, {p.adders} adders ({s['naive_adders']} naive), "
          f"latency {p.latency}, out_bits {p.out_bits}")
    return 0

"""`srhw rtl verify-trained`: the RTL acceptance sweep on a trained checkpoint's integer graph (rtl.verify).

Every sp_conv W_b / W_c as a CSE adder tree through Yosys and a bit-exact cocotb bench, and the SP layer
on real feature maps; one JSON report, rewritten atomically after every matrix (`--resume` continues one).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.cli.rtl_network import ternary_codes


def _check_codes(graph, ckpt) -> int:
    """The graph's W_b/W_c must be the checkpoint's ternary codes (frozen_b/_c or codes_b/_c); returns
    the number of nodes compared."""
    if ckpt is None:
        return 0
    codes, _ = ternary_codes(ckpt)
    checked = 0
    for n in graph.nodes:
        if n.op != "sp_conv":
            continue
        key = n.attrs.get("module")
        if key not in codes:
            raise SrhwError(f"{ckpt}: no ternary codes for {key} (node {n.name})")
        cb, cc = codes[key]
        wb, wc = graph.param(n, "WB"), graph.param(n, "WC")
        if not (np.array_equal(cb, wb.reshape(wb.shape[0], -1)) and np.array_equal(cc, wc.reshape(wc.shape[0], -1))):
            raise SrhwError(f"{n.name}: the golden graph's ternary codes differ from {ckpt}'s")
        checked += 1
    return checked


def _parse_folds(items) -> dict:
    folds = {}
    for it in items:
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(\d+)x(\d+)", it)
        if not m or int(m[2]) < 1 or int(m[3]) < 1:
            raise SrhwError(f"--sp-fold must look like LAYER=4x2, got {it!r}")
        folds[m[1]] = (int(m[2]), int(m[3]))
    return folds


def run_verify_trained(args) -> int:
    if args.samples < 0:
        raise SrhwError(f"--samples must be >= 0, got {args.samples}")
    if args.max_nnz < 1:
        raise SrhwError(f"--max-nnz must be >= 1, got {args.max_nnz}")
    if args.sp_crop < 1:
        raise SrhwError(f"--sp-crop must be >= 1, got {args.sp_crop}")
    roles = tuple(r.strip().upper() for r in args.roles.split(",") if r.strip())
    if not roles or set(roles) - {"WB", "WC"}:
        raise SrhwError(f"--roles must be WB, WC or WB,WC, got {args.roles!r}")
    layers = [l.strip() for l in args.layers.split(",") if l.strip()] if args.layers else None
    sp_layers = [l.strip() for l in args.sp_layers.split(",") if l.strip()]
    folds = _parse_folds(args.sp_fold)
    from rtl.sweep import trained_graph

    graph, folder, ckpt = trained_graph(args.graph, args.checkpoint)

    codes_checked = _check_codes(graph, ckpt)

    from rtl.sweep import MIN_REDUCTION, run_sweep

    report = run_sweep(args, graph, folder, ckpt, codes_checked, roles, layers, sp_layers, folds)
    out = Path(args.out)
    s = report["summary"]
    for role in ("WB", "WC"):
        r = s.get(role) or {}
        if r.get("matrices") and r["reduction_total"] is not None:
            print(f"{role}: {r['matrices']} matrices, CSE reduction {100 * r['reduction_min']:.1f}-"
                  f"{100 * r['reduction_max']:.1f} % (total {100 * r['reduction_total']:.1f} %), below "
                  f"{100 * MIN_REDUCTION:.0f} %: {r['below_min_reduction'] or 'none'}, at the lower bound (disjoint rows): "
                  f"{r['at_lower_bound']}")
    if s["matrices"]:
        print(f"{s['matrices']} matrices: $mul {s['muls']}, {s['vectors_checked']} vectors checked, "
              f"{s['mismatches']} mismatches; failed: {s['failed'] or 'none'}")
    print(f"report: {out}")
    ok = s["ok"] and s.get("sp_layers_ok", True)
    return 0 if ok else 1

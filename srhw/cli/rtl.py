"""`python -m srhw rtl <kernel>`: generate multiplier-free RTL kernels (Verilog + one JSON sidecar).

Kernels are argparse sub-sub-commands so more can be added beside `adder-tree`:

    python -m srhw rtl adder-tree --weights W.npy --in-bits 8 --out DIR [--stage-every K] [--module NAME]
    python -m srhw rtl sum-product --params P.npz --in-bits 8 [--out-bits 8 --signed-out --no-relu] --out DIR

each writes DIR/<module>.v and DIR/<module>.json (keys: module, n, m, in_bits, out_bits, latency,
adders, muls, plus naive_adders and kernel details), both atomically.

    python -m srhw rtl verify-trained --checkpoint models/st_bl_r_2c_out-x2.safetensors --out report.json

runs the RTL acceptance sweep on a trained checkpoint's integer graph (rtl.verify): every
sp_conv W_b / W_c as a CSE adder tree through Yosys and a bit-exact cocotb bench, and the SP layer on
real feature maps; one JSON report, rewritten atomically after every matrix (`--resume` continues one).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path, write_json
from srhw.cli.common import CLOCK_MHZ

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

    p = kernels.add_parser("sum-product", help="sum-product kernel: W_b tree, r scales, W_c tree, bias, requantize")
    p.add_argument("--params", required=True,
                   help=".npz with wb (r x N ternary), a (r ints), wc (M x r ternary), sh (int), optional bias (M)")
    p.add_argument("--in-bits", type=int, required=True, help="signed input width (2..32)")
    p.add_argument("--out-bits", type=int, default=8, help="output width (2..32)")
    p.add_argument("--signed-out", action="store_true", help="signed outputs (default: unsigned)")
    p.add_argument("--no-relu", action="store_true", help="do not clamp at 0")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--stage-every", type=int, default=2, help="adder levels per pipeline register")
    p.add_argument("--module", default="sum_product", help="Verilog module name (and file stem)")
    p.set_defaults(_kernel=run_sum_product)

    for name, fn, hlp in (("fit", run_fit, "fit a whole st_bl network of folded SP layers to a part: foldings, fps, roofline"),
                          ("counts", run_counts, "multipliers/adders per SP layer: dense (Table 5), zero-pruned, CSE")):
        p = kernels.add_parser(name, help=hlp)
        p.add_argument("--model", default="st_bl(r=2c_out)", help='paper spec, e.g. "st_bl(r=2c_out)"')
        p.add_argument("--scale", type=int, default=2, help="upscaling factor 2, 3 or 4")
        p.add_argument("--checkpoint", help="trained st_bl checkpoint (.safetensors) or ternary.safetensors codes")
        p.add_argument("--cse", action="store_true", help="also count the pruned + CSE plans (minutes; cached)")
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "fit":
            p.add_argument("--part", default="xc7z020", help="FPGA part (srhw.hw.parts)")
            p.add_argument("--clock-mhz", type=CLOCK_MHZ, default=150.0, help="PL clock assumed (MHz)")
        p.set_defaults(_kernel=fn)

    p = kernels.add_parser("verify-trained",
                           help="the RTL acceptance sweep on a trained checkpoint: CSE trees + Yosys + cocotb, SP layers on real maps")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="trained ternary checkpoint (.safetensors); its golden graph is found "
                                          "through its .json sidecar ('golden') or beside it as <stem>.golden")
    src.add_argument("--graph", help="an integer golden graph folder (graph.json + graph.npz)")
    p.add_argument("--out", required=True, help="JSON report (written atomically, after every matrix)")
    p.add_argument("--work", help="build folder (default: a temporary one, removed); kept per matrix with --keep")
    p.add_argument("--keep", action="store_true", help="keep each matrix' Verilog and simulator build")
    p.add_argument("--sim", default="auto", choices=("auto", "verilator", "icarus"),
                   help="simulator of the adder trees (auto: verilator above 5000 nonzeros (~70 s per 128x576 tree; "
                        "icarus needs ~6 min there), else icarus)")
    p.add_argument("--samples", type=int, default=10_000, help="random vectors per matrix (after the corner vectors)")
    p.add_argument("--seed", type=int, default=1, help="base seed; each matrix' seed is derived from it and its name")
    p.add_argument("--layers", help="comma-separated sp_conv node names, processed in this order (default: all, graph order)")
    p.add_argument("--roles", default="WB,WC", help="WB, WC or both (default WB,WC)")
    p.add_argument("--max-nnz", type=int, default=50_000,
                   help="verify a matrix with more nonzeros as ceil(nnz/max) row blocks (default 50000, ~128x576 at 2/3)")
    p.add_argument("--no-yosys", action="store_true", help="skip the Yosys cell counts")
    p.add_argument("--no-sim", action="store_true", help="skip the cocotb benches of the trees")
    p.add_argument("--resume", action="store_true",
                   help="keep passing rows of an existing --out with the same weights and settings (also of layers not in --layers)")
    p.add_argument("--sp-layers", default="",
                   help="comma-separated sp_conv nodes to check as SP layers on real feature maps (default: none)")
    p.add_argument("--sp-image", help="LR image for the feature maps (default: the first Set5 LR image of the scale)")
    p.add_argument("--sp-crop", type=int, default=8, help="LR crop size in pixels (square, centred; default 8)")
    p.add_argument("--sp-fold", action="append", default=[], metavar="LAYER=FRxFN",
                   help="folding of one SP layer (default 1x1 for r <= 128, else (r/16)x8)")
    p.add_argument("--sp-sim", default="icarus", choices=("verilator", "icarus"), help="simulator of the SP layers")
    p.set_defaults(_kernel=run_verify_trained)

    from rtl.stream.cli import add_arguments as add_stream
    from srhw.cli.rtl_stream_hls import add_arguments as add_stream_hls

    add_stream(kernels)
    add_stream_hls(kernels)


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


def _codes(args):
    """(codes dict or None, model_args) from --checkpoint; checked; SrhwError on bad input."""
    if not args.checkpoint:
        return None, {}
    path = Path(args.checkpoint)
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


def _section(args, part):
    from srhw.models import canonical

    from rtl import network_section

    spec = canonical(args.model)
    if not spec.startswith("st_bl"):
        raise SrhwError(f"{spec} has no sum-product convs: the RTL path is for st_bl(...)")
    if args.scale not in (2, 3, 4):
        raise SrhwError(f"unsupported scale {args.scale}: use 2, 3 or 4")
    codes, margs = _codes(args)
    try:
        return network_section(spec, args.scale, part, getattr(args, "clock_mhz", 150.0), codes=codes, cse=args.cse,
                               model_args=margs)
    except ValueError as e:
        raise SrhwError(str(e).splitlines()[0]) from None


def _print(sec, as_json: bool, fit: bool):
    import json

    if as_json:
        keep = {k: v for k, v in sec.items() if k != "roofline" or fit}
        print(json.dumps(keep, indent=1, sort_keys=True, default=str))
        return
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


def run_fit(args) -> int:
    from srhw.hw.parts import get_part

    if args.clock_mhz <= 0:
        raise SrhwError(f"--clock-mhz must be positive, got {args.clock_mhz}")
    sec = _section(args, get_part(args.part))
    _print(sec, args.json, True)
    return 0


def run_counts(args) -> int:
    from srhw.hw.parts import get_part

    sec = _section(args, get_part("xc7z020"))
    _print(sec, args.json, False)
    return 0


def _check_codes(graph, ckpt) -> int:
    """The graph's W_b/W_c must be the checkpoint's ternary codes (frozen_b/_c or codes_b/_c); returns
    the number of nodes compared."""
    if ckpt is None:
        return 0
    from types import SimpleNamespace

    codes, _ = _codes(SimpleNamespace(checkpoint=str(ckpt)))
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

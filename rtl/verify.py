"""Acceptance of the RTL on the trained ternary st_bl, driven by its integer golden graph.

Two checks, each a function that returns JSON-ready rows (the CLI `srhw rtl verify-trained` writes
them into one report):

1. `verify_matrix` on every `sp_conv` node's W_b (r x c_in*k*k) and W_c (c_out x r), from
   `trained_matrices`: generate the CSE adder tree (rtl.adder_tree), count its Yosys pre-techmap
   cells from the generated Verilog (zero `$mul`; `$add + $sub + $neg` == the plan's adders), and run
   the cocotb bench (sim/adder_tree_tb.py) bit-exactly on corner vectors (all max, all min, both
   alternating-sign phases, zero, each row's own extremes) plus `samples` random vectors, seed logged.
   Reported per matrix: naive adders (nnz - 1 per nonzero row, summed), CSE adders (negations
   included), reduction = 1 - CSE / naive (acceptance: >= 30 %).
   Input widths are the layer's: W_b trees take the node's input tensor (uint8 -> 9 signed bits),
   W_c trees take the products a_j * h_j as rtl.sum_product builds them (W_b tree width + scale width).
   A matrix with more than `max_nnz` nonzeros (default 50,000, about a 128 x 576 matrix at density 2/3:
   the largest size the issue names) is verified as k = ceil(nnz / max_nnz) row blocks of equal height,
   each its own tree (CSE within the block; the hardware one would build for it). Of the trained
   st_bl x2 only the upsampler's 512 x 576 W_b is split (into 4 x 128 rows).

2. `verify_sp_layer`: the streaming SP conv layer (rtl.sp_layer) of one node on the node's real
   input feature map, produced by the golden executor (srhw.quant.golden) from an LR image crop, compared
   word for word with the golden executor's output of that node (sim/sp_layer_tb.py with
   SP_LAYER_FRAMES / SP_LAYER_EXPECTED), and Yosys' `$mul` count of its Verilog: r multiplies per
   output pixel. F = 1: the Verilog writes r `$mul` (counted before `opt`); after `opt` the scales that
   are 0 or +-2^k are wiring (shifts), so r minus their number remain (the head's a = 1024 is one).
   Folded (fold_r x fold_n): L = ceil(r / fold_r) `$mul` fed from a ROM, each used fold_r times.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtl.cse import signed_width

MIN_REDUCTION = 0.30  # the acceptance bar: CSE must save >= 30 % of the nnz - 1 per row adders


@dataclass
class TrainedMatrix:
    """One ternary matrix of a trained sp_conv node (or a row block of it)."""

    layer: str
    role: str  # "WB" or "WC"
    rows: tuple[int, int]  # row block [start, stop) of the node's matrix
    full_shape: tuple[int, int]
    W: np.ndarray  # int8 (rows, cols)
    in_bits: int

    @property
    def name(self) -> str:
        s, e = self.rows
        whole = (s, e) == (0, self.full_shape[0])
        return f"{self.layer}.{self.role}" + ("" if whole else f"[{s}:{e}]")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.W.tobytes() + repr((self.W.shape, self.in_bits)).encode()).hexdigest()[:16]


def node_in_bits(graph, node) -> int:
    """Signed width of an sp_conv node's input words (an unsigned b-bit tensor needs b + 1)."""
    t = graph.tensors[node.inputs[0]]
    return t.bits + (0 if t.signed else 1)


def tree_out_bits(W, in_bits: int) -> int:
    """Output width of rtl.adder_tree on W: the exact worst-case row range over all rows (and 0)."""
    W = np.asarray(W)
    p, q = (W > 0).sum(1).astype(object), (W < 0).sum(1).astype(object)
    xmin, xmax = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
    lo, hi = p * xmin - q * xmax, p * xmax - q * xmin
    return signed_width(min(min(lo), 0), max(max(hi), 0))


def sp_nodes(graph, layers=None) -> list:
    nodes = [n for n in graph.nodes if n.op == "sp_conv"]
    if layers:
        names = {n.name for n in nodes}
        unknown = [l for l in layers if l not in names]
        if unknown:
            raise ValueError(f"no sp_conv node {unknown[0]!r} in the graph (have {', '.join(sorted(names))})")
        by = {n.name: n for n in nodes}
        nodes = [by[l] for l in dict.fromkeys(layers)]  # the caller's order
    return nodes


MAX_NNZ = 50_000
AUTO_VERILATOR_NNZ = 5_000  # sim="auto": Verilator (-O0 build, ~45 s) above this many nonzeros, else Icarus


def trained_matrices(graph, max_nnz: int = MAX_NNZ, layers=None, roles=("WB", "WC")) -> list[TrainedMatrix]:
    """W_b and W_c of every sp_conv node (groups 1), in graph order (or the order of `layers`); a matrix
    with more than max_nnz nonzeros as ceil(nnz / max_nnz) row blocks of equal height."""
    if max_nnz < 1:
        raise ValueError(f"max_nnz must be >= 1, got {max_nnz}")
    out = []
    for node in sp_nodes(graph, layers):
        if node.attrs.get("groups", 1) != 1:
            raise ValueError(f"{node.name}: grouped sp_conv (groups={node.attrs['groups']}) is not supported")
        wb = graph.param(node, "WB")
        wb = wb.reshape(wb.shape[0], -1).astype(np.int8)
        wc = graph.param(node, "WC")
        wc = wc.reshape(wc.shape[0], -1).astype(np.int8)
        a = [int(v) for v in graph.param(node, "A").reshape(-1)]
        b_bits = node_in_bits(graph, node)
        ab = max(signed_width(min(a + [0]), max(a + [0])), 2)
        c_bits = tree_out_bits(wb, b_bits) + ab  # rtl.sum_product: tree C's inputs are hb x ab products
        for role, W, bits in (("WB", wb, b_bits), ("WC", wc, c_bits)):
            if role not in roles:
                continue
            k = min(-(-int(np.count_nonzero(W)) // max_nnz), W.shape[0]) or 1
            h = -(-W.shape[0] // k)
            for s in range(0, W.shape[0], h):
                e = min(s + h, W.shape[0])
                out.append(TrainedMatrix(node.name, role, (s, e), W.shape, np.ascontiguousarray(W[s:e]), bits))
    return out


def matrix_seed(base: int, name: str) -> int:
    """The bench seed of one matrix: reproducible from the base seed and the matrix name."""
    return (base * 1_000_003 + zlib.crc32(name.encode())) % (1 << 31)


def verify_matrix(mat: TrainedMatrix, workdir, sim: str = "auto", samples: int = 10_000, seed: int = 1,
                  stage_every: int = 2, yosys: bool = True, simulate: bool = True) -> dict:
    """Generate, count and simulate one trained matrix; return its report row (see the module docstring)."""
    import json

    from rtl.adder_tree import AdderTree, AdderTreeConfig, to_verilog

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    module = "adder_tree"
    t0 = time.time()
    tree = AdderTree(mat.W, AdderTreeConfig(in_bits=mat.in_bits, stage_every=stage_every))
    p = tree.plan
    t1 = time.time()
    text = to_verilog(tree, module)
    t2 = time.time()
    vpath, wpath, mpath = workdir / f"{module}.v", workdir / "w.npy", workdir / f"{module}.json"
    vpath.write_text(text)
    np.save(wpath, mat.W)
    mpath.write_text(json.dumps({"module": module, "n": p.n, "m": p.m, "in_bits": p.in_bits,
                                 "out_bits": p.out_bits, "latency": p.latency}))
    naive = p.naive_adders
    row = {
        "matrix": mat.name, "layer": mat.layer, "role": mat.role, "rows": list(mat.rows),
        "full_shape": list(mat.full_shape), "shape": [p.m, p.n], "in_bits": p.in_bits, "out_bits": p.out_bits,
        "weights_sha256": mat.sha256, "nnz": p.nnz, "density": round(p.nnz / (p.m * p.n), 4),
        "nonzero_rows": p.nonzero_rows, "naive_adders": naive, "cse_adders": p.adders, "negs": p.negs,
        "shared_terms": p.shared_terms, "reduction": round(1 - p.adders / naive, 4) if naive else None,
        "depth": p.depth, "latency": p.latency, "stage_every": stage_every,
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "times_s": {"plan": round(t1 - t0, 1), "verilog": round(t2 - t1, 1)},
    }
    # Rows with pairwise disjoint supports share no pair: nnz - 1 per row is then the minimum (the
    # trained W_c of st_bl(r=2c_out): two hidden channels per output, each used once).
    disjoint = bool(((mat.W != 0).sum(0) <= 1).all())
    row["disjoint_rows"] = disjoint
    row["meets_min_reduction"] = row["reduction"] is not None and row["reduction"] >= MIN_REDUCTION
    row["at_lower_bound"] = disjoint and p.adders - p.negs == naive
    ok = row["meets_min_reduction"] or row["at_lower_bound"] or not naive
    # Yosys (a subprocess) runs in a thread while the simulator builds and runs: two cores, one matrix.
    counts = {}

    def _count():
        from rtl.yosys import count_arith

        t = time.time()
        try:
            counts["cells"] = count_arith(vpath, module)
        except Exception as e:  # re-raised in the caller's thread
            counts["error"] = e
        counts["time"] = round(time.time() - t, 1)

    th = None
    if yosys:
        import threading

        th = threading.Thread(target=_count, daemon=True)
        th.start()
    try:
        if simulate:
            from rtl.bench import run_cocotb

            if sim == "auto":
                sim = "verilator" if p.nnz > AUTO_VERILATOR_NNZ else "icarus"
            s = matrix_seed(seed, mat.name)
            b = run_cocotb(sim, vpath, module, "adder_tree_tb", workdir / f"{sim}_build",
                           {"ADDER_TREE_WEIGHTS": wpath, "ADDER_TREE_META": mpath, "NUM_SAMPLES": samples, "SEED": s})
            row["sim"] = {k: b.get(k) for k in ("sim", "seed", "sent", "corner", "random", "checked", "errors",
                                                "missing", "outputs", "valid_prob", "cocotb_pass")}
            row["times_s"].update(sim_build=b["build_s"], sim_run=b["run_s"])
            row["mismatches"] = b["errors"] + b["missing"]
            row["bit_exact"] = bool(b["cocotb_pass"] and b["errors"] == 0 and b["missing"] == 0
                                    and b["checked"] == b["sent"] and b["random"] >= samples)
            ok = ok and row["bit_exact"]
    finally:
        if th is not None:
            th.join()
    if yosys:
        if "error" in counts:
            raise counts["error"]
        c = counts["cells"]
        row["times_s"]["yosys"] = counts["time"]
        row["yosys"] = {k: c[k] for k in ("$add", "$sub", "$neg", "$mul", "$macc", "$alu")}
        row["yosys_adders"] = c["$add"] + c["$sub"] + c["$neg"]
        row["yosys_matches_plan"] = row["yosys_adders"] == p.adders and c["$mul"] == 0 and c["$macc"] == 0
        ok = ok and row["yosys_matches_plan"]
    row["ok"] = bool(ok)
    return row


def summarize(rows: list[dict]) -> dict:
    out = {"matrices": len(rows), "ok": all(r["ok"] for r in rows), "failed": [r["matrix"] for r in rows if not r["ok"]]}
    for role in ("WB", "WC"):
        rr = [r for r in rows if r["role"] == role]
        red = [r["reduction"] for r in rr if r.get("reduction") is not None]
        naive, cse = sum(r["naive_adders"] for r in rr), sum(r["cse_adders"] for r in rr)
        out[role] = {"matrices": len(rr), "reduction_min": min(red, default=None), "reduction_max": max(red, default=None),
                     "naive_adders": naive, "cse_adders": cse, "reduction_total": round(1 - cse / naive, 4) if naive else None,
                     "below_min_reduction": [r["matrix"] for r in rr if not r["meets_min_reduction"]],
                     "at_lower_bound": sum(1 for r in rr if r["at_lower_bound"])}
    red = [r["reduction"] for r in rows if r.get("reduction") is not None]
    naive = sum(r["naive_adders"] for r in rows)
    cse = sum(r["cse_adders"] for r in rows)
    return {
        **out,
        "reduction_min": min(red, default=None),
        "reduction_max": max(red, default=None),
        "naive_adders": naive,
        "cse_adders": cse,
        "reduction_total": round(1 - cse / naive, 4) if naive else None,
        "muls": sum(r.get("yosys", {}).get("$mul", 0) for r in rows),
        "vectors_checked": sum(r.get("sim", {}).get("checked") or 0 for r in rows),
        "mismatches": sum(r.get("mismatches", 0) for r in rows),
    }


# -- SP layer on real feature maps ----------------------------------------------------------------

def lr_crop(image_path, size: int, top: int = 0, left: int = 0) -> np.ndarray:
    """A (size x size) uint8 RGB crop (H, W, 3) of an LR image (srhw.data.folders readers)."""
    from srhw.data.folders import read_image, to_rgb

    img = to_rgb(read_image(image_path))
    if img.shape[0] < top + size or img.shape[1] < left + size:
        raise ValueError(f"{image_path}: {img.shape[1]}x{img.shape[0]} is smaller than the crop")
    return np.ascontiguousarray(img[top:top + size, left:left + size]).astype(np.uint8)


def golden_env(graph, image_hwc: np.ndarray) -> dict:
    """Run the golden executor node by node on one uint8 (H, W, 3) image; return every node's output."""
    from srhw.quant.golden import Golden

    return Golden(graph).run_all(image_hwc.transpose(2, 0, 1)[None])


def sp_layer_of(graph, node, height: int, width: int, fold=(1, 1)):
    """SPLayer of one sp_conv node (groups 1, 3x3) with the node's widths, scales, bias, shift and clamp."""
    from rtl.sp_layer import SPLayer, SPLayerConfig

    a = node.attrs
    if a.get("groups", 1) != 1 or a["k"] != 3:
        raise ValueError(f"{node.name}: only groups=1 3x3 sp_conv nodes have an SPLayer")
    cfg = SPLayerConfig(width=width, height=height, in_bits=node_in_bits(graph, node), lo=a["out_lo"],
                        hi=a["out_hi"], fold_r=fold[0], fold_n=fold[1])
    return SPLayer(graph.param(node, "WB"), graph.param(node, "A"), graph.param(node, "WC")[:, :, 0, 0],
                   graph.param(node, "B"), a["SH"], cfg)


def verify_sp_layer(graph, layer: str, image_hwc: np.ndarray, workdir, fold=(1, 1), sim: str = "icarus",
                    seed: int = 1, yosys: bool = True, image_name: str = "", env: dict | None = None) -> dict:
    """The SPLayer of `layer` on its real input feature map (golden executor on `image_hwc`) against the
    golden output of that node, word for word (cocotb), and its Yosys `$mul` count. Returns a report row."""
    from rtl.adder_tree import to_verilog

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    node = sp_nodes(graph, [layer])[0]
    t = time.time()
    env = golden_env(graph, image_hwc) if env is None else env
    x = env[node.inputs[0]][0].transpose(1, 2, 0)  # (H, W, c_in)
    y = env[node.name][0].transpose(1, 2, 0)  # (H, W, c_out)
    t_gold = time.time() - t
    H, W = x.shape[:2]
    t = time.time()
    dut = sp_layer_of(graph, node, H, W, fold)
    module = "sp_layer"
    text = to_verilog(dut, module)
    vpath = workdir / f"{module}.v"
    vpath.write_text(text)
    t_gen = time.time() - t
    r = dut.r
    F = fold[0] * fold[1]
    mul_units = r if F == 1 else dut.lanes
    # Hard-wired (F = 1) scales are constants: Yosys' opt turns a multiply by 0 or +-2^k into wiring.
    shifts = sum(1 for v in dut.a if v == 0 or (abs(v) & (abs(v) - 1)) == 0) if F == 1 else 0
    row = {
        "layer": layer, "image": image_name, "crop_lr": list(image_hwc.shape[:2]), "map": [H, W],
        "c_in": dut.c_in, "c_out": dut.m, "r": r, "in_bits": dut.config.in_bits, "out_lo": dut.config.lo,
        "out_hi": dut.config.hi, "sh": dut.sh, "fold": list(fold), "cycles_per_pixel": F,
        "mul_units": mul_units, "muls_per_pixel": mul_units * (1 if F == 1 else fold[0]),
        "pow2_scales": shifts, "expected_mul_cells": mul_units - shifts,
        "distinct_outputs": int(len(np.unique(y))), "clamped_fraction": round(float(np.mean((y == dut.config.lo) | (y == dut.config.hi))), 4),
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "times_s": {"golden": round(t_gold, 1), "generate": round(t_gen, 1)},
    }
    # The RTL's own golden model must agree with srhw.quant's on the same map (both are the spec).
    from rtl.golden import sp_layer_ref

    ref = sp_layer_ref(dut.Wb, dut.a, dut.Wc, dut.bias, dut.sh, x, dut.config.lo, dut.config.hi)
    row["rtl_ref_matches_golden"] = bool(np.array_equal(ref, y))
    ok = row["rtl_ref_matches_golden"] and row["muls_per_pixel"] == r
    if yosys:
        from rtl.yosys import count_arith_pre_post

        t = time.time()
        c = count_arith_pre_post(vpath, module)
        row["times_s"]["yosys"] = round(time.time() - t, 1)
        keys = ("$add", "$sub", "$neg", "$mul", "$macc", "$alu")
        row["yosys"] = {k: c["post"][k] for k in keys}
        row["yosys_pre_opt"] = {k: c["pre"][k] for k in keys}
        row["mul_cells_ok"] = (c["pre"]["$mul"] == mul_units and c["post"]["$mul"] == row["expected_mul_cells"]
                               and c["post"]["$macc"] == 0)
        ok = ok and row["mul_cells_ok"]
    from rtl.bench import run_cocotb

    np.save(workdir / "frames.npy", x[None])
    np.save(workdir / "expected.npy", y[None])
    np.savez(workdir / "p.npz", wb=dut.Wb, a=np.array(dut.a), wc=dut.Wc, bias=np.array(dut.bias), sh=dut.sh,
             lo=dut.config.lo, hi=dut.config.hi, width=W, height=H, in_bits=dut.config.in_bits, fold=F)
    b = run_cocotb(sim, vpath, module, "sp_layer_tb", workdir / f"{sim}_build",
                   {"SP_LAYER_PARAMS": workdir / "p.npz", "SP_LAYER_FRAMES": workdir / "frames.npy",
                    "SP_LAYER_EXPECTED": workdir / "expected.npy", "NUM_FRAMES": 0, "SEED": seed})
    row["sim"] = {k: b.get(k) for k in ("sim", "seed", "frames", "real_frames", "expected", "checked", "errors",
                                        "missing", "valid_prob", "cocotb_pass")}
    row["times_s"].update(sim_build=b["build_s"], sim_run=b["run_s"])
    row["mismatches"] = b["errors"] + b["missing"]
    row["bit_exact"] = bool(b["cocotb_pass"] and b["errors"] == 0 and b["missing"] == 0 and b["checked"] == H * W)
    row["ok"] = bool(ok and row["bit_exact"])
    return row

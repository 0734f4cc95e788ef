"""Multipliers and adders per output pixel of every sum-product layer, counted from netlists.

Three formulations of one SP layer (W_b r x N, a (r,), W_c M x r), each a netlist generator here or
in rtl.sum_product, each counted by Yosys' pre-techmap `stat` ($add + $sub = adders, $mul = multipliers;
$neg, the sign of a ternary term, is listed apart: Table 5 counts n - 1 adds per n-term dot product):

  * dense      `DenseSPNetlist`: weights are *ports*, every term kept (zeros selected, not pruned), one
               balanced tree per row: $add = r (N - 1) + M (r - 1), $mul = r. This is the paper's Table 5
               convention (srhw.profile.count_ops, dense, bias not counted) as hardware.
  * naive      zero-pruned, no sharing: sum(nnz - 1) per nonzero row (count_ops(sparse=True)).
  * cse        `rtl.sum_product.SumProduct`: zeros pruned and greedy pair CSE (rtl.cse); its
               $add + $sub = plan adders - negations + M (the bias/rounding adders).

Big layers (W_b 128 x 576) are counted by *plan* (rtl.cse is exact: `$add + $sub` == planned adders,
tested) and by the dense formula (proved equal to the dense netlist on small layers, tested); Yosys
runs on small layers and on row slices of the real ones (`verify_slices`). Source labels: "yosys" for
netlist counts, "plan" for CSE-plan counts, "analytic" for formulas.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.cse import check_weights, plan_adder_tree, signed_width
from rtl.golden import random_ternary
from rtl.sp_layer import _select, _tree

DENSITY = 2 / 3  # random ternary weights until a trained checkpoint exists (TWN keeps ~2/3 nonzero)


# -- the dense netlist -----------------------------------------------------------------------------

class DenseSPNetlist(wiring.Component):
    """The dense (Table 5) SP kernel with weights as ports: acc = W_c·(a ⊙ (W_b·x)), no pruning, no CSE.

    Ports: x (N x in_bits), wb (r N 2-bit codes), a (r x a_bits), wc (M r codes), y (M x acc_bits).
    Counting netlist only (combinational trees with an output register)."""

    def __init__(self, n: int, r: int, m: int, in_bits: int = 9, a_bits: int = 12):
        self.n, self.r, self.m, self.in_bits, self.a_bits = n, r, m, in_bits, a_bits
        xmax = 1 << (in_bits - 1)
        self.hb = signed_width(-n * xmax, n * xmax)
        self.pb = self.hb + a_bits
        self.acc_bits = signed_width(-r << (self.pb - 1), r << (self.pb - 1))
        super().__init__({"x": In(n * in_bits), "wb": In(2 * r * n), "a": In(r * a_bits), "wc": In(2 * m * r),
                          "y": Out(m * self.acc_bits)})

    def elaborate(self, platform):
        m = Module()
        b, n, r = self.in_bits, self.n, self.r
        big = 1 << 30  # no pipeline registers inside the trees
        xmax = 1 << (b - 1)
        xs = [self.x[j * b:(j + 1) * b].as_signed() for j in range(n)]
        prods = []
        for i in range(r):
            terms = []
            for j in range(n):
                t = Signal(signed(b + 1), name=f"t{i}_{j}")
                k = 2 * (i * n + j)
                m.d.comb += t.eq(_select(self.wb[k:k + 2], xs[j], b))
                terms.append((t, -xmax, xmax))
            h, _, _, _ = _tree(m, terms, big, f"b{i}")
            p = Signal(signed(self.pb), name=f"p{i}")
            m.d.comb += p.eq(h * self.a[i * self.a_bits:(i + 1) * self.a_bits].as_signed())
            prods.append(p)
        pmax = 1 << (self.pb - 1)
        outs = []
        for o in range(self.m):
            terms = []
            for i in range(r):
                t = Signal(signed(self.pb + 1), name=f"c{o}_{i}")
                k = 2 * (o * r + i)
                m.d.comb += t.eq(_select(self.wc[k:k + 2], prods[i], self.pb))
                terms.append((t, -pmax, pmax))
            y, _, _, _ = _tree(m, terms, big, f"c{o}")
            ys = Signal(signed(self.acc_bits), name=f"y{o}")
            m.d.comb += ys.eq(y)
            outs.append(ys)
        m.d.comb += self.y.eq(Cat(*outs))
        return m


def dense_counts(n: int, r: int, m: int) -> dict:
    """Dense (Table 5) count of one SP layer per output pixel: mults = r, adds = r (N-1) + M (r-1)."""
    from srhw.profile.counting import sp_dense_adds

    return {"muls": r, "adds": sp_dense_adds(n, m, 1, 1, r)}  # n = 9 c_in inputs as a 1x1 conv of n channels


# -- counts of one layer ---------------------------------------------------------------------------

def _naive_adds(W) -> int:
    nnz = (np.asarray(W) != 0).sum(1)
    return int(np.clip(nnz - 1, 0, None).sum())


_CACHE = Path(os.environ.get("SRHW_CSE_CACHE", Path.home() / ".cache" / "srhw" / "cse"))


def cse_counts(W, in_bits: int, cache: bool = True) -> dict:
    """Plan counts of one ternary matrix: adders (2-input add/sub, negations apart), negs, depth.
    Cached by the matrix' hash (a 128x576 plan takes ~25 s on a busy core)."""
    W = check_weights(W).astype(np.int8)
    key = hashlib.sha256(W.tobytes() + repr((W.shape, in_bits)).encode()).hexdigest()[:32]
    f = _CACHE / f"{key}.json"
    if cache and f.is_file():
        return json.loads(f.read_text())
    p = plan_adder_tree(W, in_bits)
    out = {"adds": p.adders - p.negs, "negs": p.negs, "out_bits": p.out_bits, "depth": p.depth}
    if cache:
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(out))
            os.replace(tmp, f)
        except OSError:
            pass
    return out


@dataclass
class LayerCount:
    """Per output pixel counts of one SP layer, and its pixels per 720p frame."""

    name: str
    c_in: int
    c_out: int
    r: int
    n: int
    pixels: int
    dense_muls: int
    dense_adds: int
    naive_adds: int
    cse_adds: int | None = None  # $add + $sub of the pruned + CSE kernel, bias adders excluded
    cse_negs: int | None = None
    sources: dict = field(default_factory=dict)


def count_layer(name, Wb, Wc, pixels: int, in_bits: int = 9, cse: bool = True) -> LayerCount:
    Wb = np.asarray(Wb).reshape(np.asarray(Wb).shape[0], -1)
    Wc = np.asarray(Wc).reshape(np.asarray(Wc).shape[0], -1)
    r, n = Wb.shape
    m = Wc.shape[0]
    d = dense_counts(n, r, m)
    lc = LayerCount(name, n // 9, m, r, n, pixels, d["muls"], d["adds"], _naive_adds(Wb) + _naive_adds(Wc),
                    sources={"dense": "analytic (formula = DenseSPNetlist's Yosys count, tested)",
                             "naive": "analytic (nnz - 1 per row)"})
    if cse:
        cb = cse_counts(Wb, in_bits)
        xmax = 1 << (in_bits - 1)
        hb = signed_width(-n * xmax, n * xmax)
        cc = cse_counts(Wc, hb + 12)
        lc.cse_adds, lc.cse_negs = cb["adds"] + cc["adds"], cb["negs"] + cc["negs"]
        lc.sources["cse"] = "plan (rtl.cse; $add+$sub == plan, tested on Yosys slices)"
    return lc


# -- the network -----------------------------------------------------------------------------------

def network_layers(spec: str, scale: int, model=None, seed: int = 0, **config):
    """(sp, plain): SP layers as (name, Wb (r, N) int8, Wc (M, r) int8, pixels per 720p frame) in
    execution order, codes from `model` (frozen/trained) or random ternary at DENSITY; plain convs as
    (name, mults, adds) per frame, the profiler's convention (MeanShift, channel attention)."""
    import torch

    from srhw.models import SumProductConv2d
    from srhw.profile.counting import conv_pixels, meta_model

    meta = meta_model(spec, scale, **config)
    mods = dict(meta.named_modules())
    pix = conv_pixels(meta, scale)
    real = dict(model.named_modules()) if model is not None else {}
    sp, plain = [], []
    for k, (name, p) in enumerate(pix.items()):
        mod = mods[name]
        if isinstance(mod, SumProductConv2d):
            if mod.groups != 1:
                raise ValueError(f"{name}: grouped sum-product convs (g={mod.groups}) are not supported by the RTL")
            if name in real:
                cb, _, cc, _ = real[name].ternary()
                Wb = cb.detach().to(torch.int8).numpy().reshape(mod.r, -1)
                Wc = cc.detach().to(torch.int8).numpy().reshape(mod.out_ch, -1)
            else:
                Wb = random_ternary(mod.r, mod.in_ch * mod.kernel_size ** 2, DENSITY, seed + 2 * k)
                Wc = random_ternary(mod.out_ch, mod.r, DENSITY, seed + 2 * k + 1)
            sp.append((name, Wb, Wc, p))
        else:
            macs = p * mod.out_channels * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
            plain.append((name, macs, macs))
    return sp, plain


def network_counts(spec: str, scale: int, model=None, cse: bool = True, in_bits: int = 9, **config) -> dict:
    """Per-layer counts (per pixel) and per-frame totals for dense / naive / cse, beside count_ops."""
    sp, plain = network_layers(spec, scale, model, **config)
    layers = [count_layer(name, Wb, Wc, p, in_bits, cse) for name, Wb, Wc, p in sp]
    tot = {"dense_muls": 0, "dense_adds": 0, "naive_adds": 0, "cse_adds": 0 if cse else None}
    for lc in layers:
        tot["dense_muls"] += lc.dense_muls * lc.pixels
        tot["dense_adds"] += lc.dense_adds * lc.pixels
        tot["naive_adds"] += lc.naive_adds * lc.pixels
        if cse:
            tot["cse_adds"] += lc.cse_adds * lc.pixels
    pm, pa = sum(x[1] for x in plain), sum(x[2] for x in plain)
    return {"spec": spec, "scale": scale, "weights": "model codes" if model is not None else f"random ternary, density {DENSITY:.3f}",
            "layers": [asdict(lc) for lc in layers],
            "plain_convs": [{"name": n, "mults": a, "adds": b, "source": "analytic (profiler convention)"} for n, a, b in plain],
            "per_frame": {**tot, "plain_mults": pm, "plain_adds": pa,
                          "table5_mults": tot["dense_muls"] + pm, "table5_adds": tot["dense_adds"] + pa}}


# -- Yosys verification ----------------------------------------------------------------------------

def yosys_dense(n: int, r: int, m: int, workdir) -> dict:
    """Yosys pre-techmap count of DenseSPNetlist(n, r, m): {'adds': $add+$sub, 'muls': $mul, 'negs': $neg}."""
    from rtl.adder_tree import to_verilog
    from rtl.yosys import count_arith

    p = Path(workdir) / f"dense_{n}_{r}_{m}.v"
    p.write_text(to_verilog(DenseSPNetlist(n, r, m), "dense_sp"))
    c = count_arith(p, "dense_sp")
    return {"adds": c["$add"] + c["$sub"], "muls": c["$mul"], "negs": c["$neg"], "source": "yosys"}


def yosys_cse(Wb, Wc, workdir, in_bits: int = 9) -> dict:
    """Yosys pre-techmap count of the pruned + CSE kernel (rtl.sum_product) on (Wb, Wc), bias adders
    removed: {'adds', 'muls', 'negs'} comparable with count_layer's cse_adds / cse_negs."""
    from rtl.adder_tree import to_verilog
    from rtl.sum_product import SumProduct, SumProductConfig
    from rtl.yosys import count_arith

    Wb, Wc = np.asarray(Wb), np.asarray(Wc)
    r, m = Wb.shape[0], Wc.shape[0]
    sp = SumProduct(Wb, np.arange(r) * 37 + 1000, Wc, np.arange(m) + 1, 12, SumProductConfig(in_bits=in_bits))
    key = hashlib.sha256(Wb.tobytes() + Wc.tobytes()).hexdigest()[:12]
    p = Path(workdir) / f"cse_{key}.v"
    p.write_text(to_verilog(sp, "cse_sp"))
    c = count_arith(p, "cse_sp")
    bias_adds = int(np.count_nonzero(Wc.any(1)))  # an all-zero W_c row's bias sum is a constant: folded
    return {"adds": c["$add"] + c["$sub"] - bias_adds, "muls": c["$mul"], "negs": c["$neg"], "source": "yosys"}


def slice_layer(Wb, Wc, rows: int):
    """A representative slice of a big layer: the first `rows` hidden channels (W_b rows, W_c columns)."""
    Wb = np.asarray(Wb).reshape(np.asarray(Wb).shape[0], -1)
    return Wb[:rows], np.asarray(Wc)[:, :rows]

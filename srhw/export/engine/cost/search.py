"""The engine's datapath per program and part: the one with the fewest frame cycles on the program's own layers
(srhw.export.engine.cost.cycles) whose whole engine (srhw.export.engine.cost.area) fits the part's budgets
(srhw.hw.budget), found by block-coordinate search over the arrays (any lane count, not only powers of two)."""

import functools
from dataclasses import fields, replace

import numpy as np

from srhw.export.engine.config import EngineConfig
from srhw.export.engine.cost.cycles import descriptor_cycles
from srhw.export.engine.datapath import Datapath
from srhw.export.engine.isa import OPS
from srhw.export.engine.arith import vmax
from srhw.export.engine.cost.area import adder_trees, lane_buffers, resources
from srhw.hw.budget import BRAM_BUDGET, DSP_BUDGET, FF_BUDGET, LUT_BUDGET

_REF = [  # the paper's layers a program-independent datapath is chosen for: st_bl's 3x3 64->64 r=128 SP conv and
    # a 3x3 64->64 int8 conv, on 8-bit maps
    dict.fromkeys(("IN0_C", "OUT_C"), 64) | {"OP": OPS["sp_conv"], "F": 1, "GROUPS": 1, "KH": 3, "KW": 3, "HID": 128,
                                               "IN0_T": 0, "OUT_T": 0, "IN1_T": 0},
    dict.fromkeys(("IN0_C", "OUT_C"), 64) | {"OP": OPS["conv"], "F": 1, "GROUPS": 1, "KH": 3, "KW": 3, "HID": 0,
                                               "IN0_T": 0, "OUT_T": 0, "IN1_T": 0},
]
# lane counts: every count up to 32, then steps that stay within ~6 % of each other
_LANES = np.asarray(sorted(set(range(1, 33)) | set(range(34, 65, 2)) | set(range(68, 129, 4)) | set(range(136, 257, 8))))
_B_TSIMD = (8, 16, 32, 48, 64, 96, 128, 192, 288)
_C_TSIMD = (4, 8, 16, 32, 64, 128)
_C_LANES_MAX = 64
_SIMD = (1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 36, 48, 64, 72, 96, 128, 144)
_GATHER = (2, 4, 8, 16, 32, 64)
_GCOLS = (1, 2, 3)
# AXI beat per family (assumptions, board-dependent): 16 bytes on the 7-series (its PS HP ports are 64 bits wide, so
# a beat takes two of their cycles: the per-layer DDR term, the aggregate practical bandwidth, bounds that); up to
# 64 bytes on UltraScale(+) (128-bit HP ports, PL DDR through a 512-bit MIG)
_BEATS = {"zynq7000": (16,), "zynqusp": (16, 32, 64), "kintexus": (16, 32, 64)}
_EW = (1, 2, 4, 8, 16, 32, 64)


class _Grid:
    """A Datapath whose fields are numpy arrays (one candidate per element)."""

    def __init__(self, dp: Datapath, **arrays):
        n = max(np.size(v) for v in arrays.values())
        for f in fields(Datapath):
            v = arrays.get(f.name, getattr(dp, f.name))
            setattr(self, f.name, np.broadcast_to(np.asarray(v), (n,)).astype(np.int64))
        self.n = n

    def at(self, i) -> Datapath:
        return Datapath(**{f.name: int(getattr(self, f.name)[i]) for f in fields(Datapath)})


def _frame_cycles(descs, dp, h, w):
    return sum(n * descriptor_cycles(d, dp, h, w)["total"] for d, n in descs)


def _needs(cfg, descs, dp):
    """cfg with the lane-buffer sizes of `descs` on `dp` (scalars or a _Grid) filled in."""
    need = {"max_taps": vmax(dp.simd, dp.tsimd), "max_hid": dp.c_tsimd, "w8_per_lane": dp.simd,
            "t2b_per_lane": dp.tsimd, "t2c_per_lane": dp.c_tsimd, "max_rows": 1, "b_rows": 1, "c_rows": 1}
    for d, _ in descs:
        for k, v in lane_buffers(d, dp).items():
            need[k] = vmax(need[k], v)
    return replace(cfg, **need)


def datapath_for_program(descs, cfg, part, h: int = 360, w: int = 640) -> Datapath:
    """The datapath with the fewest cycles for the descriptors `descs` (dicts FIELD -> int) on an h x w LR input
    whose whole engine (datapath, declared buffers at cfg's sizes and widths, control) fits `part`'s budgets (if
    none does, the smallest datapath: the estimate then reports that the engine does not fit).

    Block-coordinate search from the smallest arrays (and the widest gather and elementwise passes): the W_b x W_c
    trees jointly, the int8 conv array (lanes x simd, packed or not, with the elementwise width: both take DSPs),
    the gather width, the elementwise width; each step takes the fastest candidate (as fast and smaller counts as
    better, so a stage that does not bound gives room back), repeated until nothing improves.
    A program without sum-product convs gets no ternary array (b_lanes = c_lanes = 0)."""
    uniq = {}
    for d in descs:
        key = tuple(sorted(d.items()))
        uniq[key] = uniq.get(key, 0) + 1
    return _search(tuple(sorted(uniq.items())), cfg, part, h, w)


@functools.lru_cache(maxsize=64)
def _search(uniq, cfg, part, h, w) -> Datapath:
    descs = [(dict(k), n) for k, n in uniq]
    has_sp = any(d["OP"] == OPS["sp_conv"] for d, _ in descs)
    cur = Datapath(lanes=1, simd=1, tsimd=8, b_lanes=1 if has_sp else 0, c_lanes=1 if has_sp else 0, c_tsimd=4,
                   gather=max(_GATHER), ew=max(_EW), beat=16, pack=0, gcols=max(_GCOLS))  # wide gather / ew first: they never bound the
    # arrays' search; their own blocks then shrink them to what the arrays need

    def score(grid):
        cyc = _frame_cycles(descs, grid, h, w)
        res = resources(_needs(cfg, descs, grid), grid, part.family)
        ok = ((res["lut"] <= LUT_BUDGET * part.lut) & (res["dsp"] <= DSP_BUDGET * part.dsp)
              & (res["bram"] <= BRAM_BUDGET * part.bram) & (res["ff"] <= FF_BUDGET * part.ff))
        return np.where(ok, cyc, np.iinfo(np.int64).max), res["lut"] + 50 * res["dsp"] + 500 * res["bram"]

    def blocks():
        if has_sp:
            bl, bt, cl, ct = np.meshgrid(_LANES, _B_TSIMD, _LANES[_LANES <= _C_LANES_MAX], _C_TSIMD, indexing="ij")
            yield dict(b_lanes=bl.ravel(), tsimd=bt.ravel(), c_lanes=cl.ravel(), c_tsimd=ct.ravel())
        ln, sd, pk, ew = np.meshgrid(_LANES, _SIMD, (0, 1), _EW, indexing="ij")
        yield dict(lanes=ln.ravel(), simd=sd.ravel(), pack=pk.ravel(), ew=ew.ravel())
        ga, gc, bt = np.meshgrid(_GATHER, _GCOLS, _BEATS.get(part.family, (16,)), indexing="ij")
        yield dict(gather=ga.ravel(), gcols=gc.ravel(), beat=bt.ravel())
        yield dict(ew=np.asarray(_EW))

    first = score(_Grid(cur, lanes=[cur.lanes]))
    if first[0][0] == np.iinfo(np.int64).max:
        cur = replace(cur, gather=min(_GATHER), ew=min(_EW), gcols=min(_GCOLS))
        first = score(_Grid(cur, lanes=[cur.lanes]))
    best, best_size = int(first[0][0]), int(first[1][0])
    if best == np.iinfo(np.int64).max:
        return cur  # nothing fits: the smallest datapath, and the estimate says the engine does not fit
    seen = {}  # block -> the datapath it was last searched around (same context: same answer)
    for _ in range(6):
        improved = False
        for b, arrays in enumerate(blocks()):
            ctx = replace(cur, **{k: 0 for k in arrays})
            if seen.get(b) == ctx:
                continue
            seen[b] = ctx
            grid = _Grid(cur, **arrays)
            trees = sum(x for _, _, x in adder_trees(grid, cfg))
            keep = np.flatnonzero(trees <= LUT_BUDGET * part.lut)  # cheap first cut: the adder trees alone
            if keep.size == 0:
                continue
            grid = _Grid(cur, **{k: np.asarray(v)[keep] for k, v in arrays.items()})
            cyc, size = score(grid)
            i = int(np.lexsort((size, cyc))[0])  # fewest cycles, then the smallest
            if (cyc[i], size[i]) < (best, best_size):  # faster, or as fast and smaller (frees room for the others)
                best, best_size, cur, improved = int(cyc[i]), int(size[i]), grid.at(i), True
        if not improved:
            break
    return cur


# the reference layers' buffers and widths (st_bl's, rounded up): a program-independent default
_REF_CONFIG = EngineConfig(max_w=1280, max_k=3, max_cin=64, max_cout=64, max_c=64, max_ca_hid=4, lb_bits=9, h_bits=28,
                           accb_bits=18, acc_bits=32, m_bits=32, a_bits=16, add_m_bits=16, my_bits=16)


def datapath_for(part, cfg=None) -> Datapath:
    """The datapath for `part` on the paper's reference layers (a program-independent default)."""
    return datapath_for_program(_REF, cfg or _REF_CONFIG, part)

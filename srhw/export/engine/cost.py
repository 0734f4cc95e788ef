"""Cost model of the written layer-sequential engine (hls/engine/): datapath per program and part, cycles, DSP,
LUT, BRAM.

Everything here reads the C++ as written, never a synthesis result (no vitis_hls/Vivado on these machines):

  * `Datapath`: the srhw_config.h constants -- the int8 conv array (LANES x SIMD, PACK: two int8 products per
    DSP48), the W_b trees (B_LANES x TSIMD inputs), the W_c trees (C_LANES x C_TSIMD inputs), the window
    gather (GATHER channels per cycle), the elementwise multipliers (EW codes per cycle) and the AXI beat.
  * `descriptor_cycles(desc, dp, H, W)`: iterations of every pipelined loop of srhw_engine.cpp that one
    descriptor runs on an H x W LR input, i.e. its cycles at II = 1. A conv's pixel is a dataflow of stages
    (load, gather, MAC / W_b, W_c, store) and costs its slowest stage; every other loop runs on its own.
    Assumptions: every `PIPELINE II = 1` loop achieves II = 1, one beat per m_axi port and cycle; pipeline
    fill/drain, loop entry and the unrolled per-tile steps (accumulator init, the scale multiplies, the
    requantization) are not counted. A C-sim built with -DSRHW_COUNT_ITERS counts the same iterations. The fusions
    the descriptor names are counted where they run: PS (the pixel shuffle as a conv's store map: r^2 runs of
    C/r^2 codes), SUMS (a conv / add summing channels on its store: a clear loop; the CA after it: no pool pass).
  * `multipliers`, `adder_trees`, `memories`, `resources`: each multiply in DSP48s at its operands' declared
    widths, each adder tree's inputs x width in LUTs, each declared array after its pragmas in BRAM36/LUTRAM.
  * `datapath_for_program`: the datapath with the fewest frame cycles on this program's own layers that fits
    the part's budgets (srhw.hw.budget), found by block-coordinate search over the
    arrays (any lane count, not only powers of two).

The formulas take plain ints or numpy arrays for the datapath's fields (the search evaluates many at once).
"""

import functools
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from srhw.export.engine.config import EngineConfig
from srhw.export.engine.isa import DESC_WORDS, OPS, T_S16, TYPE_BYTES
from srhw.hw.bram import BRAM18_ASPECTS
from srhw.hw.budget import BRAM_BUDGET, DSP_BUDGET, FF_BUDGET, LUT_BUDGET

ACC_BITS = 48  # big_t: add / channel-attention sums
MULT_BITS = 32  # descriptor multipliers of add / CA (int32 words)
ACT_BITS_DDR = 16  # act_t: a code loaded from DDR
MAX_LB_BITS, MAX_H_BITS = 16, ACC_BITS  # the widest line-buffer code / hidden value a program may need
PACKED_PRODUCT_BITS = 16  # one of the two int8 products a packed DSP48 delivers
# DSP48 operand widths (signed): 7-series DSP48E1 25x18, UltraScale DSP48E2 27x18 (UG479, UG579)
DSP_PORTS = {"zynq7000": (25, 18), "zynqusp": (27, 18), "kintexus": (27, 18)}
# one m_axi adapter + its burst logic, per port (4: program + weights, two arena reads, one arena write) and the
# ten op functions' control (counters, address arithmetic, FSM): assumptions, not synthesis figures
M_AXI_PORTS, M_AXI_LUT, M_AXI_FF, OP_CONTROL_LUT, OP_CONTROL_FF = 4, 1500, 2000, 150, 300
LUTRAM_MAX_BITS = 1024  # an array without BIND_STORAGE below this many bits is assumed to become LUTRAM
STAGES = ("load", "gather", "mac", "wc", "store")


@dataclass(frozen=True)
class Datapath:
    """The engine's parallelism (srhw_config.h)."""

    lanes: int = 8  # int8 conv: output channels per pass
    simd: int = 16  # int8 conv: taps per lane per cycle
    tsimd: int = 64  # W_b: ternary terms per lane per cycle (a TSIMD-input adder tree per lane)
    b_lanes: int = 8  # W_b: hidden channels per pass (0: no sum-product array)
    c_lanes: int = 8  # W_c: output channels per pass
    c_tsimd: int = 32  # W_c: hidden terms per lane per cycle
    gather: int = 16  # window: channels gathered per cycle (line-buffer banks)
    ew: int = 16  # add / channel-attention rescale: codes per cycle (their multipliers)
    beat: int = 16  # AXI beat, bytes
    pack: int = 1  # 1: two int8 products per DSP48 on 8-bit maps
    gcols: int = 1  # window: columns (horizontally adjacent taps) gathered per cycle (line-buffer pixel banks)

    @property
    def log2_tsimd(self) -> int:
        return _clog2(self.tsimd)

    @property
    def log2_c_tsimd(self) -> int:
        return _clog2(self.c_tsimd)

    def as_dict(self) -> dict:
        return asdict(self)


def _clog2(v) -> int:
    return int(math.ceil(math.log2(max(int(v), 1))))


def _ceil_div(a, b):
    return -(-a // b)


def _round_up(a, b):
    return _ceil_div(a, b) * b


def _max(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.maximum(out, x)
    return out


def _min(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.minimum(out, x)
    return out


def _int(v):
    return int(v) if np.ndim(v) == 0 else v


# --- cycles -----------------------------------------------------------------------------------------

def per_beat(t, beat) -> int:
    """Codes of map type t per beat."""
    return beat // TYPE_BYTES[t]


def lane_buffers(d: dict, dp) -> dict:
    """The lane-buffer sizes (EngineConfig fields) one conv / sp_conv descriptor needs on datapath `dp`."""
    op = d["OP"]
    g, cin, cout = max(d["GROUPS"], 1), d["IN0_C"], d["OUT_C"]
    cig, cog = cin // g, cout // g
    if op == OPS["conv"]:
        taps = d["KH"] * d["KW"] * cig
        taps_p = _round_up(taps, dp.simd)
        rows = g * _ceil_div(cog, dp.lanes)
        return {"max_taps": taps_p, "max_rows": rows, "w8_per_lane": rows * taps_p}
    if op == OPS["sp_conv"]:
        rg = d["HID"] // g
        taps = d["KH"] ** 2 * cig
        taps_p, rg_p = _round_up(taps, dp.tsimd), _round_up(rg, dp.c_tsimd)
        rows_b, rows_c = g * _ceil_div(rg, dp.b_lanes), g * _ceil_div(cog, dp.c_lanes)
        return {"max_taps": taps_p, "max_hid": rg_p, "b_rows": rows_b, "c_rows": rows_c,
                "t2b_per_lane": rows_b * taps_p, "t2c_per_lane": rows_c * rg_p}
    return {}


def gather_cols(cig, dp):
    """Window columns the gather fills per cycle: GCOLS when one tap's channels fit one gather word (the columns'
    taps are then one contiguous run of the window, conflict-free in its banks), else one."""
    return np.where(cig <= np.asarray(dp.gather), dp.gcols, 1)


def lb_pixels(max_k, max_w, gcols):
    """Line-buffer depth in pixels: (k-1) rows + k+1 pixels, rounded up to a multiple of the pixel banks (GCOLS) so
    that GCOLS consecutive ring slots always fall in different banks, across the wrap too."""
    return _round_up((max_k - 1) * max_w + max_k + 1, gcols)


def _pixels(h, w, kh, kw, load, steady):
    """Sum over the output pixels of max(load stage, the other stages): the load stage of pixel (y, x) loads
    input pixel (y + kh/2, x + kw/2) (at x = 0: columns 0..kw/2), `load` beats each, none past the map."""
    ph, pw = kh // 2, kw // 2
    rows = max(0, h - ph)  # output rows whose load row is inside the map
    n0 = min(pw, w - 1) + 1
    n1 = max(0, w - 1 - pw)  # x = 1 .. w-1-pw load one pixel
    n_none = (w - 1) - n1
    return (rows * (_max(n0 * load, steady) + n1 * _max(load, steady) + n_none * steady)
            + (h - rows) * w * steady)


def descriptor_cycles(d: dict, dp, H: int, W: int) -> dict:
    """Pipelined-loop iterations of one descriptor (a dict FIELD -> int) on an H x W LR input, by loop group.

    Mirrors srhw_engine.cpp loop by loop; returns {"fetch", "weights", "rows", "pixels", "total", "out_pixels",
    "per_pixel", "stages", "bound"}: per_pixel is a conv's steady-state cycles per output pixel (its slowest
    stage but the load), stages each stage's cycles per pixel, bound the slowest stage."""
    op, f = d["OP"], d["F"]
    h, w = H * f, W * f
    cin, cout = d["IN0_C"], d["OUT_C"]
    c = {"fetch": DESC_WORDS, "weights": 0, "rows": 0, "pixels": 0, "per_pixel": 0, "stages": {}, "bound": "loop"}
    out_pixels = h * w
    e_in, e_out = per_beat(d["IN0_T"], dp.beat), per_beat(d["OUT_T"], dp.beat)
    if op in (OPS["conv"], OPS["sp_conv"]):
        g, kh = max(d["GROUPS"], 1), d["KH"]
        kw = d["KW"] if op == OPS["conv"] else kh
        cig, cog = cin // g, cout // g
        taps = kh * kw * cig
        load = _ceil_div(cin, e_in)
        rr = max(d.get("PS", 0), 1) ** 2  # pixel shuffle on the store: r x r sub-pixels of cout / r^2 codes each
        st = {"load": load, "gather": g * kh * _ceil_div(kw, gather_cols(cig, dp)) * _ceil_div(cig, dp.gather),
              "store": rr * _ceil_div(cout // rr, e_out)}
        if op == OPS["conv"]:
            taps_p = _round_up(taps, dp.simd)
            tiles = _ceil_div(cog, dp.lanes)
            passes = 2 if d["IN0_T"] == T_S16 else 1
            passes = np.where(np.asarray(dp.pack) > 0, passes, 1)
            c["weights"] = g * tiles * dp.lanes * taps_p + (taps_p - taps)  # load_w + clear_window
            st["mac"], st["wc"] = g * tiles * passes * (taps_p // dp.simd), 0
        else:
            rg = d["HID"] // g
            taps_p, rg_p = _round_up(taps, dp.tsimd), _round_up(rg, dp.c_tsimd)
            tiles_b, tiles_c = _ceil_div(rg, dp.b_lanes), _ceil_div(cog, dp.c_lanes)
            c["weights"] = (g * tiles_b * dp.b_lanes * taps_p + g * tiles_c * dp.c_lanes * rg_p  # load_wb, load_wc
                            + (taps_p - taps) + (rg_p - rg))  # clear_window, pad_h
            st["mac"], st["wc"] = g * tiles_b * (taps_p // dp.tsimd), g * tiles_c * (rg_p // dp.c_tsimd)
        c["weights"] += cout // rr if d.get("SUMS") else 0  # clear_sums: the CA after it sums on this store
        c["rows"] = min(kh // 2, h) * w * load  # rows 0..kh/2-1 before the first pixel
        steady = _max(st["gather"], st["mac"], st["wc"], st["store"])
        c["pixels"] = _pixels(h, w, kh, kw, load, steady)
        c["per_pixel"], c["stages"] = steady, st
        if np.ndim(steady) == 0:
            c["bound"] = max(STAGES, key=lambda s: st[s])
    elif op == OPS["add"]:
        e = _min(per_beat(d["IN0_T"], dp.beat), per_beat(d["IN1_T"], dp.beat), e_out, dp.ew)
        c["pixels"] = _ceil_div(h * w * cout, e)
        c["weights"] = cout if d.get("SUMS") else 0  # clear_sums
    elif op == OPS["act"]:
        c["pixels"] = _ceil_div(h * w * cout, _min(e_in, e_out))
    elif op == OPS["ca"]:
        hid = d["HID"]
        sums = bool(d.get("SUMS"))  # the conv / add before it summed the map on its store: no clear_sums, no pool
        c["weights"] = (0 if sums else cin) + cin + 2 * hid * cin  # clear_sums, mean, fc1, fc2
        n = h * w * cin
        e_skip = per_beat(d["IN1_T"], dp.beat) if d.get("FUSE") else e_in  # fused: the add's other input too
        c["pixels"] = ((0 if sums else _ceil_div(n, _min(e_in, e_out)))
                       + _ceil_div(n, _min(e_in, e_out, e_skip, dp.ew)))  # pool, rescale
    elif op == OPS["pixel_shuffle"]:
        c["pixels"] = _ceil_div(h * w * cin, _min(e_in, e_out))
        out_pixels = h * w * d["HID"] ** 2
    elif op in (OPS["channel_shuffle"], OPS["slice"]):
        c["pixels"] = _ceil_div(h * w * cout, _min(e_in, e_out))
    elif op in (OPS["concat"], OPS["interleave"]):
        c["pixels"] = _ceil_div(h * w * cin, _min(e_in, e_out))
    else:
        raise ValueError(f"unknown engine op {op}")
    c["total"] = c["fetch"] + c["weights"] + c["rows"] + c["pixels"]
    c["out_pixels"] = out_pixels
    if np.ndim(c["total"]) == 0:
        for k in ("weights", "rows", "pixels", "per_pixel", "total"):
            c[k] = int(c[k])
        c["stages"] = {k: int(v) for k, v in c["stages"].items()}
    return c


def descriptor_bytes(d: dict, H: int, W: int, type_bytes: dict = TYPE_BYTES) -> int:
    """DDR bytes one descriptor moves: maps read (CA reads its input twice, once when the op before it summed it) and
    written, weight-blob words read."""
    f = d["F"]
    px = H * f * W * f
    op = d["OP"]
    rd = px * d["IN0_C"] * type_bytes[d["IN0_T"]] * (2 if op == OPS["ca"] and not d.get("SUMS") else 1)
    if op == OPS["add"] or (op == OPS["ca"] and d.get("FUSE")):
        rd += px * d["IN1_C"] * type_bytes[d["IN1_T"]]
    out_px = px * (d["HID"] ** 2 if op == OPS["pixel_shuffle"] else 1)  # (a conv with PS writes as many codes)
    wr = out_px * (d["OUT_C"] if op not in (OPS["concat"], OPS["interleave"]) else d["IN0_C"]) * type_bytes[d["OUT_T"]]
    cin, cout, g = d["IN0_C"], d["OUT_C"], max(d["GROUPS"], 1)
    if op == OPS["conv"]:
        wts = cout * cin // g * d["KH"] * d["KW"] + 4 * 3 * cout  # int8 weights, bias/M/SH words
    elif op == OPS["sp_conv"]:
        r = d["HID"]
        wts = (r * cin // g * d["KH"] ** 2 + cout * r // g) // 4 + 4 * (r + cout)  # 2-bit codes, a_j and bias words
    elif op == OPS["ca"]:
        wts = 2 * d["HID"] * cin + 4 * (3 * d["HID"] + 3 * cin) + 4 * 256  # FCs, their params, sigmoid table (<= 256)
    else:
        wts = 0
    return rd + wr + wts


# --- multipliers (DSP48) ------------------------------------------------------------------------------

def dsp48(a_bits, b_bits, family: str = "zynq7000"):
    """DSP48s of one signed a x b multiply: tiles of (A-1) x (B-1) magnitude bits, the better orientation."""
    A, B = DSP_PORTS.get(family, (25, 18))
    return _min(_ceil_div(a_bits - 1, A - 1) * _ceil_div(b_bits - 1, B - 1),
                _ceil_div(b_bits - 1, A - 1) * _ceil_div(a_bits - 1, B - 1))


def multipliers(dp, cfg, family: str = "zynq7000") -> list:
    """Every multiply srhw_engine.cpp writes: (where, count, a_bits, b_bits, DSP48s in all), at the declared widths
    of srhw_config.h (acc_t, mult_t, scale_t, lb_t). Packed: one DSP48 (A+D pre-adder, 25 x 18) per two int8
    products. Address arithmetic is assumed strength-reduced to adders (incrementing indices), not counted."""
    pack = np.asarray(dp.pack) > 0
    mac_n = np.where(pack, _ceil_div(dp.lanes, 2) * dp.simd, dp.lanes * dp.simd)
    mac_each = np.where(pack, 1, dsp48(8, cfg.lb_bits, family))
    rows = [
        ("conv mac: w8 x window (per lane, SIMD; packed: 2 lanes per DSP)", mac_n, 8, cfg.lb_bits, mac_n * mac_each),
        ("conv requant: acc x M (per lane)", dp.lanes, cfg.acc_bits, cfg.m_bits, None),
        ("sp_conv scale: accb x a_j (per W_b lane)", dp.b_lanes, cfg.accb_bits, cfg.a_bits, None),
        ("add: a x MA, b x MB (EW codes per cycle)", 2 * dp.ew, ACT_BITS_DDR, cfg.add_m_bits, None),
        ("ca fc1/fc2 mac: w8 x pooled/hidden", 2, 8, ACC_BITS, None),
        ("ca fc1/fc2 requant: acc x M", 2, ACC_BITS, MULT_BITS, None),
        ("ca rescale: x x att (EW codes per cycle)", dp.ew, ACT_BITS_DDR, 17, None),
        ("ca rescale: (x att) x MY (EW codes per cycle)", dp.ew, ACT_BITS_DDR + 17, cfg.my_bits, None),
        ("ca fused add: y x MA, skip x MB (EW codes per cycle)", 2 * dp.ew * cfg.fuse_ca_add, ACT_BITS_DDR,
         cfg.add_m_bits, None),
    ]
    return [(w, n, a, b, n * dsp48(a, b, family) if t is None else t) for w, n, a, b, t in rows]


# --- adder trees and memories (LUT, FF, BRAM) ---------------------------------------------------------

def tree_bits(n, in_bits):
    """Adder bits of one balanced tree of 2-input adders over n inputs of in_bits: level i has ceil(n / 2^i) adders
    (fewer when an odd input passes through) of in_bits + i bits, up to ceil(log2 n) levels."""
    n = np.asarray(n)
    total, width, level = np.zeros_like(n), np.asarray(in_bits), n
    for _ in range(12):  # 2^12 > any tree here
        adders = level // 2
        width = width + 1
        total = total + adders * width
        level = level - adders
    return total


def adder_trees(dp, cfg) -> list:
    """(where, adders, LUT bits): the W_b and W_c trees (one balanced tree per lane, its adders as wide as their
    operands' sum: tree_bits), the packed conv's per-lane trees of SIMD products, the accumulators and the
    elementwise adders. A w-bit add/sub (the first level's with its ternary selects folded in) costs w LUTs +
    w FFs (estimate's assumption); an unpacked MAC sums in the DSP48 cascade (no LUTs)."""
    pack = np.asarray(dp.pack) > 0
    return [("W_b trees", dp.b_lanes * (dp.tsimd - 1), dp.b_lanes * tree_bits(dp.tsimd, cfg.lb_bits)),
            ("W_c trees", dp.c_lanes * (dp.c_tsimd - 1), dp.c_lanes * tree_bits(dp.c_tsimd, cfg.h_bits)),
            ("packed conv trees (SIMD products per lane)", np.where(pack, dp.lanes * (dp.simd - 1), 0),
             np.where(pack, dp.lanes * tree_bits(dp.simd, PACKED_PRODUCT_BITS), 0)),
            ("accb accumulators", dp.b_lanes, dp.b_lanes * cfg.accb_bits),
            ("acc accumulators (conv, W_c)", dp.lanes + dp.c_lanes, (dp.lanes + dp.c_lanes) * cfg.acc_bits),
            ("add / ca sums (EW + beat codes per cycle; + EW where an add sums for a CA)",
             dp.ew * (1 + cfg.fuse_ca_add + cfg.ca_sums) + dp.beat,
             (dp.ew * (1 + cfg.fuse_ca_add + cfg.ca_sums) + dp.beat) * ACC_BITS)]


def bram36(depth, width):
    """srhw.hw.bram.bram36 (the one BRAM36 mapping: its BRAM18 aspect ratios, pairs rounded up to BRAM36) for ints or
    numpy arrays of candidates (the datapath search maps thousands at once)."""
    n18 = _min(*[_ceil_div(depth, d) * _ceil_div(width, w) for d, w in BRAM18_ASPECTS])
    return np.where((np.asarray(depth) > 0) & (np.asarray(width) > 0), _ceil_div(n18, 2), 0)


def memories(cfg, dp) -> list:
    """The engine's on-chip arrays after their pragmas: dicts {name, count, depth, width, impl, bram36, lut}.

    impl "bram"/"lutram" as BIND_STORAGE declares it; "auto" (no BIND_STORAGE) -> LUTRAM below
    LUTRAM_MAX_BITS per memory, else BRAM (assumption about Vivado's choice)."""
    k = cfg.max_k
    par = _max(dp.simd, dp.tsimd, dp.gcols * dp.gather)
    rows = [
        ("line_buf", dp.gcols, lb_pixels(k, cfg.max_w, dp.gcols) // dp.gcols * _ceil_div(cfg.max_cin, dp.gather),
         cfg.lb_bits * dp.gather, "bram"),
        ("window", par, _ceil_div(cfg.max_taps, par), cfg.lb_bits, "lutram"),
        ("out_buf", dp.beat, _ceil_div(cfg.max_cout, dp.beat), ACT_BITS_DDR, "lutram"),
        ("w8_buf", dp.lanes, _ceil_div(cfg.w8_per_lane, dp.simd), 8 * dp.simd, "auto"),
        ("bias_buf", dp.lanes, cfg.max_rows, cfg.acc_bits, "lutram"),
        ("mult_buf", dp.lanes, cfg.max_rows, cfg.m_bits, "lutram"),
        ("shift_buf", dp.lanes, cfg.max_rows, 6, "lutram"),
        ("hidden", dp.c_tsimd * (np.asarray(dp.b_lanes) > 0), _ceil_div(cfg.max_hid, dp.c_tsimd), cfg.h_bits, "lutram"),
        ("wb_buf", dp.b_lanes, _ceil_div(cfg.t2b_per_lane, dp.tsimd), 2 * dp.tsimd, "auto"),
        ("a_buf", dp.b_lanes, cfg.b_rows, cfg.a_bits, "lutram"),
        ("wc_buf", dp.c_lanes, _ceil_div(cfg.t2c_per_lane, dp.c_tsimd), 2 * dp.c_tsimd, "auto"),
        ("cbias_buf", dp.c_lanes, cfg.c_rows, cfg.acc_bits, "lutram"),
        ("ca_sum", dp.beat, _ceil_div(cfg.max_c, dp.beat), ACC_BITS, "auto"),
        ("ca_pool", 1, cfg.max_c, ACC_BITS, "auto"),
        ("ca_hid", 1, cfg.max_ca_hid, ACC_BITS, "auto"),
        ("ca_att", 1, cfg.max_c, 16, "auto"),
    ]
    out = []
    for name, n, depth, width, impl in rows:
        if impl == "auto":
            is_bram = np.asarray(depth * width) >= LUTRAM_MAX_BITS
        else:
            is_bram = np.asarray(impl == "bram")
        each = np.where(is_bram, bram36(depth, width), 0)
        lut = np.where(is_bram, 0, _ceil_div(depth, 64) * width)  # RAM64X1S per bit
        impl_s = ("bram" if bool(is_bram) else "lutram") if np.ndim(is_bram) == 0 else impl
        out.append({"name": name, "count": _int(n), "depth": _int(depth), "width": _int(width), "impl": impl_s,
                    "bram36": _int(n * each), "lut": _int(n * lut)})
    return out


def control() -> tuple:
    """(LUT, FF) of the m_axi adapters and the op functions' control (stated constants)."""
    return M_AXI_PORTS * M_AXI_LUT + len(OPS) * OP_CONTROL_LUT, M_AXI_PORTS * M_AXI_FF + len(OPS) * OP_CONTROL_FF


def resources(cfg, dp, family: str = "zynq7000") -> dict:
    """DSP, LUT, FF and BRAM36 of the engine compiled with buffer sizes and widths `cfg` (srhw_config.h) and
    datapath `dp`."""
    mults = multipliers(dp, cfg, family)
    trees = adder_trees(dp, cfg)
    mems = memories(cfg, dp)
    adder_lut = sum(b for _, _, b in trees)
    lut_ram = sum(m["lut"] for m in mems)
    ctrl_lut, ctrl_ff = control()
    out = {"dsp": sum(m[4] for m in mults), "lut": adder_lut + lut_ram + ctrl_lut, "ff": adder_lut + ctrl_ff,
           "bram": sum(m["bram36"] for m in mems)}
    if np.ndim(out["lut"]) > 0:
        return out
    out = {k: int(v) for k, v in out.items()}
    out["breakdown"] = {
        "multipliers": [dict(zip(("where", "count", "a_bits", "b_bits", "dsp"), (w, *map(int, r)))) for w, *r in mults],
        "adders": [{"where": w, "adders": int(n), "lut": int(b)} for w, n, b in trees],
        "memories": mems, "control_lut": ctrl_lut, "control_ff": ctrl_ff, "lutram_lut": int(lut_ram)}
    return out


def bound_resource(res: dict, part) -> str:
    """The resource the datapath fills most, as a fraction of its budget on `part` (what limits a wider one)."""
    use = {"LUT": res["lut"] / (LUT_BUDGET * part.lut), "DSP48": res["dsp"] / (DSP_BUDGET * part.dsp),
           "BRAM36": res["bram"] / (BRAM_BUDGET * part.bram), "FF": res["ff"] / (FF_BUDGET * part.ff)}
    return max(use, key=use.get)


# --- the datapath per program and part ----------------------------------------------------------------

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
    need = {"max_taps": _max(dp.simd, dp.tsimd), "max_hid": dp.c_tsimd, "w8_per_lane": dp.simd,
            "t2b_per_lane": dp.tsimd, "t2c_per_lane": dp.c_tsimd, "max_rows": 1, "b_rows": 1, "c_rows": 1}
    for d, _ in descs:
        for k, v in lane_buffers(d, dp).items():
            need[k] = _max(need[k], v)
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

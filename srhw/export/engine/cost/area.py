"""DSP48, LUT, FF and BRAM36 of the engine as written (srhw_engine.cpp at srhw_config.h's sizes), never a synthesis
result: each multiply in DSP48s at its operands' declared widths, each adder tree's inputs x width in LUTs, each
declared array after its pragmas in BRAM36/LUTRAM, and the lane-buffer sizes a descriptor needs.

The formulas take plain ints or numpy arrays for the datapath's fields (the search evaluates many at once).
"""

import numpy as np

from srhw.export.engine.arith import as_int, ceil_div, round_up, vmax, vmin
from srhw.export.engine.isa import ACC_BITS, OPS
from srhw.hw.bram import BRAM18_ASPECTS
from srhw.hw.budget import BRAM_BUDGET, DSP_BUDGET, FF_BUDGET, LUT_BUDGET

MULT_BITS = 32  # descriptor multipliers of add / CA (int32 words)
ACT_BITS_DDR = 16  # act_t: a code loaded from DDR
PACKED_PRODUCT_BITS = 16  # one of the two int8 products a packed DSP48 delivers
# DSP48 operand widths (signed): 7-series DSP48E1 25x18, UltraScale DSP48E2 27x18 (UG479, UG579)
DSP_PORTS = {"zynq7000": (25, 18), "zynqusp": (27, 18), "kintexus": (27, 18)}
# one m_axi adapter + its burst logic, per port (4: program + weights, two arena reads, one arena write) and the
# ten op functions' control (counters, address arithmetic, FSM): assumptions, not synthesis figures
M_AXI_PORTS, M_AXI_LUT, M_AXI_FF, OP_CONTROL_LUT, OP_CONTROL_FF = 4, 1500, 2000, 150, 300
LUTRAM_MAX_BITS = 1024  # an array without BIND_STORAGE below this many bits is assumed to become LUTRAM


# --- on-chip buffer sizes ---------------------------------------------------------------------------

def lane_buffers(d: dict, dp) -> dict:
    """The lane-buffer sizes (EngineConfig fields) one conv / sp_conv descriptor needs on datapath `dp`."""
    op = d["OP"]
    g, cin, cout = max(d["GROUPS"], 1), d["IN0_C"], d["OUT_C"]
    cig, cog = cin // g, cout // g
    if op == OPS["conv"]:
        taps = d["KH"] * d["KW"] * cig
        taps_p = round_up(taps, dp.simd)
        rows = g * ceil_div(cog, dp.lanes)
        return {"max_taps": taps_p, "max_rows": rows, "w8_per_lane": rows * taps_p}
    if op == OPS["sp_conv"]:
        rg = d["HID"] // g
        taps = d["KH"] ** 2 * cig
        taps_p, rg_p = round_up(taps, dp.tsimd), round_up(rg, dp.c_tsimd)
        rows_b, rows_c = g * ceil_div(rg, dp.b_lanes), g * ceil_div(cog, dp.c_lanes)
        return {"max_taps": taps_p, "max_hid": rg_p, "b_rows": rows_b, "c_rows": rows_c,
                "t2b_per_lane": rows_b * taps_p, "t2c_per_lane": rows_c * rg_p}
    return {}


def lb_pixels(max_k, max_w, gcols):
    """Line-buffer depth in pixels: (k-1) rows + k+1 pixels, rounded up to a multiple of the pixel banks (GCOLS) so
    that GCOLS consecutive ring slots always fall in different banks, across the wrap too."""
    return round_up((max_k - 1) * max_w + max_k + 1, gcols)


# --- multipliers (DSP48) ------------------------------------------------------------------------------

def dsp48(a_bits, b_bits, family: str = "zynq7000"):
    """DSP48s of one signed a x b multiply: tiles of (A-1) x (B-1) magnitude bits, the better orientation."""
    A, B = DSP_PORTS.get(family, (25, 18))
    return vmin(ceil_div(a_bits - 1, A - 1) * ceil_div(b_bits - 1, B - 1),
                ceil_div(b_bits - 1, A - 1) * ceil_div(a_bits - 1, B - 1))


def multipliers(dp, cfg, family: str = "zynq7000") -> list:
    """Every multiply srhw_engine.cpp writes: (where, count, a_bits, b_bits, DSP48s in all), at the declared widths
    of srhw_config.h (acc_t, mult_t, scale_t, lb_t). Packed: one DSP48 (A+D pre-adder, 25 x 18) per two int8
    products. Address arithmetic is assumed strength-reduced to adders (incrementing indices), not counted."""
    pack = np.asarray(dp.pack) > 0
    mac_n = np.where(pack, ceil_div(dp.lanes, 2) * dp.simd, dp.lanes * dp.simd)
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
    n18 = vmin(*[ceil_div(depth, d) * ceil_div(width, w) for d, w in BRAM18_ASPECTS])
    return np.where((np.asarray(depth) > 0) & (np.asarray(width) > 0), ceil_div(n18, 2), 0)


def memories(cfg, dp) -> list:
    """The engine's on-chip arrays after their pragmas: dicts {name, count, depth, width, impl, bram36, lut}.

    impl "bram"/"lutram" as BIND_STORAGE declares it; "auto" (no BIND_STORAGE) -> LUTRAM below
    LUTRAM_MAX_BITS per memory, else BRAM (assumption about Vivado's choice)."""
    k = cfg.max_k
    par = vmax(dp.simd, dp.tsimd, dp.gcols * dp.gather)
    rows = [
        ("line_buf", dp.gcols, lb_pixels(k, cfg.max_w, dp.gcols) // dp.gcols * ceil_div(cfg.max_cin, dp.gather),
         cfg.lb_bits * dp.gather, "bram"),
        ("window", par, ceil_div(cfg.max_taps, par), cfg.lb_bits, "lutram"),
        ("out_buf", dp.beat, ceil_div(cfg.max_cout, dp.beat), ACT_BITS_DDR, "lutram"),
        ("w8_buf", dp.lanes, ceil_div(cfg.w8_per_lane, dp.simd), 8 * dp.simd, "auto"),
        ("bias_buf", dp.lanes, cfg.max_rows, cfg.acc_bits, "lutram"),
        ("mult_buf", dp.lanes, cfg.max_rows, cfg.m_bits, "lutram"),
        ("shift_buf", dp.lanes, cfg.max_rows, 6, "lutram"),
        ("hidden", dp.c_tsimd * (np.asarray(dp.b_lanes) > 0), ceil_div(cfg.max_hid, dp.c_tsimd), cfg.h_bits, "lutram"),
        ("wb_buf", dp.b_lanes, ceil_div(cfg.t2b_per_lane, dp.tsimd), 2 * dp.tsimd, "auto"),
        ("a_buf", dp.b_lanes, cfg.b_rows, cfg.a_bits, "lutram"),
        ("wc_buf", dp.c_lanes, ceil_div(cfg.t2c_per_lane, dp.c_tsimd), 2 * dp.c_tsimd, "auto"),
        ("cbias_buf", dp.c_lanes, cfg.c_rows, cfg.acc_bits, "lutram"),
        ("ca_sum", dp.beat, ceil_div(cfg.max_c, dp.beat), ACC_BITS, "auto"),
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
        lut = np.where(is_bram, 0, ceil_div(depth, 64) * width)  # RAM64X1S per bit
        impl_s = ("bram" if bool(is_bram) else "lutram") if np.ndim(is_bram) == 0 else impl
        out.append({"name": name, "count": as_int(n), "depth": as_int(depth), "width": as_int(width), "impl": impl_s,
                    "bram36": as_int(n * each), "lut": as_int(n * lut)})
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

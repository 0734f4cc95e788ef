"""Cost model of the written layer-sequential engine (hls/engine/): datapath per part, cycles, DSP, LUT, BRAM.

Everything here reads the C++ as written, never a synthesis result (no vitis_hls/Vivado on these machines):

  * `Datapath(lanes, simd, tsimd)`: SRHW_LANES / SRHW_SIMD / SRHW_TSIMD of srhw_config.h. `datapath_for(part)`
    picks, among powers of two, the one with the fewest cycles on the paper's reference layers whose
    multipliers fit the part's DSPs and whose adder trees fit its LUT budget (estimate.LUT_BUDGET).
  * `descriptor_cycles(desc, dp, H, W)`: iterations of every pipelined loop of srhw_engine.cpp that one
    descriptor runs on an H x W LR input, i.e. its cycles at II = 1 (assumption: every `PIPELINE II = 1`
    loop achieves II = 1, one m_axi beat per map element; pipeline fill/drain, loop entry and the unrolled
    per-tile steps (accumulator init, the r scale multiplies) are not counted). A C-sim built with
    -DSRHW_COUNT_ITERS counts the same iterations (tests/test_export_estimate.py compares them).
  * `multipliers(dp, lb_bits)`: each multiply the C++ writes, in DSP48s at its operands' value widths.
  * `memories(cfg, dp)`: each declared on-chip array after its partition/reshape pragmas, mapped to BRAM or
    LUTRAM by `bram36` (the rule is in its docstring).
"""

import math
from dataclasses import asdict, dataclass

from srhw.hw.bram import bram36  # noqa: F401 - the one BRAM36 mapping (Vivado's BRAM18 aspect ratios)

ACC_BITS = 48  # acc_t
MULT_BITS = 32  # mult_buf / descriptor multipliers: ap_int<32>
ACT_BITS_DDR = 16  # act_t: a code loaded from DDR
MAX_LB_BITS, MAX_H_BITS = 16, ACC_BITS  # the widest line-buffer code / hidden value a program may need
DESC_WORDS = 42  # SRHW_DESC_WORDS (srhw.export.engine.FIELDS)
OPS = {"conv": 1, "sp_conv": 2, "add": 3, "act": 4, "ca": 5, "pixel_shuffle": 6, "channel_shuffle": 7,
       "slice": 8, "concat": 9, "interleave": 10}
# DSP48 operand widths (signed): 7-series DSP48E1 25x18, UltraScale DSP48E2 27x18 (UG479, UG579)
DSP_PORTS = {"zynq7000": (25, 18), "zynqusp": (27, 18), "kintexus": (27, 18)}
# one m_axi adapter + its burst logic, per port (3: program, weights, arena) and the ten op functions'
# control (counters, address arithmetic, FSM): assumptions, not synthesis figures
M_AXI_LUT, M_AXI_FF, OP_CONTROL_LUT, OP_CONTROL_FF = 1500, 2000, 150, 300
LUTRAM_MAX_BITS = 1024  # an array without BIND_STORAGE below this many bits is assumed to become LUTRAM


@dataclass(frozen=True)
class Datapath:
    """The engine's parallelism: LANES output channels per pass, each SIMD int8 MACs or TSIMD ternary terms per cycle."""

    lanes: int = 8
    simd: int = 16  # int8 MACs per lane per cycle; also the channels a window gather reads per cycle
    tsimd: int = 64  # ternary terms per lane per cycle (a TSIMD-input adder tree per lane)

    @property
    def log2_tsimd(self) -> int:
        return int(math.log2(self.tsimd))

    def as_dict(self) -> dict:
        return asdict(self)


def _ceil_div(a, b):
    return -(-a // b)


def _round_up(a, b):
    return _ceil_div(a, b) * b


# --- cycles -----------------------------------------------------------------------------------------

def descriptor_cycles(d: dict, dp: Datapath, H: int, W: int) -> dict:
    """Pipelined-loop iterations of one descriptor (a dict FIELD -> int) on an H x W LR input, by loop group.

    Mirrors srhw_engine.cpp loop by loop; returns {"fetch", "weights", "rows", "pixels", "total",
    "out_pixels", "per_pixel"} where per_pixel is the per-output-pixel inner-loop count (conv/sp_conv)."""
    op, f = d["OP"], d["F"]
    h, w = H * f, W * f
    cin, cout = d["IN0_C"], d["OUT_C"]
    c = {"fetch": DESC_WORDS, "weights": 0, "rows": 0, "pixels": 0, "per_pixel": 0}
    out_pixels = h * w
    if op == OPS["conv"]:
        g, kh, kw = d["GROUPS"], d["KH"], d["KW"]
        cig, cog = cin // g, cout // g
        taps = kh * kw * cig
        taps_p = _round_up(taps, dp.simd)
        tiles = _ceil_div(cog, dp.lanes)
        c["weights"] = g * tiles * dp.lanes * taps_p + (taps_p - taps)  # load_w + clear_window
        c["rows"] = (kh - 1 + h) * (w + 2 * (kw // 2)) * cin  # load_row
        c["per_pixel"] = g * (kh * kw * _ceil_div(cig, dp.simd) + tiles * taps_p // dp.simd) + cout
    elif op == OPS["sp_conv"]:
        g, k, r = d["GROUPS"], d["KH"], d["HID"]
        cig, cog, rg = cin // g, cout // g, r // g
        taps = k * k * cig
        taps_p, rg_p = _round_up(taps, dp.tsimd), _round_up(rg, dp.tsimd)
        tiles_b, tiles_c = _ceil_div(rg, dp.lanes), _ceil_div(cog, dp.lanes)
        c["weights"] = (g * tiles_b * dp.lanes * taps_p + g * tiles_c * dp.lanes * rg_p  # load_wb, load_wc
                        + (taps_p - taps) + (rg_p - rg))  # clear_window, pad_h
        c["rows"] = (k - 1 + h) * (w + 2 * (k // 2)) * cin
        c["per_pixel"] = (g * (k * k * _ceil_div(cig, dp.simd) + tiles_b * taps_p // dp.tsimd
                               + tiles_c * rg_p // dp.tsimd) + cout)  # gather, wb_add, wc_add, one store per code
    elif op in (OPS["add"], OPS["act"]):
        c["pixels"] = h * w * cout
    elif op == OPS["ca"]:
        hid = d["HID"]
        c["weights"] = cin + cin + 2 * hid * cin  # clear_sum, mean, fc1, fc2
        c["pixels"] = 2 * h * w * cin  # pool, rescale
    elif op == OPS["pixel_shuffle"]:
        c["pixels"] = h * w * cin
        out_pixels = h * w * d["HID"] ** 2
    elif op in (OPS["channel_shuffle"], OPS["slice"]):
        c["pixels"] = h * w * cout
    elif op in (OPS["concat"], OPS["interleave"]):
        c["pixels"] = h * w * cin
    else:
        raise ValueError(f"unknown engine op {op}")
    c["pixels"] += c["per_pixel"] * h * w
    c["total"] = c["fetch"] + c["weights"] + c["rows"] + c["pixels"]
    c["out_pixels"] = out_pixels
    return c


def descriptor_bytes(d: dict, H: int, W: int, type_bytes: dict) -> int:
    """DDR bytes one descriptor moves: maps read (CA reads its input twice) and written, weight-blob words read."""
    f = d["F"]
    px = H * f * W * f
    op = d["OP"]
    rd = px * d["IN0_C"] * type_bytes[d["IN0_T"]] * (2 if op == OPS["ca"] else 1)
    if op == OPS["add"]:
        rd += px * d["IN1_C"] * type_bytes[d["IN1_T"]]
    out_px = px * (d["HID"] ** 2 if op == OPS["pixel_shuffle"] else 1)
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

def dsp48(a_bits: int, b_bits: int, family: str = "zynq7000") -> int:
    """DSP48s of one signed a x b multiply: tiles of (A-1) x (B-1) magnitude bits, the better orientation."""
    A, B = DSP_PORTS.get(family, (25, 18))
    return min(_ceil_div(a_bits - 1, A - 1) * _ceil_div(b_bits - 1, B - 1),
               _ceil_div(b_bits - 1, A - 1) * _ceil_div(a_bits - 1, B - 1))


def multipliers(dp: Datapath, lb_bits: int = MAX_LB_BITS, family: str = "zynq7000") -> list:
    """Every multiply srhw_engine.cpp writes: (where, count, a_bits, b_bits, DSP48s in all). Operand widths are
    the values' widths (HLS sees through the sign-extending casts); address arithmetic is assumed strength-reduced
    to adders (incrementing indices) and is not counted."""
    rows = [
        ("conv mac: w8 x window (per lane, SIMD)", dp.lanes * dp.simd, 8, lb_bits),
        ("conv requant: acc x M (per lane)", dp.lanes, ACC_BITS, MULT_BITS),
        ("sp_conv scale: accb x a_j (per lane)", dp.lanes, ACC_BITS, MULT_BITS),
        ("add: a x MA, b x MB", 2, ACT_BITS_DDR, MULT_BITS),
        ("ca fc1/fc2 mac: w8 x pooled/hidden", 2, 8, ACC_BITS),
        ("ca fc1/fc2 requant: acc x M", 2, ACC_BITS, MULT_BITS),
        ("ca rescale: x x att", 1, ACT_BITS_DDR, 17),
        ("ca rescale: (x att) x MY", 1, ACT_BITS_DDR + 17, MULT_BITS),
    ]
    return [(w, n, a, b, n * dsp48(a, b, family)) for w, n, a, b in rows]


# --- adder trees and memories (LUT, FF, BRAM) ---------------------------------------------------------

def adder_trees(dp: Datapath, lb_bits: int = MAX_LB_BITS, h_bits: int = MAX_H_BITS) -> list:
    """(where, adder inputs, bits): the W_b and W_c trees (TSIMD inputs per lane, partb_t / partc_t) and their
    48-bit accumulators. A w-bit add/sub with its ternary select costs w LUTs + w FFs (estimate's assumption)."""
    return [("W_b trees", dp.lanes * dp.tsimd, lb_bits + dp.log2_tsimd),
            ("W_c trees", dp.lanes * dp.tsimd, h_bits + dp.log2_tsimd),
            ("accb/acc accumulators", 2 * dp.lanes, ACC_BITS)]


def memories(cfg, dp: Datapath) -> list:
    """The engine's on-chip arrays after their pragmas: dicts {name, count, depth, width, impl}.

    impl "bram"/"lutram" as BIND_STORAGE declares it; "auto" (no BIND_STORAGE) -> LUTRAM below
    LUTRAM_MAX_BITS per memory, else BRAM (assumption about Vivado's choice)."""
    k = cfg.max_k
    rows = [
        ("line_buf", dp.simd, k * (cfg.max_w + k - 1) * _ceil_div(cfg.max_cin, dp.simd), cfg.lb_bits, "bram"),
        ("window", dp.tsimd, _ceil_div(cfg.max_taps, dp.tsimd), cfg.lb_bits, "lutram"),
        ("hidden", dp.tsimd, _ceil_div(cfg.max_hid, dp.tsimd), cfg.h_bits, "lutram"),
        ("w8_buf", dp.lanes, _ceil_div(cfg.w8_per_lane, dp.simd), 8 * dp.simd, "auto"),
        ("wb_buf", dp.lanes, _ceil_div(cfg.t2b_per_lane, dp.tsimd), 2 * dp.tsimd, "auto"),
        ("wc_buf", dp.lanes, _ceil_div(cfg.t2c_per_lane, dp.tsimd), 2 * dp.tsimd, "auto"),
        ("bias_buf", dp.lanes, cfg.max_rows, ACC_BITS, "lutram"),
        ("mult_buf", dp.lanes, cfg.max_rows, MULT_BITS, "lutram"),
        ("shift_buf", dp.lanes, cfg.max_rows, 6, "lutram"),
        ("ca_sum", 1, cfg.max_c, ACC_BITS, "auto"),
        ("ca_pool", 1, cfg.max_c, ACC_BITS, "auto"),
        ("ca_hid", 1, cfg.max_ca_hid, ACC_BITS, "auto"),
        ("ca_att", 1, cfg.max_c, 16, "auto"),
    ]
    out = []
    for name, n, depth, width, impl in rows:
        if impl == "auto":
            impl = "lutram" if depth * width < LUTRAM_MAX_BITS else "bram"
        each = bram36(depth, width) if impl == "bram" else 0
        lut = 0 if impl == "bram" else _ceil_div(depth, 64) * width  # RAM64X1S per bit
        out.append({"name": name, "count": n, "depth": depth, "width": width, "impl": impl,
                    "bram36": n * each, "lut": n * lut})
    return out


def resources(cfg, dp: Datapath, family: str = "zynq7000") -> dict:
    """DSP, LUT, FF and BRAM36 of the engine compiled with buffer sizes `cfg` (srhw_config.h) and datapath `dp`."""
    mults = multipliers(dp, cfg.lb_bits, family)
    trees = adder_trees(dp, cfg.lb_bits, cfg.h_bits)
    mems = memories(cfg, dp)
    adder_lut = sum(n * b for _, n, b in trees)
    lut_ram = sum(m["lut"] for m in mems)
    ctrl_lut, ctrl_ff = 3 * M_AXI_LUT + len(OPS) * OP_CONTROL_LUT, 3 * M_AXI_FF + len(OPS) * OP_CONTROL_FF
    return {"dsp": sum(m[4] for m in mults), "lut": adder_lut + lut_ram + ctrl_lut, "ff": adder_lut + ctrl_ff,
            "bram": sum(m["bram36"] for m in mems),
            "breakdown": {"multipliers": [dict(zip(("where", "count", "a_bits", "b_bits", "dsp"), m)) for m in mults],
                          "adders": [dict(zip(("where", "inputs", "bits"), t)) for t in trees],
                          "memories": mems, "control_lut": ctrl_lut, "control_ff": ctrl_ff, "lutram_lut": lut_ram}}


# --- the datapath per part ----------------------------------------------------------------------------

_REF = [  # the paper's layers the datapath is chosen for: st_bl's 3x3 64->64 r=128 SP conv, a 3x3 64->64 int8 conv
    dict.fromkeys(("IN0_C", "OUT_C"), 64) | {"OP": OPS["sp_conv"], "F": 1, "GROUPS": 1, "KH": 3, "KW": 3, "HID": 128},
    dict.fromkeys(("IN0_C", "OUT_C"), 64) | {"OP": OPS["conv"], "F": 1, "GROUPS": 1, "KH": 3, "KW": 3, "HID": 0},
]


def datapath_cost(dp: Datapath, family: str = "zynq7000", lb_bits: int = MAX_LB_BITS, h_bits: int = MAX_H_BITS) -> dict:
    """The budget-relevant part of a datapath at the given widths: DSPs and the adder trees' LUTs, plus the
    reference layers' inner-loop cycles per pixel."""
    dsp = sum(m[4] for m in multipliers(dp, lb_bits, family))
    lut = sum(n * b for _, n, b in adder_trees(dp, lb_bits, h_bits))
    return {"dsp": dsp, "adder_lut": lut, "ref_cycles_per_pixel": sum(descriptor_cycles(d, dp, 1, 1)["per_pixel"] for d in _REF)}


def datapath_candidates(part, lb_bits: int = MAX_LB_BITS, h_bits: int = MAX_H_BITS) -> list:
    """Powers of two (lanes 2..64, simd 1..64, tsimd 8..256) whose multipliers fit DSP_BUDGET x the part's DSPs and
    whose adder trees plus control fit LUT_BUDGET x its LUTs at the program's widths (srhw_config.h's
    SRHW_LB_BITS, SRHW_H_BITS; default: the widest any program may need), best first: the fewest
    reference-layer cycles per pixel, then the fewest DSPs, then the fewest LUTs, then the most lanes."""
    from srhw.hw.budget import DSP_BUDGET, LUT_BUDGET

    ctrl = 3 * M_AXI_LUT + len(OPS) * OP_CONTROL_LUT
    keyed = []
    for lanes in (2 ** i for i in range(1, 7)):
        for simd in (2 ** i for i in range(0, 7)):
            for tsimd in (2 ** i for i in range(3, 9)):
                dp = Datapath(lanes, simd, tsimd)
                c = datapath_cost(dp, part.family, lb_bits, h_bits)
                if c["dsp"] <= DSP_BUDGET * part.dsp and c["adder_lut"] + ctrl <= LUT_BUDGET * part.lut:
                    keyed.append(((c["ref_cycles_per_pixel"], c["dsp"], c["adder_lut"], -lanes), dp))
    if not keyed:
        from srhw.core.errors import SrhwError

        raise SrhwError(f"no engine datapath fits {part.name}'s {part.dsp} DSPs and {part.lut} LUTs")
    return [dp for _, dp in sorted(keyed, key=lambda kd: kd[0])]


def datapath_for(part, lb_bits: int = MAX_LB_BITS, h_bits: int = MAX_H_BITS) -> Datapath:
    """The best of `datapath_candidates` (its datapath and adder trees alone; buffers not counted)."""
    return datapath_candidates(part, lb_bits, h_bits)[0]

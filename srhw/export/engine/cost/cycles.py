"""Cycles and DDR bytes of one engine descriptor: the iterations of srhw_engine.cpp's pipelined loops, read from the
C++ as written (never a synthesis result).

`descriptor_cycles(desc, dp, H, W)`: iterations of every pipelined loop of srhw_engine.cpp that one descriptor runs
on an H x W LR input, i.e. its cycles at II = 1. A conv's pixel is a dataflow of stages (load, gather, MAC / W_b,
W_c, store) and costs its slowest stage; every other loop runs on its own. Assumptions: every `PIPELINE II = 1` loop
achieves II = 1, one beat per m_axi port and cycle; pipeline fill/drain, loop entry and the unrolled per-tile steps
(accumulator init, the scale multiplies, the requantization) are not counted. A C-sim built with
-DSRHW_COUNT_ITERS counts the same iterations. The fusions the descriptor names are counted where they run: PS (the
pixel shuffle as a conv's store map: r^2 runs of C/r^2 codes), SUMS (a conv / add summing channels on its store: a
clear loop; the CA after it: no pool pass). `descriptor_bytes`: the DDR bytes it moves.

The formulas take plain ints or numpy arrays for the datapath's fields (the search evaluates many at once).
"""

import numpy as np

from srhw.export.engine.arith import ceil_div, round_up, vmax, vmin
from srhw.export.engine.isa import DESC_WORDS, OPS, T_S16, TYPE_BYTES

STAGES = ("load", "gather", "mac", "wc", "store")


def per_beat(t, beat) -> int:
    """Codes of map type t per beat."""
    return beat // TYPE_BYTES[t]


def gather_cols(cig, dp):
    """Window columns the gather fills per cycle: GCOLS when one tap's channels fit one gather word (the columns'
    taps are then one contiguous run of the window, conflict-free in its banks), else one."""
    return np.where(cig <= np.asarray(dp.gather), dp.gcols, 1)


def _pixels(h, w, kh, kw, load, steady):
    """Sum over the output pixels of max(load stage, the other stages): the load stage of pixel (y, x) loads
    input pixel (y + kh/2, x + kw/2) (at x = 0: columns 0..kw/2), `load` beats each, none past the map."""
    ph, pw = kh // 2, kw // 2
    rows = max(0, h - ph)  # output rows whose load row is inside the map
    n0 = min(pw, w - 1) + 1
    n1 = max(0, w - 1 - pw)  # x = 1 .. w-1-pw load one pixel
    n_none = (w - 1) - n1
    return (rows * (vmax(n0 * load, steady) + n1 * vmax(load, steady) + n_none * steady)
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
        load = ceil_div(cin, e_in)
        rr = max(d.get("PS", 0), 1) ** 2  # pixel shuffle on the store: r x r sub-pixels of cout / r^2 codes each
        st = {"load": load, "gather": g * kh * ceil_div(kw, gather_cols(cig, dp)) * ceil_div(cig, dp.gather),
              "store": rr * ceil_div(cout // rr, e_out)}
        if op == OPS["conv"]:
            taps_p = round_up(taps, dp.simd)
            tiles = ceil_div(cog, dp.lanes)
            passes = 2 if d["IN0_T"] == T_S16 else 1
            passes = np.where(np.asarray(dp.pack) > 0, passes, 1)
            c["weights"] = g * tiles * dp.lanes * taps_p + (taps_p - taps)  # load_w + clear_window
            st["mac"], st["wc"] = g * tiles * passes * (taps_p // dp.simd), 0
        else:
            rg = d["HID"] // g
            taps_p, rg_p = round_up(taps, dp.tsimd), round_up(rg, dp.c_tsimd)
            tiles_b, tiles_c = ceil_div(rg, dp.b_lanes), ceil_div(cog, dp.c_lanes)
            c["weights"] = (g * tiles_b * dp.b_lanes * taps_p + g * tiles_c * dp.c_lanes * rg_p  # load_wb, load_wc
                            + (taps_p - taps) + (rg_p - rg))  # clear_window, pad_h
            st["mac"], st["wc"] = g * tiles_b * (taps_p // dp.tsimd), g * tiles_c * (rg_p // dp.c_tsimd)
        c["weights"] += cout // rr if d.get("SUMS") else 0  # clear_sums: the CA after it sums on this store
        c["rows"] = min(kh // 2, h) * w * load  # rows 0..kh/2-1 before the first pixel
        steady = vmax(st["gather"], st["mac"], st["wc"], st["store"])
        c["pixels"] = _pixels(h, w, kh, kw, load, steady)
        c["per_pixel"], c["stages"] = steady, st
        if np.ndim(steady) == 0:
            c["bound"] = max(STAGES, key=lambda s: st[s])
    elif op == OPS["add"]:
        e = vmin(per_beat(d["IN0_T"], dp.beat), per_beat(d["IN1_T"], dp.beat), e_out, dp.ew)
        c["pixels"] = ceil_div(h * w * cout, e)
        c["weights"] = cout if d.get("SUMS") else 0  # clear_sums
    elif op == OPS["act"]:
        c["pixels"] = ceil_div(h * w * cout, vmin(e_in, e_out))
    elif op == OPS["ca"]:
        hid = d["HID"]
        sums = bool(d.get("SUMS"))  # the conv / add before it summed the map on its store: no clear_sums, no pool
        c["weights"] = (0 if sums else cin) + cin + 2 * hid * cin  # clear_sums, mean, fc1, fc2
        n = h * w * cin
        e_skip = per_beat(d["IN1_T"], dp.beat) if d.get("FUSE") else e_in  # fused: the add's other input too
        c["pixels"] = ((0 if sums else ceil_div(n, vmin(e_in, e_out)))
                       + ceil_div(n, vmin(e_in, e_out, e_skip, dp.ew)))  # pool, rescale
    elif op == OPS["pixel_shuffle"]:
        c["pixels"] = ceil_div(h * w * cin, vmin(e_in, e_out))
        out_pixels = h * w * d["HID"] ** 2
    elif op in (OPS["channel_shuffle"], OPS["slice"]):
        c["pixels"] = ceil_div(h * w * cout, vmin(e_in, e_out))
    elif op in (OPS["concat"], OPS["interleave"]):
        c["pixels"] = ceil_div(h * w * cin, vmin(e_in, e_out))
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

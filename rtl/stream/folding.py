"""Per-layer folding for a target frame rate: each conv as slow (few multipliers) as the target allows.

Target: a 1280x720 output at `fps` frames/s and `clock_mhz` -> a budget of clock / fps cycles per frame.
A conv stage at its own resolution h x w (the LR map for layers before the pixel shuffle) takes
F h w + (positions that emit nothing) cycles per frame (rtl.stream.window.frame_positions), so its
largest folding is F_max = floor((budget - padding positions) / (h w)). Among foldings
(fold_m, fold_n) with fold_m * fold_n <= F_max the one with the fewest multipliers
ceil(c_out / fold_m) * ceil(K K c_in / fold_n) is taken (ties: the larger F), so every layer is
balanced against the same budget: none much faster than the target needs (the `balance` figure is the
slowest over the fastest layer's cycles per frame). The pixel shuffle emits one HR pixel per cycle;
the output frame needs 1280 x 720 cycles at least.

These cycle counts are the schedule the hardware is built to; the figures reported as measured come
from simulation (cocotb), not from here.
"""

from __future__ import annotations

import math

from srhw.core.errors import SrhwError

from rtl.stream.compiler import plan_graph
from rtl.stream.window import frame_positions

OUT_W, OUT_H = 1280, 720


def _best_fold(m: int, n: int, fmax: int):
    best = None
    for fm in range(1, min(m, fmax) + 1):
        fn = min(n, fmax // fm)
        lanes, ns = -(-m // fm), -(-n // fn)
        # the same multipliers with a smaller fold: take the least folding that needs them
        fm2, fn2 = -(-m // lanes), -(-n // ns)
        key = (lanes * ns, -(fm2 * fn2))
        if best is None or key < best[0]:
            best = (key, (fm2, fn2))
    return best[1]


def choose_folding(g, scale_hint: int | None = None, fps: float = 30.0, clock_mhz: float = 150.0,
                   out_w: int = OUT_W, out_h: int = OUT_H) -> dict:
    """{"folds": {conv name: (fold_m, fold_n)}, "layers": [...], "budget_cycles": ...} for a 1280x720 output."""
    if fps <= 0 or clock_mhz <= 0:
        raise SrhwError(f"target {fps} fps at {clock_mhz} MHz: both must be positive")
    budget = int(clock_mhz * 1e6 / fps)
    probe = plan_graph(g, 64, 64)  # shapes only: the scale of every stage
    scale = probe.out_width // 64
    if out_w % scale or out_h % scale:
        raise SrhwError(f"output {out_w}x{out_h} is not a multiple of the network's x{scale}")
    w_in, h_in = out_w // scale, out_h // scale
    plan = plan_graph(g, w_in, h_in)
    if out_w * out_h > budget:
        raise SrhwError(f"output stage: {out_w}x{out_h} pixels at one pixel per cycle need {out_w * out_h} cycles, "
                        f"more than the {budget} cycles of {fps} fps at {clock_mhz} MHz")
    folds, layers = {}, []
    for s in plan.stages:
        if s.op == "pixel_shuffle":
            # r*r HR pixels per LR pixel through a one-pixel-per-cycle output
            r = int(s.attrs["r"])
            cyc = s.in_height * s.in_width * r * r
            layers.append({"name": s.name, "op": s.op, "cycles_per_frame": cyc, "fold": r * r})
            continue
        if s.op != "conv":
            continue
        k = s.k
        ip = plan.port_of(s.inputs[0])
        n, m = k * k * ip.channels, s.port.channels
        pos, emit = frame_positions(k, s.in_width, s.in_height)
        fmax = (budget - (pos - emit)) // emit
        if fmax < 1:
            raise SrhwError(f"layer {s.name}: {emit} pixels per frame need {pos} cycles even unfolded, more than "
                            f"the {budget} cycles of {fps} fps at {clock_mhz} MHz")
        fm, fn = _best_fold(m, n, fmax)
        folds[s.name] = (fm, fn)
        lanes, ns = -(-m // fm), -(-n // fn)
        # F = 1: constant weights as shift-add terms (LUTs); else two products per DSP48E1 (lane pairs)
        mac_dsp = 0 if fm * fn == 1 else -(-lanes // 2) * ns
        layers.append({"name": s.name, "op": "conv", "k": k, "c_in": ip.channels, "c_out": m,
                       "pixels": emit, "macs_per_pixel": n * m, "fold": [fm, fn], "cycles_per_pixel": fm * fn,
                       "multipliers": lanes * ns, "requant_multipliers": lanes, "dsp_estimate": mac_dsp + lanes,
                       "cycles_per_frame": fm * fn * emit + pos - emit})
    cyc = [l["cycles_per_frame"] for l in layers]
    return {"folds": folds, "layers": layers, "budget_cycles": budget, "fps": fps, "clock_mhz": clock_mhz,
            "in_frame": [w_in, h_in], "out_frame": [out_w, out_h], "scale": scale,
            "multipliers": sum(l.get("multipliers", 0) + l.get("requant_multipliers", 0) for l in layers),
            "dsp_estimate": sum(l.get("dsp_estimate", 0) for l in layers),
            "macs_per_frame": sum(l.get("macs_per_pixel", 0) * l.get("pixels", 0) for l in layers),
            "slowest_cycles": max(cyc), "balance": max(cyc) / min(cyc),
            "source": "schedule (the folding's own cycle count; measured figures come from cocotb)"}


def check_dsp(fold: dict, part) -> None:
    """Refuse a folding whose DSP48E1 estimate exceeds the part (before anything is generated; the
    reported count is Yosys')."""
    need = fold["dsp_estimate"]
    if need > part.dsp:
        worst = max((l for l in fold["layers"] if l["op"] == "conv"), key=lambda l: l["dsp_estimate"])
        raise SrhwError(f"target {fold['fps']:g} fps at {fold['clock_mhz']:g} MHz needs ~{need} DSP48E1 "
                        f"(layer {worst['name']}: {worst['dsp_estimate']} at {worst['cycles_per_pixel']} cycles/pixel), "
                        f"more than {part.name}'s {part.dsp}")

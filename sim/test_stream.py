"""pytest runner of the streaming-network bench (sim/stream_tb.py) on Verilator: a small random INT8
graph (5x5 conv, 3x3 conv, residual add, clamp, 1x1 conv, 3x3 conv, SESR's repeated-input skip, pixel shuffle)
compiled by rtl.stream, a 32x32 crop streamed through the whole AXI4-Stream top, every HR pixel equal
to the golden executor's; random tvalid bubbles and tready gaps, frames back to back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtl.stream.compiler import plan_graph
from rtl.stream.example import random_graph
from rtl.stream.top import StreamTop, to_verilog
from rtl.stream.verify import extreme_frames, run_stream_bench
from rtl.stream.window import frame_positions

FOLDS = {"head": (1, 1), "body": (2, 3), "pw": (2, 1), "tail": (1, 2)}  # small foldings: a short CI run


def test_stream_crop_verilator(tmp_path: Path):
    H = W = 32
    g = random_graph(0, input_skip=True, pointwise=True)
    plan = plan_graph(g, W, H, FOLDS)
    (tmp_path / "top.v").write_text(to_verilog(StreamTop(g, plan)))
    fr = extreme_frames(H, W, 1, seed=5)
    rnd = np.random.default_rng(6).integers(0, 256, (2, H, W, 1))
    frames = np.stack(fr + list(rnd))
    s = run_stream_bench(g, tmp_path / "top.v", "srhw_stream", frames, [1, 1, 1, 1, 0, 0], tmp_path / "b",
                         sim="verilator", seed=7)
    assert s["cocotb_pass"], s["log"]
    assert s["checked"] == s["expected"] == 6 * 64 * 64 and s["errors"] == 0 and s["flag_errors"] == 0
    assert s["extra_beats"] == 0
    # full-rate frames: the slowest stage (body, 6 cycles per pixel) sets the frame time
    pos, emit = frame_positions(3, W, H)
    sched = 6 * emit + pos - emit
    assert len(s["cycles_per_frame"]) == 1 and abs(s["cycles_per_frame"][0] - sched) <= 0.02 * sched

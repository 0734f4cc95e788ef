"""End-to-end check of a compiled top: golden executor outputs -> the cocotb bench (sim/stream_tb.py).

`golden_frames` runs srhw.quant.golden on (K, H, W, C) uint8 frames; `run_stream_bench` writes the case,
builds the Verilog with Icarus or Verilator (rtl.bench.run_cocotb) and returns the bench summary:
pixels checked, errors, cycles per frame and latency measured in simulation (source: cocotb).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from srhw.quant.golden import Golden
from srhw.quant.graph import IntGraph

from rtl.bench import run_cocotb


def golden_frames(g: IntGraph, frames: np.ndarray) -> np.ndarray:
    """(K, H, W, C) uint8 -> the golden executor's (K, Ho, Wo, Co) output codes."""
    x = np.ascontiguousarray(frames.transpose(0, 3, 1, 2)).astype(np.uint8)
    y = Golden(g).run_all(x)[g.output]
    return y.transpose(0, 2, 3, 1).astype(np.int64)


def extreme_frames(h: int, w: int, c: int, seed: int) -> list:
    """All max, all min, a checkerboard of both and a random frame: the corner cases of every window."""
    alt = (np.indices((h, w)).sum(0) % 2).astype(bool)[..., None]
    rnd = np.random.default_rng(seed).integers(0, 256, (h, w, c))
    return [np.full((h, w, c), 255), np.zeros((h, w, c)), np.where(alt, 255, 0) + 0 * rnd, rnd]


def run_stream_bench(g: IntGraph, verilog_path, module: str, frames: np.ndarray, stress, build_dir,
                     sim: str = "icarus", seed: int = 1, valid_prob: float = 0.7, ready_prob: float = 0.6,
                     expected: np.ndarray | None = None) -> dict:
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames).astype(np.uint8)
    exp = golden_frames(g, frames) if expected is None else expected
    np.savez(build_dir / "case.npz", frames=frames, expected=exp, stress=np.asarray(stress, np.int64))
    env = {"STREAM_CASE": str(build_dir / "case.npz"), "SEED": seed, "VALID_PROB": valid_prob, "READY_PROB": ready_prob}
    return run_cocotb(sim, verilog_path, module, "stream_tb", build_dir / sim, env)

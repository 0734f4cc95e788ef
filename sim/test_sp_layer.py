"""pytest runner of the cocotb SP-layer bench (sim/sp_layer_tb.py) on Icarus: random layer ->
Verilog (rtl.sp_layer) -> bench, at the hard-wired folding and at lane foldings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtl.adder_tree import to_verilog
from rtl.golden import random_ternary
from rtl.sp_layer import SPLayer, SPLayerConfig
from test_adder_tree import run_bench


@pytest.mark.parametrize("fold,frames", [((1, 1), 340), ((4, 3), 12)])  # 340 frames x 30 px = 10,200 windows
def test_sp_layer_icarus_runner(tmp_path: Path, fold, frames):
    c_in, r, m, H, W = 2, 8, 3, 5, 6
    rng = np.random.default_rng(sum(fold))
    wb, wc = random_ternary(r, 9 * c_in, seed=11), random_ternary(m, r, seed=12)
    a, bias, sh = rng.integers(-2047, 2048, r), rng.integers(-(2 ** 20), 2 ** 20, m), 18
    cfg = SPLayerConfig(width=W, height=H, in_bits=9, lo=0, hi=255, fold_r=fold[0], fold_n=fold[1])
    (tmp_path / "sp_layer.v").write_text(to_verilog(SPLayer(wb, a, wc, bias, sh, cfg), "sp_layer"))
    np.savez(tmp_path / "p.npz", wb=wb, a=a, wc=wc, bias=bias, sh=sh, lo=0, hi=255, width=W, height=H, in_bits=9)
    gen = {"verilog": tmp_path / "sp_layer.v", "module": "sp_layer"}
    env = {"SP_LAYER_PARAMS": str(tmp_path / "p.npz"), "NUM_FRAMES": str(frames)}
    run_bench("icarus", tmp_path, gen, frames, test_module="sp_layer_tb", env=env)

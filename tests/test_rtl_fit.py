"""Fit to a part (rtl/cost.py), the build hook (rtl.build_section / report_html_section) and `srhw rtl fit|counts`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rtl.cost import LUT_BUDGET, Shape, block_cost, fit
from srhw.core.errors import SrhwError
from srhw.hw.parts import get_part

REPO = Path(__file__).resolve().parents[1]


def _srhw(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "srhw", "rtl", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)


def test_block_cost_reproduces_calibration_and_trades_luts_for_cycles():
    s = Shape("body", 576, 128, 64, 230400)
    c = block_cost(s, 128, 4)
    assert abs(c["lut"] - 10953) <= 1 and c["dsp"] == 1  # the Yosys-measured calibration point
    fast = block_cost(s, 16, 4)
    assert fast["lut"] > c["lut"] and fast["dsp"] == 8 and fast["cycles_per_frame"] * 8 == c["cycles_per_frame"]


def test_small_network_fits_dataflow_balanced():
    shapes = [Shape(f"l{i}", 144, 32, 16, 64 * 64) for i in range(3)] + [Shape("up", 144, 64, 32, 64 * 64)]
    part = get_part("xczu9eg")
    f = fit(shapes, part, 150.0, muls=10 ** 6, adds_cse=10 ** 8)
    assert f["architecture"] == "dataflow" and f["fits"]
    assert f["totals"]["lut"] <= LUT_BUDGET * part.lut and f["totals"]["bram"] <= part.bram
    assert f["balance"] <= 1.2, "folding target not balanced"
    assert 0 < f["roofline_ratio"] and f["fps_720p"] > 0


def test_st_bl_on_7020_falls_back_to_layer_sequential_and_reports():
    from rtl import network_section, report_html_section

    sec = network_section("st_bl(r=2c_out)", 2, get_part("xc7z020"))
    assert sec["architecture"] == "layer-sequential" and "dataflow_rejected" in sec
    assert sec["lut"] <= LUT_BUDGET * 53_200 and sec["dsp"] <= 220 and sec["bram"] <= 140
    assert 0 < sec["fps_720p"] < sec["roofline_fps"]
    html = report_html_section(sec)
    assert "data:image/png;base64," in html and html.count("<tr>") == 27


def test_impossible_fit_is_one_error():
    huge = [Shape("x", 576, 4096, 4096, 10 ** 6)]
    with pytest.raises(SrhwError, match="no folding fits"):
        fit(huge, get_part("xc7z020"), 150.0)


@pytest.mark.slow  # ~25 s: five CLI subprocesses on a busy machine
def test_cli_counts_json_and_bad_inputs(tmp_path):
    p = _srhw("counts", "--json")
    assert p.returncode == 0, p.stderr
    sec = json.loads(p.stdout)
    from srhw.profile.counting import count_ops

    oc = count_ops("st_bl(r=2c_out)", 2)
    assert (sec["muls"], sec["adds_dense_table5"]) == (oc.mults, oc.adds)
    # a non-ternary weight file -> one line, exit 2
    from safetensors.numpy import save_file

    save_file({"head.codes_b": np.full((4, 27), 2, np.int8), "head.codes_c": np.ones((3, 4), np.int8)},
              str(tmp_path / "bad.safetensors"))
    for args in (["fit", "--checkpoint", str(tmp_path / "bad.safetensors")], ["fit", "--part", "xc9999"],
                 ["fit", "--model", "bl"], ["counts", "--checkpoint", str(tmp_path / "none.safetensors")]):
        p = _srhw(*args)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("srhw rtl: error:"), (args, p.stderr)

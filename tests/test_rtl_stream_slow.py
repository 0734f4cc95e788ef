"""Slow checks of the streaming RTL (rtl.stream): ECP5 place-and-route of one layer, whole Set5 images
bit-exact through a whole top (CheckHarness, Verilator)."""

from __future__ import annotations

from pathlib import Path

import pytest
from amaranth.back import verilog

from rtl.stream.conv import ConvLayer, Port
from rtl.stream.example import random_graph
from rtl.stream.folding import choose_folding
from rtl.stream.synth import ecp5_fmax
from rtl.stream.verify import check_whole_images, set5_y


@pytest.mark.slow
def test_ecp5_place_and_route_of_one_layer(tmp_path: Path):
    g = random_graph(0, c=8)
    n = g.nodes[1]  # body: 3x3, 8 -> 8, folded as at 30 fps
    fold = choose_folding(g, fps=30, clock_mhz=150)["folds"]["body"]
    layer = ConvLayer(g.param(n, "W"), g.param(n, "B"), g.param(n, "M"), g.param(n, "SH"), n.attrs["out_lo"],
                      n.attrs["out_hi"], Port(8, 8, True), Port(8, 8, True), 640, 360, fold)
    (tmp_path / "layer.v").write_text(verilog.convert(layer, name="layer", emit_src=False, strip_internal_attrs=True))
    r = ecp5_fmax(tmp_path / "layer.v", "layer", tmp_path / "pnr", freq_mhz=150)
    assert r["min_fmax_mhz"] and r["min_fmax_mhz"] > 50, r
    assert r["device"] == "LFE5U-85F" and "--out-of-context" in r["commands"][1]
    assert "--timing-allow-fail" in r["commands"][1] and r["utilization"]["MULT18X18D"]["used"] > 0
    cp = r["critical_path"]  # where the slowest path runs, so a low figure says what to pipeline
    assert cp["delay_ns"] == pytest.approx(1000 / r["min_fmax_mhz"], rel=0.05) and cp["logic_cells"] >= 1


@pytest.mark.slow
def test_set5_images_bitexact_random_graph(tmp_path: Path):
    g = random_graph(0, c=4, input_skip=True)
    folds = choose_folding(g, fps=30, clock_mhz=150)["folds"]
    rows = check_whole_images(g, folds, set5_y(2), tmp_path)
    assert len(rows) == 5
    for s in rows:
        assert s["cocotb_pass"] and s["errors"] == 0 and s["flag_errors"] == 0 and s["checked"] == s["hr_pixels"]


def _shipped_realtime_int8():
    """Shipped INT8 checkpoints of 1-channel (Y) models with a golden graph beside them."""
    import json

    root = Path(__file__).resolve().parents[1] / "models"
    out = []
    for side in sorted(root.glob("*-int8.json")):
        d = json.loads(side.read_text())
        if int(d.get("channels", 3)) == 1 and d.get("golden") and (root / d["golden"]).is_dir():
            out.append(root / d["golden"])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("golden", _shipped_realtime_int8(), ids=lambda p: p.name)
def test_shipped_realtime_model_set5_bitexact_with_backpressure(golden, tmp_path: Path):
    from srhw.quant.graph import load_graph

    g = load_graph(golden)
    folds = choose_folding(g, fps=30, clock_mhz=150)["folds"]
    rows = check_whole_images(g, folds, set5_y(int(g.meta.get("scale", 2))), tmp_path)
    assert len(rows) == 5
    for s in rows:
        assert s["cocotb_pass"] and s["errors"] == 0 and s["flag_errors"] == 0 and s["checked"] == s["hr_pixels"]

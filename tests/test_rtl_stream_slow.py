"""Slow checks of the streaming RTL (rtl.stream): ECP5 place-and-route of one layer, whole Set5 images
bit-exact through a whole top (CheckHarness, Verilator), the full-rate cycles per frame at 640x360."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from amaranth.back import verilog
from PIL import Image

from srhw.eval.metrics import rgb2y
from rtl.bench import run_cocotb
from rtl.stream.compiler import plan_graph
from rtl.stream.conv import ConvLayer, Port
from rtl.stream.example import random_graph
from rtl.stream.folding import choose_folding
from rtl.stream.harness import CheckHarness
from rtl.stream.synth import ecp5_fmax
from rtl.stream.top import StreamTop
from rtl.stream.verify import golden_frames

SET5 = Path(__file__).resolve().parents[2] / "shared" / "data" / "Set5" / "LR_bicubic" / "X2"


def set5_y(name: str) -> np.ndarray:
    """(H, W, 1) uint8 MATLAB rgb2ycbcr Y of a Set5 x2 LR image."""
    img = np.asarray(Image.open(SET5 / f"{name}x2.png").convert("RGB"))
    return rgb2y(img).astype(np.uint8)[..., None]


def check_images(g, folds, images, tmp: Path, seed=1) -> list:
    out = []
    for k, im in enumerate(images):
        H, W, _ = im.shape
        plan = plan_graph(g, W, H, folds)
        exp = golden_frames(g, im[None])
        v = verilog.convert(CheckHarness(StreamTop(g, plan), im[None], exp, seed=seed + k), name="chk",
                            emit_src=False, strip_internal_attrs=True)
        (tmp / f"chk{k}.v").write_text(v)
        s = run_cocotb("verilator", tmp / f"chk{k}.v", "chk", "stream_check_tb", tmp / f"b{k}", {"EXPECTED_BEATS": exp.size})
        out.append(s)
    return out


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


@pytest.mark.slow
def test_set5_images_bitexact_random_graph(tmp_path: Path):
    g = random_graph(0, c=4, input_skip=True)
    folds = choose_folding(g, fps=30, clock_mhz=150)["folds"]
    imgs = [set5_y(n) for n in ("baby", "bird", "butterfly", "head", "woman")]
    for s in check_images(g, folds, imgs, tmp_path):
        assert s["cocotb_pass"] and s["errors"] == 0 and s["flag_errors"] == 0 and s["checked"] == s["expected"]

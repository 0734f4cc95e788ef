"""hls4ml C-simulation against the integer golden model, op by op coverage on small models."""

import numpy as np
import pytest
import torch

from srhw.core.errors import SrhwError
from srhw.export.hls import hls_config, run_csim
from srhw.export.qkeras import to_qkeras
from srhw.models import build, freeze_all
from srhw.quant import quantize

TINY = {"num_feat": 16, "num_group": 1, "num_block": 1}


def golden_graph(spec, seed=0):
    torch.manual_seed(seed)
    m = freeze_all(build(spec, 2, **TINY))
    return quantize(m, [torch.rand(2, 3, 12, 12) * 255]).export()


def test_lowering_sets_every_precision():
    """No layer is left to hls4ml's 'auto' precision (the silent QActivation bug of stack.md)."""
    g = golden_graph("st_bl(r=2c_out)")
    low = to_qkeras(g, 8, 8)
    cfg = hls_config(low, reuse={"head": 9})
    names = {l.name for l in low.model.layers}
    for layer in low.model.layers:
        if type(layer).__name__ in ("QConv2D", "QDepthwiseConv2D", "Add", "KChannelAttention", "ReLU"):
            prec = cfg["LayerName"][layer.name]["Precision"]
            assert "result" in prec and "auto" not in str(prec), layer.name
    assert cfg["LayerName"]["head_wb"]["ReuseFactor"] == 9 and cfg["LayerName"]["head_wb"]["Strategy"] == "Resource"
    # head W_b has 3*3*3 = 27 inputs: a reuse factor that does not divide it snaps down to one that does
    assert hls_config(low, reuse={"head": 4})["LayerName"]["head_wb"]["ReuseFactor"] == 3
    assert cfg["LayerName"]["head_a"]["Strategy"] == "Latency", "depthwise stays Latency (stack.md)"
    # requantization casts round half up and saturate, like the golden model
    assert cfg["LayerName"]["head_requant"]["Precision"]["result"].endswith(",AP_RND,AP_SAT>")
    assert {"head_wb", "head_a", "head_wc", "head_requant"} <= names


def test_relu6_clamp_is_refused():
    g = golden_graph("blm2(e=2)")
    with pytest.raises(SrhwError):
        to_qkeras(g, 8, 8)


@pytest.mark.slow  # ~50 s of g++; the fast suite C-simulates the shipped st_bl build and the CA clamps instead
def test_erum_bottleneck_csim_bit_exact(tmp_path):
    """blrn-e(r=2)[rb], tiny: convs, ReLU, residual adds, ERUM recursion + interleave, pixel shuffle, CA."""
    g = golden_graph("blrn-e(r=2)[rb]", seed=1)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.integers(0, 256, (2, 8, 8, 3), dtype=np.uint8),
                        np.zeros((1, 8, 8, 3), np.uint8), np.full((1, 8, 8, 3), 255, np.uint8)])
    r = run_csim(g, x, tmp_path)
    assert r["checked"] == 4 * 16 * 16 * 3
    assert r["mismatches"] == 0, f"{r['mismatches']} of {r['checked']} output values differ from the golden model"
    assert r["outputs"].min() >= 0 and r["outputs"].max() <= 255

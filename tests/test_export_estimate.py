"""Parts table and the analytic estimate (issue 5, step 1): hand-computed layers, folding, fit, roofline."""

import math

import pytest

from srhw.errors import SrhwError
from srhw.export import estimate as est
from srhw.export.parts import PARTS, get_part
from srhw.profile import count_ops


def test_parts_table_capacities():
    z = get_part("xc7z020")
    assert z.capacity() == {"lut": 53_200, "ff": 106_400, "dsp": 220, "bram": 140}  # hardware.md / DS190
    assert get_part("xczu9eg").capacity() == {"lut": 274_080, "ff": 548_160, "dsp": 2_520, "bram": 912}
    assert get_part("xc7z020clg400-1") is z, "package/speed suffix ignored"
    assert set(PARTS) == {"xc7z020", "xc7z045", "xczu3eg", "xczu9eg", "xcku040"}
    for p in PARTS.values():
        assert p.source and p.lut < p.ff and p.dsp > 0 and p.bram > 0


def test_unknown_part_lists_known_ones():
    with pytest.raises(SrhwError) as e:
        get_part("xc7a35t")
    msg = str(e.value)
    assert "\n" not in msg and all(name in msg for name in PARTS)
    with pytest.raises(SrhwError):
        get_part("xc7z0201")  # another number, not a suffix


def test_layers_sum_to_table5_counts():
    layers = est.model_layers("st_bl(r=2c_out)", 2)
    ops = count_ops("st_bl(r=2c_out)", 2)
    assert sum(l.mults_per_pixel * l.pixels for l in layers) == ops.mults
    assert sum(l.adds_per_pixel * l.pixels for l in layers) == ops.adds


def test_hand_computed_sp_layer():
    """A 3x3 64->64 SP conv with r = 128 at 640x360: 128 mults, 128*575 + 64*127 adds per pixel."""
    layers = {l.name: l for l in est.model_layers("st_bl(r=2c_out)", 2)}
    l = layers["body.0.body.0.body.0"]
    assert (l.kind, l.r, l.mults_per_pixel, l.adds_per_pixel) == ("sp", 128, 128, 128 * 575 + 64 * 127)
    assert l.pixels == 640 * 360 and l.adder_bits == 8 + math.ceil(math.log2(576)) + 1
    c = est._block_cost(l, 4)
    assert c.dsp == 32 and c.lut == math.ceil(l.adds_per_pixel / 4) * l.adder_bits + est.PER_LAYER_LUT
    assert c.bram == math.ceil(2 * 640 * 64 * 8 / est.BRAM_BITS) + math.ceil(l.weight_bits / est.BRAM_BITS)
    assert est._block_cost(l, 1).bram == math.ceil(2 * 640 * 64 * 8 / est.BRAM_BITS), "R=1 ternary is hard-wired"


def test_set_folding_meets_budget_and_block_limit():
    part = get_part("xczu9eg")
    layers = est.model_layers("st_bl(r=2c_out)", 2)
    costs, fits = est.SetFolding(part).apply(layers)
    assert fits, "st_bl x2 dataflow should fold into a ZU9EG"
    tot = est._totals(costs)
    assert tot["lut"] <= est.LUT_BUDGET * part.lut and tot["dsp"] <= part.dsp and tot["bram"] <= est.BRAM_BUDGET * part.bram
    for l, c in zip(layers, costs):
        assert math.ceil(l.mults_per_pixel / c.reuse_factor) <= est.MAX_BLOCK_MULTS, "unrolled block over 4096 mults"
        assert math.ceil(l.lut_adds_per_pixel / c.reuse_factor) <= est.MAX_BLOCK_MULTS
    # the slowest block sets the pace; folding balances: no block is much faster than needed by more than 25 %
    slow = max(c.cycles_per_frame for c in costs)
    assert all(c.cycles_per_frame <= slow for c in costs)


def test_st_bl_on_7020_falls_back_to_layer_sequential():
    e = est.estimate("st_bl(r=2c_out)", 2, get_part("xc7z020"), clock_mhz=150)
    assert e["architecture"] == "layer-sequential" and e["fits"]
    assert not e["alternative"]["fits"] and e["alternative"]["totals"]["bram"] > 140, "full-frame dataflow cannot fit (hardware.md)"
    t = e["chosen"]["totals"]
    assert t["lut"] <= 53_200 and t["dsp"] <= 220 and t["bram"] <= 140
    r = e["roofline"]
    assert 0 < e["fps_720p"] <= r["fps"] * (1 + 1e-9), "an estimate cannot beat its roofline"
    assert r["bound"] == "lut adds" and r["assumptions"]["clock_mhz"] == 150
    # roofline by hand: dense adds / (lanes x f)
    lanes = int(0.85 * 53_200) // r["assumptions"]["luts_per_adder"]
    assert r["compute_time_s"] == pytest.approx(r["lut_adds_per_frame"] / (lanes * 150e6))
    assert all(x["source"] == "analytic" for x in e["chosen"]["layers"])
    assert len(e["ca_buffer"]) == 10 and e["ca_buffer"][0]["bytes"] == 360 * 640 * 64


def test_impossible_fit_is_one_line_error(monkeypatch):
    monkeypatch.setattr(est, "BRAM_BUDGET", 0.01)  # nothing with a line buffer fits
    with pytest.raises(SrhwError) as e:
        est.estimate("bl", 2, get_part("xc7z020"))
    assert "does not fit xc7z020" in str(e.value) and "\n" not in str(e.value)

"""The model zoo: every spec of the study builds, runs, and has the paper's structure."""

import itertools

import pytest
import torch

from srhw.core.errors import SrhwError
from srhw.models import SCALES, SumProductConv2d, build, canonical, list_models, resolve

UNIT_MODELS = [m for m in list_models() if resolve(m).variant.unit]
RGB_MODELS = {m for m in list_models() if resolve(m).variant.channels == 3}  # the Y networks: test_realtime_models.py


def all_specs():
    specs = ["bl", "bl-e"] + [f"st_bl(r={r})" for r in ("c_out", "2c_out", "4c_out", "6c_out")]
    for name in UNIT_MODELS:
        specs += [f"{name}[rb]", f"{name}[rg]", f"{name}-e[rb]", f"{name}-e[rg]", f"{name}-e[rg+u]"]
    return specs


@pytest.mark.parametrize("spec,scale", list(itertools.product(all_specs(), SCALES)))
def test_forward_shape(spec, scale):
    torch.manual_seed(0)
    model = build(spec, scale).eval()
    x = torch.rand(1, 3, 7, 9) * 255
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 3, 7 * scale, 9 * scale), f"{spec} x{scale} gave {tuple(y.shape)}"
    assert torch.isfinite(y).all()


def test_every_registered_variant_is_covered():
    covered = {resolve(s).variant.name for s in all_specs()}
    assert covered == RGB_MODELS


@pytest.mark.parametrize("text,expected", [
    ("blrn ( r = 2 )", "blrn(r=2)"),
    ("blrn(2)", "blrn(r=2)"),
    ("blrn", "blrn(r=2)"),
    ("blrxn(r=2,g=4)", "blrxn(r=2, g=4)"),
    ("blrn(r=2)[rg]", "blrn(r=2)"),  # Table 1's setting is [rg]
    ("blrn-e(r=2)", "blrn-e(r=2)[rg]"),
    ("blm1 - e [rg+u]".replace(" ", ""), "blm1-e[rg+u]"),
    ("st_bl(r=2c_out)", "st_bl(r=2c_out)"),
    ("st_bl(r=c_out,g=1)", "st_bl(r=c_out)"),
    ("st_bl(r=4c_out,g=4)", "st_bl(r=4c_out, g=4)"),
])
def test_canonical_names(text, expected):
    assert canonical(text) == expected


@pytest.mark.parametrize("bad", [
    "blrn(r=0)", "blm1[xx]", "blrn(r=3)", "blrn(q=2)", "blrn(r=2,r=2)", "blrn(2,3)", "nope", "bl[rb]",
    "bl-e[rg]", "blrn(r=2)[rg+u]", "st_bl(r=7x)", "st_bl(r=0c_out)", "st_bl-e", "st_bl[rb]", "blrn((r=2)",
    "blrxn(r=2,g=3)", "", "blm2(e=-1)",
])
def test_bad_specs_raise_one_clear_error(bad):
    with pytest.raises(SrhwError):
        build(bad, 2)


@pytest.mark.parametrize("scale", [1, 5, 8, "2"])
def test_unsupported_scale(scale):
    with pytest.raises(SrhwError, match="scale"):
        build("bl", scale)


def test_placement_counts_replaced_convs():
    """[rb] replaces 20 convs, [rg] 23, [rg+u] 23 + the ERUM convs (4 / 6 / 8 at x2 / x3 / x4)."""
    def n_units(model):
        from srhw.models.units import DepthwiseSeparable
        return sum(isinstance(m, DepthwiseSeparable) for m in model.modules())
    assert n_units(build("blm1[rb]", 2)) == 20
    assert n_units(build("blm1", 2)) == 23
    for scale, extra in ((2, 4), (3, 6), (4, 8)):
        assert n_units(build("blm1-e[rg+u]", scale)) == 23 + extra


def test_erum_recursion_shares_weights():
    """ERUM x3 has 3 RMs (6 convs) whose outputs are 9 recursions: sub-pixel x2 and ERUM x2 have equal params."""
    def params(m):
        return sum(p.numel() for p in m.upsample.parameters())
    assert params(build("bl-e", 2)) == params(build("bl", 2)) == 147_712
    assert params(build("bl-e", 3)) == 3 * 2 * 36_928


def test_st_bl_replaces_every_conv_but_ca_and_meanshift():
    model = build("st_bl(r=2c_out)", 2)
    sp = [m for m in model.modules() if isinstance(m, SumProductConv2d)]
    assert len(sp) == 1 + 20 + 2 + 1 + 1 + 1  # head, RCABs, RG tails, trunk tail, sub-pixel, tail
    assert all(m.r == 2 * m.out_ch for m in sp)
    plain = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert all("attention" in n or "mean" in n for n in plain), plain


def test_sum_product_ternary_mode_holds_scaled_ternary_weights():
    torch.manual_seed(1)
    layer = SumProductConv2d(8, 4, 3, r=8)
    layer.mode = "ternary"
    wb, wc = layer.effective_weights()
    cb, ab, cc, ac = layer.ternary()
    for w, codes, alpha in ((wb, cb, ab), (wc, cc, ac)):
        assert set(codes.unique().tolist()) <= {-1.0, 0.0, 1.0}
        assert torch.equal(w, alpha * codes), "effective weight must be exactly scale x {-1, 0, +1}"
        per_row = w.flatten(1) if alpha.numel() > 1 else w.flatten().unsqueeze(0)
        for row in per_row:
            assert len(set(row.abs().unique().tolist()) - {0.0}) <= 1
    # the straight-through estimator passes gradients to the full-precision weights
    layer(torch.randn(2, 8, 5, 5)).sum().backward()
    assert layer.weight_b.grad is not None and layer.weight_b.grad.abs().sum() > 0


def test_sum_product_folded_form_matches_forward():
    """y = W_c (a' (.) (W_b * x)) + bias with integer codes and r folded scales equals the ternary forward."""
    torch.manual_seed(2)
    layer = SumProductConv2d(6, 4, 3, r=8)
    layer.mode = "ternary"
    x = torch.randn(1, 6, 5, 5, dtype=torch.float64)
    layer = layer.double()
    cb, a, cc, bias = layer.folded()
    assert a.shape == (8,)
    h = torch.nn.functional.conv2d(x, cb.double(), padding=1) * a.view(1, -1, 1, 1)
    y = torch.nn.functional.conv2d(h, cc.double(), bias)
    torch.testing.assert_close(y, layer(x))


def test_freeze_fixes_codes():
    torch.manual_seed(3)
    layer = SumProductConv2d(4, 4, 3, r=4)
    layer.freeze()
    before = layer.frozen_b.clone()
    with torch.no_grad():
        layer.weight_b.mul_(-1)  # would flip every code if they were recomputed
    assert torch.equal(layer.ternary()[0].to(torch.int8), before)


def test_sum_product_state_survives_a_state_dict_round_trip():
    torch.manual_seed(4)
    a = SumProductConv2d(4, 4, 3, r=8)
    a.freeze()
    b = SumProductConv2d(4, 4, 3, r=8)
    b.load_state_dict(a.state_dict())
    assert b.frozen and b.mode == "ternary"
    x = torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(a(x), b(x))
    with pytest.raises(ValueError):
        b.mode = "full"

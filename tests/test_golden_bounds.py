"""Accumulator widths: declared worst cases are never exceeded (extreme images) and are reached (tight)."""

import numpy as np
import pytest
import torch

from srhw.models import build
from srhw.quant import Golden, quantize
from srhw.quant.fixedpoint import multiplier, rshift_round, round_div, sigmoid_lut, signed_bits
from srhw.quant.golden import AccumulatorOverflow

TINY = dict(num_feat=16, num_group=1, num_block=2)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# --- fixed-point primitives -----------------------------------------------------------------------------

def test_rshift_round_is_round_half_up():
    v = np.array([5, 6, 7, -5, -6, -7, 3, -3])  # /2 -> 2.5 3 3.5 -2.5 -3 -3.5 ; /4 -> 0.75 -0.75
    sh = np.array([1, 1, 1, 1, 1, 1, 2, 2])
    assert rshift_round(v, sh).tolist() == [3, 3, 4, -2, -3, -3, 1, -1]
    assert rshift_round(np.array([-7]), 0).tolist() == [-7]


def test_multiplier_exact_for_powers_of_two_and_close_otherwise():
    assert multiplier(0.25) == (1, 2) and multiplier(4.0) == (4, 0)
    for r in (0.0123, 0.77, 1.9, 3e-5):
        m, sh = multiplier(r)
        assert 2 ** 14 <= m < 2 ** 15 and abs(m / 2 ** sh - r) <= r * 2 ** -14


def test_round_div_and_lut():
    assert round_div(np.array([5, 6, 7, -5, -6, -7]), 4).tolist() == [1, 2, 2, -1, -1, -2]  # 1.25 1.5 1.75 ...
    lut = sigmoid_lut(2 ** -4, 8)
    assert lut.shape == (256,) and lut[128] == 128 and lut[0] == 0 and lut[-1] == 256  # z = -8, 0, +7.94
    assert np.all(np.diff(lut) >= 0)
    assert signed_bits(-128, 127) == 8 and signed_bits(0, 128) == 9 and signed_bits(-129, 0) == 9


# --- bounds on whole networks ---------------------------------------------------------------------------

def extreme_images(graph, h=12, w=12):
    """All 0, all 255, checkerboards, and the sign pattern of the first real conv's strongest channel."""
    yy, xx = np.mgrid[:h, :w]
    board = ((yy + xx) % 2 * 255).astype(np.uint8)
    imgs = [np.zeros((3, h, w), np.uint8), np.full((3, h, w), 255, np.uint8),
            np.stack([board] * 3), np.stack([255 - board, board, 255 - board])]
    head = next(n for n in graph.nodes if n.op in ("conv", "sp_conv") and not n.attrs.get("meanshift"))
    wgt = graph.param(head, "W" if head.op == "conv" else "WB").astype(np.int64)
    c = int(np.abs(wgt).reshape(len(wgt), -1).sum(1).argmax())
    for sign in (1, -1):
        pat = np.where(sign * wgt[c] > 0, 255, 0).astype(np.uint8)  # (3, k, k) maximises (min) channel c
        imgs.append(np.tile(pat, (1, h // pat.shape[1] + 1, w // pat.shape[2] + 1))[:, :h, :w])
    return np.stack(imgs)


@pytest.mark.parametrize("spec", ["bl", "blm2(e=2)", "bls2", "blrn-e(r=2)[rg+u]", "st_bl(r=2c_out)"])
def test_extreme_inputs_stay_within_declared_widths(spec):
    torch.manual_seed(0)
    model = build(spec, 2, **TINY)
    qnet = quantize(model, [torch.rand(2, 3, 16, 16) * 255])
    graph = qnet.export()
    golden = Golden(graph, check=True)  # raises AccumulatorOverflow on any excursion
    golden(extreme_images(graph))
    for name, seen in golden.observed.items():
        node = next(n for n in graph.nodes if n.name == name)
        for key, (lo, hi) in seen.items():
            assert node.attrs[f"{key}_lo"] <= lo and hi <= node.attrs[f"{key}_hi"], f"{name}.{key}"
            assert -(1 << (node.attrs[f"{key}_bits"] - 1)) <= lo and hi < 1 << (node.attrs[f"{key}_bits"] - 1)


@pytest.mark.parametrize("spec", ["bl", "blclc(g1=8, g2=2)", "bleff(r=2)", "st_bl(r=c_out, g=4)"])
def test_declared_bounds_are_reached(spec):
    """Feeding each dot-product node the adversarial sign pattern of its strongest channel hits acc_hi exactly."""
    torch.manual_seed(0)
    qnet = quantize(build(spec, 2, **TINY), [torch.rand(2, 3, 16, 16) * 255])
    graph = qnet.export()
    checked = 0
    for n in graph.nodes:
        if n.op not in ("conv", "sp_conv"):
            continue
        key, wname = ("acc", "W") if n.op == "conv" else ("accb", "WB")
        w = graph.param(n, wname).astype(np.int64)
        bias = graph.param(n, "B") if n.op == "conv" else np.zeros(len(w), np.int64)
        x_spec = graph.tensors[n.inputs[0]]
        co, cig, kh, kw = w.shape
        his = [np.maximum(w[c] * x_spec.lo, w[c] * x_spec.hi).sum() + bias[c] for c in range(co)]
        c = int(np.argmax(his))
        groups = n.attrs["groups"]
        g = c // (co // groups)
        x = np.zeros((1, cig * groups, kh, kw), np.int64)
        x[0, g * cig:(g + 1) * cig] = np.where(w[c] > 0, x_spec.hi, x_spec.lo)
        golden = Golden(graph, check=True)
        golden.run_node(n, [x])
        assert golden.observed[n.name][key][1] == n.attrs[f"{key}_hi"] == his[c], n.name
        checked += 1
    assert checked >= 5


def test_overflow_is_detected():
    torch.manual_seed(0)
    graph = quantize(build("bl", 2, **TINY), [torch.rand(1, 3, 16, 16) * 255]).export()
    node = next(n for n in graph.nodes if n.op == "conv" and not n.attrs.get("meanshift"))
    node.attrs["acc_hi"] = 0  # pretend the accumulator cannot hold a positive value
    with pytest.raises(AccumulatorOverflow, match=node.name):
        Golden(graph, check=True)(np.full((1, 3, 8, 8), 255, np.uint8))

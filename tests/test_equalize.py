"""Cross-layer equalization (srhw.quant.equalize): the float network is unchanged, the channel spread of each
equalized activation shrinks, and only homogeneous conv -> ReLU -> conv pairs are touched."""

import copy

import pytest
import torch

from srhw.core.errors import SrhwError
from srhw.models import build
from srhw.quant.calibrate import collect_ranges
from srhw.quant.equalize import equalizable_pairs, equalize
from srhw.quant.trace import trace

pytestmark = pytest.mark.usefixtures("one_thread")


def _deployed(spec, seed=0):
    torch.manual_seed(seed)
    net = build(spec, 2).deploy().eval()
    with torch.no_grad():  # spread the channels' ranges, as trained networks have them
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(torch.logspace(-1, 1, m.out_channels).view(-1, 1, 1, 1))
    return net


def _batches(seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (2, 1, 16, 16), generator=g).float() for _ in range(2)]


@pytest.mark.parametrize("spec", ["fsrcnn(d=8,s=3,m=2)", "espcn(c1=8,c2=6)", "sesr(f=4,m=2,p=8)"])
def test_equalize_keeps_the_function_and_narrows_the_spread(spec):
    net = _deployed(spec)
    ref = copy.deepcopy(net)
    batches = _batches()
    pairs = equalizable_pairs(trace(net))
    records = equalize(net, batches, 1.0)
    assert [(r["a"], r["b"]) for r in records] == pairs
    if spec.startswith("fsrcnn"):
        assert len(pairs) == 5  # every conv of the chain but the tail feeds the next through a ReLU
    x = torch.randint(0, 256, (1, 1, 20, 24)).float()
    with torch.no_grad():
        assert torch.allclose(net(x), ref(x), rtol=1e-5, atol=1e-3)
    for r in records:  # alpha 1: every live channel gets the largest range
        assert r["spread_before"] > 1.5 and r["spread_after"] == pytest.approx(1.0, rel=1e-6)
    ranges = collect_ranges(trace(net), net, batches)
    assert all(v > 0 for v in ranges.values())


def test_half_strength_splits_the_spread_and_zero_is_a_no_op():
    net = _deployed("fsrcnn(d=8,s=3,m=2)")
    before = [p.clone() for p in net.parameters()]
    assert equalize(net, _batches(), 0.0) == []
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    for r in equalize(net, _batches(), 0.5):
        assert r["spread_after"] == pytest.approx(r["spread_before"] ** 0.5, rel=1e-6)
    with pytest.raises(SrhwError, match="outside"):
        equalize(net, _batches(), 1.5)


def test_relu6_and_shared_modules_are_left_alone():
    from srhw.quant.trace import FloatGraph, FNode

    g = FloatGraph([FNode("input", "input"),
                    FNode("a", "conv", ["input"], "a", {"act": "relu6", "groups": 1}),
                    FNode("b", "conv", ["a"], "b", {"act": "relu", "groups": 1}),
                    FNode("c", "conv", ["b"], "c", {"groups": 1}),
                    FNode("d", "conv", ["c"], "c", {"groups": 1})], "d")
    assert equalizable_pairs(g) == []  # a: ReLU6; b feeds c, which runs twice (shared weights)

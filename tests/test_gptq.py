"""GPTQ rounding (srhw.quant.gptq): it compensates each rounding error on the taps not yet rounded, lowers the
output error below nearest rounding on the calibration inputs, keeps every weight an int8 code, and the
network it leaves stays integer-exact with its golden export."""

import copy

import numpy as np
import pytest
import torch

from srhw.models import build
from srhw.quant import Golden, QuantConfig, quantize
from srhw.quant.fakequant import QuantNet
from srhw.quant.gptq import gptq, round_columns
from srhw.quant.trace import run_float

pytestmark = pytest.mark.usefixtures("one_thread")
F64 = torch.float64


def test_uncorrelated_inputs_round_to_nearest():
    w = torch.tensor([[0.26, -0.74, 0.49], [1.1, 0.0, -0.31]], dtype=F64)
    scale = torch.tensor([0.5, 0.2], dtype=F64)
    q = round_columns(w, scale, torch.eye(3, dtype=F64), 127, 0.01)
    assert torch.equal(q, (w / scale[:, None]).round() * scale[:, None])


def test_correlated_inputs_carry_the_error_to_the_next_tap():
    # two taps that always see the same value: only their sum matters, and GPTQ keeps it
    w = torch.tensor([[0.3, 0.3]], dtype=F64)
    h = torch.ones(2, 2, dtype=F64)
    q = round_columns(w, torch.tensor([1.0], dtype=F64), h, 127, 1e-6)
    assert torch.equal(q, torch.tensor([[0.0, 1.0]], dtype=F64))  # nearest gives 0 + 0, losing 0.6 of 0.6
    assert torch.equal(round_columns(torch.tensor([[90.0, 90.0]], dtype=F64), torch.tensor([1.0], dtype=F64), h, 127, 1e-6),
                       torch.tensor([[90.0, 90.0]], dtype=F64))


def _output_error(qnet: QuantNet, ref, batches):
    err = 0.0
    for x in batches:
        with torch.no_grad():
            want = run_float(qnet.graph, ref, x).double().clamp(0, 255)
            err += float(((qnet(x) - want) ** 2).sum())
    return err


def test_gptq_lowers_the_output_error_and_keeps_int8_codes(small_fsrcnn):
    net, batches = small_fsrcnn(0, 3)
    ref = copy.deepcopy(net)
    cfg = QuantConfig(pow2_scales=False, calib_batches=2)
    nearest = quantize(copy.deepcopy(net), batches[:2], cfg)
    qnet = quantize(net, batches[:2], cfg)
    records = gptq(qnet, batches[:2])
    assert [r["node"] for r in records] == [n.name for n in qnet.graph.nodes if n.op == "conv"]
    assert all(r["error_gptq"] < r["error_nearest"] for r in records), records
    for path, sw in qnet.wscale.items():
        codes = qnet.model.get_submodule(path).weight.detach().double() / sw.view(-1, 1, 1, 1)
        assert torch.allclose(codes, codes.round(), atol=1e-3) and codes.round().abs().max() <= 127
    # on the calibration batches and on one it never saw, the integer output is closer to the float one
    assert _output_error(qnet, ref, batches[:2]) < 0.8 * _output_error(nearest, ref, batches[:2])
    assert _output_error(qnet, ref, batches[2:]) < _output_error(nearest, ref, batches[2:])


def test_gptq_network_stays_golden_exact(small_fsrcnn):
    net, batches = small_fsrcnn(3, 3)
    qnet = quantize(net, batches, QuantConfig(calib_batches=2))
    gptq(qnet, batches)
    x = np.random.default_rng(0).integers(0, 256, (2, 1, 18, 22), dtype=np.uint8)
    with torch.no_grad():
        assert np.array_equal(qnet(torch.from_numpy(x).float()).numpy(), Golden(qnet.export())(x))


@pytest.mark.parametrize("spec", ["bls1(r=2, g=4)", "blm1-e[rg+u]"])
def test_gptq_on_grouped_convs_and_a_shared_recursion(spec):
    """Grouped convs are rounded group by group; ERUM's recursion runs one module several times (rounded once)."""
    torch.manual_seed(0)
    net = build(spec, 2, num_feat=16, num_group=1, num_block=2).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.nn.functional.interpolate(torch.randint(0, 256, (4, 3, 5, 5), generator=g).float(), size=16,
                                        mode="bilinear", align_corners=False)
    ref = copy.deepcopy(net)
    nearest = quantize(copy.deepcopy(net), [x])
    qnet = quantize(net, [x])
    records = gptq(qnet, [x])
    convs = [n for n in qnet.graph.nodes if n.op == "conv" and not n.attrs.get("meanshift")]
    modules = {n.module for n in convs}
    assert any(n.attrs["groups"] > 1 for n in convs) if spec.startswith("bls1") else len(modules) < len(convs)
    assert len(records) == len(modules) and all(r["error_gptq"] < r["error_nearest"] for r in records)
    assert _output_error(qnet, ref, [x]) < _output_error(nearest, ref, [x])

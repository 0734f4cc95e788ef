"""Empirical bias correction (srhw.quant.bias_correct): it removes the mean per-channel error that int8
weights put on each conv's output, and the corrected network stays integer-exact with its golden export."""

import copy

import numpy as np
import pytest
import torch

from srhw.quant import Golden, QuantConfig, quantize
from srhw.quant.bias_correct import correct_biases
from srhw.quant.fakequant import out_range
from srhw.quant.trace import run_float

pytestmark = pytest.mark.usefixtures("one_thread")


def _means(run, name, batches):
    out = []
    for x in batches:
        run(x, lambda n, t: out.append(t.double()) if n == name else None)
    return torch.cat(out).mean((0, 2, 3))


def test_bias_correction_removes_the_mean_error_of_every_conv(small_fsrcnn):
    net, batches = small_fsrcnn(0)
    ref = copy.deepcopy(net)  # the float network before correction (correct_biases edits qnet's own float weights)
    qnet = quantize(net, batches, QuantConfig(pow2_scales=False, calib_batches=2))
    convs = [n.name for n in qnet.graph.nodes if n.op == "conv"]
    graph = qnet.graph

    def error(name):  # per-channel mean of the dequantized integer output minus the float one, clamped alike
        spec = qnet.specs[name]
        lo, hi = out_range(spec, graph.node(name).attrs.get("act"))
        want = _means(lambda x, obs: run_float(graph, ref, x, lambda n, t: obs(n, t.clamp(lo * spec.scale, hi * spec.scale))),
                      name, batches)
        return (_means(qnet, name, batches) * spec.scale - want).abs().max().item()

    before = {n: error(n) for n in convs}
    records = correct_biases(qnet, batches)
    assert [r["node"] for r in records] == convs
    after = {n: error(n) for n in convs}
    assert before[convs[-1]] > 0.05  # the tail's output carried a measurable DC error ...
    assert after[convs[-1]] < 0.25 * before[convs[-1]]  # ... which the correction removes (the bias's rounding remains)
    assert sum(after.values()) < 0.5 * sum(before.values())


def test_corrected_network_stays_golden_exact(small_fsrcnn):
    net, batches = small_fsrcnn(3)
    qnet = quantize(net, batches, QuantConfig(calib_batches=2))
    correct_biases(qnet, batches)
    x = np.random.default_rng(0).integers(0, 256, (2, 1, 18, 22), dtype=np.uint8)  # NCHW, as the golden model takes
    with torch.no_grad():
        assert np.array_equal(qnet(torch.from_numpy(x).float()).numpy(), Golden(qnet.export())(x))

"""Empirical bias correction after calibration (Nagel et al., "Data-Free Quantization through Weight
Equalization and Bias Correction", ICCV 2019, section 4.2, its empirical variant).

Rounding a conv's weights to int8 shifts the mean of its output, E[(W_q - W) x] != 0, because x is not
zero-mean (after a ReLU, or an image). For a network without a global skip such as FSRCNN that shift lands
on the output pixels: a few grey levels of DC error per sub-pixel phase. QAT cannot undo it in its budget:
Adam moves a bias by at most about lr per step, so 300 steps at lr 5e-5 move a bias in pixel units by
0.015. Here each conv's float bias is shifted by the mean per-channel difference between the integer
network's output (dequantized) and the float network's on the calibration batches, conv by conv in graph
order, so each conv is corrected for the error its (corrected) predecessors pass on. The float reference is
clamped to the integer tensor's range first (both saturate alike; only rounding is corrected); for a conv
with a fused ReLU the post-activation difference is what is measured and corrected (a clamped channel's mean
moves less than its bias, so the correction is partial there).
"""

import torch

from srhw.quant.fakequant import QuantNet, out_range
from srhw.quant.trace import run_float


def _channel_means(run, names, batches) -> dict:
    """Per-channel mean of every tensor in `names` over `batches`, as `run(x, observe)` produces them."""
    sums, count = {}, {}

    def observe(name, t):
        if name in names:
            sums[name] = sums.get(name, 0) + t.double().sum((0, 2, 3))
            count[name] = count.get(name, 0) + t.shape[0] * t.shape[2] * t.shape[3]

    for x in batches:
        run(x.float(), observe)
    return {k: sums[k] / count[k] for k in sums}


@torch.no_grad()
def correct_biases(qnet: QuantNet, batches) -> list[dict]:
    """Shift the float biases of `qnet`'s convs (qnet.model's, which QAT then trains) so that each conv's mean
    output per channel matches the float network's on `batches`. Returns one record per corrected conv."""
    graph, model = qnet.graph, qnet.model
    convs, seen = [], set()
    for n in graph.nodes:
        if n.op == "conv" and not n.attrs.get("meanshift") and n.module not in seen:
            if model.get_submodule(n.module).bias is not None:
                convs.append(n)
            seen.add(n.module)  # a module run several times (ERUM's recursion) is corrected once, at its first run
    if not convs:
        return []
    # the float reference clamped to the integer tensor's range: the correction is for rounding, not for the
    # saturation both networks share (an output image clamped at 0 and 255)
    bounds = {}
    for n in convs:
        spec = qnet.specs[n.name]
        lo, hi = out_range(spec, n.attrs.get("act"))
        bounds[n.name] = (lo * spec.scale, hi * spec.scale)

    def clamped(x, observe):
        run_float(graph, model, x, lambda name, t: observe(name, t.clamp(*bounds[name])) if name in bounds else None)

    target = _channel_means(clamped, set(bounds), batches)
    out = []
    for n in convs:
        scale = qnet.specs[n.name].scale
        got = _channel_means(qnet, {n.name}, batches)[n.name] * scale
        shift = got - target[n.name]
        bias = model.get_submodule(n.module).bias
        bias.sub_(shift.to(bias.dtype))
        out.append({"node": n.name, "max_abs_shift": float(shift.abs().max())})
    return out

"""Cross-layer equalization of conv -> ReLU -> conv pairs before calibration (after Nagel et al., "Data-Free
Quantization through Weight Equalization and Bias Correction", ICCV 2019, section 4.1).

ReLU is positively homogeneous, relu(x / s) = relu(x) / s for s > 0: dividing output channel c of conv A
(weights and bias) by s_c and multiplying input channel c of the next conv B by s_c leaves the float network
unchanged. An int8 activation tensor has one scale for all its channels, so a channel whose range is a tenth
of the largest keeps only ~25 of 255 levels; equalizing first gives it more. Nagel et al. balance the two
convs' weight ranges; here the spread moved is that of the calibrated activation ranges r_c of A's output:
s_c = (r_c / max r)^alpha. alpha = 0 changes nothing, 1 gives every channel the largest range (B's
per-output-channel int8 weights absorb the whole spread), 0.5 splits it between the two.
"""

import torch
from torch import nn

from srhw.core.errors import SrhwError
from srhw.quant.trace import FloatGraph, run_float, trace


def equalizable_pairs(graph: FloatGraph) -> list[tuple[str, str]]:
    """(A, B) module paths: conv A with a fused ReLU (not ReLU6: its clamp is not homogeneous) whose output
    feeds only conv B (groups 1), each module run once (not ERUM's shared recursion)."""
    runs = {}
    for n in graph.nodes:
        if n.module is not None:
            runs[n.module] = runs.get(n.module, 0) + 1
    pairs = []
    for a in graph.nodes:
        if a.op != "conv" or a.attrs.get("act") != "relu" or a.attrs.get("meanshift") or runs.get(a.module) != 1:
            continue
        users = graph.users(a.name)
        if a.name == graph.output or len(users) != 1:
            continue
        b = users[0]
        if b.op == "conv" and b.attrs.get("groups", 1) == 1 and runs.get(b.module) == 1 and not b.attrs.get("meanshift"):
            pairs.append((a.module, b.module))
    return pairs


@torch.no_grad()
def equalize(model: nn.Module, batches, alpha: float) -> list[dict]:
    """Equalize `model` in place on calibration `batches`; returns one record per pair (names, range spread
    before/after). The float function is unchanged up to rounding."""
    if not 0.0 <= alpha <= 1.0:
        raise SrhwError(f"equalization strength {alpha} is outside [0, 1]")
    if alpha == 0.0:
        return []
    model.eval()
    graph = trace(model)
    records = []
    for mod_a, mod_b in equalizable_pairs(graph):
        conv_a, conv_b = model.get_submodule(mod_a), model.get_submodule(mod_b)
        name_a = next(n.name for n in graph.nodes if n.module == mod_a)
        r = torch.zeros(conv_a.out_channels, dtype=torch.float64)

        def observe(name, t, r=r, name_a=name_a):
            if name == name_a:
                r.copy_(torch.maximum(r, t.detach().double().clamp(min=0).amax(dim=(0, 2, 3))))

        for x in batches:  # ranges after the previous pairs' rescaling
            run_float(graph, model, x.float(), observe)
        live = r > 0
        if not bool(live.any()):
            continue
        s = torch.ones_like(r)
        s[live] = (r[live] / r.max()) ** alpha  # dead channels (always 0) keep s = 1
        conv_a.weight.div_(s.view(-1, 1, 1, 1).to(conv_a.weight.dtype))
        if conv_a.bias is not None:
            conv_a.bias.div_(s.to(conv_a.bias.dtype))
        conv_b.weight.mul_(s.view(1, -1, 1, 1).to(conv_b.weight.dtype))
        spread = lambda v: float(v[live].max() / v[live].min())  # noqa: E731
        records.append({"a": mod_a, "b": mod_b, "spread_before": spread(r), "spread_after": spread(r / s)})
    return records

"""Post-training quantization: trace, calibrate, and wrap a float zoo model as a QuantNet.

Jacob et al. 2017 / TFLite's scheme as section 5.1 of the paper applies it: per-channel int8 weights,
int8 activations with ranges calibrated on training images, int32 biases, wide accumulators.
"""

import torch

from srhw.quant.calibrate import choose_specs, collect_ranges
from srhw.quant.config import QuantConfig
from srhw.quant.fakequant import QuantNet
from srhw.quant.trace import trace


def quantize(model: torch.nn.Module, batches, cfg: QuantConfig | None = None) -> QuantNet:
    """QuantNet of `model` calibrated on `batches` (iterable of float LR tensors (B, 3, h, w) in [0, 255])."""
    cfg = cfg or QuantConfig()
    model.eval()
    graph = trace(model)
    ranges = collect_ranges(graph, model, batches)
    return QuantNet(model, graph, choose_specs(graph, ranges, cfg), cfg)

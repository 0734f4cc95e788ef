"""Quantization of the study's models (paper section 5) and their integer golden model.

    trace      zoo model -> flat op list          calibrate  ranges -> TensorSpecs (fixed point)
    fakequant  QuantNet: torch, integer-exact, trainable (QAT)   golden  numpy int64 executor of an IntGraph
    graph      IntGraph + JSON/npz serialisation                 bounds  worst-case accumulator widths
"""

from srhw.quant.config import QuantConfig
from srhw.quant.golden import Golden, run_golden
from srhw.quant.graph import IntGraph, TensorSpec, load_graph


def quantize(model, batches, cfg=None):
    """srhw.quant.ptq.quantize, imported when first called: the graph, golden model and fixed-point helpers of
    this package need numpy only, and the RTL backend imports them without torch."""
    from srhw.quant.ptq import quantize as ptq

    return ptq(model, batches, cfg)


__all__ = ["QuantConfig", "Golden", "run_golden", "IntGraph", "TensorSpec", "load_graph", "quantize"]

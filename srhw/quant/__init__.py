"""Quantization of the study's models (paper section 5) and their integer golden model.

    trace      zoo model -> flat op list          calibrate  ranges -> TensorSpecs (fixed point)
    fakequant  QuantNet: torch, integer-exact, trainable (QAT)   golden  numpy int64 executor of an IntGraph
    graph      IntGraph + JSON/npz serialisation                 bounds  worst-case accumulator widths
"""

from srhw.quant.config import QuantConfig
from srhw.quant.golden import Golden, run_golden
from srhw.quant.graph import IntGraph, TensorSpec, load_graph
from srhw.quant.ptq import quantize

__all__ = ["QuantConfig", "Golden", "run_golden", "IntGraph", "TensorSpec", "load_graph", "quantize"]

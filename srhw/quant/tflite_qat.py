"""Quantization-aware retraining in TFLite's integer scheme, for the `.tflite` export (paper section 5.1).

"We ... apply the quantization scheme in Tensorflow-Lite for integer-only arithmetic (Jacob et al., 2017)
and retrain for an additional 5 epochs with a learning rate of 5e-5." Our integer golden model
(srhw.quant.fakequant) has its own scheme (power-of-two activation scales, for ap_fixed hardware); weights
retrained for it are not the weights that suit TFLite's converter. So the TFLite export gets its own
retraining, from the same full-precision checkpoint, with fake quantization that mimics what
`TFLiteConverter` will do:

  * weights: per-output-channel symmetric int8 in [-127, 127] (TFLite's per-axis conv weights);
  * activations: per-tensor affine (asymmetric) int8 with moving-average min/max ranges, at every op
    output (TFLite quantizes every tensor between ops).

TensorFlow's own QAT tooling (tensorflow-model-optimization) is not in our lock and does not handle the
Lambda layers of our Keras rebuild; torch's FX fake quantization (`torch.ao.quantization`, float32, so it
trains ~7x faster than the integer-exact QuantNet on a CPU) provides the same fake-quant arithmetic.
Only the retrained float weights are kept: the converter calibrates its own ranges on the representative
dataset (srhw.export.tflite), as the paper's flow did.
"""

import copy
import warnings

import torch

from srhw.core.errors import SrhwError
from srhw.quant.qat import StageConfig, finetune


def tflite_qconfig_mapping():
    """TFLite's int8 scheme as a torch QConfigMapping (Jacob et al. 2017; TFLite's quantization spec)."""
    from torch.ao.quantization import (FakeQuantize, MovingAverageMinMaxObserver,
                                       MovingAveragePerChannelMinMaxObserver, QConfig, QConfigMapping)

    # int8 affine in [-128, 127] with zero point z == uint8 affine in [0, 255] with zero point z + 128: the same
    # grid. torch's native backend config only matches quint8 activations (a qint8 one silently inserts none).
    act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                 dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    weight = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver, quant_min=-127, quant_max=127,
                                    dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)
    return QConfigMapping().set_global(QConfig(activation=act, weight=weight))


def prepare(model: torch.nn.Module, patch: int = 24) -> torch.fx.GraphModule:
    """A fake-quantized (TFLite scheme) FX copy of `model`; its parameters are `model`'s own tensors."""
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    model.train()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's FX quantization is deprecated in favour of torchao
        try:
            return prepare_qat_fx(model, tflite_qconfig_mapping(), example_inputs=(torch.full((1, 3, patch, patch), 128.0),))
        except Exception as e:  # torch.fx cannot trace this model
            raise SrhwError(f"TFLite-scheme QAT: cannot trace {type(model).__name__} with torch.fx: "
                            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def tflite_qat(model: torch.nn.Module, dataset, stage: StageConfig, log=None) -> tuple[torch.nn.Module, dict]:
    """Retrain a copy of the float zoo `model` under TFLite-scheme fake quantization for `stage.total` steps.

    Returns (the retrained float model, the fine-tuning record). `model` itself is left untouched.
    """
    retrained = copy.deepcopy(model)
    if stage.total == 0:
        return retrained.eval(), {"iters": 0, "loss": None, "seconds": 0.0}
    fq = prepare(retrained, stage.patch)
    own = {id(p) for p in retrained.parameters()}
    if not all(id(p) in own for p in fq.parameters()):
        raise SrhwError("TFLite-scheme QAT: torch.fx copied the model's parameters; its training would be lost")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = finetune(fq, fq.parameters(), dataset, stage, log)
    return retrained.eval(), record

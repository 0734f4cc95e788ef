"""TFLite full-integer conversion, as the paper's section 5.1 did: representative dataset,
TFLITE_BUILTINS_INT8 only, int8 input and output (TFLite's Jacob et al. 2017 scheme: per-channel int8
weights, per-tensor asymmetric int8 activations, int32 biases)."""

from pathlib import Path

import numpy as np

from srhw.core.io import atomic_path


def convert_to_tflite(model, batches, path) -> dict:
    """Convert `model` (via srhw.export.keras.to_keras) with `batches` (LR tensors (B,3,h,w)) as the
    representative dataset; writes `path` atomically; returns {'bytes', 'input_quant', 'output_quant'}."""
    import tensorflow as tf

    from srhw.export.keras import to_keras

    km = to_keras(model)
    samples = [b.numpy().transpose(0, 2, 3, 1)[i:i + 1].astype(np.float32) for b in batches for i in range(len(b))]

    def representative():
        for s in samples:
            yield [s]

    conv = tf.lite.TFLiteConverter.from_keras_model(km)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    blob = conv.convert()
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(blob)
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=blob)
    return {"bytes": len(blob), "input_quant": list(it.get_input_details()[0]["quantization"]),
            "output_quant": list(it.get_output_details()[0]["quantization"])}

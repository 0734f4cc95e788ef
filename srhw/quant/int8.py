"""INT8 quantization of a trained zoo model (paper section 5.1): PTQ, then quantization-aware retraining.

"We train the model in full precision and apply the quantization scheme in Tensorflow-Lite for
integer-only arithmetic (Jacob et al., 2017) and retrain for an additional 5 epochs with a learning rate
of 5e-5." Here: per-channel int8 weights, int8 activations with calibrated (power-of-two) scales, int32
biases and wide accumulators (srhw.quant.ptq), then QAT of the integer-exact QuantNet (srhw.quant.qat).

Output folder:
    model.safetensors + model.json   the float weights after QAT (zoo keys; sidecar quant="int8",
                                     quant_config, golden="golden")
    golden/graph.json + graph.npz    the integer network the numbers come from (srhw.quant.graph)
    model.tflite                     with --tflite: TFLite full-integer conversion of a Keras rebuild of the
                                     float checkpoint retrained under TFLite's own scheme (srhw.quant.tflite_qat,
                                     same iterations and lr as the QAT above)
    tflite_qat.safetensors + .json   with --tflite: those retrained float weights (what model.tflite came from)
    report.json                      PTQ/QAT losses, timings, accumulator widths
"""

from dataclasses import asdict
from pathlib import Path

import torch

from srhw.core.integrity import record_source
from srhw.core.checkpoint import load_checkpoint, save_checkpoint
from srhw.core.errors import SrhwError
from srhw.core.io import write_json
from srhw.data.calibration import patch_batches
from srhw.quant.bias_correct import correct_biases
from srhw.quant.config import QuantConfig
from srhw.quant.equalize import equalize
from srhw.quant.gptq import gptq
from srhw.quant.ptq import quantize
from srhw.quant.qat import StageConfig, finetune, patch_dataset


def load_float_model(checkpoint, spec=None, scale=None):
    """Build the checkpoint's model and load it; refuse a checkpoint of another spec/scale or a quantized one."""
    from srhw.models.load import checkpoint_spec, load_model

    _, meta = load_checkpoint(checkpoint)
    checkpoint_spec(checkpoint, meta, spec, scale)  # a mismatch is reported before "already quantized"
    if meta.get("quant"):
        raise SrhwError(f"{checkpoint} is already quantized ({meta['quant']}): give a full-precision checkpoint")
    return load_model(checkpoint, spec, scale)


def deploy_form(model):
    """`model.deploy()` (the conv-only network the golden model runs) carrying the zoo attributes."""
    out = model.deploy()
    for k in ("spec", "scale", "channels"):
        setattr(out, k, getattr(model, k))
    return out


def widths_summary(graph) -> dict:
    """Largest declared accumulator width per op kind (for reports)."""
    out = {}
    for n in graph.nodes:
        for k, v in n.attrs.items():
            if k.endswith("_bits") and k != "lut_frac_bits":
                key = f"{n.op}.{k}"
                out[key] = max(out.get(key, 0), v)
    return out


def run_int8(spec, scale, checkpoint, data_dir, out_tmp: Path, stage: StageConfig, train_set="T91",
             cfg: QuantConfig | None = None, tflite: StageConfig | bool | None = None, log=print,
             convert_tflite=None) -> dict:
    """`tflite`: also export model.tflite, retrained under TFLite's scheme for that stage (True: `stage`), written
    by `convert_tflite(model, calib, path) -> dict` (the TFLite backend, srhw.export.tflite.convert_to_tflite,
    passed in by the caller: the golden package never imports a backend)."""
    cfg = cfg or QuantConfig()
    model, meta = load_float_model(checkpoint, spec, scale)
    spec, scale = model.spec, model.scale
    args = meta.get("model_args") or {}
    channels = int(getattr(model, "channels", 3))
    if hasattr(model, "deploy"):  # the real-time networks quantize their inference form (collapsed / sub-pixel)
        if tflite:
            raise SrhwError(f"--tflite: the TFLite export covers the RGB zoo models, not {spec}")
        model = deploy_form(model)
        args = {**args, "deploy": True}
    dataset = patch_dataset(data_dir, train_set, scale, patch=stage.patch, seed=stage.seed, channels=channels)
    calib = patch_batches(dataset, cfg.calib_batches)
    equalized = equalize(model, calib, cfg.equalize)  # exact in float: the checkpoint's function, re-balanced
    side = {"spec": spec, "scale": scale, "model_args": args, "channels": channels, "data": train_set,
            "metrics": {}, "source_checkpoint": str(checkpoint)}
    report = {"spec": spec, "scale": scale, "source": str(checkpoint)}
    if tflite and convert_tflite is None:
        raise SrhwError("a TFLite export needs the TFLite converter (srhw.export.tflite.convert_to_tflite)")
    if tflite:  # first, from the checkpoint's weights (tflite_qat trains a copy; our QAT below trains `model`)
        report["tflite"] = _tflite_export(model, dataset, calib, stage if tflite is True else tflite, side, out_tmp,
                                          checkpoint, log, convert_tflite)
    qnet = quantize(model, calib, cfg)
    if equalized:
        report["equalize"] = equalized
    if cfg.gptq:
        report["gptq"] = gptq(qnet, calib)
    if cfg.bias_correct:
        report["bias_correct"] = correct_biases(qnet, calib)
    log(f"calibrated {spec} x{scale} on {len(calib)} batches of {train_set} patches; QAT {stage.total} iterations")
    report["qat"] = finetune(qnet, model.parameters(), dataset, stage, log)
    graph = qnet.export({"spec": spec, "scale": scale, "model_args": args, "quant": "int8", "channels": channels})
    meta = {**side, "quant": "int8", "step": report["qat"]["iters"], "golden": "golden",
            "quant_config": asdict(cfg), "qat": {"lr": stage.lr, "iters": stage.total, "loss": stage.loss}}
    record_source(graph, model.state_dict(), meta, "model.safetensors")  # the weights saved below
    graph.save(out_tmp / "golden")
    report["widths"] = widths_summary(graph)
    save_checkpoint(out_tmp / "model.safetensors", model, meta)
    write_json(out_tmp / "report.json", report)
    return report


def _tflite_export(model, dataset, calib, tstage: StageConfig, side: dict, out_tmp: Path, checkpoint, log,
                   convert_to_tflite) -> dict:
    """model.tflite from a copy of `model` retrained under TFLite's scheme, and those float weights."""
    from srhw.quant.tflite_qat import tflite_qat

    log(f"TFLite-scheme QAT from {checkpoint}: {tstage.total} iterations")
    retrained, record = tflite_qat(model, dataset, tstage, log)
    save_checkpoint(out_tmp / "tflite_qat.safetensors", retrained,
                    {**side, "quant": None, "step": tstage.total,
                     "qat": {"lr": tstage.lr, "iters": tstage.total, "scheme": "tflite"}})
    return {**convert_to_tflite(retrained, calib, out_tmp / "model.tflite"), "qat": record,
            "float_weights": "tflite_qat.safetensors"}

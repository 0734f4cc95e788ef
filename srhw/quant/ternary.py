"""Ternary StrassenNets training schedule (paper section 5.2) and the ternary checkpoint.

Schedule (paper section 3): a full-precision sum-product (SP) model, then "we further train the model with
quantization enabled in each forward pass for 40 epochs, starting at a learning rate of 5e-5, and then fix
the quantized ternary weights and further train for another 10 epochs at a learning rate of 2.5e-5".
Quantization in the forward pass is TWN ternarisation with a straight-through gradient (Li & Liu 2016;
SumProductConv2d.mode = "ternary"); fixing the weights is SumProductConv2d.freeze().

Every scale is folded (SumProductConv2d.folded: a' = a * alpha_b * alpha_c), so a layer performs exactly
r multiplications per output pixel plus its bias add. The integer export (golden graph) keeps that: the
sp_conv node's only multiplier is its r-vector A, its requantization a shift.

Output folder:
    model.safetensors + model.json  the trainable state (frozen int8 codes in `frozen_b`/`frozen_c`);
                                    sidecar quant="ternary"
    ternary.safetensors             per SP layer: `<layer>.codes_b`, `<layer>.codes_c` (int8 in {-1,0,+1}),
                                    `<layer>.scale` (folded a', float32, r values), `<layer>.bias`
    golden/graph.json + graph.npz   the integer network (int8 activations, ternary weights, r integer scales)
    report.json                     stage losses and timings, dense and sparsity-aware Table-5 reductions
"""

from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import save_file

from srhw.core.checkpoint import save_checkpoint
from srhw.core.errors import SrhwError
from srhw.core.integrity import record_source
from srhw.core.io import atomic_path, write_json
from srhw.data.calibration import patch_batches
from srhw.models.sum_product import SumProductConv2d, freeze_all
from srhw.quant.config import STAGE_SCHEDULE, QuantConfig
from srhw.quant.int8 import load_float_model, widths_summary
from srhw.quant.ptq import quantize
from srhw.quant.qat import StageConfig, finetune, patch_dataset

STAGES = {name: StageConfig(epochs=ep, lr=lr) for name, (ep, lr) in STAGE_SCHEDULE.items()}  # srhw.quant.config


def require_sum_product(spec: str):
    """Refuse, with one line, a ternary request for a model without sum-product convs."""
    from srhw.models import resolve

    import torch

    from srhw.models import build

    rs = resolve(spec)
    with torch.device("meta"):
        has_sp = any(isinstance(m, SumProductConv2d) for m in build(str(rs), 2).modules())
    if not has_sp:
        raise SrhwError(f"ternary quantization needs a StrassenNets model such as st_bl(r=2c_out) or st_sesr; "
                        f"{rs} has no sum-product convs")


def sp_layers(model):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, SumProductConv2d)]


def set_mode(model, mode):
    for _, m in sp_layers(model):
        m.mode = mode


def ternary_tensors(model) -> dict:
    """The folded ternary layers: codes int8 in {-1,0,+1}, folded scale a' (r,), bias."""
    out = {}
    for name, m in sp_layers(model):
        cb, a, cc, bias = m.folded()
        out[f"{name}.codes_b"] = cb.contiguous()
        out[f"{name}.codes_c"] = cc.contiguous()
        out[f"{name}.scale"] = a.detach().float().contiguous()
        if bias is not None:
            out[f"{name}.bias"] = bias.detach().float().contiguous()
    return out


def init_from_bl(model, bl_checkpoint):
    """Initialise an st_bl model from a trained full-precision bl of the same scale and widths (a model
    with its own `init_from_float(float_model)`, such as st_sesr, does it its own way).

    Every sum-product conv takes the bl conv at the same place as an m-term residual ternary expansion
    (`SumProductConv2d.init_from_conv`, m = r / c_out); channel attention and MeanShift are copied. The
    ternary stage then starts near bl instead of from scratch: a shortcut for small CPU budgets, not the
    paper's schedule (which trains the SP model from scratch in full precision first).
    """
    from srhw.models import SumProductConv2d

    bl, meta = load_float_model(bl_checkpoint, None, model.scale)
    if hasattr(model, "init_from_float"):  # e.g. st_sesr from a trained sesr
        try:
            model.init_from_float(bl)
        except ValueError as e:
            raise SrhwError(f"--init-float: {bl_checkpoint} ({bl.spec} x{bl.scale}) {e}") from None
        return meta
    if bl.spec != "bl":
        raise SrhwError(f"{bl_checkpoint} is a {bl.spec} checkpoint: --init-bl needs a bl checkpoint")
    own = model.state_dict()
    for name, mod in model.named_modules():
        if isinstance(mod, SumProductConv2d):
            try:
                mod.init_from_conv(bl.get_submodule(name))
            except (AttributeError, ValueError) as e:
                raise SrhwError(f"--init-bl: {bl_checkpoint} does not match {model.spec} at {name} ({e})") from None
    copied = {k: v for k, v in bl.state_dict().items() if k in own and own[k].shape == v.shape and "." in k
              and not isinstance(model.get_submodule(k.rsplit(".", 1)[0]), SumProductConv2d)}
    model.load_state_dict(copied, strict=False)
    return meta


def table5(spec, scale, model, model_args) -> dict:
    """Dense and sparsity-aware Table-5 rows (against bl of the same config; 1280x720 output)."""
    from srhw.profile import table5_row

    cfg = model_args or {}
    return {"dense": table5_row(spec, scale, model=model, sparse=False, **cfg),
            "sparse": table5_row(spec, scale, model=model, sparse=True, **cfg)}


def run_ternary(spec, scale, checkpoint, data_dir, out_tmp: Path, stages: dict, model_args=None,
                train_set="T91", cfg: QuantConfig | None = None, log=print, init_bl=None) -> dict:
    from srhw.models import build

    require_sum_product(spec)
    cfg = cfg or QuantConfig()
    if checkpoint:
        model, meta = load_float_model(checkpoint, spec, scale)
        model_args = meta.get("model_args") or {}
    else:
        model_args = dict(model_args or {})
        torch.manual_seed(stages["fp"].seed)
        model = build(spec, scale, **model_args)
        if init_bl:
            init_from_bl(model, init_bl)
    spec, scale = model.spec, model.scale
    channels = int(getattr(model, "channels", 3))
    dataset = patch_dataset(data_dir, train_set, scale, patch=stages["fp"].patch, seed=stages["fp"].seed,
                            channels=channels)
    report = {"spec": spec, "scale": scale, "source": str(checkpoint) if checkpoint else None,
              "init_bl": str(init_bl) if init_bl and not checkpoint else None, "stages": {}}
    params = list(model.parameters())
    if not any(m.frozen for _, m in sp_layers(model)):
        set_mode(model, "full")
        log(f"stage fp: {stages['fp'].total} iterations at lr {stages['fp'].lr}")
        report["stages"]["fp"] = finetune(model, params, dataset, stages["fp"], log)
        set_mode(model, "ternary")
        log(f"stage ternary: {stages['ternary'].total} iterations at lr {stages['ternary'].lr}")
        report["stages"]["ternary"] = finetune(model, params, dataset, stages["ternary"], log)
        freeze_all(model)
    log(f"stage frozen: {stages['frozen'].total} iterations at lr {stages['frozen'].lr}")
    report["stages"]["frozen"] = finetune(model, params, dataset, stages["frozen"], log)
    model.eval()

    qnet = quantize(model, patch_batches(dataset, cfg.calib_batches), cfg)
    graph = qnet.export({"spec": spec, "scale": scale, "model_args": model_args, "quant": "ternary",
                         "channels": channels})
    steps = sum(s["iters"] for s in report["stages"].values())
    side = {"spec": spec, "scale": scale, "model_args": model_args, "channels": channels, "quant": "ternary", "step": steps,
            "data": train_set, "metrics": {}, "golden": "golden", "quant_config": asdict(cfg),
            "stages": {k: asdict(v) for k, v in stages.items()}, "ternary": "ternary.safetensors"}
    record_source(graph, model.state_dict(), side, "model.safetensors")  # the weights saved below
    graph.save(out_tmp / "golden")
    report["widths"] = widths_summary(graph)
    save_checkpoint(out_tmp / "model.safetensors", model, side)
    with atomic_path(out_tmp / "ternary.safetensors") as tmp:
        save_file(ternary_tensors(model), str(tmp), metadata={"spec": spec, "scale": str(scale)})
    report["table5"] = table5(spec, scale, model, model_args)
    write_json(out_tmp / "report.json", report)
    return report

"""`srhw quantize`: INT8 (paper section 5.1) and ternary StrassenNets (section 5.2) quantization.

With --checkpoint, the spec and scale come from its sidecar (--model/--r/--scale, when given, must agree).
Budget flags (--iters, --epochs, and --<stage>-iters/--<stage>-epochs for ternary) shorten the paper's
schedules for smoke runs. The output folder is written all-or-nothing (srhw.core.io.staged).
"""

import json
import sys
from dataclasses import replace

from srhw.core.errors import SrhwError
from srhw.core.io import check_out, staged_output
from srhw.quant.config import STAGE_SCHEDULE
from srhw.cli.common import (EPOCHS, LEARNING_RATE, add_data, add_model, add_threads, add_train_set, examples, number,
                             spec_and_scale)

UNIT = number(0.0, 1.0)  # a finite number in [0, 1]
EXAMPLES = examples("srhw quantize int8 --checkpoint models/bl-x2.safetensors --out runs/bl_x2_int8 --tflite",
                    "srhw quantize ternary --model st_bl --r 2c_out --scale 2 --init-bl models/bl-x2.safetensors "
                    "--out runs/st_x2")
SCHEME_EXAMPLES = {
    "int8": examples("srhw quantize int8 --checkpoint models/bl-x2.safetensors --out runs/bl_x2_int8",
                     "srhw quantize int8 --checkpoint runs/bl_x2/model.safetensors --iters 200 --out runs/q --tflite",
                     "srhw quantize int8 --checkpoint models/fsrcnn_d32_s5_m1-x2.safetensors --act-scales any "
                     "--equalize 0.5 --gptq --iters 300 --patch 32 --calib-batches 16 --out runs/fsrcnn_s_int8"),
    "ternary": examples("srhw quantize ternary --model st_bl --r 2c_out --scale 2 --init-bl models/bl-x2.safetensors "
                        "--out runs/st_x2",
                        "srhw quantize ternary --checkpoint runs/st_fp/model.safetensors --ternary-iters 100 "
                        "--frozen-iters 50 --out runs/st_short"),
}


def add_arguments(p):
    sub = p.add_subparsers(dest="scheme", required=True, metavar="SCHEME")
    for name, help_ in (("int8", "per-channel int8 weights, int8 activations, then QAT (section 5.1)"),
                        ("ternary", "ternary sum-product training schedule (section 5.2)")):
        q = sub.add_parser(name, help=help_, description=help_, epilog=SCHEME_EXAMPLES[name])
        add_model(q, "zoo spec (default: the checkpoint's)")
        q.add_argument("--scale", type=int, default=None, help="SR factor 2, 3 or 4 (default: the checkpoint's)")
        q.add_argument("--checkpoint", required=(name == "int8"),
                       help="full-precision .safetensors checkpoint (its sidecar gives --model and --scale)")
        add_data(q, "the training/calibration set")
        add_train_set(q, what="training/calibration set")
        q.add_argument("--out", required=True, help="output folder (must not exist unless --force)")
        q.add_argument("--force", action="store_true", help="replace an existing output folder")
        q.add_argument("--batch", type=int, default=16, help="mini-batch (paper: 16)")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--patch", type=int, default=48, help="LR training patch side (paper: 48)")
        q.add_argument("--calib-batches", type=int, default=4, help="calibration batches of 16 LR patches")
        add_threads(q)
        q.add_argument("--act-scales", choices=("pow2", "any"), default="pow2",
                       help="activation scales: pow2 = 2^-f fixed-point formats (adds are shifts; default), any = "
                            "calibrated max/qmax (up to 1 bit finer; adds need multipliers)")
        if name == "int8":
            q.add_argument("--equalize", type=UNIT, default=0.0, metavar="ALPHA",
                           help="cross-layer equalization of conv-ReLU-conv pairs before calibration, strength in "
                                "[0, 1] (default 0 = off, the paper's recipe; 0.5 splits the channel spread)")
            q.add_argument("--bias-correct", action="store_true",
                           help="after calibration, shift each conv's bias so its mean output per channel matches "
                                "the float network's on the calibration batches (empirical bias correction; "
                                "default off, the paper's recipe)")
            q.add_argument("--gptq", action="store_true",
                           help="after calibration, round each conv's int8 weights by GPTQ (error-compensating "
                                "rounding on the calibration batches) instead of to nearest (default off, the "
                                "paper's recipe)")
            q.add_argument("--epochs", type=EPOCHS, default=5, help="QAT epochs of 1000 iterations (paper: 5)")
            q.add_argument("--iters", type=int, default=None, help="QAT iterations (overrides --epochs)")
            q.add_argument("--lr", type=LEARNING_RATE, default=5e-5, help="QAT learning rate (paper: 5e-5)")
            q.add_argument("--loss", choices=("l1", "l2"), default=None,
                           help="QAT loss (default: the checkpoint's training loss from its sidecar, else l1 as the paper)")
            q.add_argument("--tflite", action="store_true", help="also write model.tflite: the checkpoint retrained under TFLite's int8 "
                           "scheme (--tflite-iters at --lr), then converted full-integer")
            q.add_argument("--tflite-iters", type=int, default=None,
                           help="iterations of the TFLite-scheme retraining (default: the same as the QAT above)")
        else:
            q.add_argument("--model-args", default="{}", help="JSON overrides for build() without --checkpoint")
            q.add_argument("--init-bl", "--init-float", dest="init_bl", default=None,
                           help="start from a trained full-precision bl checkpoint for st_bl, or sesr for st_sesr (each "
                                "SP conv starts as a ternary expansion of its float conv); a CPU-budget shortcut "
                                "instead of the paper's from-scratch fp stage")
            for stage, (ep, lr) in STAGE_SCHEDULE.items():  # the paper's schedule, one table
                ep = None if stage == "fp" else ep
                q.add_argument(f"--{stage}-epochs", type=EPOCHS, default=ep,
                               help=f"stage {stage} epochs" + (" (default: 300 without --checkpoint, 0 with)" if ep is None else f" (paper: {ep})"))
                q.add_argument(f"--{stage}-iters", type=int, default=None, help=f"stage {stage} iterations (overrides epochs)")
                q.add_argument(f"--{stage}-lr", type=LEARNING_RATE, default=lr, help=f"stage {stage} learning rate (default {lr})")


def _log(msg):
    print(f"srhw quantize: {msg}", file=sys.stderr)


def run(args):
    from srhw.models import build, resolve
    from srhw.quant.config import QuantConfig
    from srhw.quant.qat import StageConfig

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    # One spec and scale: the sidecar's, checked against --model/--r/--scale (a malformed spec fails here,
    # before anything is read or written).
    args.model, args.scale = spec_and_scale(args.model, args.r, args.scale, args.checkpoint)
    resolve(args.model)
    check_out(args.out, args.force)
    cfg = QuantConfig(calib_batches=args.calib_batches, pow2_scales=args.act_scales == "pow2",
                      equalize=getattr(args, "equalize", 0.0), bias_correct=getattr(args, "bias_correct", False),
                      gptq=getattr(args, "gptq", False))
    if args.scheme == "int8":
        from srhw.quant.int8 import load_float_model, run_int8

        _, meta = load_float_model(args.checkpoint, args.model, args.scale)  # fail fast on a mismatched checkpoint
        loss = args.loss or (meta.get("train_config") or {}).get("loss") or "l1"
        stage = StageConfig(epochs=args.epochs, lr=args.lr, iters=args.iters, batch=args.batch, seed=args.seed,
                            patch=args.patch, loss=loss)
        if args.tflite_iters is not None and not args.tflite:
            raise SrhwError("--tflite-iters needs --tflite")
        tfl_stage = replace(stage, iters=args.tflite_iters) if args.tflite_iters is not None else stage
        convert = None
        if args.tflite:
            from srhw.export.tflite import convert_to_tflite as convert
        with staged_output(args.out, args.force) as tmp:
            report = run_int8(args.model, args.scale, args.checkpoint, args.data, tmp, stage, args.train_set,
                              cfg, tflite=tfl_stage if args.tflite else None, log=_log, convert_tflite=convert)
    else:
        from srhw.quant.ternary import require_sum_product, run_ternary

        require_sum_product(args.model)
        try:
            model_args = json.loads(args.model_args)
        except json.JSONDecodeError as e:
            raise SrhwError(f"--model-args is not JSON: {e}") from None
        if args.checkpoint and args.init_bl:
            raise SrhwError("give --checkpoint (an st_bl model) or --init-bl (a bl model), not both")
        if args.checkpoint:
            from srhw.quant.int8 import load_float_model

            load_float_model(args.checkpoint, args.model, args.scale)
        else:
            build(args.model, args.scale, **model_args)  # bad overrides fail here
        stages = {}
        for stage in ("fp", "ternary", "frozen"):
            ep = getattr(args, f"{stage}_epochs")
            if ep is None:
                ep = 0 if (args.checkpoint or args.init_bl) else 300
            stages[stage] = StageConfig(epochs=ep, lr=getattr(args, f"{stage}_lr"), iters=getattr(args, f"{stage}_iters"),
                                        batch=args.batch, seed=args.seed, patch=args.patch)
        with staged_output(args.out, args.force) as tmp:
            report = run_ternary(args.model, args.scale, args.checkpoint, args.data, tmp, stages, model_args,
                                 args.train_set, cfg, log=_log, init_bl=args.init_bl)
    print(json.dumps({k: v for k, v in report.items() if k in ("spec", "scale", "qat", "stages", "widths", "table5")}, indent=2))
    return 0

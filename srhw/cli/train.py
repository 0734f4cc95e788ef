"""`srhw train`: train a zoo model with the paper's recipe (srhw/train/config.py) and exact resume.

`--data` is the data root and `--train-set` the set under it, as in every command. The old spellings
still work with a deprecation line: `--data-dir ROOT`, and `--data T91` (a set name, not a folder).
"""

import argparse
import json
from dataclasses import fields
from pathlib import Path

from srhw.core.errors import SrhwError
from srhw.train.config import TrainConfig
from srhw.cli.common import (DATA_HELP, LEARNING_RATE, R_HELP, check_scale, deprecated, examples,
                             model_spec)
from srhw.core.names import run_folder

EXAMPLES = examples("srhw train --model bl --scale 2 --out runs/bl_x2                      # paper: 300 epochs",
                    "srhw train --model bl --scale 4 --init runs/bl_x2/model.safetensors --out runs/bl_x4",
                    "srhw train --model bl --scale 2 --iters 2000 --out runs/short --resume",
                    "srhw train --model st_bl --r 2c_out --data /data --train-set DIV2K",
                    "torchrun --nproc_per_node 4 -m srhw train ...                     # DDP")

# Set names an old `--data NAME` meant (when no such folder exists): the training sets and benchmarks.
KNOWN_SETS = ("T91", "DIV2K", "General100", "BSD200", "Set5", "Set14", "B100", "Urban100")


def add_arguments(p):
    d = TrainConfig()
    p.add_argument("--model", dest="spec", help=f"zoo spec, e.g. bl or st_bl (with --r) (default {d.spec})")
    p.add_argument("--r", help=R_HELP)
    p.add_argument("--scale", type=int, help=f"SR factor 2, 3 or 4 (default {d.scale})")
    p.add_argument("--model-args", type=json.loads,
                   help='JSON overrides for the model constructor, e.g. \'{"num_feat": 16}\' (small test models)')
    p.add_argument("--init", help="x2 checkpoint to initialise an x3/x4 model from (all but the upsampler)")
    p.add_argument("--data", dest="data_root", metavar="ROOT", help=DATA_HELP.format(what="the training set and Set5"))
    p.add_argument("--train-set", dest="data", metavar="NAME", help=f"training set: a set name under --data (default {d.data}; "
                                                    "'DIV2K' = DIV2K layout)")
    p.add_argument("--data-dir", dest="data_root_old", help=argparse.SUPPRESS)  # old spelling of --data
    p.add_argument("--iters", type=int, help="total iterations (overrides --epochs)")
    p.add_argument("--epochs", type=int, help=f"epochs of {d.iters_per_epoch} iterations (default {d.epochs})")
    p.add_argument("--patch", type=int, help=f"LR patch size (default {d.patch})")
    p.add_argument("--batch", type=int, help=f"batch size (default {d.batch})")
    p.add_argument("--lr", type=LEARNING_RATE, help=f"initial learning rate (default {d.lr})")
    p.add_argument("--loss", choices=("l1", "l2"), help=f"training loss (default {d.loss})")
    p.add_argument("--decay-epochs", type=lambda v: tuple(int(x) for x in v.split(",")),
                   help="comma-separated epochs (of --epochs, scaled to --iters) at which lr is halved (default 200)")
    p.add_argument("--seed", type=int, help=f"seed (default {d.seed})")
    p.add_argument("--out", help=f"run folder (default {d.out})")
    p.add_argument("--ckpt-every", type=int, help=f"iterations between checkpoints (default {d.ckpt_every})")
    p.add_argument("--log-every", type=int, help=f"iterations between log rows (default {d.log_every})")
    p.add_argument("--val-every", type=int, help=f"iterations between Set5 validations (default {d.val_every})")
    p.add_argument("--device", help="auto (default: cuda if available), cpu or cuda")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: all cores of this process)")
    p.add_argument("--stop-at", type=int, help="stop after this iteration (continue later with --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")


def _data_flags(args):
    """--data (root) and --train-set (name) from the new and the old spellings, in place."""
    old_root = getattr(args, "data_root_old", None)
    root = getattr(args, "data_root", None)
    if old_root is not None:  # old form: --data NAME --data-dir ROOT
        if root is not None and getattr(args, "data", None) is None:
            deprecated("--data NAME --data-dir ROOT", "--train-set NAME --data ROOT")
            args.data = root
        elif root is not None:
            raise SrhwError("give the data root once: --data ROOT (--data-dir is its old spelling)")
        else:
            deprecated("--data-dir", "--data")
        root = old_root
    elif root is not None and not Path(root).is_dir() and root in KNOWN_SETS:
        if getattr(args, "data", None) is not None:
            raise SrhwError(f"--data {root} is not a folder (the data root), and --train-set is given")
        deprecated(f"--data {root} (a set name)", f"--train-set {root}")
        args.data, root = root, None
    args.data_dir = root


def config_from_args(args):
    """TrainConfig with only the options given on the command line changed."""
    _data_flags(args)
    if getattr(args, "r", None) is not None:
        args.spec = model_spec(args.spec or TrainConfig().spec, args.r)
    names = {f.name for f in fields(TrainConfig)}
    if getattr(args, "model_args", None) is not None and not isinstance(args.model_args, dict):
        raise SrhwError("--model-args must be a JSON object")
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    cfg = TrainConfig(**given)
    check_scale(cfg.scale)
    if "out" not in given:
        cfg.out = str(run_folder("runs", cfg.spec, cfg.scale))
    for k in ("iters", "epochs", "patch", "batch", "ckpt_every", "log_every"):
        v = getattr(cfg, k)
        if v is not None and v < 1:
            raise SrhwError(f"--{k.replace('_', '-')} must be a positive integer")
    return cfg


def run(args):
    from srhw.eval.evaluate import validate_psnr
    from srhw.train.loop import train

    cfg = config_from_args(args)
    res = train(cfg, resume=args.resume, validate=validate_psnr)
    state = "done" if res["done"] else f"stopped at {res['step']} of {res['total']} (continue with --resume)"
    val = f", {cfg.val_set} PSNR {res['val_psnr']:.2f} dB" if res["val_psnr"] is not None else ""
    print(f"{cfg.spec} x{cfg.scale}: {state}, {res['iters_per_s']:.2f} it/s{val}; {res['out']}/model.safetensors")
    return 0

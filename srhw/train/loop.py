"""The training loop of the paper (section 3, EDSR recipe) with exact resume.

One iteration: batch `step` of random patches (srhw/data/patches.py), L1 loss, Adam step with the lr of
`TrainConfig.lr_at(step)`. Every `ckpt_every` iterations it writes, each atomically:

    <out>/model.safetensors + model.json    weights + sidecar (srhw/core/checkpoint.py), for `srhw eval`
    <out>/train_state.safetensors           weights, Adam state, RNG states, step, log accumulator
    <out>/log.csv                           step, loss (mean over the window), lr, val_psnr (Set5, Y, dB)

A run stopped at any point and restarted with `resume=True` replays from the last checkpoint and ends
bit-identical (weights, optimizer, log) to an uninterrupted run on CPU (tests/test_train.py).

DDP: when WORLD_SIZE is set (torchrun), the model is wrapped in DistributedDataParallel (gloo on CPU,
nccl on GPU), each rank draws its own disjoint patches (global batch = batch * world_size), and only
rank 0 writes files. tests/test_train_ddp.py (slow) runs two gloo ranks through torchrun on CPU and
checks they end at the weights of one process with the same global batch.
"""

import csv
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from srhw.core.checkpoint import load_checkpoint, save_checkpoint
from srhw.data import default_data_dir, open_dataset
from srhw.data.patches import PatchDataset, get_batch
from srhw.core.errors import SrhwError
from srhw.core.io import write_text
from srhw.train.config import TrainConfig
from srhw.train.state import load_state, save_state
from srhw.train.steps import adam, steps

LOG_FIELDS = ("step", "loss", "lr", "val_psnr")
LOSSES = {"l1": F.l1_loss, "l2": F.mse_loss}


def model_channels(model):
    """1 for Y-channel networks (their `channels` attribute), else 3 (RGB)."""
    return int(getattr(model, "channels", 3))
UPSAMPLER_PREFIXES = ("upsample.",)  # BL's sub-pixel upsampler / ERUM (srhw/models/rcan.py)


def init_from(model, path, scale):
    """Copy every weight of checkpoint `path` (an x2 model) but the upsampler into `model` (paper: "We train
    x2 models from scratch and use them as pre-trained models to train x3 and x4 models")."""
    sd, meta = load_checkpoint(path)
    own = model.state_dict()
    take = {k: v for k, v in sd.items() if not k.startswith(UPSAMPLER_PREFIXES)}
    bad = [k for k, v in take.items() if k not in own or own[k].shape != v.shape]
    missing = [k for k in own if not k.startswith(UPSAMPLER_PREFIXES) and k not in take]
    if bad or missing:
        k = (bad or missing)[0]
        raise SrhwError(f"--init {path} ({meta.get('spec')} x{meta.get('scale')}) does not fit the model beyond "
                        f"its upsampler (e.g. {k}): use a checkpoint of the same spec")
    model.load_state_dict(take, strict=False)
    return meta


def setup_distributed():
    """(rank, world_size); initialises torch.distributed when launched by torchrun (WORLD_SIZE set)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


def resolve_device(name):
    """"auto" -> this rank's GPU if CUDA is available, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise SrhwError("--device cuda: no CUDA device available")
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
        return dev
    if name != "cpu":
        raise SrhwError(f"unknown device {name!r}: use auto, cpu or cuda")
    return torch.device("cpu")


def default_threads(world):
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", world))))


def _read_log(path, upto):
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if int(r["step"]) <= upto]


def _write_log(path, rows):
    lines = [",".join(LOG_FIELDS)] + [",".join(str(r.get(k, "")) for k in LOG_FIELDS) for r in rows]
    write_text(path, "\n".join(lines) + "\n")


def train(cfg: TrainConfig, resume=False, progress=True, validate=None):
    """Train `cfg.spec` at `cfg.scale`; returns a summary dict. See the module docstring for the files.

    `validate(model, data_dir, set_name, scale) -> PSNR` is the evaluation protocol (srhw.eval.evaluate.validate_psnr,
    passed in by the callers above training); without it no validation runs."""
    from srhw.models import build

    rank, world = setup_distributed()
    torch.set_num_threads(cfg.threads or default_threads(world))
    device = resolve_device(cfg.device)
    out = Path(cfg.out)
    state_path, model_path, log_path = out / "train_state.safetensors", out / "model.safetensors", out / "log.csv"
    if state_path.exists() and not resume:
        raise SrhwError(f"{state_path} exists: pass --resume to continue that run, or choose another --out")
    if cfg.total_iters < 1 or cfg.batch < 1 or cfg.patch < 1:
        raise SrhwError("iters, batch and patch must be positive")

    if cfg.loss not in LOSSES:
        raise SrhwError(f"unknown loss {cfg.loss!r}: use {' or '.join(LOSSES)}")
    torch.manual_seed(cfg.seed)
    model = build(cfg.spec, scale=cfg.scale, **cfg.model_args)
    data_dir = Path(cfg.data_dir) if cfg.data_dir else default_data_dir()
    folder = open_dataset(data_dir, cfg.data, cfg.scale)
    try:
        dataset = PatchDataset.from_folder(folder, patch=cfg.patch, seed=cfg.seed, channels=model_channels(model))
    except ValueError as e:
        raise SrhwError(f"{cfg.data}: {e}") from None

    if cfg.init:
        init_from(model, cfg.init, cfg.scale)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]  # MeanShift is fixed
    optimizer = adam(params, cfg.lr, cfg.betas, cfg.eps)

    step, acc = 0, {"loss_sum": 0.0, "n": 0}
    rows = []
    if resume and state_path.exists():
        step, extra = load_state(state_path, model, optimizer)
        acc = extra["acc"]
        rows = _read_log(log_path, step)  # rows logged after the checkpoint are replayed
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    model.train()

    def checkpoint(step, metrics):
        if rank != 0:
            return
        meta = {"spec": model.spec if hasattr(model, "spec") else cfg.spec, "scale": cfg.scale,
                "model_args": cfg.model_args, "channels": model_channels(model), "quant": None, "step": step, "data": cfg.data,
                "metrics": metrics, "train_config": asdict(cfg)}
        save_checkpoint(model_path, model, meta)
        save_state(state_path, model, optimizer, step, {"acc": acc, "config": asdict(cfg)})
        _write_log(log_path, rows)

    total = cfg.total_iters
    stop = min(total, cfg.stop_at) if cfg.stop_at is not None else total
    bar = tqdm(total=total, initial=step, unit="it", desc=f"{cfg.spec} x{cfg.scale}",
               disable=None if (progress and rank == 0) else True)
    t_train, last_val = 0.0, None  # seconds spent in training steps (not validation or checkpoints)
    start = step

    def batch_of(i):
        lr_b, hr_b = get_batch(dataset, i, cfg.batch, rank, world)  # (B,C,p,p), (B,C,ps,ps)
        return lr_b.to(device, non_blocking=True), hr_b.to(device, non_blocking=True)

    for step, loss, seconds in steps(net, optimizer, batch_of, step, stop, cfg.lr_at, LOSSES[cfg.loss]):
        lr = cfg.lr_at(step - 1)
        acc["loss_sum"] += loss
        acc["n"] += 1
        t_train += seconds
        bar.update(1)
        row = None
        if step % cfg.log_every == 0 or step == total:
            row = {"step": step, "loss": acc["loss_sum"] / acc["n"], "lr": lr, "val_psnr": ""}
            acc = {"loss_sum": 0.0, "n": 0}
            bar.set_postfix(loss=f"{row['loss']:.3f}", lr=f"{lr:.1e}")
        if validate is not None and rank == 0 and cfg.val_every >= 0 and ((cfg.val_every and step % cfg.val_every == 0) or step == total):
            last_val = validate(model, data_dir, cfg.val_set, cfg.scale)
            row = row or {"step": step, "loss": "", "lr": lr, "val_psnr": ""}
            row["val_psnr"] = last_val
        if row:
            rows.append(row)
        if step % cfg.ckpt_every == 0 or step == total:
            checkpoint(step, {f"{cfg.val_set}_psnr": last_val} if last_val is not None else {})
    bar.close()
    if world > 1:
        torch.distributed.barrier()
    return {"step": step, "total": total, "iters_per_s": (step - start) / t_train if step > start else 0.0,
            "val_psnr": last_val, "out": str(out), "done": step >= total}

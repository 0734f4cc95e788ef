"""Fine-tuning stages of quantization-aware training (INT8 QAT, the ternary StrassenNets stages).

A stage trains a wrapped network (a QuantNet) or a parameter subset at a fixed learning rate, which
`srhw.train.loop.train` (a zoo model from a spec, the paper's lr schedule, checkpoints) does not; both
run the one Adam/L1 step loop, `srhw.train.steps`, on the same data pieces (T91 patches, `get_batch`):
batch 16 of 48x48 LR patches, one "epoch" = 1000 iterations (srhw/data/patches.py).
"""

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from srhw.data import default_data_dir, open_dataset
from srhw.data.patches import ITERS_PER_EPOCH, PatchDataset, get_batch
from srhw.core.errors import SrhwError


@dataclass
class StageConfig:
    """One training stage. `iters` (if set) overrides `epochs * ITERS_PER_EPOCH`."""

    epochs: float = 5  # INT8: "retrain for an additional 5 epochs" (paper section 5.1)
    lr: float = 5e-5  # ... "with a learning rate of 5e-5"
    iters: int | None = None
    batch: int = 16  # paper: mini-batch 16
    seed: int = 0
    patch: int = 48  # LR patch side (paper: 48x48); smaller patches for CPU budgets
    loss: str = "l1"  # the paper's; "l2" keeps an MSE-trained network (FSRCNN, ESPCN) on its own objective

    @property
    def total(self) -> int:
        return int(self.iters) if self.iters is not None else int(round(self.epochs * ITERS_PER_EPOCH))


def patch_dataset(data_dir, train_set: str, scale: int, patch: int = 48, seed: int = 0, channels: int = 3) -> PatchDataset:
    """LR/HR training patches of `train_set` under `data_dir` (default T91), as srhw.train uses them
    (`channels=1`: Y patches for the Y-channel networks)."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    if not data_dir.is_dir():
        raise SrhwError(f"data folder {data_dir} does not exist (set --data or $SRHW_DATA)")
    try:
        return PatchDataset.from_folder(open_dataset(data_dir, train_set, scale), patch=patch, seed=seed,
                                        channels=channels)
    except ValueError as e:
        raise SrhwError(f"{train_set}: {e}") from None


def finetune(net: torch.nn.Module, params, dataset: PatchDataset, stage: StageConfig, log=None) -> dict:
    """Run `stage.total` Adam steps of `stage.loss`(net(LR), HR) on `params`; returns {'iters', 'loss', 'seconds'}."""
    from srhw.train.loop import LOSSES

    if stage.loss not in LOSSES:
        raise SrhwError(f"unknown loss {stage.loss!r}: use {' or '.join(LOSSES)}")
    params = [p for p in params if p.requires_grad]
    if stage.total < 0:
        raise SrhwError("iterations must be >= 0")
    if stage.total == 0 or not params:
        return {"iters": 0, "loss": None, "seconds": 0.0}
    from srhw.train.steps import adam, steps

    opt = adam(params, stage.lr)
    net.train()
    t0, losses = time.perf_counter(), []
    batch_of = lambda i: get_batch(dataset, stage.seed * 1_000_003 + i, stage.batch)  # noqa: E731
    loss_of = LOSSES[stage.loss]
    fn = lambda y, hr: loss_of(y.float(), hr)  # noqa: E731 - a QuantNet may return another dtype
    for done, loss, _ in steps(net, opt, batch_of, 0, stage.total, loss=fn):
        losses.append(loss)
        if log and done % 100 == 0:
            log(f"step {done}/{stage.total} {stage.loss.upper()} {sum(losses[-100:]) / len(losses[-100:]):.3f}")
    net.eval()
    tail = losses[-min(len(losses), 100):]
    return {"iters": stage.total, "loss": sum(tail) / len(tail), "seconds": time.perf_counter() - t0}

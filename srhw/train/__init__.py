"""Training with the paper's recipe (section 3, "Implementation Details", following EDSR): `srhw train`.

* `config.TrainConfig` — the recipe as dataclass defaults (Adam, batch 16, 48x48 LR patches, L1, lr 1e-4
  halved at epoch 200 of 300, x3/x4 initialised from x2).
* `state` — the exact-resume training state (weights, optimizer, RNGs, step) in a safetensors file.
* `loop.train(cfg)` — the loop: checkpoints, CSV log, Set5 validation, optional DDP (torchrun).
"""

from srhw.train.config import TrainConfig


def __getattr__(name):
    if name == "train":  # the loop needs torch; the config (and `srhw train --help`) does not
        from srhw.train.loop import train

        return train
    raise AttributeError(f"module 'srhw.train' has no attribute {name!r}")


__all__ = ["TrainConfig", "train"]

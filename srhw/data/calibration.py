"""Calibration batches for post-training quantization: the LR images on which srhw.quant measures its ranges.

Two sources, one per kind of caller; both give float (B, C, h, w) tensors in [0, 255], C = 3 (RGB) or 1 (Y), and
never touch a test set:

  * `t91_crops(data_dir, scale, channels)`: the first n T91 HR images with room for a (size*scale)^2 top-left
    crop, downscaled by MATLAB-exact bicubic, one batch. `srhw build` uses it when it quantizes a float
    checkpoint (or random weights) itself: deterministic and cheap, with no training set to open. A Y model
    (channels=1) gets the MATLAB rgb2ycbcr Y of each LR crop, as PatchDataset and evaluation feed Y models.
  * `patch_batches(dataset, n)`: n batches of random LR patches of a PatchDataset (its channels). The
    recipes that fine-tune after calibrating (srhw.quant.int8, srhw.quant.ternary) use it: they calibrate on
    the very patches they train on, drawn from steps disjoint from the first training steps.
"""

from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError

PATCH_STEP0 = 10_000  # patch_batches draws steps from here: disjoint from the first QAT steps


def t91_crops(data_dir: Path, scale: int, channels: int = 3, n: int = 4, size: int = 48):
    """[one (n', C, size, size) batch]: LR top-left crops of the first n T91 HR images large enough for them."""
    import torch

    from srhw.data.folders import read_image, to_rgb
    from srhw.data.imresize import imresize
    from srhw.data.patches import y_of

    if channels not in (1, 3):
        raise SrhwError(f"calibration crops are 1-channel (Y) or 3-channel (RGB), not {channels}")
    out = []
    for f in sorted((Path(data_dir) / "T91" / "HR").glob("*")):
        if len(out) == n:
            break
        hr = to_rgb(read_image(f))
        if min(hr.shape[:2]) < size * scale:  # too small for a full crop at this scale (some T91 images at x4)
            continue
        lr = imresize(hr[: size * scale, : size * scale], 1 / scale)
        if channels == 1:
            lr = y_of(lr)
        out.append(torch.from_numpy(np.ascontiguousarray(lr)).permute(2, 0, 1)[None].float())
    if not out:
        raise SrhwError(f"no T91 image of at least {size * scale} px under {data_dir} for calibration")
    return [torch.cat(out)]


def patch_batches(dataset, n: int, batch: int = 16):
    """The LR patches (B, C, p, p) of `n` training batches of `dataset` (a PatchDataset), from step PATCH_STEP0."""
    from srhw.data.patches import get_batch

    return [get_batch(dataset, PATCH_STEP0 + i, batch)[0] for i in range(n)]

"""Training patches as in EDSR (Lim et al., 2017, section 4.2) and the paper's section 3.

Each sample is a random `patch` x `patch` LR crop (48 x 48 in the paper) and the matching
(patch*s) x (patch*s) HR crop, augmented with a random horizontal flip and a random 90-degree rotation
(k in 0..3; together the 8 symmetries of the square, as EDSR's hflip/vflip/transpose). Images are chosen
uniformly at random. Tensors are float32 RGB in [0, 255]; the DIV2K mean is subtracted inside the model.

Determinism (for bit-exact resume): sample i is a pure function of (seed, i): its RNG is
`np.random.default_rng([seed, i])`. A run that has done `step` iterations of batch B has consumed samples
[0, step*B), so the data sampler's whole state is `step` (see `batch_indices`).

"Epoch": EDSR trains on DIV2K repeated so that one epoch = `test_every` = 1000 iterations of batch 16
(16,000 patches). We use the same definition, ITERS_PER_EPOCH = 1000 iterations, whatever the training set
(T91 here, standing in for DIV2K): the paper's 300 epochs = 300k iterations, halving at 200k.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

from srhw.data.folders import to_rgb


def y_of(rgb):
    """uint8 (H, W, 1) MATLAB rgb2ycbcr Y (rounded, as MATLAB's uint8 output) of a uint8 RGB image."""
    from srhw.data.ycbcr import rgb2y

    return rgb2y(rgb).astype(np.uint8)[:, :, None]

from srhw.data import ITERS_PER_EPOCH  # noqa: E402 - defined beside the data root, torch-free (TrainConfig)


def augment(img, hflip, rot):
    """Horizontal flip, then rotate by rot * 90 degrees, of an (H, W, C) array."""
    if hflip:
        img = img[:, ::-1]
    return np.rot90(img, rot, axes=(0, 1))


class PatchDataset(Dataset):
    """Random LR/HR patch pairs, held decoded in memory.

    Args:
        pairs (list[tuple[np.ndarray, np.ndarray]]): (HR uint8 (h*s, w*s, 3), LR uint8 (h, w, 3)) pairs,
            HR already modcropped.
        scale (int): SR factor s.
        patch (int): LR patch size. Default: 48 (paper).
        seed (int): base seed; sample i depends only on (seed, i).
        length (int): nominal length (samples per "epoch" by default: ITERS_PER_EPOCH * 16).
    """

    def __init__(self, pairs, scale, patch=48, seed=0, length=ITERS_PER_EPOCH * 16, channels=3):
        self.scale, self.patch, self.seed, self.length = int(scale), int(patch), int(seed), int(length)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (Y) or 3 (RGB), not {channels}")
        self.channels = channels
        self.pairs = []
        for hr, lr in pairs:
            hr, lr = to_rgb(hr), to_rgb(lr)
            if channels == 1:  # Y models: MATLAB rgb2ycbcr luma of the LR and HR RGB images, as evaluation feeds them
                hr, lr = y_of(hr), y_of(lr)
            if hr.shape[:2] != (lr.shape[0] * self.scale, lr.shape[1] * self.scale):
                raise ValueError(f"HR {hr.shape} is not x{scale} of LR {lr.shape}")
            if min(lr.shape[:2]) >= self.patch:
                self.pairs.append((np.ascontiguousarray(hr), np.ascontiguousarray(lr)))
        if not self.pairs:
            raise ValueError(f"no image has an LR side >= patch size {patch}")
        self.skipped = len(pairs) - len(self.pairs)

    @classmethod
    def from_folder(cls, folder, patch=48, seed=0, **kw):
        """`channels=1` gives Y patches (H, W, 1) instead of RGB."""
        """Decode every image of a PairedFolder once (its LR made by imresize where not on disk)."""
        items = list(folder)
        return cls([(it.hr, it.lr_rgb) for it in items], folder.scale, patch=patch, seed=seed, **kw)

    def __len__(self):
        return self.length

    def sample(self, i):
        """(LR patch uint8 (p, p, 3), HR patch uint8 (ps, ps, 3)) of global sample index i (any i >= 0)."""
        rng = np.random.default_rng([self.seed, int(i)])
        hr, lr = self.pairs[rng.integers(len(self.pairs))]
        p, s = self.patch, self.scale
        y = rng.integers(lr.shape[0] - p + 1)
        x = rng.integers(lr.shape[1] - p + 1)
        hflip, rot = bool(rng.integers(2)), int(rng.integers(4))
        lr_p = augment(lr[y : y + p, x : x + p], hflip, rot)
        hr_p = augment(hr[y * s : (y + p) * s, x * s : (x + p) * s], hflip, rot)
        return lr_p, hr_p

    def __getitem__(self, i):
        lr_p, hr_p = self.sample(i)
        to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float()  # noqa: E731
        return to_t(lr_p), to_t(hr_p)  # (C, p, p), (C, p*s, p*s); C = 3 (RGB) or 1 (Y)


def batch_indices(step, batch_size, rank=0, world_size=1):
    """Sample indices of iteration `step` for one rank: every rank draws disjoint samples."""
    start = (step * world_size + rank) * batch_size
    return range(start, start + batch_size)


def get_batch(dataset, step, batch_size, rank=0, world_size=1):
    """Stack the batch of iteration `step`: (LR (B, C, p, p), HR (B, C, ps, ps))."""
    lrs, hrs = zip(*(dataset[i] for i in batch_indices(step, batch_size, rank, world_size)))
    return torch.stack(lrs), torch.stack(hrs)

"""Data for srhw: MATLAB-exact bicubic degradation, benchmark/DIV2K/T91 folders, training patches.

* `imresize` — MATLAB `imresize(..., 'bicubic')`, bit-exact (srhw/data/imresize.py).
* `folders` — `<set>/HR` + `<set>/LR_bicubic/X<s>` benchmark layout, DIV2K layout, HR-only folders (T91).
* `patches` — random 48x48 LR / 48s x 48s HR training patches with flips and 90-degree rotations.

The data root is `$SRHW_DATA`, default `<repo>/../shared/data` (see shared/data/MANIFEST.md).
"""

import os
from pathlib import Path

DEFAULT_SETS = "Set5,Set14,B100,Urban100"  # the paper's four benchmark sets, in its order
ITERS_PER_EPOCH = 1000  # EDSR `--test_every 1000` at batch 16: one "epoch" = 16,000 patches (srhw.data.patches)


def default_data_dir():
    """`$SRHW_DATA` if set, else `<repo>/../shared/data`."""
    env = os.environ.get("SRHW_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


from srhw.data.imresize import imresize  # noqa: E402 - numpy only; eager, as the name is also its module's

# name -> module, imported on first use (PEP 562): `--help` and the training config need no PIL.
_LAZY = dict.fromkeys(("SRImage", "PairedFolder", "benchmark_folder", "div2k_folder", "hr_only_folder",
                       "open_dataset", "modcrop", "read_image", "to_rgb"), "folders")


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"srhw.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'srhw.data' has no attribute {name!r}")


__all__ = [
    "DEFAULT_SETS", "ITERS_PER_EPOCH", "default_data_dir", "imresize", "SRImage", "PairedFolder", "benchmark_folder",
    "div2k_folder", "hr_only_folder", "open_dataset", "modcrop", "read_image", "to_rgb",
]

"""The one slug scheme: a zoo spec as a file or folder name.

`slug("st_bl(r=2c_out)", 2)` -> `st_bl_r_2c_out-x2`: every character but letters, digits, `-`, `_`
and `.` becomes `_`. Shipped checkpoints (`models/<slug>.safetensors`), build folders, training runs and
study runs are all named with it. `run_folder` still finds a run folder written under the older run
naming (`st_bl_r2c_out_x2`), so `--resume` of such a run keeps working.
"""

import re
from pathlib import Path


def slug(spec: str, scale: int | None = None) -> str:
    s = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in spec).strip("_")
    return s if scale is None else f"{s}-x{scale}"


def legacy_run_slug(spec: str, scale: int) -> str:
    """The run-folder name used before the one scheme: 'blrn-e(r=2)[rg+u]' x3 -> 'blrn-e_r2_rg+u_x3'."""
    s = re.sub(r"[^A-Za-z0-9+_-]+", "_", spec.replace("=", "")).strip("_")
    return f"{s}_x{scale}"


def run_folder(parent, spec: str, scale: int) -> Path:
    """`parent/<slug>`, or the folder of the older naming when only that one exists (a run to resume)."""
    new, old = Path(parent) / slug(spec, scale), Path(parent) / legacy_run_slug(spec, scale)
    return old if old.is_dir() and not new.exists() else new


MODELS = Path(__file__).resolve().parents[2] / "models"


def shipped_checkpoint(spec: str, scale: int) -> Path:
    """Where the shipped checkpoint of a (canonical) spec lives: models/<slug>.safetensors (it may not exist)."""
    return MODELS / f"{slug(spec, scale)}.safetensors"

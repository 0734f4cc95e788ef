"""DDP through torchrun on CPU (gloo): two ranks of batch B train to the same weights as one process of batch 2B.

DDP averages the ranks' gradients, each rank's loss is the mean over its own B patches, and the ranks draw
disjoint halves of the one-process batch (srhw.data.patches.batch_indices), so both runs take the same Adam
steps up to float rounding of the all-reduce. Slow: two torch processes start (~20-40 s on 2 cores).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srhw.core.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
TINY = {"num_feat": 16, "num_group": 1, "num_block": 1}


def _torchrun():
    exe = Path(sys.executable).with_name("torchrun")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "torch.distributed.run"]


@pytest.mark.slow
def test_torchrun_two_ranks_equal_one_process(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "Tiny" / "HR").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(tmp_path / "Tiny" / "HR" / f"{i}.png")
    common = ["-m", "srhw", "train", "--model", "bl", "--model-args", json.dumps(TINY), "--data", "Tiny",
              "--data-dir", str(tmp_path), "--iters", "3", "--patch", "8", "--val-every", "-1", "--threads", "1",
              "--lr", "1e-3", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, *common, "--batch", "4", "--out", str(tmp_path / "one")],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([*_torchrun(), "--standalone", "--nproc_per_node", "2", *common, "--batch", "2",
                          "--out", str(tmp_path / "two")], capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    a, ma = load_checkpoint(tmp_path / "one" / "model.safetensors")
    b, mb = load_checkpoint(tmp_path / "two" / "model.safetensors")
    assert ma["step"] == mb["step"] == 3 and a.keys() == b.keys()
    init = {k: v for k, v in a.items()}
    moved = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert moved < 1e-5, f"DDP weights differ from one process by {moved}"
    # the comparison can fail: a run with a different seed ends elsewhere
    other = subprocess.run([sys.executable, *common, "--batch", "4", "--seed", "1", "--out", str(tmp_path / "other")],
                           capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert other.returncode == 0, other.stderr[-2000:]
    c, _ = load_checkpoint(tmp_path / "other" / "model.safetensors")
    assert max(float((init[k] - c[k]).abs().max()) for k in a) > 1e-3

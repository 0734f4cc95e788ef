"""srhw.train: the paper's recipe as defaults, x2 -> x4 init, and bit-exact resume on CPU (tiny budgets)."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from srhw.core.checkpoint import load_checkpoint
from srhw.eval.evaluate import validate_psnr
from srhw.train import TrainConfig
from srhw.train import train as _train


def train(cfg, **kw):
    return _train(cfg, validate=validate_psnr, **kw)  # Set5 validation is the evaluation protocol's

REPO = Path(__file__).resolve().parents[1]
TINY = dict(num_feat=16, num_group=1, num_block=1)  # a small `bl` (channel attention needs num_feat >= 16)


@pytest.fixture()
def tiny_data(tmp_path):
    """An HR-only folder (the T91 code path: LR made by imresize) of 3 random images, plus a 'Set5'."""
    rng = np.random.default_rng(0)
    for name, n in (("Tiny", 3), ("Set5", 2)):
        (tmp_path / name / "HR").mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(tmp_path / name / "HR" / f"{i}.png")
    return tmp_path


def _cfg(data, out, **kw):
    base = TrainConfig(spec="bl", scale=2, model_args=TINY, data="Tiny", data_dir=str(data), patch=8, batch=2,
                       iters=7, ckpt_every=2, log_every=1, val_every=3, out=str(out), threads=1)
    return replace(base, **kw)


def test_paper_recipe_defaults():
    c = TrainConfig()
    assert (c.batch, c.patch, c.lr, c.betas, c.eps) == (16, 48, 1e-4, (0.9, 0.999), 1e-8)
    assert c.total_iters == 300_000 and c.milestones == [200_000]  # 300 epochs of 1000 its, halve at 200
    assert c.lr_at(199_999) == 1e-4 and c.lr_at(200_000) == 5e-5
    assert replace(c, iters=30).milestones == [20]  # --iters keeps the 200/300 proportion


def test_resume_is_bit_identical(tiny_data, tmp_path):
    full = train(_cfg(tiny_data, tmp_path / "full"), progress=False)
    assert full["done"] and full["step"] == 7
    part = train(_cfg(tiny_data, tmp_path / "part", stop_at=5), progress=False)  # "killed" after step 5 ...
    assert not part["done"] and part["step"] == 5  # ... last checkpoint at step 4: step 5 is lost
    _, meta = load_checkpoint(tmp_path / "part" / "model.safetensors")
    assert meta["step"] == 4
    with pytest.raises(Exception, match="pass --resume"):
        train(_cfg(tiny_data, tmp_path / "part"), progress=False)
    res = train(_cfg(tiny_data, tmp_path / "part"), resume=True, progress=False)
    assert res["done"] and res["step"] == 7
    a, ma = load_checkpoint(tmp_path / "full" / "model.safetensors")
    b, mb = load_checkpoint(tmp_path / "part" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), "weights differ after resume"
    assert ma["step"] == mb["step"] == 7 and ma["metrics"] == mb["metrics"]
    assert (tmp_path / "full" / "log.csv").read_text() == (tmp_path / "part" / "log.csv").read_text()
    sa, sb = (load_file(tmp_path / d / "train_state.safetensors") for d in ("full", "part"))
    assert any(k.startswith("optim.") for k in sa) and "rng.torch" in sa
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)  # Adam moments, RNGs too
    # a different seed really changes the result (the comparison above can fail)
    other = train(_cfg(tiny_data, tmp_path / "other", seed=1), progress=False)
    c, _ = load_checkpoint(Path(other["out"]) / "model.safetensors")
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_log_has_loss_lr_and_val_psnr(tiny_data, tmp_path):
    train(_cfg(tiny_data, tmp_path / "r", iters=6, lr=1e-3), progress=False)
    rows = [r.split(",") for r in (tmp_path / "r" / "log.csv").read_text().strip().splitlines()]
    assert rows[0] == ["step", "loss", "lr", "val_psnr"] and [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4, 5, 6]
    assert [float(r[2]) for r in rows[1:]] == [1e-3] * 4 + [5e-4] * 2  # halved at 2/3 of the run
    assert rows[3][3] and rows[6][3] and not rows[1][3]  # validated at 3 and at the end
    assert 0 < float(rows[3][3]) < 60


def test_init_x4_from_x2_copies_all_but_upsampler(tiny_data, tmp_path):
    train(_cfg(tiny_data, tmp_path / "x2", iters=2, val_every=-1), progress=False)
    x2, _ = load_checkpoint(tmp_path / "x2" / "model.safetensors")
    cfg = _cfg(tiny_data, tmp_path / "x4", scale=4, iters=1, lr=0.0, val_every=-1, patch=6,
               init=str(tmp_path / "x2" / "model.safetensors"))
    train(cfg, progress=False)
    x4, meta = load_checkpoint(tmp_path / "x4" / "model.safetensors")
    assert meta["scale"] == 4
    body = [k for k in x4 if not k.startswith("upsample.")]
    assert body and all(torch.equal(x4[k], x2[k]) for k in body)  # lr = 0: still the x2 weights
    from srhw.core.errors import SrhwError

    with pytest.raises(SrhwError, match="does not fit"):
        train(replace(cfg, out=str(tmp_path / "x4b"), model_args=dict(TINY, num_feat=32)), progress=False)


def test_cli_train_and_bad_input(tiny_data, tmp_path, srhw_main):
    cmd = [sys.executable, "-m", "srhw", "train", "--model", "bl", "--model-args", '{"num_feat": 16, "num_group": 1, "num_block": 1}',
           "--train-set", "Tiny", "--data", str(tiny_data), "--iters", "2", "--patch", "8", "--batch", "2",
           "--val-every", "-1", "--threads", "1", "--out", str(tmp_path / "cli")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout and (tmp_path / "cli" / "model.safetensors").is_file()
    r = srhw_main(*cmd[3:-2], "--out", tmp_path / "cli2", "--train-set", "Nope")  # in-process: the same parser and error path
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Nope" in r.stderr, r.stderr

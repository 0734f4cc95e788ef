"""`srhw compare`: the figure's geometry, its panels (pixels and labels), whole-image PSNR/SSIM, and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srhw.eval import compare
from srhw.core.checkpoint import save_checkpoint
from srhw.cli import main
from srhw.data import imresize
from srhw.eval.evaluate import network_upscaler
from srhw.eval.metrics import psnr_ssim
from srhw.models import build

REPO = Path(__file__).resolve().parents[1]
TINY = dict(num_feat=16, num_group=1, num_block=1)
HR_H, HR_W = 48, 64


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 'Set5' holding 'butterfly' (HR only: LR by imresize) and random-weight tiny bl checkpoints at x2 and x3."""
    root = tmp_path_factory.mktemp("cmp")
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:HR_H, 0:HR_W]
    hr = np.stack([128 + 90 * np.sin(x / 4 + c) * np.cos(y / 6) for c in range(3)], -1)
    hr = np.clip(hr + rng.normal(0, 4, hr.shape), 0, 255).astype(np.uint8)
    (root / "data" / "Set5" / "HR").mkdir(parents=True)
    Image.fromarray(hr).save(root / "data" / "Set5" / "HR" / "butterfly.png")
    ckpts = {}
    for s in (2, 3):
        torch.manual_seed(s)
        model = build("bl", s, **TINY)
        ckpts[s] = save_checkpoint(root / f"bl_x{s}" / "model.safetensors", model,
                                   {"spec": "bl", "scale": s, "model_args": TINY, "step": 0})
    return root, hr, ckpts


def compare_args(root, out, models, crop="10,8,20,16", scale=2, image="Set5/butterfly", zoom="2"):
    return ["compare", "--image", image, "--scale", str(scale), "--models", models, "--crop", crop,
            "--data", str(root / "data"), "--out", str(out), "--zoom", zoom]


def test_figure_size_panels_and_whole_image_scores(setup, capsys):
    root, hr, ckpts = setup
    out = root / "fig.png"
    assert main(compare_args(root, out, f"bicubic,{ckpts[2].parent}")) == 0  # a run folder works as a model
    with Image.open(out) as im:
        img = np.asarray(im.convert("RGB"))
        meta = json.loads(im.text[compare.PNG_KEY])
    # geometry: overview (64x48 scaled to the panel height 32) + HR crop + 2 model crops of 20x16 at zoom 2
    P, L = compare.PAD, compare.LINE_H
    ow = round(HR_W * 32 / HR_H)
    assert img.shape == (P + 32 + (compare.LABEL_LINES + compare.CAPTION_LINES) * L + P,
                         P + ow + 3 * (P + 40) + P, 3)
    # the HR panel is the HR crop enlarged 2x, nearest neighbour
    x0 = P + ow + P
    want = np.repeat(np.repeat(hr[8:24, 10:30], 2, axis=0), 2, axis=1)
    assert np.array_equal(img[P : P + 32, x0 : x0 + 40], want)
    # labels: scores of the WHOLE image (not the crop), recomputed here
    sr_bic = imresize(imresize(hr, 1 / 2), 2)
    model = build("bl", 2, **TINY)
    from srhw.core.checkpoint import load_into

    load_into(model, ckpts[2])
    sr_net = network_upscaler(model, 2)(imresize(hr, 1 / 2))
    labels = [m["label"] for m in meta["models"]]
    assert labels == ["bicubic", "bl"]
    for m, sr in zip(meta["models"], (sr_bic, sr_net)):
        p, s = psnr_ssim(sr, hr, 2)
        assert (m["psnr"], m["ssim"]) == pytest.approx((p, s), abs=1e-9)
    crop_p, _ = psnr_ssim(sr_bic[8:24, 10:30], hr[8:24, 10:30], 2)
    assert abs(crop_p - meta["models"][0]["psnr"]) > 1e-3  # the crop's score differs: the test can tell them apart
    # the bicubic panel shows the bicubic SR's crop
    x1 = x0 + 40 + P
    assert np.array_equal(img[P : P + 32, x1 : x1 + 40], np.repeat(np.repeat(sr_bic[8:24, 10:30], 2, 0), 2, 1))
    # every panel has label text drawn under it, and the caption says where the scores come from
    for i in range(3):
        px = x0 + i * (40 + P)
        assert (img[P + 32 : P + 32 + 2 * L, px : px + 40] < 128).any(), f"panel {i} has no label"
    assert "whole image" in meta["caption"] and meta["crop"] == [10, 8, 20, 16]
    stdout = capsys.readouterr().out
    assert f"{meta['models'][0]['psnr']:.2f} dB" in stdout


@pytest.mark.parametrize("case, needle", [
    ("unknown image", "no image 'zebra'"),
    ("crop outside", "not inside the 64x48"),
    ("other scale", "x3 checkpoint"),
    ("bad crop", "four integers"),
])
def test_bad_input_one_line_nothing_written(setup, capsys, case, needle):
    root, _, ckpts = setup
    out = root / f"bad_{case.replace(' ', '_')}.png"
    args = {
        "unknown image": compare_args(root, out, "bicubic", image="Set5/zebra"),
        "crop outside": compare_args(root, out, "bicubic", crop="50,40,20,16"),
        "other scale": compare_args(root, out, f"bicubic,{ckpts[3]}"),
        "bad crop": compare_args(root, out, "bicubic", crop="1,2,3"),
    }[case]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert not out.exists() and not list(root.glob(".bad_*"))


def test_cli_exit_code(setup):
    root, _, ckpts = setup
    out = root / "cli.png"
    r = subprocess.run([sys.executable, "-m", "srhw", *compare_args(root, out, f"bicubic,{ckpts[3]}")],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "x3 checkpoint" in r.stderr, r.stderr
    assert not out.exists()

"""Y-channel networks through the pipeline: Y training patches, `srhw eval` scoring the model's Y, INT8 through
the golden model, colour output with bicubic CbCr (tiny models and data; the long runs are documented commands)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from srhw.data import imresize
from srhw.data.patches import PatchDataset
from srhw.data.ycbcr import colour_upscaler, rgb2ycbcr, ycbcr2rgb
from srhw.eval.evaluate import evaluate_set, network_upscaler
from srhw.eval.metrics import psnr, rgb2y
from srhw.models import build

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture()
def tiny_data(tmp_path):
    rng = np.random.default_rng(0)
    for name, n in (("Tiny", 3), ("Set5", 2)):
        (tmp_path / name / "HR").mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / name / "HR" / f"{i}.png")
    Image.fromarray(rng.integers(0, 256, (36, 44), dtype=np.uint8)).save(tmp_path / "Set5" / "HR" / "grey.png")
    return tmp_path


def test_y_patches_are_matlab_y():
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    lr = imresize(hr, 0.5)
    ds = PatchDataset([(hr, lr)], 2, patch=12, seed=0, channels=1)
    lr_p, hr_p = ds[0]
    assert lr_p.shape == (1, 12, 12) and hr_p.shape == (1, 24, 24)
    y = rgb2y(hr)  # the patch is the whole image here, so it is one of the 8 flips/rotations of its Y
    syms = [np.rot90(a, k) for a in (y, y[:, ::-1]) for k in range(4)]
    assert any(np.array_equal(hr_p[0].numpy(), s_) for s_ in syms)
    with pytest.raises(ValueError):
        PatchDataset([(hr, lr)], 2, patch=12, channels=2)


def test_eval_scores_the_models_y(tiny_data):
    from srhw.data import open_dataset

    folder = open_dataset(tiny_data, "Set5", 2)
    torch.manual_seed(0)
    net = build("espcn(c1=4,c2=4)", 2)
    up = network_upscaler(net, 2)
    assert up.channels == 1
    res = evaluate_set(up, folder, progress=False)
    for item, r in zip(folder, res["per_image"]):
        if item.hr.ndim == 2:  # grey: the grey values themselves, as the MATLAB scripts do
            ref = psnr(up(item.lr_rgb[:, :, 0]), item.hr, 2)
        else:
            ref = psnr(up(rgb2y(item.lr_rgb).astype(np.uint8)), rgb2y(item.hr), 2)
        assert r["psnr"] == pytest.approx(ref)


def test_colour_output_uses_bicubic_cbcr():
    rng = np.random.default_rng(2)
    lr = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    ycc = rgb2ycbcr(lr)
    assert np.array_equal(ycc[:, :, 0], rgb2y(lr))
    assert np.abs(ycbcr2rgb(ycc).astype(int) - lr).max() <= 2  # 8-bit YCbCr round trip
    sr = colour_upscaler(lambda y: imresize(y, 2), 2)(lr)
    assert sr.shape == (20, 24, 3)
    inside = ((sr > 0) & (sr < 255)).all(axis=2)  # where RGB did not clip, the CbCr are the bicubic ones
    assert inside.mean() > 0.5
    for c in (1, 2):
        assert np.abs(rgb2ycbcr(sr)[:, :, c].astype(int) - imresize(ycc[:, :, c], 2))[inside].max() <= 1


@pytest.fixture()
def srhw_ok(srhw_main, monkeypatch):
    """`srhw ARGS` in-process from the checkout (each command's real-process contract is tested in its own file:
    test_train, test_eval, test_quant_cli); every stage still reads the previous one's files from disk."""
    monkeypatch.chdir(REPO)

    def run(*args):
        r = srhw_main(*args)
        assert r.returncode == 0, r.stderr
        return r

    return run


@pytest.mark.parametrize("spec,act_scales,eq,bc,gq", [("sesr(f=4,m=1,p=8)", "any", "0", False, True),
                                                     ("fsrcnn(d=4,s=2,m=1)", "pow2", "0.5", True, False)])
def test_train_eval_quantize_y_model(spec, act_scales, eq, bc, gq, tiny_data, tmp_path, srhw_ok):
    run = tmp_path / "run"
    srhw_ok("train", "--model", spec, "--scale", "2", "--train-set", "Tiny", "--data", str(tiny_data), "--iters", "3",
            "--patch", "8", "--batch", "2", "--val-every", "-1", "--threads", "1", "--loss", "l2", "--out", str(run))
    meta = json.loads((run / "model.json").read_text())
    assert meta["channels"] == 1
    ev = json.loads(srhw_ok("eval", "--checkpoint", str(run / "model.safetensors"), "--data", str(tiny_data),
                            "--sets", "Set5", "--json").stdout)
    q = tmp_path / "q"
    srhw_ok("quantize", "int8", "--model", spec, "--scale", "2", "--checkpoint", str(run / "model.safetensors"),
            "--data", str(tiny_data), "--train-set", "Tiny", "--iters", "2", "--patch", "8", "--batch", "2",
            "--calib-batches", "1", "--threads", "1", "--act-scales", act_scales, "--equalize", eq, "--out", str(q),
            *(["--bias-correct"] if bc else []), *(["--gptq"] if gq else []))
    g = json.loads((q / "golden" / "graph.json").read_text())
    inner = [t["scale"] for name, t in g["tensors"].items() if name not in ("input", g["output"])]
    pow2 = [math.frexp(s_)[0] == 0.5 for s_ in inner]
    assert all(pow2) if act_scales == "pow2" else not all(pow2), inner
    assert g["meta"]["channels"] == 1 and {n["op"] for n in g["nodes"]} <= {"conv", "add", "concat", "pixel_shuffle"}
    side = json.loads((q / "model.json").read_text())
    assert side["channels"] == 1 and side["model_args"] == {"deploy": True}
    assert side["quant_config"]["pow2_scales"] == (act_scales == "pow2")
    assert side["qat"]["loss"] == "l2"  # QAT keeps the float training's loss (train --loss l2 above)
    assert side["quant_config"]["equalize"] == float(eq)
    pairs = json.loads((q / "report.json").read_text()).get("equalize", [])
    assert len(pairs) == (4 if eq != "0" else 0), pairs  # FSRCNN(4,2,1): 4 conv-ReLU-conv pairs before the tail
    assert side["quant_config"]["bias_correct"] == bc
    corrected = [r["node"] for r in json.loads((q / "report.json").read_text()).get("bias_correct", [])]
    assert corrected == (["body_0", "body_2", "body_4", "body_6", "tail"] if bc else []), corrected
    assert side["quant_config"]["gptq"] == gq
    rounded = [r["node"] for r in json.loads((q / "report.json").read_text()).get("gptq", [])]
    assert rounded == ([n["name"] for n in g["nodes"] if n["op"] == "conv"] if gq else []), rounded
    evq = json.loads(srhw_ok("eval", "--checkpoint", str(q / "model.safetensors"), "--data", str(tiny_data),
                             "--sets", "Set5", "--json").stdout)
    evn = json.loads(srhw_ok("eval", "--checkpoint", str(q / "model.safetensors"), "--engine", "network",
                             "--data", str(tiny_data), "--sets", "Set5", "--json").stdout)
    for r in (ev, evq, evn):
        assert r["results"][0]["images"] == 3 and np.isfinite(r["results"][0]["psnr"])
    # the integer model tracks its float twin closely
    assert abs(evq["results"][0]["psnr"] - evn["results"][0]["psnr"]) < 1.0


def test_table3_marks_cited_rows_and_reads_measured_ones(tmp_path):
    from srhw.core.checkpoint import save_checkpoint
    from srhw.eval.table3 import run_table3

    models = tmp_path / "models"
    models.mkdir()
    net = build("espcn(c1=32,c2=16)", 2)
    save_checkpoint(models / "e-x2.safetensors", net, {"spec": net.spec, "scale": 2, "channels": 1,
                                                         "metrics": {"Set5": {"psnr": 35.5, "ssim": 0.94, "images": 5}}})
    doc = run_table3(tmp_path / "t3", models)
    measured = [r for r in doc["rows"] if r["kind"] == "measured"]
    assert len(measured) == 1 and measured[0]["sets"]["Set5"] == [35.5, 0.94]
    assert measured[0]["mult_adds_g"] == pytest.approx(1.3787136)
    md = (tmp_path / "t3" / "table3.md").read_text()
    cited = [line for line in md.splitlines() if "VDSR" in line or "SESR-M5" in line]
    assert cited and all("*cited*" in line for line in cited)
    assert "35.50/0.9400" in md and (tmp_path / "t3" / "table3.png").stat().st_size > 1000
    assert doc["budgets_g"]["xc7z020"] == pytest.approx(2.2)

"""`srhw quantize int8|ternary` end to end on tiny models and budgets, and its bad-input behaviour."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from srhw.core.checkpoint import load_checkpoint, save_checkpoint
from srhw.cli import main
from srhw.data import default_data_dir, read_image
from srhw.models import build
from srhw.quant import load_graph
from srhw.eval.upscalers import golden_upscaler

TINY = dict(num_feat=16, num_group=1, num_block=1)
REPO = Path(__file__).resolve().parents[1]
BUDGET = ["--train-set", "Set5", "--batch", "2", "--patch", "24", "--calib-batches", "1", "--threads", "1"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny_checkpoint(path, spec="bl"):
    torch.manual_seed(0)
    model = build(spec, 2, **TINY)
    save_checkpoint(path, model, {"spec": model.spec, "scale": 2, "model_args": TINY})
    return model


def lr_crop(size=20):
    return read_image(default_data_dir() / "Set5" / "LR_bicubic" / "X2" / "butterflyx2.png")[:size, :size]


def test_int8_cli_writes_checkpoint_and_golden(tmp_path):
    ck = tmp_path / "bl.safetensors"
    tiny_checkpoint(ck)
    out = tmp_path / "int8"
    rc = main(["quantize", "int8", "--model", "bl", "--scale", "2", "--checkpoint", str(ck), "--out", str(out),
               "--iters", "2", "--tflite", "--tflite-iters", "3", *BUDGET])
    assert rc == 0
    assert (out / "model.tflite").stat().st_size > 0
    # the .tflite comes from the checkpoint retrained under TFLite's scheme: a float zoo checkpoint of its own
    tsd, tmeta = load_checkpoint(out / "tflite_qat.safetensors")
    assert tmeta["quant"] is None and tmeta["qat"]["scheme"] == "tflite" and tmeta["qat"]["iters"] == tmeta["step"] == 3
    source, _ = load_checkpoint(ck)
    assert tsd.keys() == source.keys() and any(not torch.equal(tsd[k], source[k]) for k in tsd)
    sd, meta = load_checkpoint(out / "model.safetensors")
    assert meta["quant"] == "int8" and meta["spec"] == "bl" and meta["step"] == 2 and meta["model_args"] == TINY
    model = build("bl", 2, **TINY)
    model.load_state_dict(sd)  # the float weights after QAT keep the zoo's keys
    graph = load_graph(out / "golden")
    assert graph.meta["quant"] == "int8"
    w = [graph.param(n, "W") for n in graph.nodes if n.op == "conv"]
    assert all(a.dtype == np.int8 and np.abs(a).max() <= 127 for a in w)
    lr = lr_crop()
    sr = golden_upscaler(out / "model.safetensors", 2, "numpy")(lr)
    assert sr.shape == (40, 40, 3) and sr.dtype == np.uint8
    assert np.array_equal(sr, golden_upscaler(out / "model.safetensors", 2, "torch")(lr))
    with torch.no_grad():
        ref = model(torch.from_numpy(lr.transpose(2, 0, 1).copy()).float()[None])[0].round().clamp(0, 255)
    err = (ref.permute(1, 2, 0).numpy() - sr).__abs__().mean()
    assert err < 4.0, f"int8 golden vs float: mean |diff| {err:.2f}"
    report = json.loads((out / "report.json").read_text())
    assert report["widths"]["conv.acc_bits"] <= 32, "int8 convs must fit 32-bit accumulators"
    assert report["tflite"]["qat"]["iters"] == 3 and report["tflite"]["float_weights"] == "tflite_qat.safetensors"
    # srhw eval runs the INT8 checkpoint through its golden model, and the .tflite file through LiteRT
    for ckpt, extra in ((out / "model.safetensors", []), (out / "model.tflite", ["--scale", "2"])):
        res = out / f"eval-{ckpt.suffix[1:]}.json"
        assert main(["eval", "--checkpoint", str(ckpt), *extra, "--sets", "Set5", "--json", "--out", str(res)]) == 0
        (row,) = json.loads(res.read_text())["results"]
        assert row["images"] == 5 and 10 < row["psnr"] < 60


def test_ternary_cli_schedule_and_checkpoint(tmp_path):
    out = tmp_path / "st"
    rc = main(["quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2", "--model-args", json.dumps(TINY),
               "--out", str(out), "--fp-iters", "1", "--ternary-iters", "2", "--frozen-iters", "1", *BUDGET])
    assert rc == 0
    sd, meta = load_checkpoint(out / "model.safetensors")
    assert meta["quant"] == "ternary" and meta["step"] == 4
    model = build("st_bl(r=2c_out)", 2, **TINY)
    model.load_state_dict(sd)
    tern = load_file(str(out / "ternary.safetensors"))
    layers = [name for name, m in model.named_modules() if type(m).__name__ == "SumProductConv2d"]
    assert len(layers) == 7  # head, 2 RCAB convs, RG tail, trunk tail, upsampler conv, tail (1 group of 1 block)
    x = torch.rand(1, 16, 6, 6) * 10
    for name in layers:
        m = model.get_submodule(name)
        cb, cc, a = tern[f"{name}.codes_b"], tern[f"{name}.codes_c"], tern[f"{name}.scale"]
        assert cb.dtype == torch.int8 and set(cb.unique().tolist()) <= {-1, 0, 1}
        assert torch.equal(cb, m.frozen_b) and torch.equal(cc, m.frozen_c) and m.frozen
        assert a.shape == (m.r,)
        xin = x[:, : m.in_ch]
        h = F.conv2d(xin, cb.float(), padding=m.kernel_size // 2, groups=m.groups) * a.view(1, -1, 1, 1)
        y = F.conv2d(h, cc.float(), tern[f"{name}.bias"], groups=m.groups)
        with torch.no_grad():
            assert torch.allclose(y, m(xin), rtol=1e-4, atol=1e-3), name
    graph = load_graph(out / "golden")
    sps = [n for n in graph.nodes if n.op == "sp_conv"]
    assert len(sps) == 7
    for n in sps:  # exactly r integer multiplies per output pixel; requantization is a shift
        r = graph.param(n, "WB").shape[0]
        assert graph.param(n, "A").shape == (r,) and set(n.params) == {"WB", "A", "WC", "B"}
        assert set(np.unique(graph.param(n, "WB"))) <= {-1, 0, 1}
    sr = golden_upscaler(out, 2, "numpy")(lr_crop(12))
    assert sr.shape == (24, 24, 3)
    ops = json.loads((out / "report.json").read_text())["table5"]  # dense and sparsity-aware counts
    assert ops["sparse"]["mults"] == ops["dense"]["mults"] and ops["sparse"]["adds"] < ops["dense"]["adds"]
    psnr = {}
    for engine in ("auto", "network", "golden"):  # auto = the ternary-weight network with float activations
        res = out / f"eval-{engine}.json"
        assert main(["eval", "--checkpoint", str(out / "model.safetensors"), "--engine", engine, "--sets", "Set5",
                     "--json", "--out", str(res)]) == 0
        psnr[engine] = json.loads(res.read_text())["results"][0]["psnr"]
    assert psnr["auto"] == psnr["network"] != psnr["golden"], psnr


def _srhw(*args):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "srhw", *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)


def test_bad_input_one_line_nonzero_nothing_written(tmp_path, srhw_main):
    """The first case through a real `python -m srhw` (the console script's exit status), the rest in-process."""
    ck = tmp_path / "bl.safetensors"
    tiny_checkpoint(ck)
    cases = {
        "other spec": (["quantize", "int8", "--model", "blm1", "--scale", "2", "--checkpoint", str(ck)], "bl"),
        "ternary on bl": (["quantize", "ternary", "--model", "bl", "--scale", "2"], "sum-product"),
        "ternary on a bl checkpoint": (["quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2",
                                        "--checkpoint", str(ck)], "bl"),
        "tflite iters without tflite": (["quantize", "int8", "--model", "bl", "--scale", "2", "--checkpoint", str(ck),
                                         "--tflite-iters", "5"], "--tflite"),
    }
    for i, (what, (args, word)) in enumerate(cases.items()):
        out = tmp_path / what.replace(" ", "_")
        p = (_srhw if i == 0 else srhw_main)(*args, "--out", str(out), *BUDGET)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and word in lines[0], (what, p.stderr)
        assert not out.exists(), what
    existing = tmp_path / "exists"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    p = srhw_main("quantize", "int8", "--model", "bl", "--scale", "2", "--checkpoint", str(ck), "--out", str(existing),
              "--iters", "0", *BUDGET)
    assert p.returncode == 2 and "--force" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert [f.name for f in existing.iterdir()] == ["keep.txt"]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["bl.json", "bl.safetensors", "exists"]  # no temp folders left


def test_init_from_bl_reproduces_bl_then_ternarises(tmp_path, srhw_main):
    """--init-bl: st_bl starts as an m-term ternary expansion of bl (closer with larger m); the schedule runs from there."""
    from srhw.quant.ternary import init_from_bl, sp_layers

    ck = tmp_path / "bl.safetensors"
    bl = tiny_checkpoint(ck).eval()
    x = torch.rand(1, 3, 10, 10) * 255
    err = {}
    for m_ in (1, 2, 6):
        st = build(f"st_bl(r={m_}c_out)", 2, **TINY).eval()
        init_from_bl(st, ck)
        with torch.no_grad():
            full = st(x)
            for _, m in sp_layers(st):
                m.mode = "ternary"
                cc = m.ternary()[2]
                assert torch.equal(cc.flatten(1), torch.eye(m.out_ch).repeat(1, m_)), "W_c = [I | ... | I] exactly"
            torch.testing.assert_close(st(x), full, rtol=1e-4, atol=1e-3)  # both modes compute the expansion
            err[m_] = (full - bl(x)).abs().mean().item()
    assert err[6] < err[2] < err[1], err
    out = tmp_path / "st"
    rc = main(["quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2", "--model-args", json.dumps(TINY),
               "--init-bl", str(ck), "--out", str(out), "--ternary-iters", "1", "--frozen-iters", "1", *BUDGET])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert report["init_bl"] == str(ck) and report["stages"]["fp"]["iters"] == 0  # no from-scratch fp stage
    p = srhw_main("quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2", "--init-bl", str(out / "model.safetensors"),
              "--out", str(tmp_path / "bad"))
    assert p.returncode == 2 and "Traceback" not in p.stderr and not (tmp_path / "bad").exists()

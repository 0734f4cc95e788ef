"""`srhw build` end to end through the CLI: report keys, C-sim, bad input (determinism: test_report.py, against its shared build)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from srhw.core.checkpoint import save_checkpoint
from srhw.models import build, freeze_all

TINY = {"num_feat": 16, "num_group": 1, "num_block": 1}  # CA needs num_feat >= 16 (reduction 16)


def run_cli(*args, cwd=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "srhw", "build", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def tiny_checkpoint(folder: Path, spec="st_bl(r=2c_out)", seed=0) -> Path:
    torch.manual_seed(seed)
    m = freeze_all(build(spec, 2, **TINY))
    return save_checkpoint(folder / f"tiny-{seed}.safetensors", m, {"spec": spec, "scale": 2, "model_args": TINY})


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


def leftovers(parent: Path):
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_build_with_csim_is_bit_exact(ckpt, tmp_path):
    out = tmp_path / "b"
    r = run_cli("--model", "st_bl", "--r", "2c_out", "--part", "xc7z020", "--checkpoint", str(ckpt),
                "--out", str(out), "--csim", "--csim-crop", "8")
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((out / "report.json").read_text())
    for k in ("part", "capacity", "totals", "fits", "layers", "fps_720p", "clock_mhz", "csim"):
        assert k in rep, k
    assert rep["part"] == "xc7z020clg400-1" and rep["capacity"]["dsp"] == 220, "a bare xc7z020 is the PYNQ boards' part"
    assert rep["part_choice"]["default_board"] == "PYNQ-Z1 / PYNQ-Z2" and "PYNQ-Z1" in (out / "report.md").read_text()
    assert set(rep["totals"]) >= {"lut", "ff", "dsp", "bram"} and rep["totals"]["source"] == "analytic"
    assert all({"name", "mults_per_pixel", "adds_per_pixel", "reuse_factor"} <= set(l) for l in rep["layers"])
    cs = rep["csim"]
    assert cs["ran"] and cs["checked"] == 6 * 16 * 16 * 3, "6 images of 8x8 LR -> 16x16x3 outputs each"
    assert cs["mismatches"] == 0, "hls4ml C-sim must equal the golden model on every output value"
    assert rep["fps_720p"] > 0 and rep["clock_mhz"] == 150
    assert (out / "hls" / "firmware" / "srhw_sr.cpp").is_file() and (out / "report.md").is_file()
    assert (out / "golden" / "graph.json").is_file()
    assert "analytic estimates" in (out / "report.md").read_text()
    rtl = rep["rtl"]
    assert {"muls", "adds", "lut", "ff", "carry4", "dsp", "bram", "fps_720p", "roofline_fps"} <= set(rtl), rtl
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page and "</html>" in page
    eng = rep["engine"]
    assert eng["dir"] == "engine" and eng["architecture"] == "layer-sequential" and eng["lanes"]["lanes"] >= 1
    assert {"lanes", "simd", "tsimd", "b_lanes", "c_lanes", "c_tsimd"} <= set(eng["config"])
    assert eng["config"]["lanes"] == eng["lanes"]["lanes"]
    cfg_h = (out / "engine" / "srhw_config.h").read_text()
    assert all(f"#define SRHW_{k.upper()} {v}" in cfg_h for k, v in eng["config"].items()), "engine/ is the reported datapath"
    assert eng["csim"]["ran"] and eng["csim"]["checked"] == cs["checked"], "the engine sees step_csim's images"
    assert eng["csim"]["mismatches"] == 0, "engine C-sim must equal the golden model on every output value"
    assert eng["csim"]["source"] == "g++ C-simulation of hls/engine" and "never synthesised" in eng["vitis_hls"]
    assert (out / "engine" / "srhw_engine.cpp").is_file() and (out / "engine" / "script.tcl").is_file()
    notes = " ".join(rep["notes"])
    assert "has no HLS code" not in notes and "engine/" in notes and "never synthesised" in notes
    assert "Layer-sequential engine" in (out / "report.md").read_text() and "C-sim (g++" in page
    assert leftovers(tmp_path) == [], "temporary build folders left behind"
    assert not any(p.name.startswith(("csim-", "engine-csim-")) for p in out.iterdir()), "C-sim scratch left in the build"


def _bad(args, tmp_path, expect, run=None):
    """`run`: the in-process `srhw_main` fixture (tests/conftest.py); by default a real `python -m srhw build`."""
    out = tmp_path / "out"
    r = run("build", *args, "--out", out) if run else run_cli(*args, "--out", str(out), timeout=300)
    assert r.returncode == 2, (r.returncode, r.stderr[-1000:])
    err = [l for l in r.stderr.splitlines() if l.startswith("srhw build: error:")]
    assert len(err) == 1 and expect in err[0], r.stderr[-1000:]
    assert not out.exists() and leftovers(tmp_path) == [], "nothing may be left behind"


def test_unknown_part(ckpt, tmp_path):
    """Through the console script (its real exit status and stderr); the other bad inputs run in-process."""
    _bad(["--model", "st_bl", "--r", "2c_out", "--part", "xc7a35t", "--checkpoint", str(ckpt)], tmp_path, "known parts: xc7z020")


def test_no_checkpoint_says_so(tmp_path, srhw_main):
    """Only st_bl(r=2c_out) x2 ships a ternary checkpoint; another r has none to default to."""
    _bad(["--model", "st_bl", "--r", "4c_out", "--part", "xc7z020"], tmp_path, "--random-weights", run=srhw_main)


def test_checkpoint_of_another_spec(ckpt, tmp_path, srhw_main):
    _bad(["--model", "bl", "--part", "xc7z020", "--checkpoint", str(ckpt)], tmp_path, "not bl", run=srhw_main)


def test_checkpoint_with_another_r(ckpt, tmp_path, srhw_main):
    _bad(["--model", "st_bl", "--r", "c_out", "--part", "xc7z020", "--checkpoint", str(ckpt)], tmp_path, "does not match --r",
         run=srhw_main)


@pytest.mark.slow
def test_impossible_fit(tmp_path, srhw_main):
    """st_bl(r=16c_out) x4: one upsampler layer's ternary W_b (4096 x 576 codes, 4.7 Mbit) alone overflows the 7020's
    BRAM, in the layer-sequential engine as in the dataflow pipeline. Slow (~40 s of calibration, then a full-size
    estimate). The fast suite covers its path: the estimate's one-line refusal in
    test_export_estimate.py::test_impossible_fit_is_one_line_error, and a build refused after its golden graph
    (exit 2, one line, nothing written) in
    test_rtl_stream.py::test_build_of_a_real_time_network_at_an_fps_the_part_cannot_meet_exits_2_writing_nothing."""
    _bad(["--model", "st_bl", "--r", "16c_out", "--scale", "4", "--part", "xc7z020", "--random-weights"], tmp_path,
         "does not fit xc7z020", run=srhw_main)


@pytest.mark.slow
@pytest.mark.parametrize("model", [["st_bl", "--r", "2c_out"], ["blrn-e(r=2)[rb]"]])
def test_full_size_build_csim(model, tmp_path):
    """Full paper-size x2 models (random weights until shipped checkpoints exist) through C-sim on 12x12 crops."""
    out = tmp_path / "full"
    r = run_cli("--model", *model, "--part", "xc7z020", "--random-weights", "--csim", "--csim-crop", "12",
                "--out", str(out), timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["csim"]["checked"] == 6 * 24 * 24 * 3 and rep["csim"]["mismatches"] == 0
    assert rep["engine"]["csim"]["checked"] == 6 * 24 * 24 * 3 and rep["engine"]["csim"]["mismatches"] == 0
    print(json.dumps({k: rep["csim"][k] for k in ("compile_s", "predict_s", "peak_rss_mb", "checked", "mismatches")}))
    print(json.dumps({k: rep["engine"]["csim"][k] for k in ("compile_s", "run_s", "checked", "mismatches")}))


def test_build_uses_a_quantized_checkpoints_own_graph(tmp_path, srhw_main):
    """A `srhw quantize ternary` output is lowered from its own integer graph, not re-quantized."""
    from srhw.quant import load_graph

    q = tmp_path / "q"
    assert srhw_main("quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2", "--model-args", json.dumps(TINY),
                     "--out", q, "--fp-iters", "1", "--ternary-iters", "1", "--frozen-iters", "1", "--train-set", "Set5",
                     "--batch", "2", "--patch", "16", "--calib-batches", "1", "--threads", "1").returncode == 0
    out = tmp_path / "b"
    r = srhw_main("build", "--model", "st_bl", "--r", "2c_out", "--part", "xczu9eg", "--checkpoint", q / "model.safetensors",
                  "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["golden"]["calibration"].startswith("the checkpoint's integer graph")
    shipped, built = load_graph(q / "golden"), load_graph(out / "golden")
    assert shipped.arrays.keys() == built.arrays.keys()
    assert all((shipped.arrays[k] == built.arrays[k]).all() for k in shipped.arrays)

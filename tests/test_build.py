"""`srhw build` end to end through the CLI: report keys, C-sim, determinism, bad input."""

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


def test_build_is_deterministic(ckpt, tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for o in outs:
        r = run_cli("--model", "st_bl(r=2c_out)", "--part", "xczu9eg", "--checkpoint", str(ckpt), "--out", str(o))
        assert r.returncode == 0, r.stderr[-2000:]
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    differ = [str(f) for f in files if (outs[0] / f).read_bytes() != (outs[1] / f).read_bytes()
              and f != Path("report/timings.json")]  # wall-clock times, documented as the one exception
    assert differ == [], f"files differ between identical builds: {differ[:5]}"
    engine = [f for f in files if f.parts[0] == "engine"]
    assert {"program.h", "program.bin", "weights.bin", "srhw_engine.cpp", "script.tcl"} <= {f.name for f in engine}
    for f in files:
        if f.suffix in (".yml", ".tcl", ".sh", ".h", ".cpp", ".json", ".md", ".html", ".v", ".bin"):
            text = (outs[0] / f).read_bytes().decode("latin-1")
            assert str(tmp_path) not in text, f"absolute build path in {f}"


def _bad(args, tmp_path, expect):
    out = tmp_path / "out"
    r = run_cli(*args, "--out", str(out), timeout=300)
    assert r.returncode == 2, (r.returncode, r.stderr[-1000:])
    err = [l for l in r.stderr.splitlines() if l.startswith("srhw build: error:")]
    assert len(err) == 1 and expect in err[0], r.stderr[-1000:]
    assert not out.exists() and leftovers(tmp_path) == [], "nothing may be left behind"


def test_unknown_part(ckpt, tmp_path):
    _bad(["--model", "st_bl", "--r", "2c_out", "--part", "xc7a35t", "--checkpoint", str(ckpt)], tmp_path, "known parts: xc7z020")


def test_no_checkpoint_says_so(tmp_path):
    """Only st_bl(r=2c_out) x2 ships a ternary checkpoint; another r has none to default to."""
    _bad(["--model", "st_bl", "--r", "4c_out", "--part", "xc7z020"], tmp_path, "--random-weights")


def test_checkpoint_of_another_spec(ckpt, tmp_path):
    _bad(["--model", "bl", "--part", "xc7z020", "--checkpoint", str(ckpt)], tmp_path, "not bl")


def test_checkpoint_with_another_r(ckpt, tmp_path):
    _bad(["--model", "st_bl", "--r", "c_out", "--part", "xc7z020", "--checkpoint", str(ckpt)], tmp_path, "does not match --r")


def test_impossible_fit(tmp_path):
    """st_bl(r=16c_out) x4: one upsampler layer's ternary W_b (4096 x 576 codes, 4.7 Mbit) alone overflows the 7020's
    BRAM, in the layer-sequential engine as in the dataflow pipeline."""
    _bad(["--model", "st_bl", "--r", "16c_out", "--scale", "4", "--part", "xc7z020", "--random-weights"], tmp_path,
         "does not fit xc7z020")


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


def test_build_uses_a_quantized_checkpoints_own_graph(tmp_path):
    """A `srhw quantize ternary` output is lowered from its own integer graph, not re-quantized."""
    from srhw.cli import main
    from srhw.quant import load_graph

    q = tmp_path / "q"
    assert main(["quantize", "ternary", "--model", "st_bl(r=2c_out)", "--scale", "2", "--model-args", json.dumps(TINY),
                 "--out", str(q), "--fp-iters", "1", "--ternary-iters", "1", "--frozen-iters", "1", "--train-set", "Set5",
                 "--batch", "2", "--patch", "16", "--calib-batches", "1", "--threads", "1"]) == 0
    out = tmp_path / "b"
    r = run_cli("--model", "st_bl", "--r", "2c_out", "--part", "xczu9eg", "--checkpoint", str(q / "model.safetensors"),
                "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads((out / "report.json").read_text())
    assert rep["golden"]["calibration"].startswith("the checkpoint's integer graph")
    shipped, built = load_graph(q / "golden"), load_graph(out / "golden")
    assert shipped.arrays.keys() == built.arrays.keys()
    assert all((shipped.arrays[k] == built.arrays[k]).all() for k in shipped.arrays)

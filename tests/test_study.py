"""`srhw study`: a tiny Table 1/2/5 study writes the paper's columns (md/json/png) with the trade-off math of
srhw.profile.tradeoff, reuses finished rows, resumes partial ones, starts x3/x4 from x2, and refuses bad input."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srhw.cli import main
from srhw.profile import count_params, tradeoff

REPO = Path(__file__).resolve().parents[1]
TINY = dict(num_feat=16, num_group=1, num_block=1)  # channel attention needs num_feat >= 16


def smooth_image(rng, h, w, k):
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([128 + 100 * np.sin(x / (3 + k) + c) * np.cos(y / 5) for c in range(3)], -1)
    return np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A training set 'T91' (3 HR images) and a 'Set5' of 2 images; LR made by imresize."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for name, n in (("T91", 3), ("Set5", 2)):
        (root / name / "HR").mkdir(parents=True)
        for i in range(n):
            Image.fromarray(smooth_image(rng, 40, 52, i)).save(root / name / "HR" / f"im{i}.png")
    return root


def study_args(data, out, *extra, table=1, iters=2):
    return ["study", "--table", str(table), "--iters", str(iters), "--patch", "8", "--batch", "2",
            "--model-args", json.dumps(TINY), "--sets", "Set5", "--data", str(data), "--out", str(out),
            "--threads", "1", "--val-every", "-1", *extra]


def one_line_error(capsys, rc, *needles):
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def table1(data, tmp_path_factory):
    """Table 1 restricted to bl (reference) and blrn(r=2), 2 iterations each."""
    out = tmp_path_factory.mktemp("t1")
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(study_args(data, out, "--only", "blrn(r=2)"))
    assert rc == 0
    return out, buf.getvalue()


def test_table1_columns_and_tradeoff(table1):
    out, stdout = table1
    doc = json.loads((out / "table1.json").read_text())
    assert [(r["model"], r["scale"], r["reference"]) for r in doc["rows"]] == [("bl", 2, True), ("blrn(r=2)", 2, False)]
    ref, row = doc["rows"]
    assert all(r["run"] == "trained" and r["step"] == 2 for r in doc["rows"])
    # counted for the models as trained (TINY), not the paper's sizes
    from srhw.models import build

    assert row["params"] == count_params(build("blrn(r=2)", 2, **TINY))
    assert 0 < row["params"] < ref["params"] and 0 < row["mult_adds"] < ref["mult_adds"]
    # trade-off by hand from the JSON: (G Mult-Adds saved) / (PSNR lost in 0.01 dB)
    loss = (ref["sets"]["Set5"]["psnr"] - row["sets"]["Set5"]["psnr"]) / 0.01
    assert loss > 0, "the fixed seed makes blrn(r=2) lose PSNR against bl after 2 iterations"
    want_ma = (ref["mult_adds"] - row["mult_adds"]) / 1e9 / loss
    want_p = (ref["params"] - row["params"]) / 1e3 / loss
    t = tradeoff(ref["params"], ref["mult_adds"], [ref["sets"]["Set5"]["psnr"]], row["params"], row["mult_adds"],
                 [row["sets"]["Set5"]["psnr"]])
    assert row["mult_adds_saved_g_per_cdb"] == pytest.approx(want_ma, rel=1e-12) == pytest.approx(t.mult_adds_saved_g)
    assert row["params_saved_k_per_cdb"] == pytest.approx(want_p, rel=1e-12) == pytest.approx(t.params_saved_k)
    assert row["psnr_loss_cdb"] == pytest.approx(loss)
    assert ref["mult_adds_saved_g_per_cdb"] is None
    # markdown: the paper's columns, our numbers, the caption names the budget and that the sets are a subset
    md = (out / "table1.md").read_text()
    head = next(line for line in md.splitlines() if line.startswith("| Scale"))
    assert head == ("| Scale | Model | Params (K) | Mult-Adds (G) | Set5 PSNR/SSIM | Mult-Adds saved (G) / 0.01 dB "
                    "| Params saved (K) / 0.01 dB |")
    line = next(line for line in md.splitlines() if line.startswith("| 2x | blrn(r=2) |"))
    assert f"{want_ma:.4f}" in line and f"{row['params'] // 1000}" in line
    s5 = row["sets"]["Set5"]
    assert f"{s5['psnr']:.2f}/{s5['ssim']:.4f}" in line
    assert "2 iterations" in md and "OUR numbers" in md and "the paper sums Set5, Set14, B100, Urban100" in md
    # plot: a real PNG; one summary line per row
    with Image.open(out / "table1.png") as im:
        assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200
    assert "[1/2] bl x2: trained" in stdout and "[2/2] blrn(r=2) x2: trained" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["runs", "table1.json", "table1.md", "table1.png"]
    assert not list(out.rglob(".*.tmp")), "a temporary file was left behind"


def test_second_run_reuses_rows(table1, data, monkeypatch, capsys):
    out, _ = table1
    before = json.loads((out / "table1.json").read_text())
    ckpts = sorted((out / "runs").glob("*/model.safetensors"))
    mtimes = [p.stat().st_mtime_ns for p in ckpts]

    def no_training(*a, **k):
        raise AssertionError("a finished row was trained again")

    def no_eval(*a, **k):
        raise AssertionError("a cached evaluation was run again")

    monkeypatch.setattr("srhw.train.loop.train", no_training)
    monkeypatch.setattr("srhw.eval.evaluate.evaluate", no_eval)
    assert main(study_args(data, out, "--only", "blrn(r=2)")) == 0
    stdout = capsys.readouterr().out
    assert "bl x2: reused" in stdout and "blrn(r=2) x2: reused" in stdout
    assert [p.stat().st_mtime_ns for p in ckpts] == mtimes
    after = json.loads((out / "table1.json").read_text())
    assert [r["run"] for r in after["rows"]] == ["reused", "reused"]
    assert [r["sets"] for r in after["rows"]] == [r["sets"] for r in before["rows"]]
    # the same folder under another budget is refused before anything trains
    rc = main(study_args(data, out, "--only", "blrn(r=2)", iters=3))
    one_line_error(capsys, rc, "another budget", "iters 2 vs 3")


def test_partial_row_resumes(data, tmp_path, capsys):
    from srhw.eval.study import Row, run_dir
    from srhw.train import TrainConfig, train

    out = tmp_path / "t1"
    cfg = TrainConfig(spec="bl", scale=2, model_args=TINY, data="T91", data_dir=str(data), patch=8, batch=2, iters=2,
                      val_every=-1, threads=1, out=str(run_dir(out, Row("bl", 2))))
    assert not train(replace(cfg, stop_at=1, ckpt_every=1), progress=False)["done"]  # "killed" after step 1
    assert main(study_args(data, out, "--only", "bl")) == 0
    assert "bl x2: resumed (2 it" in capsys.readouterr().out
    doc = json.loads((out / "table1.json").read_text())
    assert [(r["model"], r["run"], r["step"]) for r in doc["rows"]] == [("bl", "resumed", 2)]


def test_table2_x3_x4_start_from_x2(data, tmp_path, capsys):
    out = tmp_path / "t2"
    assert main(study_args(data, out, "--only", "bl-e", table=2)) == 0
    doc = json.loads((out / "table2.json").read_text())
    rows = {r["scale"]: r for r in doc["rows"]}
    assert sorted(rows) == [2, 3, 4] and all(r["model"] == "bl-e" and r["reference"] for r in rows.values())
    x2 = str(Path(rows[2]["run_dir"]) / "model.safetensors")
    assert rows[2]["init"] is None and rows[3]["init"] == rows[4]["init"] == x2
    md = (out / "table2.md").read_text()
    assert "| 3x | bl-e |" in md and "| 4x | bl-e |" in md


def test_table5_ternary_rows(data, tmp_path, capsys):
    from srhw.core.checkpoint import load_checkpoint
    from srhw.profile import table5_row

    out = tmp_path / "t5"
    assert main(study_args(data, out, "--only", "st_bl(r=c_out)", "--scale", "2", table=5)) == 0
    doc = json.loads((out / "table5.json").read_text())
    ref, row = doc["rows"]
    assert (ref["model"], row["model"], row["r"], row["quant"]) == ("bl", "st_bl(r=c_out)", "c_out", "ternary")
    assert row["mult_reduction_pct"] == pytest.approx(table5_row("st_bl(r=c_out)", 2, **TINY)["mult_reduction_pct"])
    sd, meta = load_checkpoint(Path(row["run_dir"]) / "ternary" / "model.safetensors")
    assert meta["quant"] == "ternary" and all(set(v.unique().tolist()) <= {-1, 0, 1} for k, v in sd.items()
                                              if k.endswith(("frozen_b", "frozen_c")))
    md = (out / "table5.md").read_text()
    assert "| Scale | Model | r | Reduction in Mult (%) | Reduction in Add (%) | Set5 PSNR/SSIM |" in md
    assert "ternary-weight network" in md


def test_bad_input_one_line_nothing_written(data, tmp_path, capsys):
    out = tmp_path / "bad"
    r = subprocess.run([sys.executable, "-m", "srhw", *study_args(data, out, table=6)], capture_output=True,
                       text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "table 6" in r.stderr, r.stderr
    rc = main(study_args(data, out, "--only", "blm9"))
    one_line_error(capsys, rc, "blm9")
    rc = main(study_args(data, out, "--scale", "3"))
    one_line_error(capsys, rc, "no x3 rows")
    rc = main(study_args(data, out, "--sets", "Set5,Nope"))
    one_line_error(capsys, rc, "Nope")
    rc = main(study_args(data, out, "--only", "blclc(g1=32, g2=2)"))  # 32 groups do not divide 16 channels
    one_line_error(capsys, rc, "blclc", "cannot be built")
    assert not out.exists(), "bad input wrote files"


@pytest.fixture(scope="module")
def table4(data, tmp_path_factory):
    """Table 4 at x2: bl trained for 2 iterations, then INT8 (PTQ + 1 QAT iteration), both evaluated."""
    out = tmp_path_factory.mktemp("t4")
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(study_args(data, out, "--scale", "2", "--only", "bl", table=4))
    assert rc == 0
    return out, buf.getvalue()


def test_table4_float_and_int8_rows(table4):
    from srhw.core.checkpoint import load_checkpoint
    from srhw.models import build
    from srhw.eval.study import qat_iters

    out, stdout = table4
    doc = json.loads((out / "table4.json").read_text())
    assert [(r["model"], r["scale"], r["quant"]) for r in doc["rows"]] == [("bl", 2, "full"), ("bl_q", 2, "int8")]
    fl, q = doc["rows"]
    assert (fl["run"], fl["step"], q["run"], q["step"]) == ("trained", 2, "quantized", qat_iters(2)) and qat_iters(2) == 1
    assert qat_iters(300_000) == 5000 and qat_iters(3000) == 50
    assert q["qat"]["lr"] == 5e-5 and q["init"] == str(Path(fl["run_dir"]) / "model.safetensors")
    # the INT8 row shares the float model's counts (our profiler, TINY model)
    assert fl["params"] == q["params"] == count_params(build("bl", 2, **TINY)) and fl["mult_adds"] == q["mult_adds"] > 0
    for r in (fl, q):
        assert set(r["sets"]) == {"Set5"} and {"psnr", "ssim", "images"} <= set(r["sets"]["Set5"])
        assert 5 < r["sets"]["Set5"]["psnr"] < 60 and 0 < r["sets"]["Set5"]["ssim"] <= 1
    assert q["psnr_change_db"]["Set5"] == pytest.approx(q["sets"]["Set5"]["psnr"] - fl["sets"]["Set5"]["psnr"])
    # the INT8 artefact: a quantized checkpoint whose sidecar names its integer golden graph
    qdir = Path(fl["run_dir"]) / "int8"
    assert q["run_dir"] == str(qdir)
    _, meta = load_checkpoint(qdir / "model.safetensors")
    assert meta["quant"] == "int8" and meta["step"] == 1 and meta["model_args"] == TINY
    assert (qdir / meta["golden"] / "graph.json").is_file() and (qdir / meta["golden"] / "graph.npz").is_file()
    # markdown in the paper's layout, our numbers, the INT8 caption
    md = (out / "table4.md").read_text()
    assert "| Scale | Model | Params (K) | Mult-Adds (G) | Set5 PSNR/SSIM | Set5 PSNR change float→INT8 (dB) |" in md
    assert f"| 2x | bl | {fl['params'] // 1000} | {fl['mult_adds'] / 1e9:.1f} |" in md
    assert f"|  | bl_q |  |  | {q['sets']['Set5']['psnr']:.2f}/" in md and f"{q['psnr_change_db']['Set5']:+.3f} |" in md
    assert "OUR numbers" in md and "2 iterations" in md and "(QAT) for 1 iteration at lr 5e-05" in md
    assert ("INT8: per-channel int8 weights, int8 activations, integer-only golden model (srhw.quant); "
            "the paper used TFLite.") in md and doc["caption"] == [line for line in md.splitlines()[2:2 + len(doc["caption"])]]
    with Image.open(out / "table4.png") as im:
        assert im.format == "PNG" and im.size[0] > 300
    assert "bl x2: trained" in stdout and "bl_q x2: quantized" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["runs", "table4.json", "table4.md", "table4.png"]
    assert not list(out.rglob(".*.tmp")), "a temporary folder was left behind"


def test_table4_rerun_reuses_training_and_quantization(table4, data, monkeypatch, capsys):
    out, _ = table4
    before = json.loads((out / "table4.json").read_text())
    files = sorted(p for p in (out / "runs").rglob("*") if p.is_file() and p.name != "row.json")
    assert any(p.parent.name == "int8" for p in files) and any(p.name == "model.safetensors" for p in files)
    mtimes = [p.stat().st_mtime_ns for p in files]

    def forbidden(what):
        def f(*a, **k):
            raise AssertionError(f"{what} ran again")
        return f

    monkeypatch.setattr("srhw.train.loop.train", forbidden("training"))
    monkeypatch.setattr("srhw.quant.int8.run_int8", forbidden("quantization"))
    monkeypatch.setattr("srhw.eval.evaluate.evaluate", forbidden("a cached evaluation"))
    assert main(study_args(data, out, "--scale", "2", "--only", "bl", table=4)) == 0
    stdout = capsys.readouterr().out
    assert "bl x2: reused" in stdout and "bl_q x2: reused" in stdout
    assert [p.stat().st_mtime_ns for p in files] == mtimes
    after = json.loads((out / "table4.json").read_text())
    assert [r["run"] for r in after["rows"]] == ["reused", "reused"]
    assert [r["sets"] for r in after["rows"]] == [r["sets"] for r in before["rows"]]


def test_table4_stale_int8_is_quantized_again(table4, data, tmp_path, monkeypatch, capsys):
    import shutil

    out = tmp_path / "t4"
    shutil.copytree(table4[0], out)
    side = out / "runs" / "bl-x2" / "int8" / "model.json"
    meta = json.loads(side.read_text())
    side.write_text(json.dumps({**meta, "step": 7}))  # a QAT of another budget: not reused
    monkeypatch.setattr("srhw.train.loop.train", lambda *a, **k: pytest.fail("the finished float run was retrained"))
    assert main(study_args(data, out, "--scale", "2", "--only", "bl", table=4)) == 0
    stdout = capsys.readouterr().out
    assert "bl x2: reused" in stdout and "bl_q x2: quantized" in stdout
    assert json.loads(side.read_text())["step"] == 1

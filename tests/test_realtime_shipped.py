"""The shipped real-time networks (models/ fsrcnn*, espcn*, sesr* x2): the budgets and bars they are shipped
for, measured here with `srhw eval` (Set5 x2, Y) and `srhw profile` (720p x2 frame)."""

import json
from pathlib import Path

import pytest

from srhw.cli import main
from srhw.data import default_data_dir
from srhw.profile import profile_row

MODELS = Path(__file__).resolve().parents[1] / "models"
INT8 = sorted(p for p in MODELS.glob("*-x2-int8.safetensors")
              if json.loads(p.with_suffix(".json").read_text()).get("channels") == 1)

pytestmark = pytest.mark.skipif(not (default_data_dir() / "Set5").is_dir(), reason="needs ../shared/data")


def set5(tmp_path, ckpt):
    out = tmp_path / f"{ckpt.stem}.json"
    assert main(["eval", "--checkpoint", str(ckpt), "--sets", "Set5", "--json", "--out", str(out), "--threads", "2"]) == 0
    return json.loads(out.read_text())["results"][0]["psnr"]


def test_fsrcnn_espcn_sesr_are_shipped_float_and_int8():
    names = {json.loads(p.with_suffix(".json").read_text())["spec"].split("(")[0] for p in INT8}
    assert {"fsrcnn", "espcn", "sesr"} <= names, names
    for p in INT8:
        src = MODELS.parent / json.loads(p.with_suffix(".json").read_text())["source_checkpoint"]
        assert src.is_file() and src.with_suffix(".md").is_file() and p.with_suffix(".md").is_file()
        assert (MODELS / json.loads(p.with_suffix(".json").read_text())["golden"] / "graph.json").is_file()


def test_budgets_per_720p_frame():
    ma = [profile_row(json.loads(p.with_suffix(".json").read_text())["spec"], 2)["mult_adds"] / 1e9 for p in INT8]
    assert ma and max(ma) <= 4.0, ma  # the xc7z020's ~4 G per 30 fps frame (hardware.md)
    assert min(ma) <= 1.5, ma  # a model that fits a fully pipelined design


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rt")
    out = {}
    for p in INT8:
        src = MODELS.parent / json.loads(p.with_suffix(".json").read_text())["source_checkpoint"]
        out[p.stem] = (set5(tmp, src), set5(tmp, p))
    return out


@pytest.mark.parametrize("name", [p.stem for p in INT8])
def test_int8_within_0_15_db_of_float(scores, name):
    fl, q = scores[name]
    assert q >= fl - 0.15, f"{name}: INT8 {q:.2f} dB vs float {fl:.2f} dB"


def test_best_int8_reaches_36_6_db(scores):
    assert max(q for _, q in scores.values()) >= 36.6


def test_best_int8_beats_bicubic_by_2_5_db(scores):
    assert max(q for _, q in scores.values()) >= 33.64 + 2.5  # bicubic Set5 x2 33.64 (measured, README)

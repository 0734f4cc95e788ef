"""The checkpoints shipped in models/ load, match their sidecars, and beat bicubic on Set5 x2 by >= 1 dB."""

import json
from pathlib import Path

import pytest

from srhw.cli import main
from srhw.data import default_data_dir

MODELS = Path(__file__).resolve().parents[1] / "models"
SHIPPED = sorted(MODELS.glob("*.safetensors"))
SHIPPED = [p for p in SHIPPED if not p.name.endswith(".ternary.safetensors")]  # codes only, not a model

pytestmark = pytest.mark.skipif(not (default_data_dir() / "Set5").is_dir(), reason="needs ../shared/data")


def set5(tmp_path, *args):
    out = tmp_path / f"eval{len(list(tmp_path.iterdir()))}.json"
    assert main(["eval", *args, "--sets", "Set5", "--json", "--out", str(out), "--threads", "2"]) == 0
    (row,) = json.loads(out.read_text())["results"]
    return row


@pytest.fixture(scope="module")
def set5_row(tmp_path_factory):
    """`set5(args)`, each argument list evaluated once per module: the TFLite test's float model is a shipped
    checkpoint the test above already scored with the same flags."""
    rows, tmp = {}, tmp_path_factory.mktemp("set5")

    def get(*args):
        if args not in rows:
            rows[args] = set5(tmp, *args)
        return rows[args]

    return get


@pytest.fixture(scope="module")
def bicubic_x2(set5_row):
    return set5_row("--model", "bicubic", "--scale", "2")


def test_something_is_shipped():
    names = {p.name for p in SHIPPED}
    assert {"bl-x2.safetensors", "blrn-e_r_2__rb-x2.safetensors", "st_bl_r_2c_out-x2.safetensors"} <= names, names


@pytest.mark.parametrize("ckpt", SHIPPED, ids=lambda p: p.stem)
def test_shipped_checkpoint_beats_bicubic(ckpt, bicubic_x2, set5_row):
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert meta["scale"] == 2 and meta["data"] == "T91"
    assert ckpt.with_suffix(".md").is_file(), f"{ckpt.name} has no model card"
    row = set5_row("--checkpoint", str(ckpt.resolve()))
    gain = row["psnr"] - bicubic_x2["psnr"]
    assert gain >= 1.0, f"{ckpt.name}: Set5 x2 {row['psnr']:.2f} dB, only {gain:+.2f} dB over bicubic"
    recorded = (meta.get("metrics") or {}).get("Set5")
    # thread counts change float summation order, so a pixel may round differently: 0.01 dB, as cards print
    assert recorded and abs(recorded["psnr"] - row["psnr"]) < 0.01, "the sidecar's metrics are these weights'"


@pytest.mark.parametrize("tflite", sorted(MODELS.glob("*.tflite")), ids=lambda p: p.stem)
def test_shipped_tflite_within_0_2_db_of_its_float_model(tflite, tmp_path, set5_row):
    """The INT8 bar: the full-integer TFLite export within 0.2 dB (Set5 x2) of the float checkpoint
    `srhw quantize int8 --tflite` was given (the quantized checkpoint's sidecar names it)."""
    quantized = json.loads(tflite.with_suffix(".json").read_text())
    source = Path(__file__).resolve().parents[1] / quantized["source_checkpoint"]
    row = set5_row("--checkpoint", str(source.resolve()))
    q = set5(tmp_path, "--checkpoint", str(tflite), "--scale", str(quantized["scale"]))
    assert q["psnr"] >= row["psnr"] - 0.2, f"{tflite.name}: {q['psnr']:.2f} dB vs float {row['psnr']:.2f} dB"

"""Keras rebuild of zoo models (== torch in float) and the TFLite full-integer path of section 5.1."""

import numpy as np
import pytest
import torch

from srhw.models import build

TINY = dict(num_feat=16, num_group=1, num_block=1)
tf = pytest.importorskip("tensorflow")


def _ternary(model):
    for m in model.modules():
        if type(m).__name__ == "SumProductConv2d":
            m.mode = "ternary"  # the Keras rebuild uses the folded ternary layer
    return model


@pytest.mark.parametrize("spec", ["bl", "bls2", "bls1(r=2, g=4)", "blm2(e=2)", "bleff(r=2)", "blm1-e[rg+u]",
                                  "blrxn(r=2, g=4)", "st_bl(r=2c_out)"])
def test_keras_rebuild_matches_torch(spec):
    from srhw.export.keras import to_keras

    torch.manual_seed(0)
    model = _ternary(build(spec, 2, **TINY).eval())
    x = torch.rand(1, 3, 10, 12) * 255
    with torch.no_grad():
        ref = model(x).numpy().transpose(0, 2, 3, 1)
    y = to_keras(model)(x.numpy().transpose(0, 2, 3, 1)).numpy()
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() < 1e-3 * max(1.0, np.abs(ref).max())


def test_tflite_full_integer_close_to_float(tmp_path):
    from srhw.export.tflite import convert_to_tflite
    from srhw.eval.upscalers import checkpoint_upscaler

    torch.manual_seed(0)
    model = build("bl-e", 2, **TINY).eval()
    info = convert_to_tflite(model, [torch.rand(4, 3, 16, 16) * 255], tmp_path / "m.tflite")
    assert info["bytes"] > 0 and (tmp_path / "m.tflite").is_file()
    lr = (np.random.default_rng(0).random((12, 14, 3)) * 255).astype(np.uint8)
    sr = checkpoint_upscaler(tmp_path / "m.tflite", 2)(lr)
    with torch.no_grad():
        ref = model(torch.from_numpy(lr.transpose(2, 0, 1).copy()).float()[None])[0].permute(1, 2, 0).round().clamp(0, 255)
    err = np.abs(sr.astype(np.float64) - ref.numpy()).mean()
    assert sr.shape == (24, 28, 3) and sr.dtype == np.uint8
    assert err < 3.0, f"TFLite int8 vs float: mean |diff| {err:.2f} grey levels"

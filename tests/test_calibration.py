"""PTQ calibration data (srhw.data.calibration): the build's T91 crops in the model's channels, the recipes' patches,
and `srhw build`'s own PTQ of a float Y-channel model (its inference form, on Y crops)."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from srhw.core.errors import SrhwError
from srhw.data import default_data_dir
from srhw.data.calibration import PATCH_STEP0, patch_batches, t91_crops
from srhw.data.patches import PatchDataset, get_batch, y_of

DATA = default_data_dir()
needs_t91 = pytest.mark.skipif(not (DATA / "T91" / "HR").is_dir(), reason="no T91 under the data root")


@needs_t91
def test_t91_crops_rgb_and_their_y():
    (rgb,) = t91_crops(DATA, 2, channels=3, n=2, size=16)
    (y,) = t91_crops(DATA, 2, channels=1, n=2, size=16)
    assert rgb.shape == (2, 3, 16, 16) and y.shape == (2, 1, 16, 16)
    assert rgb.dtype == y.dtype == torch.float32
    for k in range(2):  # the Y crop is MATLAB rgb2ycbcr's Y of the RGB crop, as PatchDataset feeds a Y model
        want = y_of(rgb[k].permute(1, 2, 0).numpy().astype(np.uint8))[:, :, 0]
        assert np.array_equal(y[k, 0].numpy(), want.astype(np.float32))
    assert 16 <= y.min() and y.max() <= 235 and not torch.equal(y[:, 0], rgb[:, 0])


def test_t91_crops_refuse_what_they_cannot_give(tmp_path):
    with pytest.raises(SrhwError, match="1-channel .* or 3-channel"):
        t91_crops(tmp_path, 2, channels=2)
    with pytest.raises(SrhwError, match="no T91 image of at least 96 px"):
        t91_crops(tmp_path, 2, channels=3)


def test_patch_batches_are_the_datasets_own_patches_past_the_first_steps():
    rng = np.random.default_rng(0)
    pairs = [(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))]
    ds = PatchDataset(pairs, 2, patch=8, seed=3, channels=1)
    got = patch_batches(ds, 2, batch=4)
    assert [b.shape for b in got] == [(4, 1, 8, 8)] * 2
    for i, b in enumerate(got):
        assert torch.equal(b, get_batch(ds, PATCH_STEP0 + i, 4)[0])
    assert not torch.equal(got[0], get_batch(ds, 0, 4)[0])


SHIPPED_Y = Path(__file__).resolve().parents[1] / "models" / "fsrcnn_d32_s5_m1-x2.safetensors"  # float, not int8


@needs_t91
@pytest.mark.skipif(not SHIPPED_Y.is_file(), reason="no shipped float FSRCNN checkpoint")
def test_build_quantizes_a_float_y_model_in_its_inference_form_on_y_crops(tmp_path):
    """The shipped float FSRCNN (deconvolution tail), built from its weights rather than from a `srhw quantize`
    output: the build's PTQ quantizes its sub-pixel form on Y crops, and the integer graph is a 1-channel graph that
    tracks the float model on T91 crops it was not calibrated on."""
    from srhw.export.engine import compile_program
    from srhw.flows.build import step_quantize
    from srhw.models.load import load_model
    from srhw.quant.golden import Golden

    spec = "fsrcnn(d=32,s=5,m=1)"
    model, _ = load_model(SHIPPED_Y, spec, 2)
    model.eval()
    cfg = SimpleNamespace(spec=spec, scale=2, checkpoint=None, loaded=None, model_args={}, data=DATA, tmp=tmp_path,
                          report={"weights": {"source": "checkpoint"}})
    graph = step_quantize(model, cfg)
    assert graph.meta["channels"] == 1 and "their Y" in cfg.report["golden"]["calibration"]
    assert (tmp_path / "golden" / "graph.json").is_file()
    prog = compile_program(graph)  # the engine takes it as a 1-channel program
    assert prog.header[6] == 1 and prog.header[9] == 1
    (y,) = t91_crops(DATA, 2, channels=1, n=6, size=48)
    y = y[4:]  # the build calibrates on the first 4
    with torch.no_grad():
        want = model(y).clamp(0, 255).round().numpy()
    got = Golden(graph)(y.numpy().astype(np.uint8)).astype(np.float64)
    assert got.shape == want.shape == (2, 1, 96, 96)
    psnr = 10 * np.log10(255 ** 2 / np.mean((got - want) ** 2))
    assert psnr > 38, f"the integer graph does not track the float model on Y data ({psnr:.1f} dB)"

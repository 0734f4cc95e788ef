"""Golden integer model (numpy int64) == fake-quant torch model, bit for bit, for every zoo family.

Tiny configs (16 features, 1 group of 2 blocks) keep each case well under a second; the op vocabulary is
the full-size one. Images: random uint8 and crops of the real Set5 LR images.
"""

import glob

import numpy as np
import pytest
import torch

from srhw.data import default_data_dir, read_image
from srhw.models import build
from srhw.quant import Golden, QuantConfig, load_graph, quantize

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


TINY = dict(num_feat=16, num_group=1, num_block=2)
SPECS = [  # every family of Tables 1, 2 and 5 at x2 (blclc's g1 shrunk to divide 16 features)
    ("bl", 2), ("blrn(r=2)", 2), ("blrxn(r=2, g=4)", 2), ("blm1", 2), ("bleff(r=2)", 2),
    ("bls1(r=2, g=4)", 2), ("blclc(g1=8, g2=2)", 2), ("bls2", 2), ("blm2(e=2)", 2),
    ("bl-e", 2), ("blrn-e(r=2)[rb]", 2), ("blm1-e[rg+u]", 2), ("blrn-e(r=2)[rg+u]", 2),
    ("st_bl(r=2c_out)", 2), ("st_bl(r=c_out, g=4)", 2),
    ("bl-e", 3), ("bl", 4), ("blm1-e[rg+u]", 4),
]


def set5_crops(size=20, scale=2):
    paths = sorted(glob.glob(str(default_data_dir() / "Set5" / "LR_bicubic" / f"X{scale}" / "*.png")))
    if not paths:
        pytest.skip("Set5 LR images not found")
    return [read_image(p)[:size, :size] for p in paths]


def to_nchw(imgs):
    return np.stack([im.transpose(2, 0, 1) for im in imgs]).astype(np.uint8)


def tiny_quantized(spec, scale, seed=0, cfg=None):
    torch.manual_seed(seed)
    model = build(spec, scale, **TINY)
    calib = torch.from_numpy(to_nchw(set5_crops(16, 2))).float()
    return model, quantize(model, [calib], cfg)


@pytest.mark.parametrize("spec,scale", SPECS, ids=[f"{s}-x{k}" for s, k in SPECS])
def test_golden_equals_fakequant(spec, scale):
    model, qnet = tiny_quantized(spec, scale)
    golden = Golden(qnet.export({"spec": spec, "scale": scale}))
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (2, 3, 11, 13), dtype=np.uint8), to_nchw(set5_crops(18, 2)[:3])]
    for x in images:
        with torch.no_grad():
            y_torch = qnet(torch.from_numpy(x).float()).numpy()
        y_gold = golden(x)
        assert y_gold.shape == (x.shape[0], 3, x.shape[2] * scale, x.shape[3] * scale)
        mismatches = int((y_torch != y_gold).sum())
        assert mismatches == 0, f"{mismatches} of {y_gold.size} output codes differ"
        assert np.array_equal(y_torch, np.round(y_torch)), "fake-quant output is not integer-valued"


def test_fakequant_tracks_float_on_real_images():
    """Quantization error of PTQ is small next to the signal (not an exactness test: a sanity bound)."""
    model, qnet = tiny_quantized("bl", 2)
    x = torch.from_numpy(to_nchw(set5_crops(24, 2))).float()
    with torch.no_grad():
        ref = model(x).round().clamp(0, 255)
        q = qnet(x).float()
    err = (ref - q).abs().mean().item()
    assert err < 3.0, f"mean |float - int8| = {err:.2f} grey levels"


def test_serialised_graph_runs_identically(tmp_path):
    _, qnet = tiny_quantized("blm1-e[rg+u]", 2)
    g = qnet.export({"spec": "blm1-e[rg+u]"})
    g.save(tmp_path)
    g2 = load_graph(tmp_path)
    x = to_nchw(set5_crops(12, 2)[:2])
    assert np.array_equal(Golden(g)(x), Golden(g2)(x))
    assert g2.meta["spec"] == "blm1-e[rg+u]"
    # ERUM recursion: every run of a residual module references one set of integer weights
    runs = [n for n in g2.nodes if n.attrs.get("module") == "upsample.0.rms.0.body.0.0"]
    assert len(runs) == 2 and runs[0].params == runs[1].params


def test_float_scales_are_exact_too():
    """Non-power-of-two activation scales (15-bit multipliers everywhere) are bit-exact as well."""
    _, qnet = tiny_quantized("bls2", 2, cfg=QuantConfig(pow2_scales=False))
    x = to_nchw(set5_crops(14, 2)[:2])
    with torch.no_grad():
        assert np.array_equal(qnet(torch.from_numpy(x).float()).numpy(), Golden(qnet.export())(x))


def test_fakequant_is_trainable():
    """STE: the loss has gradients on the float weights, and one step changes the integer weights."""
    model, qnet = tiny_quantized("st_bl(r=2c_out)", 2)
    x = torch.from_numpy(to_nchw(set5_crops(12, 2)[:2])).float()
    y = qnet(x)
    loss = (y - 128.0).abs().mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0


def test_qat_steps_keep_golden_exact():
    """A few QAT steps move the integer weights, and golden == fake-quant still holds afterwards."""
    from srhw.quant.qat import StageConfig, finetune, patch_dataset

    model, qnet = tiny_quantized("blm1", 2)
    before = qnet.export()
    ds = patch_dataset(default_data_dir(), "Set5", 2, patch=24)
    res = finetune(qnet, model.parameters(), ds, StageConfig(iters=3, lr=1e-2, batch=2))
    assert res["iters"] == 3 and np.isfinite(res["loss"])
    after = qnet.export()
    changed = sum(int((before.arrays[k] != after.arrays[k]).sum()) for k in before.arrays if k.endswith("/W"))
    assert changed > 0, "QAT did not change any integer weight"
    x = to_nchw(set5_crops(14, 2)[:2])
    with torch.no_grad():
        assert np.array_equal(qnet(torch.from_numpy(x).float()).numpy(), Golden(after)(x))

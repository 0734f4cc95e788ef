"""TFLite-scheme QAT (srhw.quant.tflite_qat): what the .tflite export is retrained with."""

import numpy as np
import pytest
import torch

from srhw.models import build
from srhw.quant.qat import StageConfig

TINY = dict(num_feat=16, num_group=1, num_block=1)


@pytest.mark.parametrize("spec", ["bl", "blrn-e(r=2)[rb]", "bls2", "blm2(e=2)", "blrxn(r=2, g=4)"])
def test_fake_quant_is_tflite_scheme_and_shares_weights(spec):
    from srhw.quant.tflite_qat import prepare

    torch.manual_seed(0)
    model = build(spec, 2, **TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fq = prepare(model, 16)
    assert {id(p) for p in fq.parameters()} <= {id(p) for p in model.parameters()}
    assert model.state_dict().keys() == before.keys()  # the zoo model is not rewritten
    fqs = [m for m in fq.modules() if type(m).__name__ == "FakeQuantize"]
    weights = [m for m in fqs if m.qscheme == torch.per_channel_symmetric]
    acts = [m for m in fqs if m.qscheme == torch.per_tensor_affine]
    n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())  # MeanShift too, as TFLite does
    assert len(weights) == n_conv and all((m.quant_min, m.quant_max) == (-127, 127) for m in weights)
    assert len(acts) >= n_conv and all((m.quant_min, m.quant_max) == (0, 255) for m in acts)
    x = torch.rand(1, 3, 12, 12) * 255
    fq.eval()
    with torch.no_grad():
        y, ref = fq(x), model.eval()(x)
    assert y.shape == ref.shape and not torch.equal(y, ref)  # quantized, and close
    assert (y - ref).abs().mean() < 0.05 * ref.abs().mean()


def test_tflite_qat_trains_a_copy(tmp_path):
    from srhw.data.patches import PatchDataset
    from srhw.quant.tflite_qat import tflite_qat

    torch.manual_seed(0)
    model = build("bl", 2, **TINY)
    rng = np.random.default_rng(0)
    hr = [rng.integers(0, 256, (40, 40, 3), dtype=np.uint8) for _ in range(2)]
    pairs = [(h, h[::2, ::2].copy()) for h in hr]
    ds = PatchDataset(pairs, 2, patch=8, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out, rec = tflite_qat(model, ds, StageConfig(iters=3, lr=1e-3, batch=2, patch=8))
    assert rec["iters"] == 3 and np.isfinite(rec["loss"])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # the source is untouched
    assert type(out) is type(model) and out.state_dict().keys() == before.keys()
    assert any(not torch.equal(out.state_dict()[k], before[k]) for k in before)

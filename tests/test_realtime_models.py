"""The real-time Y-channel networks: FSRCNN, ESPCN, SESR and the ternary st_sesr (srhw/models/{fsrcnn,espcn,sesr}.py).

Paper formulas (weights without biases, the convention of FSRCNN's and SESR's papers; cited):
  FSRCNN(d, s, m): 25d + sd + 9ms^2 + ds + 81d  -> 12,464 for (56, 12, 4)  (Dong et al., ECCV 2016, section 3.3)
  SESR-M5 (f=16):  25f + 9mf^2 + 25fs^2         -> 13,520 at x2            (Bhardwaj et al., MLSys 2022, Table: 13.52K)
  ESPCN(c1, c2):   25c1 + 9c1c2 + 9c2s^2                                   (Shi et al., CVPR 2016)
Mult-Adds per 1280x720 output frame = those weights x LR pixels (each weight is used once per LR pixel; FSRCNN's
deconvolution counted on its input grid, as its paper does).
"""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from srhw.core.checkpoint import load_into, save_checkpoint
from srhw.core.errors import SrhwError
from srhw.models import SCALES, build, canonical, list_models, resolve
from srhw.models.fsrcnn import deconv_to_subpixel
from srhw.profile.counting import lr_size
from srhw.profile.rows import profile_row

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")

SPECS = ["fsrcnn", "fsrcnn(d=32,s=5,m=1)", "espcn", "espcn(c1=32,c2=16)", "sesr", "sesr(f=16,m=3)",
         "st_sesr(f=8,m=2,r=2c_out)"]


def test_every_y_model_is_covered():
    assert {resolve(s).variant.name for s in SPECS} == {m for m in list_models() if resolve(m).variant.channels == 1}
    assert list_models("*sesr") == ["sesr", "st_sesr"] and "bl" in list_models("bl*") and "fsrcnn" not in list_models("bl*")


@pytest.mark.parametrize("spec,scale", list(itertools.product(SPECS, SCALES)))
def test_forward_shape_and_checkpoint_round_trip(spec, scale, tmp_path):
    torch.manual_seed(0)
    model = build(spec, scale).eval()
    x = torch.rand(2, 1, 7, 9) * 255
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 1, 7 * scale, 9 * scale) and torch.isfinite(y).all()
    save_checkpoint(tmp_path / "m.safetensors", model, {"spec": model.spec, "scale": scale, "channels": 1})
    torch.manual_seed(1)
    other = build(spec, scale).eval()
    load_into(other, tmp_path / "m.safetensors", spec, scale)
    with torch.no_grad():
        assert torch.equal(other(x), y)


def _weights(model):
    return sum(p.numel() for n, p in model.named_parameters() if not n.endswith("bias"))


@pytest.mark.parametrize("spec,formula", [
    ("fsrcnn", lambda s: 25 * 56 + 56 * 12 + 9 * 4 * 12 ** 2 + 12 * 56 + 81 * 56),
    ("fsrcnn(d=32,s=5,m=1)", lambda s: 25 * 32 + 32 * 5 + 9 * 1 * 5 ** 2 + 5 * 32 + 81 * 32),
    ("espcn", lambda s: 25 * 64 + 9 * 64 * 32 + 9 * 32 * s * s),
    ("sesr", lambda s: 25 * 16 + 9 * 5 * 16 ** 2 + 25 * 16 * s * s),
])
@pytest.mark.parametrize("scale", SCALES)
def test_profile_matches_paper_formulas(spec, formula, scale):
    if spec == "fsrcnn" and scale == 2:
        assert formula(2) == 12_464  # FSRCNN's paper (section 3.3), cited
    if spec == "sesr" and scale == 2:
        assert formula(2) == 13_520  # SESR-M5 13.52K (cited)
    deployed = spec.startswith("sesr")  # SESR's paper counts the collapsed network
    with torch.device("meta"):
        model = build(spec, scale, **({"deploy": True} if deployed else {}))
    assert _weights(model) == formula(scale)
    row = profile_row(spec, scale)
    h, w = lr_size(scale)
    assert row["mult_adds"] == formula(scale) * h * w
    assert row["channels"] == 1 and row["deployed_mult_adds"] >= row["mult_adds"]


def test_720p_budgets():
    """The shipped sizes against the xc7z020's ~4 G Mult-Adds per 720p x2 frame at 30 fps (hardware.md)."""
    ma = {s: profile_row(s, 2)["mult_adds"] / 1e9 for s in ("fsrcnn", "fsrcnn(d=32,s=5,m=1)", "espcn",
                                                              "espcn(c1=32,c2=16)", "sesr")}
    assert ma["fsrcnn(d=32,s=5,m=1)"] < 1.5 and ma["espcn(c1=32,c2=16)"] < 1.5
    assert ma["sesr"] < 4.0 and ma["fsrcnn"] < 4.0
    assert ma["espcn"] > 4.0  # the paper's widths are over that budget


@pytest.mark.parametrize("scale", SCALES)
def test_fsrcnn_deconv_to_subpixel_is_exact(scale):
    torch.manual_seed(scale)
    net = build("fsrcnn(d=8,s=4,m=2)", scale).double().eval()
    with torch.no_grad():
        net.deconv.weight.normal_(0, 0.1)
        net.deconv.bias.normal_()
    x = torch.rand(2, 1, 11, 13, dtype=torch.float64) * 255
    sub = net.deploy().double().eval()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in sub.modules())
    with torch.no_grad():
        assert torch.allclose(sub(x), net(x), rtol=0, atol=1e-9)


def test_deconv_to_subpixel_multi_channel():
    torch.manual_seed(0)
    dec = torch.nn.ConvTranspose2d(3, 2, 9, stride=3, padding=4, output_padding=2).double()
    w, b = deconv_to_subpixel(dec.weight.detach(), dec.bias.detach(), 3, 4)
    x = torch.randn(1, 3, 6, 5, dtype=torch.float64)
    y = F.pixel_shuffle(F.conv2d(x, w, b, padding=w.shape[-1] // 2), 3)
    assert torch.allclose(y, dec(x).detach(), atol=1e-10)


def _sesr_expanded(net, x):
    """SESR computed layer by layer in its expanded form (k x k conv to p channels, then 1 x 1), no collapsing."""
    def block(b, h):
        y = b.project(b.expand(h))
        return y + h if b.residual else y

    x0 = F.relu(block(net.first, x))
    h = x0
    for b in net.blocks:
        h = F.relu(block(b, h))
    h = block(net.last, h + x0)
    return F.pixel_shuffle(h + x.repeat(1, net.scale ** 2, 1, 1), net.scale)


@pytest.mark.parametrize("scale", SCALES)
def test_sesr_collapse_is_exact(scale):
    torch.manual_seed(scale)
    net = build("sesr(f=8,m=3,p=32)", scale).double().eval()
    x = torch.rand(2, 1, 10, 12, dtype=torch.float64) * 255
    with torch.no_grad():
        ref = _sesr_expanded(net, x)
        col = net.deploy().double().eval()
        assert [type(m).__name__ for m in col.modules() if isinstance(m, torch.nn.Conv2d)] == ["Conv2d"] * 5
        assert torch.allclose(net(x), ref, atol=1e-9) and torch.allclose(col(x), ref, atol=1e-9)
    # what build(deploy=True) gives loads the collapsed weights (the INT8 checkpoints' form)
    dep = build("sesr(f=8,m=3,p=32)", scale, deploy=True).double()
    dep.load_state_dict(col.state_dict())


def test_st_sesr_starts_from_a_trained_sesr():
    torch.manual_seed(0)
    fl = build("sesr(f=8,m=2,p=16)", 2).eval()
    st = build("st_sesr(f=8,m=2,r=4c_out)", 2).eval()
    st.init_from_float(fl)
    x = torch.rand(1, 1, 9, 9) * 255
    with torch.no_grad():
        err = (st(x) - fl(x)).abs().mean()
        assert err < 0.5 * (build("st_sesr(f=8,m=2,r=4c_out)", 2).eval()(x) - fl(x)).abs().mean()
    with pytest.raises(ValueError):
        st.init_from_float(build("sesr(f=8,m=3)", 2))


@pytest.mark.parametrize("bad", ["sesr(f=0)", "sesr(q=3)", "fsrcnn(d=56,s=12,m=4,x=1)", "espcn[rb]", "sesr-e",
                                 "st_sesr(r=3)"])
def test_bad_specs_fail_with_one_line(bad):
    with pytest.raises(SrhwError) as e:
        build(bad, 2)
    assert "\n" not in str(e.value)


def test_bad_scale():
    with pytest.raises(SrhwError, match="unsupported scale"):
        build("sesr", 5)


def test_canonical_spelling():
    assert canonical("sesr") == "sesr(f=16, m=5)" and canonical("sesr(p=64)") == "sesr(f=16, m=5, p=64)"
    assert canonical("fsrcnn(32,5,1)") == "fsrcnn(d=32, s=5, m=1)"
    assert canonical("st_sesr(r=c_out)") == "st_sesr(f=16, m=5, r=c_out)"


def _srhw(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "srhw", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout)


def test_cli_channel_mismatch_and_bad_input(tmp_path, srhw_main, monkeypatch):
    """The first case through the console script (its real exit status and stderr), the others in-process."""
    monkeypatch.chdir(REPO)
    torch.manual_seed(0)
    y_model = build("sesr(f=4,m=1,p=8)", 2)
    save_checkpoint(tmp_path / "y.safetensors", y_model, {"spec": y_model.spec, "scale": 2, "channels": 1})
    rgb = build("bl", 2, num_feat=16, num_group=1, num_block=1)
    save_checkpoint(tmp_path / "rgb.safetensors", rgb, {"spec": "bl", "scale": 2, "channels": 3,
                                                        "model_args": dict(num_feat=16, num_group=1, num_block=1)})
    cases = [
        ("eval", "--model", "sesr", "--checkpoint", str(tmp_path / "rgb.safetensors"), "--sets", "Set5"),
        ("eval", "--model", "bl", "--checkpoint", str(tmp_path / "y.safetensors"), "--sets", "Set5"),
        ("quantize", "int8", "--model", "sesr(f=4,m=1,p=8)", "--scale", "2", "--checkpoint",
         str(tmp_path / "rgb.safetensors"), "--out", str(tmp_path / "q1")),
        ("quantize", "int8", "--model", "bl", "--scale", "2", "--checkpoint", str(tmp_path / "y.safetensors"),
         "--out", str(tmp_path / "q2")),
        ("profile", "--model", "sesr(f=0)"),
        ("eval", "--model", "sesr", "--scale", "5", "--sets", "Set5"),
        ("train", "--model", "sesr", "--scale", "5", "--out", str(tmp_path / "t")),
    ]
    for i, args in enumerate(cases):
        r = _srhw(*args) if i == 0 else srhw_main(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        if "--checkpoint" in args:
            assert "channel" in r.stderr, r.stderr
    assert not any((tmp_path / d).exists() for d in ("q1", "q2", "t"))

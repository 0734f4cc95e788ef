"""The profiler against the paper's printed Tables 1, 2 and 5."""

import json
import subprocess
import sys

import pytest
import torch

from srhw.models import build, freeze_all
from srhw.profile import count_mult_adds, count_ops, count_params, lr_size, profile_table, table5_row, tradeoff
from srhw.profile.paper import TABLE1, TABLE2, TABLE5


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "srhw", *args], capture_output=True, text=True, timeout=120)


def test_lr_sizes_for_720p():
    assert lr_size(2) == (360, 640) and lr_size(3) == (240, 426) and lr_size(4) == (180, 320)


def test_hand_computed_conv():
    """One 3x3 conv 64->64 at 640x360: 36,928 params and 64*64*9 MACs per pixel."""
    conv = torch.nn.Conv2d(64, 64, 3, padding=1)
    assert count_params(conv) == 36_928

    class Wrap(torch.nn.Module):  # count_mult_adds feeds a 3-channel LR frame
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Conv2d(3, 64, 1, bias=False), conv

        def forward(self, x):
            return self.b(self.a(x))
    assert count_mult_adds(Wrap(), 2) == 640 * 360 * (64 * 3 + 64 * 64 * 9)


def test_tables_1_and_2_match_paper():
    rows = profile_table(1) + profile_table(2)
    paper = TABLE1 + TABLE2
    assert len(rows) == len(paper) == 32
    equal = 0
    for row, (spec, scale, pk, pg) in zip(rows, paper):
        assert row["scale"] == scale
        k, g = row["params"] // 1000, row["mult_adds"] / 1e9  # K cells compared as printed: truncated
        assert abs(k - pk) / pk < 0.003, f"{spec} x{scale}: {k} K vs paper {pk} K"
        assert abs(g - pg) / pg < 0.003, f"{spec} x{scale}: {g:.3f} G vs paper {pg} G"
        equal += (k == pk) + (round(g, 1) == pg)
    assert equal >= 60, f"only {equal}/64 cells equal the paper's printed values"


def test_table5_reductions_match_paper():
    rows = profile_table(5)
    for row, (spec, scale, pm, pa) in zip(rows, TABLE5):
        assert row["model"] == spec and row["scale"] == scale
        assert abs(row["mult_reduction_pct"] - pm) < 0.006, (spec, scale, row["mult_reduction_pct"], pm)
        assert abs(row["add_reduction_pct"] - pa) < 0.006, (spec, scale, row["add_reduction_pct"], pa)


def test_st_bl_layer_formula():
    """Per SP layer per output pixel: mults = r, adds = r (c_in k^2 - 1) + c_out (r - 1)."""
    bl, st = count_ops("bl", 2), count_ops("st_bl(r=c_out)", 2)
    p_lr, p_hr = 640 * 360, 1280 * 720
    mean_shift = 9 * (p_lr + p_hr)
    ca = 10 * (64 * 4 + 4 * 64)  # 10 RCABs; their CA 1x1 convs run on a 1x1 map
    r_outs = 64 * 23 + 64 + 256  # head, 23 body convs, sub-pixel conv (LR) ...
    assert st.mults == mean_shift + ca + p_lr * r_outs + p_hr * 3
    assert bl.mults == bl.adds == count_mult_adds(build("bl", 2).to("meta"), 2)


def test_sparse_counts_on_known_codes():
    """A trained model's zeros cut the adds: set one layer's codes by hand and count the difference."""
    torch.manual_seed(0)
    model = build("st_bl(r=c_out)", 2)
    dense = count_ops("st_bl(r=c_out)", 2, model=model, sparse=False)
    sparse = count_ops("st_bl(r=c_out)", 2, model=model, sparse=True)
    assert sparse.mults == dense.mults and sparse.adds < dense.adds

    def tail_adds(layer):  # n - 1 adds per row over its nonzero codes
        cb, _, cc, _ = layer.ternary()
        return sum(max(int((row != 0).sum()) - 1, 0) for c in (cb, cc) for row in c.flatten(1))

    tail = model.tail  # SP conv 64 -> 3 at HR, r = 3
    old = tail_adds(tail)
    with torch.no_grad():  # W_b rows with exactly 2 nonzeros (1 add each), W_c rows with 1 (no add)
        tail.weight_b.zero_()
        tail.weight_b[:, 0, 0, 0] = 1.0
        tail.weight_b[:, 1, 1, 1] = -1.0
        tail.weight_c.zero_()
        tail.weight_c[:, 0] = 1.0
    assert tail_adds(tail) == 3
    after = count_ops("st_bl(r=c_out)", 2, model=model, sparse=True)
    assert sparse.adds - after.adds == (old - 3) * 1280 * 720
    assert table5_row("st_bl(r=c_out)", 2, model=model, sparse=True)["adds"] == after.adds


def test_tradeoff_reproduces_papers_column():
    """Table 1, blrn(r=2) against bl with the paper's own figures: 0.9819 G and 4.27 K per 0.01 dB."""
    t = tradeoff(1006e3, 231.2e9, [37.86, 33.39, 32.06, 31.74], 464e3, 106.5e9, [37.61, 33.18, 31.90, 31.09])
    assert t.mult_adds_saved_g == pytest.approx(0.9819, abs=5e-5)
    assert t.params_saved_k == pytest.approx(4.27, abs=5e-3)


def test_cli_json_contract(srhw_main):
    for table in (1, 2, 5):  # table 1 through a real `python -m srhw`, the others in-process
        out = run_cli("profile", "--table", "1", "--json") if table == 1 else srhw_main("profile", "--table", table, "--json")
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)
        keys = {"model", "scale", "mults", "adds", "mult_reduction_pct", "add_reduction_pct"} if table == 5 else \
            {"model", "scale", "params", "mult_adds"}
        assert all(keys <= set(r) for r in rows)


def test_cli_model_and_r_flag(srhw_main):
    out = srhw_main("profile", "--model", "st_bl", "--r", "2c_out", "--scale", "2", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["model"] == "st_bl(r=2c_out)" and row["scale"] == 2
    assert row["mult_reduction_pct"] == pytest.approx(99.636, abs=1e-3)
    out = srhw_main("profile", "--model", "blrn(r=2)", "--scale", "2", "--psnr", "37.61,33.18,31.90,31.09",
                  "--ref-psnr", "37.86,33.39,32.06,31.74", "--json")
    (row,) = json.loads(out.stdout)
    assert row["reference"] == "bl" and row["params"] == 464_707
    assert row["mult_adds_saved_g_per_0.01db"] == pytest.approx((231_324_600_320 - 106_517_841_920) / 1e9 / 127)


@pytest.mark.parametrize("args", [
    ["--model", "blrn(r=0)"], ["--model", "blm1[xx]"], ["--model", "st_bl", "--r", "7x"],
    ["--model", "bl", "--scale", "5"], ["--model", "bl[rb]"], ["--model", "bl-e[rg+u]"], ["--model", "nope"],
    ["--model", "blrn(r=2)", "--psnr", "a,b", "--ref-psnr", "1,2"],
])
def test_cli_bad_input_one_line_exit_2(args, tmp_path, monkeypatch, srhw_main):
    monkeypatch.chdir(tmp_path)
    _one_line_exit_2(srhw_main("profile", *args), tmp_path)


def test_cli_bad_input_one_line_exit_2_in_a_real_process(tmp_path):
    """The console script's own exit status and stderr, for one of the inputs above (the rest run in-process)."""
    out = subprocess.run([sys.executable, "-m", "srhw", "profile", "--model", "blrn(r=0)"], capture_output=True,
                         text=True, cwd=tmp_path)
    _one_line_exit_2(out, tmp_path)


def _one_line_exit_2(out, tmp_path):
    assert out.returncode == 2, out
    assert out.stdout == "" and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert list(tmp_path.iterdir()) == [], "nothing may be written"


def test_cli_sparse_counts_from_checkpoint(tmp_path, srhw_main):
    from srhw.core.checkpoint import save_checkpoint
    torch.manual_seed(0)
    model = freeze_all(build("st_bl(r=c_out)", 2))
    ckpt = save_checkpoint(tmp_path / "st.safetensors", model, {"spec": "st_bl(r=c_out)", "scale": 2, "quant": "ternary"})
    out = srhw_main("profile", "--model", "st_bl", "--r", "c_out", "--scale", "2", "--checkpoint", ckpt, "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["sparse_adds"] == count_ops("st_bl(r=c_out)", 2, model=model, sparse=True).adds < row["adds"]
    bad = srhw_main("profile", "--model", "st_bl", "--r", "2c_out", "--scale", "2", "--checkpoint", ckpt)
    # the one checkpoint check (srhw.models.load) names the cause: the sidecar's r differs from --r
    assert bad.returncode == 2 and "does not match --r" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_small_configs_are_counted_too():
    """Tiny test models (BLConfig overrides) profile like the paper's: sparse counts read their codes."""
    cfg = dict(num_feat=16, num_group=1, num_block=1)
    model = build("st_bl(r=2c_out)", 2, **cfg)
    row = table5_row("st_bl(r=2c_out)", 2, model=model, sparse=True, **cfg)
    dense = table5_row("st_bl(r=2c_out)", 2, **cfg)
    assert row["mults"] == dense["mults"] and row["adds"] < dense["adds"]
    assert count_ops("bl", 2, **cfg).mults < count_ops("bl", 2).mults

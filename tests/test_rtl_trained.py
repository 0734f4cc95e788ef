"""The RTL acceptance sweep on the trained ternary st_bl(r=2c_out) x2 (rtl/verify.py, `srhw rtl verify-trained`).

Fast (CI): genuinely trained matrices through the whole chain (CSE plan -> Verilog -> Yosys counts ->
cocotb/Icarus bit-exact): the head's full W_b (128 x 27) and a body W_c (64 x 128); the SP layer of the
head and the tail on real feature maps of a Set5 LR crop against the golden executor, with the `$mul`
count; the committed sweep report matches the shipped weights. Slow: the whole sweep (every sp_conv
W_b / W_c, 10,000 random vectors each, Verilator for the big trees) and the SP layers of the first body
conv and the upsampler.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rtl.cse import plan_adder_tree
from rtl.golden import random_ternary
from rtl.verify import (MIN_REDUCTION, lr_crop, golden_env, tree_out_bits, trained_matrices, verify_matrix,
                         verify_sp_layer)
from srhw.cli import main as srhw_main
from srhw.quant import load_graph

ROOT = Path(__file__).resolve().parent.parent
CKPT = ROOT / "models" / "st_bl_r_2c_out-x2.safetensors"
GRAPH = ROOT / "models" / "st_bl_r_2c_out-x2.golden"
REPORT = ROOT / "rtl" / "reports" / "st_bl_r_2c_out-x2.verify.json"
BODY = "body_0_body_0_body_0"

pytestmark = pytest.mark.skipif(not GRAPH.is_dir(), reason="trained st_bl golden graph not shipped")


@pytest.fixture(scope="module")
def graph():
    return load_graph(GRAPH)


def _lr_image():
    from srhw.data import default_data_dir

    imgs = sorted((default_data_dir() / "Set5" / "LR_bicubic" / "X2").glob("*.png"))
    if not imgs:
        pytest.skip("Set5 LR images not found")
    return imgs[0]


def test_tree_out_bits_is_the_plans():
    for seed, (m, n, b) in enumerate([(5, 9, 2), (16, 40, 9), (3, 7, 30), (4, 4, 8)]):
        W = random_ternary(m, n, 0.5, seed)
        W[0] = 0  # an all-zero row
        assert tree_out_bits(W, b) == plan_adder_tree(W, b).out_bits


def test_trained_matrices_shapes_widths_and_blocks(graph):
    mats = trained_matrices(graph)
    names = [m.name for m in mats]
    sp = [n for n in graph.nodes if n.op == "sp_conv"]
    # Every node has its W_b and W_c; only the upsampler's 512 x 576 W_b is split (4 x 128 rows).
    assert len(mats) == 2 * len(sp) + 3
    assert [n for n in names if n.startswith("upsample_0.WB")] == [f"upsample_0.WB[{s}:{s + 128}]" for s in range(0, 512, 128)]
    assert "upsample_0.WC" in names and "head.WB" in names and f"{BODY}.WC" in names
    by = {m.name: m for m in mats}
    assert by["head.WB"].W.shape == (128, 27) and by["head.WB"].in_bits == 9  # signed 9-bit image codes
    assert by[f"{BODY}.WB"].W.shape == (128, 576) and by[f"{BODY}.WB"].in_bits == 8
    assert by["body_0_body_0_body_2.WB"].in_bits == 9  # its input is a uint8 ReLU output
    # The W_c tree takes the products h * a exactly as wide as rtl.sum_product makes them.
    from rtl.sum_product import SumProduct, SumProductConfig

    head = next(n for n in sp if n.name == "head")
    kern = SumProduct(by["head.WB"].W, graph.param(head, "A"), by["head.WC"].W, graph.param(head, "B"),
                      head.attrs["SH"], SumProductConfig(in_bits=9))
    for e in (kern, kern.tree_b, kern.tree_c):  # built for its widths only, never elaborated
        e._MustUse__silence = True
    assert by["head.WC"].in_bits == kern.prod_bits
    assert by[f"{BODY}.WC"].in_bits == tree_out_bits(by[f"{BODY}.WB"].W, 8) + 12  # scales < 2^11
    for m in mats:
        assert m.W.dtype == np.int8 and np.isin(m.W, (-1, 0, 1)).all() and m.W.any()
    blocks = np.concatenate([by[f"upsample_0.WB[{s}:{s + 128}]"].W for s in range(0, 512, 128)])
    node = next(n for n in sp if n.name == "upsample_0")
    assert np.array_equal(blocks, graph.param(node, "WB").reshape(512, -1))


@pytest.mark.parametrize("name,samples", [("head.WB", 2_000), (f"{BODY}.WC", 10_000)])
def test_trained_matrix_whole_chain_icarus(graph, tmp_path, name, samples):
    """A genuinely trained matrix: CSE plan, Verilog, Yosys ($mul 0, adders == plan), cocotb bit-exact."""
    layer = name.split(".")[0]
    mat = next(m for m in trained_matrices(graph, layers=[layer]) if m.name == name)
    row = verify_matrix(mat, tmp_path, sim="icarus", samples=samples, seed=3)
    assert row["yosys"]["$mul"] == 0 and row["yosys"]["$macc"] == 0
    assert row["yosys_adders"] == row["cse_adders"], "Yosys disagrees with the plan"
    assert row["bit_exact"] and row["mismatches"] == 0
    assert row["sim"]["checked"] == row["sim"]["sent"] >= samples + row["sim"]["corner"]
    assert row["naive_adders"] == int(np.count_nonzero(mat.W)) - int(np.count_nonzero(mat.W.any(1)))
    if mat.role == "WB":
        assert row["reduction"] >= MIN_REDUCTION and row["meets_min_reduction"]
    else:
        # st_bl(r=2c_out)'s trained W_c: two hidden channels per output, each used once -> no pair to
        # share, and the plan is at the nnz - 1 per row minimum.
        assert row["disjoint_rows"] and row["at_lower_bound"]
    assert row["ok"]


@pytest.mark.parametrize("layer,crop", [("head", 8), ("tail", 4)])
def test_sp_layer_on_real_feature_map(graph, tmp_path, layer, crop):
    """SPLayer (hard-wired, F = 1) of a trained node on its real input feature map (golden executor on a
    Set5 LR crop) == the golden executor's output of the node, word for word (cocotb, Icarus)."""
    path = _lr_image()
    img = lr_crop(path, crop, 100, 100)
    env = golden_env(graph, img)
    row = verify_sp_layer(graph, layer, img, tmp_path, (1, 1), "icarus", seed=5, image_name=path.name, env=env)
    assert row["bit_exact"] and row["mismatches"] == 0, row["sim"]
    assert row["rtl_ref_matches_golden"]
    h, w = row["map"]
    assert row["sim"]["checked"] == h * w == (crop * (2 if layer == "tail" else 1)) ** 2
    assert row["distinct_outputs"] > 10 and row["clamped_fraction"] < 0.5, "degenerate feature map"
    # r multiplies per output pixel: the Verilog writes r `$mul`; opt leaves the non-power-of-2 scales.
    assert row["yosys_pre_opt"]["$mul"] == row["r"] == row["muls_per_pixel"]
    assert row["yosys"]["$mul"] == row["r"] - row["pow2_scales"]
    assert row["ok"]


def test_committed_report_matches_the_shipped_weights(graph):
    """rtl/reports/<ckpt>.verify.json (the sweep's output; a partial sweep continues with --resume) is
    about these weights, and every row in it passed."""
    if not REPORT.is_file():
        pytest.skip("no committed sweep report")
    rep = json.loads(REPORT.read_text())
    mats = {m.name: m for m in trained_matrices(graph, rep["settings"]["max_nnz"])}
    rows = {r["matrix"]: r for r in rep["matrices"]}
    assert rows and set(rows) <= set(mats), "report rows that are not the graph's matrices"
    assert rep.get("complete", len(rows) == len(mats)) == (len(rows) == len(mats) and len(rep["sp_layers"]) == 4)
    for name, r in rows.items():
        m = mats[name]
        assert r["weights_sha256"] == m.sha256, f"{name}: report is stale"
        assert r["ok"] and r["yosys"]["$mul"] == 0 and r["mismatches"] == 0
        assert r["sim"]["random"] >= 10_000 and r["sim"]["checked"] == r["sim"]["sent"]
        assert r["meets_min_reduction"] or r["at_lower_bound"]
        if m.role == "WB":
            assert r["reduction"] >= MIN_REDUCTION
    assert rep["summary"]["ok"] and rep["summary"]["mismatches"] == 0
    assert rep["sp_layers"] and all(r["ok"] and r["mismatches"] == 0 for r in rep["sp_layers"])


def test_cli_bad_inputs(tmp_path, capsys):
    out = str(tmp_path / "r.json")
    assert srhw_main(["rtl", "verify-trained", "--checkpoint", str(tmp_path / "nope.safetensors"), "--out", out]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert srhw_main(["rtl", "verify-trained", "--graph", str(GRAPH), "--out", out, "--roles", "WX"]) == 2
    assert "--roles" in capsys.readouterr().err
    assert srhw_main(["rtl", "verify-trained", "--graph", str(GRAPH), "--out", out, "--layers", "nope"]) == 2
    assert "no sp_conv node 'nope'" in capsys.readouterr().err
    assert srhw_main(["rtl", "verify-trained", "--graph", str(GRAPH), "--out", out, "--sp-fold", "head=2"]) == 2
    assert "--sp-fold" in capsys.readouterr().err


def test_cli_resume_keeps_rows_of_other_layers(tmp_path, capsys):
    """Counts only (no sim, no Yosys), in parts: the checkpoint's codes are cross-checked against the graph;
    --resume keeps the passing rows of layers not selected now, and reuses selected ones."""
    out = tmp_path / "r.json"
    base = ["rtl", "verify-trained", "--checkpoint", str(CKPT), "--out", str(out), "--no-sim", "--no-yosys"]
    assert srhw_main(base + ["--layers", "tail"]) == 0
    rep = json.loads(out.read_text())
    assert rep["codes_match_checkpoint"] == len([n for n in load_graph(GRAPH).nodes if n.op == "sp_conv"])
    first = rep["matrices"]
    assert [r["matrix"] for r in first] == ["tail.WB", "tail.WC"]
    assert first[0]["shape"] == [6, 576] and first[0]["reduction"] >= MIN_REDUCTION and first[0]["ok"]
    assert srhw_main(base + ["--layers", "head,tail", "--resume"]) == 0
    assert "tail.WB: kept" in capsys.readouterr().out
    rep = json.loads(out.read_text())
    assert [r["matrix"] for r in rep["matrices"]] == ["head.WB", "head.WC", "tail.WB", "tail.WC"]  # graph order
    assert rep["matrices"][2:] == first and not rep["complete"]
    assert srhw_main(base + ["--layers", "head", "--resume"]) == 0
    assert [r["matrix"] for r in json.loads(out.read_text())["matrices"]] == ["head.WB", "head.WC", "tail.WB", "tail.WC"]


@pytest.mark.slow
def test_full_trained_sweep(tmp_path):
    """Every sp_conv W_b / W_c of the trained checkpoint (10,000 random vectors each) and the SP layers
    of the head, the first body conv, the upsampler (folded 32 x 8) and the tail on real maps (~1 h)."""
    out = tmp_path / "report.json"
    rc = srhw_main(["rtl", "verify-trained", "--checkpoint", str(CKPT), "--out", str(out),
                    "--sp-layers", f"head,{BODY},upsample_0,tail"])
    rep = json.loads(out.read_text())
    assert rc == 0 and rep["summary"]["ok"], rep["summary"]
    for r in rep["matrices"]:
        assert r["yosys"]["$mul"] == 0 and r["yosys_matches_plan"] and r["bit_exact"]
        assert r["reduction"] >= MIN_REDUCTION or (r["role"] == "WC" and r["at_lower_bound"])
    assert all(r["ok"] for r in rep["sp_layers"]) and len(rep["sp_layers"]) == 4

"""`srhw rtl fit|counts` weights (shipped checkpoint by default, random codes labelled loudly) and
`srhw rtl sp-layer` (one trained layer as Verilog + README)."""

import json
from argparse import Namespace
from pathlib import Path

import pytest

from srhw.cli import main
from srhw.cli.rtl_network import RANDOM, weights_of
from srhw.core.errors import SrhwError

REPO = Path(__file__).resolve().parents[1]
CKPT = REPO / "models" / "st_bl_r_2c_out-x2.safetensors"


def _args(**kw):
    base = dict(model=None, r=None, scale=None, checkpoint=None, random_weights=False)
    return Namespace(**{**base, **kw})


def test_fit_and_counts_default_to_the_shipped_checkpoint():
    assert weights_of(_args()) == ("st_bl(r=2c_out)", 2, CKPT)
    assert weights_of(_args(model="st_bl", r="2c_out")) == ("st_bl(r=2c_out)", 2, CKPT)
    assert weights_of(_args(random_weights=True)) == ("st_bl(r=2c_out)", 2, None)
    assert weights_of(_args(model="st_bl", r="6c_out")) == ("st_bl(r=6c_out)", 2, None)  # none shipped: random
    assert weights_of(_args(checkpoint=str(CKPT))) == ("st_bl(r=2c_out)", 2, CKPT)  # spec from the sidecar
    with pytest.raises(SrhwError, match="disagrees"):
        weights_of(_args(checkpoint=str(CKPT), model="st_bl", r="4c_out"))
    with pytest.raises(SrhwError, match="not both"):
        weights_of(_args(checkpoint=str(CKPT), random_weights=True))
    with pytest.raises(SrhwError, match="no sum-product"):
        weights_of(_args(model="bl"))


def test_random_codes_are_labelled_in_table_and_json(capsys, monkeypatch):
    import rtl

    seen = {}

    def fake_section(spec, scale, part, clock_mhz=150.0, codes=None, cse=False, model_args=None):
        # the counting itself is tested in test_rtl_fit; here only what the CLI says about the weights
        seen.update(spec=spec, codes=codes)
        return {"layers": [], "muls": 1, "adds_dense_table5": 2, "adds": 1, "adds_kind": "after zero pruning"}

    monkeypatch.setattr(rtl, "network_section", fake_section)
    assert main(["rtl", "counts", "--model", "st_bl", "--r", "c_out", "--json"]) == 0
    sec = json.loads(capsys.readouterr().out)
    assert sec["random_weights"] is True and sec["weights"] == RANDOM and seen == {"spec": "st_bl(r=c_out)", "codes": None}
    assert main(["rtl", "counts", "--model", "st_bl", "--r", "c_out"]) == 0
    assert capsys.readouterr().out.count(RANDOM) == 2  # the header line and the closing warning
    assert main(["rtl", "counts"]) == 0  # the shipped checkpoint: its trained codes, no label
    out = capsys.readouterr().out
    assert RANDOM not in out and str(CKPT) in out and len(seen["codes"]) == 26


def test_sp_layer_bad_layer_is_one_line_listing_the_names(tmp_path, capsys):
    bad = tmp_path / "bad"
    assert main(["rtl", "sp-layer", "--checkpoint", str(CKPT), "--layer", "nope", "--out", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "valid names: head, body_0_body_0_body_0" in err[0] and not bad.exists()


@pytest.mark.slow  # ~20-40 s: the head layer's Verilog is generated twice
def test_sp_layer_writes_the_trained_layer(tmp_path, capsys):
    from rtl.adder_tree import to_verilog
    from rtl.sweep import trained_graph
    from rtl.verify import sp_layer_of

    out = tmp_path / "head"
    assert main(["rtl", "sp-layer", "--checkpoint", str(CKPT), "--layer", "head", "--width", "6", "--height", "5",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [".srhw-output.json", "README.md", "sp_layer.json", "sp_layer.v"]
    graph, _, _ = trained_graph(None, CKPT)
    node = next(n for n in graph.nodes if n.name == "head")
    # word for word the generator's module for this node of the trained graph (codes, scales, bias, clamp)
    assert (out / "sp_layer.v").read_text() == to_verilog(sp_layer_of(graph, node, 5, 6, (1, 1)), "sp_layer")
    side = json.loads((out / "sp_layer.json").read_text())
    assert (side["layer"], side["c_in"], side["c_out"], side["width"], side["height"]) == ("head", 3, 64, 6, 5)
    assert (side["out_lo"], side["out_hi"]) == (node.attrs["out_lo"], node.attrs["out_hi"])
    assert "head" in (out / "README.md").read_text() and "verify-trained" in (out / "README.md").read_text()

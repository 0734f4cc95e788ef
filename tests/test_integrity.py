"""Artefact integrity: content hashes tie integer graphs to their checkpoint (build and eval refuse a stale
graph), non-finite weights and truncated files are refused, sidecars are validated against one schema."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from srhw.core.checkpoint import load_checkpoint, save_checkpoint
from srhw.core.errors import SrhwError
from srhw.core.integrity import content_hash, record_source
from srhw.core.sidecar import validate_sidecar
from srhw.eval.upscalers import golden_upscaler
from srhw.models import build
from srhw.quant import load_graph, quantize

REPO = Path(__file__).resolve().parents[1]
TINY = dict(num_feat=16, num_group=1, num_block=1)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def srhw(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "srhw", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def one_line(r, *words):
    lines = [l for l in r.stderr.strip().splitlines() if not l.startswith("[srhw build] ")]  # build progress lines
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def quantized(folder: Path, record=True):
    """A tiny INT8 checkpoint as srhw quantize writes it: model.safetensors + sidecar naming golden/."""
    torch.manual_seed(0)
    model = build("bl", 2, **TINY)
    meta = {"spec": "bl", "scale": 2, "model_args": TINY, "quant": "int8", "golden": "golden", "data": "test",
            "quant_config": {"act_bits": 8}}
    graph = quantize(model, [torch.rand(2, 3, 12, 12) * 255]).export({"spec": "bl", "scale": 2, "quant": "int8"})
    if record:
        record_source(graph, model.state_dict(), meta, "model.safetensors")
    graph.save(folder / "golden")
    return save_checkpoint(folder / "model.safetensors", model, meta)


def tiny_set(root):
    (root / "Tiny" / "HR").mkdir(parents=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 28, 3), dtype=np.uint8)).save(root / "Tiny" / "HR" / "a.png")
    return root


def edit_weight(ck: Path, value):
    sd = load_file(str(ck))
    k = next(k for k, v in sd.items() if v.is_floating_point() and v.numel() > 1 and "mean" not in k)
    sd[k] = sd[k].clone()
    sd[k].view(-1)[0] = value
    from safetensors import safe_open

    with safe_open(str(ck), framework="pt") as f:
        md = f.metadata()
    save_file(sd, str(ck), metadata=md)  # the sidecar stays: only the weights change
    return k


def test_hash_covers_weights_and_meaning():
    torch.manual_seed(0)
    sd = build("bl", 2, **TINY).state_dict()
    meta = {"spec": "bl", "scale": 2, "model_args": TINY, "quant": "int8", "metrics": {"x": 1}}
    h = content_hash(sd, meta)
    assert h == content_hash({k: v.clone() for k, v in sd.items()}, {**meta, "metrics": {}, "step": 9})
    other = {k: v.clone() for k, v in sd.items()}
    k = next(iter(other))
    other[k].view(-1)[0] += 1e-3
    assert content_hash(other, meta) != h
    assert content_hash(sd, {**meta, "scale": 3}) != h and content_hash(sd, {**meta, "quant": "ternary"}) != h


def test_golden_upscaler_refuses_a_graph_of_other_weights(tmp_path):
    ck = quantized(tmp_path / "q")
    assert golden_upscaler(ck, 2)(np.zeros((6, 6, 3), np.uint8)).shape == (12, 12, 3)
    assert golden_upscaler(tmp_path / "q", 2) is not None  # the quantize output folder
    edit_weight(ck, 0.5)  # a finite edit: the graph is now stale
    with pytest.raises(SrhwError, match=r"golden was exported from other weights than .*model\.safetensors"):
        golden_upscaler(ck, 2)
    with pytest.raises(SrhwError, match="other weights"):
        golden_upscaler(tmp_path / "q", 2)
    old = quantized(tmp_path / "old", record=False)
    with pytest.raises(SrhwError, match="records no content hash"):
        golden_upscaler(old, 2)
    assert load_graph(tmp_path / "old" / "golden")  # a bare graph folder has no checkpoint to compare


def test_non_finite_weights_are_refused_at_load(tmp_path):
    ck = quantized(tmp_path / "q")
    k = edit_weight(ck, float("nan"))
    with pytest.raises(SrhwError, match=rf"weight {k} holds NaN or infinite values"):
        load_checkpoint(ck)
    edit_weight(ck, float("inf"))
    with pytest.raises(SrhwError, match="NaN or infinite"):
        load_checkpoint(ck)


def test_truncated_header_has_its_own_message(tmp_path):
    ck = quantized(tmp_path / "q")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(ck.read_bytes()[:40])
    with pytest.raises(SrhwError, match="truncated safetensors file: its header needs"):
        load_checkpoint(cut)
    pickle = tmp_path / "p.safetensors"
    torch.save({"w": torch.zeros(2)}, pickle)
    with pytest.raises(SrhwError, match="pickles are refused"):
        load_checkpoint(pickle)


@pytest.mark.parametrize("side,words", [
    ([1, 2], ["must be a JSON object, not a list"]),
    ({"spec": "bl", "scale": "2"}, ["field 'scale' must be an integer (got '2')"]),
    ({"spec": 3, "scale": 2, "step": -1}, ["field 'spec' must be a string", "field 'step' must be >= 0"]),
    ({"spec": "bl", "scale": 2, "model_args": [1]}, ["field 'model_args' must be a JSON object or null"]),
    ("text", ["must be a JSON object, not a string"]),
])
def test_sidecar_schema(tmp_path, side, words):
    ck = quantized(tmp_path / "q")
    (tmp_path / "q" / "model.json").write_text(json.dumps(side))
    with pytest.raises(SrhwError) as e:
        load_checkpoint(ck)
    msg = str(e.value)
    assert "\n" not in msg and "model.json: bad sidecar" in msg
    for w in words:
        assert w in msg, msg
    assert validate_sidecar({"spec": "bl", "scale": 2, "extra": {"kept": True}}, "x")["extra"] == {"kept": True}


def test_cli_eval_and_build_refuse_in_one_line(tmp_path, srhw_main):
    cli = srhw_main  # in-process: the same main() as `python -m srhw`, without a torch start per call
    data = tiny_set(tmp_path / "data")
    ck = quantized(tmp_path / "q")
    assert cli("eval", "--checkpoint", ck, "--data", data, "--sets", "Tiny", "--json").returncode == 0
    edit_weight(ck, 0.25)
    line = one_line(cli("eval", "--checkpoint", ck, "--data", data, "--sets", "Tiny"), "other weights")
    assert str(tmp_path / "q" / "golden") in line and str(ck) in line, "names both files"
    out = tmp_path / "b"
    line = one_line(cli("build", "--model", "bl", "--checkpoint", ck, "--out", out), "other weights")
    assert str(ck) in line and not out.exists()
    edit_weight(ck, float("nan"))
    one_line(cli("eval", "--checkpoint", ck, "--data", data, "--sets", "Tiny"), "NaN or infinite")
    one_line(cli("build", "--model", "bl", "--checkpoint", ck, "--out", out), "NaN or infinite")
    ck = quantized(tmp_path / "q2")
    for side, word in (([1, 2], "must be a JSON object"), ({"spec": "bl", "scale": "2"}, "must be an integer")):
        (tmp_path / "q2" / "model.json").write_text(json.dumps(side))
        one_line(cli("eval", "--checkpoint", ck, "--data", data, "--sets", "Tiny"), word)
        one_line(cli("build", "--model", "bl", "--checkpoint", ck, "--out", out), word)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data", "q", "q2"], "nothing half-written"
    # and the real process: exit 2, one line
    one_line(srhw("eval", "--checkpoint", ck, "--data", data, "--sets", "Tiny"), "must be an integer")


@pytest.mark.parametrize("name", ["st_bl_r_2c_out-x2", "blrn-e_r_2__rb-x2-int8"])
def test_shipped_graphs_carry_their_checkpoints_hash(name):
    from srhw.core.integrity import check_source
    from srhw.eval.upscalers import golden_dir

    ck = REPO / "models" / f"{name}.safetensors"
    sd, meta = load_checkpoint(ck)
    gdir = golden_dir(ck)
    graph = load_graph(gdir)
    assert graph.meta["source"]["checkpoint"] == ck.name
    check_source(graph, gdir, ck, sd, meta)

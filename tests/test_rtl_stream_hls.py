"""The hls4ml side of a streaming RTL design (srhw.flows.stream_hls, `srhw rtl stream-hls`): reuse factors
from the streaming folding, the io_stream project, its g++ C-simulation bit-exact against the golden
executor. Fast: one tiny graph; slow: the shipped FSRCNN-s INT8 network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srhw.flows.stream_hls import csim, reuse_from_folding, toolchain_missing

from rtl.stream.example import random_chain
from rtl.stream.folding import choose_folding

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models" / "fsrcnn_d32_s5_m1-x2-int8.safetensors"
NO_CSIM = toolchain_missing()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "srhw", "rtl", "stream-hls", *args], capture_output=True, text=True)


def test_reuse_factors_are_the_foldings_cycles_per_pixel():
    f = choose_folding(random_chain(0, [(5, 8), (3, 4)]), fps=30, clock_mhz=150)
    r = reuse_from_folding(f)
    assert r == {n: fm * fn for n, (fm, fn) in f["folds"].items()} and set(r) == {"conv0", "conv1"}
    assert all(v > 1 for v in r.values())  # at 30 fps every layer of this tiny chain is folded


@pytest.mark.skipif(bool(NO_CSIM), reason=f"hls4ml C-sim toolchain absent: {NO_CSIM}")
def test_tiny_graph_csim_is_bit_exact_with_the_foldings_reuse(tmp_path):
    g = random_chain(3, [(3, 4)])  # one 3x3 conv 1 -> 4, pixel shuffle
    f = choose_folding(g, fps=30, clock_mhz=150)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.integers(0, 256, (1, 6, 6, 1)), np.zeros((1, 6, 6, 1)),
                        np.full((1, 6, 6, 1), 255)]).astype(np.uint8)
    r = csim(g, f, x, tmp_path)
    assert r["checked"] == 3 * 12 * 12 and r["mismatches"] == 0, r
    fm, fn = f["folds"]["conv0"]
    used = r["reuse_used"]["conv0"]
    assert r["reuse_requested"] == {"conv0": fm * fn} and 1 <= used <= fm * fn and 9 % used == 0, r


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, srhw_main):
    """The first case through the console script (its real exit status), the others in-process."""
    out = tmp_path / "out"
    for i, (args, line) in enumerate(((["--random-seed", "0", "--fps", "400"], "output stage: 1280x720 pixels"),
                                      (["--random-seed", "0", "--out-frame", "200000x8"], "layer head: line buffers of"),
                                      (["--random-seed", "0", "--crop", "0"], "--crop 0"))):
        p = _cli(*args, "--out", str(out)) if i == 0 else srhw_main("rtl", "stream-hls", *args, "--out", out)
        assert p.returncode == 2 and line in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.skipif(bool(NO_CSIM), reason=f"hls4ml C-sim toolchain absent: {NO_CSIM}")
def test_shipped_fsrcnn_s_project_and_csim_bit_exact(tmp_path):
    out, rep = tmp_path / "hls", tmp_path / "row.json"
    p = _cli("--checkpoint", str(SHIPPED), "--out", str(out), "--report", str(rep))
    assert p.returncode == 0, p.stderr
    row = json.loads(rep.read_text())
    h = row["hls"]
    assert h["io_type"] == "io_stream" and h["input_hw"] == [360, 640] and (out / "hls").is_dir()
    assert h["csim"]["ran"] and h["csim"]["mismatches"] == 0 and h["csim"]["checked"] == 6 * 32 * 32
    assert h["reuse_requested"] == {n: a * b for n, (a, b) in row["folding"].items()}

"""Streaming SP conv layer (rtl/sp_layer.py): amaranth.sim against the numpy golden model word for word,
throughput = the folding's cycle count, and bit-exactness against srhw.quant's golden executor."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from rtl.adder_tree import to_verilog
from rtl.golden import im2col3x3, pack, random_ternary, sp_layer_ref, unpack
from rtl.sp_layer import SPLayer, SPLayerConfig, frame_cycles
from rtl.verify import sp_layer_of

SEED = int(os.environ.get("SEED", "1"))


def simulate(dut, frames, valid_prob=1.0, seed=0, max_idle=300):
    """Stream `frames` ((H, W, C) arrays) through the layer; return (outputs (K, M), o_valid cycles,
    accepted-input cycles). i_valid is dropped at random (1 - valid_prob); data while idle is garbage."""
    cfg = dut.config
    rng = np.random.default_rng(seed)
    flat = [p for f in frames for p in np.asarray(f).reshape(-1, f.shape[-1])]
    got, out_cycles, in_cycles = [], [], []

    async def bench(ctx):
        i, idle, cyc = 0, 0, 0
        while idle < max_idle:
            if i < len(flat) and rng.random() < valid_prob:
                ctx.set(dut.i_valid, 1)
                ctx.set(dut.i_data, pack(flat[i], cfg.in_bits))
            else:
                ctx.set(dut.i_valid, 0)
                ctx.set(dut.i_data, int(rng.integers(0, 1 << 30)) & ((1 << len(dut.i_data)) - 1))
            take = ctx.get(dut.i_valid) and ctx.get(dut.i_ready)
            await ctx.tick()
            cyc += 1
            if take:
                in_cycles.append(cyc)
                i += 1
            if ctx.get(dut.o_valid):
                got.append(unpack(ctx.get(dut.o_data), dut.m, cfg.out_bits, cfg.out_signed))
                out_cycles.append(cyc)
                idle = 0
            elif i >= len(flat):
                idle += 1

    top = Module()
    top.domains.sync = ClockDomain("sync")
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got).reshape(-1, dut.m), out_cycles, in_cycles


def _layer(c_in, r, m, fold, H, W, lo=0, hi=255, in_bits=9, seed=0, sh=18):
    rng = np.random.default_rng(seed)
    Wb, Wc = random_ternary(r, 9 * c_in, 2 / 3, seed), random_ternary(m, r, 2 / 3, seed + 1)
    a = rng.integers(-(2 ** 11) + 1, 2 ** 11, r)  # 12-bit scales (srhw.quant sp_scale_bits)
    bias = rng.integers(-(2 ** 20), 2 ** 20, m)
    cfg = SPLayerConfig(width=W, height=H, in_bits=in_bits, lo=lo, hi=hi, fold_r=fold[0], fold_n=fold[1])
    return SPLayer(Wb, a, Wc, bias, sh, cfg), (Wb, a, Wc, bias, sh)


@pytest.mark.parametrize("fold", [(1, 1), (2, 1), (4, 3), (8, 2), (3, 5)])
def test_sp_layer_matches_golden(fold):
    c_in, r, m, H, W = 2, 8, 3, 4, 5
    dut, p = _layer(c_in, r, m, fold, H, W, seed=sum(fold))
    rng = np.random.default_rng(SEED + sum(fold))
    alt = (np.indices((H, W, c_in)).sum(0) % 2) * 255
    frames = [np.full((H, W, c_in), 255), np.zeros((H, W, c_in), int), alt, 255 - alt,
              rng.integers(0, 256, (H, W, c_in)), rng.integers(0, 256, (H, W, c_in))]
    got, _, _ = simulate(dut, frames, valid_prob=0.7, seed=SEED)
    ref = np.concatenate([sp_layer_ref(*p, f, 0, 255).reshape(-1, m) for f in frames])
    assert got.shape == ref.shape, f"{len(got)} outputs for {len(ref)} expected"
    bad = np.flatnonzero((got != ref).any(1))
    assert not bad.size, f"fold {fold}: first mismatch at output {bad[0]}: {got[bad[0]]} != {ref[bad[0]]}"
    inside = np.count_nonzero((ref > 0) & (ref < 255))
    assert inside > ref.size // 10, "degenerate test: nearly every output clamps"


@pytest.mark.parametrize("fold", [(1, 1), (4, 1), (2, 3)])
def test_sp_layer_throughput_is_the_folding(fold):
    """With input always valid a frame takes exactly frame_cycles(H, W, F): F cycles per emitting
    position, one per padding-only position; outputs of a frame are spaced F cycles apart within a row."""
    H, W = 3, 6
    dut, p = _layer(2, 6, 2, fold, H, W, seed=3)
    frames = [np.random.default_rng(i).integers(0, 256, (H, W, 2)) for i in range(3)]
    got, oc, _ = simulate(dut, frames)
    assert len(got) == 3 * H * W
    F = fold[0] * fold[1]
    assert oc[2 * H * W] - oc[H * W] == frame_cycles(H, W, F), "cycles per frame"
    assert oc[1] - oc[0] == F, "cycles between neighbouring output pixels"


def test_sp_layer_single_pixel_and_signed_range():
    """1x1 image (all window taps but the centre are padding), signed output range, 1 channel."""
    dut, p = _layer(1, 4, 2, (2, 2), 1, 1, lo=-128, hi=127, in_bits=8, seed=5)
    frames = [np.array([[[v]]]) for v in (127, -128, 0, 55, -7)]
    got, _, _ = simulate(dut, frames)
    ref = np.concatenate([sp_layer_ref(*p, f, -128, 127).reshape(-1, 2) for f in frames])
    assert np.array_equal(got, ref)


def test_im2col_matches_quant_conv():
    from srhw.quant.golden import conv2d_int

    rng = np.random.default_rng(0)
    img = rng.integers(-50, 50, (5, 4, 3))
    w = rng.integers(-2, 3, (7, 3, 3, 3))
    ref = conv2d_int(img.transpose(2, 0, 1)[None], w, None, (1, 1))[0]  # (7, 5, 4)
    got = (im2col3x3(img) @ w.reshape(7, -1).T).reshape(5, 4, 7).transpose(2, 0, 1)
    assert np.array_equal(got, ref)


@pytest.fixture(scope="module")
def tiny_graph():
    """A tiny st_bl(r=2c_out) x2 with random frozen ternary weights, PTQ-quantized by srhw.quant."""
    import torch

    from srhw.models import build, freeze_all
    from srhw.quant import Golden, quantize

    torch.manual_seed(0)
    model = freeze_all(build("st_bl(r=2c_out)", 2, num_feat=16, num_group=1, num_block=1))
    g = quantize(model, [torch.rand(2, 3, 12, 12) * 255]).export({"spec": "st_bl(r=2c_out)", "scale": 2})
    img = np.random.default_rng(0).integers(0, 256, (1, 3, 6, 7)).astype(np.uint8)
    return g, Golden(g).run_all(img)


@pytest.mark.parametrize("name,fold", [("head", (1, 1)), ("body_0_body_0_body_2", (8, 4)), ("tail", (3, 2))])
def test_sp_layer_bitexact_vs_quant_golden(tiny_graph, name, fold):
    """The RTL layer on the node's real input feature map == srhw.quant's golden output of that node."""
    g, env = tiny_graph
    node = next(n for n in g.nodes if n.name == name)
    x = env[node.inputs[0]][0].transpose(1, 2, 0)  # (H, W, C)
    y = env[node.name][0].transpose(1, 2, 0)
    dut = sp_layer_of(g, node, x.shape[0], x.shape[1], fold)
    got, _, _ = simulate(dut, [x], valid_prob=0.8, seed=SEED)
    assert np.array_equal(got.reshape(y.shape), y), f"{name}: RTL != srhw.quant golden"
    assert len(np.unique(y)) > 3, "degenerate feature map"


def test_sp_layer_verilog_is_deterministic_and_rejects_bad_folds():
    d1, _ = _layer(2, 6, 2, (3, 2), 3, 4, seed=9)
    d2, _ = _layer(2, 6, 2, (3, 2), 3, 4, seed=9)
    assert to_verilog(d1, "spl") == to_verilog(d2, "spl")
    with pytest.raises(ValueError, match="exceeds"):
        _layer(2, 6, 2, (7, 1), 3, 4)
    with pytest.raises(ValueError, match="ternary"):
        SPLayer(np.full((2, 9), 2), [1, 1], np.ones((1, 2)), None, 0, SPLayerConfig(4, 4))

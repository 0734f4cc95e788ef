"""Sum-product kernel (rtl/sum_product.py) against its numpy golden model, word for word (amaranth.sim)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from rtl.golden import pack, random_ternary, sum_product_ref, unpack
from rtl.sum_product import SumProduct, SumProductConfig, out_range


def run(dut, X, valid, in_bits):
    """Drive X with `valid` as i_valid; return [(cycle, words)] for every o_valid cycle."""
    got = []
    out_signed = dut.config.out_signed

    async def bench(ctx):
        for c in range(len(X) + dut.latency + 2):
            ctx.set(dut.i_data, pack(X[min(c, len(X) - 1)], in_bits))
            ctx.set(dut.i_valid, int(valid[c]) if c < len(X) else 0)
            await ctx.tick()
            if ctx.get(dut.o_valid):
                got.append((c, unpack(ctx.get(dut.o_data), dut.m, dut.config.out_bits, out_signed)))

    top = Module()
    top.domains.sync = ClockDomain("sync")
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("n,r,m,sh,relu,out_signed,seed", [
    (27, 8, 4, 10, True, False, 0),  # a 3x3 conv on 3 channels, r = 2 * c_out, ReLU to uint8
    (18, 6, 5, 7, False, True, 1),   # no ReLU, int8 output
    (9, 4, 3, 0, True, True, 2),     # no shift
])
def test_sum_product_matches_golden(n, r, m, sh, relu, out_signed, seed):
    rng = np.random.default_rng(seed)
    Wb, Wc = random_ternary(r, n, 2 / 3, seed), random_ternary(m, r, 2 / 3, seed + 100)
    a = rng.integers(-(2 ** 11) + 1, 2 ** 11, r)  # sp_scale_bits = 12 (srhw.quant.config)
    bias = rng.integers(-(2 ** 12), 2 ** 12, m)
    cfg = SumProductConfig(in_bits=8, out_bits=8, out_signed=out_signed, relu=relu)
    dut = SumProduct(Wb, a, Wc, bias, sh, cfg)
    lo, hi = out_range(cfg)
    assert (lo, hi) == ((0 if relu else -128, 127) if out_signed else (0, 255))
    # Corner vectors (all max / all min / alternating) plus random ones, with random valid gaps.
    alt = np.where(np.arange(n) % 2 == 0, 127, -128)
    X = np.concatenate([[np.full(n, 127), np.full(n, -128), alt, -alt - 1], rng.integers(-128, 128, (120, n))])
    valid = rng.random(len(X)) < 0.75
    valid[:4] = True
    got = run(dut, X, valid, 8)
    sent = np.flatnonzero(valid)
    assert [c for c, _ in got] == [int(c) + dut.latency - 1 for c in sent], "latency / valid mismatch"
    Y = sum_product_ref(Wb, a, Wc, bias, sh, X[sent], lo, hi)
    assert Y.min() < Y.max(), "degenerate test: every output clamped to one value"
    for (c, y), ref in zip(got, Y):
        assert np.array_equal(y, ref), f"cycle {c}: {y} != {ref}"


def test_sum_product_golden_rounding():
    # acc = 5, 6, -6 with sh = 2: 5/4 = 1.25 -> 1, 6/4 = 1.5 -> 2 (half up), -6/4 = -1.5 -> -1 (half up)
    Wb = np.eye(3, dtype=np.int8)
    Wc = np.eye(3, dtype=np.int8)
    y = sum_product_ref(Wb, [1, 1, 1], Wc, None, 2, np.array([5, 6, -6]), -128, 127)
    assert y.tolist() == [1, 2, -1]


def test_sum_product_rejects_too_wide_scales():
    import gc
    import warnings

    with warnings.catch_warnings():  # the half-built component is never elaborated: expected here
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="DSP48E1"):
            SumProduct(random_ternary(2, 4), [1 << 18, 1], random_ternary(2, 2), None, 0)
        gc.collect()


def test_sum_product_cli_sidecar_and_bad_params(tmp_path):
    import gc
    import json
    import os
    import subprocess
    import sys
    import warnings

    rng = np.random.default_rng(3)
    wb, wc = random_ternary(6, 12, seed=3), random_ternary(4, 6, seed=4)
    a, bias = rng.integers(-2000, 2000, 6), rng.integers(-100, 100, 4)
    np.savez(tmp_path / "p.npz", wb=wb, wc=wc, a=a, bias=bias, sh=np.int64(9))
    cmd = [sys.executable, "-m", "srhw", "rtl", "sum-product", "--params", str(tmp_path / "p.npz"),
           "--in-bits", "8", "--out", str(tmp_path / "o")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "o" / "sum_product.json").read_text())
    with warnings.catch_warnings():  # built only to read its plans, never elaborated
        warnings.simplefilter("ignore")
        dut = SumProduct(wb, a, wc, bias, 9, SumProductConfig())
        latency, adders = dut.latency, dut.tree_b.plan.adders + dut.tree_c.plan.adders + 4
        del dut
        gc.collect()
    assert (meta["n"], meta["m"], meta["r"], meta["muls"], meta["latency"]) == (12, 4, 6, 6, latency)
    assert meta["adders"] == adders
    assert (tmp_path / "o" / "sum_product.v").read_text().count("*") > 0  # the r multiplies are there
    # Bad parameters: ternary violated, missing key -> one error line, exit 2.
    np.savez(tmp_path / "bad.npz", wb=wb * 2, wc=wc, a=a, sh=np.int64(9))
    np.savez(tmp_path / "miss.npz", wb=wb, wc=wc, a=a)
    for bad in ("bad.npz", "miss.npz"):
        cmd[cmd.index("--params") + 1] = str(tmp_path / bad)
        r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), timeout=300)
        assert r.returncode == 2 and r.stderr.startswith("srhw rtl: error:"), (r.returncode, r.stderr)


def test_sum_product_yosys_counts(tmp_path):
    """Exactly r multipliers (the scales) and the planned adders survive in the netlist."""
    from rtl.adder_tree import to_verilog
    from rtl.yosys import count_arith

    rng = np.random.default_rng(5)
    wb, wc = random_ternary(6, 18, seed=5), random_ternary(4, 6, seed=6)
    dut = SumProduct(wb, rng.integers(-2000, 2000, 6), wc, rng.integers(-50, 50, 4), 8, SumProductConfig())
    (tmp_path / "sp.v").write_text(to_verilog(dut, "sp"))
    cells = count_arith(tmp_path / "sp.v", "sp")
    assert cells["$mul"] == 6
    assert cells["$add"] + cells["$sub"] + cells["$neg"] == dut.tree_b.plan.adders + dut.tree_c.plan.adders + 4

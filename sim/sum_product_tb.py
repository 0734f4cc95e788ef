"""cocotb bench of the sum-product kernel (rtl/sum_product.py), checked word for word against
`rtl.golden.sum_product_ref`. Reuses the driver/monitor/checker layers of adder_tree_tb.

Environment:
    SUM_PRODUCT_PARAMS  .npz (wb, a, wc, sh, optional bias) the Verilog was generated from (required)
    SUM_PRODUCT_META    the generator's JSON sidecar (required)
    NUM_SAMPLES, SEED, VALID_PROB   as in adder_tree_tb
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from stream import DataValidDriver, DataValidMonitor, InOrderChecker, start_and_reset, write_summary
from rtl.golden import pack, sum_product_ref, unpack


class SumProductTestbench:
    """Driver -> input monitor -> golden model -> checker.add_expected; output monitor -> add_actual."""

    def __init__(self, dut, params, meta, valid_prob, rng):
        self.p, self.meta = params, meta
        self.n, self.m, self.in_bits, self.out_bits = meta["n"], meta["m"], meta["in_bits"], meta["out_bits"]
        self.latency, self.signed = meta["latency"], meta["out_signed"]
        assert len(dut.i_data) == self.n * self.in_bits and len(dut.o_data) == self.m * self.out_bits
        self.inside = self.total = 0  # outputs strictly inside (lo, hi): the requantizer is not just clamping
        self.driver = DataValidDriver(dut.clk, dut.i_valid, dut.i_data, valid_prob, rng)
        self.checker = InOrderChecker(lambda v: unpack(v, self.m, self.out_bits, self.signed).tolist(),
                                      "sum_product.checker")
        self.input_mon = DataValidMonitor(dut.clk, dut.i_valid, dut.i_data, self.model, "sum_product.input_mon")
        self.output_mon = DataValidMonitor(dut.clk, dut.o_valid, dut.o_data,
                                           lambda c, v: self.checker.add_actual((c, v)), "sum_product.output_mon")

    def model(self, cycle, data):
        p = self.p
        y = sum_product_ref(p["wb"], p["a"], p["wc"], p.get("bias"), int(p["sh"]),
                            unpack(data, self.n, self.in_bits), self.meta["out_lo"], self.meta["out_hi"])
        self.inside += int(np.count_nonzero((y > self.meta["out_lo"]) & (y < self.meta["out_hi"])))
        self.total += len(y)
        # Pack as unsigned words: mask each to out_bits (pack() checks the signed range).
        mask = (1 << self.out_bits) - 1
        word = sum((int(v) & mask) << (i * self.out_bits) for i, v in enumerate(y))
        self.checker.add_expected((cycle + self.latency, word))


@cocotb.test()
async def sum_product_random(dut):
    """Corner vectors then NUM_SAMPLES random vectors with random valid gaps; every output checked."""
    with open(os.environ["SUM_PRODUCT_META"]) as f:
        meta = json.load(f)
    with np.load(os.environ["SUM_PRODUCT_PARAMS"]) as z:
        params = {k: z[k].astype(np.int64) for k in z.files}
    num = int(os.environ.get("NUM_SAMPLES", "1000"))
    seed = int(os.environ.get("SEED", cocotb.RANDOM_SEED))
    valid_prob = float(os.environ.get("VALID_PROB", "0.8"))
    dut._log.info(f"sum-product {meta['m']}x{meta['r']}x{meta['n']} latency={meta['latency']}: "
                  f"NUM_SAMPLES={num} SEED={seed} VALID_PROB={valid_prob}")
    rng = random.Random(seed)
    tb = SumProductTestbench(dut, params, meta, valid_prob, rng)

    await start_and_reset(dut)
    cocotb.start_soon(tb.input_mon.run())
    cocotb.start_soon(tb.output_mon.run())

    b = tb.in_bits
    lo, hi = -(1 << (b - 1)), (1 << (b - 1)) - 1
    alt = np.where(np.arange(tb.n) % 2 == 0, hi, lo)
    corners = [pack(v, b) for v in (np.full(tb.n, hi), np.full(tb.n, lo), alt, -alt - 1)]
    vectors = corners + [rng.getrandbits(tb.n * b) for _ in range(num)]
    await tb.driver.send(vectors)
    for _ in range(tb.latency + 5):
        await RisingEdge(dut.clk)

    dut._log.info(f"sent {len(vectors)}, checked {tb.checker.matches}, errors {tb.checker.errors}")
    write_summary(sent=len(vectors), corner=len(corners), random=num, checked=tb.checker.matches,
                  errors=tb.checker.errors, missing=len(tb.checker.expected), outputs=tb.output_mon.count,
                  seed=seed, valid_prob=valid_prob)
    assert tb.input_mon.count == len(vectors), "input monitor missed vectors"
    assert not tb.checker.expected, f"{len(tb.checker.expected)} expected outputs never appeared"
    assert tb.output_mon.count == len(vectors), "wrong number of outputs"
    dut._log.info(f"{tb.inside}/{tb.total} outputs strictly inside ({meta['out_lo']}, {meta['out_hi']})")
    assert tb.inside > tb.total // 10, "degenerate test: nearly every output saturates"
    assert tb.checker.errors == 0

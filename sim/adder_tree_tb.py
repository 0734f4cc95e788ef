"""cocotb bench of the ternary adder tree (rtl/adder_tree.py), checked word for word against
`rtl.golden.adder_tree_ref`.

The driver, monitors, checker and reset are sim/stream.py's (shared by every bench).

Environment:
    ADDER_TREE_WEIGHTS  .npy of W (M x N ternary) the Verilog was generated from (required)
    ADDER_TREE_META     the generator's JSON sidecar (in_bits, out_bits, latency, m, n) (required)
    NUM_SAMPLES         random vectors after the corner vectors (default 1000)
    SEED                random seed (default: cocotb's RANDOM_SEED)
    VALID_PROB          probability that the driver presents a vector in a cycle (default 0.8)
    BENCH_SUMMARY       optional path: a JSON summary (vectors sent, corner/random split, checked,
                        errors, seed) is written there before the final asserts (rtl.verify reads it)
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from rtl.golden import adder_tree_ref, pack, unpack
from stream import DataValidDriver, DataValidMonitor, InOrderChecker, start_and_reset, write_summary  # noqa: F401

class AdderTreeTestbench:
    """Driver -> input monitor -> golden model -> checker.add_expected; output monitor -> add_actual."""

    def __init__(self, dut, W, meta, valid_prob, rng):
        self.dut, self.W, self.meta = dut, W, meta
        self.n, self.m = meta["n"], meta["m"]
        self.in_bits, self.out_bits, self.latency = meta["in_bits"], meta["out_bits"], meta["latency"]
        assert len(dut.i_data) == self.n * self.in_bits, "i_data width disagrees with the sidecar"
        assert len(dut.o_data) == self.m * self.out_bits, "o_data width disagrees with the sidecar"
        self.driver = DataValidDriver(dut.clk, dut.i_valid, dut.i_data, valid_prob, rng)
        self.checker = InOrderChecker(lambda v: unpack(v, self.m, self.out_bits).tolist(), "adder_tree.checker")
        self.input_mon = DataValidMonitor(dut.clk, dut.i_valid, dut.i_data, self.model, "adder_tree.input_mon")
        self.output_mon = DataValidMonitor(dut.clk, dut.o_valid, dut.o_data,
                                           lambda c, v: self.checker.add_actual((c, v)), "adder_tree.output_mon")

    def model(self, cycle, data):
        """Golden model of one sampled input vector: the output appears `latency` cycles later."""
        y = adder_tree_ref(self.W, unpack(data, self.n, self.in_bits))
        self.checker.add_expected((cycle + self.latency, pack(y, self.out_bits)))

    def corner_vectors(self):
        """All max, all min, alternating signs (both phases), and each row's own extremes."""
        b = self.in_bits
        lo, hi = -(1 << (b - 1)), (1 << (b - 1)) - 1
        alt = np.where(np.arange(self.n) % 2 == 0, hi, lo)
        vecs = [np.full(self.n, hi), np.full(self.n, lo), alt, -alt - 1, np.zeros(self.n, dtype=np.int64)]
        for i in range(self.m):
            vecs.append(np.where(self.W[i] > 0, hi, np.where(self.W[i] < 0, lo, 0)))
            vecs.append(np.where(self.W[i] > 0, lo, np.where(self.W[i] < 0, hi, 0)))
        return [pack(v, b) for v in vecs]


@cocotb.test()
async def adder_tree_random(dut):
    """Corner vectors, then NUM_SAMPLES random vectors with random valid gaps; every output checked."""
    with open(os.environ["ADDER_TREE_META"]) as f:
        meta = json.load(f)
    W = np.load(os.environ["ADDER_TREE_WEIGHTS"]).astype(np.int64)
    num = int(os.environ.get("NUM_SAMPLES", "1000"))
    seed = int(os.environ.get("SEED", cocotb.RANDOM_SEED))
    valid_prob = float(os.environ.get("VALID_PROB", "0.8"))
    dut._log.info(f"adder tree {meta['m']}x{meta['n']} in_bits={meta['in_bits']} latency={meta['latency']}: "
                  f"NUM_SAMPLES={num} SEED={seed} VALID_PROB={valid_prob}")
    rng = random.Random(seed)
    tb = AdderTreeTestbench(dut, W, meta, valid_prob, rng)

    await start_and_reset(dut)
    cocotb.start_soon(tb.input_mon.run())
    cocotb.start_soon(tb.output_mon.run())

    corner = tb.corner_vectors()
    vectors = corner + [rng.getrandbits(tb.n * tb.in_bits) for _ in range(num)]
    await tb.driver.send(vectors)
    for _ in range(tb.latency + 5):  # drain the pipeline
        await RisingEdge(dut.clk)

    dut._log.info(f"sent {len(vectors)}, checked {tb.checker.matches}, errors {tb.checker.errors}")
    write_summary(sent=len(vectors), corner=len(corner), random=num, checked=tb.checker.matches,
                  errors=tb.checker.errors, missing=len(tb.checker.expected), outputs=tb.output_mon.count,
                  seed=seed, valid_prob=valid_prob)
    assert tb.input_mon.count == len(vectors), "input monitor missed vectors"
    assert not tb.checker.expected, f"{len(tb.checker.expected)} expected outputs never appeared"
    assert tb.output_mon.count == len(vectors), "wrong number of outputs"
    assert tb.checker.errors == 0

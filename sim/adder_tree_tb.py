"""cocotb bench of the ternary adder tree (rtl/adder_tree.py), checked word for word against
`rtl.golden.adder_tree_ref`.

Structure after cocotb's matrix_multiplier example: a valid/data driver, an input monitor feeding the
golden model (so expected values come from what the DUT really sampled, gaps included), an output
monitor, and an in-order checker that also checks the fixed latency.

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
from collections import deque

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from rtl.golden import adder_tree_ref, pack, unpack

CLK_PERIOD_NS = 10  # 100 MHz; the bench is cycle based, the period only sets the waveform scale


async def start_and_reset(dut, cycles: int = 3):
    """Start the clock and hold the synchronous reset for `cycles` edges with no valid input (every bench)."""
    cocotb.start_soon(Clock(dut.clk, CLK_PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.i_valid.value = 0
    dut.i_data.value = 0
    for _ in range(cycles):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


def write_summary(**fields):
    """Write `fields` as JSON to $BENCH_SUMMARY (if set), so a caller can report what the bench checked."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "w") as f:
            json.dump(fields, f)


class DataValidDriver:
    """Drives `data`/`valid` from a list of bus values, idling `valid` low for random gaps."""

    def __init__(self, clk, valid, data, valid_prob: float, rng: random.Random):
        self.clk, self.valid, self.data = clk, valid, data
        self.valid_prob, self.rng = valid_prob, rng

    async def send(self, values):
        for v in values:
            while self.rng.random() > self.valid_prob:  # a gap cycle
                self.valid.value = 0
                self.data.value = self.rng.getrandbits(len(self.data))  # garbage must be ignored
                await RisingEdge(self.clk)
            self.valid.value = 1
            self.data.value = v
            await RisingEdge(self.clk)
        self.valid.value = 0


class DataValidMonitor:
    """Calls `callback(cycle, data)` for each cycle where `valid` is high.

    Sampling happens in the ReadOnly phase before each clock edge: inputs are then the values the
    edge will capture and outputs the values registered by the previous edge, on every simulator.
    A vector sampled at cycle c thus reappears at the output monitor at cycle c + latency."""

    def __init__(self, clk, valid, data, callback, name: str):
        self.clk, self.valid, self.data, self.callback = clk, valid, data, callback
        self.log = cocotb.log.getChild(name)
        self.count = 0

    async def run(self):
        cycle = 0
        while True:
            await ReadOnly()
            if self.valid.value == 1:
                self.count += 1
                self.callback(cycle, self.data.value.to_unsigned())
            await RisingEdge(self.clk)
            cycle += 1


class InOrderChecker:
    """Compares expected and actual (cycle, value) items in order; counts and logs mismatches."""

    def __init__(self, describe, name: str, max_logged: int = 10):
        self.expected: deque = deque()
        self.errors = 0
        self.matches = 0
        self.describe = describe
        self.max_logged = max_logged
        self.log = cocotb.log.getChild(name)

    def add_expected(self, item):
        self.expected.append(item)

    def add_actual(self, item):
        if not self.expected:
            self._error(f"unexpected output {self.describe(item[1])} at cycle {item[0]}")
            return
        exp = self.expected.popleft()
        if exp == item:
            self.matches += 1
        else:
            self._error(f"cycle {item[0]} (expected cycle {exp[0]}): got {self.describe(item[1])}, "
                        f"expected {self.describe(exp[1])}")

    def _error(self, msg):
        self.errors += 1
        if self.errors <= self.max_logged:
            self.log.error(msg)


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

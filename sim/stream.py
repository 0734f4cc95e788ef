"""What every cocotb bench in sim/ shares: clock and reset (synchronous `rst`, or the AXI benches' active-low
`aresetn`), a valid/data driver with random gaps, a
monitor sampling in the ReadOnly phase, an in-order checker, and the JSON summary for callers.

Structure after cocotb's matrix_multiplier example: a driver, an input monitor feeding the golden model
(so expected values come from what the DUT really sampled, gaps included), an output monitor, and an
in-order checker that also checks the fixed latency.
"""

from __future__ import annotations

import json
import os
import random
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

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


async def start_axis_and_reset(dut, cycles: int = 4, idle: tuple = ()):
    """Start `aclk` and hold the active-low AXI reset `aresetn` for `cycles` edges, the inputs named in `idle` at 0
    (the AXI4-Stream benches of rtl/stream/)."""
    cocotb.start_soon(Clock(dut.aclk, CLK_PERIOD_NS, unit="ns").start())
    dut.aresetn.value = 0
    for name in idle:
        getattr(dut, name).value = 0
    for _ in range(cycles):
        await RisingEdge(dut.aclk)
    dut.aresetn.value = 1


async def send_ready_valid(dut, words, valid_prob: float, rng: random.Random):
    """Offer `words` on `i_data`/`i_valid` with random gaps (random data while `i_valid` is low); a word goes when
    `i_valid` and `i_ready` are high at a rising edge. Returns once the last word is taken, `i_valid` low."""
    i = 0
    while i < len(words):
        offer = rng.random() < valid_prob
        dut.i_valid.value = int(offer)
        dut.i_data.value = words[i] if offer else rng.getrandbits(len(dut.i_data))
        await ReadOnly()
        take = offer and dut.i_ready.value == 1
        await RisingEdge(dut.clk)
        i += int(take)
    dut.i_valid.value = 0


def write_summary(**fields):
    """Write `fields` as JSON to $BENCH_SUMMARY (if set), so a caller can report what the bench checked."""
    path = os.environ.get("BENCH_SUMMARY")
    if path:
        with open(path, "w") as f:
            json.dump(fields, f)


class ValueChecker:
    """Checks every `o_valid` beat, decoded by `decode(int)`, in order against `expected` (a deque of values),
    sampling in the ReadOnly phase; a beat beyond the expected ones is an error too (the ready/valid kernel
    benches). `checked` and `errors` count as it goes."""

    def __init__(self, dut, expected: deque, decode, max_logged: int = 10):
        self.dut, self.expected, self.decode, self.max_logged = dut, expected, decode, max_logged
        self.checked = self.errors = 0

    async def run(self):
        dut = self.dut
        while True:
            await ReadOnly()
            if dut.o_valid.value == 1:
                got = self.decode(dut.o_data.value.to_unsigned())
                self.checked += 1
                if not self.expected:
                    self.errors += 1
                    dut._log.error(f"output {self.checked - 1}: {got}, more outputs than expected")
                else:
                    want = self.expected.popleft()
                    if got != want:
                        self.errors += 1
                        if self.errors <= self.max_logged:
                            dut._log.error(f"output {self.checked - 1}: {got} != {want} (the golden model's)")
            await RisingEdge(dut.clk)

    async def drain(self, cycles: int, quiet: int = 20):
        """Wait up to `cycles` edges for the last expected output, then `quiet` more in which nothing may come."""
        for _ in range(cycles):
            if not self.expected:
                break
            await RisingEdge(self.dut.clk)
        for _ in range(quiet):
            await RisingEdge(self.dut.clk)


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

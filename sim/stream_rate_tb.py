"""cocotb bench of the full-rate harness (rtl/stream/harness.py): cycles per frame and latency of a
compiled top at its real frame size, source and sink in the HDL (no Python per cycle).

Environment:
    RATE_STARTS   output frame starts to wait for (default 2: the interval between the first two output
                  frame starts, the bottleneck stage working on frame 1 then frame 2 back to back)
    MAX_CYCLES    give up after this many cycles (default 100,000,000)
    BENCH_SUMMARY path of the JSON summary
"""

from __future__ import annotations

import os

import cocotb
from cocotb.triggers import Timer

from stream import CLK_PERIOD_NS, start_axis_and_reset, write_summary


@cocotb.test()
async def stream_rate(dut):
    want = int(os.environ.get("RATE_STARTS", "2"))
    max_cycles = int(os.environ.get("MAX_CYCLES", "100000000"))
    await start_axis_and_reset(dut)
    waited, chunk = 0, 5000
    while waited < max_cycles:
        await Timer(chunk * CLK_PERIOD_NS, unit="ns")
        waited += chunk
        if int(dut.starts.value) >= want:
            break
    starts = int(dut.starts.value)
    s = dict(starts=starts, frames=int(dut.frames.value), in_frames=int(dut.in_frames.value), frame_cycles=int(dut.frame_cycles.value),
             first_in=int(dut.first_in.value), first_out=int(dut.first_out.value),
             latency_cycles=int(dut.first_out.value) - int(dut.first_in.value), waited_cycles=waited)
    write_summary(**s)
    dut._log.info(f"rate: {s}")
    assert starts >= want, f"only {starts} of {want} frames began in {waited} cycles"

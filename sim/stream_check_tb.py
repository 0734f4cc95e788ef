"""cocotb bench of the whole-image check harness (rtl/stream/harness.py CheckHarness): the frames and the
golden executor's outputs are ROMs inside the HDL, every output beat is compared there (pixel, tuser,
tlast) under random tvalid bubbles and tready gaps; this bench waits for `done` and reads the counters.

Environment:
    EXPECTED_BEATS  output beats the ROM holds (the bench also checks `checked` against it)
    MAX_CYCLES      give up after this many cycles (default 200,000,000)
    BENCH_SUMMARY   path of the JSON summary
"""

from __future__ import annotations

import os

import cocotb
from cocotb.triggers import Timer

from stream import CLK_PERIOD_NS, start_axis_and_reset, write_summary


@cocotb.test()
async def stream_check(dut):
    want = int(os.environ["EXPECTED_BEATS"])
    max_cycles = int(os.environ.get("MAX_CYCLES", "200000000"))
    await start_axis_and_reset(dut)
    waited, chunk = 0, 50000
    while waited < max_cycles and int(dut.done.value) == 0:
        await Timer(chunk * CLK_PERIOD_NS, unit="ns")
        waited += chunk
    await Timer(200 * CLK_PERIOD_NS, unit="ns")  # nothing more may come out after the last beat
    s = dict(done=int(dut.done.value), checked=int(dut.checked.value), expected=want, errors=int(dut.errors.value),
             flag_errors=int(dut.flag_errors.value), first_error=int(dut.first_error.value),
             cycles=int(dut.cycles.value))
    write_summary(**s)
    dut._log.info(f"check: {s}")
    assert s["done"] == 1 and s["checked"] == want, f"{want - s['checked']} expected beats never came"
    assert s["errors"] == 0 and s["flag_errors"] == 0

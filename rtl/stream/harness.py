"""Full-rate throughput harness: the compiled top between a pixel source and a sink inside the HDL.

Cycles per frame of a whole 1280x720-output frame are millions of cycles; a Python bench pays ~0.5 ms
a cycle, so the rate is measured with the stream driven in hardware: a 16-bit LFSR gives a new pixel
every cycle (tvalid always high, as a video source at full rate), the sink is always ready, and
counters record, per output frame, the cycle of its first beat (tuser). The design's schedule does not
depend on pixel values (no data-dependent control), so these counts are the cycles of any frame; the
pixel values themselves are checked bit for bit by sim/stream_tb.py on crops and whole images.

Ports: `aclk`, `aresetn`; `frames` (output frames completed), `first_out` (cycle of the first output
beat), `first_in` (cycle of the first input beat), `frame_cycles` (cycles between the last two frame
starts at the output), `beats` (output beats of the current frame), `in_frames` (input frames sent).
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockDomain, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.stream.top import StreamTop


class RateHarness(wiring.Component):
    def __init__(self, top: StreamTop):
        self.top = top
        super().__init__({"aclk": In(1), "aresetn": In(1), "frames": Out(16), "in_frames": Out(16),
                          "first_out": Out(40), "first_in": Out(40), "frame_cycles": Out(40), "beats": Out(32)})

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = cd = ClockDomain("sync")
        m.d.comb += [cd.clk.eq(self.aclk), cd.rst.eq(~self.aresetn)]
        m.submodules.dut = dut = self.top
        dut.own_domain = False
        plan = self.top.plan
        lfsr = Signal(16, init=0xACE1)
        cycle = Signal(40)
        m.d.sync += cycle.eq(cycle + 1)
        npix = plan.width * plan.height
        pix = Signal(range(npix + 1))
        bits = plan.inp.width
        data = Signal(bits)
        m.d.comb += data.eq(Cat(*[lfsr] * -(-bits // 16))[:bits])
        m.d.comb += [dut.s_axis_video_tvalid.eq(1), dut.s_axis_video_tdata.eq(data),
                     dut.s_axis_video_tuser.eq(pix == 0), dut.s_axis_video_tlast.eq(0), dut.m_axis_video_tready.eq(1)]
        started = Signal()
        with m.If(dut.s_axis_video_tready):
            m.d.sync += lfsr.eq((lfsr << 1) | (lfsr[15] ^ lfsr[13] ^ lfsr[12] ^ lfsr[10]))
            m.d.sync += pix.eq(pix + 1)
            with m.If(pix == npix - 1):
                m.d.sync += [pix.eq(0), self.in_frames.eq(self.in_frames + 1)]
            with m.If(~started):
                m.d.sync += [started.eq(1), self.first_in.eq(cycle)]
        last_start = Signal(40)
        seen = Signal()
        with m.If(dut.m_axis_video_tvalid):
            m.d.sync += self.beats.eq(self.beats + 1)
            with m.If(dut.m_axis_video_tuser):
                m.d.sync += [last_start.eq(cycle), self.beats.eq(1), self.frame_cycles.eq(cycle - last_start)]
                with m.If(~seen):
                    m.d.sync += [seen.eq(1), self.first_out.eq(cycle)]
            with m.If(self.beats == plan.out_width * plan.out_height - 1):
                m.d.sync += self.frames.eq(self.frames + 1)
        return m

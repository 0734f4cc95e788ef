"""Full-rate throughput harness: the compiled top between a pixel source and a sink inside the HDL.

Cycles per frame of a whole 1280x720-output frame are millions of cycles; a Python bench pays ~0.5 ms
a cycle, so the rate is measured with the stream driven in hardware: a 16-bit LFSR gives a new pixel
every cycle (tvalid always high, as a video source at full rate), the sink is always ready, and
counters record, per output frame, the cycle of its first beat (tuser). The design's schedule does not
depend on pixel values (no data-dependent control), so these counts are the cycles of any frame; the
pixel values themselves are checked bit for bit by sim/stream_tb.py on crops and whole images.

Ports: `aclk`, `aresetn`; `frames` (output frames completed), `starts` (output frames begun), `first_out` (cycle of the first output
beat), `first_in` (cycle of the first input beat), `frame_cycles` (cycles between the last two frame
starts at the output), `beats` (output beats of the current frame), `in_frames` (input frames sent).
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockDomain, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.stream.top import StreamTop


def _around(m: Module, harness) -> StreamTop:
    """The harness's `sync` domain (`aclk`, `aresetn` active low) and its top inside it, in no domain of its own."""
    m.domains.sync = cd = ClockDomain("sync")
    m.d.comb += [cd.clk.eq(harness.aclk), cd.rst.eq(~harness.aresetn)]
    m.submodules.dut = dut = harness.top
    dut.own_domain = False
    return dut


class RateHarness(wiring.Component):
    def __init__(self, top: StreamTop):
        self.top = top
        super().__init__({"aclk": In(1), "aresetn": In(1), "frames": Out(16), "in_frames": Out(16), "starts": Out(16),
                          "first_out": Out(40), "first_in": Out(40), "frame_cycles": Out(40), "beats": Out(32)})

    def elaborate(self, platform):
        m = Module()
        dut = _around(m, self)
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
                m.d.sync += [last_start.eq(cycle), self.beats.eq(1), self.frame_cycles.eq(cycle - last_start),
                             self.starts.eq(self.starts + 1)]
                with m.If(~seen):
                    m.d.sync += [seen.eq(1), self.first_out.eq(cycle)]
            with m.If(self.beats == plan.out_width * plan.out_height - 1):
                m.d.sync += self.frames.eq(self.frames + 1)
        return m


class CheckHarness(wiring.Component):
    """Whole-image check inside the HDL: the frames in a ROM streamed with random tvalid bubbles (a
    source that, once it offers a pixel, holds it until taken, as AXI4-Stream requires), random tready
    gaps at the sink, and every output beat compared with the golden executor's pixel in a second ROM
    (and its tuser/tlast with the HR raster position). A Python bench pays ~0.5 ms a cycle; a whole
    Set5 image is millions of cycles, so the comparison runs at simulator speed and the bench
    (sim/stream_check_tb.py) reads the counters.

    Ports: `aclk`, `aresetn`; `done`, `checked`, `errors`, `flag_errors`, `first_error` (index of the
    first wrong beat, all ones if none), `cycles`."""

    def __init__(self, top: StreamTop, frames, expected, valid_prob: float = 0.7, ready_prob: float = 0.6,
                 seed: int = 1):
        import numpy as np

        self.top = top
        plan = top.plan
        fr = np.asarray(frames).reshape(-1, plan.inp.channels).astype(np.int64)
        ex = np.asarray(expected).reshape(-1, plan.out.channels).astype(np.int64)
        self.words_in = [_pack(p, plan.inp.bits) for p in fr]
        self.words_out = [_pack(p, plan.out.bits) for p in ex]
        self.frames_n = len(self.words_in) // (plan.width * plan.height)
        if len(self.words_out) != self.frames_n * plan.out_width * plan.out_height:
            raise ValueError("expected outputs do not match the frames")
        self.vp, self.rp, self.seed = int(valid_prob * 65536), int(ready_prob * 65536), seed
        super().__init__({"aclk": In(1), "aresetn": In(1), "done": Out(1), "checked": Out(32), "errors": Out(32),
                          "flag_errors": Out(32), "first_error": Out(32, init=0xFFFFFFFF), "cycles": Out(40)})

    def elaborate(self, platform):
        from amaranth.hdl import Mux, unsigned
        from amaranth.lib.memory import Memory

        m = Module()
        dut = _around(m, self)
        plan = self.top.plan
        nin, nout = len(self.words_in), len(self.words_out)
        m.submodules.rom_in = rin = Memory(shape=unsigned(plan.inp.width), depth=nin, init=self.words_in)
        m.submodules.rom_out = rout = Memory(shape=unsigned(plan.out.width), depth=nout, init=self.words_out)
        ri, ro = rin.read_port(domain="comb"), rout.read_port(domain="comb")
        ii = Signal(range(nin + 1))
        oi = Signal(range(nout + 1))
        la = Signal(32, init=0x1234567 ^ self.seed)
        lb = Signal(32, init=0x7654321 ^ (self.seed * 7919))
        for lf in (la, lb):  # 32-bit Galois LFSR, a new draw every cycle
            m.d.sync += lf.eq(Mux(lf[0], (lf >> 1) ^ 0x80200003, lf >> 1))
        offer = Signal()
        want = (la[:16] < self.vp) & (ii < nin)
        m.d.comb += [ri.addr.eq(ii), ro.addr.eq(oi)]
        hpix = plan.width * plan.height
        col_in = Signal(range(plan.width))
        pin = Signal(range(hpix))
        m.d.comb += [dut.s_axis_video_tvalid.eq(offer | want), dut.s_axis_video_tdata.eq(ri.data),
                     dut.s_axis_video_tuser.eq(pin == 0), dut.s_axis_video_tlast.eq(col_in == plan.width - 1)]
        take = dut.s_axis_video_tvalid & dut.s_axis_video_tready
        m.d.sync += offer.eq((offer | want) & ~take)
        with m.If(take):
            m.d.sync += [ii.eq(ii + 1), col_in.eq(Mux(col_in == plan.width - 1, 0, col_in + 1)),
                         pin.eq(Mux(pin == hpix - 1, 0, pin + 1))]
        ready = lb[:16] < self.rp
        m.d.comb += dut.m_axis_video_tready.eq(ready)
        opix = Signal(range(plan.out_width * plan.out_height))
        ocol = Signal(range(plan.out_width))
        beat = dut.m_axis_video_tvalid & ready
        with m.If(beat):
            m.d.sync += [oi.eq(oi + 1), self.checked.eq(self.checked + 1),
                         ocol.eq(Mux(ocol == plan.out_width - 1, 0, ocol + 1)),
                         opix.eq(Mux(opix == plan.out_width * plan.out_height - 1, 0, opix + 1))]
            bad = (oi >= nout) | (dut.m_axis_video_tdata != ro.data)
            with m.If(bad):
                m.d.sync += self.errors.eq(self.errors + 1)
                with m.If(self.first_error == 0xFFFFFFFF):
                    m.d.sync += self.first_error.eq(oi)
            flags_ok = (dut.m_axis_video_tuser == (opix == 0)) & (dut.m_axis_video_tlast == (ocol == plan.out_width - 1))
            with m.If(~flags_ok):
                m.d.sync += self.flag_errors.eq(self.flag_errors + 1)
        m.d.comb += self.done.eq(oi == nout)
        with m.If(~self.done):
            m.d.sync += self.cycles.eq(self.cycles + 1)
        return m


def _pack(px, bits: int) -> int:
    v = 0
    for i, x in enumerate(px):
        v |= (int(x) & ((1 << bits) - 1)) << (i * bits)
    return v

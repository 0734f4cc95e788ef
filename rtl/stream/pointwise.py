"""Pixelwise stream ops of the golden graph: `act` (clamp) and `add` (residual join + requantize).

    act  y = clamp(x, out_lo, out_hi)
    add  y = clamp(rshift_round(a*MA + b*MB, SH), out.lo, out.hi)

`Act` is combinational (ready and valid pass through). `Add` joins two streams (a pixel of each is
taken together), computes in two registered stages and writes a small FIFO; like the conv layer it
takes a pair only with a FIFO credit, so output back-pressure stops both inputs.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from rtl.cse import signed_width
from rtl.requant import requantize as shift_clamp
from rtl.stream.conv import Port, delay


def _shape(p: Port):
    return signed(p.bits) if p.signed else unsigned(p.bits)


class Act(wiring.Component):
    def __init__(self, inp: Port, out: Port, lo: int, hi: int):
        self.inp, self.out, self.lo, self.hi = inp, out, int(lo), int(hi)
        super().__init__({"i_valid": In(1), "i_ready": Out(1), "i_data": In(inp.width),
                          "o_valid": Out(1), "o_ready": In(1), "o_data": Out(out.width)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.o_valid.eq(self.i_valid), self.i_ready.eq(self.o_ready)]
        ys = []
        for c in range(self.inp.channels):
            x = self.inp.word(self.i_data, c)
            y = Signal(_shape(self.out), name=f"y{c}")
            m.d.comb += y.eq(Mux(x < self.lo, self.lo, Mux(x > self.hi, self.hi, x)))
            ys.append(y)
        m.d.comb += self.o_data.eq(Cat(*ys))
        return m


class Add(wiring.Component):
    def __init__(self, a: Port, b: Port, out: Port, ma: int, mb: int, sh: int):
        if not (a.channels == b.channels == out.channels):
            raise ValueError(f"add of {a.channels} and {b.channels} channels into {out.channels}")
        self.a, self.b, self.out, self.ma, self.mb, self.sh = a, b, out, int(ma), int(mb), int(sh)
        super().__init__({"a_valid": In(1), "a_ready": Out(1), "a_data": In(a.width),
                          "b_valid": In(1), "b_ready": Out(1), "b_data": In(b.width),
                          "o_valid": Out(1), "o_ready": In(1), "o_data": Out(out.width)})

    def elaborate(self, platform):
        m = Module()
        depth = 4
        m.submodules.fifo = fifo = SyncFIFO(width=self.out.width, depth=depth)
        occ = Signal(range(depth + 1))
        take = Signal()
        m.d.comb += take.eq(self.a_valid & self.b_valid & (occ < depth))
        m.d.comb += [self.a_ready.eq(take), self.b_ready.eq(take)]
        popped = fifo.r_en & fifo.r_rdy
        m.d.sync += occ.eq(occ + take - popped)
        m.d.comb += [self.o_valid.eq(fifo.r_rdy), self.o_data.eq(fifo.r_data), fifo.r_en.eq(self.o_ready)]
        a, b, o = self.a, self.b, self.out
        lo = min(a.lo * self.ma, a.hi * self.ma) + min(b.lo * self.mb, b.hi * self.mb)
        hi = max(a.lo * self.ma, a.hi * self.ma) + max(b.lo * self.mb, b.hi * self.mb)
        half = (1 << (self.sh - 1)) if self.sh > 0 else 0
        aw = signed_width(lo, hi + half)
        ys = []
        for c in range(o.channels):
            acc = Signal(signed(aw), name=f"acc{c}", reset_less=True)
            m.d.sync += acc.eq(a.word(self.a_data, c) * self.ma + b.word(self.b_data, c) * self.mb + half)
            ys.append(shift_clamp(m, acc, self.sh, o.lo, o.hi, o.bits, o.signed, c))
        m.d.comb += [fifo.w_en.eq(delay(m, take, 2, "v", reset_less=False)), fifo.w_data.eq(Cat(*ys))]
        return m


class Concat(wiring.Component):
    """Channel concatenation (golden `concat`): a join of the distinct input streams; a tensor listed
    several times (SESR's input repeated r*r times) is one stream whose word is repeated."""

    def __init__(self, ports: list, order: list, out: Port):
        self.ports, self.order, self.out = ports, order, out  # order[i]: index into ports of output part i
        sig = {"o_valid": Out(1), "o_ready": In(1), "o_data": Out(out.width)}
        for k, p in enumerate(ports):
            sig.update({f"i{k}_valid": In(1), f"i{k}_ready": Out(1), f"i{k}_data": In(p.width)})
        super().__init__(sig)

    def inp(self, k):
        return getattr(self, f"i{k}_valid"), getattr(self, f"i{k}_ready"), getattr(self, f"i{k}_data")

    def elaborate(self, platform):
        m = Module()
        valid = Signal()
        vs = [self.inp(k)[0] for k in range(len(self.ports))]
        allv = vs[0]
        for v in vs[1:]:
            allv = allv & v
        m.d.comb += [valid.eq(allv), self.o_valid.eq(valid),
                     self.o_data.eq(Cat(*[self.inp(k)[2] for k in self.order]))]
        for k in range(len(self.ports)):
            m.d.comb += self.inp(k)[1].eq(valid & self.o_ready)
        return m

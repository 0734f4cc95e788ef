"""Stream fork (one producer, several consumers) and the skip-path buffer of a residual connection.

`Fork` is an eager fork: every output offers the word until its consumer has taken it; the input is
released when all have. No output's valid depends on another consumer's ready, so no combinational
loop can form through a join downstream.

A residual `add` joins a long path (convs: line buffers, pipelines, FIFOs) with a short one (the skip).
The skip path must buffer every word the long path can hold, or the fork stalls for ever: `SkipFifo`
is a BRAM FIFO of that depth (`skip_depth`: the sum of what each stage on the long path can hold).
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out


class Fork(wiring.Component):
    def __init__(self, width: int, n: int):
        self.width, self.n = width, n
        ports = {"i_valid": In(1), "i_ready": Out(1), "i_data": In(width)}
        for k in range(n):
            ports.update({f"o{k}_valid": Out(1), f"o{k}_ready": In(1), f"o{k}_data": Out(width)})
        super().__init__(ports)

    def out(self, k):
        return getattr(self, f"o{k}_valid"), getattr(self, f"o{k}_ready"), getattr(self, f"o{k}_data")

    def elaborate(self, platform):
        m = Module()
        done = [Signal(name=f"done{k}") for k in range(self.n)]
        ok = []
        for k in range(self.n):
            v, r, d = self.out(k)
            m.d.comb += [v.eq(self.i_valid & ~done[k]), d.eq(self.i_data)]
            ok.append(done[k] | r)
        all_ok = Signal()
        m.d.comb += all_ok.eq(self.i_valid & _all(ok))
        m.d.comb += self.i_ready.eq(all_ok)
        for k in range(self.n):
            v, r, _ = self.out(k)
            m.d.sync += done[k].eq(~all_ok & (done[k] | (v & r)))
        return m


def _all(bits):
    out = bits[0]
    for b in bits[1:]:
        out = out & b
    return out


class SkipFifo(wiring.Component):
    def __init__(self, width: int, depth: int):
        self.width, self.depth = width, depth
        super().__init__({"i_valid": In(1), "i_ready": Out(1), "i_data": In(width),
                          "o_valid": Out(1), "o_ready": In(1), "o_data": Out(width)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = f = SyncFIFOBuffered(width=self.width, depth=self.depth)
        m.d.comb += [f.w_en.eq(self.i_valid), f.w_data.eq(self.i_data), self.i_ready.eq(f.w_rdy),
                     self.o_valid.eq(f.r_rdy), self.o_data.eq(f.r_data), f.r_en.eq(self.o_ready)]
        return m

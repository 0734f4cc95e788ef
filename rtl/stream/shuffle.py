"""Pixel-shuffle reorder: LR pixels of C*r*r channels in, HR pixels of C channels out, both raster.

Golden (torch semantics): out[c, y*r + i, x*r + j] = in[c*r*r + i*r + j, y, x]. HR row y*r + i needs
sub-pixels (i, *) of every LR pixel of row y, so LR rows are written into one of two row banks (ping-pong,
one BRAM of 2 W words) and read back r times, one HR pixel per cycle; the writer fills the other bank
meanwhile. A bank is read only when full and written only when empty. The read port has one cycle of
latency; reads are issued only with a credit of the small output FIFO, so output back-pressure holds.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.stream.conv import Port, delay


class PixelShuffle(wiring.Component):
    def __init__(self, inp: Port, r: int, width: int):
        if inp.channels % (r * r):
            raise ValueError(f"pixel_shuffle r={r} of {inp.channels} channels")
        self.inp, self.r, self.width = inp, r, width
        self.out = Port(inp.channels // (r * r), inp.bits, inp.signed)
        super().__init__({"i_valid": In(1), "i_ready": Out(1), "i_data": In(inp.width),
                          "o_valid": Out(1), "o_ready": In(1), "o_data": Out(self.out.width)})

    def elaborate(self, platform):
        m = Module()
        W, r, b = self.width, self.r, self.inp.bits
        m.submodules.rows = mem = Memory(shape=unsigned(self.inp.width), depth=2 * W, init=[])
        wp, rp = mem.write_port(), mem.read_port(domain="sync")
        full = Signal(2)
        wb, wcol = Signal(), Signal(range(W))
        rb, i, x, j = Signal(), Signal(range(r)), Signal(range(W)), Signal(range(r))

        # writer
        wfree = ~Mux(wb, full[1], full[0])  # Mux, not Array: Icarus never evaluates a constant-input case block
        m.d.comb += self.i_ready.eq(wfree)
        wdone = Signal()
        m.d.comb += [wp.addr.eq(Mux(wb, W, 0) + wcol), wp.data.eq(self.i_data), wp.en.eq(self.i_valid & wfree)]
        with m.If(self.i_valid & wfree):
            m.d.sync += wcol.eq(Mux(wcol == W - 1, 0, wcol + 1))
            with m.If(wcol == W - 1):
                m.d.sync += wb.eq(~wb)
                m.d.comb += wdone.eq(1)

        # reader
        depth = 4
        m.submodules.fifo = fifo = SyncFIFO(width=self.out.width, depth=depth)
        occ = Signal(range(depth + 1))
        issue = Signal()
        m.d.comb += issue.eq(Mux(rb, full[1], full[0]) & (occ < depth))
        last = (i == r - 1) & (x == W - 1) & (j == r - 1)
        rdone = Signal()
        with m.If(issue):
            m.d.sync += j.eq(Mux(j == r - 1, 0, j + 1))
            with m.If(j == r - 1):
                m.d.sync += x.eq(Mux(x == W - 1, 0, x + 1))
                with m.If(x == W - 1):
                    m.d.sync += i.eq(Mux(i == r - 1, 0, i + 1))
            with m.If(last):
                m.d.sync += rb.eq(~rb)
                m.d.comb += rdone.eq(1)
        m.d.comb += rp.addr.eq(Mux(rb, W, 0) + x)
        for k in range(2):
            set_k = wdone & (wb == k)
            clr_k = rdone & (rb == k)
            m.d.sync += full[k].eq((full[k] | set_k) & ~clr_k)
        popped = fifo.r_en & fifo.r_rdy
        m.d.sync += occ.eq(occ + issue - popped)
        # channel c*r*r + i*r + j of the word read for (i, j) issued the cycle before
        sub = delay(m, Cat(j, i), 1, "sub")
        C = self.out.channels
        words = [rp.data[k * b:(k + 1) * b] for k in range(self.inp.channels)]
        outs = []
        for c in range(C):
            outs.append(Array(words[c * r * r:(c + 1) * r * r])[sub[len(j):] * r + sub[:len(j)]])
        m.d.comb += [fifo.w_en.eq(delay(m, issue, 1, "v", reset_less=False)), fifo.w_data.eq(Cat(*outs))]
        m.d.comb += [self.o_valid.eq(fifo.r_rdy), self.o_data.eq(fifo.r_data), fifo.r_en.eq(self.o_ready)]
        return m

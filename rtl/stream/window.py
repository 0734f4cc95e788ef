"""KxK sliding window over a raster pixel stream: K-1 line memories plus a KxK register window.

Positions (r, c) run over (H+p) x (W+p), p = K // 2. Position (r, c) takes input pixel (r, c) when
r < H and c < W and a zero otherwise (bottom/right padding needs no input). The line memory (W+p
words, one per column, each the column's K-1 previous rows) and the KxK window shift one column per
position. After position (r, c) the window is centred on (r-p, c-p); it is offered (`o_valid`) when
r >= p and c >= p. Rows above the image are masked from the row counter, columns left of it by
clearing the window at c = 0, so the zero padding is exactly the golden model's `np.pad` with zeros.
Every input pixel is consumed exactly once; back-to-back frames need no gap.

Ports (sync domain): `i_valid`, `i_ready`, `i_data` (c * bits); `o_valid`, `o_ready` (the consumer
is done with the window this cycle), `o_data`: the window in the golden weight order: word
idx = ch*K*K + dy*K + dx (bits [idx*bits, (idx+1)*bits)) is input pixel (cy-p+dy, cx-p+dx), channel ch,
of the centre (cy, cx).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


class Window(wiring.Component):
    def __init__(self, k: int, width: int, height: int, channels: int, bits: int):
        if k < 1 or k % 2 == 0:
            raise ValueError(f"window size must be odd, got {k}")
        self.k, self.width, self.height, self.channels, self.bits = k, width, height, channels, bits
        self.p = k // 2
        super().__init__({
            "i_valid": In(1), "i_ready": Out(1), "i_data": In(channels * bits),
            "o_valid": Out(1), "o_ready": In(1), "o_data": Out(k * k * channels * bits),
        })

    def elaborate(self, platform):
        m = Module()
        K, p, H, W = self.k, self.p, self.height, self.width
        cw = self.channels * self.bits
        row = Signal(range(H + p + 1))
        col = Signal(range(W + p + 1))
        real = (row < H) & (col < W)
        emits = ((row >= p) & (col >= p)) if p else Const(1)  # K = 1: no constant compare (Verilator lints it)
        busy = Signal()  # the window holds an emitting position not yet taken
        free = ~busy | self.o_ready
        adv = Signal()
        m.d.comb += [adv.eq(free & (~real | self.i_valid)), self.i_ready.eq(free & real), self.o_valid.eq(busy)]
        pix = Signal(cw)
        m.d.comb += pix.eq(Mux(real, self.i_data, 0))
        col_next = Mux(col == W + p - 1, 0, col + 1)
        row_next = Mux(col == W + p - 1, Mux(row == H + p - 1, 0, row + 1), row)

        newcol = [pix]  # newcol[d] = row r-d at this column
        if K > 1:
            m.submodules.line = line = Memory(shape=unsigned((K - 1) * cw), depth=W + p, init=[])
            rp = line.read_port(domain="sync")
            wp = line.write_port()
            m.d.comb += rp.addr.eq(Mux(adv, col_next, col))  # read data is the current position's column
            prev = [rp.data[i * cw:(i + 1) * cw] for i in range(K - 1)]  # prev[i] = row r-1-i
            m.d.comb += [wp.addr.eq(col), wp.data.eq(Cat(pix, *prev[:K - 2])), wp.en.eq(adv)]
            newcol += [Mux(row >= i + 1, prev[i], 0) for i in range(K - 1)]
        # win[dx][dy]: dx = 0 the oldest column, dy = 0 the top row (r - (K-1))
        win = [[Signal(cw, name=f"win{dx}_{dy}", reset_less=True) for dy in range(K)] for dx in range(K)]
        with m.If(adv):
            m.d.sync += [row.eq(row_next), col.eq(col_next), busy.eq(emits)]
            for dy in range(K):
                m.d.sync += win[K - 1][dy].eq(newcol[K - 1 - dy])
                for dx in range(K - 1):
                    m.d.sync += win[dx][dy].eq(Mux(col == 0, 0, win[dx + 1][dy]))
        with m.Elif(self.o_ready):
            m.d.sync += busy.eq(0)
        b = self.bits
        words = [win[dx][dy][ch * b:(ch + 1) * b] for ch in range(self.channels) for dy in range(K) for dx in range(K)]
        m.d.comb += self.o_data.eq(Cat(*words))
        return m


def frame_positions(k: int, width: int, height: int) -> tuple[int, int]:
    """(positions, emitting positions) of one frame: the window's cycles are F per emitting one, 1 per other."""
    p = k // 2
    return (height + p) * (width + p), height * width

"""Streaming sum-product conv layer: a 3x3 window front end with a line buffer, feeding a folded SP kernel.

One pixel (c_in channels) enters per handshake, raster order; one output pixel (c_out channels) leaves
per `o_valid`, raster order. `integer semantics = srhw.quant's sp_conv` with zero ('same') padding:

    y[r, c] = clamp(rshift_round(W_c·(a ⊙ (W_b·win(r, c))) + bias, sh), lo, hi)
    win(r, c)[ch*9 + dy*3 + dx] = x[r - 1 + dy, c - 1 + dx, ch]   (0 outside the image)

Front end. Positions (row, col) run over (H+1) x (W+1): position (r, c) takes input pixel (r, c) when
r < H and c < W, and a zero otherwise (the bottom/right padding needs no input). A line memory of W+1
words, each the column's two previous rows, plus a 3x3 register window; the window of position (r, c)
is centred on (r-1, c-1) and is emitted when r >= 1 and c >= 1. Rows -1 and cols -1 are masked.
Positions that emit nothing take one cycle; emitting positions take F cycles.

Folding F = fold_r x fold_n cycles per output pixel (the choice and its cost model):
  * F = 1: the hard-wired kernel `rtl.sum_product.SumProduct` (CSE ternary trees, zeros pruned).
    Adders = the CSE plans' counts, r DSPs; one pixel per cycle. Only small layers afford it
    (one 128x576 W_b tree is ~210 k LUTs, shared/notes/stack.md).
  * F > 1: a *lane* design with the ternary codes in a ROM (BRAM). L = ceil(r / fold_r) lanes; in
    each cycle lane l computes a partial dot product of W_b row (s_r*L + l) over one of fold_n
    slices of N_s = ceil(N / fold_n) window inputs (codes select +x, -x or 0; a full balanced tree of
    N_s - 1 adders: zeros are NOT pruned, weights are data), accumulates it over the fold_n slices,
    multiplies the finished h by a (L DSPs), and M accumulators add the W_c partial sums
    sum_l W_c[i, s_r*L + l] p_l (M trees of L - 1 adders) over the fold_r slices, starting from
    bias + rounding half. Cost per layer (adders, each ~its width in LUTs + a CARRY4 per 4 bits):
        L (N_s - 1) + L [fold_n > 1] + M (L - 1) + M,    DSP48E1 = L,
        ROM bits = F * L * N_s * 2 (W_b codes) + fold_r * (L * a_bits + M * L * 2) (a, W_c codes).
    Adds performed per pixel are therefore the *dense* ones (rtl.netlist_counts), not the CSE ones.

Ports (sync domain: clk, rst): `i_valid`, `i_ready` (transfer when both), `i_data` (c_in * in_bits,
signed words), `o_valid`, `o_data` (c_out * out_bits; signed words if lo < 0). No back-pressure on
the output: the consumer must take every `o_valid` word (a pipeline of layers with matched rates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.cse import check_weights, signed_width
from rtl.requant import requantize, rounding_half
from rtl.stream.conv import adder_tree as _tree, delay as _delay  # the one pipelined tree / delay line
from rtl.sum_product import DSP_A_BITS, DSP_B_BITS, SumProduct, SumProductConfig

K = 3  # window size: the study's SP convs are 3x3 ('same' padding)


@dataclass(frozen=True)
class SPLayerConfig:
    """width/height: image size (pixels). in_bits: signed input width (uint8 activations need 9).
    lo/hi: output clamp range (ReLU: lo = 0). fold_r x fold_n = cycles per output pixel."""

    width: int
    height: int
    in_bits: int = 9
    lo: int = 0
    hi: int = 255
    fold_r: int = 1
    fold_n: int = 1
    stage_every: int = 2

    @property
    def fold(self) -> int:
        return self.fold_r * self.fold_n

    @property
    def out_signed(self) -> bool:
        return self.lo < 0

    @property
    def out_bits(self) -> int:
        return signed_width(self.lo, self.hi) if self.out_signed else max(1, self.hi.bit_length())


def frame_cycles(height: int, width: int, fold: int) -> int:
    """Cycles per frame at full input rate: F per emitting position, 1 per padding-only position."""
    return fold * height * width + (height + 1) * (width + 1) - height * width


def _select(code, x, bits: int):
    """Ternary term: code bit0 = nonzero, bit1 = negative -> x, -x or 0 (no adder: a $neg and muxes)."""
    return Mux(code[0], Mux(code[1], -x, x), Const(0, signed(bits + 1)))


def encode_ternary(w: int) -> int:
    return {0: 0, 1: 1, -1: 3}[int(w)]


class SPLayer(wiring.Component):
    """A streaming 3x3 sum-product conv layer; see the module docstring.

    Args:
        Wb: ternary (r, c_in, 3, 3) or (r, 9 c_in). a: (r,) int scales (<= 18 signed bits).
        Wc: ternary (c_out, r). bias: (c_out,) ints (already scaled by 2^sh) or None. sh: shift >= 0.
        config: SPLayerConfig.
    """

    def __init__(self, Wb, a, Wc, bias, sh: int, config: SPLayerConfig):
        Wb = np.asarray(Wb)
        self.r = Wb.shape[0]
        self.Wb = check_weights(Wb.reshape(self.r, -1))
        self.n = self.Wb.shape[1]
        if self.n % (K * K):
            raise ValueError(f"W_b has {self.n} columns, not a multiple of {K * K} (3x3 window)")
        self.c_in = self.n // (K * K)
        self.Wc = check_weights(np.asarray(Wc).reshape(np.asarray(Wc).shape[0], -1))
        self.m = self.Wc.shape[0]
        self.a = [int(v) for v in np.asarray(a).reshape(-1)]
        if self.Wc.shape[1] != self.r or len(self.a) != self.r:
            raise ValueError(f"shapes disagree: Wb {Wb.shape}, a ({len(self.a)},), Wc {self.Wc.shape}")
        self.bias = [0] * self.m if bias is None else [int(v) for v in np.asarray(bias).reshape(-1)]
        if len(self.bias) != self.m:
            raise ValueError(f"bias has {len(self.bias)} values for {self.m} outputs")
        cfg = self.config = config
        if sh < 0:
            raise ValueError(f"sh must be >= 0, got {sh}")
        if cfg.width < 1 or cfg.height < 1:
            raise ValueError(f"image size must be >= 1x1, got {cfg.width}x{cfg.height}")
        if cfg.fold_r < 1 or cfg.fold_n < 1:
            raise ValueError(f"folding must be >= 1, got fold_r={cfg.fold_r} fold_n={cfg.fold_n}")
        if cfg.fold_r > self.r or cfg.fold_n > self.n:
            raise ValueError(f"folding {cfg.fold_r}x{cfg.fold_n} exceeds r={self.r} x N={self.n}")
        if cfg.lo > cfg.hi:
            raise ValueError(f"empty output range [{cfg.lo}, {cfg.hi}]")
        self.sh = int(sh)
        self.ab = max(signed_width(min(self.a + [0]), max(self.a + [0])), 2)
        if self.ab > DSP_B_BITS:
            raise ValueError(f"scales need {self.ab} bits, more than a DSP48E1's {DSP_B_BITS}-bit port")
        self.lanes = -(-self.r // cfg.fold_r)
        self.n_s = -(-self.n // cfg.fold_n)
        xmax = 1 << (cfg.in_bits - 1)
        self.hb = signed_width(-self.n * xmax, self.n * xmax)  # dense worst case of a W_b row
        if cfg.fold > 1 and self.hb > DSP_A_BITS:
            raise ValueError(f"multiply {self.hb} x {self.ab} bits does not fit a DSP48E1 ({DSP_A_BITS} x {DSP_B_BITS})")
        self.kernel = None
        if cfg.fold == 1:
            kc = SumProductConfig(in_bits=cfg.in_bits, out_bits=cfg.out_bits, out_signed=cfg.out_signed,
                                  relu=False, stage_every=cfg.stage_every)
            self.kernel = SumProduct(self.Wb, self.a, self.Wc, self.bias, self.sh, kc)
            self.kernel.lo, self.kernel.hi = cfg.lo, cfg.hi  # explicit clamp range (e.g. ReLU6 codes)
        super().__init__({
            "i_valid": In(1),
            "i_ready": Out(1),
            "i_data": In(self.c_in * cfg.in_bits),
            "o_valid": Out(1),
            "o_data": Out(self.m * cfg.out_bits),
        })

    # -- ROM contents (lane design) -------------------------------------------------------------

    def rom_words(self):
        """(rom_b, rom_c): rom_b[s_r*fold_n + s_n] = W_b codes of lanes x slice, lane-major, 2 bits each;
        rom_c[s_r] = a of each lane (ab bits) then W_c codes (output-major, lane-minor)."""
        cfg, L, ns = self.config, self.lanes, self.n_s
        Wb = np.zeros((cfg.fold_r * L, cfg.fold_n * ns), np.int64)
        Wb[: self.r, : self.n] = self.Wb
        Wc = np.zeros((self.m, cfg.fold_r * L), np.int64)
        Wc[:, : self.r] = self.Wc
        a = self.a + [0] * (cfg.fold_r * L - self.r)
        rom_b, rom_c = [], []
        for sr in range(cfg.fold_r):
            for sn in range(cfg.fold_n):
                w, k = 0, 0
                for l in range(L):
                    for j in range(ns):
                        w |= encode_ternary(Wb[sr * L + l, sn * ns + j]) << (2 * k)
                        k += 1
                rom_b.append(w)
            w, k = 0, 0
            for l in range(L):
                w |= (a[sr * L + l] & ((1 << self.ab) - 1)) << k
                k += self.ab
            for i in range(self.m):
                for l in range(L):
                    w |= encode_ternary(Wc[i, sr * L + l]) << k
                    k += 2
            rom_c.append(w)
        return rom_b, rom_c

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        H, W, F = cfg.height, cfg.width, cfg.fold
        b, cw = cfg.in_bits, self.c_in * cfg.in_bits

        # -- front end: positions, line memory, window ----------------------------------------
        row = Signal(range(H + 1))
        col = Signal(range(W + 1))
        real = (row < H) & (col < W)
        emits = (row >= 1) & (col >= 1)
        busy = Signal()  # the window holds an emitting position whose slices are being issued
        s = Signal(range(F))  # slice being issued
        last_slice = s == F - 1
        free = ~busy | last_slice
        adv = Signal()
        m.d.comb += [adv.eq(free & (~real | self.i_valid)), self.i_ready.eq(free & real)]
        pix = Signal(cw)
        m.d.comb += pix.eq(Mux(real, self.i_data, 0))

        m.submodules.line = line = Memory(shape=unsigned(2 * cw), depth=W + 1, init=[])
        rp = line.read_port(domain="sync")
        wp = line.write_port()
        col_next = Mux(col == W, 0, col + 1)
        row_next = Mux(col == W, Mux(row == H, 0, row + 1), row)
        m.d.comb += rp.addr.eq(Mux(adv, col_next, col))  # read data is for the current position's column
        prev1, prev2 = rp.data[:cw], rp.data[cw:]  # rows r-1 and r-2 at this column
        top = Mux(row >= 2, prev2, 0)
        mid = Mux(row >= 1, prev1, 0)
        m.d.comb += [wp.addr.eq(col), wp.data.eq(Cat(pix, prev1)), wp.en.eq(adv)]

        # win[dx][dy]: dx = 0 oldest column (c-2), dy = 0 top row (r-2)
        win = [[Signal(cw, name=f"win{dx}{dy}", reset_less=True) for dy in range(K)] for dx in range(K)]
        newcol = [top, mid, pix]
        with m.If(adv):
            m.d.sync += [row.eq(row_next), col.eq(col_next), busy.eq(emits), s.eq(0)]
            for dy in range(K):
                m.d.sync += win[2][dy].eq(newcol[dy])
                m.d.sync += win[1][dy].eq(Mux(col == 0, 0, win[2][dy]))
                m.d.sync += win[0][dy].eq(Mux(col == 0, 0, win[1][dy]))
        with m.Elif(busy):
            m.d.sync += [s.eq(Mux(last_slice, 0, s + 1)), busy.eq(~last_slice)]

        # the window vector in W_b's column order: ch*9 + dy*3 + dx
        xs = []
        for ch in range(self.c_in):
            for dy in range(K):
                for dx in range(K):
                    xs.append(win[dx][dy][ch * b:(ch + 1) * b].as_signed())

        if self.kernel is not None:
            m.submodules.kernel = kern = self.kernel
            m.d.comb += [kern.i_valid.eq(busy), kern.i_data.eq(Cat(*xs)),
                         self.o_valid.eq(kern.o_valid), self.o_data.eq(kern.o_data)]
            return m
        self._lanes(m, xs, busy, s)
        return m

    def _lanes(self, m, xs, busy, s):
        cfg = self.config
        b, L, ns, fr, fn = cfg.in_bits, self.lanes, self.n_s, cfg.fold_r, cfg.fold_n
        rom_b, rom_c = self.rom_words()
        m.submodules.rom_b = romb = Memory(shape=unsigned(2 * L * ns), depth=len(rom_b), init=rom_b)
        m.submodules.rom_c = romc = Memory(shape=unsigned(L * self.ab + 2 * self.m * L), depth=fr, init=rom_c)
        rb, rc = romb.read_port(domain="sync"), romc.read_port(domain="sync")
        sr = Signal(range(fr), name="s_r")
        sn = Signal(range(fn), name="s_n")
        m.d.comb += [sr.eq(s // fn), sn.eq(s % fn)]
        # Prefetch: the address is the slice issued next cycle, so the data matches `s` when issued.
        nxt = Mux(busy & (s != cfg.fold - 1), s + 1, 0)
        m.d.comb += [rb.addr.eq(nxt), rc.addr.eq(nxt // fn)]

        # x slice of this cycle (zero-padded to fold_n * n_s)
        xpad = xs + [Const(0, signed(b))] * (fn * ns - len(xs))
        xsl = [Array([xpad[k * ns + j] for k in range(fn)])[sn] if fn > 1 else xpad[j] for j in range(ns)]
        xmax = 1 << (b - 1)
        lane_out = []
        lat = 0
        for l in range(L):
            terms = []
            for j in range(ns):
                t = Signal(signed(b + 1), name=f"t{l}_{j}")
                m.d.comb += t.eq(_select(rb.data[2 * (l * ns + j):2 * (l * ns + j) + 2], xsl[j], b))
                terms.append((t, -xmax, xmax))
            v, _, _, lat = _tree(m, terms, cfg.stage_every, f"lane{l}")
            lane_out.append(v)
        v_t = _delay(m, busy, lat, "v_t", reset_less=False)
        first_n, last_n = _delay(m, sn == 0, lat, "fn"), _delay(m, sn == fn - 1, lat, "ln")
        first_r, last_r = _delay(m, sr == 0, lat, "fr"), _delay(m, sr == fr - 1, lat, "lr")
        cword = _delay(m, rc.data, lat, "romc")

        # h = sum over the fold_n slices, then p = h * a (registered: the DSP's MREG)
        hmax = self.n * xmax
        pb = signed_width(-hmax * (1 << (self.ab - 1)), hmax * (1 << (self.ab - 1)))
        prods = []
        for l in range(L):
            h = Signal(signed(self.hb), name=f"h{l}")
            if fn > 1:
                hacc = Signal(signed(self.hb), name=f"hacc{l}", reset_less=True)
                m.d.comb += h.eq(Mux(first_n, 0, hacc) + lane_out[l])
                with m.If(v_t):
                    m.d.sync += hacc.eq(h)
            else:
                m.d.comb += h.eq(lane_out[l])
            a = cword[l * self.ab:(l + 1) * self.ab].as_signed()
            p = Signal(signed(pb), name=f"p{l}", reset_less=True)
            with m.If(v_t & last_n):
                m.d.sync += p.eq(h * a)
            prods.append(p)
        v_p = Signal(name="v_p")
        m.d.sync += v_p.eq(v_t & last_n)
        fr_p, lr_p = Signal(name="fr_p", reset_less=True), Signal(name="lr_p", reset_less=True)
        wc_p = Signal(2 * self.m * L, name="wc_p", reset_less=True)
        m.d.sync += [fr_p.eq(first_r), lr_p.eq(last_r), wc_p.eq(cword[L * self.ab:])]

        # W_c partial sums over the L lanes, accumulated over the fold_r slices
        pmax = 1 << (pb - 1)
        wsum = []
        lat2 = 0
        for i in range(self.m):
            terms = []
            for l in range(L):
                t = Signal(signed(pb + 1), name=f"c{i}_{l}")
                k = 2 * (i * L + l)
                m.d.comb += t.eq(_select(wc_p[k:k + 2], prods[l], pb))
                terms.append((t, -pmax, pmax))
            v, _, _, lat2 = _tree(m, terms, cfg.stage_every, f"wc{i}")
            wsum.append(v)
        v_w = _delay(m, v_p, lat2, "v_w", reset_less=False)
        fr_w, lr_w = _delay(m, fr_p, lat2, "fr_w"), _delay(m, lr_p, lat2, "lr_w")
        half = rounding_half(self.sh)
        amax = self.r * pmax + max(abs(x) for x in self.bias) + half
        self.acc_bits = signed_width(-amax, amax)
        v_o = Signal(name="v_o")
        m.d.sync += v_o.eq(v_w & lr_w)
        outs = []
        ob = cfg.out_bits
        for i in range(self.m):
            acc = Signal(signed(self.acc_bits), name=f"acc{i}", reset_less=True)
            with m.If(v_w):
                m.d.sync += acc.eq(Mux(fr_w, self.bias[i] + half, acc) + wsum[i])
            outs.append(requantize(m, acc, self.sh, cfg.lo, cfg.hi, ob, cfg.out_signed, i))
        v_y = Signal(name="v_y")
        m.d.sync += v_y.eq(v_o)
        m.d.comb += [self.o_valid.eq(v_y), self.o_data.eq(Cat(*outs))]

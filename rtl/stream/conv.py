"""Streaming INT8 KxK conv layer ('same' zero padding, stride 1): window -> folded MAC lanes -> requantize.

Golden semantics (srhw.quant.golden, op `conv`): acc = sum W*x + B, y = clamp(rshift_round(acc * M[c],
SH[c]), out_lo, out_hi).

Folding F = fold_m x fold_n cycles per output pixel. N = K*K*c_in window inputs, M = c_out outputs;
L = ceil(M / fold_m) lanes, N_s = ceil(N / fold_n) inputs per lane and cycle, so L * N_s multipliers
(INT8 weight x activation, one DSP48E1 25x18 each; F = 1 multiplies by constants, zero weights pruned).
Slice s = s_m * fold_n + s_n: lane l computes output channel s_m*L + l over inputs [s_n*N_s, (s_n+1)*N_s)
and accumulates over the fold_n slices (starting from the bias); the finished channel goes through its
own requantize (one multiplier per lane; every channel brought to a common shift, rtl.stream.requant).
The weights of slice s are a ROM in LUTs (a constant mux on s, registered), not in BRAM: F is small
(tens) and the words are wide, which fills BRAM badly.

Pipeline: issue (window slice + ROM word) -> register -> multiply -> register -> adder tree (a register
every `stage_every` levels) -> accumulate -> requantize (2 registers) -> collect the fold_m lane groups ->
output FIFO. The datapath never stalls: a window starts only when the FIFO has room for every pixel in
flight (credit counter `occ` = started and not yet read), so output back-pressure stops the input.

Ports (sync): `i_valid/i_ready/i_data` (c_in words of in_bits), `o_valid/o_ready/o_data` (c_out words).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from rtl.cse import signed_width
from rtl.stream.requant import common_shift, requantize
from rtl.stream.window import Window


@dataclass(frozen=True)
class Port:
    """A stream word: `channels` values of `bits` bits, signed or not (an IntGraph TensorSpec)."""

    channels: int
    bits: int
    signed: bool

    @property
    def width(self) -> int:
        return self.channels * self.bits

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def word(self, sig, i):
        w = sig[i * self.bits:(i + 1) * self.bits]
        return w.as_signed() if self.signed else w


def delay(m, sig, n: int, name: str, reset_less: bool = True):
    for i in range(n):
        d = Signal.like(sig, name=f"{name}_d{i}", reset_less=reset_less)
        m.d.sync += d.eq(sig)
        sig = d
    return sig


PACK_SHIFT = 17  # two int8 x 8-bit products in one DSP48E1: x * (w_b * 2^17 + w_a), A port 25 bits
PACK_BITS = 25


def pack_ok(xmag: int, wmag: int) -> bool:
    """The low product must fit PACK_SHIFT signed bits for the split to be exact."""
    return xmag * wmag < 1 << (PACK_SHIFT - 1)


def csd(w: int) -> list:
    """Canonical signed digits of w: [(sign, shift)] with w = sum sign * 2^shift, no two adjacent."""
    out, k, w = [], 0, int(w)
    while w:
        if w & 1:
            d = 2 - (w & 3)  # +1 if w = 1 mod 4, -1 if w = 3 mod 4
            out.append((d, k))
            w -= d
        w >>= 1
        k += 1
    return out


def signed_tree(m, terms, stage_every: int, name: str):
    """Balanced tree over [(value, lo, hi, neg)] (the term is -value when neg): subtractions instead of
    negations. [lo, hi] is the range of value. Returns (signal, lo, hi, latency), the sum itself."""
    level, lat, cur = 0, 0, list(terms)
    while len(cur) > 1:
        nxt = []
        for i in range(0, len(cur) - 1, 2):
            (a, alo, ahi, an), (b, blo, bhi, bn) = cur[i], cur[i + 1]
            if an == bn:
                e, lo, hi, neg = a + b, alo + blo, ahi + bhi, an
            elif bn:
                e, lo, hi, neg = a - b, alo - bhi, ahi - blo, False
            else:
                e, lo, hi, neg = b - a, blo - ahi, bhi - alo, False
            sg = Signal(signed(signed_width(lo, hi)), name=f"{name}_l{level}_{i // 2}")
            m.d.comb += sg.eq(e)
            nxt.append((sg, lo, hi, neg))
        if len(cur) % 2:
            nxt.append(cur[-1])
        cur, level = nxt, level + 1
        if level % stage_every == 0 or len(cur) == 1:
            regd = []
            for j, (v, lo, hi, neg) in enumerate(cur):
                r = Signal(signed(signed_width(lo, hi)), name=f"{name}_r{lat}_{j}", reset_less=True)
                m.d.sync += r.eq(v)
                regd.append((r, lo, hi, neg))
            cur, lat = regd, lat + 1
    v, lo, hi, neg = cur[0]
    if neg:
        out = Signal(signed(signed_width(-hi, -lo)), name=f"{name}_neg")
        m.d.comb += out.eq(-v)
        return out, -hi, -lo, lat
    if lat == 0:  # a lone term: give it a register like every tree output
        r = Signal(signed(signed_width(lo, hi)), name=f"{name}_r0", reset_less=True)
        m.d.sync += r.eq(v)
        return r, lo, hi, 1
    return v, lo, hi, lat


def adder_tree(m, terms, stage_every: int, name: str):
    """Balanced tree over [(value, lo, hi)], a register every `stage_every` levels and after the last.
    Returns (value, lo, hi, latency); a single term passes through (latency 0)."""
    level, lat, cur = 0, 0, list(terms)
    while len(cur) > 1:
        nxt = []
        for i in range(0, len(cur) - 1, 2):
            (a, alo, ahi), (b, blo, bhi) = cur[i], cur[i + 1]
            lo, hi = alo + blo, ahi + bhi
            s = Signal(signed(signed_width(lo, hi)), name=f"{name}_l{level}_{i // 2}")
            m.d.comb += s.eq(a + b)
            nxt.append((s, lo, hi))
        if len(cur) % 2:
            nxt.append(cur[-1])
        cur, level = nxt, level + 1
        if level % stage_every == 0 or len(cur) == 1:
            regd = []
            for j, (v, lo, hi) in enumerate(cur):
                r = Signal(signed(signed_width(lo, hi)), name=f"{name}_r{lat}_{j}", reset_less=True)
                m.d.sync += r.eq(v)
                regd.append((r, lo, hi))
            cur, lat = regd, lat + 1
    v, lo, hi = cur[0]
    return v, lo, hi, lat


class ConvLayer(wiring.Component):
    """Args: W (c_out, c_in, K, K) int8, B/M/SH (c_out,) ints, lo/hi the output clamp, inp/out Ports,
    width/height the frame, fold (fold_m, fold_n)."""

    def __init__(self, W, B, M, SH, lo: int, hi: int, inp: Port, out: Port, width: int, height: int,
                 fold=(1, 1), stage_every: int = 2, name: str = "conv", pack: bool = True):
        W = np.asarray(W, dtype=np.int64)
        self.c_out, self.c_in, self.k, k2 = W.shape
        if self.k != k2 or self.k % 2 == 0:
            raise ValueError(f"{name}: kernel {self.k}x{k2} is not square and odd")
        if self.c_in != inp.channels or self.c_out != out.channels:
            raise ValueError(f"{name}: weights {W.shape} disagree with ports {inp}, {out}")
        self.name, self.inp, self.out, self.width, self.height = name, inp, out, width, height
        self.Wf = W.reshape(self.c_out, -1)  # (M, N), column ch*K*K + dy*K + dx as the window
        self.n = self.Wf.shape[1]
        self.B = [int(v) for v in np.asarray(B).reshape(-1)]
        self.Mq, self.shmax = common_shift(np.asarray(M).reshape(-1), np.asarray(SH).reshape(-1))
        self.lo, self.hi = int(lo), int(hi)
        fm, fn = (int(f) for f in fold)
        if not (1 <= fm <= self.c_out and 1 <= fn <= self.n):
            raise ValueError(f"{name}: folding {fm}x{fn} outside 1..{self.c_out} x 1..{self.n}")
        self.fold_m, self.fold_n, self.stage_every, self.pack = fm, fn, stage_every, pack
        self.dsp_products = 0
        self.lanes = -(-self.c_out // fm)
        self.n_s = -(-self.n // fn)
        self.fold = fm * fn
        super().__init__({
            "i_valid": In(1), "i_ready": Out(1), "i_data": In(inp.width),
            "o_valid": Out(1), "o_ready": In(1), "o_data": Out(out.width),
        })

    @property
    def multipliers(self) -> int:
        return self.lanes * self.n_s

    def _slice_weights(self):
        """wsl[s][l][j]: the weight lane l multiplies input j by in slice s (0 beyond the matrix)."""
        L, ns, fm, fn = self.lanes, self.n_s, self.fold_m, self.fold_n
        Wp = np.zeros((fm * L, fn * ns), np.int64)
        Wp[: self.c_out, : self.n] = self.Wf
        return [[[int(Wp[sm * L + l, sn * ns + j]) for j in range(ns)] for l in range(L)]
                for sm in range(fm) for sn in range(fn)]

    def elaborate(self, platform):
        m = Module()
        inp, out = self.inp, self.out
        L, ns, fm, fn, F = self.lanes, self.n_s, self.fold_m, self.fold_n, self.fold
        m.submodules.window = win = Window(self.k, self.width, self.height, inp.channels, inp.bits)
        m.d.comb += [win.i_valid.eq(self.i_valid), self.i_ready.eq(win.i_ready), win.i_data.eq(self.i_data)]

        # -- issue: one slice per cycle while a window is held; a window starts only with a FIFO credit
        s = Signal(range(max(F, 2)), name="s")  # never 0 bits wide: Icarus reads [-1:0] as 2 bits
        sm = Signal(range(max(fm, 2)), name="s_m")
        sn = Signal(range(max(fn, 2)), name="s_n")
        lat_est = 4 + math.ceil(math.log2(max(ns, 2)) / self.stage_every) + 3
        depth = max(2, -(-lat_est // F) + 2)
        m.submodules.fifo = fifo = SyncFIFO(width=out.width, depth=depth)
        occ = Signal(range(depth + 1), name="occ")
        start_ok = occ < depth
        issue = Signal(name="issue")
        m.d.comb += issue.eq(win.o_valid & ((s != 0) | start_ok))
        m.d.comb += win.o_ready.eq(issue & (s == F - 1))
        with m.If(issue):
            # s_m, s_n count beside s (s = s_m fold_n + s_n): s // fold_n and s % fold_n were a division in
            # the issue path, the ECP5 critical path of a folded layer
            m.d.sync += s.eq(Mux(s == F - 1, 0, s + 1))
            with m.If(sn == fn - 1):
                m.d.sync += [sn.eq(0), sm.eq(Mux(sm == fm - 1, 0, sm + 1))]
            with m.Else():
                m.d.sync += sn.eq(sn + 1)
        started = issue & (s == 0)
        popped = fifo.r_en & fifo.r_rdy
        m.d.sync += occ.eq(occ + started - popped)
        m.d.comb += [self.o_valid.eq(fifo.r_rdy), self.o_data.eq(fifo.r_data), fifo.r_en.eq(self.o_ready)]

        # -- stage 1: the input slice and the slice's weights, registered
        words = [inp.word(win.o_data, i) for i in range(self.n)]
        zero = Const(0, signed(inp.bits) if inp.signed else unsigned(inp.bits))
        words += [zero] * (fn * ns - self.n)
        xr = []
        for j in range(ns):
            sel = Array([words[k * ns + j] for k in range(fn)])[sn] if fn > 1 else words[j]
            r = Signal(signed(inp.bits) if inp.signed else unsigned(inp.bits), name=f"x{j}", reset_less=True)
            m.d.sync += r.eq(sel)
            xr.append(r)
        wsl = self._slice_weights()
        const_w = F == 1
        wr = None
        if not const_w:
            # the slice's weights (or packed lane pairs w_b * 2^17 + w_a), a constant ROM in LUTs
            pack = self.pack and pack_ok(max(abs(inp.lo), abs(inp.hi)), 128) and L >= 2
            wr = [[None] * ns for _ in range(L)]
            for l in range(L):
                paired = pack and l % 2 == 0 and l + 1 < L
                if pack and l % 2 == 1:
                    continue
                for j in range(ns):
                    if paired:
                        col = [(wsl[t][l + 1][j] << PACK_SHIFT) + wsl[t][l][j] for t in range(F)]
                        shape = signed(PACK_BITS)
                    else:
                        col = [wsl[t][l][j] for t in range(F)]
                        shape = signed(8)
                    r = wr[l][j] = Signal(shape, name=f"w{l}_{j}", reset_less=True)
                    if all(v == col[0] for v in col):
                        m.d.sync += r.eq(col[0])
                    else:
                        m.d.sync += r.eq(Array([Const(v, shape) for v in col])[s])
        v1 = delay(m, issue, 1, "v1", reset_less=False)
        ctl = Cat(sn == 0, sn == fn - 1, sm == fm - 1, sm)
        ctl1 = delay(m, ctl, 1, "ctl1")

        # -- stage 2: products. Constant weights (F = 1): canonical-signed-digit shift-add terms straight
        # into the lane trees (no multiplier). ROM weights: DSP multiplies, registered (the DSP's M
        # register), two lanes per DSP when packing is exact (rtl.stream.conv.pack_ok).
        xmag = max(abs(inp.lo), abs(inp.hi))
        terms = [[] for _ in range(L)]
        plat = 0
        if const_w:
            for l in range(L):
                for j in range(ns):
                    for sign, k in csd(wsl[0][l][j]):
                        terms[l].append((xr[j] << k, inp.lo << k, inp.hi << k, sign < 0))
        else:
            plat = 1
            wmax = [[max(abs(wsl[t][l][j]) for t in range(F)) for j in range(ns)] for l in range(L)]
            pack = self.pack and pack_ok(xmag, 128)
            groups = [(l, l + 1) for l in range(0, L - 1, 2)] + ([(L - 1,)] if L % 2 or not pack else [])
            if not pack:
                groups = [(l,) for l in range(L)]
            self.dsp_products = 0
            for grp in groups:
                for j in range(ns):
                    if all(wmax[l][j] == 0 for l in grp):
                        continue
                    self.dsp_products += 1
                    if len(grp) == 1:
                        l = grp[0]
                        lo, hi = -xmag * wmax[l][j], xmag * wmax[l][j]
                        p = Signal(signed(signed_width(lo, hi)), name=f"p{l}_{j}", reset_less=True)
                        m.d.sync += p.eq(xr[j] * wr[l][j])
                        terms[l].append((p, lo, hi, False))
                        continue
                    a, b = grp
                    P = Signal(signed(9 + PACK_BITS), name=f"pp{a}_{j}", reset_less=True)
                    m.d.sync += P.eq(xr[j] * wr[a][j])  # wr[a] holds the packed pair, wr[b] is unused
                    lo_p = Signal(signed(PACK_SHIFT), name=f"plo{a}_{j}")
                    hi_p = Signal(signed(9 + PACK_BITS - PACK_SHIFT + 1), name=f"phi{a}_{j}")
                    m.d.comb += [lo_p.eq(P[:PACK_SHIFT].as_signed()),
                                 hi_p.eq(P[PACK_SHIFT:].as_signed() + P[PACK_SHIFT - 1])]
                    terms[a].append((lo_p, -xmag * wmax[a][j], xmag * wmax[a][j], False))
                    terms[b].append((hi_p, -xmag * wmax[b][j], xmag * wmax[b][j], False))
        lanes_out = []
        for l in range(L):
            v, _, _, lat = signed_tree(m, terms[l] or [(Const(0, signed(2)), 0, 0, False)], self.stage_every, f"t{l}")
            lanes_out.append((v, lat))
        tlat = max(lat for _, lat in lanes_out)
        lanes_out = [delay(m, v, tlat - lat, f"tal{l}") for l, (v, lat) in enumerate(lanes_out)]
        v_t = delay(m, v1, plat + tlat, "v_t", reset_less=False)
        ctl_t = delay(m, ctl1, plat + tlat, "ctl_t")
        first_n, last_n, last_m, sm_t = ctl_t[0], ctl_t[1], ctl_t[2], ctl_t[3:]

        # -- accumulate over the fold_n slices from the bias, then requantize per lane
        Bp = self.B + [0] * (fm * L - self.c_out)
        Mp = self.Mq + [0] * (fm * L - self.c_out)
        amax = int(np.abs(self.Wf).sum(1).max()) * xmag + max(abs(b) for b in Bp)
        ab = signed_width(-amax, amax)
        v_q = Signal(name="v_q")
        m.d.sync += v_q.eq(v_t & last_n)
        lastm_q = delay(m, last_m, 1, "lastm_q")
        ys = []
        for l in range(L):
            bl = [Bp[g * L + l] for g in range(fm)]
            ml = [Mp[g * L + l] for g in range(fm)]
            bias = Const(bl[0], signed(ab)) if fm == 1 else Array([Const(b, signed(ab)) for b in bl])[sm_t]
            hacc = Signal(signed(ab), name=f"hacc{l}", reset_less=True)
            h = Signal(signed(ab), name=f"h{l}")
            m.d.comb += h.eq(Mux(first_n, bias, hacc) + lanes_out[l])
            with m.If(v_t):
                m.d.sync += hacc.eq(h)
            acc = Signal(signed(ab), name=f"acc{l}", reset_less=True)
            mb = max(max(ml).bit_length(), 1)
            mul = Signal(unsigned(mb), name=f"mq{l}", reset_less=True)
            with m.If(v_t & last_n):
                m.d.sync += acc.eq(h)
                m.d.sync += mul.eq(ml[0] if fm == 1 else Array([Const(x, unsigned(mb)) for x in ml])[sm_t])
            ys.append(requantize(m, acc, -amax, amax, mul, max(ml), self.shmax, self.lo, self.hi, out.bits, out.signed,
                                 v_q, l))
        v_y = delay(m, v_q, 2, "v_y", reset_less=False)
        lastm_y = delay(m, lastm_q, 2, "lastm_y")
        ob = out.bits
        gw = L * ob
        yg = Cat(*ys)
        if fm == 1:
            m.d.comb += [fifo.w_en.eq(v_y), fifo.w_data.eq(yg[: out.width])]
        else:
            vec = Signal((fm - 1) * gw, name="vec", reset_less=True)
            full = Cat(vec, yg)
            with m.If(v_y):
                m.d.sync += vec.eq(full[gw:])
            m.d.comb += [fifo.w_en.eq(v_y & lastm_y), fifo.w_data.eq(full[: out.width])]
        return m

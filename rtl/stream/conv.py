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
                 fold=(1, 1), stage_every: int = 2, name: str = "conv"):
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
        self.fold_m, self.fold_n, self.stage_every = fm, fn, stage_every
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
        m.d.comb += [sm.eq(s // fn), sn.eq(s % fn)]
        lat_est = 4 + math.ceil(math.log2(max(ns, 2)) / self.stage_every) + 3
        depth = max(2, -(-lat_est // F) + 2)
        m.submodules.fifo = fifo = SyncFIFO(width=out.width, depth=depth)
        occ = Signal(range(depth + 1), name="occ")
        start_ok = occ < depth
        issue = Signal(name="issue")
        m.d.comb += issue.eq(win.o_valid & ((s != 0) | start_ok))
        m.d.comb += win.o_ready.eq(issue & (s == F - 1))
        with m.If(issue):
            m.d.sync += s.eq(Mux(s == F - 1, 0, s + 1))
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
            wr = [[Signal(signed(8), name=f"w{l}_{j}", reset_less=True) for j in range(ns)] for l in range(L)]
            for l in range(L):
                for j in range(ns):
                    col = [wsl[t][l][j] for t in range(F)]
                    if all(v == col[0] for v in col):
                        m.d.sync += wr[l][j].eq(col[0])
                    else:
                        m.d.sync += wr[l][j].eq(Array([Const(v, signed(8)) for v in col])[s])
        v1 = delay(m, issue, 1, "v1", reset_less=False)
        ctl = Cat(sn == 0, sn == fn - 1, sm == fm - 1, sm)
        ctl1 = delay(m, ctl, 1, "ctl1")

        # -- stage 2: products (registered: the DSP's M register)
        xmag = max(abs(inp.lo), abs(inp.hi))
        lanes_out = []
        tlat = 0
        for l in range(L):
            terms = []
            for j in range(ns):
                if const_w:
                    w = wsl[0][l][j]
                    if w == 0:
                        continue
                    lo, hi = sorted((w * inp.lo, w * inp.hi))
                    p = Signal(signed(signed_width(lo, hi)), name=f"p{l}_{j}", reset_less=True)
                    m.d.sync += p.eq(xr[j] * w)
                else:
                    wmax = max(abs(wsl[t][l][j]) for t in range(F))
                    if wmax == 0:
                        continue
                    lo, hi = -xmag * wmax, xmag * wmax
                    p = Signal(signed(signed_width(lo, hi)), name=f"p{l}_{j}", reset_less=True)
                    m.d.sync += p.eq(xr[j] * wr[l][j])
                terms.append((p, lo, hi))
            if not terms:
                terms = [(Const(0, signed(2)), 0, 0)]
            v, _, _, lat = adder_tree(m, terms, self.stage_every, f"t{l}")
            lanes_out.append((v, lat))
        tlat = max(lat for _, lat in lanes_out)
        lanes_out = [delay(m, v, tlat - lat, f"tal{l}") for l, (v, lat) in enumerate(lanes_out)]
        v_t = delay(m, v1, 1 + tlat, "v_t", reset_less=False)
        ctl_t = delay(m, ctl1, 1 + tlat, "ctl_t")
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
            shape = signed(out.bits) if out.signed else unsigned(out.bits)
            ys.append(requantize(m, acc, -amax, amax, mul, max(ml), self.shmax, self.lo, self.hi, shape, v_q, f"rq{l}"))
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

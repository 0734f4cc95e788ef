"""Sum-product (StrassenNets) kernel on one input vector, multiplier-light, as an Amaranth component.

    h   = W_b · x                         ternary adder tree (rtl.adder_tree), r outputs
    p_j = a_j * h_j                       the r multiplies by integer scales (DSP48E1: 25 x 18)
    acc = W_c · p + bias                  ternary adder tree, then the bias
    y   = clamp(rshift_round(acc, sh), lo, hi)   requantize; ReLU is lo = 0

This is the integer semantics of `srhw.quant` for an `sp_conv` node (fakequant `_sp_params`: codes W_b,
W_c, scales a already multiplied by 2^sh, bias scaled by 2^sh, then `requant(acc, 1, sh, lo, hi)`);
rounding is `srhw.quant.fixedpoint.rshift_round` (round half up by add-then-shift). A convolution
feeds it im2col patches (x = the k*k*C_in window, groups = 1).

Ports: as the adder tree (`clk`, `rst`, `i_valid`, `i_data` N*in_bits signed, `o_valid`, `o_data`
M*out_bits), o_data words signed if `out_signed` else unsigned. Latency = tree_b.latency
+ tree_c.latency + 2 (bias add register, requantize register); the products are combinational and
land in tree C's input register (a DSP48E1's MREG position).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from rtl.adder_tree import AdderTree, AdderTreeConfig
from rtl.cse import signed_width
from rtl.requant import requantize, rounding_half

DSP_A_BITS, DSP_B_BITS = 25, 18  # DSP48E1 multiplier ports (signed 25 x 18)


@dataclass(frozen=True)
class SumProductConfig:
    """in_bits: signed input width. out_bits/out_signed: output format (srhw.quant.fixedpoint.qrange).
    relu: clamp at 0. stage_every: adder levels per register in both trees."""

    in_bits: int = 8
    out_bits: int = 8
    out_signed: bool = False  # ReLU outputs are unsigned activations in srhw.quant
    relu: bool = True
    stage_every: int = 2


def out_range(cfg: SumProductConfig) -> tuple[int, int]:
    lo, hi = ((-(1 << (cfg.out_bits - 1)), (1 << (cfg.out_bits - 1)) - 1) if cfg.out_signed
              else (0, (1 << cfg.out_bits) - 1))
    return (max(lo, 0), hi) if cfg.relu else (lo, hi)


class SumProduct(wiring.Component):
    """y = clamp(rshift_round(W_c·(a ⊙ (W_b·x)) + bias, sh), lo, hi).

    Args:
        Wb: ternary (r, N). a: int (r,) scales, each fitting 18 signed bits. Wc: ternary (M, r).
        bias: int (M,) or None. sh: right shift >= 0. config: `SumProductConfig`.
    """

    def __init__(self, Wb, a, Wc, bias, sh: int, config: SumProductConfig = SumProductConfig()):
        Wb, Wc = np.asarray(Wb), np.asarray(Wc)
        self.a = [int(v) for v in np.asarray(a).reshape(-1)]
        r, n = Wb.shape
        m = Wc.shape[0]
        if Wc.shape[1] != r or len(self.a) != r:
            raise ValueError(f"shapes disagree: Wb {Wb.shape}, a ({len(self.a)},), Wc {Wc.shape}")
        if sh < 0:
            raise ValueError(f"sh must be >= 0, got {sh}")
        self.bias = [0] * m if bias is None else [int(v) for v in np.asarray(bias).reshape(-1)]
        if len(self.bias) != m:
            raise ValueError(f"bias has {len(self.bias)} values for {m} outputs")
        self.sh, self.config = int(sh), config
        ab = max(signed_width(min(self.a + [0]), max(self.a + [0])), 2)
        if ab > DSP_B_BITS:
            raise ValueError(f"scales need {ab} bits, more than a DSP48E1's {DSP_B_BITS}-bit port")
        self.tree_b = AdderTree(Wb, AdderTreeConfig(in_bits=config.in_bits, stage_every=config.stage_every))
        hb = self.tree_b.plan.out_bits
        if hb > DSP_A_BITS:
            raise ValueError(f"multiply {hb} x {ab} bits does not fit a DSP48E1 ({DSP_A_BITS} x {DSP_B_BITS})")
        self.prod_bits = hb + ab  # a signed hb x ab product
        self.tree_c = AdderTree(Wc, AdderTreeConfig(in_bits=self.prod_bits, stage_every=config.stage_every))
        pc = self.tree_c.plan
        half = (1 << (sh - 1)) if sh > 0 else 0
        acc_lo = -(1 << (pc.out_bits - 1)) + min(self.bias) + half
        acc_hi = (1 << (pc.out_bits - 1)) - 1 + max(self.bias) + half
        self.acc_bits = signed_width(acc_lo, acc_hi)
        self.lo, self.hi = out_range(config)
        self.m, self.n, self.r = m, n, r
        super().__init__({
            "i_valid": In(1),
            "i_data": In(n * config.in_bits),
            "o_valid": Out(1),
            "o_data": Out(m * config.out_bits),
        })

    @property
    def latency(self) -> int:
        return self.tree_b.latency + self.tree_c.latency + 2

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        m.submodules.tree_b = tb = self.tree_b
        m.submodules.tree_c = tc = self.tree_c
        hb, pb = tb.plan.out_bits, self.prod_bits
        m.d.comb += [tb.i_valid.eq(self.i_valid), tb.i_data.eq(self.i_data)]

        # The r constant multiplies; tree C's input register holds the products.
        prods = []
        for j, a in enumerate(self.a):
            p = Signal(signed(pb), name=f"p{j}")
            m.d.comb += p.eq(tb.o_data[j * hb:(j + 1) * hb].as_signed() * a)
            prods.append(p)
        m.d.comb += [tc.i_valid.eq(tb.o_valid), tc.i_data.eq(Cat(*prods))]

        # Bias + rounding half, registered; then shift and clamp, registered.
        cb = tc.plan.out_bits
        half = rounding_half(self.sh)
        v1 = Signal(name="bias_valid")
        m.d.sync += v1.eq(tc.o_valid)
        ob = cfg.out_bits
        outs = []
        for i in range(self.m):
            acc = Signal(signed(self.acc_bits), name=f"acc{i}", reset_less=True)
            m.d.sync += acc.eq(tc.o_data[i * cb:(i + 1) * cb].as_signed() + (self.bias[i] + half))
            outs.append(requantize(m, acc, self.sh, self.lo, self.hi, ob, cfg.out_signed, i))
        v2 = Signal(name="out_valid")
        m.d.sync += v2.eq(v1)
        m.d.comb += [self.o_valid.eq(v2), self.o_data.eq(Cat(*outs))]
        return m

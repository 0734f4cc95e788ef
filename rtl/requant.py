"""The requantize stage every SP kernel ends with: y = clamp(acc >> sh, lo, hi), registered.

The accumulator already holds bias + 2^(sh-1) (`rounding_half`), so the arithmetic shift (a floor) rounds
half up exactly as the golden model's `srhw.quant.fixedpoint.rshift_round` followed by the clamp of the
node's output range; ReLU is lo = 0. Used by the hard-wired kernel (rtl.sum_product) and the folded
lanes (rtl.sp_layer), so both emit the same netlist for this stage.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned


def rounding_half(sh: int) -> int:
    """The constant added before an arithmetic right shift by `sh` so that it rounds half up."""
    return (1 << (sh - 1)) if sh > 0 else 0


def requantize(m: Module, acc: Signal, sh: int, lo: int, hi: int, out_bits: int, out_signed: bool,
               i: int) -> Signal:
    """Add output `i`'s requantize stage to `m`: q{i} = acc >> sh (comb), y{i} = clamp(q, lo, hi) (sync)."""
    q = Signal(signed(len(acc)), name=f"q{i}")
    m.d.comb += q.eq(acc >> sh)  # arithmetic shift of a signed value = floor
    y = Signal(signed(out_bits) if out_signed else unsigned(out_bits), name=f"y{i}", reset_less=True)
    m.d.sync += y.eq(Mux(q < lo, lo, Mux(q > hi, hi, q)))
    return y

"""The golden requantize, y = clamp(rshift_round(acc * M, SH), lo, hi), as two pipeline registers: the
multiply (plus the rounding half, a DSP48E1's M register and post-adder), then the project's one
shift-and-clamp stage (rtl.requant.requantize).

srhw.quant.fixedpoint: M a 15-bit multiplier, rshift_round = round half up by add-then-shift. When one
multiplier serves several channels with different shifts (a folded layer), every channel is brought to
the largest shift: rshift_round(acc * M, SH) == rshift_round(acc * (M << (SHmax - SH)), SHmax), exactly
(both are floor((acc * M * 2^d + 2^(SHmax-1)) / 2^SHmax) with d = SHmax - SH), so the shift is wiring.
"""

from __future__ import annotations

from amaranth.hdl import Signal, signed, unsigned

from rtl.cse import signed_width
from rtl.requant import requantize as shift_clamp
from rtl.requant import rounding_half


def common_shift(ms, shs) -> tuple[list[int], int]:
    """(M << (SHmax - SH) per channel, SHmax)."""
    shmax = max(int(s) for s in shs)
    return [int(mv) << (shmax - int(s)) for mv, s in zip(ms, shs)], shmax


def out_shape(lo: int, hi: int, bits: int, is_signed: bool):
    return signed(bits) if is_signed else unsigned(bits)


def requantize(m, acc, acc_lo: int, acc_hi: int, mult, mult_max: int, sh: int, lo: int, hi: int, out_bits: int,
               out_signed: bool, en, i: int):
    """Registers y = clamp(rshift_round(acc * mult, sh), lo, hi) two cycles after `en` (acc, mult valid).

    acc in [acc_lo, acc_hi], 0 <= mult <= mult_max. Returns the output signal (`out_bits`, signed or not)."""
    half = rounding_half(sh)
    pmax = max(abs(acc_lo), abs(acc_hi)) * mult_max + half
    prod = Signal(signed(signed_width(-pmax, pmax)), name=f"rq{i}_prod", reset_less=True)
    with m.If(en):
        m.d.sync += prod.eq(acc * mult + half)
    return shift_clamp(m, prod, sh, lo, hi, out_bits, out_signed, i)

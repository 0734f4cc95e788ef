"""Fixed-point primitives shared by the golden model, the fake-quant model and the bounds.

Integer-only inference after Jacob et al., "Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference" (CVPR 2018, arXiv:1712.05877), section 2.2: a real ratio M = s_in*s_w/s_out
is applied as an integer multiplier m and a right shift sh, M ~= m * 2^-sh (gemmlowp's
`SaturatingRoundingDoublingHighMul` + `RoundingDivideByPOT`, simplified here to one multiply and one shift).

Rounding rule used everywhere (documented once, here): **round half up by add-then-shift**,

    rshift_round(v, sh) = (v + 2^(sh-1)) >> sh      (sh >= 1; arithmetic shift = floor)
    rshift_round(v, 0)  = v

i.e. floor(v / 2^sh + 1/2): ties go towards +infinity, for negative values too (-2.5 -> -2). An adder and a
wire shift in RTL, `AP_RND` in Vivado HLS `ap_fixed`. Saturation clamps to the declared range of the
destination tensor (`AP_SAT`).
"""

import math

import numpy as np

MULT_BITS = 15  # multiplier m in [2^14, 2^15): fits a DSP48E1 18-bit port, and acc (< 2^32) * m < 2^47 < 2^53,
#                 so float64 emulation (fake-quant) stays exact


def qrange(bits: int, signed: bool) -> tuple[int, int]:
    """Integer range of an activation tensor: signed [-2^(b-1), 2^(b-1)-1], unsigned [0, 2^b-1]."""
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def signed_bits(lo: int, hi: int) -> int:
    """Smallest two's-complement width holding every integer of [lo, hi] (an accumulator's width)."""
    b = 1
    while not (-(1 << (b - 1)) <= lo and hi <= (1 << (b - 1)) - 1):
        b += 1
    return b


def is_pow2(x: float) -> bool:
    m, _ = math.frexp(x)
    return x > 0 and m == 0.5


def pow2_scale(max_abs: float, qmax: int) -> float:
    """Smallest power of two s with qmax * s >= max_abs: a fixed-point format (ap_fixed / quantized_bits)."""
    max_abs = max(float(max_abs), 1e-8)
    return 2.0 ** math.ceil(math.log2(max_abs / qmax))


def multiplier(ratio: float, mult_bits: int = MULT_BITS) -> tuple[int, int]:
    """(m, sh) with m * 2^-sh ~= ratio > 0; exact (m a power of two, possibly 1) when ratio is a power of two.

    Otherwise m has `mult_bits` bits (m in [2^(b-1), 2^b)), relative error <= 2^-b.
    """
    if ratio <= 0:
        raise ValueError(f"requantization ratio must be > 0, got {ratio}")
    if is_pow2(ratio):
        e = round(math.log2(ratio))
        return (1 << e, 0) if e >= 0 else (1, -e)
    e = math.floor(math.log2(ratio))
    sh = mult_bits - 1 - e
    if sh < 0:
        return int(round(ratio)), 0
    m = int(round(ratio * 2.0 ** sh))
    if m >= 1 << mult_bits:  # rounding carried into the next bit
        m, sh = m >> 1, sh - 1
    return m, sh


def rshift_round(v: np.ndarray, sh) -> np.ndarray:
    """Round-half-up right shift of an int64 array (module docstring); `sh` broadcasts (per channel)."""
    v = np.asarray(v, dtype=np.int64)
    sh = np.asarray(sh, dtype=np.int64)
    half = np.where(sh > 0, np.left_shift(np.int64(1), np.maximum(sh - 1, 0)), 0)
    return np.right_shift(v + half, sh)


def round_div(s: np.ndarray, n: int) -> np.ndarray:
    """round(s / n), ties up, in integers: floor((2s + n) / 2n). The average pool of channel attention."""
    s = np.asarray(s, dtype=np.int64)
    return np.floor_divide(2 * s + n, 2 * n)


def sigmoid_lut(z_scale: float, frac_bits: int, z_bits: int = 8) -> np.ndarray:
    """Sigmoid as a table indexed by the signed `z_bits` pre-activation code q (entry q - qmin).

    entry = round(sigmoid(q * z_scale) * 2^frac_bits), in [0, 2^frac_bits]: the attention weight in
    unsigned fixed point with `frac_bits` fraction bits (frac_bits + 1 bits wide). A 256 x 9 ROM in RTL/HLS.
    """
    lo, hi = qrange(z_bits, True)
    z = np.arange(lo, hi + 1, dtype=np.float64) * z_scale
    return np.floor(1.0 / (1.0 + np.exp(-z)) * 2 ** frac_bits + 0.5).astype(np.int64)


def add_multipliers(s_a: float, s_b: float, s_out: float, mult_bits: int = MULT_BITS) -> tuple[int, int, int]:
    """(MA, MB, SH) for a residual add: out = rshift_round(a*MA + b*MB, SH).

    Both operands are brought to one common scale s_out * 2^-SH (Jacob et al. 2017, section 2.3's
    addition: rescale both, add in a wide accumulator, requantize). With power-of-two scales MA and MB are
    powers of two (pure shifts) and the result is exact up to the final rounding.
    """
    ra, rb = s_a / s_out, s_b / s_out
    if is_pow2(ra) and is_pow2(rb):
        sh = max(0, -round(math.log2(min(ra, rb))))
        return int(round(ra * 2 ** sh)), int(round(rb * 2 ** sh)), sh
    sh = max(0, mult_bits - 1 - math.floor(math.log2(max(ra, rb))))
    return int(round(ra * 2 ** sh)), int(round(rb * 2 ** sh)), sh

"""What the engine's types can hold: the storage type of a feature map and the checks of declared widths against
its accumulators, requantizer and shifts (a graph the engine cannot run exactly is refused, never truncated)."""

import numpy as np

from srhw.core.errors import SrhwError
from srhw.export.engine.isa import ACC_BITS, T_S8, T_S16, T_U8, TYPE_RANGE, WIDE_BITS
from srhw.quant.fixedpoint import signed_bits


def map_type(spec, lo=None, hi=None, where="") -> int:
    lo = spec.lo if lo is None else min(lo, spec.lo)
    hi = spec.hi if hi is None else max(hi, spec.hi)
    for t in (T_S8, T_U8, T_S16):
        if TYPE_RANGE[t][0] <= lo and hi <= TYPE_RANGE[t][1]:
            return t
    raise SrhwError(f"{where}: codes in [{lo}, {hi}] need more than the engine's 16-bit feature maps")


def check_bits(n, keys, limit=ACC_BITS):
    for k in keys:
        b = n.attrs.get(f"{k}_bits")
        if b is None:
            raise SrhwError(f"{n.name}: graph.json declares no {k}_bits (run srhw.quant.bounds.annotate_bounds)")
        if b > limit:
            raise SrhwError(f"{n.name}: {k} needs {b} bits, more than the engine's {limit}-bit accumulators")


def check_product(n, key, mult, limit=WIDE_BITS - 2):
    """A requantization product acc * m (acc in its declared range) must leave room for the rounding add."""
    top = max(abs(n.attrs[f"{key}_lo"]), abs(n.attrs[f"{key}_hi"])) * int(np.max(np.abs(mult)))
    if top >= 1 << limit:
        raise SrhwError(f"{n.name}: {key} * multiplier reaches 2^{top.bit_length()}, beyond the {WIDE_BITS}-bit requantizer")


def check_shift(n, sh, limit=63):
    sh = np.asarray(sh)
    if sh.size and (sh.min() < 0 or sh.max() > limit):
        raise SrhwError(f"{n.name}: shift out of [0, {limit}]")


def acc_bits(n, bias) -> int:
    """Bits of a conv / W_c accumulator that starts at the bias and adds partial sums of the products: the declared
    range [acc_lo, acc_hi] (bias included) and the partial sums without it, [acc_lo - max B, acc_hi - min B]."""
    lo, hi = n.attrs["acc_lo"], n.attrs["acc_hi"]
    b_lo, b_hi = int(np.min(bias)), int(np.max(bias))
    bits = signed_bits(min(lo, lo - b_hi), max(hi, hi - b_lo))
    if bits > ACC_BITS:
        raise SrhwError(f"{n.name}: partial sums need {bits} bits, more than the engine's {ACC_BITS}-bit accumulators")
    return bits

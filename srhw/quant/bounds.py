"""Worst-case accumulator ranges, written into each node of an IntGraph (`annotate_bounds`).

For a dot product acc = sum_i w_i x_i + b with every x_i in its tensor's declared range [xl, xh]
(xl <= 0 <= xh, so zero padding is inside it), the exact extremes are
    acc_hi = sum_i max(w_i xl, w_i xh) + b,   acc_lo = sum_i min(w_i xl, w_i xh) + b,
reached when every input sits at the end of its range that matches its weight's sign. Widths are the
two's-complement bits of [acc_lo, acc_hi] over all channels (`signed_bits`); HLS/RTL size their
accumulators from these attributes. Keys written:
    conv     acc_lo, acc_hi, acc_bits, prod_bits (acc * M before the shift)
    sp_conv  accb_* (ternary k x k), h_* (after the r multiplies), acc_* (ternary 1 x 1 + bias)
    add      acc_lo, acc_hi, acc_bits (a*MA + b*MB)
    ca       pool_* (sum over at most MAX_POOL_PIXELS), acc1_*, acc2_*, prod_* (x * sigmoid code)
"""

import numpy as np

from srhw.quant.fixedpoint import signed_bits

MAX_POOL_PIXELS = 640 * 360  # largest LR map channel attention pools over: a 720p frame at x2 (hardware.md)


def dot_range(w: np.ndarray, xl, xh, b=None):
    """Per-output-channel (lo, hi) of w (co, ...) . x + b for x in [xl, xh] (scalars or per-input arrays)."""
    w = w.astype(np.int64).reshape(w.shape[0], -1)
    xl, xh = (np.asarray(v, dtype=np.int64) for v in (xl, xh))
    xl = xl.reshape(w.shape) if xl.ndim else np.broadcast_to(xl, w.shape)
    xh = xh.reshape(w.shape) if xh.ndim else np.broadcast_to(xh, w.shape)
    hi = np.maximum(w * xl, w * xh).sum(1)
    lo = np.minimum(w * xl, w * xh).sum(1)
    if b is not None:
        hi, lo = hi + b, lo + b
    return lo, hi


def _put(attrs, prefix, lo, hi):
    lo, hi = int(np.min(lo)), int(np.max(hi))
    attrs[f"{prefix}_lo"], attrs[f"{prefix}_hi"], attrs[f"{prefix}_bits"] = lo, hi, signed_bits(lo, hi)


def _grouped_inputs(lo, hi, co, groups, cig, taps):
    """Per-(co, ci, tap) input ranges for a grouped conv whose inputs have per-channel ranges lo/hi."""
    cog = co // groups
    idx = (np.arange(co)[:, None] // cog) * cig + np.arange(cig)[None, :]  # (co, cig) input channel
    return np.repeat(lo[idx][..., None], taps, -1), np.repeat(hi[idx][..., None], taps, -1)


def annotate_bounds(g):
    for n in g.nodes:
        a = n.attrs
        if n.op == "conv":
            x = g.tensors[n.inputs[0]]
            lo, hi = dot_range(g.param(n, "W"), x.lo, x.hi, g.param(n, "B"))
            _put(a, "acc", lo, hi)
            m = g.param(n, "M")
            _put(a, "prod", np.minimum(lo * m, hi * m), np.maximum(lo * m, hi * m))
        elif n.op == "sp_conv":
            x = g.tensors[n.inputs[0]]
            lo, hi = dot_range(g.param(n, "WB"), x.lo, x.hi)
            _put(a, "accb", lo, hi)
            A = g.param(n, "A")
            hl, hh = np.minimum(lo * A, hi * A), np.maximum(lo * A, hi * A)
            _put(a, "h", hl, hh)
            wc = g.param(n, "WC")
            xl, xh = _grouped_inputs(hl, hh, wc.shape[0], a["groups"], wc.shape[1], 1)
            lo, hi = dot_range(wc, xl, xh, g.param(n, "B"))
            _put(a, "acc", lo, hi)
        elif n.op == "add":
            x, y = g.tensors[n.inputs[0]], g.tensors[n.inputs[1]]
            ends = [p * a["MA"] + q * a["MB"] for p in (x.lo, x.hi) for q in (y.lo, y.hi)]
            _put(a, "acc", min(ends), max(ends))
        elif n.op == "ca":
            x, h = g.tensors[n.inputs[0]], g.tensors[a["hidden"]]
            _put(a, "pool", x.lo * MAX_POOL_PIXELS, x.hi * MAX_POOL_PIXELS)
            lo, hi = dot_range(g.param(n, "W1"), x.lo, x.hi, g.param(n, "B1"))
            _put(a, "acc1", lo, hi)
            lo, hi = dot_range(g.param(n, "W2"), h.lo, h.hi, g.param(n, "B2"))
            _put(a, "acc2", lo, hi)
            top = 1 << a["lut_frac_bits"]
            _put(a, "prod", x.lo * top, x.hi * top)
    return g

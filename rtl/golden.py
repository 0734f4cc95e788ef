"""Golden models (numpy) for the RTL kernels and the bit packing of their flat ports: thin adapters over the
integer golden model's arithmetic (srhw.quant.fixedpoint), so a bench and the golden graph round alike.

Packing contract (rtl/README.md): a vector of K signed `bits`-wide words travels as one K*bits-bit
bus, word j at bits [j*bits, (j+1)*bits), two's complement.
"""

from __future__ import annotations

import numpy as np

from srhw.quant.fixedpoint import rshift_round


def adder_tree_ref(W, x) -> np.ndarray:
    """y = W·x in plain int64: W (M x N) ternary, x (N,) or (K x N) signed ints -> (M,) or (K x M)."""
    W = np.asarray(W, dtype=np.int64)
    x = np.asarray(x, dtype=np.int64)
    return x @ W.T if x.ndim == 2 else W @ x


def pack(words, bits: int) -> int:
    """Pack signed ints (word j at bits [j*bits, (j+1)*bits)) into one non-negative Python int."""
    mask = (1 << bits) - 1
    out = 0
    for j, w in enumerate(np.asarray(words, dtype=np.int64).tolist()):
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if not lo <= w <= hi:
            raise ValueError(f"word {j} = {w} does not fit {bits} signed bits")
        out |= (w & mask) << (j * bits)
    return out


def unpack(value: int, count: int, bits: int, signed: bool = True) -> np.ndarray:
    """Inverse of `pack`: split a bus value into `count` `bits`-wide words (int64), signed by default."""
    mask = (1 << bits) - 1
    sign = (1 << (bits - 1)) if signed else 1 << bits  # unsigned: the sign test never fires
    out = np.empty(count, dtype=np.int64)
    for j in range(count):
        w = (value >> (j * bits)) & mask
        out[j] = w - (1 << bits) if w & sign else w
    return out


def random_ternary(m: int, n: int, density: float = 2 / 3, seed: int = 0) -> np.ndarray:
    """A random ternary int8 matrix: each weight nonzero with probability `density`, sign 50/50."""
    rng = np.random.default_rng(seed)
    nz = rng.random((m, n)) < density
    sign = np.where(rng.random((m, n)) < 0.5, -1, 1)
    return (nz * sign).astype(np.int8)


def sum_product_ref(Wb, a, Wc, bias, sh: int, x, lo: int, hi: int) -> np.ndarray:
    """Sum-product kernel (rtl.sum_product): clamp(rshift_round(W_c·(a ⊙ (W_b·x)) + bias, sh), lo, hi).

    Rounding is round half up by add-then-shift (srhw.quant.fixedpoint.rshift_round). x: (N,) or (K, N).
    """
    x = np.asarray(x, dtype=np.int64)
    h = adder_tree_ref(Wb, x)  # (..., r)
    p = h * np.asarray(a, dtype=np.int64)
    acc = adder_tree_ref(Wc, p)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    return np.clip(rshift_round(acc, sh), lo, hi)


def im2col3x3(img) -> np.ndarray:
    """(H, W, C) image -> (H*W, 9*C) 3x3 windows with zero padding, column order ch*9 + dy*3 + dx
    (the flattening of a (r, C, 3, 3) weight tensor), rows in raster order."""
    img = np.asarray(img, dtype=np.int64)
    h, w, c = img.shape
    p = np.pad(img, ((1, 1), (1, 1), (0, 0)))
    cols = np.empty((h, w, c, 3, 3), dtype=np.int64)
    for dy in range(3):
        for dx in range(3):
            cols[:, :, :, dy, dx] = p[dy:dy + h, dx:dx + w, :]
    return cols.reshape(h * w, c * 9)


def sp_layer_ref(Wb, a, Wc, bias, sh: int, img, lo: int, hi: int) -> np.ndarray:
    """Streaming SP conv layer (rtl.sp_layer): 3x3 'same' sum-product conv of an (H, W, C) image.

    Wb: (r, C, 3, 3) or (r, 9C) ternary. Returns (H, W, M) int64 = sum_product_ref on every window.
    """
    img = np.asarray(img)
    Wb = np.asarray(Wb).reshape(np.asarray(Wb).shape[0], -1)
    y = sum_product_ref(Wb, a, np.asarray(Wc).reshape(np.asarray(Wc).shape[0], -1), bias, sh, im2col3x3(img), lo, hi)
    return y.reshape(img.shape[0], img.shape[1], -1)

"""Integer arithmetic on plain ints or numpy arrays of candidates (the datapath search evaluates many at once)."""

import math

import numpy as np


def clog2(v) -> int:
    return int(math.ceil(math.log2(max(int(v), 1))))


def ceil_div(a, b):
    return -(-a // b)


def round_up(a, b):
    return ceil_div(a, b) * b


def vmax(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.maximum(out, x)
    return out


def vmin(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = np.minimum(out, x)
    return out


def as_int(v):
    """v as a Python int when it is a scalar, else the array as it is."""
    return int(v) if np.ndim(v) == 0 else v

"""The engine's weight blob (weights.bin): little-endian 32-bit words; int8 weights 4 per word, ternary codes 16 per
word (2-bit two's complement), biases / multipliers / shifts / sigmoid tables 1 per word; each array starts on a
word, and an array shared by several nodes (ERUM's recursion) is stored once."""

import numpy as np

from srhw.core.errors import SrhwError
from srhw.export.engine.arith import round_up


class WeightBlob:
    """32-bit words; each array starts on a word; an (array key, format) pair is stored once."""

    def __init__(self):
        self.words: list[np.ndarray] = []
        self.size = 0
        self.index = {}

    def add(self, key: str, fmt: str, arr: np.ndarray, where: str) -> int:
        if (key, fmt) in self.index:
            return self.index[(key, fmt)]
        a = np.asarray(arr, dtype=np.int64).ravel()
        if fmt == "i8":
            if a.size and (a.min() < -128 or a.max() > 127):
                raise SrhwError(f"{where}: int8 weights out of range [{a.min()}, {a.max()}]")
            w = np.zeros(round_up(max(a.size, 1), 4), np.uint32)
            w[: a.size] = a.astype(np.int64) & 0xFF
            w = w.reshape(-1, 4)
            packed = w[:, 0] | (w[:, 1] << 8) | (w[:, 2] << 16) | (w[:, 3] << 24)
        elif fmt == "t2":
            if a.size and not np.isin(a, (-1, 0, 1)).all():
                raise SrhwError(f"{where}: a ternary weight outside {{-1, 0, +1}}")
            w = np.zeros(round_up(max(a.size, 1), 16), np.uint32)
            w[: a.size] = a & 3
            w = w.reshape(-1, 16)
            packed = np.zeros(len(w), np.uint32)
            for i in range(16):
                packed |= w[:, i] << (2 * i)
        else:
            if a.size and (a.min() < -(1 << 31) or a.max() >= 1 << 31):
                raise SrhwError(f"{where}: a parameter does not fit 32 bits")
            packed = (a & 0xFFFFFFFF).astype(np.uint32)
        off = self.size
        self.words.append(packed.astype(np.uint32))
        self.size += len(packed)
        self.index[(key, fmt)] = off
        return off

    def array(self) -> np.ndarray:
        return np.concatenate(self.words).astype("<u4") if self.words else np.zeros(0, "<u4")

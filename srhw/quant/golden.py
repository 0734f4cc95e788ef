"""The integer golden model: runs an IntGraph on uint8 images with numpy int64 arithmetic only.

Every op, as HLS and RTL must implement it (rshift_round = round half up, srhw.quant.fixedpoint):
    conv       acc = sum W*x + B (zero padding);  y = clamp(rshift_round(acc * M[c], SH[c]), out_lo, out_hi)
               (out_lo = 0 fuses ReLU, out_hi = round(6/s) fuses ReLU6)
    sp_conv    accb = ternary WB * x;  h = accb * A[j]  (the layer's only r multiplies);
               acc = ternary WC * h + B;  y = clamp(rshift_round(acc, SH), out_lo, out_hi)   (StrassenNets)
    add        y = clamp(rshift_round(a*MA + b*MB, SH))        (both operands at a common scale)
    act        y = clamp(x, out_lo, out_hi)
    ca         p = round_div(sum_hw x, H*W);  h = relu-clamp(rq(W1 p + B1));  z = clamp(rq(W2 h + B2)) (int8);
               a = LUT[z - z_lo] (sigmoid, 2^-8 steps);  y = clamp(rshift_round(x * a * MY, SHY))
    pixel_shuffle / channel_shuffle / slice / concat / interleave: data movement (torch semantics)
The MeanShift layers are ordinary 1x1 convs here (identity weights, bias -+mean): folding them into the
head/tail conv would change the zero padding at the border, so they stay as integer ops.
`check=True` raises if an accumulator leaves the range srhw.quant.bounds declared for it.
"""

import numpy as np

from srhw.quant.fixedpoint import rshift_round, round_div
from srhw.quant.graph import IntGraph


class AccumulatorOverflow(AssertionError):
    pass


def conv2d_int(x: np.ndarray, w: np.ndarray, b=None, padding=(0, 0), groups=1) -> np.ndarray:
    """Integer conv, stride 1: x (B, C, H, W), w (co, C/g, kh, kw) -> (B, co, H', W') in int64."""
    x = x.astype(np.int64)
    w = w.astype(np.int64)
    bsz, c, hgt, wid = x.shape
    co, cig, kh, kw = w.shape
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = hgt + 2 * ph - kh + 1, wid + 2 * pw - kw + 1
    xg = xp.reshape(bsz, groups, cig, hgt + 2 * ph, wid + 2 * pw)
    wg = w.reshape(groups, co // groups, cig, kh, kw)
    out = np.zeros((bsz, groups, co // groups, ho, wo), dtype=np.int64)
    for dy in range(kh):
        for dx in range(kw):
            tap = xg[:, :, :, dy : dy + ho, dx : dx + wo]  # (B, g, cig, ho, wo)
            out += np.einsum("goc,bgchw->bgohw", wg[:, :, :, dy, dx], tap)
    out = out.reshape(bsz, co, ho, wo)
    if b is not None:
        out += np.asarray(b, dtype=np.int64).reshape(1, -1, 1, 1)
    return out


def data_move(op, attrs, xs):
    x = xs[0]
    if op == "pixel_shuffle":
        r = attrs["r"]
        b, c, h, w = x.shape
        return x.reshape(b, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(b, c // (r * r), h * r, w * r)
    if op == "channel_shuffle":
        b, c, h, w = x.shape
        g = attrs["groups"]
        return x.reshape(b, g, c // g, h, w).transpose(0, 2, 1, 3, 4).reshape(b, c, h, w)
    if op == "slice":
        return np.array_split(x, attrs["chunks"], axis=1)[attrs["index"]]
    if op == "concat":
        return np.concatenate(xs, axis=1)
    if op == "interleave":
        s = np.stack(xs, axis=2)
        return s.reshape(s.shape[0], -1, *s.shape[3:])
    raise KeyError(op)


class Golden:
    """Executor of an IntGraph. `observed[node][key] = (min, max)` of each accumulator after a run."""

    def __init__(self, graph: IntGraph, check: bool = True):
        self.g, self.check = graph, check
        self.observed = {}

    def _acc(self, n, key, v):
        lo, hi = int(v.min()), int(v.max())
        old = self.observed.setdefault(n.name, {}).get(key, (lo, hi))
        self.observed[n.name][key] = (min(lo, old[0]), max(hi, old[1]))
        if self.check and (lo < n.attrs[f"{key}_lo"] or hi > n.attrs[f"{key}_hi"]):
            raise AccumulatorOverflow(f"{n.name}.{key}: [{lo}, {hi}] outside declared "
                                      f"[{n.attrs[key + '_lo']}, {n.attrs[key + '_hi']}]")
        return v

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """uint8 image (B, 3, h, w) (or (h, w, 3)) -> uint8 SR image of the same layout."""
        hwc = image.ndim == 3
        x = image.transpose(2, 0, 1)[None] if hwc else image
        if x.dtype != np.uint8:
            raise TypeError("the golden model takes uint8 images")
        y = self.run_all(x)[self.g.output].astype(np.uint8)
        return y[0].transpose(1, 2, 0) if hwc else y

    def run_all(self, x: np.ndarray) -> dict:
        """Every tensor of the graph for one uint8 batch (B, 3, h, w): {"input": ..., node name: output}."""
        env = {"input": x.astype(np.int64)}
        for n in self.g.nodes:
            env[n.name] = self.run_node(n, [env[i] for i in n.inputs])
        return env

    def run_node(self, n, xs):
        g, a = self.g, n.attrs
        p = lambda r: g.param(n, r)  # noqa: E731
        if n.op == "conv":
            k = a["kernel"]
            acc = self._acc(n, "acc", conv2d_int(xs[0], p("W"), p("B"), tuple(a["padding"]), a["groups"]))
            assert k[0] % 2 == 1 and k[1] % 2 == 1, "'same' padding needs odd kernels"
            prod = self._acc(n, "prod", acc * p("M").reshape(1, -1, 1, 1))
            return np.clip(rshift_round(prod, p("SH").reshape(1, -1, 1, 1)), a["out_lo"], a["out_hi"])
        if n.op == "sp_conv":
            k = a["k"]
            accb = self._acc(n, "accb", conv2d_int(xs[0], p("WB"), None, (k // 2, k // 2), a["groups"]))
            h = self._acc(n, "h", accb * p("A").reshape(1, -1, 1, 1))
            acc = self._acc(n, "acc", conv2d_int(h, p("WC"), p("B"), (0, 0), a["groups"]))
            return np.clip(rshift_round(acc, a["SH"]), a["out_lo"], a["out_hi"])
        if n.op == "add":
            acc = self._acc(n, "acc", xs[0] * a["MA"] + xs[1] * a["MB"])
            out = g.tensors[n.name]
            return np.clip(rshift_round(acc, a["SH"]), out.lo, out.hi)
        if n.op == "act":
            return np.clip(xs[0], a["out_lo"], a["out_hi"])
        if n.op == "ca":
            return self._ca(n, xs[0])
        return data_move(n.op, a, xs)

    def _ca(self, n, x):
        g, a = self.g, n.attrs
        p = lambda r: g.param(n, r)  # noqa: E731
        hid, zs, out = g.tensors[a["hidden"]], g.tensors[a["z"]], g.tensors[n.name]
        cnt = x.shape[2] * x.shape[3]
        s = self._acc(n, "pool", x.sum((2, 3), keepdims=True))  # declared for up to MAX_POOL_PIXELS pixels
        pooled = round_div(s, cnt)
        acc1 = self._acc(n, "acc1", conv2d_int(pooled, p("W1"), p("B1")))
        h = np.clip(rshift_round(acc1 * p("M1").reshape(1, -1, 1, 1), p("SH1").reshape(1, -1, 1, 1)), max(hid.lo, 0), hid.hi)
        acc2 = self._acc(n, "acc2", conv2d_int(h, p("W2"), p("B2")))
        z = np.clip(rshift_round(acc2 * p("M2").reshape(1, -1, 1, 1), p("SH2").reshape(1, -1, 1, 1)), zs.lo, zs.hi)
        att = p("LUT")[z - zs.lo]  # (B, C, 1, 1) sigmoid codes
        prod = self._acc(n, "prod", x * att)
        return np.clip(rshift_round(prod * a["MY"], a["SHY"]), out.lo, out.hi)


def run_golden(graph: IntGraph, image: np.ndarray, check: bool = True) -> np.ndarray:
    return Golden(graph, check)(image)

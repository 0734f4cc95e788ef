"""A fast executor of an IntGraph: the golden model's integer arithmetic with float64 torch convs.

Every value and partial sum of our graphs stays below 2^53 (bounds.py declares at most ~2^47 for a
product acc * M), so float64 convolution, multiply, floor-based rounding shift and clamp are exact;
tests/test_golden_exact.py checks equality with the numpy int64 golden model. Use it for full images.
"""

import numpy as np
import torch
import torch.nn.functional as F

from srhw.quant.graph import IntGraph

F64 = torch.float64


def _t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def _rq(v, m, sh, lo, hi):
    m, sh = torch.as_tensor(m, dtype=F64), torch.as_tensor(sh, dtype=F64)
    if m.dim():
        m, sh = m.view(1, -1, 1, 1), sh.view(1, -1, 1, 1)
    half = torch.where(sh > 0, torch.pow(2.0, sh - 1), torch.zeros_like(sh))
    return torch.floor((v * m + half) / torch.pow(2.0, sh)).clamp(lo, hi)


class TorchGolden:
    def __init__(self, graph: IntGraph):
        self.g = graph
        self.p = {k: _t(v) for k, v in graph.arrays.items()}

    @torch.no_grad()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        hwc = image.ndim == 3
        x = image.transpose(2, 0, 1)[None] if hwc else image
        env = {"input": _t(x)}
        for n in self.g.nodes:
            env[n.name] = self._node(n, [env[i] for i in n.inputs])
        y = env[self.g.output].numpy().astype(np.uint8)
        return y[0].transpose(1, 2, 0) if hwc else y

    def _node(self, n, xs):
        from srhw.quant.trace import apply_data_move

        a, p = n.attrs, (lambda r: self.p[n.params[r]])
        if n.op == "conv":
            acc = F.conv2d(xs[0], p("W"), p("B"), padding=tuple(a["padding"]), groups=a["groups"])
            return _rq(acc, p("M"), p("SH"), a["out_lo"], a["out_hi"])
        if n.op == "sp_conv":
            h = F.conv2d(xs[0], p("WB"), padding=a["k"] // 2, groups=a["groups"]) * p("A").view(1, -1, 1, 1)
            return _rq(F.conv2d(h, p("WC"), p("B"), groups=a["groups"]), 1, a["SH"], a["out_lo"], a["out_hi"])
        if n.op == "add":
            t = self.g.tensors[n.name]
            return _rq(xs[0] * a["MA"] + xs[1] * a["MB"], 1, a["SH"], t.lo, t.hi)
        if n.op == "act":
            return xs[0].clamp(a["out_lo"], a["out_hi"])
        if n.op == "ca":
            x = xs[0]
            hid, zs, out = self.g.tensors[a["hidden"]], self.g.tensors[a["z"]], self.g.tensors[n.name]
            cnt = x.shape[2] * x.shape[3]
            pooled = torch.floor((2 * x.sum((2, 3), keepdim=True) + cnt) / (2 * cnt))
            h = _rq(F.conv2d(pooled, p("W1"), p("B1")), p("M1"), p("SH1"), max(hid.lo, 0), hid.hi)
            z = _rq(F.conv2d(h, p("W2"), p("B2")), p("M2"), p("SH2"), zs.lo, zs.hi)
            att = p("LUT")[(z - zs.lo).long()]
            return _rq(x * att, a["MY"], a["SHY"], out.lo, out.hi)
        return apply_data_move(n.op, a, xs)

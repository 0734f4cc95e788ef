"""The fake-quant network: a torch module whose forward *is* the golden integer arithmetic, trainable (QAT).

Built from a float zoo model, its traced graph and calibrated TensorSpecs. Activations are integer codes
held in float64 tensors (every value and partial sum stays below 2^53, so F.conv2d is exact); each op
computes its exact integer result and, for the backward pass only, a real-valued surrogate:

    ste(surrogate, exact) = surrogate - surrogate.detach() + exact     # forward: exact, bit for bit

(the straight-through estimator of Bengio et al. 2013 as used for QAT by Jacob et al. 2017). Weights stay
float and trainable; their per-channel scales, the activation scales and hence every multiplier and
shift are fixed at calibration. `export()` writes the same integers into an IntGraph for the numpy
golden model (srhw.quant.golden), which must agree exactly (tests/test_golden_exact.py).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from srhw.quant.bounds import annotate_bounds
from srhw.quant.calibrate import weight_scales
from srhw.quant.config import QuantConfig
from srhw.quant.fixedpoint import add_multipliers, multiplier, qrange, sigmoid_lut
from srhw.quant.graph import IntGraph, QNode, TensorSpec
from srhw.quant.trace import FloatGraph, apply_data_move

F64 = torch.float64


def ste(surrogate, exact):
    """Forward value `exact` (exactly: x - x == 0), gradient of `surrogate`."""
    return surrogate - surrogate.detach() + exact


def ste_round(v):
    return ste(v, torch.floor(v.detach() + 0.5))


def requant(acc, m, sh, lo, hi):
    """clamp(rshift_round(acc * m, sh), lo, hi) exactly in float64; gradient of clamp(acc * m / 2^sh)."""
    m, sh = torch.as_tensor(m, dtype=F64), torch.as_tensor(sh, dtype=F64)
    if m.dim():  # per channel
        m, sh = m.view(1, -1, 1, 1), sh.view(1, -1, 1, 1)
    half = torch.where(sh > 0, torch.pow(2.0, sh - 1), torch.zeros_like(sh))
    with torch.no_grad():
        exact = torch.floor((acc * m + half) / torch.pow(2.0, sh)).clamp(lo, hi)
    return ste((acc * (m / torch.pow(2.0, sh))).clamp(lo, hi), exact)


def out_range(spec: TensorSpec, act):
    lo, hi = spec.lo, spec.hi
    if act in ("relu", "relu6"):
        lo = max(lo, 0)
    if act == "relu6":
        hi = min(hi, math.floor(6.0 / spec.scale + 0.5))
    return lo, hi


class QuantNet(nn.Module):
    """Integer-exact, trainable twin of a zoo model. forward: image (B,3,h,w) in [0,255] -> uint8 codes (B,3,hs,ws).

    Args:
        model: the float zoo model (its parameters are trained by QAT; the module is shared, not copied).
        graph: srhw.quant.trace.trace(model).
        specs: srhw.quant.calibrate.choose_specs(...).
        cfg: QuantConfig.
    """

    def __init__(self, model: nn.Module, graph: FloatGraph, specs: dict, cfg: QuantConfig | None = None):
        super().__init__()
        self.model, self.graph, self.specs, self.cfg = model, graph, specs, cfg or QuantConfig()
        self.wscale = {}  # module path -> per-channel weight scale (fixed)
        self.sp_shift = {}  # sp_conv module path -> SH (fixed)
        for n in graph.nodes:
            if n.op == "conv":
                self.wscale.setdefault(n.module, weight_scales(model.get_submodule(n.module).weight, self.cfg.weight_bits))
            elif n.op == "ca":
                att = model.get_submodule(n.module).attention
                for i in (1, 3):
                    self.wscale.setdefault(f"{n.module}.attention.{i}", weight_scales(att[i].weight, self.cfg.weight_bits))
            elif n.op == "sp_conv" and n.module not in self.sp_shift:
                ratio = self._sp_ratio(n).detach().abs().max().item()
                amax = 2 ** (self.cfg.sp_scale_bits - 1) - 1
                self.sp_shift[n.module] = max(0, math.floor(math.log2(amax / ratio))) if ratio > 0 else 0

    # --- integer parameters (STE tensors; export() reads the same tensors) ---

    def _conv_params(self, conv: nn.Conv2d, path: str, s_in: float, s_out: float):
        sw = self.wscale[path]
        qmax = 2 ** (self.cfg.weight_bits - 1) - 1
        w = ste_round((conv.weight.to(F64) / sw.view(-1, 1, 1, 1)).clamp(-qmax, qmax))
        bmax = 2 ** (self.cfg.bias_bits - 1) - 1
        b = ste_round((conv.bias.to(F64) / (s_in * sw)).clamp(-bmax, bmax)) if conv.bias is not None else None
        ms = [multiplier(s_in * float(s) / s_out, self.cfg.mult_bits) for s in sw]
        m = torch.tensor([a for a, _ in ms], dtype=F64)
        sh = torch.tensor([b_ for _, b_ in ms], dtype=F64)
        return w, b, m, sh

    def _sp_ratio(self, n):
        sp = self.model.get_submodule(n.module)
        _, ab, _, ac = sp.ternary()
        a = sp.scale.to(F64) * ab.detach().view(-1).to(F64) * ac.detach().view(()).to(F64)  # folded a' (r,)
        return a * self.specs[n.inputs[0]].scale / self.specs[n.name].scale

    def _sp_params(self, n):
        sp = self.model.get_submodule(n.module)
        cb, ab, cc, ac = sp.ternary()
        wb = ste(sp.weight_b.to(F64) / ab.detach().to(F64), cb.detach().to(F64))  # codes; STE as TWN's
        wc = ste(sp.weight_c.to(F64) / ac.detach().to(F64), cc.detach().to(F64))
        sh = self.sp_shift[n.module]
        amax = 2 ** (self.cfg.sp_scale_bits - 1) - 1
        a = ste_round((self._sp_ratio(n) * 2.0 ** sh).clamp(-amax, amax))
        bmax = 2 ** (self.cfg.bias_bits - 1) - 1
        s_out = self.specs[n.name].scale
        b = ste_round((sp.bias.to(F64) / s_out * 2.0 ** sh).clamp(-bmax, bmax)) if sp.bias is not None else None
        return wb, a, wc, b, sh

    # --- forward ---

    def forward(self, x, observe=None):
        """`observe(name, codes)` sees every tensor's integer codes (as run_float's observer sees floats)."""
        env = {"input": torch.floor(x.to(F64) + 0.5).clamp(0, 255)}  # the uint8 image
        for n in self.graph.nodes[1:]:
            env[n.name] = self._run(n, [env[i] for i in n.inputs])
            if observe:
                observe(n.name, env[n.name])
        return env[self.graph.output]

    def _run(self, n, xs):
        spec = self.specs[n.name]
        if n.op == "conv":
            conv = self.model.get_submodule(n.module)
            w, b, m, sh = self._conv_params(conv, n.module, self.specs[n.inputs[0]].scale, spec.scale)
            acc = F.conv2d(xs[0], w, b, padding=tuple(n.attrs["padding"]), groups=n.attrs["groups"])
            return requant(acc, m, sh, *out_range(spec, n.attrs.get("act")))
        if n.op == "sp_conv":
            wb, a, wc, b, sh = self._sp_params(n)
            g = n.attrs["groups"]
            h = F.conv2d(xs[0], wb, padding=n.attrs["k"] // 2, groups=g) * a.view(1, -1, 1, 1)  # the r multiplies
            acc = F.conv2d(h, wc, b, groups=g)
            return requant(acc, 1, sh, *out_range(spec, n.attrs.get("act")))
        if n.op == "ca":
            return self._ca(n, xs[0])
        if n.op == "add":
            sa, sb = self.specs[n.inputs[0]].scale, self.specs[n.inputs[1]].scale
            ma, mb, sh = add_multipliers(sa, sb, spec.scale, self.cfg.mult_bits)
            return requant(xs[0] * ma + xs[1] * mb, 1, sh, spec.lo, spec.hi)
        if n.op == "act":
            return xs[0].clamp(*out_range(spec, n.attrs["act"]))
        return apply_data_move(n.op, n.attrs, xs)

    def _ca_params(self, n):
        att = self.model.get_submodule(n.module).attention
        s_x = self.specs[n.inputs[0]].scale
        hid, z = self.specs[n.name + "/hidden"], self.specs[n.name + "/z"]
        p1 = self._conv_params(att[1], f"{n.module}.attention.1", s_x, hid.scale)
        p2 = self._conv_params(att[3], f"{n.module}.attention.3", hid.scale, z.scale)
        frac = self.cfg.lut_frac_bits
        my, shy = multiplier(s_x * 2.0 ** -frac / self.specs[n.name].scale, self.cfg.mult_bits)
        return p1, p2, (my, shy)

    def _ca(self, n, x):
        (w1, b1, m1, sh1), (w2, b2, m2, sh2), (my, shy) = self._ca_params(n)
        hid, zs, spec = self.specs[n.name + "/hidden"], self.specs[n.name + "/z"], self.specs[n.name]
        cnt = x.shape[2] * x.shape[3]
        s = x.sum((2, 3), keepdim=True)
        p = ste(s / cnt, torch.floor((2 * s.detach() + cnt) / (2 * cnt)))  # round_div(sum, H*W)
        h = requant(F.conv2d(p, w1, b1), m1, sh1, *out_range(hid, "relu"))
        z = requant(F.conv2d(h, w2, b2), m2, sh2, zs.lo, zs.hi)
        frac = self.cfg.lut_frac_bits
        lut = torch.from_numpy(sigmoid_lut(zs.scale, frac, zs.bits)).to(F64)
        a = ste(torch.sigmoid(z * zs.scale) * 2.0 ** frac, lut[(z.detach() - zs.lo).long()])
        return requant(x * a, my, shy, spec.lo, spec.hi)

    # --- export ---

    @torch.no_grad()
    def export(self, meta: dict | None = None) -> IntGraph:
        """The integer graph of the current weights (what the golden model, HLS and RTL consume)."""
        arrays, nodes = {}, []

        def put(key, t, dtype):
            a = np.asarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t).round().astype(dtype)
            if key in arrays and not np.array_equal(arrays[key], a):
                raise AssertionError(f"shared parameter {key} differs between runs")
            arrays[key] = a
            return key

        for n in self.graph.nodes[1:]:
            spec = self.specs[n.name]
            attrs, params = dict(n.attrs), {}
            if n.op == "conv":
                conv = self.model.get_submodule(n.module)
                w, b, m, sh = self._conv_params(conv, n.module, self.specs[n.inputs[0]].scale, spec.scale)
                b = b if b is not None else torch.zeros(w.shape[0])
                params = {r: put(f"{n.module}/{r}", t, d) for r, t, d in
                          (("W", w, np.int8), ("B", b, np.int64), ("M", m, np.int64), ("SH", sh, np.int64))}
                attrs["out_lo"], attrs["out_hi"] = out_range(spec, n.attrs.get("act"))
            elif n.op == "sp_conv":
                wb, a, wc, b, sh = self._sp_params(n)
                b = b if b is not None else torch.zeros(wc.shape[0])
                params = {r: put(f"{n.module}/{r}", t, d) for r, t, d in
                          (("WB", wb, np.int8), ("A", a, np.int64), ("WC", wc, np.int8), ("B", b, np.int64))}
                attrs["SH"] = int(sh)
                attrs["out_lo"], attrs["out_hi"] = out_range(spec, n.attrs.get("act"))
            elif n.op == "ca":
                (w1, b1, m1, sh1), (w2, b2, m2, sh2), (my, shy) = self._ca_params(n)
                zs = self.specs[n.name + "/z"]
                for r, t, d in (("W1", w1, np.int8), ("B1", b1, np.int64), ("M1", m1, np.int64), ("SH1", sh1, np.int64),
                                ("W2", w2, np.int8), ("B2", b2, np.int64), ("M2", m2, np.int64), ("SH2", sh2, np.int64)):
                    params[r] = put(f"{n.module}/{r}", t, d)
                params["LUT"] = put(f"{n.module}/LUT", sigmoid_lut(zs.scale, self.cfg.lut_frac_bits, zs.bits), np.int64)
                attrs.update(MY=my, SHY=shy, lut_frac_bits=self.cfg.lut_frac_bits,
                             hidden=n.name + "/hidden", z=n.name + "/z")
            elif n.op == "add":
                sa, sb = self.specs[n.inputs[0]].scale, self.specs[n.inputs[1]].scale
                attrs["MA"], attrs["MB"], attrs["SH"] = add_multipliers(sa, sb, spec.scale, self.cfg.mult_bits)
            elif n.op == "act":
                attrs["out_lo"], attrs["out_hi"] = out_range(spec, n.attrs["act"])
            if n.module is not None:
                attrs["module"] = n.module
            nodes.append(QNode(n.name, n.op, list(n.inputs), attrs, params))
        used = {"input"} | {n.name for n in self.graph.nodes} | {t for n in nodes for t in (n.attrs.get("hidden"), n.attrs.get("z")) if t}
        tensors = {k: v for k, v in self.specs.items() if k in used}
        g = IntGraph(nodes, tensors, arrays, self.graph.output, dict(meta or {}))
        annotate_bounds(g)
        return g

"""Post-training calibration: activation ranges -> one TensorSpec per tensor.

Ranges are the maximum |x| seen on calibration images (TFLite's min/max observer, symmetric). Tensors
that must share one scale are tied first (union-find), so data movement never requantizes:
  * every data-movement op (pixel/channel shuffle, slice, concat, interleave) and a standalone ReLU
    ties its output to its inputs (concat of differently scaled inputs would otherwise need a rescale);
  * the runs of a module invoked several times (ERUM's recursion) tie their inputs and their outputs,
    so the recursion reuses one set of integer weights, biases and multipliers, as hardware would.
Fixed specs: the input image is uint8 at scale 1, the output image is uint8 at scale 1 (the rounding and
clamping of `srhw eval`). Tensors in the mean-shifted image domain get `image_bits`.
"""

import torch

from srhw.core.errors import SrhwError
from srhw.quant.config import QuantConfig
from srhw.quant.fixedpoint import pow2_scale, qrange
from srhw.quant.graph import TensorSpec
from srhw.quant.trace import DATA_MOVES, FloatGraph, run_float

IMAGE = TensorSpec(8, False, 1.0)  # uint8 RGB in and out


class _Ties:
    def __init__(self):
        self.parent = {}

    def find(self, a):
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)


@torch.no_grad()
def collect_ranges(graph: FloatGraph, model, batches) -> dict:
    """max |x| of every tensor (and CA's hidden / pre-sigmoid tensors) over `batches` of LR images."""
    ranges = {}

    def observe(name, t):
        ranges[name] = max(ranges.get(name, 0.0), float(t.abs().max()))

    model.eval()
    for x in batches:
        run_float(graph, model, x.float(), observe)
    return ranges


def nonnegative(graph: FloatGraph) -> set:
    """Tensors that are >= 0 by construction (after ReLU, the input image, data moves of such tensors)."""
    out = {"input"}
    for n in graph.nodes[1:]:
        if n.op in ("conv", "sp_conv", "act") and n.attrs.get("act"):
            out.add(n.name)
        elif n.op in DATA_MOVES and all(i in out for i in n.inputs):
            out.add(n.name)
    return out


def image_tensors(graph: FloatGraph) -> set:
    """The mean-shifted image tensors: sub_mean's output and add_mean's input."""
    out = set()
    for n in graph.nodes[1:]:
        if n.attrs.get("meanshift"):
            if n.inputs[0] == "input":
                out.add(n.name)
            if n.name == graph.output:
                out.add(n.inputs[0])
    return out


def choose_specs(graph: FloatGraph, ranges: dict, cfg: QuantConfig) -> dict:
    """TensorSpec of every tensor (plus `<ca>/hidden`, `<ca>/z`) from calibrated ranges and the ties."""
    ties = _Ties()
    runs = {}
    for n in graph.nodes:
        ties.find(n.name)
        if n.op in DATA_MOVES or n.op == "act":
            for i in n.inputs:
                ties.union(i, n.name)
        if n.module is not None:
            runs.setdefault(n.module, []).append(n)
    for calls in runs.values():
        for other in calls[1:]:
            ties.union(other.inputs[0], calls[0].inputs[0])
            ties.union(other.name, calls[0].name)
            if other.op == "ca":
                for part in ("/hidden", "/z"):
                    ties.union(other.name + part, calls[0].name + part)
    names = [n.name for n in graph.nodes] + [n.name + p for n in graph.nodes if n.op == "ca" for p in ("/hidden", "/z")]
    classes = {}
    for name in names:
        classes.setdefault(ties.find(name), []).append(name)
    nonneg, image = nonnegative(graph), image_tensors(graph)
    nonneg |= {n.name + "/hidden" for n in graph.nodes if n.op == "ca"}
    specs = {}
    for members in classes.values():
        fixed = [m for m in members if m in ("input", graph.output)]
        if len(fixed) > 1:
            raise SrhwError("input and output image tensors are tied: cannot quantize this graph")
        if fixed:
            spec = IMAGE
        else:
            bits = cfg.image_bits if any(m in image for m in members) else cfg.act_bits
            signed = not all(m in nonneg for m in members)
            qmax = qrange(bits, signed)[1]
            amax = max(ranges.get(m, 0.0) for m in members)
            scale = pow2_scale(amax, qmax) if cfg.pow2_scales else max(amax, 1e-8) / qmax
            spec = TensorSpec(bits, signed, scale)
        for m in members:
            specs[m] = spec
    return specs


def weight_scales(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Per-output-channel symmetric scale max|w| / (2^(b-1) - 1) (1 where a channel is all zero)."""
    qmax = 2 ** (bits - 1) - 1
    m = w.detach().abs().flatten(1).max(1).values.double()
    return torch.where(m > 0, m / qmax, torch.ones_like(m))

"""Trace a zoo model (torch.fx) into a flat list of the few ops our networks are made of.

Ops (the vocabulary the golden model, the fake-quant model and the HLS/RTL lowerings share):
    input            the uint8 RGB image
    conv             nn.Conv2d / MeanShift (any kernel, groups, 'same' padding); `act` fuses a following ReLU/ReLU6
    sp_conv          StrassenNets SumProductConv2d (ternary W_b, r scales, ternary W_c, bias); `act` as conv
    act              a ReLU/ReLU6 that cannot be fused (e.g. after a channel shuffle): a clamp, same scale
    ca               RCAN channel attention (pool, 1x1, ReLU, 1x1, sigmoid, rescale) as one op
    add              residual add
    pixel_shuffle    nn.PixelShuffle(r)
    channel_shuffle  ShuffleNet shuffle(g)
    slice            one chunk of x.chunk(n, dim=1)
    concat           torch.cat(dim=1)
    interleave       ERUM's torch.stack(dim=2).flatten(1, 2): input k becomes channel phase k
ERUM's recursion appears unrolled: several nodes name the same `module` (shared weights).
"""

import operator
from dataclasses import dataclass, field

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from srhw.core.errors import SrhwError
from srhw.models.common import ChannelShuffle, MeanShift
from srhw.models.rcan import ChannelAttention
from srhw.models.sum_product import SumProductConv2d

LEAVES = (nn.Conv2d, SumProductConv2d, ChannelAttention, ChannelShuffle, nn.PixelShuffle, nn.ReLU, nn.ReLU6)
DATA_MOVES = ("pixel_shuffle", "channel_shuffle", "slice", "concat", "interleave")


@dataclass
class FNode:
    """One op of the traced network; `name` is also the name of its output tensor."""

    name: str
    op: str
    inputs: list = field(default_factory=list)
    module: str | None = None  # path of the nn.Module holding the weights (shared by ERUM's recursion)
    attrs: dict = field(default_factory=dict)


@dataclass
class FloatGraph:
    nodes: list  # FNode in execution order; nodes[0] is the input
    output: str

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def users(self, name):
        return [n for n in self.nodes if name in n.inputs]


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, LEAVES)


def trace(model: nn.Module) -> FloatGraph:
    """fx-trace `model` and translate it to FNodes; an op outside the vocabulary raises SrhwError."""
    g = _Tracer().trace(model)
    nodes, alias, pending = [], {}, {}
    users = {n: len(n.users) for n in g.nodes}
    by_name = {}

    def name_of(a):
        return alias[a]

    def add(node, fxn):
        nodes.append(node)
        by_name[node.name] = node
        alias[fxn] = node.name

    output = None
    for n in g.nodes:
        if n.op == "placeholder":
            add(FNode("input", "input"), n)
        elif n.op == "call_module":
            m = model.get_submodule(n.target)
            src = [name_of(a) for a in n.args]
            if isinstance(m, (nn.ReLU, nn.ReLU6)):
                prod = by_name[src[0]]
                prod_fx = n.args[0]
                act = "relu6" if isinstance(m, nn.ReLU6) else "relu"
                if prod.op in ("conv", "sp_conv") and not prod.attrs.get("act") and users[prod_fx] == 1:
                    prod.attrs["act"] = act  # fused: the conv's requantization clamps at 0 (and 6)
                    alias[n] = prod.name
                else:
                    add(FNode(n.name, "act", src, None, {"act": act}), n)
            elif isinstance(m, SumProductConv2d):
                add(FNode(n.name, "sp_conv", src, n.target, {"groups": m.groups, "k": m.kernel_size}), n)
            elif isinstance(m, nn.Conv2d):
                if m.stride != (1, 1) or m.dilation != (1, 1):
                    raise SrhwError(f"{n.target}: only stride-1, undilated convs are supported")
                attrs = {"groups": m.groups, "padding": list(m.padding), "kernel": list(m.kernel_size)}
                if isinstance(m, MeanShift):
                    attrs["meanshift"] = True
                add(FNode(n.name, "conv", src, n.target, attrs), n)
            elif isinstance(m, ChannelAttention):
                add(FNode(n.name, "ca", src, n.target), n)
            elif isinstance(m, ChannelShuffle):
                add(FNode(n.name, "channel_shuffle", src, None, {"groups": m.groups}), n)
            elif isinstance(m, nn.PixelShuffle):
                add(FNode(n.name, "pixel_shuffle", src, None, {"r": m.upscale_factor}), n)
        elif n.op == "call_function" and n.target in (operator.add, torch.add):
            add(FNode(n.name, "add", [name_of(a) for a in n.args]), n)
        elif n.op == "call_method" and n.target == "chunk":
            dim = n.kwargs.get("dim", n.args[2] if len(n.args) > 2 else 0)
            if dim != 1:
                raise SrhwError(f"{n.name}: only channel chunks are supported")
            pending[n] = (name_of(n.args[0]), n.args[1])
        elif n.op == "call_function" and n.target is operator.getitem and n.args[0] in pending:
            src, chunks = pending[n.args[0]]
            add(FNode(n.name, "slice", [src], None, {"chunks": chunks, "index": n.args[1]}), n)
        elif n.op == "call_function" and n.target is torch.cat:
            dim = n.kwargs.get("dim", n.args[1] if len(n.args) > 1 else 0)
            if dim != 1:
                raise SrhwError(f"{n.name}: only channel concatenation is supported")
            add(FNode(n.name, "concat", [name_of(a) for a in n.args[0]]), n)
        elif n.op == "call_function" and n.target is torch.stack:
            pending[n] = [name_of(a) for a in n.args[0]]
        elif n.op == "call_method" and n.target == "flatten" and n.args[0] in pending:
            add(FNode(n.name, "interleave", pending[n.args[0]]), n)
        elif n.op == "output":
            output = name_of(n.args[0])
        else:
            raise SrhwError(f"cannot quantize op {n.op} {n.target} ({n.name}): not in srhw.quant.trace's vocabulary")
    return FloatGraph(nodes, output)


# ---------------------------------------------------------------------------------------------------------
# float execution of the traced graph (calibration; also proves the trace equals the model)


def ca_parts(ca: ChannelAttention, x):
    """(pooled, hidden after ReLU, pre-sigmoid z, output) of RCAN's channel attention, in float."""
    _, c1, _, c2, _ = ca.attention
    p = x.mean((2, 3), keepdim=True)
    h = F.relu(c1(p))
    z = c2(h)
    return p, h, z, x * torch.sigmoid(z)


def apply_data_move(op, attrs, xs):
    """The data-movement ops, for any tensor library with torch-like semantics (torch here)."""
    x = xs[0]
    if op == "pixel_shuffle":
        return F.pixel_shuffle(x, attrs["r"])
    if op == "channel_shuffle":
        b, c, h, w = x.shape
        g = attrs["groups"]
        return x.reshape(b, g, c // g, h, w).transpose(1, 2).reshape(b, c, h, w)
    if op == "slice":
        return x.chunk(attrs["chunks"], dim=1)[attrs["index"]]
    if op == "concat":
        return torch.cat(xs, dim=1)
    if op == "interleave":
        return torch.stack(xs, dim=2).flatten(1, 2)
    raise KeyError(op)


def run_float(graph: FloatGraph, model: nn.Module, x, observe=None):
    """Run the traced graph in float; `observe(name, tensor)` sees every tensor (CA parts as name/pool etc.)."""
    env = {"input": x}
    for n in graph.nodes[1:]:
        xs = [env[i] for i in n.inputs]
        if n.op in ("conv", "sp_conv"):
            y = model.get_submodule(n.module)(xs[0])
            act = n.attrs.get("act")
            y = F.relu(y) if act == "relu" else F.relu6(y) if act == "relu6" else y
        elif n.op == "ca":
            p, h, z, y = ca_parts(model.get_submodule(n.module), xs[0])
            if observe:
                observe(n.name + "/hidden", h)
                observe(n.name + "/z", z)
        elif n.op == "add":
            y = xs[0] + xs[1]
        elif n.op == "act":
            y = F.relu(xs[0]) if n.attrs["act"] == "relu" else F.relu6(xs[0])
        else:
            y = apply_data_move(n.op, n.attrs, xs)
        env[n.name] = y
        if observe:
            observe(n.name, y)
    return env[graph.output]

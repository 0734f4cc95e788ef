"""Network compiler: an integer golden graph (srhw.quant.graph.IntGraph) -> one streaming Amaranth top.

Every node becomes one stage (rtl.stream.conv / pointwise / shuffle), every tensor one valid/ready
stream between them; a tensor with several consumers goes through a `Fork`, and every fork branch that
does not enter a conv gets a `SkipFifo` deep enough for what the other branches can hold (a residual's
skip path). `plan_graph` checks the graph and works out shapes, ports and buffer sizes without building
hardware, so bad input fails before anything is written: one `SrhwError` naming the node and the limit.

Supported ops: conv (KxK, K odd, stride 1, 'same' zero padding, groups 1), act, add, concat (channels),
pixel_shuffle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from srhw.core.errors import SrhwError
from srhw.quant.graph import IntGraph

from rtl.stream.conv import Port

SUPPORTED = ("conv", "act", "add", "concat", "pixel_shuffle")
MAX_LINE_BITS = 2 * 1024 * 1024  # line-buffer + skip + shuffle bits the compiler accepts (a xc7z020 has 4.9 Mbit)


@dataclass
class StagePlan:
    name: str
    op: str
    inputs: list
    port: Port  # output stream
    height: int  # output frame
    width: int
    in_height: int = 0
    in_width: int = 0
    fold: tuple = (1, 1)
    attrs: dict = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.attrs["kernel"][0]) if self.op == "conv" else 1

    def line_bits(self, inp: Port) -> int:
        """Bits of the stage's line buffers (conv: K-1 lines of W+p words; shuffle: two LR rows)."""
        if self.op == "conv":
            return (self.k - 1) * (self.in_width + self.k // 2) * inp.width
        if self.op == "pixel_shuffle":
            return 2 * self.in_width * inp.width
        return 0

    def holds(self) -> int:
        """Upper bound of the input words the stage can hold without producing them (skip-FIFO sizing)."""
        if self.op == "conv":
            p = self.k // 2
            return p * (self.in_width + p) + p + 32
        if self.op == "pixel_shuffle":
            return 2 * self.in_width + 8
        return 8


@dataclass
class GraphPlan:
    stages: list
    inp: Port
    out: Port
    height: int  # input frame
    width: int
    out_height: int
    out_width: int
    output: str
    consumers: dict
    skip_depth: dict  # (producer, consumer) -> FIFO depth

    def stage(self, name) -> StagePlan:
        return next(s for s in self.stages if s.name == name)

    def port_of(self, name) -> Port:
        return self.inp if name == "input" else self.stage(name).port

    @property
    def buffer_bits(self) -> int:
        bits = sum(s.line_bits(self.port_of(s.inputs[0])) for s in self.stages)
        return bits + sum(d * self.port_of(p).width for (p, _), d in self.skip_depth.items())


def port_of_spec(spec, channels: int) -> Port:
    return Port(channels, int(spec.bits), bool(spec.signed))


def plan_graph(g: IntGraph, width: int, height: int, folds: dict | None = None) -> GraphPlan:
    """Shapes and ports of every stage for a `width` x `height` input frame; SrhwError on what cannot be built."""
    folds = folds or {}
    if width < 1 or height < 1:
        raise SrhwError(f"frame size {width}x{height}: must be at least 1x1")
    if "input" not in g.tensors:
        raise SrhwError("graph: no 'input' tensor")
    shapes = {}  # name -> (C, H, W)
    c_in = _input_channels(g)
    shapes["input"] = (c_in, height, width)
    inp = port_of_spec(g.tensors["input"], c_in)
    stages = []
    for n in g.nodes:
        if n.op not in SUPPORTED:
            raise SrhwError(f"layer {n.name}: op '{n.op}' has no streaming RTL (supported: {', '.join(SUPPORTED)})")
        for i in n.inputs:
            if i not in shapes:
                raise SrhwError(f"layer {n.name}: input {i} is not produced before it")
        c, h, w = shapes[n.inputs[0]]
        spec = g.tensors[n.name]
        a = n.attrs
        if n.op == "conv":
            W = g.param(n, "W")
            co, ci, kh, kw = W.shape
            if kh != kw or kh % 2 == 0:
                raise SrhwError(f"layer {n.name}: kernel {kh}x{kw}: only square odd kernels stream")
            if list(a.get("padding", [kh // 2] * 2)) != [kh // 2, kw // 2]:
                raise SrhwError(f"layer {n.name}: padding {a.get('padding')}: only 'same' zero padding ({kh // 2}) streams")
            if int(a.get("groups", 1)) != 1:
                raise SrhwError(f"layer {n.name}: groups={a.get('groups')}: only groups=1 streams")
            if int(a.get("stride", 1)) != 1:
                raise SrhwError(f"layer {n.name}: stride {a.get('stride')}: only stride 1 streams")
            if ci != c:
                raise SrhwError(f"layer {n.name}: {ci} input channels, its input has {c}")
            if W.min() < -128 or W.max() > 127:
                raise SrhwError(f"layer {n.name}: weights outside int8")
            shapes[n.name] = (co, h, w)
        elif n.op == "act":
            shapes[n.name] = (c, h, w)
        elif n.op == "add":
            if len(n.inputs) != 2 or shapes[n.inputs[1]] != (c, h, w):
                raise SrhwError(f"layer {n.name}: add of shapes {[shapes[i] for i in n.inputs]}")
            shapes[n.name] = (c, h, w)
        elif n.op == "concat":
            if any(shapes[i][1:] != (h, w) for i in n.inputs):
                raise SrhwError(f"layer {n.name}: concat of shapes {[shapes[i] for i in n.inputs]}")
            bits = {(g.tensors[i].bits, g.tensors[i].signed) for i in n.inputs}
            if len(bits) != 1 or (spec.bits, spec.signed) not in bits:
                raise SrhwError(f"layer {n.name}: concat of differently typed tensors")
            shapes[n.name] = (sum(shapes[i][0] for i in n.inputs), h, w)
        elif n.op == "pixel_shuffle":
            r = int(a["r"])
            if c % (r * r):
                raise SrhwError(f"layer {n.name}: pixel_shuffle r={r} of {c} channels")
            shapes[n.name] = (c // (r * r), h * r, w * r)
        co, ho, wo = shapes[n.name]
        st = StagePlan(n.name, n.op, list(n.inputs), port_of_spec(spec, co), ho, wo, h, w, attrs=dict(a))
        if n.op == "conv":
            st.fold = tuple(folds.get(n.name, (1, 1)))
        stages.append(st)
    if g.output not in shapes or g.output == "input":
        raise SrhwError(f"graph output {g.output} is not a node")
    consumers = {}
    for s in stages:
        for i in dict.fromkeys(s.inputs):  # a tensor listed twice by one node is one stream
            consumers.setdefault(i, []).append(s.name)
    dead = [s.name for s in stages if s.name != g.output and s.name not in consumers]
    if dead:
        raise SrhwError(f"layer {dead[0]}: its output is never used (the stream would stall)")
    plan = GraphPlan(stages, inp, port_of_spec(g.tensors[g.output], shapes[g.output][0]), height, width,
                     shapes[g.output][1], shapes[g.output][2], g.output, consumers, {})
    order = ["input"] + [s.name for s in stages]
    for prod, cons in consumers.items():
        if len(cons) < 2:
            continue
        for c in cons:
            if plan.stage(c).op == "conv":
                continue
            # every stage between the producer and this consumer may hold words the skip must keep
            lo, hi = order.index(prod), order.index(c)
            hold = sum(plan.stage(order[k]).holds() for k in range(lo + 1, hi))
            plan.skip_depth[(prod, c)] = 1 << max(4, (hold + 16 - 1).bit_length())
    for s in stages:
        if s.op == "conv":
            bits = s.line_bits(plan.port_of(s.inputs[0]))
            if bits > MAX_LINE_BITS:
                raise SrhwError(f"layer {s.name}: line buffers of {bits} bits for a {s.in_width}-pixel line "
                                f"exceed the {MAX_LINE_BITS}-bit limit")
    if plan.buffer_bits > MAX_LINE_BITS:
        raise SrhwError(f"frame width {width}: line, skip and shuffle buffers need {plan.buffer_bits} bits, "
                        f"more than the {MAX_LINE_BITS}-bit limit")
    return plan


def _input_channels(g: IntGraph) -> int:
    for n in g.nodes:
        if "input" in n.inputs and n.op == "conv":
            return int(g.param(n, "W").shape[1])
    return int(g.meta.get("in_channels", 3))

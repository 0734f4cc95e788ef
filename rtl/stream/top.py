"""The AXI4-Stream video top: the compiled stages between `s_axis_video_*` and `m_axis_video_*`.

Xilinx video conventions (UG934): one pixel per beat, tuser = start of frame (first pixel), tlast = end
of line (last pixel of each row). `aclk`, `aresetn` (synchronous, active low). The frame size is a
generation parameter; the input's tuser/tlast are accepted but not used to resynchronise (frames must
be complete, as a VDMA or test-pattern source gives them). The output's tuser/tlast are generated from
the HR frame size. Back-pressure (m_axis_video_tready low) stops the pipeline without losing or
repeating a pixel: every stage takes work only with room for its result downstream.
"""

from __future__ import annotations

from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from srhw.quant.graph import IntGraph

from rtl.stream.compiler import GraphPlan
from rtl.stream.conv import ConvLayer
from rtl.stream.fork import Fork, SkipFifo
from rtl.stream.pointwise import Act, Add, Concat
from rtl.stream.shuffle import PixelShuffle


class StreamTop(wiring.Component):
    def __init__(self, graph: IntGraph, plan: GraphPlan):
        self.graph, self.plan = graph, plan
        self.own_domain = True  # False inside a harness that drives the same `sync` domain
        super().__init__({
            "aclk": In(1), "aresetn": In(1),
            "s_axis_video_tdata": In(plan.inp.width), "s_axis_video_tvalid": In(1),
            "s_axis_video_tready": Out(1), "s_axis_video_tuser": In(1), "s_axis_video_tlast": In(1),
            "m_axis_video_tdata": Out(plan.out.width), "m_axis_video_tvalid": Out(1),
            "m_axis_video_tready": In(1), "m_axis_video_tuser": Out(1), "m_axis_video_tlast": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        if self.own_domain:
            m.domains.sync = cd = ClockDomain("sync")
            m.d.comb += [cd.clk.eq(self.aclk), cd.rst.eq(~self.aresetn)]
        g, plan = self.graph, self.plan
        nodes = {n.name: n for n in g.nodes}
        # producer name -> [(valid, ready, data)] one per consumer, in consumer order
        sources = {}

        def produce(name, valid, ready, data, width):
            cons = plan.consumers.get(name, [])
            if name == plan.output:
                cons = cons + ["<out>"]
            if len(cons) == 1:
                sources[name] = {cons[0]: (valid, ready, data)}
                return
            fk = Fork(width, len(cons))
            m.submodules[f"fork_{name}"] = fk
            m.d.comb += [fk.i_valid.eq(valid), ready.eq(fk.i_ready), fk.i_data.eq(data)]
            sources[name] = {}
            for k, c in enumerate(cons):
                v, r, d = fk.out(k)
                depth = plan.skip_depth.get((name, c))
                if depth:
                    sk = SkipFifo(width, depth)
                    m.submodules[f"skip_{name}_{c}"] = sk
                    m.d.comb += [sk.i_valid.eq(v), r.eq(sk.i_ready), sk.i_data.eq(d)]
                    v, r, d = sk.o_valid, sk.o_ready, sk.o_data
                sources[name][c] = (v, r, d)

        def take(name, consumer, valid, ready, data):
            v, r, d = sources[name][consumer]
            m.d.comb += [valid.eq(v), r.eq(ready), data.eq(d)]

        produce("input", self.s_axis_video_tvalid, self.s_axis_video_tready, self.s_axis_video_tdata, plan.inp.width)
        for st in plan.stages:
            n = nodes[st.name]
            ip = plan.port_of(st.inputs[0])
            if st.op == "conv":
                blk = ConvLayer(g.param(n, "W"), g.param(n, "B"), g.param(n, "M"), g.param(n, "SH"),
                                n.attrs["out_lo"], n.attrs["out_hi"], ip, st.port, st.in_width, st.in_height,
                                st.fold, name=st.name)
            elif st.op == "act":
                blk = Act(ip, st.port, n.attrs["out_lo"], n.attrs["out_hi"])
            elif st.op == "pixel_shuffle":
                blk = PixelShuffle(ip, int(n.attrs["r"]), st.in_width)
            elif st.op == "add":
                blk = Add(ip, plan.port_of(st.inputs[1]), st.port, n.attrs["MA"], n.attrs["MB"], n.attrs["SH"])
            elif st.op == "concat":
                distinct = list(dict.fromkeys(st.inputs))
                blk = Concat([plan.port_of(i) for i in distinct], [distinct.index(i) for i in st.inputs], st.port)
            else:  # plan_graph refused it already
                raise AssertionError(st.op)
            m.submodules[_ident(st.name)] = blk
            if st.op == "add":
                take(st.inputs[0], st.name, blk.a_valid, blk.a_ready, blk.a_data)
                take(st.inputs[1], st.name, blk.b_valid, blk.b_ready, blk.b_data)
            elif st.op == "concat":
                for k, i in enumerate(dict.fromkeys(st.inputs)):
                    take(i, st.name, *blk.inp(k))
            else:
                take(st.inputs[0], st.name, blk.i_valid, blk.i_ready, blk.i_data)
            produce(st.name, blk.o_valid, blk.o_ready, blk.o_data, st.port.width)

        # output: HR raster counters for tuser / tlast
        v, r, d = sources[plan.output]["<out>"]
        row = Signal(range(plan.out_height))
        col = Signal(range(plan.out_width))
        m.d.comb += [self.m_axis_video_tvalid.eq(v), self.m_axis_video_tdata.eq(d), r.eq(self.m_axis_video_tready),
                     self.m_axis_video_tuser.eq((row == 0) & (col == 0)),
                     self.m_axis_video_tlast.eq(col == plan.out_width - 1)]
        with m.If(v & self.m_axis_video_tready):
            m.d.sync += col.eq(col + 1)
            with m.If(col == plan.out_width - 1):
                m.d.sync += col.eq(0)
                m.d.sync += row.eq(row + 1)
                with m.If(row == plan.out_height - 1):
                    m.d.sync += row.eq(0)
        return m


def _ident(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def to_verilog(top: StreamTop, module: str = "srhw_stream") -> str:
    """Verilog text without source locations: the same graph and settings give byte-identical files."""
    return verilog.convert(top, name=module, emit_src=False, strip_internal_attrs=True)

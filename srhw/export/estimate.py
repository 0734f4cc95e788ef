"""Analytic cost of a zoo model on an FPGA part: per-layer work, reuse factors, resources, fps, roofline.

Every figure this module produces is ANALYTIC (source "analytic"): arithmetic on layer shapes and the
assumptions named below, never a synthesis or Vivado result (no Vivado exists on these machines).

Work per output pixel (the paper's Table 5 convention, as `srhw.profile.count_ops`):
  * sum-product conv: mults = r (the a' scales, on DSPs); adds = r (c_in k^2/g - 1) + c_out (r/g - 1)
    (dense ternary W_b and W_c, on LUT adders);
  * plain conv (MeanShift, CA, INT8 convs): mults = adds = c_out c_in k^2 / g, one DSP48 MAC each (the
    DSP's post-adder does the accumulation, so these adds cost no LUTs).

Two architectures are estimated, in this order (hardware.md, "a design that fits the 7020 has to choose"):
  1. "dataflow": every layer its own block (hls4ml io_stream), line buffers and weights on chip,
     reuse factors from `SetFolding`; channel attention maps buffered off chip (see `ca_buffer`).
  2. "layer-sequential": the written engine of hls/engine/ runs the golden graph's program, layers one
     after the other, feature maps through DDR: its cycles, DSPs, LUTs and BRAM are the cost model of that
     code (srhw.export.engine.cost: datapath chosen per part, pipelined-loop iterations at II = 1,
     multipliers, adder trees, declared buffers per partition), not a generic budget.
The first that fits the part is reported; the other is kept in the report for comparison. A model
that fits neither even at maximum reuse raises SrhwError.

Assumptions (every one is stated in the report beside the numbers):
  ACT_BITS = 8 activations; LUT adder of w bits = w LUTs + w FFs (hardware.md: ~w LUTs per adder, a
  CARRY4 per 4 bits not counted as LUTs), w = 8 + ceil(log2(fan-in)) + 1; one DSP per multiply (no
  int8 packing); BRAM by capacity only (36 Kbit each, port-width limits ignored); a fully unrolled
  (R = 1) ternary layer is hard-wired (weights cost no memory); PER_LAYER_LUT/FF control overhead.
"""

import math
from dataclasses import asdict, dataclass, field

from torch import nn

from srhw.core.errors import SrhwError
from srhw.export.engine import FIELDS, OPS, compile_program, datapath_for_graph, program_bytes, program_cycles, resources
from srhw.export.engine.cost.area import bound_resource
from srhw.hw.bram import BRAM_BITS, bram36
from srhw.hw.budget import BRAM_BUDGET, DSP_BUDGET, LUT_BUDGET, within
from srhw.hw.fold import fold
from srhw.hw.parts import Part
from srhw.hw.roofline import roofline
from srhw.models import SumProductConv2d
from srhw.profile.counting import conv_runs, lr_size, meta_model, sp_dense_adds

SOURCE = "analytic"
ACT_BITS = 8  # activation width everywhere between layers (INT8 / ternary designs)
WEIGHT_BITS = {"sp": 2, "conv": 8}  # ternary codes in 2 bits; INT8 weights
SCALE_BITS = 16  # a' multiplier operand of a sum-product conv (one DSP48 port)
MAX_BLOCK_MULTS = 4096  # every unrolled block stays within this many multipliers (hls4ml's unroll limit)
PER_LAYER_LUT = 150  # control, counters, stream handshakes per dataflow block (assumption)
PER_LAYER_FF = 300


@dataclass
class Layer:
    """One conv (plain or sum-product) as the hardware sees it."""

    name: str
    kind: str  # "sp" | "conv"
    c_in: int
    c_out: int
    k: int
    groups: int
    r: int  # hidden width of an SP conv; 0 for a plain conv
    out_h: int  # output map size of one run at 720p
    out_w: int
    runs: int  # how many times it runs per frame (ERUM recursion)
    mults_per_pixel: int
    adds_per_pixel: int  # Table 5 convention (dense)
    lut_adds_per_pixel: int  # adds done in LUTs (SP layers); plain-conv adds ride on DSPs
    adder_bits: int

    @property
    def pixels(self) -> int:
        return self.out_h * self.out_w * self.runs

    @property
    def weight_bits(self) -> int:
        if self.kind == "sp":
            n = self.r * self.c_in // self.groups * self.k ** 2 + self.c_out * self.r // self.groups
            return n * WEIGHT_BITS["sp"] + self.r * SCALE_BITS
        return self.c_out * self.c_in // self.groups * self.k ** 2 * WEIGHT_BITS["conv"]

    @property
    def line_buffer_bits(self) -> int:
        """(k-1) input lines of the layer's map, c_in channels of ACT_BITS (the sliding window's storage)."""
        return (self.k - 1) * self.out_w * self.c_in * ACT_BITS


def _adder_bits(fan_in: int) -> int:
    return ACT_BITS + math.ceil(math.log2(max(fan_in, 2))) + 1


def model_layers(spec: str, scale: int, model: nn.Module | None = None, **config) -> list[Layer]:
    """The convs of a zoo model at 720p, in execution order, from a forward pass on meta tensors."""
    meta = meta_model(spec, scale, **config)
    mods = dict(meta.named_modules())
    seen = {name: (*r[0], len(r)) for name, r in conv_runs(meta, scale).items()}  # each run has the same size
    layers = []
    for name, (oh, ow, runs) in seen.items():
        mod = mods[name]
        if isinstance(mod, SumProductConv2d):
            k, g, r = mod.kernel_size, mod.groups, mod.r
            fan_b = mod.in_ch // g * k * k
            adds = sp_dense_adds(mod.in_ch, mod.out_ch, k, g, r)
            layers.append(Layer(name, "sp", mod.in_ch, mod.out_ch, k, g, r, oh, ow, runs, r, adds, adds,
                                _adder_bits(fan_b)))
        else:
            kh, kw = mod.kernel_size
            macs = mod.out_channels * mod.in_channels // mod.groups * kh * kw
            layers.append(Layer(name, "conv", mod.in_channels, mod.out_channels, max(kh, kw), mod.groups, 0,
                                oh, ow, runs, macs, macs, 0, 0))
    return layers


def ca_maps(spec: str, scale: int, **config) -> list[dict]:
    """Channel-attention blocks and the feature map each must see whole before rescaling it (720p)."""
    h, w = lr_size(scale)
    meta = meta_model(spec, scale, **config)
    out = []
    for name, mod in meta.named_modules():
        if type(mod).__name__ == "ChannelAttention":
            c = mod.attention[1].in_channels
            out.append({"name": name, "h": h, "w": w, "c": c, "bits": h * w * c * ACT_BITS})
    return out


# --- folding -----------------------------------------------------------------------------------

@dataclass
class LayerCost:
    name: str
    kind: str
    mults_per_pixel: int
    adds_per_pixel: int
    reuse_factor: int
    cycles_per_pixel: int
    pixels_per_frame: int
    cycles_per_frame: int
    dsp: int
    lut: int
    ff: int
    bram: int
    source: str = SOURCE


def _block_cost(layer: Layer, R: int) -> LayerCost:
    """Resources of one dataflow block of `layer` at reuse factor R (each unit used R times per pixel)."""
    dsp = math.ceil(layer.mults_per_pixel / R)
    adders = math.ceil(layer.lut_adds_per_pixel / R)
    lut = adders * layer.adder_bits + PER_LAYER_LUT
    ff = adders * layer.adder_bits + PER_LAYER_FF
    wbits = 0 if (layer.kind == "sp" and R == 1) else layer.weight_bits  # R = 1 ternary: hard-wired
    bram = (bram36((layer.k - 1) * layer.out_w, layer.c_in * ACT_BITS) if layer.k > 1 else 0) + bram36(-(-wbits // 36), 36)
    return LayerCost(layer.name, layer.kind, layer.mults_per_pixel, layer.adds_per_pixel, R, R,
                     layer.pixels, R * layer.pixels, dsp, lut, ff, bram)


def _max_reuse(layer: Layer) -> int:
    return max(layer.mults_per_pixel, layer.lut_adds_per_pixel, 1)


def _min_reuse(layer: Layer) -> int:
    return max(1, math.ceil(layer.mults_per_pixel / MAX_BLOCK_MULTS), math.ceil(layer.lut_adds_per_pixel / MAX_BLOCK_MULTS))


def _totals(costs) -> dict:
    return {k: sum(getattr(c, k) for c in costs) for k in ("lut", "ff", "dsp", "bram")}


class SetFolding:
    """Pick one reuse factor per layer so the dataflow design meets the part's budget (FINN SetFolding-like).

    The shared search (srhw.hw.fold): a common target of cycles per frame T starts at the fastest the
    4096-multiplier block limit allows; each layer gets the largest reuse factor R with R x pixels <= T (at
    least its minimum); while the totals exceed the budget, T grows. It ignores hls4ml's valid-reuse-factor
    rules (hls4ml rounds to the nearest valid value), BRAM port widths and routing; a hand-tuned folding can
    do better.
    """

    def __init__(self, part: Part):
        self.part = part

    def apply(self, layers: list[Layer]) -> tuple[list[LayerCost], bool]:
        """(costs, fits). At maximum reuse everywhere and still over budget: fits is False."""
        def cost(l, T):
            return _block_cost(l, min(_max_reuse(l), max(_min_reuse(l), T // l.pixels)))

        costs, fits, _ = fold(layers, cost, lambda cs: within(_totals(cs), self.part),
                              start=max(_min_reuse(l) * l.pixels for l in layers),
                              limit=max(_max_reuse(l) * l.pixels for l in layers))
        return costs, fits


# --- the two architectures -------------------------------------------------------------------

@dataclass
class Estimate:
    architecture: str
    fits: bool
    layers: list
    totals: dict
    cycles_per_frame: int
    offchip_bytes_per_frame: int
    fps_720p: float
    notes: list = field(default_factory=list)
    source: str = SOURCE
    engine: dict | None = None  # layer-sequential: the written engine's datapath, buffers, resource breakdown

    def as_dict(self) -> dict:
        d = asdict(self)
        return d


def _ca_offchip_bytes(cas) -> int:
    return sum(2 * c["bits"] // 8 for c in cas)  # the map is written once and read back once


def estimate_dataflow(layers, cas, part: Part, clock_mhz: float) -> Estimate:
    costs, fits = SetFolding(part).apply(layers)
    cycles = max(c.cycles_per_frame for c in costs)  # a pipeline runs at the pace of its slowest block
    ca_bytes = _ca_offchip_bytes(cas)
    t = max(cycles / (clock_mhz * 1e6), ca_bytes / (part.ddr_gbps * 1e9))
    notes = ["every layer its own block; line buffers and weights on chip",
             "frame time = slowest block's cycles per frame (pipelined), or the CA buffer traffic if slower"]
    if cas:
        notes.append(f"{len(cas)} channel-attention maps buffered off chip: {ca_bytes / 1e6:.1f} MB DDR traffic per frame")
    return Estimate("dataflow", fits, costs, _totals(costs), cycles, ca_bytes, 1.0 / t, notes)


def _table5(d: dict) -> tuple[int, int]:
    """(mults, adds) per output pixel of one engine descriptor in the Table 5 convention (convs only)."""
    cin, cout, g = d["IN0_C"], d["OUT_C"], max(d["GROUPS"], 1)
    if d["OP"] == OPS["conv"]:
        macs = cout * cin // g * d["KH"] * d["KW"]
        return macs, macs
    if d["OP"] == OPS["sp_conv"]:
        return d["HID"], sp_dense_adds(cin, cout, d["KH"], g, d["HID"])
    return 0, 0


def estimate_layer_sequential(graph, part: Part, clock_mhz: float, scale: int) -> Estimate:
    """The written engine (hls/engine/, srhw.export.engine) running `graph`'s program at 720p on `part`.

    Datapath: engine.cost.datapath_for_program, sized for this program on the part (what `srhw build` writes to
    engine/srhw_config.h). Cycles: engine.cost.descriptor_cycles, the iterations of the engine's pipelined
    loops at II = 1, a conv's pixel costing its slowest dataflow stage (a -DSRHW_COUNT_ITERS C-sim counts the
    same); per layer, time = max(cycles / f, DDR bytes / bandwidth) (the m_axi bursts assumed to overlap the
    loops), layers one after the other. Resources: engine.cost.resources of the declared buffers (srhw_config.h
    sizes) and datapath; not summed per layer. The report names the layer that bounds the frame time (and its
    stage) and the resource that bounds the datapath (the one it fills most against its budget)."""
    dp = datapath_for_graph(graph, part)
    prog = compile_program(graph, datapath=dp)
    h, w = lr_size(scale)
    cycles, nbytes = program_cycles(prog, h, w), program_bytes(prog, h, w)
    costs, total_cycles, total_time, times = [], 0, 0.0, []
    for d, name, c, b in zip(prog.descs, prog.names, cycles, nbytes):
        d = dict(zip(FIELDS, d))
        mults, adds = _table5(d)
        cpp = c["total"] / c["out_pixels"]
        kind = name.split(": ", 1)[1].split(" ")[0]
        costs.append(LayerCost(name.split(":")[0], kind, mults, adds, math.ceil(cpp), round(cpp, 3), c["out_pixels"],
                               c["total"], 0, 0, 0, 0))
        total_cycles += c["total"]
        t_c, t_m = c["total"] / (clock_mhz * 1e6), b / (part.ddr_gbps * 1e9)
        times.append((max(t_c, t_m), name, c["bound"] if t_c >= t_m else "DDR transfer", c["total"], b))
        total_time += max(t_c, t_m)
    res = resources(prog.config, dp, part.family)
    slow = max(times)
    bound_layer = {"name": slow[1].split(":")[0], "op": slow[1].split(": ", 1)[1], "stage": slow[2],
                   "time_s": slow[0], "share_of_frame": slow[0] / total_time}
    bound_res = bound_resource(res, part)
    totals = {k: res[k] for k in ("lut", "ff", "dsp", "bram")}
    fits = within(totals, part)
    mems = ", ".join(f"{m['name']} {m['bram36']}" for m in res["breakdown"]["memories"] if m["bram36"])
    notes = [f"the written engine (engine/): int8 conv {dp.lanes} lanes x {dp.simd} MACs"
             f"{' (two per DSP48 on 8-bit maps)' if dp.pack else ''}, W_b {dp.b_lanes} lanes x {dp.tsimd} ternary terms, "
             f"W_c {dp.c_lanes} lanes x {dp.c_tsimd} terms, gather {dp.gather} channels, {dp.beat}-byte AXI beats per cycle "
             f"(engine.cost.datapath_for_program, sized for this program on {part.name}); {len(prog.descs)} descriptors "
             "run one after the other",
             f"the layer that bounds the frame time: {bound_layer['name']} ({bound_layer['op']}; bound by its "
             f"{bound_layer['stage']} stage), {100 * bound_layer['share_of_frame']:.1f} % of the frame; the resource that "
             f"bounds the datapath: {bound_res}",
             "per-layer reuse_factor = ceil(cycles per output pixel), cycles_per_pixel = the engine's cycles per output "
             "pixel: the iterations of its pipelined loops at II = 1, a conv pixel's load | gather | MAC or W_b | W_c | "
             "store stages overlapped (assumption; pipeline fill/drain and loop entry not counted; one beat per m_axi "
             "port and cycle); per-layer resources are the engine's (not summed)",
             f"DSP = the engine's multipliers at their declared operand widths; LUT/FF = its balanced adder trees (each "
             f"2-input adder as wide as its operands' sum) + LUTRAM buffers + control; BRAM36 per declared buffer "
             f"partition ({mems})",
             f"clock {clock_mhz:g} MHz assumed: every loop pipelined at II = 1, adder trees and the DSP48s registered "
             "per level (never synthesised: no timing closure checked)",
             f"feature maps through DDR: each layer reads its input(s) and weights and writes its output, "
             f"{part.ddr_gbps} GB/s practical (assumption); a layer takes max(compute, transfer) time"]
    est = Estimate("layer-sequential", fits, costs, totals, total_cycles, sum(nbytes), 1.0 / total_time, notes)
    est.engine = {"config": dp.as_dict(), "buffers": asdict(prog.config), "resources": res["breakdown"],
                  "bound_layer": bound_layer, "bound_resource": bound_res,
                  # per descriptor, in program order: what the frame time is made of
                  "layer_times": [{"name": n.split(":")[0], "op": n.split(": ", 1)[1], "cycles": cyc, "ddr_bytes": nb,
                                   "time_s": t, "bound": st} for t, n, st, cyc, nb in times]}
    return est


def dense_work(layers) -> dict:
    """Mults and LUT adds per frame as the HLS designs perform them (dense ternary adds, no zero pruning or
    CSE; plain-conv accumulations ride in the DSP post-adders), and the LUTs per adder at their widths."""
    return {"mults": sum(l.mults_per_pixel * l.pixels for l in layers),
            "lut_adds": sum(l.lut_adds_per_pixel * l.pixels for l in layers),
            "luts_per_adder": max((l.adder_bits for l in layers if l.kind == "sp"), default=ACT_BITS + 10),
            "adds_kind": "dense ternary adds of the sum-product convs as the design performs them (no zero pruning, "
                         "no CSE); plain-conv accumulations run in the DSP post-adders and are counted with the mults"}


def dense_roofline(layers, part: Part, clock_mhz: float, offchip_bytes: int) -> dict:
    """srhw.hw.roofline of the HLS designs' own work (dense adds) and `offchip_bytes`."""
    w = dense_work(layers)
    return roofline(w["mults"], w["lut_adds"], offchip_bytes, part, clock_mhz, w["luts_per_adder"], w["adds_kind"],
                     "the bytes of the reported architecture (feature maps and/or channel-attention buffers)")


def estimate(spec: str, scale: int, part: Part, clock_mhz: float = 150.0, layers=None, graph=None, **config) -> dict:
    """The analytic report section for `spec` x`scale` on `part`; the layer-sequential architecture is the engine
    running `graph` (the golden srhw.quant graph; required for it). Raises SrhwError if nothing fits."""
    layers = layers if layers is not None else model_layers(spec, scale, **config)
    cas = ca_maps(spec, scale, **config)
    df = estimate_dataflow(layers, cas, part, clock_mhz)
    if graph is None:
        raise SrhwError("the layer-sequential estimate needs the golden graph (srhw.quant) of the model")
    ls = estimate_layer_sequential(graph, part, clock_mhz, scale)
    chosen = df if df.fits else ls if ls.fits else None
    if chosen is None:
        t = df.totals
        raise SrhwError(f"{spec} x{scale} does not fit {part.name} even at maximum reuse: dataflow needs "
                        f"{t['bram']} BRAM36/{t['lut']} LUT/{t['dsp']} DSP, the layer-sequential engine "
                        f"{ls.totals['bram']} BRAM36/{ls.totals['lut']} LUT/{ls.totals['dsp']} DSP (capacity {part.bram} BRAM36, {part.lut} LUT, {part.dsp} DSP)")
    roof = dense_roofline(layers, part, clock_mhz, chosen.offchip_bytes_per_frame)
    ca_cost = [{**c, "bytes": c["bits"] // 8, "bram36_if_on_chip": math.ceil(c["bits"] / BRAM_BITS)} for c in cas]
    return {
        "architecture": chosen.architecture, "fits": chosen.fits, "chosen": chosen.as_dict(),
        "alternative": (ls if chosen is df else df).as_dict(),
        "fps_720p": chosen.fps_720p, "clock_mhz": clock_mhz, "roofline": roof,
        "efficiency_vs_roofline": chosen.fps_720p / roof["fps"],
        "ca_buffer": ca_cost,
        "assumptions": {
            "act_bits": ACT_BITS, "weight_bits": WEIGHT_BITS, "scale_bits": SCALE_BITS,
            "max_block_mults": MAX_BLOCK_MULTS, "lut_budget": LUT_BUDGET, "dsp_budget": DSP_BUDGET,
            "bram_budget": BRAM_BUDGET, "per_layer_lut": PER_LAYER_LUT, "per_layer_ff": PER_LAYER_FF,
            "adder": "w-bit adder = w LUTs + w FFs, w = 8 + ceil(log2 fan-in) + 1",
            "dsp": "one DSP48 per multiply, no int8 packing", "bram": "by capacity only (36 Kbit), port widths ignored",
            "frame": "1280x720 output, LR = 720/s x 1280/s",
        },
        "source": SOURCE,
    }

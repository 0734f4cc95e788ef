"""`srhw rtl sp-layer`: the Verilog of one trained sum-product conv layer (rtl/sp_layer.py) and a README.

The layer's codes, scales, bias, shift and clamp come from the checkpoint's integer golden graph (its
sidecar's `golden` folder, or `<stem>.golden`), so the module computes exactly what the golden model
does for that node. The output folder is written all-or-nothing.
"""

from __future__ import annotations

import re

from srhw.cli.rtl_kernels import _MODULE_RE
from srhw.core.errors import SrhwError
from srhw.core.io import check_out, staged_output, write_json, write_text

LR_720P = (1280, 720)  # the frame the line buffer is sized for by default: the LR of a 720p output


def _fold(text: str | None):
    if text is None:
        return None
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m or int(m[1]) < 1 or int(m[2]) < 1:
        raise SrhwError(f"--fold must look like 4x2 (fold_r x fold_n, each >= 1), got {text!r}")
    return int(m[1]), int(m[2])


def _node(graph, layer: str):
    """The sp_conv node named `layer` (graph name, e.g. body_0_body_0_body_0, or module name body.0.body.0.body.0)."""
    nodes = [n for n in graph.nodes if n.op == "sp_conv"]
    for n in nodes:
        if layer in (n.name, n.attrs.get("module")):
            return n
    raise SrhwError(f"no sum-product layer {layer!r}; valid names: {', '.join(n.name for n in nodes)}")


def _readme(node, dut, cfg, ckpt, module: str, width: int, height: int, c_in: int) -> str:
    wb = dut.r
    return f"""# {module}: sum-product conv layer `{node.name}` of a trained checkpoint

Written by `srhw rtl sp-layer` from `{ckpt}` (layer `{node.name}`, module `{node.attrs.get('module', node.name)}`
in the network). The ternary codes, scales, bias, shift and clamp are the integer golden model's
(`srhw.quant.golden`), so this module computes that node's output word for word.

| | |
|---|---|
| file | `{module}.v` (Verilog from Amaranth, `rtl/sp_layer.py`) |
| layer | 3x3 conv, {c_in} -> {dut.m} channels, hidden width r = {wb} |
| frame | {width} x {height} pixels (the line buffer's size), raster order |
| folding | {cfg.fold_r} x {cfg.fold_n} = {cfg.fold} cycles per output pixel |
| input | `i_data`: {c_in} words of {cfg.in_bits} bits, signed |
| output | `o_data`: {dut.m} words of {cfg.out_bits} bits, {'signed' if cfg.out_signed else 'unsigned'}, clamped to [{cfg.lo}, {cfg.hi}] |

Ports (clock `clk`, reset `rst`): `i_valid`/`i_ready` (a pixel moves when both are high), `i_data`,
`o_valid`, `o_data`. The output has no back-pressure: the consumer takes every `o_valid` word.

Next steps: synthesise with Yosys (`yosys -p "read_verilog {module}.v; synth_xilinx -family xc7 -top {module}"`)
or add `{module}.v` to a Vivado project. `srhw rtl verify-trained --checkpoint {ckpt} --sp-layers {node.name}`
checks this layer on a real feature map against the golden model (cocotb, word for word).
"""


def run_sp_layer(args) -> int:
    from rtl.sweep import _default_fold, trained_graph
    from rtl.verify import sp_layer_of

    if not _MODULE_RE.match(args.module):
        raise SrhwError(f"--module must be a Verilog identifier, got {args.module!r}")
    fold = _fold(args.fold)
    graph, folder, ckpt = trained_graph(None, args.checkpoint)
    node = _node(graph, args.layer)
    scale = int(graph.meta.get("scale") or 2)
    width = args.width or LR_720P[0] // scale
    height = args.height or LR_720P[1] // scale
    if width < 1 or height < 1:
        raise SrhwError("--width and --height must be >= 1")
    out = check_out(args.out, args.force)
    from rtl.adder_tree import to_verilog

    try:
        dut = sp_layer_of(graph, node, height, width, fold or _default_fold(graph, node))
    except ValueError as e:
        raise SrhwError(str(e).splitlines()[0]) from None
    text = to_verilog(dut, args.module)
    cfg = dut.config
    wb = graph.param(node, "WB")
    c_in = wb.reshape(wb.shape[0], -1).shape[1] // 9
    sidecar = {"module": args.module, "kernel": "sp-layer", "layer": node.name, "network_module": node.attrs.get("module"),
               "checkpoint": str(ckpt), "golden": str(folder), "width": width, "height": height,
               "c_in": c_in, "c_out": dut.m, "r": dut.r,
               "fold_r": cfg.fold_r, "fold_n": cfg.fold_n, "in_bits": cfg.in_bits, "out_bits": cfg.out_bits,
               "out_lo": cfg.lo, "out_hi": cfg.hi}
    with staged_output(out, args.force) as tmp:
        write_text(tmp / f"{args.module}.v", text)
        write_json(tmp / f"{args.module}.json", sidecar)
        write_text(tmp / "README.md", _readme(node, dut, cfg, ckpt, args.module, width, height, c_in))
    print(f"{out / (args.module + '.v')}: layer {node.name}, {dut.m}x{dut.r} sum-product, {width}x{height} frame, "
          f"fold {cfg.fold_r}x{cfg.fold_n}; README: {out / 'README.md'}")
    return 0

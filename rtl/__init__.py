"""Multiplier-free RTL kernels (Amaranth): ternary adder trees, the sum-product kernel, the streaming SP
conv layer, netlist counts and the fit to a part. See rtl/README.md.

`build_section(graph, cfg)` is `srhw build`'s step_rtl hook; `report_html_section(section)` renders it."""

from __future__ import annotations


def network_section(spec: str, scale: int, part, clock_mhz: float = 150.0, model=None, codes=None,
                    cse: bool = False, model_args: dict | None = None) -> dict:
    """Counts (dense / naive / CSE) per SP layer, the fit and the roofline, as the report's `rtl` section.

    codes: optional {module name: (Wb (r, N), Wc (M, r))} overriding the model's / random codes."""
    from rtl.cost import fit, shapes_from_counts
    from rtl.netlist_counts import count_layer, network_layers

    sp, plain = network_layers(spec, scale, model, **(model_args or {}))
    layers = []
    for name, Wb, Wc, p in sp:
        if codes and name in codes:
            Wb, Wc = codes[name]
        layers.append(count_layer(name, Wb, Wc, p, cse=cse).__dict__)
    nc = {"layers": layers}
    pm = sum(x[1] for x in plain)
    muls = sum(l["dense_muls"] * l["pixels"] for l in layers) + pm
    dense = sum(l["dense_adds"] * l["pixels"] for l in layers) + sum(x[2] for x in plain)
    real_key = "cse_adds" if cse else "naive_adds"
    real = sum(l[real_key] * l["pixels"] for l in layers) + sum(x[2] for x in plain)
    kind = "after zero pruning and CSE" if cse else "after zero pruning (no CSE; run `srhw rtl counts --cse`)"
    f = fit(shapes_from_counts(nc), part, clock_mhz, muls, real, kind)
    t = f["totals"]
    return {
        "muls": muls, "adds": real, "adds_dense_table5": dense,
        "adds_kind": kind,
        "lut": t["lut"], "ff": t["ff"], "carry4": t["carry4"], "dsp": t["dsp"], "bram": t["bram"],
        "fps_720p": f["fps_720p"], "roofline_fps": f["roofline_fps"], "roofline_ratio": f["roofline_ratio"],
        "clock_mhz": clock_mhz, "part": part.name, "architecture": f["architecture"],
        "dataflow_rejected": f.get("dataflow_rejected"), "balance": f.get("balance"),
        "offchip_bytes_per_frame": f["offchip_bytes_per_frame"], "roofline": f["roofline"],
        "layers": [{**l, **{k: fl[k] for k in ("fold_r", "fold_n", "fold", "cycles_per_frame")}}
                   for l, fl in zip(layers, f["layers"])],
        "plain_convs": [{"name": n, "mults": a, "adds": b} for n, a, b in plain],
        "engine": f.get("engine"),
        "source": {"muls": "analytic (dense formula, proved == Yosys on small layers)",
                   "adds": "plan" if cse else "analytic (nnz - 1 per row)",
                   "adds_dense_table5": "analytic (== srhw.profile.count_ops, tested)",
                   "lut": "analytic (calibrated on Yosys synth_xilinx of a full-size folded layer, rtl.cost.CALIBRATION)",
                   "ff": "analytic", "carry4": "analytic", "dsp": "analytic", "bram": "analytic",
                   "fps_720p": "analytic", "roofline_fps": "analytic", "calibration": "yosys"},
    }


def build_section(graph, cfg) -> dict:
    """`srhw build` step_rtl hook: the report's `rtl` section from the golden graph's sp_conv codes;
    writes rtl/ (Verilog of a representative folded layer slice) and sim/ into cfg.tmp when it exists."""
    from pathlib import Path

    from srhw.core.errors import SrhwError

    codes = {}
    for n in getattr(graph, "nodes", []):
        if n.op == "sp_conv" and n.attrs.get("module"):
            if n.attrs.get("groups", 1) != 1:
                raise SrhwError(f"rtl: {n.name} is a grouped sum-product conv; the RTL supports groups=1 only")
            wb = graph.param(n, "WB")
            codes[n.attrs["module"]] = (wb.reshape(wb.shape[0], -1), graph.param(n, "WC").reshape(graph.param(n, "WC").shape[0], -1))
    if not codes:
        return {"status": "not included: the model has no sum-product convs (the RTL path is for st_bl)"}
    sec = network_section(cfg.spec, cfg.scale, cfg.part, cfg.clock_mhz, codes=codes,
                          cse=bool(getattr(cfg, "rtl_cse", False)), model_args=getattr(cfg, "model_args", None))
    out = getattr(cfg, "tmp", None)
    if out and Path(out).is_dir() and str(out) not in ("", "."):
        sec["files"] = write_artifacts(Path(out), graph, sec)
    return sec


def write_artifacts(out, graph, sec) -> list:
    """rtl/<node>.v for the first sp_conv node at its fit folding on a 32x32 tile; records it as sec["slice"]."""
    from rtl.adder_tree import to_verilog
    from rtl.sp_layer import SPLayer, SPLayerConfig

    (out / "rtl").mkdir(parents=True, exist_ok=True)
    node = next(n for n in graph.nodes if n.op == "sp_conv")
    lay = next(l for l in sec["layers"] if l["name"] == node.attrs.get("module"))
    t = graph.tensors[node.inputs[0]]
    fr = max(1, min(lay["fold_r"], graph.param(node, "WB").shape[0]))
    cfg = SPLayerConfig(width=32, height=32, in_bits=t.bits + (0 if t.signed else 1), lo=node.attrs["out_lo"],
                        hi=node.attrs["out_hi"], fold_r=fr, fold_n=max(1, lay["fold_n"]) if fr > 1 else 1)
    wb = graph.param(node, "WB")
    dut = SPLayer(wb, graph.param(node, "A"), graph.param(node, "WC").reshape(-1, wb.shape[0]), graph.param(node, "B"),
                  node.attrs["SH"], cfg)
    files = [f"rtl/{node.name}.v"]
    (out / files[0]).write_text(to_verilog(dut, "sp_layer"))
    # what the build folder's sim/ bench needs to check this slice (srhw.flows.handoff writes it)
    sec["slice"] = {"node": node.name, "module": node.attrs.get("module"), "verilog": files[0], "top": "sp_layer",
                    "config": {k: getattr(cfg, k) for k in ("width", "height", "in_bits", "lo", "hi", "fold_r", "fold_n")},
                    "c_in": int(dut.c_in), "c_out": int(dut.m), "r": int(wb.shape[0])}
    return files


def report_html_section(section: dict) -> str:
    """An HTML fragment: the per-layer table and a bar chart (matplotlib PNG, base64) of the counts."""
    import base64
    import html
    import io

    if "layers" not in section:
        return f"<section><h2>RTL</h2><p>{html.escape(str(section.get('status', 'n/a')))}</p></section>"
    rows = []
    for l in section["layers"]:
        cse = "" if l.get("cse_adds") is None else f"{l['cse_adds']:,}"
        rows.append(f"<tr><td>{html.escape(l['name'])}</td><td>{l['c_in']}&rarr;{l['c_out']}</td><td>{l['r']}</td>"
                    f"<td>{l['dense_muls']:,}</td><td>{l['dense_adds']:,}</td><td>{l['naive_adds']:,}</td><td>{cse}</td>"
                    f"<td>{l['fold_r']}&times;{l['fold_n']}</td><td>{l['cycles_per_frame']:,}</td></tr>")
    png = ""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 3))
        xs = range(len(section["layers"]))
        ax.bar([x - 0.2 for x in xs], [l["dense_adds"] for l in section["layers"]], 0.4, label="dense adds/px")
        key = "cse_adds" if section["layers"][0].get("cse_adds") is not None else "naive_adds"
        ax.bar([x + 0.2 for x in xs], [l[key] for l in section["layers"]], 0.4, label="CSE adds/px" if key == "cse_adds" else "pruned adds/px")  # the table's words
        ax.set_ylabel("adds per output pixel")
        ax.set_xlabel("SP layer")
        ax.legend()
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
        plt.close(fig)
        png = f'<img alt="adds per layer" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'
    except ImportError:
        png = "<p>(matplotlib not installed: no chart)</p>"
    s = section
    return (f"<section><h2>RTL ({html.escape(s['architecture'])}, {html.escape(s['part'])}, {s['clock_mhz']:g} MHz)</h2>"
            f"<p>fps_720p {s['fps_720p']:.3g} (analytic), roofline {s['roofline_fps']:.3g} fps, ratio {s['roofline_ratio']:.3f}; "
            f"LUT {s['lut']:,}, FF {s['ff']:,}, CARRY4 {s['carry4']:,}, DSP {s['dsp']}, BRAM36 {s['bram']}; "
            f"adds {html.escape(s['adds_kind'])}.</p>{png}"
            "<table><tr><th>layer</th><th>ch</th><th>r</th><th>mults/px</th><th>dense adds/px</th><th>pruned adds/px</th>"
            "<th>CSE adds/px</th><th>fold</th><th>cycles/frame</th></tr>" + "".join(rows) + "</table></section>")

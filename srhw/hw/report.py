"""The build report's markdown renderer: report.md from the report.json dict (no computation here; report.html is
srhw.hw.html, this text plus the charts).

The report opens with one answer (srhw.hw.designs: the recommended design, its fps and ms per frame, the
target met or not, the bounding resource and layer), then one roofline and every design as a row against it.
"""

def render_markdown(rep: dict) -> str:
    cap, tot = rep["capacity"], rep["totals"]
    r = rep["roofline"]
    a = r["assumptions"]
    lines = [f"# {rep['model']} x{rep['scale']} on {rep['part']}", ""] + answer_lines(rep) + per_layer_lines(rep.get("per_layer")) + [
        "## Part, weights and the HLS estimate", "",
        f"Part: {rep['part_choice']['sentence']}; written into " + ", ".join(rep["part_choice"]["written_into"]) + ".", "",
        f"Weights: {rep['weights']['source']}" + (f" `{rep['weights']['checkpoint']}`" if rep['weights'].get('checkpoint') else "") + ".",
        "All resource, cycle and fps figures are **analytic estimates** (srhw.export.estimate, rtl.cost), not synthesis "
        "results; no Vivado/vitis_hls exists here. C-sim figures are hls4ml/g++ measurements.", "",
        f"HLS estimate: architecture **{rep['architecture']}**; fits: **{rep['fits']}**; "
        f"**{rep['fps_720p']:.3g}** fps ({rep['frame']} frames) at {rep['clock_mhz']:g} MHz (analytic).", "",
        "| resource | estimate | capacity | use |", "|---|---|---|---|",
    ]
    for k in ("lut", "ff", "dsp", "bram"):
        lines.append(f"| {k.upper() if k != 'bram' else 'BRAM36'} | {tot[k]:,} | {cap[k]:,} | {100 * tot[k] / cap[k]:.1f} % |")
    alt = rep["alternative"]
    lines += ["", f"Other architecture ({alt['architecture']}): fits {alt['fits']}, LUT {alt['totals']['lut']:,}, "
              f"DSP {alt['totals']['dsp']:,}, BRAM36 {alt['totals']['bram']:,}, {alt['fps_720p']:.3g} fps.", ""]
    lines += [f"- {n}" for n in rep["notes"]]
    lines += ["", "## Roofline", "",
              f"roofline fps = {r['fps']:.3g} ({r['bound']}-bound); HLS estimate / roofline = {rep['efficiency_vs_roofline']:.3f}.",
              "roofline fps = 1 / max(compute time, memory time); compute time = max(mults / (DSPs x clock), "
              "LUT adds / (adder lanes x clock)); memory time = off-chip bytes per frame / practical DDR bandwidth.",
              f"Assumptions: clock {a['clock_mhz']:g} MHz, {a['dsp_available']} DSPs, LUT budget {a['lut_budget_for_arithmetic']:,} "
              f"at {a['luts_per_adder']} LUTs per adder = {a['adder_lanes']:,} adder lanes, DDR {a['ddr_gbps_practical']} GB/s practical, "
              f"{r['offchip_bytes_per_frame'] / 1e6:.1f} MB off chip per frame ({a['offchip']}). Adds: {a['adds']}.", ""]
    lines += assumptions_lines(rep)
    if rep["ca_buffer"]:
        c = rep["ca_buffer"][0]
        lines += ["## Channel attention buffer", "",
                  f"{len(rep['ca_buffer'])} CA blocks each need the whole {c['w']}x{c['h']}x{c['c']} map before rescaling: "
                  f"{c['bytes'] / 1e6:.2f} MB = {c['bram36_if_on_chip']} BRAM36 each if kept on chip (capacity {cap['bram']}), "
                  "so at 720p it is buffered off chip (written and read back once per CA).", ""]
    cs = rep["csim"]
    lines += ["## C-simulation (hls4ml, g++)", ""]
    if cs.get("ran"):
        lines.append(f"{cs['checked']} output values checked, {cs['mismatches']} mismatches against the golden model; "
                     f"inputs: {cs['inputs']} ({cs['input_hw'][0]}x{cs['input_hw'][1]} LR). compile {cs['compile_s']} s, "
                     f"predict {cs['predict_s']} s, peak RSS {cs['peak_rss_mb']} MB.")
    else:
        lines.append("not run (use --csim).")
    lines += ["", "## Layer-sequential engine (engine/, hls/engine)", "", _engine_summary(rep.get("engine"))]
    shared = rep["architecture"] == "layer-sequential"  # one datapath for every layer: no per-layer resources
    lines += ["", "## Layers (analytic)", "",
              f"The {rep['architecture']} estimate per layer, per output pixel. "
              + ("Reuse = cycles per pixel rounded up; the resources are shared by every layer: see the design units "
                 "under Per-layer time." if shared else "Reuse = the block's hls4ml reuse factor; resources per block."), "",
              "| layer | torch module | kind | mults/px | adds/px | reuse | cycles/px |" + ("" if shared else " DSP | LUT | BRAM36 |"),
              "|---|---|---|---|---|---|---|" + ("" if shared else "---|---|---|")]
    for l in rep["layers"]:
        lines.append(f"| {l['name']} | {_module(l)} | {l['kind']} | {l['mults_per_pixel']:,} | {l['adds_per_pixel']:,} | "
                     f"{l['reuse_factor']} | {l['cycles_per_pixel']} |" + ("" if shared else f" {l['dsp']} | {l['lut']:,} | {l['bram']} |"))
    if rep["hls"]:
        lines += ["", f"HLS project: `hls/` ({rep['hls']['backend']}, {rep['hls']['io_type']}, {rep['hls']['hls_layers']} hls4ml layers, "
                  f"{rep['hls']['input_hw'][1]}x{rep['hls']['input_hw'][0]} LR frame). {rep['hls']['vitis_hls']}."]
    lines += ["", "## RTL (rtl/)", "", _rtl_summary(rep.get("rtl")), ""]
    lines += sources_lines(rep)
    return "\n".join(lines)


def _engine_summary(eng: dict | None) -> str:
    if not eng:
        return "n/a"
    ln, cs = eng["lanes"], eng["csim"]
    text = (f"`{eng['dir']}/`: {eng['descriptors']} descriptors; int8 conv {ln['lanes']} lanes x {ln['simd']} MACs "
            f"({ln['dsp_macs']} DSP48s{', two int8 products each' if ln.get('pack') else ''}), W_b {ln.get('b_lanes', 0)} "
            f"lanes x {ln['tsimd']} ternary add/sub terms and W_c {ln.get('c_lanes', 0)} lanes x {ln.get('c_tsimd', 0)} per "
            f"cycle, {ln['dsp_scales']} scale multipliers; {eng['weight_bytes']:,} weight bytes, arena "
            f"{eng['arena_bytes_per_lr_pixel']} bytes per LR pixel. {eng['vitis_hls']}. ")
    bl = eng.get("bound_layer")
    if bl:
        text += (f"Frame time bound by layer {bl['name']} ({bl['op']}, its {bl['stage']} stage, "
                 f"{100 * bl['share_of_frame']:.1f} % of the frame); datapath bound by {eng['bound_resource']}. ")
    if cs.get("ran"):
        text += (f"C-sim (g++, {cs['types']}): {cs['checked']} output values checked, {cs['mismatches']} mismatches "
                 f"against the golden model ({cs['input_hw'][0]}x{cs['input_hw'][1]} LR, {cs['images']} images); "
                 f"compile {cs['compile_s']} s, run {cs['run_s']} s.")
    else:
        text += "C-sim not run (use --csim)."
    return text


def _rtl_summary(rtl: dict | None) -> str:
    if not rtl or "muls" not in rtl:
        return (rtl or {}).get("status", "n/a")
    return (f"multiplier-free SP kernels (ternary weights as adds): {rtl['muls']:,} multiplies per frame (the "
            f"SP kernels' per-channel scales and the plain convs: mean shifts, channel attention) and {rtl['adds']:,} adds per frame; "
            f"LUT {rtl['lut']:,}, FF {rtl['ff']:,}, CARRY4 {rtl['carry4']:,}, DSP {rtl['dsp']}, BRAM36 {rtl['bram']}; "
            f"{rtl['fps_720p']:.3g} fps at 720p, {rtl['roofline_ratio']:.3f} of the roofline above "
            "(sources: " + "; ".join(f"{k}: {v}" for k, v in (rtl.get("source") or {}).items()) + ").")


def answer_lines(rep: dict) -> list:
    """The report's first section: one verdict, then every design as a row against the one roofline."""
    v, r = rep["verdict"], rep["roofline"]
    if v.get("design"):
        first = (f"**Recommended: `{v['folder']}`** ({v['design']}): {v['fps_720p']:.3g} fps, {v['ms_per_frame']:,.0f} ms "
                 f"per {rep['frame']} frame at {rep['clock_mhz']:g} MHz; target {v['target_fps']:g} fps "
                 f"{'met' if v['meets_target'] else 'NOT met'}; bounded by {v['bounding_resource'].upper()} "
                 f"({100 * v['bounding_share']:.0f} % of the part, {100 * v['bounding_of_budget']:.0f} % of its "
                 f"{100 * v['bounding_budget']:.0f} % budget)"
                 + (f", slowest layer {v['slowest_layer']}" if v.get("slowest_layer") else "") + ". " + v["sentence"])
    else:
        first = v["sentence"]
    lines = ["## Answer", "", first, "",
             f"One roofline: **{r['fps']:.3g} fps** ({r['bound']}-bound; definition and assumptions under Roofline).", "",
             "| design | folder | fits | fps | ms/frame | of roofline | LUT | DSP | BRAM36 | bounding (% of part) | source |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in rep["designs"]:
        lines.append(f"| {d['design']} | `{d['folder']}` | {d['fits']} | {d['fps_720p']:.3g} | {d['ms_per_frame']:,.0f} | "
                     f"{d['efficiency_vs_roofline']:.3f} | {d['lut']:,} | {d['dsp']:,} | {d['bram']:,} | "
                     f"{d['bounding_resource'].upper()} {100 * d['bounding_share']:.0f} % | {d['source']} |")
    notes = [f"- {d['design']}: {d['note']}" for d in rep["designs"] if d.get("note")]
    return lines + [""] + notes + ([""] if notes else [])


PER_LAYER = "Per-layer time (recommended design)"
NAMING = ("Layers are named by their node in the golden graph (`golden/graph.json`) in every table of this report; "
          "hls/ names its layers `<node>_<role>` (e.g. `head_wb`), engine/program.h by node.")


def _ties(pl: dict) -> str:
    """Layers as slow as the bottleneck (within 0.1 %): the table names one, the reader should know of the rest."""
    slow = max((l["time_s"] for l in pl["layers"]), default=0.0)
    n = sum(1 for l in pl["layers"] if not l["bottleneck"] and l["time_s"] >= 0.999 * slow > 0)
    return f" (the first of {n + 1} layers that take as long)" if n else ""


def _module(row: dict) -> str:
    """The torch module path beside a golden node name (blank for ops without one: adds, pixel shuffles)."""
    return f"`{row['module']}`" if row.get("module") else ""


def _num(v, fmt="{:,}"):
    return "" if v is None else fmt.format(v)


def per_layer_lines(pl: dict | None) -> list:
    """Time per layer of the recommended design (ms, % of frame), the bottleneck in bold, then the resources of
    the units every layer shares (where a design cannot be split per layer)."""
    if not pl:
        return []
    has_res = any("lut" in l for l in pl["layers"])
    has_src = len({l["source"] for l in pl["layers"]}) > 1  # one source: said once above the table
    has_mod = any(l.get("module") for l in pl["layers"])
    head = ("| layer |" + (" torch module |" if has_mod else "") + " kind | cycles | ms | % of frame | bound by |"
            + (" DSP | LUT | BRAM36 |" if has_res else "")
            + (" source |" if has_src else ""))
    lines = [f"## {PER_LAYER}", "",
             f"{pl['design']} (`{pl['folder']}`), {pl['frame_ms']:,.1f} ms per frame; {pl['schedule']}. "
             f"Bottleneck: **{pl['bottleneck']}**{_ties(pl)}. Source: {pl['source']}. {NAMING}", "", head,
             "|" + "---|" * (head.count("|") - 1)]
    for l in pl["layers"]:
        name = f"**{l['name']}** (bottleneck)" if l["bottleneck"] else l["name"]
        res = (f" {_num(l.get('dsp'))} | {_num(l.get('lut'))} | {_num(l.get('bram'))} |" if has_res else "")
        kind = l["kind"] + (f"; also node {', '.join(l['nodes'][1:])}" if len(l.get("nodes", [])) > 1 else "")
        lines.append(f"| {name} |" + (f" {_module(l)} |" if has_mod else "") + f" {kind} | {l['cycles']:,} | {l['time_ms']:,.2f} | {100 * l['share_of_frame']:.1f} % | "
                     f"{l['bound']} |{res}" + (f" {l['source']} |" if has_src else ""))
    legend = {k: v for k, v in (pl.get("bound_legend") or {}).items() if any(l["bound"] == k for l in pl["layers"])}
    if legend:
        lines += ["", "Bound by: " + "; ".join(f"{k} = {v}" for k, v in legend.items()) + "."]
    units = pl.get("resources_per_unit") or []
    if units:
        lines += ["", "Resources per design unit (shared by every layer, so not split per layer):", "",
                  "| unit | count | DSP | LUT | BRAM36 | source |", "|---|---|---|---|---|---|"]
        lines += [f"| {u['unit']} | {u['count']:,} | {u['dsp']:,} | {u['lut']:,} | {u['bram']:,} | {u['source']} |" for u in units]
    return lines + [""]


def sources(rep: dict) -> list:
    """(figure, source) for every kind of figure in the report: analytic / hls4ml C-sim / cocotb / yosys / nextpnr."""
    out = [("resources, cycles and fps of engine/ and hls/", "analytic (srhw.export.estimate, srhw.export.engine.cost)"),
           ("the roofline", "analytic (srhw.hw.roofline)"),
           ("part capacities", rep.get("part_source", "vendor tables"))]
    if rep["csim"].get("ran"):
        out.append(("hls/ C-simulation mismatches", "hls4ml C-sim (g++)"))
    if ((rep.get("engine") or {}).get("csim") or {}).get("ran"):
        out.append(("engine/ C-simulation mismatches", "g++ C-simulation of hls/engine"))
    rtl = rep.get("rtl") or {}
    if "muls" in rtl:
        out.append(("RTL SP lanes: counts and fit", "analytic, LUTs calibrated on yosys synth_xilinx"))
    st = rep.get("stream_rtl") or {}
    if "resources" in st:
        out.append(("streaming RTL resources", "yosys (synth_xilinx)"))
    if "cycles_per_frame" in st:
        out.append(("streaming RTL cycles per frame and bit-exactness", "cocotb"))
    if "ecp5" in st:
        out.append(("streaming RTL Fmax of its largest layer", "nextpnr (ECP5, a conservative bound)"))
    return out


def sources_lines(rep: dict) -> list:
    return ["## Sources", ""] + [f"- {what}: {src}" for what, src in sources(rep)] + [""]


def assumptions(rep: dict) -> list:
    """(name, value) of every assumption behind the figures: the roofline's and the cost models'."""
    a, r = rep.get("assumptions") or {}, rep["roofline"]["assumptions"]
    out = [("clock", f"{r['clock_mhz']:g} MHz (assumed; never closed timing in a vendor tool)"),
           ("DDR bandwidth", f"{r['ddr_gbps_practical']} GB/s practical (a board property)"),
           ("DSPs for multiplies", f"{r['dsp_available']}"),
           ("LUTs for arithmetic", f"{r['lut_budget_for_arithmetic']:,} at {r['luts_per_adder']} LUTs per adder = "
                                   f"{r['adder_lanes']:,} adder lanes"),
           ("off-chip traffic", r["offchip"]), ("adds counted", r["adds"])]
    names = {"act_bits": "activation bits", "weight_bits": "weight bits", "scale_bits": "scale bits",
             "max_block_mults": "multipliers per dataflow block at most", "lut_budget": "LUT budget (share of the part)",
             "dsp_budget": "DSP budget (share)", "bram_budget": "BRAM budget (share)",
             "per_layer_lut": "control LUTs per dataflow block", "per_layer_ff": "control FFs per dataflow block",
             "adder": "adder cost", "dsp": "DSP use", "bram": "BRAM mapping", "frame": "frame"}
    for k, v in a.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk} {vv}" for kk, vv in v.items())
        out.append((names.get(k, k.replace("_", " ")), str(v)))
    return out


def assumptions_lines(rep: dict) -> list:
    return ["## Assumptions", ""] + [f"- {k}: {v}" for k, v in assumptions(rep)] + [""]

"""The build report's renderers: report.md and report.html from the report.json dict (no computation here).

The report opens with one answer (srhw.hw.designs: the recommended design, its fps and ms per frame, the
target met or not, the bounding resource and layer), then one roofline and every design as a row against it.
"""

import html as _html

def render_markdown(rep: dict) -> str:
    cap, tot = rep["capacity"], rep["totals"]
    r = rep["roofline"]
    a = r["assumptions"]
    lines = [f"# {rep['model']} x{rep['scale']} on {rep['part']}", ""] + answer_lines(rep) + [
        f"Weights: {rep['weights']['source']}" + (f" `{rep['weights']['checkpoint']}`" if rep['weights'].get('checkpoint') else "") + ".",
        "All resource, cycle and fps figures are **analytic estimates** (srhw.export.estimate, rtl.cost), not synthesis "
        "results; no Vivado/vitis_hls exists here. C-sim figures are hls4ml/g++ measurements.", "",
        f"HLS estimate: architecture **{rep['architecture']}**; fits: **{rep['fits']}**; fps_720p: "
        f"**{rep['fps_720p']:.3g}** at {rep['clock_mhz']:g} MHz (analytic).", "",
        "| resource | estimate | capacity | use |", "|---|---|---|---|",
    ]
    for k in ("lut", "ff", "dsp", "bram"):
        lines.append(f"| {k.upper()} | {tot[k]:,} | {cap[k]:,} | {100 * tot[k] / cap[k]:.1f} % |")
    alt = rep["alternative"]
    lines += ["", f"Other architecture ({alt['architecture']}): fits {alt['fits']}, LUT {alt['totals']['lut']:,}, "
              f"DSP {alt['totals']['dsp']:,}, BRAM36 {alt['totals']['bram']:,}, {alt['fps_720p']:.3g} fps.", ""]
    lines += [f"- {n}" for n in rep["notes"]]
    lines += ["", "## Roofline", "",
              f"roofline fps = {r['fps']:.3g} ({r['bound']}-bound); HLS estimate / roofline = {rep['efficiency_vs_roofline']:.3f}.",
              f"Assumptions: clock {a['clock_mhz']:g} MHz, {a['dsp_available']} DSPs, LUT budget {a['lut_budget_for_arithmetic']:,} "
              f"at {a['luts_per_adder']} LUTs per adder = {a['adder_lanes']:,} adder lanes, DDR {a['ddr_gbps_practical']} GB/s practical, "
              f"{r['offchip_bytes_per_frame'] / 1e6:.1f} MB off chip per frame ({a['offchip']}). Adds: {a['adds']}.", ""]
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
    lines += ["", "## Layers (analytic)", "",
              "| layer | kind | mults/px | adds/px | reuse | cycles/px | DSP | LUT | BRAM36 |", "|---|---|---|---|---|---|---|---|---|"]
    for l in rep["layers"]:
        lines.append(f"| {l['name']} | {l['kind']} | {l['mults_per_pixel']:,} | {l['adds_per_pixel']:,} | {l['reuse_factor']} | "
                     f"{l['cycles_per_pixel']} | {l['dsp']} | {l['lut']:,} | {l['bram']} |")
    if rep["hls"]:
        lines += ["", f"HLS project: `hls/` ({rep['hls']['backend']}, {rep['hls']['io_type']}, {rep['hls']['hls_layers']} hls4ml layers, "
                  f"{rep['hls']['input_hw'][1]}x{rep['hls']['input_hw'][0]} LR frame). {rep['hls']['vitis_hls']}."]
    lines += ["", "## RTL (rtl/)", "", _rtl_summary(rep.get("rtl")), ""]
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
    return (f"multiplier-free SP kernels: {rtl['muls']:,} mults and {rtl['adds']:,} adds per frame; "
            f"LUT {rtl['lut']:,}, FF {rtl['ff']:,}, CARRY4 {rtl['carry4']:,}, DSP {rtl['dsp']}, BRAM36 {rtl['bram']}; "
            f"{rtl['fps_720p']:.3g} fps at 720p, {rtl['roofline_ratio']:.3f} of the roofline above "
            f"(sources: {rtl.get('source')}).")


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}th{{background:#eee}}</style></head>
<body><h1>{title}</h1>
<h2>Answer</h2><p>{answer}</p>
<table><tr><th>design</th><th>folder</th><th>fits</th><th>fps</th><th>ms/frame</th><th>of roofline</th><th>LUT</th>
<th>DSP</th><th>BRAM36</th><th>bounding</th><th>source</th></tr>{designs}</table>
<p>All resource, cycle and fps figures of the HLS designs are <b>analytic estimates</b>; C-sim figures are hls4ml/g++
and engine/g++ measurements; RTL counts come from the CSE plan and Yosys. No Vivado or vitis_hls exists here.</p>
<p>Architecture: <b>{arch}</b>; fits {part}: <b>{fits}</b>; {fps:.3g} fps for a 1280x720 output at {clock:g} MHz;
roofline {roof:.3g} fps ({bound}-bound), ratio {eff:.3f} (the one roofline of this report). C-sim: hls4ml dataflow {csim}.</p>
<h2>Layer-sequential engine</h2><p>{engine}</p>
<h2>Resources</h2><table><tr><th>resource</th><th>estimate</th><th>capacity</th><th>use</th></tr>{res}</table>
<h2>Layers (analytic)</h2><table><tr><th>layer</th><th>kind</th><th>mults/px</th><th>adds/px</th><th>reuse</th>
<th>cycles/px</th><th>DSP</th><th>LUT</th><th>BRAM36</th></tr>{layers}</table>
{rtl}
</body></html>
"""


def render_html(rep: dict, rtl_html: str | None = None) -> str:
    """report.html: the answer, the headline numbers, the resource and layer tables, and the RTL section
    (`rtl_html`, rendered by the RTL backend, else a plain paragraph)."""
    html = _html

    cap, tot = rep["capacity"], rep["totals"]
    designs = "".join(
        f"<tr><td>{html.escape(d['design'])}</td><td>{html.escape(d['folder'])}</td><td>{d['fits']}</td>"
        f"<td>{d['fps_720p']:.3g}</td><td>{d['ms_per_frame']:,.0f}</td><td>{d['efficiency_vs_roofline']:.3f}</td>"
        f"<td>{d['lut']:,}</td><td>{d['dsp']:,}</td><td>{d['bram']:,}</td>"
        f"<td>{d['bounding_resource'].upper()} {100 * d['bounding_share']:.0f} %</td><td>{d['source']}</td></tr>"
        for d in rep.get("designs", []))
    res = "".join(f"<tr><td>{k.upper()}</td><td>{tot[k]:,}</td><td>{cap[k]:,}</td><td>{100 * tot[k] / cap[k]:.1f} %</td></tr>"
                  for k in ("lut", "ff", "dsp", "bram"))
    layers = "".join(
        f"<tr><td>{html.escape(l['name'])}</td><td>{l['kind']}</td><td>{l['mults_per_pixel']:,}</td>"
        f"<td>{l['adds_per_pixel']:,}</td><td>{l['reuse_factor']}</td><td>{l['cycles_per_pixel']}</td><td>{l['dsp']}</td>"
        f"<td>{l['lut']:,}</td><td>{l['bram']}</td></tr>" for l in rep["layers"])
    cs = rep["csim"]
    csim = f"{cs['checked']} values, {cs['mismatches']} mismatches" if cs.get("ran") else "not run (--csim)"
    ecs = (rep.get("engine") or {}).get("csim") or {}
    csim += ("; layer-sequential engine (engine/, g++): " +
             (f"{ecs['checked']} values, {ecs['mismatches']} mismatches" if ecs.get("ran") else "not run (--csim)"))
    rtl = rtl_html or f"<section><h2>RTL</h2><p>{html.escape(_rtl_summary(rep.get('rtl')))}</p></section>"
    r = rep["roofline"]
    return _HTML.format(title=html.escape(f"{rep['model']} x{rep['scale']} on {rep['part']}"), arch=html.escape(rep["architecture"]),
                        part=rep["part"], fits=rep["fits"], fps=rep["fps_720p"], clock=rep["clock_mhz"], roof=r["fps"],
                        bound=r["bound"], eff=rep["efficiency_vs_roofline"], csim=csim, res=res, layers=layers, rtl=rtl,
                        engine=html.escape(_engine_summary(rep.get("engine"))),
                        answer=html.escape(answer_lines(rep)[2].replace("**", "").replace("`", "")), designs=designs)


def answer_lines(rep: dict) -> list:
    """The report's first section: one verdict, then every design as a row against the one roofline."""
    v, r = rep["verdict"], rep["roofline"]
    if v.get("design"):
        first = (f"**Recommended: `{v['folder']}`** ({v['design']}): {v['fps_720p']:.3g} fps, {v['ms_per_frame']:,.0f} ms "
                 f"per {rep['frame']} frame at {rep['clock_mhz']:g} MHz; target {v['target_fps']:g} fps "
                 f"{'met' if v['meets_target'] else 'NOT met'}; bounded by {v['bounding_resource'].upper()} "
                 f"({100 * v['bounding_share']:.0f} % of the part)"
                 + (f", slowest layer {v['slowest_layer']}" if v.get("slowest_layer") else "") + ". " + v["sentence"])
    else:
        first = v["sentence"]
    lines = ["## Answer", "", first, "",
             f"One roofline: **{r['fps']:.3g} fps** ({r['bound']}-bound; definition and assumptions under Roofline).", "",
             "| design | folder | fits | fps | ms/frame | of roofline | LUT | DSP | BRAM36 | bounding | source |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in rep["designs"]:
        lines.append(f"| {d['design']} | `{d['folder']}` | {d['fits']} | {d['fps_720p']:.3g} | {d['ms_per_frame']:,.0f} | "
                     f"{d['efficiency_vs_roofline']:.3f} | {d['lut']:,} | {d['dsp']:,} | {d['bram']:,} | "
                     f"{d['bounding_resource'].upper()} {100 * d['bounding_share']:.0f} % | {d['source']} |")
    notes = [f"- {d['design']}: {d['note']}" for d in rep["designs"] if d.get("note")]
    return lines + [""] + notes + ([""] if notes else [])

"""The build's last step: report.json (machine-readable) and report.md / report.html (for people).

Every backend's design becomes a row against the one roofline (srhw.hw.designs); the recommended design gets
a per-layer time table (srhw.hw.layer_time) from its own cost model or measurement. The renderers
(srhw.hw.report, srhw.hw.html) only format what is gathered here.
"""

from srhw.core.io import write_json, write_text

ENGINE, DATAFLOW, STREAM = "HLS layer-sequential engine", "hls4ml dataflow pipeline", "RTL streaming network (AXI4-Stream video)"


def _engine_note(rep_arch: str, eng: dict) -> str:
    cs = eng["csim"]
    checked = (f"C-simulated with g++ on this build's images, {cs['mismatches']} mismatches in {cs['checked']} output "
               "values against the golden model" if cs.get("ran") else "not C-simulated in this build (--csim)")
    ln = eng["lanes"]
    size = (f"datapath: int8 conv {ln['lanes']} lanes x {ln['simd']} MACs, W_b {ln['b_lanes']} lanes x {ln['tsimd']} "
            f"ternary terms, W_c {ln['c_lanes']} lanes x {ln['c_tsimd']} terms per cycle, sized for this program on this "
            "part and written to engine/srhw_config.h")
    if rep_arch == "layer-sequential":
        return ("engine/ is the layer-sequential engine these figures describe (HLS C++ from hls/engine/ with this "
                f"graph's program; {size}; {checked}); the figures are the cost model OF THAT ENGINE "
                "(srhw.export.engine.cost: its pipelined-loop cycles at II = 1, its multipliers, adder trees and "
                "declared buffers), still analytic: never synthesised; "
                "hls/ is the hls4ml dataflow pipeline (one block per layer), a bit-exact reference that does NOT fit "
                "this part (see 'Other architecture')")
    return ("hls/ is the hls4ml dataflow pipeline these figures describe; engine/ is the layer-sequential engine of "
            f"'Other architecture' (HLS C++ from hls/engine/; {checked}; never synthesised)")


def _slowest(layers) -> str | None:
    named = [l for l in layers if l.get("cycles_per_frame")]
    return max(named, key=lambda l: l["cycles_per_frame"])["name"] if named else None


def _designs(cfg, names) -> list:
    """Every backend's design of this build as a row (srhw.hw.designs), HLS engine first; layers by golden node."""
    from srhw.hw.designs import row

    e, part = cfg.report["estimate"], cfg.part
    by = {d["architecture"]: d for d in (e["chosen"], e["alternative"])}
    ls, df = by["layer-sequential"], by["dataflow"]
    rows = [row(ENGINE, "engine/", "layer-sequential", ls["fits"], ls["fps_720p"], ls["totals"],
                ls["offchip_bytes_per_frame"], True, part, slowest_layer=names.node(_slowest(ls["layers"]))),
            row(DATAFLOW, "hls/", "dataflow", df["fits"], df["fps_720p"], df["totals"],
                df["offchip_bytes_per_frame"], True, part, slowest_layer=names.node(_slowest(df["layers"])))]
    rtl = cfg.report.get("rtl") or {}
    if "fps_720p" in rtl:
        rows.append(row(f"RTL SP lanes ({rtl['architecture']})", "rtl/", rtl["architecture"], True, rtl["fps_720p"],
                        {k: rtl[k] for k in ("lut", "ff", "dsp", "bram")}, rtl["offchip_bytes_per_frame"], False, part,
                        note="a fit of the multiplier-free SP kernels; rtl/ holds one representative layer slice, "
                             "not the whole network, so it is not a deliverable yet"))
    st = cfg.report.get("stream_rtl") or {}
    if "resources" in st and "fps" in st:
        r = st["resources"]
        rows.append(row(STREAM, "rtl/", "streaming dataflow", st["fits"], st["fps"],
                        {"lut": r["LUT"] + r["LUTRAM"], "ff": r["FF"], "dsp": r["DSP48E1"], "bram": r["BRAM36_equiv"]},
                        st["roofline"]["offchip_bytes_per_frame"], True, part,
                        source="yosys (resources), cocotb (cycles per frame)", slowest_layer=names.node(st.get("slowest_stage")),
                        note=f"fps = {st['clock_mhz']:g} MHz / {st['cycles_per_frame']:,} simulated cycles per frame"))
    return rows


def _rtl_adds(rtl: dict) -> tuple[int, str] | None:
    """LUT adds per frame of the RTL SP kernels as they perform them (zero pruning, CSE when counted)."""
    if not rtl or "adds" not in rtl:
        return None
    sp = rtl["adds"] - sum(p["adds"] for p in rtl["plain_convs"])  # plain-conv adds ride in the DSP post-adders
    return sp, f"the RTL SP kernels' adds {rtl['adds_kind']}; plain-conv accumulations in the DSP post-adders"


def step_report(graph, cfg):
    """report.json (machine-readable) and report.md / report.html (for people): one roofline, one verdict."""
    from srhw.hw.designs import FRAME, one_roofline, verdict
    from srhw.hw.html import render_html
    from srhw.hw.layer_names import LayerNames
    from srhw.hw.parts import describe
    from srhw.hw.report import render_markdown

    e = cfg.report["estimate"]
    ch = e["chosen"]
    names = LayerNames(graph)  # every per-layer row below is named by its golden node
    designs = _designs(cfg, names)
    work = dict(cfg.report["work"])
    fewer = _rtl_adds(cfg.report.get("rtl"))
    if fewer and fewer[0] < work["lut_adds"]:  # the fewest adds any design performs bound them all
        work["lut_adds"], work["adds_kind"] = fewer
    roof = one_roofline(designs, work, cfg.part, cfg.clock_mhz)
    verdict_ = verdict(designs, roof, cfg.target_fps, cfg.spec, cfg.part)
    if cfg.report.get("rtl") and "roofline_fps" in cfg.report["rtl"]:  # the RTL section against the same roofline
        r = cfg.report["rtl"]
        r.update(roofline=roof, roofline_fps=roof["fps"], roofline_ratio=r["fps_720p"] / roof["fps"])
    layers = [{"name": l["name"], "kind": l["kind"], "mults_per_pixel": l["mults_per_pixel"],
               "adds_per_pixel": l["adds_per_pixel"], "reuse_factor": l["reuse_factor"],
               "cycles_per_pixel": l["cycles_per_pixel"], "dsp": l["dsp"], "lut": l["lut"], "bram": l["bram"],
               "source": "analytic"} for l in ch["layers"]]
    layers = names.rows(layers)
    _name_rows(cfg.report, names)
    rep = {
        "model": cfg.spec, "scale": cfg.scale, "part": cfg.part.name, "capacity": cfg.part.capacity(),
        "part_source": cfg.part.source,
        "part_choice": {"part": cfg.part.name, "given": cfg.part.given, "device": cfg.part.device,
                        "default_board": cfg.part.board or None, "sentence": describe(cfg.part),
                        "written_into": ["hls/ (hls4ml Part)", "engine/script.tcl (set_part)"],
                        "yosys": "synth_xilinx -family xc7 (Yosys takes the family only)"}, "architecture": e["architecture"],
        "totals": {**ch["totals"], "source": "analytic"}, "fits": e["fits"], "layers": layers,
        "fps_720p": e["fps_720p"], "clock_mhz": cfg.clock_mhz, "roofline": roof,
        "efficiency_vs_roofline": e["fps_720p"] / roof["fps"], "verdict": verdict_, "designs": designs, "frame": FRAME,
        "alternative": {
            k: e["alternative"][k] for k in ("architecture", "fits", "totals", "fps_720p")},
        "notes": ch["notes"] + [_engine_note(e["architecture"], cfg.report["engine"])],
        "hls_project_architecture": "dataflow",
        "ca_buffer": names.rows(e["ca_buffer"]), "assumptions": e["assumptions"],
        "weights": cfg.report["weights"], "golden": cfg.report.get("golden"), "hls": cfg.report.get("hls"),
        "csim": cfg.report["csim"], "engine": cfg.report["engine"], "rtl": cfg.report.get("rtl"),
        "stream_rtl": cfg.report.get("stream_rtl"),
        "determinism": "no timestamps or absolute paths in the written files; hls4ml's library stamp is a hash of "
                       "the graph; build_lib.sh computes the weights directory when it runs (absolute path compiled "
                       "into the C-sim library: moving the project needs a recompile); engine/ is a function of the "
                       "graph, part and clock only (byte-identical for the same inputs)",
    }
    rep["per_layer"] = _name_per_layer(per_layer(cfg, verdict_.get("design")), names)
    write_json(cfg.tmp / "report.json", rep)
    write_text(cfg.tmp / "report.md", render_markdown(rep))
    from srhw.flows.readme import build_readme

    write_text(cfg.tmp / "README.md", build_readme(rep))
    from rtl import report_html_section

    write_text(cfg.tmp / "report.html", render_html(rep, report_html_section(rep["rtl"] or {"status": "n/a"})))
    return graph


def _name_rows(report: dict, names) -> None:
    """The backends' sections in report.json: their per-layer rows and bounding layer by golden node."""
    eng = report.get("engine") or {}
    if eng.get("bound_layer"):
        eng["bound_layer"] = names.row(eng["bound_layer"])
    rtl = report.get("rtl") or {}
    for k in ("layers", "plain_convs"):
        if rtl.get(k) is not None:
            rtl[k] = names.rows(rtl[k])
    st = report.get("stream_rtl") or {}
    if st.get("slowest_stage"):
        st["slowest_stage"] = names.node(st["slowest_stage"])


def _name_per_layer(pl: dict | None, names) -> dict | None:
    if pl:
        pl["layers"] = names.rows(pl["layers"])
        pl["bottleneck"] = names.node(pl["bottleneck"])
    return pl


def per_layer(cfg, design: str | None) -> dict | None:
    """Time per layer of `design` (a row name of _designs) from its own cost model or measurement."""
    from srhw.hw import layer_time

    e = cfg.report["estimate"]
    by = {d["architecture"]: d for d in (e["chosen"], e["alternative"])}
    if design == ENGINE:
        eng = by["layer-sequential"]["engine"]
        return layer_time.engine(design, "engine/", eng["layer_times"], eng["resources"])
    if design == DATAFLOW:
        df = by["dataflow"]
        return layer_time.pipeline(design, "hls/", df["layers"], cfg.clock_mhz, 1.0 / df["fps_720p"],
                                   "analytic (srhw.export.estimate: each block's reuse factor x pixels)")
    if design == STREAM:
        st = cfg.report["stream_rtl"]
        sec = layer_time.pipeline(design, "rtl/", st["schedule"]["layers"], cfg.clock_mhz,
                                  st["cycles_per_frame"] / (cfg.clock_mhz * 1e6),
                                  "schedule (the folding's cycles per stage); the frame: cocotb cycles per frame")
        r = st["resources"]
        sec["resources_per_unit"] = [{"unit": "the whole top srhw_stream (Yosys cannot split it per layer)", "count": 1,
                                      "dsp": r["DSP48E1"], "lut": r["LUT"] + r["LUTRAM"], "bram": r["BRAM36_equiv"],
                                      "source": "yosys"}]
        return sec
    return None

"""The README.md written into every build folder: what each folder is, which one the report recommends, and the
next step for each with the vendor tools or cocotb. Made from report.json only (no paths, no times), so the
same build writes the same text."""


def _rtl_part(rep: dict) -> list:
    st, rtl = rep.get("stream_rtl") or {}, rep.get("rtl") or {}
    if "resources" in st or "files" in st:
        return ["### rtl/ - the whole network as streaming RTL (AXI4-Stream video)", "",
                "`rtl/srhw_stream.v` is the network; `rtl/README.md` has its ports and foldings. Its cocotb benches run",
                "from that folder:", "",
                "    cd rtl && make check PYTHON=python3   # crop frames against the golden model's outputs",
                "    cd rtl && make rate PYTHON=python3    # full-size frames at full rate: cycles per frame", ""]
    sl = rtl.get("slice")
    if not sl:
        return ["### rtl/", "", f"No RTL in this build: {rtl.get('status') or st.get('status') or 'n/a'}.", ""]
    c = sl["config"]
    fold = c["fold_r"] * c["fold_n"] if c["fold_r"] > 1 else 1
    return ["### rtl/ and sim/ - one layer slice in RTL, with its bench", "",
            f"`{sl['verilog']}` is ONE layer of the network, not the network: the first sum-product conv "
            f"(`{sl['node']}`, module `{sl['module']}`, {sl['c_in']} -> {sl['c_out']} channels, rank {sl['r']}) as the "
            f"multiplier-free streaming kernel `{sl['top']}` (Amaranth-generated Verilog, trained ternary codes as "
            f"constants) on a {c['width']}x{c['height']} tile, folded to {fold} cycle(s) per output pixel as the RTL fit "
            "chose. It shows what the RTL backend makes of a trained layer; it is a sample for synthesis and "
            "simulation, not a deliverable.", "",
            f"Ports (clock `clk`, synchronous reset `rst`): `i_valid`, `i_ready`, `i_data` ({sl['c_in']} signed "
            f"{c['in_bits']}-bit words), `o_valid`, `o_data` ({sl['c_out']} words); one pixel per transfer, raster "
            "order, zero padding at the edges; no back-pressure on the output.", "",
            "`sim/` checks it word for word against the golden model's outputs (`sim/slice_case.npz`: corner, "
            "checkerboard and random frames) with cocotb, from where it is:", "",
            "    cd sim && make SIM=icarus                            # python3 on PATH with cocotb + numpy",
            "    cd sim && make SIM=icarus PYTHON=/path/to/python3    # or name the interpreter",
            "    cd sim && make SIM=icarus SLICE_FRAMES=1             # the first frame only (quick)", ""]


def build_readme(rep: dict) -> str:
    v = rep["verdict"]
    pc = rep.get("part_choice") or {"sentence": rep["part"]}
    answer = (f"Recommended: `{v['folder']}` ({v['design']}), {v['fps_720p']:.3g} fps at {rep['clock_mhz']:g} MHz, "
              f"target {v['target_fps']:g} fps {'met' if v['meets_target'] else 'NOT met'} (see report.md)."
              if v.get("design") else v["sentence"])
    hls = rep.get("hls") or {}
    lines = [f"# Build of {rep['model']} x{rep['scale']} for {rep['part']}", "",
             answer, "", f"Part: {pc['sentence']}.", "",
             "Nothing here has been through a vendor tool: no Vivado or Vitis HLS exists where this was built. The",
             "report's resources and frame rates for engine/ and hls/ are analytic; what was measured (C-simulation,",
             "cocotb, Yosys) is labelled in the report's Sources.", "",
             "## What is here", "",
             "| path | what |", "|---|---|",
             "| `report.md`, `report.html` | the answer, per-layer time, resources, roofline, assumptions (html: with charts) |",
             "| `report.json` | the same, machine-readable |",
             "| `engine/` | the layer-sequential engine: HLS C++ and this network's program and weights |",
             "| `hls/` | the hls4ml dataflow project (one block per layer) |",
             "| `rtl/`, `sim/` | RTL of the network or of one layer slice, and its cocotb bench |",
             "| `golden/` | the integer golden model (graph.json + graph.npz) every design is checked against |",
             "| `report/` | the cost estimate, the hls4ml config, step times |", "",
             "## Next steps", "",
             "### engine/ - layer-sequential engine (Vitis HLS)", "",
             "    cd engine && vitis_hls -f script.tcl     # synthesis and IP export; engine/README.md: C-sim by hand",
             "",
             f"`script.tcl` sets the part ({rep['part']}) and the clock ({rep['clock_mhz']:g} MHz).", "",
             "### hls/ - hls4ml dataflow project (Vitis HLS)", "",
             "Choose the steps in `hls/build_opt.tcl` (csim, synth, cosim, export; a full-frame C-sim is slow, so set "
             "csim 0), then:", "",
             "    cd hls && vitis-run --tcl build_prj.tcl --mode hls    # Vitis 2024 and later (what hls4ml runs)",
             "    cd hls && vitis_hls -f build_prj.tcl                  # older Vitis HLS",
             "",
             f"The project is for one {hls.get('input_hw', ['?', '?'])[1]}x{hls.get('input_hw', ['?', '?'])[0]} LR "
             f"frame, part {rep['part']}.", ""]
    lines += _rtl_part(rep)
    return "\n".join(lines)

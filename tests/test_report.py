"""The build report a hardware team opens: per-layer time of the recommended design, report.html as a superset of
report.md with its three charts (parsed here; opened in a headless browser in the slow test)."""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from test_build import run_cli, tiny_checkpoint


@pytest.fixture(scope="module")
def built_run(tmp_path_factory):
    """One tiny st_bl build (the dataflow pipeline is the recommended design) for a ZC702's part (clg484, not the
    default clg400), shared by the tests below: (its folder, the finished `srhw build` process)."""
    tmp = tmp_path_factory.mktemp("report")
    ckpt = tiny_checkpoint(tmp)
    out = tmp / "b"
    r = run_cli("--model", "st_bl", "--r", "2c_out", "--part", "xc7z020clg484-1", "--checkpoint", str(ckpt), "--out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out, r


@pytest.fixture(scope="module")
def built(built_run):
    return built_run[0]


def _rep(out):
    return json.loads((out / "report.json").read_text())


def test_per_layer_time_of_the_recommended_design(built):
    rep = _rep(built)
    pl, v = rep["per_layer"], rep["verdict"]
    assert pl["design"] == v["design"] and pl["folder"] == v["folder"]
    est = json.loads((built / "report" / "estimate.json").read_text())
    df = est["chosen"] if est["architecture"] == "dataflow" else est["alternative"]
    assert pl["design"] == "hls4ml dataflow pipeline", "the tiny model fits as a dataflow pipeline on the 7020"
    # rows named by golden node; the estimate's own name (the torch module path) kept under "module"
    assert [l["module"] for l in pl["layers"]] == [l["name"] for l in df["layers"]]
    for row, blk in zip(pl["layers"], df["layers"]):  # the cost model's own cycles, not new ones
        assert row["cycles"] == blk["cycles_per_frame"] and row["dsp"] == blk["dsp"] and row["lut"] == blk["lut"]
        assert row["time_ms"] == pytest.approx(1e3 * blk["cycles_per_frame"] / 150e6)
        assert row["share_of_frame"] == pytest.approx(row["time_ms"] / pl["frame_ms"])
    assert pl["frame_ms"] == pytest.approx(1e3 / df["fps_720p"])
    slow = max(pl["layers"], key=lambda l: l["time_ms"])
    assert pl["bottleneck"] == slow["name"] and [l["name"] for l in pl["layers"] if l["bottleneck"]] == [slow["name"]]
    md = (built / "report.md").read_text()
    assert md.index("## Per-layer time") < md.index("## Roofline"), "per-layer time right after the answer"
    assert md.count("(bottleneck)") == 1 and f"**{slow['name']}** (bottleneck)" in md
    ties = [l for l in pl["layers"] if l["time_s"] >= 0.999 * slow["time_s"]]
    assert len(ties) > 1 and f"Bottleneck: **{slow['name']}** (the first of {len(ties)} layers that take as long)" in md
    assert "## Sources" in md and "analytic" in md.split("## Sources")[1]


def test_engine_layer_times_add_up_to_its_frame(built):
    """The layer-sequential engine's rows come from its cost model: one per descriptor, shares summing to 1."""
    from srhw.export.estimate import estimate_layer_sequential
    from srhw.hw import layer_time
    from srhw.hw.parts import get_part
    from srhw.quant import load_graph

    part = get_part("xc7z020")
    est = estimate_layer_sequential(load_graph(built / "golden"), part, 150.0, 2)
    pl = layer_time.engine("HLS layer-sequential engine", "engine/", est.engine["layer_times"], est.engine["resources"])
    assert len(pl["layers"]) == len(est.layers) and sum(l["cycles"] for l in pl["layers"]) == est.cycles_per_frame
    assert sum(l["share_of_frame"] for l in pl["layers"]) == pytest.approx(1.0)
    assert pl["frame_ms"] == pytest.approx(1e3 / est.fps_720p)
    for l, t in zip(pl["layers"], est.engine["layer_times"]):
        assert l["time_s"] == pytest.approx(max(t["cycles"] / 150e6, t["ddr_bytes"] / (part.ddr_gbps * 1e9)))
    assert pl["bottleneck"] == est.engine["bound_layer"]["name"]
    units = pl["resources_per_unit"]
    assert sum(u["dsp"] for u in units) == est.totals["dsp"], "the units hold every DSP of the engine"
    assert sum(u["bram"] for u in units) == est.totals["bram"], "the units hold every BRAM36 of the engine"


def test_a_pipeline_against_its_measured_frame():
    """Streaming stages: each stage's scheduled cycles against the cocotb-measured frame, not against each other."""
    from srhw.hw import layer_time

    stages = [{"name": "c1", "op": "conv", "cycles_per_frame": 900}, {"name": "c2", "op": "conv", "cycles_per_frame": 1000}]
    pl = layer_time.pipeline("s", "rtl/", stages, 100.0, frame_s=1250 / 100e6, source="schedule")
    assert [round(l["share_of_frame"], 3) for l in pl["layers"]] == [0.72, 0.8]
    assert pl["bottleneck"] == "c2" and pl["frame_ms"] == pytest.approx(0.0125) and pl["schedule"] == layer_time.PIPELINED


def test_the_streaming_rtl_rows_come_from_its_schedule_and_measured_frame():
    """The committed FSRCNN-s stream report: per-stage scheduled cycles against its cocotb frame; resources whole."""
    from types import SimpleNamespace

    from srhw.flows.report import STREAM, per_layer

    d = json.loads((Path(__file__).resolve().parents[1] / "rtl" / "reports" / "stream_fsrcnn_d32_s5_m1-x2-int8.json").read_text())
    st = {"schedule": d["schedule"], "cycles_per_frame": d["simulation"]["cycles_per_frame"],
          "resources": {"LUT": 10_000, "LUTRAM": 897, "DSP48E1": 144, "BRAM36_equiv": 33}}
    est = {"chosen": {"architecture": "dataflow"}, "alternative": {"architecture": "layer-sequential"}}
    pl = per_layer(SimpleNamespace(report={"estimate": est, "stream_rtl": st}, clock_mhz=150.0), STREAM)
    frame = st["cycles_per_frame"]
    assert pl["frame_ms"] == pytest.approx(1e3 * frame / 150e6)
    for row, stage in zip(pl["layers"], d["schedule"]["layers"]):
        assert row["cycles"] == stage["cycles_per_frame"] and row["share_of_frame"] == pytest.approx(stage["cycles_per_frame"] / frame)
    assert max(l["share_of_frame"] for l in pl["layers"]) <= 1.0, "no stage is busier than the measured frame"
    assert pl["resources_per_unit"] == [{"unit": "the whole top srhw_stream (Yosys cannot split it per layer)", "count": 1,
                                         "dsp": 144, "lut": 10_897, "bram": 33, "source": "yosys"}]
    # its stages are golden nodes of the shipped graph, so the naming pass keeps them and adds the torch module
    from srhw.hw.layer_names import LayerNames
    from srhw.quant import load_graph

    graph = load_graph(Path(__file__).resolve().parents[1] / "models" / "fsrcnn_d32_s5_m1-x2-int8.golden")
    named = LayerNames(graph).rows(pl["layers"])
    assert [r["name"] for r in named] == [r["name"] for r in pl["layers"]] and {r["name"] for r in named} <= {n.name for n in graph.nodes}
    assert any(r["module"] for r in named)


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h2, self.imgs, self.links, self.text, self._in, self.rows = [], [], [], [], None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h2":
            self._in, self.h2 = "h2", self.h2 + [""]
        if tag == "img":
            self.imgs.append(a)
        if tag == "tr":
            self.rows.append(a.get("class"))
        for k in ("src", "href"):
            if k in a and not a[k].startswith("data:"):
                self.links.append(a[k])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in == "h2":
            self.h2[-1] += data


def test_html_holds_every_markdown_section_and_three_charts(built):
    md = (built / "report.md").read_text()
    page = _Page()
    page.feed((built / "report.html").read_text())
    want = [l[3:].strip() for l in md.splitlines() if l.startswith("## ")]
    assert want and page.h2 == want, "report.html: the sections of report.md, in order"
    alts = [i.get("alt", "") for i in page.imgs if i.get("src", "").startswith("data:image/png;base64,")]
    for chart in ("utilisation of xc7z020", "the one roofline", "time per layer of hls4ml dataflow pipeline"):
        assert any(a.startswith(chart) for a in alts), (chart, alts)
    assert page.links == [], "self-contained: nothing fetched from anywhere"
    text = "".join(page.text)
    assert "`" not in text and "**" not in text, "no raw markdown in the page"
    assert page.rows.count("bottleneck") == 1, "the bottleneck row is highlighted"
    rep = _rep(built)
    for d in rep["designs"]:  # every design of the answer table, in the same words as the chart legends
        assert d["design"] in text
    assert "Assumptions" in page.h2 and 'class="box"' in (built / "report.html").read_text()


def test_a_full_part_name_is_kept_and_written_into_every_project(built):
    rep = _rep(built)
    assert rep["part"] == "xc7z020clg484-1" and rep["capacity"]["dsp"] == 220
    pc = rep["part_choice"]
    assert pc["given"] == "xc7z020clg484-1" and pc["device"] == "xc7z020" and pc["default_board"] is None
    hls = (built / "hls" / "hls4ml_config.yml").read_text()
    assert re.search(r"^Part: xc7z020clg484-1$", hls, re.M), "hls4ml's Part"
    tcl = (built / "engine" / "script.tcl").read_text()
    assert re.findall(r"set_part \{([^}]*)\}", tcl) == ["xc7z020clg484-1"], "the engine's set_part"
    assert "clg400" not in hls + tcl, "the default package must not leak into a build for another"
    assert "Part: xc7z020clg484-1 as given" in (built / "report.md").read_text()


@pytest.mark.parametrize("given,full,board", [("xc7z020", "xc7z020clg400-1", "PYNQ-Z1 / PYNQ-Z2"),
                                              ("XC7Z020", "xc7z020clg400-1", "PYNQ-Z1 / PYNQ-Z2"),
                                              ("xczu9eg", "xczu9eg-ffvb1156-2-e", "ZCU102"),
                                              ("xc7z020clg400-1", "xc7z020clg400-1", ""),
                                              ("xczu3eg-sbva484-1-e", "xczu3eg-sbva484-1-e", "")])
def test_bare_device_names_map_to_a_documented_board_part(given, full, board):
    from srhw.hw.parts import DEFAULT_PARTS, describe, get_part

    p = get_part(given)
    assert (p.name, p.board) == (full, board) and p.device in DEFAULT_PARTS
    assert (board in describe(p)) and (("default" in describe(p)) == bool(board))
    assert p.capacity() == get_part(p.device).capacity()


def test_an_unknown_part_is_one_clear_error():
    from srhw.core.errors import SrhwError
    from srhw.hw.parts import get_part

    for bad in ("xc7a35t", "xc7z0200", ""):
        with pytest.raises(SrhwError, match="known parts: xc7z020"):
            get_part(bad)


def _layer_names(rep: dict) -> dict:
    """{where in report.json: layer name} for every per-layer row and every named bounding/slowest layer."""
    out = {}

    def walk(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                p = f"{path}.{k}"
                if k in ("slowest_layer", "bottleneck", "slowest_stage") and isinstance(v, str):
                    out[p] = v
                elif k == "bound_layer" and isinstance(v, dict):
                    out[p] = v["name"]
                elif (k.endswith("layers") or k in ("plain_convs", "ca_buffer")) and isinstance(v, list):
                    for i, row in enumerate(v):
                        if isinstance(row, dict) and "name" in row:
                            out[f"{p}[{i}]"] = row["name"]
                            out.update({f"{p}[{i}].nodes[{j}]": n for j, n in enumerate(row.get("nodes", []))})
                walk(v, p)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{path}[{i}]")

    walk(rep, "report")
    return out


def test_every_layer_is_named_by_its_golden_node(built):
    """One naming scheme: every layer named anywhere in report.json, report.md and report.html is a node of the
    build's golden graph; the torch module path sits beside it."""
    nodes = {n["name"] for n in json.loads((built / "golden" / "graph.json").read_text())["nodes"]}
    rep = _rep(built)
    names = _layer_names(rep)
    for key in ("report.layers[0]", "report.per_layer.layers[0]", "report.per_layer.bottleneck",
                "report.verdict.slowest_layer", "report.engine.bound_layer", "report.rtl.layers[0]",
                "report.rtl.plain_convs[0]", "report.ca_buffer[0]"):
        assert key in names, f"{key}: the walk must see every per-layer table"
    assert {k: v for k, v in names.items() if v not in nodes} == {}
    # the channel attention's inner convs (two dataflow blocks) carry their node and their own module path
    ca = [l for l in rep["layers"] if l["module"].startswith("body.0.body.0.body.3.")]
    assert [l["name"] for l in ca] == ["body_0_body_0_body_3"] * 2 and len({l["module"] for l in ca}) == 2
    md = (built / "report.md").read_text()
    for title in ("## Per-layer time", "## Layers (analytic)"):
        table = md.split(title)[1].split("\n## ")[0]
        first = [re.sub(r"\*\*(.*)\*\* \(bottleneck\)", r"\1", row.split("|")[1].strip())
                 for row in table.splitlines() if row.startswith("| ") and not row.startswith("| layer ")]
        assert first and set(first) <= nodes, (title, set(first) - nodes)
    page = (built / "report.html").read_text()
    assert "body.0.body.0.body.0" in page and re.search(r"<td>\s*body_0_body_0_body_0\s*</td>", page)


def test_engine_descriptor_labels_resolve_to_golden_nodes(built):
    """The engine's program labels fused descriptors ("ca+add"): each row gets the first node and all of them."""
    from srhw.hw.layer_names import LayerNames
    from srhw.quant import load_graph

    graph = load_graph(built / "golden")
    names = LayerNames(graph)
    est = json.loads((built / "report" / "estimate.json").read_text())
    ls = est["chosen"] if est["architecture"] == "layer-sequential" else est["alternative"]
    rows = names.rows([{"name": t["name"]} for t in ls["engine"]["layer_times"]])
    order = [n.name for n in graph.nodes]
    assert all(r["name"] in order for r in rows)
    fused = [r for r in rows if "nodes" in r]
    assert fused and all(set(r["nodes"]) <= set(order) and r["name"] == r["nodes"][0] for r in fused)
    assert {"body_0_body_0_body_3", "add"} in [set(r["nodes"]) for r in fused], "the CA fused with its residual add"
    assert names.row({"name": "no_such_layer"}) == {"name": "no_such_layer"}, "an unknown label is left as it is"


def test_one_bounding_resource_and_every_figure_explained(built):
    """The answer's bounding resource is the engine's own (closest to its budget); the engine's "bound by" words
    are explained under its table; a layer-sequential Layers table shows no per-layer zeros for shared hardware."""
    from srhw.hw import layer_time
    from srhw.hw.layer_names import LayerNames
    from srhw.hw.report import per_layer_lines, render_markdown
    from srhw.quant import load_graph

    rep = _rep(built)
    eng = next(d for d in rep["designs"] if d["folder"] == "engine/")
    word = {"LUT": "lut", "DSP48": "dsp", "BRAM36": "bram", "FF": "ff"}
    assert eng["bounding_resource"] == word[rep["engine"]["bound_resource"]]
    v = rep["verdict"]
    assert f"{100 * v['bounding_of_budget']:.0f} % of its {100 * v['bounding_budget']:.0f} % budget" in (built / "report.md").read_text()
    est = json.loads((built / "report" / "estimate.json").read_text())
    ls = est["chosen"] if est["architecture"] == "layer-sequential" else est["alternative"]
    pl = layer_time.engine("HLS layer-sequential engine", "engine/", ls["engine"]["layer_times"], ls["engine"]["resources"])
    pl["layers"] = LayerNames(load_graph(built / "golden")).rows(pl["layers"])
    md = per_layer_lines(pl)
    legend = next(l for l in md if l.startswith("Bound by: "))
    assert all(f"{l['bound']} = " in legend for l in pl["layers"]), legend
    assert any(l.startswith("| body_0_body_0_body_3 |") and "; also node add |" in l for l in md), "a fused row's nodes"
    rep["architecture"] = "layer-sequential"  # the same rows as if the engine were chosen
    table = render_markdown(rep).split("## Layers (analytic)")[1].split("\n## ")[0]
    assert "| layer | torch module | kind | mults/px | adds/px | reuse | cycles/px |\n" in table and "shared" in table


def test_the_default_output_is_short_and_all_ours(built_run):
    """At default verbosity: <= 20 lines, each one srhw's own (no TensorFlow, keras or hls4ml line), one per step in
    order, and no progress redraws when stderr is not a terminal."""
    from srhw.flows.build import STEP_TITLES, STEPS

    _, r = built_run
    err, out = r.stderr.rstrip("\n").split("\n"), r.stdout.rstrip("\n").split("\n")
    assert len(err) + len(out) <= 20, r.stderr
    assert "\r" not in r.stderr and all(l.startswith("[srhw build] ") for l in err), r.stderr
    steps = [l for l in err if re.match(r"\[srhw build\] \d+/\d+ ", l)]
    assert [l.split(" ", 3)[3].split(":")[0] for l in steps] == [STEP_TITLES[s] for s in STEPS], steps
    assert len(out) == 1 and out[0].startswith("st_bl(r=2c_out) x2 on xc7z020clg484-1") and "C-sim: not run" in out[0]


def _make_slice(built, tmp_path, *extra, python=sys.executable):
    """`make SIM=icarus` in sim/ of a copy of the build folder (nothing of the checkout on its paths); `python=None`:
    no PYTHON=, the Makefile's own default."""
    folder = tmp_path / "copy"
    shutil.copytree(built, folder)
    py = [f"PYTHON={python}"] if python else []
    return subprocess.run(["make", "SIM=icarus", *py, *extra], cwd=folder / "sim",
                          capture_output=True, text=True, timeout=900)


def test_the_build_folder_stands_alone(built, tmp_path):
    """sim/ runs the RTL slice's bench from where it was written: Icarus, word for word against the golden outputs.
    One frame (1,024 outputs) here, ~13 s of CPU on Icarus 11 (48 s wall on a loaded 2-core machine)."""
    if shutil.which("iverilog") is None:
        pytest.skip("no iverilog (Debian: apt-get install iverilog)")
    mk = (built / "sim" / "Makefile").read_text()
    # the Python that wrote the folder (if it is still there), else python3 from PATH; no path relative to a checkout
    assert f"BUILT_WITH := {sys.executable}\n" in mk and "$(shell which python3)" in mk and "../.venv" not in mk
    rep = _rep(built)
    sl = rep["rtl"]["slice"]
    assert (built / sl["verilog"]).is_file() and {"sim/Makefile", "sim/slice_tb.py", "sim/slice_case.npz"} <= set(rep["rtl"]["files"])
    r = _make_slice(built, tmp_path, "SLICE_FRAMES=1", python=None)  # plain `make SIM=icarus`
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert re.search(r"1 frames, 1024/1024 outputs checked, 0 errors", r.stdout), r.stdout[-2000:]
    bad = subprocess.run(["make", "SIM=icarus", "PYTHON=/bin/false"], cwd=tmp_path / "copy" / "sim",
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "has no cocotb or numpy: pass PYTHON=" in bad.stderr, bad.stderr[-1000:]
    readme = (built / "README.md").read_text()
    for step in ("vitis_hls -f script.tcl", "build_prj.tcl", "make SIM=icarus", sl["verilog"], "ONE layer"):
        assert step in readme, step
    assert rep["verdict"]["folder"] in readme and "../shared" not in readme


def test_the_slice_bench_fails_on_a_wrong_output(built, tmp_path):
    """The bench can fail: one expected word changed in the case file makes `make` exit non-zero."""
    import numpy as np

    from srhw.flows.handoff import write_npz

    folder = tmp_path / "bad"
    shutil.copytree(built, folder)
    with np.load(folder / "sim" / "slice_case.npz") as z:
        case = {k: z[k] for k in z.files}
    case["expected"][0, 5, 7, 0] += 1
    write_npz(folder / "sim" / "slice_case.npz", case)
    r = subprocess.run(["make", "SIM=icarus", f"PYTHON={__import__('sys').executable}", "SLICE_FRAMES=1"],
                       cwd=folder / "sim", capture_output=True, text=True, timeout=900)
    assert r.returncode != 0 and "1 errors" in r.stdout, r.stdout[-2000:]


@pytest.mark.slow
def test_the_build_folder_bench_checks_every_frame(built, tmp_path):
    """All six frames of slice_case.npz (6,144 outputs): ~70 s of CPU on Icarus 11."""
    if shutil.which("iverilog") is None:
        pytest.skip("no iverilog (Debian: apt-get install iverilog)")
    r = _make_slice(built, tmp_path)
    assert r.returncode == 0 and "6144/6144 outputs checked, 0 errors" in r.stdout, (r.stdout + r.stderr)[-3000:]


def _chromium():
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)


@pytest.mark.slow
def test_html_renders_in_a_headless_browser(built, tmp_path):
    """Debian's chromium opens report.html offline and paints something: not a blank page."""
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium / chromium-browser on PATH (Debian: apt-get install chromium)")
    from PIL import Image

    shot = tmp_path / "shot.png"
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1280,4000", f"--screenshot={shot}", (built / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert shot.is_file(), r.stderr[-2000:]
    im = Image.open(shot).convert("RGB")
    colours = im.getcolors(maxcolors=1 << 20) or []
    non_white = sum(n for n, c in colours if c != (255, 255, 255))
    assert len(colours) > 50, "a page with charts has many colours"
    assert non_white > 0.02 * im.width * im.height, "mostly blank screenshot"

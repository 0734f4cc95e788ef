"""`srhw build`: lower a quantized zoo model to an hls4ml project and report its cost on an FPGA part.

    python -m srhw build --model st_bl --r 2c_out --scale 2 --part xc7z020 [--checkpoint X.safetensors]
                         [--random-weights] [--out build/<spec>-<part>/] [--csim] [--clock 150]

The build is an ordered list of `step_*(model, cfg)` functions (FINN's builder, style.md habit 8); each
returns the model state and may write a JSON report under `<out>/report/`. Everything is built into a
temporary folder beside `--out` and renamed onto it only at the end, so an error leaves nothing behind.

Two HLS designs are written: `hls/`, the hls4ml dataflow pipeline (one block per layer), and `engine/`, the
layer-sequential engine (hand-written HLS C++ in hls/engine/ plus this graph's program, srhw.export.engine)
that the "layer-sequential" estimate describes.

What is measured and what is estimated: resources, cycles and fps are ANALYTIC (`srhw.export.estimate`,
source "analytic"); C-simulation results are hls4ml/g++ and engine/g++ measurements; no Vivado or
vitis_hls exists on these machines, so neither written `vitis_hls` project has ever been synthesised.
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.core.io import write_json, write_text


def add_arguments(p):
    p.add_argument("--model", required=True, help='paper spec, e.g. "blrn-e(r=2)[rb]" or st_bl (with --r)')
    p.add_argument("--r", help="hidden width of st_bl's sum-product convs: c_out, 2c_out, ...")
    p.add_argument("--scale", type=int, default=2, help="upscaling factor 2, 3 or 4 (default 2)")
    p.add_argument("--part", default="xc7z020", help="FPGA part: xc7z020, xc7z045, xczu3eg, xczu9eg, xcku040")
    p.add_argument("--checkpoint", help="trained checkpoint (.safetensors + .json sidecar); default: models/<spec>-x<scale>.safetensors")
    p.add_argument("--random-weights", action="store_true", help="smoke build with random weights (labelled in the report)")
    p.add_argument("--out", help="output folder (default build/<spec>-<part>/)")
    p.add_argument("--csim", action="store_true", help="C-simulate with hls4ml/g++ and check bit-exactness against the golden model")
    p.add_argument("--csim-crop", type=int, default=12, help="LR crop size of the C-sim images (default 12)")
    p.add_argument("--clock", type=float, default=150.0, help="PL clock in MHz assumed by the estimate (default 150)")


@dataclass
class BuildConfig:
    spec: str
    scale: int
    part: object
    clock_mhz: float
    out: Path
    tmp: Path
    checkpoint: Path | None
    random_weights: bool
    csim: bool
    csim_crop: int
    model_args: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)


def _say(msg):
    print(f"[srhw build] {msg}", file=sys.stderr, flush=True)


def _slug(spec: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in spec).strip("_")


def default_checkpoint(spec: str, scale: int) -> Path:
    """Where shipped checkpoints live: models/<spec slug>-x<scale>.safetensors at the repo root."""
    return Path(__file__).resolve().parents[1] / "models" / f"{_slug(spec)}-x{scale}.safetensors"


# --- steps ----------------------------------------------------------------------------------------

def step_load_model(model, cfg: BuildConfig):
    """The torch model: checkpoint weights (checked against the spec and r), or labelled random weights."""
    import torch

    from srhw.core.checkpoint import check_state_dict, load_checkpoint
    from srhw.models import build, canonical, freeze_all

    if cfg.random_weights:
        torch.manual_seed(0)
        model = freeze_all(build(cfg.spec, cfg.scale, **cfg.model_args))  # ternary codes of the random weights
        cfg.report["weights"] = {"source": "random (smoke build; --random-weights)", "seed": 0}
        return model
    sd, meta = load_checkpoint(cfg.checkpoint)
    want = canonical(cfg.spec)
    got = meta.get("spec")
    if got is None:
        raise SrhwError(f"{cfg.checkpoint}: sidecar names no spec; cannot check it is a {want} checkpoint")
    if canonical(got) != want:
        if canonical(got).split("(")[0] == want.split("(")[0] and want.startswith("st_bl"):
            raise SrhwError(f"{cfg.checkpoint} was trained as {canonical(got)}, not {want}: its r does not match --r")
        raise SrhwError(f"{cfg.checkpoint} is a {canonical(got)} checkpoint, not {want}")
    if meta.get("scale") not in (None, cfg.scale):
        raise SrhwError(f"{cfg.checkpoint} is a x{meta['scale']} checkpoint, not x{cfg.scale}")
    cfg.model_args = dict(meta.get("model_args") or {})
    model = build(cfg.spec, cfg.scale, **cfg.model_args)
    if any(k.endswith("frozen_b") for k in sd):  # ternary st_bl: buffers exist once frozen
        freeze_all(model)
    check_state_dict(model, sd, want, cfg.scale)
    model.load_state_dict(sd)
    cfg.report["weights"] = {"source": "checkpoint", "checkpoint": cfg.checkpoint.name, "model_args": cfg.model_args,
                             "quant": meta.get("quant")}
    return model


def step_estimate(graph, cfg: BuildConfig):
    """Analytic per-layer cost at 720p, reuse factors, fit and roofline (raises if nothing fits): the dataflow
    pipeline, and the written layer-sequential engine running this golden graph's program."""
    from srhw.export.estimate import estimate, model_layers

    layers = model_layers(cfg.spec, cfg.scale, **cfg.model_args)
    cfg.report["estimate"] = estimate(cfg.spec, cfg.scale, cfg.part, cfg.clock_mhz, layers=layers, graph=graph,
                                      **cfg.model_args)
    write_json(cfg.tmp / "report" / "estimate.json", cfg.report["estimate"])
    e = cfg.report["estimate"]
    _say(f"estimate: {e['architecture']} fits {cfg.part.name}: {e['fits']}, {e['fps_720p']:.3g} fps at {cfg.clock_mhz:g} MHz (analytic)")
    return graph


def _calibration_batches(scale: int, n: int = 4, size: int = 48):
    """LR training crops for PTQ: the first n T91 HR images large enough for a size x scale crop, bicubic-downscaled
    (training data, never the test sets)."""
    import torch

    from srhw.data import default_data_dir
    from srhw.data.folders import read_image, to_rgb
    from srhw.data.imresize import imresize

    out = []
    for f in sorted((default_data_dir() / "T91" / "HR").glob("*")):
        if len(out) == n:
            break
        hr = to_rgb(read_image(f))
        if min(hr.shape[:2]) < size * scale:  # too small for a full crop at this scale (some T91 images at x4)
            continue
        lr = imresize(hr[: size * scale, : size * scale], 1 / scale)
        out.append(torch.from_numpy(np.ascontiguousarray(lr)).permute(2, 0, 1)[None].float())
    if not out:
        raise SrhwError(f"no T91 image of at least {size * scale} px under {default_data_dir()} for calibration")
    return [torch.cat(out)]


def step_quantize(model, cfg: BuildConfig):
    """The integer golden graph the lowering consumes: the checkpoint's own (a `srhw quantize` output), else
    INT8 PTQ (srhw.quant) calibrated on T91 crops."""
    from srhw.quant import load_graph, quantize
    from srhw.eval.upscalers import golden_dir

    shipped = cfg.checkpoint is not None and (cfg.report["weights"].get("quant") is not None)
    if shipped:
        graph = load_graph(golden_dir(cfg.checkpoint))
        source = f"the checkpoint's integer graph ({cfg.report['weights']['quant']}, from srhw quantize)"
    else:
        graph = quantize(model, _calibration_batches(cfg.scale)).export({"spec": cfg.spec, "scale": cfg.scale})
        source = "INT8 PTQ here: the first 4 T91 HR images with room for a 48x48 LR crop, bicubic"
    graph.save(cfg.tmp / "golden")
    cfg.report["golden"] = {"nodes": len(graph.nodes), "dir": "golden", "calibration": source}
    _say(f"golden graph: {len(graph.nodes)} integer ops")
    return graph


def _reuse_by_node(graph, cfg):
    """Reuse factor per golden node from the dataflow folding (estimate layers are named by torch module)."""
    est = cfg.report["estimate"]
    df = est["chosen"] if est["architecture"] == "dataflow" else est["alternative"]
    by_module = {l["name"]: l["reuse_factor"] for l in df["layers"]}
    return {n.name: by_module[n.attrs["module"]] for n in graph.nodes if n.attrs.get("module") in by_module}


@contextmanager
def _cwd(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def step_hls_project(graph, cfg: BuildConfig):
    """QKeras lowering and the hls4ml Vitis project for one LR frame (720p output), written, not compiled."""
    from srhw.export.hls import BACKEND, IO_TYPE, convert, layer_reuse_factors
    from srhw.profile.counting import lr_size

    from srhw.export.qkeras import to_qkeras

    h, w = lr_size(cfg.scale)
    t0 = time.perf_counter()
    lowered = to_qkeras(graph, h, w)
    reuse = _reuse_by_node(graph, cfg)
    seed = hashlib.sha256((cfg.tmp / "golden" / "graph.npz").read_bytes()).hexdigest()
    with _cwd(cfg.tmp):  # relative output dir: no absolute path in hls4ml's config files
        hm, hcfg = convert(lowered, "hls", cfg.part.name, cfg.clock_mhz, reuse, seed=seed)
        hm.write()
    _make_deterministic(cfg.tmp / "hls")
    used = layer_reuse_factors(hm)
    cfg.report["hls"] = {"dir": "hls", "backend": BACKEND, "io_type": IO_TYPE, "input_hw": [h, w],
                         "keras_layers": len(lowered.model.layers), "hls_layers": len(list(hm.get_layers())),
                         "reuse_factors_used": used,
                         "vitis_hls": "project files written; no vitis_hls/Vivado on this machine, never synthesised"}
    write_json(cfg.tmp / "report" / "hls_config.json", hcfg)
    # wall-clock times are the only non-deterministic output: kept out of report.json (and of the project)
    write_json(cfg.tmp / "report" / "timings.json", {"lower_convert_write_s": round(time.perf_counter() - t0, 1)})
    _say(f"hls4ml project: {cfg.report['hls']['hls_layers']} layers for a {w}x{h} LR frame -> hls/")
    return graph


def _make_deterministic(project: Path):
    """Drop what hls4ml writes that is not a function of the inputs (documented in the report).

    hls4ml saves the Keras model as `keras_model.keras` (a zip with timestamps) for its YAML config;
    the HLS project does not use it, and `golden/` holds the exact description it came from.
    """
    for f in list(project.glob("*.keras")) + list(project.parent.glob("*.tar.gz")):
        f.unlink()
    for f in project.rglob("*"):
        if f.is_file() and f.suffix in (".yml", ".tcl", ".sh", ".h", ".cpp", ".py", ".txt", ".json"):
            text = f.read_text(errors="replace")
            new = text.replace(str(project.parent.resolve()) + os.sep, "").replace(str(project.parent) + os.sep, "")
            if new != text:
                f.write_text(new)


def _csim_images(cfg, crop):
    from srhw.data import default_data_dir
    from srhw.data.folders import read_image, to_rgb

    ims = []
    for f in sorted((default_data_dir() / "Set5" / "LR_bicubic" / f"X{cfg.scale}").glob("*.png"))[:2]:
        im = to_rgb(read_image(f))
        y0, x0 = (im.shape[0] - crop) // 2, (im.shape[1] - crop) // 2
        ims.append(im[y0:y0 + crop, x0:x0 + crop])
    rng = np.random.default_rng(0)
    ims.append(rng.integers(0, 256, (crop, crop, 3), dtype=np.uint8))
    ims.append(np.zeros((crop, crop, 3), np.uint8))
    ims.append(np.full((crop, crop, 3), 255, np.uint8))
    ims.append((np.indices((crop, crop)).sum(0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, 2))  # checkerboard
    return np.stack(ims)


def step_csim(graph, cfg: BuildConfig):
    """hls4ml/g++ C-simulation on Set5 crops + random + extreme inputs, bit-exact against the golden model."""
    from srhw.export.hls import run_csim

    if not cfg.csim:
        cfg.report["csim"] = {"checked": 0, "mismatches": None, "ran": False, "source": "hls4ml"}
        return graph
    x = _csim_images(cfg, cfg.csim_crop)
    _say(f"C-sim: {len(x)} images of {cfg.csim_crop}x{cfg.csim_crop} (compiling with g++, this takes a while)")
    work = Path(tempfile.mkdtemp(prefix="csim-", dir=cfg.tmp))
    try:
        r = run_csim(graph, x, work, reuse=_reuse_by_node(graph, cfg))
    except RuntimeError as e:
        raise SrhwError(str(e).splitlines()[0]) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r.pop("outputs")
    cfg.report["csim"] = {**{k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()},
                          "ran": True, "inputs": "2 Set5 LR centre crops, random, all-0, all-255, checkerboard",
                          "project": "a separate project at the crop size (H, W are compile-time constants)",
                          "source": "hls4ml"}
    _say(f"C-sim: {r['mismatches']} mismatches in {r['checked']} output values")
    return graph


def step_engine(graph, cfg: BuildConfig):
    """The layer-sequential engine project in engine/ (hls/engine/ + this graph's program); with --csim, its
    g++ C-simulation on step_csim's images, bit-exact against the golden model on every output value."""
    from srhw.export.engine import Datapath, lanes_summary, run_engine_csim, write_project

    info = write_project(graph, cfg.tmp / "engine", cfg.part.name, cfg.clock_mhz)
    dp = Datapath(**info["datapath"])
    e = cfg.report["estimate"]
    ls = e["chosen"] if e["architecture"] == "layer-sequential" else e["alternative"]
    assert ls["engine"]["config"] == info["datapath"], "the estimate and engine/ must describe the same datapath"
    sec = {"dir": "engine", "architecture": "layer-sequential", "config": dp.as_dict(), "lanes": lanes_summary(dp),
           "descriptors": info["descriptors"], "arena_bytes_per_lr_pixel": info["arena_units"],
           "weight_bytes": info["weight_bytes"], "buffers": info["config"],
           "vitis_hls": "script.tcl written; no vitis_hls/Vivado on this machine, never synthesised",
           "csim": {"ran": False, "checked": 0, "mismatches": None, "source": "g++ C-simulation of hls/engine"}}
    _say(f"engine: {info['descriptors']} descriptors, {info['weight_bytes']:,} weight bytes -> engine/")
    if cfg.csim:
        x = _csim_images(cfg, cfg.csim_crop)
        work = Path(tempfile.mkdtemp(prefix="engine-csim-", dir=cfg.tmp))
        try:
            r = run_engine_csim(graph, x, work, datapath=dp)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r.pop("outputs")
        sec["csim"] = {"ran": True, "checked": r["checked"], "mismatches": r["mismatches"],
                       "compile_s": round(r["compile_s"], 2), "run_s": round(r["run_s"], 2),
                       "golden_s": round(r["golden_s"], 2), "images": r["images"], "input_hw": r["input_hw"],
                       "types": r["types"], "inputs": "2 Set5 LR centre crops, random, all-0, all-255, checkerboard",
                       "source": "g++ C-simulation of hls/engine"}
        _say(f"engine C-sim: {r['mismatches']} mismatches in {r['checked']} output values "
             f"(compile {r['compile_s']:.1f} s, run {r['run_s']:.1f} s)")
    cfg.report["engine"] = sec
    return graph


def _engine_note(rep_arch: str, eng: dict) -> str:
    cs = eng["csim"]
    checked = (f"C-simulated with g++ on this build's images, {cs['mismatches']} mismatches in {cs['checked']} output "
               "values against the golden model" if cs.get("ran") else "not C-simulated in this build (--csim)")
    ln = eng["lanes"]
    size = (f"datapath {ln['lanes']} lanes x {ln['simd']} int8 MACs or x {ln['tsimd']} ternary terms per cycle, chosen "
            "for this part and written to engine/srhw_config.h")
    if rep_arch == "layer-sequential":
        return ("engine/ is the layer-sequential engine these figures describe (HLS C++ from hls/engine/ with this "
                f"graph's program; {size}; {checked}); the figures are the cost model OF THAT ENGINE "
                "(srhw.export.engine_cost: its pipelined-loop cycles at II = 1, its multipliers, adder trees and "
                "declared buffers), still analytic: never synthesised; "
                "hls/ is the hls4ml dataflow pipeline (one block per layer), a bit-exact reference that does NOT fit "
                "this part (see 'Other architecture')")
    return ("hls/ is the hls4ml dataflow pipeline these figures describe; engine/ is the layer-sequential engine of "
            f"'Other architecture' (HLS C++ from hls/engine/; {checked}; never synthesised)")


def step_rtl(graph, cfg: BuildConfig):
    """Hook for the RTL section (issue 6): rtl/ may provide `build_section(graph, cfg) -> dict`."""
    try:
        from rtl import build_section  # noqa: F401 - provided by the rtl package when it exists
    except ImportError:
        cfg.report["rtl"] = {"status": "not included: rtl.build_section is not available yet (issue 6)"}
        return graph
    cfg.report["rtl"] = build_section(graph, cfg)
    return graph


def step_report(graph, cfg: BuildConfig):
    """report.json (machine-readable, the keys the issue names) and report.md (for people)."""
    e = cfg.report["estimate"]
    ch = e["chosen"]
    layers = [{"name": l["name"], "kind": l["kind"], "mults_per_pixel": l["mults_per_pixel"],
               "adds_per_pixel": l["adds_per_pixel"], "reuse_factor": l["reuse_factor"],
               "cycles_per_pixel": l["cycles_per_pixel"], "dsp": l["dsp"], "lut": l["lut"], "bram": l["bram"],
               "source": "analytic"} for l in ch["layers"]]
    rep = {
        "model": cfg.spec, "scale": cfg.scale, "part": cfg.part.name, "capacity": cfg.part.capacity(),
        "part_source": cfg.part.source, "architecture": e["architecture"],
        "totals": {**ch["totals"], "source": "analytic"}, "fits": e["fits"], "layers": layers,
        "fps_720p": e["fps_720p"], "clock_mhz": cfg.clock_mhz, "roofline": e["roofline"],
        "efficiency_vs_roofline": e["efficiency_vs_roofline"], "alternative": {
            k: e["alternative"][k] for k in ("architecture", "fits", "totals", "fps_720p")},
        "notes": ch["notes"] + [_engine_note(e["architecture"], cfg.report["engine"])],
        "hls_project_architecture": "dataflow",
        "ca_buffer": e["ca_buffer"], "assumptions": e["assumptions"],
        "weights": cfg.report["weights"], "golden": cfg.report.get("golden"), "hls": cfg.report.get("hls"),
        "csim": cfg.report["csim"], "engine": cfg.report["engine"], "rtl": cfg.report.get("rtl"),
        "determinism": "no timestamps or absolute paths in the written files; hls4ml's library stamp is a hash of "
                       "the graph; build_lib.sh computes the weights directory when it runs (absolute path compiled "
                       "into the C-sim library: moving the project needs a recompile); engine/ is a function of the "
                       "graph, part and clock only (byte-identical for the same inputs)",
    }
    write_json(cfg.tmp / "report.json", rep)
    write_text(cfg.tmp / "report.md", render_markdown(rep))
    write_text(cfg.tmp / "report.html", render_html(rep))
    return graph


STEPS = [step_load_model, step_quantize, step_estimate, step_hls_project, step_engine, step_csim, step_rtl,
         step_report]


def render_markdown(rep: dict) -> str:
    cap, tot = rep["capacity"], rep["totals"]
    r = rep["roofline"]
    a = r["assumptions"]
    lines = [
        f"# {rep['model']} x{rep['scale']} on {rep['part']}", "",
        f"Weights: {rep['weights']['source']}.",
        "All resource, cycle and fps figures are **analytic estimates** (srhw.export.estimate), not synthesis "
        "results; no Vivado/vitis_hls exists here. C-sim figures are hls4ml/g++ measurements.", "",
        f"Architecture: **{rep['architecture']}**; fits: **{rep['fits']}**; fps_720p: **{rep['fps_720p']:.3g}** "
        f"at {rep['clock_mhz']:g} MHz (analytic).", "",
        "| resource | estimate | capacity | use |", "|---|---|---|---|",
    ]
    for k in ("lut", "ff", "dsp", "bram"):
        lines.append(f"| {k.upper()} | {tot[k]:,} | {cap[k]:,} | {100 * tot[k] / cap[k]:.1f} % |")
    alt = rep["alternative"]
    lines += ["", f"Other architecture ({alt['architecture']}): fits {alt['fits']}, LUT {alt['totals']['lut']:,}, "
              f"DSP {alt['totals']['dsp']:,}, BRAM36 {alt['totals']['bram']:,}, {alt['fps_720p']:.3g} fps.", ""]
    lines += [f"- {n}" for n in rep["notes"]]
    lines += ["", "## Roofline (hardware.md definition)", "",
              f"roofline fps = {r['fps']:.3g} ({r['bound']}-bound); estimate / roofline = {rep['efficiency_vs_roofline']:.3f}.",
              f"Assumptions: clock {a['clock_mhz']:g} MHz, {a['dsp_available']} DSPs, LUT budget {a['lut_budget_for_arithmetic']:,} "
              f"at {a['luts_per_adder']} LUTs per adder = {a['adder_lanes']:,} adder lanes, DDR {a['ddr_gbps_practical']} GB/s practical, "
              f"{r['offchip_bytes_per_frame'] / 1e6:.1f} MB off chip per frame. Adds: {a['adds']}.", ""]
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
    lines += ["", "## RTL (rtl/, issue 6)", "", _rtl_summary(rep.get("rtl")), ""]
    return "\n".join(lines)


def _engine_summary(eng: dict | None) -> str:
    if not eng:
        return "n/a"
    ln, cs = eng["lanes"], eng["csim"]
    text = (f"`{eng['dir']}/`: {eng['descriptors']} descriptors; {ln['lanes']} lanes x {ln['simd']} int8 MACs "
            f"({ln['dsp_macs']} DSP multipliers) or x {ln['tsimd']} ternary add/sub terms per cycle, {ln['dsp_scales']} "
            f"scale multipliers; {eng['weight_bytes']:,} weight bytes, arena {eng['arena_bytes_per_lr_pixel']} bytes per LR "
            f"pixel. {eng['vitis_hls']}. ")
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
            f"{rtl['fps_720p']:.3g} fps at 720p against a roofline of {rtl['roofline_fps']:.3g} fps "
            f"(sources: {rtl.get('source')}).")


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}th{{background:#eee}}</style></head>
<body><h1>{title}</h1>
<p>All resource, cycle and fps figures of the HLS designs are <b>analytic estimates</b>; C-sim figures are hls4ml/g++
and engine/g++ measurements; RTL counts come from the CSE plan and Yosys. No Vivado or vitis_hls exists here.</p>
<p>Architecture: <b>{arch}</b>; fits {part}: <b>{fits}</b>; {fps:.3g} fps for a 1280x720 output at {clock:g} MHz;
roofline {roof:.3g} fps ({bound}-bound), ratio {eff:.3f}. C-sim: hls4ml dataflow {csim}.</p>
<h2>Layer-sequential engine</h2><p>{engine}</p>
<h2>Resources</h2><table><tr><th>resource</th><th>estimate</th><th>capacity</th><th>use</th></tr>{res}</table>
<h2>Layers (analytic)</h2><table><tr><th>layer</th><th>kind</th><th>mults/px</th><th>adds/px</th><th>reuse</th>
<th>cycles/px</th><th>DSP</th><th>LUT</th><th>BRAM36</th></tr>{layers}</table>
{rtl}
</body></html>
"""


def render_html(rep: dict) -> str:
    """report.html: the headline numbers, the resource and layer tables, and the RTL section with its plot."""
    import html

    cap, tot = rep["capacity"], rep["totals"]
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
    try:
        from rtl import report_html_section
        rtl = report_html_section(rep["rtl"] or {"status": "n/a"})
    except ImportError:
        rtl = f"<section><h2>RTL</h2><p>{html.escape(_rtl_summary(rep.get('rtl')))}</p></section>"
    r = rep["roofline"]
    return _HTML.format(title=html.escape(f"{rep['model']} x{rep['scale']} on {rep['part']}"), arch=html.escape(rep["architecture"]),
                        part=rep["part"], fits=rep["fits"], fps=rep["fps_720p"], clock=rep["clock_mhz"], roof=r["fps"],
                        bound=r["bound"], eff=rep["efficiency_vs_roofline"], csim=csim, res=res, layers=layers, rtl=rtl,
                        engine=html.escape(_engine_summary(rep.get("engine"))))


def make_config(args) -> BuildConfig:
    from srhw.hw.parts import get_part
    from srhw.models import SCALES, canonical
    from srhw.cli.profile import model_spec

    spec = canonical(model_spec(args.model, args.r))
    if args.scale not in SCALES:
        raise SrhwError(f"unsupported scale {args.scale}: the study uses x2, x3 and x4")
    part = get_part(args.part)
    ckpt = None
    if args.random_weights:
        if args.checkpoint:
            raise SrhwError("give either --checkpoint or --random-weights, not both")
    else:
        ckpt = Path(args.checkpoint) if args.checkpoint else default_checkpoint(spec, args.scale)
        if not ckpt.is_file():
            raise SrhwError(f"no checkpoint {ckpt} for {spec} x{args.scale} (none shipped yet): pass --checkpoint, "
                            "or --random-weights for a smoke build")
    out = Path(args.out) if args.out else Path("build") / f"{_slug(spec)}-{part.name}"
    if args.clock <= 0:
        raise SrhwError("--clock must be positive (MHz)")
    return BuildConfig(spec, args.scale, part, args.clock, out, Path(), ckpt, args.random_weights, args.csim,
                       args.csim_crop)


def run(args) -> int:
    cfg = make_config(args)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.tmp = Path(tempfile.mkdtemp(prefix=f".{cfg.out.name}.tmp-", dir=cfg.out.parent))
    try:
        state = None
        for step in STEPS:
            _say(step.__name__)
            state = step(state, cfg)
        if cfg.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{cfg.out.name}.old-", dir=cfg.out.parent))
            os.replace(cfg.out, old / "x")
            os.replace(cfg.tmp, cfg.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(cfg.tmp, cfg.out)
    finally:
        if cfg.tmp.exists():
            shutil.rmtree(cfg.tmp, ignore_errors=True)
    rep = json.loads((cfg.out / "report.json").read_text())
    print(f"{cfg.spec} x{cfg.scale} on {cfg.part.name}: {rep['architecture']}, fits={rep['fits']}, "
          f"{rep['fps_720p']:.3g} fps at {cfg.clock_mhz:g} MHz (analytic); csim mismatches={rep['csim']['mismatches']} "
          f"of {rep['csim']['checked']}; engine csim mismatches={rep['engine']['csim']['mismatches']} of "
          f"{rep['engine']['csim']['checked']}; report: {cfg.out / 'report.md'}")
    return 0

"""The build flow behind `srhw build` (srhw.cli.build): a quantized zoo model to HLS/RTL designs and their report.

The build is an ordered list of `step_*(model, cfg)` functions (as FINN's builder); each
returns the model state and may write a JSON report under `<out>/report/`. Everything is built into a
staged folder beside `--out` (srhw.core.io.staged) and renamed onto it only at the end, so an error leaves
nothing behind.

Two HLS designs are written: `hls/`, the hls4ml dataflow pipeline (one block per layer), and `engine/`, the
layer-sequential engine (hand-written HLS C++ in hls/engine/ plus this graph's program, srhw.export.engine)
that the "layer-sequential" estimate describes. The last step, the report, is srhw.flows.report; the RTL
slice's standalone bench in sim/ is srhw.flows.handoff, the folder's README.md srhw.flows.readme.

What is measured and what is estimated: resources, cycles and fps are ANALYTIC (`srhw.export.estimate`,
source "analytic"); C-simulation results are hls4ml/g++ and engine/g++ measurements; no Vivado or
vitis_hls exists on these machines, so neither written `vitis_hls` project has ever been synthesised.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.core.io import write_json
from srhw.flows.progress import live, phase, say, silenced
from srhw.flows.report import step_report


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
    target_fps: float = 30.0
    data_dir: Path | None = None  # data root (default: srhw.data.default_data_dir())

    @property
    def data(self) -> Path:
        from srhw.data import default_data_dir

        return self.data_dir or default_data_dir()
    report: dict = field(default_factory=dict)
    loaded: tuple | None = None  # (state_dict, sidecar) of the checkpoint
    force: bool = False  # --force: replace --out even if it holds files srhw did not write
    quiet: bool = False  # --quiet: no step lines (the CLI still prints its summary line and errors)


def _say(msg):
    say(f"[srhw build] {msg}")


from srhw.core.names import shipped_checkpoint as default_checkpoint, slug as _slug  # noqa: E402,F401 - the one slug


# --- steps ----------------------------------------------------------------------------------------

def step_load_model(model, cfg: BuildConfig):
    """The torch model: checkpoint weights (checked against the spec and r), or labelled random weights."""
    import torch

    from srhw.core.checkpoint import load_checkpoint
    from srhw.models import build, canonical, freeze_all
    from srhw.models.load import load_model

    if cfg.random_weights:
        torch.manual_seed(0)
        model = freeze_all(build(cfg.spec, cfg.scale, **cfg.model_args))  # ternary codes of the random weights
        cfg.report["weights"] = {"source": "random (smoke build; --random-weights)", "seed": 0}
        return model
    sd, meta = load_checkpoint(cfg.checkpoint)
    cfg.loaded = (sd, meta)  # step_quantize checks the checkpoint's integer graph against these weights
    if meta.get("spec") is None:
        raise SrhwError(f"{cfg.checkpoint}: sidecar names no spec; cannot check it is a {canonical(cfg.spec)} checkpoint")
    model, meta = load_model(cfg.checkpoint, cfg.spec, cfg.scale)
    cfg.model_args = dict(meta.get("model_args") or {})
    cfg.report["weights"] = {"source": "checkpoint", "checkpoint": cfg.checkpoint.name, "model_args": cfg.model_args,
                             "quant": meta.get("quant")}
    return model


def step_estimate(graph, cfg: BuildConfig):
    """Analytic per-layer cost at 720p, reuse factors, fit and roofline (raises if nothing fits): the dataflow
    pipeline, and the written layer-sequential engine running this golden graph's program."""
    from srhw.export.estimate import dense_work, estimate, model_layers

    layers = model_layers(cfg.spec, cfg.scale, **cfg.model_args)
    cfg.report["work"] = dense_work(layers)
    cfg.report["estimate"] = estimate(cfg.spec, cfg.scale, cfg.part, cfg.clock_mhz, layers=layers, graph=graph,
                                      **cfg.model_args)
    write_json(cfg.tmp / "report" / "estimate.json", cfg.report["estimate"])
    e = cfg.report["estimate"]
    _say(f"estimate: {e['architecture']} fits {cfg.part.name}: {e['fits']}, {e['fps_720p']:.3g} fps at {cfg.clock_mhz:g} MHz (analytic)")
    return graph


def step_quantize(model, cfg: BuildConfig):
    """The integer golden graph the lowering consumes: the checkpoint's own (a `srhw quantize` output), else
    INT8 PTQ (srhw.quant) calibrated on T91 crops (Y crops for a Y model) of its inference form (the real-time
    networks' `deploy()`: FSRCNN's sub-pixel tail, SESR collapsed)."""
    from srhw.quant import load_graph, quantize
    from srhw.eval.upscalers import golden_dir

    shipped = cfg.checkpoint is not None and (cfg.report["weights"].get("quant") is not None)
    if shipped:
        from srhw.core.integrity import check_source

        graph = load_graph(golden_dir(cfg.checkpoint))
        check_source(graph, golden_dir(cfg.checkpoint), cfg.checkpoint, *cfg.loaded)
        source = f"the checkpoint's integer graph ({cfg.report['weights']['quant']}, from srhw quantize)"
    else:
        phase("INT8 PTQ calibration on T91 crops")
        from srhw.data.calibration import t91_crops
        from srhw.quant.int8 import deploy_form

        channels = int(getattr(model, "channels", 3))
        # what the golden model runs (the real-time networks' inference form), as `srhw quantize int8` quantizes it
        runs = deploy_form(model) if hasattr(model, "deploy") else model
        about = {"spec": cfg.spec, "scale": cfg.scale, **({"channels": channels} if channels != 3 else {})}
        graph = quantize(runs, t91_crops(cfg.data, cfg.scale, channels)).export(about)
        from srhw.core.integrity import record_source

        sd, meta = cfg.loaded or (model.state_dict(), {"spec": cfg.spec, "scale": cfg.scale, "model_args": cfg.model_args})
        record_source(graph, sd, meta, cfg.checkpoint.name if cfg.checkpoint else "random weights (seed 0)")
        source = "INT8 PTQ here: the first 4 T91 HR images with room for a 48x48 LR crop, bicubic" + (
            ", their Y" if channels == 1 else "")
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
    phase(f"lowering {len(graph.nodes)} ops to QKeras")
    lowered = to_qkeras(graph, h, w)
    reuse = _reuse_by_node(graph, cfg)
    seed = hashlib.sha256((cfg.tmp / "golden" / "graph.npz").read_bytes()).hexdigest()
    with _cwd(cfg.tmp):  # relative output dir: no absolute path in hls4ml's config files
        phase(f"hls4ml converting {len(lowered.model.layers)} Keras layers")
        hm, hcfg = convert(lowered, "hls", cfg.part.name, cfg.clock_mhz, reuse, seed=seed)
        phase("hls4ml writing the project")
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
    from srhw.data.folders import read_image, to_rgb

    ims = []
    for f in sorted((cfg.data / "Set5" / "LR_bicubic" / f"X{cfg.scale}").glob("*.png"))[:2]:
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
    phase(f"hls4ml/g++ compiling and simulating {len(x)} images")
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
           "bound_layer": ls["engine"]["bound_layer"], "bound_resource": ls["engine"]["bound_resource"],
           "vitis_hls": "script.tcl written; no vitis_hls/Vivado on this machine, never synthesised",
           "csim": {"ran": False, "checked": 0, "mismatches": None, "source": "g++ C-simulation of hls/engine"}}
    _say(f"engine: {info['descriptors']} descriptors, {info['weight_bytes']:,} weight bytes -> engine/")
    if cfg.csim:
        x = _csim_images(cfg, cfg.csim_crop)
        work = Path(tempfile.mkdtemp(prefix="engine-csim-", dir=cfg.tmp))
        phase(f"g++ compiling and simulating the engine on {len(x)} images")
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


def step_rtl(graph, cfg: BuildConfig):
    """The RTL backend's section: multiplier-free SP kernels of this graph's codes, their fit, and rtl/ + sim/."""
    from rtl import build_section

    cfg.report["rtl"] = build_section(graph, cfg)
    sl = cfg.report["rtl"].get("slice")
    if sl:  # the slice's bench, runnable where it is written
        from srhw.flows.handoff import write_sim

        cfg.report["rtl"]["files"] = [f for f in cfg.report["rtl"].get("files", []) if not f.startswith("sim/")]
        cfg.report["rtl"]["files"] += write_sim(cfg.tmp, graph, sl)
    return graph


def step_stream_check(graph, cfg: BuildConfig):
    """A Y real-time network's streaming RTL, checked before the HLS steps run: an op the compiler cannot
    build, a target fps the part cannot meet or a frame the line buffers cannot hold fails the build here."""
    from rtl.stream.flow import check_design, required

    if required(graph):
        check_design(graph, cfg.part, cfg.target_fps, cfg.clock_mhz)
    return graph


def step_stream_rtl(graph, cfg: BuildConfig):
    """The whole-network streaming RTL (rtl.stream) where every op of the graph streams: rtl/ + `stream_rtl`."""
    from rtl.stream.flow import build_stream, streamable

    why = streamable(graph)
    if why:
        cfg.report["stream_rtl"] = {"status": f"not built: {why}"}
        _say(f"streaming RTL not built: {why}")
        return graph
    cfg.report["stream_rtl"] = build_stream(graph, cfg.part, cfg.target_fps, cfg.clock_mhz, cfg.tmp / "rtl",
                                            replace=False, log=_say)
    return graph


STEPS = [step_load_model, step_quantize, step_stream_check, step_estimate, step_hls_project, step_engine, step_csim, step_rtl,
         step_stream_rtl, step_report]


STEP_TITLES = {step_load_model: "load the model", step_quantize: "integer golden graph",
               step_stream_check: "streaming RTL checks", step_estimate: "cost estimate",
               step_hls_project: "hls4ml project", step_engine: "layer-sequential engine", step_csim: "C-simulation",
               step_rtl: "RTL kernels and fit", step_stream_rtl: "streaming RTL", step_report: "report"}


def run_build(cfg: BuildConfig) -> dict:
    """Every step into a staged folder beside cfg.out (srhw.core.io.staged), renamed onto it only at the end;
    returns report.json. One line per step: its plain name and elapsed time."""
    from srhw.core.io import staged

    with staged(cfg.out, folder=True, force=cfg.force, replace=True) as tmp, (silenced() if cfg.quiet else nullcontext()):
        cfg.tmp = tmp
        state = None
        for i, step in enumerate(STEPS, 1):
            t0 = time.perf_counter()
            with live(f"[srhw build] {i}/{len(STEPS)} {STEP_TITLES[step]}"):  # terminal only: a live line
                state = step(state, cfg)
            took = "not run (add --csim)" if step is step_csim and not cfg.csim else f"{time.perf_counter() - t0:.1f} s"
            _say(f"{i}/{len(STEPS)} {STEP_TITLES[step]}: {took}")
    return json.loads((cfg.out / "report.json").read_text())

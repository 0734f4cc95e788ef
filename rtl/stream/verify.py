"""End-to-end check of a compiled top: golden executor outputs -> the cocotb bench (sim/stream_tb.py).

`golden_frames` runs srhw.quant.golden on (K, H, W, C) uint8 frames; `run_stream_bench` writes the case,
builds the Verilog with Icarus or Verilator (rtl.bench.run_cocotb) and returns the bench summary:
pixels checked, errors, cycles per frame and latency measured in simulation (source: cocotb).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from srhw.quant.golden import Golden
from srhw.quant.graph import IntGraph

from rtl.bench import BenchError, run_cocotb


def golden_frames(g: IntGraph, frames: np.ndarray) -> np.ndarray:
    """(K, H, W, C) uint8 -> the golden executor's (K, Ho, Wo, Co) output codes."""
    x = np.ascontiguousarray(frames.transpose(0, 3, 1, 2)).astype(np.uint8)
    y = Golden(g).run_all(x)[g.output]
    return y.transpose(0, 2, 3, 1).astype(np.int64)


def extreme_frames(h: int, w: int, c: int, seed: int) -> list:
    """All max, all min, a checkerboard of both and a random frame: the corner cases of every window."""
    alt = (np.indices((h, w)).sum(0) % 2).astype(bool)[..., None]
    rnd = np.random.default_rng(seed).integers(0, 256, (h, w, c))
    return [np.full((h, w, c), 255), np.zeros((h, w, c)), np.where(alt, 255, 0) + 0 * rnd, rnd]


def run_stream_bench(g: IntGraph, verilog_path, module: str, frames: np.ndarray, stress, build_dir,
                     sim: str = "icarus", seed: int = 1, valid_prob: float = 0.7, ready_prob: float = 0.6,
                     expected: np.ndarray | None = None) -> dict:
    build_dir = Path(build_dir).resolve()  # the bench runs in its build folder: its paths must be absolute
    build_dir.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames).astype(np.uint8)
    exp = golden_frames(g, frames) if expected is None else expected
    np.savez(build_dir / "case.npz", frames=frames, expected=exp, stress=np.asarray(stress, np.int64))
    env = {"STREAM_CASE": str(build_dir / "case.npz"), "SEED": seed, "VALID_PROB": valid_prob, "READY_PROB": ready_prob}
    return run_cocotb(sim, verilog_path, module, "stream_tb", build_dir / sim, env)


def check_whole_images(g, folds: dict, images: dict, work_dir, sim: str = "verilator", seed: int = 1,
                       valid_prob: float = 0.7, ready_prob: float = 0.6, log=print) -> list:
    """Every image (name -> (H, W, C) uint8) through its own top (the frame size is a generation
    parameter) inside `CheckHarness`: random tvalid bubbles and tready gaps, every HR pixel and its
    tuser/tlast compared in the HDL with the golden executor's output. One summary row per image."""
    from amaranth.back import verilog

    from rtl.stream.compiler import plan_graph
    from rtl.stream.harness import CheckHarness
    from rtl.stream.top import StreamTop

    work = Path(work_dir).resolve()
    rows = []
    for k, (name, im) in enumerate(images.items()):
        H, W, _ = im.shape
        plan = plan_graph(g, W, H, folds)
        exp = golden_frames(g, im[None])
        v = verilog.convert(CheckHarness(StreamTop(g, plan), im[None], exp, valid_prob, ready_prob, seed=seed + k),
                            name="srhw_stream_check", emit_src=False, strip_internal_attrs=True)
        d = work / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "check.v").write_text(v)
        log(f"whole image {name} {W}x{H}: Verilator build + run")
        try:
            s = run_cocotb(sim, d / "check.v", "srhw_stream_check", "stream_check_tb", d / sim,
                           {"EXPECTED_BEATS": exp.size})
        except BenchError as e:  # one image's failed run is a failed row (with the log's tail), not a lost sweep
            tail = (d / sim / "test.log").read_text(errors="replace").splitlines()[-30:] if (d / sim / "test.log").is_file() else []
            log(f"whole image {name}: {str(e).splitlines()[0]}")
            rows.append({"image": name, "lr_size": [W, H], "hr_pixels": int(exp.size), "checked": 0, "errors": None,
                         "flag_errors": None, "cocotb_pass": False, "failed": str(e).splitlines()[0], "log_tail": tail,
                         "source": f"cocotb ({sim}), CheckHarness"})
            continue
        rows.append({"image": name, "lr_size": [W, H], "hr_pixels": int(exp.size), "checked": s["checked"],
                     "errors": s["errors"], "flag_errors": s["flag_errors"], "cycles": s["cycles"],
                     "valid_prob": valid_prob, "ready_prob": ready_prob, "seed": seed + k, "cocotb_pass": s["cocotb_pass"],
                     "build_s": s["build_s"], "run_s": s["run_s"], "source": f"cocotb ({sim}), CheckHarness"})
    return rows


def set5_y(scale: int = 2, root=None, names=None) -> dict:
    """Set5 LR images (bicubic, MATLAB-generated) as MATLAB rgb2ycbcr Y, (H, W, 1) uint8, by name."""
    from PIL import Image

    from srhw.data import default_data_dir
    from srhw.data.ycbcr import rgb2y

    root = Path(root) if root else Path(default_data_dir())
    folder = root / "Set5" / "LR_bicubic" / f"X{scale}"
    out = {}
    for f in sorted(folder.glob(f"*x{scale}.png")):
        img = np.asarray(Image.open(f).convert("RGB"))
        out[f.stem[: -len(f"x{scale}")]] = rgb2y(img).astype(np.uint8)[..., None]
    if names:
        from srhw.core.errors import SrhwError

        missing = [n for n in names if n not in out]
        if missing:
            raise SrhwError(f"no Set5 image {missing[0]!r} (have {', '.join(out)})")
        out = {n: out[n] for n in names}
    if not out:
        from srhw.core.errors import SrhwError

        raise SrhwError(f"no Set5 x{scale} LR images under {folder}")
    return out

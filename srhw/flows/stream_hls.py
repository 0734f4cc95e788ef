"""The HLS side of a streaming RTL design: the hls4ml project (io_stream) of the same integer graph, each
conv's reuse factor taken from the streaming folding, and its g++ C-simulation bit-exact against the
golden executor.

    reuse_from_folding(folding)                      -> {conv: cycles per pixel F = fold_m x fold_n}
    write_project(graph, folding, out_dir, part)     -> the project for the folding's LR frame (not compiled)
    csim(graph, folding, frames, work_dir)           -> C-simulation at the frames' size, compared value by value

A reuse factor R makes hls4ml compute a conv's n_in x n_out products of one output pixel on
n_in n_out / R multipliers in R cycles, the same trade as the RTL's F. hls4ml 1.3.0 accepts only an R that
divides n_in = K K c_in (srhw.export.hls.valid_reuse): where F does not, the largest divisor below it is
used, and both are reported (`reuse_requested`, `reuse_used`). H and W are compile-time constants of an
hls4ml project, so the C-simulation builds its own project at the frames' size (a crop: the g++ C-sim runs
~26 ns per multiply-accumulate, shared/notes/stack.md); the project for the real frame is only written.
Nothing here has been through vitis_hls (none on these machines).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError


def reuse_from_folding(folding: dict) -> dict:
    """{conv node: F} from rtl.stream.folding.choose_folding's folds."""
    return {name: int(fm) * int(fn) for name, (fm, fn) in folding["folds"].items()}


def _by_node(reuse: dict, hls_layers: dict) -> dict:
    """hls4ml's reuse factor per conv node (the lowering names a conv's product layer `<node>_conv`)."""
    return {n: hls_layers.get(f"{n}_conv", hls_layers.get(n)) for n in reuse}


def _used(hm, reuse: dict) -> dict:
    from srhw.export.hls import layer_reuse_factors

    return _by_node(reuse, layer_reuse_factors(hm))


def write_project(graph, folding: dict, out_dir, part: str, clock_mhz: float) -> dict:
    """The hls4ml Vitis project (io_stream) of `graph` at the folding's LR frame, written into out_dir/hls."""
    from srhw.export.hls import BACKEND, IO_TYPE, convert
    from srhw.export.qkeras import to_qkeras

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w, h = folding["in_frame"]
    reuse = reuse_from_folding(folding)
    lowered = to_qkeras(graph, h, w)
    seed = hashlib.sha256(repr(sorted(reuse.items())).encode()
                          + b"".join(np.ascontiguousarray(graph.arrays[k]).tobytes() for k in sorted(graph.arrays))
                          ).hexdigest()
    old = os.getcwd()
    os.chdir(out_dir)  # relative output dir: no absolute path in hls4ml's config files
    try:
        hm, _ = convert(lowered, "hls", part, clock_mhz, reuse, seed=seed)
        hm.write()
    finally:
        os.chdir(old)
    for f in (out_dir / "hls").glob("*.keras"):  # a zip with timestamps; the project does not use it
        f.unlink()
    return {"dir": "hls", "backend": BACKEND, "io_type": IO_TYPE, "input_hw": [h, w],
            "reuse_requested": reuse, "reuse_used": _used(hm, reuse), "hls_layers": len(list(hm.get_layers())),
            "vitis_hls": "project files written; no vitis_hls/Vivado on this machine, never synthesised"}


def csim(graph, folding: dict, frames: np.ndarray, work_dir, timeout: float = 1800) -> dict:
    """hls4ml/g++ C-simulation of (N, H, W, C) uint8 frames with the folding's reuse factors, every output
    value compared with the golden executor's (srhw.export.hls.run_csim, in a subprocess)."""
    from srhw.export.hls import run_csim

    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    reuse = reuse_from_folding(folding)
    try:
        r = run_csim(graph, frames, Path(work_dir), reuse=reuse, timeout=timeout)
    except RuntimeError as e:
        raise SrhwError(str(e).splitlines()[0]) from None
    r.pop("outputs")
    return {"checked": r["checked"], "mismatches": r["mismatches"], "images": r["images"], "input_hw": r["input_hw"],
            "reuse_requested": reuse, "reuse_used": _by_node(reuse, r["reuse_factors"]), "hls_layers": r["hls_layers"],
            "compile_s": round(r["compile_s"], 1), "predict_s": round(r["predict_s"], 1),
            "peak_rss_mb": round(r["peak_rss_mb"]), "io_type": "io_stream", "source": "hls4ml C-sim (g++)"}


def toolchain_missing() -> str:
    """'' where hls4ml's C-simulation can run here (hls4ml, QKeras and g++), else why not."""
    import importlib.util
    import shutil

    for mod in ("hls4ml", "qkeras", "tensorflow"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed"
    if shutil.which("g++") is None:
        return "g++ is not on PATH"
    return ""

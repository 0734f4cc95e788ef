"""QKeras -> hls4ml project (Vitis backend, io_stream) and g++ C-simulation in a subprocess.

    python -m srhw.export.hls csim GRAPH_DIR INPUTS.npy OUT_DIR [--reuse reuse.json]

The worker lowers the golden graph (graph.json + graph.npz) to QKeras (`srhw.export.qkeras`), converts
it with hls4ml, compiles the C-simulation library with g++ and runs `predict` on the inputs; it writes
`outputs.npy` and `csim.json` (timings, peak memory). It runs in its own process because a C++ assert in
the compiled library kills the Python process that loaded it (shared/notes/stack.md).

hls4ml settings (stack.md): io_stream (io_parallel does not compile at full size), weights loaded from
the `.txt` files (compiling them in crashed g++), explicit precisions for every layer (no 'auto' anywhere),
Resource strategy for QConv2D, Latency for depthwise (Resource + depthwise asserts in C-sim).
Determinism: hls4ml's random library stamp is replaced by a hash of the graph and the settings. What
hls4ml still writes that depends on the machine: the compiled library embeds the absolute weights
directory (`build_lib.sh` computes it at compile time; moving the project needs a recompile), and
`hls4mlconfig.yml`/`project.tcl` name the output directory we pass (we pass a relative one).
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BACKEND = "Vitis"
IO_TYPE = "io_stream"
PROJECT = "srhw_sr"
DEFAULT_PRECISION = "ap_fixed<16,6>"  # never used: every layer gets an explicit precision (asserted)


def hls_config(lowered, reuse: dict | None = None, strategy: str = "Resource") -> dict:
    """hls4ml config: every layer's precisions from the golden widths, reuse factors per layer."""
    reuse = reuse or {}
    layers = {"lr_image": {"Precision": {"result": lowered.input_precision}}}
    model = lowered.model
    for layer in model.layers:
        name = layer.name
        if name not in lowered.precisions:
            continue
        prec = dict(lowered.precisions[name])
        node, role = lowered.roles[name]
        entry = {"Precision": prec, "Trace": False}
        cls = type(layer).__name__
        if cls in ("QConv2D",):
            n_in = int(np.prod(layer.kernel_size)) * int(layer.input_shape[-1])
            entry["ReuseFactor"] = valid_reuse(int(reuse.get(node, 1)), n_in)
            entry["Strategy"] = strategy
        elif cls in ("QDepthwiseConv2D",):
            entry["ReuseFactor"] = 1
            entry["Strategy"] = "Latency"  # Resource + depthwise hits a C++ assert (stack.md)
        layers[name] = entry
        if cls.startswith("Q"):
            # the linear activation hls4ml inserts after a layer without one: same exact type (the silent bug)
            layers[f"{name}_linear"] = {"Precision": {"result": prec["result"]}}
    return {"Model": {"Precision": DEFAULT_PRECISION, "ReuseFactor": 1, "Strategy": "Latency",
                      "BramFactor": 1_000_000_000, "TraceOutput": False},
            "LayerName": layers}


def valid_reuse(r: int, n_in: int) -> int:
    """The largest divisor of n_in that is <= r: what hls4ml 1.3.0's Resource dense accepts in C-sim.

    Its Vitis templates lack DenseResource_rf_gt_nin (R > n_in does not compile), and
    dense_resource_rf_leq_nin asserts ceil(n_in n_out / R) % n_out == 0, which a divisor of n_in satisfies.
    """
    r = max(1, min(r, n_in))
    return max(d for d in range(1, r + 1) if n_in % d == 0)


def _stamp(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:8]


def convert(lowered, out_dir, part: str, clock_mhz: float, reuse=None, seed: str = ""):
    """hls4ml model of `lowered` written into `out_dir` (not compiled)."""
    import hls4ml
    import hls4ml.model.optimizer.passes.stamp as stamp_mod

    from srhw.export.hls_ext import register

    register()
    cfg = hls_config(lowered, reuse)
    stamp = _stamp(seed + json.dumps(cfg, sort_keys=True))

    class _Uuid:  # deterministic library stamp (hls4ml draws a uuid4 otherwise)
        @staticmethod
        def uuid4():
            return "0" * 28 + stamp

    stamp_mod.uuid = _Uuid
    hm = hls4ml.converters.convert_from_keras_model(
        lowered.model, hls_config=cfg, output_dir=str(out_dir), project_name=PROJECT, backend=BACKEND,
        io_type=IO_TYPE, part=part, clock_period=round(1000.0 / clock_mhz, 3))
    _check_no_auto(hm)
    return hm, cfg


def _check_no_auto(hm):
    """Every variable of the converted model has a concrete fixed-point type (no 'auto', no default)."""
    for layer in hm.get_layers():
        for var in [layer.get_output_variable()] + list(layer.get_weights()):
            t = str(var.type.precision)
            if "auto" in t.lower():
                raise AssertionError(f"{layer.name}: precision {t} left to hls4ml")


def layer_reuse_factors(hm) -> dict:
    """Reuse factor hls4ml actually uses per layer (it rounds ours to a valid value)."""
    out = {}
    for layer in hm.get_layers():
        rf = layer.get_attr("reuse_factor")
        if rf is not None and layer.class_name in ("Conv2D", "DepthwiseConv2D", "PointwiseConv2D"):
            out[layer.name] = int(rf)
    return out


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def csim_worker(graph_dir, inputs_path, out_dir, reuse=None, part="xc7z020clg400-1", clock_mhz=150.0):
    """Lower, convert, compile and predict in THIS process; writes outputs.npy and csim.json."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from srhw.export.qkeras import to_qkeras
    from srhw.quant.graph import load_graph

    out_dir = Path(out_dir)
    x = np.load(inputs_path)  # (N, H, W, C) uint8
    g = load_graph(graph_dir)
    t0 = time.perf_counter()
    lowered = to_qkeras(g, x.shape[1], x.shape[2])
    hm, _ = convert(lowered, out_dir / "project", part, clock_mhz, reuse, seed=str(graph_dir))
    hm.write()
    t1 = time.perf_counter()
    hm.compile()
    t2 = time.perf_counter()
    y = hm.predict(np.ascontiguousarray(x.astype(np.float64)))
    t3 = time.perf_counter()
    n = x.shape[0]
    y = np.asarray(y).reshape(n, -1)
    np.save(out_dir / "outputs.npy", y)
    info = {"convert_write_s": t1 - t0, "compile_s": t2 - t1, "predict_s": t3 - t2, "peak_rss_mb": _peak_rss_mb(),
            "hls_layers": len(list(hm.get_layers())), "reuse_factors": layer_reuse_factors(hm)}
    (out_dir / "csim.json").write_text(json.dumps(info, indent=2))
    return info


def run_csim(graph, images_hwc: np.ndarray, work_dir, reuse=None, timeout=1800) -> dict:
    """C-simulate `graph` on uint8 images (N, H, W, C) in a subprocess; compare with the golden model.

    Returns {"checked", "mismatches", "outputs", timings...}. Bit-exactness is over every output value.
    """
    from srhw.quant.golden import run_golden

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    graph.save(work_dir / "graph")
    np.save(work_dir / "inputs.npy", images_hwc)
    if reuse:
        (work_dir / "reuse.json").write_text(json.dumps(reuse))
    cmd = [sys.executable, "-m", "srhw.export.hls", "csim", str(work_dir / "graph"), str(work_dir / "inputs.npy"),
           str(work_dir)] + (["--reuse", str(work_dir / "reuse.json")] if reuse else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise RuntimeError(f"C-sim subprocess failed (exit {proc.returncode}): {tail[-1] if tail else ''}\n" + "\n".join(tail))
    info = json.loads((work_dir / "csim.json").read_text())
    y = np.load(work_dir / "outputs.npy")
    n, h, w, _ = images_hwc.shape
    gold = run_golden(graph, images_hwc.transpose(0, 3, 1, 2).copy())  # (N, C, Hs, Ws)
    gold_hwc = gold.transpose(0, 2, 3, 1).reshape(n, -1).astype(np.int64)
    got = np.asarray(y)
    if got.shape != gold_hwc.shape:
        raise RuntimeError(f"C-sim output shape {got.shape} != golden {gold_hwc.shape}")
    exact = np.array_equal(got, np.round(got)) and np.isfinite(got).all()
    mism = int((got.astype(np.int64) != gold_hwc).sum()) if exact else int(got.size)
    return {**info, "checked": int(got.size), "mismatches": mism, "wall_s": wall, "images": int(n),
            "input_hw": [int(h), int(w)], "outputs": got.astype(np.int64).reshape(n, *gold.shape[2:], gold.shape[1])}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m srhw.export.hls")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csim")
    c.add_argument("graph")
    c.add_argument("inputs")
    c.add_argument("out")
    c.add_argument("--reuse")
    a = p.parse_args(argv)
    reuse = json.loads(Path(a.reuse).read_text()) if a.reuse else None
    info = csim_worker(a.graph, a.inputs, a.out, reuse)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

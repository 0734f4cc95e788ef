"""Super-resolvers for `srhw eval` over quantized artefacts: LR uint8 (h, w, 3) -> SR uint8 (h*s, w*s, 3).

    golden_upscaler(path, scale)   an IntGraph folder, a `srhw quantize` output folder, or a quantized checkpoint whose sidecar names one
                                   (engine "numpy": the int64 golden model; "torch": the same integer
                                   arithmetic with float64 convs, exact below 2^53 and much faster)
    tflite_upscaler(path, scale)   a full-integer .tflite file (int8 input/output)
    checkpoint_upscaler(path, s)   dispatch on the file: .tflite or a checkpoint with quant != None
"""

from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.quant.graph import load_graph


def golden_dir(path) -> Path:
    """The golden graph folder of `path` (a folder, or a .safetensors checkpoint with a `golden` sidecar key)."""
    path = Path(path)
    if path.is_dir():
        return path / "golden" if (path / "golden" / "graph.json").is_file() else path
    side = path.with_suffix(".json")
    if not side.is_file():
        raise SrhwError(f"{path}: no sidecar {side.name} naming its golden graph")
    from srhw.core.checkpoint import read_meta

    meta = read_meta(path)
    if not meta.get("golden"):
        raise SrhwError(f"{path}: not a quantized checkpoint (no 'golden' in its sidecar)")
    return path.parent / meta["golden"]


def _check_scale(graph, scale):
    s = graph.meta.get("scale")
    if s is not None and int(s) != int(scale):
        raise SrhwError(f"the quantized model is x{s}, not x{scale}")


def checked_graph(path):
    """The golden graph of `path`; when `path` is (or holds) its checkpoint, the graph must record that
    checkpoint's content hash (srhw.core.integrity), else the graph is refused as stale."""
    from srhw.core.checkpoint import load_checkpoint
    from srhw.core.integrity import check_source

    path = Path(path)
    gdir = golden_dir(path)
    graph = load_graph(gdir)
    ckpt = path if path.is_file() else path / "model.safetensors"
    if ckpt.is_file():
        sd, meta = load_checkpoint(ckpt)
        if path.is_file() or meta.get("golden") and (ckpt.parent / meta["golden"]).resolve() == gdir.resolve():
            check_source(graph, gdir, ckpt, sd, meta)
    return graph


def golden_upscaler(path, scale, engine: str = "numpy"):
    """Y-channel graphs (meta channels 1) map LR Y (h, w) -> SR Y (hs, ws); the function's `channels` says so."""
    graph = checked_graph(path)
    _check_scale(graph, scale)
    if engine == "numpy":
        from srhw.quant.golden import Golden

        run = Golden(graph, check=True)
    elif engine == "torch":
        from srhw.quant.torch_exec import TorchGolden

        run = TorchGolden(graph)
    else:
        raise SrhwError(f"unknown engine {engine!r}: numpy or torch")
    channels = int(graph.meta.get("channels") or 3)

    def upscale(lr):
        lr = np.ascontiguousarray(lr, dtype=np.uint8)
        if channels == 1:
            return run(lr[:, :, None] if lr.ndim == 2 else lr)[:, :, 0]
        return run(lr)

    upscale.channels = channels
    return upscale


def tflite_upscaler(path, scale):
    """Run a full-integer TFLite SR model (input resized per image); int8 I/O mapped by its quant params."""
    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"{path}: no such .tflite file")
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # builtin kernels without the XNNPACK delegate: XNNPACK fails to re-prepare after resize_tensor_input
    interp = Interpreter(model_path=str(path), num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)

    def run(lr):
        h, w, _ = lr.shape
        inp = interp.get_input_details()[0]
        interp.resize_tensor_input(inp["index"], [1, h, w, 3])
        interp.allocate_tensors()
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
        s, z = inp["quantization"]
        q = np.clip(np.floor(lr.astype(np.float64) / s + 0.5) + z, -128, 127).astype(inp["dtype"])
        interp.set_tensor(inp["index"], q[None])
        interp.invoke()
        y = interp.get_tensor(out["index"])[0].astype(np.float64)
        s, z = out["quantization"]
        sr = np.clip(np.floor((y - z) * s + 0.5), 0, 255).astype(np.uint8)
        if sr.shape[:2] != (h * scale, w * scale):
            raise SrhwError(f"tflite output {sr.shape} is not x{scale} of its input {lr.shape}")
        return sr

    return run


def checkpoint_upscaler(path, scale, engine: str = "torch"):
    """The upscaler `srhw eval --checkpoint PATH` should use for a quantized artefact."""
    if str(path).endswith(".tflite"):
        return tflite_upscaler(path, scale)
    return golden_upscaler(path, scale, engine)

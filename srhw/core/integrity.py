"""Content hashes tying an integer graph to the checkpoint it was exported from.

`content_hash(state_dict, meta)` is a SHA-256 over the weights (every tensor's name, dtype, shape and bytes, in
name order) and what they mean (spec, scale, model_args, quant, quant_config of the sidecar). An exported graph
records it in `graph.meta["source"]`; build and eval recompute it from the checkpoint they are given and refuse
a graph exported from other weights, so a stale or edited graph is never run in place of the weights.
"""

import hashlib
import json

import torch

from srhw.core.errors import SrhwError

HASHED_META = ("spec", "scale", "model_args", "quant", "quant_config")


def content_hash(state_dict, meta) -> str:
    h = hashlib.sha256(b"srhw-content/1\n")
    what = {k: meta.get(k) for k in HASHED_META}
    what["model_args"] = what["model_args"] or {}
    h.update(json.dumps(what, sort_keys=True).encode() + b"\n")
    for name in sorted(state_dict):
        t = state_dict[name].detach().to("cpu").contiguous()
        h.update(f"{name}\0{t.dtype}\0{tuple(t.shape)}\n".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def record_source(graph, state_dict, meta, checkpoint_name: str) -> None:
    """Store the checkpoint's content hash in the graph's meta (before `graph.save`)."""
    graph.meta["source"] = {"checkpoint": checkpoint_name, "sha256": content_hash(state_dict, meta)}


def check_source(graph, graph_dir, checkpoint, state_dict, meta) -> None:
    """Raise SrhwError unless `graph` records the content hash of this checkpoint's weights."""
    src = graph.meta.get("source") if isinstance(graph.meta, dict) else None
    if not isinstance(src, dict) or not isinstance(src.get("sha256"), str):
        raise SrhwError(f"{graph_dir} records no content hash of the weights it was exported from, so it cannot be "
                        f"checked against {checkpoint}: re-export it with srhw quantize")
    got = content_hash(state_dict, meta)
    if src["sha256"] != got:
        raise SrhwError(f"{graph_dir} was exported from other weights than {checkpoint} (content hash "
                        f"{src['sha256'][:12]} != {got[:12]}): re-export it with srhw quantize")

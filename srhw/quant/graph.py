"""The quantized network description shared by the golden model, the fake-quant model and the lowerings.

A graph is a list of nodes in execution order over named integer tensors. Every tensor has a
`TensorSpec`: bit width, signedness and the real scale s (real value = integer code * s; zero point 0 --
symmetric quantization, Jacob et al. 2017 section 2.1 with Z = 0, so zero padding stays exact). Every
node stores integer parameters (in `IntGraph.arrays`, referenced by key) and integer attributes;
`srhw.quant.golden` defines what each op computes and `srhw.quant.bounds` its accumulator widths.

On disk (`save(dir)`): `graph.json` (tensors, nodes, attributes, the declared widths; human-readable, what
the HLS/RTL lowering reads) + `graph.npz` (the integer arrays: weights int8, biases/multipliers int64,
the sigmoid table). Shared weights (ERUM's recursion) are one set of arrays named by module path that
several nodes reference.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path, write_json
from srhw.quant.fixedpoint import qrange

FORMAT = "srhw-int-graph/1"


@dataclass
class TensorSpec:
    """An integer tensor: codes in [lo, hi] of a `bits`-wide (un)signed type; real = code * scale."""

    bits: int
    signed: bool
    scale: float

    @property
    def lo(self):
        return qrange(self.bits, self.signed)[0]

    @property
    def hi(self):
        return qrange(self.bits, self.signed)[1]


@dataclass
class QNode:
    name: str  # also the output tensor's name
    op: str
    inputs: list
    attrs: dict = field(default_factory=dict)  # ints / lists / strings only (JSON)
    params: dict = field(default_factory=dict)  # role -> key in IntGraph.arrays


@dataclass
class IntGraph:
    nodes: list
    tensors: dict  # name -> TensorSpec
    arrays: dict  # key -> np.ndarray (integer)
    output: str
    meta: dict = field(default_factory=dict)

    def param(self, node: QNode, role: str) -> np.ndarray:
        return self.arrays[node.params[role]]

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "meta": self.meta,
            "output": self.output,
            "tensors": {k: asdict(v) for k, v in self.tensors.items()},
            "nodes": [asdict(n) for n in self.nodes],
            "arrays": {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in self.arrays.items()},
        }

    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / "graph.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **self.arrays)
        write_json(folder / "graph.json", self.to_json())
        return folder


def load_graph(folder) -> IntGraph:
    folder = Path(folder)
    js, npz = folder / "graph.json", folder / "graph.npz"
    if not js.is_file() or not npz.is_file():
        raise SrhwError(f"{folder}: no golden graph (graph.json + graph.npz) there")
    d = json.loads(js.read_text())
    if d.get("format") != FORMAT:
        raise SrhwError(f"{js}: not a {FORMAT} file")
    with np.load(npz, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    tensors = {k: TensorSpec(**v) for k, v in d["tensors"].items()}
    nodes = [QNode(**n) for n in d["nodes"]]
    return IntGraph(nodes, tensors, arrays, d["output"], d.get("meta", {}))

"""Record the content hash of its checkpoint in a shipped golden graph's graph.json (graph.npz is not touched).

    python scripts/record_golden_source.py models/st_bl_r_2c_out-x2.safetensors

Only `meta.source` of graph.json changes; the rest of the file stays byte-identical (checked before writing).
Use it only for a graph that was exported from exactly these weights (srhw quantize now records the hash itself).
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srhw.core.checkpoint import load_checkpoint  # noqa: E402
from srhw.core.integrity import content_hash  # noqa: E402
from srhw.core.io import write_text  # noqa: E402
from srhw.eval.upscalers import golden_dir  # noqa: E402


def main(paths):
    for p in map(Path, paths):
        sd, meta = load_checkpoint(p)
        js = golden_dir(p) / "graph.json"
        text = js.read_text()
        doc = json.loads(text)
        if json.dumps(doc, indent=2) + "\n" != text:
            raise SystemExit(f"{js}: re-serialising changes the file; refusing to rewrite it")
        doc["meta"]["source"] = {"checkpoint": p.name, "sha256": content_hash(sd, meta)}
        write_text(js, json.dumps(doc, indent=2) + "\n")
        print(f"{js}: source {p.name} {doc['meta']['source']['sha256'][:12]}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Per-layer time of a design: ms and share of the frame per layer, the bottleneck named, and the resources
per design unit where a design shares its hardware between layers.

Each design spends a frame differently, so the share means different things and the table says which:
  * layer-sequential engine: layers run one after another, time = max(cycles / f, DDR bytes / bandwidth) per
    layer; the shares add up to 100 % of the frame.
  * dataflow pipelines (hls4ml blocks, streaming RTL stages): every layer is busy at once; a layer's share is
    its busy time against the frame time (the slowest block or the measured frame), so the bottleneck is
    the one closest to 100 %.
The cycles come from the backends' own cost models (passed in as dicts); nothing is computed here that a
backend does not already count.
"""

SEQUENTIAL = "sequential: layers run one after another, shares add up to the frame"
PIPELINED = "pipelined: every layer busy at once, share = busy time / frame time"


def _rows(items, frame_s: float) -> list:
    return [{**it, "time_ms": 1e3 * it["time_s"], "share_of_frame": it["time_s"] / frame_s if frame_s else 0.0}
            for it in items]


def _section(design: str, folder: str, how: str, rows: list, frame_s: float, source: str, units: list) -> dict:
    slow = max(rows, key=lambda r: r["time_s"]) if rows else None
    for r in rows:
        r["bottleneck"] = r is slow
    return {"design": design, "folder": folder, "schedule": how, "frame_ms": 1e3 * frame_s, "layers": rows,
            "bottleneck": slow["name"] if slow else None, "resources_per_unit": units, "source": source}


def engine(design: str, folder: str, layer_times: list, resources: dict) -> dict:
    """The layer-sequential engine: `layer_times` from its cost model (name, op, cycles, ddr_bytes, time_s, bound),
    `resources` its breakdown (multipliers, adders, memories): shared by every layer, so given per unit."""
    frame = sum(t["time_s"] for t in layer_times)
    rows = [{"name": t["name"], "kind": t["op"], "cycles": t["cycles"], "bound": t["bound"], "time_s": t["time_s"],
             "source": "analytic"} for t in layer_times]
    sec = _section(design, folder, SEQUENTIAL, _rows(rows, frame), frame,
                   "analytic (the engine's cost model: pipelined-loop cycles at II = 1 and DDR bytes)",
                   engine_units(resources))
    sec["bound_legend"] = ENGINE_BOUNDS
    return sec


# what the engine's "bound by" words mean (srhw.export.engine.cost: a conv pixel's stages, else its one loop)
ENGINE_BOUNDS = {"load": "reading the input codes from DDR", "gather": "gathering the kernel window",
                 "mac": "the int8 MACs (conv) or the W_b ternary trees (sp_conv)", "wc": "the W_c trees (sp_conv)",
                 "store": "writing the output codes", "loop": "its one pipelined loop (add, ca, ...)",
                 "DDR transfer": "its DDR bytes at the practical bandwidth, longer than its compute"}


def engine_units(res: dict) -> list:
    """One row per unit of the engine's datapath (what every layer shares), LUT/DSP/BRAM36 each."""
    units = [{"unit": m["where"], "count": m["count"], "dsp": m["dsp"], "lut": 0, "bram": 0} for m in res.get("multipliers", [])]
    units += [{"unit": a["where"], "count": a["adders"], "dsp": 0, "lut": a["lut"], "bram": 0}
              for a in res.get("adders", []) if a["adders"]]
    units += [{"unit": f"buffer {m['name']} ({m['impl']}, {m['depth']}x{m['width']})", "count": m["count"], "dsp": 0,
               "lut": m["lut"], "bram": m["bram36"]} for m in res.get("memories", [])]
    if "control_lut" in res:
        units.append({"unit": "control (descriptor fetch, loop counters, AXI)", "count": 1, "dsp": 0,
                      "lut": res["control_lut"], "bram": 0})
    return [{**u, "source": "analytic"} for u in units]


def pipeline(design: str, folder: str, layers: list, clock_mhz: float, frame_s: float | None = None,
             source: str = "analytic") -> dict:
    """A dataflow pipeline: `layers` with name, kind, cycles_per_frame (+ dsp/lut/bram per block when the design
    has them); frame time = `frame_s` (measured) or the slowest block's."""
    f = clock_mhz * 1e6
    rows = [{"name": l["name"], "kind": l.get("kind", l.get("op", "")), "cycles": l["cycles_per_frame"],
             "bound": "its own block", "time_s": l["cycles_per_frame"] / f, "source": source,
             **{k: l[k] for k in ("dsp", "lut", "bram") if k in l}} for l in layers]
    frame = frame_s or max((r["time_s"] for r in rows), default=0.0)
    return _section(design, folder, PIPELINED, _rows(rows, frame), frame, source, [])

"""The engine's efficiency against the roofline on every part srhw knows, for shipped golden graphs (analytic).

    python -m srhw.export.engine.parts_table models/st_bl_r_2c_out-x2.golden models/blrn-e_r_2__rb-x2-int8.golden

One markdown row per (graph, part): the engine's estimated fps at 720p and 150 MHz (srhw.export.estimate's
layer-sequential figures, the cost model of hls/engine/ sized for that part), the roofline of
shared/design/hardware.md, their ratio, the datapath's use of the part, the layer that bounds the frame time and
the resource that bounds the datapath. Figures are analytic (never synthesised).
"""

import argparse

from srhw.export import estimate as est
from srhw.hw.parts import PARTS
from srhw.quant.graph import load_graph


def rows(graph, clock_mhz: float = 150.0) -> list:
    spec, scale = graph.meta["spec"], graph.meta["scale"]
    layers = est.model_layers(spec, scale)
    out = []
    for name, part in PARTS.items():
        ls = est.estimate_layer_sequential(graph, part, clock_mhz, scale)
        roof = est.dense_roofline(layers, part, clock_mhz, ls.offchip_bytes_per_frame)
        out.append({"spec": spec, "part": name, "fps": ls.fps_720p, "roofline_fps": roof["fps"],
                    "roofline_bound": roof["bound"], "efficiency": ls.fps_720p / roof["fps"], "fits": ls.fits,
                    "use": {k: ls.totals[k] / part.capacity()[k] for k in ("lut", "dsp", "bram")},
                    "bound_layer": ls.engine["bound_layer"], "bound_resource": ls.engine["bound_resource"]})
    return out


def markdown(all_rows) -> str:
    lines = ["| model | part | fps (720p, 150 MHz) | roofline fps (bound) | efficiency | LUT / DSP / BRAM | "
             "bounding layer (stage) | bounding resource |", "|---|---|---|---|---|---|---|---|"]
    for r in all_rows:
        u, b = r["use"], r["bound_layer"]
        lines.append(f"| {r['spec']} | {r['part']} | {r['fps']:.3g} | {r['roofline_fps']:.3g} ({r['roofline_bound']}) | "
                     f"{r['efficiency']:.2f} | {100 * u['lut']:.0f} / {100 * u['dsp']:.0f} / {100 * u['bram']:.0f} % | "
                     f"{b['name']} ({b['stage']}, {100 * b['share_of_frame']:.0f} %) | {r['bound_resource']} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m srhw.export.engine.parts_table", description=__doc__.splitlines()[0])
    p.add_argument("graphs", nargs="+", help="golden graph folders (models/*.golden)")
    p.add_argument("--clock", type=float, default=150.0)
    a = p.parse_args(argv)
    print(markdown([r for g in a.graphs for r in rows(load_graph(g), a.clock)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

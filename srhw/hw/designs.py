"""One answer per build: every backend's design as a row against the one roofline, and the verdict.

A row is a design this build describes (the layer-sequential engine in engine/, the hls4ml dataflow
pipeline in hls/, the RTL lane design of rtl/); the verdict recommends the fastest design that fits the
part and whose folder is a complete project, and says whether it meets the target frame rate. A design whose
figures were measured (synthesised and simulated, source other than "analytic") and that meets the target is
preferred to a faster estimate: a team would rather ship the verified design than one a model says is 2 %
faster. When even the roofline (any design at 100 % efficiency) misses the target, the verdict says so in a
plain sentence.
"""

from srhw.hw.budget import BUDGET, bounding, of_budget
from srhw.hw.roofline import roofline

FRAME = "1280x720 output"


def row(design: str, folder: str, architecture: str, fits: bool, fps: float, totals: dict, offchip_bytes: int,
        deliverable: bool, part, source: str = "analytic", note: str = "", slowest_layer: str | None = None) -> dict:
    res, share = bounding(totals, part)
    return {"design": design, "folder": folder, "architecture": architecture, "fits": bool(fits),
            "fps_720p": fps, "ms_per_frame": 1e3 / fps if fps else None,
            "lut": totals.get("lut"), "ff": totals.get("ff"), "dsp": totals.get("dsp"), "bram": totals.get("bram"),
            "offchip_bytes_per_frame": offchip_bytes, "bounding_resource": res, "bounding_share": share,
            "bounding_of_budget": of_budget(totals, part)[res], "bounding_budget": getattr(BUDGET, res),
            "slowest_layer": slowest_layer, "deliverable": deliverable, "note": note, "source": source}


def one_roofline(rows: list, work: dict, part, clock_mhz: float) -> dict:
    """The model's bound on the part: its mults, the fewest LUT adds any design here performs, the least
    off-chip traffic any design needs (work: mults, lut_adds, luts_per_adder, adds_kind)."""
    off = min(r["offchip_bytes_per_frame"] for r in rows)
    who = next(r["design"] for r in rows if r["offchip_bytes_per_frame"] == off)
    return roofline(work["mults"], work["lut_adds"], off, part, clock_mhz, work["luts_per_adder"], work["adds_kind"],
                    f"the least any design here needs ({who}: {off / 1e6:.1f} MB per frame)")


def verdict(rows: list, roof: dict, target_fps: float, model: str, part) -> dict:
    """The recommended design (the fastest measured one meeting `target_fps`, else the fastest deliverable that
    fits) and whether it meets `target_fps`."""
    for r in rows:
        r["efficiency_vs_roofline"] = r["fps_720p"] / roof["fps"]
    ok = [r for r in rows if r["fits"] and r["deliverable"]]
    measured = [r for r in ok if r["source"] != "analytic" and r["fps_720p"] >= target_fps]
    best = max(measured or ok, key=lambda r: r["fps_720p"]) if ok else None
    v = {"target_fps": target_fps, "roofline_fps": roof["fps"], "roofline_bound": roof["bound"],
         "roofline_meets_target": roof["fps"] >= target_fps}
    if best is None:
        v.update(design=None, folder=None, meets_target=False,
                 sentence=f"No written design of {model} fits {part.name}.")
        return v
    v.update(design=best["design"], folder=best["folder"], fps_720p=best["fps_720p"], ms_per_frame=best["ms_per_frame"],
             meets_target=best["fps_720p"] >= target_fps, bounding_resource=best["bounding_resource"],
             bounding_share=best["bounding_share"], bounding_of_budget=best["bounding_of_budget"],
             bounding_budget=best["bounding_budget"], slowest_layer=best["slowest_layer"], source=best["source"])
    if not v["roofline_meets_target"]:
        v["sentence"] = (f"{model} cannot reach {target_fps:g} fps on {part.name} at any efficiency: its roofline is "
                         f"{roof['fps']:.3g} fps ({roof['bound']}-bound); a smaller network or a bigger part is needed.")
    elif not v["meets_target"]:
        v["sentence"] = (f"{best['folder']} reaches {best['fps_720p']:.3g} fps, short of {target_fps:g} fps; the roofline "
                         f"({roof['fps']:.3g} fps) leaves room for a more efficient design.")
    else:
        v["sentence"] = f"{best['folder']} meets {target_fps:g} fps ({best['fps_720p']:.3g} fps, {best['source']})."
        faster = [r for r in ok if r["fps_720p"] > best["fps_720p"]]
        if faster:
            f = max(faster, key=lambda r: r["fps_720p"])
            v["sentence"] += (f" {f['folder']} is estimated faster ({f['fps_720p']:.3g} fps, {f['source']}) but not measured;"
                              f" the measured design is recommended.")
    return v

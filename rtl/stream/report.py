"""One committed report from the rows of separate `srhw rtl stream` runs of the same graph and settings
(synthesis, simulation, whole images and place-and-route run as parallel jobs on a loaded machine).

Sections keep their sources: `synthesis` (yosys), `simulation` (cocotb), `whole_images` (cocotb,
CheckHarness), `ecp5` (nextpnr), `hls` (the hls4ml project of the same folding and its g++ C-sim, from
`srhw rtl stream-hls`); `commands` lists the command lines that produced them.
"""

from __future__ import annotations

from srhw.core.errors import SrhwError

SAME = ("graph_sha256", "part", "clock_mhz", "target_fps", "in_frame", "out_frame", "folding")
SIM_KEYS = ("cycles_per_frame", "cycles_source", "fps", "fps_source", "latency_cycles", "meets_target", "bitexact",
            "roofline", "roofline_fps", "roofline_ratio")


def combine(rows: list, note: str = "") -> dict:
    if not rows:
        raise SrhwError("no stream_rtl rows to combine")
    from srhw.hw.parts import get_part

    # rows name their part as the part table spelled it when they ran (xc7z020, later xc7z020clg400-1)
    rows = [{**r, "part": get_part(r["part"]).name} if r.get("part") else r for r in rows]
    first = rows[0]
    for r in rows[1:]:
        for k in SAME:
            if r.get(k) != first.get(k):
                raise SrhwError(f"rows disagree on {k}: {r.get(k)} vs {first.get(k)}")
    out = {"design": "stream_rtl", "top": "srhw_stream", "graph_source": first.get("graph_source"),
           **{k: first[k] for k in SAME}, "schedule": first["schedule"], "buffer_bits": first["buffer_bits"],
           "commands": [r["command"] for r in rows if "command" in r], "note": note}
    for r in rows:
        if "resources" in r:
            out["synthesis"] = {k: r[k] for k in ("resources", "utilisation", "fits", "fit_limits")}
        if "cycles_per_frame" in r:
            out["simulation"] = {k: r[k] for k in SIM_KEYS}
        if "whole_images" in r:  # runs over subsets of the images add up
            out.setdefault("whole_images", []).extend(r["whole_images"])
        if "ecp5" in r:
            out["ecp5"] = r["ecp5"]
        if "hls" in r:
            out["hls"] = r["hls"]
    if "synthesis" in out and "simulation" in out:
        s = out["simulation"]
        out["acceptance"] = {"fits": out["synthesis"]["fits"], "fps": s["fps"], "meets_target": s["meets_target"],
                             "clock_mhz": out["clock_mhz"],
                             "bitexact_crop": s["bitexact"]["errors"] == 0,
                             "bitexact_whole_images": all(r["errors"] == 0 and r["flag_errors"] == 0
                                                          for r in out.get("whole_images", [])) if out.get("whole_images") else None,
                             "whole_images_checked": [r["image"] for r in out.get("whole_images", [])]}
    return out

"""The committed streaming-RTL measurements (rtl/reports/stream_*.json) are consistent with themselves and
with the code: fps is exactly clock / simulated cycles per frame, the simulated cycles sit at the
folding's schedule, the fit verdict follows the Yosys counts and the limits, every checked pixel matched.
A report names the graph it was measured on (its digest); where that graph is in the repository the
folding is recomputed and must be the one the report was built with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = sorted((ROOT / "rtl" / "reports").glob("stream_*.json"))


def test_there_is_a_committed_stream_report():
    assert REPORTS, "rtl/reports/stream_*.json missing"


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.stem)
def test_committed_stream_report(path: Path):
    r = json.loads(path.read_text())
    assert r["commands"] and all(c.startswith("python -m srhw rtl stream") for c in r["commands"])
    assert len(r["graph_sha256"]) == 64 and r["folding"]
    if "simulation" in r:
        sim = r["simulation"]
        assert sim["fps"] == pytest.approx(r["clock_mhz"] * 1e6 / sim["cycles_per_frame"], rel=1e-12)
        assert sim["cycles_source"].startswith("cocotb")
        slowest = r["schedule"]["slowest_cycles"]
        assert abs(sim["cycles_per_frame"] - slowest) <= 0.05 * slowest  # the design runs at its own schedule
        b = sim["bitexact"]
        assert b["errors"] == 0 and b["flag_errors"] == 0 and b["checked"] == b["expected"] > 0
    if "synthesis" in r:
        res, util, lim = r["synthesis"]["resources"], r["synthesis"]["utilisation"], r["synthesis"]["fit_limits"]
        assert res["source"] == "yosys" and res["DSP48E1"] > 0
        fits = util["LUT"] <= lim["LUT"] and util["DSP"] <= lim["DSP"] and util["BRAM"] <= lim["BRAM"]
        assert r["synthesis"]["fits"] == fits
    for row in r.get("whole_images", []):
        assert row["errors"] == 0 and row["flag_errors"] == 0 and row["checked"] == row["hr_pixels"]
    if "crop_check" in r:
        c = r["crop_check"]
        assert c["errors"] == 0 and c["flag_errors"] == 0 and c["extra_beats"] == 0 and c["checked"] == c["expected"] > 0
    if "ecp5" in r:
        assert r["ecp5"]["source"] == "nextpnr" and r["ecp5"]["min_fmax_mhz"] > 0
    if "hls" in r:
        h = r["hls"]
        assert h["io_type"] == "io_stream" and set(h["reuse_requested"]) == set(r["folding"])
        for name, (fm, fn) in r["folding"].items():
            assert h["reuse_requested"][name] == fm * fn and 1 <= h["reuse_used"][name] <= fm * fn
        if h["csim"]["ran"]:
            assert h["csim"]["source"].startswith("hls4ml") and h["csim"]["mismatches"] == 0 and h["csim"]["checked"] > 0
    assert {"simulation", "synthesis", "whole_images", "ecp5", "crop_check"} & set(r)

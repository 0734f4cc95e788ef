"""The verdict (srhw.hw.designs): the fastest fitting deliverable design, except that a measured design meeting
the target wins over a faster estimate, and the sentence says which figures are measured."""

from srhw.hw.designs import verdict
from srhw.hw.parts import get_part

ROOF = {"fps": 40.0, "bound": "dsp multiplies"}


def _row(folder, fps, source, fits=True, deliverable=True):
    return {"design": folder.strip("/"), "folder": folder, "fps_720p": fps, "ms_per_frame": 1e3 / fps, "fits": fits,
            "deliverable": deliverable, "source": source, "bounding_resource": "dsp", "bounding_share": 0.5,
            "bounding_of_budget": 0.6, "bounding_budget": 0.85, "slowest_layer": None}


def test_measured_design_meeting_the_target_beats_a_faster_estimate():
    rows = [_row("hls/", 31.5, "analytic"), _row("rtl/", 30.8, "yosys (resources), cocotb (cycles per frame)"),
            _row("engine/", 2.0, "analytic")]
    v = verdict(rows, ROOF, 30.0, "fsrcnn", get_part("xc7z020"))
    assert v["folder"] == "rtl/" and v["meets_target"] and v["source"].startswith("yosys")
    assert "cocotb" in v["sentence"] and "hls/ is estimated faster (31.5 fps, analytic)" in v["sentence"]


def test_without_a_measured_design_meeting_the_target_the_fastest_wins():
    rows = [_row("hls/", 31.5, "analytic"), _row("rtl/", 20.0, "yosys (resources), cocotb (cycles per frame)")]
    v = verdict(rows, ROOF, 30.0, "fsrcnn", get_part("xc7z020"))
    assert v["folder"] == "hls/" and v["meets_target"] and "estimated faster" not in v["sentence"]
    rows = [_row("hls/", 10.0, "analytic"), _row("rtl/", 20.0, "yosys", fits=False), _row("engine/", 5.0, "analytic")]
    v = verdict(rows, ROOF, 30.0, "fsrcnn", get_part("xc7z020"))
    assert v["folder"] == "hls/" and not v["meets_target"]

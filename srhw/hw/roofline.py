"""The one roofline (the project's definition, README "Reading the report"):

For a model on a part at clock f:
  compute time per frame = max(mults / (DSP_available x f), adds / (adder_lanes x f)), where
      adder_lanes = LUT budget for arithmetic / LUTs per adder at the design's widths, and adds are counted
      as a design really performs them (after zero pruning and CSE where it does them), said in `adds_kind`;
  memory time per frame = off-chip bytes per frame / practical DDR bandwidth (0 if nothing leaves the chip);
  roofline fps = 1 / max(compute time, memory time).
A design's fps divided by this is its efficiency; every assumption is returned beside the number.
"""

from srhw.core.errors import SrhwError
from srhw.hw.budget import BUDGET, Budget

SOURCE = "analytic"


def roofline(mults: int, adds: int, offchip_bytes: int, part, clock_mhz: float, luts_per_adder: int,
             adds_kind: str, offchip_kind: str = "", budget: Budget | None = None) -> dict:
    """Roofline fps of `mults` and `adds` per frame and `offchip_bytes` of DDR traffic on `part` at `clock_mhz`."""
    if clock_mhz <= 0:
        raise SrhwError(f"clock must be positive, got {clock_mhz} MHz")
    b = budget or BUDGET
    f = clock_mhz * 1e6
    lut_budget = int(b.lut * part.lut)
    lanes = lut_budget // luts_per_adder
    dsp = int(b.dsp * part.dsp)
    t_mult = mults / (dsp * f)
    t_add = adds / (lanes * f) if adds else 0.0
    t_mem = offchip_bytes / (part.ddr_gbps * 1e9)
    t = max(t_mult, t_add, t_mem)
    if t <= 0:
        raise SrhwError("the roofline needs some work per frame (no mults, adds or off-chip bytes)")
    return {
        "fps": 1.0 / t, "bound": ["dsp multiplies", "lut adds", "memory"][[t_mult, t_add, t_mem].index(t)],
        "compute_time_s": max(t_mult, t_add), "memory_time_s": t_mem, "mult_time_s": t_mult, "add_time_s": t_add,
        "mults_per_frame": mults, "lut_adds_per_frame": adds, "offchip_bytes_per_frame": offchip_bytes,
        "assumptions": {
            "clock_mhz": clock_mhz, "dsp_available": dsp, "lut_budget_for_arithmetic": lut_budget,
            "luts_per_adder": luts_per_adder, "adder_lanes": lanes, "ddr_gbps_practical": part.ddr_gbps,
            "adds": adds_kind, "offchip": offchip_kind,
        },
        "source": SOURCE,
    }

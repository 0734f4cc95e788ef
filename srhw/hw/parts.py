"""FPGA parts `srhw build --part` knows, with capacities from the vendors' product tables.

Sources (AMD/Xilinx product selection guides / data sheets, device tables):
  * Zynq-7000: "Zynq-7000 SoC Product Selection Guide" (XMP097) and DS190 "Zynq-7000 SoC Data Sheet:
    Overview", table 1 (Z-7020: 53,200 LUTs, 106,400 FFs, 140 36Kb BRAM, 220 DSP48E1;
    Z-7045: 218,600 LUTs, 437,200 FFs, 545 BRAM, 900 DSP48E1).
  * Zynq UltraScale+: "Zynq UltraScale+ MPSoC Product Selection Guide" (XMP104) and DS891
    "Zynq UltraScale+ MPSoC Data Sheet: Overview", table 2 (ZU3EG: 70,560 LUTs, 141,120 FFs, 216 BRAM36,
    360 DSP48E2; ZU9EG: 274,080 LUTs, 548,160 FFs, 912 BRAM36, 2,520 DSP48E2).
  * Kintex UltraScale: "UltraScale FPGA Product Selection Guide" (XMP102) / DS890 table "Kintex
    UltraScale FPGA Feature Summary" (KU040: 242,400 CLB LUTs, 484,800 FFs, 600 BRAM36, 1,920 DSP48E2).

DDR bandwidth is a board property, not a part property; the figures below are the assumption the
roofline uses (~3 GB/s practical through the 7-series PS HP ports) and are labelled so.

Part names: `--part` takes a full part name with package and speed grade (xc7z020clg484-1 for a ZC702) and
keeps it as given; it is written identically into every project (hls4ml's `Part`, the engine's script.tcl
`set_part`). A bare device name (xc7z020) means the default board part of DEFAULT_PARTS below, and the report
says which board that is. Yosys' `synth_xilinx -family xc7` takes no part, only the family.
"""

from dataclasses import asdict, dataclass, replace

from srhw.core.errors import SrhwError


@dataclass(frozen=True)
class Part:
    name: str
    family: str
    lut: int  # LUT6
    ff: int
    dsp: int  # DSP48E1 (7-series: 25x18) or DSP48E2 (UltraScale: 27x18)
    bram: int  # 36 Kbit block RAMs (URAM not counted)
    ddr_gbps: float  # practical off-chip bandwidth assumed for the roofline (GB/s), board-dependent
    source: str
    device: str = ""  # the base device (xc7z020) whose capacities these are
    given: str = ""  # what --part said
    board: str = ""  # the board whose part this is, when a bare device name was given (else "")

    def capacity(self) -> dict:
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp, "bram": self.bram}

    def as_dict(self) -> dict:
        return asdict(self)


_Z7 = "Zynq-7000 SoC Product Selection Guide (XMP097) / DS190 table 1"
_ZUS = "Zynq UltraScale+ MPSoC Product Selection Guide (XMP104) / DS891 table 2"
_KUS = "UltraScale FPGA Product Selection Guide (XMP102) / DS890 Kintex UltraScale feature summary"

PARTS = {p.name: replace(p, device=p.name) for p in [
    # PS DDR3 32-bit DDR3-1066: 4.3 GB/s peak, ~3 GB/s practical via the PS HP ports (assumed)
    Part("xc7z020", "zynq7000", 53_200, 106_400, 220, 140, 3.0, _Z7),
    # PS DDR3 32-bit (ZC706 PS side): same PS memory controller as the 7020
    Part("xc7z045", "zynq7000", 218_600, 437_200, 900, 545, 3.0, _Z7),
    # ZU3EG boards (Ultra96): LPDDR4 32-bit 2133 MT/s = 8.5 GB/s peak; ~6 GB/s practical assumed
    Part("xczu3eg", "zynqusp", 70_560, 141_120, 360, 216, 6.0, _ZUS),
    # ZCU102 PS DDR4 64-bit 2133 MT/s = 17 GB/s peak; ~12 GB/s practical assumed
    Part("xczu9eg", "zynqusp", 274_080, 548_160, 2_520, 912, 12.0, _ZUS),
    # KCU105 PL DDR4 64-bit 2400 MT/s via MIG = 19.2 GB/s peak; ~14 GB/s practical assumed
    Part("xcku040", "kintexus", 242_400, 484_800, 1_920, 600, 14.0, _KUS),
]}


# bare device -> (the full part of a common board, that board); package and speed grade from the boards' manuals
DEFAULT_PARTS = {
    "xc7z020": ("xc7z020clg400-1", "PYNQ-Z1 / PYNQ-Z2"),
    "xc7z045": ("xc7z045ffg900-2", "ZC706"),
    "xczu3eg": ("xczu3eg-sbva484-1-i", "Ultra96-V2"),
    "xczu9eg": ("xczu9eg-ffvb1156-2-e", "ZCU102"),
    "xcku040": ("xcku040-ffva1156-2-e", "KCU105"),
}


def get_part(name: str) -> Part:
    """The part `name` names: a full part (package and speed grade, kept as given, lower case) or a bare device
    name, which maps to its default board part (DEFAULT_PARTS). Capacities are the base device's."""
    key = (name or "").strip().lower()
    for base, part in PARTS.items():
        if key == base:
            full, board = DEFAULT_PARTS[base]
            return replace(part, name=full, device=base, given=key, board=board)
        if key.startswith(base) and not key[len(base)].isdigit():
            return replace(part, name=key, device=base, given=key)
    raise SrhwError(f"unknown part {name!r}; known parts: {', '.join(PARTS)} (bare, or in full like "
                    f"{DEFAULT_PARTS['xc7z020'][0]})")


def describe(part: Part) -> str:
    """One sentence for the report: which part every project was written for, and why."""
    if part.board:
        return (f"{part.name}, the default for a bare {part.device} (the {part.board} board's part); give --part with "
                f"package and speed grade for another board")
    return f"{part.name} as given (capacities of {part.device})"

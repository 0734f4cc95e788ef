"""The one resource budget: the share of each resource a design may use, and `within()`.

LUT 0.85 leaves ~15 % for control, routing slack and the PS interface (hardware.md: ~45 k of the 7020's
53.2 k LUTs for arithmetic); BRAM 0.9 keeps a few blocks for FIFOs and the tools' own buffers; DSPs and FFs
may be used in full. Every fit (dataflow folding, engine datapath, RTL lanes) asks this one budget.
"""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budget:
    lut: float = 0.85
    dsp: float = 1.0
    bram: float = 0.9
    ff: float = 1.0

    def limits(self, part) -> dict:
        """Absolute limits on `part` (LUT, FF, DSP, BRAM36)."""
        return {k: int(getattr(self, k) * getattr(part, k)) for k in ("lut", "ff", "dsp", "bram")}

    def as_dict(self) -> dict:
        return asdict(self)


BUDGET = Budget()
LUT_BUDGET, DSP_BUDGET, BRAM_BUDGET, FF_BUDGET = BUDGET.lut, BUDGET.dsp, BUDGET.bram, BUDGET.ff


def within(totals: dict, part, budget: Budget | None = None) -> bool:
    """Do `totals` (keys lut/dsp/bram, ff optional) stay inside the budget on `part`?"""
    b = budget or BUDGET
    return (totals["lut"] <= b.lut * part.lut and totals["dsp"] <= b.dsp * part.dsp
            and totals["bram"] <= b.bram * part.bram and totals.get("ff", 0) <= b.ff * part.ff)


def of_budget(totals: dict, part, budget: Budget | None = None) -> dict:
    """Each resource's use as a share of its budget on `part` (1.0 = the budget is full)."""
    b = budget or BUDGET
    return {k: totals[k] / (getattr(b, k) * getattr(part, k)) for k in ("lut", "ff", "dsp", "bram") if k in totals}


def bounding(totals: dict, part) -> tuple[str, float]:
    """The resource closest to its budget (what stops a bigger design, as the engine's datapath search sees it)
    and its share of the part's capacity: ("lut", 0.62)."""
    use = of_budget(totals, part)
    k = max(use, key=use.get)
    return k, totals[k] / getattr(part, k)

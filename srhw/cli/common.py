"""Argument types shared by the sub-commands.

`number(lo, hi)`: every float flag goes through it, so `nan`, `inf` and out-of-range values end in
argparse's one error line and exit 2 instead of flowing into a report ("nan fps at nan MHz").
"""

import argparse
import math


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """An argparse `type`: a finite float in [lo, hi] (`lo_open`/`hi_open`: that end excluded)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        below = lo is not None and (v < lo or (lo_open and v == lo))
        above = hi is not None and (v > hi or (hi_open and v == hi))
        if below or above:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            raise argparse.ArgumentTypeError(f"{text} is outside {left}{lo if lo is not None else '-inf'}, "
                                             f"{hi if hi is not None else 'inf'}{right}")
        return v

    parse.__name__ = "number"  # argparse names the type in its message: "invalid number value"
    return parse


# The ranges of the flags (one place, so every command agrees).
CLOCK_MHZ = number(0.0, 2000.0, lo_open=True)  # a PL clock: above 0, below any FPGA fabric's reach
LEARNING_RATE = number(0.0, 1.0)
EPOCHS = number(0.0, 1e6)

"""Flags several commands share, defined once so that they mean the same everywhere.

`--model` + `--r` (a zoo spec, st_bl's hidden width separately), `--scale`, `--data` (the data root),
`--train-set` (a set name under it), `--clock-mhz`, `--threads`, `--sets`; `model_spec` joins --model and
--r, `spec_and_scale` reads them from a checkpoint's sidecar when one is given. Nothing here imports torch:
`--help` of every command stays fast. `number(lo, hi)`: every float flag goes through it, so `nan`, `inf`
and out-of-range values end in argparse's one error line and exit 2 instead of flowing into a report.
The README's flag table lists these flags; tests/test_cli_flags.py holds every command to it.
"""

import argparse
import math
import sys
from pathlib import Path

from srhw.core.errors import SrhwError
from srhw.core.names import slug  # noqa: F401 - the one slug scheme, for the commands

R_HELP = "hidden width of st_bl's sum-product convs: c_out, 2c_out, 4c_out, 6c_out, ..."


def model_spec(model: str, r: str | None) -> str:
    """`--model st_bl --r 2c_out` means st_bl(r=2c_out); --r elsewhere is an error."""
    if r is None:
        return model
    if "(" in model:
        raise SrhwError("give r either in the spec or with --r, not both")
    return f"{model}(r={''.join(r.split())})"


def add_r(p):
    p.add_argument("--r", help=R_HELP)


def add_model(p, what: str = "zoo spec", **kw):
    """`--model SPEC` and `--r R` (st_bl's hidden width), the pair every command that takes a spec has."""
    p.add_argument("--model", help=f'{what}, e.g. "blrn-e(r=2)[rb]" or st_bl (with --r)', **kw)
    add_r(p)


def checkpoint_meta(path) -> dict:
    """A checkpoint's sidecar (or header metadata), schema-checked, without reading its tensors."""
    from srhw.core.checkpoint import read_meta

    path = Path(path)
    if not path.is_file():
        raise SrhwError(f"checkpoint not found: {path}")
    header = None
    if not path.with_suffix(".json").is_file():
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                header = (f.metadata() or {}).get("srhw")
        except Exception as e:  # safetensors raises its own error types for a bad header
            raise SrhwError(f"cannot read {path} as safetensors: {type(e).__name__}") from None
    return read_meta(path, header)


def spec_and_scale(model: str | None, r: str | None, scale: int | None, checkpoint=None,
                   default_model: str | None = None, default_scale: int | None = None) -> tuple[str, int]:
    """(canonical spec, scale) of a command: --model/--r/--scale, checked against --checkpoint's sidecar
    (which fills in what the command line leaves out; a disagreement is one error line), else the defaults."""
    from srhw.models.zoo import canonical

    if r is not None and not model:
        raise SrhwError("--r needs --model (e.g. --model st_bl --r 2c_out)")
    spec = model_spec(model, r) if model else None
    if checkpoint:
        meta = checkpoint_meta(checkpoint)
        if meta.get("spec") or meta.get("scale"):
            from srhw.models.load import checkpoint_spec

            spec, scale = checkpoint_spec(Path(checkpoint), meta, spec, scale or None)
    spec, scale = spec or default_model, scale or default_scale
    if not spec or not scale:
        raise SrhwError(f"give {'--model' if not spec else ''}{' and ' if not (spec or scale) else ''}"
                        f"{'--scale' if not scale else ''} (or a --checkpoint whose sidecar names them)")
    check_scale(scale)
    return canonical(spec), int(scale)


def check_scale(scale: int) -> int:
    """The one scale check (srhw.models.spec.check_scale, torch-free)."""
    from srhw.models.spec import check_scale as check

    return check(scale)


def add_clock(p, dest: str = "clock_mhz", default: float = 150.0, what: str = "PL clock assumed by the estimate"):
    """`--clock-mhz F` (MHz) and the old `--clock F`, which still works with a deprecation line."""
    p.add_argument("--clock-mhz", dest=dest, type=CLOCK_MHZ, default=default, help=f"{what}, in MHz (default {default:g})")
    p.add_argument("--clock", dest=dest, type=CLOCK_MHZ, action=Deprecated, new="--clock-mhz", help=argparse.SUPPRESS)


class Deprecated(argparse.Action):
    """An old flag spelling: stores like its new name, with one deprecation line on stderr."""

    def __init__(self, option_strings, dest, new: str, **kw):
        self.new = new
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        deprecated(option_string, self.new)
        setattr(namespace, self.dest, values)


def add_scale(p, default: int | None = 2, required: bool = False):
    more = f" (default {default})" if default is not None and not required else ""
    p.add_argument("--scale", type=int, default=None if required else default, required=required,
                   help=f"upscaling factor 2, 3 or 4{more}")


DATA_HELP = "data root holding {what} (default: $SRHW_DATA or <repo>/../shared/data)"


def add_data(p, what: str = "the benchmark sets"):
    p.add_argument("--data", default=None, metavar="ROOT", help=DATA_HELP.format(what=what))


def add_train_set(p, default: str = "T91", what: str = "training set"):
    p.add_argument("--train-set", default=default, metavar="NAME", help=f"{what}: a set name under --data (default {default}; "
                                                        "'DIV2K' = DIV2K layout)")


def add_threads(p, default: int | None = 0):
    p.add_argument("--threads", type=int, default=default, help="torch CPU threads (0 or unset: torch's default)")


def add_sets(p, default: str):
    p.add_argument("--sets", default=default, help=f"comma-separated test sets (default {default})")


def deprecated(old: str, new: str):
    """One line on stderr for a flag spelling that still works but has a new name."""
    print(f"srhw: {old} is deprecated, use {new}", file=sys.stderr)


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


# --- help: examples and defaults on every command ------------------------------------------------------

class Formatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs kept as written (the examples); a flag's default is shown unless its help already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" not in text and action.option_strings and action.help is not argparse.SUPPRESS
                and action.default not in (None, False, argparse.SUPPRESS, [], "")):
            text += " (default %(default)s)"
        return text


def examples(*lines: str) -> str:
    """An argparse epilog: commands a user can paste."""
    return "examples:\n" + "\n".join(f"  {l}" for l in lines)


def walk(parser, path: tuple = ()):
    """(command words, parser) of `parser` and of every sub-parser below it, depth first."""
    yield path, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield from walk(sub, path + (name,))


def finish(parser):
    """The one formatter on every parser of the tree (subcommands' parsers are made before it is known)."""
    for _, p in walk(parser):
        p.formatter_class = Formatter

"""Flags several commands share, defined once so that they mean the same everywhere.

`--model` + `--r` (a zoo spec, st_bl's hidden width separately), `--scale`, `--data` (the data root),
`--threads`, `--sets`; `model_spec` joins --model and --r. Nothing here imports torch: `--help` of
every command stays fast.
"""

import sys

from srhw.core.errors import SrhwError

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


def add_scale(p, default: int | None = 2, required: bool = False):
    more = f" (default {default})" if default is not None and not required else ""
    p.add_argument("--scale", type=int, default=None if required else default, required=required,
                   help=f"upscaling factor 2, 3 or 4{more}")


def add_data(p, what: str = "the benchmark sets"):
    p.add_argument("--data", default=None,
                   help=f"data root holding {what} (default: $SRHW_DATA or <repo>/../shared/data)")


def add_threads(p, default: int = 0):
    p.add_argument("--threads", type=int, default=default, help="torch CPU threads (0: torch's default)")


def add_sets(p, default: str):
    p.add_argument("--sets", default=default, help=f"comma-separated test sets (default {default})")


def deprecated(old: str, new: str):
    """One line on stderr for a flag spelling that still works but has a new name."""
    print(f"srhw: {old} is deprecated, use {new}", file=sys.stderr)

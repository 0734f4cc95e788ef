"""The study's rows: which models a paper table has (srhw/profile/paper.py), their run folders, and what
each costs (params, Mult-Adds, Table 5 mults/adds) as trained."""

import json
from dataclasses import dataclass
from pathlib import Path

from srhw.core.errors import SrhwError
from srhw.core.names import run_folder, slug

REFERENCE = {1: "bl", 2: "bl-e", 4: "bl", 5: "bl"}  # the row each table's trade-off is computed against
TABLE_NAMES = {1: "resource-efficient units (section 4.1)", 2: "techniques on different parts (section 4.2)",
               4: "8-bit integer quantization (section 5.1)",
               5: "sum-product (StrassenNets) convolutions (section 5.2)"}


@dataclass(frozen=True)
class Row:
    """One line of a table: a zoo spec (canonical) at a scale; `reference` marks the trade-off baseline."""

    spec: str
    scale: int
    reference: bool = False

    @property
    def slug(self) -> str:
        """A folder name (srhw.core.names): 'blrn-e(r=2)[rg+u]' x3 -> 'blrn-e_r_2__rg_u-x3'."""
        return slug(self.spec, self.scale)


def table_rows(table: int, scale: int | None = None, only: list[str] | None = None) -> list[Row]:
    """The rows of paper table `table` (srhw/profile/paper.py), x2 first, reference first at each scale.

    Table 5 lists st_bl rows only; its reference bl is added at each scale (the paper prints it too).
    """
    from srhw.models import canonical
    from srhw.models.spec import check_scale
    from srhw.profile.paper import TABLES

    if table not in REFERENCE:
        raise SrhwError(f"no study for table {table}: use 1, 2, 4 or 5 to train a table (3 is written from the shipped checkpoints)")
    if scale is not None:
        check_scale(scale)
    ref = canonical(REFERENCE[table])
    pairs = [(canonical(spec), s) for spec, s, *_ in TABLES[table]]
    scales = sorted({s for _, s in pairs})
    if scale is not None:
        if scale not in scales:
            raise SrhwError(f"Table {table} has no x{scale} rows (it has {', '.join(f'x{s}' for s in scales)})")
        scales = [scale]
    keep = None
    if only is not None:
        keep = {canonical(o) for o in only}
        unknown = keep - {sp for sp, _ in pairs} - {ref}
        if unknown:
            raise SrhwError(f"--only: {', '.join(sorted(unknown))} not in Table {table}")
    rows = []
    for s in scales:
        rows.append(Row(ref, s, reference=True))
        rows += [Row(sp, s2) for sp, s2 in pairs if s2 == s and sp != ref and (keep is None or sp in keep)]
    return rows


def run_dir(out, row: Row) -> Path:
    """The row's run folder (a study folder of the older naming keeps its runs: they resume)."""
    return run_folder(Path(out) / "runs", row.spec, row.scale)


def count_row(row: Row, model_args: dict) -> dict:
    """Params and Mult-Adds (720p frame) of the model as trained (with `model_args`), on meta tensors.

    Raises SrhwError when the spec cannot be built with `model_args` (checked before anything trains).
    """
    import torch

    from srhw.models import build
    from srhw.profile import count_mult_adds, count_params

    try:
        with torch.device("meta"):
            model = build(row.spec, row.scale, **model_args)
        return {"params": count_params(model), "mult_adds": count_mult_adds(model, row.scale)}
    except Exception as e:  # bad constructor kwargs, channels that groups do not divide, ...
        msg = f"{row.spec} x{row.scale} cannot be built with --model-args {json.dumps(model_args)}: {e}"
        raise SrhwError(msg.replace("\n", " ")) from None


def table5_ops(row: Row, model_args: dict) -> dict:
    """Table 5's columns: mults/adds per 720p frame and their reduction against bl (srhw.profile.table5_row),
    dense as the paper counts, for the models as trained (`model_args`)."""
    from srhw.models import parse
    from srhw.profile import table5_row

    ops = table5_row(row.spec, row.scale, **model_args)
    r = dict(parse(row.spec).args).get("r")
    return {"r": r, **{k: ops[k] for k in ("mults", "adds", "mult_reduction_pct", "add_reduction_pct")}}

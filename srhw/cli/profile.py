"""`srhw profile`: what a zoo model costs, or a whole paper table beside the paper's printed values.

The counters (and torch) are imported after parsing: `srhw profile --help` stays fast.
"""

import json
import math

from srhw.cli.common import R_HELP, check_scale, examples, model_spec, spec_and_scale
from srhw.core.errors import SrhwError
from srhw.profile.paper import TABLES

EXAMPLES = examples('srhw profile --model "blrn-e(r=2)[rb]" --scale 2 --json',
                    "srhw profile --model st_bl --r 2c_out --scale 2",
                    "srhw profile --checkpoint models/st_bl_r_2c_out-x2.safetensors   # spec and scale from its sidecar",
                    "srhw profile --table 5")


def add_arguments(p):
    what = p.add_mutually_exclusive_group()
    what.add_argument("--model", help='zoo spec, e.g. "blrn-e(r=2)[rg+u]" or st_bl (with --r)')
    what.add_argument("--table", type=int, choices=sorted(TABLES), help="profile every row of a paper table")
    p.add_argument("--r", help=R_HELP)
    p.add_argument("--scale", type=int, default=None, help="upscaling factor 2, 3 or 4 (default: the checkpoint's, else 2)")
    p.add_argument("--checkpoint", help="trained ternary st_bl checkpoint (.safetensors): adds sparsity-aware op counts "
                                        "(its sidecar gives --model and --scale)")
    p.add_argument("--psnr", help="this model's PSNRs on the test sets, comma-separated (trade-off metrics)")
    p.add_argument("--ref", default=None, help="reference model for the trade-off (default bl, or bl-e for -e models)")
    p.add_argument("--ref-psnr", help="the reference's PSNRs on the same sets, comma-separated")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows")


def _floats(text, what):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise SrhwError(f"{what} must be comma-separated numbers, got {text!r}") from None


def _model_rows(args) -> list[dict]:
    from srhw.models import resolve
    from srhw.profile.counting import tradeoff
    from srhw.profile.rows import profile_row, table5_row

    if not args.model and not args.checkpoint:
        raise SrhwError("give --model SPEC, --checkpoint C or --table N")
    if args.checkpoint:
        spec, args.scale = spec_and_scale(args.model, args.r, args.scale, args.checkpoint, default_scale=2)
    else:  # the spec as written: rows carry the user's spelling
        spec, args.scale = model_spec(args.model, args.r), check_scale(args.scale or 2)
    rs = resolve(spec)
    row = profile_row(spec, args.scale)
    if rs.variant.name == "st_bl":
        row.update({k: v for k, v in table5_row(spec, args.scale).items() if k not in row})
        if args.checkpoint:
            model = _load_trained(args.checkpoint, str(rs), args.scale)
            sp = table5_row(spec, args.scale, model=model, sparse=True)
            row.update({f"sparse_{k}": sp[k] for k in ("mults", "adds", "mult_reduction_pct", "add_reduction_pct")})
    elif args.checkpoint:
        raise SrhwError("--checkpoint gives sparsity-aware counts of ternary st_bl models only")
    if args.psnr or args.ref_psnr:
        if not (args.psnr and args.ref_psnr):
            raise SrhwError("the trade-off needs both --psnr and --ref-psnr")
        ref_spec = args.ref or ("bl-e" if rs.erum else "bl")
        ref = profile_row(ref_spec, args.scale)
        t = tradeoff(ref["params"], ref["mult_adds"], _floats(args.ref_psnr, "--ref-psnr"),
                     row["params"], row["mult_adds"], _floats(args.psnr, "--psnr"))
        row.update({"reference": ref["model"], "mult_adds_saved_g_per_0.01db": t.mult_adds_saved_g,
                    "params_saved_k_per_0.01db": t.params_saved_k})
    return [row]


def _load_trained(path, spec, scale):
    from srhw.models.load import load_model

    return load_model(path, spec, scale)[0]


def _text_table(table: int, rows: list[dict]) -> str:
    paper = TABLES[table]
    if table == 5:
        head = f"{'model':<18}{'scale':>6}{'mults G':>10}{'adds G':>10}{'mult red. %':>13}{'paper':>8}{'add red. %':>12}{'paper':>9}"
        lines = [f"Table 5: ours beside the paper's printed reductions (against bl, 1280x720 output)", head]
        for row, (_, _, pm, pa) in zip(rows, paper):
            lines.append(f"{row['model']:<18}{row['scale']:>6}{row['mults'] / 1e9:>10.3f}{row['adds'] / 1e9:>10.2f}"
                         f"{row['mult_reduction_pct']:>13.3f}{pm:>8.2f}{row['add_reduction_pct']:>12.3f}{pa:>9.2f}")
        return "\n".join(lines)
    head = f"{'model':<20}{'scale':>6}{'params':>10}{'K':>6}{'paper K':>9}{'Mult-Adds G':>13}{'paper G':>9}  match"
    lines = [f"Table {table}: ours beside the paper's printed values (K = floor(params/1000), G for a 1280x720 output)", head]
    for row, (_, _, pk, pg) in zip(rows, paper):
        k, g = row["params"] // 1000, row["mult_adds"] / 1e9
        match = ("K" if k == pk else "-") + ("G" if round(g, 1) == pg else "-")
        lines.append(f"{row['model']:<20}{row['scale']:>6}{row['params']:>10}{k:>6}{pk:>9}{g:>13.3f}{pg:>9.1f}  {match}")
    return "\n".join(lines)


def _fewer(pct: float) -> str:
    """A reduction in words: 99.6 -> '99.636 % fewer', -132.1 -> '132.101 % more' (never '-132 % fewer')."""
    return f"{pct:.3f} % fewer" if pct >= 0 else f"{-pct:.3f} % more"


def _text_rows(rows: list[dict]) -> str:
    out = []
    for row in rows:
        out.append(f"{row['model']} x{row['scale']}: {row['params']:,} params, {row['mult_adds'] / 1e9:.3f} G Mult-Adds (1280x720 output)")
        if "mults" in row:
            out.append(f"  Table 5 convention: {row['mults'] / 1e9:.4f} G mults ({_fewer(row['mult_reduction_pct'])} than bl), "
                       f"{row['adds'] / 1e9:.2f} G adds ({_fewer(row['add_reduction_pct'])})")
        if "sparse_adds" in row:
            out.append(f"  sparsity-aware (trained weights): {row['sparse_mults'] / 1e9:.4f} G mults, {row['sparse_adds'] / 1e9:.2f} G adds "
                       f"({_fewer(row['sparse_add_reduction_pct'])} than bl)")
        if "reference" in row:
            out.append(f"  against {row['reference']}: {row['mult_adds_saved_g_per_0.01db']:.4f} G Mult-Adds and "
                       f"{row['params_saved_k_per_0.01db']:.2f} K params saved per 0.01 dB PSNR lost")
    return "\n".join(out)


def run(args):
    if args.table is not None:
        if args.r or args.checkpoint or args.psnr or args.ref_psnr:
            raise SrhwError("--table takes no --r/--checkpoint/--psnr/--ref-psnr")
        from srhw.profile.rows import profile_table

        rows = profile_table(args.table)
        print(json.dumps(rows, indent=2) if args.json else _text_table(args.table, rows))
        return 0
    rows = _model_rows(args)
    if args.json:
        print(json.dumps(rows, indent=2, allow_nan=False, default=_inf_to_none))
    else:
        print(_text_rows(rows))
    return 0


def _inf_to_none(x):
    return None if isinstance(x, float) and math.isinf(x) else x

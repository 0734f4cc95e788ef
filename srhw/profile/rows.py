"""Profile rows in the JSON contract of `srhw profile`:

    {"model": "<paper spec>", "scale": s, "params": int, "mult_adds": int}
    {"model": "st_bl(r=2c_out)", "scale": s, "mults": int, "adds": int,
     "mult_reduction_pct": float, "add_reduction_pct": float}          (Table 5, against bl)
"""

from functools import lru_cache

from srhw.models import canonical, resolve
from srhw.profile.counting import count_mult_adds, count_ops, count_params, meta_model
from srhw.profile.paper import TABLES


def profile_row(spec: str, scale: int, **config) -> dict:
    """Params and Mult-Adds of the network as its paper counts it. The Y-channel networks also give the
    counts of their deployed form (`deployed_*`: FSRCNN's LR-grid tail, SESR collapsed), what hardware runs;
    SESR's own counts are those of the collapsed network (the expanded weights are a training device)."""
    v = resolve(spec).variant
    model = meta_model(spec, scale, **({"deploy": True} if v.count_deployed else {}), **config)
    row = {"model": canonical(spec), "scale": scale, "params": count_params(model),
           "mult_adds": count_mult_adds(model, scale)}
    if v.channels == 1:
        dep = meta_model(spec, scale, deploy=True, **config)
        row.update({"channels": 1, "deployed_params": count_params(dep), "deployed_mult_adds": count_mult_adds(dep, scale)})
    return row


@lru_cache(maxsize=None)
def _bl_ops(scale, config=()):
    return count_ops("bl", scale, **dict(config))


def table5_row(spec: str, scale: int, model=None, sparse: bool = False, **config) -> dict:
    """Table 5 counts of `spec` and its reductions against bl of the same scale (and config)."""
    ops = count_ops(spec, scale, model=model, sparse=sparse, **config)
    ref = _bl_ops(scale, tuple(sorted(config.items())))
    return {"model": canonical(spec), "scale": scale, "mults": ops.mults, "adds": ops.adds,
            "mult_reduction_pct": 100.0 * (1 - ops.mults / ref.mults),
            "add_reduction_pct": 100.0 * (1 - ops.adds / ref.adds)}


def profile_table(table: int) -> list[dict]:
    rows = TABLES[table]
    if table == 5:
        return [table5_row(spec, scale) for spec, scale, *_ in rows]
    return [profile_row(spec, scale) for spec, scale, *_ in rows]

"""`srhw study`: train and evaluate every row of a paper table under one budget, and write its columns.

The paper's Tables 1, 2, 4 and 5 (section 3, 4.1, 4.2, 5.1, 5.2): each row is trained with the recipe of
srhw/train (EDSR's, section 3) for the same `--iters`, evaluated on the benchmark sets with the protocol of
srhw/eval/evaluate.py, counted with srhw/profile, and compared with the table's reference row:

    Table 1   x2 rows of section 4.1             reference bl      trade-off: Mult-Adds/Params saved per 0.01 dB
    Table 2   x2/x3/x4 rows of section 4.2       reference bl-e    (same), at each scale
    Table 4   bl x2/x3/x4 and INT8 bl_q, 5.1     (none)            PSNR change float -> INT8 per set
    Table 5   st_bl(r=m c_out), section 5.2      reference bl      reduction in mults/adds (%), at each scale

The trade-off metrics are the paper's (srhw.profile.tradeoff): the PSNR loss against the reference summed
over the evaluated sets, in units of 0.01 dB. x3/x4 rows start from the finished x2 run of the same spec
when there is one ("We train x2 models from scratch and use them as pre-trained models to train x3 and x4
models"). Which rows a table has comes from srhw/profile/paper.py; the paper's numbers are never printed.

    python -m srhw study --table 1 --iters 300000 --out study/t1
    python -m srhw study --table 2 --scale 3 --iters 2000 --sets Set5,Set14 --out study/t2
    python -m srhw study --table 4 --scale 2 --iters 2000 --out study/t4         # float bl + INT8 bl_q
    python -m srhw study --table 1 --iters 2 --patch 8 --batch 2 --model-args '{"num_feat": 16, "num_group": 1, "num_block": 1}' \
        --only "bl;blrn(r=2)" --sets Set5 --out /tmp/t1                      # smoke test

Files under --out, each written atomically:

    runs/<spec>_x<s>/           one `srhw train` run folder per row, plus row.json (eval results, timings)
    runs/bl_x<s>/int8/          Table 4: the row's `srhw quantize int8` folder (PTQ + QAT, golden graph)
    table<N>.md, table<N>.json  the table (our numbers, with the budget in the caption)
    table<N>.png                mean Y-PSNR over the evaluated sets vs Mult-Adds (Table 5: vs multiplications;
                                Table 4: float vs INT8 PSNR per set, one panel per scale)

A row whose run folder holds a finished run of the same budget (sidecar step == --iters, same patch, batch,
model args, training set, seed, lr) is reused; a partly trained one resumes from its last checkpoint; a run of
another budget is an error (choose another --out). Evaluation results are cached in row.json per set.
Table 4's INT8 folder is reused when its sidecar says int8 with the QAT step and lr of this budget and the
float run was not (re)trained by this invocation; otherwise it is quantized again.
"""

import json
import math
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm import tqdm

from srhw.core.errors import SrhwError
from srhw.eval.evaluate import DEFAULT_SETS
from srhw.core.io import atomic_path, write_json, write_text

REFERENCE = {1: "bl", 2: "bl-e", 4: "bl", 5: "bl"}  # the row each table's trade-off is computed against
TABLE_NAMES = {1: "resource-efficient units (section 4.1)", 2: "techniques on different parts (section 4.2)",
               4: "8-bit integer quantization (section 5.1)",
               5: "sum-product (StrassenNets) convolutions (section 5.2)"}
# TrainConfig fields that define the budget: a finished run is reused only if all of them match.
BUDGET_KEYS = ("spec", "scale", "model_args", "data", "patch", "batch", "seed", "lr", "iters")
ROW_FILE = "row.json"
# Table 4's QAT: "retrain for an additional 5 epochs with a learning rate of 5e-5" after 300 epochs of training
QAT_EPOCHS, TRAIN_EPOCHS, QAT_LR = 5, 300, 5e-5
INT8_NOTE = ("INT8: per-channel int8 weights, int8 activations, integer-only golden model (srhw.quant); "
             "the paper used TFLite.")


def add_arguments(p):
    from srhw.train.config import TrainConfig

    d = TrainConfig()
    p.add_argument("--table", type=int, required=True,
                   help="paper table: 1, 2, 4 or 5; 3 writes the comparison table from the shipped checkpoints "
                        "beside the cited rows (srhw/eval/table3.py; trains nothing)")
    p.add_argument("--iters", type=int, help="training iterations of every row (the budget; not for --table 3)")
    p.add_argument("--out", required=True, help="study folder: run folders + table<N>.md/.json/.png")
    p.add_argument("--data", help="data root with the benchmark sets and the training set "
                                  "(default $SRHW_DATA or <repo>/../shared/data)")
    p.add_argument("--scale", type=int, help="only the rows of this scale (default: all of the table)")
    p.add_argument("--sets", default=DEFAULT_SETS, help=f"comma-separated test sets (default {DEFAULT_SETS})")
    p.add_argument("--only", help="only these specs, ';'-separated (the reference row is always kept), "
                                  "e.g. 'bl;blrn(r=2)'")
    p.add_argument("--model-args", type=json.loads,
                   help='JSON overrides for every model, e.g. \'{"num_feat": 16}\' (small smoke-test models)')
    p.add_argument("--patch", type=int, default=d.patch, help=f"LR patch size (default {d.patch})")
    p.add_argument("--batch", type=int, default=d.batch, help=f"batch size (default {d.batch})")
    p.add_argument("--train-set", default=d.data, help=f"training set under --data (default {d.data}; 'DIV2K' = DIV2K layout)")
    p.add_argument("--lr", type=float, default=d.lr, help=f"initial learning rate (default {d.lr})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed (default {d.seed})")
    p.add_argument("--val-every", type=int, default=d.val_every,
                   help=f"iterations between the trainer's Set5 validations (default {d.val_every}; -1: never)")
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores of this process)")


# ---------------------------------------------------------------------------------------------------------
# rows


@dataclass(frozen=True)
class Row:
    """One line of a table: a zoo spec (canonical) at a scale; `reference` marks the trade-off baseline."""

    spec: str
    scale: int
    reference: bool = False

    @property
    def slug(self) -> str:
        """A folder name: 'blrn-e(r=2)[rg+u]' x3 -> 'blrn-e_r2_rg+u_x3'."""
        s = re.sub(r"[^A-Za-z0-9+_-]+", "_", self.spec.replace("=", "")).strip("_")
        return f"{s}_x{self.scale}"


def table_rows(table: int, scale: int | None = None, only: list[str] | None = None) -> list[Row]:
    """The rows of paper table `table` (srhw/profile/paper.py), x2 first, reference first at each scale.

    Table 5 lists st_bl rows only; its reference bl is added at each scale (the paper prints it too).
    """
    from srhw.models import SCALES, canonical
    from srhw.profile.paper import TABLES

    if table not in REFERENCE:
        raise SrhwError(f"no study for table {table}: use 1, 2, 4 or 5 (Table 3 is not trained here)")
    if scale is not None and scale not in SCALES:
        raise SrhwError(f"unsupported scale {scale}: use 2, 3 or 4")
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
    return Path(out) / "runs" / row.slug


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


# ---------------------------------------------------------------------------------------------------------
# training: reuse / resume / train


def _sidecar(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError as e:
        raise SrhwError(f"{path}: bad JSON sidecar ({e})") from None


def _budget(cfg_dict: dict) -> dict:
    return {k: json.loads(json.dumps(cfg_dict.get(k))) for k in BUDGET_KEYS}  # tuples -> lists, as in JSON


def run_status(cfg) -> str:
    """'done' (reuse), 'partial' (resume) or 'new' for the run folder `cfg.out`.

    Raises SrhwError when the folder holds a run of another budget.
    """
    out = Path(cfg.out)
    meta = _sidecar(out / "model.json")
    if meta is not None:
        theirs = _budget(meta.get("train_config") or {})
        ours = _budget(asdict(cfg))
        diff = [k for k in BUDGET_KEYS if theirs[k] != ours[k]]
        if diff:
            what = ", ".join(f"{k} {theirs[k]} vs {ours[k]}" for k in diff)
            raise SrhwError(f"{out} holds a run of another budget ({what}): use another --out")
        if meta.get("step") == cfg.total_iters:
            return "done"
    return "partial" if (out / "train_state.safetensors").is_file() else "new"


def ternary_phase(row: Row, cfg, checkpoint: Path) -> Path | None:
    """Table 5's ternary phases (paper section 3: 40 epochs with ternary weights at lr 5e-5, then 10 epochs
    with the codes fixed at 2.5e-5) after the row's full-precision run, scaled to the study's budget in the
    paper's proportions (300 : 40 : 10 epochs), via srhw.quant. Returns the ternary checkpoint (its frozen
    ternary weights are evaluated with float activations, as the paper does); a finished one is reused."""
    from srhw.core.outdir import staged_output
    from srhw.quant.qat import StageConfig
    from srhw.quant.ternary import run_ternary

    total = cfg.total_iters
    stages = {name: StageConfig(epochs=0, lr=lr, iters=it, batch=cfg.batch, seed=cfg.seed, patch=cfg.patch)
              for name, lr, it in (("fp", cfg.lr, 0), ("ternary", 5e-5, max(1, round(total * 40 / 300))),
                                   ("frozen", 2.5e-5, max(1, round(total * 10 / 300))))}
    out = checkpoint.parent / "ternary"
    want = sum(st.total for st in stages.values())
    if (_sidecar(out / "model.json") or {}).get("step") == want:
        return out / "model.safetensors"
    with staged_output(out, force=True) as tmp:
        run_ternary(row.spec, row.scale, checkpoint, cfg.data_dir, tmp, stages, train_set=cfg.data, log=lambda m: None)
    return out / "model.safetensors"


def qat_iters(total: int) -> int:
    """Table 4's QAT iterations for a training budget of `total`: the paper's 5 epochs per 300."""
    return max(1, round(total * QAT_EPOCHS / TRAIN_EPOCHS))


def int8_phase(row: Row, cfg, checkpoint: Path, force: bool = False) -> tuple[Path, bool]:
    """Table 4's INT8 row (paper section 5.1): post-training quantization of the row's float checkpoint, then
    QAT for `qat_iters` iterations at lr 5e-5, via srhw.quant.int8 into `<run dir>/int8/` (all-or-nothing).

    Returns (the INT8 checkpoint, whether it was quantized now). A finished folder (sidecar quant int8, the
    same QAT step and lr, its golden graph present) is reused unless `force` (the float run changed)."""
    from srhw.quant.config import QuantConfig
    from srhw.quant.int8 import run_int8
    from srhw.core.outdir import staged_output
    from srhw.quant.qat import StageConfig

    stage = StageConfig(epochs=0, lr=QAT_LR, iters=qat_iters(cfg.total_iters), batch=cfg.batch, seed=cfg.seed,
                        patch=cfg.patch)
    out = checkpoint.parent / "int8"
    side = _sidecar(out / "model.json") or {}
    if (not force and side.get("quant") == "int8" and side.get("step") == stage.total
            and (side.get("qat") or {}).get("lr") == stage.lr and (out / side.get("golden", "golden") / "graph.json").is_file()):
        return out / "model.safetensors", False
    with staged_output(out, force=True) as tmp:
        run_int8(row.spec, row.scale, checkpoint, cfg.data_dir, tmp, stage, cfg.data, QuantConfig(), tflite=False,
                 log=lambda m: None)
    return out / "model.safetensors", True


def train_row(row: Row, cfg, status: str, progress: bool) -> dict:
    """Train (or resume) one row's run; returns the trainer's summary."""
    from srhw.train.loop import train

    return train(cfg, resume=(status == "partial"), progress=progress)


# ---------------------------------------------------------------------------------------------------------
# evaluation (cached per set in <run>/row.json)


def evaluate_row(ckpt: Path, row: Row, data_dir: Path, sets: list[str], device, cache: dict, progress: bool) -> dict:
    """PSNR/SSIM per set of the checkpoint; sets already in `cache` (same step) are not evaluated again.

    Returns {set: {"psnr", "ssim", "images", "eval_s"}}.
    """
    def upscaler():
        from srhw.core.checkpoint import check_state_dict, load_checkpoint
        from srhw.eval.evaluate import network_upscaler
        from srhw.models import build

        sd, meta = load_checkpoint(ckpt)
        model = build(row.spec, row.scale, **(meta.get("model_args") or {}))
        check_state_dict(model, sd, row.spec, row.scale)
        model.load_state_dict(sd)
        model.to(device)
        return network_upscaler(model, row.scale)

    return _evaluate_sets(upscaler, row.scale, data_dir, sets, cache, progress)


def _evaluate_sets(make_upscaler, scale: int, data_dir: Path, sets: list[str], cache: dict, progress: bool) -> dict:
    """{set: {"psnr", "ssim", "images", "eval_s"}}; sets in `cache` are reused and the upscaler is only made
    (`make_upscaler()`) when some set is left to evaluate."""
    from srhw.eval.evaluate import evaluate

    todo = [s for s in sets if s not in cache]
    results = {s: cache[s] for s in sets if s in cache}
    if todo:
        up = make_upscaler()
        for name in todo:
            t0 = time.perf_counter()
            (res,) = evaluate(up, data_dir, [name], scale, progress=progress)
            results[name] = {"psnr": res["psnr"], "ssim": res["ssim"], "images": res["images"],
                             "eval_s": time.perf_counter() - t0}
    return results


def evaluate_int8(ckpt: Path, row: Row, data_dir: Path, sets: list[str], cache: dict, progress: bool) -> dict:
    """PSNR/SSIM per set of an INT8 checkpoint's integer golden model (srhw.eval.upscalers, torch engine: the
    same integer arithmetic as the numpy golden model); sets in `cache` are not evaluated again."""
    from srhw.eval.upscalers import golden_upscaler

    return _evaluate_sets(lambda: golden_upscaler(ckpt, row.scale, engine="torch"), row.scale, data_dir, sets,
                          cache, progress)


# ---------------------------------------------------------------------------------------------------------
# the table


def add_tradeoffs(table: int, records: list[dict], sets: list[str]):
    """Fill each record's trade-off columns against the reference row of its scale (in place)."""
    from srhw.profile import tradeoff

    if table == 4:
        return  # Table 4 compares each INT8 row with its own float row (psnr_change_db), no trade-off
    refs = {r["scale"]: r for r in records if r["reference"]}
    for r in records:
        ref = refs[r["scale"]]
        ref_psnrs = [ref["sets"][s]["psnr"] for s in sets]
        psnrs = [r["sets"][s]["psnr"] for s in sets]
        r["psnr_loss_cdb"] = None if r["reference"] else sum(a - b for a, b in zip(ref_psnrs, psnrs)) / 0.01
        if table == 5:
            continue  # Table 5's comparison is the mult/add reduction (table5_ops)
        if r["reference"]:
            r["mult_adds_saved_g_per_cdb"] = r["params_saved_k_per_cdb"] = None
            continue
        t = tradeoff(ref["params"], ref["mult_adds"], ref_psnrs, r["params"], r["mult_adds"], psnrs)
        # no PSNR lost: the paper's metric is unbounded; JSON gets null and the flag
        r["no_psnr_loss"] = math.isinf(t.mult_adds_saved_g)
        r["mult_adds_saved_g_per_cdb"] = None if r["no_psnr_loss"] else t.mult_adds_saved_g
        r["params_saved_k_per_cdb"] = None if r["no_psnr_loss"] else t.params_saved_k


def caption(table: int, budget: dict, sets: list[str], model_args: dict, scales=(2,)) -> list[str]:
    lines = [f"Table {table} ({TABLE_NAMES[table]}), reproduced by `srhw study`: OUR numbers, each row trained for "
             f"{budget['iters']} iterations (patch {budget['patch']}, batch {budget['batch']}, lr {budget['lr']}, "
             f"training set {budget['data']}, seed {budget['seed']}), not the paper's 300 epochs unless "
             f"iters = 300000. Y-channel PSNR (dB) / SSIM, scale px shaved."]
    if any(s != 2 for s in scales):
        lines.append("x3/x4 rows start from the finished x2 run of the same spec where there is one (the paper's "
                     "recipe; column init of the cost table), else from scratch.")
    if model_args:
        lines.append(f"Models built with --model-args {json.dumps(model_args)} (not the paper's sizes); "
                     "Params and Mult-Adds are of these models.")
    if table == 4:
        n_qat = qat_iters(budget["iters"])
        lines.append(f"{INT8_NOTE} bl_q: the trained bl of the same row, quantized after training (calibrated "
                     f"post-training quantization) and retrained with quantization (QAT) for "
                     f"{n_qat} iteration{'s' if n_qat != 1 else ''} at lr {QAT_LR} (the paper's 5 QAT epochs per 300 training epochs); PSNR/SSIM "
                     "of the integer golden model's output. bl_q shares bl's Params and Mult-Adds (counted by "
                     "srhw.profile for the float model, 1280x720 output). Change = INT8 minus float PSNR (dB).")
    elif table == 5:
        lines.append("st_bl rows: full-precision SP training, then ternary training and frozen codes (srhw.quant, "
                     "the paper's 300 : 40 : 10 epoch proportions of the budget); PSNR/SSIM of the ternary-weight "
                     "network with float activations, as the paper evaluates it. Reductions in mults/adds are against bl at each scale, counted "
                     "for dense ternary weights as the paper does (srhw.profile.table5_row).")
    else:
        ref = REFERENCE[table]
        lines.append(f"Trade-off: G Mult-Adds / K params saved per 0.01 dB of PSNR lost against {ref} at the same "
                     f"scale, the loss summed over {', '.join(sets)}"
                     + (" (the paper sums Set5, Set14, B100, Urban100)" if sets != DEFAULT_SETS.split(",") else "")
                     + ". Mult-Adds for a 1280x720 output. **bold**/*italics*: best/second-best trade-off.")
    return lines


def _rank_marks(records, key):
    """{id(record): '**' | '*'} for the best/second-best finite `key` at each scale."""
    marks = {}
    for s in {r["scale"] for r in records}:
        vals = sorted((r for r in records if r["scale"] == s and r.get(key) is not None), key=lambda r: -r[key])
        for r, m in zip(vals, ("**", "*")):
            marks[id(r)] = m
    return marks


def to_markdown(doc: dict) -> str:
    table, sets, records = doc["table"], doc["sets"], doc["rows"]
    out = [f"# Table {table}", ""] + [f"{line}" for line in doc["caption"]] + [""]
    set_cols = [f"{s} PSNR/SSIM" for s in sets]
    if table == 5:
        head = ["Scale", "Model", "r", "Reduction in Mult (%)", "Reduction in Add (%)"] + set_cols
    elif table == 4:
        head = ["Scale", "Model", "Params (K)", "Mult-Adds (G)"] + set_cols + \
               [f"{s} PSNR change float→INT8 (dB)" for s in sets]
    else:
        head = ["Scale", "Model", "Params (K)", "Mult-Adds (G)"] + set_cols + \
               ["Mult-Adds saved (G) / 0.01 dB", "Params saved (K) / 0.01 dB"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    ma_marks = _rank_marks(records, "mult_adds_saved_g_per_cdb")
    p_marks = _rank_marks(records, "params_saved_k_per_cdb")
    for r in records:
        cells = [f"{r['scale']}x", r["model"]]
        metrics = [f"{r['sets'][s]['psnr']:.2f}/{r['sets'][s]['ssim']:.4f}" for s in sets]
        if table == 4:  # the paper's layout: bl_q under its bl, scale and costs printed once
            q = r["quant"] == "int8"
            cells = ["" if q else cells[0], r["model"]]
            cells += ["", ""] if q else [f"{r['params'] // 1000}", f"{r['mult_adds'] / 1e9:.1f}"]
            cells += metrics + ([f"{r['psnr_change_db'][s]:+.3f}" for s in sets] if q else ["-"] * len(sets))
        elif table == 5:
            if r["reference"]:
                cells += ["-", "-", "-"]
            else:
                cells += [r["r"], f"{r['mult_reduction_pct']:.2f}", f"{r['add_reduction_pct']:.2f}"]
            cells += metrics
        else:
            cells += [f"{r['params'] // 1000}", f"{r['mult_adds'] / 1e9:.1f}"] + metrics
            if r["reference"]:
                cells += ["-", "-"]
            elif r.get("no_psnr_loss"):
                cells += ["no loss", "no loss"]
            else:
                m1, m2 = ma_marks.get(id(r), ""), p_marks.get(id(r), "")
                cells += [f"{m1}{r['mult_adds_saved_g_per_cdb']:.4f}{m1}", f"{m2}{r['params_saved_k_per_cdb']:.4f}{m2}"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "Cost of this study on its machine (training: seconds per iteration, excluding validation and "
                "checkpoints; evaluation: seconds per set)."
                + (" bl_q rows: QAT seconds per iteration; init: the float run quantized." if table == 4 else ""), ""]
    head = ["Scale", "Model", "run", "step", "init", "s / iter"] + [f"eval {s} (s)" for s in sets]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        c = r["cost"]
        spi = f"{c['train_s_per_iter']:.3f}" if c.get("train_s_per_iter") else "-"
        init = Path(r["init"]).parent.name if r.get("init") else "-"
        out.append("| " + " | ".join([f"{r['scale']}x", r["model"], r["run"], str(r["step"]), init, spi]
                                     + [f"{c['eval_s'].get(s, 0):.2f}" for s in sets]) + " |")
    return "\n".join(out) + "\n"


def plot(doc: dict, path: Path):
    """Mean PSNR over the evaluated sets vs Mult-Adds (Tables 1, 2) or multiplications (Table 5), one panel
    per scale, every point labelled with its model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, sets, records = doc["table"], doc["sets"], doc["rows"]
    if table == 4:
        return plot_table4(doc, path)
    scales = sorted({r["scale"] for r in records})
    fig, axes = plt.subplots(1, len(scales), figsize=(6.5 * len(scales), 5), squeeze=False)
    xkey, xlabel = ("mults", "multiplications (G), 720p output, log") if table == 5 else \
        ("mult_adds", "Mult-Adds (G), 720p output")
    ylabel = f"mean Y-PSNR over {', '.join(sets)} (dB)" if len(sets) > 1 else f"{sets[0]} Y-PSNR (dB)"
    for ax, s in zip(axes[0], scales):
        rows = [r for r in records if r["scale"] == s]
        for r in rows:
            x = (r[xkey] if table == 5 and not r["reference"] else r["mult_adds"]) / 1e9
            y = sum(r["sets"][n]["psnr"] for n in sets) / len(sets)
            ax.scatter([x], [y], marker="s" if r["reference"] else "o", color="C3" if r["reference"] else "C0")
            ax.annotate(r["model"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        if table == 5:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"Table {table}, x{s} ({doc['budget']['iters']} iterations, ours)")
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def plot_table4(doc: dict, path: Path):
    """Table 4: Y-PSNR of the float and the INT8 model on each evaluated set, one panel per scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets, records = doc["sets"], doc["rows"]
    scales = sorted({r["scale"] for r in records})
    fig, axes = plt.subplots(1, len(scales), figsize=(max(4.5, 1.6 * len(sets) + 2.5) * len(scales), 4.5),
                             squeeze=False)
    xs = list(range(len(sets)))
    for ax, s in zip(axes[0], scales):
        for i, (quant, label, marker) in enumerate((("full", "float", "s"), ("int8", "INT8", "o"))):
            for r in (r for r in records if r["scale"] == s and r["quant"] == quant):
                ys = [r["sets"][n]["psnr"] for n in sets]
                ax.plot([x + (i - 0.5) * 0.12 for x in xs], ys, marker=marker, linestyle="none", color=f"C{i}",
                        label=f"{r['model']} ({label})")
        ax.set_xticks(xs, sets)
        ax.set_xlim(-0.6, len(sets) - 0.4)
        ax.set_ylabel("Y-PSNR (dB)")
        ax.set_title(f"Table 4, x{s} ({doc['budget']['iters']} iterations, ours)")
        ax.margins(y=0.3)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------------


def _parse_sets(text):
    sets = [s.strip() for s in (text or "").split(",") if s.strip()]
    if not sets:
        raise SrhwError("--sets is empty")
    if len(set(sets)) != len(sets):
        raise SrhwError("--sets names a set twice")
    return sets


def _int8_row(row: Row, cfg, ckpt: Path, force: bool, cached: dict, counts: dict, float_results: dict,
              data_dir: Path, sets: list[str], progress: bool) -> tuple[dict, dict]:
    """Table 4's bl_q record for one trained row, and its row.json entry (QAT step, cached INT8 evaluations)."""
    qckpt, ran = int8_phase(row, cfg, ckpt, force=force)
    qmeta = _sidecar(qckpt.with_suffix(".json")) or {}
    report = _sidecar(qckpt.parent / "report.json") or {}
    qat = report.get("qat") or {}
    cache = {} if ran or cached.get("step") != qmeta.get("step") else cached.get("eval", {})
    results = evaluate_int8(qckpt, row, data_dir, sets, cache, progress)
    rec = {"model": f"{row.spec}_q", "scale": row.scale, "reference": False, "run": "quantized" if ran else "reused",
           "run_dir": str(qckpt.parent), "step": qmeta.get("step"), "init": str(ckpt), "quant": "int8",
           "qat": {"iters": qmeta.get("step"), "lr": (qmeta.get("qat") or {}).get("lr"), "loss": qat.get("loss")},
           **counts,
           "sets": {s: {"psnr": results[s]["psnr"], "ssim": results[s]["ssim"], "images": results[s]["images"]}
                    for s in sets},
           "psnr_change_db": {s: results[s]["psnr"] - float_results[s]["psnr"] for s in sets},
           "cost": {"train_s_per_iter": qat["seconds"] / qat["iters"] if qat.get("iters") else None,
                    "train_device": "cpu", "eval_s": {s: results[s]["eval_s"] for s in sets}}}
    return rec, {"step": qmeta.get("step"), "eval": {**cache, **results}}


def run(args) -> int:
    from srhw.data import default_data_dir, open_dataset
    from srhw.train.config import TrainConfig
    from srhw.train.loop import resolve_device

    if args.table == 3:
        from srhw.eval.table3 import run_table3

        doc = run_table3(args.out)
        print(f"srhw study: Table 3, {len(doc['rows'])} rows -> {args.out}/table3.md, table3.json, table3.png")
        return 0
    if args.iters is None:
        raise SrhwError("--iters is required (the training budget of every row)")
    # --- check everything before anything is trained or written
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # for evaluation; training sets its own (TrainConfig.threads)
    if args.iters < 1 or args.patch < 1 or args.batch < 1:
        raise SrhwError("--iters, --patch and --batch must be positive")
    if args.model_args is not None and not isinstance(args.model_args, dict):
        raise SrhwError("--model-args must be a JSON object")
    model_args = args.model_args or {}
    only = [o.strip() for o in args.only.split(";") if o.strip()] if args.only else None
    rows = table_rows(args.table, args.scale, only)
    sets = _parse_sets(args.sets)
    data_dir = Path(args.data) if args.data else default_data_dir()
    if not data_dir.is_dir():
        raise SrhwError(f"data folder {data_dir} does not exist (set --data or $SRHW_DATA)")
    for s in sorted({r.scale for r in rows}):
        for name in sets:
            open_dataset(data_dir, name, s)
        open_dataset(data_dir, args.train_set, s)
    counts = {r: count_row(r, model_args) for r in rows}
    ops = {r: table5_ops(r, model_args) for r in rows if args.table == 5 and not r.reference}
    device = resolve_device(args.device)
    out = Path(args.out)
    base = TrainConfig(model_args=model_args, data=args.train_set, data_dir=str(data_dir), patch=args.patch,
                       batch=args.batch, lr=args.lr, seed=args.seed, iters=args.iters, val_every=args.val_every,
                       device=args.device, threads=args.threads)
    cfgs = {r: replace(base, spec=r.spec, scale=r.scale, out=str(run_dir(out, r))) for r in rows}
    for r in rows:
        run_status(cfgs[r])  # a run of another budget in a row's folder: error before anything trains

    # --- train, evaluate, summarise each row (x2 first, so x3/x4 can start from it)
    records = []
    bar = tqdm(rows, desc=f"table {args.table}", unit="row", disable=None)  # bars on a terminal only
    for i, row in enumerate(bar, 1):
        cfg = cfgs[row]
        if row.scale != 2:
            x2 = run_dir(out, Row(row.spec, 2)) / "model.safetensors"
            x2_meta = _sidecar(x2.with_suffix(".json"))
            if x2_meta and x2_meta.get("step") == args.iters:
                cfg = replace(cfg, init=str(x2))
        st = run_status(cfg)
        rdir = Path(cfg.out)
        row_json = _sidecar(rdir / ROW_FILE) or {}
        train_cost = row_json.get("train") or {}
        if st != "done":
            res = train_row(row, cfg, st, progress=bar.disable is False)
            if not res["done"]:
                raise SrhwError(f"{row.spec} x{row.scale} stopped at step {res['step']} of {res['total']}")
            # timed over the iterations of this invocation (training steps only)
            train_cost = {"s_per_iter": 1.0 / res["iters_per_s"] if res["iters_per_s"] else None,
                          "device": str(device)}
        run_kind = {"done": "reused", "partial": "resumed", "new": "trained"}[st]
        ckpt = rdir / "model.safetensors"
        meta = _sidecar(rdir / "model.json") or {}
        tq = ternary_phase(row, cfg, ckpt) if args.table == 5 and not row.reference else None
        if tq is not None:
            ckpt = Path(tq)
        fresh = st != "done" or tq is not None or row_json.get("step") != meta.get("step")
        cache = {} if fresh else row_json.get("eval", {})
        results = evaluate_row(ckpt, row, data_dir, sets, device, cache, progress=bar.disable is False)
        row_doc = {"spec": row.spec, "scale": row.scale, "step": meta.get("step"), "train": train_cost,
                   "eval": {**cache, **results}}
        qrec = None
        if args.table == 4:
            qrec, row_doc["int8"] = _int8_row(row, cfg, ckpt, st != "done", row_json.get("int8") or {}, counts[row],
                                              results, data_dir, sets, progress=bar.disable is False)
        write_json(rdir / ROW_FILE, row_doc)
        rec = {"model": row.spec, "scale": row.scale, "reference": row.reference, "run": run_kind,
               "run_dir": str(rdir), "step": meta.get("step"),
               "init": (meta.get("train_config") or {}).get("init"), "quant": "full" if tq is None else "ternary",
               **counts[row], **ops.get(row, {}),
               "sets": {s: {"psnr": results[s]["psnr"], "ssim": results[s]["ssim"], "images": results[s]["images"]}
                        for s in sets},
               "cost": {"train_s_per_iter": train_cost.get("s_per_iter"), "train_device": train_cost.get("device"),
                        "eval_s": {s: results[s]["eval_s"] for s in sets}}}
        records.append(rec)
        line = ", ".join(f"{s} {results[s]['psnr']:.2f}/{results[s]['ssim']:.4f}" for s in sets)
        spi = f", {train_cost['s_per_iter']:.3f} s/it" if train_cost.get("s_per_iter") else ""
        tqdm.write(f"[{i}/{len(rows)}] {row.spec} x{row.scale}: {run_kind} ({meta.get('step')} it{spi}), {line}, "
                   f"{counts[row]['params'] / 1e3:.0f}K params, {counts[row]['mult_adds'] / 1e9:.1f}G Mult-Adds; {rdir}")
        if qrec is not None:
            records.append(qrec)
            line = ", ".join(f"{s} {qrec['sets'][s]['psnr']:.2f}/{qrec['sets'][s]['ssim']:.4f} "
                             f"({qrec['psnr_change_db'][s]:+.3f} dB)" for s in sets)
            tqdm.write(f"[{i}/{len(rows)}] {qrec['model']} x{row.scale}: {qrec['run']} (INT8, {qrec['step']} QAT it), "
                       f"{line}; {qrec['run_dir']}")
    bar.close()

    add_tradeoffs(args.table, records, sets)
    budget = {k: getattr(base, k) for k in ("iters", "patch", "batch", "lr", "seed", "data", "model_args")}
    doc = {"table": args.table, "reference": REFERENCE[args.table], "budget": budget, "sets": sets,
           "caption": caption(args.table, budget, sets, model_args, sorted({r["scale"] for r in records})),
           "plot": {"y": "Y-PSNR per set (dB), float and INT8", "x": "test set"} if args.table == 4 else
                   {"y": "mean Y-PSNR over the evaluated sets (dB)",
                    "x": "multiplications (G)" if args.table == 5 else "Mult-Adds (G)"},
           "rows": records}
    stem = out / f"table{args.table}"
    write_json(stem.with_suffix(".json"), doc)
    write_text(stem.with_suffix(".md"), to_markdown(doc))
    plot(doc, stem.with_suffix(".png"))
    print(f"srhw study: table {args.table}, {len(records)} rows -> {stem}.md, {stem}.json, {stem}.png")
    return 0

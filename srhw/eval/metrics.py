"""PSNR and SSIM on the Y channel, as the standard SR benchmark (MATLAB) evaluation computes them.

Protocol (EDSR/RCAN `Evaluate_PSNR_SSIM.m`, SelfExSR `quant_eval/compute_difference.m`):

* both images uint8 RGB of the same size (the HR modcropped to the SR size);
* shave `scale` pixels from each border;
* Y = MATLAB `rgb2ycbcr` luma, Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in
  [0, 255]. MATLAB's `rgb2ycbcr` of a uint8 image returns uint8, i.e. Y is rounded to an integer; the
  MATLAB scripts feed it uint8 images, so `round_y=True` is the default here (BasicSR's Python port
  keeps Y as a double: `round_y=False`; the difference is ~0.01 dB);
* PSNR = 10 log10(255^2 / MSE);
* SSIM = mean of the SSIM map of Wang et al.'s `ssim_index.m` (IEEE TIP 2004): 11x11 Gaussian window,
  sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering, no downsampling. skimage's
  `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)` is exactly
  this: its window is truncated at 3.5 sigma = radius 5 (11x11), and it averages the map after cropping
  5 px, which equals 'valid' filtering.

Single-channel ground truth (Set14 `bridge`): the MATLAB scripts skip `rgb2ycbcr` for a 1-channel image
and compare the grey values themselves. Pass such an HR as (H, W): the SR (3-channel, from a network fed
the triplicated LR) is then compared on its full-range BT.601 luma (0.299 R + 0.587 G + 0.114 B, rounded),
which equals the grey value when R = G = B. Comparing triplicated images on studio-swing Y instead scales
the error by 219/255 and reads +1.32 dB on `bridge` (checked in tests/test_metrics.py).
"""

import numpy as np
from skimage.metrics import structural_similarity

from srhw.data.ycbcr import Y_COEFFS, Y_OFFSET, rgb2y  # noqa: F401 - the one MATLAB luma lives with the colour code

__all__ = ["rgb2y", "shave", "psnr", "ssim", "psnr_ssim"]


def shave(img, border):
    """Drop `border` pixels from every side (MATLAB `shave`)."""
    return img[border:-border, border:-border] if border > 0 else img


def psnr(sr, hr, scale, round_y=True):
    """Y-channel PSNR in dB (peak 255) between uint8 RGB images, `scale` px shaved at the border."""
    a, b = _prepare(sr, hr, scale, round_y)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(sr, hr, scale, round_y=True):
    """Y-channel SSIM (`ssim_index.m`) between uint8 RGB images, `scale` px shaved at the border."""
    a, b = _prepare(sr, hr, scale, round_y)
    return float(
        structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255.0
        )
    )


def psnr_ssim(sr, hr, scale, round_y=True):
    """(PSNR, SSIM) of one image pair; see the module docstring for the protocol."""
    return psnr(sr, hr, scale, round_y), ssim(sr, hr, scale, round_y)


def _prepare(sr, hr, scale, round_y):
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"SR {sr.shape} and HR {hr.shape} differ in size")
    gray = hr.ndim == 2 or sr.ndim == 2  # a 1-channel image is compared on its grey values
    a, b = rgb2y(sr, round_y, full_range=gray), rgb2y(hr, round_y, full_range=gray)
    return shave(a, scale), shave(b, scale)

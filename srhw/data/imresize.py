"""MATLAB-exact bicubic `imresize` for integer scale factors, in vectorised numpy.

Implements MATLAB's `imresize(I, scale, 'bicubic')` (Image Processing Toolbox, `imresize.m` +
`imresizemex`), the resize every SR benchmark's LR images and bicubic baseline come from:

* cubic kernel with a = -0.5 (Keys, 1981);
* downscaling (scale < 1) widens the kernel by 1/scale ("antialiasing"): h(x) = scale * cubic(scale * x),
  kernel width 4/scale;
* output pixel u (1-based) samples input position x = u/scale + 0.5 * (1 - 1/scale);
* weights are normalised to sum to 1; out-of-range taps are mirrored ("symmetric" boundary,
  `aux = [1:n, n:-1:1]`);
* dimensions are resized in order of increasing scale factor: height first for equal scales;
* for uint8 input the result of EACH 1-D pass is rounded half away from zero and saturated to uint8
  (`imresizemex` writes the input class).

A numpy version of exactly this reproduces every Set5/Set14 LR file (MATLAB-generated) bit for bit
(shared/data/MANIFEST.md; tested in tests/test_data.py). `boundary="replicate"` (edge clamp instead of
mirror) reproduces the SelfExSR B100/Urban100 LR files, which the published per-image tables used.

References: MATLAB R2013+ imresize.m (`contributions`, `cubic`); the Python port in BasicSR
`basicsr/utils/matlab_functions.py` (float only, no per-pass rounding).
"""

from functools import lru_cache

import numpy as np

__all__ = ["imresize", "cubic", "contributions"]


def cubic(x):
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB `imresize>cubic`)."""
    absx = np.abs(x)
    absx2, absx3 = absx**2, absx**3
    return (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1) + (
        -0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2
    ) * ((absx > 1) & (absx <= 2))


@lru_cache(maxsize=64)
def contributions(in_len, out_len, scale, boundary="symmetric"):
    """Taps of a 1-D bicubic resize (MATLAB `imresize>contributions`).

    Returns (weights, indices), both (out_len, P): output pixel i = sum_k weights[i,k] * in[indices[i,k]],
    indices 0-based and already folded into [0, in_len) by the boundary rule. Zero-weight columns at the
    edges are dropped as MATLAB does (this keeps the summation order identical to `imresizemex`).
    """
    kernel_width = 4.0
    if scale < 1:  # antialiasing: stretch the kernel by 1/scale
        kernel_width /= scale
        kernel = lambda x: scale * cubic(scale * x)  # noqa: E731
    else:
        kernel = cubic
    u = np.arange(1, out_len + 1, dtype=np.float64)
    x = u / scale + 0.5 * (1 - 1 / scale)  # input position (1-based) of output pixel u
    left = np.floor(x - kernel_width / 2)
    p = int(np.ceil(kernel_width)) + 2
    ind = left[:, None] + np.arange(p)[None, :]  # (out_len, P), 1-based
    weights = kernel(x[:, None] - ind)
    weights = weights / weights.sum(axis=1, keepdims=True)
    if boundary == "symmetric":
        aux = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
        ind = aux[np.mod(ind.astype(np.int64) - 1, aux.size)]
    elif boundary == "replicate":
        ind = np.clip(ind.astype(np.int64) - 1, 0, in_len - 1)
    else:
        raise ValueError(f"unknown boundary {boundary!r}")
    keep = np.any(weights != 0, axis=0)
    weights, ind = weights[:, keep], ind[:, keep]
    weights.setflags(write=False)
    ind.setflags(write=False)
    return weights, ind


def _round_uint8(x):
    """MATLAB double -> uint8: round half away from zero, saturate to [0, 255]."""
    return np.clip(np.floor(np.abs(x) + 0.5) * np.sign(x), 0, 255).astype(np.uint8)


def _resize_axis(img, axis, out_len, scale, boundary, to_uint8):
    weights, ind = contributions(img.shape[axis], out_len, scale, boundary)
    x = np.moveaxis(img, axis, 0).astype(np.float64, copy=False)
    # Sum the taps in MATLAB's order (k = 0..P-1) so ties round exactly as imresizemex does.
    shape = (out_len,) + (1,) * (x.ndim - 1)
    out = np.zeros((out_len,) + x.shape[1:], dtype=np.float64)
    for k in range(weights.shape[1]):
        out += weights[:, k].reshape(shape) * x[ind[:, k]]
    out = np.moveaxis(out, 0, axis)
    return _round_uint8(out) if to_uint8 else out


def imresize(img, scale, *, output="auto", boundary="symmetric"):
    """MATLAB `imresize(img, scale, 'bicubic')` of an (H, W) or (H, W, C) image.

    Args:
        img (np.ndarray): uint8 or float image, (H, W) or (H, W, C).
        scale (float): resize factor, e.g. 1/4 to make x4 LR, 4 to upscale LR for the bicubic baseline.
            Output size is ceil(scale * size), as in MATLAB.
        output (str): "auto" (uint8 in -> uint8 out, rounded after each pass like MATLAB; float in ->
            float out), "uint8" or "float" (float64, no rounding anywhere) to force a mode.
        boundary (str): "symmetric" (MATLAB) or "replicate" (SelfExSR's LR files).
    Returns:
        np.ndarray: the resized image, (ceil(H*scale), ceil(W*scale)[, C]).
    """
    img = np.asarray(img)
    if output == "auto":
        output = "uint8" if img.dtype == np.uint8 else "float"
    if output not in ("uint8", "float"):
        raise ValueError(f"output must be 'auto', 'uint8' or 'float', not {output!r}")
    to_uint8 = output == "uint8"
    if to_uint8 and img.dtype != np.uint8:
        img = _round_uint8(img)
    scale = float(scale)
    h, w = img.shape[:2]
    out_h, out_w = int(np.ceil(h * scale - 1e-9)), int(np.ceil(w * scale - 1e-9))
    out = _resize_axis(img, 0, out_h, scale, boundary, to_uint8)  # height first (equal scales)
    return _resize_axis(out, 1, out_w, scale, boundary, to_uint8)

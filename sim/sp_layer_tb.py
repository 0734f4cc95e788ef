"""cocotb bench of the streaming SP conv layer (rtl/sp_layer.py), checked word for word against
`rtl.golden.sp_layer_ref`, frame by frame, outputs in raster order.

Environment:
    SP_LAYER_PARAMS  .npz: wb (r, 9 c_in), a, wc (M, r), bias, sh, lo, hi, width, height, in_bits (required)
    NUM_FRAMES       random frames after the corner frames (all max, all min, two checkerboards) (default 20)
    SEED             random seed (default: cocotb's RANDOM_SEED), logged
    VALID_PROB       probability that the driver offers a pixel in a cycle (default 0.8)
    SP_LAYER_FRAMES  optional .npy (K, H, W, c_in): real frames (e.g. feature maps of the golden executor)
                     streamed first, before the corner and NUM_FRAMES random frames
    SP_LAYER_EXPECTED  optional .npy (K, H, W, c_out): the expected outputs of SP_LAYER_FRAMES (e.g. the
                     golden executor's output of the node); default: rtl.golden.sp_layer_ref
    BENCH_SUMMARY    optional path for a JSON summary (frames, outputs checked, errors, seed)
The params may hold `fold` (cycles per output pixel) to size the final drain.
"""

from __future__ import annotations

import os
import random
from collections import deque

import cocotb
import numpy as np

from stream import ValueChecker, send_ready_valid, start_and_reset, write_summary
from rtl.golden import pack, sp_layer_ref, unpack


@cocotb.test()
async def sp_layer_frames(dut):
    with np.load(os.environ["SP_LAYER_PARAMS"]) as z:
        p = {k: z[k].astype(np.int64) for k in z.files}
    H, W, b = int(p["height"]), int(p["width"]), int(p["in_bits"])
    lo, hi = int(p["lo"]), int(p["hi"])
    c_in, m = p["wb"].shape[1] // 9, p["wc"].shape[0]
    ob = len(dut.o_data) // m
    num = int(os.environ.get("NUM_FRAMES", "20"))
    seed = int(os.environ.get("SEED", cocotb.RANDOM_SEED))
    vp = float(os.environ.get("VALID_PROB", "0.8"))
    dut._log.info(f"sp_layer {H}x{W} c_in={c_in} c_out={m}: NUM_FRAMES={num} SEED={seed} VALID_PROB={vp}")
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    xlo, xhi = (0, 255) if b == 9 else (-(1 << (b - 1)), (1 << (b - 1)) - 1)
    alt = np.indices((H, W, c_in)).sum(0) % 2
    expected = deque()
    real = []
    if os.environ.get("SP_LAYER_FRAMES"):
        real = list(np.load(os.environ["SP_LAYER_FRAMES"]).astype(np.int64))
        assert all(f.shape == (H, W, c_in) for f in real), "SP_LAYER_FRAMES: wrong frame shape"
        smin, smax = -(1 << (b - 1)), (1 << (b - 1)) - 1
        assert all(f.min() >= smin and f.max() <= smax for f in real), f"SP_LAYER_FRAMES: values outside {b} signed bits"
        if os.environ.get("SP_LAYER_EXPECTED"):
            want = np.load(os.environ["SP_LAYER_EXPECTED"]).astype(np.int64)
            assert want.shape == (len(real), H, W, m), f"SP_LAYER_EXPECTED: shape {want.shape}"
            for y in want:
                expected.extend(y.reshape(-1, m).tolist())
        else:
            for f in real:
                expected.extend(sp_layer_ref(p["wb"], p["a"], p["wc"], p["bias"], int(p["sh"]), f, lo, hi).reshape(-1, m).tolist())
    frames = [np.full((H, W, c_in), xhi), np.full((H, W, c_in), xlo), np.where(alt, xhi, xlo), np.where(alt, xlo, xhi)]
    frames = frames[:4 if num > 0 or not real else 0]  # real frames alone when NUM_FRAMES=0
    frames += [nrng.integers(xlo, xhi + 1, (H, W, c_in)) for _ in range(num)]
    for f in frames:
        expected.extend(sp_layer_ref(p["wb"], p["a"], p["wc"], p["bias"], int(p["sh"]), f, lo, hi).reshape(-1, m).tolist())
    frames = real + frames
    total = len(expected)

    await start_and_reset(dut)
    chk = ValueChecker(dut, expected, lambda v: unpack(v, m, ob, lo < 0).tolist())
    cocotb.start_soon(chk.run())
    await send_ready_valid(dut, [pack(px, b) for f in frames for px in f.reshape(-1, c_in)], vp, rng)
    fold = int(p["fold"]) if "fold" in p else 1
    await chk.drain(2000 + (W + 2) * fold)
    checked, errors = chk.checked, chk.errors
    dut._log.info(f"{len(frames)} frames ({len(real)} real), {checked}/{total} outputs checked, {errors} errors")
    write_summary(frames=len(frames), real_frames=len(real), expected=total, checked=checked, errors=errors,
                  missing=len(expected), seed=seed, valid_prob=vp)
    assert not expected, f"{len(expected)} expected outputs never appeared"
    assert checked == total and errors == 0

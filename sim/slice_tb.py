"""cocotb bench of a build folder's RTL slice (rtl/<node>.v, top `sp_layer`), word for word against the expected
outputs the build wrote beside it (slice_case.npz, from rtl.golden.sp_layer_ref, the kernel's golden model).

Standalone on purpose: `srhw build` copies this file, sim/stream.py and a Makefile into <build>/sim/, where it
needs only cocotb and numpy (no srhw checkout). Environment:
    SLICE_CASE   the case file (default: slice_case.npz beside this file): frames (K, H, W, c_in), expected
                 (K, H, W, c_out), in_bits, out_bits, out_signed, fold (cycles per output pixel)
    SLICE_FRAMES how many of the case's frames to stream (default: all; the first ones are the corner frames)
    SEED         random seed of the valid pattern (default: cocotb's RANDOM_SEED), logged
    VALID_PROB   probability that the driver offers a pixel in a cycle (default 0.8)
    BENCH_SUMMARY  optional path for a JSON summary
"""

from __future__ import annotations

import os
import random
from collections import deque
from pathlib import Path

import cocotb
import numpy as np

from stream import ValueChecker, send_ready_valid, start_and_reset, write_summary


def pack(words, bits: int) -> int:
    """Signed words into one bus value, word j at bits [j*bits, (j+1)*bits) (as rtl.golden.pack)."""
    mask, out = (1 << bits) - 1, 0
    for j, w in enumerate(int(v) for v in words):
        out |= (w & mask) << (j * bits)
    return out


def unpack(value: int, count: int, bits: int, signed: bool) -> list:
    """Inverse of `pack` (as rtl.golden.unpack)."""
    mask, out = (1 << bits) - 1, []
    for j in range(count):
        w = (value >> (j * bits)) & mask
        out.append(w - (1 << bits) if signed and w >> (bits - 1) else w)
    return out


@cocotb.test()
async def slice_frames(dut):
    case = os.environ.get("SLICE_CASE") or str(Path(__file__).with_name("slice_case.npz"))
    with np.load(case) as z:
        frames, want = z["frames"].astype(np.int64), z["expected"].astype(np.int64)
        b, ob, signed, fold = (int(z[k]) for k in ("in_bits", "out_bits", "out_signed", "fold"))
    n = int(os.environ.get("SLICE_FRAMES") or len(frames))
    frames, want = frames[:n], want[:n]
    k, H, W, c_in = frames.shape
    m = want.shape[-1]
    assert len(dut.i_data) == c_in * b and len(dut.o_data) == m * ob, "slice_case.npz does not describe this Verilog"
    seed = int(os.environ.get("SEED", cocotb.RANDOM_SEED))
    vp = float(os.environ.get("VALID_PROB", "0.8"))
    dut._log.info(f"slice {H}x{W} c_in={c_in} c_out={m}: {k} frames, SEED={seed} VALID_PROB={vp}")
    rng = random.Random(seed)
    expected = deque(want.reshape(-1, m).tolist())
    total = len(expected)
    await start_and_reset(dut)
    chk = ValueChecker(dut, expected, lambda v: unpack(v, m, ob, signed))
    cocotb.start_soon(chk.run())
    await send_ready_valid(dut, [pack(px, b) for px in frames.reshape(-1, c_in)], vp, rng)
    await chk.drain(2000 + (W + 2) * fold)
    checked, errors = chk.checked, chk.errors
    dut._log.info(f"{k} frames, {checked}/{total} outputs checked, {errors} errors")
    write_summary(frames=k, expected=total, checked=checked, errors=errors, missing=len(expected), seed=seed)
    assert not expected, f"{len(expected)} expected outputs never appeared"
    assert checked == total and errors == 0

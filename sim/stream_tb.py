"""cocotb bench of a compiled streaming network (rtl/stream): AXI4-Stream video in, HR video out, every
output pixel compared with the golden executor's output (srhw.quant.golden), frame by frame.

Environment:
    STREAM_CASE   .npz: `frames` (K, H, W, C) uint8 input frames, `expected` (K, Ho, Wo, Co) the golden
                  outputs, `stress` (K,) 1 = stream this frame with random tvalid bubbles and tready gaps
    VALID_PROB    probability that an idle source starts offering a pixel in a cycle of a stress frame
                  (default 0.7); an offered pixel stays valid until taken, as AXI4-Stream requires
    READY_PROB    probability that the sink is ready in a cycle of a stress frame (default 0.6)
    SEED          random seed (default: cocotb's RANDOM_SEED), logged
    BENCH_SUMMARY path of the JSON summary: pixels checked, errors, tuser/tlast errors, per-frame cycles
Frames are sent back to back (no idle cycle between them). Frames with stress = 0 run at full rate
(tvalid and tready always high): the cycles between the first output beats of two consecutive full-rate
frames are the design's cycles per frame; latency = first output beat - first input beat of a frame.
"""

from __future__ import annotations

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from stream import start_axis_and_reset, write_summary


def _pack(px, bits=8) -> int:
    v = 0
    for i, x in enumerate(px):
        v |= (int(x) & ((1 << bits) - 1)) << (i * bits)
    return v


def _unpack(v: int, n: int, bits=8) -> list:
    return [(v >> (i * bits)) & ((1 << bits) - 1) for i in range(n)]


@cocotb.test()
async def stream_frames(dut):
    with np.load(os.environ["STREAM_CASE"]) as z:
        frames, expected, stress = z["frames"], z["expected"], z["stress"]
    seed = int(os.environ.get("SEED", cocotb.RANDOM_SEED))
    vp, rp = float(os.environ.get("VALID_PROB", "0.7")), float(os.environ.get("READY_PROB", "0.6"))
    rng = random.Random(seed)
    K, H, W, C = frames.shape
    _, Ho, Wo, Co = expected.shape
    dut._log.info(f"{K} frames {H}x{W}x{C} -> {Ho}x{Wo}x{Co}, stress {stress.tolist()}, SEED={seed} "
                  f"VALID_PROB={vp} READY_PROB={rp}")
    ins = [(k, i) for k in range(K) for i in range(H * W)]
    flat_in = [f.reshape(-1, C) for f in frames]
    flat_out = [e.reshape(-1, Co) for e in expected]

    await start_axis_and_reset(dut, idle=("s_axis_video_tvalid", "s_axis_video_tdata", "s_axis_video_tuser",
                                          "s_axis_video_tlast", "m_axis_video_tready"))

    ii, ok_k, ok_i = 0, 0, 0  # next input beat; next expected output (frame, index)
    holding = False
    errors = flag_errors = checked = 0
    in_start, out_start, out_end = [None] * K, [None] * K, [None] * K
    cycle = 0
    budget = 200000 + 40 * K * max(H * W, Ho * Wo)
    while ok_k < K and cycle < budget:
        # drive this cycle's offers (decided before the edge)
        k_in = ins[ii][0] if ii < len(ins) else None
        # AXI4-Stream: once offered, a pixel stays valid until it is taken
        offer = ii < len(ins) and (holding or not stress[k_in] or rng.random() < vp)
        if offer:
            k, i = ins[ii]
            dut.s_axis_video_tdata.value = _pack(flat_in[k][i])
            dut.s_axis_video_tuser.value = int(i == 0)
            dut.s_axis_video_tlast.value = int(i % W == W - 1)
        dut.s_axis_video_tvalid.value = int(offer)
        ready = not stress[ok_k] or rng.random() < rp
        dut.m_axis_video_tready.value = int(ready)
        await ReadOnly()
        holding = offer
        if offer and dut.s_axis_video_tready.value == 1:
            holding = False
            k, i = ins[ii]
            if i == 0:
                in_start[k] = cycle
            ii += 1
        if ready and dut.m_axis_video_tvalid.value == 1:
            got = _unpack(dut.m_axis_video_tdata.value.to_unsigned(), Co)
            want = flat_out[ok_k][ok_i].tolist()
            if ok_i == 0:
                out_start[ok_k] = cycle
            if got != want:
                errors += 1
                if errors <= 10:
                    dut._log.error(f"frame {ok_k} pixel {ok_i} (row {ok_i // Wo}, col {ok_i % Wo}): {got} != {want}")
            tu, tl = int(dut.m_axis_video_tuser.value), int(dut.m_axis_video_tlast.value)
            if tu != int(ok_i == 0) or tl != int(ok_i % Wo == Wo - 1):
                flag_errors += 1
                if flag_errors <= 5:
                    dut._log.error(f"frame {ok_k} pixel {ok_i}: tuser={tu} tlast={tl}")
            checked += 1
            ok_i += 1
            if ok_i == Ho * Wo:
                out_end[ok_k] = cycle
                ok_k, ok_i = ok_k + 1, 0
        await RisingEdge(dut.aclk)
        cycle += 1
    # nothing more may come out
    extra = 0
    dut.m_axis_video_tready.value = 1
    dut.s_axis_video_tvalid.value = 0
    for _ in range(50):
        await ReadOnly()
        extra += int(dut.m_axis_video_tvalid.value == 1)
        await RisingEdge(dut.aclk)
    full = [k for k in range(K) if not stress[k]]
    per_frame = [out_start[k] - out_start[k - 1] for k in full if k > 0 and not stress[k - 1] and out_start[k] is not None]
    latency = [out_start[k] - in_start[k] for k in full if out_start[k] is not None and in_start[k] is not None]
    total = K * Ho * Wo
    summary = dict(frames=int(K), in_shape=[int(H), int(W), int(C)], out_shape=[int(Ho), int(Wo), int(Co)],
                   stress=[int(s) for s in stress], in_beats=ii, expected=int(total), checked=int(checked), errors=int(errors),
                   flag_errors=int(flag_errors), extra_beats=int(extra), seed=seed, valid_prob=vp, ready_prob=rp,
                   cycles_per_frame=per_frame, latency_cycles=latency, total_cycles=cycle,
                   out_start=out_start, out_end=out_end, in_start=in_start)
    write_summary(**summary)
    dut._log.info(f"{checked}/{total} pixels checked, {errors} errors, {flag_errors} tuser/tlast errors, "
                  f"{extra} extra beats; cycles/frame {per_frame}, latency {latency}")
    assert checked == total, f"{total - checked} expected pixels never appeared (deadlock or lost pixels)"
    assert errors == 0 and flag_errors == 0 and extra == 0

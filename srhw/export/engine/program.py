"""IntGraph -> program of the layer-sequential HLS engine (hls/engine/): the compiler pass.

The engine (hls/engine/srhw_engine.cpp) is the design srhw.export.estimate calls "layer-sequential": one
shared datapath runs the layers one after the other, feature maps in a DDR arena, the running layer's
weights in on-chip lane buffers. `compile_program` walks a golden graph (srhw.quant.graph) once, in graph order,
and turns each node into engine descriptors (one of SRHW_DESC_WORDS int32 per engine op, `isa.FIELDS`), fusing
where `fusion` allows, checking widths against `limits`, packing weights into the `blob` (weights.bin) and placing
maps in the `arena`; the result is a `compiled.Program` (program.bin, weights.bin, program.h) with the buffer sizes
(`config.EngineConfig`, srhw_config.h) it needs at a 1280x720 output frame on its `datapath.Datapath` (chosen per
part by `search`). Same graph -> byte-identical files.
"""

import functools

import numpy as np

from srhw.core.errors import SrhwError
from srhw.export.engine.arena import Arena
from srhw.export.engine.blob import WeightBlob
from srhw.export.engine.compiled import Program
from srhw.export.engine.config import EngineConfig
from srhw.export.engine.cost.cycles import descriptor_bytes, descriptor_cycles
from srhw.export.engine.datapath import Datapath
from srhw.export.engine.fusion import SUMMING, fusable_ca, ps_on_store
from srhw.export.engine.isa import (FIELDS, FUSE_CA_ADD_A, FUSE_CA_ADD_B, HEADER_WORDS, MAGIC, OPS, T_U8, TYPE_BYTES,
                                    VERSION, WIDE_BITS)
from srhw.export.engine.limits import acc_bits, check_bits, check_product, check_shift, map_type
from srhw.export.engine.cost.area import lane_buffers
from srhw.export.engine.cost.search import datapath_for, datapath_for_program
from srhw.hw.parts import get_part
from srhw.quant.fixedpoint import signed_bits

FRAME = (720, 1280)  # output frame the buffers are sized for (hardware.md)


def datapath_for_graph(graph, part, frame=FRAME) -> Datapath:
    """`part`'s datapath for this graph: search.datapath_for_program on the program's own descriptors (at 720p) and
    its code and accumulator widths (they do not depend on the datapath), so that the whole engine --
    datapath, declared buffers, control -- fits the part's budgets."""
    prog = compile_program(graph, frame, datapath=_PROBE)
    ups = prog.header[11]  # the program's upscaling factor
    descs = [dict(zip(FIELDS, d)) for d in prog.descs]
    return datapath_for_program(descs, prog.config, part, frame[0] // ups, frame[1] // ups)


@functools.lru_cache(maxsize=None)
def default_datapath() -> Datapath:
    """The datapath of the default part (xc7z020) on the reference layers: what tests and `compile_program` use
    unless told."""
    return datapath_for(get_part("xc7z020"))


_PROBE = Datapath(lanes=1, simd=1, tsimd=8, b_lanes=1, c_lanes=1, c_tsimd=4, gather=1, ew=1, pack=0)


def image_channels(graph) -> int:
    """Channels of the graph's input and output image: 3 (RGB), or 1 for the Y-channel networks (meta channels)."""
    c = int((graph.meta or {}).get("channels") or 3) if isinstance(graph.meta, dict) else 3
    if c not in (1, 3):
        raise SrhwError(f"the engine runs 1-channel (Y) or 3-channel (RGB) images, not {c}")
    return c


def compile_program(graph, frame=FRAME, datapath: Datapath | None = None, store_fusions: bool = True) -> Program:
    """The engine program of `graph` (an srhw.quant.graph.IntGraph) for `datapath` (default: xc7z020's).
    `store_fusions=False` keeps the CA pool pass and the pixel-shuffle pass (no SUMS / PS descriptors: the unfused
    engine paths, and what the fusions save). Raises SrhwError on what it cannot run."""
    dp = datapath or default_datapath()
    g = graph
    if "input" not in g.tensors:
        raise SrhwError("graph has no 'input' tensor")
    c_img = image_channels(g)
    chans, fac, dtype = {"input": c_img}, {"input": 1}, {"input": map_type(g.tensors["input"], where="input")}
    codes = {"input": (g.tensors["input"].lo, g.tensors["input"].hi)}  # the range of the codes stored in each map
    if dtype["input"] != T_U8:
        raise SrhwError("the engine's input map is a uint8 image")
    last_use = {}
    for i, n in enumerate(g.nodes):
        for t in n.inputs:
            last_use[t] = i
    blob, arena = WeightBlob(), Arena()
    where, size = {}, {}
    writer = {}  # map -> index of the descriptor that writes it
    handed = {}  # a conv's map that became its pixel shuffle's (fused): released with the shuffle's, not its own
    # buffers indexed SIMD/TSIMD at a time are at least that long, even when no layer uses them
    need = EngineConfig(max_taps=max(dp.simd, dp.tsimd), max_hid=dp.c_tsimd, w8_per_lane=dp.simd, t2b_per_lane=dp.tsimd,
                        t2c_per_lane=dp.c_tsimd)
    has_sp = any(n.op == "sp_conv" for n in g.nodes)
    if has_sp and dp.b_lanes < 1:
        raise SrhwError("the program has sum-product convs but the datapath no sum-product lanes")
    ups = 1
    for n in g.nodes:
        ups *= n.attrs["r"] if n.op == "pixel_shuffle" else 1
    lr_w = frame[1] // ups

    def alloc(name):
        size[name] = chans[name] * fac[name] ** 2 * TYPE_BYTES[dtype[name]]
        where[name] = arena.alloc(size[name])

    alloc("input")
    descs, names = [], []
    for i, n in enumerate(g.nodes):
        if n.op not in OPS:
            raise SrhwError(f"{n.name}: op {n.op!r} has no engine implementation")
        for t in n.inputs:
            if t not in chans:
                raise SrhwError(f"{n.name}: input {t!r} is not computed before it")
        a, x = n.attrs, n.inputs[0]
        p = lambda role: g.param(n, role)  # noqa: E731
        spec = g.tensors.get(n.name)
        if spec is None:
            raise SrhwError(f"{n.name}: no tensor spec in graph.json")
        d = dict.fromkeys(FIELDS, 0)
        d.update(OP=OPS[n.op], IN0_C=chans[x], IN0_T=dtype[x], F=fac[x])
        fac[n.name] = fac[x]
        lo, hi = spec.lo, spec.hi
        if n.op == "conv":
            w = p("W")
            co, cig, kh, kw = w.shape
            if kh % 2 == 0 or kw % 2 == 0 or list(a["padding"]) != [kh // 2, kw // 2]:
                raise SrhwError(f"{n.name}: the engine runs odd kernels with 'same' zero padding only")
            check_bits(n, ["acc"])
            check_bits(n, ["prod"], WIDE_BITS - 2)
            check_shift(n, p("SH"))
            grp = a["groups"]
            if chans[x] != cig * grp or co % grp:
                raise SrhwError(f"{n.name}: weights {w.shape} do not match {chans[x]} input channels in {grp} groups")
            lo, hi = a["out_lo"], a["out_hi"]
            chans[n.name] = co
            d.update(GROUPS=grp, KH=kh, KW=kw,
                     W=blob.add(n.params["W"], "i8", w.transpose(0, 2, 3, 1), n.name),
                     B=blob.add(n.params["B"], "i32", p("B"), n.name), M=blob.add(n.params["M"], "i32", p("M"), n.name),
                     SHV=blob.add(n.params["SH"], "i32", p("SH"), n.name))
            m = p("M")
            need = need.union(EngineConfig(max_w=lr_w * fac[x], max_k=max(kh, kw), max_cin=chans[x], max_cout=co,
                                           lb_bits=signed_bits(*codes[x]), acc_bits=acc_bits(n, p("B")),
                                           m_bits=signed_bits(min(int(m.min()), 0), max(int(m.max()), 0))))
        elif n.op == "sp_conv":
            wb, wc = p("WB"), p("WC")
            r, cig, kk, _ = wb.shape
            co, rg = wc.shape[:2]
            grp = a["groups"]
            if kk % 2 == 0 or kk != a["k"] or chans[x] != cig * grp or r != rg * grp or co % grp:
                raise SrhwError(f"{n.name}: sum-product weights {wb.shape}/{wc.shape} do not fit its input")
            check_bits(n, ["accb", "h", "acc"])
            check_shift(n, a["SH"])
            lo, hi = a["out_lo"], a["out_hi"]
            chans[n.name] = co
            d.update(GROUPS=grp, KH=kk, KW=kk, HID=r, SH=a["SH"],
                     W=blob.add(n.params["WB"], "t2", wb.transpose(0, 2, 3, 1), n.name),
                     A=blob.add(n.params["A"], "i32", p("A"), n.name),
                     WC=blob.add(n.params["WC"], "t2", wc.reshape(co, rg), n.name),
                     B=blob.add(n.params["B"], "i32", p("B"), n.name))
            sa = p("A")
            need = need.union(EngineConfig(max_w=lr_w * fac[x], max_k=kk, max_cin=chans[x], max_cout=co,
                                           lb_bits=signed_bits(*codes[x]), h_bits=a["h_bits"], accb_bits=a["accb_bits"],
                                           acc_bits=acc_bits(n, p("B")),
                                           a_bits=signed_bits(min(int(sa.min()), 0), max(int(sa.max()), 0))))
        elif n.op == "add":
            y = n.inputs[1]
            if chans[x] != chans[y] or fac[x] != fac[y]:
                raise SrhwError(f"{n.name}: add of maps of different shapes")
            check_bits(n, ["acc"])
            check_shift(n, a["SH"])
            chans[n.name] = chans[x]
            d.update(IN1_C=chans[y], IN1_T=dtype[y], MA=a["MA"], MB=a["MB"], SH=a["SH"])
            need = need.union(EngineConfig(add_m_bits=signed_bits(min(a["MA"], a["MB"], 0), max(a["MA"], a["MB"], 0))))
        elif n.op == "act":
            lo, hi = a["out_lo"], a["out_hi"]
            chans[n.name] = chans[x]
        elif n.op == "ca":
            hid, zs = g.tensors[a["hidden"]], g.tensors[a["z"]]
            w1, w2, lut = p("W1"), p("W2"), p("LUT")
            c = chans[x]
            nh = w1.shape[0]
            if w1.reshape(nh, -1).shape[1] != c or w2.reshape(c, -1).shape[1] != nh:
                raise SrhwError(f"{n.name}: attention weights {w1.shape}/{w2.shape} do not fit {c} channels")
            if len(lut) != zs.hi - zs.lo + 1:
                raise SrhwError(f"{n.name}: sigmoid table of {len(lut)} entries for codes [{zs.lo}, {zs.hi}]")
            check_bits(n, ["pool", "acc1", "acc2", "prod"])
            check_product(n, "acc1", p("M1"))
            check_product(n, "acc2", p("M2"))
            check_product(n, "prod", np.asarray([a["MY"]]))
            for role in ("SH1", "SH2"):
                check_shift(n, p(role))
            check_shift(n, a["SHY"])
            chans[n.name] = c
            pw = writer.get(x)
            if store_fusions and pw is not None and pw == len(descs) - 1 and descs[pw][FIELDS.index("OP")] in SUMMING:
                # the op just before wrote this map: its store sums the channels, this CA skips its pool pass
                descs[pw][FIELDS.index("SUMS")] = 1
                d.update(SUMS=1)
                if descs[pw][FIELDS.index("OP")] == OPS["add"]:
                    need = need.union(EngineConfig(ca_sums=1))
            d.update(HID=nh, MY=a["MY"], SH=a["SHY"], HID_LO=max(hid.lo, 0), HID_HI=hid.hi, Z_LO=zs.lo, Z_HI=zs.hi,
                     **{role: blob.add(n.params[role], "i8" if role in ("W1", "W2") else "i32",
                                       p(role).reshape(p(role).shape[0], -1) if role in ("W1", "W2") else p(role), n.name)
                        for role in ("W1", "B1", "M1", "SH1", "W2", "B2", "M2", "SH2", "LUT")})
            need = need.union(EngineConfig(max_c=c, max_ca_hid=nh, my_bits=signed_bits(min(a["MY"], 0), max(a["MY"], 0))))
        elif n.op == "pixel_shuffle":
            r = a["r"]
            if chans[x] % (r * r):
                raise SrhwError(f"{n.name}: {chans[x]} channels do not shuffle by {r}")
            chans[n.name], fac[n.name] = chans[x] // (r * r), fac[x] * r
            d.update(HID=r)
            if (store_fusions and ps_on_store(g, i, writer, descs, x, last_use)
                    and map_type(spec, *codes[x], n.name) == dtype[x]):
                # the conv just before writes the shuffled map itself (its store's address map): no pass, no map
                prev = dict(zip(FIELDS, descs[-1]))
                prev["PS"] = r
                descs[-1] = [int(prev[f]) for f in FIELDS]
                names[-1] = f"{names[-1]} + {n.name}: pixel shuffle x{r} on its store"
                dtype[n.name], codes[n.name], where[n.name], size[n.name] = dtype[x], codes[x], where[x], size[x]
                handed[x] = n.name  # the conv's map is the shuffle's: not given back at its last use
                writer[n.name] = len(descs) - 1
                continue
        elif n.op == "channel_shuffle":
            if chans[x] % a["groups"]:
                raise SrhwError(f"{n.name}: {chans[x]} channels in {a['groups']} groups")
            chans[n.name] = chans[x]
            d.update(GROUPS=a["groups"])
        elif n.op == "slice":
            sizes = [len(s) for s in np.array_split(np.arange(chans[x]), a["chunks"])]
            chans[n.name] = sizes[a["index"]]
            d.update(CH0=sum(sizes[: a["index"]]))
        elif n.op in ("concat", "interleave"):
            cs = [chans[t] for t in n.inputs]
            if any(fac[t] != fac[x] for t in n.inputs) or (n.op == "interleave" and len(set(cs)) != 1):
                raise SrhwError(f"{n.name}: {n.op} of maps of different shapes")
            chans[n.name] = sum(cs)
        # the output map: its storage type must hold the clamp range (or the data moved into it)
        moved = [g.tensors[t] for t in n.inputs] if n.op in ("pixel_shuffle", "channel_shuffle", "slice", "concat",
                                                             "interleave") else []
        lo_all, hi_all = min([lo, spec.lo] + [s.lo for s in moved]), max([hi, spec.hi] + [s.hi for s in moved])
        dtype[n.name], codes[n.name] = map_type(spec, lo_all, hi_all, n.name), (lo_all, hi_all)
        alloc(n.name)
        d.update(IN0=where[x], OUT=where[n.name], OUT_C=chans[n.name], OUT_T=dtype[n.name], LO=lo, HI=hi)
        if n.op == "add":
            d["IN1"] = where[n.inputs[1]]
        if n.op in ("conv", "sp_conv"):
            need = need.union(EngineConfig(**lane_buffers(d, dp)))
        label = f"{n.name}: {n.op} {chans[x]}->{chans[n.name]}"
        ca = fusable_ca(g, i, last_use)
        if ca is not None and names and names[-1].startswith(f"{ca}:"):
            # the channel attention just before writes this add's output in its rescale pass: one pass less, its
            # map never written nor read back
            prev = dict(zip(FIELDS, descs[-1]))
            k = n.inputs.index(ca)
            other = n.inputs[1 - k]
            prev.update(FUSE=FUSE_CA_ADD_A if k == 0 else FUSE_CA_ADD_B, IN1=where[other], IN1_C=chans[other],
                        IN1_T=dtype[other], MA=a["MA"], MB=a["MB"], ADD_SH=a["SH"], Y_LO=prev["LO"], Y_HI=prev["HI"],
                        LO=lo, HI=hi, OUT=where[n.name], OUT_T=dtype[n.name])
            descs[-1] = [int(prev[f]) for f in FIELDS]
            names[-1] = f"{ca}+{n.name}: ca {prev['IN0_C']}->{chans[n.name]} fused with the residual add"
            need = need.union(EngineConfig(fuse_ca_add=1))
        elif n.op in ("concat", "interleave"):
            off = 0
            for j, t in enumerate(n.inputs):
                dj = dict(d, IN0=where[t], IN0_C=chans[t], IN0_T=dtype[t],
                          CH0=off if n.op == "concat" else j, CH_STEP=1 if n.op == "concat" else len(n.inputs))
                off += chans[t]
                descs.append([int(dj[f]) for f in FIELDS])
                names.append(f"{n.name}[{j}]: {n.op} input {t} ({chans[t]} channels) of {len(n.inputs)}")
        else:
            descs.append([int(d[f]) for f in FIELDS])
            names.append(label)
        writer[n.name] = len(descs) - 1
        for t in set(n.inputs):  # maps nobody reads any more go back to the arena
            if last_use[t] == i and t != g.output and t not in handed:
                arena.release(where[t], size[t])
    out = g.output
    if out not in chans or chans[out] != c_img:
        raise SrhwError(f"graph output {out!r} is not a {c_img}-channel map like its input")
    words = blob.array()
    header = [MAGIC, VERSION, len(FIELDS), len(descs), arena.peak, where["input"], c_img, T_U8, where[out], c_img, dtype[out],
              fac[out], len(words), dp.lanes, dp.simd, dp.b_lanes, dp.tsimd, dp.c_lanes, dp.c_tsimd, dp.gather, dp.beat,
              dp.pack, dp.gcols, 0]
    assert len(header) == HEADER_WORDS
    for d in descs:
        for v in d:
            if not -(1 << 31) <= v < (1 << 31):
                raise SrhwError("a descriptor field does not fit 32 bits")
    return Program(descs, names, header, words, need, dp)


def program_cycles(prog: Program, h: int, w: int) -> list:
    """cycles.descriptor_cycles of every descriptor of `prog` on an h x w LR input (its datapath)."""
    return [descriptor_cycles(dict(zip(FIELDS, d)), prog.datapath, h, w) for d in prog.descs]


def program_bytes(prog: Program, h: int, w: int) -> list:
    """cycles.descriptor_bytes of every descriptor: DDR bytes read and written on an h x w LR input."""
    return [descriptor_bytes(dict(zip(FIELDS, d)), h, w, TYPE_BYTES) for d in prog.descs]


"""IntGraph -> program of the layer-sequential HLS engine (hls/engine/), project folder, g++ C-simulation.

    python -m srhw.export.engine GRAPH_DIR OUT_DIR [--part xc7z020] [--clock 150]   # write the project

The engine (hls/engine/srhw_engine.cpp) is the design srhw.export.estimate calls "layer-sequential": one
shared datapath runs the layers one after the other, feature maps in a DDR arena, the running layer's
weights in on-chip lane buffers. This module serialises a golden graph (srhw.quant.graph) into what the
engine reads from DDR:

  * program.bin: a 16-word header (what the PS driver needs: arena size, input/output maps) and one
    descriptor of SRHW_DESC_WORDS int32 per engine op (`FIELDS`, the order of srhw_engine.h's enum);
    program.h holds the same words as C constants, one commented line per op;
  * weights.bin: the weight blob, little-endian 32-bit words: int8 weights 4 per word, ternary codes
    16 per word (2-bit two's complement), biases/multipliers/shifts/sigmoid tables 1 per word; arrays
    shared by several nodes (ERUM's recursion) are stored once;
  * srhw_config.h: the datapath (`engine_cost.Datapath`, chosen per part by `engine_cost.datapath_for`), the
    widths and the on-chip buffer sizes this program needs at a 1280x720 output frame.

Feature maps are HWC in the arena; a map's offset is in units of H*W bytes (H x W = the LR input), so one
program and one compile serve every input size. Arena space is reused once a map has no reader left
(first fit, in graph order: deterministic). Same graph -> byte-identical files.

Nothing here has been synthesised: no vitis_hls exists on these machines. `run_engine_csim` compiles the
engine and its testbench with g++ against hls4ml's ap_types headers and compares with the golden model.
"""

import argparse
import subprocess
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from srhw.core.errors import SrhwError
from srhw.export.engine_cost import Datapath, datapath_for
from srhw.core.io import atomic_path, write_text
from srhw.quant.fixedpoint import signed_bits

ENGINE_SRC = Path(__file__).resolve().parents[2] / "hls" / "engine"
SOURCES = ("srhw_engine.h", "srhw_engine.cpp", "tb_engine.cpp")
TOP = "srhw_engine"

# descriptor words, in the order of srhw_engine.h's `enum Field` (tests/test_hls_engine.py checks it)
FIELDS = [
    "OP", "IN0", "IN0_C", "IN0_T", "IN1", "IN1_C", "IN1_T", "OUT", "OUT_C", "OUT_T", "F", "GROUPS", "KH", "KW",
    "HID", "W", "B", "M", "SHV", "A", "WC", "W1", "B1", "M1", "SH1", "W2", "B2", "M2", "SH2", "LUT",
    "SH", "MA", "MB", "MY", "LO", "HI", "HID_LO", "HID_HI", "Z_LO", "Z_HI", "CH0", "CH_STEP",
]
OPS = {"conv": 1, "sp_conv": 2, "add": 3, "act": 4, "ca": 5, "pixel_shuffle": 6, "channel_shuffle": 7,
       "slice": 8, "concat": 9, "interleave": 10}
T_S8, T_U8, T_S16 = 0, 1, 2
TYPE_RANGE = {T_S8: (-128, 127), T_U8: (0, 255), T_S16: (-32768, 32767)}
TYPE_BYTES = {T_S8: 1, T_U8: 1, T_S16: 2}
MAGIC, VERSION, HEADER_WORDS = 0x57485253, 1, 16  # "SRHW"; tb_engine.cpp's `enum Header`
ACC_BITS = 48  # acc_t = ap_int<48>, the DSP48E1 P register
WIDE_BITS = 64  # wide_t = ap_int<64>, the requantization products
FRAME = (720, 1280)  # output frame the buffers are sized for (hardware.md)
CXXFLAGS = ["-O2", "-std=c++14", "-Wno-unknown-pragmas"]


def datapath_for_graph(graph, part, tries: int = 8) -> Datapath:
    """`part`'s datapath for this graph: the best of engine_cost.datapath_candidates at the program's code and
    hidden widths (they do not depend on the datapath) whose whole engine -- datapath, declared buffers, control
    -- fits the part's budgets (estimate.LUT_BUDGET, DSP_BUDGET, BRAM_BUDGET, FFs); if none of the first `tries`
    does, the best candidate (the estimate then reports that the engine does not fit)."""
    from srhw.export.engine_cost import datapath_candidates, resources
    from srhw.hw.budget import within as _within

    need = compile_program(graph, datapath=Datapath(1, 1, 8)).config
    cands = datapath_candidates(part, need.lb_bits, need.h_bits)
    for dp in cands[:tries]:
        if _within(resources(compile_program(graph, datapath=dp).config, dp, part.family), part):
            return dp
    return cands[0]


def default_datapath() -> Datapath:
    """The datapath of the default part (xc7z020): what tests and `compile_program` use unless told."""
    from srhw.hw.parts import get_part

    return datapath_for(get_part("xc7z020"))


def ap_types_dir() -> Path:
    """The ap_int.h/ap_fixed.h headers that ship inside the hls4ml package (no Vitis install needed)."""
    import hls4ml

    d = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    if not (d / "ap_int.h").is_file():
        raise SrhwError(f"no ap_int.h under {d}: is hls4ml installed in this environment?")
    return d


def _ceil_div(a, b):
    return -(-a // b)


def _round_up(a, b):
    return _ceil_div(a, b) * b


# --- buffer sizes ----------------------------------------------------------------------------------

@dataclass
class EngineConfig:
    """On-chip buffer sizes (elements) and widths the engine is compiled with: srhw_config.h. Each field is a
    maximum over the program's layers at a 1280x720 output; the engine returns an error status on a layer that
    exceeds a size, and `write_project` refuses a program whose needs a given config does not cover."""

    max_w: int = 1  # widest map a conv runs on (line buffer columns)
    max_k: int = 1  # largest kernel side (line buffer rows)
    max_cin: int = 1  # most input channels of a conv (line buffer depth)
    max_taps: int = 1  # k*k*c_in/g of one window, padded to SIMD/TSIMD
    max_hid: int = 1  # sum-product hidden width per group, padded to TSIMD
    max_rows: int = 1  # lane-buffer rows: groups x ceil(channels per group / LANES)
    w8_per_lane: int = 1  # int8 weights per lane
    t2b_per_lane: int = 1  # ternary W_b codes per lane
    t2c_per_lane: int = 1  # ternary W_c codes per lane
    max_c: int = 1  # channels of a channel-attention map
    max_ca_hid: int = 1  # channel-attention hidden width
    lb_bits: int = 2  # two's-complement bits of the widest code a conv reads (line buffer, window, W_b inputs)
    h_bits: int = 2  # bits of the widest sum-product hidden value h = accb * a (graph.json's h_bits)

    def union(self, other: "EngineConfig") -> "EngineConfig":
        return EngineConfig(**{f.name: max(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)})

    def covers(self, need: "EngineConfig") -> list:
        return [f.name for f in fields(self) if getattr(need, f.name) > getattr(self, f.name)]

    def header(self, dp: Datapath) -> str:
        lines = ["// srhw_config.h -- datapath, widths and on-chip buffer sizes (elements) for this program at a",
                 "// 1280x720 output frame. Generated by srhw.export.engine: do not edit.",
                 "#ifndef SRHW_CONFIG_H", "#define SRHW_CONFIG_H", "",
                 f"#define SRHW_LANES {dp.lanes}  // output channels per pass (srhw.export.engine_cost.datapath_for)",
                 f"#define SRHW_SIMD {dp.simd}  // int8 MACs per lane per cycle; channels gathered per cycle",
                 f"#define SRHW_TSIMD {dp.tsimd}  // ternary terms per lane per cycle",
                 f"#define SRHW_LOG2_TSIMD {dp.log2_tsimd}", ""]
        for f in fields(self):
            lines.append(f"#define SRHW_{f.name.upper()} {getattr(self, f.name)}")
        return "\n".join(lines + ["", "#endif", ""])


# --- the weight blob -------------------------------------------------------------------------------

class _Blob:
    """32-bit words; each array starts on a word; an (array key, format) pair is stored once."""

    def __init__(self):
        self.words: list[np.ndarray] = []
        self.size = 0
        self.index = {}

    def add(self, key: str, fmt: str, arr: np.ndarray, where: str) -> int:
        if (key, fmt) in self.index:
            return self.index[(key, fmt)]
        a = np.asarray(arr, dtype=np.int64).ravel()
        if fmt == "i8":
            if a.size and (a.min() < -128 or a.max() > 127):
                raise SrhwError(f"{where}: int8 weights out of range [{a.min()}, {a.max()}]")
            w = np.zeros(_round_up(max(a.size, 1), 4), np.uint32)
            w[: a.size] = a.astype(np.int64) & 0xFF
            w = w.reshape(-1, 4)
            packed = w[:, 0] | (w[:, 1] << 8) | (w[:, 2] << 16) | (w[:, 3] << 24)
        elif fmt == "t2":
            if a.size and not np.isin(a, (-1, 0, 1)).all():
                raise SrhwError(f"{where}: a ternary weight outside {{-1, 0, +1}}")
            w = np.zeros(_round_up(max(a.size, 1), 16), np.uint32)
            w[: a.size] = a & 3
            w = w.reshape(-1, 16)
            packed = np.zeros(len(w), np.uint32)
            for i in range(16):
                packed |= w[:, i] << (2 * i)
        else:
            if a.size and (a.min() < -(1 << 31) or a.max() >= 1 << 31):
                raise SrhwError(f"{where}: a parameter does not fit 32 bits")
            packed = (a & 0xFFFFFFFF).astype(np.uint32)
        off = self.size
        self.words.append(packed.astype(np.uint32))
        self.size += len(packed)
        self.index[(key, fmt)] = off
        return off

    def array(self) -> np.ndarray:
        return np.concatenate(self.words).astype("<u4") if self.words else np.zeros(0, "<u4")


# --- the arena -------------------------------------------------------------------------------------

class _Arena:
    """First-fit allocator over units of H*W bytes, with merging of freed neighbours."""

    def __init__(self):
        self.free: list[list[int]] = []  # sorted [start, size]
        self.top = 0  # end of the space in use
        self.peak = 0  # arena size: the highest top ever

    def alloc(self, size: int) -> int:
        for i, (s, n) in enumerate(self.free):
            if n >= size:
                if n == size:
                    self.free.pop(i)
                else:
                    self.free[i] = [s + size, n - size]
                return s
        s, self.top = self.top, self.top + size
        self.peak = max(self.peak, self.top)
        return s

    def release(self, start: int, size: int):
        self.free.append([start, size])
        self.free.sort()
        merged = []
        for s, n in self.free:
            if merged and merged[-1][0] + merged[-1][1] == s:
                merged[-1][1] += n
            else:
                merged.append([s, n])
        if merged and merged[-1][0] + merged[-1][1] == self.top:  # give the top back
            self.top = merged.pop()[0]
        self.free = merged


# --- the program -----------------------------------------------------------------------------------

@dataclass
class Program:
    descs: list  # list of list[int] (len(FIELDS) words each)
    names: list  # one comment per descriptor: golden node, op, shapes
    header: list  # HEADER_WORDS words
    blob: np.ndarray  # uint32 words
    config: EngineConfig  # what this program needs
    datapath: Datapath  # the datapath its buffers are laid out for

    def program_bin(self) -> bytes:
        words = np.asarray(self.header + [w for d in self.descs for w in d], dtype=np.int64)
        return (words & 0xFFFFFFFF).astype("<u4").tobytes()

    def weights_bin(self) -> bytes:
        return self.blob.astype("<u4").tobytes()

    def header_h(self) -> str:
        head = ", ".join(str(v) for v in self.header)
        lines = ["// program.h -- the engine program for this graph: the words of program.bin as C constants.",
                 "// Generated by srhw.export.engine from the golden graph: do not edit.",
                 "// Descriptor words follow srhw_engine.h's enum Field; tensor offsets are in units of H*W bytes.",
                 "#ifndef SRHW_PROGRAM_H", "#define SRHW_PROGRAM_H", "", '#include "srhw_engine.h"', "",
                 f"#define SRHW_N_LAYERS {len(self.descs)}",
                 f"#define SRHW_ARENA_UNITS {self.header[4]}  // arena bytes = units x H x W",
                 f"#define SRHW_WEIGHT_WORDS {self.header[12]}",
                 f"static_assert(SRHW_DESC_WORDS == {len(FIELDS)}, \"program.h does not match srhw_engine.h\");", "",
                 f"// header: magic, version, desc words, layers, arena units, input off/c/type, output off/c/type/factor, "
                 "weight words, lanes, simd, tsimd",
                 f"static const int32_t srhw_program_header[{HEADER_WORDS}] = {{{head}}};", "",
                 f"static const int32_t srhw_program[SRHW_N_LAYERS][SRHW_DESC_WORDS] = {{"]
        for d, name in zip(self.descs, self.names):
            lines.append(f"    // {name}")
            lines.append("    {" + ", ".join(str(v) for v in d) + "},")
        return "\n".join(lines + ["};", "", "#endif", ""])


def _dtype(spec, lo=None, hi=None, where="") -> int:
    lo = spec.lo if lo is None else min(lo, spec.lo)
    hi = spec.hi if hi is None else max(hi, spec.hi)
    for t in (T_S8, T_U8, T_S16):
        if TYPE_RANGE[t][0] <= lo and hi <= TYPE_RANGE[t][1]:
            return t
    raise SrhwError(f"{where}: codes in [{lo}, {hi}] need more than the engine's 16-bit feature maps")


def _check_bits(n, keys, limit=ACC_BITS):
    for k in keys:
        b = n.attrs.get(f"{k}_bits")
        if b is None:
            raise SrhwError(f"{n.name}: graph.json declares no {k}_bits (run srhw.quant.bounds.annotate_bounds)")
        if b > limit:
            raise SrhwError(f"{n.name}: {k} needs {b} bits, more than the engine's {limit}-bit accumulators")


def _check_product(n, key, mult, limit=WIDE_BITS - 2):
    """A requantization product acc * m (acc in its declared range) must leave room for the rounding add."""
    top = max(abs(n.attrs[f"{key}_lo"]), abs(n.attrs[f"{key}_hi"])) * int(np.max(np.abs(mult)))
    if top >= 1 << limit:
        raise SrhwError(f"{n.name}: {key} * multiplier reaches 2^{top.bit_length()}, beyond the {WIDE_BITS}-bit requantizer")


def _check_shift(n, sh, limit=63):
    sh = np.asarray(sh)
    if sh.size and (sh.min() < 0 or sh.max() > limit):
        raise SrhwError(f"{n.name}: shift out of [0, {limit}]")


def compile_program(graph, frame=FRAME, datapath: Datapath | None = None) -> Program:
    """The engine program of `graph` (an srhw.quant.graph.IntGraph) for `datapath` (default: xc7z020's).
    Raises SrhwError on what it cannot run."""
    dp = datapath or default_datapath()
    lanes, simd, tsimd = dp.lanes, dp.simd, dp.tsimd
    g = graph
    if "input" not in g.tensors:
        raise SrhwError("graph has no 'input' tensor")
    chans, fac, dtype = {"input": 3}, {"input": 1}, {"input": _dtype(g.tensors["input"], where="input")}
    codes = {"input": (g.tensors["input"].lo, g.tensors["input"].hi)}  # the range of the codes stored in each map
    if dtype["input"] != T_U8:
        raise SrhwError("the engine's input map is a uint8 image")
    last_use = {}
    for i, n in enumerate(g.nodes):
        for t in n.inputs:
            last_use[t] = i
    blob, arena = _Blob(), _Arena()
    where, size = {}, {}
    # buffers indexed SIMD/TSIMD at a time are at least that long, even when no layer uses them
    need = EngineConfig(max_taps=tsimd, max_hid=tsimd, w8_per_lane=simd, t2b_per_lane=tsimd, t2c_per_lane=tsimd)
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
            _check_bits(n, ["acc"])
            _check_bits(n, ["prod"], WIDE_BITS - 2)
            _check_shift(n, p("SH"))
            grp = a["groups"]
            if chans[x] != cig * grp or co % grp:
                raise SrhwError(f"{n.name}: weights {w.shape} do not match {chans[x]} input channels in {grp} groups")
            lo, hi = a["out_lo"], a["out_hi"]
            chans[n.name] = co
            d.update(GROUPS=grp, KH=kh, KW=kw,
                     W=blob.add(n.params["W"], "i8", w.transpose(0, 2, 3, 1), n.name),
                     B=blob.add(n.params["B"], "i32", p("B"), n.name), M=blob.add(n.params["M"], "i32", p("M"), n.name),
                     SHV=blob.add(n.params["SH"], "i32", p("SH"), n.name))
            taps_p = _round_up(kh * kw * cig, simd)
            rows = grp * _ceil_div(co // grp, lanes)
            need = need.union(EngineConfig(max_w=lr_w * fac[x], max_k=max(kh, kw), max_cin=chans[x], max_taps=taps_p,
                                           max_rows=rows, w8_per_lane=rows * taps_p, lb_bits=signed_bits(*codes[x])))
        elif n.op == "sp_conv":
            wb, wc = p("WB"), p("WC")
            r, cig, kk, _ = wb.shape
            co, rg = wc.shape[:2]
            grp = a["groups"]
            if kk % 2 == 0 or kk != a["k"] or chans[x] != cig * grp or r != rg * grp or co % grp:
                raise SrhwError(f"{n.name}: sum-product weights {wb.shape}/{wc.shape} do not fit its input")
            _check_bits(n, ["accb", "h", "acc"])
            _check_shift(n, a["SH"])
            lo, hi = a["out_lo"], a["out_hi"]
            chans[n.name] = co
            d.update(GROUPS=grp, KH=kk, KW=kk, HID=r, SH=a["SH"],
                     W=blob.add(n.params["WB"], "t2", wb.transpose(0, 2, 3, 1), n.name),
                     A=blob.add(n.params["A"], "i32", p("A"), n.name),
                     WC=blob.add(n.params["WC"], "t2", wc.reshape(co, rg), n.name),
                     B=blob.add(n.params["B"], "i32", p("B"), n.name))
            taps_p, rg_p = _round_up(kk * kk * cig, tsimd), _round_up(rg, tsimd)
            rows_b, rows_c = grp * _ceil_div(rg, lanes), grp * _ceil_div(co // grp, lanes)
            need = need.union(EngineConfig(max_w=lr_w * fac[x], max_k=kk, max_cin=chans[x], max_taps=taps_p,
                                           max_hid=rg_p, max_rows=max(rows_b, rows_c), t2b_per_lane=rows_b * taps_p,
                                           t2c_per_lane=rows_c * rg_p, lb_bits=signed_bits(*codes[x]),
                                           h_bits=a["h_bits"]))
        elif n.op == "add":
            y = n.inputs[1]
            if chans[x] != chans[y] or fac[x] != fac[y]:
                raise SrhwError(f"{n.name}: add of maps of different shapes")
            _check_bits(n, ["acc"])
            _check_shift(n, a["SH"])
            chans[n.name] = chans[x]
            d.update(IN1_C=chans[y], IN1_T=dtype[y], MA=a["MA"], MB=a["MB"], SH=a["SH"])
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
            _check_bits(n, ["pool", "acc1", "acc2", "prod"])
            _check_product(n, "acc1", p("M1"))
            _check_product(n, "acc2", p("M2"))
            _check_product(n, "prod", np.asarray([a["MY"]]))
            for role in ("SH1", "SH2"):
                _check_shift(n, p(role))
            _check_shift(n, a["SHY"])
            chans[n.name] = c
            d.update(HID=nh, MY=a["MY"], SH=a["SHY"], HID_LO=max(hid.lo, 0), HID_HI=hid.hi, Z_LO=zs.lo, Z_HI=zs.hi,
                     **{role: blob.add(n.params[role], "i8" if role in ("W1", "W2") else "i32",
                                       p(role).reshape(p(role).shape[0], -1) if role in ("W1", "W2") else p(role), n.name)
                        for role in ("W1", "B1", "M1", "SH1", "W2", "B2", "M2", "SH2", "LUT")})
            need = need.union(EngineConfig(max_c=c, max_ca_hid=nh))
        elif n.op == "pixel_shuffle":
            r = a["r"]
            if chans[x] % (r * r):
                raise SrhwError(f"{n.name}: {chans[x]} channels do not shuffle by {r}")
            chans[n.name], fac[n.name] = chans[x] // (r * r), fac[x] * r
            d.update(HID=r)
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
        dtype[n.name], codes[n.name] = _dtype(spec, lo_all, hi_all, n.name), (lo_all, hi_all)
        alloc(n.name)
        d.update(IN0=where[x], OUT=where[n.name], OUT_C=chans[n.name], OUT_T=dtype[n.name], LO=lo, HI=hi)
        if n.op == "add":
            d["IN1"] = where[n.inputs[1]]
        label = f"{n.name}: {n.op} {chans[x]}->{chans[n.name]}"
        if n.op in ("concat", "interleave"):
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
        for t in set(n.inputs):  # maps nobody reads any more go back to the arena
            if last_use[t] == i and t != g.output:
                arena.release(where[t], size[t])
    out = g.output
    if out not in chans or chans[out] != 3:
        raise SrhwError(f"graph output {out!r} is not a 3-channel map")
    words = blob.array()
    header = [MAGIC, VERSION, len(FIELDS), len(descs), arena.peak, where["input"], 3, T_U8, where[out], 3, dtype[out],
              fac[out], len(words), dp.lanes, dp.simd, dp.tsimd]
    for d in descs:
        for v in d:
            if not -(1 << 31) <= v < (1 << 31):
                raise SrhwError("a descriptor field does not fit 32 bits")
    return Program(descs, names, header, words, need, dp)


def program_cycles(prog: Program, h: int, w: int) -> list:
    """engine_cost.descriptor_cycles of every descriptor of `prog` on an h x w LR input (its datapath)."""
    from srhw.export.engine_cost import descriptor_cycles

    return [descriptor_cycles(dict(zip(FIELDS, d)), prog.datapath, h, w) for d in prog.descs]


def program_bytes(prog: Program, h: int, w: int) -> list:
    """engine_cost.descriptor_bytes of every descriptor: DDR bytes read and written on an h x w LR input."""
    from srhw.export.engine_cost import descriptor_bytes

    return [descriptor_bytes(dict(zip(FIELDS, d)), h, w, TYPE_BYTES) for d in prog.descs]


# --- the project folder ----------------------------------------------------------------------------

_SCRIPT_TCL = """# Vitis HLS: C-simulate and synthesise the layer-sequential engine for {part} at {clock:g} MHz.
#   vitis_hls -f script.tcl        (never run here: no vitis_hls on the machines that wrote this)
# csim takes a program, its weights and raw uint8 HWC images (see README.md).
open_project -reset srhw_engine_prj
set_top {top}
add_files srhw_engine.cpp -cflags "-std=c++14 -I."
add_files -tb tb_engine.cpp -cflags "-std=c++14 -I."
add_files -tb program.bin
add_files -tb weights.bin
open_solution -reset solution1 -flow_target vivado
set_part {{{part_full}}}
create_clock -period {period} -name default
config_interface -m_axi_addr64=false
# csim_design -argv "program.bin weights.bin images.bin 1 32 32 outputs.bin"
csynth_design
export_design -format ip_catalog
exit
"""

_README = """# Layer-sequential engine project: {spec}

Generated by `srhw.export.engine` from the golden graph (`../golden/` in a `srhw build` folder).
The sources (`srhw_engine.h`, `srhw_engine.cpp`, `tb_engine.cpp`) are copies of `hls/engine/` in the srhw
repository; `srhw_config.h`, `program.h`, `program.bin` and `weights.bin` are this graph's.

- Datapath (`srhw_config.h`, chosen for {part}): {lanes} lanes x {simd} int8 MACs ({macs} MAC multipliers) or
  x {tsimd} ternary terms ({tadds} LUT add/sub inputs) per cycle, plus {lanes} scale multipliers / requantizers.
- Program: {n} descriptors over {nodes} golden ops; arena {units} x H x W bytes; weights {wbytes:,} bytes.
- Part {part} at {clock:g} MHz (`script.tcl`).

**Not synthesised.** No vitis_hls/Vivado exists on the machines that wrote this project: the design is
checked by g++ C-simulation only (bit-exact against the integer golden model); its resources and speed in the
build report are the analytic cost model of this code (`srhw.export.engine_cost`), never synthesised.

C-simulation by hand (images: raw uint8, N x H x W x 3):

    g++ -O2 -std=c++14 -I. -I<hls4ml>/templates/vivado/ap_types tb_engine.cpp srhw_engine.cpp -o tb_engine
    ./tb_engine program.bin weights.bin images.bin N H W outputs.bin
"""


def write_project(graph, folder, part: str = "xc7z020", clock_mhz: float = 150.0, config: EngineConfig | None = None,
                  program: Program | None = None) -> dict:
    """Write the engine project for `graph` into `folder`; returns a summary. The datapath is `part`'s
    (datapath_for_graph) unless `program` was compiled for another; `config` (buffer sizes) defaults to
    what the program needs, a larger one lets one compile serve several programs."""

    from srhw.hw.parts import get_part

    pt = get_part(part)
    prog = program or compile_program(graph, datapath=datapath_for_graph(graph, pt))
    dp = prog.datapath
    cfg = config or prog.config
    short = cfg.covers(prog.config)
    if short:
        raise SrhwError(f"engine buffers too small for this program: {', '.join(short)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        write_text(folder / name, (ENGINE_SRC / name).read_text())
    write_text(folder / "srhw_config.h", cfg.header(dp))
    write_text(folder / "program.h", prog.header_h())
    for name, data in (("program.bin", prog.program_bin()), ("weights.bin", prog.weights_bin())):
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(data)
    write_text(folder / "script.tcl", _SCRIPT_TCL.format(part=pt.name, part_full=_full_part(pt.name), clock=clock_mhz,
                                                          period=round(1000.0 / clock_mhz, 3), top=TOP))
    write_text(folder / "README.md", _README.format(
        spec=graph.meta.get("spec", "graph"), lanes=dp.lanes, simd=dp.simd, tsimd=dp.tsimd,
        macs=dp.lanes * dp.simd, tadds=dp.lanes * dp.tsimd, n=len(prog.descs), nodes=len(graph.nodes),
        units=prog.header[4], wbytes=4 * len(prog.blob), part=pt.name, clock=clock_mhz))
    return {"descriptors": len(prog.descs), "arena_units": prog.header[4], "weight_bytes": 4 * len(prog.blob),
            "config": asdict(cfg), "datapath": dp.as_dict()}


def _full_part(name: str) -> str:
    """A device string vitis_hls accepts for the base names of srhw.hw.parts (package/speed assumed)."""
    return {"xc7z020": "xc7z020clg400-1", "xc7z045": "xc7z045ffg900-2", "xczu3eg": "xczu3eg-sbva484-1-e",
            "xczu9eg": "xczu9eg-ffvb1156-2-e", "xcku040": "xcku040-ffva1156-2-e"}.get(name, name)


def lanes_summary(dp: Datapath) -> dict:
    return {"lanes": dp.lanes, "simd": dp.simd, "tsimd": dp.tsimd, "dsp_macs": dp.lanes * dp.simd,
            "dsp_scales": dp.lanes, "ternary_adds_per_cycle": dp.lanes * dp.tsimd}


# --- g++ C-simulation ------------------------------------------------------------------------------

def compile_testbench(project, out_bin, native: bool = False, timeout: int = 600, count_iters: bool = False) -> float:
    """g++ the engine + testbench of a project folder into `out_bin`; returns the compile seconds.

    native=True compiles with -DSRHW_NATIVE_TYPES (native C types of the same values, ~20x faster C-sim;
    see srhw_engine.h); the default checks the ap_int types vitis_hls would synthesise. count_iters=True counts the
    pipelined-loop iterations per descriptor (-DSRHW_COUNT_ITERS, run_engine_csim's "iters")."""
    project = Path(project)
    cmd = ["g++", *CXXFLAGS, *(["-DSRHW_NATIVE_TYPES"] if native else []),
           *(["-DSRHW_COUNT_ITERS"] if count_iters else []), f"-I{project}", f"-I{ap_types_dir()}", str(project / "tb_engine.cpp"),
           str(project / "srhw_engine.cpp"), "-o", str(out_bin)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        err = [l for l in proc.stderr.splitlines() if "error" in l] or proc.stderr.splitlines()[-1:]
        raise SrhwError(f"g++ failed on the engine: {err[0] if err else proc.returncode}")
    return time.perf_counter() - t0


def run_engine_csim(graph, images_hwc: np.ndarray, workdir, binary=None, config: EngineConfig | None = None,
                    native: bool = False, timeout: int = 1800, datapath: Datapath | None = None,
                    count_iters: bool = False) -> dict:
    """C-simulate the engine on uint8 images (N, H, W, 3); compare with srhw.quant.golden on every output value.

    `binary`: a tb_engine compiled with buffers covering this program (skips the compile); `native`: compile
    with native C types instead of ap_int (compile_testbench); `datapath`: default xc7z020's (must match `binary`'s);
    `count_iters`: compile with -DSRHW_COUNT_ITERS and return "iters", the pipelined-loop iterations per descriptor
    of the last image. Returns {"checked", "mismatches", "compile_s", "run_s", "golden_s", "images", "input_hw",
    "descriptors", "types", "outputs"} (+ "iters").
    """
    from srhw.quant.golden import run_golden

    x = np.ascontiguousarray(images_hwc)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != 3:
        raise SrhwError("engine C-sim takes uint8 images of shape (N, H, W, 3)")
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    prog = compile_program(graph, datapath=datapath)
    proj = work / "engine"
    write_project(graph, proj, config=config, program=prog)
    compile_s = 0.0
    if binary is None:
        binary = work / "tb_engine"
        compile_s = compile_testbench(proj, binary, native, count_iters=count_iters)
    n, h, w, _ = x.shape
    (work / "images.bin").write_bytes(x.tobytes())
    t0 = time.perf_counter()
    proc = subprocess.run([str(binary), str(proj / "program.bin"), str(proj / "weights.bin"), str(work / "images.bin"),
                           str(n), str(h), str(w), str(work / "outputs.bin"),
                           *([str(work / "iters.txt")] if count_iters else [])], capture_output=True, text=True,
                          timeout=timeout)
    run_s = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SrhwError(f"engine C-sim failed: {(proc.stderr.strip().splitlines() or [str(proc.returncode)])[-1]}")
    f = prog.header[11]
    got = np.frombuffer((work / "outputs.bin").read_bytes(), np.uint8).reshape(n, h * f, w * f, 3)
    t1 = time.perf_counter()
    gold = run_golden(graph, x.transpose(0, 3, 1, 2).copy()).transpose(0, 2, 3, 1)
    golden_s = time.perf_counter() - t1
    if gold.shape != got.shape:
        raise SrhwError(f"engine output {got.shape} != golden {gold.shape}")
    out = {"checked": int(got.size), "mismatches": int((got != gold).sum()), "compile_s": compile_s, "run_s": run_s,
           "golden_s": golden_s, "images": int(n), "input_hw": [int(h), int(w)], "descriptors": len(prog.descs),
           "types": "native C types (-DSRHW_NATIVE_TYPES)" if native else "ap_int", "outputs": got}
    if count_iters:
        out["iters"] = [int(v) for v in (work / "iters.txt").read_text().split()]
    return out


def main(argv=None):
    from srhw.quant.graph import load_graph

    p = argparse.ArgumentParser(prog="python -m srhw.export.engine", description="write the engine project of a golden graph")
    p.add_argument("graph")
    p.add_argument("out")
    p.add_argument("--part", default="xc7z020")
    p.add_argument("--clock", type=float, default=150.0)
    a = p.parse_args(argv)
    info = write_project(load_graph(a.graph), a.out, a.part, a.clock)
    print(info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

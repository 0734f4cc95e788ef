"""The engine's parallelism: the datapath constants of srhw_config.h (chosen per program and part by
srhw.export.engine.cost.search)."""

from dataclasses import asdict, dataclass

from srhw.export.engine.arith import clog2


@dataclass(frozen=True)
class Datapath:
    """The engine's parallelism (srhw_config.h)."""

    lanes: int = 8  # int8 conv: output channels per pass
    simd: int = 16  # int8 conv: taps per lane per cycle
    tsimd: int = 64  # W_b: ternary terms per lane per cycle (a TSIMD-input adder tree per lane)
    b_lanes: int = 8  # W_b: hidden channels per pass (0: no sum-product array)
    c_lanes: int = 8  # W_c: output channels per pass
    c_tsimd: int = 32  # W_c: hidden terms per lane per cycle
    gather: int = 16  # window: channels gathered per cycle (line-buffer banks)
    ew: int = 16  # add / channel-attention rescale: codes per cycle (their multipliers)
    beat: int = 16  # AXI beat, bytes
    pack: int = 1  # 1: two int8 products per DSP48 on 8-bit maps
    gcols: int = 1  # window: columns (horizontally adjacent taps) gathered per cycle (line-buffer pixel banks)

    @property
    def log2_tsimd(self) -> int:
        return clog2(self.tsimd)

    @property
    def log2_c_tsimd(self) -> int:
        return clog2(self.c_tsimd)

    def as_dict(self) -> dict:
        return asdict(self)

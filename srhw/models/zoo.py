"""The model zoo: every network of the study under its paper name.

A variant is a registered function that receives the parsed hyper-parameters and returns a unit
factory `unit(ch) -> nn.Module` (or None for `bl`). `build()` places the unit according to the
spec's placement and upsampler; `st_bl` is built by swapping every conv for a sum-product conv.
"""

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from torch import nn

from srhw.core.errors import SrhwError
from srhw.models import units
from srhw.models.common import conv
from srhw.models.erum import ERUM
from srhw.models.rcan import BL, BLConfig
from srhw.models.spec import Spec, parse
from srhw.models.sum_product import SumProductConv2d

SCALES = (2, 3, 4)


@dataclass(frozen=True)
class Variant:
    name: str
    make_unit: Callable | None  # (**hparams) -> unit(ch) factory; None for models without a unit
    hparams: dict = field(default_factory=dict)  # name -> (parser, default), in the paper's order
    doc: str = ""


_REGISTRY: dict[str, Variant] = {}


def register_model(name: str, hparams: dict | None = None, doc: str = ""):
    def deco(fn):
        assert name not in _REGISTRY, f"model {name} registered twice"
        _REGISTRY[name] = Variant(name, fn, hparams or {}, doc or (fn.__doc__ or "").strip())
        return fn
    return deco


def list_models() -> list[str]:
    return list(_REGISTRY)


def _pos_int(key):
    def parse_(v: str) -> int:
        if not re.fullmatch(r"[0-9]+", v) or int(v) < 1:
            raise SrhwError(f"{key}={v} must be a positive integer")
        return int(v)
    return parse_


def parse_multiple_of_cout(v: str) -> int:
    """'c_out' -> 1, '2c_out' -> 2, ... (the hidden width r as a multiple of each layer's c_out)."""
    m = re.fullmatch(r"([0-9]*)c_out", v)
    if not m or (m[1] and int(m[1]) < 1):
        raise SrhwError(f"r={v} must be a positive multiple of c_out: c_out, 2c_out, 4c_out, 6c_out, ...")
    return int(m[1]) if m[1] else 1


# --- registered variants (Table 1 names; hyper-parameter defaults are the paper's first row) ---

@register_model("bl")
def bl():
    """Baseline: reduced RCAN (2 RGs x 5 RCABs, 64 features)."""
    return None


@register_model("blrn", {"r": (_pos_int("r"), 2)})
def blrn(r):
    """Residual bottleneck (ResNet) with reduction r."""
    return partial(units.Bottleneck, r=r)


@register_model("blrxn", {"r": (_pos_int("r"), 2), "g": (_pos_int("g"), 4)})
def blrxn(r, g):
    """ResNeXt bottleneck: blrn with a grouped 3x3 (g groups)."""
    return partial(units.Bottleneck, r=r, g=g)


@register_model("blm1")
def blm1():
    """MobileNet v1 depthwise-separable unit."""
    return units.DepthwiseSeparable


@register_model("bleff", {"r": (_pos_int("r"), 2)})
def bleff(r):
    """EffNet unit (1x3 + 3x1 depthwise) with reduction r."""
    return partial(units.EffNetUnit, r=r)


@register_model("bls1", {"r": (_pos_int("r"), 2), "g": (_pos_int("g"), 4)})
def bls1(r, g):
    """ShuffleNet v1 unit with reduction r and g groups."""
    return partial(units.ShuffleV1Unit, r=r, g=g)


@register_model("blclc", {"g1": (_pos_int("g1"), 32), "g2": (_pos_int("g2"), 2)})
def blclc(g1, g2):
    """ClcNet unit: grouped 3x3 (g1) + interlace + grouped 1x1 (g2)."""
    return partial(units.ClcUnit, g1=g1, g2=g2)


@register_model("bls2")
def bls2():
    """ShuffleNet v2 unit (channel split + shuffle)."""
    return units.ShuffleV2Unit


@register_model("blm2", {"e": (_pos_int("e"), 2)})
def blm2(e):
    """MobileNet v2 inverted residual with expansion e."""
    return partial(units.InvertedResidual, e=e)


@register_model("st_bl", {"r": (parse_multiple_of_cout, "2c_out"), "g": (_pos_int("g"), 1)})
def st_bl(r, g):
    """bl with every conv a ternary StrassenNets sum-product conv, r = m * c_out."""
    return None


# --- building ---

@dataclass(frozen=True)
class Resolved:
    """A spec with its variant, typed hyper-parameters and effective placement."""

    variant: Variant
    erum: bool
    hparams: dict
    placement: str | None

    def __str__(self):
        # every hyper-parameter is spelled out as the paper does (blrn(r=2)), except st_bl's groups at 1
        shown = [k for k in self.hparams if not (self.variant.name == "st_bl" and k == "g" and self.hparams[k] == 1)]
        args = ", ".join(f"{k}={self.raw[k]}" for k in shown)
        s = self.variant.name + ("-e" if self.erum else "") + (f"({args})" if args else "")
        if self.placement and (self.erum or self.placement != "rg"):
            s += f"[{self.placement}]"
        return s

    @property
    def raw(self):
        out = dict(self.hparams)
        if self.variant.name == "st_bl":
            out["r"] = ("" if out["r"] == 1 else str(out["r"])) + "c_out"
        return out


def resolve(text: str | Spec) -> Resolved:
    """Check a spec against the registry; fill defaults. Raises SrhwError with one clear line."""
    spec = parse(text) if isinstance(text, str) else text
    v = _REGISTRY.get(spec.name)
    if v is None:
        raise SrhwError(f"unknown model {spec.name!r}; known: {', '.join(list_models())}")
    keys = list(v.hparams)
    given = {}
    for key, value in spec.args:
        if isinstance(key, int):
            if key >= len(keys):
                raise SrhwError(f"{spec.name} takes {len(keys)} hyper-parameter(s) ({', '.join(keys) or 'none'})")
            key = keys[key]
        if key not in v.hparams:
            raise SrhwError(f"{spec.name} has no hyper-parameter {key!r}" + (f"; it takes {', '.join(keys)}" if keys else ""))
        if key in given:
            raise SrhwError(f"hyper-parameter {key!r} given twice")
        given[key] = v.hparams[key][0](value)
    hp = {k: given.get(k, p(d) if isinstance(d, str) else d) for k, (p, d) in v.hparams.items()}
    has_unit = v.name not in ("bl", "st_bl")
    if v.name == "st_bl":
        if spec.erum:
            raise SrhwError("st_bl has no ERUM variant (-e): Table 5 replaces the convs of the sub-pixel bl")
        if spec.placement:
            raise SrhwError("st_bl replaces every conv; it takes no placement")
    if not has_unit and spec.placement:
        raise SrhwError(f"{v.name}{'-e' if spec.erum else ''} has no efficiency unit, so a placement [{spec.placement}] means nothing")
    placement = spec.placement or ("rg" if has_unit else None)
    if placement == "rg+u" and not spec.erum:
        raise SrhwError(f"placement [rg+u] replaces convs inside ERUM: use {v.name}-e(...)[rg+u]")
    return Resolved(v, spec.erum, hp, placement)


def canonical(text: str) -> str:
    """The paper's spelling of a spec: canonical('blrn ( r = 2 )') == 'blrn(r=2)'."""
    return str(resolve(text))


def _check_scale(scale):
    if scale not in SCALES:
        raise SrhwError(f"unsupported scale {scale!r}: the study uses x2, x3 and x4")


def build(text: str, scale: int = 2, **config) -> nn.Module:
    """Build a zoo model from its paper spec string, e.g. build('blrn-e(r=2)[rg+u]', scale=3).

    Returns an nn.Module mapping RGB (B, 3, h, w) in [0, 255] to (B, 3, h*scale, w*scale).
    `config` overrides BLConfig fields (num_feat, num_group, num_block) for small test models.
    """
    _check_scale(scale)
    rs = resolve(text)
    cfg = BLConfig(scale=scale, **config)
    if rs.variant.name == "st_bl":
        m, g = rs.hparams["r"], rs.hparams["g"]

        def sp(i, o, k):
            gg = g if (i % g == 0 and o % g == 0) else 1  # groups only where both widths allow (not on RGB in/out)
            return SumProductConv2d(i, o, k, r=m * o, groups=gg)

        model = BL(cfg, conv=sp, rb_conv=sp, rg_conv=sp)
    else:
        unit_factory = rs.variant.make_unit(**rs.hparams)
        unit = (lambda i, o, k: unit_factory(i)) if unit_factory else None
        place = rs.placement
        rb = unit if place in ("rb", "rg", "rg+u") else conv
        rg = unit if place in ("rg", "rg+u") else conv
        up = None
        if rs.erum:
            up_conv = unit if place == "rg+u" else conv
            up = lambda s, f: ERUM(s, f, conv_layer=up_conv)
        model = BL(cfg, conv=conv, rb_conv=rb, rg_conv=rg, upsampler=up)
    model.spec = str(rs)
    model.scale = scale
    return model

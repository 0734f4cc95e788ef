"""The model zoo: every network of the study, and the real-time networks, under their papers' names.

Every model is a registered `Variant` whose `make` builds the whole network from the parsed spec.
`register_unit` registers a bl variant by its efficiency unit (`unit(ch) -> nn.Module`), placed
according to the spec's placement and upsampler; `register_model` registers any other network
(st_bl, FSRCNN, ESPCN, SESR, ...). `build()` has no per-name cases.
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
from srhw.models.spec import SCALES, Spec, check_scale, parse
from srhw.models.sum_product import SumProductConv2d



@dataclass(frozen=True)
class Variant:
    """A registered model. `make(scale, hparams, erum, placement, config)` builds the whole network."""

    name: str
    make: Callable
    hparams: dict = field(default_factory=dict)  # name -> (parser, default), in the paper's order
    doc: str = ""
    unit: bool = False  # an efficiency unit placed inside bl: takes a placement, and -e
    erum: bool = False  # takes -e (ERUM upsampler)
    hide: dict = field(default_factory=dict)  # hyper-parameters left out of the paper's spelling at this value
    show: dict = field(default_factory=dict)  # name -> value formatter for the spelling (st_bl's r=2c_out)
    channels: int = 3  # 3: RGB in/out; 1: Y in/out
    count_deployed: bool = False  # the profiler counts the deploy=True form (SESR: collapsed, as its paper counts)


_REGISTRY: dict[str, Variant] = {}


def _add(v: Variant):
    assert v.name not in _REGISTRY, f"model {v.name} registered twice"
    _REGISTRY[v.name] = v


def register_model(name: str, hparams: dict | None = None, doc: str = "", **kw):
    """Register a whole network: fn(scale, **hparams, **config) -> nn.Module (`kw`: Variant fields)."""
    def deco(fn):
        def make(scale, hp, erum, placement, config):
            return fn(scale, **hp, **config)
        _add(Variant(name, make, hparams or {}, doc or (fn.__doc__ or "").strip(), **kw))
        return fn
    return deco


def register_unit(name: str, hparams: dict | None = None, doc: str = ""):
    """Register a bl variant by its efficiency unit: fn(**hparams) -> unit(ch) factory, placed by the spec."""
    def deco(fn):
        def make(scale, hp, erum, placement, config):
            return _bl_with_unit(fn(**hp), scale, erum, placement, config)
        _add(Variant(name, make, hparams or {}, doc or (fn.__doc__ or "").strip(), unit=True, erum=True))
        return fn
    return deco


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, optionally only those matching a shell-style `pattern` ('bl*', '*sesr')."""
    from fnmatch import fnmatchcase

    return [n for n in _REGISTRY if pattern is None or fnmatchcase(n, pattern)]


def variant(name: str) -> Variant:
    v = _REGISTRY.get(name)
    if v is None:
        raise SrhwError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return v


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


def format_multiple_of_cout(m: int) -> str:
    return ("" if m == 1 else str(m)) + "c_out"


def _bl_with_unit(unit_factory, scale, erum, placement, config):
    """bl (reduced RCAN) with `unit_factory(ch)` in the convs `placement` names, ERUM if `erum`."""
    cfg = BLConfig(scale=scale, **config)
    unit = (lambda i, o, k: unit_factory(i)) if unit_factory else None
    rb = unit if placement in ("rb", "rg", "rg+u") else conv
    rg = unit if placement in ("rg", "rg+u") else conv
    up = None
    if erum:
        up_conv = unit if placement == "rg+u" else conv
        up = lambda s, f: ERUM(s, f, conv_layer=up_conv)  # noqa: E731
    return BL(cfg, conv=conv, rb_conv=rb, rg_conv=rg, upsampler=up)


# --- registered variants (Table 1 names; hyper-parameter defaults are the paper's first row) ---

def _bl(scale, erum, placement, config):
    return _bl_with_unit(None, scale, erum, None, config)


_add(Variant("bl", lambda scale, hp, erum, placement, config: _bl(scale, erum, placement, config),
             doc="Baseline: reduced RCAN (2 RGs x 5 RCABs, 64 features).", erum=True))


@register_unit("blrn", {"r": (_pos_int("r"), 2)})
def blrn(r):
    """Residual bottleneck (ResNet) with reduction r."""
    return partial(units.Bottleneck, r=r)


@register_unit("blrxn", {"r": (_pos_int("r"), 2), "g": (_pos_int("g"), 4)})
def blrxn(r, g):
    """ResNeXt bottleneck: blrn with a grouped 3x3 (g groups)."""
    return partial(units.Bottleneck, r=r, g=g)


@register_unit("blm1")
def blm1():
    """MobileNet v1 depthwise-separable unit."""
    return units.DepthwiseSeparable


@register_unit("bleff", {"r": (_pos_int("r"), 2)})
def bleff(r):
    """EffNet unit (1x3 + 3x1 depthwise) with reduction r."""
    return partial(units.EffNetUnit, r=r)


@register_unit("bls1", {"r": (_pos_int("r"), 2), "g": (_pos_int("g"), 4)})
def bls1(r, g):
    """ShuffleNet v1 unit with reduction r and g groups."""
    return partial(units.ShuffleV1Unit, r=r, g=g)


@register_unit("blclc", {"g1": (_pos_int("g1"), 32), "g2": (_pos_int("g2"), 2)})
def blclc(g1, g2):
    """ClcNet unit: grouped 3x3 (g1) + interlace + grouped 1x1 (g2)."""
    return partial(units.ClcUnit, g1=g1, g2=g2)


@register_unit("bls2")
def bls2():
    """ShuffleNet v2 unit (channel split + shuffle)."""
    return units.ShuffleV2Unit


@register_unit("blm2", {"e": (_pos_int("e"), 2)})
def blm2(e):
    """MobileNet v2 inverted residual with expansion e."""
    return partial(units.InvertedResidual, e=e)


@register_model("st_bl", {"r": (parse_multiple_of_cout, "2c_out"), "g": (_pos_int("g"), 1)},
                hide={"g": 1}, show={"r": format_multiple_of_cout})
def st_bl(scale, r, g, **config):
    """bl with every conv a ternary StrassenNets sum-product conv, r = m * c_out."""
    def sp(i, o, k):
        gg = g if (i % g == 0 and o % g == 0) else 1  # groups only where both widths allow (not on RGB in/out)
        return SumProductConv2d(i, o, k, r=r * o, groups=gg)

    return BL(BLConfig(scale=scale, **config), conv=sp, rb_conv=sp, rg_conv=sp)


# --- real-time Y-channel networks (srhw/models/fsrcnn.py, espcn.py, sesr.py) ---
# deploy=True builds the form the golden model and hardware run (FSRCNN: deconvolution as LR conv + pixel
# shuffle; SESR: collapsed linear blocks); the INT8 checkpoints of these networks store that form.


@register_model("fsrcnn", {"d": (_pos_int("d"), 56), "s": (_pos_int("s"), 12), "m": (_pos_int("m"), 4)}, channels=1)
def fsrcnn(scale, d, s, m, deploy=False):
    """FSRCNN (Dong et al. 2016) with ReLU; FSRCNN-s is fsrcnn(d=32, s=5, m=1)."""
    from srhw.models.fsrcnn import FSRCNN, FSRCNNSubpixel

    return FSRCNNSubpixel(scale, d, s, m) if deploy else FSRCNN(scale, d, s, m)


@register_model("espcn", {"c1": (_pos_int("c1"), 64), "c2": (_pos_int("c2"), 32)}, channels=1)
def espcn(scale, c1, c2, deploy=False):
    """ESPCN (Shi et al. 2016) with ReLU instead of tanh."""
    from srhw.models.espcn import ESPCN

    return ESPCN(scale, c1, c2)


@register_model("sesr", {"f": (_pos_int("f"), 16), "m": (_pos_int("m"), 5), "p": (_pos_int("p"), 256)},
                hide={"p": 256}, channels=1, count_deployed=True)
def sesr(scale, f, m, p, deploy=False):
    """SESR-M<m> (Bhardwaj et al. 2022): collapsible linear blocks of expansion p (the paper's 256)."""
    from srhw.models.sesr import SESR, SESRCollapsed

    return SESRCollapsed(scale, f, m) if deploy else SESR(scale, f, m, p)


@register_model("st_sesr", {"f": (_pos_int("f"), 16), "m": (_pos_int("m"), 5), "r": (parse_multiple_of_cout, "2c_out")},
                show={"r": format_multiple_of_cout}, channels=1)
def st_sesr(scale, f, m, r, deploy=False):
    """Collapsed SESR with every conv a ternary StrassenNets sum-product conv of hidden width r."""
    from srhw.models.sesr import SESRTernary

    return SESRTernary(scale, f, m, r)


# --- building ---

@dataclass(frozen=True)
class Resolved:
    """A spec with its variant, typed hyper-parameters and effective placement."""

    variant: Variant
    erum: bool
    hparams: dict
    placement: str | None

    def __str__(self):
        # every hyper-parameter is spelled out as the paper does (blrn(r=2)), except those at a hidden value
        hide = self.variant.hide
        shown = [k for k in self.hparams if not (k in hide and self.hparams[k] == hide[k])]
        args = ", ".join(f"{k}={self.raw[k]}" for k in shown)
        s = self.variant.name + ("-e" if self.erum else "") + (f"({args})" if args else "")
        if self.placement and (self.erum or self.placement != "rg"):
            s += f"[{self.placement}]"
        return s

    @property
    def raw(self):
        return {k: self.variant.show[k](v) if k in self.variant.show else v for k, v in self.hparams.items()}


def resolve(text: str | Spec) -> Resolved:
    """Check a spec against the registry; fill defaults. Raises SrhwError with one clear line."""
    spec = parse(text) if isinstance(text, str) else text
    v = variant(spec.name)
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
    if spec.erum and not v.erum:
        raise SrhwError(f"{v.name} has no ERUM variant (-e)" + (
            ": Table 5 replaces the convs of the sub-pixel bl" if v.name == "st_bl" else ""))
    if spec.placement and not v.unit:
        raise SrhwError(f"{v.name}{'-e' if spec.erum else ''} has no efficiency unit, so a placement [{spec.placement}] means nothing")
    placement = spec.placement or ("rg" if v.unit else None)
    if placement == "rg+u" and not spec.erum:
        raise SrhwError(f"placement [rg+u] replaces convs inside ERUM: use {v.name}-e(...)[rg+u]")
    return Resolved(v, spec.erum, hp, placement)


def canonical(text: str) -> str:
    """The paper's spelling of a spec: canonical('blrn ( r = 2 )') == 'blrn(r=2)'."""
    return str(resolve(text))


def channels_of(text: str) -> int:
    """3 for RGB models, 1 for the Y-channel networks."""
    return resolve(text).variant.channels


_check_scale = check_scale  # srhw.models.spec: the one scale check


def build(text: str, scale: int = 2, **config) -> nn.Module:
    """Build a zoo model from its paper spec string, e.g. build('blrn-e(r=2)[rg+u]', scale=3).

    RGB models map (B, 3, h, w) in [0, 255] to (B, 3, h*scale, w*scale), the Y-channel networks
    (fsrcnn, espcn, sesr, st_sesr) (B, 1, h, w) to (B, 1, h*scale, w*scale). `config` overrides BLConfig
    fields (num_feat, num_group, num_block) for small bl-family test models, or `deploy=True` for the
    real-time networks' inference form.
    """
    _check_scale(scale)
    rs = resolve(text)
    try:
        model = rs.variant.make(scale, rs.hparams, rs.erum, rs.placement, config)
    except TypeError as e:
        raise SrhwError(f"{rs}: bad model arguments {sorted(config)} ({e})") from None
    model.spec = str(rs)
    model.scale = scale
    model.channels = rs.variant.channels
    return model

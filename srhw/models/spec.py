"""The paper's model names as a small grammar: `name[-e][(args)][placement]`.

Examples (spaces are ignored): `bl`, `bl-e`, `blrn(r=2)`, `blrxn(r=2, g=4)`, `blrn-e(r=2)[rg+u]`,
`blm1-e[rb]`, `st_bl(r=2c_out)`. `-e` swaps the sub-pixel upsampler for ERUM; the placement says
which 3x3 64->64 convs the efficient unit replaces (architectures.md section 4):

    [rb]    the 20 RCAB convs
    [rg]    [rb] + the 2 residual-group tails + the trunk tail (23 convs; Table 1's setting)
    [rg+u]  [rg] + every conv inside the ERUM residual modules (needs -e)
"""

import re
from dataclasses import dataclass

from srhw.core.errors import SrhwError

PLACEMENTS = ("rb", "rg", "rg+u")
_SPEC = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*)(?P<erum>-e)?(?:\((?P<args>[^()]*)\))?(?:\[(?P<place>[^\[\]]*)\])?$"
)


@dataclass(frozen=True)
class Spec:
    """A parsed spec string. `args` keeps the order the model declares its hyper-parameters in."""

    name: str
    erum: bool = False
    args: tuple = ()  # ((key, raw string value), ...) as written; the variant types and checks them
    placement: str | None = None


def parse(text: str) -> Spec:
    """Parse a spec string; raise SrhwError with one clear line if it is malformed."""
    if not isinstance(text, str) or not text.strip():
        raise SrhwError("empty model spec")
    s = "".join(text.split())
    m = _SPEC.match(s)
    if not m:
        raise SrhwError(f"malformed model spec {text!r}: expected name[-e][(k=v, ...)][placement], e.g. blrn-e(r=2)[rb]")
    args = []
    if m["args"] is not None and m["args"] != "":
        for i, item in enumerate(m["args"].split(",")):
            if item == "":
                raise SrhwError(f"malformed model spec {text!r}: empty argument")
            key, eq, value = item.partition("=")
            if not eq:
                key, value = i, item  # positional: the variant maps it to its i-th hyper-parameter
            elif not key or not value:
                raise SrhwError(f"malformed model spec {text!r}: argument {item!r} is not key=value")
            args.append((key, value))
    place = m["place"]
    if place is not None and place not in PLACEMENTS:
        raise SrhwError(f"unknown placement [{place}] in {text!r}: use one of " + ", ".join(f"[{p}]" for p in PLACEMENTS))
    return Spec(name=m["name"], erum=bool(m["erum"]), args=tuple(args), placement=place)


SCALES = (2, 3, 4)  # the study's upscaling factors


def check_scale(scale) -> int:
    """The one scale check (every command and `build()`): the study's x2, x3 and x4."""
    if scale not in SCALES:
        raise SrhwError(f"unsupported scale {scale!r}: the study uses x2, x3 and x4")
    return scale

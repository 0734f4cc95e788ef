"""The study's model zoo: `build(spec, scale)` for every network of Tables 1, 2 and 5, and the real-time
Y-channel networks FSRCNN, ESPCN, SESR (and the ternary st_sesr).

    >>> from srhw.models import build
    >>> model = build("blrn-e(r=2)[rg+u]", scale=3)
"""

from srhw.models.spec import PLACEMENTS, Spec, parse
from srhw.models.sum_product import SumProductConv2d, freeze_all
from srhw.models.zoo import SCALES, build, canonical, channels_of, list_models, resolve

__all__ = ["build", "canonical", "channels_of", "list_models", "parse", "resolve", "Spec", "PLACEMENTS", "SCALES", "SumProductConv2d", "freeze_all"]

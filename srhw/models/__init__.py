"""The study's model zoo: `build(spec, scale)` for every network of Tables 1, 2 and 5, and the real-time
Y-channel networks FSRCNN, ESPCN, SESR (and the ternary st_sesr).

    >>> from srhw.models import build
    >>> model = build("blrn-e(r=2)[rg+u]", scale=3)
"""

from importlib import import_module

# name -> module: imported on first use (PEP 562), so that `--help` and the torch-free spec parser do not
# pull in torch through this package.
_LAZY = {"PLACEMENTS": "spec", "Spec": "spec", "parse": "spec", "SumProductConv2d": "sum_product",
         "freeze_all": "sum_product", "SCALES": "zoo", "build": "zoo", "canonical": "zoo", "channels_of": "zoo",
         "list_models": "zoo", "resolve": "zoo"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f"srhw.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'srhw.models' has no attribute {name!r}")


__all__ = ["build", "canonical", "channels_of", "list_models", "parse", "resolve", "Spec", "PLACEMENTS", "SCALES", "SumProductConv2d", "freeze_all"]

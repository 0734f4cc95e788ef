"""The op counter: params, Mult-Adds and Table 5 mults/adds of zoo models, and the trade-off metrics."""

from importlib import import_module

# name -> module, imported on first use (PEP 562): the paper's tables (srhw.profile.paper) need no torch.
_LAZY = {**dict.fromkeys(("OpCount", "Tradeoff", "count_mult_adds", "count_ops", "count_params", "lr_size",
                          "meta_model", "tradeoff"), "counting"),
         **dict.fromkeys(("profile_row", "profile_table", "table5_row"), "rows")}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f"srhw.profile.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'srhw.profile' has no attribute {name!r}")


__all__ = [
    "OpCount", "Tradeoff", "count_mult_adds", "count_ops", "count_params", "lr_size", "meta_model", "tradeoff",
    "profile_row", "profile_table", "table5_row",
]

"""The op counter: params, Mult-Adds and Table 5 mults/adds of zoo models, and the trade-off metrics."""

from srhw.profile.counting import (
    OpCount, Tradeoff, count_mult_adds, count_ops, count_params, lr_size, meta_model, tradeoff,
)
from srhw.profile.rows import profile_row, profile_table, table5_row

__all__ = [
    "OpCount", "Tradeoff", "count_mult_adds", "count_ops", "count_params", "lr_size", "meta_model", "tradeoff",
    "profile_row", "profile_table", "table5_row",
]

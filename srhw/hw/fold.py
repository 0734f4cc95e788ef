"""The one folding search over a pipeline of blocks (FINN SetFolding-like).

A common target T of cycles per frame starts at `start`; `cost(block, T)` returns the cheapest cost of
that block meeting T (or None if it cannot); while the blocks' costs do not `fit`, T grows by GROWTH,
up to `limit` (the slowest folding anyone would take). Each caller supplies its own block cost model
(dataflow hls4ml blocks, RTL SP-layer lanes); the search and its growth are shared.
"""

GROWTH = 1.15  # the target grows 15 % per step: fine enough to balance blocks, few enough steps


def fold(blocks, cost, fits, start: int, limit: int, growth: float = GROWTH):
    """(costs, fits, T): the first target T >= start whose costs fit, else the costs at `limit` and False."""
    T = max(1, int(start))
    while True:
        costs = [cost(b, T) for b in blocks]
        if all(c is not None for c in costs) and fits(costs):
            return costs, True, T
        if T >= limit:
            return costs, False, T
        T = min(int(T * growth) + 1, int(limit))

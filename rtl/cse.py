"""Planning of multiplier-free constant ternary matrix-vector products y = W·x (pure Python).

The plan is a plain data structure (a DAG of 2-input add/sub nodes with value ranges, widths and
pipeline stages) so adder counts and latency are known without Amaranth; `rtl.adder_tree` turns it
into hardware.

Three steps, each a function:
1. `extract_pairs` — greedy pair common-subexpression elimination (CSE): the (term_i, term_j,
   relative sign) pair that occurs in the most rows is computed once as a new term and substituted
   in every row where it occurs with that relative sign; repeat while some pair occurs in >= 2 rows.
   This is the classic "most frequent pattern first" heuristic for multiple-constant multiplication
   (Hartley, "Subexpression sharing in filters using canonic signed digit multipliers", IEEE TCAS-II
   1996), restricted to ternary coefficients; shared/notes/stack.md measured it at ~0.34-0.47x of the
   naive adder count on random ternary matrices with density ~2/3.
2. `_combine_row` — each row's remaining terms are summed by a minimum-depth tree: the two shallowest
   partial sums are combined first (Huffman's algorithm with `max` in place of `+`), so the deepest
   CSE term sets the depth and shallow inputs never lengthen it.
3. `_schedule` — node level = 1 + max(operand levels); a register closes every `stage_every` levels.

Ranges are exact: every node is a ±1-weighted sum of distinct inputs (a pair is only ever formed from
two terms of one row, whose supports are disjoint), so interval arithmetic gives its true min/max.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from srhw.quant.fixedpoint import signed_bits

# Node operations. "in" is input x_j; "add"/"sub" are a+b / a-b; "neg" is 0-a (a row whose top-level
# terms are all negative needs one).
OPS = ("in", "add", "sub", "neg")


# The smallest two's-complement width holding every integer in [lo, hi]: the golden model's own function.
signed_width = signed_bits


@dataclass(frozen=True)
class Node:
    """One value of the DAG. `a`, `b` are operand node ids (-1 when unused); for "in", `a` = input index."""

    id: int
    op: str
    a: int
    b: int
    lo: int  # worst-case minimum of the node's value
    hi: int  # worst-case maximum
    level: int  # adder levels from the inputs (inputs: 0)
    stage: int  # pipeline stage whose combinational logic computes it (inputs: 0 = input register)

    @property
    def width(self) -> int:
        return signed_width(self.lo, self.hi)


@dataclass
class Plan:
    """A scheduled adder DAG for y = W·x.

    `outputs[i]` is the node id of row i's result, or None for an all-zero row (output 0).
    Timing contract (rtl.adder_tree): i_data is registered (cycle 1), stage s >= 1 ends with a register,
    outputs are aligned to the last stage, so `latency` = 1 + `stages` cycles from i_valid to o_valid.
    """

    m: int
    n: int
    in_bits: int
    stage_every: int
    nodes: list[Node]
    outputs: list[int | None]
    out_bits: int
    stages: int
    nnz: int
    nonzero_rows: int
    shared_terms: int  # nodes created by pair extraction (each is one adder)
    extra: dict = field(default_factory=dict)

    @property
    def latency(self) -> int:
        return 1 + self.stages

    @property
    def adders(self) -> int:
        """2-input add/sub operators, negations (0 - a) included."""
        return sum(1 for nd in self.nodes if nd.op != "in")

    @property
    def negs(self) -> int:
        return sum(1 for nd in self.nodes if nd.op == "neg")

    @property
    def naive_adders(self) -> int:
        """Adders of the unshared trees: nnz - 1 per nonzero row (negations not counted)."""
        return self.nnz - self.nonzero_rows

    @property
    def depth(self) -> int:
        return max((nd.level for nd in self.nodes), default=0)

    def register_bits(self) -> int:
        """Flip-flops of the pipeline as rtl.adder_tree builds it: each value read in a later stage is
        registered at the end of its own stage and delayed to the reading stage; inputs get the input
        register; outputs are aligned to the last stage; plus `latency` valid bits."""
        last = {}  # node -> last register time needed
        for nd in self.nodes:
            if nd.op == "in":
                continue
            for o in (nd.a, nd.b):
                if o < 0:
                    continue
                od = self.nodes[o]
                if od.op == "in" or od.stage != nd.stage:
                    last[o] = max(last.get(o, -1), nd.stage - 1)
        for o in self.outputs:
            if o is not None:
                last[o] = max(last.get(o, -1), self.stages)
        return self.latency + sum(self.nodes[o].width * (t - self.nodes[o].stage + 1) for o, t in last.items())

    def summary(self) -> dict:
        naive = self.naive_adders
        return {
            "m": self.m,
            "n": self.n,
            "in_bits": self.in_bits,
            "out_bits": self.out_bits,
            "stage_every": self.stage_every,
            "latency": self.latency,
            "depth": self.depth,
            "adders": self.adders,
            "negs": self.negs,
            "shared_terms": self.shared_terms,
            "nnz": self.nnz,
            "naive_adders": naive,
            "cse_ratio": round(self.adders / naive, 4) if naive else None,
            "register_bits": self.register_bits(),
        }


def check_weights(W) -> np.ndarray:
    """Return W as a 2-D int64 array with values in {-1, 0, +1}, or raise ValueError."""
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"weights must be 2-D (M x N), got shape {W.shape}")
    if W.shape[0] < 1 or W.shape[1] < 1:
        raise ValueError(f"weights must not be empty, got shape {W.shape}")
    if not (np.issubdtype(W.dtype, np.integer) or np.issubdtype(W.dtype, np.bool_)):
        if not np.issubdtype(W.dtype, np.floating) or not np.all(np.isfinite(W)) or np.any(W != np.round(W)):
            raise ValueError(f"weights must be integers, got dtype {W.dtype}")
    Wi = W.astype(np.int64)
    bad = ~np.isin(Wi, (-1, 0, 1))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"weights must be ternary {{-1, 0, 1}}, found {W[r, c]} at ({r}, {c})")
    return Wi


# -- 1. greedy pair extraction -------------------------------------------------------------------


# A pair key packs (a, b, rel) into one int, lower term id first, so dict lookups and heap compares
# are cheap: key = (a << 22 | b) << 1 | (rel < 0). 22 bits hold 4 M term ids (a 512x576 matrix makes
# ~62 k). Heap entries are -count << 45 | key: most frequent first, ties to the lowest (a, b, rel).
_ID_BITS = 22
_KEY_BITS = 2 * _ID_BITS + 1
_KEY_MASK = (1 << _KEY_BITS) - 1


def _key(a: int, b: int, rel: int) -> int:
    if a > b:
        a, b = b, a
    return (a << _ID_BITS | b) << 1 | (rel < 0)


def _unkey(k: int) -> tuple[int, int, int]:
    return k >> (_ID_BITS + 1), (k >> 1) & ((1 << _ID_BITS) - 1), -1 if k & 1 else 1


def extract_pairs(W: np.ndarray, min_count: int = 2):
    """Greedy pair CSE on the rows of ternary W.

    Returns (rows, terms): rows[i] is a dict {term id: sign} whose signed sum equals row i of W·x;
    term ids 0..N-1 are the inputs, and terms[t - N] = (a, b, rel) defines term t = a + rel*b.

    Bookkeeping: each term keeps two row bitmasks (rows where it appears with sign +1 / -1), so the
    true count of a pair is a popcount. A lazy max-heap holds upper bounds of pair counts: counts
    only grow when the pair's newer term is created (pushed then, exact), and only shrink afterwards,
    so a popped entry is re-checked and, if its count dropped, pushed back with the true count. The
    first entry whose bound is exact is the most frequent pair. Initial counts: two matrix products.
    """
    m, n = W.shape
    if n + m * n >= 1 << _ID_BITS:
        raise ValueError(f"matrix too large for pair keys ({m} x {n})")
    rows = [{int(j): int(W[i, j]) for j in np.flatnonzero(W[i])} for i in range(m)]
    pos = [0] * n  # bit i set: the term appears in row i with sign +1
    neg = [0] * n  # ... with sign -1
    for i, r in enumerate(rows):
        for j, s in r.items():
            if s > 0:
                pos[j] |= 1 << i
            else:
                neg[j] |= 1 << i
    P = (W == 1).astype(np.int64)
    Q = (W == -1).astype(np.int64)
    same = P.T @ P + Q.T @ Q  # (N, N): rows holding x_i, x_j with equal signs
    opp = P.T @ Q + Q.T @ P  # (N, N): ... with opposite signs
    heap = []
    for rel, C in ((1, same), (-1, opp)):
        ii, jj = np.nonzero(np.triu(C, 1) >= min_count)
        for a, b, c in zip(ii.tolist(), jj.tolist(), C[ii, jj].tolist()):
            heap.append((-c << _KEY_BITS) | _key(a, b, rel))
    heapq.heapify(heap)
    terms: list[tuple[int, int, int]] = []

    while heap:
        e = heapq.heappop(heap)
        k = e & _KEY_MASK
        a, b, rel = _unkey(k)
        # Rows where the pair occurs with this relative sign, split by the sign of `a` there.
        if rel > 0:
            ra_pos, ra_neg = pos[a] & pos[b], neg[a] & neg[b]
        else:
            ra_pos, ra_neg = pos[a] & neg[b], neg[a] & pos[b]
        c = (ra_pos | ra_neg).bit_count()
        if c != -(e >> _KEY_BITS):  # stale bound: re-queue with the true count
            if c >= min_count:
                heapq.heappush(heap, (-c << _KEY_BITS) | k)
            continue
        t = n + len(terms)
        terms.append((a, b, rel))
        pos.append(ra_pos)  # t = a + rel*b enters each row with a's sign there
        neg.append(ra_neg)
        hit = ra_pos | ra_neg
        pos[a] &= ~hit
        neg[a] &= ~hit
        pos[b] &= ~hit
        neg[b] &= ~hit
        new_counts: dict[int, int] = {}
        while hit:
            low = hit & -hit
            i = low.bit_length() - 1
            hit ^= low
            r = rows[i]
            sa = r.pop(a)
            del r[b]
            for x, sx in r.items():
                kk = (x << _ID_BITS | t) << 1 | (sa != sx)  # x < t: t is the newest term
                new_counts[kk] = new_counts.get(kk, 0) + 1
            r[t] = sa
        for kk, cnt in new_counts.items():
            if cnt >= min_count:
                heapq.heappush(heap, (-cnt << _KEY_BITS) | kk)
    return rows, terms


# -- 2./3. trees, ranges and schedule ------------------------------------------------------------


class _Builder:
    """Accumulates nodes with exact ranges and levels (stages are assigned afterwards)."""

    def __init__(self, n: int, in_bits: int):
        lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
        self.ops: list[tuple[str, int, int]] = [("in", j, -1) for j in range(n)]
        self.lo = [lo] * n
        self.hi = [hi] * n
        self.level = [0] * n

    def add(self, op: str, a: int, b: int = -1) -> int:
        if op == "add":
            lo, hi = self.lo[a] + self.lo[b], self.hi[a] + self.hi[b]
        elif op == "sub":
            lo, hi = self.lo[a] - self.hi[b], self.hi[a] - self.lo[b]
        elif op == "neg":
            lo, hi = -self.hi[a], -self.lo[a]
        else:
            raise ValueError(op)
        lvl = 1 + max(self.level[a], self.level[b] if b >= 0 else 0)
        self.ops.append((op, a, b))
        self.lo.append(lo)
        self.hi.append(hi)
        self.level.append(lvl)
        return len(self.ops) - 1


def _combine_row(bld: _Builder, terms: dict[int, int]) -> int | None:
    """Sum the signed terms {node: sign} of one row with a minimum-depth tree; return its node id."""
    if not terms:
        return None
    # Heap of (level, sequence, node, sign); the sequence number keeps ties deterministic.
    heap = [(bld.level[nd], k, nd, s) for k, (nd, s) in enumerate(sorted(terms.items()))]
    heapq.heapify(heap)
    seq = len(heap)
    while len(heap) > 1:
        _, _, p, sp = heapq.heappop(heap)
        _, _, q, sq = heapq.heappop(heap)
        if sp == sq:  # (+p)+(+q) or -(p+q)
            nd, s = bld.add("add", p, q), sp
        elif sp > 0:  # p - q
            nd, s = bld.add("sub", p, q), 1
        else:  # q - p
            nd, s = bld.add("sub", q, p), 1
        heapq.heappush(heap, (bld.level[nd], seq, nd, s))
        seq += 1
    _, _, nd, s = heap[0]
    return nd if s > 0 else bld.add("neg", nd)


def plan_adder_tree(W, in_bits: int, stage_every: int = 2, cse: bool = True) -> Plan:
    """Plan y = W·x for ternary W (M x N) and signed `in_bits`-bit inputs.

    `stage_every` = k adder levels per pipeline register. `cse=False` gives the naive per-row trees
    (zero weights still pruned), useful as a baseline.
    """
    W = check_weights(W)
    if in_bits < 2:
        raise ValueError(f"in_bits must be >= 2, got {in_bits}")
    if stage_every < 1:
        raise ValueError(f"stage_every must be >= 1, got {stage_every}")
    m, n = W.shape
    if cse:
        rows, terms = extract_pairs(W)
    else:
        rows = [{int(j): int(W[i, j]) for j in np.flatnonzero(W[i])} for i in range(m)]
        terms = []
    bld = _Builder(n, in_bits)
    # Shared terms in creation order: operands always precede them, so ids stay topological.
    for a, b, rel in terms:
        bld.add("add" if rel > 0 else "sub", a, b)
    outputs = [_combine_row(bld, r) for r in rows]

    k = stage_every
    nodes = [
        Node(i, op, a, b, bld.lo[i], bld.hi[i], bld.level[i], -(-bld.level[i] // k))
        for i, (op, a, b) in enumerate(bld.ops)
    ]
    # Worst-case output range over all rows (an all-zero row contributes 0).
    lo = min([nodes[o].lo for o in outputs if o is not None] + [0])
    hi = max([nodes[o].hi for o in outputs if o is not None] + [0])
    stages = max((nd.stage for nd in nodes), default=0)
    nnz = int(np.count_nonzero(W))
    return Plan(
        m=m,
        n=n,
        in_bits=in_bits,
        stage_every=k,
        nodes=nodes,
        outputs=outputs,
        out_bits=signed_width(lo, hi),
        stages=stages,
        nnz=nnz,
        nonzero_rows=int(np.count_nonzero(np.any(W != 0, axis=1))),
        shared_terms=len(terms),
    )


def evaluate_plan(plan: Plan, X) -> np.ndarray:
    """Evaluate the DAG on input vectors X (K x N) with int64 numpy; returns (K x M).

    Also asserts that every node value lies in its planned [lo, hi] (the width contract).
    """
    X = np.asarray(X, dtype=np.int64)
    vals: list[np.ndarray] = []
    for nd in plan.nodes:
        if nd.op == "in":
            v = X[:, nd.a]
        elif nd.op == "add":
            v = vals[nd.a] + vals[nd.b]
        elif nd.op == "sub":
            v = vals[nd.a] - vals[nd.b]
        else:
            v = -vals[nd.a]
        if v.size and (v.min() < nd.lo or v.max() > nd.hi):
            raise AssertionError(f"node {nd.id} out of its range [{nd.lo}, {nd.hi}]")
        vals.append(v)
    out = np.zeros((X.shape[0], plan.m), dtype=np.int64)
    for i, o in enumerate(plan.outputs):
        if o is not None:
            out[:, i] = vals[o]
    return out

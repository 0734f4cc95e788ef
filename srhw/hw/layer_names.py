"""One name per layer in every report table: the golden graph's node name (srhw.quant graph.json).

The backends name layers their own way: the dataflow estimate and the RTL fit by torch module path
(`body.0.body.0.body.0`, a channel attention's inner convs `...body.3.attention.1`), the layer-sequential
engine by descriptor label (`body_0_body_0_body_3+add` when it fuses a channel attention with its residual
add, `cat[1]` for a concat's second input). HLS/RTL identifiers are node names, so the report uses them: a row
gets `name` = the node, `module` = its torch module path (where it has one; for a channel attention's inner
conv, that conv's own path) and, when one row covers several nodes, `nodes` = all of them in program order.
"""

import re


class LayerNames:
    """Resolves any backend's layer label to golden nodes of one graph (duck-typed: .nodes with .name, .attrs)."""

    def __init__(self, graph):
        self.order = [n.name for n in graph.nodes]
        self.module = {n.name: n.attrs.get("module") for n in graph.nodes}
        self.by_module = {m: n for n, m in self.module.items() if m}

    def nodes_of(self, label: str) -> list[str]:
        """The golden nodes a label stands for ([] when it names none of them)."""
        if label in self.module:
            return [label]
        if label in self.by_module:
            return [self.by_module[label]]
        parent = max((m for m in self.by_module if label.startswith(m + ".")), key=len, default=None)
        if parent is not None:  # a submodule (a CA's attention convs) belongs to its module's node
            return [self.by_module[parent]]
        parts = [re.sub(r"\[\d+\]$", "", p.strip()) for p in label.split("+")]  # engine: fused "a+b", "a[j]"
        if len(parts) > 1 or parts[0] != label:
            found = [n for p in parts for n in self.nodes_of(p)]
            return found if len(found) == len(parts) else []
        return []

    def node(self, label: str | None) -> str | None:
        """The first golden node of a label (the label itself when it resolves to none, so nothing is lost)."""
        if label is None:
            return None
        found = self.nodes_of(label)
        return found[0] if found else label

    def row(self, row: dict) -> dict:
        """`row` with name = its golden node, module = its torch module path, nodes = every node it covers."""
        label = row["name"]
        found = self.nodes_of(label)
        if not found:
            return dict(row)
        is_module = label not in self.module and "+" not in label and "[" not in label
        out = {**row, "name": found[0], "module": label if is_module else self.module.get(found[0])}
        if len(found) > 1:
            out["nodes"] = found
        return out

    def rows(self, rows: list | None) -> list | None:
        return None if rows is None else [self.row(r) for r in rows]

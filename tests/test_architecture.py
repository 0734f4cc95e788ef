"""The layering of srhw/, rtl/ and sim/, read from the source: no import cycle, no arrow the README forbids.

The import graph comes from the AST of every module (imports inside functions included), so a lazy
import cannot hide an arrow. The rules are the README's "Architecture" table: each folder lists what it
may import; an arrow to anything else, or any cycle between modules, fails. `check` is a pure function
of a graph, tested below on synthetic graphs so that this test is known to be able to fail.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# layer -> the layers it may import directly (the README's table); what those may import is allowed too.
MAY_IMPORT = {
    "core": set(),
    "models": {"core"},
    "data": {"core"},
    "profile": {"models", "core"},
    "train": {"models", "data", "core"},
    "quant": {"models", "profile", "data", "train", "core"},
    "hw": {"core", "quant.graph"},  # the integer graph description only, never a backend
    "eval": {"core", "models", "data", "profile", "train", "quant", "hw"},  # anything below the backends
    "export": {"hw", "quant", "core"},
    "rtl": {"hw", "quant", "core"},
    "flows": {"core", "models", "data", "profile", "train", "quant", "hw", "eval", "export", "rtl"},
    "cli": {"core", "models", "data", "profile", "train", "quant", "hw", "eval", "export", "rtl", "flows"},
    "sim": {"rtl"},
}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to; None for modules outside the checked tree."""
    parts = module.split(".")
    if parts[0] == "sim":
        return "sim"
    if parts[0] == "rtl":
        return "rtl"
    if parts[0] != "srhw":
        return None
    if len(parts) == 1 or parts[1] in ("__main__", "cli"):
        return "cli"
    if parts[1] == "quant" and parts[2:3] == ["graph"]:
        return "quant.graph"
    return parts[1]


def _closure() -> dict[str, set[str]]:
    """MAY_IMPORT made transitive; quant.graph is part of quant (hw may import it, nothing more of quant)."""
    out = {}
    for layer in MAY_IMPORT:
        seen, todo = set(), list(MAY_IMPORT[layer])
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            todo.extend(MAY_IMPORT.get(x, ()))
        seen.add(layer)
        if "quant" in seen:
            seen.add("quant.graph")
        out[layer] = seen
    out["quant.graph"] = out["quant"]
    return out


def check(graph: dict[str, set[str]], known=frozenset()) -> list[str]:
    """Every violation of `graph` (module -> modules it imports): forbidden arrows and cycles, as sentences.
    `known`: (importer, imported) edges to let pass while a refactor on another branch removes them."""
    allowed = _closure()
    problems = []
    for src, dsts in sorted(graph.items()):
        a = layer_of(src)
        for dst in sorted(dsts):
            b = layer_of(dst)
            if a is None or b is None or (src, dst) in known:
                continue
            if b not in allowed[a]:
                problems.append(f"forbidden arrow {src} -> {dst} ({a} may not import {b})")
    for scc in _cycles({s: {d for d in ds if d in graph and (s, d) not in known} for s, ds in graph.items()}):
        problems.append("import cycle: " + " -> ".join(scc))
    return problems


def _cycles(graph):
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(roots=("srhw", "rtl", "sim"), root: Path = ROOT) -> dict[str, set[str]]:
    """module -> modules of the checked tree it imports (anywhere in the file). `from P import name` is an
    arrow to P.name when that is a module, else to P. pytest files under sim/ are tests, not benches."""
    files = [p for r in roots for p in (root / r).rglob("*.py")
             if not (p.parts[-2] == "sim" and p.name.startswith("test_"))]
    modules = {module_name(p, root): p for p in files}
    graph = {}
    for mod, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import: resolve against this module's package
                    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
                    base = ".".join(pkg[: len(pkg) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module
                for a in node.names:
                    deps.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
        graph[mod] = {d for d in deps if d in modules and d != mod}
    return graph


def test_the_import_graph_holds_the_layering():
    graph = import_graph()
    assert "srhw.hw.roofline" in graph and "rtl.cost" in graph  # the walk sees the tree it is meant to
    problems = check(graph)
    assert not problems, "\n".join(problems)


def test_lazy_imports_are_read():
    graph = import_graph()
    # srhw.cli.rtl_verify imports rtl.sweep only inside a function, srhw.flows.build rtl likewise: the walk sees both
    assert "rtl.sweep" in graph["srhw.cli.rtl_verify"] and "rtl" in graph["srhw.flows.build"]


@pytest.mark.parametrize("src,dst,layer", [
    ("srhw.quant.int8", "srhw.export.tflite", "export"),  # the golden package importing a backend
    ("rtl.cost", "srhw.export.estimate", "export"),  # one backend importing the other
    ("srhw.core.io", "srhw.models.zoo", "models"),  # core importing anything of srhw
    ("srhw.hw.roofline", "srhw.quant.golden", "quant"),  # hw may see the graph description only
    ("srhw.train.loop", "srhw.eval.evaluate", "eval"),
    ("sim.stream", "srhw.export.hls", "export"),
])
def test_check_rejects_a_forbidden_arrow(src, dst, layer):
    problems = check({src: {dst}, dst: set()})
    assert len(problems) == 1 and "forbidden arrow" in problems[0] and f"may not import {layer}" in problems[0]


def test_check_rejects_a_cycle_and_accepts_a_clean_graph():
    cyc = {"srhw.export.a": {"srhw.export.b"}, "srhw.export.b": {"srhw.export.c"}, "srhw.export.c": {"srhw.export.a"}}
    assert check(cyc) == ["import cycle: srhw.export.a -> srhw.export.b -> srhw.export.c"]
    assert check(cyc, known={("srhw.export.c", "srhw.export.a")}) == []
    clean = {"srhw.cli.build": {"srhw.flows.build"}, "srhw.flows.build": {"srhw.export.hls", "rtl.cost"},
             "srhw.export.hls": {"srhw.hw.roofline", "srhw.quant.golden"}, "rtl.cost": {"srhw.hw.fold"},
             "srhw.hw.roofline": {"srhw.quant.graph", "srhw.core.errors"}, "srhw.hw.fold": set(),
             "srhw.quant.golden": {"srhw.quant.graph"}, "srhw.quant.graph": {"srhw.core.io"}, "srhw.core.io": set()}
    assert check(clean) == []


def test_check_on_a_tmp_copy_with_an_added_forbidden_import(tmp_path):
    """The whole pipeline (files -> AST -> graph -> rule) fails when a module gains a forbidden lazy import."""
    import shutil

    for r in ("srhw", "rtl", "sim"):
        shutil.copytree(ROOT / r, tmp_path / r, ignore=shutil.ignore_patterns("__pycache__"))
    f = tmp_path / "srhw" / "quant" / "graph.py"
    f.write_text(f.read_text() + "\n\ndef _late():\n    from rtl.cost import block_cost  # noqa\n")
    problems = check(import_graph(root=tmp_path))
    assert "forbidden arrow srhw.quant.graph -> rtl.cost (quant.graph may not import rtl)" in problems

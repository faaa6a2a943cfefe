"""Text forms of a DAG for `tree-of` (butido-reference.md §12.1): tree, DOT, serial build order,
and a JSON-ready dict.

The tree prints children in declaration order (build dependencies first, marked `*`). A shared
dependency's sub-tree is printed in full the first time only; later occurrences end in ` (*)`
(as `cargo tree` does), so the output stays linear in the size of the DAG where butido's grew
exponentially with repeated diamonds.
"""

from __future__ import annotations

from dataclasses import dataclass

from butido_py.package.model import DependencyKind, Package
from butido_py.plan.dag import Dag, DagEdge, PackageKey

REPEATED_MARK = " (*)"


@dataclass(frozen=True, slots=True)
class _Line:
    edge: DagEdge
    prefix: str
    last: bool


def render_tree(dag: Dag) -> list[str]:
    lines = [str(dag.root)]
    expanded: set[PackageKey] = {dag.root.key}
    stack = _children(dag, dag.root, "")
    while stack:
        item = stack.pop()
        package = item.edge.dependency
        mark = "*" if item.edge.kind is DependencyKind.BUILD else ""
        branch = "└─ " if item.last else "├─ "
        repeated = package.key in expanded and bool(dag.dependencies_of(package))
        suffix = REPEATED_MARK if repeated else ""
        lines.append(f"{item.prefix}{branch}{mark}{package}{suffix}")
        if repeated:
            continue
        expanded.add(package.key)
        stack.extend(_children(dag, package, item.prefix + ("   " if item.last else "│  ")))
    return lines


def _children(dag: Dag, package: Package, prefix: str) -> list[_Line]:
    """The lines of `package`'s children, last child first (a stack pops the first one first)."""
    edges = dag.dependencies_of(package)
    return [_Line(edge, prefix, index == len(edges) - 1) for index, edge in enumerate(edges)][::-1]


def render_dot(dag: Dag) -> list[str]:
    ids = {package.key: index for index, package in enumerate(dag.nodes)}
    lines = ["digraph {"]
    lines += [f'    {ids[p.key]} [ label = "{_dot_escape(str(p))}" ]' for p in dag.nodes]
    for edge in dag.edges:
        style = ' [ style = "dotted" ]' if edge.kind is DependencyKind.BUILD else ""
        lines.append(f"    {ids[edge.dependent.key]} -> {ids[edge.dependency.key]}{style}")
    lines.append("}")
    return lines


def render_build_order(dag: Dag) -> list[str]:
    """One package per line, dependencies first; `*` marks build dependencies."""
    return [
        f"{'*' if dag.is_build_dependency(package) else ''}{package}"
        for package in dag.topological_order()
    ]


def dag_json(dag: Dag) -> dict[str, object]:
    return {
        "root": _ref(dag.root),
        "image": dag.image,
        "env": dict(dag.env),
        "nodes": [{**_ref(p), "pkg_toml": p.pkg_toml} for p in dag.nodes],
        "edges": [
            {"from": _ref(e.dependent), "to": _ref(e.dependency), "kind": str(e.kind)}
            for e in dag.edges
        ],
        "build_order": [
            {**_ref(p), "build_dependency": dag.is_build_dependency(p)}
            for p in dag.topological_order()
        ],
    }


def _ref(package: Package) -> dict[str, str]:
    return {"name": package.name, "version": package.version}


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

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
from butido_py.plan.dag import Dag, PackageKey
from butido_py.plan.tree import TreeRow, draw_tree

REPEATED_MARK = " (*)"


def render_tree(dag: Dag) -> list[str]:
    rows = draw_tree([_Node(dag.root, None)], lambda node: _children(dag, node), _key)
    return [_line(dag, row) for row in rows]


@dataclass(frozen=True, slots=True)
class _Node:
    package: Package
    #: How its parent depends on it (None for the root).
    kind: DependencyKind | None


def _children(dag: Dag, node: _Node) -> list[_Node]:
    return [_Node(edge.dependency, edge.kind) for edge in dag.dependencies_of(node.package)]


def _key(node: _Node) -> PackageKey:
    return node.package.key


def _line(dag: Dag, row: TreeRow[_Node]) -> str:
    package = row.node.package
    mark = "*" if row.node.kind is DependencyKind.BUILD else ""
    # A repeated leaf is shown plainly: there is no sub-tree to point back to.
    repeated = row.repeated and bool(dag.dependencies_of(package))
    return f"{row.prefix}{mark}{package}{REPEATED_MARK if repeated else ''}"


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

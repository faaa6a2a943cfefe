"""The one tree drawer: `tree-of` draws a package DAG with it, `db submit` a submit's jobs.

A DAG is drawn depth first as a tree with `├─ `/`└─ ` branches. A node reached again is drawn as
one row marked `repeated` and not expanded a second time, so the rows stay as many as nodes plus
edges however interwoven the DAG is (butido's output grew exponentially with repeated diamonds).
A stack, not recursion: plans can be deeper than Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

N = TypeVar("N")

_INNER = {"": "", "├─ ": "│  ", "└─ ": "   "}


@dataclass(frozen=True, slots=True)
class TreeRow(Generic[N]):
    node: N
    #: The drawing before the node's label: indentation and branch, e.g. `│  └─ `.
    prefix: str
    #: The node was drawn (and expanded) further up; this row is not expanded.
    repeated: bool


def draw_tree(
    roots: Sequence[N],
    children: Callable[[N], Sequence[N]],
    key: Callable[[N], Hashable],
) -> list[TreeRow[N]]:
    """Rows of the trees below `roots`, children in the order `children` gives them."""
    rows: list[TreeRow[N]] = []
    drawn: set[Hashable] = set()
    # (node, indentation of its row, branch drawn before it)
    stack: list[tuple[N, str, str]] = [(root, "", "") for root in reversed(roots)]
    while stack:
        node, indent, branch = stack.pop()
        if key(node) in drawn:
            rows.append(TreeRow(node, indent + branch, repeated=True))
            continue
        drawn.add(key(node))
        rows.append(TreeRow(node, indent + branch, repeated=False))
        below = children(node)
        inner = indent + _INNER[branch]
        last = len(below) - 1
        stack.extend(
            (child, inner, "└─ " if index == last else "├─ ")
            for index, child in reversed(list(enumerate(below)))
        )
    return rows

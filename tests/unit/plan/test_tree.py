"""The one tree drawer: branches, repeated nodes, several roots, deep chains."""

from __future__ import annotations

from butido_py.plan.tree import draw_tree

DIAMOND = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": [], "e": []}


def drawn(roots: list[str], graph: dict[str, list[str]]) -> list[str]:
    rows = draw_tree(roots, graph.__getitem__, lambda node: node)
    return [f"{row.prefix}{row.node}{' (again)' if row.repeated else ''}" for row in rows]


def test_a_shared_node_is_expanded_once_and_marked_repeated_elsewhere() -> None:
    assert drawn(["a", "e"], DIAMOND) == [
        "a",
        "├─ b",
        "│  └─ d",
        "└─ c",
        "   └─ d (again)",
        "e",
    ]


def test_a_chain_deeper_than_the_recursion_limit_is_drawn() -> None:
    chain = {str(n): [str(n + 1)] for n in range(5000)} | {"5000": []}
    rows = draw_tree(["0"], chain.__getitem__, lambda node: node)
    assert len(rows) == 5001
    assert rows[-1].prefix == "   " * 4999 + "└─ "

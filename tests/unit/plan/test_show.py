from __future__ import annotations

from butido_py.plan import build_dag
from butido_py.plan.show import dag_json, render_build_order, render_dot, render_tree
from tests.unit.plan.test_dag import get, pkg, repo

# a needs b (build) and c; b and c need d; d needs e: d's sub-tree is shared.
REPO = repo(
    pkg("a", "1", build=["b 1"], runtime=["c 1"]),
    pkg("b", "1", runtime=["d 1"]),
    pkg("c", "1", runtime=["d 1", "e 1"]),
    pkg("d", "1", runtime=["e 1"]),
    pkg("e", "1"),
)
DAG = build_dag(REPO, get(REPO, "a", "1"))


def test_tree_prints_a_shared_sub_tree_once() -> None:
    assert render_tree(DAG) == [
        "a 1",
        "├─ *b 1",
        "│  └─ d 1",
        "│     └─ e 1",
        "└─ c 1",
        "   ├─ d 1 (*)",
        "   └─ e 1",
    ]


def test_dot_numbers_nodes_in_discovery_order_and_dots_build_edges() -> None:
    assert render_dot(DAG) == [
        "digraph {",
        '    0 [ label = "a 1" ]',
        '    1 [ label = "b 1" ]',
        '    2 [ label = "d 1" ]',
        '    3 [ label = "e 1" ]',
        '    4 [ label = "c 1" ]',
        '    0 -> 1 [ style = "dotted" ]',
        "    0 -> 4",
        "    1 -> 2",
        "    2 -> 3",
        "    4 -> 2",
        "    4 -> 3",
        "}",
    ]


def test_dot_escapes_quotes() -> None:
    odd = repo(pkg("q", '1"x'))
    assert '    0 [ label = "q 1\\"x" ]' in render_dot(build_dag(odd, odd.packages[0]))


def test_build_order_marks_build_dependencies() -> None:
    assert render_build_order(DAG) == ["e 1", "d 1", "*b 1", "c 1", "a 1"]


def test_json_lists_nodes_edges_and_order() -> None:
    data = dag_json(DAG)
    assert data["root"] == {"name": "a", "version": "1"}
    assert len(data["edges"]) == 6  # type: ignore[arg-type]
    assert data["build_order"][2] == {  # type: ignore[index]
        "name": "b",
        "version": "1",
        "build_dependency": True,
    }


def test_a_deep_chain_renders_without_recursion() -> None:
    chain = repo(*[pkg("p", str(i), runtime=[f"p {i + 1}"]) for i in range(3000)], pkg("p", "3000"))
    lines = render_tree(build_dag(chain, get(chain, "p", "0")))
    assert len(lines) == 3001
    assert lines[-1].endswith("└─ p 3000")

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from butido_py.errors import RepositoryError
from butido_py.package.dependency import parse_dependency
from butido_py.package.model import DependencyKind, Package
from butido_py.plan import build_dag
from butido_py.repository.model import Repository


def pkg(
    name: str, version: str, build: Sequence[object] = (), runtime: Sequence[object] = ()
) -> Package:
    return Package(
        name=name,
        version=version,
        version_is_semver=False,
        sources=(),
        build_dependencies=tuple(parse_dependency(d, DependencyKind.BUILD) for d in build),
        runtime_dependencies=tuple(parse_dependency(d, DependencyKind.RUNTIME) for d in runtime),
        patches=(),
        phases=(),
        pkg_toml=f"{name}/{version}/pkg.toml",
    )


def repo(*packages: Package) -> Repository:
    return Repository(
        root=Path("/repo"), commit="0" * 40, commit_time=0, dirty=False, packages=packages
    )


def get(repository: Repository, name: str, version: str) -> Package:
    package = repository.find(name, version)
    assert package is not None
    return package


def names(packages: tuple[Package, ...]) -> list[str]:
    return [str(p) for p in packages]


DIAMOND = repo(
    pkg("top", "1", build=["tool 1"], runtime=["left 1", "right 1", "left =1"]),
    pkg("left", "1", runtime=["base 1"]),
    pkg("right", "1", runtime=["base 1"]),
    pkg("base", "1"),
    pkg("tool", "1"),
    pkg("unrelated", "1"),
)


def test_nodes_are_discovered_depth_first_build_dependencies_first() -> None:
    dag = build_dag(DIAMOND, DIAMOND.packages[0])
    assert names(dag.nodes) == ["top 1", "tool 1", "left 1", "base 1", "right 1"]


def test_shared_dependencies_are_one_node_and_duplicates_are_dropped() -> None:
    dag = build_dag(DIAMOND, DIAMOND.packages[0])
    top = DIAMOND.packages[0]
    assert [(str(e.dependency), e.kind) for e in dag.dependencies_of(top)] == [
        ("tool 1", DependencyKind.BUILD),
        ("left 1", DependencyKind.RUNTIME),
        ("right 1", DependencyKind.RUNTIME),
    ]
    base = DIAMOND.find("base", "1")
    assert base is not None
    assert sorted(str(e.dependent) for e in dag.dependents_of(base)) == ["left 1", "right 1"]
    assert len(dag.edges) == 5


def test_topological_order_puts_dependencies_first() -> None:
    dag = build_dag(DIAMOND, DIAMOND.packages[0])
    order = names(dag.topological_order())
    assert order[-1] == "top 1"
    assert order.index("base 1") < order.index("left 1") < order.index("top 1")
    assert order.index("base 1") < order.index("right 1")
    assert sorted(order) == sorted(names(dag.nodes))


def test_transitive_dependencies_and_build_marks() -> None:
    dag = build_dag(DIAMOND, DIAMOND.packages[0])
    left = DIAMOND.find("left", "1")
    tool = DIAMOND.find("tool", "1")
    assert left is not None
    assert tool is not None
    assert names(dag.transitive_dependencies(left)) == ["base 1"]
    assert set(names(dag.transitive_dependencies(DIAMOND.packages[0]))) == {
        "tool 1",
        "left 1",
        "right 1",
        "base 1",
    }
    assert dag.is_build_dependency(tool)
    assert not dag.is_build_dependency(left)
    assert dag.dependency_map()[("left", "1")] == frozenset({("base", "1")})


def test_conditions_use_env_and_image() -> None:
    root = pkg(
        "app",
        "1",
        runtime=[
            {"name": "ssl 1", "condition": {"has_env": "TLS"}},
            {"name": "deb 1", "condition": {"in_image": "debian:bookworm"}},
            {"name": "fast 1", "condition": {"env_eq": {"MODE": "fast"}}},
        ],
    )
    repository = repo(root, pkg("ssl", "1"), pkg("deb", "1"), pkg("fast", "1"))
    assert names(build_dag(repository, root).nodes) == ["app 1"]
    dag = build_dag(repository, root, image="debian:bookworm", env=[("TLS", ""), ("MODE", "fast")])
    assert names(dag.nodes) == ["app 1", "ssl 1", "deb 1", "fast 1"]
    assert dag.env == (("TLS", ""), ("MODE", "fast"))
    assert dag.image == "debian:bookworm"


def test_a_dropped_conditional_dependency_may_be_missing() -> None:
    root = pkg("app", "1", runtime=[{"name": "gone 1", "condition": {"has_env": "X"}}])
    assert names(build_dag(repo(root), root).nodes) == ["app 1"]


def test_missing_dependency_names_the_package_that_wants_it() -> None:
    repository = repo(pkg("a", "1", runtime=["b 2"]), pkg("b", "1"), pkg("b", "3"))
    with pytest.raises(RepositoryError, match=r"a 1 \(a/1/pkg.toml\) depends on b 2") as error:
        build_dag(repository, repository.packages[0])
    assert error.value.hint == "versions of b in the repository: 1, 3"


def test_cycle_is_printed_as_a_path() -> None:
    repository = repo(
        pkg("a", "1", runtime=["b 2"]), pkg("b", "2", build=["c 3"]), pkg("c", "3", runtime=["a 1"])
    )
    with pytest.raises(RepositoryError, match=r"^dependency cycle: a 1 -> b 2 -> c 3 -> a 1$"):
        build_dag(repository, get(repository, "a", "1"))
    with pytest.raises(RepositoryError, match=r"cycle: b 2 -> c 3 -> a 1 -> b 2$"):
        build_dag(repository, get(repository, "b", "2"))


def test_cycle_below_the_root() -> None:
    repository = repo(
        pkg("root", "1", runtime=["x 1"]),
        pkg("x", "1", runtime=["y 1"]),
        pkg("y", "1", runtime=["x 1"]),
    )
    with pytest.raises(RepositoryError, match=r"cycle: x 1 -> y 1 -> x 1$"):
        build_dag(repository, repository.packages[0])


def test_self_dependency_is_a_cycle() -> None:
    repository = repo(pkg("a", "1", runtime=["a 1"]))
    with pytest.raises(RepositoryError, match=r"cycle: a 1 -> a 1$"):
        build_dag(repository, repository.packages[0])


def test_a_deep_chain_does_not_hit_the_recursion_limit() -> None:
    depth = 5000
    chain = [pkg("p", str(i), runtime=[f"p {i + 1}"]) for i in range(depth)] + [
        pkg("p", str(depth))
    ]
    repository = repo(*chain)
    dag = build_dag(repository, get(repository, "p", "0"))
    assert len(dag.nodes) == depth + 1
    assert str(dag.topological_order()[0]) == f"p {depth}"

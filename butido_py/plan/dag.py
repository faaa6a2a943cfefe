"""The dependency DAG of one root package (butido-reference.md §2.5).

Nodes are packages (each once, shared sub-trees are one node), discovered depth-first from the
root: for each package its build dependencies, then its runtime dependencies, in declaration
order, conditions applied (the condition env is the `-E` variables, `in_image` the full image
name), duplicate entries dropped. Dependencies are exact (name, version) matches. A missing
dependency names the package that wants it; a cycle is printed as `a 1 -> b 2 -> a 1`.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

from butido_py.errors import RepositoryError
from butido_py.package.condition import condition_applies
from butido_py.package.model import Dependency, DependencyKind, Package

PackageKey = tuple[str, str]


class PackageLookup(Protocol):
    """What the DAG needs from a repository (`butido_py.repository.model.Repository` fits)."""

    def find(self, name: str, version: str) -> Package | None: ...

    def versions_of(self, name: str) -> list[Package]: ...


@dataclass(frozen=True, slots=True)
class DagEdge:
    dependent: Package
    dependency: Package
    kind: DependencyKind


@dataclass(frozen=True, slots=True)
class Dag:
    root: Package
    #: Full image name the conditions were evaluated for (None: `in_image` is false).
    image: str | None
    env: tuple[tuple[str, str], ...]
    #: Every package once, in depth-first discovery order (the root first).
    nodes: tuple[Package, ...]
    #: dependent → dependency, grouped by dependent, in declaration order.
    edges: tuple[DagEdge, ...]
    _out: dict[PackageKey, list[DagEdge]] = field(init=False, repr=False, compare=False)
    _in: dict[PackageKey, list[DagEdge]] = field(init=False, repr=False, compare=False)
    _order: list[Package] = field(init=False, repr=False, compare=False, default_factory=list)

    def __post_init__(self) -> None:
        outgoing: dict[PackageKey, list[DagEdge]] = {n.key: [] for n in self.nodes}
        incoming: dict[PackageKey, list[DagEdge]] = {n.key: [] for n in self.nodes}
        for edge in self.edges:
            outgoing[edge.dependent.key].append(edge)
            incoming[edge.dependency.key].append(edge)
        object.__setattr__(self, "_out", outgoing)
        object.__setattr__(self, "_in", incoming)

    def dependencies_of(self, package: Package) -> tuple[DagEdge, ...]:
        """The direct dependencies, build ones first, in declaration order."""
        return tuple(self._out[package.key])

    def dependents_of(self, package: Package) -> tuple[DagEdge, ...]:
        return tuple(self._in[package.key])

    def is_build_dependency(self, package: Package) -> bool:
        """True when some package of the DAG needs `package` as a build dependency."""
        return any(edge.kind is DependencyKind.BUILD for edge in self._in[package.key])

    def dependency_map(self) -> dict[PackageKey, frozenset[PackageKey]]:
        """node → the nodes it needs (the shape `DagRunner` takes)."""
        return {key: frozenset(e.dependency.key for e in edges) for key, edges in self._out.items()}

    def topological_order(self) -> tuple[Package, ...]:
        """Every package after all of its dependencies (the root last); computed once."""
        if not self._order:
            by_key = {n.key: n for n in self.nodes}
            order = _sorter(self.dependency_map()).static_order()
            self._order.extend(by_key[key] for key in order)
        return tuple(self._order)

    def transitive_dependencies(self, package: Package) -> tuple[Package, ...]:
        """Everything `package` needs directly or indirectly, in topological order."""
        seen: set[PackageKey] = set()
        stack = [package.key]
        while stack:
            for edge in self._out[stack.pop()]:
                if edge.dependency.key not in seen:
                    seen.add(edge.dependency.key)
                    stack.append(edge.dependency.key)
        return tuple(p for p in self.topological_order() if p.key in seen)


def build_dag(
    lookup: PackageLookup,
    root: Package,
    *,
    image: str | None = None,
    env: Iterable[tuple[str, str]] = (),
) -> Dag:
    env_pairs = tuple(env)
    env_map = dict(env_pairs)
    nodes: dict[PackageKey, Package] = {root.key: root}
    edges: list[DagEdge] = []
    # Iterative depth-first search (deep chains must not hit the recursion limit); a dependency
    # that is still on the stack closes a cycle.
    stack = [_Visit(root, iter(_applicable(root, env_map, image)))]
    on_stack = {root.key: 0}
    while stack:
        visit = stack[-1]
        dependency = next(visit.pending, None)
        if dependency is None:
            del on_stack[stack.pop().package.key]
            continue
        target = _resolve(lookup, visit.package, dependency)
        key = target.key
        if key in on_stack:
            _raise_cycle([v.package for v in stack[on_stack[key] :]])
        edges.append(DagEdge(visit.package, target, dependency.kind))
        if key not in nodes:
            nodes[key] = target
            on_stack[key] = len(stack)
            stack.append(_Visit(target, iter(_applicable(target, env_map, image))))
    return Dag(root, image, env_pairs, tuple(nodes.values()), _grouped(nodes, edges))


@dataclass(slots=True)
class _Visit:
    package: Package
    pending: Iterator[Dependency]


def _applicable(package: Package, env: Mapping[str, str], image: str | None) -> list[Dependency]:
    unique: dict[PackageKey, Dependency] = {}
    for dependency in package.dependencies:
        key = (dependency.name, dependency.version)
        if key not in unique and condition_applies(dependency.condition, env, image):
            unique[key] = dependency
    return list(unique.values())


def _resolve(lookup: PackageLookup, package: Package, dependency: Dependency) -> Package:
    found = lookup.find(dependency.name, dependency.version)
    if found is not None:
        return found
    known = [p.version for p in lookup.versions_of(dependency.name)]
    hint = (
        f"versions of {dependency.name} in the repository: {', '.join(known)}"
        if known
        else f"there is no package named {dependency.name} in the repository"
    )
    raise RepositoryError(
        f"{package} ({package.pkg_toml}) depends on {dependency.name} {dependency.version}, "
        "which is not in the repository",
        hint=hint,
    )


def _grouped(nodes: Mapping[PackageKey, Package], edges: list[DagEdge]) -> tuple[DagEdge, ...]:
    """Edges in node discovery order, each dependent's edges in declaration order."""
    by_dependent: dict[PackageKey, list[DagEdge]] = {key: [] for key in nodes}
    for edge in edges:
        by_dependent[edge.dependent.key].append(edge)
    return tuple(edge for group in by_dependent.values() for edge in group)


def _sorter(
    dependencies: Mapping[PackageKey, Iterable[PackageKey]],
) -> graphlib.TopologicalSorter[PackageKey]:
    sorter: graphlib.TopologicalSorter[PackageKey] = graphlib.TopologicalSorter()
    for key, needs in dependencies.items():
        sorter.add(key, *needs)
    return sorter


def _raise_cycle(path: list[Package]) -> NoReturn:
    text = " -> ".join(str(package) for package in [*path, path[0]])
    raise RepositoryError(f"dependency cycle: {text}", hint="remove one of these dependencies")

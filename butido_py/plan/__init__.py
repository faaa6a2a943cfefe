"""Planning: the dependency DAG of a package for an image and `-E` environment."""

from butido_py.plan.dag import Dag, DagEdge, PackageKey, build_dag

__all__ = ["Dag", "DagEdge", "PackageKey", "build_dag"]

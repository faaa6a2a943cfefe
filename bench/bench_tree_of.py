"""Benchmark: loading a repository from its commit and computing `tree-of` (DESIGN.md §7).

Prints, for N = 1,000 and 10,000 packages: the in-process time of load_repository (cold: the
first load, which parses every pkg.toml; warm: with the parse cache), of building the DAG and
rendering the tree of the package that depends on all others, and the wall time of the whole
`butido tree-of` command (Python start-up included). Target: 10,000 in under 2 s.

    python bench/bench_tree_of.py [N ...]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_repo import generate
from butido_py.plan import build_dag
from butido_py.plan.show import render_tree
from butido_py.repository.load import load_repository


def measure(count: int, work: Path) -> None:
    root = work / f"repo-{count}"
    top = generate(root, count)
    # The first load parses every pkg.toml; later ones find them in the parse cache.
    cold = _load_seconds(root)
    warm = min(_load_seconds(root) for _ in range(3))
    repository = load_repository(root)
    started = time.perf_counter()
    dag = build_dag(repository, repository.require(top)[0])
    lines = render_tree(dag)
    planned = time.perf_counter() - started
    command = [sys.executable, "-m", "butido_py", "tree-of", top]
    walls = []
    for _ in range(3):
        begun = time.perf_counter()
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - begun)
    assert len(done.stdout.splitlines()) == len(lines)
    print(
        f"N={count:>6}: load cold {cold:.3f} s, warm {warm:.3f} s; dag+tree {planned:.3f} s "
        f"({len(dag.nodes)} nodes, {len(dag.edges)} edges, {len(lines)} lines); "
        f"`butido tree-of` wall {min(walls):.3f} s (best of 3, Python start-up included)"
    )


def _load_seconds(root: Path) -> float:
    started = time.perf_counter()
    load_repository(root)
    return time.perf_counter() - started


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [1000, 10000]
    with tempfile.TemporaryDirectory() as work:
        for count in counts:
            measure(count, Path(work))


if __name__ == "__main__":
    main()

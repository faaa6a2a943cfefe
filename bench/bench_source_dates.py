"""Benchmark: per-package source dates (SOURCE_DATE_EPOCH) over a long history (DESIGN.md §7).

Generates N packages (bench/generate_repo.py), then C more commits made with `git fast-import`
(each edits one package's pkg.toml, every 50th a README that no package reads, every 500th a
merge of a side branch), and measures loading the repository from its last commit:

- cold: no cache of file times, the whole history walked once;
- cached: the same commit again (the tree-of path after the first load);
- next commit: one more commit on top, only it is walked;
- `butido tree-of` wall time of the cached case, Python start-up included.

The `tree-of` budget is 1 s for 10,000 packages (DESIGN.md §7).

    python bench/bench_source_dates.py [N [C]]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate_repo import generate, package_name
from butido_py.repository.load import load_repository

IDENTITY = "bench <bench@example.invalid>"


def history(root: Path, packages: int, commits: int) -> None:
    """C commits on top of HEAD through one `git fast-import` stream."""
    stream: list[str] = []
    start = 1_800_000_000
    tip, side = "refs/heads/main^0", ""
    for index in range(commits):
        mark = f":{index + 1}"
        path, content = _edit(root, packages, index)
        branch = "side" if index % 500 == 250 else "main"
        stream += [
            f"commit refs/heads/{branch}",
            f"mark {mark}",
            f"committer {IDENTITY} {start + index * 60} +0000",
            f"data {len(mark)}",
            mark,
            f"from {tip}",
        ]
        if side and branch == "main":
            stream.append(f"merge {side}")
            side = ""
        if branch == "side":
            side = mark
        else:
            tip = mark
        data = content.encode()
        stream += [f"M 100644 inline {path}", f"data {len(data)}", content]
    payload = "\n".join(stream) + "\n"
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet", "--force"],
        input=payload.encode(),
        check=True,
    )
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)


def _edit(root: Path, packages: int, index: int) -> tuple[str, str]:
    if index % 50 == 0:
        return "README", f"readme {index}\n"
    number = (index * 7919) % packages
    path = f"packages/group{number // 100:03d}/{package_name(number)}/pkg.toml"
    return path, (root / path).read_text() + f"# edit {index}\n"


def seconds(root: Path) -> float:
    started = time.perf_counter()
    load_repository(root)
    return time.perf_counter() - started


def measure(packages: int, commits: int, work: Path) -> None:
    root = work / f"repo-{packages}-{commits}"
    top = generate(root, packages)
    subprocess.run(["git", "-C", str(root), "branch", "-q", "-M", "main"], check=True)
    history(root, packages, commits)
    load_repository(root)  # the pkg.toml parse cache, measured by bench_tree_of.py
    shutil.rmtree(root / ".git" / "butido" / "file-times", ignore_errors=True)
    cold = seconds(root)
    cached = min(seconds(root) for _ in range(3))
    (root / "README").write_text("one more\n")
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "next"], check=True)
    following = seconds(root)
    dates = len(set(load_repository(root).source_dates.values()))
    command = [sys.executable, "-m", "butido_py", "tree-of", top]
    walls = []
    for _ in range(3):
        begun = time.perf_counter()
        subprocess.run(command, cwd=root, capture_output=True, check=True)
        walls.append(time.perf_counter() - begun)
    print(
        f"N={packages} packages, C={commits} commits ({dates} distinct dates): load cold "
        f"{cold:.3f} s, cached {cached:.3f} s, next commit {following:.3f} s; "
        f"`butido tree-of` wall {min(walls):.3f} s (best of 3)"
    )


def main() -> None:
    packages = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    with tempfile.TemporaryDirectory() as work:
        measure(packages, commits, Path(work))


if __name__ == "__main__":
    main()

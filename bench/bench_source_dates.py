"""Benchmark: per-package source dates (SOURCE_DATE_EPOCH) over a long history (DESIGN.md §7).

Generates N packages (bench/generate_repo.py), then C more commits made with `git fast-import`
(each edits one package's pkg.toml, every 50th a README that no package reads, every 500th a
merge of a side branch), and measures loading the repository from its last commit:

- the file times walked: no cache, the whole history in one `git log` pass;
- cached: the same commit again (every later command on that commit);
- after one more commit: only that commit is walked;
- the whole `load_repository` (warm caches) and `butido tree-of` (Python start-up included), for
  the share the file times take of them.

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
from butido_py.repository.git import GitRepository
from butido_py.repository.load import load_repository
from butido_py.repository.source_dates import file_times

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


def times_seconds(root: Path, *, cold: bool) -> float:
    """The file-times part alone: one pass over the history, or the cached map."""
    if cold:
        shutil.rmtree(root / ".git" / "butido" / "file-times", ignore_errors=True)
    with GitRepository(root) as repo:
        started = time.perf_counter()
        file_times(repo, repo.resolve("HEAD"))
        return time.perf_counter() - started


def measure(packages: int, commits: int, work: Path) -> None:
    root = work / f"repo-{packages}-{commits}"
    top = generate(root, packages)
    subprocess.run(["git", "-C", str(root), "branch", "-q", "-M", "main"], check=True)
    history(root, packages, commits)
    load_repository(root)  # the pkg.toml parse cache, measured by bench_tree_of.py
    walk = min(times_seconds(root, cold=True) for _ in range(3))
    cached = min(times_seconds(root, cold=False) for _ in range(3))
    load = min(seconds(root) for _ in range(3))
    (root / "README").write_text("one more\n")
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "next"], check=True)
    following = times_seconds(root, cold=False)
    dates = len(set(load_repository(root).source_dates.values()))
    command = [sys.executable, "-m", "butido_py", "tree-of", top]
    walls = []
    for _ in range(3):
        begun = time.perf_counter()
        subprocess.run(command, cwd=root, capture_output=True, check=True)
        walls.append(time.perf_counter() - begun)
    print(
        f"N={packages} packages, C={commits} commits ({dates} distinct dates): file times "
        f"walked {walk:.3f} s, cached {cached:.3f} s, after one more commit {following:.3f} s; "
        f"whole load_repository (warm) {load:.3f} s; `butido tree-of` wall {min(walls):.3f} s "
        "(best of 3)"
    )


def main() -> None:
    packages = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    commits = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    with tempfile.TemporaryDirectory() as work:
        measure(packages, commits, Path(work))


if __name__ == "__main__":
    main()

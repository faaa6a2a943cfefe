"""Per-package source dates: when did the files a package's job is made from last change?

A package's SOURCE_DATE_EPOCH is the committer time of the newest commit, on the first-parent line
of the pinned commit, that changed any file the package is made from (its pkg.toml layers, patches
and `path` phase files). A merge counts with everything it brought in (its diff against its first
parent), so a change arriving on a branch dates from the merge that made it part of the line.
A commit that changes nothing a package reads then leaves its date, its job key and its artifacts
alone (DESIGN.md §7, "Incremental work").

The newest change time of every path is computed in one pass over the history (`git log
--name-only`) and cached per commit in `<git dir>/butido/file-times/`. A later commit whose
first-parent line contains a cached one walks only the commits in between. The cache is a pickle
of plain data in the git directory (see `toml_cache` for why that is acceptable); any problem with
it just means walking the history again, with the same result.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from butido_py import tracing
from butido_py.errors import RepositoryError
from butido_py.repository.git import CommitChanges, GitRepository

_FORMAT = 1
#: Cached commits kept (the newest by modification time); each is one file.
_KEPT = 4

FileTimes = Mapping[str, int]


def file_times(repo: GitRepository, sha: str) -> dict[str, int]:
    """Every path ever changed on `sha`'s first-parent line → the newest committer time of a
    commit that changed it. A shallow clone is refused: the dates of files last changed before
    its boundary, and so the job keys, would depend on the depth of the clone."""
    if repo.is_shallow():
        raise RepositoryError(
            f"{repo.root} is a shallow clone: per-package SOURCE_DATE_EPOCH needs the history of "
            "the files, and the dates of a shallow clone depend on its depth",
            hint="fetch the whole history (git fetch --unshallow), or set "
            'containers.source_date_epoch = "commit" (every commit then runs every job)',
        )
    cache = _Cache(repo.git_dir / "butido" / "file-times")
    cached = cache.get(sha)
    if cached is not None:
        return cached
    with tracing.span("file_times", commit=sha):
        times = _walk(repo, sha, cache)
    cache.put(sha, times)
    return times


def package_date(files: Iterable[str], times: FileTimes, fallback: int) -> int:
    """The newest change time among `files`; `fallback` when none of them has one."""
    return max((times[path] for path in files if path in times), default=fallback)


def _walk(repo: GitRepository, sha: str, cache: _Cache) -> dict[str, int]:
    for base, base_times in cache.newest():
        try:
            commits = repo.first_parent_changes(sha, stop=base)
        except RepositoryError:  # the cached commit is gone (garbage collected)
            cache.drop(base)
            break
        if commits and commits[-1].first_parent == base:
            return _merged(dict(base_times), commits)
        break  # not on the line: one full walk costs less than trying the others
    return _merged({}, repo.first_parent_changes(sha))


def _merged(times: dict[str, int], commits: Iterable[CommitChanges]) -> dict[str, int]:
    for commit in commits:
        for path in commit.files:
            if commit.committer_time > times.get(path, -1):
                times[path] = commit.committer_time
    return times


class _Cache:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def get(self, sha: str) -> dict[str, int] | None:
        return self._read(self._directory / sha)

    def newest(self) -> Iterable[tuple[str, dict[str, int]]]:
        for path in self._entries():
            times = self._read(path)
            if times is not None:
                yield path.name, times

    def put(self, sha: str, times: Mapping[str, int]) -> None:
        """Written under a temporary name and renamed: a concurrent reader sees all or nothing."""
        payload = pickle.dumps({"format": _FORMAT, "times": dict(times)}, protocol=5)
        with contextlib.suppress(OSError):
            self._directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._directory, prefix=".tmp.")
            temporary = Path(name)
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(payload)
                temporary.replace(self._directory / sha)
            finally:
                temporary.unlink(missing_ok=True)
            for old in self._entries()[_KEPT:]:
                old.unlink(missing_ok=True)

    def drop(self, sha: str) -> None:
        with contextlib.suppress(OSError):
            (self._directory / sha).unlink(missing_ok=True)

    def _entries(self) -> list[Path]:
        try:
            paths = [p for p in self._directory.iterdir() if not p.name.startswith(".")]
        except OSError:
            return []
        return sorted(paths, key=_mtime, reverse=True)

    @staticmethod
    def _read(path: Path) -> dict[str, int] | None:
        try:
            data = pickle.loads(path.read_bytes())  # noqa: S301 - see the module docstring
        except Exception:  # noqa: BLE001 - a missing or damaged entry is simply recomputed
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return None
        times = data.get("times")
        return times if isinstance(times, dict) else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0

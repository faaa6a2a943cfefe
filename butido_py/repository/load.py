"""Loading the package repository from a pinned git commit (butido-reference.md §1, §4.1, §13).

Every `pkg.toml`, patch and phase file is read from the objects of one commit, so what a build
records is what the commit holds. When package files differ from HEAD, `WorkTree` says what
happens: read-only commands read the work tree (the result is dirty and names the files), a build
reads the commit and refuses only when the plan reads a differing file, and `allow_dirty` reads
the work tree for a build too.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from butido_py import tracing
from butido_py.errors import RepositoryError
from butido_py.package.model import Package
from butido_py.package.parse import parse_package
from butido_py.repository.git import GitRepository
from butido_py.repository.layers import Layer, defining_layer, merge_layers
from butido_py.repository.model import Repository, WorkTree, listed_files
from butido_py.repository.source_dates import file_times, package_date
from butido_py.repository.toml_cache import TomlCache

PKG_TOML = "pkg.toml"


class FileSource(Protocol):
    """Where package files come from: a commit's tree or the work tree."""

    def paths(self) -> Iterable[str]: ...

    def exists(self, path: str) -> bool: ...

    def read(self, paths: Sequence[str]) -> Mapping[str, bytes]: ...

    def blob_id(self, path: str) -> str | None:
        """The git blob id of the file, when it is known without reading it."""


class CommitFiles:
    def __init__(self, repo: GitRepository, sha: str) -> None:
        self._repo = repo
        self._files = repo.tree_files(sha)

    def paths(self) -> Iterable[str]:
        return self._files.keys()

    def exists(self, path: str) -> bool:
        return path in self._files

    def read(self, paths: Sequence[str]) -> Mapping[str, bytes]:
        blobs = self._repo.read_blobs(self._files[p] for p in paths)
        return {path: blobs[self._files[path]] for path in paths}

    def blob_id(self, path: str) -> str | None:
        return self._files.get(path)


class WorkTreeFiles:
    def __init__(self, repo: GitRepository) -> None:
        self._repo = repo
        self._files = set(repo.work_tree_files())

    def paths(self) -> Iterable[str]:
        return self._files

    def exists(self, path: str) -> bool:
        return path in self._files

    def read(self, paths: Sequence[str]) -> Mapping[str, bytes]:
        return self._repo.read_work_tree_files(paths)

    def blob_id(self, path: str) -> str | None:  # noqa: ARG002 - work-tree files have none
        return None


@dataclass(frozen=True, slots=True)
class LoadedPackages:
    packages: tuple[Package, ...]
    patch_contents: Mapping[str, bytes]
    #: Every file the packages were built from (pkg.toml layers, patches, phase files).
    files_read: frozenset[str]
    pkg_toml_count: int
    #: The files each package is made from: its pkg.toml layers, patches and phase files.
    package_files: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def load_repository(
    start: Path,
    *,
    commit: str = "HEAD",
    allow_dirty: bool = False,
    work_tree: bool = True,
    changes: WorkTree = WorkTree.REFUSE,
) -> Repository:
    """The repository around `start` (any directory inside the work tree) at `commit`.

    `changes` says what to do with package files that differ in the work tree; `allow_dirty` is
    `WorkTree.READ`, and `work_tree=False` is `WorkTree.IGNORE` (rebuilds and reruns read a
    recorded commit, whatever the work tree holds)."""
    if allow_dirty:
        changes = WorkTree.READ
    if not work_tree:
        changes = WorkTree.IGNORE
    with tracing.span("load_repository", commit=commit), GitRepository(start) as repo:
        return _load(repo, commit, changes, explicit=allow_dirty)


def _load(repo: GitRepository, commit: str, changes: WorkTree, *, explicit: bool) -> Repository:
    sha = repo.resolve(commit)
    head = repo.head() if changes is not WorkTree.IGNORE else None
    if explicit and sha != head:
        raise RepositoryError(
            f"--allow-dirty reads the work tree, which is based on HEAD, not on '{commit}'",
            hint="drop --allow-dirty to read the commit, or --commit to read the work tree",
        )
    changed = repo.changed_files(sha) if sha == head else set()
    changed_pkg_tomls = {p for p in changed if is_package_file(p)}
    edited: frozenset[str] = frozenset()
    recorded: frozenset[str] = frozenset()
    if changed and changes is WorkTree.READ:
        loaded = load_packages(WorkTreeFiles(repo))
        edited = frozenset(changed_pkg_tomls | (changed & loaded.files_read))
        recorded = edited
    else:
        loaded = _load_commit(repo, sha, commit, changed_pkg_tomls)
        if changes is WorkTree.REFUSE:
            _refuse_if_dirty(changed_pkg_tomls | (changed & loaded.files_read), sha, commit)
        recorded = frozenset(changed)
    commit_time = repo.commit_time(sha)
    return Repository(
        root=repo.root,
        commit=sha,
        commit_time=commit_time,
        dirty=bool(edited),
        packages=loaded.packages,
        patch_contents=loaded.patch_contents,
        git_author=repo.user_name(),
        pkg_toml_count=loaded.pkg_toml_count,
        source_dates=partial(
            _source_dates, repo.root, sha, commit_time, loaded.package_files, edited
        ),
        work_tree_changes=recorded,
        package_files=loaded.package_files,
    )


def _load_commit(
    repo: GitRepository, sha: str, commit: str, changed_pkg_tomls: set[str]
) -> LoadedPackages:
    cache = TomlCache(repo.git_dir / "butido" / "pkg-toml.cache")
    try:
        return load_packages(CommitFiles(repo, sha), cache)
    except RepositoryError:
        # An error in the commit's files may already be fixed in the work tree: say that the
        # work tree differs first.
        _refuse_if_dirty(changed_pkg_tomls, sha, commit)
        raise


def _source_dates(
    root: Path,
    sha: str,
    commit_time: int,
    package_files: Mapping[tuple[str, str], tuple[str, ...]],
    edited: frozenset[str],
) -> dict[tuple[str, str], int]:
    """Each package's source date (called once, and only when a build needs them)."""
    with tracing.span("source_dates", commit=sha), GitRepository(root) as repo:
        times = file_times(repo, sha)
    times.update(_work_tree_times(root, edited, times))
    return {key: package_date(files, times, commit_time) for key, files in package_files.items()}


def _work_tree_times(root: Path, paths: Iterable[str], times: Mapping[str, int]) -> dict[str, int]:
    """Files edited in the work tree date from their modification time (--allow-dirty)."""
    edited: dict[str, int] = {}
    for path in paths:
        try:
            edited[path] = max(int((root / path).stat().st_mtime), times.get(path, 0))
        except OSError:  # deleted in the work tree: the package no longer reads it
            continue
    return edited


def is_package_file(path: str) -> bool:
    """A `pkg.toml` that discovery considers (no path component starts with `.`)."""
    parts = path.split("/")
    return parts[-1] == PKG_TOML and not any(part.startswith(".") for part in parts)


def load_packages(source: FileSource, cache: TomlCache | None = None) -> LoadedPackages:
    pkg_tomls = sorted(p for p in source.paths() if is_package_file(p))
    layers = _parse_layers(pkg_tomls, source, cache or TomlCache(None))
    packages: dict[tuple[str, str], Package] = {}
    chains: dict[tuple[str, str], list[str]] = {}
    for leaf in _leaves(pkg_tomls):
        layer_paths = _layer_paths(leaf, layers)
        chain = [layers[p] for p in layer_paths]
        origin = partial(_origin, chain)
        package = parse_package(merge_layers(chain), leaf=leaf, origin=origin, exists=source.exists)
        _add_unique(packages, package)
        chains[package.key] = layer_paths
    extra = sorted({p for pkg in packages.values() for p in _referenced_files(pkg)})
    contents = source.read(extra)
    resolved = [_with_phase_scripts(pkg, contents) for pkg in packages.values()]
    patch_paths = {p for pkg in resolved for p in pkg.patches}
    return LoadedPackages(
        packages=tuple(sorted(resolved, key=lambda p: p.key)),
        patch_contents={path: contents[path] for path in sorted(patch_paths)},
        files_read=frozenset((*pkg_tomls, *extra)),
        pkg_toml_count=len(pkg_tomls),
        package_files={
            key: (*chains[key], *_referenced_files(pkg)) for key, pkg in packages.items()
        },
    )


def _refuse_if_dirty(files: set[str], sha: str, commit: str) -> None:
    if not files:
        return
    raise RepositoryError(
        f"package files differ from commit {sha[:12]} ({commit}): {listed_files(files, 10)}",
        hint="commit them, or pass --allow-dirty to read the work tree",
    )


def _parse_layers(paths: Sequence[str], source: FileSource, cache: TomlCache) -> dict[str, Layer]:
    blobs = {path: source.blob_id(path) for path in paths}
    parsed = {path: cache.get(blobs[path]) for path in paths}
    missing = [path for path, data in parsed.items() if data is None]
    contents = source.read(missing)
    for path in missing:
        parsed[path] = _parse_toml(path, contents[path])
        cache.put(blobs[path], parsed[path] or {})
    cache.save(blobs.values())
    return {path: Layer(path, parsed[path] or {}) for path in paths}


def _parse_toml(path: str, content: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RepositoryError(f"{path}: not valid UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RepositoryError(
            f"{path}: invalid TOML: {exc}", hint="fix the syntax at the line and column shown"
        ) from exc


def _leaves(pkg_tomls: Sequence[str]) -> list[str]:
    """pkg.toml files whose directory has no pkg.toml anywhere below it (§1.1)."""
    with_descendants: set[str] = set()
    for path in pkg_tomls:
        directory = posixpath.dirname(path)
        while directory:
            directory = posixpath.dirname(directory)
            if directory in with_descendants:
                break
            with_descendants.add(directory)
    return [p for p in pkg_tomls if posixpath.dirname(p) not in with_descendants]


def _layer_paths(leaf: str, layers: Mapping[str, Layer]) -> list[str]:
    """The pkg.toml files from the repository root down to `leaf`."""
    parts = leaf.split("/")[:-1]
    candidates = [PKG_TOML] + ["/".join([*parts[: i + 1], PKG_TOML]) for i in range(len(parts))]
    return [c for c in dict.fromkeys(candidates) if c in layers]


def _origin(chain: Sequence[Layer], key_path: tuple[str, ...]) -> str:
    return defining_layer(chain, key_path).path


def _add_unique(packages: dict[tuple[str, str], Package], package: Package) -> None:
    other = packages.get(package.key)
    if other is not None:
        raise RepositoryError(
            f"package {package} is defined twice: {other.pkg_toml} and {package.pkg_toml}",
            hint="give one of them another version, or remove it",
        )
    packages[package.key] = package


def _referenced_files(package: Package) -> list[str]:
    return [*package.patches, *(p.path for p in package.phases if p.path is not None)]


def _with_phase_scripts(package: Package, contents: Mapping[str, bytes]) -> Package:
    if all(phase.path is None for phase in package.phases):
        return package
    phases = []
    for phase in package.phases:
        if phase.path is None:
            phases.append(phase)
            continue
        try:
            script = contents[phase.path].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RepositoryError(
                f"{phase.path}: phase '{phase.name}' of {package} is not valid UTF-8"
            ) from exc
        phases.append(replace(phase, script=script))
    return replace(package, phases=tuple(phases))

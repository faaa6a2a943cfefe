"""The source cache on disk: where each source lives and whether its hash matches.

Layout (butido-reference.md §3.2): `<source_cache>/<name>-<version>/<file>`, where `<file>` is the
source's name with its last extension replaced by `source` (`src` → `src.source`,
`foo.tar` → `foo.source`). Inside a job container the file is `/inputs/<file>`.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from butido_py.errors import SourceError
from butido_py.package.model import HashType, Package, Source

CACHE_SUFFIX = ".source"
_CHUNK = 1024 * 1024
#: Hashing releases the GIL, so a few threads keep several disks and cores busy.
VERIFY_WORKERS = 4


def cache_file_name(source_name: str) -> str:
    """`src` → `src.source`, `foo.tar` → `foo.source` (the last extension is replaced)."""
    _check_path_part(source_name, "source name")
    return PurePosixPath(source_name).with_suffix(CACHE_SUFFIX).name


def package_dir_name(package: Package) -> str:
    name = f"{package.name}-{package.version}"
    _check_path_part(name, "package name and version")
    return name


def _check_path_part(text: str, what: str) -> None:
    if not text or "/" in text or "\\" in text or text in {".", ".."} or "\0" in text:
        raise SourceError(
            f"{what} {text!r} cannot be used as a file name in the source cache",
            hint="use names without '/', '\\' and NUL, and not '.' or '..'",
        )


@dataclass(frozen=True, slots=True)
class CachedSource:
    """One source of one package and the cache file it belongs in."""

    package: Package
    source: Source
    path: Path

    @property
    def label(self) -> str:
        """`<name> <version> source <source>` for messages."""
        return f"{self.package.name} {self.package.version} source {self.source.name}"


@dataclass(frozen=True, slots=True)
class SourceCache:
    root: Path

    def path_of(self, package: Package, source: Source) -> Path:
        return self.root / package_dir_name(package) / cache_file_name(source.name)

    def entries(self, packages: Iterable[Package]) -> list[CachedSource]:
        """Every source of `packages`, in package order and then in declaration order.

        Two sources that map to one cache file (`foo.tar` and `foo.zip`, or packages `a-b 1`
        and `a b-1`) are an error: butido silently let one overwrite the other.
        """
        entries = [
            CachedSource(package, source, self.path_of(package, source))
            for package in packages
            for source in package.sources
        ]
        _check_distinct_paths(entries)
        return entries


def _check_distinct_paths(entries: Iterable[CachedSource]) -> None:
    seen: dict[Path, CachedSource] = {}
    for entry in entries:
        first = seen.setdefault(entry.path, entry)
        if first is not entry:
            raise SourceError(
                f"{first.label} and {entry.label} would share the cache file {entry.path}",
                hint="rename a source in its pkg.toml: the file name is the source name with its "
                "last extension replaced by 'source', in the directory <name>-<version>",
            )


def hash_file(path: Path, hash_type: HashType) -> str:
    """Lower-case hex digest of the file's content (streamed)."""
    digest = hashlib.new(str(hash_type))
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class VerifyStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    MISMATCH = "mismatch"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entry: CachedSource
    status: VerifyStatus
    #: The digest of the file when it could be read.
    actual: str | None = None
    #: The reason for MISSING, MISMATCH and UNREADABLE.
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status is VerifyStatus.OK


def verify_source(entry: CachedSource) -> VerifyResult:
    expected = entry.source.hash_value
    try:
        actual = hash_file(entry.path, entry.source.hash_type)
    except FileNotFoundError:
        return VerifyResult(entry, VerifyStatus.MISSING, message=f"source missing: {entry.path}")
    except OSError as exc:
        return VerifyResult(
            entry, VerifyStatus.UNREADABLE, message=f"cannot read {entry.path}: {exc.strerror}"
        )
    if actual != expected:
        return VerifyResult(
            entry,
            VerifyStatus.MISMATCH,
            actual,
            f"hash mismatch of {entry.path}: expected {entry.source.hash_type} {expected!r}, "
            f"got {actual!r}",
        )
    return VerifyResult(entry, VerifyStatus.OK, actual)


def verify_sources(
    entries: Sequence[CachedSource],
    *,
    workers: int = VERIFY_WORKERS,
    on_result: Callable[[VerifyResult], None] | None = None,
) -> list[VerifyResult]:
    """Verify concurrently; results come back in the order of `entries`.

    `on_result` is called from the worker threads as each entry finishes (it must be
    thread-safe).
    """

    def run(entry: CachedSource) -> VerifyResult:
        result = verify_source(entry)
        if on_result is not None:
            on_result(result)
        return result

    if len(entries) <= 1:
        return [run(entry) for entry in entries]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(entries)))) as pool:
        return list(pool.map(run, entries))


@dataclass(frozen=True, slots=True)
class ImportedFiles:
    copied: tuple[Path, ...]
    #: Files already in the cache (left untouched, whatever their content).
    kept: tuple[Path, ...]


def import_cache_tree(tree: Path, cache_root: Path) -> ImportedFiles:
    """Copy a directory laid out like a source cache into the cache; existing files are kept."""
    copied: list[Path] = []
    kept: list[Path] = []
    for source in sorted(p for p in tree.rglob("*") if p.is_file()):
        destination = cache_root / source.relative_to(tree)
        if destination.exists():
            kept.append(destination)
            continue
        try:
            _copy_into_place(source, destination)
        except OSError as exc:
            raise SourceError(
                f"cannot copy {source} into the source cache: {exc.strerror or exc}: "
                f"{exc.filename or destination}",
                hint="`source_cache` in config.toml must name a writable directory with space",
            ) from exc
        copied.append(destination)
    return ImportedFiles(tuple(copied), tuple(kept))


def _copy_into_place(source: Path, destination: Path) -> None:
    """Copy under a temporary name, then rename: the cache never holds a half-copied file."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.part")
    try:
        shutil.copyfile(source, partial)
        partial.replace(destination)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise

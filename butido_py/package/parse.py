"""A merged `pkg.toml` table → `Package` (butido-reference.md §1.3, §3.1, §4).

Pure: the caller supplies where each value came from (`origin`) and which repository files exist
(`exists`). Unknown keys are errors at every nesting level (butido checked only the top level).
`{ path = ... }` phases get their `path` resolved here; the loader reads their text into `script`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any

from butido_py.errors import RepositoryError
from butido_py.package.condition import unknown_key_message
from butido_py.package.dependency import DependencyError, parse_dependency
from butido_py.package.model import Dependency, DependencyKind, HashType, Package, Phase, Source

KeyPath = tuple[str, ...]
Origin = Callable[[KeyPath], str]

TOP_KEYS = (
    "name",
    "version",
    "version_is_semver",
    "sources",
    "dependencies",
    "patches",
    "environment",
    "allowed_images",
    "denied_images",
    "phases",
    "meta",
)
SOURCE_KEYS = ("url", "hash", "download_manually")
HASH_KEYS = ("type", "hash")
DEPENDENCY_KEYS = ("build", "runtime")
PHASE_KEYS = ("script", "path")
_HEX = re.compile(r"[0-9a-fA-F]+")
_MISSING = object()


def parse_package(
    table: Mapping[str, Any], *, leaf: str, origin: Origin, exists: Callable[[str], bool]
) -> Package:
    reader = _Reader(leaf, origin)
    reader.check_keys(table, (), TOP_KEYS)
    dependencies = reader.table(table, ("dependencies",))
    reader.check_keys(dependencies, ("dependencies",), DEPENDENCY_KEYS)
    return Package(
        name=reader.string(table, ("name",)),
        version=reader.string(table, ("version",)).lstrip("="),
        version_is_semver=reader.boolean(table, ("version_is_semver",)),
        sources=_sources(reader, table),
        build_dependencies=_dependencies(reader, dependencies, DependencyKind.BUILD),
        runtime_dependencies=_dependencies(reader, dependencies, DependencyKind.RUNTIME),
        patches=_patches(reader, table, exists),
        phases=_phases(reader, table, exists),
        environment=reader.string_map(table, ("environment",)),
        allowed_images=reader.string_list(table, ("allowed_images",), required=False),
        denied_images=reader.string_list(table, ("denied_images",), required=False),
        meta=reader.string_map(table, ("meta",)),
        pkg_toml=leaf,
    )


def resolve_path(defining_file: str, relative: str) -> str:
    """`relative` (as written in `defining_file`) as a normalised repository-relative path.

    Raises ValueError when it is absolute or when `..` leaves the repository.
    """
    if relative.startswith("/"):
        raise ValueError(f"'{relative}' is absolute; paths are relative to the pkg.toml file")
    parts: list[str] = []
    for part in f"{posixpath.dirname(defining_file)}/{relative}".split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"'{relative}' uses '..' to escape the repository")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise ValueError(f"'{relative}' does not name a file")
    return "/".join(parts)


class _Reader:
    """Typed access to the merged table; errors name the pkg.toml that set the value."""

    def __init__(self, leaf: str, origin: Origin) -> None:
        self.leaf = leaf
        self.origin = origin

    def fail(self, path: KeyPath, message: str, hint: str | None = None) -> RepositoryError:
        where = self.origin(path) if path else self.leaf
        suffix = "" if where == self.leaf else f" (package {self.leaf})"
        key = ".".join(path)
        return RepositoryError(f"{where}: {key}: {message}{suffix}", hint=hint)

    def missing(self, path: KeyPath) -> RepositoryError:
        key = ".".join(path)
        return RepositoryError(
            f"{self.leaf}: required key '{key}' is missing",
            hint=f"set '{key}' in this file or in a pkg.toml of a parent directory",
        )

    def check_keys(self, table: Mapping[str, Any], path: KeyPath, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                where = self.origin((*path, key))
                prefix = ".".join(path) + "." if path else ""
                suffix = "" if where == self.leaf else f" (package {self.leaf})"
                raise RepositoryError(f"{where}: {unknown_key_message(key, known, prefix)}{suffix}")

    def string(self, table: Mapping[str, Any], path: KeyPath, *, empty: bool = False) -> str:
        value = self.required(table, path)
        if not isinstance(value, str) or not (value or empty):
            raise self.fail(path, f"must be a non-empty string, not {value!r}")
        return value

    def boolean(self, table: Mapping[str, Any], path: KeyPath) -> bool:
        value = self.required(table, path)
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, not {value!r}")
        return value

    def table(self, table: Mapping[str, Any], path: KeyPath) -> Mapping[str, Any]:
        value = self.required(table, path)
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, not {value!r}")
        return value

    def string_list(
        self, table: Mapping[str, Any], path: KeyPath, *, required: bool
    ) -> tuple[str, ...] | None:
        if not required and not self.present(table, path):
            return None
        value = self.required(table, path)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(path, f"must be a list of strings, not {value!r}")
        return tuple(value)

    def string_map(
        self, table: Mapping[str, Any], path: KeyPath
    ) -> tuple[tuple[str, str], ...] | None:
        if not self.present(table, path):
            return None
        value = self.table(table, path)
        for key, item in value.items():
            if not isinstance(item, str):
                raise self.fail((*path, key), f"must be a string, not {item!r}")
        return tuple(value.items())

    def present(self, table: Mapping[str, Any], path: KeyPath) -> bool:
        return self.lookup(table, path) is not _MISSING

    def required(self, table: Mapping[str, Any], path: KeyPath) -> Any:
        value = self.lookup(table, path)
        if value is _MISSING:
            raise self.missing(path)
        return value

    @staticmethod
    def lookup(table: Mapping[str, Any], path: KeyPath) -> Any:
        """The value of `path[-1]` in `table`, the table at `path[:-1]` (full path for messages)."""
        return table.get(path[-1], _MISSING)


def _sources(reader: _Reader, table: Mapping[str, Any]) -> tuple[Source, ...]:
    sources = reader.table(table, ("sources",))
    return tuple(_source(reader, sources, name) for name in sources)


def _source(reader: _Reader, sources: Mapping[str, Any], name: str) -> Source:
    path = ("sources", name)
    source = reader.table(sources, path)
    reader.check_keys(source, path, SOURCE_KEYS)
    hashes = reader.table(source, (*path, "hash"))
    reader.check_keys(hashes, (*path, "hash"), HASH_KEYS)
    hash_type = reader.string(hashes, (*path, "hash", "type"))
    if hash_type not in tuple(HashType):
        raise reader.fail(
            (*path, "hash", "type"),
            f"unknown hash type '{hash_type}'",
            hint=f"use one of {', '.join(HashType)}",
        )
    hash_value = reader.string(hashes, (*path, "hash", "hash"))
    if not _HEX.fullmatch(hash_value):
        raise reader.fail((*path, "hash", "hash"), f"'{hash_value}' is not a hex digest")
    manual = False
    if reader.present(source, (*path, "download_manually")):
        manual = reader.boolean(source, (*path, "download_manually"))
    return Source(
        name=name,
        url=reader.string(source, (*path, "url")),
        hash_type=HashType(hash_type),
        hash_value=hash_value.lower(),
        download_manually=manual,
    )


def _dependencies(
    reader: _Reader, dependencies: Mapping[str, Any], kind: DependencyKind
) -> tuple[Dependency, ...]:
    path = ("dependencies", str(kind))
    entries = reader.required(dependencies, path)
    if not isinstance(entries, list):
        raise reader.fail(path, f"must be a list, not {entries!r}")
    try:
        return tuple(parse_dependency(entry, kind) for entry in entries)
    except DependencyError as exc:
        raise reader.fail(path, str(exc)) from exc


def _patches(
    reader: _Reader, table: Mapping[str, Any], exists: Callable[[str], bool]
) -> tuple[str, ...]:
    path = ("patches",)
    patches = reader.string_list(table, path, required=True) or ()
    if not patches:
        return ()
    defining = reader.origin(path)
    return tuple(
        _existing_file(reader, path, defining, patch, exists, "patch") for patch in patches
    )


def _phases(
    reader: _Reader, table: Mapping[str, Any], exists: Callable[[str], bool]
) -> tuple[Phase, ...]:
    phases = reader.table(table, ("phases",))
    result: list[Phase] = []
    for name in phases:
        path = ("phases", name)
        phase = reader.table(phases, path)
        reader.check_keys(phase, path, PHASE_KEYS)
        if _phase_kind(reader, phase, path) == "script":
            result.append(
                Phase(name=name, script=reader.string(phase, (*path, "script"), empty=True))
            )
            continue
        relative = reader.string(phase, (*path, "path"))
        defining = reader.origin((*path, "path"))
        file = _existing_file(reader, (*path, "path"), defining, relative, exists, "phase file")
        result.append(Phase(name=name, script="", path=file))
    return tuple(result)


def _phase_kind(reader: _Reader, phase: Mapping[str, Any], path: KeyPath) -> str:
    """`script` or `path`; when layers set both, the one set closer to the leaf wins."""
    if "script" in phase and "path" in phase:
        script_file = reader.origin((*path, "script"))
        path_file = reader.origin((*path, "path"))
        if script_file == path_file:
            raise reader.fail(path, "needs exactly one of 'script' or 'path', not both")
        # Layers are nested directories: the deeper file is the later layer.
        return "script" if len(script_file) > len(path_file) else "path"
    if "script" not in phase and "path" not in phase:
        raise reader.fail(path, "needs 'script' or 'path'")
    return "script" if "script" in phase else "path"


def _existing_file(
    reader: _Reader,
    path: KeyPath,
    defining: str,
    relative: str,
    exists: Callable[[str], bool],
    what: str,
) -> str:
    try:
        resolved = resolve_path(defining, relative)
    except ValueError as exc:
        raise reader.fail(path, f"{what} {exc}") from exc
    if not exists(resolved):
        raise reader.fail(
            path,
            f"{what} '{relative}' does not exist ({resolved})",
            hint="paths are relative to the pkg.toml that lists them; commit the file "
            "(or use --allow-dirty)",
        )
    return resolved

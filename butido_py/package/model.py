"""The package model: one merged, validated leaf `pkg.toml` (butido-reference.md §1.3).

Built by the repository loader; read by planning, scripts, sources and the database layer.
Collections keep the order of the `pkg.toml` files. Optional tables that were not set are `None`
(not empty), because templates distinguish the two (strict mode, butido-reference.md §5.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HashType(StrEnum):
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"


class DependencyKind(StrEnum):
    BUILD = "build"
    RUNTIME = "runtime"


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # the key under [sources], usually "src"
    url: str
    hash_type: HashType
    hash_value: str  # lower-case hex
    download_manually: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    """When a dependency applies (butido-reference.md §2.3); `None` fields are absent keys."""

    has_env: tuple[str, ...] | None = None
    env_eq: tuple[tuple[str, str], ...] | None = None
    in_image: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    version: str  # exact version, leading "=" stripped
    kind: DependencyKind
    condition: Condition | None = None
    #: The entry as written: "NAME VERSION" (also for conditional entries, the `name` value).
    text: str = ""


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase script. `{ path = P }` phases are read from the pinned commit by the loader."""

    name: str
    script: str
    #: Repository-relative file the script was read from, for `{ path = ... }` phases.
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Package:
    name: str
    version: str
    version_is_semver: bool
    sources: tuple[Source, ...]
    build_dependencies: tuple[Dependency, ...]
    runtime_dependencies: tuple[Dependency, ...]
    patches: tuple[str, ...]  # repository-relative paths
    phases: tuple[Phase, ...]
    environment: tuple[tuple[str, str], ...] | None = None
    allowed_images: tuple[str, ...] | None = None
    denied_images: tuple[str, ...] | None = None
    meta: tuple[tuple[str, str], ...] | None = None
    #: Repository-relative path of the leaf pkg.toml that defines this package.
    pkg_toml: str = ""

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        """Build dependencies first, then runtime ones, each in declaration order."""
        return self.build_dependencies + self.runtime_dependencies

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.version)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

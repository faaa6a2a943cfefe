"""The loaded repository: every package of one pinned commit, as plain data.

Built by `butido_py.repository.load.load_repository`; read by planning, scripts, sources, builds
and the database layer. Nothing here touches git or the file system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from butido_py.package.model import Package


@dataclass(frozen=True, slots=True)
class Repository:
    #: Absolute path of the git work tree's top level.
    root: Path
    #: Full hex sha of the pinned commit (also when the work tree was read with --allow-dirty).
    commit: str
    #: Commit time of the pinned commit, seconds since the epoch (SOURCE_DATE_EPOCH).
    commit_time: int
    #: True when the package files were read from a work tree that differs from `commit`.
    dirty: bool
    #: Every package, sorted by (name, version) as plain strings (butido's order, §1.4).
    packages: tuple[Package, ...]
    #: Content of every patch referenced by a package, by repository-relative path.
    patch_contents: Mapping[str, bytes] = field(default_factory=dict)
    #: `user.name` from the repository's git configuration, when set (containers.git_author).
    git_author: str | None = None
    #: Number of pkg.toml files read (layers and leaves), for `metrics`.
    pkg_toml_count: int = 0

    def find(self, name: str, version: str) -> Package | None:
        """The package with exactly this name and version (leading `=` of `version` ignored)."""
        wanted = (name, version.lstrip("="))
        return next((p for p in self.packages if p.key == wanted), None)

    def versions_of(self, name: str) -> list[Package]:
        return [p for p in self.packages if p.name == name]

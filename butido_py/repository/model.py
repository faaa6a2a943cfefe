"""The loaded repository: every package of one pinned commit, as plain data.

Built by `butido_py.repository.load.load_repository`; read by planning, scripts, sources, builds
and the database layer. Nothing here touches git or the file system.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from butido_py.config.model import SourceDatePolicy
from butido_py.errors import RepositoryError, UsageError, did_you_mean
from butido_py.package.constraint import parse_constraint
from butido_py.package.model import Package


class WorkTree(StrEnum):
    """What loading does with a work tree that differs from HEAD (butido refused it, which made
    users stop tracking files: butido #240)."""

    READ = (
        "read"  # read the work tree; the result is dirty and names the files (read-only commands)
    )
    REFUSE = "refuse"  # refuse when package files differ, naming them
    RECORD = "record"  # read the commit; keep the differing files for the plan's check (build)
    IGNORE = "ignore"  # read the commit, never look at the work tree (rebuilds, reruns)


#: How many differing files an error names; the rest are counted.
NAMED_FILES = 3


def listed_files(files: Iterable[str], named: int = NAMED_FILES) -> str:
    """`a, b, c (and 4 more)`: the first files in sorted order, and how many others."""
    names = sorted(files)
    listed = ", ".join(names[:named])
    return listed + (f" (and {len(names) - named} more)" if len(names) > named else "")


@dataclass(frozen=True, slots=True)
class Repository:
    #: Absolute path of the git work tree's top level.
    root: Path
    #: Full hex sha of the pinned commit (also when the work tree was read with --allow-dirty).
    commit: str
    #: Commit time of the pinned commit, seconds since the epoch.
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
    #: Computes (name, version) → the newest change time of the files the package is made
    #: from (`repository.source_dates`, a walk over the history): asked only when a package's
    #: SOURCE_DATE_EPOCH under the `per-package` policy is needed; None: the commit time.
    source_dates: Callable[[], Mapping[tuple[str, str], int]] | None = field(
        default=None, compare=False, repr=False
    )
    #: Files of the work tree that differ from `commit`: read from the work tree when `dirty`;
    #: otherwise (a build reads the commit) every differing file, for `refuse_changes_read_by`.
    work_tree_changes: frozenset[str] = field(default=frozenset(), compare=False)
    #: (name, version) → the files the package is made from (pkg.toml layers, patches, phases).
    package_files: Mapping[tuple[str, str], tuple[str, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _dates: dict[tuple[str, str], int] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_key: dict[tuple[str, str], Package] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_name: dict[str, list[Package]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for package in self.packages:
            self._by_key[package.key] = package
            self._by_name.setdefault(package.name, []).append(package)

    def find(self, name: str, version: str) -> Package | None:
        """The package with exactly this name and version (leading `=` of `version` ignored)."""
        return self._by_key.get((name, version.lstrip("=")))

    def changes_read_by(self, packages: Iterable[Package]) -> set[str]:
        """The differing work-tree files these packages are read from: their own files, and any
        pkg.toml at or below a package's directory or in a directory above it (a new layer, or a
        leaf that is no longer one)."""
        if self.dirty or not self.work_tree_changes:
            return set()
        changed = self.work_tree_changes
        found: set[str] = set()
        for package in packages:
            found |= changed & set(self.package_files.get(package.key, ()))
            home = posixpath.dirname(package.pkg_toml)
            found |= {p for p in changed if _shapes(p, home)}
        return found

    def refuse_changes_read_by(self, packages: Iterable[Package], commit_name: str) -> None:
        """A build reads the commit: refuse when a file the plan reads differs in the work tree
        (the user would build something other than what they see)."""
        found = self.changes_read_by(packages)
        if found:
            raise RepositoryError(
                f"{len(found)} file(s) the build reads differ from commit {self.commit[:12]} "
                f"({commit_name}): {listed_files(found)}",
                hint="commit them, or pass --allow-dirty to build from the work tree "
                "(the submit is marked dirty)",
            )

    def source_date(self, package: Package) -> int:
        """When the files `package` is made from last changed (the commit time if unknown)."""
        if not self._dates and self.source_dates is not None:
            self._dates.update(self.source_dates())
        return self._dates.get(package.key, self.commit_time)

    def source_date_epoch(self, package: Package, policy: SourceDatePolicy | int) -> int:
        """The SOURCE_DATE_EPOCH of `package`'s job under `containers.source_date_epoch`."""
        if policy == SourceDatePolicy.PER_PACKAGE:
            return self.source_date(package)
        if policy == SourceDatePolicy.COMMIT:
            return self.commit_time
        return int(policy)

    def versions_of(self, name: str) -> list[Package]:
        return list(self._by_name.get(name, ()))

    def select(self, name: str, constraint: str | None = None) -> list[Package]:
        """The versions of `name` matching a CLI constraint (butido-reference.md §2.6)."""
        versions = self.versions_of(name)
        if constraint is None:
            return versions
        parsed = parse_constraint(constraint)
        return [p for p in versions if parsed.matches(p.version)]

    def require(self, name: str, constraint: str | None = None) -> list[Package]:
        """Like `select`, but no match is an error that lists the versions there are."""
        selected = self.select(name, constraint)
        if selected:
            return selected
        wanted = name if constraint is None else f"{name} {constraint}"
        versions = ", ".join(p.version for p in self.versions_of(name))
        raise RepositoryError(
            f"package {wanted} not found in commit {self.commit[:12]}",
            hint=f"versions of {name}: {versions}"
            if versions
            else (
                f"{close} (`butido find-pkg .` lists every package)"
                if (close := did_you_mean(name, {p.name for p in self.packages}))
                else "`butido find-pkg .` lists every package"
            ),
        )

    def search(self, regex: str, constraint: str | None = None) -> list[Package]:
        """Packages whose name matches the regular expression `regex` (searched, not anchored)
        and whose version matches `constraint`; no match is an error."""
        try:
            pattern = re.compile(regex)
        except re.error as exc:
            raise UsageError(
                f"invalid regular expression {regex!r}: {exc}",
                hint="REGEX is a Python regular expression, searched in package names",
            ) from None
        found = [p for p in self.packages if pattern.search(p.name)]
        if constraint is not None:
            parsed = parse_constraint(constraint)
            found = [p for p in found if parsed.matches(p.version)]
        if not found:
            wanted = regex if constraint is None else f"{regex} {constraint}"
            raise RepositoryError(
                f"no package matches {wanted!r} in commit {self.commit[:12]}",
                hint="`butido find-pkg .` lists every package",
            )
        return found


def _shapes(path: str, home: str) -> bool:
    """`path` is a pkg.toml that can change the package whose leaf is in directory `home`."""
    if posixpath.basename(path) != "pkg.toml":
        return False
    directory = posixpath.dirname(path)
    return (
        not directory
        or directory == home
        or home.startswith(directory + "/")
        or directory.startswith(home + "/" if home else "")
    )

"""Where a recorded artifact is on disk (DESIGN.md §3 "Reuse by content"): in a staging directory,
`<staging root>/<its submit uuid>/<path>`, or a release store, `<releases_root>/<store>/<path>`,
each copy checked against the recorded sha256. The build (reuse, rebuild verdicts) and
`find-artifact` ask the same questions of it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from butido_py.db.records import ArtifactRecord
from butido_py.errors import StoreError
from butido_py.stores import release_store

#: The location of a copy in a staging directory (else: the name of its release store).
STAGING = "staging"


@dataclass(frozen=True, slots=True)
class ArtifactCopy:
    #: STAGING or the name of the release store.
    location: str
    path: Path


class ArtifactLocator:
    """Finds recorded artifacts on disk; each file is hashed at most once (thread-safe)."""

    def __init__(self, staging_roots: Sequence[Path], release_dirs: Sequence[Path]) -> None:
        self._staging_roots = tuple(dict.fromkeys(staging_roots))
        #: `<releases_root>/<store>`: the directory's name is the store's.
        self._release_dirs = tuple(dict.fromkeys(release_dirs))
        self._hashes: dict[Path, str | None] = {}
        self._lock = threading.Lock()

    def copies(self, artifact: ArtifactRecord) -> list[ArtifactCopy]:
        """Every copy with the recorded sha256, staging first (none for butido's (Rust) rows:
        they have no sha256 to check a copy against)."""
        if artifact.sha256 is None:
            return []
        found = []
        seen: set[Path] = set()
        for copy in self._candidates(artifact):
            if copy.path not in seen and self._sha256(copy.path) == artifact.sha256:
                found.append(copy)
            seen.add(copy.path)
        return found

    def locate(self, artifact: ArtifactRecord) -> Path | None:
        """Where the artifact is on disk with its recorded sha256.

        butido's (Rust) rows have no sha256: for them only the file at the artifact's own place,
        `<staging>/<its submit uuid>/<path>`, counts (a release store may hold another build's
        file under the same name)."""
        if artifact.sha256 is None:
            return self._unhashed(artifact)
        for copy in self._candidates(artifact):
            if self._sha256(copy.path) == artifact.sha256:
                return copy.path
        return None

    def sha256(self, artifact: ArtifactRecord) -> str | None:
        """The recorded sha256, or (butido's rows) that of its file, if it is still there."""
        if artifact.sha256 is not None:
            return artifact.sha256
        path = self._unhashed(artifact)
        return None if path is None else self._sha256(path)

    def _candidates(self, artifact: ArtifactRecord) -> list[ArtifactCopy]:
        try:
            staged = [
                ArtifactCopy(STAGING, _inside(root / str(artifact.submit_uuid), artifact.path))
                for root in self._staging_roots
            ]
            released = [
                ArtifactCopy(store.name, _inside(store, artifact.path))
                for store in self._release_dirs
            ]
        except StoreError:
            return []  # not a plain relative path: never written by butido_py
        return staged + released

    def _unhashed(self, artifact: ArtifactRecord) -> Path | None:
        for copy in self._candidates(artifact):
            if copy.location == STAGING and self._sha256(copy.path) is not None:
                return copy.path
        return None

    def _sha256(self, path: Path) -> str | None:
        with self._lock:
            if path in self._hashes:
                return self._hashes[path]
        digest = release_store.file_sha256(path)
        with self._lock:
            self._hashes[path] = digest
        return digest


def _inside(directory: Path, artifact_path: str) -> Path:
    return release_store.released_path(directory, artifact_path)

"""Reuse by content (DESIGN.md §3): find an earlier job with the same key whose artifacts are all
still on disk — in any staging directory or release store — with the recorded sha256."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from butido_py.db.records import ArtifactRecord, JobRecord
from butido_py.orchestrator.model import Artifact
from butido_py.orchestrator.recording import BuildRecorder

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReuseMatch:
    job: uuid.UUID
    artifacts: tuple[Artifact, ...]


class ArtifactLocator:
    """Finds recorded artifacts on disk; each file is hashed at most once per build."""

    def __init__(self, staging_roots: Sequence[Path], release_dirs: Sequence[Path]) -> None:
        self._staging_roots = tuple(dict.fromkeys(staging_roots))
        self._release_dirs = tuple(release_dirs)
        self._hashes: dict[Path, str | None] = {}
        self._lock = threading.Lock()

    def locate(self, artifact: ArtifactRecord) -> Path | None:
        """Where the artifact is on disk with its recorded sha256.

        butido's (Rust) rows have no sha256: for them only the file at the artifact's own place,
        `<staging>/<its submit uuid>/<path>`, counts (a release store may hold another build's
        file under the same name)."""
        if artifact.sha256 is None:
            return self._unhashed(artifact)
        candidates = [
            root / str(artifact.submit_uuid) / artifact.path for root in self._staging_roots
        ]
        candidates += [store / artifact.path for store in self._release_dirs]
        for path in candidates:
            if self._sha256(path) == artifact.sha256:
                return path
        return None

    def sha256(self, artifact: ArtifactRecord) -> str | None:
        """The recorded sha256, or (butido's rows) that of its file, if it is still there."""
        if artifact.sha256 is not None:
            return artifact.sha256
        path = self._unhashed(artifact)
        return None if path is None else self._sha256(path)

    def _unhashed(self, artifact: ArtifactRecord) -> Path | None:
        for root in self._staging_roots:
            path = root / str(artifact.submit_uuid) / artifact.path
            if self._sha256(path) is not None:
                return path
        return None

    def _sha256(self, path: Path) -> str | None:
        with self._lock:
            if path in self._hashes:
                return self._hashes[path]
        digest: str | None
        try:
            with path.open("rb") as stream:
                hasher = hashlib.sha256()
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
            digest = hasher.hexdigest()
        except OSError:
            digest = None
        with self._lock:
            self._hashes[path] = digest
        return digest


def find_reusable(
    recorder: BuildRecorder, locator: ArtifactLocator, name: str, version: str, key: str
) -> ReuseMatch | None:
    """The newest earlier succeeded job with `key` whose artifacts all still exist."""
    for candidate in recorder.reuse_candidates(name, version, key):
        match = _on_disk(recorder, locator, candidate)
        if match is not None:
            return match
    return None


def find_job_to_reuse(
    recorder: BuildRecorder, locator: ArtifactLocator, job_uuid: uuid.UUID
) -> ReuseMatch | None:
    """That earlier job, when it succeeded (or reused) and its artifacts all still exist."""
    record = recorder.job(job_uuid)
    if record is None or record.state.ok is not True:
        return None
    if record.reused_from_uuid is not None:
        # A reused job has no artifacts of its own: those of the job it reused are its outputs.
        return find_job_to_reuse(recorder, locator, record.reused_from_uuid)
    return _on_disk(recorder, locator, record)


def _on_disk(
    recorder: BuildRecorder, locator: ArtifactLocator, candidate: JobRecord
) -> ReuseMatch | None:
    records = recorder.artifacts_of(candidate.id)
    found = [(record, locator.locate(record)) for record in records]
    if any(path is None for _, path in found):
        return None
    return ReuseMatch(
        candidate.uuid,
        tuple(
            Artifact(record.id, record.path, path, locator.sha256(record) or "")
            for record, path in found
            if path is not None
        ),
    )

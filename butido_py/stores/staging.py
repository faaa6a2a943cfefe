"""Staging store: extracting a job's untrusted `/outputs` archive into `<staging>/<submit-uuid>/`.

The archive comes from a container and is treated as hostile: only regular files and directories
are accepted, no absolute paths, no `..`, no links, devices or FIFOs, no entry twice. Files are
written below a temporary directory first and moved into place only when the whole archive was
read, so a failure leaves nothing half-written in the staging directory.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from butido_py.errors import StoreError

_CHUNK = 1 << 20
OUTPUTS_ROOT = "outputs"


@dataclass(frozen=True, slots=True)
class StagedFile:
    path: str  # relative to the submit's staging directory, POSIX separators
    sha256: str
    size: int


class _ChunkStream:
    """A read-only file object over an iterator of byte chunks (docker's get_archive stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def submit_dir(staging_root: Path, submit_uuid: uuid.UUID) -> Path:
    return staging_root / str(submit_uuid)


def extract_outputs(chunks: Iterable[bytes], target: Path, *, job: str) -> list[StagedFile]:
    """Extract a tar stream whose top directory is `outputs/` into `target`; return what landed.

    `job` names the job in error messages.
    """
    target.mkdir(parents=True, exist_ok=True)
    scratch = target / f".incoming-{uuid.uuid4().hex}"
    scratch.mkdir()
    try:
        staged = _extract_to(scratch, _ChunkStream(chunks), job)
        _check_conflicts(staged, target, job)
        for item in staged:
            destination = target / item.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            (scratch / item.path).replace(destination)
        return staged
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _extract_to(scratch: Path, stream: _ChunkStream, job: str) -> list[StagedFile]:
    staged: list[StagedFile] = []
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as archive:  # type: ignore[call-overload]
            for member in archive:
                relative = _safe_relative(member, job)
                if relative is None:
                    continue
                if relative in seen:
                    raise _rejected(job, f"entry {member.name!r} appears twice")
                seen.add(relative)
                if member.isdir():
                    continue
                source = archive.extractfile(member)
                if source is None:
                    raise _rejected(job, f"entry {member.name!r} has no content")
                staged.append(_write(scratch, relative, source))
    except tarfile.TarError as exc:
        raise _rejected(job, f"not a valid tar archive ({exc})") from exc
    return staged


def _safe_relative(member: tarfile.TarInfo, job: str) -> str | None:
    """The entry's path below `outputs/`, or None for the `outputs/` directory itself."""
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise _rejected(job, f"entry {member.name!r} is a {kind}; only files and directories")
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise _rejected(job, f"entry {member.name!r} escapes /{OUTPUTS_ROOT}")
    parts = [part for part in path.parts if part not in ("", ".")]
    if not parts or parts[0] != OUTPUTS_ROOT:
        raise _rejected(job, f"entry {member.name!r} is outside /{OUTPUTS_ROOT}")
    if len(parts) == 1:
        return None
    if any(part.startswith(".incoming-") for part in parts):
        raise _rejected(job, f"entry {member.name!r} uses a reserved name")
    return "/".join(parts[1:])


def _write(scratch: Path, relative: str, source: IO[bytes]) -> StagedFile:
    destination = scratch / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with destination.open("xb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    destination.chmod(0o644)
    return StagedFile(path=relative, sha256=digest.hexdigest(), size=size)


def _check_conflicts(staged: list[StagedFile], target: Path, job: str) -> None:
    for item in staged:
        existing = target / item.path
        if existing.exists() or existing.is_symlink():
            raise StoreError(
                f"job {job}: output {item.path!r} already exists in {target}",
                hint="two packages of one submit produce the same file name; rename one output",
            )


def _rejected(job: str, reason: str) -> StoreError:
    return StoreError(
        f"job {job}: output archive rejected: {reason}",
        hint="the package script must leave only regular files and directories under /outputs",
    )

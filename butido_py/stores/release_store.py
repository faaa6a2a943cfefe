"""Release stores: `<releases_root>/<store>/<artifact path>` (butido-reference.md §11.1).

Copies never leave a half-written file under a released name: the staged file is checked against
its recorded sha256, copied to a temporary name in the destination directory, the copy is checked
again, and only then renamed over the destination (atomic on one file system).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from butido_py.errors import StoreError

_CHUNK = 1 << 20
#: Prefix of the temporary names; never a released file name.
TEMP_PREFIX = ".butido-tmp-"


@dataclass(frozen=True, slots=True)
class CopiedFile:
    destination: Path
    sha256: str
    size: int


def store_dir(releases_root: Path, store: str) -> Path:
    return releases_root / store


def released_path(store_directory: Path, artifact_path: str) -> Path:
    """Where an artifact lives in the store; refuses paths that would leave the store."""
    relative = PurePosixPath(artifact_path)
    if (
        relative.is_absolute()
        or ".." in relative.parts
        or not relative.parts
        or relative.name.startswith(TEMP_PREFIX)
    ):
        raise StoreError(
            f"artifact path {artifact_path!r} cannot be released: it is not a plain relative path",
            hint="the artifact row was not written by butido_py's staging store",
        )
    return store_directory.joinpath(*relative.parts)


def file_sha256(path: Path) -> str | None:
    """The sha256 of a regular file; None when there is none (missing, a directory, a link)."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def copy_verified(source: Path, destination: Path, *, expected_sha256: str | None) -> CopiedFile:
    """Copy `source` to `destination` (replacing it) only if both match `expected_sha256`.

    With no recorded sha256 (rows written by butido) the copy is checked against the source.
    """
    before = file_sha256(source)
    if before is None:
        raise StoreError(
            f"{source} is not a file",
            hint="the staging directory of the submit was removed or moved; "
            "pass --staging-dir if the build used one",
        )
    if expected_sha256 is not None and before != expected_sha256:
        raise StoreError(
            f"{source} does not match its recorded sha256 "
            f"(recorded {expected_sha256[:16]}…, found {before[:16]}…)",
            hint="the staged file was changed after the build; rebuild the package",
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.parent / f"{TEMP_PREFIX}{uuid.uuid4().hex}-{destination.name}"
    try:
        shutil.copyfile(source, temporary)
        temporary.chmod(0o644)
        _fsync(temporary)
        after = file_sha256(temporary)
        if after != before:
            raise StoreError(
                f"the copy of {source} to {destination.parent} is damaged (sha256 {after})",
                hint="check the file system of the release store (full disk, failing device)",
            )
        temporary.replace(destination)
    except OSError as exc:
        raise StoreError(
            f"cannot copy {source} to {destination}: {exc.strerror or exc}",
            hint="check that the release store is writable",
        ) from exc
    finally:
        temporary.unlink(missing_ok=True)
    return CopiedFile(destination, before, destination.stat().st_size)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_released(path: Path) -> bool:
    """Delete a released file; False when it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(
            f"cannot delete {path}: {exc.strerror or exc}",
            hint="check the permissions of the release store",
        ) from exc
    return True

"""Staging store: extracting a job's untrusted `/outputs` archive into `<staging>/<submit-uuid>/`.

The archive comes from a container and is treated as hostile: only regular files and directories
are accepted, no absolute paths, no `..`, no links, devices or FIFOs, no entry twice, no name that
is not UTF-8 (it could not be recorded), no entry under a file, and no clash with what other jobs
of the submit put there (`shared` against `shared/x`). Files are written below a temporary
directory first and moved into place only when the whole archive was read and checked, so a
failure leaves nothing unrecorded in the staging directory.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tarfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from butido_py.errors import StoreError

_CHUNK = 1 << 20
OUTPUTS_ROOT = "outputs"
INCOMING_PREFIX = ".incoming-"
#: errno values that mean the staging file system has no room left.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
#: Jobs of one submit move their outputs into the same directory: the check for clashes and the
#: moves of one job happen together (one butido process runs a submit's jobs).
_MOVE_LOCK = threading.Lock()


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


def shown(name: str) -> str:
    """`name` for a one-line message: bytes that are not UTF-8 as `\\xNN`, control characters
    and backslashes escaped (a hostile name must not forge or break lines)."""
    out: list[str] = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif not char.isprintable():
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def unrecorded_files(directory: Path, recorded: Iterable[str]) -> list[str]:
    """Everything below a submit's staging `directory` that is not a directory and whose path
    (relative, POSIX separators) is not in `recorded`: files no artifact row describes. Sorted;
    a missing directory has none."""
    known = set(recorded)
    found: list[str] = []
    for top, dirs, files in os.walk(directory, followlinks=False):
        base = Path(top).relative_to(directory)
        links = [d for d in dirs if (Path(top) / d).is_symlink()]
        for name in [*files, *links]:
            relative = (base / name).as_posix()
            if relative not in known:
                found.append(relative)
    return sorted(found)


def extract_outputs(
    chunks: Iterable[bytes], target: Path, *, job: str, max_size: int | None = None
) -> list[StagedFile]:
    """Extract a tar stream whose top directory is `outputs/` into `target`; return what landed.

    `job` names the job in error messages; `max_size` caps the bytes of all its files together
    (`max_output_size`). A full disk or another write failure is a `StoreError` too.
    """
    try:
        target.mkdir(parents=True, exist_ok=True)
        scratch = target / f"{INCOMING_PREFIX}{uuid.uuid4().hex}"
        scratch.mkdir()
    except OSError as error:
        raise _write_failed(job, target, error) from error
    try:
        staged = _extract_to(scratch, _ChunkStream(chunks), job, max_size)
        with _MOVE_LOCK:
            _check_conflicts(staged, target, job)
            _move_in(scratch, staged, target)
    except OSError as error:
        raise _write_failed(job, target, error) from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return staged


@dataclass(slots=True)
class _Budget:
    limit: int | None
    used: int = 0


@dataclass(slots=True)
class _Layout:
    """The entries of one archive so far: a path is a file or a directory, never both."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    declared: set[str] = field(default_factory=set)

    def add(self, relative: str, *, is_dir: bool) -> str | None:
        """Why the entry does not fit, or None."""
        if relative in self.files or relative in self.declared:
            return "appears twice"
        parts = relative.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        under = next((p for p in parents if p in self.files), None)
        if under is not None:
            return f"lies under the file '{shown(OUTPUTS_ROOT + '/' + under)}'"
        if is_dir:
            self.declared.add(relative)
            self.dirs.add(relative)
        elif relative in self.dirs:
            return "is a file, but other entries lie under it"
        else:
            self.files.add(relative)
        self.dirs.update(parents)
        return None


def _extract_to(
    scratch: Path, stream: _ChunkStream, job: str, max_size: int | None
) -> list[StagedFile]:
    staged: list[StagedFile] = []
    layout = _Layout()
    budget = _Budget(max_size)
    try:
        with tarfile.open(  # type: ignore[call-overload]
            fileobj=stream, mode="r|*", encoding="utf-8", errors="surrogateescape"
        ) as archive:
            for member in archive:
                relative = _safe_relative(member, job)
                if relative is None:
                    continue
                problem = layout.add(relative, is_dir=member.isdir())
                if problem is not None:
                    raise _rejected(job, f"entry '{shown(member.name)}' {problem}")
                if member.isdir():
                    continue
                source = archive.extractfile(member)
                if source is None:
                    raise _rejected(job, f"entry '{shown(member.name)}' has no content")
                staged.append(_write(scratch, relative, source, budget, job))
    except tarfile.TarError as exc:
        raise _rejected(job, f"not a valid tar archive ({exc})") from exc
    return staged


def _safe_relative(member: tarfile.TarInfo, job: str) -> str | None:
    """The entry's path below `outputs/`, or None for the `outputs/` directory itself."""
    name = shown(member.name)
    try:
        member.name.encode("utf-8")
    except UnicodeEncodeError:
        raise _rejected(job, f"entry '{name}' has a name that is not valid UTF-8") from None
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise _rejected(job, f"entry '{name}' is a {kind}; only files and directories")
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise _rejected(job, f"entry '{name}' escapes /{OUTPUTS_ROOT}")
    parts = [part for part in path.parts if part not in ("", ".")]
    if not parts or parts[0] != OUTPUTS_ROOT:
        raise _rejected(job, f"entry '{name}' is outside /{OUTPUTS_ROOT}")
    if len(parts) == 1:
        return None
    if any(part.startswith(INCOMING_PREFIX) for part in parts):
        raise _rejected(job, f"entry '{name}' uses a reserved name")
    return "/".join(parts[1:])


def _write(
    scratch: Path, relative: str, source: IO[bytes], budget: _Budget, job: str
) -> StagedFile:
    destination = scratch / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with destination.open("xb") as out:
        while chunk := source.read(_CHUNK):
            budget.used += len(chunk)
            if budget.limit is not None and budget.used > budget.limit:
                raise StoreError(
                    f"job {job}: outputs exceed max_output_size ({budget.limit} bytes) at "
                    f"entry '{shown(OUTPUTS_ROOT + '/' + relative)}'",
                    hint="make the package produce less, or raise max_output_size in "
                    "config.toml (docs/build.md#outputs)",
                )
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    destination.chmod(0o644)
    return StagedFile(path=relative, sha256=digest.hexdigest(), size=size)


def _check_conflicts(staged: list[StagedFile], target: Path, job: str) -> None:
    """Outputs of other jobs of the submit: the same path, a file where this job needs a
    directory, or a directory where it puts a file."""
    for item in staged:
        parts = item.path.split("/")
        for depth in range(1, len(parts)):
            parent = target.joinpath(*parts[:depth])
            if parent.is_symlink() or (parent.exists() and not parent.is_dir()):
                raise _clash(
                    job, item.path, f"lies under the file '{shown('/'.join(parts[:depth]))}'"
                )
        existing = target / item.path
        if existing.is_symlink() or existing.exists():
            what = "a directory" if existing.is_dir() else "a file"
            raise _clash(job, item.path, f"already exists in {target} as {what}")


def _move_in(scratch: Path, staged: list[StagedFile], target: Path) -> None:
    """Every file into place, or (when one move fails) none: the moved ones go back."""
    moved: list[StagedFile] = []
    try:
        for item in staged:
            destination = target / item.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            (scratch / item.path).replace(destination)
            moved.append(item)
    except OSError:
        for item in moved:
            (target / item.path).unlink(missing_ok=True)
        _remove_empty_parents(target, staged)
        raise


def _remove_empty_parents(target: Path, staged: list[StagedFile]) -> None:
    parents = {p for item in staged for p in (target / item.path).parents if p != target}
    for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if target in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                continue  # not empty: another job's outputs are in it


def _clash(job: str, path: str, reason: str) -> StoreError:
    return StoreError(
        f"job {job}: output '{shown(path)}' {reason}",
        hint="two packages of one submit produce clashing file names; rename one output",
    )


def _write_failed(job: str, target: Path, error: OSError) -> StoreError:
    if error.errno in _FULL:
        return StoreError(
            f"job {job}: staging is full: no space left in {target} for its outputs",
            hint="free space in the staging directory (or point `staging` in config.toml to a "
            "bigger disk) and build again",
        )
    return StoreError(
        f"job {job}: cannot write its outputs to staging {target}: {error.strerror or error}",
        hint="check that the staging directory is writable by this user",
    )


def _rejected(job: str, reason: str) -> StoreError:
    return StoreError(
        f"job {job}: output archive rejected: {reason}",
        hint="the package script must leave only regular files and directories with UTF-8 "
        "names under /outputs",
    )

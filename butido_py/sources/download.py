"""Downloading sources into the cache over HTTP(S): the one network adapter of butido_py.

A download streams into a temporary file next to its destination, hashing on the way, and is
renamed into place only when the body is complete and its hash matches `pkg.toml`; any failure
(HTTP error, HTML answer, connection closed early, time-out, hash mismatch, Ctrl-C) removes the
temporary file, so the cache never holds a partial or wrong source. An existing file is only
replaced by a successful download (`force`).
"""

from __future__ import annotations

import hashlib
import http.client
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Protocol

from butido_py import __version__
from butido_py.sources.cache import CachedSource

USER_AGENT = f"butido_py/{__version__}"
#: Concurrent downloads at most (butido allowed 100; a few saturate a link just as well).
MAX_WORKERS = 8
_CHUNK = 256 * 1024


class DownloadOutcome(StrEnum):
    DOWNLOADED = "downloaded"
    EXISTS = "exists"  # already in the cache and not --force: skipped, not a failure
    MANUAL = "manual"  # download_manually = true: never fetched
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DownloadResult:
    entry: CachedSource
    outcome: DownloadOutcome
    message: str = ""
    #: Bytes written (DOWNLOADED only).
    size: int = 0


class DownloadProgress(Protocol):
    """Receives progress from worker threads; `download_sources` serialises the calls."""

    def expect(self, nbytes: int) -> None:
        """A download announced its size (Content-Length)."""

    def advance(self, nbytes: int) -> None:
        """Bytes arrived."""

    def finished(self, result: DownloadResult) -> None:
        """One source is done (whatever the outcome)."""


@dataclass(frozen=True, slots=True)
class DownloadOptions:
    force: bool = False
    #: Seconds allowed for one download from connecting to the last byte; None: no limit.
    timeout: float | None = None
    workers: int = MAX_WORKERS
    user_agent: str = USER_AGENT


class _DownloadError(Exception):
    pass


class _SerialProgress:
    """Forwards to a `DownloadProgress` under one lock (callers are worker threads)."""

    def __init__(self, target: DownloadProgress | None) -> None:
        self._target = target
        self._lock = threading.Lock()

    def expect(self, nbytes: int) -> None:
        self._call(lambda t: t.expect(nbytes))

    def advance(self, nbytes: int) -> None:
        self._call(lambda t: t.advance(nbytes))

    def finished(self, result: DownloadResult) -> None:
        self._call(lambda t: t.finished(result))

    def _call(self, action: Callable[[DownloadProgress], None]) -> None:
        if self._target is not None:
            with self._lock:
                action(self._target)


def download_sources(
    entries: Sequence[CachedSource],
    options: DownloadOptions,
    progress: DownloadProgress | None = None,
) -> list[DownloadResult]:
    """Download every entry (at most `options.workers` at a time); results in entry order."""
    serial = _SerialProgress(progress)
    cancel = threading.Event()

    def run(entry: CachedSource) -> DownloadResult:
        result = download_source(entry, options, serial, cancel)
        serial.finished(result)
        return result

    if not entries:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(options.workers, len(entries))))
    try:
        futures = [pool.submit(run, entry) for entry in entries]
        return [future.result() for future in futures]
    except BaseException:
        # Ctrl-C in the main thread: running downloads stop at their next chunk and remove
        # their temporary files; queued ones never start.
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def download_source(
    entry: CachedSource,
    options: DownloadOptions,
    progress: DownloadProgress,
    cancel: threading.Event | None = None,
) -> DownloadResult:
    if entry.source.download_manually:
        state = "is in the cache" if entry.path.exists() else "is missing"
        return DownloadResult(
            entry,
            DownloadOutcome.MANUAL,
            f"marked download_manually = true, not downloaded; {entry.path} {state}",
        )
    if entry.path.exists() and not options.force:
        return DownloadResult(
            entry,
            DownloadOutcome.EXISTS,
            f"{entry.path} exists, not downloaded again (--force replaces it)",
        )
    try:
        size = _fetch(entry, options, progress, cancel or threading.Event())
    except _DownloadError as failure:
        return DownloadResult(entry, DownloadOutcome.FAILED, str(failure))
    return DownloadResult(entry, DownloadOutcome.DOWNLOADED, size=size)


def _fetch(
    entry: CachedSource,
    options: DownloadOptions,
    progress: DownloadProgress,
    cancel: threading.Event,
) -> int:
    url = entry.source.url
    if not url.lower().startswith(("http://", "https://")):
        raise _DownloadError(f"{url}: only http:// and https:// URLs can be downloaded")
    request = urllib.request.Request(url, headers={"User-Agent": options.user_agent})  # noqa: S310 - scheme checked above
    deadline = None if options.timeout is None else time.monotonic() + options.timeout
    try:
        with urllib.request.urlopen(request, timeout=options.timeout) as response:  # noqa: S310 - scheme checked above
            length = _check_response(response, url)
            if length is not None:
                progress.expect(length)
            return _store(response, entry, length, _Limits(deadline, cancel), progress)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _DownloadError(
            f"{url}: received HTTP status {exc.code} {exc.reason}, expected 200 OK"
        ) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _DownloadError(f"{url}: timed out after {options.timeout} s") from exc
        raise _DownloadError(f"{url}: cannot connect: {exc.reason}") from exc
    except TimeoutError as exc:
        raise _DownloadError(f"{url}: timed out after {options.timeout} s") from exc
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise _DownloadError(f"{url}: download failed: {str(exc) or type(exc).__name__}") from exc


def _check_response(response: http.client.HTTPResponse, url: str) -> int | None:
    """The announced length; non-200 and HTML answers are errors."""
    if response.status != 200:
        raise _DownloadError(
            f"{url}: received HTTP status {response.status} {response.reason}, expected 200 OK"
        )
    content_type = response.headers.get("Content-Type", "")
    if "text/html" in content_type.lower():
        raise _DownloadError(
            f"{url}: the server answered with an HTML page ({content_type}), not the source "
            "(a login or error page?)"
        )
    length = response.headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


@dataclass(frozen=True, slots=True)
class _Limits:
    deadline: float | None
    cancel: threading.Event


def _store(
    response: IO[bytes],
    entry: CachedSource,
    length: int | None,
    limits: _Limits,
    progress: DownloadProgress,
) -> int:
    temporary, stream = _create_temporary(entry.path)
    try:
        with stream as out:
            size, digest = _copy(response, out, entry, limits, progress)
        _check_body(entry, size, length, digest)
        temporary.replace(entry.path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return size


def _create_temporary(destination: Path) -> tuple[Path, IO[bytes]]:
    """A new, unique file next to `destination` (its directory is created when missing).

    Opened like any file (the umask applies), not with `mkstemp`'s mode 0600: the renamed file
    must be as readable as a source put into the cache by hand.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.part")
        try:
            return temporary, temporary.open("xb")
        except FileExistsError:
            continue


def _check_body(entry: CachedSource, size: int, length: int | None, digest: str) -> None:
    if length is not None and size != length:
        raise _DownloadError(
            f"{entry.source.url}: connection closed after {size} of {length} bytes"
        )
    if digest != entry.source.hash_value:
        raise _DownloadError(
            f"{entry.source.url}: hash mismatch, expected {entry.source.hash_type} "
            f"{entry.source.hash_value!r}, got {digest!r}; nothing was stored"
        )


def _copy(
    response: IO[bytes],
    out: IO[bytes],
    entry: CachedSource,
    limits: _Limits,
    progress: DownloadProgress,
) -> tuple[int, str]:
    digest = hashlib.new(str(entry.source.hash_type))
    size = 0
    while chunk := response.read(_CHUNK):
        if limits.cancel.is_set():
            raise _DownloadError(f"{entry.source.url}: canceled")
        if limits.deadline is not None and time.monotonic() > limits.deadline:
            raise TimeoutError
        out.write(chunk)
        digest.update(chunk)
        size += len(chunk)
        progress.advance(len(chunk))
    return size, digest.hexdigest()

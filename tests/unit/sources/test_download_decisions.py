"""What `download_source` decides without touching the network (the HTTP part is tested in
tests/integration/test_source_download.py against a real local server)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from butido_py.package.model import HashType, Package, Source
from butido_py.sources.cache import CachedSource, SourceCache
from butido_py.sources.download import (
    USER_AGENT,
    DownloadOptions,
    DownloadOutcome,
    DownloadResult,
    download_source,
    download_sources,
)

# Nothing listens on port 9 of loopback ("discard"); a request would fail, not hang.
UNREACHABLE = "http://127.0.0.1:9/src.source"


class Recorder:
    def __init__(self) -> None:
        self.expected: list[int] = []
        self.advanced: list[int] = []
        self.results: list[DownloadResult] = []

    def expect(self, nbytes: int) -> None:
        self.expected.append(nbytes)

    def advance(self, nbytes: int) -> None:
        self.advanced.append(nbytes)

    def finished(self, result: DownloadResult) -> None:
        self.results.append(result)


def entry(tmp_path: Path, *, manual: bool = False, url: str = UNREACHABLE) -> CachedSource:
    src = Source("src", url, HashType.SHA256, hashlib.sha256(b"x").hexdigest(), manual)
    pkg = Package("p", "1", False, (src,), (), (), (), ())
    return SourceCache(tmp_path).entries([pkg])[0]


def test_user_agent_names_butido_py() -> None:
    assert USER_AGENT.startswith("butido_py/")


def test_an_existing_file_is_skipped_without_force(tmp_path: Path) -> None:
    cached = entry(tmp_path)
    cached.path.parent.mkdir(parents=True)
    cached.path.write_bytes(b"old")
    result = download_source(cached, DownloadOptions(), Recorder())
    assert result.outcome is DownloadOutcome.EXISTS
    assert "--force" in result.message
    assert cached.path.read_bytes() == b"old"


def test_manual_sources_are_reported_not_fetched(tmp_path: Path) -> None:
    cached = entry(tmp_path, manual=True)
    result = download_source(cached, DownloadOptions(force=True), Recorder())
    assert result.outcome is DownloadOutcome.MANUAL
    assert "download_manually" in result.message
    assert "is missing" in result.message
    assert not cached.path.parent.exists()


def test_only_http_urls_are_fetched(tmp_path: Path) -> None:
    cached = entry(tmp_path, url="file:///etc/passwd")
    result = download_source(cached, DownloadOptions(), Recorder())
    assert result.outcome is DownloadOutcome.FAILED
    assert "only http:// and https://" in result.message
    assert not cached.path.exists()


def test_a_refused_connection_fails_and_leaves_no_file(tmp_path: Path) -> None:
    cached = entry(tmp_path)
    (result,) = download_sources([cached], DownloadOptions(timeout=5))
    assert result.outcome is DownloadOutcome.FAILED
    assert "cannot connect" in result.message
    assert not cached.path.parent.exists()


def test_no_entries_no_work() -> None:
    assert download_sources([], DownloadOptions()) == []

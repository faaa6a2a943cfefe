"""Downloads against a real HTTP server on loopback (an ephemeral port, started by the test)."""

from __future__ import annotations

import hashlib
import http.server
import signal
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

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

BODY = b"example source of hello 2.12.1\n" * 4096  # 126 KiB: several chunks


@dataclass
class Server:
    base: str
    user_agents: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    #: Set when /stalled has sent the first part of its body.
    stalled: threading.Event = field(default_factory=threading.Event)


class Handler(http.server.BaseHTTPRequestHandler):
    server_state: Server

    def do_GET(self) -> None:
        state = self.server_state
        state.user_agents.append(self.headers.get("User-Agent", ""))
        state.paths.append(self.path)
        route = self.path.split("?")[0]
        if route == "/good":
            self._send(200, BODY, "application/octet-stream")
        elif route == "/other":
            self._send(200, b"another version\n", "application/octet-stream")
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/good")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/html":
            self._send(200, b"<html><body>please log in</body></html>", "text/html; charset=utf-8")
        elif route == "/truncated":
            self._send_start(len(BODY))
        elif route == "/unknown-length":
            self._send_start(None)
        elif route == "/stalled":
            self._send_start(len(BODY))
            state.stalled.set()
            state.release.wait(10)
            self.wfile.write(BODY[1000:])
        elif route == "/slow":
            state.release.wait(10)
            self._send(200, BODY, "application/octet-stream")
        else:
            self._send(404, b"not found", "text/plain")

    def _send_start(self, length: int | None) -> None:
        """Headers announcing `length` bytes (None: until the connection closes), 1000 sent."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is None:
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(BODY[:1000])
        self.wfile.flush()
        self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up (the time-out test) are expected


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="")
    handler = type("BoundHandler", (Handler,), {"server_state": state})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


def entry(cache: Path, url: str, content: bytes = BODY, name: str = "hello") -> CachedSource:
    src = Source("src", url, HashType.SHA256, hashlib.sha256(content).hexdigest())
    package = Package(name, "2.12.1", False, (src,), (), (), (), ())
    return SourceCache(cache).entries([package])[0]


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def download_one(cached: CachedSource, **options: object) -> DownloadResult:
    (result,) = download_sources([cached], DownloadOptions(**options))  # type: ignore[arg-type]
    return result


class Progress:
    def __init__(self) -> None:
        self.expected = 0
        self.received = 0
        self.done: list[DownloadOutcome] = []

    def expect(self, nbytes: int) -> None:
        self.expected += nbytes

    def advance(self, nbytes: int) -> None:
        self.received += nbytes

    def finished(self, result: DownloadResult) -> None:
        self.done.append(result.outcome)


def test_a_good_download_lands_in_the_cache(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/good")
    progress = Progress()
    (result,) = download_sources([cached], DownloadOptions(), progress)
    assert result.outcome is DownloadOutcome.DOWNLOADED
    assert result.size == len(BODY)
    assert cached.path.read_bytes() == BODY
    assert files_in(cached.path.parent) == ["src.source"]
    by_hand = tmp_path / "by-hand"
    by_hand.touch()
    assert stat.S_IMODE(cached.path.stat().st_mode) == stat.S_IMODE(by_hand.stat().st_mode)
    assert server.user_agents == [USER_AGENT]
    assert (progress.expected, progress.received, progress.done) == (
        len(BODY),
        len(BODY),
        [DownloadOutcome.DOWNLOADED],
    )


def test_redirects_are_followed(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/redirect")
    assert download_one(cached).outcome is DownloadOutcome.DOWNLOADED
    assert cached.path.read_bytes() == BODY
    assert server.paths == ["/redirect", "/good"]


def test_a_hash_mismatch_stores_nothing(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/good", content=b"what pkg.toml expects\n")
    result = download_one(cached)
    assert result.outcome is DownloadOutcome.FAILED
    assert "hash mismatch" in result.message
    assert hashlib.sha256(BODY).hexdigest() in result.message
    assert files_in(cached.path.parent) == []


def test_a_404_is_an_error(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/nothing-here")
    result = download_one(cached)
    assert result.outcome is DownloadOutcome.FAILED
    assert "HTTP status 404" in result.message
    assert f"{server.base}/nothing-here" in result.message
    assert not cached.path.parent.exists()  # not even the package's directory


def test_an_html_answer_is_an_error(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/html")
    result = download_one(cached)
    assert result.outcome is DownloadOutcome.FAILED
    assert "HTML" in result.message
    assert not cached.path.parent.exists()


@pytest.mark.parametrize("route", ["/truncated", "/unknown-length"])
def test_an_interrupted_download_leaves_no_file(server: Server, tmp_path: Path, route: str) -> None:
    cached = entry(tmp_path, server.base + route)
    result = download_one(cached)
    assert result.outcome is DownloadOutcome.FAILED
    expected = "connection closed after 1000 of" if route == "/truncated" else "hash mismatch"
    assert expected in result.message
    assert files_in(cached.path.parent) == []


def test_a_timeout_leaves_no_file(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/slow")
    result = download_one(cached, timeout=0.3)
    assert result.outcome is DownloadOutcome.FAILED
    assert "timed out after 0.3 s" in result.message
    assert files_in(cached.path.parent) == []


def test_force_replaces_an_existing_file_only_when_the_new_one_is_good(
    server: Server, tmp_path: Path
) -> None:
    cached = entry(tmp_path, f"{server.base}/good")
    cached.path.parent.mkdir(parents=True)
    cached.path.write_bytes(b"stale\n")

    skipped = download_one(cached)
    assert skipped.outcome is DownloadOutcome.EXISTS
    assert server.paths == []  # nothing was requested
    assert cached.path.read_bytes() == b"stale\n"

    broken = entry(tmp_path, f"{server.base}/truncated")
    assert download_one(broken, force=True).outcome is DownloadOutcome.FAILED
    assert cached.path.read_bytes() == b"stale\n"  # a failed --force keeps the old file

    assert download_one(cached, force=True).outcome is DownloadOutcome.DOWNLOADED
    assert cached.path.read_bytes() == BODY
    assert files_in(cached.path.parent) == ["src.source"]


def test_many_downloads_run_concurrently_and_keep_their_order(
    server: Server, tmp_path: Path
) -> None:
    entries = [entry(tmp_path, f"{server.base}/good", name=f"p{i}") for i in range(10)]
    entries.append(entry(tmp_path, f"{server.base}/missing", name="broken"))
    results = download_sources(entries, DownloadOptions(workers=4))
    assert [r.entry for r in results] == entries
    assert [r.outcome for r in results] == [DownloadOutcome.DOWNLOADED] * 10 + [
        DownloadOutcome.FAILED
    ]
    assert all(e.path.read_bytes() == BODY for e in entries[:10])


def test_a_canceled_download_leaves_no_file(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/good")
    canceled = threading.Event()
    canceled.set()  # as after Ctrl-C in the main thread
    result = download_source(cached, DownloadOptions(), Progress(), canceled)
    assert result.outcome is DownloadOutcome.FAILED
    assert result.message.endswith(": canceled")
    assert files_in(cached.path.parent) == []


def test_ctrl_c_during_a_download_leaves_no_file(server: Server, tmp_path: Path) -> None:
    cached = entry(tmp_path, f"{server.base}/stalled")
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        assert server.stalled.wait(10)
        signal.pthread_kill(main, signal.SIGINT)  # the main thread waits for the downloads
        server.release.set()

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        download_sources([cached], DownloadOptions())
    presser.join(10)
    assert files_in(cached.path.parent) == []

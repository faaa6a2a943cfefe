"""`butido source …` on a repository made by `butido init`, downloads from a loopback server."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from butido_py.repository.git_init import (
    TEMPLATE_SOURCES,
    copy_template,
    find_template,
    init_and_commit,
)
from butido_py.sources.cache import import_cache_tree
from tests.e2e.conftest import Runner
from tests.helpers.json_schema import validated


@pytest.fixture
def cache(butido: Runner, tmp_path: Path) -> Path:
    """The default source cache of the `butido` runner's HOME."""
    return tmp_path / "home" / ".local/share/butido/sources"


@pytest.fixture
def example(tmp_path: Path, cache: Path) -> Path:
    """What `butido init example` makes (tests/e2e/test_init.py runs the command itself)."""
    root = tmp_path / "example"
    copy_template(find_template(), root)
    init_and_commit(root, "example")
    import_cache_tree(find_template() / TEMPLATE_SOURCES, cache)
    return root


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """The template's sources; `/truncated/<path>` announces more than it sends, then hangs up."""

    requests: list[str]

    def do_GET(self) -> None:
        if not self.path.startswith("/truncated/"):
            super().do_GET()
            return
        body = Path(self.translate_path(self.path.removeprefix("/truncated"))).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + 1000))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *_args: object) -> None:
        self.requests.append(self.path)


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """The template's sources over HTTP on an ephemeral loopback port; yields (base, requests)."""
    requests: list[str] = []
    handler = functools.partial(
        type("Handler", (QuietHandler,), {"requests": requests}),
        directory=str(find_template() / TEMPLATE_SOURCES),
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


def point_to(example: Path, package_dir: str, base: str, path: str | None = None) -> None:
    """Rewrite a package's source URL to the test server (leaves the work tree dirty).

    `path` replaces the URL's path (default: the package's own source).
    """
    pkg_toml = example / package_dir / "pkg.toml"
    text = pkg_toml.read_text()
    if path is not None:
        text = re.sub(r'url = "http://127\.0\.0\.1:8765/[^"]*"', f'url = "{base}{path}"', text)
    pkg_toml.write_text(text.replace("http://127.0.0.1:8765", base))


def test_verify_lists_and_fails_with_the_package_and_the_path(
    butido: Runner, example: Path, cache: Path
) -> None:
    ok = butido("source", "verify", "--matching", ".", "--json", cwd=example)
    assert ok.code == 0, ok.stderr
    rows = validated("source verify", ok.stdout)
    assert len(rows) == 26
    assert {row["status"] for row in rows} == {"ok"}

    hello = cache / "hello-2.12.1" / "src.source"
    hello.write_bytes(b"tampered\n")
    (cache / "zlib-1.3" / "src.source").unlink()
    bad = butido("source", "verify", "--matching", "^(hello|zlib)$", cwd=example)
    assert bad.code == 8
    assert "2 of 4 sources verified" in bad.stdout
    assert f"error: hello 2.12.1 source src: hash mismatch of {hello}" in bad.stderr
    assert "error: zlib 1.3 source src: source missing" in bad.stderr
    assert "hint: fetch them again with `butido source download --force hello =2.12.1`" in (
        bad.stderr
    )
    assert "misc/hello/pkg.toml" in bad.stderr

    missing = butido("source", "list-missing", "--csv", "--header", cwd=example)
    assert missing.code == 0
    assert list(csv.reader(io.StringIO(missing.stdout))) == [
        ["Package", "Version", "Source", "Path"],
        ["zlib", "1.3", "src", str(cache / "zlib-1.3" / "src.source")],
    ]
    as_json = butido("source", "list-missing", "--json", cwd=example).stdout
    assert [r["package"] for r in validated("source list-missing", as_json)] == ["zlib"]
    present = validated("source of", butido("source", "of", "zlib", "--json", cwd=example).stdout)
    assert ("1.3", False) in [(r["version"], r["present"]) for r in present]


def test_selection_by_name_constraint_and_errors(butido: Runner, example: Path) -> None:
    urls = butido("source", "url", "zlib", "1.3", "--json", cwd=example)
    assert urls.code == 0, urls.stderr
    assert [(r["version"], r["url"]) for r in validated("source url", urls.stdout)] == [
        ("1.3", "http://127.0.0.1:8765/zlib-1.3/src.source"),
        ("1.3.1", "http://127.0.0.1:8765/zlib-1.3.1/src.source"),
    ]
    exact = butido("source", "of", "zlib", "=1.3", cwd=example)
    assert exact.code == 0
    path = example.parent / "home/.local/share/butido/sources/zlib-1.3/src.source"
    assert exact.stdout.splitlines() == ["zlib 1.3", f"\t{path}"]
    every = butido("source", "url", "--csv", "--no-header", cwd=example)
    assert len(every.stdout.splitlines()) == 26

    unknown = butido("source", "verify", "nosuch", cwd=example)
    assert unknown.code == 4
    assert "error: package nosuch not found" in unknown.stderr
    wrong_version = butido("source", "verify", "zlib", "9", cwd=example)
    assert wrong_version.code == 4
    assert "hint: versions of zlib: 1.2.13, 1.3, 1.3.1" in wrong_version.stderr
    neither = butido("source", "verify", cwd=example)
    assert neither.code == 2
    assert "give a package PKG [CONSTRAINT] or --matching REGEX" in neither.stderr
    bad_regex = butido("source", "download", "--matching", "(", cwd=example)
    assert bad_regex.code == 2
    assert "invalid regular expression" in bad_regex.stderr


def test_download_reads_the_work_tree_and_says_so(
    butido: Runner, example: Path, cache: Path, server: tuple[str, list[str]]
) -> None:
    base, requests = server
    point_to(example, "misc/hello", base)
    pkg_toml = example / "misc/hello/pkg.toml"
    digest = "67dfd3be503eb799d0e2dbfcb7f3c4c582ef44b7"
    pkg_toml.write_text(pkg_toml.read_text().replace(digest, digest.upper()))  # hex is hex
    target = cache / "hello-2.12.1" / "src.source"
    target.unlink()

    done = butido("source", "download", "hello", cwd=example)
    assert done.code == 0, done.stderr
    assert done.stderr.startswith("note: reading the work tree: 1 file(s) differ from HEAD (")
    assert done.stderr.endswith("); build uses the commit\n")
    bundled = (find_template() / "sources/hello-2.12.1/src.source").read_bytes()
    assert f"downloaded hello 2.12.1 source src: {len(bundled)} bytes -> {target}" in done.stdout
    assert requests == ["/hello-2.12.1/src.source"]
    assert target.read_bytes() == bundled

    again = butido("source", "download", "hello", "--allow-dirty", cwd=example)
    assert again.code == 0
    assert "exists, not downloaded again (--force replaces it)" in again.stdout
    assert len(requests) == 1

    forced = butido("source", "download", "hello", "--allow-dirty", "--force", cwd=example)
    assert forced.code == 0, forced.stderr
    assert len(requests) == 2


def test_download_errors_name_package_source_and_path(
    butido: Runner, example: Path, cache: Path, server: tuple[str, list[str]]
) -> None:
    base, _ = server
    point_to(example, "libs/expat", base + "/nowhere")
    (cache / "expat-2.5.0" / "src.source").unlink()
    (cache / "firmware-blob-20231111" / "src.source").unlink()

    done = butido(
        "source", "download", "--matching", "^(expat|firmware-blob)$", "--allow-dirty",
        "--timeout", "30", cwd=example,
    )  # fmt: skip

    assert done.code == 8
    assert "error: expat 2.5.0 source src: " in done.stderr
    assert "HTTP status 404" in done.stderr
    assert "marked download_manually = true" in done.stdout
    assert "error: firmware-blob 20231111 source src: download http://127.0.0.1:8765/" in (
        done.stderr
    )
    assert "2 of 2 sources could not be provided" in done.stderr
    assert "hint: " in done.stderr
    assert not (cache / "expat-2.5.0" / "src.source").exists()
    assert list((cache / "expat-2.5.0").iterdir()) == []


def test_a_wrong_or_truncated_download_fails_and_stores_nothing(
    butido: Runner, example: Path, cache: Path, server: tuple[str, list[str]]
) -> None:
    base, requests = server
    point_to(example, "misc/hello", base, "/zlib-1.3/src.source")  # another file: wrong hash
    point_to(example, "libs/expat", base, "/truncated/expat-2.5.0/src.source")
    for name in ("hello-2.12.1", "expat-2.5.0"):
        (cache / name / "src.source").unlink()

    done = butido(
        "source", "download", "--matching", "^(hello|expat)$", "--allow-dirty", cwd=example
    )

    assert done.code == 8
    assert sorted(requests) == ["/truncated/expat-2.5.0/src.source", "/zlib-1.3/src.source"]
    assert "error: hello 2.12.1 source src: " in done.stderr
    assert "hash mismatch, expected sha1 '67dfd3be503eb799d0e2dbfcb7f3c4c582ef44b7'" in done.stderr
    assert "error: expat 2.5.0 source src: " in done.stderr
    assert "connection closed after" in done.stderr
    assert "2 of 2 sources could not be provided" in done.stderr
    assert list((cache / "hello-2.12.1").iterdir()) == []
    assert list((cache / "expat-2.5.0").iterdir()) == []


def test_download_help_explains_skipping_and_force(butido: Runner) -> None:
    done = butido("source", "download", "--help")
    assert done.code == 0
    text = " ".join(done.stdout.split())
    assert "skipped with a note (not a failure) unless --force" in text
    assert "--timeout SECS" in text
    assert "download_manually = true" in text

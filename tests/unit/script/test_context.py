from __future__ import annotations

import pytest

from butido_py.script import package_context
from butido_py.script.context import normalize_url
from tests.unit.script.packages import make_package


def test_context_holds_every_field_of_the_package() -> None:
    package = make_package(
        patches=("libs/zlib/a.patch",),
        environment=(("CFLAGS", "-O2"),),
        meta=(("owner", "me"),),
        phases={"build": "make\n"},
    )
    assert package_context(package) == {
        "name": "zlib",
        "version": "1.3.1",
        "version_is_semver": False,
        "sources": {
            "src": {
                "url": "https://example.com/",
                "hash": {"type": "sha256", "hash": "ab" * 32},
                "download_manually": False,
            }
        },
        "dependencies": {
            "build": ["make =4.4.1"],
            "runtime": ["libc 2.38", {"name": "compat 1", "condition": {"has_env": ["COMPAT"]}}],
        },
        "patches": ["libs/zlib/a.patch"],
        "environment": {"CFLAGS": "-O2"},
        "phases": {"build": {"script": "make\n"}},
        "meta": {"owner": "me"},
    }


def test_unset_optional_tables_are_absent() -> None:
    context = package_context(make_package())
    for key in ("environment", "allowed_images", "denied_images", "meta"):
        assert key not in context


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com", "https://example.com/"),
        ("HTTPS://Example.COM/a/B.tar.gz", "https://example.com/a/B.tar.gz"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("http://example.com:8080", "http://example.com:8080/"),
        ("http://127.0.0.1:8765/zlib/src.source", "http://127.0.0.1:8765/zlib/src.source"),
        ("https://u:p@example.com?q=1#f", "https://u:p@example.com/?q=1#f"),
        ("file:///srv/src.tar", "file:///srv/src.tar"),
        ("not a url", "not a url"),
    ],
)
def test_source_urls_are_normalised_like_the_url_crate(url: str, expected: str) -> None:
    assert normalize_url(url) == expected

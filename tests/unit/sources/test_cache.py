"""The source cache: file names, layout, hashing and verification."""

from __future__ import annotations

import errno
import hashlib
import shutil
import threading
from pathlib import Path

import pytest

from butido_py.errors import SourceError
from butido_py.package.model import HashType, Package, Source
from butido_py.sources.cache import (
    CachedSource,
    SourceCache,
    VerifyResult,
    VerifyStatus,
    cache_file_name,
    hash_file,
    import_cache_tree,
    verify_sources,
)

CONTENT = b"example source\n"


def package(name: str = "hello", version: str = "2.12.1", *sources: Source) -> Package:
    return Package(
        name=name,
        version=version,
        version_is_semver=False,
        sources=sources,
        build_dependencies=(),
        runtime_dependencies=(),
        patches=(),
        phases=(),
    )


def source(name: str = "src", content: bytes = CONTENT, kind: HashType = HashType.SHA256) -> Source:
    return Source(name, "http://127.0.0.1:1/x", kind, hashlib.new(kind, content).hexdigest())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("src", "src.source"),
        ("foo.tar", "foo.source"),
        ("foo.tar.gz", "foo.tar.source"),
        ("data-1.0", "data-1.source"),
        (".hidden", ".hidden.source"),
    ],
)
def test_cache_file_name_replaces_the_last_extension(name: str, expected: str) -> None:
    assert cache_file_name(name) == expected


def test_cache_layout_is_name_dash_version(tmp_path: Path) -> None:
    pkg = package("zlib", "1.3.1", source("src"), source("doc.tar"))
    entries = SourceCache(tmp_path).entries([pkg])
    assert [e.path for e in entries] == [
        tmp_path / "zlib-1.3.1" / "src.source",
        tmp_path / "zlib-1.3.1" / "doc.source",
    ]
    assert entries[0].label == "zlib 1.3.1 source src"


def test_sources_sharing_a_cache_file_are_an_error(tmp_path: Path) -> None:
    same_stem = package("zlib", "1.3.1", source("doc.tar"), source("doc.zip"))
    with pytest.raises(
        SourceError, match=r"zlib 1\.3\.1 source doc\.tar and zlib 1\.3\.1 source doc\.zip"
    ):
        SourceCache(tmp_path).entries([same_stem])
    dashes = [package("a-b", "1", source()), package("a", "b-1", source())]
    with pytest.raises(SourceError, match=r"share the cache file .*/a-b-1/src\.source") as raised:
        SourceCache(tmp_path).entries(dashes)
    assert raised.value.hint is not None


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", "", "."])
def test_names_that_would_leave_the_cache_are_errors(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SourceError, match="cannot be used as a file name"):
        SourceCache(tmp_path).path_of(package(), source(bad))


def test_a_package_version_with_a_slash_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="package name and version"):
        SourceCache(tmp_path).path_of(package("x", "1/../../etc"), source())


@pytest.mark.parametrize("kind", list(HashType))
def test_hash_file_supports_every_hash_type(tmp_path: Path, kind: HashType) -> None:
    path = tmp_path / "f"
    path.write_bytes(CONTENT * 100_000)  # several read chunks
    assert hash_file(path, kind) == hashlib.new(kind, CONTENT * 100_000).hexdigest()


def entry_at(tmp_path: Path, src: Source) -> CachedSource:
    pkg = package("hello", "2.12.1", src)
    return SourceCache(tmp_path).entries([pkg])[0]


def test_verify_ok_missing_mismatch_and_unreadable(tmp_path: Path) -> None:
    ok = entry_at(tmp_path / "ok", source())
    ok.path.parent.mkdir(parents=True)
    ok.path.write_bytes(CONTENT)
    missing = entry_at(tmp_path / "missing", source())
    wrong = entry_at(tmp_path / "wrong", source(kind=HashType.SHA512))
    wrong.path.parent.mkdir(parents=True)
    wrong.path.write_bytes(b"tampered\n")
    unreadable = entry_at(tmp_path / "dir", source(kind=HashType.SHA1))
    unreadable.path.mkdir(parents=True)  # a directory where the file should be

    results = verify_sources([ok, missing, wrong, unreadable])

    assert [r.entry for r in results] == [ok, missing, wrong, unreadable]
    assert [r.status for r in results] == [
        VerifyStatus.OK,
        VerifyStatus.MISSING,
        VerifyStatus.MISMATCH,
        VerifyStatus.UNREADABLE,
    ]
    assert results[0].ok
    assert results[0].actual == hashlib.sha256(CONTENT).hexdigest()
    assert str(missing.path) in results[1].message
    assert results[2].actual == hashlib.sha512(b"tampered\n").hexdigest()
    assert "expected sha512" in results[2].message
    assert str(wrong.path) in results[2].message
    assert str(unreadable.path) in results[3].message


def test_verify_runs_concurrently_and_reports_each_result(tmp_path: Path) -> None:
    entries = []
    for index in range(12):
        content = f"source {index}\n".encode()
        entry = SourceCache(tmp_path).entries([package("p", str(index), source(content=content))])[
            0
        ]
        entry.path.parent.mkdir(parents=True)
        entry.path.write_bytes(content)
        entries.append(entry)
    seen: list[VerifyResult] = []
    threads: set[int] = set()
    lock = threading.Lock()

    def record(result: VerifyResult) -> None:
        with lock:
            seen.append(result)
            threads.add(threading.get_ident())

    results = verify_sources(entries, workers=4, on_result=record)

    assert all(r.ok for r in results)
    assert [r.entry for r in results] == entries
    assert sorted(r.entry.package.version for r in seen) == sorted(str(i) for i in range(12))
    assert threading.get_ident() not in threads  # hashed in worker threads


def test_import_cache_tree_copies_missing_files_and_keeps_existing_ones(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "a-1").mkdir(parents=True)
    (tree / "a-1" / "src.source").write_bytes(b"a\n")
    (tree / "b-2").mkdir()
    (tree / "b-2" / "src.source").write_bytes(b"b\n")
    cache = tmp_path / "cache"
    (cache / "b-2").mkdir(parents=True)
    (cache / "b-2" / "src.source").write_bytes(b"mine\n")

    imported = import_cache_tree(tree, cache)

    assert imported.copied == (cache / "a-1" / "src.source",)
    assert imported.kept == (cache / "b-2" / "src.source",)
    assert (cache / "a-1" / "src.source").read_bytes() == b"a\n"
    assert (cache / "b-2" / "src.source").read_bytes() == b"mine\n"
    assert sorted(p.name for p in (cache / "a-1").iterdir()) == ["src.source"]


def test_import_cache_tree_leaves_no_partial_file_when_a_copy_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "tree"
    (tree / "a-1").mkdir(parents=True)
    (tree / "a-1" / "src.source").write_bytes(b"a\n" * 1000)
    cache = tmp_path / "cache"

    def copy_until_the_disk_is_full(source: Path, destination: Path) -> None:
        destination.write_bytes(source.read_bytes()[:10])
        raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    monkeypatch.setattr(shutil, "copyfile", copy_until_the_disk_is_full)
    with pytest.raises(SourceError, match="into the source cache: No space left") as raised:
        import_cache_tree(tree, cache)
    assert str(cache / "a-1") in raised.value.message
    assert raised.value.hint is not None
    assert list((cache / "a-1").iterdir()) == []


def test_import_cache_tree_into_an_unusable_cache_is_a_source_error(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "a-1").mkdir(parents=True)
    (tree / "a-1" / "src.source").write_bytes(b"a\n")
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be\n")
    with pytest.raises(SourceError, match="into the source cache"):
        import_cache_tree(tree, blocker)

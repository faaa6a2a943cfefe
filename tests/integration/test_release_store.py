"""The release-store adapter on the real file system: verified copies under a temporary name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from butido_py.errors import StoreError
from butido_py.stores.release_store import (
    TEMP_PREFIX,
    copy_verified,
    file_sha256,
    released_path,
    remove_released,
    store_dir,
)

DATA = b"package contents\n" * 1000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "staging" / "pkg-1.0.tar.gz"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return path


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.rglob("*") if p.name.startswith(TEMP_PREFIX)]


def test_copy_creates_directories_and_checks_the_digest(tmp_path: Path, source: Path) -> None:
    store = store_dir(tmp_path / "releases", "stable")
    destination = released_path(store, "sub/pkg-1.0.tar.gz")
    copied = copy_verified(source, destination, expected_sha256=DIGEST)
    assert copied.destination == destination
    assert (copied.sha256, copied.size) == (DIGEST, len(DATA))
    assert destination.read_bytes() == DATA
    assert destination.stat().st_mode & 0o777 == 0o644
    assert leftovers(tmp_path) == []


def test_copy_replaces_an_existing_file(tmp_path: Path, source: Path) -> None:
    destination = tmp_path / "store" / "pkg-1.0.tar.gz"
    destination.parent.mkdir()
    destination.write_bytes(b"old")
    copy_verified(source, destination, expected_sha256=None)  # butido's rows have no sha256
    assert file_sha256(destination) == DIGEST


def test_a_staged_file_that_changed_is_not_copied(tmp_path: Path, source: Path) -> None:
    destination = tmp_path / "store" / "pkg-1.0.tar.gz"
    destination.parent.mkdir()
    destination.write_bytes(b"released earlier")
    with pytest.raises(StoreError, match="does not match its recorded sha256"):
        copy_verified(source, destination, expected_sha256="0" * 64)
    assert destination.read_bytes() == b"released earlier"
    assert leftovers(tmp_path) == []


def test_a_missing_staged_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is not a file") as raised:
        copy_verified(tmp_path / "nope", tmp_path / "store" / "x", expected_sha256=DIGEST)
    assert raised.value.hint is not None
    assert not (tmp_path / "store").exists()


def test_a_directory_in_the_way_fails_cleanly(tmp_path: Path, source: Path) -> None:
    destination = tmp_path / "store" / "pkg-1.0.tar.gz"
    (destination / "inner").mkdir(parents=True)
    with pytest.raises(StoreError, match="cannot copy"):
        copy_verified(source, destination, expected_sha256=DIGEST)
    assert destination.is_dir()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "path", ["../escape.tar.gz", "/etc/passwd", "a/../../b", "", f"{TEMP_PREFIX}x"]
)
def test_paths_that_leave_the_store_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(StoreError, match="not a plain relative path"):
        released_path(tmp_path / "store", path)


def test_sha256_of_what_is_not_a_regular_file(tmp_path: Path, source: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(source)
    assert file_sha256(source) == DIGEST
    assert file_sha256(link) is None
    assert file_sha256(tmp_path) is None
    assert file_sha256(tmp_path / "missing") is None


def test_remove(tmp_path: Path, source: Path) -> None:
    assert remove_released(source) is True
    assert not source.exists()
    assert remove_released(source) is False
